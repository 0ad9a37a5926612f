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

``--sweep`` runs the grid of the issue instead (rows x features x threads,
optionally beside a competing process) and adds ``focal_boost`` at
``gamma=0, alpha=None``: the built-in's model through our objective, so its
ratio is the custom-objective overhead alone.

``--ablation`` times our objective three ways per cell, interleaved: as shipped
(the float32 kernel on the booster's OpenMP team, ``focal_boost._kernels.team``), on
our own thread pool, and on our pool in float64 (neither the team nor the float32
variant); ratios to the shipped run. It is the measurement that decides whether
``_openmp`` and the float32 variant earn their code.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import time

import numpy as np
from kernels import numpy_binary  # benchmarks/ is on sys.path when run as a script
from sklearn.datasets import make_classification

from focal_boost import FocalLoss

GAMMA, ALPHA = 2.0, 0.25
#: Focal loss at gamma=0, alpha=None: the built-in's model through our objective, so that its ratio
#: is the custom-objective overhead alone (the focal model's trees differ, and so does their cost).
LOG_LOSS = FocalLoss(0.0, None)


def numpy_focal_objective(y: np.ndarray, margin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A careful NumPy focal objective (what a user would write): the kernel benchmark's reference."""
    return numpy_binary(y, margin.astype(np.float64), ALPHA, GAMMA)


def bench_xgboost(
    X, y, rounds: int, repeats: int, threads: int = 2, with_log_loss: bool = False, focal_only: bool = False
) -> dict[str, float]:
    import xgboost as xgb

    import focal_boost.xgboost as fx

    loss = FocalLoss(GAMMA, ALPHA)
    params = {"max_depth": 6, "eta": 0.1, "tree_method": "hist", "nthread": threads, "seed": 0}
    dtrain = xgb.DMatrix(X, label=y, nthread=threads)
    labels = dtrain.get_label()

    def numpy_obj(predt, _dtrain):
        return numpy_focal_objective(labels, predt)

    runs = {
        "built-in binary:logistic": lambda n: xgb.train(
            {**params, "objective": "binary:logistic"}, dtrain, n
        ),
        "focal_boost objective": lambda n: fx.train(params, dtrain, n, loss=loss, n_threads=threads),
        "NumPy focal objective": lambda n: xgb.train(
            {**params, "base_score": loss.init_score(y)}, dtrain, n, obj=numpy_obj
        ),
    }
    if with_log_loss:  # through our objective: fx.train would hand log loss to the built-in one
        log_loss = fx.FocalObjective(LOG_LOSS, n_threads=threads)
        log_params = {**params, "base_score": float(LOG_LOSS.init_score(y))}
        runs["focal_boost, gamma=0"] = lambda n: xgb.train(log_params, dtrain, n, obj=log_loss)
    if focal_only:
        runs = {"focal_boost objective": runs["focal_boost objective"]}
    return _time(runs, rounds, repeats)


def bench_lightgbm(
    X, y, rounds: int, repeats: int, threads: int = 2, with_log_loss: bool = False, focal_only: bool = False
) -> dict[str, float]:
    import lightgbm as lgb

    import focal_boost.lightgbm as fl

    loss = FocalLoss(GAMMA, ALPHA)
    params = {"num_leaves": 63, "learning_rate": 0.1, "num_threads": threads, "verbose": -1, "seed": 0}
    builtin_set = lgb.Dataset(X, y, params=params, free_raw_data=False).construct()
    init = np.full(y.shape[0], loss.init_score(y))
    focal_set = lgb.Dataset(X, y, init_score=init, params=params, free_raw_data=False).construct()
    focal = fl.FocalObjective(loss, n_threads=threads)

    def numpy_obj(preds, _data):
        return numpy_focal_objective(y, preds)

    runs = {
        "built-in binary": lambda n: lgb.train({**params, "objective": "binary"}, builtin_set, n),
        "focal_boost objective": lambda n: lgb.train({**params, "objective": focal}, focal_set, n),
        "NumPy focal objective": lambda n: lgb.train({**params, "objective": numpy_obj}, focal_set, n),
    }
    if with_log_loss:
        log_set = lgb.Dataset(
            X, y, init_score=np.full(y.shape[0], LOG_LOSS.init_score(y)), params=params, free_raw_data=False
        ).construct()
        log_loss = fl.FocalObjective(LOG_LOSS, n_threads=threads)
        runs["focal_boost, gamma=0"] = lambda n: lgb.train({**params, "objective": log_loss}, log_set, n)
    if focal_only:
        runs = {"focal_boost objective": runs["focal_boost objective"]}
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


@contextlib.contextmanager
def competing_process(active: bool, seconds: float = 7200.0):
    """One CPU-bound process on the machine while the block runs (stopped after it, or after ``seconds``)."""
    if not active:
        yield
        return
    busy = f"import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    pass\n"
    process = subprocess.Popen([sys.executable, "-c", busy])
    try:
        time.sleep(0.5)  # let it start spinning
        yield
    finally:
        process.kill()
        process.wait()


BENCHES = {"xgboost": ("XGBoost", bench_xgboost), "lightgbm": ("LightGBM", bench_lightgbm)}


def data(rows: int, features: int) -> tuple[np.ndarray, np.ndarray]:
    """``make_classification`` rows, 1% positives, float32 features."""
    X, y = make_classification(
        rows, features, n_informative=min(10, features), weights=[0.99], flip_y=0.0, random_state=0
    )
    return X.astype(np.float32), y.astype(np.float64)


def sweep(args: argparse.Namespace) -> None:
    """Every cell of rows x features x threads (x a competing process), both boosters, one table."""
    print(
        f"# sweep: {args.rounds} rounds, median of {args.repeats} interleaved runs per cell (1 for 5M rows); "
        f"gamma={GAMMA}, alpha={ALPHA}; ratios to the built-in binary log loss"
    )
    print(
        "| booster | rows | features | threads | competing process | built-in (s) | focal_boost | NumPy "
        "| focal_boost gamma=0 |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|")
    for competing in args.competing:
        for rows in args.sizes:
            for features in args.features:
                X, y = data(rows, features)
                for threads in args.threads:
                    for booster in args.boosters:
                        name, bench = BENCHES[booster]
                        repeats = 1 if rows >= 5_000_000 else args.repeats
                        with competing_process(competing):
                            results = bench(X, y, args.rounds, repeats, threads, with_log_loss=True)
                        builtin, focal, numpy_focal, log_loss = results.values()
                        busy = "yes" if competing else "no"
                        print(
                            f"| {name} | {rows:,} | {features} | {threads} | {busy} | {builtin:.2f} | "
                            f"{focal / builtin:.3f}x | {numpy_focal / builtin:.3f}x | "
                            f"{log_loss / builtin:.3f}x |",
                            flush=True,
                        )


def ablation(args: argparse.Namespace) -> None:
    """Our objective with and without the OpenMP team and the float32 kernel, per cell."""
    from focal_boost.lightgbm import FocalObjective as LightGBMObjective
    from focal_boost.xgboost import FocalObjective as XGBoostObjective

    variants = {  # (the OpenMP runtime finder or None, the float32 kernel)
        "shipped": None,
        "pool": (None, True),
        "pool, float64": (None, False),
    }
    print(f"# ablation: {args.rounds} rounds, median of {args.repeats} interleaved runs; ratios to 'shipped'")
    print("| booster | rows | threads | shipped (s) | pool | pool, float64 | built-in |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for rows in args.sizes:
        X, y = data(rows, args.features[0])
        for threads in args.threads:
            for booster, objective in (("xgboost", XGBoostObjective), ("lightgbm", LightGBMObjective)):
                if booster not in args.boosters:
                    continue
                shipped = (vars(objective)["openmp_runtime"], objective.float32_kernel)  # the staticmethod
                times: dict[str, list[float]] = {name: [] for name in [*variants, "built-in"]}
                name, bench = BENCHES[booster]
                for _ in range(args.repeats):
                    for variant, setting in variants.items():
                        runtime, float32 = setting or shipped
                        objective.openmp_runtime, objective.float32_kernel = runtime, float32
                        try:
                            results = bench(X, y, args.rounds, 1, threads, focal_only=variant != "shipped")
                        finally:
                            objective.openmp_runtime, objective.float32_kernel = shipped
                        times[variant].append(results["focal_boost objective"])
                        if variant == "shipped":
                            times["built-in"].append(next(iter(results.values())))
                median = {key: statistics.median(values) for key, values in times.items()}
                base = median["shipped"]
                print(
                    f"| {name} | {rows:,} | {threads} | {base:.2f} | {median['pool'] / base:.3f}x | "
                    f"{median['pool, float64'] / base:.3f}x | {median['built-in'] / base:.3f}x |",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sweep", action="store_true", help="rows x features x threads, both boosters")
    parser.add_argument("--ablation", action="store_true", help="with and without the OpenMP team, float32")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 50_000, 200_000, 1_000_000, 5_000_000]
    )
    parser.add_argument("--features", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--boosters", nargs="+", choices=sorted(BENCHES), default=["xgboost", "lightgbm"])
    parser.add_argument(
        "--competing",
        type=lambda text: text == "yes",
        nargs="+",
        default=[False, True],
        help="'no' and/or 'yes': run the cells without and with one competing CPU-bound process",
    )
    args = parser.parse_args()
    import lightgbm
    import numba
    import xgboost

    print(f"# xgboost {xgboost.__version__}, lightgbm {lightgbm.__version__}, numba {numba.__version__}")
    if args.sweep:
        sweep(args)
        return
    if args.ablation:
        ablation(args)
        return
    X, y = data(args.rows, 50)
    print(
        f"# {args.rows:,} x 50 float32 rows, {y.mean():.2%} positives, {args.rounds} rounds, 2 threads; "
        f"median of {args.repeats} interleaved runs; gamma={GAMMA}, alpha={ALPHA}"
    )
    print()
    print("| booster | objective | seconds | ratio to built-in |")
    print("|---|---|---:|---:|")
    for name, bench in BENCHES.values():
        results = bench(X, y, args.rounds, args.repeats)
        baseline = next(iter(results.values()))
        for objective, seconds in results.items():
            print(f"| {name} | {objective} | {seconds:.2f} | {seconds / baseline:.3f}x |", flush=True)


if __name__ == "__main__":
    main()
