"""Gradients and Hessians against mpmath differentiation of the loss's definition."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import reference

from focal_boost import FocalLoss

# Values below this are "tiny": they are compared in absolute terms only.
TINY = 1e-280
RTOL = 1e-9

MARGINS = np.array(
    [
        -700,
        -300,
        -60,
        -20,
        -10,
        -5,
        -3,
        -2,
        -1,
        -0.5,
        -1e-3,
        0.0,
        1e-3,
        0.5,
        1,
        2,
        3,
        5,
        10,
        20,
        60,
        300,
        700,
    ],
    dtype=np.float64,
)
GAMMAS = [0.0, 0.5, 1.0, 2.0, 5.0, 10.0]
ALPHAS = [None, 0.25]


def _alphas(alpha):
    return (1.0, 1.0) if alpha is None else (alpha, 1.0 - alpha)


@functools.cache
def _binary_reference(margins: tuple, labels: tuple, alpha, gamma_pos, gamma_neg):
    a_pos, a_neg = _alphas(alpha)
    rows = [
        reference.mp_binary(z, y, a_pos, a_neg, gamma_pos, gamma_neg)
        for z, y in zip(margins, labels, strict=True)
    ]
    scale = [
        reference.mp_binary_scale(z, y, a_pos if y == 1 else a_neg, gamma_pos if y == 1 else gamma_neg)
        for z, y in zip(margins, labels, strict=True)
    ]
    loss, grad, hess = (np.array([float(r[i]) for r in rows]) for i in range(3))
    return loss, grad, hess, np.array([float(v) for v in scale])


def assert_matches(
    ours: np.ndarray, ref: np.ndarray, scale: np.ndarray | None = None, rtol: float = RTOL
) -> None:
    """|ours - ref| <= rtol * max(|ref|, scale) where that is not tiny; else both tiny."""
    size = np.abs(ref) if scale is None else np.maximum(np.abs(ref), scale)
    small = size < TINY
    assert np.all(np.isfinite(ours))
    err = np.abs(ours - ref)
    bad = ~small & (err > rtol * size)
    assert not bad.any(), (
        f"mismatch at {np.flatnonzero(bad)[:5]}: ours={ours[bad][:5]}, ref={ref[bad][:5]}, "
        f"rel={(err / size)[bad][:5]}"
    )
    assert np.all(np.abs(ours[small]) < 1e-270), ours[small]


def _binary_case(gamma_pos, gamma_neg, alpha):
    margins = np.concatenate([MARGINS, MARGINS])
    labels = np.concatenate([np.ones_like(MARGINS), np.zeros_like(MARGINS)])
    ref = _binary_reference(tuple(margins), tuple(int(v) for v in labels), alpha, gamma_pos, gamma_neg)
    return margins, labels, ref


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("gamma", GAMMAS)
def test_binary_loss_gradient_exact_hessian(gamma, alpha):
    margins, labels, (loss, grad, hess, scale) = _binary_case(gamma, gamma, alpha)
    focal = FocalLoss(gamma, alpha, hessian="exact")
    g, h = focal.gradient_hessian(labels, margins)
    assert_matches(focal.loss(labels, margins), loss)
    assert_matches(g, grad)
    assert_matches(h, hess, scale)


@pytest.mark.parametrize(("gamma_neg", "gamma_pos"), [(4.0, 0.0), (0.5, 3.0), (2.0, 1.0)])
def test_binary_asymmetric_gamma(gamma_neg, gamma_pos):
    margins, labels, (loss, grad, hess, scale) = _binary_case(gamma_pos, gamma_neg, 0.3)
    focal = FocalLoss([gamma_neg, gamma_pos], 0.3, hessian="exact")
    g, h = focal.gradient_hessian(labels, margins)
    assert_matches(focal.loss(labels, margins), loss)
    assert_matches(g, grad)
    assert_matches(h, hess, scale)


def test_binary_random_margins_and_weights():
    rng = np.random.default_rng(7)
    n = 120
    margins = np.concatenate([rng.normal(0, 3, n // 2), rng.uniform(-700, 700, n // 2)])
    labels = (rng.random(n) < 0.5).astype(np.float64)
    weights = 10.0 ** rng.uniform(-200, 200, n)
    gamma = 2.5
    loss, grad, hess, scale = _binary_reference(
        tuple(margins), tuple(int(v) for v in labels), 0.4, gamma, gamma
    )
    focal = FocalLoss(gamma, 0.4, hessian="exact")
    g, h = focal.gradient_hessian(labels, margins, weights)
    assert_matches(focal.loss(labels, margins, weights), loss * weights)
    assert_matches(g, grad * weights)
    assert_matches(h, hess * weights, scale * weights)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 10.0])
def test_binary_float32_margins(gamma):
    """Boosters hand over float32 margins; results are exact for the float32 value."""
    margins32 = np.concatenate([MARGINS, [-1e4, 1e4, -88.5, 88.5, -17.3, 17.3]]).astype(np.float32)
    labels = np.ones_like(margins32)
    finite = np.abs(margins32) <= 700
    _, grad, hess, scale = _binary_reference(
        tuple(margins32[finite].astype(np.float64)), tuple([1] * int(finite.sum())), None, gamma, gamma
    )
    focal = FocalLoss(gamma, None, hessian="exact")
    g64, h64 = focal.gradient_hessian(
        labels, margins32, gradient_out=np.empty(margins32.shape), hessian_out=np.empty(margins32.shape)
    )
    assert_matches(g64[finite], grad)
    assert_matches(h64[finite], hess, scale)
    g32, h32 = focal.gradient_hessian(labels, margins32)
    assert g32.dtype == np.float32
    assert h32.dtype == np.float32
    assert np.all(np.isfinite(g32))
    assert np.all(np.isfinite(h32))
    np.testing.assert_allclose(g32, g64.astype(np.float32), rtol=1e-7, atol=0)
    # At margin +-1e4 the exact limits: gradient -alpha (wrong side) or 0, Hessian 0.
    assert g64[np.argmin(margins32)] == -1.0
    assert g64[np.argmax(margins32)] == 0.0


@pytest.mark.parametrize("gamma", [0.0, 1.0, 3.0])
def test_extreme_margins_give_finite_limits(gamma):
    margins = np.array([-1e4, -1e300, -np.finfo(np.float64).max, 1e4, 1e300, np.finfo(np.float64).max])
    for label in (0.0, 1.0):
        labels = np.full(margins.shape, label)
        for policy in ("exact", "clip", "upper"):
            focal = FocalLoss(gamma, 0.25, hessian=policy)
            g, h = focal.gradient_hessian(labels, margins)
            loss = focal.loss(labels, margins)
            assert np.all(np.isfinite(g))
            assert np.all(np.isfinite(h))
            wrong_side = margins < 0 if label == 1 else margins > 0
            alpha_t = 0.25 if label == 1 else 0.75
            # Far on the wrong side the gradient saturates at -/+alpha_t.
            np.testing.assert_allclose(np.abs(g[wrong_side]), alpha_t, rtol=1e-12)
            np.testing.assert_array_equal(g[~wrong_side], 0.0)
            assert np.all(np.isinf(loss[wrong_side])) or np.all(loss[wrong_side] > 1e3)
            np.testing.assert_array_equal(loss[~wrong_side], 0.0)


# ------------------------------------------------------------------- multiclass

MULTICLASS_ROWS = [
    ([0.3, -1.2, 2.0], 0),
    ([0.3, -1.2, 2.0], 2),
    ([5.0, -5.0, 0.0, 1.0], 1),
    ([-3.0, 4.0, 4.0, -1.0], 1),
    ([700.0, -700.0, 0.0], 0),
    ([700.0, -700.0, 0.0], 1),
    ([-350.0, 350.0, 349.0], 2),
    ([12.0, 11.5, -30.0, 0.0], 3),
]


@functools.cache
def _multiclass_reference(row_index: int, alpha: float, gamma: float):
    z, c = MULTICLASS_ROWS[row_index]
    loss, grad, hess = reference.mp_multiclass(z, c, alpha, gamma)
    scale = reference.mp_multiclass_scale(z, c, alpha, gamma)
    return (
        float(loss),
        np.array([float(v) for v in grad]),
        np.array([float(v) for v in hess]),
        np.array([float(v) for v in scale]),
    )


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 5.0])
@pytest.mark.parametrize("row_index", range(len(MULTICLASS_ROWS)))
def test_multiclass_against_mpmath(row_index, gamma):
    z, c = MULTICLASS_ROWS[row_index]
    k = len(z)
    alpha = np.linspace(0.2, 0.9, k)
    loss, grad, hess, scale = _multiclass_reference(row_index, float(alpha[c]), gamma)
    focal = FocalLoss(gamma, alpha, hessian="exact")
    margin = np.array([z])
    labels = np.array([float(c)])
    g, h = focal.gradient_hessian(labels, margin)
    assert_matches(focal.loss(labels, margin), np.array([loss]))
    assert_matches(g[0], grad)
    assert_matches(h[0], hess, scale)


def test_multiclass_per_class_gamma():
    z, c = MULTICLASS_ROWS[3]
    gammas = np.array([0.0, 3.0, 1.0, 0.5])
    loss, grad, hess, scale = _multiclass_reference(3, 1.0, float(gammas[c]))
    focal = FocalLoss(gammas, None, hessian="exact")
    g, h = focal.gradient_hessian(np.array([c]), np.array([z]))
    assert_matches(focal.loss(np.array([c]), np.array([z])), np.array([loss]))
    assert_matches(g[0], grad)
    assert_matches(h[0], hess, scale)


@pytest.mark.parametrize("gamma", [0.0, 2.0])
@pytest.mark.parametrize(
    ("z", "c"),
    [([2.0, 40.0, -3.0, 1.0], 0), ([0.0, 30.0, -30.0], 2), ([-5.0, 1.0, 19.0, 18.0], 0)],
)
def test_multiclass_hessian_of_a_dominant_other_class_is_accurate_on_its_own(z, c, gamma):
    # The largest other class has r = softmax_{k != c}(z)_j within 1e-8..1e-17 of 1, so its Hessian
    # h r^2 + G r (1 - r) needs 1 - r from the other terms, not from a difference with 1.
    _, grad, hess = reference.mp_multiclass(z, c, 1.0, gamma)
    g, h = FocalLoss(gamma, None, hessian="exact").gradient_hessian(np.array([c]), np.array([z]))
    np.testing.assert_allclose(h[0], [float(v) for v in hess], rtol=1e-12)
    np.testing.assert_allclose(g[0], [float(v) for v in grad], rtol=1e-12)


def test_multiclass_float32_and_fortran_order():
    rows = np.array([r for r, _ in MULTICLASS_ROWS[:2]] + [[1.0, 2.0, 3.0]], dtype=np.float32)
    labels = np.array([c for _, c in MULTICLASS_ROWS[:2]] + [1])
    focal = FocalLoss(2.0, [0.3, 0.3, 0.4])
    g_c, h_c = focal.gradient_hessian(labels, rows.astype(np.float64))
    g_f, h_f = focal.gradient_hessian(labels, np.asfortranarray(rows))
    assert g_f.dtype == np.float32
    assert g_f.flags.f_contiguous
    np.testing.assert_allclose(g_f, g_c, rtol=1e-6)
    np.testing.assert_allclose(h_f, h_c, rtol=1e-6)
