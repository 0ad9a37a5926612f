"""focal_boost.metrics: focal loss of probabilities, and its scikit-learn scorer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import cross_val_score

from focal_boost import FocalLoss
from focal_boost.metrics import focal_loss, make_focal_loss_scorer


def _reference(y_codes, prob, gamma, alpha, weight=None):
    """The definition, one row at a time in Python floats."""
    total = norm = 0.0
    for i, k in enumerate(y_codes):
        p_t = max(float(prob[i, k]), np.finfo(float).eps)
        a = 1.0 if alpha is None else float(alpha[k])
        w = 1.0 if weight is None else float(weight[i])
        total += w * a * (1.0 - p_t) ** gamma[k] * -math.log(p_t)
        norm += w
    return total / norm


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_gamma_zero_is_log_loss(rng):
    y = rng.integers(0, 2, 200)
    p = rng.uniform(0.01, 0.99, 200)
    w = rng.uniform(0.1, 3.0, 200)
    assert focal_loss(y, p, gamma=0.0) == pytest.approx(log_loss(y, p), rel=1e-12)
    assert focal_loss(y, p, gamma=0.0, sample_weight=w) == pytest.approx(
        log_loss(y, p, sample_weight=w), rel=1e-12
    )
    labels = np.array(["cat", "dog", "emu"])[rng.integers(0, 3, 200)]
    P = rng.dirichlet(np.ones(3), 200)
    assert focal_loss(labels, P, gamma=0.0) == pytest.approx(log_loss(labels, P), rel=1e-12)


@pytest.mark.parametrize("gamma", [0.5, 2.0, 7.5])
def test_binary_matches_the_definition_and_the_margin_loss(rng, gamma):
    y = rng.integers(0, 2, 300)
    margin = rng.normal(0, 4, 300)
    p = expit(margin)
    w = rng.uniform(0.0, 2.0, 300)
    expected = _reference(y, np.column_stack([1 - p, p]), [gamma, gamma], [0.75, 0.25], w)
    one_column = focal_loss(y, p, gamma=gamma, alpha=0.25, sample_weight=w)
    two_columns = focal_loss(y, np.column_stack([1 - p, p]), gamma=gamma, alpha=0.25, sample_weight=w)
    assert one_column == pytest.approx(expected, rel=1e-10)
    assert two_columns == pytest.approx(expected, rel=1e-10)
    # The same number as FocalLoss computes from the margins (a different route: log-sigmoid).
    in_margin_space = FocalLoss(gamma, 0.25).loss(y, margin, w).sum() / w.sum()
    assert one_column == pytest.approx(in_margin_space, rel=1e-9)


def test_multiclass_per_class_gamma_and_alpha_and_label_order(rng):
    codes = rng.integers(0, 3, 300)
    margin = rng.normal(0, 3, (300, 3))
    P = softmax(margin, axis=1)
    gamma, alpha = [1.0, 2.0, 3.0], [0.2, 0.3, 0.5]
    expected = _reference(codes, P, gamma, alpha)
    names = np.array(["low", "mid", "high"])  # column order; not sorted
    got = focal_loss(names[codes], P, gamma=gamma, alpha=alpha, labels=names)
    assert got == pytest.approx(expected, rel=1e-10)
    assert got == pytest.approx(FocalLoss(gamma, alpha).loss(codes, margin).mean(), rel=1e-9)
    # A class missing from y_true is fine when labels names it.
    present = codes != 2
    assert focal_loss(names[codes][present], P[present], gamma=gamma, alpha=alpha, labels=names) == (
        pytest.approx(_reference(codes[present], P[present], gamma, alpha), rel=1e-10)
    )


def test_balanced_alpha_and_sum(rng):
    y = (rng.uniform(size=400) < 0.1).astype(int)
    p = rng.uniform(0.01, 0.99, 400)
    share = y.mean()
    alpha = [share, 1 - share]  # inverse frequencies, normalised
    expected = _reference(y, np.column_stack([1 - p, p]), [2.0, 2.0], alpha)
    assert focal_loss(y, p, alpha="balanced") == pytest.approx(expected, rel=1e-10)
    assert focal_loss(y, p, normalize=False) == pytest.approx(400 * focal_loss(y, p), rel=1e-12)


def test_extreme_probabilities_are_finite_and_precise():
    y = np.array([1, 1, 0, 0])
    p = np.array([0.0, 1.0, 1.0, 1e-300])
    per = [focal_loss(y[i : i + 1], p[i : i + 1], labels=[0, 1]) for i in range(4)]
    eps = np.finfo(float).eps
    assert per[0] == pytest.approx(-math.log(eps) * (1 - eps) ** 2)
    assert per[1] == 0.0
    assert per[2] == pytest.approx(-math.log(eps) * (1 - eps) ** 2)
    # 1 - p_t = 1e-300 exactly: loss ~ 1e-300^2 * 1e-300, underflows to 0 without a NaN.
    assert per[3] == 0.0
    # A confident right prediction keeps its relative precision (1 - p_t taken from the other class).
    assert focal_loss([0], [1e-12], labels=[0, 1], gamma=1.0) == pytest.approx(1e-24, rel=1e-9)
    # float32 probabilities clip at float32's epsilon.
    assert focal_loss([1], np.array([0.0], np.float32), labels=[0, 1], gamma=0.0) == pytest.approx(
        -math.log(np.finfo(np.float32).eps)
    )


@pytest.mark.parametrize(
    ("y", "prob", "kwargs", "message"),
    [
        ([0.0, np.nan, 1.0], [0.1, 0.2, 0.3], {}, "NaN"),
        ([0, 1, 1], [0.1, 1.2, 0.3], {}, r"probabilities in \[0, 1\]"),
        ([0, 1, 1], [0.1, 0.2], {}, "inconsistent numbers of samples"),
        ([0, 1, 2], [[0.2, 0.8], [0.5, 0.5], [0.1, 0.9]], {}, "2 columns but there are 3 classes"),
        ([0, 1, 2], [0.2, 0.5, 0.1], {}, "1-D"),
        ([0, 1], [[0.2, 0.7], [0.5, 0.5]], {}, "sum to 1"),
        ([0, 1, 2], [[0.2, 0.7, 0.1]] * 3, {"labels": [0, 1, 3]}, "not in labels"),
        ([0, 1], [0.2, 0.5], {"gamma": -1.0}, "gamma"),
        ([0, 1], [0.2, 0.5], {"alpha": 1.5}, "alpha"),
        ([0, 1], [0.2, 0.5], {"sample_weight": [1.0]}, "sample_weight"),
        ([0, 1], [0.2, 0.5], {"sample_weight": [1.0, -0.5]}, "sample_weight must be >= 0; 1 weights"),
        ([0, 1], [0.2, 0.5], {"sample_weight": [1.0, np.nan]}, "sample_weight contains NaN"),
        ([0.5, 1.5], [0.2, 0.5], {}, "continuous"),
    ],
)
def test_bad_input_is_named(y, prob, kwargs, message):
    with pytest.raises(ValueError, match=message):
        focal_loss(y, prob, **kwargs)


def test_scorer_in_cross_validation_uses_predict_proba():
    X, y = make_classification(600, 6, weights=[0.85], random_state=1)
    labels = np.array(["benign", "fraud"])[y]
    model = LogisticRegression()
    scores = cross_val_score(model, X, labels, cv=3, scoring=make_focal_loss_scorer(gamma=2.0, alpha=0.25))
    # By hand: the same folds (stratified, unshuffled), the negated focal loss of predict_proba.
    from sklearn.model_selection import StratifiedKFold

    expected = []
    for fit_rows, test_rows in StratifiedKFold(3).split(X, labels):
        fitted = LogisticRegression().fit(X[fit_rows], labels[fit_rows])
        prob = fitted.predict_proba(X[test_rows])
        expected.append(-focal_loss(labels[test_rows], prob, gamma=2.0, alpha=0.25))
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    assert np.all(scores < 0)


def test_recall_at_precision():
    from focal_boost.metrics import recall_at_precision

    y = np.array([1, 1, 0, 1, 0, 0, 1, 0])
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    # Thresholds from the top: precision 1, 1, 2/3, 3/4, 3/5, ... ; recall 1/4, 2/4, 2/4, 3/4, ...
    assert recall_at_precision(y, score, 1.0) == 0.5
    assert recall_at_precision(y, score, 0.75) == 0.75
    assert recall_at_precision(y, score, 0.5) == 1.0
    assert recall_at_precision(1 - y, score, 0.9) == 0.0  # never reached
    with pytest.raises(ValueError, match="precision"):
        recall_at_precision(y, score, 0.0)


def test_summary_binary_and_multiclass(rng):
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    from focal_boost.metrics import recall_at_precision, summary

    y = np.array(["no", "yes"])[rng.integers(0, 2, 300)]
    p = rng.uniform(0.01, 0.99, 300)
    P = np.column_stack([1 - p, p])
    scores = summary(y, P, ["no", "yes"], precision=0.8, gamma=1.0, alpha=0.25)
    positive = (y == "yes").astype(int)
    assert scores["average precision"] == pytest.approx(average_precision_score(positive, p))
    assert scores["ROC AUC"] == pytest.approx(roc_auc_score(positive, p))
    assert scores["recall at precision 0.8"] == recall_at_precision(positive, p, 0.8)
    assert scores["Brier score"] == pytest.approx(brier_score_loss(positive, p))
    assert scores["focal loss"] == pytest.approx(focal_loss(y, P, gamma=1.0, alpha=0.25))
    assert scores["log loss"] == pytest.approx(log_loss(y, P))

    codes = rng.integers(0, 3, 300)
    P = rng.dirichlet(np.ones(3), 300)
    scores = summary(codes, P, [0, 1, 2])
    onehot = np.eye(3)[codes]
    assert scores["Brier score"] == pytest.approx(np.mean(np.sum((P - onehot) ** 2, axis=1)))
    expected_ap = np.mean([average_precision_score(onehot[:, k], P[:, k]) for k in range(3)])
    assert scores["average precision"] == pytest.approx(expected_ap)


def test_summary_takes_float32_probabilities(rng):
    """What XGBClassifier.predict_proba returns: rows summing to 1 to float32 precision only."""
    from focal_boost.metrics import summary

    y = rng.integers(0, 2, 500)
    p = rng.uniform(0.01, 0.99, 500).astype(np.float32)
    P = np.column_stack([1 - p, p])
    # Exact rows in float32, not in float64: a float64 check at float64 precision would refuse them.
    assert not np.allclose(P.astype(np.float64).sum(axis=1), 1.0, rtol=0, atol=np.sqrt(np.finfo(float).eps))
    scores = summary(y, P, [0, 1])
    assert scores["focal loss"] == pytest.approx(focal_loss(y, P))
    assert scores["log loss"] == pytest.approx(log_loss(y, P))
