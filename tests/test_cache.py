"""Numba's on-disk cache (``cache=True``) under several processes at once.

numbagg makes caching opt-in because processes compiling and loading the same
cache together have crashed (numba issue 4807). The kernels here keep
``cache=True``; these tests hold them to it: several processes started
together on one empty cache directory (all compiling, all writing the same
entries), then several loading what they wrote, then processes forked from a
parent that compiled, and Dask worker processes. Every process must finish and
give the parent's results bit for bit, the float32 variant and the OpenMP-team
kernel included (but in forked children: see the fork case).
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys

import numpy as np
import pytest

from focal_boost import FocalLoss

#: Rows per case: above the kernels' serial threshold, so threaded runs happen too.
ROWS = 40_000

CASES = f"""
import hashlib
import numpy as np
from focal_boost import FocalLoss

def results(team=True):
    rng = np.random.default_rng(0)
    y = (rng.random({ROWS}) < 0.1).astype(float)
    z = rng.normal(size={ROWS})
    y3 = rng.integers(0, 3, {ROWS}).astype(float)
    z3 = rng.normal(size=({ROWS}, 3))
    loss = FocalLoss(2.0, 0.25)
    out = [*loss.gradient_hessian(y, z), loss.loss(y, z), loss.posterior_proba(z)]
    out += FocalLoss([1.0, 2.0, 0.5], None).gradient_hessian(y3, z3)
    if team:  # the float32 variant, on XGBoost's OpenMP team where it runs
        import focal_boost.xgboost as fx
        objective = fx.FocalObjective(loss, n_threads=2)
        out += objective.gradient_hessian(y.astype(np.float32), z.astype(np.float32))
    return out

def digest(team=True):
    h = hashlib.sha256()
    for array in results(team):
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()
"""


def _run_together(count: int, cache: str) -> list[str]:
    """``count`` fresh interpreters started at once on the cache directory ``cache``: their digests."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    script = CASES + "\nprint(digest())\n"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]
    digests = []
    for process in processes:
        out, err = process.communicate(timeout=900)
        assert process.returncode == 0, err[-2000:]
        digests.append(out.strip().splitlines()[-1])
    return digests


def _parent_digest(team: bool = True) -> str:
    namespace: dict = {}
    exec(CASES, namespace)
    return namespace["digest"](team)


@pytest.mark.slow
def test_processes_compiling_and_loading_one_cache_at_once(tmp_path):
    expected = _parent_digest()
    cache = str(tmp_path / "numba-cache")
    compiling = _run_together(3, cache)  # an empty cache: every process compiles and writes
    assert compiling == [expected] * 3
    assert any(name.endswith(".nbi") for _, _, files in os.walk(cache) for name in files)
    loading = _run_together(3, cache)  # the same entries, now loaded by all at once
    assert loading == [expected] * 3


def _child_digest(queue) -> None:  # pragma: no cover - runs in the forked child
    namespace: dict = {}
    exec(CASES, namespace)
    queue.put(namespace["digest"](False))


@pytest.mark.skipif(sys.platform != "linux", reason="fork is the Linux default this case is about")
def test_forked_children_of_a_compiled_parent_agree():
    """Without the OpenMP team: GNU libgomp hangs a forked child whose parent ran a parallel
    region (XGBoost's own training does too), so a parent that trained with XGBoost must start
    its children with "spawn" or "forkserver" (docs/architecture.md)."""
    expected = _parent_digest(team=False)  # compiled (or loaded) here first; the children inherit it
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    children = [context.Process(target=_child_digest, args=(queue,)) for _ in range(2)]
    for child in children:
        child.start()
    digests = [queue.get(timeout=600) for _ in children]
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    assert digests == [expected] * 2


@pytest.mark.slow
def test_dask_worker_processes_share_the_cache():
    distributed = pytest.importorskip("distributed", reason="needs dask[distributed]")
    rng = np.random.default_rng(0)
    y = (rng.random(5000) < 0.1).astype(float)
    z = rng.normal(size=5000)
    loss = FocalLoss(2.0, 0.25)
    expected = loss.gradient_hessian(y, z)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        futures = [client.submit(loss.gradient_hessian, y, z, pure=False) for _ in range(4)]
        for grad, hess in client.gather(futures):
            np.testing.assert_array_equal(grad, expected[0])
            np.testing.assert_array_equal(hess, expected[1])
