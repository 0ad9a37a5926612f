"""FocalBoostClassifier: scikit-learn's estimator checks and behaviour on both backends."""

from __future__ import annotations

import importlib.util
import os
import pickle
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.utils.fixes import parse_version

from focal_boost import FocalBoostClassifier, FocalLoss
from focal_boost._kernels.prepared import PreparedLoss
from focal_boost._util.sklearn_compat import SKLEARN_VERSION

INSTALLED = [name for name in ("xgboost", "lightgbm") if importlib.util.find_spec(name) is not None]
BACKENDS = [
    pytest.param(name, marks=pytest.mark.skipif(name not in INSTALLED, reason=f"{name} is not installed"))
    for name in ("xgboost", "lightgbm")
]

#: One model on every row for every round, with no row or column sampling: the boosters' own defaults,
#: for the tests of one model's mechanics (the estimator's defaults train members on hold-outs).
ONE_MODEL = {"n_members": 1, "subsample": 1.0, "colsample_bytree": 1.0, "early_stopping_rounds": None}

#: Expected of every estimator that draws its own hold-outs (the defaults).
HOLD_OUT_FAILURES = dict.fromkeys(
    ("check_sample_weight_equivalence_on_dense_data", "check_sample_weight_equivalence_on_sparse_data"),
    "the members early-stop on stratified hold-outs of the rows: a row repeated k times and one of "
    "weight k fall into them differently",
)


#: Expected of XGBoost training one model on all rows (``ONE_MODEL``).
XGBOOST_SKETCH_FAILURES = dict.fromkeys(
    HOLD_OUT_FAILURES,
    "XGBoost's hist method bins features with a weighted quantile sketch, so integer weights "
    "and repeated rows give slightly different bin edges and hence different trees",
)


def _expected_failures(estimator):
    if estimator.n_members > 1:
        return HOLD_OUT_FAILURES
    return XGBOOST_SKETCH_FAILURES if estimator.backend == "xgboost" else {}


NEW_CHECKS_API = parse_version("1.6")  # expected_failed_checks

if NEW_CHECKS_API <= SKLEARN_VERSION:
    from sklearn.utils.estimator_checks import parametrize_with_checks

    @parametrize_with_checks(
        # The defaults (log loss, members on hold-outs) and focal loss; tests/test_auto.py runs gamma="auto".
        [
            FocalBoostClassifier(
                backend=name, gamma=gamma, n_estimators=20, n_jobs=1, random_state=0, **extra
            )
            for name in INSTALLED
            for gamma, extra in ((0.0, {}), (2.0, {}), (2.0, ONE_MODEL))
        ],
        expected_failed_checks=_expected_failures,
    )
    @pytest.mark.filterwarnings("ignore:early stopping kept only the first round")  # the checks' tiny data
    def test_sklearn_estimator_checks(estimator, check):
        check(estimator)

else:  # pragma: no cover - exercised on the oldest supported scikit-learn

    @pytest.mark.skip(reason="declaring expected failures needs scikit-learn >= 1.6")
    def test_sklearn_estimator_checks():
        pass


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n_estimators", [1, 3, 10])
@pytest.mark.parametrize("probability", ["posterior", "raw"])
def test_classifier_checks_at_few_rounds(backend, n_estimators, probability):
    """Few trees leave rows with nearly tied class probabilities: predict_log_proba, predict_proba
    (its exp) and predict must still order the classes alike (LightGBM at 10 rounds did not)."""
    from sklearn.utils.estimator_checks import check_classifiers_train, check_decision_proba_consistency

    params = {"n_estimators": n_estimators, "n_jobs": 1, "random_state": 0, "probability": probability}
    estimator = FocalBoostClassifier(backend=backend, **params)
    check_classifiers_train("FocalBoostClassifier", estimator)
    check_classifiers_train("FocalBoostClassifier", clone(estimator), readonly_memmap=True)
    check_decision_proba_consistency("FocalBoostClassifier", clone(estimator))


@pytest.fixture(scope="module")
def imbalanced():
    X, y = make_classification(2000, 8, n_informative=5, weights=[0.9], flip_y=0.02, random_state=0)
    return X, y


@pytest.mark.parametrize("backend", BACKENDS)
def test_gamma_zero_matches_the_boosters_log_loss(backend, imbalanced):
    """gamma=0, alpha=None: the same probabilities as the booster's own binary log loss."""
    X, y = imbalanced
    model = FocalBoostClassifier(
        backend=backend, gamma=0.0, n_estimators=20, max_depth=3, n_jobs=1, random_state=0, **ONE_MODEL
    ).fit(X, y)
    prior = float(np.mean(y))
    if backend == "xgboost":
        import xgboost as xgb

        reference = xgb.XGBClassifier(
            n_estimators=20, max_depth=3, learning_rate=0.1, n_jobs=1, base_score=prior, random_state=0
        ).fit(X, y)
        expected = reference.predict_proba(X)
    else:
        import lightgbm as lgb

        reference = lgb.LGBMClassifier(
            n_estimators=20, max_depth=3, n_jobs=1, deterministic=True, verbose=-1, random_state=0
        ).fit(X, y)
        expected = reference.predict_proba(X)
    np.testing.assert_allclose(model.predict_proba(X), expected, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_string_labels_multiclass_and_alpha_by_label(backend):
    X, y = make_classification(1500, 8, n_informative=6, n_classes=3, weights=[0.7, 0.2, 0.1], random_state=2)
    labels = np.array(["cat", "dog", "eel"])[y]
    alpha = {"cat": 0.2, "dog": 0.3, "eel": 0.5}
    model = FocalBoostClassifier(
        backend=backend, gamma=2.0, alpha=alpha, n_estimators=30, n_jobs=1, random_state=0
    )
    model.fit(X, labels)
    np.testing.assert_array_equal(model.classes_, ["cat", "dog", "eel"])
    proba = model.predict_proba(X)
    assert proba.shape == (1500, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert set(model.predict(X)) <= set(labels)
    assert model.score(X, labels) > 0.8
    np.testing.assert_allclose(model.loss_.alpha, [0.2, 0.3, 0.5])
    assert model.init_score_.shape == (3,)


@pytest.mark.parametrize("backend", BACKENDS)
def test_probabilities_are_the_posterior_of_the_margins(backend, imbalanced):
    X, y = imbalanced
    model = FocalBoostClassifier(backend=backend, gamma=2.0, alpha=0.25, n_estimators=20, n_jobs=1).fit(X, y)
    margin = model.decision_function(X)
    focal = FocalLoss(2.0, 0.25)
    np.testing.assert_allclose(model.predict_proba(X), focal.posterior_proba(margin), rtol=1e-12)
    raw = clone(model).set_params(probability="raw").fit(X, y)
    expected = focal.predict_proba(raw.decision_function(X))
    np.testing.assert_allclose(raw.predict_proba(X), expected, rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_early_stopping_keeps_the_best_round(backend, imbalanced):
    X, y = imbalanced
    model = FocalBoostClassifier(
        backend=backend,
        gamma=2.0,
        n_estimators=500,
        learning_rate=0.5,
        max_depth=6,
        early_stopping_rounds=5,
        early_stopping_metric="focal_loss",
        n_members=1,
        n_jobs=1,
        random_state=0,
    ).fit(X, y)
    valid = model.evals_result_["valid"]["focal_loss"]
    assert len(valid) < 500
    assert model.best_iteration_ == int(np.argmin(valid)) + 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_pickle_round_trip_and_determinism(backend, imbalanced):
    X, y = imbalanced
    params = {
        "backend": backend,
        "n_estimators": 15,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "random_state": 3,
    }
    model = FocalBoostClassifier(**params, n_jobs=2).fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    # Same seed, same model, whatever the thread count.
    np.testing.assert_allclose(
        FocalBoostClassifier(**params, n_jobs=1).fit(X, y).predict_proba(X), model.predict_proba(X), rtol=1e-6
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_parameters_and_data(backend, imbalanced):
    X, y = imbalanced
    with pytest.raises(ValueError, match="gamma"):
        FocalBoostClassifier(backend=backend, gamma=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        FocalBoostClassifier(backend=backend, alpha=1.5).fit(X, y)
    with pytest.raises(ValueError, match="backend"):
        FocalBoostClassifier(backend="catboost").fit(X, y)
    with pytest.raises(ValueError, match="one class"):
        FocalBoostClassifier(backend=backend).fit(X, np.zeros_like(y))
    with pytest.raises(ValueError, match="y contains NaN"):
        FocalBoostClassifier(backend=backend).fit(X, np.where(np.arange(y.size) == 3, np.nan, y))
    with pytest.raises(ValueError, match="alpha as a dict"):
        FocalBoostClassifier(backend=backend, alpha={0: 0.5}).fit(X, y)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pandas_with_categorical_columns(backend):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    n = 1500
    colour = rng.choice(["red", "green", "blue"], n)
    size = rng.normal(size=n)
    y = ((colour == "red") & (size > 0)).astype(int)
    X = pd.DataFrame({"colour": pd.Categorical(colour), "size": size})
    model = FocalBoostClassifier(backend=backend, n_estimators=30, n_jobs=1, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.feature_names_in_, ["colour", "size"])
    assert model.n_features_in_ == 2
    assert model.score(X, y) > 0.95  # the categorical split is needed for this
    with pytest.raises(ValueError, match="feature names"):
        model.predict(X[["size", "colour"]])


@pytest.mark.parametrize("backend", BACKENDS)
def test_pipeline_and_grid_search_by_average_precision(backend, imbalanced):
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = imbalanced
    pipeline = make_pipeline(
        StandardScaler(), FocalBoostClassifier(backend=backend, n_estimators=10, n_jobs=1, random_state=0)
    )
    grid = {"focalboostclassifier__gamma": [0.0, 2.0], "focalboostclassifier__alpha": [None, 0.25]}
    search = GridSearchCV(pipeline, grid, scoring="average_precision", cv=3).fit(X, y)
    assert len(search.cv_results_["mean_test_score"]) == 4
    assert search.best_score_ > 0.5


@pytest.mark.parametrize("backend", BACKENDS)
def test_column_transformer_pipeline_in_cross_validation(backend):
    pd = pytest.importorskip("pandas")
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(1)
    n = 1200
    merchant = rng.choice(["grocery", "travel", "online", "fuel"], n)
    amount = rng.lognormal(3, 1, n)
    amount[rng.uniform(size=n) < 0.05] = np.nan  # missing amounts, imputed in the pipeline
    risk = (merchant == "online") * 1.5 + np.nan_to_num(np.log(amount), nan=3.0) - 3.0
    y = np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-(2 * risk - 3))), "fraud", "ok")
    X = pd.DataFrame({"merchant": merchant, "amount": amount})
    pipeline = Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        ("categories", OneHotEncoder(handle_unknown="ignore"), ["merchant"]),
                        ("numbers", make_numeric_pipeline(SimpleImputer, StandardScaler), ["amount"]),
                    ]
                ),
            ),
            ("model", FocalBoostClassifier(backend=backend, n_estimators=20, n_jobs=1, random_state=0)),
        ]
    )
    scores = cross_val_score(pipeline, X, y, cv=3, scoring="roc_auc")
    assert scores.shape == (3,)
    assert np.all(scores > 0.75)
    fitted = pipeline.fit(X, y)
    assert set(fitted.predict(X)) <= {"fraud", "ok"}
    np.testing.assert_array_equal(fitted.classes_, ["fraud", "ok"])


def make_numeric_pipeline(*steps):
    from sklearn.pipeline import make_pipeline

    return make_pipeline(*(step() for step in steps))


@pytest.mark.parametrize("backend", BACKENDS)
def test_clone_and_calibrated_classifier(backend, imbalanced):
    from sklearn.calibration import CalibratedClassifierCV

    X, y = imbalanced
    model = FocalBoostClassifier(
        backend=backend, gamma=3.0, alpha={0: 0.3, 1: 0.7}, n_estimators=15, n_jobs=1
    )
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "booster_")
    calibrated = CalibratedClassifierCV(model, cv=3, method="isotonic").fit(X[:1500], y[:1500])
    proba = calibrated.predict_proba(X[1500:])
    assert proba.shape == (500, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert len(calibrated.calibrated_classifiers_) == 3
    # Each fold's model is a fitted clone; the estimator passed in stays unfitted.
    assert all(hasattr(c.estimator, "booster_") for c in calibrated.calibrated_classifiers_)
    assert not hasattr(model, "booster_")
    assert calibrated.score(X[1500:], y[1500:]) > 0.85


@pytest.mark.parametrize("backend", BACKENDS)
def test_n_jobs_reaches_the_booster_and_the_kernel(backend, imbalanced, monkeypatch):
    X, y = imbalanced
    seen = []
    original = PreparedLoss.gradient_hessian  # what the objectives call each round

    def spy(self, *args, n_threads=None, **kwargs):
        seen.append(n_threads)
        return original(self, *args, n_threads=n_threads, **kwargs)

    monkeypatch.setattr(PreparedLoss, "gradient_hessian", spy)
    model = FocalBoostClassifier(backend=backend, gamma=2.0, n_estimators=3, n_jobs=1, **ONE_MODEL).fit(X, y)
    assert seen == [1, 1, 1]
    if backend == "xgboost":
        import json

        config = json.loads(model.booster_.save_config())
        assert int(config["learner"]["generic_param"]["nthread"]) == 1
    else:
        assert model.booster_.params["num_threads"] == 1
    seen.clear()
    FocalBoostClassifier(backend=backend, gamma=2.0, n_estimators=2, n_jobs=-1, **ONE_MODEL).fit(X, y)
    assert seen == [os.cpu_count()] * 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_sample_weight_reaches_the_loss(backend, imbalanced):
    X, y = imbalanced
    params = {
        "backend": backend,
        "gamma": 2.0,
        "n_estimators": 20,
        "n_jobs": 1,
        "random_state": 0,
        **ONE_MODEL,
    }
    plain = FocalBoostClassifier(**params).fit(X, y)
    weight = np.where(y == 1, 10.0, 1.0)
    heavy = FocalBoostClassifier(**params).fit(X, y, sample_weight=weight)
    # Up-weighting the positives moves every estimate towards them ...
    assert heavy.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean() + 0.05
    # ... as alpha does: the initial score is the focal loss's weighted constant minimiser.
    assert heavy.init_score_ == pytest.approx(FocalLoss(2.0, alpha=None).init_score(y, weight))
    if backend == "xgboost":
        # Zero weights on a block of rows are the same as leaving those rows out (XGBoost's
        # weighted sketch ignores them). LightGBM bins features and counts min_data_in_leaf
        # over all rows, so only weights equal to repeated rows hold there, which sklearn's
        # check_sample_weight_equivalence verifies above.
        keep = np.arange(y.size) >= 300
        zeroed = FocalBoostClassifier(**params).fit(X, y, sample_weight=keep.astype(float))
        dropped = FocalBoostClassifier(**params).fit(X[keep], y[keep])
        np.testing.assert_allclose(zeroed.predict_proba(X), dropped.predict_proba(X), atol=1e-5)
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(1999,\)|inconsistent"):
        FocalBoostClassifier(**params).fit(X, y, sample_weight=weight[1:])


@pytest.mark.parametrize("backend", BACKENDS)
def test_eval_set_with_weights_records_the_weighted_focal_loss(backend, imbalanced):
    from focal_boost.metrics import focal_loss

    X, y = imbalanced
    w_valid = np.random.default_rng(0).uniform(0.5, 2.0, 500)
    model = FocalBoostClassifier(
        backend=backend, gamma=2.0, alpha=0.25, n_estimators=12, probability="raw", n_jobs=1, random_state=0,
        early_stopping_metric="focal_loss", **ONE_MODEL,
    ).fit(X[:1500], y[:1500], eval_set=[(X[1500:], y[1500:], w_valid)])  # fmt: skip
    curve = model.evals_result_["valid"]["focal_loss"]
    assert len(curve) == 12
    expected = focal_loss(
        y[1500:], model.predict_proba(X[1500:]), gamma=2.0, alpha=0.25, sample_weight=w_valid
    )
    assert curve[-1] == pytest.approx(expected, rel=1e-5)
    unweighted = focal_loss(y[1500:], model.predict_proba(X[1500:]), gamma=2.0, alpha=0.25)
    assert abs(unweighted - expected) > 1e-4  # so the weights did count
    with pytest.raises(ValueError, match="not seen in y"):
        model.fit(X[:1500], y[:1500], eval_set=[(X[1500:], y[1500:] + 5)])
    # scikit-learn's form of the same validation data gives the same model.
    same = clone(model).fit(X[:1500], y[:1500], X_val=X[1500:], y_val=y[1500:], sample_weight_val=w_valid)
    assert same.evals_result_ == model.evals_result_
    np.testing.assert_array_equal(same.predict_proba(X), model.predict_proba(X))
    with pytest.raises(ValueError, match="either as eval_set or as X_val"):
        model.fit(X, y, eval_set=[(X, y)], X_val=X, y_val=y)
    with pytest.raises(ValueError, match="both X_val and y_val"):
        model.fit(X, y, X_val=X)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sparse_input(backend):
    import scipy.sparse

    rng = np.random.default_rng(4)
    dense = rng.normal(size=(1500, 10)) * (rng.uniform(size=(1500, 10)) < 0.4)  # 60% zeros
    y = (dense[:, 0] + dense[:, 1] - dense[:, 2] > 0.5).astype(int)
    params = {"backend": backend, "n_estimators": 20, "n_jobs": 1, "random_state": 0}
    on_sparse = FocalBoostClassifier(**params).fit(scipy.sparse.csr_matrix(dense), y)
    assert on_sparse.score(scipy.sparse.csc_matrix(dense), y) > 0.9
    # LightGBM reads absent entries as zeros, XGBoost as missing values (as its own classifier does).
    same_data = dense if backend == "lightgbm" else np.where(dense == 0.0, np.nan, dense)
    on_dense = FocalBoostClassifier(**params).fit(same_data, y)
    np.testing.assert_allclose(
        on_sparse.predict_proba(scipy.sparse.csr_matrix(dense)), on_dense.predict_proba(same_data), atol=1e-6
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_predict_checks_the_features(backend, imbalanced):
    X, y = imbalanced
    model = FocalBoostClassifier(backend=backend, n_estimators=3, n_jobs=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 7 features, but FocalBoostClassifier is expecting 8"):
        model.predict(X[:, :7])
    with pytest.raises(ValueError, match="0 sample"):
        model.predict_proba(X[:0])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        FocalBoostClassifier(backend=backend).predict(X)


@pytest.mark.parametrize("module", ["xgboost", "lightgbm"])
def test_missing_backend_names_the_extra(module, imbalanced, monkeypatch):
    X, y = imbalanced
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
    with pytest.raises(ImportError, match=rf"pip install 'focal-boost\[{module}\]'"):
        FocalBoostClassifier(backend=module).fit(X, y)


def _brier_of_both(model, X_train, y_train, X_test, y_test):
    from sklearn.metrics import brier_score_loss

    model.fit(X_train, y_train)
    posterior = brier_score_loss(y_test, model.predict_proba(X_test)[:, 1])
    raw = brier_score_loss(y_test, model.set_params(probability="raw").predict_proba(X_test)[:, 1])
    return posterior, raw


def _imbalanced_data_sets():
    from sklearn.datasets import load_digits

    X, y = make_classification(4000, 10, n_informative=5, weights=[0.95], flip_y=0.02, random_state=0)
    yield "synthetic, 5% positives", X, y
    digits = load_digits()
    yield "digits: 8 against the rest (10%)", digits.data, (digits.target == 8).astype(int)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("gamma", [2.0, 4.0])
def test_posterior_probabilities_have_the_lower_held_out_brier_score(backend, gamma):
    """The raw sigmoid of a focal model is pulled towards 1/2; the posterior undoes it.

    LightGBM is run with depth-4 trees: with its default unlimited depth the
    trees overfit these small sets within 100 rounds, and overconfident
    margins partly cancel focal loss's pull towards 1/2 (see docs/estimator.md).
    """
    from sklearn.model_selection import train_test_split

    depth = {"max_depth": 4} if backend == "lightgbm" else {}
    for name, X, y in _imbalanced_data_sets():
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, stratify=y, random_state=0)
        model = FocalBoostClassifier(backend=backend, gamma=gamma, n_jobs=1, random_state=0, **depth)
        posterior, raw = _brier_of_both(model, X_train, y_train, X_test, y_test)
        assert posterior < 0.9 * raw, name


@pytest.mark.parametrize("backend", BACKENDS)
def test_boolean_labels_and_asymmetric_gamma(backend, imbalanced):
    X, y = imbalanced
    labels = y.astype(bool)
    model = FocalBoostClassifier(backend=backend, gamma=[1.0, 4.0], n_estimators=20, n_jobs=1, random_state=0)
    model.fit(X, labels)
    np.testing.assert_array_equal(model.classes_, [False, True])
    assert model.predict(X).dtype == bool
    np.testing.assert_allclose(model.loss_.gamma, [1.0, 4.0])
    # The per-class gamma reaches the loss: the posterior of the same margins differs from symmetric gamma.
    margin = model.decision_function(X)
    np.testing.assert_allclose(model.predict_proba(X), FocalLoss([1.0, 4.0], None).posterior_proba(margin))
    assert not np.allclose(model.predict_proba(X), FocalLoss(4.0, None).posterior_proba(margin))
    with pytest.raises(ValueError, match="gamma"):
        FocalBoostClassifier(backend=backend, gamma=[1.0, 2.0, 3.0]).fit(X, labels)


@pytest.mark.parametrize("backend", BACKENDS)
def test_grid_search_scored_by_focal_loss_with_make_scorer(backend, imbalanced):
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from focal_boost._util.sklearn_compat import PROBA_SCORER_KEYWORDS
    from focal_boost.metrics import focal_loss

    X, y = imbalanced
    labels = np.array(["legit", "fraud"])[y]
    scorer = make_scorer(focal_loss, greater_is_better=False, gamma=2.0, alpha=0.25, **PROBA_SCORER_KEYWORDS)
    model = FocalBoostClassifier(backend=backend, n_estimators=10, n_jobs=1, random_state=0)
    search = GridSearchCV(model, {"gamma": [0.0, 2.0]}, scoring=scorer, cv=3).fit(X, labels)
    # The score of the gamma=2 candidate, by hand: minus the focal loss of each fold's probabilities.
    by_hand = []
    for fit_rows, test_rows in StratifiedKFold(3).split(X, labels):
        fitted = clone(model).set_params(gamma=2.0).fit(X[fit_rows], labels[fit_rows])
        prob = fitted.predict_proba(X[test_rows])[:, list(fitted.classes_).index("legit")]
        # The scorer hands over the probability of the positive class, classes_[1] = "legit".
        by_hand.append(-focal_loss(labels[test_rows], prob, gamma=2.0, alpha=0.25))
    assert search.cv_results_["mean_test_score"][1] == pytest.approx(np.mean(by_hand), rel=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_progress_is_reported_after_each_round(backend, imbalanced):
    X, y = imbalanced
    calls = []
    model = FocalBoostClassifier(
        backend=backend,
        gamma=2.0,
        n_estimators=300,
        learning_rate=0.5,
        max_depth=6,
        early_stopping_rounds=3,
        n_jobs=1,
    )
    model.fit(X, y, progress=lambda done, most: calls.append((done, most)))
    # Two members, each reporting its own rounds as a part of both members' 600.
    first, second = (len(model.evals_result_[f"valid_{k}"]["log_loss"]) for k in (1, 2))
    assert first < 300
    assert second < 300
    expected = [(i, 600) for i in range(1, first + 1)] + [(300 + i, 600) for i in range(1, second + 1)]
    assert calls == expected


@pytest.mark.skipif("xgboost" not in INSTALLED, reason="xgboost is not installed")
def test_xgboost_on_cuda_takes_the_device_resident_path(imbalanced, monkeypatch):
    """device="cuda" trains through train_on_device (which keeps the work on the GPU where it can)."""
    from focal_boost.xgboost import device as adapter

    calls = []
    original = adapter.train_on_device

    def spy(params, X, y, *args, **kwargs):
        calls.append(params["device"])
        # Train on the CPU through the same loop, so that the test runs on any machine.
        return original({**params, "device": "cpu"}, X, y, *args, **kwargs)

    monkeypatch.setattr(adapter, "train_on_device", spy)
    X, y = imbalanced
    settings = {"gamma": 2.0, "n_estimators": 30, "early_stopping_rounds": 3, "n_jobs": 1, "random_state": 0}
    on_cuda = FocalBoostClassifier(device="cuda", **settings).fit(X, y)
    on_cpu = FocalBoostClassifier(**settings).fit(X, y)
    assert calls == ["cuda", "cuda"]  # one per member
    assert on_cuda.best_iteration_ == on_cpu.best_iteration_
    for key in ("valid_1", "valid_2"):
        assert on_cuda.evals_result_[key]["log_loss"] == pytest.approx(
            on_cpu.evals_result_[key]["log_loss"], rel=1e-3
        )
    np.testing.assert_allclose(on_cuda.predict_proba(X), on_cpu.predict_proba(X), atol=0.02)


@pytest.mark.skipif("lightgbm" not in INSTALLED, reason="lightgbm is not installed")
def test_lightgbm_on_cuda_uses_its_opencl_gpu_build(imbalanced):
    from focal_boost._estimator.params import boosting_settings
    from focal_boost.lightgbm.backend import LightGBMBackend

    model = FocalBoostClassifier(backend="lightgbm", device="cuda", n_estimators=5)
    model.n_classes_ = 2  # what fit sets before it asks for the settings
    assert LightGBMBackend().params(boosting_settings(model, seed=0))["device_type"] == "gpu"
    X, y = imbalanced
    error = None
    try:
        model.fit(X, y)
    except RuntimeError as raised:  # no OpenCL GPU here: our message, with LightGBM's
        error = str(raised)
    if error is None:
        assert model.booster_.params["device_type"] == "gpu"
    else:
        assert "device_type='gpu'" in error
        assert "OpenCL" in error


@pytest.mark.gpu
@pytest.mark.skipif(
    "xgboost" not in INSTALLED
    or importlib.util.find_spec("cupy") is None
    or os.environ.get("NUMBA_ENABLE_CUDASIM") == "1",
    reason="needs an NVIDIA GPU with CuPy and numba-cuda (pip install 'focal-boost[gpu]')",
)
def test_xgboost_estimator_on_the_gpu_stays_on_the_device(imbalanced):
    import warnings

    from focal_boost import xgboost as adapter

    X, y = imbalanced
    settings = {"n_estimators": 50, "early_stopping_rounds": 5, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("error", adapter.DeviceFallbackWarning)
        on_gpu = FocalBoostClassifier(device="cuda", **settings).fit(X, y)
    on_cpu = FocalBoostClassifier(**settings).fit(X, y)
    # GPU and CPU hist sketch and sum differently: close, not equal.
    np.testing.assert_allclose(on_gpu.predict_proba(X), on_cpu.predict_proba(X), atol=0.05)
    assert abs(on_gpu.best_iteration_ - on_cpu.best_iteration_) <= 10
