"""GPU arrays as :class:`~focal_boost.loss.FocalLoss` receives them: recognise, check, allocate.

A margin with ``__cuda_array_interface__`` (CuPy, numba-cuda device arrays,
PyTorch CUDA tensors through CuPy) sends :meth:`FocalLoss.loss` and
:meth:`FocalLoss.gradient_hessian` to the CUDA kernels; outputs are allocated
on the same device, as CuPy arrays for CuPy input and numba-cuda device
arrays otherwise. Numba's CUDA simulator's arrays count as device arrays, so
the tests can take this path without a GPU.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np


def is_device_array(value: Any) -> bool:
    """Whether ``value`` lives on a GPU (or is a simulated device array)."""
    if hasattr(value, "__cuda_array_interface__"):
        return True
    simulator = sys.modules.get("numba.cuda.simulator.cudadrv.devicearray")
    return simulator is not None and isinstance(value, simulator.FakeCUDAArray)


def to_host(value: Any) -> Any:
    """A device array as NumPy (anything else unchanged)."""
    if hasattr(value, "copy_to_host"):
        return value.copy_to_host()
    if is_device_array(value) and hasattr(value, "get"):
        return value.get()
    return value


def empty(like: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    """An uninitialised device array next to ``like``: CuPy for CuPy, numba-cuda otherwise."""
    if type(like).__module__.split(".")[0] == "cupy":
        import cupy

        return cupy.empty(shape, dtype=dtype)
    from numba import cuda

    return cuda.device_array(shape, dtype=dtype)


def check_inputs(y: Any, margin: Any, weight: Any) -> None:
    """Types and shapes of device inputs (values are checked by the kernels)."""
    for name, array in (("y", y), ("sample_weight", weight)):
        if array is not None and not is_device_array(array):
            raise TypeError(
                f"margin is a GPU array, so {name} must be one too (e.g. cupy.asarray), "
                f"got {type(array).__name__}"
            )
    if np.dtype(margin.dtype) not in (np.float32, np.float64):
        raise TypeError(f"GPU margins must be float32 or float64, got {margin.dtype}")
    if margin.ndim not in (1, 2) or margin.shape[0] == 0 or (margin.ndim == 2 and margin.shape[1] < 2):
        raise ValueError(
            "margin must have shape (n,) for binary or (n, K >= 2) for multiclass, n >= 1, "
            f"got {margin.shape}"
        )
    n = margin.shape[0]
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"y must have shape ({n},), got {y.shape}")
    if np.dtype(y.dtype).kind not in "fiub":
        raise TypeError(f"y must hold numeric class indices, got dtype {y.dtype}")
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != n):
        raise ValueError(f"sample_weight must have shape ({n},), got {weight.shape}")


def check_output(out: Any, shape: tuple[int, ...], name: str) -> Any:
    """A caller-provided device output: a device array of the right shape and a float dtype."""
    if not is_device_array(out):
        raise TypeError(f"{name} must be a GPU array like the margin, got {type(out).__name__}")
    if tuple(out.shape) != shape:
        raise ValueError(f"{name} must have shape {shape}, got {tuple(out.shape)}")
    if np.dtype(out.dtype) not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64, got {out.dtype}")
    return out


def raise_for_counts(counts: tuple[int, int, int], y: Any, margin: Any, weight: Any) -> None:
    """:func:`~focal_boost._kernels.checks.raise_for_bad_counts` for a CUDA kernel's counts: the
    inputs are copied to the host only when there is an error to name."""
    if any(counts):
        from focal_boost._kernels.checks import raise_for_bad_counts

        host_weight = None if weight is None else np.asarray(to_host(weight))
        raise_for_bad_counts(counts, np.asarray(to_host(y)), np.asarray(to_host(margin)), host_weight)
