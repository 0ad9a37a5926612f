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

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from focal_boost._adapter import raise_missing_num_class
from focal_boost._dask_estimator import DaskFocalBoostClassifier
from focal_boost._extras import require
from focal_boost._math import MAX_WEIGHT
from focal_boost._validation import weight_problem
from focal_boost.loss import FocalLoss

__all__ = [
    "DaskFocalBoostClassifier",
    "class_totals",
    "initial_score",
    "xgboost_predict_margin",
    "xgboost_predict_proba",
    "xgboost_train",
]


def _dask() -> Any:
    return require("dask", "focal_boost.dask"), require("dask.array", "focal_boost.dask")


def _as_dask_vector(values: Any, name: str) -> Any:
    _, da = _dask()
    if hasattr(values, "to_dask_array"):  # a Dask Series
        values = values.to_dask_array(lengths=True)
    values = da.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {values.shape}")
    return values


def class_totals(y: Any, sample_weight: Any = None, *, n_classes: int | None = None) -> np.ndarray:
    """The weighted count of each class, ``W_k = sum_{i: y_i = k} w_i``, computed on the cluster.

    ``y`` holds class indices 0..K-1 (a Dask array or Series, or anything
    ``dask.array.asarray`` takes); ``n_classes`` defaults to ``max(y) + 1``
    (at least 2). Checks the labels (no NaN, integers in range) and the
    weights (finite, >= 0) in the same pass.
    """
    dask, da = _dask()
    y = _as_dask_vector(y, "y").astype(np.float64)
    checks = [da.isnan(y).any(), da.nanmin(y), da.nanmax(y), (da.floor(y) != y).any()]
    weight = None
    if sample_weight is not None:
        weight = _as_dask_vector(sample_weight, "sample_weight").astype(np.float64)
        if weight.shape[0] != y.shape[0] and not (np.isnan(weight.shape[0]) or np.isnan(y.shape[0])):
            raise ValueError(f"sample_weight has {weight.shape[0]} values but y has {y.shape[0]}")
        checks += [(~da.isfinite(weight) | (weight < 0) | (weight > MAX_WEIGHT)).any()]
    has_nan, low, high, fractional, *bad_weight = dask.compute(*checks)
    if has_nan:
        raise ValueError("y contains NaN")
    if fractional or low < 0:
        raise ValueError(f"y must hold class indices 0, 1, ...; found values in [{low}, {high}]")
    if bad_weight and bad_weight[0]:
        raise ValueError(weight_problem(weight.compute()) or "sample_weight must be finite and >= 0")
    n_classes = max(int(high) + 1, 2) if n_classes is None else int(n_classes)
    if high >= n_classes:
        raise ValueError(f"y has label {int(high)}, outside 0..{n_classes - 1}")
    totals = da.bincount(y.astype(np.intp), weights=weight, minlength=n_classes)
    return np.asarray(totals.compute(), dtype=np.float64)


def initial_score(
    loss: FocalLoss, y: Any, sample_weight: Any = None, *, n_classes: int | None = None
) -> tuple[FocalLoss, float | np.ndarray]:
    """``(loss with alpha="balanced" resolved, initial score)`` for labels on the cluster.

    The same numbers as ``loss.resolved(y, w)`` and ``init_score(y, w)`` on one
    machine: both depend on the data only through :func:`class_totals`, so they
    are computed from one aggregated row per class. ``n_classes`` given (or
    more than two classes) gives a multiclass score, one value per class.
    """
    totals = class_totals(y, sample_weight, n_classes=n_classes)
    return _from_totals(loss, totals, multiclass=totals.shape[0] > 2 or n_classes is not None)


def _from_totals(loss: FocalLoss, totals: np.ndarray, *, multiclass: bool) -> tuple[FocalLoss, Any]:
    k = totals.shape[0]
    labels = np.arange(k, dtype=np.float64)
    resolved = loss.resolved(labels, totals, n_classes=k)
    init = resolved.init_score(labels, totals, n_classes=k if multiclass else None)
    return resolved, init


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
    list of ``(X, y)`` or ``(X, y, weight)``, named ``"valid_0"``, ... ``params``
    are XGBoost's (``num_class`` for multiclass). Returns XGBoost's
    ``{"booster", "history"}``; the booster records the loss and the initial
    score, so :func:`focal_boost.xgboost.predict_margin`/``predict_proba`` (local
    data) and :func:`xgboost_predict_proba` (Dask data) use them.
    """
    from xgboost import dask as dxgb

    from focal_boost import _xgboost_run

    X, _, y, sample_weight = _aligned(X, y, sample_weight)
    evaluation = []
    for i, item in enumerate(eval_set):
        X_eval, _, y_eval, w_eval = _aligned(*item, what=f"eval_set[{i}]: ")
        evaluation.append((X_eval, y_eval, w_eval))

    def on_the_cluster(loss: FocalLoss | None, columns: int | None) -> tuple[FocalLoss, Any]:
        # Labels and weights are checked here, on the cluster, before any worker trains: an error
        # raised inside one worker's objective would reach the client as the other workers'
        # "connection closed" as often as not.
        totals = class_totals(y, sample_weight, n_classes=columns)
        if columns is None and totals.shape[0] > 2:
            raise_missing_num_class(np.flatnonzero(totals > 0).astype(np.float64))  # the labels present
        return _from_totals(FocalLoss() if loss is None else loss, totals, multiclass=columns is not None)

    def dask_matrices(run: Any) -> tuple[Any, list[tuple[Any, str]]]:
        def matrix(X_part: Any, y_part: Any, w_part: Any = None) -> Any:
            margin = None
            if run.columns is not None:
                _, da = _dask()
                rows = (
                    X_part.to_dask_array(lengths=True)
                    if hasattr(X_part, "to_dask_array")
                    else da.asarray(X_part)
                )
                margin = da.broadcast_to(
                    da.asarray(run.init), (rows.shape[0], run.columns), chunks=(rows.chunks[0], -1)
                )
            return dxgb.DaskDMatrix(client, X_part, y_part, weight=w_part, base_margin=margin)

        return matrix(X, y, sample_weight), [
            (matrix(*item), f"valid_{i}") for i, item in enumerate(evaluation)
        ]

    return _xgboost_run.boost(
        functools.partial(dxgb.train, client),
        dask_matrices,
        params,
        num_boost_round,
        loss=loss,
        loss_and_init=on_the_cluster,
        early_stopping_rounds=kwargs.pop("early_stopping_rounds", None),
        maximize=kwargs.pop("maximize", None),
        callbacks=kwargs.pop("callbacks", None),
        booster_of=lambda result: result["booster"],
        **kwargs,
    )


def xgboost_predict_margin(client: Any, booster: Any, X: Any, **kwargs: Any) -> Any:
    """Lazy raw margins (initial score included) of a booster from :func:`xgboost_train`.

    Up to the best round after early stopping, as :func:`focal_boost.xgboost.predict_margin`.
    """
    from xgboost import dask as dxgb

    from focal_boost import xgboost as fx

    init = fx.training_record(booster).init_score
    kwargs["iteration_range"] = fx.best_iteration_range(booster, kwargs.get("iteration_range"))
    margin = dxgb.predict(client, booster, X, output_margin=True, **kwargs)
    if hasattr(margin, "to_dask_array"):  # a Dask DataFrame in gives a Dask Series/DataFrame out
        margin = margin.to_dask_array(lengths=True)
    if init.ndim == 1:  # multiclass: the initial score is a base margin, added to the trees' sum here
        margin = margin + init
    return margin.astype(np.float64)


def xgboost_predict_proba(client: Any, booster: Any, X: Any, *, posterior: bool = True, **kwargs: Any) -> Any:
    """Lazy class probabilities, shape (n, K): posterior-corrected unless ``posterior=False``."""
    from focal_boost import xgboost as fx

    record = fx.training_record(booster)
    loss, init = record.loss, record.init_score
    margin = xgboost_predict_margin(client, booster, X, **kwargs)
    k = 2 if init.ndim == 0 else init.shape[0]
    return _probabilities(margin, loss.posterior_proba if posterior else loss.predict_proba, k)


def _probabilities(margin: Any, convert: Any, n_classes: int) -> Any:
    """Lazy ``(n, n_classes)`` probabilities from lazy margins, ``convert`` applied block by block.

    An empty block (an empty partition) gives an empty block of probabilities.
    """

    def block_probabilities(block: np.ndarray) -> np.ndarray:
        return np.empty((0, n_classes)) if block.shape[0] == 0 else convert(block)

    meta = np.empty((0, 0), dtype=np.float64)  # so that Dask does not call convert to find the type out
    if margin.ndim == 1:
        return margin.map_blocks(
            block_probabilities,
            dtype=np.float64,
            chunks=(margin.chunks[0], (n_classes,)),
            new_axis=1,
            meta=meta,
        )
    margin = margin.rechunk({1: -1})  # the softmax needs every class of a row in one block
    return margin.map_blocks(block_probabilities, dtype=np.float64, meta=meta)


def _aligned(X: Any, y: Any, sample_weight: Any = None, *, what: str = "") -> tuple[Any, Any, Any, Any]:
    """``(X, X as a Dask array, y, sample_weight)`` ready for the boosters' Dask interfaces.

    Lengths are checked (a mismatch is a ``ValueError`` naming both), ``y``
    and the weights are rechunked to ``X``'s partitions, and empty partitions
    are dropped (``lightgbm.dask`` fails on them and XGBoost's workers would
    get no rows). ``X`` keeps its type (array or DataFrame); ``y`` and the
    weights become Dask arrays.
    """
    from focal_boost._dask_estimator import _dask_array as dask_array

    X_array = _known_chunks(dask_array(X, f"{what}X"))
    if X_array.ndim != 2:
        raise ValueError(f"{what}X must be 2-D, got shape {X_array.shape}")
    y = _known_chunks(dask_array(y, f"{what}y"))
    n = X_array.shape[0]
    if y.ndim != 1:
        raise ValueError(f"{what}y must be 1-D, got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"{what}X has {n} rows but {what}y has {y.shape[0]} labels")
    weight = None
    if sample_weight is not None:
        weight = _known_chunks(dask_array(sample_weight, f"{what}sample_weight"))
        if weight.ndim != 1 or weight.shape[0] != n:
            raise ValueError(f"{what}sample_weight must have shape ({n},) like X's rows, got {weight.shape}")
    chunks = X_array.chunks[0]
    y = y if y.chunks[0] == chunks else y.rechunk({0: chunks})
    if weight is not None and weight.chunks[0] != chunks:
        weight = weight.rechunk({0: chunks})
    keep = [i for i, rows in enumerate(chunks) if rows > 0]
    if len(keep) < len(chunks):
        if not keep:
            raise ValueError(f"{what}X has no rows")
        X = X.partitions[keep] if hasattr(X, "partitions") else X_array.blocks[keep]
        X_array, y = X_array.blocks[keep], y.blocks[keep]
        weight = None if weight is None else weight.blocks[keep]
    elif not hasattr(X, "partitions"):
        X = X_array
    return X, X_array, y, weight


def _known_chunks(array: Any) -> Any:
    """``array`` with its chunk sizes computed if Dask does not know them (e.g. after filtering)."""
    return array.compute_chunk_sizes() if any(np.isnan(c) for c in array.chunks[0]) else array
