"""A Dask worker lost while LightGBM trains: the fit ends with an error, never hangs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest

pytest.importorskip("distributed", reason="Dask is not installed (pip install 'focal-boost[dask]')")
pytest.importorskip("lightgbm", reason="LightGBM is not installed (pip install 'focal-boost[lightgbm]')")

from focal_boost.dask import backends


class _Cluster:
    """A client whose scheduler loses a worker after ``after`` seconds."""

    def __init__(self, after: float) -> None:
        self.start, self.after = time.monotonic(), after

    def scheduler_info(self) -> dict:
        workers = {"tcp://a": {}, "tcp://b": {}}
        if time.monotonic() - self.start > self.after:
            del workers["tcp://b"]
        return {"workers": workers}


def test_a_fit_waiting_for_a_lost_worker_raises_at_once():
    never = threading.Event()
    start = time.monotonic()
    with pytest.raises(
        RuntimeError, match=r"Dask worker\(s\) tcp://b left the cluster during LightGBM training"
    ):
        backends.fit_watching_workers(_Cluster(after=0.5), lambda: never.wait())
    assert time.monotonic() - start < 0.5 + 3 * backends.WORKER_CHECK_SECONDS
    never.set()


def test_a_fit_that_ends_returns_its_booster_or_its_error():
    assert backends.fit_watching_workers(_Cluster(after=60), lambda: "booster") == "booster"
    with pytest.raises(ValueError, match="from the fit"):
        backends.fit_watching_workers(
            _Cluster(after=60), lambda: (_ for _ in ()).throw(ValueError("from the fit"))
        )


#: Kills one of two worker processes SIGKILL-style shortly after the fit starts (the window in which
#: lightgbm.dask used to hang), and prints how the fit ended.
_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    import numpy as np, dask.array as da
    from distributed import Client, LocalCluster
    from focal_boost.dask import DaskFocalBoostClassifier

    if __name__ == "__main__":
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
        rng = np.random.default_rng(0)
        X = rng.normal(size=(100_000, 10))
        y = (X[:, 0] + rng.normal(size=len(X)) > 1.5).astype(float)
        dX, dy = da.from_array(X, chunks=(25_000, 10)), da.from_array(y, chunks=25_000)
        model = DaskFocalBoostClassifier(backend="lightgbm", gamma=2.0, n_estimators=3000, max_depth=8)
        model.client = client
        victim = list(client.scheduler_info()["workers"])[0]
        pid = client.run(os.getpid, workers=[victim])[victim]
        threading.Timer(float(sys.argv[1]), os.kill, (pid, signal.SIGKILL)).start()
        start = time.monotonic()
        try:
            model.fit(dX, dy)
            print("OUTCOME finished", round(time.monotonic() - start, 1), flush=True)
        except Exception as error:
            seconds = round(time.monotonic() - start, 1)
            print("OUTCOME", type(error).__name__, seconds, str(error)[:80], flush=True)
        os._exit(0)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [0.8, 3.0])
def test_a_killed_worker_ends_the_fit_with_an_error(kill_after, tmp_path):
    script = tmp_path / "kill_a_worker.py"
    script.write_text(_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), str(kill_after)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    outcome = [line for line in done.stdout.splitlines() if line.startswith("OUTCOME")]
    assert outcome, done.stdout + done.stderr[-2000:]
    kind, seconds = outcome[0].split()[1:3]
    # Our watchdog's error, LightGBM's socket error, or (the worker gone before the fit began) a model.
    assert kind in ("RuntimeError", "LightGBMError", "finished"), outcome[0]
    assert kind == "finished" or float(seconds) < 60, outcome[0]
