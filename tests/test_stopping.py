"""Early stopping on the metric users care about (focal_boost._boosters.validation): adapters, estimator."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

from focal_boost import FocalBoostClassifier, FocalLoss
from focal_boost._boosters.validation import NAMED_METRICS, validation_metric
from focal_boost.datasets import make_transactions
from focal_boost.metrics import ValidationMetric

xgb = pytest.importorskip("xgboost", reason="XGBoost is not installed (pip install 'focal-boost[xgboost]')")
lgb = pytest.importorskip(
    "lightgbm", reason="LightGBM is not installed (pip install 'focal-boost[lightgbm]')"
)
fx = pytest.importorskip("focal_boost.xgboost")
fl = pytest.importorskip("focal_boost.lightgbm")

LOSS = FocalLoss(2.0, None)
#: metric name -> (sklearn reference on positive-class probabilities, greater is better)
REFERENCES = {
    "log_loss": (lambda y, p, w=None: log_loss(y, np.column_stack([1 - p, p]), sample_weight=w), False),
    "average_precision": (lambda y, p, w=None: average_precision_score(y, p, sample_weight=w), True),
    "roc_auc": (lambda y, p, w=None: roc_auc_score(y, p, sample_weight=w), True),
}


@pytest.fixture(scope="module")
def data():
    bunch = make_transactions(6000, fraud_rate=0.05, random_state=0)
    X, y = bunch.data, bunch.target.astype(np.float64)
    w = np.random.default_rng(0).uniform(0.5, 2.0, y.shape[0])
    return X[:4000], y[:4000], w[:4000], X[4000:], y[4000:], w[4000:]


def _best(values, greater_is_better):
    return int(np.argmax(values) if greater_is_better else np.argmin(values))


# ------------------------------------------------------------------ resolving


def test_names_resolve_to_metrics_with_their_direction():
    assert validation_metric(None) is NAMED_METRICS["focal_loss"]
    assert [validation_metric(name).greater_is_better for name in ("focal_loss", "log_loss")] == [False] * 2
    assert [validation_metric(name).greater_is_better for name in ("average_precision", "roc_auc")] == [
        True
    ] * 2
    assert validation_metric("log_loss").decomposable
    assert not validation_metric("average_precision").decomposable


def test_a_plain_function_is_a_loss_and_a_validation_metric_keeps_its_direction():
    def brier(y_true, y_prob, sample_weight):
        return float(np.average((y_prob - y_true) ** 2, weights=sample_weight))

    metric = validation_metric(brier)
    assert (metric.name, metric.greater_is_better, metric.decomposable) == ("brier", False, False)
    wrapped = ValidationMetric(average_precision_score, greater_is_better=True, name="ap")
    assert validation_metric(wrapped) is wrapped
    assert ValidationMetric(brier, greater_is_better=False).name == "brier"


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        ("auc", ValueError, "must be one of"),
        (3, TypeError, "must be a name"),
        (average_precision_score, ValueError, "looks like a score"),
        (roc_auc_score, ValueError, "greater_is_better=True"),
    ],
)
def test_bad_metrics_are_refused_by_name(spec, error, message):
    with pytest.raises(error, match=message):
        validation_metric(spec)


def test_a_validation_metric_checks_its_arguments():
    with pytest.raises(TypeError, match="callable"):
        ValidationMetric("log_loss", greater_is_better=False)
    with pytest.raises(TypeError, match="True or False"):
        ValidationMetric(log_loss, greater_is_better="yes")
    with pytest.raises(TypeError, match="non-empty string"):
        ValidationMetric(log_loss, greater_is_better=False, name="")


def test_bad_labels_for_a_probability_metric_are_named():
    metric = fx.FocalMetric(LOSS, metric="average_precision")
    with pytest.raises(
        ValueError, match=r"1 validation labels are not class codes 0\.\.1 \(e\.g\. \[0\.5\]\)"
    ):
        metric.score(np.array([0.0, 1.0, 0.5]), np.zeros(3))


def test_a_ranking_metric_cannot_be_summed_over_parts():
    with pytest.raises(ValueError, match="not a mean over rows"):
        fx.FocalMetric(LOSS, metric="roc_auc").sums(np.array([0.0, 1.0]), np.zeros(2))


def test_a_function_returning_no_number_is_a_type_error():
    metric = fx.FocalMetric(LOSS, metric=lambda y, p, w: "good")
    with pytest.raises(TypeError, match="returned str, not a number"):
        metric.score(np.array([0.0, 1.0]), np.zeros(2))


# ------------------------------------------------------------------ the adapters


@pytest.mark.parametrize("name", sorted(REFERENCES))
@pytest.mark.parametrize("weighted", [False, True])
def test_xgboost_train_stops_on_the_metric_of_the_posterior_probabilities(data, name, weighted):
    X, y, w, X_val, y_val, w_val = data
    reference, greater = REFERENCES[name]
    weights = (w, w_val) if weighted else (None, None)
    history: dict = {}
    booster = fx.train(
        {"max_depth": 3, "eta": 0.3, "nthread": 1},
        xgb.DMatrix(X, label=y, weight=weights[0]),
        80,
        loss=LOSS,
        evals=[(xgb.DMatrix(X_val, label=y_val, weight=weights[1]), "valid")],
        early_stopping_rounds=10,
        early_stopping_metric=name,
        evals_result=history,
        verbose_eval=False,
    )
    values = history["valid"][name]
    assert booster.best_iteration == _best(values, greater)
    assert any(value != round(value, 6) for value in values)  # not XGBoost's six decimals
    for round_ in (booster.best_iteration, len(values) - 1):
        prob = fx.predict_proba(booster, xgb.DMatrix(X_val), iteration_range=(0, round_ + 1))[:, 1]
        # The full-precision value (XGBoost alone keeps six decimals); the metric sees float32 margins.
        assert values[round_] == pytest.approx(reference(y_val, prob, weights[1]), rel=1e-6)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_lightgbm_train_stops_on_the_metric_of_the_posterior_probabilities(data, name):
    X, y, w, X_val, y_val, w_val = data
    reference, greater = REFERENCES[name]
    history: dict = {}
    train_set = lgb.Dataset(X, label=y, weight=w)
    booster = fl.train(
        {"max_depth": 3, "learning_rate": 0.3, "num_threads": 1, "verbose": -1},
        train_set,
        80,
        loss=LOSS,
        valid_sets=[lgb.Dataset(X_val, label=y_val, weight=w_val, reference=train_set)],
        valid_names=["valid"],
        callbacks=[lgb.early_stopping(10, verbose=False), lgb.record_evaluation(history)],
        early_stopping_metric=name,
    )
    values = history["valid"][name]
    assert booster.best_iteration - 1 == _best(values, greater)
    prob = fl.predict_proba(booster, X_val)[:, 1]  # at the best iteration
    stored = w_val.astype(np.float32)  # LightGBM keeps weights in float32
    assert values[booster.best_iteration - 1] == pytest.approx(reference(y_val, prob, stored), rel=1e-9)


def test_lightgbm_metric_reports_its_direction():
    values = np.array([0.0, 1.0, 1.0, 0.0])
    dataset = lgb.Dataset(np.zeros((4, 1)), label=values).construct()
    assert fl.FocalMetric(LOSS, metric="roc_auc")(np.array([-1.0, 1.0, 0.5, 0.0]), dataset)[0::2] == (
        "roc_auc",
        True,
    )
    assert fl.FocalMetric(LOSS)(np.zeros(4), dataset)[0::2] == ("focal_loss", False)


def test_maximize_against_the_metric_is_an_error(data):
    X, y, _, X_val, y_val, _ = data
    with pytest.raises(ValueError, match="maximize=False contradicts"):
        fx.train(
            {"max_depth": 2},
            xgb.DMatrix(X, label=y),
            5,
            evals=[(xgb.DMatrix(X_val, label=y_val), "valid")],
            early_stopping_rounds=2,
            early_stopping_metric="average_precision",
            maximize=False,
            loss=FocalLoss(),
        )


def test_a_bad_metric_stops_lightgbm_before_its_datasets_change(data):
    X, y, *_ = data
    train_set = lgb.Dataset(X, label=y)
    with pytest.raises(ValueError, match="must be one of"):
        fl.train({"verbose": -1}, train_set, 5, early_stopping_metric="aucpr", loss=FocalLoss())
    assert train_set.init_score is None


def test_multiclass_ranking_metrics_are_macro_one_vs_rest():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 4))
    y = np.digitize(X[:, 0] + 0.5 * rng.normal(size=3000), [-0.8, 0.9]).astype(np.float64)
    loss = FocalLoss(1.0, None)
    history: dict = {}
    booster = fx.train(
        {"num_class": 3, "max_depth": 3, "nthread": 1},
        xgb.DMatrix(X[:2000], label=y[:2000]),
        15,
        loss=loss,
        evals=[(xgb.DMatrix(X[2000:], label=y[2000:]), "valid")],
        early_stopping_metric="average_precision",
        evals_result=history,
        verbose_eval=False,
    )
    prob = fx.predict_proba(booster, xgb.DMatrix(X[2000:]))
    expected = np.mean([average_precision_score(y[2000:] == k, prob[:, k]) for k in range(3)])
    assert history["valid"]["average_precision"][-1] == pytest.approx(expected, rel=1e-6)


def test_the_device_loop_on_the_cpu_stops_on_the_metric(data):
    X, y, _, X_val, y_val, _ = data
    history: dict = {}
    booster = fx.train_on_device(
        {"max_depth": 3, "eta": 0.3, "nthread": 1},
        X,
        y,
        60,
        loss=LOSS,
        evals=[(X_val, y_val, "valid")],
        early_stopping_rounds=10,
        early_stopping_metric="roc_auc",
        evals_result=history,
    )
    values = history["valid"]["roc_auc"]
    assert booster.best_iteration == _best(values, True)
    prob = fx.predict_proba(booster, xgb.DMatrix(X_val))[:, 1]
    assert values[booster.best_iteration] == pytest.approx(roc_auc_score(y_val, prob), rel=1e-6)


# ------------------------------------------------------------------ the estimator


@pytest.mark.parametrize("backend", ["xgboost", "lightgbm"])
def test_estimator_stops_on_average_precision(data, backend):
    X, y, _, X_val, y_val, _ = data
    model = FocalBoostClassifier(
        backend=backend,
        gamma=2.0,
        n_estimators=80,
        learning_rate=0.3,
        max_depth=3,
        early_stopping_rounds=10,
        early_stopping_metric="average_precision",
        n_jobs=1,
        random_state=0,
    ).fit(X, y, eval_set=[(X_val, y_val)])
    values = model.evals_result_["valid"]["average_precision"]
    assert model.best_iteration_ == _best(values, True) + 1
    assert values[model.best_iteration_ - 1] == pytest.approx(
        average_precision_score(y_val, model.predict_proba(X_val)[:, 1]), rel=1e-6
    )


def test_estimator_takes_a_loss_function_and_a_validation_metric(data):
    X, y, _, X_val, y_val, _ = data

    def brier(y_true, y_prob, sample_weight):
        return float(np.average((y_prob - y_true) ** 2, weights=sample_weight))

    def negated_brier(y_true, y_prob, sample_weight):
        return -brier(y_true, y_prob, sample_weight)

    settings = {
        "gamma": 2.0,
        "n_estimators": 60,
        "learning_rate": 0.3,
        "early_stopping_rounds": 5,
        "random_state": 0,
    }
    by_loss = FocalBoostClassifier(early_stopping_metric=brier, n_jobs=1, **settings).fit(
        X, y, eval_set=[(X_val, y_val)]
    )
    by_score = FocalBoostClassifier(
        early_stopping_metric=ValidationMetric(negated_brier, greater_is_better=True), n_jobs=1, **settings
    ).fit(X, y, eval_set=[(X_val, y_val)])
    assert by_loss.best_iteration_ == by_score.best_iteration_
    losses = by_loss.evals_result_["valid"]["brier"]
    np.testing.assert_allclose(by_score.evals_result_["valid"]["negated_brier"], -np.asarray(losses))
    assert by_loss.best_iteration_ == int(np.argmin(losses)) + 1


def test_estimator_refuses_a_bad_metric_before_training(data):
    X, y, *_ = data
    with pytest.raises(ValueError, match="must be one of"):
        FocalBoostClassifier(early_stopping_metric="precision").fit(X, y)


def test_xgbclassifier_metric_refuses_what_xgbclassifier_would_minimise_or_average():
    with pytest.raises(ValueError, match="XGBClassifier minimises a custom eval_metric"):
        fx.SklearnFocalMetric(LOSS, metric="average_precision")
    metric = fx.SklearnFocalMetric(LOSS, metric="log_loss")
    assert metric.__name__ == "log_loss"
    assert repr(metric).endswith("metric='log_loss')")
    y, margin = np.array([0.0, 1.0, 1.0]), np.array([-1.0, 2.0, 0.5])
    prob = LOSS.posterior_proba(margin)
    assert metric(y, margin) == pytest.approx(log_loss(y, prob), rel=1e-12)
