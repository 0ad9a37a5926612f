"""The two boosters on a Dask cluster, behind the same interface as :mod:`focal_boost._estimator.backends`.

:class:`DaskXGBoostBackend` and :class:`DaskLightGBMBackend` take the
estimator's settings, loss and ``(X, codes, weight)`` Dask collections, and
return a :class:`~focal_boost._estimator.backends.TrainedModel` and lazy margins, as the
local backends do with arrays; :class:`~focal_boost.FocalBoostClassifier.fit`
drives either kind. Both train through their booster's run recipe
(:mod:`focal_boost.xgboost.training`, :mod:`focal_boost.lightgbm.training`), with the
loss and the initial score from class totals computed on the cluster.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from focal_boost._boosters.backend import BoostingSettings, Progress, TrainedModel
from focal_boost._boosters.evaluation import evaluation_sets
from focal_boost._boosters.misuse import raise_missing_num_class
from focal_boost._boosters.objective import checked_loss
from focal_boost._util.extras import require
from focal_boost._util.warnings import RawProbabilityWarning
from focal_boost.dask import data as _dask_data
from focal_boost.lightgbm import training as lightgbm_training
from focal_boost.lightgbm.backend import LightGBMBackend
from focal_boost.lightgbm.objective import SklearnFocalObjective as LightGBMSklearnObjective
from focal_boost.loss import FocalLoss
from focal_boost.xgboost import training as xgboost_training
from focal_boost.xgboost.backend import XGBoostBackend, rounds_to_predict_with


def losses_from_totals(y: Any, sample_weight: Any) -> Any:
    """A recipe's ``loss_and_init`` for labels on the cluster: the class totals, then the numbers.

    Labels and weights are checked on the cluster before any worker trains:
    an error raised inside one worker's objective would reach the client as
    the other workers' "connection closed" as often as not.
    """

    def loss_and_init(loss: FocalLoss | None, columns: int | None) -> tuple[FocalLoss, Any]:
        totals = _dask_data.class_totals(y, sample_weight, n_classes=columns)
        if columns is None and totals.shape[0] > 2:
            raise_missing_num_class(np.flatnonzero(totals > 0).astype(np.float64))  # the labels present
        loss = checked_loss(loss, "train", "train(client, params, X, y, loss=FocalLoss(gamma=2.0))")
        return _dask_data.loss_and_init_from_totals(loss, totals, multiclass=columns is not None)

    return loss_and_init


def xgboost_train(
    client: Any,
    params: Mapping[str, Any],
    X: Any,
    y: Any,
    num_boost_round: int,
    *,
    loss: FocalLoss | None,
    sample_weight: Any,
    eval_set: Sequence[tuple],
    **kwargs: Any,
) -> dict[str, Any]:
    """:func:`focal_boost.dask.xgboost_train`: ``xgboost.dask.train`` through the XGBoost run recipe."""
    dxgb = require("xgboost.dask", "focal_boost.dask.xgboost_train")
    X, _, y, sample_weight = _dask_data.aligned(X, y, sample_weight)
    evaluation = []
    for i, (X_eval, y_eval, w_eval, name) in enumerate(evaluation_sets(eval_set)):
        X_eval, _, y_eval, w_eval = _dask_data.aligned(X_eval, y_eval, w_eval, what=f"eval_set[{i}]: ")
        evaluation.append((X_eval, y_eval, w_eval, name))

    def dask_matrices(run: xgboost_training.XGBoostRun) -> tuple[Any, list[tuple[Any, str]]]:
        def matrix(X_part: Any, y_part: Any, w_part: Any = None) -> Any:
            margin = None
            if run.columns is not None:  # the multiclass initial score as a lazy base margin
                _, da = _dask_data.dask_modules()
                rows = X_part.to_dask_array(lengths=True) if hasattr(X_part, "to_dask_array") else X_part
                margin = da.broadcast_to(
                    da.asarray(run.init), (rows.shape[0], run.columns), chunks=(rows.chunks[0], -1)
                )
            return dxgb.DaskDMatrix(client, X_part, y_part, weight=w_part, base_margin=margin)

        evals = [(matrix(*item[:3]), item[3]) for item in evaluation]
        return matrix(X, y, sample_weight), evals

    return xgboost_training.boost(
        functools.partial(dxgb.train, client),
        dask_matrices,
        params,
        num_boost_round,
        loss=loss,
        loss_and_init=losses_from_totals(y, sample_weight),
        early_stopping_rounds=kwargs.pop("early_stopping_rounds", None),
        early_stopping_metric=kwargs.pop("early_stopping_metric", None),
        maximize=kwargs.pop("maximize", None),
        callbacks=kwargs.pop("callbacks", None),
        booster_of=lambda result: result["booster"],
        **kwargs,
    )


def xgboost_predict_margin(client: Any, booster: Any, X: Any, **kwargs: Any) -> Any:
    """:func:`focal_boost.dask.xgboost_predict_margin`: lazy margins, initial score included."""
    dxgb = require("xgboost.dask", "focal_boost.dask.xgboost_predict_margin")

    init = xgboost_training.training_record(booster).init_score
    kwargs["iteration_range"] = xgboost_training.best_iteration_range(booster, kwargs.get("iteration_range"))
    margin = dxgb.predict(client, booster, X, output_margin=True, **kwargs)
    if hasattr(margin, "to_dask_array"):  # a Dask DataFrame in gives a Dask Series/DataFrame out
        margin = margin.to_dask_array(lengths=True)
    if init.ndim == 1:  # multiclass: the initial score is a base margin, added to the trees' sum here
        margin = margin + init
    return margin.astype(np.float64)


def _refuse_progress(progress: Progress | None) -> None:
    if progress is not None:
        raise ValueError(
            "progress= reports rounds on the client, but on Dask the rounds run on the workers: "
            "it is not supported there"
        )


class DaskXGBoostBackend:
    """XGBoost ``hist`` trees on a Dask cluster, through ``xgboost.dask.train``."""

    name = "xgboost"

    def __init__(self, get_client: Callable[[], Any]) -> None:
        self.get_client = get_client  # called when the cluster is needed, not before
        self.local = XGBoostBackend()  # the parameters, and an ImportError naming the extra

    def train(
        self,
        settings: BoostingSettings,
        loss: FocalLoss,
        train: tuple[Any, Any, Any],
        valid: tuple[Any, Any, Any] | None,
        n_rounds: int,
        early_stopping_rounds: int | None,
        progress: Progress | None = None,
        early_stopping_metric: Any = None,
    ) -> TrainedModel:
        _refuse_progress(progress)
        result = xgboost_train(
            self.get_client(),
            self.local.params(settings),
            *train[:2],
            n_rounds,
            loss=loss,
            sample_weight=train[2],
            eval_set=[] if valid is None else [valid],
            early_stopping_rounds=early_stopping_rounds if valid is not None else None,
            early_stopping_metric=early_stopping_metric,
            verbose_eval=False,
        )
        booster = result["booster"]
        rounds = rounds_to_predict_with(booster, valid, early_stopping_rounds, n_rounds)
        record = xgboost_training.training_record(booster)
        history = {"valid": result["history"]["valid_0"]} if valid is not None else {}
        return TrainedModel(self.name, booster, record.loss, record.init_score, rounds, history)

    def margin(self, model: TrainedModel, X: Any, n_threads: int | None) -> Any:
        return xgboost_predict_margin(
            self.get_client(), model.booster, X, iteration_range=(0, model.n_rounds)
        )


class DaskLightGBMBackend:
    """LightGBM trees on a Dask cluster, through ``lightgbm.dask.DaskLGBMClassifier``.

    ``lightgbm.dask`` supports no callbacks: no validation data, no early stopping.
    """

    name = "lightgbm"

    def __init__(self, get_client: Callable[[], Any]) -> None:
        self.get_client = get_client  # called when the cluster is needed, not before
        self.local = LightGBMBackend()  # the parameters, and an ImportError naming the extra

    def train(
        self,
        settings: BoostingSettings,
        loss: FocalLoss,
        train: tuple[Any, Any, Any],
        valid: tuple[Any, Any, Any] | None,
        n_rounds: int,
        early_stopping_rounds: int | None,
        progress: Progress | None = None,
        early_stopping_metric: Any = None,
    ) -> TrainedModel:
        _refuse_progress(progress)
        if valid is not None:
            raise ValueError(
                "lightgbm.dask supports no callbacks: no eval_set or early stopping with LightGBM"
            )
        X, codes, weight = train
        rows = _dask_data.dask_array(X, "X").chunks[0]
        lgb = self.local.lgb

        def lazy_init_score(run: lightgbm_training.LightGBMRun) -> Any:
            _, da = _dask_data.dask_modules()
            if run.columns is None:
                return da.full(sum(rows), float(run.init), chunks=(rows,))
            return da.broadcast_to(da.asarray(run.init), (sum(rows), run.columns), chunks=(rows, -1))

        def dask_fit(params: dict[str, Any], init_score: Any, num_boost_round: int, **_: Any) -> Any:
            objective = params["objective"]  # the recipe's; LGBMClassifier calls it with arrays
            owned = ("objective", "metric", "num_class")  # LGBMClassifier sets num_class from the labels
            with warnings.catch_warnings():
                # Its raw predict_proba is never used: the booster is taken, with the loss recorded.
                warnings.simplefilter("ignore", RawProbabilityWarning)
                wrapped = LightGBMSklearnObjective(objective.loss, n_threads=objective.n_threads)
            model = lgb.DaskLGBMClassifier(
                client=self.get_client(),
                objective=wrapped,
                n_estimators=num_boost_round,
                **{key: value for key, value in params.items() if key not in owned},
            )

            def fit() -> Any:
                with warnings.catch_warnings():
                    # lightgbm.dask sets each worker's threads itself and says so for n_jobs on every fit.
                    warnings.filterwarnings(
                        "ignore", message="Parameter (n_jobs|num_threads|nthreads?) will be ignored"
                    )
                    return model.fit(X, codes, sample_weight=weight, init_score=init_score).booster_

            return fit_watching_workers(self.get_client(), fit)

        booster = lightgbm_training.boost(
            dask_fit,
            lazy_init_score,
            self.local.params(settings),
            n_rounds,
            loss=loss,
            loss_and_init=losses_from_totals(codes, weight),
            n_threads=settings.n_threads,
        )
        record = lightgbm_training.training_record(booster)
        return TrainedModel(self.name, booster, record.loss, record.init_score, n_rounds, {})

    def margin(self, model: TrainedModel, X: Any, n_threads: int | None) -> Any:
        booster, init, rounds = model.booster, model.init_score, model.n_rounds
        X_array = _dask_data.dask_array(X, "X")

        def margins(block: np.ndarray) -> np.ndarray:
            if block.shape[0] == 0:  # an empty partition
                return np.empty((0, init.shape[0]) if init.ndim else (0,))
            return booster.predict(block, raw_score=True, num_iteration=rounds) + init

        # meta: an empty result of the right type, so that Dask does not call the booster on a
        # zero-width block to find it out.
        if init.ndim:
            return X_array.rechunk({1: -1}).map_blocks(
                margins,
                dtype=np.float64,
                chunks=(X_array.chunks[0], (init.shape[0],)),
                meta=np.empty((0, 0), dtype=np.float64),
            )
        return X_array.rechunk({1: -1}).map_blocks(
            margins, dtype=np.float64, drop_axis=1, meta=np.empty((0,), dtype=np.float64)
        )


#: The Dask counterparts of :data:`focal_boost._estimator.backends.BACKENDS`, made with a way to the client.
DASK_BACKENDS = {"xgboost": DaskXGBoostBackend, "lightgbm": DaskLightGBMBackend}


#: How often (seconds) a LightGBM fit on a cluster checks that its workers are all still there.
WORKER_CHECK_SECONDS = 1.0


def fit_watching_workers(client: Any, fit: Callable[[], Any]) -> Any:
    """``fit()``, or a RuntimeError as soon as a worker present at its start leaves the cluster.

    ``lightgbm.dask`` pins one task to each worker and joins them in one
    LightGBM network: a worker lost while the network forms leaves its task
    with no worker allowed to run it and the others waiting for their peer
    (LightGBM's socket ``time_out``, 120 minutes by default), so the fit would
    hang. The fit runs in a thread; this one watches the scheduler's workers.
    """
    workers = set(client.scheduler_info()["workers"])
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["booster"] = fit()
        except BaseException as error:  # handed to the caller below
            outcome["error"] = error

    thread = threading.Thread(target=run, name="focal-boost-lightgbm-dask-fit", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(WORKER_CHECK_SECONDS)
        lost = workers - set(client.scheduler_info()["workers"]) if thread.is_alive() else set()
        if lost:
            raise RuntimeError(
                f"Dask worker(s) {', '.join(sorted(lost))} left the cluster during LightGBM training; "
                "lightgbm.dask cannot finish without them (its other workers wait for their peers): "
                "fit again once the cluster is whole. The surviving workers' tasks end at LightGBM's "
                "socket time_out (backend_params={'time_out': minutes}, default 120)"
            )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["booster"]
