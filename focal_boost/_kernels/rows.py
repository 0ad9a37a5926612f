"""One row of input, shared by the CPU loops (:mod:`focal_boost._kernels.loops`) and the
CUDA kernels (:mod:`focal_boost._kernels.cuda`).

A row helper turns one example's label, margin(s) and weight into the focal
quantities of :mod:`focal_boost._kernels.scalar` and checks them on the way: each
returns the counts' contributions ``(bad_label, bad_margin, bad_weight)``
alongside its values, and computes invalid rows with harmless stand-in values
(never an out-of-bounds index). Both targets call these same functions, so the
CPU and GPU results cannot drift apart: Numba inlines them into the CPU loops
and numba-cuda compiles them into the device kernels.

Binary helpers take and return scalars only: passing arrays into an inlined
helper makes Numba add reference counting that stops vectorisation on the
CPU. The multiclass helpers take one row of margins (a view).
"""

from __future__ import annotations

import collections
import math

from numba import njit

from focal_boost._kernels.elementary import JIT_OPTIONS, ONE, exp_nonpositive
from focal_boost._kernels.scalar import (
    DOUBLE_MAX,
    HESSIAN_CLIP,
    MAX_WEIGHT,
    apply_hessian_policy,
    focal_derivatives,
    focal_loss,
)

_ROW = {"inline": "always", **JIT_OPTIONS}

_INF = math.inf


@njit(**_ROW)
def weight_is_valid(w):
    """``0 <= w <= MAX_WEIGHT``: false for NaN and infinity, and for weights whose weighted gradients
    could overflow float64 (:data:`focal_boost._kernels.scalar.MAX_WEIGHT`; float32 outputs are checked
    apart)."""
    return (w >= 0.0) & (w <= MAX_WEIGHT)


#: A binary loss's per-class parameters, as every binary kernel takes them: the classes'
#: ``alpha`` and ``gamma``, each ``gamma`` as an integer (-1 where it is not a small integer),
#: and whether both are (the multiplication path). Made once per run (``PreparedLoss``).
BinaryClasses = collections.namedtuple(
    "BinaryClasses", ["alpha_neg", "alpha_pos", "gamma_neg", "gamma_pos", "int_neg", "int_pos", "use_integer"]
)


@njit(**_ROW)
def binary_row(y, z, w, per_class):
    """Signed-margin inputs for one binary row: ``(sign, s, alpha, gamma, gamma_int, bads)``.

    ``per_class`` is a :data:`BinaryClasses`.
    """
    positive = y == 1.0
    label_ok = positive | (y == 0.0)
    margin_ok = abs(z) < _INF
    weight_ok = weight_is_valid(w)
    sign = ONE if positive else -ONE
    alpha = per_class.alpha_pos if positive else per_class.alpha_neg
    gamma = per_class.gamma_pos if positive else per_class.gamma_neg
    gamma_int = per_class.int_pos if positive else per_class.int_neg
    return sign, sign * z, alpha, gamma, gamma_int, not label_ok, not margin_ok, not weight_ok


@njit(**_ROW)
def binary_grad_hess_value(y, z, w, per_class, use_integer, policy, floor):
    """``(gradient, hessian, bad_label, bad_margin, bad_weight)`` for one binary row.

    The gradient with respect to the raw margin ``z`` is ``-sign * w * G``
    (``s = sign * z``); the Hessian ``w * h`` under the Hessian policy.
    ``use_integer`` is passed apart from ``per_class`` so that a loop can
    make it a constant.
    """
    sign, s, alpha, gamma, gamma_int, bl, bm, bw = binary_row(y, z, w, per_class)
    magnitude, h_exact, h_upper = focal_derivatives(s, alpha, gamma, gamma_int, use_integer)
    hessian = w * apply_hessian_policy(h_exact, h_upper, policy, floor)
    return -sign * w * magnitude, hessian, bl, bm, bw


@njit(**_ROW)
def binary_loss_value(y, z, w, per_class):
    """``(loss, bad_label, bad_margin, bad_weight)`` for one binary row."""
    _, s, alpha, gamma, gamma_int, bl, bm, bw = binary_row(y, z, w, per_class)
    return w * focal_loss(s, alpha, gamma, gamma_int, per_class.use_integer), bl, bm, bw


@njit(**_ROW)
def class_index(y, n_classes):
    """``(c, ok)``: the class index of label ``y``, or ``(0, False)`` if invalid."""
    ok = (y >= 0.0) & (y < n_classes) & (math.floor(y) == y)
    return (int(y) if ok else 0), ok


@njit(**_ROW)
def rest_max(z_row, c):
    """``(max_{j != c} z_j, every z_j finite)`` for one row."""
    m = -_INF
    finite = True
    for j in range(z_row.shape[0]):
        zj = float(z_row[j])
        finite = finite & (abs(zj) < _INF)
        if j != c and zj > m:
            m = zj
    return m, finite


@njit(**_ROW)
def rest_exp_sum(z_row, c, m):
    """``sum_{j != c} exp(z_j - m)`` for ``m = max_{j != c} z_j`` (between 1 and K - 1)."""
    total = 0.0
    for j in range(z_row.shape[0]):
        if j != c:
            total += exp_nonpositive(float(z_row[j]) - m)
    return total


@njit(**_ROW)
def overflowed(stored):
    """Whether a loss value as stored in its output array left its range (float32: 3.4e38).

    The loss grows without bound with the margin (``ell = -log p_t`` is about
    ``|s|``), so a valid weight times the loss of a valid, extreme margin can
    exceed float32: the loss kernels count it with the bad weights and
    :func:`focal_boost._kernels.checks.raise_for_bad_counts` names it.
    """
    return not (abs(float(stored)) < _INF)


@njit(**_ROW)
def finite_margin(s):
    """``s`` clamped to the finite doubles.

    ``z_c - logsumexp_{j != c} z_j`` overflows to infinity when the finite
    margins of a row span more than 1.8e308; every focal quantity has
    saturated long before (beyond |s| of about 750), so the largest double
    gives the limits: exact gradients and Hessians, and the loss saturated at
    1.8e308 instead of infinity and NaN gradients.
    """
    return min(max(s, -DOUBLE_MAX), DOUBLE_MAX)


@njit(**_ROW)
def one_vs_rest_margin(z_row, c, m):
    """``s = z_c - logsumexp_{j != c} z_j``, given ``m = max_{j != c} z_j`` (kept finite)."""
    return finite_margin(float(z_row[c]) - m - math.log(rest_exp_sum(z_row, c, m)))


@njit(**_ROW)
def true_class_terms(s, alpha, gamma, gamma_int, use_integer, policy, floor, hessian_upper):
    """``(G, h_true, h_rest)`` of a multiclass row at its one-vs-rest margin ``s``.

    ``G = -dFL/ds``; ``h_true`` is the true class's Hessian under the policy;
    ``h_rest`` is the second derivative that the other classes' entries use
    (the upper one under ``HESSIAN_UPPER``, else the exact one, clipped per
    entry by :func:`other_class_terms`).
    """
    g, h_exact, h_upper = focal_derivatives(s, alpha, gamma, gamma_int, use_integer)
    h_true = apply_hessian_policy(h_exact, h_upper, policy, floor)
    h_rest = h_upper if hessian_upper else h_exact
    return g, h_true, h_rest


@njit(**_ROW)
def other_class_terms(r, r_complement, g_true, h_rest, policy, floor):
    """``(gradient, hessian)`` of class ``j != c`` before the weight, ``r = softmax_{k != c}(z)_j``.

    ``ds/dz_j = -r`` and ``dr/dz_j = r (1 - r)`` give ``dFL/dz_j = G r`` and
    ``d2FL/dz_j2 = h r^2 + G r (1 - r)``. ``r_complement = 1 - r`` comes from
    the caller: for the largest of the other classes ``r`` can be within an
    ulp of 1, and ``1 - r`` is then the sum of the remaining classes' terms
    over the sum of all (:func:`rest_complement`), not a difference.
    """
    h = h_rest * r * r + g_true * r * r_complement
    return g_true * r, (max(h, floor) if policy == HESSIAN_CLIP else h)


@njit(**_ROW)
def rest_complement(r, j, top, tail, inverse_sum):
    """``1 - r`` for class ``j``: ``tail * inverse_sum`` for the largest other class ``top``
    (``tail`` the sum of the other classes' terms without it), else ``1 - r`` (then ``r <= 1/2``)."""
    return tail * inverse_sum if j == top else ONE - r


@njit(**_ROW)
def multiclass_loss_value(z_row, y, w, alpha, gamma, gamma_int, use_integer):
    """``(loss, bad_label, bad_margin, bad_weight)`` for one multiclass row."""
    c, label_ok = class_index(y, z_row.shape[0])
    weight_ok = weight_is_valid(w)
    m, margin_ok = rest_max(z_row, c)
    s = one_vs_rest_margin(z_row, c, m)
    return (
        w * focal_loss(s, alpha[c], gamma[c], gamma_int[c], use_integer),
        not label_ok,
        not margin_ok,
        not weight_ok,
    )
