"""Data frames of any library, as the pandas frames with NumPy-backed columns the estimator reads.

A polars or pyarrow frame (anything narwhals knows) becomes a pandas frame
through narwhals; a pandas column backed by Arrow (``pd.ArrowDtype``, what
``convert_dtypes(dtype_backend="pyarrow")`` and ``read_parquet(...,
dtype_backend="pyarrow")`` give) becomes the NumPy-backed column pandas would
have had: numbers as float64 with NaN for nulls, strings as text, dictionaries
as categoricals. So a frame predicts as its pandas equivalent does, with the
same category and text handling (:mod:`focal_boost._estimator.features`).

Dates, times and durations are refused with one message: the boosters split
numbers, and which number a date should be (its hour, weekday, age) is the
user's choice.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from focal_boost._boosters.data import is_frame

#: NumPy dtype kinds of dates, times and durations.
_TEMPORAL_KINDS = "mM"


def as_pandas(X: Any) -> Any:
    """``X`` as a pandas frame with NumPy-backed columns if it is a data frame; anything else unchanged."""
    if is_frame(X):
        return _numpy_backed(X)
    if isinstance(X, (np.ndarray, list, tuple)) or hasattr(X, "tocsr") or hasattr(X, "__dask_graph__"):
        return X
    try:
        import narwhals.stable.v1 as nw
    except ImportError:
        return X  # no narwhals, so no frame of another library to convert: scikit-learn's checks decide
    frame = nw.from_native(X, pass_through=True)
    if isinstance(frame, nw.LazyFrame):
        raise TypeError(
            f"X is a lazy {type(X).__name__}: collect it into a data frame first (e.g. X.collect())"
        )
    if not isinstance(frame, nw.DataFrame):
        return X
    try:
        converted = frame.to_pandas()
    except ImportError as error:
        raise ImportError(
            f"a {type(X).__name__} is read through pandas and pyarrow: pip install pandas pyarrow "
            "(or 'focal-boost[cli]')"
        ) from error
    return _numpy_backed(converted)


def _numpy_backed(frame: Any) -> Any:
    """``frame`` with each Arrow-backed column as its NumPy-backed equivalent; temporal columns refused."""
    converted = {}
    for position, (name, dtype) in enumerate(frame.dtypes.items()):
        arrow = getattr(dtype, "pyarrow_dtype", None)
        if arrow is None:
            _check_not_temporal(name, dtype)
            continue
        converted[position] = _from_arrow(frame.iloc[:, position], name, arrow)
    if not converted:
        return frame
    frame = frame.copy(deep=False)
    for position, values in converted.items():
        frame.isetitem(position, values)
    return frame


def _from_arrow(values: Any, name: Any, arrow: Any) -> Any:
    """One Arrow-backed pandas column as the NumPy-backed column pandas makes of such data."""
    import pyarrow as pa

    if pa.types.is_dictionary(arrow):
        import pandas as pd

        categorical = pa.array(values.array).to_pandas()  # Arrow's own mapping: a Categorical
        return pd.Series(categorical.to_numpy(), index=values.index, dtype=categorical.dtype)
    if pa.types.is_boolean(arrow) or pa.types.is_integer(arrow) or pa.types.is_floating(arrow):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    if pa.types.is_decimal(arrow):
        return values.astype("float64[pyarrow]").to_numpy(dtype=np.float64, na_value=np.nan)
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return values.to_numpy(dtype=object, na_value=None)
    if pa.types.is_temporal(arrow):
        _refuse_temporal(name, arrow)
    raise TypeError(
        f"column {name!r} holds Arrow values of type {arrow}: the boosters take numbers, text and "
        "categories; convert it to one of those first"
    )


def _check_not_temporal(name: Any, dtype: Any) -> None:
    kind = getattr(dtype, "kind", None)
    if kind in _TEMPORAL_KINDS or str(dtype).startswith(("datetime64", "period")):
        _refuse_temporal(name, dtype)


def _refuse_temporal(name: Any, dtype: Any) -> None:
    raise TypeError(
        f"column {name!r} holds dates, times or durations ({dtype}): the boosters split numbers, so "
        "convert it to the numbers that matter first (e.g. the hour, the day of the week, or the days "
        "since a reference date) and keep those columns"
    )
