"""The binary gradient kernel on the booster's own OpenMP threads.

Inside a booster's round the second core is not free: after each of its
parallel regions the booster's OpenMP threads spin for milliseconds waiting
for the next one, so a kernel split over threads of our own runs at serial
speed there, or slower (``benchmarks/README.md``, ``parallel_kernel.py``).
This module hands the kernel to those same threads instead: it calls
``GOMP_parallel`` of the GNU OpenMP runtime the booster loaded (XGBoost's
wheel bundles one under its own soname, LightGBM's links the system's), with
a Numba ``cfunc`` as the region's body. The spinning threads pick the region
up at once; every thread of the team, the caller included, takes chunks of
:data:`focal_boost._kernels.loops.PARALLEL_CHUNK_ELEMENTS` rows from an atomic counter
until none is left, and adds its bad-value counts atomically. Results are
those of the serial kernel, bit for bit (the row function is the same).

It covers what the boosters hand their objectives for binary problems:
float32 labels, outputs and (optional) weights with float32 margins
(XGBoost: the float32 kernel) or float64 margins (LightGBM: the float64
kernel); anything else runs on :func:`focal_boost._kernels.threads.run_kernel`'s thread
pool. Linux builds with GNU OpenMP only (the runtime is found by its loaded
soname); elsewhere :func:`xgboost_runtime` and :func:`lightgbm_runtime` are
None.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os

import numpy as np
from llvmlite import ir
from numba import carray, cfunc, njit, types
from numba.extending import intrinsic

from focal_boost._kernels.elementary import KERNEL_FLOAT, compute_float
from focal_boost._kernels.float32 import float32_variant
from focal_boost._kernels.loops import (
    PARALLEL_CHUNK_ELEMENTS,
    binary_grad_hess_rows,
    float32_binary_grad_hess_rows,
)
from focal_boost._kernels.rows import BinaryClasses

__all__ = ["lightgbm_runtime", "run_on_team", "xgboost_runtime"]


@intrinsic
def _pointer(typingctx, address):  # pragma: no cover - compiled only
    """The address held in an int64 as a ``void *`` (an LLVM inttoptr)."""

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], ir.IntType(8).as_pointer())

    return types.voidptr(types.int64), codegen


@intrinsic
def _fetch_add(typingctx, address, value):  # pragma: no cover - compiled only
    """Atomically add ``value`` to the int64 at ``address``; returns the value before."""

    def codegen(context, builder, signature, args):
        target = builder.inttoptr(args[0], ir.IntType(64).as_pointer())
        return builder.atomic_rmw("add", target, args[1], "monotonic")

    return types.int64(types.int64, types.int64), codegen


# The region's argument block: one int64 array, indexed by these names.
_ROWS, _Y, _MARGIN, _WEIGHT, _GRAD, _HESS, _FLOATS, _INT_NEG, _INT_POS, _USE_INTEGER, _POLICY = range(11)
_NEXT_CHUNK, _BAD_LABELS, _BAD_MARGINS, _BAD_WEIGHTS, _SELF = range(11, 16)
_BLOCK_SIZE = 16
# The block's float64 companion: alpha_neg, alpha_pos, gamma_neg, gamma_pos, floor, hessian_scale.
_FLOAT_SIZE = 6


@njit(nogil=True, cache=True)
def _chunks(address, y, margin, weight, per_class, policy, floor, scale, grad, hess):
    """The binary gradient kernel on chunks taken from the counter at ``address`` until none is
    left; the bad-value counts."""
    n = margin.shape[0]
    bad_labels = 0
    bad_margins = 0
    bad_weights = 0
    while True:
        start = _fetch_add(address, 1) * PARALLEL_CHUNK_ELEMENTS
        if start >= n:
            break
        stop = min(n, start + PARALLEL_CHUNK_ELEMENTS)
        counts = binary_grad_hess_rows(
            start, stop, y, margin, weight, per_class, policy, floor, scale, grad, hess
        )
        bad_labels += counts[0]
        bad_margins += counts[1]
        bad_weights += counts[2]
    return bad_labels, bad_margins, bad_weights


@njit(nogil=True, cache=True)
def _team_member(data):
    """One team thread's share of the region: :func:`_chunks` on the block's arrays.

    Written for the float64 kernel; :data:`_team_member_float32` is its float32
    variant (``KERNEL_FLOAT`` and ``compute_float`` float32, :func:`_chunks`
    running the float32 kernel).
    """
    block = carray(data, _BLOCK_SIZE, np.int64)
    n = block[_ROWS]
    y = carray(_pointer(block[_Y]), n, np.float32)
    margin = carray(_pointer(block[_MARGIN]), n, KERNEL_FLOAT)
    grad = carray(_pointer(block[_GRAD]), n, np.float32)
    hess = carray(_pointer(block[_HESS]), n, np.float32)
    f = carray(_pointer(block[_FLOATS]), _FLOAT_SIZE, np.float64)
    per_class = BinaryClasses(
        compute_float(f[0]),
        compute_float(f[1]),
        compute_float(f[2]),
        compute_float(f[3]),
        block[_INT_NEG],
        block[_INT_POS],
        block[_USE_INTEGER] != 0,
    )
    policy, floor, scale = block[_POLICY], compute_float(f[4]), compute_float(f[5])
    counter = block[_SELF] + 8 * _NEXT_CHUNK
    if block[_WEIGHT] != 0:
        weight = carray(_pointer(block[_WEIGHT]), n, np.float32)
        counts = _chunks(counter, y, margin, weight, per_class, policy, floor, scale, grad, hess)
    else:
        counts = _chunks(counter, y, margin, None, per_class, policy, floor, scale, grad, hess)
    _fetch_add(block[_SELF] + 8 * _BAD_LABELS, counts[0])
    _fetch_add(block[_SELF] + 8 * _BAD_MARGINS, counts[1])
    _fetch_add(block[_SELF] + 8 * _BAD_WEIGHTS, counts[2])


_team_member_float32 = float32_variant(_team_member)


@functools.cache
def _region_body(wide: bool) -> int:
    """The address of the region's C body for float64 (``wide``) or float32 margins.

    Compiled, or loaded from Numba's cache, on first use: only the precision a
    booster hands over is compiled.
    """
    if wide:

        @cfunc(types.void(types.voidptr), nopython=True, cache=True)
        def float64_body(data):  # pragma: no cover - called by OpenMP threads
            _team_member(data)

        return float64_body.address

    @cfunc(types.void(types.voidptr), nopython=True, cache=True)
    def float32_body(data):  # pragma: no cover - called by OpenMP threads
        _team_member_float32(data)

    return float32_body.address


def _loaded_runtime(names: list[str]) -> ctypes.CDLL | None:
    """The first of these GNU OpenMP runtimes that is already loaded (its ``GOMP_parallel``), or None."""
    for name in names:
        try:
            runtime = ctypes.CDLL(name, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)  # never loads one
        except (OSError, AttributeError):  # not loaded; no RTLD_NOLOAD off Linux
            continue
        runtime.GOMP_parallel.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
        runtime.GOMP_parallel.restype = None
        return runtime
    return None


@functools.cache
def xgboost_runtime() -> ctypes.CDLL | None:
    """The GNU OpenMP runtime XGBoost has loaded, or None.

    XGBoost's wheel bundles libgomp under a hashed soname (``xgboost.libs/``);
    opening that name returns the copy already loaded. A build without it
    (conda, from source) links the system's ``libgomp.so.1``.
    """
    try:
        import xgboost
    except ImportError:
        return None
    libs = os.path.join(os.path.dirname(xgboost.__file__), os.pardir, "xgboost.libs")
    bundled = [os.path.basename(path) for path in glob.glob(os.path.join(libs, "libgomp*"))]
    return _loaded_runtime([*bundled, "libgomp.so.1"])


@functools.cache
def lightgbm_runtime() -> ctypes.CDLL | None:
    """The GNU OpenMP runtime LightGBM has loaded (its Linux wheel links the system's), or None."""
    try:
        import lightgbm  # noqa: F401 - loads its library and that library's OpenMP runtime
    except ImportError:
        return None
    return _loaded_runtime(["libgomp.so.1"])


def run_on_team(
    runtime: ctypes.CDLL, threads: int, rows, y, margin, weight, arguments: tuple, grad, hess
) -> tuple[int, int, int] | None:
    """The binary gradient kernel ``rows`` on a team of ``threads`` of ``runtime``'s OpenMP threads.

    ``rows`` is the float32 variant (float32 margins; ``arguments`` a prepared
    loss's ``float32_gradient_arguments``) or the float64 kernel (float64
    margins; ``gradient_arguments``). Returns the bad-value counts, or None
    (nothing computed) for inputs this path does not cover: anything but
    C-contiguous float32 labels, outputs and weights with such margins.
    """
    wide = rows is binary_grad_hess_rows
    if not wide and rows is not float32_binary_grad_hess_rows:
        return None
    narrow = (y, grad, hess) + (() if weight is None else (weight,))
    if not (
        all(a.dtype == np.float32 and a.flags.c_contiguous and a.ndim == 1 for a in narrow)
        and margin.dtype == (np.float64 if wide else np.float32)
        and margin.flags.c_contiguous
        and margin.ndim == 1
    ):
        return None
    per_class, policy, floor, scale = arguments
    floats = np.array([*per_class[:4], floor, scale], dtype=np.float64)
    block = np.zeros(_BLOCK_SIZE, dtype=np.int64)
    block[_ROWS] = margin.shape[0]
    block[_Y], block[_MARGIN], block[_GRAD], block[_HESS] = (a.ctypes.data for a in (y, margin, grad, hess))
    block[_WEIGHT] = 0 if weight is None else weight.ctypes.data
    block[_FLOATS] = floats.ctypes.data
    block[_INT_NEG], block[_INT_POS] = per_class.int_neg, per_class.int_pos
    block[_USE_INTEGER] = per_class.use_integer
    block[_POLICY] = policy
    block[_SELF] = block.ctypes.data
    runtime.GOMP_parallel(_region_body(wide), block.ctypes.data, threads, 0)  # releases the GIL
    return int(block[_BAD_LABELS]), int(block[_BAD_MARGINS]), int(block[_BAD_WEIGHTS])
