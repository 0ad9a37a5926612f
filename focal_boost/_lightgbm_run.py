"""One recipe for a LightGBM training run with focal loss, shared by its two paths.

:func:`focal_boost.lightgbm.train` (``lightgbm.train`` on the caller's
Datasets) and the Dask backend (``lightgbm.dask.DaskLGBMClassifier`` on Dask
collections) differ only in the booster's train function and in how their
data get the initial score. :func:`boost` takes those two as arguments and
does the rest, once, as :func:`focal_boost._xgboost_run.boost` does for
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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from focal_boost import _record
from focal_boost._adapter import LossAndInit, thread_count
from focal_boost._record import TrainingRecord
from focal_boost._stopping import validation_metric
from focal_boost.lightgbm import FocalMetric, FocalObjective
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
        training_params = {
            **params,
            "objective": FocalObjective(run.loss, n_threads=threads),
            "metric": "None",
        }
        feval = FocalMetric(run.loss, n_threads=threads, metric=validation)
        booster = train_function(training_params, train_set, num_boost_round, feval=feval, **kwargs)
    _record.write_lightgbm(booster, TrainingRecord(run.loss, run.init))
    return booster
