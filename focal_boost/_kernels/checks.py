"""Checks of user input that raise clear errors before any kernel runs.

Value checks that need a pass over the data (labels in range, finite margins,
valid weights) happen inside the kernels for free and are turned into errors by
:func:`raise_for_bad_counts`; everything here is about types, shapes and the
loss's own parameters.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from focal_boost._kernels.scalar import MAX_FLOAT32_WEIGHT, MAX_GAMMA, MAX_HESSIAN_FLOOR, MAX_WEIGHT

HESSIAN_POLICIES = ("exact", "clip", "upper")

#: The largest float32. XGBoost stores features, and both boosters store sample weights, as float32.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _plain(value: float) -> str:
    """A power of ten as people write it: 1e31, 1e6."""
    mantissa, exponent = f"{value:e}".split("e")
    return f"{float(mantissa):g}e{int(exponent)}"


def _is_real_scalar(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_gamma(gamma: Any) -> float | np.ndarray:
    """``gamma`` as a float, or as a float64 vector of per-class values, in ``[0, MAX_GAMMA]``."""
    if _is_real_scalar(gamma):
        value = float(gamma)
        if not np.isfinite(value) or value < 0.0:
            raise ValueError(f"gamma must be a finite number >= 0, got {gamma!r}")
        if value > MAX_GAMMA:
            raise ValueError(f"gamma must be at most {_plain(MAX_GAMMA)}{_GAMMA_REASON}, got {gamma!r}")
        return value
    if isinstance(gamma, str) or not isinstance(gamma, Sequence | np.ndarray):
        raise TypeError(f"gamma must be a number >= 0 or a sequence of per-class values, got {gamma!r}")
    values = _as_float_vector(gamma, "gamma")
    if not np.all(np.isfinite(values)) or np.any(values < 0.0):
        raise ValueError(f"every per-class gamma must be a finite number >= 0, got {values.tolist()}")
    if np.any(values > MAX_GAMMA):
        raise ValueError(
            f"every per-class gamma must be at most {_plain(MAX_GAMMA)}{_GAMMA_REASON}, got {values.tolist()}"
        )
    return values


_GAMMA_REASON = " (the loss then counts only examples with p_t below about 1e-6)"


def check_alpha(alpha: Any) -> str | float | np.ndarray | None:
    """``alpha`` as ``None``, ``"balanced"``, a float in [0, 1] or a vector of them."""
    if alpha is None:
        return None
    if isinstance(alpha, str):
        if alpha != "balanced":
            raise ValueError(
                f"alpha must be None, 'balanced', a number in [0, 1] or per-class values; got {alpha!r}"
            )
        return alpha
    if _is_real_scalar(alpha):
        value = float(alpha)
        if not 0.0 <= value <= 1.0:  # also rejects NaN
            raise ValueError(f"alpha must lie in [0, 1], got {alpha!r}")
        return value
    if not isinstance(alpha, Sequence | np.ndarray):
        raise TypeError(
            "alpha must be None, 'balanced', a number in [0, 1] or a sequence of per-class values, "
            f"got {alpha!r}"
        )
    values = _as_float_vector(alpha, "alpha")
    if not np.all((values >= 0.0) & (values <= 1.0)):
        raise ValueError(f"every per-class alpha must lie in [0, 1], got {values.tolist()}")
    return values


def check_hessian(hessian: Any, floor: Any) -> tuple[str, float]:
    """The Hessian policy name and its floor."""
    if hessian not in HESSIAN_POLICIES:
        raise ValueError(f"hessian must be one of {HESSIAN_POLICIES}, got {hessian!r}")
    if not _is_real_scalar(floor) or not np.isfinite(floor) or not 0.0 <= floor <= MAX_HESSIAN_FLOOR:
        raise ValueError(f"hessian_floor must be a number in [0, {_plain(MAX_HESSIAN_FLOOR)}], got {floor!r}")
    return hessian, float(floor)


def _as_float_vector(values: Any, name: str) -> np.ndarray:
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must contain numbers only, got {values!r}") from error
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"per-class {name} must be a non-empty 1-D sequence, got shape {array.shape}")
    array.flags.writeable = False  # the loss's parameters cannot change behind its back
    return array


def check_margin(margin: Any) -> np.ndarray:
    """Margins as a float32/float64 array of shape (n,) or (n, K), K >= 2, n >= 1."""
    array = np.asarray(margin)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"margin must be numeric, got an array of dtype {array.dtype}")
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float64)
    if array.ndim not in (1, 2):
        raise ValueError(
            f"margin must have shape (n,) for binary or (n, K) for multiclass, got {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError("margin is empty: at least one sample is required")
    if array.ndim == 2 and array.shape[1] < 2:
        raise ValueError(f"multiclass margins need K >= 2 columns, got shape {array.shape}")
    return array


def check_labels(y: Any, n_samples: int | None = None) -> np.ndarray:
    """Labels as a numeric 1-D array (values are checked by the kernels)."""
    array = np.asarray(y)
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"y must hold numeric class indices (0/1, or 0..K-1), got dtype {array.dtype}; "
            "encode other labels first, e.g. with sklearn.preprocessing.LabelEncoder"
        )
    if array.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError("y is empty: at least one sample is required")
    if n_samples is not None and array.shape[0] != n_samples:
        raise ValueError(f"y has {array.shape[0]} samples but margin has {n_samples}")
    if array.dtype.kind == "b" or not _kernel_dtype(array.dtype):
        array = array.astype(np.float64)
    return array


def check_class_indices(y: np.ndarray, n_classes: int | None = None) -> int:
    """The number of classes ``K`` of labels that must be class indices ``0..K-1``.

    The one check of label values outside the kernels (which count bad labels
    themselves): no NaN, no negative or fractional value, none above
    ``n_classes - 1``. ``K`` is ``n_classes`` if given (an integer >= 2), else
    ``max(y) + 1`` and at least 2. ``y`` is what :func:`check_labels` returns.
    """
    if y.dtype.kind == "f" and np.any(np.isnan(y)):
        raise ValueError("y contains NaN")
    if n_classes is not None and (not isinstance(n_classes, numbers.Integral) or n_classes < 2):
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    if np.any(y < 0) or np.any(np.floor(y) != y):
        top = "K-1" if n_classes is None else str(n_classes - 1)
        raise ValueError(f"y must hold class indices 0..{top}; found labels {np.unique(y)[:10].tolist()}")
    if n_classes is None:
        return max(int(y.max()) + 1, 2)
    if y.max() >= n_classes:
        raise ValueError(f"y has label {int(y.max())}, outside 0..{n_classes - 1}")
    return int(n_classes)


def _kernel_dtype(dtype: np.dtype) -> bool:
    """Whether the kernels read ``dtype`` as it is: integers, float32, float64 (not float16, longdouble)."""
    return dtype.kind in "iu" or dtype in (np.float32, np.float64)


def check_sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    """Sample weights as a numeric 1-D array of length ``n_samples``, or None."""
    if sample_weight is None:
        return None
    array = np.asarray(sample_weight)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"sample_weight must be numeric, got dtype {array.dtype}")
    if array.ndim != 1 or array.shape[0] != n_samples:
        raise ValueError(f"sample_weight must have shape ({n_samples},), got {array.shape}")
    return array if _kernel_dtype(array.dtype) else array.astype(np.float64)


def check_n_threads(n_threads: Any) -> int | None:
    """A thread count: None, or a non-zero integer (negative counts back from all threads, -1 = all)."""
    if n_threads is None:
        return None
    if isinstance(n_threads, bool) or not isinstance(n_threads, numbers.Integral):
        raise TypeError(f"n_threads must be an integer or None, got {n_threads!r}")
    if n_threads == 0:
        raise ValueError("n_threads must not be 0 (None or -1: all threads; a positive count; -2: all but 1)")
    return int(n_threads)


def check_output(out: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    """A caller-provided output array: right shape, float32/float64, writeable."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {out.shape}")
    if out.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64, got {out.dtype}")
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only")
    return out


def raise_for_bad_counts(
    counts: tuple[int, int, int],
    y: np.ndarray,
    margin: np.ndarray,
    weight: np.ndarray | None = None,
) -> None:
    """Turn a kernel's ``(bad_labels, bad_margins, bad_weights)`` into a ValueError.

    ``bad_weights`` also counts outputs that overflowed their dtype (float32
    outputs beyond 3.4e38), which with valid inputs only a weight can cause.
    """
    bad_labels, bad_margins, bad_weights = counts
    if bad_labels:
        n_nan = int(np.count_nonzero(np.isnan(y))) if y.dtype.kind == "f" else 0
        if n_nan:
            raise ValueError(f"y contains NaN ({n_nan} of {y.shape[0]} labels)")
        if margin.ndim == 1:
            allowed = "0 and 1 (binary focal loss: margin of shape (n,))"
        else:
            allowed = f"integers 0..{margin.shape[1] - 1} (margin has {margin.shape[1]} columns)"
        found = np.unique(y)
        raise ValueError(f"y must contain only {allowed}; found labels {found[:10].tolist()}")
    if bad_margins:
        raise ValueError(f"margin contains NaN or infinite values ({bad_margins} of them)")
    if bad_weights:
        problem = None if weight is None else weight_problem(weight)
        if weight is not None and problem is None:
            raise ValueError(
                f"the weighted focal loss overflows its float32 output in {bad_weights} places (the "
                f"largest weight is {float(np.max(weight)):.3g}; the loss grows with |margin|): rescale "
                "the weights, or pass float64 margins"
            )
        raise ValueError(problem or f"sample_weight must be finite, >= 0 and at most {_plain(MAX_WEIGHT)}")


def weight_problem(weight: Any, name: str = "sample_weight", *, limit: float = MAX_WEIGHT) -> str | None:
    """What makes sample weights invalid (a sentence), or None if nothing does.

    Weights must be finite, ``>= 0`` and at most ``limit``: beyond
    :data:`~focal_boost._kernels.scalar.MAX_WEIGHT` a weighted gradient or Hessian could
    overflow float64, beyond :data:`~focal_boost._kernels.scalar.MAX_FLOAT32_WEIGHT`
    the float32 that boosters store.
    """
    weight = np.asarray(weight, dtype=np.float64)
    problems = []
    bad = int(np.count_nonzero(~np.isfinite(weight)))
    if bad:
        problems.append(f"{bad} are NaN or infinite")
    negative = int(np.count_nonzero(weight < 0))
    if negative:
        problems.append(f"{negative} are negative (the smallest is {np.nanmin(weight):.3g})")
    large = weight > limit
    if large.any():
        kind = "the float32 boosters store them in" if limit <= MAX_FLOAT32_WEIGHT else "float64"
        problems.append(
            f"{int(large.sum())} exceed {_plain(limit)} (the largest is {weight[large].max():.3g}), where "
            f"weighted gradients could overflow {kind}: rescale the weights"
        )
    if not problems:
        return None
    head = f"{name} must be finite, >= 0 and at most {_plain(limit)}: of its {weight.shape[0]} values, "
    return head + "; ".join(problems)


def check_float32_weight_range(weight: np.ndarray | None, output_dtype: Any) -> None:
    """Raise if float32 outputs would overflow under ``weight`` (one pass over the weights, float32 only)."""
    if weight is None or np.dtype(output_dtype) != np.float32 or weight.shape[0] == 0:
        return
    if float(np.max(weight)) > MAX_FLOAT32_WEIGHT:  # NaN compares false: the kernel reports it
        raise ValueError(weight_problem(weight, limit=MAX_FLOAT32_WEIGHT))


def check_booster_weights(weight: np.ndarray, name: str = "sample_weight") -> np.ndarray:
    """Sample weights (float64) checked for the kernels and the boosters, which keep them as float32.

    :func:`weight_problem` (finite, ``>= 0``, at most ``MAX_FLOAT32_WEIGHT``), and
    positive weights must not vanish in float32 (below 1.4e-45 they become
    0: XGBoost then reports "Weights must be positive", LightGBM trains on
    nothing). Returns the weights rounded to float32 (as float64), which is
    what class totals must be computed from.
    """
    problem = weight_problem(weight, name, limit=MAX_FLOAT32_WEIGHT)
    if problem is not None:
        raise ValueError(problem)
    stored = weight.astype(np.float32)
    lost = (weight > 0) & (stored == 0)
    if lost.any():
        raise ValueError(
            f"{name} has {int(lost.sum())} positive weights below 1.4e-45 (the smallest is "
            f"{weight[lost].min():.3g}), which the boosters' float32 stores as 0: rescale the weights"
        )
    return stored.astype(np.float64)
