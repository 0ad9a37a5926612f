r"""The initial score: the constant margin that minimises the (weighted) focal risk.

With one aggregated row per class (label ``k``, weight ``w_k``, the class's
share of the total weight) the risk of a constant margin depends on the
class probabilities ``p = softmax(b)`` only, one class at a time:

.. math::

    R(p) = \sum_k w_k\, \varphi_k(p_k), \qquad
    \varphi_k(p) = \alpha_k (1 - p)^{\gamma_k} (-\log p),

to be minimised over the probability simplex. Each ``varphi_k`` is strictly
convex (:func:`log_marginal_slope` is negative), so the minimiser is the
unique point where every class's marginal risk is the same (Lagrange):

.. math::

    w_k\, u_k(s_k) = \mu \quad\text{for all } k, \qquad \sum_k \sigma(s_k) = 1,
    \qquad u(s) = -\varphi'(p) = \frac{G(s)}{p\, q}
                 = \alpha\, q^{\gamma - 1} \frac{\gamma\, p\, \ell + q}{p},

with ``s_k = logit p_k`` the class's one-vs-rest margin and ``G``, ``p``,
``q``, ``ell`` as in :mod:`focal_boost._kernels.scalar`. For a given ``mu`` each
``s_k`` is a one-dimensional root, and ``sum_k p_k(mu)`` falls strictly as
``mu`` grows: two nested safeguarded Newton iterations find them, in time
linear in ``K`` and to machine precision. The margins are ``b_k = log p_k``,
centred. At ``gamma = 0, alpha = None`` this is ``b = log(prior)`` exactly
(``u = 1 / p``).

The binary score is the case ``K = 2`` (``b = s_1 = -s_0``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from focal_boost._kernels.checks import check_sample_weight, weight_problem
from focal_boost._kernels.elementary import JIT_OPTIONS
from focal_boost._kernels.scalar import sigmoid_terms

_JIT = {"cache": True, **JIT_OPTIONS}

#: Newton iterations at most, per root (each converges quadratically, within about 10).
_MAX_STEPS = 200


@njit(**_JIT)
def log_marginal(s, log_w, alpha, gamma):
    """``(log(w u(s)), d/ds log(w u(s)))`` for one class at one-vs-rest margin ``s``.

    ``log u = log alpha + (gamma - 1) log q + log(gamma p ell + q) + ell``:
    no factor that under- or overflows for any finite ``s``. The slope is
    :func:`log_marginal_slope`.
    """
    p, q, ell, log_q = sigmoid_terms(s)
    value = log_w + math.log(alpha) + (gamma - 1.0) * log_q + math.log(gamma * p * ell + q) + ell
    return value, log_marginal_slope(p, q, ell, gamma)


@njit(**_JIT)
def log_marginal_slope(p, q, ell, gamma):
    """``d log u / ds = -h / G - (q - p)`` (``h`` the exact second derivative), without ``q**gamma``.

    Negative for every ``gamma > 0`` (it stays below ``-min(gamma, 0.7)``);
    ``-q`` at ``gamma = 0``. So ``u`` is strictly decreasing: each class's
    equation has one root.
    """
    p_ell = p * ell
    curvature = p * ((2.0 * gamma + 1.0) * q + gamma * gamma * p_ell - gamma * q * ell)
    return -curvature / (gamma * p_ell + q) - (q - p)


@njit(**_JIT)
def class_margin(target, start, log_w, alpha, gamma):
    """The root ``s`` of ``log(w u(s)) = target`` (``log_marginal`` is decreasing), or ``+inf``.

    Safeguarded Newton: a bracket is grown from ``start`` and every step that
    would leave it is replaced by bisection. ``+inf`` when the equation has
    no root (``gamma = 0`` and ``target <= log(w alpha)``: ``u`` never falls
    that low), which the caller treats as ``p = 1``.
    """
    lo, hi = start, start
    f_lo, _ = log_marginal(lo, log_w, alpha, gamma)
    width = 1.0
    while f_lo <= target:  # lo must have f > target
        lo = start - width
        width *= 2.0
        f_lo, _ = log_marginal(lo, log_w, alpha, gamma)
    f_hi, _ = log_marginal(hi, log_w, alpha, gamma)
    width = 1.0
    while f_hi >= target:  # hi must have f < target
        if width > 1e300:
            return math.inf
        hi = start + width
        width *= 2.0
        f_hi, _ = log_marginal(hi, log_w, alpha, gamma)
    s = min(max(start, lo), hi)
    for _ in range(_MAX_STEPS):
        f, slope = log_marginal(s, log_w, alpha, gamma)
        f -= target
        if f == 0.0:
            return s
        if f > 0.0:
            lo = s
        else:
            hi = s
        step = s - f / slope
        if not (lo < step < hi):
            step = 0.5 * (lo + hi)
        collapsed = (step == lo) | (step == hi)  # the bracket is as narrow as floats allow
        if collapsed or abs(step - s) <= 4e-16 * max(1.0, abs(s)):
            return step
        s = step
    return s


@njit(**_JIT)
def probability_excess(target, margins, log_w, alpha, gamma, top):
    """``sum_k p_k - 1`` and its derivative in ``target = log mu``; ``margins`` updated in place.

    Computed as ``sum_{k != top} p_k - (1 - p_top)``, with ``1 - p_top`` taken
    as ``sigmoid(-s_top)``: both terms are about as small as the rare classes'
    probabilities, so those keep their relative precision (``1 - p_top`` by
    subtraction would lose it when one class holds nearly every row).
    """
    excess = 0.0
    slope = 0.0
    for k in range(margins.shape[0]):
        s = class_margin(target, margins[k], log_w[k], alpha[k], gamma[k])
        if s == math.inf:
            return math.inf, -math.inf  # p_k = 1 already: mu is too small
        margins[k] = s
        p, q, ell, _ = sigmoid_terms(s)
        excess += -q if k == top else p
        slope += p * q / log_marginal_slope(p, q, ell, gamma[k])
    return excess, slope


@njit(**_JIT)
def simplex_minimiser(log_w, alpha, gamma):
    """The one-vs-rest margins ``s_k`` at the minimiser of ``sum_k w_k phi_k(p_k)`` on the simplex.

    Safeguarded Newton on ``target = log mu`` for ``sum_k p_k = 1`` (strictly
    decreasing in ``target``), each evaluation solving every class's root,
    warm-started from the previous one.
    """
    n = log_w.shape[0]
    margins = np.zeros(n)
    top = 0
    # Log loss's multiplier (mu = sum_k w_k alpha_k) is the start; its root is exact at gamma = 0.
    start = -math.inf
    for k in range(n):
        value = log_w[k] + math.log(alpha[k])
        start = max(start, value) + math.log1p(math.exp(-abs(start - value)))
        if log_w[k] > log_w[top]:
            top = k
    for k in range(n):
        margins[k] = log_w[k] + math.log(alpha[k]) - start
    lo, hi = start, start
    width = 1.0
    excess, _ = probability_excess(lo, margins, log_w, alpha, gamma, top)
    while excess <= 0.0:  # lo: sum > 1
        lo = start - width
        width *= 2.0
        excess, _ = probability_excess(lo, margins, log_w, alpha, gamma, top)
    width = 1.0
    excess, _ = probability_excess(hi, margins, log_w, alpha, gamma, top)
    while excess >= 0.0:  # hi: sum < 1
        hi = start + width
        width *= 2.0
        excess, _ = probability_excess(hi, margins, log_w, alpha, gamma, top)
    target = 0.5 * (lo + hi) if start <= lo or start >= hi else start
    for _ in range(_MAX_STEPS):
        excess, slope = probability_excess(target, margins, log_w, alpha, gamma, top)
        if excess == 0.0:
            break
        if excess > 0.0:
            lo = target
        else:
            hi = target
        step = target - excess / slope if slope < 0.0 else 0.5 * (lo + hi)
        if not (lo < step < hi):
            step = 0.5 * (lo + hi)
        if abs(step - target) <= 4e-16 * max(1.0, abs(target)):
            break
        target = step
    probability_excess(target, margins, log_w, alpha, gamma, top)
    return margins


def multiclass_init_score(totals: np.ndarray, alpha: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """Centred margins ``b`` minimising the focal risk of classes with weighted counts ``totals``."""
    log_p = -np.logaddexp(0.0, -_simplex_margins(totals, alpha, gamma))  # log sigmoid(s_k)
    return log_p - log_p.mean()


def binary_init_score(totals: np.ndarray, alpha: np.ndarray, gamma: np.ndarray) -> float:
    """The margin ``b`` minimising the binary focal risk (classes' weighted counts ``totals``).

    The two-class case of :func:`simplex_minimiser`: ``b = s_1 = -s_0``
    (their mean is taken), found in log space, so that a large ``gamma``
    (where ``q**gamma`` underflows and the derivative of the risk is 0 in
    float64 over a wide range) still gives the minimiser.
    """
    margins = _simplex_margins(totals, alpha, gamma)
    return float(0.5 * (margins[1] - margins[0]))


def _simplex_margins(totals: np.ndarray, alpha: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    log_w = np.log(totals / totals.sum())
    return simplex_minimiser(
        np.ascontiguousarray(log_w, dtype=np.float64),
        np.ascontiguousarray(alpha, dtype=np.float64),
        np.ascontiguousarray(gamma, dtype=np.float64),
    )


def balanced_weights(totals: np.ndarray) -> np.ndarray:
    """``alpha="balanced"``: ``alpha_k`` proportional to ``1 / W_k``, summing to 1."""
    inverse = 1.0 / totals
    return inverse / inverse.sum()


def class_totals(y: np.ndarray, sample_weight: Any, n_classes: int) -> np.ndarray:
    """Weighted count of each class ``W_k = sum_{i: y_i = k} w_i`` of labels checked by
    :func:`~focal_boost._kernels.checks.check_class_indices`."""
    weight = check_sample_weight(sample_weight, y.shape[0])
    problem = None if weight is None else weight_problem(weight)
    if problem is not None:
        raise ValueError(problem)
    index = y.astype(np.intp)
    totals = np.bincount(index, weights=weight, minlength=n_classes).astype(np.float64)
    if np.any(totals <= 0.0):
        missing = [k for k in range(n_classes) if totals[k] <= 0.0]
        raise ValueError(f"every class needs a positive (weighted) count; classes {missing} have none")
    return totals
