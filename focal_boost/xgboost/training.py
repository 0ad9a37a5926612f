"""One recipe for an XGBoost training run with focal loss, shared by its three paths.

:func:`focal_boost.xgboost.train` (``xgboost.train`` on the caller's
DMatrix), :func:`focal_boost.xgboost.train_on_device` (the device-resident
loop of :mod:`focal_boost.xgboost.resident`) and :func:`focal_boost.dask.xgboost_train`
(``xgboost.dask.train``) differ only in the booster's train function and in
how their data are built. :func:`boost` takes those two as arguments and does
the rest, once:

1. the margin layout from ``params`` (:func:`margin_columns`);
2. the loss with ``alpha="balanced"`` fixed and the initial score, from the
   caller's ``loss_and_init`` (labels on this machine, or class totals
   computed on a cluster);
3. the training parameters: ``objective`` dropped, ``base_score`` the binary
   initial score (a multiclass one goes into the data's ``base_margin``),
   XGBoost's default metric off;
4. the objective and the metric (the focal loss, or the caller's
   ``early_stopping_metric``), with one thread-count policy;
5. the callbacks: the metric's exact values written back into XGBoost's
   history, early stopping on them in the metric's direction, the caller's own;
6. the training record (loss and initial score) written into the booster.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from focal_boost._boosters import record as _record
from focal_boost._boosters.frames import as_pandas
from focal_boost._boosters.objective import (
    LossAndInit,
    sharing_one_preparation,
    thread_count,
    training_loss_and_init,
)
from focal_boost._boosters.record import TrainingRecord
from focal_boost._boosters.validation import ValidationMetric, validation_metric
from focal_boost.loss import FocalLoss
from focal_boost.xgboost.history import RememberingMetric, exact_history, stopping_direction
from focal_boost.xgboost.objective import FocalObjective, _weights, _xgboost


def margin_columns(params: Mapping[str, Any]) -> int | None:
    """The margin layout ``params`` ask XGBoost for: None (one margin per row) or ``num_class``.

    ``num_class`` above 2 is multiclass; ``num_class=2`` given explicitly is a
    two-column softmax; unset, 0 or 1 is binary.
    """
    n_classes = int(params.get("num_class", 0) or 0)
    return n_classes if n_classes > 2 or (n_classes == 2 and "num_class" in params) else None


@dataclass(frozen=True)
class XGBoostRun:
    """What a training run decided before boosting: handed to the caller's data factory."""

    #: The loss to train with, ``alpha="balanced"`` fixed from the training data.
    loss: FocalLoss
    #: The initial score: 0-d (binary) or one value per class.
    init: np.ndarray
    #: The margin layout (None: one margin per row).
    columns: int | None
    #: XGBoost's training parameters.
    params: dict[str, Any]
    #: The threads of the objective and metric kernels (the booster's ``nthread``).
    n_threads: int | None
    #: The validation metric reported and watched by early stopping.
    validation: ValidationMetric

    def objective_and_metric(self) -> tuple[FocalObjective, RememberingMetric]:
        """The run's objective and metric, sharing one prepared loss."""
        objective = FocalObjective(self.loss, n_threads=self.n_threads)
        metric = RememberingMetric(self.loss, n_threads=self.n_threads, metric=self.validation)
        return sharing_one_preparation(objective, metric, self.columns)

    def base_margin(self, n_rows: int) -> np.ndarray | None:
        """The ``(n_rows, K)`` base margin of a multiclass run's data (None for binary)."""
        return None if self.columns is None else np.broadcast_to(self.init, (n_rows, self.init.shape[0]))


#: ``make_data(run) -> (dtrain, [(data, name), ...])``: the training data and the evaluation sets.
DataFactory = Callable[[XGBoostRun], tuple[Any, list[tuple[Any, str]]]]


def boost(
    train_function: Callable[..., Any],
    make_data: DataFactory,
    params: Mapping[str, Any],
    num_boost_round: int,
    *,
    loss: FocalLoss | None,
    loss_and_init: LossAndInit,
    n_threads: int | None = None,
    early_stopping_rounds: int | None = None,
    early_stopping_metric: Any = None,
    maximize: bool | None = None,
    callbacks: Sequence[Any] | None = None,
    remembered_labels: tuple[np.ndarray, np.ndarray | None] | None = None,
    booster_of: Callable[[Any], Any] = lambda result: result,
    builtin: bool = False,
    **kwargs: Any,
) -> Any:
    """Train with focal loss: ``train_function`` on the data of ``make_data``, with the recipe above.

    ``train_function`` is called as ``xgboost.train`` is; ``booster_of`` finds
    the booster in what it returns (``xgboost.dask.train``: a dict).
    ``remembered_labels``: ``dtrain``'s labels and weights, read once.
    ``early_stopping_metric`` sets ``maximize``. ``builtin``: XGBoost's own
    log loss where the loss is exactly that (:attr:`FocalLoss.is_log_loss`)
    and so is the validation metric: the same model, cheaper.
    """
    validation = validation_metric(early_stopping_metric)
    maximize = stopping_direction(validation, maximize)
    columns = margin_columns(params)
    trained_loss, init = loss_and_init(loss, columns)
    training_params = {key: value for key, value in params.items() if key != "objective"}
    training_params.update(
        base_score=0.0 if columns is not None else float(init), disable_default_eval_metric=True
    )
    threads = thread_count(params, n_threads, "nthread", "n_jobs")
    run = XGBoostRun(
        trained_loss, np.asarray(init, dtype=np.float64), columns, training_params, threads, validation
    )
    dtrain, evals = make_data(run)
    if builtin and run.loss.is_log_loss and validation.name in ("focal_loss", "log_loss"):
        return _boost_builtin(
            train_function, run, dtrain, evals, num_boost_round, early_stopping_rounds, callbacks, kwargs
        )
    objective, metric = run.objective_and_metric()
    if remembered_labels is not None:
        objective.remember(dtrain, *remembered_labels)
    exact = exact_history(metric, [name for _, name in evals], early_stopping_rounds, maximize)
    result = train_function(
        training_params,
        dtrain,
        num_boost_round,
        evals=evals,
        obj=objective,
        custom_metric=metric,
        callbacks=[exact, *(callbacks or [])],
        **kwargs,
    )
    _record.write_xgboost(booster_of(result), TrainingRecord(run.loss, run.init))
    return result


def _boost_builtin(
    train_function: Callable[..., Any],
    run: XGBoostRun,
    dtrain: Any,
    evals: list[tuple[Any, str]],
    num_boost_round: int,
    early_stopping_rounds: int | None,
    callbacks: Sequence[Any] | None,
    kwargs: dict[str, Any],
) -> Any:
    """:func:`boost` with XGBoost's own log loss: objective, metric and (binary) intercept."""
    params = {key: value for key, value in run.params.items() if key != "disable_default_eval_metric"}
    if run.columns is None:
        # The intercept of binary:logistic is given as a probability; XGBoost stores its logit.
        params.update(
            objective="binary:logistic", eval_metric="logloss", base_score=_sigmoid(float(run.init))
        )
    else:  # the initial score is in every DMatrix's base_margin already
        params.update(objective="multi:softprob", eval_metric="mlogloss")
    result = train_function(
        params,
        dtrain,
        num_boost_round,
        evals=evals,
        early_stopping_rounds=early_stopping_rounds,
        callbacks=list(callbacks or []),
        **kwargs,
    )
    history = kwargs.get("evals_result")
    if history is not None:  # under the validation metric's name, as the focal metric reports it
        name = run.validation.name
        for curves in history.values():
            for builtin_name in ("logloss", "mlogloss"):
                if builtin_name in curves:
                    curves[name] = curves.pop(builtin_name)
    _record.write_xgboost(result, TrainingRecord(run.loss, run.init))
    return result


def _sigmoid(margin: float) -> float:
    return (
        float(1.0 / (1.0 + np.exp(-margin)))
        if margin >= 0
        else float(np.exp(margin) / (1.0 + np.exp(margin)))
    )


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

    return boost(
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
    dmatrix = data if isinstance(data, xgb.DMatrix) else xgb.DMatrix(as_pandas(data), enable_categorical=True)
    kwargs["iteration_range"] = best_iteration_range(booster, kwargs.get("iteration_range"))
    margin = booster.predict(dmatrix, output_margin=True, **kwargs).astype(np.float64)
    if init.ndim == 1 and dmatrix.get_base_margin().size == 0:
        # Multiclass: the initial score is a base margin, which XGBoost only adds to the trees' sum.
        margin += init
    return margin


def predict_margin_in_place(booster: Any, data: Any, iteration_range: tuple[int, int]) -> np.ndarray:
    """:func:`predict_margin` of NumPy, SciPy CSR or pandas ``data`` by ``Booster.inplace_predict``.

    The same trees on the same float32 values as through a DMatrix, without
    building one (most of the time of a prediction of a few rows).
    """
    init = training_record(booster).init_score
    margin = booster.inplace_predict(data, iteration_range=iteration_range, predict_type="margin")
    margin = np.asarray(margin, dtype=np.float64)
    if init.ndim == 1:  # multiclass: the initial score is a base margin, which XGBoost only adds
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
