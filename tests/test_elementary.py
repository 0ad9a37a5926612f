"""The vectorisable exp and log1p against mpmath, through compiled loops."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from numba import njit

from focal_boost._kernels.elementary import exp_nonpositive, integer_power, reciprocal_log1p


@njit(error_model="numpy", fastmath={"contract"})
def _exp_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = exp_nonpositive(x[i])


@njit(error_model="numpy", fastmath={"contract"})
def _log1p_loop(t, out):
    for i in range(t.shape[0]):
        _, out[i] = reciprocal_log1p(t[i])


def _ulps(ours, exact):
    return np.abs(ours - exact) / np.spacing(np.abs(exact))


def test_exp_is_within_one_ulp_and_underflows_like_libm():
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [-rng.uniform(0, 708, 3000), -rng.exponential(1e-3, 1000), [0.0, -0.0, -1e-300, -708.3]]
    )
    ours = np.empty_like(x)
    _exp_loop(x, ours)
    exact = np.array([float(mpmath.exp(mpmath.mpf(v))) for v in x])
    assert _ulps(ours, exact).max() <= 1.0
    assert ours[x == 0.0].tolist() == [1.0, 1.0]
    # Subnormal results and underflow: within one subnormal step of libm, then 0.
    tail = np.array([-709.0, -720.0, -740.0, -744.4, -745.1, -745.2, -746.0, -800.0, -1e4, -1e308, -np.inf])
    ours = np.empty_like(tail)
    _exp_loop(tail, ours)
    expected = np.array([math.exp(v) for v in tail])
    assert np.all(np.abs(ours - expected) <= 5e-324)
    assert ours[-4:].tolist() == [0.0, 0.0, 0.0, 0.0]
    nan = np.empty(1)
    _exp_loop(np.array([np.nan]), nan)
    assert np.isnan(nan[0])


def test_log1p_is_within_one_ulp_on_the_unit_interval():
    rng = np.random.default_rng(1)
    t = np.concatenate(
        [rng.uniform(0, 1, 3000), rng.exponential(1e-6, 500), [0.0, 5e-324, 1e-300, 1e-17, 1.0]]
    )
    t = np.concatenate([t, [math.sqrt(2) - 1 + d for d in (-1e-16, 0.0, 1e-16)]])
    ours = np.empty_like(t)
    _log1p_loop(t, ours)
    exact = np.array([float(mpmath.log1p(mpmath.mpf(v))) for v in t])
    positive = exact > 0
    assert _ulps(ours[positive], exact[positive]).max() <= 1.0
    assert ours[t == 0.0].tolist() == [0.0]


@njit(error_model="numpy", fastmath={"contract"})
def _reciprocal_loop(t, out):
    for i in range(t.shape[0]):
        out[i], _ = reciprocal_log1p(t[i])


def test_reciprocal_is_within_two_ulps():
    t = np.concatenate([np.random.default_rng(2).uniform(0, 1, 5000), [0.0, 1.0, 5e-324]])
    ours = np.empty_like(t)
    _reciprocal_loop(t, ours)
    exact = np.array([float(1 / (1 + mpmath.mpf(v))) for v in t])
    assert _ulps(ours, exact).max() <= 2.0


@njit
def _power_loop(q, n, out):
    for i in range(q.shape[0]):
        out[i] = integer_power(q[i], n)


@pytest.mark.parametrize("n", range(16))
def test_integer_power(n):
    q = np.concatenate([np.random.default_rng(n).uniform(0, 1, 1000), [0.0, 1.0, 1e-300, 0.5]])
    out = np.empty_like(q)
    _power_loop(q, n, out)
    exact = np.array([float(mpmath.mpf(v) ** n) for v in q])
    np.testing.assert_allclose(out, exact, rtol=8 * n * 1.2e-16, atol=0)


@pytest.mark.parametrize("value", [-3.5, 0.0, -700.0, -1e-300])
def test_callable_from_python(value):
    """Called from Python the functions compile and agree with libm to 1 ulp."""
    assert abs(exp_nonpositive(value) - math.exp(value)) <= np.spacing(math.exp(value))
    inverse, log1p = reciprocal_log1p(0.25)
    assert inverse == 0.8
    assert log1p == math.log1p(0.25)
    assert integer_power(0.5, 5) == 0.5**5


def test_kernel_loops_are_vectorised():
    """The kernels compile to packed double arithmetic, with no scalar libm calls left."""
    from focal_boost._kernels import loops as _cpu
    from focal_boost._kernels.rows import BinaryClasses

    # Fresh, uncached compilations of the kernels' source (cached code cannot be inspected).
    binary = njit(error_model="numpy", fastmath={"contract"})(_cpu._binary_grad_hess_loop.py_func)
    y, margin, grad, hess = np.zeros(8), np.zeros(8), np.empty(8), np.empty(8)
    for gamma, n in ((2.0, 2), (0.5, -1)):  # the integer and the exp path
        binary(
            y,
            margin,
            None,
            BinaryClasses(0.75, 0.25, gamma, gamma, n, n, n >= 0),
            _cpu.HESSIAN_UPPER,
            0.0,
            1.0,
            grad,
            hess,
        )
    block = njit(error_model="numpy", fastmath={"contract"})(_cpu._multiclass_grad_hess_block.py_func)
    z = np.zeros((8, 3))
    alpha, gammas, ints = np.ones(3), np.full(3, 2.0), np.full(3, 2)
    block(
        0,
        8,
        y,
        z,
        None,
        alpha,
        gammas,
        ints,
        True,
        _cpu.HESSIAN_UPPER,
        0.0,
        1.0,
        np.empty_like(z),
        np.empty_like(z),
    )
    for kernel in (binary, block):
        llvm = kernel.inspect_llvm(kernel.signatures[0])
        assert "x double>" in llvm, "no vector of doubles in the optimised IR: the loop did not vectorise"
        for libm in ("@exp", "@log1p", "@log"):
            assert f"{libm}(" not in llvm, f"a scalar libm call ({libm}) is left in the kernel"
