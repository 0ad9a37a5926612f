"""Training time: built-in log loss vs our focal objective vs a NumPy focal objective.

1,000,000 x 50 float32 rows (make_classification, 1% positives), 100 rounds,
depth 6 (XGBoost, hist) / 63 leaves (LightGBM), 2 threads. For each booster,
in one process and after a warm-up that also compiles our kernels: the
built-in binary log loss, ``focal_boost``'s objective (gamma=2, alpha=0.25;
through ``focal_boost.xgboost.train`` for XGBoost and ``FocalObjective`` for
LightGBM) and the same focal loss as a plain NumPy objective, each run ``--repeats``
times interleaved; the table gives the median wall time of the boosting call
and its ratio to the built-in. Data containers are built once, outside the
timings. Run: ``python benchmarks/training.py [--rows N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from kernels import numpy_binary  # benchmarks/ is on sys.path when run as a script
from sklearn.datasets import make_classification

from focal_boost import FocalLoss

GAMMA, ALPHA = 2.0, 0.25


def numpy_focal_objective(y: np.ndarray, margin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A careful NumPy focal objective (what a user would write): the kernel benchmark's reference."""
    return numpy_binary(y, margin.astype(np.float64), ALPHA, GAMMA)


def bench_xgboost(X, y, rounds: int, repeats: int) -> dict[str, float]:
    import xgboost as xgb

    import focal_boost.xgboost as fx

    loss = FocalLoss(GAMMA, ALPHA)
    params = {"max_depth": 6, "eta": 0.1, "tree_method": "hist", "nthread": 2, "seed": 0}
    dtrain = xgb.DMatrix(X, label=y, nthread=2)
    labels = dtrain.get_label()

    def numpy_obj(predt, _dtrain):
        return numpy_focal_objective(labels, predt)

    runs = {
        "built-in binary:logistic": lambda n: xgb.train(
            {**params, "objective": "binary:logistic"}, dtrain, n
        ),
        "focal_boost objective": lambda n: fx.train(params, dtrain, n, loss=loss, n_threads=2),
        "NumPy focal objective": lambda n: xgb.train(
            {**params, "base_score": loss.init_score(y)}, dtrain, n, obj=numpy_obj
        ),
    }
    return _time(runs, rounds, repeats)


def bench_lightgbm(X, y, rounds: int, repeats: int) -> dict[str, float]:
    import lightgbm as lgb

    import focal_boost.lightgbm as fl

    loss = FocalLoss(GAMMA, ALPHA)
    params = {"num_leaves": 63, "learning_rate": 0.1, "num_threads": 2, "verbose": -1, "seed": 0}
    builtin_set = lgb.Dataset(X, y, params=params, free_raw_data=False).construct()
    init = np.full(y.shape[0], loss.init_score(y))
    focal_set = lgb.Dataset(X, y, init_score=init, params=params, free_raw_data=False).construct()
    focal = fl.FocalObjective(loss, n_threads=2)

    def numpy_obj(preds, _data):
        return numpy_focal_objective(y, preds)

    runs = {
        "built-in binary": lambda n: lgb.train({**params, "objective": "binary"}, builtin_set, n),
        "focal_boost objective": lambda n: lgb.train({**params, "objective": focal}, focal_set, n),
        "NumPy focal objective": lambda n: lgb.train({**params, "objective": numpy_obj}, focal_set, n),
    }
    return _time(runs, rounds, repeats)


def _time(runs: dict, rounds: int, repeats: int) -> dict[str, float]:
    for run in runs.values():  # warm-up: compilation, thread pools, caches
        run(3)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run(rounds)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    X, y = make_classification(args.rows, 50, n_informative=10, weights=[0.99], flip_y=0.0, random_state=0)
    X = X.astype(np.float32)
    y = y.astype(np.float64)
    import lightgbm
    import numba
    import xgboost

    print(
        f"# {args.rows:,} x 50 float32 rows, {y.mean():.2%} positives, {args.rounds} rounds, 2 threads; "
        f"median of {args.repeats} interleaved runs; gamma={GAMMA}, alpha={ALPHA}"
    )
    print(f"# xgboost {xgboost.__version__}, lightgbm {lightgbm.__version__}, numba {numba.__version__}")
    print()
    print("| booster | objective | seconds | ratio to built-in |")
    print("|---|---|---:|---:|")
    for booster, bench in (("XGBoost", bench_xgboost), ("LightGBM", bench_lightgbm)):
        results = bench(X, y, args.rounds, args.repeats)
        baseline = next(iter(results.values()))
        for name, seconds in results.items():
            print(f"| {booster} | {name} | {seconds:.2f} | {seconds / baseline:.3f}x |", flush=True)


if __name__ == "__main__":
    main()
