"""LightGBM for estimators: :class:`LightGBMBackend` (the :class:`~focal_boost._boosters.backend.Backend`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse

from focal_boost._boosters import export
from focal_boost._boosters.averaging import average_lightgbm, check_lightgbm_params
from focal_boost._boosters.backend import (
    RESERVED_COMMON,
    BoostingSettings,
    Progress,
    TrainedModel,
    TrainingData,
    merge_params,
)
from focal_boost.lightgbm import training
from focal_boost.lightgbm.objective import _lightgbm
from focal_boost.loss import FocalLoss

LIGHTGBM_RESERVED = {
    **RESERVED_COMMON,
    "metric": "the validation metric is the focal loss",
    "num_iterations": "use the estimator's n_estimators",
    "early_stopping_round": "use the estimator's early_stopping_rounds",
}


def lightgbm_aliases(name: str) -> set[str]:
    """The names LightGBM takes for parameter ``name``, as LightGBM lists them (``name`` included)."""
    try:  # LightGBM's own table, read from its library (LGBM_DumpParamAliases)
        from lightgbm.basic import _ConfigAliases

        return {name} | set(_ConfigAliases.get(name))
    except (ImportError, AttributeError):  # pragma: no cover - a LightGBM without the table
        return {name}


class LightGBMBackend:
    """LightGBM trees through :func:`focal_boost.lightgbm.train`."""

    name = "lightgbm"

    def __init__(self) -> None:
        self.lgb = _lightgbm()  # an ImportError that names the extra to install

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
        merged = merge_params(params, settings.extra, lightgbm_aliases, LIGHTGBM_RESERVED)
        if merged.get("min_sum_hessian_in_leaf", 1e-3) <= 0:
            raise ValueError(
                "min_child_weight=0 lets LightGBM split off leaves without Hessian, which its tree learner "
                'then aborts on ("Check failed: (best_split_info.left_count) > (0)"): use a small '
                "positive value, e.g. 1e-3 (LightGBM's default)"
            )
        return merged

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
            booster = training.train(
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
        record = training.training_record(booster)
        return TrainedModel(self.name, booster, record.loss, record.init_score, rounds, history)

    def margin(self, model: TrainedModel, X: Any, n_threads: int | None) -> np.ndarray:
        kwargs = {} if n_threads is None else {"num_threads": n_threads}
        return training.predict_margin(
            model.booster, _sparse_matrix(X), num_iteration=model.n_rounds, **kwargs
        )

    def contributions(
        self, model: TrainedModel, X: Any, n_threads: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """LightGBM's ``pred_contrib`` (exact TreeSHAP) over the best rounds, the initial score (which
        LightGBM's booster does not hold) added to its expected-value column."""
        kwargs = {} if n_threads is None else {"num_threads": n_threads}
        raw = model.booster.predict(
            _sparse_matrix(X), pred_contrib=True, num_iteration=model.n_rounds, **kwargs
        )
        if isinstance(raw, list):  # sparse multiclass input: one sparse matrix per class
            raw = np.stack([np.asarray(part.toarray()) for part in raw], axis=1)
        elif scipy.sparse.issparse(raw):
            raw = raw.toarray()
        n, n_features = X.shape
        raw = np.asarray(raw, dtype=np.float64).reshape(n, -1, n_features + 1)  # class-major columns
        return np.transpose(raw[:, :, :-1], (0, 2, 1)), raw[:, :, -1] + model.init_score

    def check_average(self, settings: BoostingSettings) -> None:
        """A ValueError, before training, where the models of ``settings`` cannot be averaged."""
        check_lightgbm_params(self.params(settings))

    def average(self, models: list[TrainedModel]) -> TrainedModel:
        """One model predicting the mean margin of ``models`` (:mod:`focal_boost._boosters.averaging`)."""
        booster = average_lightgbm([m.booster for m in models], [m.n_rounds for m in models])
        record = training.training_record(booster)
        rounds = booster.current_iteration()
        return TrainedModel(self.name, booster, record.loss, record.init_score, rounds, {})

    #: The booster's name inside a model file (:mod:`focal_boost._estimator.saving`): LightGBM's model text.
    booster_file = "booster.txt"

    def save_booster(self, model: TrainedModel) -> bytes:
        """LightGBM's model text up to the model's rounds, with the training record's line."""
        return training.model_text(model.booster, num_iteration=model.n_rounds).encode()

    def load_booster(self, data: bytes, n_rounds: int) -> TrainedModel:
        """The model :meth:`save_booster` wrote; a ValueError if ``data`` is not such a booster."""
        booster = training.booster_from_text(
            data.decode("utf-8", errors="replace"), "the model file's booster"
        )
        record = training.training_record(booster)
        return TrainedModel(self.name, booster, record.loss, record.init_score, n_rounds, {})

    def export_booster(self, model: TrainedModel, suffix: str) -> bytes:
        """The plain booster (:mod:`focal_boost._boosters.export`) as LightGBM's model text."""
        return export.plain_lightgbm_text(model.booster, model.n_rounds).encode()


def _sparse_matrix(X: Any) -> Any:
    """SciPy sparse *arrays* as sparse *matrices*: LightGBM only recognises the latter."""
    if scipy.sparse.issparse(X) and not isinstance(X, scipy.sparse.spmatrix):
        return scipy.sparse.csc_matrix(X) if X.format == "csc" else scipy.sparse.csr_matrix(X)
    return X
