"""One recipe for a LightGBM training run with focal loss, shared by its two paths.

:func:`focal_boost.lightgbm.train` (``lightgbm.train`` on the caller's
Datasets) and the Dask backend (``lightgbm.dask.DaskLGBMClassifier`` on Dask
collections) differ only in the booster's train function and in how their
data get the initial score. :func:`boost` takes those two as arguments and
does the rest, once, as :func:`focal_boost.xgboost.training.boost` does for
XGBoost:

1. the margin layout from ``params`` (:func:`margin_columns`);
2. the loss with ``alpha="balanced"`` fixed and the initial score, from the
   caller's ``loss_and_init``;
3. the training parameters: the focal objective in ``params["objective"]``,
   LightGBM's own metric off, the focal metric (or the caller's
   ``early_stopping_metric``) as ``feval``, one thread-count policy;
4. the training record (loss and initial score) kept on the booster.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from focal_boost._boosters import record as _record
from focal_boost._boosters.data import is_frame
from focal_boost._boosters.frames import as_pandas
from focal_boost._boosters.objective import (
    LossAndInit,
    sharing_one_preparation,
    thread_count,
    training_loss_and_init,
)
from focal_boost._boosters.record import TrainingRecord
from focal_boost._boosters.validation import validation_metric
from focal_boost._util.files import write_atomically
from focal_boost.lightgbm.objective import FocalMetric, FocalObjective, _constructed, _lightgbm, _weights
from focal_boost.loss import FocalLoss


def margin_columns(params: Mapping[str, Any]) -> int | None:
    """The margin layout ``params`` ask LightGBM for: None (one margin per row) or ``num_class`` above 1."""
    n_classes = int(params.get("num_class", 1) or 1)
    return n_classes if n_classes > 1 else None


@dataclass(frozen=True)
class LightGBMRun:
    """What a training run decided before boosting: handed to the caller's data step."""

    #: The loss to train with, ``alpha="balanced"`` fixed from the training data.
    loss: FocalLoss
    #: The initial score: 0-d (binary) or one value per class.
    init: np.ndarray
    #: The margin layout (None: one margin per row).
    columns: int | None
    #: The threads of the objective and metric kernels (the booster's ``num_threads``).
    n_threads: int | None

    def init_scores(self, n_rows: int) -> np.ndarray:
        """The initial score of ``n_rows`` rows, as a Dataset's ``init_score``: ``(n,)`` or ``(n, K)``."""
        if self.init.ndim == 0:
            return np.full(n_rows, float(self.init))
        return np.broadcast_to(self.init, (n_rows, self.init.shape[0])).copy()


def boost(
    train_function: Callable[..., Any],
    prepare_data: Callable[[LightGBMRun], Any],
    params: Mapping[str, Any],
    num_boost_round: int,
    *,
    loss: FocalLoss | None,
    loss_and_init: LossAndInit,
    n_threads: int | None = None,
    early_stopping_metric: Any = None,
    builtin: bool = False,
    **kwargs: Any,
) -> Any:
    """Train with focal loss: ``train_function`` after ``prepare_data``, with the recipe above.

    ``prepare_data(run)`` gives the data the initial score (and returns what
    ``train_function`` trains on); ``train_function`` is called as
    ``lightgbm.train`` is, ``(params, train_set, num_boost_round, feval=...,
    **kwargs)``, and returns the booster, which then holds the training record.
    ``builtin``: train with LightGBM's own ``binary`` / ``multiclass`` objective
    and log-loss metric where the loss is exactly the log loss
    (:attr:`FocalLoss.is_log_loss`) and the validation metric is that loss.
    """
    validation = validation_metric(early_stopping_metric)  # a bad one is an error before any data changes
    columns = margin_columns(params)
    trained_loss, init = loss_and_init(loss, columns)
    threads = thread_count(params, n_threads, "num_threads", "n_jobs")
    run = LightGBMRun(trained_loss, np.asarray(init, dtype=np.float64), columns, threads)
    train_set = prepare_data(run)
    if builtin and run.loss.is_log_loss and validation.name in ("focal_loss", "log_loss"):
        # LightGBM's own log loss: the same model (its multiclass Hessian convention is ours), without
        # a custom objective's per-round cost; the initial score is in the data already.
        objective, metric = (
            ("binary", "binary_logloss") if columns is None else ("multiclass", "multi_logloss")
        )
        training_params = {**params, "objective": objective, "metric": metric, "boost_from_average": False}
        booster = train_function(training_params, train_set, num_boost_round, **kwargs)
        for callback in kwargs.get("callbacks") or []:  # lightgbm.record_evaluation's history
            history = getattr(callback, "eval_result", None)
            for curves in history.values() if isinstance(history, dict) else []:
                if metric in curves:  # under the validation metric's name, as the focal metric reports it
                    curves[validation.name] = [float(value) for value in curves.pop(metric)]
    else:
        objective, feval = sharing_one_preparation(
            FocalObjective(run.loss, n_threads=threads),
            FocalMetric(run.loss, n_threads=threads, metric=validation),
            columns,
        )
        training_params = {**params, "objective": objective, "metric": "None"}
        booster = train_function(training_params, train_set, num_boost_round, feval=feval, **kwargs)
    _record.write_lightgbm(booster, TrainingRecord(run.loss, run.init))
    return booster


def train(
    params: Mapping[str, Any],
    train_set: Any,
    num_boost_round: int = 100,
    *,
    loss: FocalLoss | None = None,
    valid_sets: Sequence[Any] = (),
    n_threads: int | None = None,
    early_stopping_metric: Any = None,
    **kwargs: Any,
) -> Any:
    """``lightgbm.train`` with focal loss as objective and metric, and its initial score.

    ``params`` are LightGBM's (``num_class`` for multiclass; an ``objective``
    or ``metric`` in them is replaced). The initial score is
    ``loss.init_score`` on the training labels and weights (``alpha="balanced"``
    is fixed from them too), set as the ``init_score`` of ``train_set`` and of
    every Dataset in ``valid_sets`` (one already set is an error). Other keyword
    arguments go to ``lightgbm.train`` (``valid_names``, ``callbacks`` such as
    ``lightgbm.early_stopping``, ...). The loss and initial score are kept on
    the returned booster (:func:`training_record`; pickling keeps it, and so
    does :func:`save_model`, not LightGBM's own) for :func:`predict_margin` and
    :func:`predict_proba`.

    ``early_stopping_metric``: the metric reported for ``valid_sets`` and
    watched by early stopping: ``"focal_loss"`` (default), ``"log_loss"``,
    ``"average_precision"``, ``"roc_auc"`` of the posterior-corrected
    probabilities, a loss function ``(y_true, y_prob, sample_weight) -> float``
    or a :class:`~focal_boost.metrics.ValidationMetric` (its direction goes to
    LightGBM with each value).
    """
    from focal_boost.lightgbm import training as _lightgbm_run

    lgb = _lightgbm()
    y, weight = np.asarray(train_set.get_label()), _weights(train_set)

    def with_init_scores(run: Any) -> Any:
        for dataset in _distinct([train_set, *valid_sets]):
            _set_init_score(dataset, run)
        return train_set

    return _lightgbm_run.boost(
        lgb.train,
        with_init_scores,
        params,
        num_boost_round,
        loss=loss,
        loss_and_init=lambda loss, columns: training_loss_and_init(loss, y, weight, columns),
        n_threads=n_threads,
        early_stopping_metric=early_stopping_metric,
        valid_sets=list(valid_sets),
        builtin=True,
        **kwargs,
    )


def _distinct(objects: Sequence[Any]) -> list[Any]:
    """``objects`` without repeats by identity (the training set is often a validation set too)."""
    return list({id(obj): obj for obj in objects}.values())


def _set_init_score(dataset: Any, run: Any) -> None:
    existing = dataset.get_init_score() if _constructed(dataset) else dataset.init_score
    if existing is not None and len(existing):
        raise ValueError("this Dataset already has an init_score; focal_boost.lightgbm.train sets it")
    n = dataset.num_data() if _constructed(dataset) else len(dataset.get_label())
    dataset.set_init_score(run.init_scores(n))


def training_record(booster: Any) -> TrainingRecord:
    """The loss (``alpha="balanced"`` resolved) and the initial score ``booster`` was trained with.

    Kept on the booster by :func:`train`; pickling keeps it, and so do
    :func:`save_model` and :func:`load_model` (LightGBM's own ``save_model``
    writes only the trees).
    """
    return _record.read_lightgbm(booster)


def model_text(booster: Any, **kwargs: Any) -> str:
    """LightGBM's model text (``booster.model_to_string(**kwargs)``) with the training record's line.

    LightGBM's own loader ignores that line: ``lightgbm.Booster(model_str=...)``
    still loads the trees, and :func:`booster_from_text` the trees and the record.
    """
    return _record.lightgbm_text(booster, **kwargs)


def booster_from_text(text: str, where: str) -> Any:
    """The booster of a :func:`model_text`, with its training record; ``where`` names the text in errors."""
    lgb = _lightgbm()
    try:
        booster = lgb.Booster(model_str=text)
    except lgb.basic.LightGBMError as error:
        raise ValueError(
            f"{where} is not a LightGBM model LightGBM {lgb.__version__} can read: {error}"
        ) from error
    record = _record.record_in_lightgbm_text(text)
    if record is None:
        raise ValueError(
            f"{where} holds no focal_boost record: it was saved by LightGBM's own save_model, "
            "not by focal_boost.lightgbm.save_model"
        )
    _record.write_lightgbm(booster, record)
    return booster


def save_model(booster: Any, filename: str | os.PathLike, **kwargs: Any) -> None:
    """``booster.save_model(filename, **kwargs)`` that keeps the training record, written atomically.

    The file is :func:`model_text`: LightGBM's model text with one more line
    (``focal_boost:{...}``) that LightGBM's own loader ignores:
    ``lightgbm.Booster(model_file=...)`` still loads the trees, and
    :func:`load_model` the trees and the record.
    """
    text = model_text(booster, **kwargs)
    write_atomically(filename, lambda temporary: pathlib.Path(temporary).write_text(text))


def load_model(filename: str | os.PathLike) -> Any:
    """A booster saved by :func:`save_model`, with its training record."""
    return booster_from_text(pathlib.Path(filename).read_text(), str(filename))


def predict_margin(booster: Any, data: Any, **kwargs: Any) -> np.ndarray:
    """Raw margins, initial score included (``(n,)`` or ``(n, K)``), of a booster from :func:`train`.

    ``kwargs`` go to ``Booster.predict``. As LightGBM's ``predict`` does, the
    trees used are those up to the best round when training stopped early
    (an explicit ``num_iteration`` wins; ``num_iteration=0`` is every tree).
    """
    init = training_record(booster).init_score
    data = as_pandas(data)  # polars, pyarrow: LightGBM's own Arrow path has no dictionary (category) type
    _refuse_text_columns(data)
    return np.asarray(booster.predict(data, raw_score=True, **kwargs), dtype=np.float64) + init


def _refuse_text_columns(data: Any) -> None:
    """A ValueError for a frame with text columns, which LightGBM refuses with a message about datasets."""
    if not is_frame(data):
        return
    text = [
        name
        for name, dtype in data.dtypes.items()
        if str(dtype) != "category"
        and (getattr(dtype, "kind", None) in ("O", "U", "T") or str(dtype) == "string")
    ]
    if text:
        raise ValueError(
            f"column {text[0]!r} holds text: LightGBM reads pandas 'category' columns only. Convert it with "
            "the training categories in their order (X[col].astype(pd.CategoricalDtype(categories))), "
            "or use FocalBoostClassifier, which recodes text to the training levels itself"
        )


def predict_proba(booster: Any, data: Any, *, posterior: bool = True, **kwargs: Any) -> np.ndarray:
    """Class probabilities ``(n, K)`` of a booster from :func:`train`, posterior-corrected by default."""
    loss = training_record(booster).loss
    margin = predict_margin(booster, data, **kwargs)
    return loss.posterior_proba(margin) if posterior else loss.predict_proba(margin)
