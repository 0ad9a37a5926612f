"""LightGBM adapters: focal loss as a custom objective and evaluation metric.

* :func:`train` wraps ``lightgbm.train``: it sets the objective, the focal-loss
  metric and the initial score (``init_score`` of the training and validation
  Datasets), and records the loss on the booster so that :func:`predict_margin`
  and :func:`predict_proba` add the initial score back (LightGBM's ``predict``
  does not) and apply the link and the posterior correction.
* :class:`FocalObjective` and :class:`FocalMetric` are what
  ``lightgbm.train(params={"objective": ...}, feval=...)`` takes; they read
  labels and weights from the Dataset and apply the weights exactly once.
* :class:`SklearnFocalObjective` and :class:`SklearnFocalMetric` are for
  ``lightgbm.LGBMClassifier(objective=...)`` and ``fit(eval_metric=...)``. Their
  signature is ``(y_true, y_pred, weight)``: LightGBM's wrapper picks the call
  form by counting arguments, and a two-argument callable silently loses the
  sample weights.

Margins: float64, shape ``(n,)`` for binary and ``(n, K)`` for multiclass
(LightGBM 4). LightGBM's own softmax objective scales its diagonal Hessian by
``K / (K - 1)``; the objective here applies the same factor
(:func:`multiclass_hessian_scale`) so that ``gamma=0, alpha=None`` reproduces
``objective="multiclass"``. All objects are stateless, so LightGBM's deep copy
of ``params`` loses nothing.

Weights: LightGBM counts rows, not weights, when it builds histogram bins and
checks ``min_data_in_leaf``, so even its built-in objectives do not give
integer weights and repeated rows the same model. What the adapters guarantee
is that the weights multiply each row's gradient and Hessian exactly once, as
LightGBM's built-in objectives do (tested against them at ``gamma=0``).
"""

from focal_boost.lightgbm.objective import (
    FocalMetric,
    FocalObjective,
    SklearnFocalMetric,
    SklearnFocalObjective,
    multiclass_hessian_scale,
)
from focal_boost.lightgbm.training import (
    load_model,
    predict_margin,
    predict_proba,
    save_model,
    train,
    training_record,
)

__all__ = [
    "FocalMetric",
    "FocalObjective",
    "SklearnFocalMetric",
    "SklearnFocalObjective",
    "load_model",
    "multiclass_hessian_scale",
    "predict_margin",
    "predict_proba",
    "save_model",
    "train",
    "training_record",
]
