"""The two boosters behind :class:`~focal_boost.FocalBoostClassifier`.

Each backend translates the estimator's common boosting parameters into its
booster's names, trains through the adapter's ``train`` (which sets the
objective, the focal metric and the initial score) and returns margins with
the initial score included. Nothing here knows about scikit-learn; the
estimator validates the data and encodes the labels before calling in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse

from focal_boost._averaging import (
    average_lightgbm,
    average_xgboost,
    check_lightgbm_params,
    check_xgboost_booster,
)
from focal_boost._features import check_float32_range
from focal_boost.loss import FocalLoss

#: Called after each boosting round with (rounds done, most rounds).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BoostingSettings:
    """The estimator's common parameters, already validated (``None``: the booster's default)."""

    learning_rate: float
    max_depth: int | None
    num_leaves: int | None
    subsample: float
    colsample_bytree: float
    reg_lambda: float | None
    min_child_weight: float | None
    n_threads: int | None
    seed: int
    device: str
    n_classes: int
    extra: dict[str, Any]


@dataclass
class TrainedModel:
    """What a backend returns: the booster, the rounds to predict with, the metric history."""

    backend: str  # key of BACKENDS
    booster: Any
    loss: FocalLoss  # as trained: alpha="balanced" resolved
    init_score: np.ndarray
    n_rounds: int
    evals_result: dict[str, dict[str, list[float]]]


def merge_params(
    ours: dict[str, Any], extra: dict[str, Any], aliases: Callable[[str], set[str]], reserved: dict[str, str]
) -> dict[str, Any]:
    """``ours`` updated with the user's ``extra`` booster parameters, which win under any alias.

    A booster takes a parameter under several names (LightGBM: ``eta``,
    ``shrinkage_rate`` for ``learning_rate``) and picks one of them by its own
    precedence when more than one is given, so the user's value could lose to
    ours without a word. Every parameter of ours that shares an alias with one
    of ``extra`` is dropped first. ``reserved`` maps the names the estimator
    must own (the objective, the class count, the rounds) to the reason, and
    is a ``ValueError`` under any alias.
    """
    merged = dict(ours)
    for key in extra:
        names = aliases(key)
        for owned, reason in reserved.items():
            if owned in names or key in aliases(owned):
                raise ValueError(f"backend_params cannot set {key!r}: {reason}")
        for name in list(merged):
            if name in names or key in aliases(name):
                del merged[name]
    merged.update(extra)
    return merged


#: XGBoost's parameter aliases (its C++ ``DMLC_DECLARE_ALIAS``; it has no call that lists them).
XGBOOST_ALIASES = [
    {"eta", "learning_rate"},
    {"lambda", "reg_lambda"},
    {"alpha", "reg_alpha"},
    {"gamma", "min_split_loss"},
    {"seed", "random_state"},
    {"nthread", "n_jobs"},
]

#: Parameters the estimator owns, by booster, and what to use instead.
_RESERVED_COMMON = {
    "objective": "the objective is focal loss (the estimator's gamma and alpha)",
    "num_class": "the estimator sets it from the labels",
}
XGBOOST_RESERVED = {
    **_RESERVED_COMMON,
    "eval_metric": "the validation metric is the focal loss",
    "base_score": "the initial score is the focal loss's own (init_score_)",
    "n_estimators": "use the estimator's n_estimators",
    "num_boost_round": "use the estimator's n_estimators",
    "early_stopping_rounds": "use the estimator's early_stopping_rounds",
}
LIGHTGBM_RESERVED = {
    **_RESERVED_COMMON,
    "metric": "the validation metric is the focal loss",
    "num_iterations": "use the estimator's n_estimators",
    "early_stopping_round": "use the estimator's early_stopping_rounds",
}


def xgboost_aliases(name: str) -> set[str]:
    """The names XGBoost takes for parameter ``name`` (``name`` included)."""
    for group in XGBOOST_ALIASES:
        if name in group:
            return group
    return {name}


def lightgbm_aliases(name: str) -> set[str]:
    """The names LightGBM takes for parameter ``name``, as LightGBM lists them (``name`` included)."""
    try:  # LightGBM's own table, read from its library (LGBM_DumpParamAliases)
        from lightgbm.basic import _ConfigAliases

        return {name} | set(_ConfigAliases.get(name))
    except (ImportError, AttributeError):  # pragma: no cover - a LightGBM without the table
        return {name}


class XGBoostBackend:
    """XGBoost ``hist`` trees through :func:`focal_boost.xgboost.train`."""

    name = "xgboost"

    def __init__(self) -> None:
        from focal_boost import xgboost as adapter

        self.adapter = adapter
        self.xgb = adapter._xgboost()  # an ImportError that names the extra to install

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
        train: tuple[Any, np.ndarray, np.ndarray | None],
        valid: tuple[Any, np.ndarray, np.ndarray | None] | None,
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
            booster = self.adapter.train_on_device(
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
            booster = self.adapter.train(
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
        record = self.adapter.training_record(booster)
        return TrainedModel(self.name, booster, record.loss, record.init_score, rounds, history)

    def margin(self, model: TrainedModel, X: Any, n_threads: int | None) -> np.ndarray:
        return self.adapter.predict_margin(
            model.booster, self._matrix(X, n_threads=n_threads), iteration_range=(0, model.n_rounds)
        )

    def check_average(self, settings: BoostingSettings) -> None:
        """A ValueError, before training, where the models of ``settings`` cannot be averaged."""
        check_xgboost_booster(self.params(settings).get("booster"))

    def average(self, models: list[TrainedModel]) -> TrainedModel:
        """One model predicting the mean margin of ``models`` (:mod:`focal_boost._averaging`)."""
        booster = average_xgboost([m.booster for m in models], [m.n_rounds for m in models])
        record = self.adapter.training_record(booster)
        rounds = booster.num_boosted_rounds()
        return TrainedModel(self.name, booster, record.loss, record.init_score, rounds, {})


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


class LightGBMBackend:
    """LightGBM trees through :func:`focal_boost.lightgbm.train`."""

    name = "lightgbm"

    def __init__(self) -> None:
        from focal_boost import lightgbm as adapter

        self.adapter = adapter
        self.lgb = adapter._lightgbm()  # an ImportError that names the extra to install

    def params(self, settings: BoostingSettings) -> dict[str, Any]:
        params: dict[str, Any] = {
            "learning_rate": settings.learning_rate,
            "num_leaves": 31 if settings.num_leaves is None else settings.num_leaves,
            "max_depth": -1 if settings.max_depth is None else settings.max_depth,
            "feature_fraction": settings.colsample_bytree,
            "seed": settings.seed,
            # Same data, same parameters, same model, whatever the thread count.
            "deterministic": True,
            # Keep features no split can use: when none is left (tiny data, or
            # min_data_in_leaf above half the rows) LightGBM with a custom
            # objective aborts instead of growing a stump.
            "feature_pre_filter": False,
            "verbose": -1,
        }
        if settings.subsample < 1.0:
            params.update(bagging_fraction=settings.subsample, bagging_freq=1)
        optional = {
            "lambda_l2": settings.reg_lambda,
            "min_sum_hessian_in_leaf": settings.min_child_weight,
            "num_threads": settings.n_threads,
        }
        params.update({key: value for key, value in optional.items() if value is not None})
        if settings.device == "cuda":
            # The PyPI wheels' GPU build is OpenCL ("gpu"); "cuda" needs LightGBM built from source.
            params["device_type"] = "gpu"
        if settings.n_classes > 2:
            params["num_class"] = settings.n_classes
        return merge_params(params, settings.extra, lightgbm_aliases, LIGHTGBM_RESERVED)

    def train(
        self,
        settings: BoostingSettings,
        loss: FocalLoss,
        train: tuple[Any, np.ndarray, np.ndarray | None],
        valid: tuple[Any, np.ndarray, np.ndarray | None] | None,
        n_rounds: int,
        early_stopping_rounds: int | None,
        progress: Progress | None = None,
        early_stopping_metric: Any = None,
    ) -> TrainedModel:
        lgb = self.lgb
        params = self.params(settings)
        X, y, weight = train
        train_set = lgb.Dataset(_sparse_matrix(X), label=y, weight=weight, params={"verbose": -1})
        history: dict = {}
        callbacks = [lgb.record_evaluation(history)]
        if progress is not None:
            callbacks.append(lambda env: progress(env.iteration - env.begin_iteration + 1, n_rounds))
        valid_sets = []
        if valid is not None:
            X_valid, y_valid, w_valid = valid
            valid_sets.append(
                lgb.Dataset(_sparse_matrix(X_valid), label=y_valid, weight=w_valid, reference=train_set)
            )
            if early_stopping_rounds is not None:
                callbacks.append(lgb.early_stopping(early_stopping_rounds, verbose=False))
        try:
            booster = self.adapter.train(
                params,
                train_set,
                n_rounds,
                loss=loss,
                valid_sets=valid_sets,
                valid_names=["valid"][: len(valid_sets)],
                callbacks=callbacks,
                n_threads=settings.n_threads,
                early_stopping_metric=early_stopping_metric,
            )
        except lgb.basic.LightGBMError as error:
            if params.get("device_type") == "gpu" and "OpenCL" in str(error):
                raise RuntimeError(
                    "device='cuda' with the LightGBM backend trains with LightGBM's OpenCL GPU build "
                    f"(device_type='gpu'), which failed here: {error}"
                ) from error
            raise
        rounds = booster.best_iteration if booster.best_iteration > 0 else booster.current_iteration()
        record = self.adapter.training_record(booster)
        return TrainedModel(self.name, booster, record.loss, record.init_score, rounds, history)

    def margin(self, model: TrainedModel, X: Any, n_threads: int | None) -> np.ndarray:
        kwargs = {} if n_threads is None else {"num_threads": n_threads}
        return self.adapter.predict_margin(
            model.booster, _sparse_matrix(X), num_iteration=model.n_rounds, **kwargs
        )

    def check_average(self, settings: BoostingSettings) -> None:
        """A ValueError, before training, where the models of ``settings`` cannot be averaged."""
        check_lightgbm_params(self.params(settings))

    def average(self, models: list[TrainedModel]) -> TrainedModel:
        """One model predicting the mean margin of ``models`` (:mod:`focal_boost._averaging`)."""
        booster = average_lightgbm([m.booster for m in models], [m.n_rounds for m in models])
        record = self.adapter.training_record(booster)
        rounds = booster.current_iteration()
        return TrainedModel(self.name, booster, record.loss, record.init_score, rounds, {})


def _sparse_matrix(X: Any) -> Any:
    """SciPy sparse *arrays* as sparse *matrices*: LightGBM only recognises the latter."""
    if scipy.sparse.issparse(X) and not isinstance(X, scipy.sparse.spmatrix):
        return scipy.sparse.csc_matrix(X) if X.format == "csc" else scipy.sparse.csr_matrix(X)
    return X


BACKENDS = {"xgboost": XGBoostBackend, "lightgbm": LightGBMBackend}


def installed_backends() -> list[str]:
    """The backends whose booster is installed, in order of preference (XGBoost first)."""
    import importlib.util

    return [name for name in BACKENDS if importlib.util.find_spec(name) is not None]
