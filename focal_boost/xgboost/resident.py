r"""XGBoost training that keeps margins, gradients and Hessians on the booster's device.

XGBoost's custom-objective path (``xgboost.train(obj=...)``, i.e.
``Booster.update``) hands the objective host NumPy margins every round: on a
GPU that is a device-to-host copy of all margins, a host computation and a
host-to-device copy of the gradients and Hessians, every round. The loop here
(:func:`focal_boost.xgboost.train_on_device`) instead, for round ``i``:

1. computes the focal gradient and Hessian of each training row's current
   margin with the CUDA kernels (:mod:`focal_boost._kernels.cuda`), into float32
   device buffers reused across rounds;
2. hands them to ``Booster.boost``, which takes ``__cuda_array_interface__``
   arrays;
3. adds round ``i``'s trees to each data set's margin with
   ``Booster.inplace_predict(X, iteration_range=(i, i + 1), base_margin=margin)``
   on device data: XGBoost's own float32 sum ``margin + tree(x)``, the sum
   its prediction cache keeps;
4. evaluates the focal loss of each evaluation set on the device (one number
   comes back per set and round) and runs XGBoost's own callbacks
   (``EarlyStopping``, ``EvaluationMonitor``, the caller's) on that history.

Margins start at the initial score, so the model is the one
:func:`focal_boost.xgboost.train` builds on the same data. On the CPU the same
loop runs with NumPy and the CPU kernels (:class:`HostEngine`); the tests
compare it with :func:`~focal_boost.xgboost.train`, and under Numba's CUDA
simulator they run it with the CUDA kernels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from focal_boost._kernels.device_arrays import raise_for_counts, to_host
from focal_boost._kernels.prepared import PreparedLoss
from focal_boost._util.extras import require


class HostEngine:
    """Margins in NumPy arrays, gradients by the CPU kernels (what ``xgboost.train`` would run).

    Its objective takes the float32 kernel for binary float32 margins, as
    ``xgboost.train``'s does; the CUDA kernels compute in float64, so the two
    engines' models differ by float32 rounding (about 1e-6 relative).
    """

    xp = np

    def __init__(self, objective: Any, metric: Any) -> None:
        self.objective = objective  # focal_boost.xgboost.FocalObjective
        self.metric = metric  # focal_boost.xgboost.FocalMetric

    def gradient_hessian(self, y: Any, margin: Any, weight: Any) -> tuple[Any, Any]:
        return self.objective.gradient_hessian(y, margin, weight)

    def evaluate(self, y: Any, margin: Any, weight: Any) -> float:
        """The metric of one evaluation set (NaN for a mean over no weight, as on the device)."""
        if not self.metric.metric.decomposable:
            return self.metric.score(y, margin, weight)
        total, mass = self.metric.sums(y, margin, weight)
        return total / mass if mass > 0 else float("nan")


class CudaEngine:
    """Margins in device arrays (CuPy), gradients and losses by the CUDA kernels.

    ``xp`` is the array module: CuPy on a GPU; NumPy under Numba's CUDA
    simulator, where the tests run the same kernels on the host.
    """

    def __init__(self, prepared: PreparedLoss, xp: Any, metric: Any) -> None:
        from focal_boost._kernels import cuda as _cuda

        self._cuda = _cuda
        self.xp = xp
        self.metric = metric  # focal_boost.xgboost.FocalMetric: what evaluate reports
        self.task = prepared.task
        # On the device once, not every round.
        self.gradient_arguments = _cuda.device_arguments(prepared, "grad_hess")
        self.loss_arguments = _cuda.device_arguments(prepared, "loss")
        self._buffers: dict[tuple, Any] = {}

    def _buffer(self, key: str, shape: tuple[int, ...], dtype: Any) -> Any:
        full_key = (key, shape, np.dtype(dtype).str)
        if full_key not in self._buffers:
            self._buffers[full_key] = self.xp.empty(shape, dtype=dtype)
        return self._buffers[full_key]

    def gradient_hessian(self, y: Any, margin: Any, weight: Any) -> tuple[Any, Any]:
        grad = self._buffer("grad", margin.shape, np.float32)
        hess = self._buffer("hess", margin.shape, np.float32)
        counts = self._cuda.launch(
            f"{self.task}_grad_hess", y, margin, weight, self.gradient_arguments, grad, hess
        )
        raise_for_counts(counts, y, margin, weight)
        return grad, hess

    def evaluate(self, y: Any, margin: Any, weight: Any) -> float:
        """The metric of one evaluation set: the focal loss on the device, any other on the host."""
        if not self.metric.metric.is_focal_loss:
            return self.metric.score(*(None if a is None else to_host(a) for a in (y, margin, weight)))
        n = margin.shape[0]
        out = self._buffer(f"loss{n}", (n,), np.float64)
        counts = self._cuda.launch(f"{self.task}_loss", y, margin, weight, self.loss_arguments, out)
        raise_for_counts(counts, y, margin, weight)
        mass = float(n) if weight is None else float(weight.sum(dtype=np.float64))
        return float(out.sum()) / mass if mass > 0 else float("nan")


def device_feature_kind(X: Any) -> str | None:
    """How ``X`` reaches the GPU for ``inplace_predict``: "device" (already there: CuPy, cuDF),
    "array" (NumPy, copied once), "frame" (pandas with numeric columns, copied once) or None
    (SciPy sparse, pandas categorical or text columns: XGBoost cannot predict them in place there)."""
    if hasattr(X, "__cuda_array_interface__") or type(X).__module__.startswith("cudf"):
        return "device"
    if isinstance(X, np.ndarray):
        return "array"
    numeric = hasattr(X, "dtypes") and all(getattr(dtype, "kind", "O") in "fiub" for dtype in X.dtypes)
    if numeric and hasattr(X, "to_numpy"):
        return "frame"
    return None


def placed_features(X: Any, engine_kind: str, xp: Any) -> Any:
    """``X`` where the "host" or "cuda" engine's ``inplace_predict`` reads it.

    On the host as it is (``inplace_predict`` takes NumPy, SciPy sparse and
    pandas on the CPU); on the GPU by :func:`device_features`, which is a
    TypeError where XGBoost cannot predict ``X`` in place there.
    """
    if engine_kind == "host":
        return X
    placed = device_features(X, xp)
    if placed is None:
        raise TypeError(f"XGBoost cannot predict {type(X).__name__} in place on this device")
    return placed


def device_features(X: Any, xp: Any) -> Any:
    """``X`` in a form ``inplace_predict`` reads on the device, or None (see :func:`device_feature_kind`)."""
    kind = device_feature_kind(X)
    if kind == "device":
        return X
    if kind == "array":
        return xp.asarray(X)
    if kind == "frame":
        return xp.asarray(X.to_numpy(dtype=np.float32))
    return None


@dataclass
class ResidentSet:
    """One data set whose margin the loop keeps current on the engine's device."""

    name: str | None  # None: the training set, when it is not also an evaluation set
    features: Any  # what inplace_predict reads
    y: Any
    weight: Any
    margin: Any

    def advance(self, booster: Any, iteration: int, missing: float) -> None:
        """Add round ``iteration``'s trees to the margin (XGBoost's float32 sum)."""
        self.margin = booster.inplace_predict(
            self.features,
            iteration_range=(iteration, iteration + 1),
            predict_type="margin",
            missing=missing,
            validate_features=False,
            base_margin=self.margin,
        )


@dataclass
class ResidentTraining:
    """The loop's training data: XGBoost's matrix (for the trees) and the resident set (its margin)."""

    matrix: Any  # the DMatrix or QuantileDMatrix XGBoost builds the trees from
    data: ResidentSet


def train(
    params: dict[str, Any],
    dtrain: ResidentTraining,
    num_boost_round: int,
    *,
    evals: list[tuple[ResidentSet, str]],
    obj: Any,
    custom_metric: Any,
    callbacks: list[Any],
    engine_kind: str,
    xp: Any,
    missing: float,
    evals_result: dict | None = None,
    verbose_eval: bool | int = False,
) -> Any:
    """The loop as a train function of :func:`focal_boost.xgboost.training.boost` (``xgboost.train``'s call).

    ``obj`` and ``custom_metric`` are the recipe's objective and metric: the
    "host" engine calls them, the "cuda" engine launches the CUDA kernels on
    the objective's prepared loss (the same parameters and Hessian scale).
    """
    xgb = require("xgboost", "focal_boost.xgboost")
    if engine_kind == "host":
        engine: Any = HostEngine(obj, custom_metric)
    else:
        margin = dtrain.data.margin
        engine = CudaEngine(obj.prepared(None if margin.ndim == 1 else margin.shape[1]), xp, custom_metric)
    callbacks = list(callbacks)
    if verbose_eval:
        callbacks.append(
            xgb.callback.EvaluationMonitor(period=1 if verbose_eval is True else int(verbose_eval))
        )
    booster = xgb.Booster(params, [dtrain.matrix])
    booster, history = boosting_loop(
        booster,
        dtrain.matrix,
        engine,
        dtrain.data,
        [data for data, _ in evals],
        num_boost_round,
        callbacks,
        missing,
        custom_metric.name,
    )
    if evals_result is not None:
        evals_result.update(history)
    return booster


def boosting_loop(
    booster: Any,
    dtrain: Any,
    engine: Any,
    train: ResidentSet,
    evals: list[ResidentSet],
    num_boost_round: int,
    callbacks: list[Any],
    missing: float,
    metric_name: str,
) -> tuple[Any, dict[str, dict[str, list[float]]]]:
    """Boost ``num_boost_round`` rounds; returns the booster and the metric history.

    ``callbacks`` are XGBoost ``TrainingCallback`` objects, called as
    ``xgboost.train`` calls them (``before_training``, ``before_iteration``,
    ``after_iteration`` with the history, ``after_training``); one returning
    True from an iteration hook ends training.
    """
    history: dict[str, dict[str, list[float]]] = {}
    for callback in callbacks:
        booster = callback.before_training(booster)
    tracked = [train, *(data for data in evals if data is not train)]
    for iteration in range(num_boost_round):
        # Every callback is called, as xgboost.train does, before deciding to stop.
        stop = [callback.before_iteration(booster, iteration, history) for callback in callbacks]
        if any(stop):
            break
        grad, hess = engine.gradient_hessian(train.y, train.margin, train.weight)
        booster.boost(dtrain, iteration, grad=grad, hess=hess)
        for data in tracked:
            data.advance(booster, iteration, missing)
        for data in evals:
            value = engine.evaluate(data.y, data.margin, data.weight)
            history.setdefault(data.name, {}).setdefault(metric_name, []).append(value)
        stop = [callback.after_iteration(booster, iteration, history) for callback in callbacks]
        if any(stop):
            break
    for callback in callbacks:
        booster = callback.after_training(booster)
    return booster, history
