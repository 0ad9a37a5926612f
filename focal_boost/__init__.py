"""focal_boost: focal loss as a first-class objective for gradient-boosted trees.

Public names:

* :class:`FocalLoss` -- the loss, its gradient and Hessian with respect to the
  raw margin, the initial score, the link and the posterior correction.
* :class:`FocalBoostClassifier` -- a scikit-learn classifier over XGBoost or
  LightGBM trained on focal loss.
* :func:`installed_backends` -- the boosters installed here, XGBoost first.
* :func:`load_model` -- a model saved by :meth:`FocalBoostClassifier.save_model`.

Booster adapters live in :mod:`focal_boost.xgboost` and :mod:`focal_boost.lightgbm`,
scorers in :mod:`focal_boost.metrics`.
"""

from focal_boost._estimator.backends import installed_backends
from focal_boost._estimator.classifier import FocalBoostClassifier
from focal_boost._estimator.loading import load_model
from focal_boost._util.version import __version__
from focal_boost._util.warnings import RawProbabilityWarning
from focal_boost.loss import FocalLoss

__all__ = [
    "FocalBoostClassifier",
    "FocalLoss",
    "RawProbabilityWarning",
    "__version__",
    "installed_backends",
    "load_model",
]
