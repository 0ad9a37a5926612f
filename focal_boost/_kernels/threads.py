"""How a kernel run is spread over threads: serial, a pool of Python threads, or the booster's team.

:func:`run_kernel` is the one entry of the CPU kernels: it picks the task's
row-range function (:mod:`focal_boost._kernels.loops`; the float32 variant where
it applies) and runs it on all rows in the calling thread, on chunks taken by a
pool of Python threads, or on the booster's own OpenMP threads
(:mod:`focal_boost._kernels.team`).
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numba
import numpy as np

from focal_boost._kernels import team
from focal_boost._kernels.loops import PARALLEL_CHUNK_ELEMENTS, PARALLEL_MIN_ELEMENTS, ROW_FUNCTIONS

if TYPE_CHECKING:
    from focal_boost._kernels.prepared import PreparedLoss

__all__ = ["resolve_n_threads", "run_kernel"]

# A parallel run cuts the rows into chunks of about PARALLEL_CHUNK_ELEMENTS margin elements,
# and the calling thread and the workers of a small pool of Python threads (the kernels release
# the GIL) each take the next untaken chunk until none is left. Idle workers wait on a queue and
# never spin, unlike an OpenMP pool: XGBoost ships its own libgomp, and two OpenMP pools
# spin-waiting on the same cores slow XGBoost training at 50k-200k rows by 2-3x
# (benchmarks/README.md). Chunks are taken on demand rather than one fixed part per thread,
# because right after a booster's parallel region its OpenMP threads keep spinning for
# milliseconds: a worker sharing a core with one of them runs at half speed or starts late, and
# with fixed parts the caller would wait for it. The caller never waits for a chunk nobody has
# taken, so a run is at worst as fast as a serial one. No Numba parallel region runs, so any
# threading layer (workqueue included) is safe to call from several threads at once.


_POOL: ThreadPoolExecutor | None = None
_POOL_OWNER = -1  # the process that made it: a forked child makes its own
_POOL_LOCK = threading.Lock()


def _worker_pool(workers: int) -> ThreadPoolExecutor:
    """The shared pool, grown to at least ``workers`` threads (made again in a forked process)."""
    global _POOL, _POOL_OWNER
    with _POOL_LOCK:
        if _POOL is None or os.getpid() != _POOL_OWNER or _POOL._max_workers < workers:
            if _POOL is not None and os.getpid() == _POOL_OWNER:
                _POOL.shutdown(wait=False)  # a smaller pool: its idle workers exit, queued work finishes
            _POOL = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="focal_boost_kernel")
            _POOL_OWNER = os.getpid()
        return _POOL


class _SharedRun:
    """One parallel kernel run: chunks of rows, taken in order by whichever thread is free."""

    def __init__(self, rows, bounds: list[int], args: tuple):
        self.rows, self.bounds, self.args = rows, bounds, args
        self.chunks = len(bounds) - 1
        self.untaken = itertools.count()  # next() is atomic under the GIL
        self.lock = threading.Lock()
        self.counts = [0, 0, 0]
        self.finished = 0
        self.all_finished = threading.Event()
        self.error: BaseException | None = None

    def work(self) -> None:
        """Compute untaken chunks until none is left (run by the caller and by pool workers)."""
        while (k := next(self.untaken)) < self.chunks:
            try:
                counts = self.rows(self.bounds[k], self.bounds[k + 1], *self.args)
            except BaseException as error:  # handed to the caller, who raises it
                counts, self.error = (0, 0, 0), error
            with self.lock:
                for i in range(3):
                    self.counts[i] += int(counts[i])
                self.finished += 1
                if self.finished == self.chunks:
                    self.all_finished.set()

    def result(self) -> tuple[int, int, int]:
        """The summed counts, once every chunk is finished (the caller has run :meth:`work`)."""
        self.all_finished.wait()
        if self.error is not None:
            raise self.error
        return self.counts[0], self.counts[1], self.counts[2]


def _threaded(rows):
    """A parallel runner of the row-range function ``rows``: ``(threads, margin, args) -> counts``."""

    def run(threads: int, margin: np.ndarray, args: tuple) -> tuple[int, int, int]:
        n_rows = margin.shape[0]
        columns = 1 if margin.ndim == 1 else margin.shape[1]
        chunks = max(1, n_rows * columns // PARALLEL_CHUNK_ELEMENTS)
        shared = _SharedRun(rows, [n_rows * k // chunks for k in range(chunks + 1)], args)
        helpers = min(threads, chunks) - 1
        if helpers > 0:
            pool = _worker_pool(helpers)
            for _ in range(helpers):
                pool.submit(shared.work)
        shared.work()
        return shared.result()

    return run


#: task -> (row-range function, parallel runner); "binary_grad_hess_float32" is the float32
#: variant of the binary gradient kernel.
_KERNELS = {name: (rows, _threaded(rows)) for name, rows in ROW_FUNCTIONS.items()}


def resolve_n_threads(n_threads: int | None) -> int:
    """Threads a kernel may use: ``None`` or ``-1`` means all Numba's threads."""
    available = numba.config.NUMBA_NUM_THREADS
    if n_threads is None or n_threads == -1:
        return available
    if n_threads < -1:
        return max(1, available + 1 + n_threads)  # joblib's convention: -2 = all but one
    return min(n_threads, available)


def run_kernel(
    kind: str,
    prepared: PreparedLoss,
    y,
    margin,
    weight,
    *outputs,
    n_threads: int | None = None,
    float32: bool = False,
    openmp_runtime: Any = None,
) -> tuple[int, int, int]:
    """Run the ``kind`` ("grad_hess" or "loss") kernel of ``prepared``'s task, in parallel when worthwhile.

    The kernel is called as ``(y, margin, weight, *arguments, *outputs)``
    with ``prepared``'s :attr:`~focal_boost._kernels.prepared.PreparedLoss.gradient_arguments`
    or :attr:`~focal_boost._kernels.prepared.PreparedLoss.loss_arguments`; the
    outputs are ``(gradient, hessian)`` or ``(loss,)``. Returns the kernel's
    ``(bad_labels, bad_margins, bad_weights)`` counts. Below
    :data:`PARALLEL_MIN_ELEMENTS` margin elements, or with one thread, it runs
    in the calling thread; otherwise on ``n_threads`` threads (see above).
    ``float32``: run the float32 variant where it applies (a binary gradient
    with float32 margin and outputs, and
    :attr:`~focal_boost._kernels.prepared.PreparedLoss.float32_gradient_arguments`),
    else the float64 kernel. ``openmp_runtime``: the booster's OpenMP runtime
    (:func:`focal_boost._kernels.team.xgboost_runtime`), whose threads then run a
    parallel float32 kernel instead of the pool. Safe to call from several
    threads at once.
    """
    name = f"{prepared.task}_{kind}"
    if kind == "grad_hess":
        arguments = prepared.gradient_arguments
        if (
            float32
            and prepared.float32_gradient_arguments is not None
            and margin.dtype == outputs[0].dtype == outputs[1].dtype == np.float32
        ):
            name, arguments = f"{name}_float32", prepared.float32_gradient_arguments
    else:
        arguments = prepared.loss_arguments
    rows, parallel = _KERNELS[name]
    args = (y, margin, weight, *arguments, *outputs)
    n_rows = margin.shape[0]
    threads = resolve_n_threads(n_threads)
    if threads <= 1 or margin.size < PARALLEL_MIN_ELEMENTS:
        return rows(0, n_rows, *args)
    if openmp_runtime is not None and name.startswith("binary_grad_hess"):
        counts = team.run_on_team(openmp_runtime, threads, rows, y, margin, weight, arguments, *outputs)
        if counts is not None:
            return counts
    return parallel(threads, margin, args)
