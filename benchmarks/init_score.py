"""The multiclass initial score: time and precision against the K x K BFGS it replaced.

``FocalLoss.init_score`` for K classes used to run BFGS on K margins with the
risk of one aggregated row per class evaluated as a K x K margin matrix:
O(K^2) per evaluation, a K x K inverse-Hessian estimate, and gradients that
stop at BFGS's tolerance. It now solves the minimiser's conditions on the
probability simplex (``focal_boost._kernels.intercept``), linear in K. This times
both on heavy-tailed class sizes (Pareto), gamma=2, for K from 3 to 100,000
(the old one only up to ``--old-max``, 300 by default: beyond that it takes
minutes and gigabytes), and reports the largest entry of the risk's gradient
at each answer, computed with the multiclass kernel (up to K=3,000).

Run: ``python benchmarks/init_score.py``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial

import numpy as np
import scipy.optimize

from focal_boost import FocalLoss


def bfgs_init_score(loss: FocalLoss, totals: np.ndarray) -> np.ndarray:
    """The replaced method, verbatim: BFGS on K margins, each evaluation on a K x K matrix."""
    k = totals.shape[0]
    labels = np.arange(k, dtype=np.float64)
    weights = totals / totals.sum()

    def objective(b: np.ndarray) -> tuple[float, np.ndarray]:
        margins = np.broadcast_to(b, (k, k)).copy()
        value = loss.loss(labels, margins, weights, n_threads=1).sum()
        grad, _ = loss.gradient_hessian(labels, margins, weights, n_threads=1)
        return float(value), grad.sum(axis=0)

    start = np.log(weights)
    result = scipy.optimize.minimize(
        objective, start - start.mean(), jac=True, method="BFGS", options={"gtol": 1e-13}
    )
    return result.x - result.x.mean()


def largest_gradient(loss: FocalLoss, totals: np.ndarray, b: np.ndarray) -> float:
    k = totals.shape[0]
    labels = np.arange(k, dtype=np.float64)
    grad, _ = loss.gradient_hessian(labels, np.broadcast_to(b, (k, k)).copy(), totals / totals.sum())
    return float(np.abs(grad.sum(axis=0)).max())


def median_time(function, repeats: int) -> tuple[float, np.ndarray]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-max", type=int, default=300, help="largest K for the old method")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    loss = FocalLoss(2.0, None)
    loss.init_score(np.arange(3), np.ones(3), n_classes=3)  # compile
    columns = ["K", "new (s)", "old BFGS (s)", "old/new"]
    columns += ["new: largest gradient", "old: largest gradient", "largest margin difference"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---:|" * len(columns))
    for k in (3, 30, 300, 1000, 3000, 10_000, 100_000):
        totals = np.round((rng.pareto(1.0, k) + 1e-3) * 1000) + 1
        repeats = 5 if k <= 10_000 else 1
        new_time, new = median_time(partial(loss.init_score, np.arange(k), totals, n_classes=k), repeats)
        cells = [f"{k:,}", f"{new_time:.4f}"]
        old_cells = ["n/a"] * 4
        if k <= args.old_max:
            old_time, old = median_time(partial(bfgs_init_score, loss, totals), 1)
            old_cells = [
                f"{old_time:.3f}",
                f"{old_time / new_time:.0f}x",
                f"{largest_gradient(loss, totals, old):.1e}",
                f"{np.abs(old - new).max():.1e}",
            ]
        new_gradient = f"{largest_gradient(loss, totals, new):.1e}" if k <= 3000 else "n/a"
        cells += [*old_cells[:2], new_gradient, *old_cells[2:]]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
