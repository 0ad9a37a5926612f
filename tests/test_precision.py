"""The float32 variant of the binary gradient kernel (focal_boost._kernels.float32) vs the float64 one."""

import numpy as np
import pytest

import focal_boost.xgboost as fx
from focal_boost import FocalLoss
from focal_boost._kernels import threads as _cpu
from focal_boost._kernels.prepared import prepare_loss

TINY = float(np.finfo(np.float32).tiny)


def _inputs(seed=1, n=60_000):
    rng = np.random.default_rng(seed)
    margin = np.concatenate(
        [
            rng.normal(0, 3, n // 2),
            rng.normal(0, 30, n // 4),
            rng.uniform(-120, 120, n // 4),
            [0.0, -0.0, 1e-30, -1e-30, 88.0, -88.0, 104.0, -104.0, 1e30, -1e30, 3e38, -3e38],
        ]
    ).astype(np.float32)
    y = (rng.random(margin.size) < 0.5).astype(np.float32)
    weight = rng.uniform(0, 10, margin.size).astype(np.float32)
    return y, margin, weight


def _ulps(got, reference):
    rounded = reference.astype(np.float32)
    return np.abs(got.astype(np.float64) - rounded) / np.spacing(np.abs(rounded)).astype(np.float64)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 3.5, 5.0, 8.0])
@pytest.mark.parametrize("alpha", [None, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
def test_float32_kernel_is_within_ulps_of_the_float64_kernel_rounded(gamma, alpha, weighted):
    y, margin, weight = _inputs()
    weight = weight if weighted else None
    loss = FocalLoss(gamma, alpha)
    grad, hess = fx.FocalObjective(loss, n_threads=1).gradient_hessian(y, margin, weight)
    assert grad.dtype == hess.dtype == np.float32
    w64 = None if weight is None else weight.astype(np.float64)
    ref_grad, ref_hess = loss.gradient_hessian(y.astype(np.float64), margin.astype(np.float64), w64)
    # Where every intermediate is a normal float32 (|s| <= 87) and so is the result: a few ulps.
    inner = np.abs(margin) <= 87
    for got, reference in ((grad, ref_grad), (hess, ref_hess)):
        normal = inner & (np.abs(reference) >= TINY)
        errors = _ulps(got, reference)[normal]
        assert errors.max() <= 10
        assert errors.mean() <= 1.5
        # Beyond (results near or below float32's smallest normal): tiny absolute errors.
        rest = ~normal
        scale = np.maximum(np.abs(reference[rest]), TINY)
        assert (np.abs(got[rest].astype(np.float64) - reference[rest]) / scale).max() <= 2e-5
        # Signs agree (the gradient of a positive is negative) and nothing is NaN.
        assert np.all(np.isfinite(got))
        assert np.all(np.sign(got[normal]) == np.sign(reference[normal]))


def test_float32_kernel_at_gamma_zero_is_the_logistic_gradient():
    y, margin, _ = _inputs(seed=2)
    grad, hess = fx.FocalObjective(FocalLoss(0.0, None), n_threads=1).gradient_hessian(y, margin)
    z = margin.astype(np.float64)
    p, q = np.exp(-np.logaddexp(0.0, -z)), np.exp(-np.logaddexp(0.0, z))
    logistic = np.where(y == 1, -q, p)  # p - y without the cancellation
    inner = np.abs(z) <= 87
    assert _ulps(grad, logistic)[inner & (np.abs(logistic) >= TINY)].max() <= 4
    assert _ulps(hess, p * q)[inner & (p * q >= TINY)].max() <= 6


def _kernels_used(monkeypatch):
    used = []
    for name, (rows, parallel) in dict(_cpu._KERNELS).items():

        def spy(*args, _rows=rows, _name=name):
            used.append(_name)
            return _rows(*args)

        monkeypatch.setitem(_cpu._KERNELS, name, (spy, parallel))
    return used


def test_the_xgboost_objective_takes_the_float32_kernel_and_focal_loss_keeps_float64(monkeypatch):
    y, margin, weight = _inputs(n=2_000)
    used = _kernels_used(monkeypatch)
    loss = FocalLoss(2.0, 0.25)
    fx.FocalObjective(loss, n_threads=1).gradient_hessian(y, margin, weight)
    loss.gradient_hessian(y, margin, weight, n_threads=1)  # the public API: float64 math
    fx.FocalObjective(loss, n_threads=1).gradient_hessian(y, margin.astype(np.float64), weight)
    assert used == ["binary_grad_hess_float32", "binary_grad_hess", "binary_grad_hess"]


@pytest.mark.parametrize(
    "loss",
    [
        FocalLoss(0.7, 0.25),  # 0.7 is no float32 number: the loss would change
        FocalLoss(2.0, 0.25, hessian="exact"),  # the exact Hessian's last term cancels
        FocalLoss(2.0, 0.25, hessian="clip", hessian_floor=1e-6),
    ],
)
def test_the_float32_kernel_is_not_used_where_float32_would_change_the_result(monkeypatch, loss):
    y, margin, _ = _inputs(n=2_000)
    used = _kernels_used(monkeypatch)
    grad, _ = fx.FocalObjective(loss, n_threads=1).gradient_hessian(y, margin)
    assert used == ["binary_grad_hess"]
    assert grad.dtype == np.float32
    assert prepare_loss(loss, None).float32_gradient_arguments is None


def test_float32_kernel_counts_bad_values_like_the_float64_one():
    y, margin, weight = _inputs(n=40_000)
    y[[3, -1]] = 2.0
    margin[[7, 20_000]] = np.nan
    weight[[9]] = -1.0
    prepared = prepare_loss(FocalLoss(2.0, 0.25), None)
    counts = []
    for float32 in (True, False):
        for threads in (1, 2):
            outputs = (np.empty_like(margin), np.empty_like(margin))
            counts.append(
                _cpu.run_kernel(
                    "grad_hess", prepared, y, margin, weight, *outputs, n_threads=threads, float32=float32
                )
            )
    assert counts == [(2, 2, 1)] * 4
