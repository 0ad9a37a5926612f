"""Numba CPU loops over arrays, calling the scalar math in :mod:`focal_boost._kernels.scalar`.

Each task (binary / multiclass; loss / gradient and Hessian) has one function
that works on a range of rows (``*_rows(start, stop, ...)``, ``nogil``);
:mod:`focal_boost._kernels.threads` spreads a run over threads.
Kernels read margins of any float dtype and layout, compute in float64 and
write into caller-provided outputs (float32 or float64). Nothing is allocated
per row; the multiclass gradient kernel allocates cache-sized scratch per block
of :data:`MULTICLASS_BLOCK_ROWS` rows.

Validation costs one pass that already happens: every kernel returns
``(bad_labels, bad_margins, bad_weights)``, the counts of labels outside the
classes (or NaN), non-finite margins and negative or non-finite weights, and
the caller raises on any non-zero count. Invalid rows are still computed with
harmless stand-in values, so a kernel never reads out of bounds.

Compile options: :data:`focal_boost._kernels.elementary.JIT_OPTIONS` (no
division-by-zero branch, FMA allowed, NaN/Inf semantics kept) everywhere; row
helpers and the scalar math are inlined at Numba's IR level, which is what
lets LLVM vectorise the loops. ``cache=True`` stores machine code in
``__pycache__`` (or ``NUMBA_CACHE_DIR``); Numba keys that cache on this
file's timestamp only, so after editing ``_rows.py``, ``_math.py`` or ``_elementary.py``
clear it (the test suite uses a cache directory keyed by the package's
source hash).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from focal_boost._kernels.elementary import JIT_OPTIONS, ONE, compute_float, exp_nonpositive, log_normal
from focal_boost._kernels.float32 import float32_variant
from focal_boost._kernels.rows import (
    binary_grad_hess_value,
    binary_loss_value,
    class_index,
    finite_margin,
    multiclass_loss_value,
    other_class_terms,
    overflowed,
    rest_complement,
    true_class_terms,
    weight_is_valid,
)
from focal_boost._kernels.scalar import HESSIAN_CLIP, HESSIAN_EXACT, HESSIAN_UPPER

if TYPE_CHECKING:
    pass

__all__ = [
    "HESSIAN_CLIP",
    "HESSIAN_EXACT",
    "HESSIAN_UPPER",
    "MULTICLASS_BLOCK_ROWS",
    "PARALLEL_CHUNK_ELEMENTS",
    "PARALLEL_MIN_ELEMENTS",
    "ROW_FUNCTIONS",
    "binary_grad_hess_rows",
    "float32_binary_grad_hess_rows",
]

#: Below this many margin elements a kernel runs serially: starting threads
#: costs more than it saves.
PARALLEL_MIN_ELEMENTS = 32_768
#: Margin elements per chunk of a parallel run: a few tens of microseconds of work, so taking a
#: chunk (about a microsecond) is cheap and the caller's last wait for a slower thread is short.
PARALLEL_CHUNK_ELEMENTS = 16_384

_JIT = {"cache": True, "nogil": True, **JIT_OPTIONS}

_INF = math.inf


#: Rows per block of the multiclass gradient kernel: its scratch (K x block
#: doubles) stays in L1/L2 cache.
MULTICLASS_BLOCK_ROWS = 256


@njit(**_JIT)
def _multiclass_grad_hess_block(
    start,
    stop,
    y,
    margin,
    weight,
    alpha,
    gamma,
    gamma_int,
    use_integer,
    policy,
    floor,
    hessian_scale,
    grad,
    hess,
):
    """Gradient and diagonal Hessian for rows ``start:stop``.

    Row by row the work is a short loop over K classes that does not
    vectorise. Instead the block is transposed into class-major scratch that
    stays in cache, every pass loops over classes outside and rows inside
    (contiguous, so the exps, the log and the binary focal core run as vector
    code across rows; strided loads straight from a row-major margin array
    cost 4x more), and the results are transposed back.

    For the largest of the other classes (``top``) ``1 - r`` is the sum of
    the remaining terms (``tail``) over the sum of all, not a difference:
    :func:`focal_boost._kernels.rows.rest_complement`. The kernel is bound by
    the transposes and the label pass rather than by arithmetic, so it has no
    float32 variant (``benchmarks/README.md``).
    """
    # Views of the block, indexed by range() variables only: an index LLVM
    # cannot prove non-negative gets Numba's wraparound, which stops
    # vectorisation ("cannot identify array bounds"). For the same reason the
    # per-class parameters are gathered once, in the scalar label pass.
    margin = margin[start:stop]
    grad = grad[start:stop]
    hess = hess[start:stop]
    y = y[start:stop]
    n_classes = margin.shape[1]
    n = stop - start
    label = np.empty(n, dtype=np.int64)
    top = np.empty(n, dtype=np.int64)  # the class of max_rest
    row_gamma_int = np.empty(n, dtype=np.int64)
    per_row = np.empty((11, n))
    w, row_alpha, row_gamma, z_label, max_rest, rest_sum, tail, g_true, h_true, h_rest, inv_sum = per_row
    z_t = np.empty((n_classes, n))  # the block, class-major; later the gradient
    rest_exp = np.empty((n_classes, n))  # exp(z_j - max_rest), 0 at the label; later the Hessian
    bad_labels = 0
    bad_margins = 0
    bad_weights = 0
    for i in range(n):
        c, label_ok = class_index(float(y[i]), n_classes)
        label[i] = c
        row_alpha[i] = alpha[c]
        row_gamma[i] = gamma[c]
        row_gamma_int[i] = gamma_int[c]
        wi = 1.0 if weight is None else float(weight[start + i])
        w[i] = wi
        bad_labels += not label_ok
        bad_weights += not weight_is_valid(wi)
        max_rest[i] = -_INF
        top[i] = -1
        rest_sum[i] = 0.0
        tail[i] = 0.0
        z_label[i] = 0.0
    for j in range(n_classes):
        z_j = z_t[j]
        for i in range(n):
            z_j[i] = margin[i, j]
    for j in range(n_classes):
        z_j = z_t[j]
        for i in range(n):
            z = z_j[i]
            bad_margins += not (abs(z) < _INF)
            is_label = j == label[i]
            greater = (not is_label) & (z > max_rest[i])
            top[i] = j if greater else top[i]
            max_rest[i] = z if greater else max_rest[i]
            z_label[i] = z if is_label else z_label[i]
    for j in range(n_classes):
        z_j = z_t[j]
        e_j = rest_exp[j]
        for i in range(n):
            e = exp_nonpositive(z_j[i] - max_rest[i])
            e = 0.0 if j == label[i] else e
            e_j[i] = e
            rest_sum[i] += e
            tail[i] += 0.0 if j == top[i] else e  # the sum without the largest term
    # The binary focal core at s = z_c - logsumexp_{j != c} z_j; two copies
    # of the loop, one per focusing-factor path (see the binary kernels).
    upper = policy == HESSIAN_UPPER
    if use_integer:
        for i in range(n):
            s = finite_margin(z_label[i] - max_rest[i] - log_normal(rest_sum[i]))
            g_true[i], h_true[i], h_rest[i] = true_class_terms(
                s, row_alpha[i], row_gamma[i], row_gamma_int[i], True, policy, floor, upper
            )
            inv_sum[i] = 1.0 / rest_sum[i]
    else:
        for i in range(n):
            s = finite_margin(z_label[i] - max_rest[i] - log_normal(rest_sum[i]))
            g_true[i], h_true[i], h_rest[i] = true_class_terms(
                s, row_alpha[i], row_gamma[i], row_gamma_int[i], False, policy, floor, upper
            )
            inv_sum[i] = 1.0 / rest_sum[i]
    for j in range(n_classes):
        g_j = z_t[j]
        h_j = rest_exp[j]
        for i in range(n):
            # r = softmax over the classes other than the label c.
            r = h_j[i] * inv_sum[i]
            r_complement = rest_complement(r, j, top[i], tail[i], inv_sum[i])
            g_other, h_other = other_class_terms(r, r_complement, g_true[i], h_rest[i], policy, floor)
            is_label = j == label[i]
            g_j[i] = w[i] * (-g_true[i] if is_label else g_other)
            h_j[i] = hessian_scale * (w[i] * (h_true[i] if is_label else h_other))
    for j in range(n_classes):
        g_j = z_t[j]
        h_j = rest_exp[j]
        for i in range(n):
            grad[i, j] = g_j[i]
            hess[i, j] = h_j[i]
    return bad_labels, bad_margins, bad_weights


# ------------------------------------------------------------------------ kernels
# Each task has one function that does the work on rows start:stop, called
# directly for a serial run and on parts of the rows by the thread pool. The row-range
# functions work on views indexed by range() variables only: an index LLVM
# cannot prove non-negative gets Numba's wraparound, which stops vectorisation
# ("cannot identify array bounds").


@njit(**_JIT)
def _binary_grad_hess_loop(y, margin, weight, per_class, policy, floor, hessian_scale, grad, hess):
    bad_labels = 0
    bad_margins = 0
    bad_weights = 0
    # Two copies of the loop, one per focusing-factor path (use_integer): LLVM does not
    # unswitch this branch by itself, and the integer path saves an exp.
    if per_class.use_integer:
        for i in range(margin.shape[0]):
            w = ONE if weight is None else compute_float(weight[i])
            g, h, bl, bm, bw = binary_grad_hess_value(
                float(y[i]), compute_float(margin[i]), w, per_class, True, policy, floor
            )
            grad[i] = g
            hess[i] = hessian_scale * h
            bad_labels += bl
            bad_margins += bm
            bad_weights += bw
    else:
        for i in range(margin.shape[0]):
            w = ONE if weight is None else compute_float(weight[i])
            g, h, bl, bm, bw = binary_grad_hess_value(
                float(y[i]), compute_float(margin[i]), w, per_class, False, policy, floor
            )
            grad[i] = g
            hess[i] = hessian_scale * h
            bad_labels += bl
            bad_margins += bm
            bad_weights += bw
    return bad_labels, bad_margins, bad_weights


@njit(**_JIT)
def _binary_grad_hess_rows(
    start, stop, y, margin, weight, per_class, policy, floor, hessian_scale, grad, hess
):
    part = slice(start, stop)
    # Numba prunes the `weight is None` branches only for an argument that is
    # never reassigned, so the weight view goes to the loop function whole.
    part_weight = None if weight is None else weight[part]
    return _binary_grad_hess_loop(
        y[part], margin[part], part_weight, per_class, policy, floor, hessian_scale, grad[part], hess[part]
    )


@njit(**_JIT)
def _binary_loss_loop(y, margin, weight, per_class, out):
    bad_labels = 0
    bad_margins = 0
    bad_weights = 0
    for i in range(margin.shape[0]):
        w = 1.0 if weight is None else float(weight[i])
        out[i], bl, bm, bw = binary_loss_value(float(y[i]), float(margin[i]), w, per_class)
        bad_labels += bl
        bad_margins += bm
        bad_weights += bw | (overflowed(out[i]) & (not (bl | bm)))
    return bad_labels, bad_margins, bad_weights


@njit(**_JIT)
def _binary_loss_rows(start, stop, y, margin, weight, per_class, out):
    part = slice(start, stop)
    part_weight = None if weight is None else weight[part]
    return _binary_loss_loop(y[part], margin[part], part_weight, per_class, out[part])


@njit(**_JIT)
def _multiclass_grad_hess_rows(
    start, stop, y, margin, weight, per_class, policy, floor, hessian_scale, grad, hess
):
    alpha, gamma, gamma_int, use_integer = per_class
    bad_labels = 0
    bad_margins = 0
    bad_weights = 0
    for block_start in range(start, stop, MULTICLASS_BLOCK_ROWS):
        block_stop = min(stop, block_start + MULTICLASS_BLOCK_ROWS)
        bl, bm, bw = _multiclass_grad_hess_block(
            block_start,
            block_stop,
            y,
            margin,
            weight,
            alpha,
            gamma,
            gamma_int,
            use_integer,
            policy,
            floor,
            hessian_scale,
            grad,
            hess,
        )
        bad_labels += bl
        bad_margins += bm
        bad_weights += bw
    return bad_labels, bad_margins, bad_weights


@njit(**_JIT)
def _multiclass_loss_rows(start, stop, y, margin, weight, per_class, out):
    alpha, gamma, gamma_int, use_integer = per_class
    bad_labels = 0
    bad_margins = 0
    bad_weights = 0
    for i in range(start, stop):
        w = 1.0 if weight is None else float(weight[i])
        out[i], bl, bm, bw = multiclass_loss_value(
            margin[i], float(y[i]), w, alpha, gamma, gamma_int, use_integer
        )
        bad_labels += bl
        bad_margins += bm
        bad_weights += bw | (overflowed(out[i]) & (not (bl | bm)))
    return bad_labels, bad_margins, bad_weights


#: The binary gradient kernel, and its float32 variant (:mod:`focal_boost._kernels.float32`).
binary_grad_hess_rows = _binary_grad_hess_rows
float32_binary_grad_hess_rows = float32_variant(_binary_grad_hess_rows)

#: task -> row-range function; "binary_grad_hess_float32" is the float32 variant of the binary
#: gradient kernel.
ROW_FUNCTIONS = {
    "binary_grad_hess": binary_grad_hess_rows,
    "binary_grad_hess_float32": float32_binary_grad_hess_rows,
    "binary_loss": _binary_loss_rows,
    "multiclass_grad_hess": _multiclass_grad_hess_rows,
    "multiclass_loss": _multiclass_loss_rows,
}
