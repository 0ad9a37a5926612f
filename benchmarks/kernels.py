"""Focal gradient+Hessian kernel speed, side by side with NumPy and a memory copy.

For each problem (binary; multiclass with K=5) and size (1e6, 1e7 rows) this
times, interleaved in one process:

* ``focal_boost``: ``FocalLoss.gradient_hessian`` into preallocated outputs
  (the booster adapters' path), with every thread Numba has;
* ``numpy``: the same gradient and Hessian from a vectorised NumPy
  implementation (stable formulas, float64 temporaries);
* ``copy``: ``np.copyto`` of the same bytes the kernel moves (it reads labels
  and margins and writes gradients and Hessians), the memory-bandwidth limit;
* ``float32`` and ``copy32``: the same with float32 labels, margins and
  outputs, through the kernel a booster's objective takes
  (``float32_kernel=True``: the float32 variant for binary, float64 math with
  float32 input and output for multiclass), and the copy of those bytes.

and prints ns per margin element (median of repeats) and ratios. It then
measures the JIT cost of the first call in a fresh process, with a cold and
with a warm Numba cache. Run: ``python benchmarks/kernels.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numba
import numpy as np

from focal_boost import FocalLoss
from focal_boost._kernels.prepared import prepare_loss


def numpy_binary(y, z, alpha, gamma):
    """Vectorised NumPy focal gradient and upper Hessian (binary), float64."""
    s = np.where(y == 1, z, -z)
    a = np.where(y == 1, alpha, 1 - alpha)
    log_p = -np.logaddexp(0.0, -s)
    log_q = -np.logaddexp(0.0, s)
    p, q = np.exp(log_p), np.exp(log_q)
    ell = -log_p
    mod = a * np.exp(gamma * log_q)
    grad = mod * (gamma * p * ell + q) * np.where(y == 1, -1.0, 1.0)
    hess = mod * p * ((2 * gamma + 1) * q + gamma**2 * p * ell)
    return grad, hess


def numpy_multiclass(y, z, alpha, gamma):
    """Vectorised NumPy softmax focal gradient and upper diagonal Hessian, float64."""
    n = z.shape[0]
    rows = np.arange(n)
    idx = y.astype(np.intp)
    others = z.copy()
    others[rows, idx] = -np.inf
    m = others.max(axis=1, keepdims=True)
    e = np.exp(others - m)
    total = e.sum(axis=1, keepdims=True)
    r = e / total
    s = z[rows, idx] - m[:, 0] - np.log(total[:, 0])
    log_p = -np.logaddexp(0.0, -s)
    log_q = -np.logaddexp(0.0, s)
    p, q = np.exp(log_p), np.exp(log_q)
    ell = -log_p
    a = alpha[idx]
    mod = a * np.exp(gamma * log_q)
    big = mod * (gamma * p * ell + q)
    h_s = mod * p * ((2 * gamma + 1) * q + gamma**2 * p * ell)
    grad = big[:, None] * r
    hess = h_s[:, None] * r * r + big[:, None] * r * (1 - r)
    grad[rows, idx] = -big
    hess[rows, idx] = h_s
    return grad, hess


def _median_ns_per_element(timings: list[float], elements: int) -> float:
    return statistics.median(timings) / elements * 1e9


def bench_case(
    name: str, n_rows: int, n_classes: int, gamma: float, repeats: int, rng: np.random.Generator
) -> dict:
    if n_classes == 2:
        z = rng.normal(0, 3, n_rows)
        y = (rng.random(n_rows) < 0.1).astype(np.float64)
        focal = FocalLoss(gamma, 0.25)

        def run_numpy():
            return numpy_binary(y, z, 0.25, gamma)
    else:
        z = rng.normal(0, 3, (n_rows, n_classes))
        y = rng.integers(0, n_classes, n_rows).astype(np.float64)
        alpha = np.full(n_classes, 1.0 / n_classes)
        focal = FocalLoss(gamma, alpha)

        def run_numpy():
            return numpy_multiclass(y, z, alpha, gamma)

    grad, hess = np.empty_like(z), np.empty_like(z)

    def run_ours():
        focal.gradient_hessian(y, z, gradient_out=grad, hessian_out=hess)

    # The same bytes: read margins and labels, write gradients and Hessians.
    y_wide = np.broadcast_to(y[:, None], z.shape) if z.ndim == 2 else y
    y_bytes = np.ascontiguousarray(y_wide) if z.ndim == 2 else y

    def run_copy():
        np.copyto(grad, z)
        if z.ndim == 2:
            hess[:, 0] = y_bytes[:, 0]  # labels are one value per row
        else:
            np.copyto(hess, y_bytes)

    z32, y32 = z.astype(np.float32), y.astype(np.float32)
    grad32, hess32 = np.empty_like(z32), np.empty_like(z32)
    prepared = prepare_loss(focal, None if z.ndim == 1 else n_classes)
    y32_bytes = np.ascontiguousarray(y_bytes.astype(np.float32))

    def run_ours32():
        prepared.gradient_hessian(y32, z32, gradient_out=grad32, hessian_out=hess32, float32_kernel=True)

    def run_copy32():
        np.copyto(grad32, z32)
        if z.ndim == 2:
            hess32[:, 0] = y32_bytes[:, 0]
        else:
            np.copyto(hess32, y32_bytes)

    # Warm up, then interleave so that machine noise hits all alike.
    run_ours32()
    run_copy32()
    run_ours()
    ref_grad, ref_hess = run_numpy()
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-9, atol=1e-300)
    # The NumPy multiclass Hessian subtracts r from 1 (r * (1 - r)), which loses digits where r
    # is near 1 (one element in 5e6 differed by 1.5e-9 relative); the kernel computes 1 - r as a sum.
    np.testing.assert_allclose(hess, ref_hess, rtol=1e-8, atol=1e-300)
    run_copy()
    runs = {
        "focal_boost": run_ours,
        "numpy": run_numpy,
        "copy": run_copy,
        "float32": run_ours32,
        "copy32": run_copy32,
    }
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(repeats):
        for label, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - start)
    elements = z.size
    result = {k: _median_ns_per_element(v, elements) for k, v in times.items()}
    result.update(name=name, rows=n_rows, elements=elements)
    return result


_FIRST_CALL = """
import time, numpy as np
t0 = time.perf_counter()
from focal_boost import FocalLoss
from focal_boost._kernels.prepared import prepare_loss
t1 = time.perf_counter()
FocalLoss().gradient_hessian(np.zeros(8), np.zeros(8), n_threads=1)
t2 = time.perf_counter()
FocalLoss().gradient_hessian(np.zeros(70000), np.zeros(70000), n_threads=2)
t3 = time.perf_counter()
FocalLoss(2.0, None).gradient_hessian(np.zeros(8), np.zeros((8, 5)), n_threads=1)
t4 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
"""


def compile_times() -> dict[str, list[float]]:
    """Import and first-call seconds in fresh processes, cold and warm cache."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("cold", "warm"):
            proc = subprocess.run(
                [sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True, check=True
            )
            out[label] = [float(v) for v in proc.stdout.split()]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e5/1e6 rows and fewer repeats (a smoke run)")
    args = parser.parse_args()
    sizes = (100_000, 1_000_000) if args.quick else (1_000_000, 10_000_000)
    repeats = 5 if args.quick else 11
    rng = np.random.default_rng(0)
    print(
        f"# focal_boost kernel benchmark: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Numba {numba.__version__} ({numba.config.NUMBA_NUM_THREADS} threads, "
        f"{numba.config.THREADING_LAYER} layer), NumPy {np.__version__}"
    )
    print(
        "# ns per margin element, median of",
        repeats,
        "interleaved runs; float64 in and out (float32 columns: float32)",
    )
    print("# gamma=2 takes the integer fast path (q**2 by multiplication); gamma=0.5 needs exp(gamma log q)")
    print()
    print(
        "| problem | gamma | rows | focal_boost | NumPy | copy | focal/copy | NumPy/focal "
        "| float32 | copy32 | float32/copy32 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n_classes, name in ((2, "binary"), (5, "multiclass K=5")):
        for gamma in (2.0, 0.5):
            for n_rows in sizes:
                r = bench_case(name, n_rows, n_classes, gamma, repeats, rng)
                print(
                    f"| {name} | {gamma:g} | {n_rows:.0e} | {r['focal_boost']:.2f} | {r['numpy']:.2f} "
                    f"| {r['copy']:.2f} "
                    f"| {r['focal_boost'] / r['copy']:.2f}x | {r['numpy'] / r['focal_boost']:.1f}x "
                    f"| {r['float32']:.2f} | {r['copy32']:.2f} | {r['float32'] / r['copy32']:.2f}x |",
                    flush=True,
                )
    print()
    times = compile_times()
    print("| Numba cache | import (s) | first binary (s) | first parallel (s) | first multiclass (s) |")
    print("|---|---:|---:|---:|---:|")
    for label, values in times.items():
        print(f"| {label} | " + " | ".join(f"{v:.2f}" for v in values) + " |")


if __name__ == "__main__":
    main()
