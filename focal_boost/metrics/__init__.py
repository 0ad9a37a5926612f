r"""Focal loss as an evaluation metric on predicted probabilities, for scikit-learn scorers.

:func:`focal_loss` is to focal loss what :func:`sklearn.metrics.log_loss` is to
log loss: it takes labels of any type and predicted class probabilities (from
any model's ``predict_proba``), and returns the weighted mean

.. math::

    \frac{\sum_i w_i\, \alpha_{y_i} (1 - p_{i,y_i})^{\gamma_{y_i}} \,(-\log p_{i,y_i})}{\sum_i w_i}.

:func:`make_focal_loss_scorer` wraps it for ``GridSearchCV``, ``cross_val_score``
and friends on every supported scikit-learn version.

With ``gamma=0, alpha=None`` this is :func:`sklearn.metrics.log_loss`. Unlike
:meth:`FocalLoss.loss <focal_boost.FocalLoss.loss>`, which works on raw
margins, this works on probabilities, so it can score any classifier.

:class:`ValidationMetric` gives early stopping a metric of the predicted
probabilities with its direction (``early_stopping_metric`` of
:class:`~focal_boost.FocalBoostClassifier` and of both adapters' ``train``).
"""

from focal_boost._boosters.validation import ValidationMetric
from focal_boost.metrics.scores import focal_loss, make_focal_loss_scorer, recall_at_precision, summary

__all__ = ["ValidationMetric", "focal_loss", "make_focal_loss_scorer", "recall_at_precision", "summary"]
