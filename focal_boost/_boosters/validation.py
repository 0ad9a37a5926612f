"""The validation metric that early stopping watches: the focal loss, or a metric of probabilities.

A booster trained on focal loss reports the focal loss of its validation data
by default, and early stopping keeps the round where that was lowest. Users
usually care about something else: the ranking of the rare class (average
precision, ROC AUC) or calibrated probabilities (log loss). Each
:class:`ValidationMetric` here scores the probabilities the model predicts,
after the posterior correction (:meth:`~focal_boost.FocalLoss.posterior_proba`),
from the booster's raw validation margins:

``"focal_loss"``
    The (weighted) mean focal loss of the margins, the training objective
    (lower is better; computed by the loss kernels).
``"log_loss"``
    ``-mean(w log p_y)`` of the posterior probabilities, computed in log
    space (no clipping): lower is better.
``"average_precision"``, ``"roc_auc"``
    Of the positive class's probability (binary), or the macro mean over the
    classes one-vs-rest (multiclass): higher is better.
a function ``(y_true, y_prob, sample_weight) -> float``
    A loss (lower is better), called with class codes ``0..K-1``, the
    positive class's probabilities ``(n,)`` (binary) or ``(n, K)``, and the
    weights or None. :class:`ValidationMetric` gives one its direction and name.

The focal loss and the log loss are weighted means of per-row terms
(:attr:`ValidationMetric.decomposable`), so workers of a distributed run can
add up their sums; the ranking metrics and functions need every row at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["FOCAL_LOSS", "NAMED_METRICS", "ValidationMetric", "validation_metric"]


@dataclass(frozen=True)
class ValidationMetric:
    """A validation metric of predicted probabilities, with its direction, for early stopping.

    Parameters
    ----------
    function : callable
        ``function(y_true, y_prob, sample_weight) -> float``: ``y_true`` the
        class codes ``0..K-1``, ``y_prob`` the positive class's probability
        ``(n,)`` for a binary model or the ``(n, K)`` class probabilities,
        ``sample_weight`` the validation weights or None. Probabilities are
        those of ``predict_proba``: after the posterior correction.
    greater_is_better : bool
        Whether early stopping keeps the round with the largest value (a
        score) or the smallest (a loss).
    name : str, optional
        The name in ``evals_result``; default the function's ``__name__``.
    """

    function: Callable[[np.ndarray, np.ndarray, np.ndarray | None], float] | None
    greater_is_better: bool
    name: str | None = None
    #: ``rows(log_proba, codes) -> per-row terms`` when the metric is their weighted mean.
    rows: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.function is not None and not callable(self.function):
            raise TypeError(
                f"a ValidationMetric's function must be callable (y_true, y_prob, sample_weight) -> float, "
                f"got {type(self.function).__name__}"
            )
        if not isinstance(self.greater_is_better, bool | np.bool_):
            raise TypeError(f"greater_is_better must be True or False, got {self.greater_is_better!r}")
        object.__setattr__(self, "greater_is_better", bool(self.greater_is_better))
        if self.name is None:
            if self.function is None:
                raise TypeError("a ValidationMetric needs a function")
            name = getattr(self.function, "__name__", None) or type(self.function).__name__
            object.__setattr__(self, "name", str(name))
        elif not isinstance(self.name, str) or not self.name:
            raise TypeError(f"a ValidationMetric's name must be a non-empty string, got {self.name!r}")

    def __reduce__(self) -> Any:
        """A named metric unpickles as the one of :data:`NAMED_METRICS` (on a Dask worker, say)."""
        if NAMED_METRICS.get(self.name) is self:
            return validation_metric, (self.name,)
        return super().__reduce__()

    @property
    def is_focal_loss(self) -> bool:
        """Whether this is the focal loss of the margins, which the booster metric computes itself."""
        return self.function is None and self.rows is None

    @property
    def decomposable(self) -> bool:
        """Whether the value is a weighted mean of per-row terms (what distributed workers can add up)."""
        return self.is_focal_loss or self.rows is not None

    def sums(
        self, loss: Any, y: np.ndarray, margin: np.ndarray, weight: np.ndarray | None
    ) -> tuple[float, float]:
        """``(sum of weighted terms, sum of weights)`` of a decomposable probability metric."""
        codes = _codes(y, margin)
        terms = self.rows(loss.posterior_log_proba(margin), codes)
        if weight is None:
            return float(np.sum(terms, dtype=np.float64)), float(codes.shape[0])
        return float(np.dot(weight, terms)), float(np.sum(weight, dtype=np.float64))

    def value(self, loss: Any, y: np.ndarray, margin: np.ndarray, weight: np.ndarray | None) -> float:
        """The metric of the posterior probabilities of ``margin`` against labels ``y``."""
        codes = _codes(y, margin)
        prob = loss.posterior_proba(margin)
        if prob.shape[1] == 2:
            prob = prob[:, 1]
        value = self.function(codes, prob, weight)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"the validation metric {self.name!r} returned {type(value).__name__}, not a number"
            ) from None


def _codes(y: Any, margin: np.ndarray) -> np.ndarray:
    """Labels as class codes, checked: integers in ``0..K-1`` for the margin's ``K`` classes."""
    y = np.asarray(y)
    n_classes = 2 if margin.ndim == 1 else margin.shape[1]
    codes = y.astype(np.int64)
    bad = ~((y >= 0) & (y < n_classes) & (codes == y))
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} validation labels are not class codes 0..{n_classes - 1} "
            f"(e.g. {y[bad][:3].tolist()})"
        )
    return codes


def _log_loss_rows(log_proba: np.ndarray, codes: np.ndarray) -> np.ndarray:
    return -log_proba[np.arange(codes.shape[0]), codes]


def _one_vs_rest(score_name: str) -> Callable[..., float]:
    """scikit-learn's binary ranking score ``score_name``, as the macro mean over the classes one-vs-rest
    for multiclass probabilities (imported on use: the command line reads the names without it)."""

    def macro(y_true: np.ndarray, y_prob: np.ndarray, sample_weight: np.ndarray | None) -> float:
        from sklearn import metrics

        score = getattr(metrics, score_name)
        if y_prob.ndim == 1:
            return float(score(y_true, y_prob, sample_weight=sample_weight))
        present = [k for k in range(y_prob.shape[1]) if 0 < np.count_nonzero(y_true == k) < y_true.shape[0]]
        if not present:
            raise ValueError("the validation data hold one class only: a ranking metric is undefined")
        return float(
            np.mean([score(y_true == k, y_prob[:, k], sample_weight=sample_weight) for k in present])
        )

    macro.__name__ = score_name.removesuffix("_score")
    return macro


#: The training objective's mean: computed by the booster metric's own kernels, not from probabilities.
#: (Named metrics without a function are computed by the booster metric or from :attr:`rows`.)
FOCAL_LOSS = ValidationMetric(None, False, "focal_loss")


#: The metrics known by name.
NAMED_METRICS = {
    "focal_loss": FOCAL_LOSS,
    "log_loss": ValidationMetric(None, False, "log_loss", rows=_log_loss_rows),
    "average_precision": ValidationMetric(_one_vs_rest("average_precision_score"), True, "average_precision"),
    "roc_auc": ValidationMetric(_one_vs_rest("roc_auc_score"), True, "roc_auc"),
}


def validation_metric(spec: Any) -> ValidationMetric:
    """The metric ``spec`` names: a key of :data:`NAMED_METRICS`, a :class:`ValidationMetric` or a loss.

    None is the focal loss. A plain function is a loss (lower is better); one
    named like a score (``*_score``, scikit-learn's naming for greater is
    better) is refused, as minimising it would silently pick the worst round.
    """
    if spec is None:
        return FOCAL_LOSS
    if isinstance(spec, ValidationMetric):
        return spec
    if isinstance(spec, str):
        if spec in NAMED_METRICS:
            return NAMED_METRICS[spec]
        raise ValueError(
            f"early_stopping_metric must be one of {sorted(NAMED_METRICS)}, a function (y_true, y_prob, "
            f"sample_weight) -> float or a focal_boost.metrics.ValidationMetric; got {spec!r}"
        )
    if callable(spec):
        name = getattr(spec, "__name__", type(spec).__name__)
        if name.endswith("_score") or name == "score":
            raise ValueError(
                f"early_stopping_metric={name} looks like a score (greater is better), but a plain function "
                f"is minimised as a loss: pass focal_boost.metrics.ValidationMetric({name}, "
                "greater_is_better=True) (or greater_is_better=False if it is a loss)"
            )
        return ValidationMetric(spec, False, name)
    raise TypeError(
        f"early_stopping_metric must be a name ({', '.join(sorted(NAMED_METRICS))}), a function or a "
        f"ValidationMetric; got {type(spec).__name__}"
    )
