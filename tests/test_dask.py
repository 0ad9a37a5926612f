"""Focal loss on a real Dask cluster: two worker processes started by the tests."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("distributed", reason="Dask is not installed (pip install 'focal-boost[dask]')")
da = pytest.importorskip("dask.array")
xgb = pytest.importorskip("xgboost", reason="XGBoost is not installed (pip install 'focal-boost[xgboost]')")

from focal_boost import FocalLoss  # noqa: E402

#: A local FocalBoostClassifier that trains as the Dask one does: one model on all rows, every round
#: (no hold-out is drawn on a cluster).
LOCAL_ONE_MODEL = {"n_members": 1, "early_stopping_rounds": None}

fx = pytest.importorskip("focal_boost.xgboost")


# SklearnFocalObjective warns that the wrapper's predict_proba is raw; these tests use it knowingly.
pytestmark = pytest.mark.filterwarnings("ignore::focal_boost.RawProbabilityWarning")


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
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


@pytest.mark.parametrize("alpha", [0.25, "balanced"])
def test_initial_score_on_the_cluster_equals_one_machine(client, alpha):
    from focal_boost.dask import class_totals, initial_score

    rng = np.random.default_rng(1)
    y = (rng.uniform(size=5000) < 0.07).astype(np.float64)
    w = rng.uniform(0.1, 5.0, 5000)
    dy, dw = da.from_array(y, chunks=1200), da.from_array(w, chunks=1200)
    np.testing.assert_allclose(class_totals(dy, dw), [w[y == 0].sum(), w[y == 1].sum()], rtol=1e-12)
    loss = FocalLoss(2.0, alpha)
    resolved, init = initial_score(loss, dy, dw)
    assert init == pytest.approx(loss.resolved(y, w).init_score(y, w), rel=1e-12)
    np.testing.assert_allclose(resolved.alpha, loss.resolved(y, w).alpha, rtol=1e-12)  # sums in another order
    # Multiclass, one value per class.
    k = rng.integers(0, 3, 5000).astype(np.float64)
    _, init3 = initial_score(FocalLoss(1.0, None), da.from_array(k, chunks=1000))
    np.testing.assert_allclose(init3, FocalLoss(1.0, None).init_score(k), atol=1e-10)


@pytest.mark.parametrize("alpha", [0.25, "balanced"])
def test_initial_score_gives_focal_loss_s_own_numbers(client, alpha):
    from focal_boost.dask import initial_score

    rng = np.random.default_rng(2)
    y = (rng.uniform(size=3000) < 0.1).astype(np.float64)
    w = rng.uniform(0.1, 5.0, 3000)
    dy, dw = da.from_array(y, chunks=800), da.from_array(w, chunks=800)
    loss = FocalLoss(2.0, alpha)
    resolved, init = initial_score(loss, dy, dw)
    assert init == pytest.approx(loss.init_score(y, w), rel=1e-12)
    assert isinstance(init, float)
    assert resolved.alpha == pytest.approx(loss.resolved(y, w).alpha, rel=1e-12)
    k = rng.integers(0, 3, 3000).astype(np.float64)
    np.testing.assert_allclose(
        initial_score(FocalLoss(1.0, None), da.from_array(k, chunks=800), n_classes=3)[1],
        FocalLoss(1.0, None).init_score(k, n_classes=3),
        atol=1e-10,
    )


@pytest.mark.parametrize(
    ("labels", "message"),
    [([0.0, np.nan, 1.0], "NaN"), ([0.0, 0.5, 1.0], "class indices"), ([0.0, -1.0, 1.0], "class indices")],
)
def test_bad_labels_on_the_cluster(client, labels, message):
    from focal_boost.dask import class_totals

    with pytest.raises(ValueError, match=message):
        class_totals(da.from_array(np.array(labels * 10), chunks=10))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_xgboost_train_on_the_cluster_is_close_to_one_machine(client, n_classes):
    """Distributed hist: each worker sketches its own quantiles, so bin edges (and trees) differ a little."""
    from sklearn.datasets import make_classification

    from focal_boost.dask import xgboost_predict_proba, xgboost_train

    X, y = make_classification(
        6000,
        8,
        n_informative=5,
        n_classes=n_classes,
        weights=[0.8] + [0.2 / (n_classes - 1)] * (n_classes - 1),
        random_state=0,
    )
    y = y.astype(np.float64)
    dX, dy = da.from_array(X, chunks=(1500, 8)), da.from_array(y, chunks=1500)
    loss = FocalLoss(2.0, None)
    params = {"max_depth": 3, "eta": 0.3, "tree_method": "hist", "seed": 0}
    if n_classes > 2:
        params["num_class"] = n_classes
    result = xgboost_train(client, params, dX, dy, 20, loss=loss, eval_set=[(dX, dy)], verbose_eval=False)
    distributed = xgboost_predict_proba(client, result["booster"], dX)
    assert isinstance(distributed, da.Array)  # lazy
    distributed = distributed.compute()
    single = fx.train(params, xgb.DMatrix(X, label=y), 20, loss=loss)
    local = fx.predict_proba(single, X)
    assert distributed.shape == local.shape == (6000, n_classes)
    np.testing.assert_allclose(distributed.sum(axis=1), 1.0)
    # Same initial score; probabilities close (sketch differences), same decisions almost everywhere.
    assert fx.training_record(result["booster"]).init_score == pytest.approx(
        fx.training_record(single).init_score, rel=1e-9
    )
    assert np.mean(np.abs(distributed - local)) < 0.02
    assert np.mean(distributed.argmax(axis=1) == local.argmax(axis=1)) > 0.97
    # The recorded metric is the global loss of the distributed model, at full precision.
    margin = fx.predict_margin(result["booster"], X)
    curve = result["history"]["valid_0"]["focal_loss"]
    assert curve[-1] == pytest.approx(fx.FocalMetric(loss).score(y, margin), rel=1e-6)
    assert any(value != round(value, 6) for value in curve)


@pytest.mark.parametrize("metric", ["average_precision", "roc_auc", "log_loss"])
def test_xgboost_train_on_the_cluster_stops_on_a_metric_of_all_validation_rows(client, metric):
    """A ranking metric has no per-worker mean: the workers' rows are gathered before it is computed."""
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

    from focal_boost.dask import xgboost_train

    rng = np.random.default_rng(4)
    X = rng.normal(size=(5000, 4))
    y = (X[:, 0] + 0.7 * rng.normal(size=5000) > 1.6).astype(np.float64)
    w = rng.uniform(0.5, 2.0, 5000)
    # Unequal parts, 3,000 rows on one worker and 2,000 on the other.
    workers = sorted(client.scheduler_info()["workers"])
    parts = (slice(0, 3000), slice(3000, 5000))

    def spread(a):
        placed = zip(parts, workers, strict=True)
        return da.concatenate([client.persist(da.from_array(a[rows]), workers=[wk]) for rows, wk in placed])

    dX, dy, dw = spread(X), spread(y), spread(w)
    loss = FocalLoss(2.0, None)
    result = xgboost_train(
        client,
        {"max_depth": 3, "eta": 0.3, "tree_method": "hist", "seed": 0},
        dX,
        dy,
        12,
        loss=loss,
        sample_weight=dw,
        eval_set=[(dX, dy, dw, "valid")],
        early_stopping_rounds=4,
        early_stopping_metric=metric,
        verbose_eval=False,
    )
    booster = result["booster"]
    curve = result["history"]["valid"][metric]
    assert booster.best_iteration == int(np.argmin(curve) if metric == "log_loss" else np.argmax(curve))
    prob = fx.predict_proba(booster, X, iteration_range=(0, len(curve)))[:, 1]
    reference = {
        "average_precision": lambda: average_precision_score(y, prob, sample_weight=w),
        "roc_auc": lambda: roc_auc_score(y, prob, sample_weight=w),
        "log_loss": lambda: log_loss(y, np.column_stack([1 - prob, prob]), sample_weight=w),
    }[metric]()
    assert curve[-1] == pytest.approx(reference, rel=1e-5)  # float32 weights and margins on the workers
    # What one worker's rows alone would give is far from it.
    first = parts[0]
    alone = {
        "average_precision": lambda: average_precision_score(y[first], prob[first], sample_weight=w[first]),
        "roc_auc": lambda: roc_auc_score(y[first], prob[first], sample_weight=w[first]),
        "log_loss": lambda: log_loss(
            y[first], np.column_stack([1 - prob, prob])[first], sample_weight=w[first]
        ),
    }[metric]()
    assert abs(alone - reference) > 1e-3


# lightgbm.dask sets the thread count per worker and says so about the estimator's n_jobs default
# (its own warning, on a path that uses DaskLGBMClassifier directly).
@pytest.mark.filterwarnings("ignore:Parameter n_jobs will be ignored:UserWarning")
def test_lightgbm_dask_classifier_with_the_focal_objective(client):
    lgb = pytest.importorskip(
        "lightgbm", reason="LightGBM is not installed (pip install 'focal-boost[lightgbm]')"
    )
    import focal_boost.lightgbm as fl
    from focal_boost.dask import initial_score

    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 5))
    y = (X[:, 0] + rng.normal(size=4000) > 1.5).astype(np.float64)
    dX, dy = da.from_array(X, chunks=(1000, 5)), da.from_array(y, chunks=1000)
    loss, init = initial_score(FocalLoss(2.0, 0.25), dy)
    settings = {
        "objective": fl.SklearnFocalObjective(loss),
        "n_estimators": 20,
        "num_leaves": 7,
        "verbose": -1,
    }
    model = lgb.DaskLGBMClassifier(**settings).fit(dX, dy, init_score=da.full(4000, init, chunks=1000))
    margin = model.predict(dX, raw_score=True).compute() + init
    single = lgb.LGBMClassifier(**settings).fit(X, y, init_score=np.full(4000, init))
    local = single.predict(X, raw_score=True) + init
    # Each worker bins its own rows, so split thresholds differ slightly: close, not equal.
    assert np.mean(np.abs(margin - local)) < 0.05
    assert np.corrcoef(margin, local)[0, 1] > 0.99


def test_bad_labels_stop_before_training_with_a_clear_error(client):
    """A bad label in one partition: xgboost_train checks labels on the cluster before any worker trains.

    (Raised inside one worker's objective, the same error reaches the client
    only as often as the other worker's "connection closed" does not.)
    """
    from focal_boost.dask import xgboost_train

    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 5))
    y = (X[:, 0] > 1).astype(np.float64)
    y[3500] = 7.0
    dX, dy = da.from_array(X, chunks=(1000, 5)), da.from_array(y, chunks=1000)
    with pytest.raises(ValueError, match=r"labels go up to 7 .*num_class"):
        xgboost_train(client, {}, dX, dy, 2, loss=FocalLoss())
    with_nan = np.where(np.arange(4000) == 3500, np.nan, y)
    with pytest.raises(ValueError, match="y contains NaN"):
        xgboost_train(client, {}, dX, da.from_array(with_nan, chunks=1000), 2, loss=FocalLoss())
    w = np.where(np.arange(4000) == 10, -1.0, 1.0)
    good = da.from_array(np.clip(y, 0, 1), chunks=1000)
    with pytest.raises(ValueError, match="sample_weight must be finite, >= 0 and at most 1e300"):
        xgboost_train(client, {}, dX, good, 2, sample_weight=da.from_array(w, chunks=1000), loss=FocalLoss())


def _on_both_workers(client, values, rows=1000):
    """``values`` as a Dask array whose blocks of ``rows`` alternate between the two workers.

    XGBoost trains on the workers that hold data: left to the scheduler, a busy
    machine can put every block on one worker, and the run is then not distributed.
    """
    import dask

    workers = sorted(client.scheduler_info()["workers"])
    blocks = []
    for i, start in enumerate(range(0, values.shape[0], rows)):
        part = values[start : start + rows]
        future = client.scatter(part, workers=[workers[i % len(workers)]])
        blocks.append(da.from_delayed(dask.delayed(future), shape=part.shape, dtype=part.dtype))
    return da.concatenate(blocks)


def test_an_error_inside_one_worker_s_objective_reaches_the_client(client):
    """A bad label in one partition only: every worker raises the failing worker's message."""
    from xgboost import dask as dxgb

    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 5))
    y = (X[:, 0] > 1).astype(np.float64)
    y[3500] = 7.0  # in the last partition only
    dX, dy = _on_both_workers(client, X), _on_both_workers(client, y)
    for _ in range(3):  # not a race: the same clear error every time
        dtrain = dxgb.DaskDMatrix(client, dX, dy)
        with pytest.raises(ValueError, match=r"num_class.*\(in the focal objective on worker rank \d\)"):
            dxgb.train(
                client, {"disable_default_eval_metric": True}, dtrain, 2, obj=fx.FocalObjective(FocalLoss())
            )


def test_workers_load_the_kernels_from_numba_s_cache():
    """No recompilation storm: fresh worker processes load the kernels this process compiled."""
    from distributed import Client, LocalCluster
    from xgboost import dask as dxgb

    X = np.random.default_rng(0).normal(size=(2000, 3))
    y = (X[:, 0] > 0).astype(np.float64)
    loss = FocalLoss()
    # Compile (or load) here first, with the float32 labels and margins XGBoost hands over, through
    # the objective (which takes the float32 kernel): the machine code is then on disk for the new
    # processes below.
    fx.FocalObjective(loss).gradient_hessian(y.astype(np.float32), X[:, 0].astype(np.float32))

    def kernel_stats():
        from focal_boost._kernels import threads as _cpu

        dispatchers = [rows for rows, _ in _cpu._KERNELS.values()]  # the compiled row functions
        used = [d.stats for d in dispatchers if d.signatures]  # the kernels this worker ran
        hits = sum(sum(s.cache_hits.values()) for s in used)
        return len(used), hits, sum(sum(s.cache_misses.values()) for s in used)

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        dtrain = dxgb.DaskDMatrix(client, da.from_array(X, chunks=(1000, 3)), da.from_array(y, chunks=1000))
        dxgb.train(client, {"disable_default_eval_metric": True}, dtrain, 2, obj=fx.FocalObjective(loss))
        for used, hits, misses in client.run(kernel_stats).values():
            assert used > 0
            assert hits > 0
            assert misses == 0


@pytest.mark.parametrize("backend", ["xgboost", "lightgbm"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_dask_estimator_is_close_to_the_local_one(client, backend, n_classes):
    pytest.importorskip(backend)
    from sklearn.datasets import make_classification

    from focal_boost import FocalBoostClassifier
    from focal_boost.dask import DaskFocalBoostClassifier

    X, y = make_classification(
        4000,
        6,
        n_informative=4,
        n_classes=n_classes,
        weights=[0.8] + [0.2 / (n_classes - 1)] * (n_classes - 1),
        random_state=1,
    )
    labels = np.array(["low", "mid", "top"])[y]
    dX, dy = da.from_array(X, chunks=(1000, 6)), da.from_array(labels, chunks=1000)
    params = {"backend": backend, "gamma": 2.0, "n_estimators": 20, "max_depth": 3, "random_state": 0}
    model = DaskFocalBoostClassifier(**params)
    model.client = client
    model.fit(dX, dy)
    local = FocalBoostClassifier(**params, **LOCAL_ONE_MODEL).fit(X, labels)
    np.testing.assert_array_equal(model.classes_, local.classes_)
    assert model.init_score_ == pytest.approx(local.init_score_, rel=1e-9)
    proba = model.predict_proba(dX)
    assert isinstance(proba, da.Array)  # lazy
    proba = proba.compute()
    assert proba.shape == (4000, n_classes)
    assert np.mean(np.abs(proba - local.predict_proba(X))) < 0.03
    predicted = model.predict(dX).compute()
    assert np.mean(predicted == local.predict(X)) > 0.95
    assert model.score(dX, dy) > 0.8


def test_dask_estimator_early_stopping_and_errors(client):
    from focal_boost.dask import DaskFocalBoostClassifier

    rng = np.random.default_rng(2)
    X = rng.normal(size=(4000, 5))
    y = (X[:, 0] + rng.normal(size=4000) > 1.5).astype(int)
    dX, dy = da.from_array(X, chunks=(1000, 5)), da.from_array(y, chunks=1000)
    model = DaskFocalBoostClassifier(
        gamma=2.0, n_estimators=300, learning_rate=0.5, max_depth=6, early_stopping_rounds=5
    )
    model.client = client
    model.fit(dX[:3000], dy[:3000], eval_set=[(dX[3000:], dy[3000:])])
    curve = model.evals_result_["valid"]["log_loss"]
    assert len(curve) < 300
    assert model.best_iteration_ == int(np.argmin(curve)) + 1
    # Pickled without its client; predicts again once one is available (the default one here).
    import pickle

    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(dX).compute(), model.predict_proba(dX).compute())
    with pytest.raises(ValueError, match="needs an eval_set"):
        model.fit(dX, dy)
    with pytest.raises(ValueError, match="only one class"):
        DaskFocalBoostClassifier().fit(dX, da.zeros(4000, chunks=1000))
    with pytest.raises(TypeError, match="Dask array"):
        DaskFocalBoostClassifier().fit(X, y)
    with pytest.raises(ValueError, match="expecting 5 features"):
        model.predict_proba(dX[:, :4])


def test_dask_estimator_with_automatic_focusing(client):
    from focal_boost.dask import DaskFocalBoostClassifier

    rng = np.random.default_rng(5)
    X = rng.normal(size=(4000, 5))
    y = (X[:, 0] + rng.normal(size=4000) > 1.5).astype(int)
    dX, dy = da.from_array(X, chunks=(1000, 5)), da.from_array(y, chunks=1000)
    model = DaskFocalBoostClassifier(gamma="auto", n_estimators=200, learning_rate=0.5, max_depth=4)
    model.client = client
    model.fit(dX[:3000], dy[:3000], eval_set=[(dX[3000:], dy[3000:])])
    # Every candidate early-stopped on the eval_set and scored on it; the chosen one is the model.
    assert [row["gamma"] for row in model.focusing_["candidates"]] == [0.0, 0.5, 1.0, 2.0]
    assert model.loss_.gamma == model.focusing_["gamma"]
    assert model.members_[0]["validation_rows"] == 1000
    assert model.best_iteration_ < 200
    prob = model.predict_proba(dX)
    assert isinstance(prob, da.Array)  # lazy, as for any model
    np.testing.assert_allclose(prob.compute().sum(axis=1), 1.0)
    # Without an eval_set no hold-out is drawn on the cluster: nothing to compare on.
    with pytest.raises(ValueError, match="gamma='auto' compares focusings on validation data"):
        DaskFocalBoostClassifier(gamma="auto", n_estimators=5).fit(dX, dy)


def test_dask_estimator_with_sample_weights_matches_the_local_initial_score(client):
    from focal_boost import FocalBoostClassifier
    from focal_boost.dask import DaskFocalBoostClassifier

    rng = np.random.default_rng(3)
    X = rng.normal(size=(4000, 5))
    y = (X[:, 0] + rng.normal(size=4000) > 1.5).astype(int)
    w = np.where(y == 1, 5.0, 1.0) * rng.uniform(0.5, 1.5, 4000)
    chunks = ((2500, 1500),)
    dX = da.from_array(X, chunks=(chunks[0], 5))
    dy, dw = da.from_array(y, chunks=chunks), da.from_array(w, chunks=chunks)
    params = {"gamma": 2.0, "alpha": "balanced", "n_estimators": 20, "max_depth": 3, "colsample_bytree": 1.0}
    model = DaskFocalBoostClassifier(**params)
    model.client = client
    model.fit(dX, dy, sample_weight=dw)
    local = FocalBoostClassifier(**params, **LOCAL_ONE_MODEL).fit(X, y, sample_weight=w)
    # Balanced classes: the initial score is 0 up to rounding (the cluster sums float32 weights).
    assert model.init_score_ == pytest.approx(local.init_score_, abs=1e-6)
    np.testing.assert_allclose(model.loss_.alpha, local.loss_.alpha, rtol=1e-6)
    unweighted = FocalBoostClassifier(**params, **LOCAL_ONE_MODEL).fit(X, y)
    proba = model.predict_proba(dX).compute()[:, 1]
    # The weights count: closer to the weighted local model than to the unweighted one.
    assert np.mean(np.abs(proba - local.predict_proba(X)[:, 1])) < 0.5 * np.mean(
        np.abs(proba - unweighted.predict_proba(X)[:, 1])
    )


def test_dask_xgb_classifier_with_the_focal_objective(client):
    """The scikit-learn-style DaskXGBClassifier takes our objective and metric, as XGBClassifier does."""
    from scipy.special import expit
    from xgboost import dask as dxgb

    from focal_boost.dask import initial_score, xgboost_train

    rng = np.random.default_rng(4)
    X = rng.normal(size=(4000, 5))
    y = (X[:, 0] + rng.normal(size=4000) > 1.5).astype(np.float64)
    # Blocks pinned to workers: both fits below see the same partitions on the same workers (left to
    # the scheduler, a busy machine can place them differently, and the quantile sketches differ).
    dX, dy = _on_both_workers(client, X), _on_both_workers(client, y)
    loss, init = initial_score(FocalLoss(2.0, 0.25), dy)
    model = dxgb.DaskXGBClassifier(
        objective=fx.SklearnFocalObjective(loss),
        eval_metric=fx.SklearnFocalMetric(loss),
        base_score=float(expit(init)),  # XGBClassifier reads base_score as a probability
        n_estimators=15,
        max_depth=3,
        learning_rate=0.3,
        tree_method="hist",
    )
    model.client = client
    model.fit(dX, dy, eval_set=[(dX, dy)], verbose=False)
    margin = model.predict(dX, output_margin=True).compute()
    # The same model as focal_boost.dask.xgboost_train on the same partitions.
    params = {"max_depth": 3, "eta": 0.3, "tree_method": "hist"}
    reference = xgboost_train(client, params, dX, dy, 15, loss=FocalLoss(2.0, 0.25))
    np.testing.assert_allclose(margin, fx.predict_margin(reference["booster"], X), atol=1e-5)
    # Its metric history is the global focal loss (six decimals, as XGBoost records custom metrics).
    recorded = model.evals_result()["validation_0"]["focal_loss"][-1]
    assert recorded == pytest.approx(fx.FocalMetric(loss).score(y, margin), abs=1e-6)


@pytest.mark.parametrize("backend", ["xgboost", "lightgbm"])
def test_dask_estimator_on_dask_dataframes(client, backend):
    pytest.importorskip(backend)
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from focal_boost import FocalBoostClassifier
    from focal_boost.dask import DaskFocalBoostClassifier

    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(size=(4000, 3)), columns=["amount", "hour", "distance"])
    frame["label"] = np.where(frame["amount"] + rng.normal(size=4000) > 1.5, "fraud", "ok")
    data = dd.from_pandas(frame, npartitions=4)
    features = ["amount", "hour", "distance"]
    model = DaskFocalBoostClassifier(backend=backend, n_estimators=15, max_depth=3, random_state=0)
    model.client = client
    model.fit(data[features], data["label"])
    np.testing.assert_array_equal(model.feature_names_in_, features)
    proba = model.predict_proba(data[features])
    assert isinstance(proba, da.Array)
    local = FocalBoostClassifier(
        backend=backend, n_estimators=15, max_depth=3, random_state=0, **LOCAL_ONE_MODEL
    )
    local.fit(frame[features], frame["label"])
    assert np.mean(np.abs(proba.compute() - local.predict_proba(frame[features]))) < 0.03
    assert set(model.predict(data[features]).compute()) <= {"fraud", "ok"}


@pytest.mark.parametrize("backend", ["xgboost", "lightgbm"])
def test_dask_estimator_with_empty_partitions(client, backend):
    """A partition left empty by a filter: training and prediction both work, results unchanged."""
    pytest.importorskip(backend)
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from focal_boost.dask import DaskFocalBoostClassifier

    rng = np.random.default_rng(6)
    frame = pd.DataFrame(rng.normal(size=(3000, 3)), columns=["a", "b", "c"])
    frame["label"] = (frame["a"] + rng.normal(size=3000) > 1.2).astype(int)
    data = dd.from_pandas(frame, npartitions=3)
    parts = data.partitions
    # The first partition is empty after the filter: on two workers, one of them may hold nothing.
    holey = dd.concat([parts[0][parts[0]["a"] > 100], parts[1], parts[2]])
    assert holey.map_partitions(len).compute().tolist() == [0, 1000, 1000]
    features = ["a", "b", "c"]
    params = {"backend": backend, "n_estimators": 10, "max_depth": 3, "random_state": 0}
    model = DaskFocalBoostClassifier(**params)
    model.client = client
    model.fit(holey[features], holey["label"])
    dense = dd.concat([parts[1], parts[2]])
    reference = DaskFocalBoostClassifier(**params)
    reference.client = client
    reference.fit(dense[features], dense["label"])
    expected = model.predict_proba(dense[features]).compute()
    # Distributed training depends on which worker holds which rows, so the two models are close.
    assert np.mean(np.abs(reference.predict_proba(dense[features]).compute() - expected)) < 0.02
    # Prediction on a collection with empty partitions, and on an empty one.
    np.testing.assert_array_equal(model.predict_proba(holey[features]).compute(), expected)
    assert model.predict_proba(holey[features][holey["a"] > 100]).compute().shape == (0, 2)
    assert model.predict(holey[features]).compute().shape == (2000,)


def test_dask_lengths_and_chunks_are_checked_and_aligned(client):
    from focal_boost.dask import DaskFocalBoostClassifier, xgboost_predict_margin, xgboost_train

    rng = np.random.default_rng(7)
    X = rng.normal(size=(3000, 4))
    y = (X[:, 0] + rng.normal(size=3000) > 1.2).astype(np.float64)
    dX = da.from_array(X, chunks=(1000, 4))
    model = DaskFocalBoostClassifier(n_estimators=5, random_state=0)
    model.client = client
    with pytest.raises(ValueError, match="X has 3000 rows but y has 2000 labels"):
        model.fit(dX, da.from_array(y[:2000], chunks=1000))
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(3000,\)"):
        model.fit(dX, da.from_array(y, chunks=1000), sample_weight=da.ones(10, chunks=5))
    with pytest.raises(ValueError, match="eval_set: X has 1000 rows but eval_set: y has 999 labels"):
        DaskFocalBoostClassifier(n_estimators=5, early_stopping_rounds=2).fit(
            dX, da.from_array(y, chunks=1000), eval_set=[(dX[:1000], da.from_array(y[:999], chunks=500))]
        )
    with pytest.raises(ValueError, match="X has 3000 rows but y has 2999 labels"):
        xgboost_train(client, {}, dX, da.from_array(y[:2999], chunks=1000), 2, loss=FocalLoss())
    with pytest.warns(UserWarning, match="hold only class 0"):
        DaskFocalBoostClassifier(n_estimators=3, early_stopping_rounds=2).fit(
            dX, da.from_array(y, chunks=1000), eval_set=[(dX[:1000], da.zeros(1000, chunks=500))]
        )
    # Labels chunked differently from the features are rechunked to them (XGBoost asserted before).
    aligned = model.fit(dX, da.from_array(y, chunks=1000)).predict_proba(dX).compute()
    rechunked = model.fit(dX, da.from_array(y, chunks=700)).predict_proba(dX).compute()
    assert np.mean(np.abs(rechunked - aligned)) < 0.01  # up to where the workers' rows fall
    # xgboost_predict_margin stops at the best round after early stopping, as predict_margin does.
    dy = da.from_array(y, chunks=1000)
    result = xgboost_train(
        client,
        {"max_depth": 6, "eta": 0.8},
        dX[:2000],
        dy[:2000],
        200,
        eval_set=[(dX[2000:], dy[2000:])],
        early_stopping_rounds=3,
        verbose_eval=False,
        loss=FocalLoss(),
    )
    booster = result["booster"]
    assert booster.num_boosted_rounds() == booster.best_iteration + 4
    best = (0, booster.best_iteration + 1)
    np.testing.assert_array_equal(
        xgboost_predict_margin(client, booster, dX).compute(),
        xgboost_predict_margin(client, booster, dX, iteration_range=best).compute(),
    )
    np.testing.assert_allclose(
        xgboost_predict_margin(client, booster, dX).compute(), fx.predict_margin(booster, X), rtol=1e-6
    )


@pytest.mark.parametrize("backend", ["xgboost", "lightgbm"])
def test_a_model_fitted_on_the_cluster_saves_and_loads_as_a_local_estimator(client, backend, tmp_path):
    pytest.importorskip(backend)
    from sklearn.datasets import make_classification

    from focal_boost import FocalBoostClassifier, load_model
    from focal_boost.dask import DaskFocalBoostClassifier

    X, y = make_classification(2000, 5, weights=[0.85], random_state=2)
    dX, dy = da.from_array(X, chunks=(500, 5)), da.from_array(y, chunks=500)
    model = DaskFocalBoostClassifier(backend=backend, gamma=2.0, n_estimators=15, random_state=0)
    model.client = client
    model.fit(dX, dy)
    model.save_model(tmp_path / "cluster.zip")
    loaded = load_model(tmp_path / "cluster.zip")
    assert type(loaded) is FocalBoostClassifier
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(dX).compute())
    # Explained locally, on in-memory rows; a Dask collection is refused with what to do.
    explained = model.explain(X[:200], space="probability")
    np.testing.assert_allclose(explained.output, model.predict_proba(dX).compute()[:200, 1], atol=1e-5)
    with pytest.raises(TypeError, match=r"compute the rows to explain first \(X.compute\(\)\)"):
        model.explain(dX)
