"""Scores of predicted probabilities: focal loss as a scikit-learn metric and scorer, and summaries."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import make_scorer
from sklearn.utils import assert_all_finite, check_consistent_length
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_array, column_or_1d

from focal_boost._kernels.checks import check_alpha, check_gamma
from focal_boost._util.sklearn_compat import PROBA_SCORER_KEYWORDS
from focal_boost.loss import FocalLoss

__all__ = ["focal_loss", "make_focal_loss_scorer", "recall_at_precision", "summary"]


def focal_loss(
    y_true: Any,
    y_prob: Any,
    *,
    gamma: Any = 2.0,
    alpha: Any = None,
    sample_weight: Any = None,
    labels: Any = None,
    normalize: bool = True,
) -> float:
    """Focal loss of predicted probabilities (Lin et al., 2017).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, of any type scikit-learn accepts.
    y_prob : array-like of shape (n_samples,) or (n_samples, n_classes)
        Predicted probabilities: of the positive (greater) class for a 1-D
        array, else one column per class in the order of ``labels``.
    gamma : float or array-like, default=2.0
        Focusing parameter ``>= 0``, or one value per class.
    alpha : float, array-like, "balanced" or None, default=None
        Class weights as in :class:`~focal_boost.FocalLoss`: a float is the
        positive-class weight of a binary problem; ``"balanced"`` uses the
        inverse class frequencies of ``y_true`` (of the data being scored, so
        prefer fixed values when comparing scores across data sets).
    sample_weight : array-like of shape (n_samples,), optional
    labels : array-like, optional
        All the classes, in the order of ``y_prob``'s columns. Default: the
        sorted distinct values of ``y_true`` (which then must contain every
        class, or ``y_prob``'s width tells the labels are missing).
    normalize : bool, default=True
        Return the (weighted) mean; else the (weighted) sum.

    Returns
    -------
    float

    Notes
    -----
    ``p_t`` is clipped below at the machine epsilon of ``y_prob``'s dtype, so a
    confident wrong prediction costs a large but finite amount, as in
    :func:`sklearn.metrics.log_loss`. ``1 - p_t`` is computed from the other
    classes' probability where that is more accurate (the binary case), so
    the loss of a confident right prediction keeps its relative precision.
    """
    gamma = check_gamma(gamma)
    alpha = check_alpha(alpha)
    y_prob, classes, codes = _checked_probabilities(y_true, y_prob, labels)
    n_classes = len(classes)
    eps = np.finfo(y_prob.dtype).eps
    if y_prob.ndim == 1 or n_classes == 2:
        positive = y_prob if y_prob.ndim == 1 else y_prob[:, 1]
        if y_prob.ndim == 2 and not np.allclose(y_prob.sum(axis=1), 1.0, rtol=0.0, atol=np.sqrt(eps)):
            raise ValueError("the rows of y_prob must sum to 1")
        # 1 - p_t exactly: the other class's probability.
        miss = np.where(codes == 1, 1.0 - positive, positive).astype(np.float64)
    else:
        if not np.allclose(y_prob.sum(axis=1), 1.0, rtol=0.0, atol=np.sqrt(eps)):
            raise ValueError("the rows of y_prob must sum to 1")
        miss = 1.0 - y_prob[np.arange(codes.shape[0]), codes].astype(np.float64)
    miss = np.clip(miss, 0.0, 1.0 - eps)  # p_t >= eps

    loss = FocalLoss(gamma, alpha)
    class_alpha = loss.class_weights(n_classes, codes.astype(np.float64) if isinstance(alpha, str) else None)
    class_gamma = loss.class_gammas(n_classes)
    per_sample = class_alpha[codes] * miss ** class_gamma[codes] * -np.log1p(-miss)

    weight = None if sample_weight is None else _check_sample_weight(sample_weight, y_prob, dtype=np.float64)
    if weight is not None and np.any(weight < 0):
        raise ValueError(f"sample_weight must be >= 0; {int(np.sum(weight < 0))} weights are negative")
    if weight is None:
        return float(per_sample.mean() if normalize else per_sample.sum())
    total = float(np.dot(weight, per_sample))
    return total / float(weight.sum()) if normalize else total


def _checked_probabilities(
    y_true: Any, y_prob: Any, labels: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y_prob, classes, codes)`` checked: probabilities in [0, 1], one column per class (1-D:
    binary), labels among ``labels``; ``codes`` index ``classes``."""
    y_true = column_or_1d(y_true)
    if y_true.dtype.kind == "f":
        assert_all_finite(y_true, input_name="y_true")
    check_classification_targets(y_true)
    y_prob = check_array(y_prob, ensure_2d=False, dtype=[np.float64, np.float32], input_name="y_prob")
    check_consistent_length(y_true, y_prob)
    if y_prob.ndim > 2:
        raise ValueError(f"y_prob must be 1-D or 2-D, got {y_prob.ndim} dimensions")
    if np.any((y_prob < 0.0) | (y_prob > 1.0)):
        raise ValueError("y_prob must contain probabilities in [0, 1]")

    classes = np.unique(y_true) if labels is None else np.asarray(labels)
    if labels is not None:
        unseen = np.setdiff1d(np.unique(y_true), classes)
        if unseen.size:
            raise ValueError(f"y_true has labels not in labels: {unseen.tolist()}")
    n_classes = max(len(classes), 2) if y_prob.ndim == 1 else y_prob.shape[1]
    if y_prob.ndim == 1 and len(classes) > 2:
        raise ValueError(
            f"y_prob is 1-D (binary) but there are {len(classes)} classes; give one column per class"
        )
    if len(classes) != n_classes:
        raise ValueError(
            f"y_prob has {n_classes} columns but there are {len(classes)} classes "
            f"({classes.tolist()}); pass labels= to name them all"
        )
    if n_classes < 2:
        raise ValueError("y_prob needs at least two classes")
    codes = np.searchsorted(classes, y_true) if labels is None else _codes(classes, y_true)
    return y_prob, classes, codes


def _codes(classes: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """Position of each label in ``classes`` (which need not be sorted)."""
    order = np.argsort(classes, kind="stable")
    return order[np.searchsorted(classes[order], y_true)]


def make_focal_loss_scorer(*, gamma: Any = 2.0, alpha: Any = None) -> Any:
    """A scorer (greater is better: the negated focal loss) for model selection.

    ``GridSearchCV(..., scoring=make_focal_loss_scorer(gamma=2))`` scores each
    candidate by the focal loss of its ``predict_proba``. Equivalent to
    ``make_scorer(focal_loss, greater_is_better=False,
    response_method="predict_proba", gamma=..., alpha=...)`` on
    scikit-learn >= 1.4, and works on older versions too.
    """
    check_gamma(gamma)
    check_alpha(alpha)
    return make_scorer(focal_loss, greater_is_better=False, gamma=gamma, alpha=alpha, **PROBA_SCORER_KEYWORDS)


def recall_at_precision(y_true: Any, y_score: Any, precision: float, *, pos_label: Any = None) -> float:
    """The largest recall of any threshold on ``y_score`` whose precision is at least ``precision``.

    "How many of the frauds do we catch if at most 1 alert in 10 may be a false
    alarm?" is ``recall_at_precision(y, score, 0.9)``. Returns 0 when no
    threshold reaches the precision.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels.
    y_score : array-like of shape (n_samples,)
        Scores or probabilities of the positive class.
    precision : float in (0, 1]
    pos_label : label, optional
        The positive class (default: 1, or the greater label).
    """
    from sklearn.metrics import precision_recall_curve

    if not 0.0 < precision <= 1.0:
        raise ValueError(f"precision must lie in (0, 1], got {precision!r}")
    precisions, recalls, _ = precision_recall_curve(y_true, y_score, pos_label=pos_label)
    reached = precisions >= precision
    return float(recalls[reached].max()) if np.any(reached) else 0.0


def summary(
    y_true: Any,
    y_prob: Any,
    classes: Any,
    *,
    precision: float = 0.9,
    gamma: Any = 2.0,
    alpha: Any = None,
    focal_loss_prob: Any = None,
    positive: Any = None,
) -> dict[str, float]:
    """The scores the command-line tool reports, for probabilities ``y_prob`` of shape (n, K).

    Binary (``positive`` is the positive class, default ``classes[1]``): average
    precision, ROC AUC and recall at ``precision`` of that class, Brier score,
    focal loss (with ``gamma``/``alpha``) and log loss. Multiclass: the same,
    with average precision, ROC AUC and recall one-vs-rest and macro-averaged,
    and the multiclass Brier score (mean squared distance to the one-hot label).

    ``focal_loss_prob``: the probabilities the focal loss is scored on
    (default ``y_prob``). A focal-trained model minimises the focal loss of
    its raw sigmoid/softmax output, not of its posterior-corrected
    probabilities, so pass the raw output there to score it on its objective.
    """
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score
    from sklearn.preprocessing import label_binarize

    classes = np.asarray(classes)
    given = np.asarray(y_prob)  # the log losses check that rows sum to 1 to the precision of their dtype
    y_prob = np.asarray(y_prob, dtype=np.float64)
    onehot = label_binarize(y_true, classes=classes)
    if classes.shape[0] == 2:
        onehot = np.column_stack([1 - onehot[:, 0], onehot[:, 0]])
    counts = onehot.sum(axis=0)
    # Ranking scores per class against the rest, for the classes both present and absent in y_true.
    if classes.shape[0] == 2:
        if positive is not None and positive not in classes.tolist():
            raise ValueError(f"positive class {positive!r} is not one of the classes {classes.tolist()}")
        ranking = [1 if positive is None else classes.tolist().index(positive)]
    else:
        ranking = [k for k in range(classes.shape[0]) if 0 < counts[k] < len(onehot)]
    return {
        "average precision": float(
            np.mean([average_precision_score(onehot[:, k], y_prob[:, k]) for k in ranking])
        ),
        "ROC AUC": float(np.mean([roc_auc_score(onehot[:, k], y_prob[:, k]) for k in ranking])),
        f"recall at precision {precision:g}": float(
            np.mean([recall_at_precision(onehot[:, k], y_prob[:, k], precision) for k in ranking])
        ),
        "Brier score": float(np.mean(np.sum((y_prob - onehot) ** 2, axis=1)))
        / (2.0 if classes.shape[0] == 2 else 1.0),
        "focal loss": focal_loss(
            y_true,
            given if focal_loss_prob is None else focal_loss_prob,
            gamma=gamma,
            alpha=alpha,
            labels=classes,
        ),
        "log loss": float(log_loss(y_true, given, labels=classes)),
    }
