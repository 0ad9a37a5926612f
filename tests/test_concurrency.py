"""Several threads computing focal gradients at once, whatever Numba's threading layer.

Numba's "workqueue" layer (what Numba uses where neither OpenMP nor TBB loads)
aborts the whole process when two threads enter parallel regions at once. The
kernels must stay safe there: each case runs in a subprocess with the layer
forced, so that an abort fails the test instead of the test run. The kernels'
parallel runs use a pool of Python threads (no Numba parallel region), which
each case checks too.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

#: More than the kernels' serial threshold (32,768 margin elements), so they run in parallel.
ROWS = 60_000

KERNELS = f"""
import threading
import numba
import numpy as np
from focal_boost import FocalLoss

rng = np.random.default_rng(0)
y = (rng.random({ROWS}) < 0.1).astype(float)
z = rng.normal(size={ROWS})
y3 = rng.integers(0, 3, {ROWS}).astype(float)
z3 = rng.normal(size=({ROWS}, 3))
loss = FocalLoss(2.0, None)

def compute():
    return [*loss.gradient_hessian(y, z), loss.loss(y, z), *loss.gradient_hessian(y3, z3)]

expected = compute()
print("layer", LAYER())
failures = []

def work():
    for _ in range(20):
        if not all(np.array_equal(a, b) for a, b in zip(compute(), expected)):
            failures.append("different results")

threads = [threading.Thread(target=work) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("failures", failures)
"""

ESTIMATORS = f"""
import threading
import numba
import numpy as np
from sklearn.datasets import make_classification
from focal_boost import FocalBoostClassifier

X, y = make_classification({ROWS}, 5, weights=[0.9], random_state=0)
models = [FocalBoostClassifier(backend=BACKEND, n_estimators=5, random_state=0) for _ in range(3)]
threads = [threading.Thread(target=model.fit, args=(X, y)) for model in models]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("layer", LAYER())
probabilities = [model.predict_proba(X[:100]) for model in models]
print("same", all(np.allclose(p, probabilities[0], atol=1e-6) for p in probabilities))
"""


#: The threading layer a script's parallel regions used, or "none": the kernels' threads are a pool
#: of Python threads, so no Numba parallel region should run (and none can abort under workqueue).
_LAYER = """
import numba


def LAYER():
    try:
        return numba.threading_layer()
    except ValueError:  # no parallel region has run
        return "none"
"""


def _run(code: str, layer: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMBA_THREADING_LAYER": layer}
    return subprocess.run(
        [sys.executable, "-c", _LAYER + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize("layer", ["workqueue", "default"])
def test_kernels_from_several_threads_at_once(layer):
    result = _run(KERNELS, layer)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "layer none" in result.stdout  # no OpenMP/workqueue pool of Numba's was started
    assert "failures []" in result.stdout, result.stdout


@pytest.mark.parametrize("backend", ["xgboost", "lightgbm"])
def test_estimators_fitting_in_several_threads_under_workqueue(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    result = _run(f"BACKEND = {backend!r}\n" + ESTIMATORS, "workqueue")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "layer none" in result.stdout
    assert "same True" in result.stdout, result.stdout
