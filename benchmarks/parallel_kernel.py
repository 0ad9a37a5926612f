"""Where the parallel kernel runs inside boosting: serial, our thread pool, the booster's OpenMP team.

For each size (``make_classification`` rows, 20 float32 features, 1%
positives), 2 threads, 100 rounds, depth 6 (XGBoost) / 63 leaves (LightGBM),
interleaved in one process after a warm-up: the booster's built-in binary log
loss, and our objective (gamma=2, alpha=0.25; ``focal_boost.xgboost.train``,
``lightgbm.train`` with ``focal_boost.lightgbm.FocalObjective``) with the
gradient kernel run

* ``serial``: in the calling thread (``n_threads=1`` for the kernel only);
* ``pool``: on focal_boost's pool of Python threads (the OpenMP team path off);
* ``team``: on the booster's own OpenMP threads (``focal_boost._kernels.team``, the default).

Prints the median training time's ratio to the built-in and the median
kernel time per round (``_cpu.run_kernel`` timed inside training). The three
focal runs build the same model (the kernels agree bit for bit), so their
differences are the kernel's placement alone.
Run: ``python benchmarks/parallel_kernel.py [--booster xgboost|lightgbm] [--sizes N ...] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import xgboost as xgb
from training import ALPHA, GAMMA, data  # benchmarks/ is on sys.path when run as a script

import focal_boost.xgboost as fx
from focal_boost import FocalLoss
from focal_boost._kernels import threads as _cpu


def _runs(booster: str, X, y, threads: int) -> tuple[dict, type]:
    """``{name: run(rounds)}`` for the built-in and the three placements, and the objective class."""
    loss = FocalLoss(GAMMA, ALPHA)
    if booster == "xgboost":
        params = {"max_depth": 6, "eta": 0.1, "tree_method": "hist", "nthread": threads, "seed": 0}
        dtrain = xgb.DMatrix(X, label=y, nthread=threads)

        def builtin(n: int):
            return xgb.train({**params, "objective": "binary:logistic"}, dtrain, n)

        def focal(n: int, kernel_threads: int):
            return fx.train(params, dtrain, n, loss=loss, n_threads=kernel_threads)

        objective = fx.FocalObjective
    else:
        import lightgbm as lgb

        import focal_boost.lightgbm as fl

        params = {"num_leaves": 63, "learning_rate": 0.1, "num_threads": threads, "verbose": -1, "seed": 0}
        builtin_set = lgb.Dataset(X, y, params=params, free_raw_data=False).construct()
        init = np.full(y.shape[0], loss.init_score(y))
        focal_set = lgb.Dataset(X, y, init_score=init, params=params, free_raw_data=False).construct()

        def builtin(n: int):
            return lgb.train({**params, "objective": "binary"}, builtin_set, n)

        def focal(n: int, kernel_threads: int):
            objective = fl.FocalObjective(loss, n_threads=kernel_threads)
            return lgb.train({**params, "objective": objective}, focal_set, n)

        objective = fl.FocalObjective
    team_runtime = vars(objective)["openmp_runtime"]  # the staticmethod itself

    def placed(kernel_threads: int, team: bool):
        def run(n: int):
            objective.openmp_runtime = team_runtime if team else None
            try:
                return focal(n, kernel_threads)
            finally:
                objective.openmp_runtime = team_runtime

        return run

    runs = {"built-in": builtin, "serial": placed(1, False), "pool": placed(threads, False)}
    runs["team"] = placed(threads, True)
    return runs, objective


def bench_size(
    booster: str, rows: int, rounds: int, repeats: int, threads: int, kernel_times: list[float]
) -> str:
    """One table row: training-time ratios and kernel microseconds per round at ``rows``."""
    X, y = data(rows, 20)
    runs, _ = _runs(booster, X, y, threads)
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
            kernels[name].extend(kernel_times[5:] or [float("nan")])
    base = statistics.median(times["built-in"])
    focal_runs = ("serial", "pool", "team")
    ratios = " | ".join(f"{statistics.median(times[k]) / base:.3f}x" for k in focal_runs)
    micros = " | ".join(f"{statistics.median(kernels[k]) * 1e6:.0f}" for k in focal_runs)
    return f"| {booster} | {rows:,} | {base:.2f} | {ratios} | {micros} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument(
        "--booster", choices=["xgboost", "lightgbm"], nargs="+", default=["xgboost", "lightgbm"]
    )
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
    print(
        "| booster | rows | built-in (s) | serial | pool | team "
        "| kernel serial (us) | pool (us) | team (us) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for booster in args.booster:
        for rows in args.sizes:
            print(bench_size(booster, rows, args.rounds, args.repeats, threads, kernel_times), flush=True)


if __name__ == "__main__":
    main()
