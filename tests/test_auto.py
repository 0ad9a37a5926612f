"""gamma="auto" (focal_boost._auto): members, their shared hold-out, predictions, evidence, scikit-learn."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.fixes import parse_version

from focal_boost import FocalBoostClassifier
from focal_boost._auto import AUTO_GAMMAS, AUTO_PATIENCE
from focal_boost._sklearn_compat import SKLEARN_VERSION

INSTALLED = [name for name in ("xgboost", "lightgbm") if importlib.util.find_spec(name) is not None]
if not INSTALLED:
    pytest.skip("needs XGBoost or LightGBM (pip install 'focal-boost[xgboost]')", allow_module_level=True)
BACKENDS = [
    pytest.param(name, marks=pytest.mark.skipif(name not in INSTALLED, reason=f"{name} is not installed"))
    for name in ("xgboost", "lightgbm")
]
SETTINGS = {"n_estimators": 150, "learning_rate": 0.3, "max_depth": 3, "n_jobs": 1, "random_state": 0}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(3000, 8, n_informative=4, weights=[0.92], flip_y=0.02, random_state=1)
    return X[:2400], y[:2400], X[2400:], y[2400:]


@pytest.mark.parametrize("backend", BACKENDS)
def test_members_are_early_stopped_focal_models_whose_posteriors_are_averaged(data, backend):
    X, y, X_test, _ = data
    model = FocalBoostClassifier(backend=backend, gamma="auto", **SETTINGS).fit(X, y)
    assert model.gamma_ == AUTO_GAMMAS
    assert [member.gamma for member in model.estimators_] == list(AUTO_GAMMAS)
    for member in model.estimators_:
        params = member.get_params()
        assert params["early_stopping_rounds"] == AUTO_PATIENCE
        assert params["early_stopping_metric"] == "log_loss"
        assert 1 <= member.best_iteration_ < SETTINGS["n_estimators"]  # stopped early on the hold-out
    # One seed for all: the same hold-out and the same booster seed.
    assert len({member.random_state for member in model.estimators_}) == 1
    expected = np.mean([member.predict_proba(X_test) for member in model.estimators_], axis=0)
    np.testing.assert_allclose(model.predict_proba(X_test), expected, rtol=1e-12)
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X_test)), expected, rtol=1e-12)
    log_odds = np.log(expected[:, 1]) - np.log(expected[:, 0])
    np.testing.assert_allclose(model.decision_function(X_test), log_odds, rtol=1e-9)
    np.testing.assert_array_equal(model.predict(X_test), model.classes_[np.argmax(expected, axis=1)])


def test_the_evidence_is_each_member_s_validation_score(data):
    X, y, X_val, y_val = data
    model = FocalBoostClassifier(gamma="auto", **SETTINGS).fit(X, y, eval_set=[(X_val, y_val)])
    assert model.focusing_["metric"] == "log_loss"
    assert "early-stopped on the same validation data" in model.focusing_["rule"]
    for row, member in zip(model.focusing_["members"], model.estimators_, strict=True):
        assert row["gamma"] == member.gamma
        assert row["rounds"] == member.best_iteration_
        assert row["validation_log_loss"] == pytest.approx(
            log_loss(y_val, member.predict_proba(X_val)), rel=1e-6
        )


def test_auto_is_deterministic_for_a_fixed_random_state(data):
    X, y, X_test, _ = data
    first = FocalBoostClassifier(gamma="auto", **SETTINGS).fit(X, y).predict_proba(X_test)
    second = FocalBoostClassifier(gamma="auto", **SETTINGS).fit(X, y).predict_proba(X_test)
    np.testing.assert_array_equal(first, second)


def test_sample_weights_reach_every_member(data):
    X, y, X_test, _ = data
    weight = np.where(y == 1, 3.0, 1.0)
    plain = FocalBoostClassifier(gamma="auto", **SETTINGS).fit(X, y)
    weighted = FocalBoostClassifier(gamma="auto", **SETTINGS).fit(X, y, sample_weight=weight)
    assert weighted.predict_proba(X_test)[:, 1].mean() > plain.predict_proba(X_test)[:, 1].mean()


def test_the_user_s_early_stopping_settings_are_kept(data):
    X, y, *_ = data
    model = FocalBoostClassifier(
        gamma="auto", early_stopping_rounds=5, early_stopping_metric="average_precision", **SETTINGS
    ).fit(X, y)
    assert {m.early_stopping_rounds for m in model.estimators_} == {5}
    assert set(model.estimators_[0].evals_result_["valid"]) == {"average_precision"}
    assert model.focusing_["metric"] == "average_precision"


def test_without_a_possible_hold_out_the_members_train_every_round():
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.array([0] * 19 + [1])  # one positive: no stratified hold-out can keep it in both parts
    model = FocalBoostClassifier(gamma="auto", n_estimators=7, n_jobs=1, random_state=0).fit(X, y)
    assert [member.best_iteration_ for member in model.estimators_] == [7, 7]
    assert "no early stopping" in model.focusing_["rule"]


def test_multiclass_auto_probabilities_sum_to_one():
    X, y = make_classification(1500, 6, n_informative=4, n_classes=3, weights=[0.8, 0.15], random_state=2)
    model = FocalBoostClassifier(gamma="auto", **SETTINGS).fit(X, y)
    prob = model.predict_proba(X)
    np.testing.assert_allclose(prob.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(model.decision_function(X)), prob, rtol=1e-9)


def test_a_number_fits_one_model_and_forgets_the_members(data):
    X, y, *_ = data
    model = FocalBoostClassifier(gamma="auto", **SETTINGS).fit(X, y)
    model.set_params(gamma=2.0).fit(X, y)
    assert not hasattr(model, "estimators_")
    assert not hasattr(model, "focusing_")
    assert model.loss_.gamma == 2.0
    model.set_params(gamma="auto").fit(X, y)
    assert not hasattr(model, "booster_")
    assert len(model.estimators_) == len(AUTO_GAMMAS)


def test_bad_gamma_strings_are_refused(data):
    X, y, *_ = data
    with pytest.raises(ValueError, match="or 'auto'"):
        FocalBoostClassifier(gamma="automatic").fit(X, y)


def test_auto_in_a_pipeline_and_grid_search_with_explicit_gammas(data):
    X, y, X_test, y_test = data
    pipeline = make_pipeline(StandardScaler(), FocalBoostClassifier(gamma="auto", **SETTINGS)).fit(X, y)
    assert pipeline.predict_proba(X_test).shape == (len(X_test), 2)
    search = GridSearchCV(
        FocalBoostClassifier(**SETTINGS), {"gamma": ["auto", 0.0, 2.0]}, scoring="average_precision", cv=3
    ).fit(X, y)
    assert {str(params["gamma"]) for params in search.cv_results_["params"]} == {"auto", "0.0", "2.0"}
    best = search.best_estimator_
    assert hasattr(best, "estimators_") == (best.gamma == "auto")
    assert 0.0 < search.score(X_test, y_test) <= 1.0


if parse_version("1.6") <= SKLEARN_VERSION:
    from sklearn.utils.estimator_checks import parametrize_with_checks

    HOLD_OUT = (
        "gamma='auto' holds out a stratified validation split of the rows: a row repeated k times "
        "and one of weight k fall into it differently"
    )

    @parametrize_with_checks(
        [
            FocalBoostClassifier(backend=name, gamma="auto", n_estimators=10, n_jobs=1, random_state=0)
            for name in INSTALLED
        ],
        expected_failed_checks=lambda estimator: {
            "check_sample_weight_equivalence_on_dense_data": HOLD_OUT,
            "check_sample_weight_equivalence_on_sparse_data": HOLD_OUT,
        },
    )
    def test_sklearn_estimator_checks_with_auto(estimator, check):
        check(estimator)
