"""The Python work of one boosting round's custom-objective call, at 10,000 rows.

A booster calls the focal objective once a round; what that call spends
around the Numba kernel (checks, parameter preparation, dispatch, the
multiclass Hessian scale) is paid every round, and at 10k-100k rows it is a
visible part of the round. This times, interleaved in one process, for
binary and multiclass (K=5) margins:

* ``objective``: the call a booster makes, ``FocalObjective(loss)(margins,
  data)`` for XGBoost (``DMatrix``, labels remembered as
  :func:`focal_boost.xgboost.train` does) and LightGBM (``Dataset``);
* ``kernel``: :func:`focal_boost._kernels.threads.run_kernel` alone on the same arrays,
  its arguments prepared outside the timing (the floor any objective pays);
* ``stubbed``: the objective call with ``_cpu.run_kernel`` replaced by a
  function that returns at once: the Python work measured directly, free of
  the kernel's own noise (its threads make the difference of the first two
  noisy at K=5);

and prints microseconds per call (median of repeats). Run:
``python benchmarks/round_overhead.py [--threads 1]``.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import numpy as np

from focal_boost import FocalLoss
from focal_boost._kernels import threads as _cpu


def _kernel_call(loss: FocalLoss, n_classes: int | None, y, margin, grad, hess, n_threads: int):
    """A zero-argument call of the bare CPU kernel on prepared arguments."""
    from focal_boost._kernels.prepared import prepare_loss

    prepared = prepare_loss(loss, n_classes)
    return functools.partial(
        _cpu.run_kernel, "grad_hess", prepared, y, margin, None, grad, hess, n_threads=n_threads
    )


def _no_kernel(*_args, **_kwargs) -> tuple[int, int, int]:
    return 0, 0, 0


def _median_us(call, repeats: int, inner: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            call()
        times.append((time.perf_counter() - start) / inner)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    import lightgbm as lgb
    import xgboost as xgb

    from focal_boost import lightgbm as fl
    from focal_boost import xgboost as fx

    rng = np.random.default_rng(0)
    n = args.rows
    X = rng.normal(size=(n, 4))
    loss = FocalLoss(2.0, 0.25)
    print(f"rows={n} threads={args.threads} (microseconds per call, median of {args.repeats})")
    print("| problem | booster | objective call | bare kernel | difference | kernel stubbed |")
    print("|---|---|---:|---:|---:|---:|")
    for n_classes in (None, 5):
        k = 2 if n_classes is None else n_classes
        y = rng.integers(0, k, n).astype(np.float32)
        case_loss = loss if n_classes is None else FocalLoss(2.0, None)
        shape = (n,) if n_classes is None else (n, n_classes)
        margin32 = rng.normal(size=shape).astype(np.float32)
        margin64 = margin32.astype(np.float64)

        dtrain = xgb.DMatrix(X, label=y)
        xgb_objective = fx.FocalObjective(case_loss, n_threads=args.threads)
        xgb_objective.remember(dtrain, dtrain.get_label(), None)
        dataset = lgb.Dataset(X, label=y, params={"verbose": -1}).construct()
        lgb_objective = fl.FocalObjective(case_loss, n_threads=args.threads)

        grad32, hess32 = np.empty_like(margin32), np.empty_like(margin32)
        bare32 = _kernel_call(case_loss, n_classes, y, margin32, grad32, hess32, args.threads)
        grad_f, hess_f = np.empty(shape, np.float32, order="F"), np.empty(shape, np.float32, order="F")
        bare64 = _kernel_call(case_loss, n_classes, y, margin64, grad_f, hess_f, args.threads)
        calls = {
            "xgb": functools.partial(xgb_objective, margin32, dtrain),
            "xgb kernel": bare32,
            "lgb": functools.partial(lgb_objective, margin64, dataset),
            "lgb kernel": bare64,
        }
        for call in calls.values():  # compile and warm up
            call()
        inner = max(1, 20_000 // (n * k // 1000 + 1))
        samples: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(args.repeats):  # interleaved, so that machine noise hits all alike
            for name, call in calls.items():
                samples[name].append(_median_us(call, 1, inner))
        kernel = _cpu.run_kernel
        _cpu.run_kernel = _no_kernel
        try:
            for key in ("xgb", "lgb"):
                samples[f"{key} stubbed"] = [_median_us(calls[key], 1, 2000) for _ in range(args.repeats)]
        finally:
            _cpu.run_kernel = kernel
        median = {name: statistics.median(values) for name, values in samples.items()}
        problem = "binary" if n_classes is None else f"multiclass K={n_classes}"
        for booster, key in (("XGBoost", "xgb"), ("LightGBM", "lgb")):
            total, bare, stubbed = median[key], median[f"{key} kernel"], median[f"{key} stubbed"]
            print(
                f"| {problem} | {booster} | {total:.1f} | {bare:.1f} | {total - bare:.1f} | {stubbed:.1f} |"
            )


if __name__ == "__main__":
    main()
