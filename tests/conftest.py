"""Test configuration.

Without a GPU the CUDA kernels run under Numba's CUDA simulator: unless
``NUMBA_ENABLE_CUDASIM`` is set already, it is switched on here, before
anything imports ``numba.cuda``, whenever no CUDA device answers.

Numba's on-disk cache is keyed on each kernel's own source file, so an edit to
the scalar math it inlines would not invalidate it. The suite therefore points
Numba at a cache directory named by a hash of the package's sources.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import os
import pathlib
import shutil

import hypothesis
import numpy as np
import pytest
from sklearn.datasets import make_classification

_PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "focal_boost"


def _source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cuda_device_count() -> int:
    """CUDA devices the driver reports (0 without a driver), asked without importing numba.cuda."""
    try:
        driver = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return 0
    count = ctypes.c_int(0)
    if driver.cuInit(0) != 0 or driver.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return 0
    return count.value


if "NUMBA_ENABLE_CUDASIM" not in os.environ and cuda_device_count() == 0:
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    # Older numba-cuda (0.20) refuses to import without NVIDIA's cuda-bindings package, which only
    # its [cu12] extra installs; the simulator needs no bindings, and ctypes ones stand in.
    if importlib.util.find_spec("cuda") is None or importlib.util.find_spec("cuda.bindings") is None:
        os.environ.setdefault("NUMBA_CUDA_USE_NVIDIA_BINDING", "0")

if "NUMBA_CACHE_DIR" not in os.environ:
    caches = pathlib.Path(__file__).resolve().parent.parent / ".pytest_cache" / "numba"
    cache = caches / _source_hash()
    if caches.is_dir():  # caches of earlier versions of the sources are stale
        for stale in caches.iterdir():
            if stale != cache:
                shutil.rmtree(stale, ignore_errors=True)
    os.environ["NUMBA_CACHE_DIR"] = str(cache)
    import numba.core.config

    numba.core.config.reload_config()

hypothesis.settings.register_profile("default", deadline=None, max_examples=200)
hypothesis.settings.register_profile("ci", deadline=None, max_examples=200, derandomize=True)
hypothesis.settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(scope="session")
def binary_data():
    """An imbalanced binary problem (10% positives) for the booster tests."""
    X, y = make_classification(3000, 10, n_informative=5, weights=[0.9], flip_y=0.02, random_state=0)
    return X, y.astype(np.float64)


@pytest.fixture(scope="session")
def multiclass_data():
    """An imbalanced three-class problem (60/30/10%) for the booster tests."""
    X, y = make_classification(
        3000, 10, n_informative=6, n_classes=3, weights=[0.6, 0.3, 0.1], random_state=1
    )
    return X, y.astype(np.float64)
