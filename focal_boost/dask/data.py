"""Dask collections as the boosters' Dask interfaces need them, checked and summarised on the cluster.

What the Dask paths share: labels, weights and features as Dask arrays with
aligned partitions (:func:`aligned`), the class totals that the initial score
and ``alpha="balanced"`` depend on (:func:`class_totals`, computed without
gathering rows), the labels' classes and codes, and lazy probabilities from
lazy margins (:func:`lazy_probabilities`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from focal_boost._kernels.checks import weight_problem
from focal_boost._kernels.scalar import MAX_WEIGHT
from focal_boost._util.extras import require
from focal_boost.loss import FocalLoss


def dask_modules() -> Any:
    return require("dask", "focal_boost.dask"), require("dask.array", "focal_boost.dask")


def as_dask_vector(values: Any, name: str) -> Any:
    _, da = dask_modules()
    if hasattr(values, "to_dask_array"):  # a Dask Series
        values = values.to_dask_array(lengths=True)
    values = da.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {values.shape}")
    return values


def dask_array(values: Any, name: str) -> Any:
    """``values`` as a Dask array: a Dask array as it is, a Dask DataFrame or Series converted."""
    _, da = dask_modules()

    if hasattr(values, "to_dask_array"):  # Dask DataFrame or Series
        dtype = getattr(values, "dtype", None)  # a Series' (DataFrames have dtypes)
        if dtype is not None and not isinstance(dtype, np.dtype):
            values = values.astype(object)  # pandas' string (extension) dtype: labels as objects
        values = values.to_dask_array(lengths=True)
    elif not isinstance(values, da.Array):
        raise TypeError(f"{name} must be a Dask array, DataFrame or Series, got {type(values).__name__}")
    return values


def class_totals(y: Any, sample_weight: Any = None, *, n_classes: int | None = None) -> np.ndarray:
    """The weighted count of each class, ``W_k = sum_{i: y_i = k} w_i``, computed on the cluster.

    ``y`` holds class indices 0..K-1 (a Dask array or Series, or anything
    ``dask.array.asarray`` takes); ``n_classes`` defaults to ``max(y) + 1``
    (at least 2). Checks the labels (no NaN, integers in range) and the
    weights (finite, >= 0) in the same pass.
    """
    dask, da = dask_modules()
    y = as_dask_vector(y, "y").astype(np.float64)
    checks = [da.isnan(y).any(), da.nanmin(y), da.nanmax(y), (da.floor(y) != y).any()]
    weight = None
    if sample_weight is not None:
        weight = as_dask_vector(sample_weight, "sample_weight").astype(np.float64)
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


def loss_and_init_from_totals(
    loss: FocalLoss, totals: np.ndarray, *, multiclass: bool
) -> tuple[FocalLoss, Any]:
    k = totals.shape[0]
    labels = np.arange(k, dtype=np.float64)
    resolved = loss.resolved(labels, totals, n_classes=k)
    init = resolved.init_score(labels, totals, n_classes=k if multiclass else None)
    return resolved, init


def classes_of(y: Any) -> np.ndarray:
    """The distinct labels of a Dask array, sorted (one small result per partition comes back)."""
    return np.unique(np.asarray(y.map_blocks(np.unique, dtype=y.dtype).compute()))


def encoded(y: Any, classes: np.ndarray) -> Any:
    """Lazy class codes 0..K-1 of the labels ``y`` (float64); a label not in ``classes`` is an error."""

    def encode(block: np.ndarray) -> np.ndarray:
        codes = np.searchsorted(classes, block)
        unseen = (codes >= len(classes)) | (classes[np.minimum(codes, len(classes) - 1)] != block)
        if np.any(unseen):
            raise ValueError(f"labels not seen in y: {np.unique(block[unseen])[:5].tolist()}")
        return codes.astype(np.float64)

    return y.map_blocks(encode, dtype=np.float64)


def lazy_probabilities(margin: Any, convert: Any, n_classes: int) -> Any:
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


def aligned(X: Any, y: Any, sample_weight: Any = None, *, what: str = "") -> tuple[Any, Any, Any, Any]:
    """``(X, X as a Dask array, y, sample_weight)`` ready for the boosters' Dask interfaces.

    Lengths are checked (a mismatch is a ``ValueError`` naming both), ``y``
    and the weights are rechunked to ``X``'s partitions, and empty partitions
    are dropped (``lightgbm.dask`` fails on them and XGBoost's workers would
    get no rows). ``X`` keeps its type (array or DataFrame); ``y`` and the
    weights become Dask arrays.
    """
    X_array = known_chunks(dask_array(X, f"{what}X"))
    if X_array.ndim != 2:
        raise ValueError(f"{what}X must be 2-D, got shape {X_array.shape}")
    y = known_chunks(dask_array(y, f"{what}y"))
    n = X_array.shape[0]
    if y.ndim != 1:
        raise ValueError(f"{what}y must be 1-D, got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"{what}X has {n} rows but {what}y has {y.shape[0]} labels")
    weight = None
    if sample_weight is not None:
        weight = known_chunks(dask_array(sample_weight, f"{what}sample_weight"))
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


def known_chunks(array: Any) -> Any:
    """``array`` with its chunk sizes computed if Dask does not know them (e.g. after filtering)."""
    return array.compute_chunk_sizes() if any(np.isnan(c) for c in array.chunks[0]) else array
