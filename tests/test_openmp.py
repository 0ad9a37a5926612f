"""The float32 binary kernel on XGBoost's own OpenMP threads (focal_boost._kernels.team)."""

import sys
import threading

import numpy as np
import pytest

xgb = pytest.importorskip("xgboost")

import focal_boost.xgboost as fx  # noqa: E402
from focal_boost import FocalLoss  # noqa: E402
from focal_boost._kernels import loops as _cpu  # noqa: E402
from focal_boost._kernels import team as _openmp  # noqa: E402
from focal_boost._kernels import threads  # noqa: E402
from focal_boost._kernels.prepared import prepare_loss  # noqa: E402

RUNTIME = _openmp.xgboost_runtime()
pytestmark = pytest.mark.skipif(
    RUNTIME is None, reason=f"XGBoost's GNU OpenMP runtime was not found ({sys.platform})"
)


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.float32)
    margin = rng.normal(0, 4, n).astype(np.float32)
    weight = rng.uniform(0, 3, n).astype(np.float32)
    return y, margin, weight


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("loss", [FocalLoss(2.0, 0.25), FocalLoss(0.5, None)])
@pytest.mark.parametrize("margin_dtype", [np.float32, np.float64])
def test_team_run_equals_the_serial_kernel_bit_for_bit(weighted, loss, margin_dtype):
    n = 5 * _cpu.PARALLEL_CHUNK_ELEMENTS + 123  # chunks and a short last one
    y, margin, weight = _data(n)
    margin = margin.astype(margin_dtype)  # float64: LightGBM's scores, through the float64 kernel
    weight = weight if weighted else None
    prepared = prepare_loss(loss, None)
    wide = margin_dtype == np.float64
    rows = _cpu.binary_grad_hess_rows if wide else _cpu.float32_binary_grad_hess_rows
    arguments = prepared.gradient_arguments if wide else prepared.float32_gradient_arguments
    team = (np.empty(n, np.float32), np.empty(n, np.float32))
    serial = (np.empty(n, np.float32), np.empty(n, np.float32))
    counts = _openmp.run_on_team(RUNTIME, 2, rows, y, margin, weight, arguments, *team)
    assert counts == (0, 0, 0)
    threads.run_kernel("grad_hess", prepared, y, margin, weight, *serial, n_threads=1, float32=True)
    np.testing.assert_array_equal(team[0], serial[0])
    np.testing.assert_array_equal(team[1], serial[1])


def test_team_run_counts_bad_values_in_every_chunk():
    n = 4 * _cpu.PARALLEL_CHUNK_ELEMENTS
    y, margin, weight = _data(n, seed=1)
    y[[3, n - 1]] = 2.0
    margin[[7, _cpu.PARALLEL_CHUNK_ELEMENTS + 1, n - 2]] = np.nan
    weight[[9]] = -1.0
    prepared = prepare_loss(FocalLoss(2.0, 0.25), None)
    outputs = (np.empty_like(margin), np.empty_like(margin))
    counts = _openmp.run_on_team(
        RUNTIME,
        2,
        _cpu.float32_binary_grad_hess_rows,
        y,
        margin,
        weight,
        prepared.float32_gradient_arguments,
        *outputs,
    )
    assert counts == (2, 3, 1)


def test_inputs_the_team_does_not_cover_fall_back_to_the_pool():
    n = 3 * _cpu.PARALLEL_CHUNK_ELEMENTS
    y, margin, _ = _data(n, seed=2)
    prepared = prepare_loss(FocalLoss(2.0, 0.25), None)
    outputs = (np.empty_like(margin), np.empty_like(margin))
    arguments = prepared.float32_gradient_arguments
    assert (
        _openmp.run_on_team(
            RUNTIME,
            2,
            _cpu.float32_binary_grad_hess_rows,
            y.astype(np.float64),
            margin,
            None,
            arguments,
            *outputs,
        )
        is None
    )
    assert (
        _openmp.run_on_team(
            RUNTIME, 2, _cpu.float32_binary_grad_hess_rows, y, margin[::2], None, arguments, *outputs
        )
        is None
    )
    reference = (np.empty_like(margin), np.empty_like(margin))
    threads.run_kernel("grad_hess", prepared, y, margin, None, *reference, n_threads=1, float32=True)
    fallback = (np.empty_like(margin), np.empty_like(margin))
    threads.run_kernel(
        "grad_hess", prepared, y.astype(np.float64), margin, None, *fallback,
        n_threads=2, float32=True, openmp_runtime=RUNTIME,
    )  # fmt: skip
    np.testing.assert_array_equal(fallback[0], reference[0])


def test_xgboost_training_runs_the_kernel_on_its_threads_and_builds_the_serial_model(monkeypatch):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3 * _cpu.PARALLEL_CHUNK_ELEMENTS, 5)).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=X.shape[0]) > 1.5).astype(np.float64)
    dtrain = xgb.DMatrix(X, label=y, nthread=2)
    params = {"max_depth": 3, "tree_method": "hist", "nthread": 2, "seed": 0}
    calls = []
    team = _openmp.run_on_team

    def spy(*args):
        calls.append(args[1])  # the team size
        return team(*args)

    monkeypatch.setattr(_openmp, "run_on_team", spy)
    parallel = fx.train(params, dtrain, 5, loss=FocalLoss(2.0, 0.25))
    assert calls == [2] * 5
    serial = fx.train({**params, "nthread": 1}, dtrain, 5, loss=FocalLoss(2.0, 0.25))
    assert calls == [2] * 5  # one thread: the kernel runs in the caller
    np.testing.assert_array_equal(fx.predict_margin(parallel, X), fx.predict_margin(serial, X))


def test_lightgbm_training_runs_the_kernel_on_its_threads_and_builds_the_serial_model(monkeypatch):
    lgb = pytest.importorskip("lightgbm")
    import focal_boost.lightgbm as fl

    runtime = _openmp.lightgbm_runtime()
    if runtime is None:
        pytest.skip("LightGBM's GNU OpenMP runtime was not found")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3 * _cpu.PARALLEL_CHUNK_ELEMENTS, 5))
    y = (X[:, 0] + rng.normal(size=X.shape[0]) > 1.5).astype(np.float64)
    params = {"num_leaves": 15, "num_threads": 2, "verbose": -1, "seed": 0, "deterministic": True}
    calls = []
    team = _openmp.run_on_team

    def spy(*args):
        calls.append(args[2] is _cpu.binary_grad_hess_rows)  # the float64 kernel, on LightGBM's threads
        return team(*args)

    monkeypatch.setattr(_openmp, "run_on_team", spy)
    loss = FocalLoss(2.0, 0.25)
    parallel = fl.train(params, lgb.Dataset(X, y), 5, loss=loss)
    assert calls == [True] * 5
    serial = fl.train({**params, "num_threads": 1}, lgb.Dataset(X, y), 5, loss=loss)
    assert calls == [True] * 5
    np.testing.assert_array_equal(fl.predict_margin(parallel, X), fl.predict_margin(serial, X))


def test_team_runs_from_several_threads_at_once():
    n = 4 * _cpu.PARALLEL_CHUNK_ELEMENTS
    y, margin, weight = _data(n, seed=4)
    objective = fx.FocalObjective(FocalLoss(2.0, 0.25), n_threads=2)
    expected = [np.array(a) for a in objective.gradient_hessian(y, margin, weight)]
    results, errors = [], []

    def call():
        try:
            for _ in range(10):
                results.append([np.array(a) for a in objective.gradient_hessian(y, margin, weight)])
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 40
    for grad, hess in results:
        np.testing.assert_array_equal(grad, expected[0])
        np.testing.assert_array_equal(hess, expected[1])
