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
@pytest.mark.parametrize("n_classes", [2, 3])
def test_predicting_from_codes_gives_the_margins_of_the_categorical_frame(backend, n_classes):
    """The estimator hands a trained booster one float array, level columns as codes; the booster
    scores the frame of categoricals it was trained on (what it got before) bit for bit alike."""
    from focal_boost._estimator.data import validated_features

    rng = np.random.default_rng(n_classes)
    n = 1200
    shop = rng.choice(["grocery", "travel", "online", "fuel"], n).astype(object)
    shop[rng.random(n) < 0.1] = None
    colour = pd.Categorical(
        rng.choice(["red", "green", "blue"], n), categories=["red", "green", "blue", "unused"]
    )
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "shop": shop,
            "b": rng.normal(size=n).astype(np.float32),
            "colour": colour,
            "count": rng.integers(0, 9, n),
        }
    )
    X.loc[rng.random(n) < 0.1, "a"] = np.nan
    score = X["a"].fillna(0) + (X["shop"] == "online") - 0.8 * (X["colour"] == "red") + rng.normal(size=n)
    y = np.digitize(score, [0.8, 1.6][: n_classes - 1])
    model = _fit(backend, X, y, n_estimators=40)
    new = X.iloc[:300].copy()
    new.loc[new.index[:20], "shop"] = "pharmacy"  # unseen: missing
    frame = validated_features(model, new, reset=False)  # categoricals with the training levels
    assert isinstance(frame, pd.DataFrame)
    assert isinstance(frame["shop"].dtype, pd.CategoricalDtype)
    from_frame = model._backend(backend).margin(model._model, frame, 1)
    np.testing.assert_array_equal(model.decision_function(new), from_frame)
    one_row = [model.decision_function(new.iloc[[i]]) for i in range(20, 30)]  # seen levels: no warning
    np.testing.assert_array_equal(np.concatenate(one_row), from_frame[20:30])


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
        clean = frame.assign(c=X[:, 2])
        with pytest.raises(ValueError, match="column 2 of X has a value of magnitude 1e\\+39"):
            _fit(backend, clean, y, n_estimators=3).predict(frame)  # the third column, counted from 0
    else:  # LightGBM bins float64 features as they are
        assert np.all(np.isfinite(_fit(backend, big, y, n_estimators=3).predict_proba(big)))


# ----------------------------------------------------------------------- validation data


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.filterwarnings("ignore:early stopping kept only the first round")  # 1 positive held out
def test_the_automatic_hold_out_keeps_every_class(backend, monkeypatch):
    from focal_boost._estimator.backends import BACKENDS as REGISTRY

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = np.zeros(300, dtype=int)
    y[:3] = 1  # 3 positives: a plain 10% stratified split holds none of them
    seen = {}
    original = REGISTRY[backend].train

    def spy(self, settings, loss, train, valid, *args, **kwargs):
        seen["train"], seen["valid"] = train[1], valid[1]
        return original(self, settings, loss, train, valid, *args, **kwargs)

    monkeypatch.setattr(REGISTRY[backend], "train", spy)
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


# ----------------------------------------------------------------------- weights and labels


@pytest.fixture(scope="module")
def small():
    X, y = make_classification(300, 4, weights=[0.8], random_state=0)
    return X, y


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("weight", "message"),
    [
        (-1.0, r"sample_weight must be finite, >= 0 and at most 1e31: of its 300 values, 3 are negative"),
        (
            1e39,
            r"3 exceed 1e31 \(the largest is 1e\+39\), where weighted gradients could overflow the float32",
        ),
        (1e300, r"3 exceed 1e31 \(the largest is 1e\+300\)"),
        (1e-46, r"sample_weight has 3 positive weights below 1\.4e-45 \(the smallest is 1e-46\)"),
        (np.nan, "Input sample_weight contains NaN"),
    ],
)
def test_weights_the_boosters_cannot_store_are_rejected_before_training(backend, small, weight, message):
    X, y = small
    w = np.ones(len(y))
    w[:3] = weight
    model = FocalBoostClassifier(backend=backend, n_estimators=3, n_jobs=1)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, sample_weight=w)
    in_eval_set = "Input sample_weight contains NaN" if np.isnan(weight) else "the eval_set's sample_weight"
    with pytest.raises(ValueError, match=in_eval_set):
        model.fit(X, y, eval_set=[(X, y, w)])


@pytest.mark.parametrize("backend", BACKENDS)
def test_weights_that_leave_a_class_empty(backend, small):
    X, y = small
    w = np.where(y == 1, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"sample_weight is 0 for every example of class \[1\]"):
        FocalBoostClassifier(backend=backend, n_estimators=3).fit(X, y, sample_weight=w)
    tiny = np.full(len(y), 1e-46)  # all of them stored as 0 by float32
    with pytest.raises(ValueError, match=r"300 positive weights below 1\.4e-45"):
        FocalBoostClassifier(backend=backend, n_estimators=3).fit(X, y, sample_weight=tiny)
    with pytest.raises(
        ValueError, match=r"at least one non-zero number|eval_set's sample_weight is 0 everywhere"
    ):
        FocalBoostClassifier(backend=backend, n_estimators=3).fit(X, y, eval_set=[(X, y, np.zeros(len(y)))])


@pytest.mark.parametrize("backend", BACKENDS)
def test_labels_and_weights_of_unusual_types(backend, small):
    X, y = small
    labels = y.astype(object)
    labels[[4, 9]] = None
    with pytest.raises(ValueError, match=r"y contains 2 missing labels \(None or NaN\) of 300"):
        FocalBoostClassifier(backend=backend, n_estimators=3).fit(X, labels)
    labels = np.array(["no", "yes"], dtype=object)[y]
    labels[4] = float("nan")
    with pytest.raises(ValueError, match="y contains 1 missing labels"):
        FocalBoostClassifier(backend=backend, n_estimators=3).fit(X, labels)
    labels = pd.Series(np.array(["no", "yes"])[y], dtype="string")
    labels[4] = pd.NA
    with pytest.raises(ValueError, match=r"y contains 1 missing labels|Input y contains NaN"):
        FocalBoostClassifier(backend=backend, n_estimators=3).fit(X, labels)
    # float16 labels and weights train the model float64 ones do.
    reference = _fit(backend, X, y, n_estimators=5).predict_proba(X)
    half = FocalBoostClassifier(backend=backend, n_estimators=5, n_jobs=1, random_state=0)
    half.fit(X, y.astype(np.float16), sample_weight=np.ones(len(y), dtype=np.float16))
    np.testing.assert_allclose(half.predict_proba(X), reference, rtol=1e-12)
    with pytest.raises(TypeError, match="n_jobs must be an integer or None, got '2'"):
        FocalBoostClassifier(backend=backend, n_jobs="2").fit(X, y)


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_params_win_under_any_alias(backend, small):
    X, y = small
    fast = FocalBoostClassifier(backend=backend, n_estimators=5, n_jobs=1, random_state=0, learning_rate=0.7)
    reference = fast.fit(X, y).predict_proba(X)
    aliases = ["eta", "learning_rate"] + (["shrinkage_rate"] if backend == "lightgbm" else [])
    for alias in aliases:
        model = FocalBoostClassifier(
            backend=backend, n_estimators=5, n_jobs=1, random_state=0, backend_params={alias: 0.7}
        ).fit(X, y)
        np.testing.assert_allclose(model.predict_proba(X), reference, rtol=1e-12, err_msg=alias)
    reserved = ["objective", "num_class"] + (
        ["eval_metric", "base_score"] if backend == "xgboost" else ["loss", "metric", "num_iterations"]
    )
    for name in reserved:
        with pytest.raises(ValueError, match=f"backend_params cannot set '{name}'"):
            FocalBoostClassifier(backend=backend, n_estimators=2, backend_params={name: 1}).fit(X, y)
