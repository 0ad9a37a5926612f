"""focal_boost.onnx.to_onnx: the model's probabilities and labels in ONNX Runtime, without focal_boost."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from focal_boost import FocalBoostClassifier

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
from focal_boost.onnx import to_onnx  # noqa: E402 - after the skips

INSTALLED = [name for name in ("xgboost", "lightgbm") if importlib.util.find_spec(name) is not None]
BACKENDS = [
    pytest.param(name, marks=pytest.mark.skipif(name not in INSTALLED, reason=f"{name} is not installed"))
    for name in ("xgboost", "lightgbm")
]


def _data(n_classes: int, rows: int = 1500, seed: int = 0):
    """Features on a coarse grid (many values sit next to split thresholds), some missing; a rare class."""
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(rows, 6)), 1)
    X[rng.random(rows) < 0.08, 2] = np.nan
    score = X[:, 0] + 0.7 * np.nan_to_num(X[:, 2]) + rng.normal(size=rows)
    cuts = [1.8] if n_classes == 2 else [0.2, 1.6]
    return X, np.digitize(score, cuts)


def _run(model, X):
    session = ort.InferenceSession(to_onnx(model).SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(["label", "probabilities"], {"X": X.astype(np.float32)})


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("probability", ["posterior", "raw"])
def test_onnx_runtime_gives_the_models_probabilities(backend, n_classes, probability):
    X, y = _data(n_classes)
    params = {"backend": backend, "gamma": [0.5, 2.0] if n_classes == 2 else 2.0, "random_state": 0}
    if n_classes == 2:
        params["alpha"] = 0.3
    model = FocalBoostClassifier(**params, probability=probability).fit(X[:1200], y[:1200])
    label, probabilities = _run(model, X)
    expected = model.predict_proba(X.astype(np.float32))
    assert probabilities.shape == expected.shape
    assert np.max(np.abs(probabilities - expected)) <= 1e-5  # measured: about 5e-7
    assert np.array_equal(label, model.predict(X.astype(np.float32)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_early_stopped_model_with_text_labels(backend):
    X, y = _data(2, seed=1)
    labels = np.array(["ok", "fraud"], dtype=object)[y]
    model = FocalBoostClassifier(
        backend=backend, gamma=1.0, n_estimators=500, learning_rate=0.3, early_stopping_rounds=5
    )
    model.fit(X[:1000], labels[:1000], eval_set=[(X[1000:], labels[1000:])])
    assert model.best_iteration_ < 500
    label, probabilities = _run(model, X)
    assert np.max(np.abs(probabilities - model.predict_proba(X.astype(np.float32)))) <= 1e-5
    assert label.tolist() == model.predict(X.astype(np.float32)).tolist()


def test_what_onnx_cannot_express_is_refused_with_the_workaround():
    pd = pytest.importorskip("pandas")
    backend = INSTALLED[0] if INSTALLED else pytest.skip("no booster installed")
    X, y = _data(2, rows=400)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(6)])
    frame["shop"] = np.where(X[:, 1] > 0, "online", "store")
    model = FocalBoostClassifier(backend=backend, n_estimators=5, random_state=0).fit(frame, y)
    with pytest.raises(ValueError, match=r"no categorical splits.*'shop'.*OrdinalEncoder"):
        to_onnx(model)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        to_onnx(FocalBoostClassifier())


@pytest.mark.skipif("lightgbm" not in INSTALLED, reason="lightgbm is not installed")
def test_lightgbm_zero_as_missing_is_refused():
    X, y = _data(2, rows=400)
    model = FocalBoostClassifier(
        backend="lightgbm", n_estimators=5, random_state=0, backend_params={"zero_as_missing": True}
    ).fit(X, y)
    with pytest.raises(ValueError, match="zero_as_missing"):
        to_onnx(model)
