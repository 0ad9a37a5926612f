"""The default's early stopping: members on disjoint hold-outs, averaged into one booster.

focal_boost._estimator.members (the hold-outs), focal_boost._boosters.averaging (one booster from
several) and the estimator's one early-stopping rule for every gamma.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from sklearn.datasets import make_classification

from focal_boost import FocalBoostClassifier, FocalLoss
from focal_boost._estimator import backends
from focal_boost._estimator.members import can_hold_out, draw_holdouts

INSTALLED = [name for name in ("xgboost", "lightgbm") if importlib.util.find_spec(name) is not None]
if not INSTALLED:
    pytest.skip("needs XGBoost or LightGBM (pip install 'focal-boost[xgboost]')", allow_module_level=True)
BACKENDS = [
    pytest.param(name, marks=pytest.mark.skipif(name not in INSTALLED, reason=f"{name} is not installed"))
    for name in ("xgboost", "lightgbm")
]
SETTINGS = {"n_estimators": 200, "learning_rate": 0.2, "max_depth": 3, "n_jobs": 1, "random_state": 0}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(2500, 8, n_informative=4, weights=[0.9], flip_y=0.03, random_state=3)
    return X[:2000], y[:2000], X[2000:], y[2000:]


# ------------------------------------------------------------------ hold-outs


def test_holdouts_are_disjoint_stratified_and_leave_every_class_to_train_on():
    rng = np.random.default_rng(0)
    codes = (rng.random(1000) < 0.05).astype(float)
    holdouts = draw_holdouts(codes, 0.1, 2, np.random.RandomState(0), np.array([0, 1]))
    assert len(holdouts) == 2
    assert not np.intersect1d(holdouts[0], holdouts[1]).size
    positives = int(codes.sum())
    for rows in holdouts:
        assert np.all(np.diff(rows) > 0)
        assert abs(rows.shape[0] - 100) <= 2
        assert codes[rows].sum() == round(0.1 * positives)  # stratified


def test_a_class_of_two_rows_lands_once_in_each_holdout():
    codes = np.array([0.0] * 30 + [1.0] * 2)
    first, second = draw_holdouts(codes, 0.1, 2, np.random.RandomState(0), np.array([0, 1]))
    assert codes[first].sum() == codes[second].sum() == 1
    assert not np.intersect1d(first, second).size
    assert can_hold_out(codes, 2)
    assert not can_hold_out(np.array([0.0] * 30 + [1.0]), 2)
    with pytest.raises(ValueError, match=r"classes \[1\] have a single example"):
        draw_holdouts(np.array([0.0] * 30 + [1.0]), 0.1, 2, np.random.RandomState(0), np.array([0, 1]))


# ------------------------------------------------------------------ the members


@pytest.fixture
def spy(monkeypatch):
    """Every backend.train call: the training and validation labels and the model it returned."""
    calls = []
    for name in INSTALLED:
        cls = backends.BACKENDS[name]
        original = cls.train

        def train(self, settings, loss, train, valid, *args, _original=original, **kwargs):
            model = _original(self, settings, loss, train, valid, *args, **kwargs)
            calls.append({"train": train, "valid": valid, "model": model, "seed": settings.seed})
            return model

        monkeypatch.setattr(cls, "train", train)
    return calls


@pytest.mark.parametrize("backend", BACKENDS)
def test_members_train_on_all_rows_but_their_holdout_and_average_into_one_booster(backend, data, spy):
    X, y, X_test, _ = data
    model = FocalBoostClassifier(backend=backend, **SETTINGS).fit(X, y)
    assert len(spy) == 2
    sizes = [call["train"][1].shape[0] + call["valid"][1].shape[0] for call in spy]
    assert sizes == [2000, 2000]  # each member: all rows, split into its training rows and its hold-out
    assert abs(spy[0]["valid"][1].shape[0] - 200) <= 2
    assert spy[0]["seed"] != spy[1]["seed"]  # its own seed for row and column sampling
    members = [call["model"] for call in spy]
    backend_object = backends.BACKENDS[backend]()
    mean = np.mean([backend_object.margin(member, X_test, 1) for member in members], axis=0)
    np.testing.assert_allclose(model.decision_function(X_test), mean, rtol=1e-6, atol=1e-6)
    assert model.best_iteration_ == sum(member.n_rounds for member in members)
    assert [m["rounds"] for m in model.members_] == [member.n_rounds for member in members]
    for record, member in zip(model.members_, members, strict=True):
        assert record["validation_rows"] == member_rows(spy, member)
        assert record["validation_log_loss"] == member.evals_result["valid"]["log_loss"][member.n_rounds - 1]
    assert list(model.evals_result_) == ["valid_1", "valid_2"]
    assert model.init_score_ == pytest.approx(np.mean([float(m.init_score) for m in members]))
    for member in members:  # each stopped early, on its own hold-out
        assert member.n_rounds < SETTINGS["n_estimators"]


def member_rows(spy, member):
    return next(call["valid"][1].shape[0] for call in spy if call["model"] is member)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("gamma", [0.0, 2.0])
def test_one_early_stopping_rule_for_every_gamma(backend, gamma, data, spy):
    X, y, *_ = data
    model = FocalBoostClassifier(backend=backend, gamma=gamma, **SETTINGS).fit(X, y)
    assert len(spy) == 2
    for call in spy:
        assert call["valid"] is not None
        assert call["model"].n_rounds < SETTINGS["n_estimators"]
        assert set(call["model"].evals_result["valid"]) == {"log_loss"}  # one metric for every gamma
    assert model.focusing_["gamma"] == gamma
    if gamma:
        assert model.focusing_["rule"] == "given (the gamma parameter)"
    else:  # the default says why it is log loss, and how to test focal loss
        assert model.focusing_["rule"].startswith("given: gamma 0, log loss, the default")
        assert "gamma='auto'" in model.focusing_["rule"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_n_members_one_an_eval_set_and_no_early_stopping_train_one_model(backend, data, spy):
    X, y, X_val, y_val = data
    one = FocalBoostClassifier(backend=backend, n_members=1, **SETTINGS).fit(X, y)
    assert len(spy) == 1
    assert spy[0]["valid"] is not None
    assert list(one.evals_result_) == ["valid"]
    assert one.booster_ is spy[0]["model"].booster
    spy.clear()
    given = FocalBoostClassifier(backend=backend, **SETTINGS).fit(X, y, eval_set=[(X_val, y_val)])
    assert len(spy) == 1
    assert spy[0]["train"][1].shape[0] == 2000
    assert given.members_[0]["validation_rows"] == len(y_val)
    spy.clear()
    every = FocalBoostClassifier(backend=backend, early_stopping_rounds=None, **SETTINGS).fit(X, y)
    assert len(spy) == 1
    assert spy[0]["valid"] is None
    assert every.best_iteration_ == SETTINGS["n_estimators"]
    assert every.members_ == [{"rounds": 200, "validation_rows": 0, "validation_log_loss": None}]


def test_auto_rounds_train_every_round_where_no_holdout_is_possible_and_a_number_is_an_error():
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.array([0] * 19 + [1])  # one positive: it cannot be both trained on and validated on
    model = FocalBoostClassifier(n_estimators=7, n_jobs=1, random_state=0).fit(X, y)
    assert model.best_iteration_ == 7
    assert len(model.members_) == 1
    with pytest.raises(ValueError, match="have a single example"):
        FocalBoostClassifier(n_estimators=7, early_stopping_rounds=5).fit(X, y)


def test_early_stopping_rounds_and_n_members_are_checked(data):
    X, y, *_ = data
    with pytest.raises(TypeError, match="early_stopping_rounds must be an integer, None or 'auto'"):
        FocalBoostClassifier(early_stopping_rounds="sometimes").fit(X, y)
    with pytest.raises(ValueError, match="n_members must be >= 1"):
        FocalBoostClassifier(n_members=0).fit(X, y)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_members_beat_one_model_that_never_sees_its_holdout(backend):
    """The point of the members: on small data, the rows of the hold-out are worth having."""
    from sklearn.metrics import average_precision_score

    X, y = make_classification(6000, 10, n_informative=5, weights=[0.93], flip_y=0.03, random_state=7)
    X_train, y_train, X_test, y_test = X[:1500], y[:1500], X[1500:], y[1500:]
    gains = []
    for seed in range(4):
        params = {**SETTINGS, "random_state": seed}
        pair = FocalBoostClassifier(backend=backend, **params).fit(X_train, y_train)
        single = FocalBoostClassifier(backend=backend, n_members=1, **params).fit(X_train, y_train)
        gains.append(
            average_precision_score(y_test, pair.predict_proba(X_test)[:, 1])
            - average_precision_score(y_test, single.predict_proba(X_test)[:, 1])
        )
    assert np.mean(gains) > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_multiclass_categorical_members_and_weights(backend):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(4)
    n = 1500
    X = pd.DataFrame({"a": rng.normal(size=n), "c": pd.Categorical(rng.choice(list("pqrs"), n))})
    y = np.where(X["a"] + (X["c"] == "q") * 1.5 > 1.0, 2, np.where(X["a"] < -0.5, 1, 0))
    weight = rng.uniform(0.5, 2.0, n)
    model = FocalBoostClassifier(backend=backend, **SETTINGS).fit(X, y, sample_weight=weight)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert model.init_score_.shape == (3,)
    assert np.mean(model.predict(X) == y) > 0.8


@pytest.mark.parametrize("backend", BACKENDS)
def test_gamma_zero_trains_with_the_booster_s_own_objective(backend, data):
    """Log loss goes to the booster's built-in objective: the same model as the focal kernels' at gamma 0."""
    X, y, X_test, _ = data
    # LightGBM draws the columns of each tree differently for a custom objective: all columns here.
    params = {**SETTINGS, "n_members": 1, "colsample_bytree": 1.0}
    builtin = FocalBoostClassifier(backend=backend, **params).fit(X, y)
    # "clip" floors p (1 - p) at 1e-6, far below it here: the focal kernels, the same derivatives.
    kernels = FocalBoostClassifier(backend=backend, hessian="clip", **params)
    assert FocalLoss(0.0, None).is_log_loss
    assert not FocalLoss(0.0, None, hessian="clip").is_log_loss
    kernels.fit(X, y)
    if backend == "xgboost":
        config = builtin.booster_.save_config()
        assert '"name":"binary:logistic"' in config.replace(" ", "")
    np.testing.assert_allclose(builtin.predict_proba(X_test), kernels.predict_proba(X_test), atol=2e-5)


@pytest.mark.parametrize(
    ("backend", "params"),
    [
        ("xgboost", {"booster": "dart", "rate_drop": 0.3}),
        ("xgboost", {"num_parallel_tree": 3}),
        ("lightgbm", {"boosting": "dart", "drop_rate": 0.3}),
    ],
)
@pytest.mark.filterwarnings("ignore:Early stopping is not available in dart mode")  # LightGBM's own word
def test_other_tree_boosters_average_into_one_booster(backend, params, data, spy):
    pytest.importorskip(backend)
    X, y, X_test, _ = data
    model = FocalBoostClassifier(backend=backend, backend_params=params, **SETTINGS).fit(X, y)
    members = [call["model"] for call in spy]
    backend_object = backends.BACKENDS[backend]()
    mean = np.mean([backend_object.margin(member, X_test, 1) for member in members], axis=0)
    np.testing.assert_allclose(model.decision_function(X_test), mean, rtol=1e-5, atol=1e-5)


def test_averaging_refuses_what_it_cannot_average():
    xgb = pytest.importorskip("xgboost")
    from focal_boost import xgboost as fx
    from focal_boost._boosters.averaging import average_xgboost

    X, y = make_classification(300, 4, random_state=0)
    linear = [
        fx.train({"booster": "gblinear", "seed": s}, xgb.DMatrix(X, label=y), 3, loss=FocalLoss(1.0, None))
        for s in (0, 1)
    ]
    with pytest.raises(
        ValueError, match=r"only tree boosters \(gbtree, dart\) can be averaged, not 'gblinear'"
    ):
        average_xgboost(linear, [3, 3])
    for backend, params in [("xgboost", {"booster": "gblinear"}), ("lightgbm", {"linear_tree": True})]:
        if backend in INSTALLED:  # refused before any training, with what to do
            with pytest.raises(ValueError, match="set n_members=1"):
                FocalBoostClassifier(backend=backend, backend_params=params, n_estimators=5).fit(X, y)
            FocalBoostClassifier(backend=backend, backend_params=params, n_members=1, n_estimators=5).fit(
                X, y
            )


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_fits_with_random_state_none_differ_and_with_a_seed_agree(backend, data):
    X, y, X_test, _ = data
    params = {**SETTINGS, "random_state": None}
    first = FocalBoostClassifier(backend=backend, **params).fit(X, y).predict_proba(X_test)
    second = FocalBoostClassifier(backend=backend, **params).fit(X, y).predict_proba(X_test)
    assert not np.array_equal(first, second)  # the hold-outs and the sampling are drawn anew
    seeded = [FocalBoostClassifier(backend=backend, **SETTINGS).fit(X, y).predict_proba(X_test) for _ in "ab"]
    np.testing.assert_array_equal(*seeded)


@pytest.mark.parametrize("backend", BACKENDS)
def test_balanced_alpha_is_fixed_once_from_all_rows_for_every_member(backend, data):
    X, y, *_ = data
    weight = np.random.default_rng(0).uniform(0.5, 2.0, y.size)
    model = FocalBoostClassifier(backend=backend, gamma=2.0, alpha="balanced", **SETTINGS)
    model.fit(X, y, sample_weight=weight)
    expected = FocalLoss(2.0, "balanced").resolved(y, weight).alpha
    assert model.loss_.alpha == pytest.approx(expected, rel=1e-12)  # the positive class's weight
    assert len(model.members_) == 2
