"""FocalBoostClassifier on the input users hand it: categorical and text columns, extreme values,
weights and labels, on both backends; each case either works as documented or fails with a clear
error before a booster sees it."""

from __future__ import annotations

import importlib.util
import io

import numpy as np
import pytest
from sklearn.datasets import make_classification

from focal_boost import FocalBoostClassifier

pd = pytest.importorskip("pandas")

INSTALLED = [name for name in ("xgboost", "lightgbm") if importlib.util.find_spec(name) is not None]
BACKENDS = [
    pytest.param(name, marks=pytest.mark.skipif(name not in INSTALLED, reason=f"{name} is not installed"))
    for name in ("xgboost", "lightgbm")
]


def _fit(backend, X, y, **kwargs):
    params = {"n_estimators": 30, "n_jobs": 1, "random_state": 0, **kwargs}
    return FocalBoostClassifier(backend=backend, **params).fit(X, y)


@pytest.fixture(scope="module")
def colours():
    """A frame whose label depends on a categorical column: red rows are mostly positive."""
    rng = np.random.default_rng(0)
    n = 900
    colour = rng.choice(["red", "green", "blue"], n)
    size = rng.normal(size=n)
    y = ((colour == "red") & (rng.random(n) < 0.9)).astype(int)
    return pd.DataFrame({"colour": pd.Categorical(colour), "size": size}), y


def _rows(colours, categories):
    """Rows with size 0 and the given colours, declared with ``categories``."""
    return pd.DataFrame(
        {"colour": pd.Categorical(colours, categories=categories), "size": np.zeros(len(colours))}
    )


# ----------------------------------------------------------------------- categorical and text columns


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_level_never_seen_in_training_is_scored_as_missing(backend, colours):
    X, y = colours
    model = _fit(backend, X, y)
    declared = ["black", "blue", "green", "red"]  # "black" sorts first: pandas would give it code 0
    proba = model.predict_proba(_rows(["black", None, "red", "blue"], declared))[:, 1]
    assert proba[0] == pytest.approx(proba[1], abs=1e-12), "unseen level must be scored as missing"
    assert proba[2] > 0.5 > proba[3]
    expected = model.predict_proba(_rows(["red", "blue", "green"], ["blue", "green", "red"]))
    # An extra declared level, and the levels in another order, change nothing.
    for categories in (
        ["blue", "green", "red", "unused"],
        ["red", "green", "blue"],
        ["zzz", "red", "blue", "green"],
    ):
        np.testing.assert_array_equal(
            model.predict_proba(_rows(["red", "blue", "green"], categories)), expected
        )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [object, "string"])
def test_text_columns_are_categoricals_with_the_training_levels(backend, colours, dtype):
    X, y = colours
    text = X.assign(colour=X["colour"].astype(str).astype(dtype))
    model = _fit(backend, text, y)
    categorical = _fit(backend, X, y)
    np.testing.assert_array_equal(model.predict_proba(text), categorical.predict_proba(X))
    rows = pd.DataFrame({"colour": pd.Series(["purple", None, "red"], dtype=dtype), "size": np.zeros(3)})
    proba = model.predict_proba(rows)[:, 1]
    assert proba[0] == pytest.approx(proba[1], abs=1e-12)
    assert proba[2] > 0.5


@pytest.mark.parametrize("backend", BACKENDS)
def test_what_read_csv_returns_fits_and_predicts(backend, colours):
    X, y = colours
    buffer = io.StringIO()
    X.assign(target=y).to_csv(buffer, index=False)
    buffer.seek(0)
    frame = pd.read_csv(buffer)
    model = _fit(backend, frame.drop(columns="target"), frame["target"])
    assert model.score(frame.drop(columns="target"), frame["target"]) > 0.9
    with pytest.raises(TypeError, match="fitted on a DataFrame with categorical or text columns"):
        model.predict(np.zeros((2, 2)))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_numeric_columns_next_to_categorical_ones_are_validated(backend, colours, value):
    X, y = colours
    bad = X.copy()
    bad.loc[5, "size"] = value
    with pytest.raises(ValueError, match="Input X contains infinity"):
        _fit(backend, bad, y)
    model = _fit(backend, X, y, n_estimators=3)
    with pytest.raises(ValueError, match="Input X contains infinity"):
        model.predict_proba(bad)
    with_nan = X.copy()
    with_nan.loc[5, "size"] = np.nan  # missing values stay allowed
    assert np.all(np.isfinite(_fit(backend, with_nan, y, n_estimators=3).predict_proba(with_nan)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_features_beyond_float32(backend):
    X, y = make_classification(300, 4, random_state=0)
    big = X.copy()
    big[7, 2] = 1e39
    if backend == "xgboost":  # XGBoost reads features as float32: 1e39 would be infinity
        with pytest.raises(
            ValueError, match=r"column 2 of X has a value of magnitude 1e\+39, beyond float32"
        ):
            _fit(backend, big, y, n_estimators=3)
        model = _fit(backend, X, y, n_estimators=3)
        with pytest.raises(ValueError, match="beyond float32"):
            model.predict(big)
        frame = pd.DataFrame(big, columns=list("abcd")).assign(e=pd.Categorical(["u", "v"] * 150))
        with pytest.raises(ValueError, match="column 'c' has a value of magnitude"):
            _fit(backend, frame, y, n_estimators=3)
    else:  # LightGBM bins float64 features as they are
        assert np.all(np.isfinite(_fit(backend, big, y, n_estimators=3).predict_proba(big)))


# ----------------------------------------------------------------------- validation data


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_automatic_hold_out_keeps_every_class(backend, monkeypatch):
    from focal_boost._backends import BACKENDS as registry

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = np.zeros(300, dtype=int)
    y[:3] = 1  # 3 positives: a plain 10% stratified split holds none of them
    seen = {}
    original = registry[backend].train

    def spy(self, settings, loss, train, valid, *args, **kwargs):
        seen["train"], seen["valid"] = train[1], valid[1]
        return original(self, settings, loss, train, valid, *args, **kwargs)

    monkeypatch.setattr(registry[backend], "train", spy)
    FocalBoostClassifier(backend=backend, n_estimators=5, early_stopping_rounds=2, random_state=0).fit(X, y)
    monkeypatch.undo()
    assert set(seen["valid"]) == {0.0, 1.0}
    assert set(seen["train"]) == {0.0, 1.0}
    assert len(seen["train"]) + len(seen["valid"]) == 300
    assert 25 <= len(seen["valid"]) <= 35
    # A class with one example cannot be on both sides: a clear error that points to eval_set.
    y[1:3] = 0
    with pytest.raises(ValueError, match=r"classes \[1\] have a single example.*pass eval_set"):
        FocalBoostClassifier(backend=backend, n_estimators=5, early_stopping_rounds=2).fit(X, y)
    # Without early stopping nothing is held out and one example of a class is fine.
    FocalBoostClassifier(backend=backend, n_estimators=2, n_jobs=1).fit(X, y)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_single_class_eval_set_warns(backend):
    X, y = make_classification(400, 4, random_state=0)
    model = FocalBoostClassifier(backend=backend, n_estimators=5, early_stopping_rounds=2, n_jobs=1)
    with pytest.warns(UserWarning, match="hold only class 0"):
        model.fit(X, y, eval_set=[(X[y == 0][:20], y[y == 0][:20])])
    with pytest.warns(UserWarning, match="hold only class 'b'"):
        model.fit(X, np.array(["a", "b"])[y], X_val=X[y == 1][:20], y_val=np.array(["b"] * 20))
