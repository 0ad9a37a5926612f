"""The two ways :func:`focal_boost.xgboost.train_on_device` trains, as callers of the run recipe.

* :func:`train_resident`: the device-resident loop (:func:`focal_boost._resident.train`)
  with the "cuda" engine (CuPy margins, CUDA kernels) or the "host" engine
  (NumPy margins, CPU kernels, what the tests hold to ``xgboost.train``);
* :func:`train_standard`: :func:`focal_boost.xgboost.train` on QuantileDMatrix
  copies of the arrays, the fallback where the GPU path cannot run
  (:func:`gpu_path_unavailable` says why).

Both hand :func:`focal_boost._xgboost_run.boost` their train function and their
data; the loss, the initial score, the parameters, the callbacks and the
record are the recipe's.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Mapping
from typing import Any

import numpy as np

from focal_boost import _resident, _xgboost_run
from focal_boost._adapter import training_loss_and_init
from focal_boost._device_arrays import to_host
from focal_boost._validation import check_booster_weights, check_labels, check_sample_weight


def gpu_path_unavailable(params: Mapping[str, Any], X: Any, eval_features: list[Any]) -> str | None:
    """Why the device-resident path cannot run here, or None if it can."""
    if importlib.util.find_spec("cupy") is None:
        return "CuPy is not installed (pip install 'focal-boost[gpu]')"
    if importlib.util.find_spec("numba_cuda") is None:
        return "numba-cuda is not installed (pip install 'focal-boost[gpu]')"
    from focal_boost import _cuda

    if _cuda.simulated() or not _cuda.is_available():
        return "no usable CUDA GPU was found"
    if params.get("booster", "gbtree") != "gbtree":
        return f"booster={params['booster']!r} (only 'gbtree' keeps a per-round margin)"
    for data in [X, *eval_features]:
        if _resident.device_feature_kind(data) is None:
            return (
                f"XGBoost cannot predict {type(data).__name__} in place on the GPU "
                "(pass NumPy, CuPy, cuDF or numeric pandas data)"
            )
    return None


def quantile_matrix(xgb: Any, params: Mapping[str, Any], X: Any, y: Any, weight: Any, ref: Any = None) -> Any:
    """The QuantileDMatrix XGBoost recommends for ``hist``, with the booster's ``max_bin``."""
    options = {"max_bin": int(params["max_bin"])} if "max_bin" in params else {}
    if "nthread" in params:
        options["nthread"] = int(params["nthread"])
    return xgb.QuantileDMatrix(X, label=y, weight=weight, enable_categorical=True, ref=ref, **options)


def train_standard(xgb: Any, params: Mapping[str, Any], X: Any, y: Any, **run: Any) -> Any:
    """:func:`focal_boost.xgboost.train` on QuantileDMatrix versions of the arrays (the fallback path)."""
    from focal_boost import xgboost as adapter

    dtrain = run["dtrain"]
    if dtrain is None:
        dtrain = quantile_matrix(xgb, params, X, y, run["sample_weight"])
    evals = [
        (quantile_matrix(xgb, params, X_eval, y_eval, w_eval, ref=dtrain), name)
        for X_eval, y_eval, w_eval, name in run["evals"]
    ]
    return adapter.train(
        params,
        dtrain,
        run["num_boost_round"],
        loss=run["loss"],
        evals=evals,
        n_threads=run["n_threads"],
        early_stopping_rounds=run["early_stopping_rounds"],
        early_stopping_metric=run["early_stopping_metric"],
        evals_result=run["evals_result"],
        verbose_eval=run["verbose_eval"],
        callbacks=list(run["callbacks"] or []),
    )


def train_resident(
    xgb: Any, params: Mapping[str, Any], X: Any, y: Any, *, engine_kind: str, **run: Any
) -> Any:
    """The device-resident loop with the "host" (NumPy, CPU kernels) or "cuda" engine."""
    y_host = check_labels(host_values(y))
    if X.shape[0] != y_host.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y_host.shape[0]} labels")
    weight_host = check_sample_weight(host_values(run["sample_weight"]), y_host.shape[0])
    if weight_host is not None:  # as XGBoost stores them, so that the initial score is train()'s
        check_booster_weights(np.asarray(weight_host, dtype=np.float64))
        weight_host = np.asarray(weight_host, dtype=np.float32)
    y_host = np.asarray(y_host, dtype=np.float32)
    xp = np if engine_kind == "host" else _array_module()

    def resident_data(recipe: _xgboost_run.XGBoostRun) -> tuple[Any, list[tuple[Any, str]]]:
        def resident(name: str | None, features: Any, labels: Any, weight: Any) -> _resident.ResidentSet:
            shape = (features.shape[0],) if recipe.columns is None else (features.shape[0], recipe.columns)
            margin = xp.empty(shape, dtype=np.float32)
            margin[...] = xp.asarray(recipe.init.astype(np.float32))
            placed = _resident.placed_features(features, engine_kind, xp)
            weight = None if weight is None else xp.asarray(np.asarray(host_values(weight), dtype=np.float32))
            return _resident.ResidentSet(
                name, placed, xp.asarray(host_values(labels), dtype=np.float32), weight, margin
            )

        matrix = run["dtrain"]
        if matrix is None:
            matrix = quantile_matrix(xgb, params, X, y_host, weight_host)
        training = resident(None, X, y_host, weight_host)
        evals = []
        for features, labels, weight, name in run["evals"]:
            if features is X and labels is y and weight is run["sample_weight"]:
                training.name = name  # the training set is also evaluated: one margin for both
                evals.append((training, name))
            else:
                evals.append((resident(name, features, labels, weight), name))
        return _resident.ResidentTraining(matrix, training), evals

    return _xgboost_run.boost(
        functools.partial(_resident.train, engine_kind=engine_kind, xp=xp, missing=run["missing"]),
        resident_data,
        params,
        run["num_boost_round"],
        loss=run["loss"],
        loss_and_init=lambda loss, columns: training_loss_and_init(loss, y_host, weight_host, columns),
        n_threads=run["n_threads"],
        early_stopping_rounds=run["early_stopping_rounds"],
        early_stopping_metric=run["early_stopping_metric"],
        callbacks=run["callbacks"],
        evals_result=run["evals_result"],
        verbose_eval=run["verbose_eval"],
    )


def _array_module() -> Any:
    """CuPy; NumPy under Numba's CUDA simulator, whose kernels take host arrays."""
    from focal_boost import _cuda

    if _cuda.simulated():
        return np  # the simulator's kernels take NumPy arrays
    import cupy

    return cupy


def host_values(values: Any) -> Any:
    """Labels or weights as host arrays: device arrays and pandas or cuDF Series copied; else unchanged."""
    if values is not None and hasattr(values, "to_numpy") and not hasattr(values, "dtypes"):
        return values.to_numpy()  # a pandas or cuDF Series
    return to_host(values)
