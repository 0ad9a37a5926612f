"""Focal loss on a real Dask cluster: two worker processes started by the tests."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("distributed", reason="Dask is not installed (pip install 'focal-boost[dask]')")
da = pytest.importorskip("dask.array")
xgb = pytest.importorskip("xgboost", reason="XGBoost is not installed (pip install 'focal-boost[xgboost]')")

from focal_boost import FocalLoss  # noqa: E402

fx = pytest.importorskip("focal_boost.xgboost")


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield client


def test_xgboost_dask_metric_is_the_global_weighted_mean(client):
    """XGBoost averages a custom metric over workers; ours sums first, so unequal partitions agree."""
    from xgboost import dask as dxgb

    rng = np.random.default_rng(0)
    n = 4000
    X = rng.normal(size=(n, 5))
    y = (X[:, 0] + rng.normal(size=n) > 1.5).astype(np.float64)
    w = rng.uniform(0.2, 3.0, n)
    # Unequal partitions (3,500 and 500 rows), placed on different workers.
    chunks = ((3500, 500),)
    dX = da.from_array(X, chunks=(chunks[0], 5))
    dy, dw = da.from_array(y, chunks=chunks), da.from_array(w, chunks=chunks)
    dX, dy, dw = client.persist([dX, dy, dw])
    loss = FocalLoss(2.0, 0.25)
    dtrain = dxgb.DaskDMatrix(client, dX, dy, weight=dw)
    params = {
        "max_depth": 3,
        "eta": 0.3,
        "base_score": loss.init_score(y, w),
        "disable_default_eval_metric": True,
    }
    out = dxgb.train(
        client,
        params,
        dtrain,
        10,
        obj=fx.FocalObjective(loss),
        custom_metric=fx.FocalMetric(loss),
        evals=[(dtrain, "train")],
        verbose_eval=False,
    )
    margin = dxgb.predict(client, out["booster"], dX, output_margin=True).compute()
    expected = fx.FocalMetric(loss).score(y, margin, w)
    # XGBoost keeps six decimals of a custom metric outside focal_boost.xgboost.train.
    assert out["history"]["train"]["focal_loss"][-1] == pytest.approx(expected, abs=1e-6)
    # The naive average of the two workers' means is far from it.
    big, small = slice(0, 3500), slice(3500, n)
    naive = 0.5 * (
        fx.FocalMetric(loss).score(y[big], margin[big], w[big])
        + fx.FocalMetric(loss).score(y[small], margin[small], w[small])
    )
    assert abs(naive - expected) > 1e-4
