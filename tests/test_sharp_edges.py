"""The booster-level API's sharp edges: no silent default loss, the wrappers' raw probabilities announced,
warnings attributed to the user's line."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest

from focal_boost import FocalLoss, RawProbabilityWarning

xgb = pytest.importorskip("xgboost") if importlib.util.find_spec("xgboost") else None
lgb = pytest.importorskip("lightgbm") if importlib.util.find_spec("lightgbm") else None
needs_xgboost = pytest.mark.skipif(xgb is None, reason="xgboost is not installed")
needs_lightgbm = pytest.mark.skipif(lgb is None, reason="lightgbm is not installed")


def _binary(rows: int = 300):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 3))
    return X, (X[:, 0] + rng.normal(size=rows) > 1).astype(float)


@needs_xgboost
def test_xgboost_paths_have_no_default_loss():
    import focal_boost.xgboost as fx

    X, y = _binary()
    dtrain = xgb.DMatrix(X, label=y)
    for attempt in (
        lambda: fx.train({}, dtrain, 5),
        lambda: fx.train_on_device({}, X, y, 5),
        lambda: xgb.train({}, dtrain, 5, obj=fx.FocalObjective()),
        lambda: fx.FocalMetric(),
        lambda: fx.SklearnFocalObjective(),
    ):
        with pytest.raises(
            TypeError, match=r"has no default loss: pass one, e.g\. .*FocalLoss\(gamma=2\.0\)"
        ):
            attempt()
    with pytest.raises(TypeError, match=r"takes a FocalLoss instance, e\.g\. .*, not the class FocalLoss"):
        fx.train({}, dtrain, 5, loss=FocalLoss)
    with pytest.raises(TypeError, match="takes a FocalLoss instance"):
        fx.FocalObjective(FocalLoss)


@needs_lightgbm
def test_lightgbm_paths_have_no_default_loss():
    import focal_boost.lightgbm as fl

    X, y = _binary()
    for attempt in (
        lambda: fl.train({"verbose": -1}, lgb.Dataset(X, y), 5),
        lambda: lgb.train({"objective": fl.FocalObjective(), "verbose": -1}, lgb.Dataset(X, y), 5),
        lambda: fl.SklearnFocalObjective(),
    ):
        with pytest.raises(TypeError, match="has no default loss"):
            attempt()
    with pytest.raises(TypeError, match="not the class FocalLoss"):
        fl.train({"verbose": -1}, lgb.Dataset(X, y), 5, loss=FocalLoss)


@needs_xgboost
def test_the_xgboost_wrapper_objective_warns_that_predict_proba_is_raw():
    import focal_boost.xgboost as fx

    loss = FocalLoss(gamma=2.0, alpha=None)
    with pytest.warns(
        RawProbabilityWarning, match=r"XGBClassifier\.predict_proba .* returns the raw sigmoid"
    ):
        objective = fx.SklearnFocalObjective(loss)
    X, y = _binary(2000)
    model = xgb.XGBClassifier(n_estimators=30, objective=objective, base_score=0.2).fit(X, y)
    raw = model.predict_proba(X)[:, 1]
    posterior = loss.posterior_proba(model.predict(X, output_margin=True))[:, 1]
    # What the warning says: the wrapper's probabilities are the uncorrected ones, pulled towards 1/2.
    assert abs(posterior.mean() - y.mean()) < abs(raw.mean() - y.mean())


@needs_lightgbm
def test_the_lightgbm_wrapper_objective_warns_that_predict_proba_is_raw():
    import focal_boost.lightgbm as fl

    with pytest.warns(RawProbabilityWarning, match=r"LGBMClassifier\.predict_proba .* raw_score=True"):
        fl.SklearnFocalObjective(FocalLoss(gamma=2.0))


@needs_xgboost
def test_a_warning_points_at_the_callers_line():
    import focal_boost.xgboost as fx

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fx.SklearnFocalObjective(FocalLoss(gamma=2.0))
    assert [w.filename for w in caught] == [__file__]


def _categorical_frame(rows: int = 400):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(1)
    shop = rng.choice(["grocery", "online"], rows)
    X = pd.DataFrame({"amount": rng.normal(size=rows), "shop": pd.Categorical(shop)})
    return X, ((shop == "online") & (rng.random(rows) < 0.8)).astype(float)


@needs_xgboost
def test_the_readmes_raw_xgboost_example_works_on_a_categorical_frame():
    import focal_boost.xgboost as fx

    X, y = _categorical_frame()
    booster = fx.train(
        {"max_depth": 3}, xgb.DMatrix(X, label=y, enable_categorical=True), 20, loss=FocalLoss()
    )
    proba = fx.predict_proba(booster, X)
    online = (X["shop"] == "online").to_numpy()
    assert proba[online, 1].mean() > 0.5 > proba[~online, 1].mean()


@needs_lightgbm
def test_lightgbm_predictions_on_text_columns_say_what_to_do():
    import focal_boost.lightgbm as fl

    X, y = _categorical_frame()
    booster = fl.train({"verbose": -1}, lgb.Dataset(X, y), 20, loss=FocalLoss())
    assert fl.predict_proba(booster, X).shape == (len(X), 2)
    for text in (X.assign(shop=X["shop"].astype(object)), X.assign(shop=X["shop"].astype("string"))):
        with pytest.raises(ValueError, match=r"column 'shop' holds text: LightGBM reads pandas 'category'"):
            fl.predict_proba(booster, text)


@needs_lightgbm
def test_nan_labels_are_refused_before_lightgbm_replaces_them():
    """LightGBM turns NaN labels into 0 when it builds a Dataset: fl.train checks them before that."""
    import focal_boost.lightgbm as fl

    X, y = _binary()
    y[3] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        fl.train({"verbose": -1}, lgb.Dataset(X, y), 5, loss=FocalLoss())


@needs_lightgbm
@pytest.mark.parametrize(
    "setting", [{"min_child_weight": 0}, {"backend_params": {"min_sum_hessian_in_leaf": 0}}]
)
def test_lightgbm_settings_its_tree_learner_aborts_on_are_refused_first(setting):
    from sklearn.datasets import make_classification

    from focal_boost import FocalBoostClassifier

    X, y = make_classification(2000, 10, weights=[0.95], random_state=0)
    # Without the check: LightGBMError "Check failed: (best_split_info.left_count) > (0)" from C++.
    model = FocalBoostClassifier(backend="lightgbm", gamma=0.0, reg_lambda=0, learning_rate=1, **setting)
    with pytest.raises(ValueError, match="min_child_weight=0 lets LightGBM split off leaves without Hessian"):
        model.fit(X, y)
    FocalBoostClassifier(
        backend="lightgbm", gamma=0.0, reg_lambda=0, learning_rate=1, min_child_weight=1e-3
    ).fit(X, y)


@pytest.mark.parametrize(
    ("setting", "hint"),
    [
        ({"scale_pos_weight": 3.0}, "class weights are alpha here: alpha=0.75"),
        ({"class_weight": "balanced"}, "class weights are alpha here"),
        (
            {"colsample_bylevel": 0.5},
            r"a booster parameter .* goes in backend_params, e\.g\. FocalBoostClassifier",
        ),
    ],
)
def test_a_misspelt_or_foreign_parameter_says_where_it_goes(setting, hint):
    from sklearn.base import clone

    from focal_boost import FocalBoostClassifier

    name = next(iter(setting))
    with pytest.raises(TypeError, match=rf"got an unexpected keyword argument '{name}': {hint}"):
        FocalBoostClassifier(**setting)
    clone(FocalBoostClassifier(gamma=2.0, backend_params={name: setting[name]}))  # the way that works


@pytest.mark.parametrize(
    "backend", [pytest.param("xgboost", marks=needs_xgboost), pytest.param("lightgbm", marks=needs_lightgbm)]
)
def test_weights_scale_with_min_child_weight_and_reg_lambda_as_documented(backend):
    from sklearn.datasets import make_classification

    from focal_boost import FocalBoostClassifier

    X, y = make_classification(3000, 8, weights=[0.9], random_state=0)
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=3000)
    base = {"backend": backend, "gamma": 2.0, "random_state": 0, "n_jobs": 1}

    def proba(weight, scale):
        model = FocalBoostClassifier(min_child_weight=scale, reg_lambda=scale, **base)
        return model.fit(X, y, sample_weight=weight).predict_proba(X)[:, 1]

    reference = proba(w, 1.0)
    assert np.max(np.abs(proba(1000 * w, 1000.0) - reference)) < 1e-6  # scaled together: the same model
    assert np.max(np.abs(proba(1000 * w, 1.0) - reference)) > 0.1  # weights alone: another model


@needs_lightgbm
def test_the_estimator_leaks_no_lightgbm_deprecation_of_eval_set():
    """LightGBM 4.7 deprecates LGBMClassifier.fit(eval_set=...); the estimator trains with lightgbm.train."""
    from focal_boost import FocalBoostClassifier

    X, y = _binary(600)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        FocalBoostClassifier(backend="lightgbm", gamma=2.0, n_estimators=20).fit(
            X[:400], y[:400], eval_set=[(X[400:], y[400:])]
        )
    assert [str(w.message) for w in caught] == []
