"""Python values as plain JSON and back, without pickle: what a model file's metadata holds.

JSON has no tuples, arrays, non-string keys or non-finite floats, which
fitted estimators hold (``classes_`` of any dtype, category levels, ``alpha``
as a dict of class labels). Those are written as objects whose key starts
with ``$`` (a dict with string keys stays a JSON object); :func:`decode`
reverses :func:`encode` exactly for the types listed there, and anything else
is a ``TypeError`` at encoding, so a value is never written in a form that
reads back different.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["decode", "encode"]

#: Array dtypes by kind that JSON can hold value for value: bool, integers, floats, text.
_ARRAY_KINDS = "biufU"


def encode(value: Any, where: str = "value") -> Any:
    """``value`` as JSON-ready data; ``where`` names it in the error for a type that cannot be saved.

    Saved: None, bool, int, float (NaN and infinities too), str, NumPy
    scalars of those, lists, tuples, dicts (any saved key), and NumPy arrays of
    bool, numbers, text, or objects that are themselves saved.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.str_):
        return str(value)
    if isinstance(value, list):
        return [encode(item, where) for item in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(item, where) for item in value]}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v, f"{where}[{k!r}]") for k, v in value.items()}
        return {"$dict": [[encode(k, where), encode(v, where)] for k, v in value.items()]}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _ARRAY_KINDS + "O":
            raise TypeError(f"{where}: a NumPy array of dtype {value.dtype} cannot be saved")
        dtype = "object" if value.dtype.kind == "O" else value.dtype.str
        return {"$array": encode(value.tolist(), where), "dtype": dtype, "shape": list(value.shape)}
    raise TypeError(f"{where}: a value of type {type(value).__name__} cannot be saved in a model file")


def decode(data: Any) -> Any:
    """The value :func:`encode` was given."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict):
        return data
    if "$float" in data:
        return float(data["$float"])
    if "$tuple" in data:
        return tuple(decode(item) for item in data["$tuple"])
    if "$dict" in data:
        return {_hashable(decode(k)): decode(v) for k, v in data["$dict"]}
    if "$array" in data:
        items, shape = decode(data["$array"]), tuple(data["shape"])
        if data["dtype"] != "object":
            return np.array(items, dtype=np.dtype(data["dtype"])).reshape(shape)
        array = np.empty(int(np.prod(shape)), dtype=object)
        for index, item in enumerate(_flat(items, len(shape))):
            array[index] = item  # one by one: NumPy would unpack items that are tuples
        return array.reshape(shape)
    if any(key.startswith("$") for key in data):
        raise ValueError(f"not a saved value: an object with keys {sorted(data)[:3]}")
    return {key: decode(value) for key, value in data.items()}


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def _flat(items: Any, depth: int) -> list:
    """The leaves of ``depth`` levels of nested lists, in order (a 0-d array's one item for 0)."""
    if depth == 0:
        return [items]
    if depth == 1:
        return list(items)
    return [leaf for item in items for leaf in _flat(item, depth - 1)]
