"""GPU training time: XGBoost's built-in log loss against focal loss by two paths.

10,000,000 x 50 float32 rows (5% positives), 100 rounds, depth 8, XGBoost
``hist`` on ``device="cuda"``. In one process, after a warm-up that compiles
our kernels, each run ``--repeats`` times interleaved on one QuantileDMatrix
built on the GPU outside the timings:

* ``built-in binary:logistic``: XGBoost's own objective, all on the GPU;
* ``standard custom objective``: :func:`focal_boost.xgboost.train`, i.e.
  XGBoost's custom-objective path: margins copied to the host every round, our
  CPU kernels, gradients copied back;
* ``device-resident``: :func:`focal_boost.xgboost.train_on_device`: margins,
  gradients and Hessians stay on the GPU (CUDA kernels, ``Booster.boost``,
  ``inplace_predict``).

The table gives the median wall time of the boosting call and its ratio to
the built-in (goal: device-resident <= 1.10x). Run on a machine with an
NVIDIA GPU, CuPy and numba-cuda (``pip install -e ".[xgboost,gpu]"``):
``python benchmarks/gpu.py [--rows N] [--repeats R]``. ``--device cpu`` runs
the same three paths on the CPU (small ``--rows``): a smoke test of the
script, not the benchmark.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from focal_boost import FocalLoss

GAMMA, ALPHA = 2.0, 0.25


def simulate(rows: int, features: int, xp, seed: int = 0):
    """Features N(0, 1) and labels from a noisy linear score, 5% positives (on the array module ``xp``)."""
    rng = xp.random.default_rng(seed) if hasattr(xp.random, "default_rng") else xp.random.RandomState(seed)
    X = rng.standard_normal((rows, features), dtype=xp.float32)
    coefficients = xp.linspace(1.0, 0.0, features, dtype=xp.float32)
    score = X @ coefficients + 2.0 * rng.standard_normal(rows, dtype=xp.float32)
    y = (score > xp.quantile(score, 0.95)).astype(xp.float32)
    return X, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    args = parser.parse_args()

    import xgboost as xgb

    import focal_boost.xgboost as fx

    if args.device == "cuda":
        import cupy as xp

        synchronize = xp.cuda.Device().synchronize
        name = xp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    else:
        xp, synchronize, name = np, (lambda: None), "CPU"
    X, y = simulate(args.rows, args.features, xp)
    params = {"max_depth": args.depth, "eta": 0.1, "tree_method": "hist", "device": args.device, "seed": 0}
    dtrain = xgb.QuantileDMatrix(X, label=y)
    loss = FocalLoss(GAMMA, ALPHA)

    runs = {
        "built-in binary:logistic": lambda n: xgb.train(
            {**params, "objective": "binary:logistic"}, dtrain, n
        ),
        "standard custom objective": lambda n: fx.train(params, dtrain, n, loss=loss),
        "device-resident": lambda n: fx.train_on_device(params, X, y, n, loss=loss, dtrain=dtrain),
    }
    for run in runs.values():  # warm-up: CUDA contexts, kernel compilation, XGBoost's first-run costs
        run(2)
    synchronize()
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(args.repeats):
        for label, run in runs.items():
            start = time.perf_counter()
            run(args.rounds)
            synchronize()
            times[label].append(time.perf_counter() - start)
    print(
        f"{args.rows:,} x {args.features} float32, {args.rounds} rounds, depth {args.depth}, "
        f"device {args.device} ({name}), XGBoost {xgb.__version__}, median of {args.repeats}"
    )
    reference = statistics.median(times["built-in binary:logistic"])
    print(f"| {'path':<28} | {'seconds':>8} | {'ratio':>6} |")
    print(f"|{'-' * 30}|{'-' * 9}:|{'-' * 7}:|")
    for label, values in times.items():
        median = statistics.median(values)
        print(f"| {label:<28} | {median:8.2f} | {median / reference:5.2f}x |")


if __name__ == "__main__":
    main()
