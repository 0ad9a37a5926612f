"""What the XGBoost and LightGBM adapters share: a focal objective and metric
over (labels, margins, weights), independent of how a booster hands them over.

Each booster's module subclasses these with its own call protocol and its own
multiclass Hessian convention.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from copy import deepcopy
from typing import Any

import numpy as np

from focal_boost._boosters.misuse import raise_missing_num_class, refuse_call_as_class
from focal_boost._boosters.validation import validation_metric
from focal_boost._kernels.checks import check_margin, check_n_threads
from focal_boost._kernels.prepared import PreparedLoss, prepare_loss
from focal_boost.loss import FocalLoss

#: A run recipe's ``loss_and_init(loss, margin_columns) -> (loss with alpha resolved, initial
#: score)``: :func:`training_loss_and_init` on local labels, or class totals on a cluster.
LossAndInit = Callable[[FocalLoss | None, "int | None"], tuple[FocalLoss, np.ndarray]]


def training_loss_and_init(
    loss: FocalLoss | None, y: np.ndarray, weight: np.ndarray | None, n_classes: int | None
) -> tuple[FocalLoss, np.ndarray]:
    """The loss to train with and its initial score, from the training labels and weights.

    ``alpha="balanced"`` is fixed from the training data (so every round and
    every evaluation set uses the same class weights), and the initial score
    is :meth:`FocalLoss.init_score`: a 0-d array (binary, ``n_classes=None``)
    or one value per class. Binary labels above 1 are an error that names
    ``num_class``.
    """
    loss = checked_loss(loss, "train", "train(params, data, loss=FocalLoss(gamma=2.0))")
    if n_classes is None:
        if y.size and np.nanmax(y) > 1:
            raise_missing_num_class(y)
        loss = loss.resolved(y, weight)
        return loss, np.asarray(loss.init_score(y, weight), dtype=np.float64)
    loss = loss.resolved(y, weight, n_classes=n_classes)
    return loss, np.asarray(loss.init_score(y, weight, n_classes=n_classes), dtype=np.float64)


def checked_loss(loss: Any, owner: str, example: str | None = None) -> FocalLoss:
    """``loss`` if it is a FocalLoss; else (None too: there is no default) a TypeError saying what to pass.

    ``example``: how to pass one to ``owner`` (default ``owner(FocalLoss(gamma=2.0))``).
    """
    example = example or f"{owner}(FocalLoss(gamma=2.0))"
    if loss is None:
        raise TypeError(
            f"{owner} has no default loss: pass one, e.g. {example}. FocalLoss()'s own alpha=0.25 (the "
            "paper's value for object detection) down-weights a rare positive class; alpha=None weighs "
            "the classes alike"
        )
    if loss is FocalLoss or (isinstance(loss, type) and issubclass(loss, FocalLoss)):
        raise TypeError(f"{owner} takes a FocalLoss instance, e.g. {example}, not the class FocalLoss")
    if not isinstance(loss, FocalLoss):
        raise TypeError(f"{owner} takes a FocalLoss (e.g. {example}), got {type(loss).__name__}")
    return loss


def thread_count(params: Any, explicit: int | None, *names: str) -> int | None:
    """``explicit`` if given, else the first of the booster's thread parameters ``names`` in ``params``."""
    if explicit is not None:
        return check_n_threads(explicit)
    for name in names:
        if params.get(name) is not None:
            return int(params[name])
    return None


def check_margin_shape(y: np.ndarray, margin: np.ndarray) -> None:
    """Binary margins with labels above 1: the booster was not told ``num_class``."""
    if margin.ndim == 1 and y.size and np.nanmax(y) > 1:
        raise_missing_num_class(y)


def kept_prepared(
    owner: Any, margin_columns: int | None, y: Any, weight: Any, *, hessian_scale: float = 1.0
) -> PreparedLoss:
    """``owner.loss`` prepared for a margin layout, kept on ``owner`` (an objective or metric) across rounds.

    Prepared on the first call and again only when the layout changes; a
    loss with ``alpha="balanced"`` not yet resolved is prepared on every call,
    as its weights are counted on each call's labels.
    """
    loss = owner.loss
    held = owner.__dict__.get("_prepared")
    if held is not None and held[0] is loss and held[1].margin_columns == margin_columns:
        return held[1]
    if isinstance(loss.alpha, str):
        return prepare_loss(loss, margin_columns, y, weight, hessian_scale=hessian_scale)
    prepared = prepare_loss(loss, margin_columns, hessian_scale=hessian_scale)
    owner._prepared = (loss, prepared)  # with the loss it was made from: ``loss`` may be reassigned
    return prepared


def sharing_one_preparation(objective: Any, metric: Any, margin_columns: int | None) -> tuple[Any, Any]:
    """A run's objective and metric holding one :class:`PreparedLoss`, prepared once for the run.

    The metric computes losses only, which do not read the objective's
    Hessian scale; both hold the same (resolved) loss.
    """
    prepared = objective.prepared(margin_columns)
    if metric.loss is objective.loss and not isinstance(objective.loss.alpha, str):
        metric._prepared = (metric.loss, prepared)
    return objective, metric


class BoosterObjective:
    """Focal gradient and Hessian in a booster's conventions.

    Parameters
    ----------
    loss : FocalLoss, optional
        The loss (required: there is no default).
    n_threads : int, optional
        Threads for the gradient kernel; pass the booster's own thread count
        so that the two thread pools take turns instead of competing.
    """

    #: dtype of the gradient and Hessian handed back (None: the margin's dtype).
    output_dtype: type | None = None
    #: Compute float32 margins in float32 where the kernels allow it (a booster that stores
    #: float32 gradients; :mod:`focal_boost._kernels.float32`).
    float32_kernel: bool = False
    #: ``() -> runtime or None``: the booster's OpenMP runtime, whose threads run a parallel float32
    #: kernel (:mod:`focal_boost._kernels.team`); None: the kernels' own thread pool.
    openmp_runtime: Callable[[], Any] | None = None
    #: memory order of multiclass ``(n, K)`` outputs, as the booster will flatten them.
    output_order = "C"

    def __new__(cls, *args: Any, **kwargs: Any) -> BoosterObjective:
        refuse_call_as_class(cls, args)
        return super().__new__(cls)

    def __init__(self, loss: FocalLoss | None = None, *, n_threads: int | None = None) -> None:
        self.loss = checked_loss(loss, type(self).__name__)
        self.n_threads = check_n_threads(n_threads)
        self._buffers = threading.local()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.loss!r}, n_threads={self.n_threads!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_buffers"]  # per-thread scratch, rebuilt on use
        state.pop("_prepared", None)  # derived from the loss, prepared again on use
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._buffers = threading.local()

    def __deepcopy__(self, memo: dict) -> BoosterObjective:
        """A deep copy that keeps the prepared loss (read-only): ``lightgbm.train`` deep-copies its params."""
        copy = type(self).__new__(type(self))
        copy.__setstate__(deepcopy(self.__getstate__(), memo))
        held = self.__dict__.get("_prepared")
        if held is not None and held[0] is self.loss:
            copy._prepared = (copy.loss, held[1])
        return copy

    def _outputs(self, margin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian arrays reused across rounds (per thread).

        Both boosters copy the gradients during the call, and fresh arrays of
        this size cost page faults on every round. They are made in the dtype
        and order the booster stores, so that it need not convert them again.
        """
        dtype = np.dtype(self.output_dtype or margin.dtype)
        buffers = self._buffers
        held = getattr(buffers, "arrays", None)
        if held is None or held[0].shape != margin.shape or held[0].dtype != dtype:
            order = self.output_order if margin.ndim == 2 else "C"
            held = (np.empty(margin.shape, dtype, order), np.empty(margin.shape, dtype, order))
            buffers.arrays = held
        return held

    @staticmethod
    def multiclass_hessian_scale(n_classes: int) -> float:
        """The booster's factor on the softmax diagonal Hessian (1 unless overridden)."""
        return 1.0

    def prepared(self, margin_columns: int | None, y: Any = None, weight: Any = None) -> PreparedLoss:
        """The loss prepared for this layout with the booster's Hessian scale (see :func:`kept_prepared`)."""
        scale = 1.0 if margin_columns is None else self.multiclass_hessian_scale(margin_columns)
        return kept_prepared(self, margin_columns, y, weight, hessian_scale=scale)

    def gradient_hessian(
        self, y: np.ndarray, margin: np.ndarray, weight: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian of the (weighted) focal loss, weights applied once.

        The Hessian includes the booster's multiclass factor
        (:meth:`multiclass_hessian_scale`), applied inside the kernel. An empty
        margin (a distributed worker whose partitions hold no rows) gives
        empty outputs.
        """
        margin = np.asarray(margin)
        if margin.shape[0] == 0 and np.shape(y)[0] == 0:
            dtype = np.dtype(self.output_dtype or (margin.dtype if margin.dtype.kind == "f" else np.float64))
            return np.empty(margin.shape, dtype), np.empty(margin.shape, dtype)
        grad_out, hess_out = (
            self._outputs(margin) if margin.dtype in (np.float32, np.float64) else (None, None)
        )
        try:
            margin = check_margin(margin)
            prepared = self.prepared(None if margin.ndim == 1 else margin.shape[1], y, weight)
            return prepared.gradient_hessian(
                y,
                margin,
                weight,
                gradient_out=grad_out,
                hessian_out=hess_out,
                n_threads=self.n_threads,
                float32_kernel=self.float32_kernel,
                openmp_runtime=None if self.openmp_runtime is None else self.openmp_runtime(),
            )
        except ValueError:
            check_margin_shape(np.asarray(y), margin)  # a clearer message when num_class is missing
            raise


def weighted_mean(total: float, mass: float) -> float:
    """``total / mass``; evaluation data whose weights sum to 0 have no mean loss, which is an error."""
    if mass > 0:
        return float(total / mass)
    raise ValueError(
        "the evaluation data's sample weights sum to 0 (or the data are empty): the mean focal "
        "loss is undefined; give the evaluation rows weight"
    )


class BoosterMetric:
    """A validation metric of raw margins: by default the (weighted) mean focal loss (lower is better).

    ``metric`` (:func:`focal_boost._boosters.validation.validation_metric`) chooses
    another: ``"log_loss"``, ``"average_precision"``, ``"roc_auc"`` or a
    function of the posterior-corrected probabilities.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> BoosterMetric:
        refuse_call_as_class(cls, args)
        return super().__new__(cls)

    def __init__(
        self, loss: FocalLoss | None = None, *, n_threads: int | None = None, metric: Any = None
    ) -> None:
        self.loss = checked_loss(loss, type(self).__name__)
        self.n_threads = check_n_threads(n_threads)
        self.metric = validation_metric(metric)
        self.name = self.metric.name
        self.__name__ = self.name  # what XGBClassifier names an eval_metric callable by

    @property
    def greater_is_better(self) -> bool:
        return self.metric.greater_is_better

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_prepared", None)  # derived from the loss, prepared again on use
        return state

    def __repr__(self) -> str:
        metric = "" if self.metric.is_focal_loss else f", metric={self.name!r}"
        return f"{type(self).__name__}({self.loss!r}, n_threads={self.n_threads!r}{metric})"

    def score(self, y: np.ndarray, margin: np.ndarray, weight: np.ndarray | None = None) -> float:
        """The metric of ``margin`` against ``y`` (for the focal loss, its weighted mean)."""
        if self.metric.decomposable:
            return weighted_mean(*self.sums(y, margin, weight))
        y, margin = np.asarray(y), np.asarray(margin)
        check_margin_shape(y, margin)
        return self.metric.value(self.loss, y, check_margin(margin), weight)

    def sums(
        self, y: np.ndarray, margin: np.ndarray, weight: np.ndarray | None = None
    ) -> tuple[float, float]:
        """``(sum of weighted terms, sum of weights)``: what distributed workers add up.

        Only for a metric that is a weighted mean of per-row terms (the focal
        loss, the log loss); a ranking metric needs every row at once.
        """
        if not self.metric.decomposable:
            raise ValueError(
                f"the validation metric {self.name!r} is not a mean over rows: it cannot be summed "
                "over parts of the data"
            )
        y = np.asarray(y)
        margin = np.asarray(margin)
        if y.shape[0] == 0:  # an empty partition on a distributed worker
            return 0.0, 0.0
        check_margin_shape(y, margin)
        margin = check_margin(margin)
        if not self.metric.is_focal_loss:
            return self.metric.sums(self.loss, y, margin, weight)
        prepared = kept_prepared(self, None if margin.ndim == 1 else margin.shape[1], y, weight)
        losses = prepared.loss(y, margin, weight, n_threads=self.n_threads)
        mass = float(y.shape[0]) if weight is None else float(np.sum(weight, dtype=np.float64))
        return float(np.sum(losses, dtype=np.float64)), mass
