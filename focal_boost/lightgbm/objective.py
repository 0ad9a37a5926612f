"""LightGBM's custom objective and metric for focal loss, in its two call forms.

:class:`FocalObjective` and :class:`FocalMetric` are what ``lightgbm.train``
takes (``params["objective"]``, ``feval``: ``f(margins, Dataset)``);
:class:`SklearnFocalObjective` and :class:`SklearnFocalMetric` what
``LGBMClassifier`` takes (``f(y_true, y_pred, weight)``). The focal math, the
weights and the Hessian policy are
:class:`focal_boost._boosters.objective.BoosterObjective`'s; here are
LightGBM's conventions: float64 margins, its multiclass Hessian factor
``K / (K - 1)``, column-major multiclass gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from focal_boost._boosters.misuse import warn_raw_probabilities, wrapper_got_booster_data, wrong_data
from focal_boost._boosters.objective import BoosterMetric, BoosterObjective
from focal_boost._kernels.team import lightgbm_runtime as lightgbm_openmp_runtime
from focal_boost._util.extras import require
from focal_boost.loss import FocalLoss

__all__ = [
    "FocalMetric",
    "FocalObjective",
    "SklearnFocalMetric",
    "SklearnFocalObjective",
    "multiclass_hessian_scale",
]


def _lightgbm() -> Any:
    return require("lightgbm", "focal_boost.lightgbm")


def multiclass_hessian_scale(n_classes: int) -> float:
    """LightGBM's multiclass Hessian factor ``K / (K - 1)``."""
    return n_classes / (n_classes - 1.0)


def _constructed(dataset: Any) -> bool:
    return dataset._handle is not None  # LightGBM has no public "constructed" flag


def _weights(dataset: Any) -> np.ndarray | None:
    # Before construction LightGBM keeps weights as given (get_weight() would raise).
    weight = dataset.get_weight() if _constructed(dataset) else dataset.weight
    return None if weight is None or len(weight) == 0 else np.asarray(weight, dtype=np.float64)


class FocalObjective(BoosterObjective):
    """Focal loss as ``lightgbm.train({"objective": FocalObjective(loss), ...}, ...)``.

    ``n_threads``: pass LightGBM's ``num_threads`` so the two thread pools take turns.

    LightGBM replaces NaN labels with 0 when it builds a ``Dataset``, before
    an objective sees them, so this objective cannot refuse them: check labels
    first, or train with :func:`focal_boost.lightgbm.train`, which refuses
    them on a ``Dataset`` not yet built (as ``FocalBoostClassifier`` does).
    """

    # LightGBM stores float32 gradients and flattens (n, K) ones column by
    # column: handing them over in that form spares it two conversions a round.
    output_dtype = np.float32
    output_order = "F"
    # LightGBM's OpenMP threads spin between its parallel regions: they run the parallel
    # (float64, binary) kernel (focal_boost._kernels.team).
    openmp_runtime = staticmethod(lightgbm_openmp_runtime)

    multiclass_hessian_scale = staticmethod(multiclass_hessian_scale)

    def __call__(self, preds: np.ndarray, train_data: Any) -> tuple[np.ndarray, np.ndarray]:
        _require_a_dataset(self, train_data)
        return self.gradient_hessian(train_data.get_label(), preds, _weights(train_data))


class SklearnFocalObjective(FocalObjective):
    """Focal loss for ``lightgbm.LGBMClassifier(objective=SklearnFocalObjective(loss))``.

    ``LGBMClassifier`` sets no intercept for a custom objective and its
    ``predict_proba`` returns raw scores: pass ``init_score=`` to ``fit`` and
    convert margins with ``loss.posterior_proba``, or use :func:`train`.
    """

    def __init__(self, loss: FocalLoss | None = None, *, n_threads: int | None = None) -> None:
        super().__init__(loss, n_threads=n_threads)
        warn_raw_probabilities(
            "LGBMClassifier", "convert model.predict(X, raw_score=True) plus the init_score"
        )

    def __call__(self, y_true, y_pred, weight=None):  # type: ignore[override]
        _refuse_a_dataset(self, y_pred)
        return self.gradient_hessian(y_true, y_pred, _nonempty(weight))


class FocalMetric(BoosterMetric):
    """The (weighted) mean focal loss as ``lightgbm.train(..., feval=FocalMetric(loss))``.

    Returns ``("focal_loss", value, False)``: lower is better. With ``metric``
    (``"log_loss"``, ``"average_precision"``, ``"roc_auc"``, a function or a
    :class:`~focal_boost.metrics.ValidationMetric`), that metric of the
    posterior-corrected probabilities instead, with its name and direction.
    """

    def __call__(self, preds: np.ndarray, eval_data: Any) -> tuple[str, float, bool]:
        _require_a_dataset(self, eval_data)
        value = self.score(eval_data.get_label(), preds, _weights(eval_data))
        return self.name, value, self.greater_is_better


class SklearnFocalMetric(FocalMetric):
    """The focal-loss metric for ``LGBMClassifier.fit(eval_metric=SklearnFocalMetric(loss))``."""

    def __call__(self, y_true, y_pred, weight=None):  # type: ignore[override]
        _refuse_a_dataset(self, y_pred)
        return self.name, self.score(y_true, y_pred, _nonempty(weight)), self.greater_is_better


def _require_a_dataset(callable_: Any, received: Any) -> None:
    if not isinstance(received, _lightgbm().Dataset):
        raise wrong_data(callable_, received, "lightgbm")


def _refuse_a_dataset(callable_: Any, received: Any) -> None:
    if isinstance(received, _lightgbm().Dataset):  # given to lightgbm.train
        raise wrapper_got_booster_data(callable_, "lightgbm")


def _nonempty(weight: Any) -> np.ndarray | None:
    return None if weight is None or len(weight) == 0 else np.asarray(weight, dtype=np.float64)
