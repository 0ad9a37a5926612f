"""FocalBoostClassifier.explain: exact contributions adding up to the model's own outputs, in every space."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import scipy.sparse

import focal_boost.explain as explain_module
from focal_boost import FocalBoostClassifier

pd = pytest.importorskip("pandas")
BACKENDS = [
    pytest.param(
        name, marks=pytest.mark.skipif(importlib.util.find_spec(name) is None, reason=f"{name} missing")
    )
    for name in ("xgboost", "lightgbm")
]
#: XGBoost sums float32 contributions; LightGBM doubles.
TOLERANCE = 1e-5


def _frame(n_classes: int, rows: int = 700, seed: int = 0):
    """Numbers with missing values, a text column and a categorical with a declared extra level."""
    rng = np.random.default_rng(seed)
    shop = rng.choice(["grocery", "travel", "online"], rows).astype(object)
    shop[rng.random(rows) < 0.1] = None
    X = pd.DataFrame(
        {
            "amount": rng.normal(size=rows),
            "shop": shop,
            "hour": rng.normal(size=rows),
            "colour": pd.Categorical(rng.choice(["red", "blue"], rows), categories=["red", "blue", "green"]),
        }
    )
    X.loc[rng.random(rows) < 0.1, "amount"] = np.nan
    score = (
        X["amount"].fillna(0) + (X["shop"] == "online") + 0.5 * (X["colour"] == "red") + rng.normal(size=rows)
    )
    return X, np.digitize(score, [1.0, 1.8][: n_classes - 1])


def _model(backend, X, y, **settings):
    params = {"n_estimators": 200, "early_stopping_rounds": 5, "random_state": 0, "n_jobs": 1, **settings}
    return FocalBoostClassifier(backend=backend, **params).fit(X, y)


def _positive_log_odds(proba: np.ndarray) -> np.ndarray:
    return np.log(proba[:, 1]) - np.log(proba[:, 0])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("n_classes", "settings"),
    [
        (2, {"gamma": [1.0, 3.0], "alpha": 0.25}),
        (2, {}),  # the default: gamma="auto", two members averaged into one booster
        (2, {"gamma": 2.0, "probability": "raw"}),
        (3, {"gamma": [0.5, 2.0, 1.0], "alpha": [0.2, 0.5, 0.3]}),
        (3, {}),
    ],
)
def test_every_space_adds_up_to_the_models_output(backend, n_classes, settings):
    X, y = _frame(n_classes)
    model = _model(backend, X, y, **settings)
    assert model.best_iteration_ < 200  # early-stopped: the later rounds must not count
    rows = X.iloc[:300]
    margin = model.explain(rows)
    shape = (300, 4) if n_classes == 2 else (300, 4, n_classes)
    assert margin.values.shape == shape
    assert margin.feature_names == ["amount", "shop", "hour", "colour"]
    assert (
        np.max(np.abs(margin.values.sum(axis=1) + margin.base_values - model.decision_function(rows)))
        < TOLERANCE
    )
    proba = model.predict_proba(rows)
    probability = model.explain(rows, space="probability")
    expected = proba[:, 1] if n_classes == 2 else proba
    assert probability.values.shape == shape
    assert np.max(np.abs(probability.output - expected)) < TOLERANCE
    assert probability.output_names == (list(model.classes_)[1:] if n_classes == 2 else list(model.classes_))
    if n_classes == 2:
        log_odds = model.explain(rows, space="log_odds")
        assert np.max(np.abs(log_odds.output - _positive_log_odds(proba))) < 10 * TOLERANCE
        # The rescale rule keeps each row's signs and ranking of the margin values.
        assert np.all(np.sign(probability.values) == np.sign(margin.values))
        assert np.all(np.sign(log_odds.values) == np.sign(margin.values))
    # The base value is the output at the base margin, the same for every row.
    assert np.all(np.ptp(probability.base_values, axis=0) < 1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_base_value_holds_the_initial_score(backend):
    """On data where no split helps, every contribution is 0 and the base value is the whole margin."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (rng.random(400) < 0.2).astype(int)
    model = _model(backend, X, y, gamma=2.0, n_estimators=1, early_stopping_rounds=None, min_child_weight=1e6)
    explained = model.explain(X)
    np.testing.assert_allclose(explained.values, 0.0, atol=1e-7)
    np.testing.assert_allclose(explained.base_values, model.decision_function(X), atol=1e-6)
    np.testing.assert_allclose(explained.base_values, model.init_score_, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_arrays_and_sparse_matrices(backend, n_classes):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 6))
    X[rng.random(X.shape) < 0.5] = 0.0
    y = np.digitize(X[:, 0] + X[:, 1] + rng.normal(size=500), [0.5, 1.2][: n_classes - 1])
    model = _model(backend, X, y, gamma=2.0)
    dense = model.explain(X)
    assert dense.feature_names == [f"x{i}" for i in range(6)]
    np.testing.assert_allclose(dense.output, model.decision_function(X), atol=TOLERANCE)
    for sparse in (scipy.sparse.csr_matrix(X), scipy.sparse.csc_matrix(X)):
        explained = model.explain(sparse)
        np.testing.assert_allclose(explained.output, model.decision_function(sparse), atol=TOLERANCE)
        if backend == "lightgbm":  # XGBoost reads a sparse matrix's absent entries as missing, not 0
            np.testing.assert_allclose(explained.values, dense.values, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_category_and_text_columns_are_explained_as_the_model_saw_them(backend):
    X, y = _frame(2)
    model = _model(backend, X, y, gamma=2.0)
    rows = X.iloc[:50].copy()
    rows.loc[rows.index[:3], "shop"] = "pharmacy"  # unseen: scored as missing, explained as missing
    missing = rows.copy()
    missing.loc[missing.index[:3], "shop"] = None
    np.testing.assert_array_equal(model.explain(rows).values[:3], model.explain(missing).values[:3])
    explained = model.explain(rows)
    assert np.isnan(explained.data[0, 1])  # the code the model scored: missing
    assert explained.display_data[0, 1] == "pharmacy"  # the value as given
    # Online shoppers' "shop" pushes towards the positive class, as the data were made.
    online = (rows["shop"] == "online").to_numpy()
    assert explained.values[online, 1].mean() > explained.values[~online, 1].mean()


def test_the_multiclass_path_integral_has_converged(monkeypatch):
    """Twice the quadrature nodes change the probability contributions by less than 1e-9."""
    pytest.importorskip("lightgbm")
    X, y = _frame(3)
    model = _model("lightgbm", X, y, gamma=[0.5, 3.0, 1.0], alpha=[0.2, 0.5, 0.3])
    coarse = model.explain(X.iloc[:200], space="probability").values
    monkeypatch.setattr(explain_module, "_NODES", 64)
    fine = model.explain(X.iloc[:200], space="probability").values
    assert np.max(np.abs(coarse - fine)) < 1e-9
    monkeypatch.setattr(explain_module, "_NODES", 32)
    monkeypatch.setattr(explain_module, "_BLOCK_ENTRIES", 1)  # blocks of 16 rows: the same values
    np.testing.assert_array_equal(model.explain(X.iloc[:200], space="probability").values, coarse)


def test_a_feature_the_model_never_splits_on_gets_nothing():
    pytest.importorskip("lightgbm")
    X, y = _frame(3)
    X = X.assign(noise=0.0)  # constant: no split
    model = _model("lightgbm", X, y, gamma=2.0)
    for space in ("margin", "probability"):
        np.testing.assert_array_equal(model.explain(X.iloc[:100], space=space).values[:, 4, :], 0.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_errors_come_before_the_booster(backend):
    X, y = _frame(3)
    model = _model(backend, X, y, gamma=2.0, n_estimators=5)
    with pytest.raises(ValueError, match="space must be one of 'margin', 'log_odds', 'probability'"):
        model.explain(X, space="proba")
    with pytest.raises(ValueError, match="multiclass model has no single one"):
        model.explain(X, space="log_odds")
    with pytest.raises(TypeError, match="pass a DataFrame with the same columns"):
        model.explain(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="not fitted yet"):
        FocalBoostClassifier().explain(X)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_shap_agrees_on_the_exported_booster_and_plots(backend, n_classes, tmp_path):
    shap = pytest.importorskip("shap")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(2)
    X = rng.normal(size=(500, 5))
    y = np.digitize(X[:, 0] - X[:, 2] + rng.normal(size=500), [0.3, 1.2][: n_classes - 1])
    model = _model(backend, X, y, gamma=2.0, alpha=None)
    path = tmp_path / ("model.json" if backend == "xgboost" else "model.txt")
    model.export_booster(path)
    if backend == "xgboost":
        import xgboost as xgb

        booster = xgb.Booster(model_file=str(path))
    else:
        import lightgbm as lgb

        booster = lgb.Booster(model_file=str(path))
    theirs = shap.TreeExplainer(booster)(X[:100])
    ours = model.explain(X[:100])
    np.testing.assert_allclose(ours.values, theirs.values, atol=1e-6)
    np.testing.assert_allclose(ours.base_values, np.asarray(theirs.base_values), atol=1e-6)
    converted = model.explain(X[:100], space="probability").to_shap()
    assert isinstance(converted, shap.Explanation)
    one = converted if n_classes == 2 else converted[..., 1]
    shap.plots.beeswarm(one, show=False)
    shap.plots.waterfall(one[0], show=False)
    plt.close("all")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_loaded_model_explains_as_the_saved_one(backend, tmp_path):
    from focal_boost import load_model

    X, y = _frame(3)
    model = _model(backend, X, y, gamma=2.0)
    model.save_model(tmp_path / "model.zip")
    loaded = load_model(tmp_path / "model.zip")
    for space in ("margin", "probability"):
        np.testing.assert_array_equal(
            loaded.explain(X, space=space).values, model.explain(X, space=space).values
        )
