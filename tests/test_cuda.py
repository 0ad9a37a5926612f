"""The CUDA kernels against the CPU kernels.

On a machine with a GPU they run on the GPU (CuPy arrays); without one,
conftest.py switches on Numba's CUDA simulator and the same kernels run on
the host, through the same Python launch code. The PTX test compiles every
kernel with numba-cuda in a separate process without the simulator, which
needs the CUDA compiler libraries of the ``gpu``/``test`` extras but no GPU.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from focal_boost._kernels import threads as _cpu
from focal_boost._kernels.prepared import prepare_loss
from focal_boost.loss import FocalLoss

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("numba_cuda") is None,
    reason="numba-cuda is not installed (pip install 'focal-boost[gpu]')",
)

SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


@pytest.fixture(scope="module")
def cuda_kernels():
    from focal_boost._kernels import cuda as _cuda

    if not _cuda.is_available():
        pytest.skip("no CUDA GPU and the simulator is off")
    return _cuda


def _to_device(array):
    """CuPy on a GPU; under the simulator the kernels take NumPy (writable copies)."""
    if array is None:
        return None
    if SIMULATED:
        return np.array(array)
    import cupy

    return cupy.asarray(array)


def _to_host(array):
    """Back to NumPy from any of the above (NumPy, the simulator's device arrays, CuPy)."""
    if isinstance(array, np.ndarray):
        return array
    return array.copy_to_host() if hasattr(array, "copy_to_host") else array.get()


def _margins(rng, n, n_classes, dtype):
    """Random margins with extremes: +-700, +-40, 0, and ordinary values."""
    shape = (n,) if n_classes is None else (n, n_classes)
    margin = rng.normal(scale=8.0, size=shape)
    flat = margin.reshape(-1)
    flat[:6] = [700.0, -700.0, 40.0, -40.0, 0.0, 1e-8]
    return margin.astype(dtype)


CASES = [
    # (per-row classes, loss)
    (None, FocalLoss(2.0, 0.25)),
    (None, FocalLoss(0.5, None, hessian="exact")),
    (None, FocalLoss([1.0, 3.7], 0.9, hessian="clip", hessian_floor=1e-6)),
    (3, FocalLoss(2.0, [0.2, 0.3, 0.5])),
    (3, FocalLoss([0.0, 0.5, 10.0], None, hessian="exact")),
    (4, FocalLoss(1.5, None, hessian="clip", hessian_floor=1e-6)),
]


def _cpu_and_cuda(cuda_kernels, kind, prepared, args_cpu, hessian_scale=1.0):
    """Run the ``kind`` kernel on the CPU and on CUDA; ``args_cpu`` are ``(y, margin, weight, *outputs)``.

    Labels, margins, weights and outputs go to the device; the CUDA run's
    loss is ``prepared`` with ``hessian_scale``, which ``run_kernel`` moves itself.
    """
    n_outputs = len(args_cpu) - 3
    args_gpu = [_to_device(a) for a in args_cpu]
    on_gpu = dataclasses.replace(prepared, hessian_scale=hessian_scale)
    counts_cpu = _cpu.run_kernel(kind, prepared, *args_cpu, n_threads=1)
    counts_gpu = cuda_kernels.run_kernel(kind, on_gpu, *args_gpu)
    outputs_gpu = [_to_host(a) for a in args_gpu[-n_outputs:]]
    return counts_cpu, counts_gpu, args_cpu[-n_outputs:], outputs_gpu


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("n_classes", "loss"), CASES)
def test_cuda_kernels_equal_the_cpu_kernels(cuda_kernels, n_classes, loss, dtype):
    rng = np.random.default_rng(7)
    n = 96
    margin = _margins(rng, n, n_classes, dtype)
    y = rng.integers(0, 2 if n_classes is None else n_classes, n).astype(np.float64)
    weight = rng.choice([1e-12, 0.5, 1.0, 3.0, 1e9], n)
    prepared = prepare_loss(loss, n_classes, y, weight)
    for w in (None, weight):
        grad, hess = np.empty_like(margin), np.empty_like(margin)
        args = [y, margin, w, grad, hess]
        counts_cpu, counts_gpu, expected, got = _cpu_and_cuda(cuda_kernels, "grad_hess", prepared, args)
        assert counts_cpu == counts_gpu == (0, 0, 0)
        tolerance = 1e-12 if dtype == np.float64 else 2e-7  # float32 outputs: one rounding apart at most
        for e, g in zip(expected, got, strict=True):
            np.testing.assert_allclose(g, e, rtol=tolerance, atol=0)
        out = np.empty(n, dtype=dtype)
        args = [y, margin, w, out]
        counts_cpu, counts_gpu, expected, got = _cpu_and_cuda(cuda_kernels, "loss", prepared, args)
        assert counts_cpu == counts_gpu == (0, 0, 0)
        np.testing.assert_allclose(got[0], expected[0], rtol=tolerance, atol=0)


def test_hessian_scale_multiplies_the_hessian(cuda_kernels):
    rng = np.random.default_rng(3)
    loss = FocalLoss(2.0, None)
    margin = rng.normal(size=(40, 3))
    y = rng.integers(0, 3, 40).astype(np.float64)
    prepared = prepare_loss(loss, 3)
    grad, hess = np.empty_like(margin), np.empty_like(margin)
    args = [y, margin, None, grad, hess]
    _, _, expected, got = _cpu_and_cuda(cuda_kernels, "grad_hess", prepared, args, hessian_scale=2.0)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], 2.0 * expected[1], rtol=1e-12)


@pytest.mark.parametrize("n_classes", [None, 3])
def test_bad_inputs_are_counted_as_on_the_cpu(cuda_kernels, n_classes):
    rng = np.random.default_rng(5)
    n = 64
    margin = _margins(rng, n, n_classes, np.float64)
    y = rng.integers(0, 2 if n_classes is None else n_classes, n).astype(np.float64)
    weight = np.ones(n)
    y[[3, 10]] = np.nan
    y[20] = 7.0
    y[21] = 0.5
    margin.reshape(-1)[[30, 31]] = [np.inf, np.nan]
    weight[[40, 41, 42]] = [-1.0, np.inf, np.nan]
    loss = FocalLoss(2.0, None)
    prepared = prepare_loss(loss, n_classes)
    args = [y, margin, weight, np.empty_like(margin), np.empty_like(margin)]
    counts_cpu, counts_gpu, _, _ = _cpu_and_cuda(cuda_kernels, "grad_hess", prepared, args)
    assert counts_gpu == counts_cpu
    assert counts_cpu == (4, 2, 3)


def test_kernels_compile_to_ptx():
    """numba-cuda compiles every kernel, with all the shared math, as device code (no GPU needed)."""
    pytest.importorskip("cuda.pathfinder", reason="numba-cuda's library finder is not installed")
    environment = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    script = (
        "from focal_boost._kernels import cuda as _cuda\n"
        "ptx = _cuda.compile_ptx(dtypes=('float32',))\n"
        "print(sorted(ptx))\n"
        "assert all('.visible .entry' in text for text in ptx.values())\n"
        "assert not any('call.uni' in text for text in ptx.values()), 'the math should be inlined'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, timeout=600
    )
    missing = result.returncode != 0 and "DynamicLibNotFoundError" in result.stderr + result.stdout
    if missing and not os.environ.get("FOCAL_BOOST_REQUIRE_PTX"):  # .ci/run sets it: never skipped there
        pytest.skip(
            "the CUDA compiler libraries (NVVM, NVRTC) are not installed: pip install 'numba-cuda[cu12]'"
        )
    assert result.returncode == 0, result.stderr[-3000:]
    for task in ("binary_grad_hess", "binary_loss", "multiclass_grad_hess", "multiclass_loss"):
        assert f"{task}[float32]" in result.stdout


def _device_array(array):
    """A device array: CuPy on a GPU, the simulator's own device array without one."""
    if SIMULATED:
        from numba import cuda

        return cuda.to_device(np.ascontiguousarray(array))
    import cupy

    return cupy.asarray(array)


@pytest.mark.parametrize("n_classes", [None, 3])
def test_focal_loss_computes_gpu_arrays_on_the_gpu(cuda_kernels, n_classes):
    rng = np.random.default_rng(11)
    n = 60
    margin = _margins(rng, n, n_classes, np.float64)
    y = rng.integers(0, 2 if n_classes is None else n_classes, n).astype(np.float64)
    weight = rng.uniform(0.1, 2.0, n)
    loss = FocalLoss(2.0, "balanced", hessian="clip")  # "balanced" counts the classes on the host
    grad, hess = loss.gradient_hessian(_device_array(y), _device_array(margin), _device_array(weight))
    assert not isinstance(grad, np.ndarray), "outputs stay on the device"
    expected_grad, expected_hess = loss.gradient_hessian(y, margin, weight)
    np.testing.assert_allclose(_to_host(grad), expected_grad, rtol=1e-12, atol=0)
    np.testing.assert_allclose(_to_host(hess), expected_hess, rtol=1e-12, atol=0)
    values = loss.loss(_device_array(y), _device_array(margin))
    np.testing.assert_allclose(_to_host(values), loss.loss(y, margin), rtol=1e-12, atol=0)
    # Errors as on the CPU.
    bad = y.copy()
    bad[4] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        loss.gradient_hessian(_device_array(bad), _device_array(margin))
    with pytest.raises(TypeError, match="y must be one too"):
        loss.loss(y, _device_array(margin))
    with pytest.raises(ValueError, match=r"y must have shape \(60,\)"):
        loss.loss(_device_array(y[:-1]), _device_array(margin))
