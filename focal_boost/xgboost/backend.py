"""XGBoost for the estimators: :class:`XGBoostBackend`, a :class:`~focal_boost._boosters.backend.Backend`."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse

from focal_boost._boosters import export
from focal_boost._boosters.averaging import average_xgboost, check_xgboost_booster
from focal_boost._boosters.backend import (
    RESERVED_COMMON,
    BoostingSettings,
    Progress,
    TrainedModel,
    TrainingData,
    merge_params,
)
from focal_boost._boosters.data import check_float32_range, is_frame
from focal_boost.loss import FocalLoss
from focal_boost.xgboost import device, training
from focal_boost.xgboost.objective import _xgboost

#: XGBoost's parameter aliases (its C++ ``DMLC_DECLARE_ALIAS``; it has no call that lists them).
XGBOOST_ALIASES = [
    {"eta", "learning_rate"},
    {"lambda", "reg_lambda"},
    {"alpha", "reg_alpha"},
    {"gamma", "min_split_loss"},
    {"seed", "random_state"},
    {"nthread", "n_jobs"},
]


XGBOOST_RESERVED = {
    **RESERVED_COMMON,
    "eval_metric": "the validation metric is the focal loss",
    "base_score": "the initial score is the focal loss's own (init_score_)",
    "n_estimators": "use the estimator's n_estimators",
    "num_boost_round": "use the estimator's n_estimators",
    "early_stopping_rounds": "use the estimator's early_stopping_rounds",
}


def xgboost_aliases(name: str) -> set[str]:
    """The names XGBoost takes for parameter ``name`` (``name`` included)."""
    for group in XGBOOST_ALIASES:
        if name in group:
            return group
    return {name}


class XGBoostBackend:
    """XGBoost ``hist`` trees through :func:`focal_boost.xgboost.train`."""

    name = "xgboost"

    def __init__(self) -> None:
        self.xgb = _xgboost()  # an ImportError that names the extra to install

    def params(self, settings: BoostingSettings) -> dict[str, Any]:
        params: dict[str, Any] = {
            "tree_method": "hist",
            "eta": settings.learning_rate,
            "subsample": settings.subsample,
            "colsample_bytree": settings.colsample_bytree,
            "seed": settings.seed,
            "device": settings.device,
            "verbosity": 0,
        }
        optional = {
            "max_depth": settings.max_depth,
            "max_leaves": settings.num_leaves,
            "lambda": settings.reg_lambda,
            "min_child_weight": settings.min_child_weight,
            "nthread": settings.n_threads,
        }
        params.update({key: value for key, value in optional.items() if value is not None})
        if settings.n_classes > 2:
            params["num_class"] = settings.n_classes
        return merge_params(params, settings.extra, xgboost_aliases, XGBOOST_RESERVED)

    def _matrix(self, X: Any, y: Any = None, weight: Any = None, n_threads: int | None = None) -> Any:
        check_float32_range(X)
        return self.xgb.DMatrix(
            X, label=y, weight=weight, enable_categorical=True, nthread=-1 if n_threads is None else n_threads
        )

    def train(
        self,
        settings: BoostingSettings,
        loss: FocalLoss,
        train: TrainingData,
        valid: TrainingData | None,
        n_rounds: int,
        early_stopping_rounds: int | None,
        progress: Progress | None = None,
        early_stopping_metric: Any = None,
    ) -> TrainedModel:
        history: dict = {}
        report = None if progress is None else _round_report(self.xgb, progress, n_rounds)
        if settings.device == "cuda":
            for data in [train[0]] + ([] if valid is None else [valid[0]]):
                check_float32_range(data)
            # Margins, gradients and Hessians stay on the GPU (or a one-time warning says why not).
            booster = device.train_on_device(
                self.params(settings),
                train[0],
                train[1],
                n_rounds,
                sample_weight=train[2],
                loss=loss,
                evals=[] if valid is None else [(*valid, "valid")],
                early_stopping_rounds=early_stopping_rounds if valid is not None else None,
                early_stopping_metric=early_stopping_metric,
                evals_result=history,
                n_threads=settings.n_threads,
                callbacks=[] if progress is None else [report],
            )
        else:
            dtrain = self._matrix(*train, n_threads=settings.n_threads)
            evals = [] if valid is None else [(self._matrix(*valid, n_threads=settings.n_threads), "valid")]
            booster = training.train(
                self.params(settings),
                dtrain,
                n_rounds,
                loss=loss,
                evals=evals,
                early_stopping_rounds=early_stopping_rounds if evals else None,
                early_stopping_metric=early_stopping_metric,
                evals_result=history,
                verbose_eval=False,
                n_threads=settings.n_threads,
                callbacks=[] if progress is None else [report],
            )
        if report is not None:  # XGBoost skips later callbacks in the round early stopping ends
            report.finish(booster.num_boosted_rounds())
        rounds = rounds_to_predict_with(booster, valid, early_stopping_rounds, n_rounds)
        record = training.training_record(booster)
        return TrainedModel(self.name, booster, record.loss, record.init_score, rounds, history)

    def margin(self, model: TrainedModel, X: Any, n_threads: int | None) -> np.ndarray:
        # No DMatrix: XGBoost predicts these in place (not csr_array, which it refuses).
        if isinstance(X, (np.ndarray, scipy.sparse.csr_matrix)) or is_frame(X):
            check_float32_range(X)
            return training.predict_margin_in_place(model.booster, X, iteration_range=(0, model.n_rounds))
        return training.predict_margin(
            model.booster, self._matrix(X, n_threads=n_threads), iteration_range=(0, model.n_rounds)
        )

    def contributions(
        self, model: TrainedModel, X: Any, n_threads: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """XGBoost's ``pred_contribs`` (exact TreeSHAP) over the best rounds; the bias column holds
        ``base_score`` (the binary initial score), the multiclass initial score is added to it."""
        booster = model.booster
        check_float32_range(X)
        matrix = self.xgb.DMatrix(  # a level column arrives as codes: the booster's types say categorical
            X,
            feature_names=booster.feature_names,
            feature_types=booster.feature_types,
            enable_categorical=True,
            nthread=-1 if n_threads is None else n_threads,
        )
        raw = booster.predict(
            matrix, pred_contribs=True, iteration_range=(0, model.n_rounds), strict_shape=True
        )
        raw = np.asarray(raw, dtype=np.float64)  # (n, K, n_features + 1)
        base = raw[:, :, -1]
        if np.ndim(model.init_score) == 1:
            base = base + model.init_score
        return np.transpose(raw[:, :, :-1], (0, 2, 1)), base

    def check_average(self, settings: BoostingSettings) -> None:
        """A ValueError, before training, where the models of ``settings`` cannot be averaged."""
        check_xgboost_booster(self.params(settings).get("booster"))

    def average(self, models: list[TrainedModel]) -> TrainedModel:
        """One model predicting the mean margin of ``models`` (:mod:`focal_boost._boosters.averaging`)."""
        booster = average_xgboost([m.booster for m in models], [m.n_rounds for m in models])
        record = training.training_record(booster)
        rounds = booster.num_boosted_rounds()
        return TrainedModel(self.name, booster, record.loss, record.init_score, rounds, {})

    #: The booster's name inside a model file (:mod:`focal_boost._estimator.saving`): XGBoost's binary JSON.
    booster_file = "booster.ubj"

    def save_booster(self, model: TrainedModel) -> bytes:
        """The booster in XGBoost's UBJSON, its training record (a booster attribute) inside."""
        return bytes(model.booster.save_raw(raw_format="ubj"))

    def load_booster(self, data: bytes, n_rounds: int) -> TrainedModel:
        """The model :meth:`save_booster` wrote; a ValueError if ``data`` is not such a booster."""
        try:
            booster = self.xgb.Booster(model_file=bytearray(data))
        except self.xgb.core.XGBoostError as error:
            raise ValueError(
                f"not an XGBoost model XGBoost {self.xgb.__version__} can read: {error}"
            ) from error
        record = training.training_record(booster)
        return TrainedModel(self.name, booster, record.loss, record.init_score, n_rounds, {})

    def export_booster(self, model: TrainedModel, suffix: str) -> bytes:
        """The plain booster (:mod:`focal_boost._boosters.export`) as XGBoost saves it for ``suffix``."""
        if suffix not in (".json", ".ubj"):
            raise ValueError(
                f"an XGBoost booster is saved as .json (JSON) or .ubj (UBJSON), not {suffix or 'no suffix'!r}"
            )
        plain = export.plain_xgboost(model.booster, model.n_rounds)
        return bytes(plain.save_raw(raw_format=suffix[1:]))


def rounds_to_predict_with(booster: Any, valid: Any, early_stopping_rounds: int | None, n_rounds: int) -> int:
    """An XGBoost model's rounds: up to the best one when early stopping watched ``valid``, else all."""
    stopped = valid is not None and early_stopping_rounds is not None
    return booster.best_iteration + 1 if stopped else n_rounds


def _round_report(xgb: Any, progress: Progress, n_rounds: int) -> Any:
    """An XGBoost callback calling ``progress`` after each round; ``finish`` reports a missed last round."""

    class RoundReport(xgb.callback.TrainingCallback):
        def __init__(self) -> None:
            super().__init__()
            self.done = 0

        def after_iteration(self, model: Any, epoch: int, evals_log: dict) -> bool:
            self.done = epoch + 1
            progress(self.done, n_rounds)
            return False

        def finish(self, rounds: int) -> None:
            if self.done < rounds:
                self.done = rounds
                progress(rounds, n_rounds)

    return RoundReport()
