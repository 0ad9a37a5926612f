"""export_booster: plain XGBoost and LightGBM predict the focal model's margin; the posterior formula."""

from __future__ import annotations

import importlib.util
import json
import pathlib
import sys

import numpy as np
import pytest

from focal_boost import FocalBoostClassifier

INSTALLED = [name for name in ("xgboost", "lightgbm") if importlib.util.find_spec(name) is not None]
BACKENDS = [
    pytest.param(name, marks=pytest.mark.skipif(name not in INSTALLED, reason=f"{name} is not installed"))
    for name in ("xgboost", "lightgbm")
]
pd = pytest.importorskip("pandas")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "examples"))
from plain_booster import focal_posterior  # noqa: E402 - the function docs/deploy.md shows


def _data(n_classes: int, rows: int = 900, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 4))
    shop = rng.choice(["grocery", "travel", "online"], size=rows)
    score = X[:, 0] + 1.2 * (shop == "online")
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "d": X[:, 3], "shop": shop})
    if n_classes == 2:
        y = (score + rng.normal(size=rows) > 1.8).astype(int)
    else:
        y = np.digitize(score + rng.normal(size=rows), [0.3, 1.5])
    return frame, y


def _plain_margin(backend: str, path: pathlib.Path, X):
    """The exported booster's raw margin and plain prediction, by the booster alone."""
    if backend == "xgboost":
        import xgboost as xgb

        booster = xgb.Booster(model_file=str(path))
        data = xgb.DMatrix(X, enable_categorical=True)
        return booster.predict(data, output_margin=True), booster.predict(data), booster
    import lightgbm as lgb

    booster = lgb.Booster(model_file=str(path))
    return booster.predict(X, raw_score=True), booster.predict(X), booster


def _coded(model: FocalBoostClassifier, X):
    """``X`` with its text column as a categorical of the training levels, as a plain booster needs it."""
    X = X.copy()
    X["shop"] = pd.Categorical(X["shop"], categories=model._category_levels.levels["shop"])
    return X


def _per_class(value, n_classes: int) -> list[float]:
    if value is None:
        return [1.0] * n_classes
    if np.ndim(value) == 0:
        return [1.0 - float(value), float(value)] if n_classes == 2 else [float(value)] * n_classes
    return [float(v) for v in value]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("setting", ["defaults", "early stopped on an eval_set"])
def test_plain_booster_gives_the_models_margin(backend, n_classes, setting, tmp_path):
    X, y = _data(n_classes)
    params = {"backend": backend, "gamma": [1.0, 3.0] if n_classes == 2 else 2.0, "random_state": 0}
    if n_classes == 2:
        params["alpha"] = 0.3
    fit = {}
    if setting != "defaults":
        params.update(n_estimators=400, learning_rate=0.3, early_stopping_rounds=5)
        fit["eval_set"] = [(X.iloc[700:], y[700:])]
    model = FocalBoostClassifier(**params).fit(X.iloc[:700], y[:700], **fit)
    suffixes = [".json", ".ubj"] if backend == "xgboost" else [".txt"]
    for suffix in suffixes:
        path = tmp_path / f"plain{suffix}"
        model.export_booster(path)
        margin, predicted, _booster = _plain_margin(backend, path, _coded(model, X))
        expected = model.decision_function(X)
        assert margin.shape == expected.shape
        assert np.max(np.abs(margin - expected)) <= 1e-5
        raw_proba = model.set_params(probability="raw").predict_proba(X)
        model.set_params(probability="posterior")
        plain_proba = predicted if n_classes > 2 else np.column_stack([1 - predicted, predicted])
        assert np.max(np.abs(plain_proba - raw_proba)) <= 1e-6  # the booster's own link: raw probabilities
    loss = model.loss_
    gamma, alpha = _per_class(loss.gamma, n_classes), _per_class(loss.alpha, n_classes)
    rows = [float(m) for m in margin] if n_classes == 2 else [list(map(float, m)) for m in margin]
    served = np.array([focal_posterior(row, gamma, alpha) for row in rows])
    assert np.max(np.abs(served - model.predict_proba(X))) <= 1e-5


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_plain_booster_names_the_loss_and_has_no_record(backend, tmp_path):
    X, y = _data(2)
    model = FocalBoostClassifier(backend=backend, gamma=2.0, alpha=0.25, random_state=0).fit(X, y)
    path = tmp_path / ("m.json" if backend == "xgboost" else "m.txt")
    model.export_booster(path)
    if backend == "xgboost":
        import xgboost as xgb

        import focal_boost.xgboost as fx

        booster = xgb.Booster(model_file=str(path))
        note = json.loads(booster.attr("focal_boost_export"))
        config = json.loads(booster.save_config())
        assert config["learner"]["objective"]["name"] == "binary:logistic"
        assert booster.num_boosted_rounds() == model.best_iteration_  # later rounds dropped
        with pytest.raises(ValueError, match="no 'focal_boost' attribute"):
            fx.predict_proba(booster, xgb.DMatrix(_coded(model, X), enable_categorical=True))
    else:
        import lightgbm as lgb

        text = path.read_text()
        note = json.loads(
            next(x for x in text.splitlines() if x.startswith("focal_boost_export:")).split(":", 1)[1]
        )
        assert "objective=binary sigmoid:1" in text.splitlines()
        assert lgb.Booster(model_file=str(path)).current_iteration() == model.best_iteration_
        assert "\nfocal_boost:" not in text
    assert note["gamma"] == 2.0
    assert note["alpha"] == 0.25
    np.testing.assert_allclose(note["init_score_in_first_trees"], model.init_score_)


@pytest.mark.skipif("xgboost" not in INSTALLED, reason="xgboost is not installed")
def test_export_errors(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        FocalBoostClassifier().export_booster(tmp_path / "m.json")
    X, y = _data(2, rows=300)
    model = FocalBoostClassifier(n_estimators=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"saved as .json \(JSON\) or .ubj \(UBJSON\), not '.bin'"):
        model.export_booster(tmp_path / "m.bin")
    assert list(tmp_path.iterdir()) == []
