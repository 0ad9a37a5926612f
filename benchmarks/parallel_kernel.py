"""Where the parallel kernel runs inside XGBoost training: serial, our thread pool, XGBoost's OpenMP team.

For each size (``make_classification`` rows, 20 float32 features, 1%
positives), 2 threads, 100 rounds, depth 6, interleaved in one process after
a warm-up: XGBoost's built-in binary log loss, and ``focal_boost.xgboost.train``
(gamma=2, alpha=0.25) with the gradient kernel run

* ``serial``: in the calling thread (``n_threads=1`` for the kernel only);
* ``pool``: on focal_boost's pool of Python threads (the OpenMP team path off);
* ``team``: on XGBoost's own OpenMP threads (``focal_boost._openmp``, the default).

Prints the median training time's ratio to the built-in and the median
kernel time per round (``_cpu.run_kernel`` timed inside training). The three
focal runs build the same model (the kernels agree bit for bit), so their
differences are the kernel's placement alone.
Run: ``python benchmarks/parallel_kernel.py [--sizes N ...] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import xgboost as xgb
from training import ALPHA, GAMMA, data  # benchmarks/ is on sys.path when run as a script

import focal_boost.xgboost as fx
from focal_boost import FocalLoss, _cpu


def bench_size(rows: int, rounds: int, repeats: int, threads: int, kernel_times: list[float]) -> str:
    """One table row: training-time ratios and kernel microseconds per round at ``rows``."""
    X, y = data(rows, 20)
    loss = FocalLoss(GAMMA, ALPHA)
    params = {"max_depth": 6, "eta": 0.1, "tree_method": "hist", "nthread": threads, "seed": 0}
    dtrain = xgb.DMatrix(X, label=y, nthread=threads)
    team_runtime = vars(fx.FocalObjective)["openmp_runtime"]  # the staticmethod itself

    def focal(kernel_threads: int, team: bool):
        def run(n: int):
            fx.FocalObjective.openmp_runtime = team_runtime if team else None
            try:
                return fx.train(params, dtrain, n, loss=loss, n_threads=kernel_threads)
            finally:
                fx.FocalObjective.openmp_runtime = team_runtime

        return run

    runs = {
        "built-in": lambda n: xgb.train({**params, "objective": "binary:logistic"}, dtrain, n),
        "serial": focal(1, False),
        "pool": focal(threads, False),
        "team": focal(threads, True),
    }
    for run in runs.values():
        run(3)
    times: dict[str, list[float]] = {name: [] for name in runs}
    kernels: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            kernel_times.clear()
            start = time.perf_counter()
            run(rounds)
            times[name].append(time.perf_counter() - start)
            kernels[name].extend(kernel_times[5:])
    base = statistics.median(times["built-in"])
    focal_runs = ("serial", "pool", "team")
    ratios = " | ".join(f"{statistics.median(times[k]) / base:.3f}x" for k in focal_runs)
    micros = " | ".join(f"{statistics.median(kernels[k]) * 1e6:.0f}" for k in focal_runs)
    return f"| {rows:,} | {base:.2f} | {ratios} | {micros} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    threads = 2
    kernel_times: list[float] = []
    run_kernel = _cpu.run_kernel

    def timed_kernel(*a, **k):
        start = time.perf_counter()
        result = run_kernel(*a, **k)
        kernel_times.append(time.perf_counter() - start)
        return result

    _cpu.run_kernel = timed_kernel
    print(f"# xgboost {xgb.__version__}, {threads} threads, {args.rounds} rounds, median of {args.repeats}")
    print("| rows | built-in (s) | serial | pool | team | kernel serial (us) | pool (us) | team (us) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rows in args.sizes:
        print(bench_size(rows, args.rounds, args.repeats, threads, kernel_times), flush=True)


if __name__ == "__main__":
    main()
