"""Training a user can trust (issue 22): failed fits, unseen levels, tiny hold-outs, seeds."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError

from focal_boost import FocalBoostClassifier

INSTALLED = [name for name in ("xgboost", "lightgbm") if importlib.util.find_spec(name) is not None]
BACKENDS = [
    pytest.param(name, marks=pytest.mark.skipif(name not in INSTALLED, reason=f"{name} is not installed"))
    for name in ("xgboost", "lightgbm")
]


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(600, 8, n_informative=5, weights=[0.85], random_state=0)
    return X, y


@pytest.fixture(scope="module")
def three_classes():
    X, y = make_classification(600, 5, n_informative=3, n_redundant=1, n_classes=3, random_state=1)
    return X, np.array(["a", "b", "c"])[y]


class StopError(Exception):
    pass


def _raise_at(round_: int, error: BaseException):
    def progress(done: int, _total: int) -> None:
        if done >= round_:
            raise error

    return progress


FITTED = ("classes_", "n_classes_", "n_features_in_", "estimators_", "booster_", "focusing_", "members_")


def _fitted_state(model):
    return {name: model.__dict__[name] for name in FITTED if name in model.__dict__}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("gamma", [2.0, "auto"])
@pytest.mark.parametrize(
    "error", [StopError("from progress"), KeyboardInterrupt()], ids=["exception", "ctrl-c"]
)
def test_a_failed_refit_leaves_the_earlier_model(backend, gamma, error, binary, three_classes):
    """Refit on other data that fails midway: the earlier model, untouched, still predicts as before."""
    X, y = binary
    model = FocalBoostClassifier(backend=backend, gamma=gamma, n_estimators=20, n_jobs=1, random_state=0)
    model.fit(X, y)
    before = model.predict_proba(X)
    state = _fitted_state(model)
    X3, y3 = three_classes
    with pytest.raises(type(error)):
        model.fit(X3, y3, progress=_raise_at(3, error))
    assert model.n_features_in_ == 8
    assert model.classes_.tolist() == [0, 1]
    for name, value in state.items():
        assert model.__dict__[name] is value, name
    np.testing.assert_array_equal(model.predict_proba(X), before)
    with pytest.raises(ValueError, match="features"):
        model.predict(X3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failed_first_fit_leaves_the_estimator_unfitted(backend, binary, monkeypatch):
    from focal_boost._estimator import backends as _backends

    def broken(*args, **kwargs):
        raise RuntimeError("the booster failed")

    monkeypatch.setattr(_backends.BACKENDS[backend], "train", broken)
    X, y = binary
    model = FocalBoostClassifier(backend=backend, n_estimators=5)
    with pytest.raises(RuntimeError, match="the booster failed"):
        model.fit(X, y)
    assert not hasattr(model, "classes_")
    with pytest.raises(NotFittedError):
        model.predict(X)


@pytest.fixture(scope="module")
def with_text():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    n = 800
    frame = pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 50.0, n),
            "merchant": rng.choice(["grocery", "travel", "online", "fuel"], n),
        }
    )
    y = (rng.random(n) < np.where(frame["merchant"] == "online", 0.4, 0.05)).astype(int)
    return frame, y


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_level_column_given_as_codes_warns_naming_it(backend, with_text):
    """Integer codes for a text column: every value unseen, scored as missing; the user is told."""
    frame, y = with_text
    model = FocalBoostClassifier(backend=backend, gamma=2.0, n_estimators=20, n_jobs=1, random_state=0)
    model.fit(frame, y)
    coded = frame.assign(merchant=frame["merchant"].astype("category").cat.codes)
    with pytest.warns(UserWarning, match=r"column 'merchant': 100% of its 800 values .* never seen in fit"):
        proba = model.predict_proba(coded)
    assert proba.shape == (800, 2)
    mostly = frame.assign(merchant=np.where(np.arange(800) < 600, "unknown shop", frame["merchant"]))
    with pytest.warns(UserWarning, match=r"column 'merchant': 75% of its 800 values \(600\)"):
        model.predict(mostly)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_few_new_levels_do_not_warn(backend, with_text):
    frame, y = with_text
    model = FocalBoostClassifier(backend=backend, gamma=2.0, n_estimators=20, n_jobs=1, random_state=0)
    model.fit(frame, y)
    some = frame.assign(merchant=np.where(np.arange(800) < 100, "new shop", frame["merchant"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict_proba(some)
        model.predict_proba(frame.assign(merchant=None))  # all missing: nothing unseen


@pytest.mark.parametrize("backend", BACKENDS)
def test_early_stopping_at_round_one_on_two_positives_warns(backend):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] > 0.8).astype(int)
    X_val = rng.normal(size=(60, 3))
    X_val[:2, 0] = -2.0  # the two validation positives look like the surest negatives
    y_val = np.zeros(60, dtype=int)
    y_val[:2] = 1
    model = FocalBoostClassifier(
        backend=backend, n_estimators=50, learning_rate=0.3, n_jobs=1, random_state=0
    )
    expected = "early stopping kept only the first round: the validation data hold 2 examples of class 1"
    with pytest.warns(UserWarning, match=expected):
        model.fit(X, y, eval_set=[(X_val, y_val)])
    assert model.best_iteration_ == 1
    with warnings.catch_warnings():  # many positives: a first-round stop is the data's verdict, no warning
        warnings.simplefilter("error")
        y_many = (X_val[:, 0] < -0.5).astype(int)
        FocalBoostClassifier(backend=backend, n_estimators=50, n_jobs=1, random_state=0).fit(
            X, y, eval_set=[(X_val, y_many)]
        )
