"""XGBoost's custom objective and metric for focal loss, in its two call forms.

:class:`FocalObjective` and :class:`FocalMetric` are what ``xgboost.train``
takes (``f(margins, DMatrix)``); :class:`SklearnFocalObjective` and
:class:`SklearnFocalMetric` what ``XGBClassifier`` takes
(``f(y_true, y_pred, *, sample_weight)``). The focal math, the weights and the
Hessian policy are :class:`focal_boost._boosters.objective.BoosterObjective`'s;
here are XGBoost's conventions: float32 margins and gradients, its multiclass
Hessian factor, its collective for distributed runs.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from focal_boost._boosters.misuse import warn_raw_probabilities, wrapper_got_booster_data, wrong_data
from focal_boost._boosters.objective import BoosterMetric, BoosterObjective, weighted_mean
from focal_boost._kernels.team import xgboost_runtime as xgboost_openmp_runtime
from focal_boost._util.extras import require
from focal_boost.loss import FocalLoss

__all__ = [
    "FocalMetric",
    "FocalObjective",
    "SklearnFocalMetric",
    "SklearnFocalObjective",
    "multiclass_hessian_scale",
]


def multiclass_hessian_scale(n_classes: int) -> float:  # noqa: ARG001 - LightGBM's depends on it
    """XGBoost's multiclass Hessian factor, its softmax objective's ``2 p (1 - p)``: 2 for any K.

    The same call as :func:`focal_boost.lightgbm.multiclass_hessian_scale`.
    """
    return 2.0


def _xgboost() -> Any:
    return require("xgboost", "focal_boost.xgboost")


def _weights(dmatrix: Any) -> np.ndarray | None:
    weight = dmatrix.get_weight()
    return weight if weight.size else None


class FocalObjective(BoosterObjective):
    """Focal loss as ``xgboost.train(..., obj=FocalObjective(loss, n_threads=...))``.

    ``n_threads``: pass XGBoost's ``nthread`` so the two thread pools take turns.
    """

    _remembered: tuple[Any, np.ndarray, np.ndarray | None] | None = None

    # XGBoost hands over float32 margins and stores float32 gradients, and its OpenMP threads
    # spin between its parallel regions: they run the parallel kernel (focal_boost._kernels.team).
    float32_kernel = True
    openmp_runtime = staticmethod(xgboost_openmp_runtime)

    multiclass_hessian_scale = staticmethod(multiclass_hessian_scale)

    def remember(self, dtrain: Any, y: np.ndarray, weight: np.ndarray | None) -> None:
        """Use ``y`` and ``weight`` whenever called with ``dtrain`` (held weakly).

        ``DMatrix.get_label`` copies the labels out of XGBoost on every call
        (about 1 ms a round at a million rows); :func:`train` reads them once,
        as nothing changes them while ``xgboost.train`` runs.
        """
        self._remembered = (weakref.ref(dtrain), y, weight)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_remembered", None)  # a weak reference, meaningless elsewhere
        return state

    def __call__(self, predt: np.ndarray, dtrain: Any) -> tuple[np.ndarray, np.ndarray]:
        xgb = _xgboost()
        if not isinstance(dtrain, xgb.DMatrix):
            raise wrong_data(self, dtrain, "xgboost")
        if xgb.collective.get_world_size() > 1:
            return _agreeing_on_errors(self._gradients, predt, dtrain)
        return self._gradients(predt, dtrain)

    def _gradients(self, predt: np.ndarray, dtrain: Any) -> tuple[np.ndarray, np.ndarray]:
        remembered = self._remembered
        if remembered is not None and remembered[0]() is dtrain:
            return self.gradient_hessian(remembered[1], predt, remembered[2])
        return self.gradient_hessian(dtrain.get_label(), predt, _weights(dtrain))


def _agreeing_on_errors(compute: Any, *args: Any) -> Any:
    """``compute(*args)`` on every worker of a distributed run; if it fails on any, all raise its error.

    Without this, a bad partition makes one worker raise while the others
    fail with "connection closed", and the client sees whichever arrives first.
    The workers all-reduce a failure flag (one number per round) and the
    failing worker broadcasts its message, so every worker raises the same
    clear ``ValueError``.
    """
    collective = _xgboost().collective
    rank = collective.get_rank()
    result, message = None, None
    try:
        result = compute(*args)
    except (ValueError, TypeError) as error:
        message = f"{error} (in the focal objective on worker rank {rank})"
    failed = collective.allreduce(np.array([rank if message else -1], dtype=np.float64), collective.Op.MAX)
    root = int(failed[0])
    if root >= 0:
        raise ValueError(collective.broadcast(message if rank == root else None, root))
    return result


class FocalMetric(BoosterMetric):
    """The (weighted) mean focal loss, as ``xgboost.train(..., custom_metric=FocalMetric(loss))``.

    With a custom objective XGBoost hands a custom metric raw margins, which is
    what this expects. Lower is better, so early stopping can watch it
    (``maximize`` is false by default). XGBoost rounds a custom metric to six
    decimals before early stopping and ``evals_result`` see it, which is coarse
    for the small losses of large ``gamma``; :func:`train` restores the exact
    values. With ``metric`` (``"log_loss"``, ``"average_precision"``,
    ``"roc_auc"``, a function or a :class:`~focal_boost.metrics.ValidationMetric`)
    it reports that metric of the posterior-corrected probabilities instead
    (``maximize`` must then follow :attr:`greater_is_better`; :func:`train`
    sets it). In a distributed run the means are exact global means, and a
    ranking metric is computed on every worker's rows together.
    """

    def __call__(self, predt: np.ndarray, dmatrix: Any) -> tuple[str, float]:
        if not isinstance(dmatrix, _xgboost().DMatrix):
            raise wrong_data(self, dmatrix, "xgboost")
        y, weight = dmatrix.get_label(), _weights(dmatrix)
        if self.metric.decomposable:
            return self.name, _global_mean(*self.sums(y, predt, weight))
        if _xgboost().collective.get_world_size() > 1:
            y, predt, weight = _gathered(y, predt, weight)
        return self.name, self.score(y, predt, weight)


def _global_mean(total: float, mass: float) -> float:
    """``total / mass`` over all workers of a distributed run (XGBoost's collective), or locally.

    XGBoost averages a custom metric's per-worker values, which is the global
    mean only when every worker holds the same weight of data. Summing the
    numerators and denominators first gives every worker the exact global
    mean (which XGBoost's averaging then leaves unchanged).
    """
    collective = _xgboost().collective
    if collective.get_world_size() > 1:
        total, mass = collective.allreduce(np.array([total, mass], dtype=np.float64), collective.Op.SUM)
    return weighted_mean(total, mass)


def _gathered(y: np.ndarray, margin: np.ndarray, weight: np.ndarray | None) -> tuple:
    """Every worker's evaluation rows, on every worker of a distributed run (for a ranking metric).

    XGBoost's collective offers sums only, so each worker writes its rows into
    its own slice of arrays as long as all workers' rows together, zeros
    elsewhere, and one sum gives everyone all the rows (in rank order).
    """
    collective = _xgboost().collective
    rank, size = collective.get_rank(), collective.get_world_size()
    counts = np.zeros(size)
    counts[rank] = y.shape[0]
    counts = collective.allreduce(counts, collective.Op.SUM).astype(np.int64)
    start, total = int(counts[:rank].sum()), int(counts.sum())
    columns = 1 if margin.ndim == 1 else margin.shape[1]
    block = np.zeros((total, columns + 2))  # label, weight, margins
    part = block[start : start + y.shape[0]]
    part[:, 0] = y
    part[:, 1] = 1.0 if weight is None else weight
    part[:, 2:] = margin.reshape(y.shape[0], columns)
    block = collective.allreduce(block, collective.Op.SUM).reshape(total, columns + 2)  # it flattens
    full_margin = block[:, 2] if margin.ndim == 1 else block[:, 2:]
    return block[:, 0], full_margin, None if weight is None else block[:, 1]


class SklearnFocalObjective(FocalObjective):
    """Focal loss for ``xgboost.XGBClassifier(objective=SklearnFocalObjective(loss))``.

    Called as ``f(y_true, y_pred, *, sample_weight=None) -> (grad, hess)``:
    XGBoost's wrapper passes the weights only to a callable that names
    ``sample_weight``, and this one applies them, once. ``XGBClassifier`` sets no
    intercept for a custom objective (it reads ``base_score`` as a probability)
    and its ``predict_proba`` knows nothing of focal loss (it returns the raw
    sigmoid or softmax). Binary: pass ``base_score=sigmoid(loss.init_score(y, w))``.
    Multiclass (``XGBClassifier`` sets ``num_class`` itself and hands over
    ``(n, K)`` margins): pass ``base_margin=np.broadcast_to(loss.init_score(y, w,
    n_classes=K), (n, K))`` to ``fit`` and the same shape to every
    ``predict(..., output_margin=True, base_margin=...)``. Convert margins with
    ``loss.posterior_proba``.
    """

    def __init__(self, loss: FocalLoss | None = None, *, n_threads: int | None = None) -> None:
        super().__init__(loss, n_threads=n_threads)
        warn_raw_probabilities(
            "XGBClassifier",
            "convert model.predict(X, output_margin=True) (binary: fitted with base_score, see this class)",
        )

    def __call__(self, y_true, y_pred, *, sample_weight=None):  # type: ignore[override]
        if isinstance(y_pred, _xgboost().DMatrix):  # given to xgboost.train
            raise wrapper_got_booster_data(self, "xgboost")
        return self.gradient_hessian(y_true, y_pred, sample_weight)


class SklearnFocalMetric(FocalMetric):
    """The focal-loss metric for ``xgboost.XGBClassifier(eval_metric=SklearnFocalMetric(loss))``.

    Called as ``f(y_true, y_score, *, sample_weight=None)`` on raw margins
    (what XGBoost evaluates when the objective is custom); XGBoost names the
    metric after ``__name__``, "focal_loss", and minimises it for early stopping.
    ``metric="log_loss"`` reports the log loss of the posterior probabilities
    instead; a metric where greater is better is refused, as ``XGBClassifier``
    would minimise it.
    """

    def __init__(
        self, loss: FocalLoss | None = None, *, n_threads: int | None = None, metric: Any = None
    ) -> None:
        super().__init__(loss, n_threads=n_threads, metric=metric)
        if self.metric.greater_is_better or not self.metric.decomposable:
            raise ValueError(
                f"XGBClassifier minimises a custom eval_metric and averages it over workers, so "
                f"{self.name!r} cannot be one: use 'focal_loss' or 'log_loss' here, or "
                "FocalBoostClassifier(early_stopping_metric=...) / focal_boost.xgboost.train"
            )

    def __call__(self, y_true, y_score, *, sample_weight=None):  # type: ignore[override]
        if isinstance(y_score, _xgboost().DMatrix):  # given to xgboost.train
            raise wrapper_got_booster_data(self, "xgboost")
        weight = None if sample_weight is None or len(sample_weight) == 0 else np.asarray(sample_weight)
        return _global_mean(*self.sums(y_true, y_score, weight))
