"""XGBoost adapters: focal loss as a custom objective and evaluation metric.

Ways in, from most to least managed:

* :func:`train` wraps ``xgboost.train``: it sets the objective, the focal-loss
  metric and the initial score, and records the loss in the booster so that
  :func:`predict_margin` and :func:`predict_proba` add the initial score back
  and apply the link (and the posterior correction).
* :class:`FocalObjective` and :class:`FocalMetric` are the callables
  ``xgboost.train(params, dtrain, obj=..., custom_metric=...)`` takes; they read
  labels and weights from the ``DMatrix`` (XGBoost does not apply weights to a
  custom objective's gradients: we do, exactly once).
* :class:`SklearnFocalObjective` and :class:`SklearnFocalMetric` are the
  callables ``xgboost.XGBClassifier(objective=..., eval_metric=...)`` takes
  (``f(y_true, y_pred, *, sample_weight)``).
* :func:`train_on_device` trains on the GPU with margins, gradients and
  Hessians kept there for the whole run (CUDA kernels, ``Booster.boost``,
  ``inplace_predict``; see :mod:`focal_boost._resident`), and falls back to
  :func:`train` with a one-time warning where it cannot.

Margins are what XGBoost hands a custom objective: float32, shape ``(n,)`` for
binary and ``(n, K)`` for multiclass (``num_class``). Gradients come back as
float32, which is what XGBoost stores.

Multiclass Hessian: XGBoost's own softmax objective uses ``2 p (1 - p)`` as its
diagonal Hessian, twice the true diagonal, which keeps the per-coordinate
Newton steps of a diagonal approximation from overshooting. The objective here
applies the same factor (:func:`multiclass_hessian_scale`) to the focal
Hessian, so that ``gamma=0, alpha=None`` reproduces ``multi:softprob`` exactly.

The initial score: with a custom objective XGBoost estimates no intercept
(plain ``xgboost.train`` uses ``base_score=0.5`` as a raw margin). The binary
score goes into ``base_score``, which XGBoost then treats as a raw margin and
adds to every prediction; a multiclass score goes into each ``DMatrix``'s
``base_margin`` and is added back by the prediction helpers.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from focal_boost import _record
from focal_boost._adapter import (
    BoosterMetric,
    BoosterObjective,
    training_loss_and_init,
    weighted_mean,
    wrapper_got_booster_data,
    wrong_data,
)
from focal_boost._extras import require
from focal_boost._openmp import xgboost_runtime as xgboost_openmp_runtime
from focal_boost._record import TrainingRecord
from focal_boost.loss import FocalLoss

__all__ = [
    "DeviceFallbackWarning",
    "FocalMetric",
    "FocalObjective",
    "SklearnFocalMetric",
    "SklearnFocalObjective",
    "multiclass_hessian_scale",
    "predict_margin",
    "predict_proba",
    "train",
    "train_on_device",
    "training_record",
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
    # spin between its parallel regions: they run the parallel kernel (focal_boost._openmp).
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


def train(
    params: Mapping[str, Any],
    dtrain: Any,
    num_boost_round: int = 10,
    *,
    loss: FocalLoss | None = None,
    evals: Sequence[tuple[Any, str]] = (),
    n_threads: int | None = None,
    early_stopping_metric: Any = None,
    **kwargs: Any,
) -> Any:
    """``xgboost.train`` with focal loss as objective and metric, and its initial score.

    ``params`` are XGBoost's (set ``num_class`` for multiclass); an
    ``objective`` in them is ignored. The initial score is
    ``loss.init_score`` on ``dtrain``'s labels and weights (``alpha="balanced"``
    is fixed from them too), set as ``base_score`` (binary) or as the
    ``base_margin`` of ``dtrain`` and every DMatrix in ``evals`` (multiclass,
    where a ``base_margin`` already set is an error). Other keyword arguments
    go to ``xgboost.train`` (``early_stopping_rounds``, ``evals_result``,
    ``verbose_eval``, ``callbacks``, ...). The loss is recorded in the booster
    (attribute ``focal_boost``) for :func:`predict_margin` and :func:`predict_proba`.

    ``early_stopping_metric``: the metric reported for ``evals`` and watched by
    early stopping (the last set in ``evals``): ``"focal_loss"`` (default),
    ``"log_loss"``, ``"average_precision"``, ``"roc_auc"`` of the
    posterior-corrected probabilities, a loss function ``(y_true, y_prob,
    sample_weight) -> float`` or a :class:`~focal_boost.metrics.ValidationMetric`.
    Its direction sets ``maximize``; its values in ``evals_result`` are exact.
    """
    from focal_boost import _xgboost_run

    xgb = _xgboost()
    y, weight = dtrain.get_label(), _weights(dtrain)
    evals = list(evals)

    def given_matrices(run: Any) -> tuple[Any, list[tuple[Any, str]]]:
        if run.columns is not None:  # the multiclass initial score goes into every base_margin
            for dmatrix in {id(d): d for d in [dtrain, *(d for d, _ in evals)]}.values():
                if dmatrix.get_base_margin().size:
                    raise ValueError(
                        "this DMatrix already has a base_margin; focal_boost.xgboost.train sets it"
                    )
                dmatrix.set_base_margin(run.base_margin(dmatrix.num_row()))
        return dtrain, evals

    return _xgboost_run.boost(
        xgb.train,
        given_matrices,
        params,
        num_boost_round,
        loss=loss,
        loss_and_init=lambda loss, columns: training_loss_and_init(loss, y, weight, columns),
        n_threads=n_threads,
        early_stopping_rounds=kwargs.pop("early_stopping_rounds", None),
        early_stopping_metric=early_stopping_metric,
        maximize=kwargs.pop("maximize", None),
        callbacks=kwargs.pop("callbacks", None),
        remembered_labels=(y, weight),
        builtin=True,
        **kwargs,
    )


class DeviceFallbackWarning(UserWarning):
    """:func:`train_on_device` could not keep the work on the GPU and used XGBoost's standard path."""


#: Reasons already warned about (each is warned about once per process).
_FALLBACKS_WARNED: set[str] = set()


def train_on_device(
    params: Mapping[str, Any],
    X: Any,
    y: Any,
    num_boost_round: int = 10,
    *,
    sample_weight: Any = None,
    loss: FocalLoss | None = None,
    evals: Sequence[tuple] = (),
    early_stopping_rounds: int | None = None,
    early_stopping_metric: Any = None,
    evals_result: dict | None = None,
    verbose_eval: bool | int = False,
    callbacks: Sequence[Any] | None = None,
    n_threads: int | None = None,
    missing: float = np.nan,
    dtrain: Any = None,
) -> Any:
    """Train with focal loss keeping margins, gradients and Hessians on the booster's device.

    With ``params["device"] = "cuda"`` the margins of the training and
    evaluation sets stay in GPU memory for the whole run: the CUDA kernels
    compute gradients and Hessians there, ``Booster.boost`` takes them as
    device arrays and ``Booster.inplace_predict`` adds each round's trees to
    the margins (see :mod:`focal_boost._resident`). Nothing crosses to the host
    but one loss value per evaluation set and round (with a probability
    ``early_stopping_metric``, the evaluation margins too). Without ``"cuda"``
    the same loop runs on the CPU with NumPy.

    Parameters
    ----------
    params : dict
        XGBoost parameters (``num_class`` for multiclass; ``objective`` is ignored).
    X, y : array-like
        Features (NumPy, CuPy, cuDF, or pandas with numeric columns; NumPy and
        pandas are copied to the GPU once) and labels (0/1 or 0..K-1).
    sample_weight : array-like, optional
        Training weights (also used for XGBoost's weighted quantile sketch).
    evals : sequence of ``(X, y)`` or ``(X, y, weight)``, each optionally with a name last
        Evaluation sets in the estimator's form (unnamed ones are
        ``"valid_0"``, ``"valid_1"``, ... as in :func:`focal_boost.dask.xgboost_train`),
        scored with the focal loss after every round; the last one drives
        early stopping. Passing the training arrays themselves reuses the
        training margins.
    early_stopping_rounds, evals_result, verbose_eval, callbacks
        As in ``xgboost.train`` (XGBoost's own ``EarlyStopping`` and
        ``EvaluationMonitor`` run on the metric's history).
    early_stopping_metric
        The evaluation metric, as in :func:`train` (default the focal loss).
    dtrain : xgboost.DMatrix, optional
        The training matrix already built from ``X`` (with ``y`` and
        ``sample_weight``), to reuse across runs; by default a
        ``QuantileDMatrix`` is built.

    Returns
    -------
    xgboost.Booster
        The loss and initial score recorded as by :func:`train`, so
        :func:`predict_margin` and :func:`predict_proba` apply.

    Falls back to :func:`train` (XGBoost's standard custom-objective path,
    which copies margins to the host every round), with a one-time
    :class:`DeviceFallbackWarning` saying why, when the GPU path cannot run:
    CuPy or numba-cuda missing, no usable GPU, a booster other than
    ``gbtree``, or features that XGBoost cannot predict in place on the GPU
    (SciPy sparse, pandas categorical columns: pass cuDF).
    """
    from focal_boost import _xgboost_device as device
    from focal_boost import _xgboost_run

    xgb = _xgboost()
    on_gpu = str(params.get("device", "cpu")).startswith(("cuda", "gpu"))
    evals = _xgboost_run.evaluation_sets(evals)
    if early_stopping_rounds is not None and not evals:
        raise ValueError("early stopping needs at least one evaluation set in evals")
    run = {
        "num_boost_round": num_boost_round,
        "sample_weight": sample_weight,
        "loss": loss,
        "evals": evals,
        "early_stopping_rounds": early_stopping_rounds,
        "early_stopping_metric": early_stopping_metric,
        "evals_result": evals_result,
        "verbose_eval": verbose_eval,
        "callbacks": callbacks,
        "n_threads": n_threads,
        "missing": missing,
        "dtrain": dtrain,
    }
    if not on_gpu:
        return device.train_resident(xgb, params, X, y, engine_kind="host", **run)
    reason = device.gpu_path_unavailable(params, X, [item[0] for item in evals])
    if reason is None:
        return device.train_resident(xgb, params, X, y, engine_kind="cuda", **run)
    if reason not in _FALLBACKS_WARNED:
        _FALLBACKS_WARNED.add(reason)
        warnings.warn(
            f"focal_boost.xgboost.train_on_device: {reason}; training through XGBoost's standard "
            "custom-objective path instead, which copies the margins to the host and the gradients "
            "back every round",
            DeviceFallbackWarning,
            stacklevel=2,
        )
    return device.train_standard(xgb, params, X, y, **run)


def training_record(booster: Any) -> TrainingRecord:
    """The loss (``alpha="balanced"`` resolved) and the initial score ``booster`` was trained with.

    Written by :func:`train` and :func:`train_on_device` (and
    :func:`focal_boost.dask.xgboost_train`) as the booster attribute
    ``focal_boost``, which XGBoost keeps through ``save_model``/``load_model``
    and pickling.
    """
    return _record.read_xgboost(booster)


def best_iteration_range(booster: Any, iteration_range: Any = None) -> Any:
    """The trees a managed prediction uses: ``iteration_range`` if given, else up to the best round.

    After early stopping XGBoost's ``Booster.predict`` still uses every tree
    (``XGBClassifier`` and LightGBM use the best round); the managed
    predictions here follow the latter. Without early stopping: every tree.
    """
    if iteration_range is not None:
        return iteration_range
    best = booster.attr("best_iteration")  # set by XGBoost's EarlyStopping, kept by save/load
    return (0, 0) if best is None else (0, int(best) + 1)


def predict_margin(booster: Any, data: Any, **kwargs: Any) -> np.ndarray:
    """Raw margins, initial score included, of a booster from :func:`train`.

    ``data`` is a DMatrix (without a ``base_margin``) or anything
    ``xgboost.DMatrix`` accepts; ``kwargs`` go to ``Booster.predict``. The
    trees used are those up to the best round when training stopped early,
    as in ``XGBClassifier`` (an explicit ``iteration_range`` wins; ``(0, 0)``
    is every tree). Binary: shape ``(n,)``; multiclass ``(n, K)``.
    """
    xgb = _xgboost()
    init = training_record(booster).init_score
    dmatrix = data if isinstance(data, xgb.DMatrix) else xgb.DMatrix(data)
    kwargs["iteration_range"] = best_iteration_range(booster, kwargs.get("iteration_range"))
    margin = booster.predict(dmatrix, output_margin=True, **kwargs).astype(np.float64)
    if init.ndim == 1 and dmatrix.get_base_margin().size == 0:
        # Multiclass: the initial score is a base margin, which XGBoost only adds to the trees' sum.
        margin += init
    return margin


def predict_proba(booster: Any, data: Any, *, posterior: bool = True, **kwargs: Any) -> np.ndarray:
    """Class probabilities, shape ``(n, K)``, of a booster from :func:`train`.

    ``posterior=True`` (default) applies the focal posterior correction
    (:meth:`FocalLoss.posterior_proba`), which undoes focal loss's pull towards
    1/2 and ``alpha``'s shift; ``False`` returns the raw sigmoid/softmax.
    """
    loss = training_record(booster).loss
    margin = predict_margin(booster, data, **kwargs)
    return loss.posterior_proba(margin) if posterior else loss.predict_proba(margin)
