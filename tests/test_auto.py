"""gamma="auto" (focal_boost._estimator.selection): paired evidence on the members' hold-outs, its rule."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.fixes import parse_version

from focal_boost import FocalBoostClassifier
from focal_boost._estimator.selection import AUTO_GAMMAS, choose, scored_classes
from focal_boost._util.sklearn_compat import SKLEARN_VERSION

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


# ------------------------------------------------------------------ the rule


def test_a_candidate_that_ranks_far_better_is_chosen():
    rng = np.random.default_rng(0)
    codes = (rng.random(2000) < 0.1).astype(float)
    noise = rng.normal(size=2000)
    weak = 1 / (1 + np.exp(-(0.3 * codes + noise)))
    strong = 1 / (1 + np.exp(-(3.0 * codes + noise)))
    probabilities = {g: np.column_stack([1 - p, p]) for g, p in [(0.0, weak), (1.0, weak), (2.0, strong)]}
    chosen, evidence = choose(codes, probabilities, [1], np.random.RandomState(0))
    assert chosen == 2.0
    row = {r["gamma"]: r for r in evidence}[2.0]
    assert row["score"] == pytest.approx(average_precision_score(codes, strong))
    assert row["difference"] == pytest.approx(row["score"] - average_precision_score(codes, weak))
    assert 0.0 < row["standard_error"] < row["difference"]


def test_a_difference_within_the_noise_keeps_log_loss():
    rng = np.random.default_rng(1)
    codes = (rng.random(600) < 0.1).astype(float)
    base = codes + rng.normal(size=600)
    probabilities = {}
    for g, jitter in [(0.0, 0.0), (0.5, 0.3), (1.0, 0.3), (2.0, 0.3)]:
        p = 1 / (1 + np.exp(-(base + jitter * rng.normal(size=600))))
        probabilities[g] = np.column_stack([1 - p, p])
    chosen, evidence = choose(codes, probabilities, [1], np.random.RandomState(0))
    best = max(evidence, key=lambda r: r["score"])
    assert chosen == 0.0
    assert best["difference"] <= best["standard_error"]  # why: even the best is within one error
    assert [r["gamma"] for r in evidence] == [0.0, 0.5, 1.0, 2.0]


def test_the_bootstrap_average_precision_is_scikit_learn_s_with_weights():
    from focal_boost._estimator.selection import average_precision

    rng = np.random.default_rng(2)
    positive = rng.random(500) < 0.1
    score = np.round(rng.normal(size=500) + positive, 1)  # many ties
    weights = np.stack([np.bincount(rng.integers(0, 500, 500), minlength=500) for _ in range(20)]).astype(
        float
    )
    weights[0] = np.where(positive, 0.0, weights[0])  # no weight on the positives: undefined
    got = average_precision(positive, score, weights)
    assert np.isnan(got[0])
    expected = [average_precision_score(positive, score, sample_weight=w) for w in weights[1:]]
    np.testing.assert_allclose(got[1:], expected, rtol=1e-12)


def test_the_rare_class_is_scored_for_binary_every_class_for_multiclass():
    assert scored_classes(np.array([1, 1, 1, 0]), 2) == [0]
    assert scored_classes(np.array([0, 1, 1, 0, 0]), 2) == [1]
    assert scored_classes(np.array([0, 1, 2, 2]), 3) == [0, 1, 2]


# ------------------------------------------------------------------ the estimator


@pytest.mark.parametrize("backend", BACKENDS)
def test_auto_weighs_every_candidate_and_keeps_the_chosen_one_s_members(data, backend):
    X, y, X_test, _ = data
    model = FocalBoostClassifier(backend=backend, gamma="auto", **SETTINGS).fit(X, y)
    focusing = model.focusing_
    assert [row["gamma"] for row in focusing["candidates"]] == [0.0, *AUTO_GAMMAS]
    assert focusing["metric"] == "average precision of the rare class 1 on the members' hold-outs"
    assert model.loss_.gamma == focusing["gamma"]
    best = max(focusing["candidates"], key=lambda row: row["score"])
    chosen_by_rule = best["gamma"] if best["difference"] > best["standard_error"] else 0.0
    assert focusing["gamma"] == chosen_by_rule
    assert len(model.members_) == 2
    proba = model.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    same = FocalBoostClassifier(backend=backend, gamma=focusing["gamma"], **SETTINGS).fit(X, y)
    # The chosen candidate's members are the model: as if that gamma had been given.
    np.testing.assert_allclose(same.predict_proba(X_test), proba, rtol=1e-6, atol=1e-9)


def test_auto_on_a_given_eval_set_and_multiclass(data):
    X, y, X_val, y_val = data
    model = FocalBoostClassifier(gamma="auto", **SETTINGS).fit(X, y, eval_set=[(X_val, y_val)])
    assert len(model.members_) == 1
    assert model.members_[0]["validation_rows"] == len(y_val)
    X3, y3 = make_classification(1500, 6, n_informative=4, n_classes=3, weights=[0.8, 0.15], random_state=2)
    multi = FocalBoostClassifier(gamma="auto", **SETTINGS).fit(X3, y3)
    assert multi.focusing_["metric"].startswith("average precision, macro over the classes")
    np.testing.assert_allclose(multi.predict_proba(X3).sum(axis=1), 1.0)


def test_auto_needs_validation_data(data):
    X, y, *_ = data
    with pytest.raises(ValueError, match="gamma='auto' compares focusings on validation data"):
        FocalBoostClassifier(gamma="auto", early_stopping_rounds=None, **SETTINGS).fit(X, y)


def test_auto_is_deterministic_for_a_fixed_random_state(data):
    X, y, X_test, _ = data
    first = FocalBoostClassifier(gamma="auto", **SETTINGS).fit(X, y)
    second = FocalBoostClassifier(gamma="auto", **SETTINGS).fit(X, y)
    assert first.focusing_ == second.focusing_
    np.testing.assert_array_equal(first.predict_proba(X_test), second.predict_proba(X_test))


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
    assert 0.0 < search.score(X_test, y_test) <= 1.0


if parse_version("1.6") <= SKLEARN_VERSION:
    from sklearn.utils.estimator_checks import parametrize_with_checks

    HOLD_OUT = (
        "the members early-stop on stratified hold-outs of the rows: a row repeated k times and one "
        "of weight k fall into them differently"
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
    @pytest.mark.filterwarnings("ignore:early stopping kept only the first round")  # the checks' tiny data
    def test_sklearn_estimator_checks_with_auto(estimator, check):
        check(estimator)


def test_the_bootstrap_in_chunks_draws_the_same_resamples(monkeypatch):
    """Memory bounded for many held-out rows: chunked, the resamples and the evidence are the same."""
    from focal_boost._estimator import selection as _auto

    rng = np.random.default_rng(3)
    codes = (rng.random(400) < 0.1).astype(float)
    p = 1 / (1 + np.exp(-(codes + rng.normal(size=400))))
    q = 1 / (1 + np.exp(-(codes + rng.normal(size=400))))
    probabilities = {0.0: np.column_stack([1 - p, p]), 1.0: np.column_stack([1 - q, q])}
    whole = choose(codes, probabilities, [1], np.random.RandomState(0))
    monkeypatch.setattr(_auto, "_CHUNK_ELEMENTS", 3 * 400)  # three resamples at a time
    assert choose(codes, probabilities, [1], np.random.RandomState(0)) == whole
