"""XGBoost adapters: focal loss as a custom objective and evaluation metric.

Ways in, from most to least managed:

* :func:`train` wraps ``xgboost.train``: it sets the objective, the focal-loss
  metric and the initial score, and records the loss in the booster so that
  :func:`predict_margin` and :func:`predict_proba` add the initial score back
  and apply the link (and the posterior correction).
* :class:`FocalObjective` and :class:`FocalMetric` are the callables
  ``xgboost.train(params, dtrain, obj=..., custom_metric=...)`` takes; they read
  labels and weights from the ``DMatrix`` (XGBoost does not apply weights to a
  custom objective's gradients: we do, exactly once).
* :class:`SklearnFocalObjective` and :class:`SklearnFocalMetric` are the
  callables ``xgboost.XGBClassifier(objective=..., eval_metric=...)`` takes
  (``f(y_true, y_pred, *, sample_weight)``).
* :func:`train_on_device` trains on the GPU with margins, gradients and
  Hessians kept there for the whole run (CUDA kernels, ``Booster.boost``,
  ``inplace_predict``; see :mod:`focal_boost.xgboost.resident`), and falls back to
  :func:`train` with a one-time warning where it cannot.

Margins are what XGBoost hands a custom objective: float32, shape ``(n,)`` for
binary and ``(n, K)`` for multiclass (``num_class``). Gradients come back as
float32, which is what XGBoost stores.

Multiclass Hessian: XGBoost's own softmax objective uses ``2 p (1 - p)`` as its
diagonal Hessian, twice the true diagonal, which keeps the per-coordinate
Newton steps of a diagonal approximation from overshooting. The objective here
applies the same factor (:func:`multiclass_hessian_scale`) to the focal
Hessian, so that ``gamma=0, alpha=None`` reproduces ``multi:softprob`` exactly.

The initial score: with a custom objective XGBoost estimates no intercept
(plain ``xgboost.train`` uses ``base_score=0.5`` as a raw margin). The binary
score goes into ``base_score``, which XGBoost then treats as a raw margin and
adds to every prediction; a multiclass score goes into each ``DMatrix``'s
``base_margin`` and is added back by the prediction helpers.
"""

from focal_boost.xgboost.device import DeviceFallbackWarning, train_on_device
from focal_boost.xgboost.objective import (
    FocalMetric,
    FocalObjective,
    SklearnFocalMetric,
    SklearnFocalObjective,
    multiclass_hessian_scale,
)
from focal_boost.xgboost.training import predict_margin, predict_proba, train, training_record

__all__ = [
    "DeviceFallbackWarning",
    "FocalMetric",
    "FocalObjective",
    "SklearnFocalMetric",
    "SklearnFocalObjective",
    "multiclass_hessian_scale",
    "predict_margin",
    "predict_proba",
    "train",
    "train_on_device",
    "training_record",
]
