"""Focal-loss XGBoost on a Dask cluster: the same script on a laptop or a real cluster.

The data are simulated card transactions generated *on the workers*, one
block per task (``focal_boost.datasets.make_transactions``), so nothing is
gathered to the client. ``focal_boost.dask.xgboost_train`` computes the initial
score from the class counts on the cluster, then runs ``xgboost.dask.train``
with the focal objective: each worker computes gradients on its own
partitions with the Numba kernels. Probabilities come back as a lazy Dask
array; only the scores are computed on the client.

Run:
    python examples/dask_cluster.py                       # a LocalCluster with 2 workers
    python examples/dask_cluster.py tcp://scheduler:8786  # any running cluster
Options: ``--rows`` (default 200,000), ``--blocks`` (8), ``--workers`` (LocalCluster only).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def transactions(rows: int, blocks: int, first_seed: int):
    """(X, y) as Dask arrays, each block simulated by a task on a worker."""
    import dask
    import dask.array as da

    from focal_boost.datasets import TRANSACTION_FEATURES, make_transactions

    size = rows // blocks
    bunches = [dask.delayed(make_transactions)(size, random_state=first_seed + i) for i in range(blocks)]
    n_features = len(TRANSACTION_FEATURES)
    X = da.concatenate([da.from_delayed(b.data, shape=(size, n_features), dtype=np.float64) for b in bunches])
    y = da.concatenate([da.from_delayed(b.target, shape=(size,), dtype=np.int64) for b in bunches])
    return X, y.astype(np.float64)


def main(argv: list[str] | None = None) -> dict[str, float]:
    from distributed import Client, LocalCluster
    from sklearn.metrics import average_precision_score, brier_score_loss

    from focal_boost import FocalLoss
    from focal_boost.dask import xgboost_predict_proba, xgboost_train

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "scheduler", nargs="?", default=None, help="a scheduler address (default: a LocalCluster)"
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    cluster = None
    if args.scheduler is None:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=":0")
    client = Client(args.scheduler or cluster)
    try:
        X, y = transactions(args.rows, args.blocks, first_seed=0)
        X_test, y_test = transactions(args.rows // 4, max(1, args.blocks // 4), first_seed=1000)
        X, y, X_test, y_test = client.persist([X, y, X_test, y_test])
        start = time.perf_counter()
        result = xgboost_train(
            client,
            {"max_depth": 4, "eta": 0.1, "tree_method": "hist"},
            X,
            y,
            200,
            loss=FocalLoss(gamma=2.0, alpha=None),
            eval_set=[(X_test, y_test)],
            early_stopping_rounds=20,
            verbose_eval=False,
        )
        seconds = time.perf_counter() - start
        booster = result["booster"]
        probability = xgboost_predict_proba(client, booster, X_test)[:, 1]  # lazy
        truth, score = client.compute([y_test, probability], sync=True)
        scores = {
            "workers": len(client.scheduler_info()["workers"]),
            "rows": args.rows,
            "rounds": booster.best_iteration + 1,
            "seconds": seconds,
            "average precision": average_precision_score(truth, score),
            "Brier score": brier_score_loss(truth, score),
            "validation focal loss": result["history"]["valid_0"]["focal_loss"][booster.best_iteration],
        }
        for name, value in scores.items():
            print(f"{name:>22}: {value:,.4f}" if isinstance(value, float) else f"{name:>22}: {value:,}")
        return scores
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
