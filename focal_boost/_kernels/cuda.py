"""CUDA kernels over device arrays, with the row math of :mod:`focal_boost._kernels.rows`.

Imported only when asked for: it needs numba-cuda (``pip install
'focal-boost[gpu]'``), and nothing else in the package imports it. The
kernels call the very functions the CPU loops inline (:mod:`focal_boost._kernels.rows`
and :mod:`focal_boost._kernels.scalar`, down to the branch-free ``exp`` and ``log1p`` of
:mod:`focal_boost._kernels.elementary`), which numba-cuda compiles as device code, so
the two targets share one definition of every formula.

Layout: one thread per row in a grid-stride loop (a multiclass row's K
classes are handled by its thread); each thread adds its
``(bad_labels, bad_margins, bad_weights)`` counts to a three-element device
array once, at the end, with atomics. Arrays are anything with
``__cuda_array_interface__`` (CuPy, numba-cuda device arrays); under Numba's
CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) they are NumPy arrays, and the
same kernels run on the host, which is how they are tested without a GPU.

:func:`run_kernel` takes what :func:`focal_boost._kernels.threads.run_kernel` takes
(the kind of kernel, a :class:`~focal_boost._kernels.prepared.PreparedLoss`, labels,
margins, weights or ``None``, the outputs), and the kernels take the
arguments in the order :mod:`focal_boost._kernels.prepared` describes, so the two
are interchangeable; the Hessian scale is applied inside the kernels on both.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numba import config, cuda, njit

from focal_boost._kernels.elementary import JIT_OPTIONS, exp_nonpositive
from focal_boost._kernels.rows import (
    BinaryClasses,
    binary_grad_hess_value,
    binary_loss_value,
    class_index,
    finite_margin,
    other_class_terms,
    overflowed,
    rest_complement,
    true_class_terms,
    weight_is_valid,
)
from focal_boost._kernels.scalar import HESSIAN_UPPER, focal_loss

if TYPE_CHECKING:
    from focal_boost._kernels.prepared import PreparedLoss

__all__ = ["KERNELS", "compile_ptx", "device_arguments", "is_available", "launch", "run_kernel", "simulated"]

_INF = math.inf
_ROW = {"inline": "always", **JIT_OPTIONS}

#: Threads per block: a multiple of the warp size that keeps register pressure modest.
THREADS_PER_BLOCK = 256
#: Resident blocks per multiprocessor to aim for; more rows than that are grid-strided.
BLOCKS_PER_MULTIPROCESSOR = 32


def _device_function(function):
    """A helper for the kernels, as device code or, under the simulator, as Python.

    Compiled through ``njit``, which numba-cuda retargets to the GPU when a
    kernel calls it and which, unlike ``cuda.jit(device=True)``, needs no GPU
    to compile to PTX. Under the simulator it stays a Python function: the
    simulator's arrays cannot be handed to CPU-compiled code.
    """
    return function if config.ENABLE_CUDASIM else njit(**_ROW)(function)


@_device_function
def _count(counts, bad_labels, bad_margins, bad_weights):  # pragma: no cover - device code
    """Add one thread's bad-input counts to the kernel's totals (three atomics, once per thread)."""
    if bad_labels:
        cuda.atomic.add(counts, 0, bad_labels)
    if bad_margins:
        cuda.atomic.add(counts, 1, bad_margins)
    if bad_weights:
        cuda.atomic.add(counts, 2, bad_weights)


@cuda.jit(cache=True)
def _binary_grad_hess(
    y, margin, weight, has_weight, per_class, policy, floor, hessian_scale, grad, hess, counts
):  # pragma: no cover - device code
    use_integer = per_class.use_integer
    bad_labels = 0
    bad_margins = 0
    bad_weights = 0
    for i in range(cuda.grid(1), margin.shape[0], cuda.gridsize(1)):
        w = float(weight[i]) if has_weight else 1.0
        g, h, bl, bm, bw = binary_grad_hess_value(
            float(y[i]), float(margin[i]), w, per_class, use_integer, policy, floor
        )
        grad[i] = g
        hess[i] = hessian_scale * h
        bad_labels += bl
        bad_margins += bm
        bad_weights += bw
    _count(counts, bad_labels, bad_margins, bad_weights)


@cuda.jit(cache=True)
def _binary_loss(y, margin, weight, has_weight, per_class, out, counts):  # pragma: no cover - device code
    bad_labels = 0
    bad_margins = 0
    bad_weights = 0
    for i in range(cuda.grid(1), margin.shape[0], cuda.gridsize(1)):
        w = float(weight[i]) if has_weight else 1.0
        value, bl, bm, bw = binary_loss_value(float(y[i]), float(margin[i]), w, per_class)
        out[i] = value
        bad_labels += bl
        bad_margins += bm
        bad_weights += bw | (overflowed(out[i]) & (not (bl | bm)))
    _count(counts, bad_labels, bad_margins, bad_weights)


@_device_function
def _one_vs_rest(margin, i, c):  # pragma: no cover - device code
    """``(m, top, total, tail, non-finite entries)`` of row ``i``: ``m = max_{j != c} z_j`` at class
    ``top``, ``total = sum_{j != c} exp(z_j - m)`` and ``tail`` the same sum without ``top``.

    :func:`focal_boost._kernels.rows.rest_max` and :func:`~focal_boost._kernels.rows.rest_exp_sum`
    on a row index instead of a row view: the simulator's arrays cannot be
    handed to a CPU-compiled helper. The gradient kernel counts non-finite
    entries and the loss kernel rows, as their CPU counterparts do.
    """
    m = -_INF
    top = -1
    non_finite = 0
    for j in range(margin.shape[1]):
        zj = float(margin[i, j])
        non_finite += not (abs(zj) < _INF)
        if j != c and zj > m:
            m = zj
            top = j
    total = 0.0
    tail = 0.0
    for j in range(margin.shape[1]):
        if j != c:
            e = exp_nonpositive(float(margin[i, j]) - m)
            total += e
            tail += 0.0 if j == top else e
    return m, top, total, tail, non_finite


@cuda.jit(cache=True)
def _multiclass_grad_hess(
    y, margin, weight, has_weight, per_class, policy, floor, hessian_scale, grad, hess, counts
):  # pragma: no cover - device code
    alpha, gamma, gamma_int, use_integer = per_class
    n_classes = margin.shape[1]
    upper = policy == HESSIAN_UPPER
    bad_labels = 0
    bad_margins = 0
    bad_weights = 0
    for i in range(cuda.grid(1), margin.shape[0], cuda.gridsize(1)):
        w = float(weight[i]) if has_weight else 1.0
        c, label_ok = class_index(float(y[i]), n_classes)
        m, top, total, tail, non_finite = _one_vs_rest(margin, i, c)
        s = finite_margin(float(margin[i, c]) - m - math.log(total))
        g_true, h_true, h_rest = true_class_terms(
            s, alpha[c], gamma[c], gamma_int[c], use_integer, policy, floor, upper
        )
        inverse = 1.0 / total
        for j in range(n_classes):
            if j == c:
                grad[i, j] = -w * g_true
                hess[i, j] = hessian_scale * (w * h_true)
            else:
                r = exp_nonpositive(float(margin[i, j]) - m) * inverse
                r_complement = rest_complement(r, j, top, tail, inverse)
                g, h = other_class_terms(r, r_complement, g_true, h_rest, policy, floor)
                grad[i, j] = w * g
                hess[i, j] = hessian_scale * (w * h)
        bad_labels += not label_ok
        bad_margins += non_finite
        bad_weights += not weight_is_valid(w)
    _count(counts, bad_labels, bad_margins, bad_weights)


@cuda.jit(cache=True)
def _multiclass_loss(y, margin, weight, has_weight, per_class, out, counts):  # pragma: no cover - device code
    alpha, gamma, gamma_int, use_integer = per_class
    bad_labels = 0
    bad_margins = 0
    bad_weights = 0
    for i in range(cuda.grid(1), margin.shape[0], cuda.gridsize(1)):
        w = float(weight[i]) if has_weight else 1.0
        c, label_ok = class_index(float(y[i]), margin.shape[1])
        m, _, total, _, non_finite = _one_vs_rest(margin, i, c)
        s = finite_margin(float(margin[i, c]) - m - math.log(total))
        out[i] = w * focal_loss(s, alpha[c], gamma[c], gamma_int[c], use_integer)
        bad_labels += not label_ok
        bad_margins += non_finite > 0
        weight_ok = weight_is_valid(w)
        bad_weights += (not weight_ok) | (overflowed(out[i]) & label_ok & (non_finite == 0))
    _count(counts, bad_labels, bad_margins, bad_weights)


#: task -> kernel, the tasks of :func:`focal_boost._kernels.threads.run_kernel`.
KERNELS = {
    "binary_grad_hess": _binary_grad_hess,
    "binary_loss": _binary_loss,
    "multiclass_grad_hess": _multiclass_grad_hess,
    "multiclass_loss": _multiclass_loss,
}


def simulated() -> bool:
    """Whether Numba's CUDA simulator stands in for the GPU (``NUMBA_ENABLE_CUDASIM=1``)."""
    return bool(config.ENABLE_CUDASIM)


def is_available() -> bool:
    """Whether kernels can run: a usable CUDA GPU, or Numba's CUDA simulator."""
    return simulated() or cuda.is_available()


def _grid(n_rows: int) -> tuple[int, int]:
    """``(blocks, threads)`` for ``n_rows`` rows: enough blocks to fill the GPU, no more."""
    if config.ENABLE_CUDASIM:  # every simulated thread is a Python thread
        return max(1, min(2, -(-n_rows // 32))), 32
    multiprocessors = cuda.get_current_device().MULTIPROCESSOR_COUNT
    blocks = min(-(-n_rows // THREADS_PER_BLOCK), multiprocessors * BLOCKS_PER_MULTIPROCESSOR)
    return max(1, blocks), THREADS_PER_BLOCK


def device_arguments(prepared: PreparedLoss, kind: str) -> tuple:
    """``prepared``'s arguments for the ``kind`` ("grad_hess" or "loss") kernel, ready to launch.

    The per-class vectors of a multiclass loss are copied to the device
    (binary scalars go as they are), so that a training loop copies them
    once, not every round.
    """
    per_class, *rest = prepared.gradient_arguments if kind == "grad_hess" else prepared.loss_arguments
    if prepared.task == "multiclass":
        alpha, gamma, gamma_int, use_integer = per_class
        per_class = (cuda.to_device(alpha), cuda.to_device(gamma), cuda.to_device(gamma_int), use_integer)
    return (per_class, *rest)


def launch(task: str, y, margin, weight, arguments: tuple, *outputs) -> tuple[int, int, int]:
    """Run ``task`` with ``arguments`` from :func:`device_arguments`; ``weight`` may be ``None``.

    ``outputs`` are ``(grad, hess)`` for the ``*_grad_hess`` tasks and
    ``(out,)`` for the ``*_loss`` tasks. Returns ``(bad_labels, bad_margins,
    bad_weights)``; reading them back waits for the kernel.
    """
    has_weight = weight is not None
    if not has_weight:
        weight = cuda.device_array(0, dtype=np.float64)
    counts = cuda.to_device(np.zeros(3, dtype=np.int64))
    blocks, threads = _grid(margin.shape[0])
    KERNELS[task][blocks, threads](y, margin, weight, has_weight, *arguments, *outputs, counts)
    bad_labels, bad_margins, bad_weights = (int(value) for value in counts.copy_to_host())
    return bad_labels, bad_margins, bad_weights


def run_kernel(kind: str, prepared: PreparedLoss, y, margin, weight, *outputs) -> tuple[int, int, int]:
    """:func:`focal_boost._kernels.threads.run_kernel` on device arrays.

    See :func:`device_arguments` and :func:`launch`.
    """
    arguments = device_arguments(prepared, kind)
    return launch(f"{prepared.task}_{kind}", y, margin, weight, arguments, *outputs)


def compile_ptx(
    cc: tuple[int, int] = (8, 0), dtypes: tuple[str, ...] = ("float32", "float64")
) -> dict[str, str]:
    """PTX for every kernel with margins of each of ``dtypes``, as :func:`run_kernel` launches them.

    Needs the CUDA compiler libraries of the ``gpu`` extra, not a GPU or a
    driver: the tests use it to show, on machines without a GPU, that all the
    shared math compiles as device code.
    """
    from numba import types

    outputs: dict[str, str] = {}
    f64, i64, flag = types.float64, types.int64, types.boolean
    weight = types.Array(f64, 1, "C")
    counts = types.Array(i64, 1, "C")
    binary_classes = types.NamedTuple((f64, f64, f64, f64, i64, i64, flag), BinaryClasses)
    vector = types.Array(f64, 1, "C", readonly=False)
    multiclass_classes = types.Tuple((vector, vector, types.Array(i64, 1, "C"), flag))
    for name in dtypes:
        dtype = getattr(types, name)
        one, two = types.Array(dtype, 1, "C"), types.Array(dtype, 2, "C")
        binary = (one, one, weight, flag, binary_classes)
        multiclass = (one, two, weight, flag, multiclass_classes)
        signatures = {
            "binary_grad_hess": (*binary, i64, f64, f64, one, one, counts),
            "binary_loss": (*binary, one, counts),
            "multiclass_grad_hess": (*multiclass, i64, f64, f64, two, two, counts),
            "multiclass_loss": (*multiclass, one, counts),
        }
        for task, signature in signatures.items():
            ptx, _ = cuda.compile_ptx(KERNELS[task].py_func, types.void(*signature), cc=cc)
            outputs[f"{task}[{name}]"] = ptx
    return outputs
