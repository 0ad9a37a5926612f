"""The two ways :func:`focal_boost.xgboost.train_on_device` trains, as callers of the run recipe.

* :func:`train_resident`: the device-resident loop (:func:`focal_boost.xgboost.resident.train`)
  with the "cuda" engine (CuPy margins, CUDA kernels) or the "host" engine
  (NumPy margins, CPU kernels, what the tests hold to ``xgboost.train``);
* :func:`train_standard`: :func:`focal_boost.xgboost.train` on QuantileDMatrix
  copies of the arrays, the fallback where the GPU path cannot run
  (:func:`gpu_path_unavailable` says why).

Both hand :func:`focal_boost.xgboost.training.boost` their train function and their
data; the loss, the initial score, the parameters, the callbacks and the
record are the recipe's.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from focal_boost._boosters.evaluation import EvaluationSet, evaluation_sets
from focal_boost._boosters.objective import training_loss_and_init
from focal_boost._kernels.checks import check_booster_weights, check_labels, check_sample_weight
from focal_boost._kernels.device_arrays import to_host
from focal_boost.loss import FocalLoss
from focal_boost.xgboost import resident, training
from focal_boost.xgboost.objective import _xgboost


@dataclasses.dataclass(frozen=True)
class DeviceRun:
    """What :func:`train_on_device` was asked for, handed to the path that trains."""

    num_boost_round: int
    sample_weight: Any
    loss: FocalLoss | None
    evals: list[EvaluationSet]
    early_stopping_rounds: int | None
    early_stopping_metric: Any
    evals_result: dict | None
    verbose_eval: bool | int
    callbacks: Sequence[Any] | None
    n_threads: int | None
    missing: float
    dtrain: Any


def gpu_path_unavailable(params: Mapping[str, Any], X: Any, eval_features: list[Any]) -> str | None:
    """Why the device-resident path cannot run here, or None if it can."""
    if importlib.util.find_spec("cupy") is None:
        return "CuPy is not installed (pip install 'focal-boost[gpu]')"
    if importlib.util.find_spec("numba_cuda") is None:
        return "numba-cuda is not installed (pip install 'focal-boost[gpu]')"
    from focal_boost._kernels import cuda  # imports numba.cuda: only when a GPU run is asked for

    if cuda.simulated() or not cuda.is_available():
        return "no usable CUDA GPU was found"
    if params.get("booster", "gbtree") != "gbtree":
        return f"booster={params['booster']!r} (only 'gbtree' keeps a per-round margin)"
    for data in [X, *eval_features]:
        if resident.device_feature_kind(data) is None:
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


def train_standard(xgb: Any, params: Mapping[str, Any], X: Any, y: Any, run: DeviceRun) -> Any:
    """:func:`focal_boost.xgboost.train` on QuantileDMatrix versions of the arrays (the fallback path)."""
    dtrain = run.dtrain
    if dtrain is None:
        dtrain = quantile_matrix(xgb, params, X, y, run.sample_weight)
    evals = [
        (quantile_matrix(xgb, params, X_eval, y_eval, w_eval, ref=dtrain), name)
        for X_eval, y_eval, w_eval, name in run.evals
    ]
    return training.train(
        params,
        dtrain,
        run.num_boost_round,
        loss=run.loss,
        evals=evals,
        n_threads=run.n_threads,
        early_stopping_rounds=run.early_stopping_rounds,
        early_stopping_metric=run.early_stopping_metric,
        evals_result=run.evals_result,
        verbose_eval=run.verbose_eval,
        callbacks=list(run.callbacks or []),
    )


def train_resident(
    xgb: Any, params: Mapping[str, Any], X: Any, y: Any, run: DeviceRun, engine_kind: str
) -> Any:
    """The device-resident loop with the "host" (NumPy, CPU kernels) or "cuda" engine."""
    y_host = check_labels(host_values(y))
    if X.shape[0] != y_host.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y_host.shape[0]} labels")
    weight_host = check_sample_weight(host_values(run.sample_weight), y_host.shape[0])
    if weight_host is not None:  # as XGBoost stores them, so that the initial score is train()'s
        check_booster_weights(np.asarray(weight_host, dtype=np.float64))
        weight_host = np.asarray(weight_host, dtype=np.float32)
    y_host = np.asarray(y_host, dtype=np.float32)
    xp = np if engine_kind == "host" else _array_module()

    def resident_data(recipe: training.XGBoostRun) -> tuple[Any, list[tuple[Any, str]]]:
        def resident_set(name: str | None, features: Any, labels: Any, weight: Any) -> resident.ResidentSet:
            shape = (features.shape[0],) if recipe.columns is None else (features.shape[0], recipe.columns)
            margin = xp.empty(shape, dtype=np.float32)
            margin[...] = xp.asarray(recipe.init.astype(np.float32))
            placed = resident.placed_features(features, engine_kind, xp)
            weight = None if weight is None else xp.asarray(np.asarray(host_values(weight), dtype=np.float32))
            return resident.ResidentSet(
                name, placed, xp.asarray(host_values(labels), dtype=np.float32), weight, margin
            )

        matrix = run.dtrain
        if matrix is None:
            matrix = quantile_matrix(xgb, params, X, y_host, weight_host)
        training_set = resident_set(None, X, y_host, weight_host)
        evals = []
        for features, labels, weight, name in run.evals:
            if features is X and labels is y and weight is run.sample_weight:
                training_set.name = name  # the training set is also evaluated: one margin for both
                evals.append((training_set, name))
            else:
                evals.append((resident_set(name, features, labels, weight), name))
        return resident.ResidentTraining(matrix, training_set), evals

    return training.boost(
        functools.partial(resident.train, engine_kind=engine_kind, xp=xp, missing=run.missing),
        resident_data,
        params,
        run.num_boost_round,
        loss=run.loss,
        loss_and_init=lambda loss, columns: training_loss_and_init(loss, y_host, weight_host, columns),
        n_threads=run.n_threads,
        early_stopping_rounds=run.early_stopping_rounds,
        early_stopping_metric=run.early_stopping_metric,
        callbacks=run.callbacks,
        evals_result=run.evals_result,
        verbose_eval=run.verbose_eval,
    )


def _array_module() -> Any:
    """CuPy; NumPy under Numba's CUDA simulator, whose kernels take host arrays."""
    from focal_boost._kernels import cuda

    if cuda.simulated():
        return np  # the simulator's kernels take NumPy arrays
    import cupy

    return cupy


def host_values(values: Any) -> Any:
    """Labels or weights as host arrays: device arrays and pandas or cuDF Series copied; else unchanged."""
    if values is not None and hasattr(values, "to_numpy") and not hasattr(values, "dtypes"):
        return values.to_numpy()  # a pandas or cuDF Series
    return to_host(values)


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
    the margins (see :mod:`focal_boost.xgboost.resident`). Nothing crosses to the host
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
    xgb = _xgboost()
    on_gpu = str(params.get("device", "cpu")).startswith(("cuda", "gpu"))
    evals = evaluation_sets(evals)
    if early_stopping_rounds is not None and not evals:
        raise ValueError("early stopping needs at least one evaluation set in evals")
    run = DeviceRun(
        num_boost_round,
        sample_weight,
        loss,
        evals,
        early_stopping_rounds,
        early_stopping_metric,
        evals_result,
        verbose_eval,
        callbacks,
        n_threads,
        missing,
        dtrain,
    )
    if not on_gpu:
        return train_resident(xgb, params, X, y, run, "host")
    reason = gpu_path_unavailable(params, X, [item[0] for item in evals])
    if reason is None:
        return train_resident(xgb, params, X, y, run, "cuda")
    if reason not in _FALLBACKS_WARNED:
        _FALLBACKS_WARNED.add(reason)
        warnings.warn(
            f"focal_boost.xgboost.train_on_device: {reason}; training through XGBoost's standard "
            "custom-objective path instead, which copies the margins to the host and the gradients "
            "back every round",
            DeviceFallbackWarning,
            stacklevel=2,
        )
    return train_standard(xgb, params, X, y, run)
