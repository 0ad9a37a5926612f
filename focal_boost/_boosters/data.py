"""What a booster can read: frame detection and the float32 range of features."""

from __future__ import annotations

from typing import Any

import numpy as np

from focal_boost._kernels.checks import FLOAT32_MAX

__all__ = ["check_float32_range", "is_categorical", "is_frame"]


def is_frame(X: Any) -> bool:
    """Whether ``X`` is a pandas DataFrame (without importing pandas)."""
    return hasattr(X, "iloc") and hasattr(X, "dtypes") and hasattr(X, "columns")  # iloc first: no polars


def is_categorical(values: Any) -> bool:
    """Whether a pandas Series has a ``category`` dtype."""
    return str(values.dtype) == "category"


def check_float32_range(X: Any, booster: str = "XGBoost") -> None:
    """Raise if ``X`` holds finite values beyond float32's range, which ``booster`` would read as inf.

    ``X``: a NumPy array, a SciPy sparse matrix or a DataFrame (its non-categorical columns).
    """
    if is_frame(X):
        for name in X.columns:
            values = X[name]
            if not is_categorical(values) and values.dtype.kind == "f":
                _check_float32_values(values.to_numpy(), f"column {name!r}", booster)
        return
    data = X.data if hasattr(X, "tocsr") else np.asarray(X)
    if data.dtype.kind == "f" and data.dtype.itemsize > 4:
        _check_float32_values(data, "X", booster)


def _check_float32_values(values: np.ndarray, where: str, booster: str) -> None:
    if values.dtype.itemsize <= 4 or values.size == 0:
        return
    with np.errstate(invalid="ignore"):
        beyond = np.abs(values) > FLOAT32_MAX  # NaN compares false
    if not beyond.any():
        return
    if beyond.ndim == 2:
        column = int(np.flatnonzero(beyond.any(axis=0))[0])
        where = f"column {column} of X"
    largest = float(np.max(np.abs(values[beyond])))
    raise ValueError(
        f"{where} has a value of magnitude {largest:.3g}, beyond float32's range (3.4e38): {booster} "
        "stores features as float32 and would read it as infinity; rescale the feature "
        "(a tree uses only the order of its values)"
    )
