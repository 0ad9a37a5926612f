"""Focal loss on a Dask cluster: what ``xgboost.dask`` needs beyond the objective.

The objective and metric of :mod:`focal_boost.xgboost` work unchanged with
``xgboost.dask.train(client, params, dtrain, obj=FocalObjective(loss),
custom_metric=FocalMetric(loss))``: each worker computes gradients on its own
partitions with the Numba kernels, and the metric is the exact global
weighted mean (its sums are all-reduced across workers). What needs the whole
data set is the **initial score** (and ``alpha="balanced"``): both depend on
the labels only through the weighted count of each class, which
:func:`class_totals` computes on the cluster without gathering any rows.
:func:`xgboost_train` puts it together; :func:`xgboost_predict_proba` returns
lazy Dask probabilities.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from focal_boost.dask import backends as _dask_backends
from focal_boost.dask import data as _dask_data
from focal_boost.dask.data import class_totals
from focal_boost.dask.estimator import DaskFocalBoostClassifier
from focal_boost.loss import FocalLoss
from focal_boost.xgboost import training as xgboost_training

__all__ = [
    "DaskFocalBoostClassifier",
    "class_totals",
    "initial_score",
    "xgboost_predict_margin",
    "xgboost_predict_proba",
    "xgboost_train",
]


def initial_score(
    loss: FocalLoss, y: Any, sample_weight: Any = None, *, n_classes: int | None = None
) -> tuple[FocalLoss, float | np.ndarray]:
    """``(loss with alpha="balanced" resolved, initial score)`` for labels on the cluster.

    The same numbers as ``loss.resolved(y, w)`` and ``loss.init_score(y, w)``
    on one machine, from one pass over the labels: both depend on the data
    only through :func:`class_totals`, so they are
    computed from one aggregated row per class. ``n_classes`` given (or
    more than two classes) gives a multiclass score, one value per class.
    """
    totals = class_totals(y, sample_weight, n_classes=n_classes)
    return _dask_data.loss_and_init_from_totals(
        loss, totals, multiclass=totals.shape[0] > 2 or n_classes is not None
    )


def xgboost_train(
    client: Any,
    params: Mapping[str, Any],
    X: Any,
    y: Any,
    num_boost_round: int = 10,
    *,
    loss: FocalLoss | None = None,
    sample_weight: Any = None,
    eval_set: Sequence[tuple] = (),
    **kwargs: Any,
) -> dict[str, Any]:
    """``xgboost.dask.train`` with focal loss, its initial score and the exact metric.

    ``X, y`` (and ``sample_weight``) are Dask collections; ``eval_set`` is a
    list of ``(X, y)`` or ``(X, y, weight)``, named ``"valid_0"``, ..., or
    the same with a name last (the form of
    :func:`focal_boost.xgboost.train_on_device`). ``params``
    are XGBoost's (``num_class`` for multiclass). Returns XGBoost's
    ``{"booster", "history"}``; the booster records the loss and the initial
    score, so :func:`focal_boost.xgboost.predict_margin`/``predict_proba`` (local
    data) and :func:`xgboost_predict_proba` (Dask data) use them.
    """
    return _dask_backends.xgboost_train(
        client,
        params,
        X,
        y,
        num_boost_round,
        loss=loss,
        sample_weight=sample_weight,
        eval_set=eval_set,
        **kwargs,
    )


def xgboost_predict_margin(client: Any, booster: Any, X: Any, **kwargs: Any) -> Any:
    """Lazy raw margins (initial score included) of a booster from :func:`xgboost_train`.

    Up to the best round after early stopping, as :func:`focal_boost.xgboost.predict_margin`.
    """
    return _dask_backends.xgboost_predict_margin(client, booster, X, **kwargs)


def xgboost_predict_proba(client: Any, booster: Any, X: Any, *, posterior: bool = True, **kwargs: Any) -> Any:
    """Lazy class probabilities, shape (n, K): posterior-corrected unless ``posterior=False``."""
    record = xgboost_training.training_record(booster)
    loss, init = record.loss, record.init_score
    margin = xgboost_predict_margin(client, booster, X, **kwargs)
    k = 2 if init.ndim == 0 else init.shape[0]
    return _dask_data.lazy_probabilities(margin, loss.posterior_proba if posterior else loss.predict_proba, k)
