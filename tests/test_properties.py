"""Property-based tests: finiteness, shapes and signs over the whole input space."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from focal_boost import FocalLoss

finite_margins = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, width=64)
gammas = st.floats(min_value=0.0, max_value=10.0)
alphas = st.none() | st.floats(min_value=0.0, max_value=1.0)
policies = st.sampled_from(["exact", "clip", "upper"])


@st.composite
def binary_problems(draw):
    n = draw(st.integers(1, 60))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    margin = draw(
        hnp.arrays(dtype, n, elements=st.floats(-1e4, 1e4, width=32 if dtype == np.float32 else 64))
    )
    y = draw(hnp.arrays(np.float64, n, elements=st.sampled_from([0.0, 1.0])))
    weight = draw(st.none() | hnp.arrays(np.float64, n, elements=st.floats(0.0, 1e6)))
    return y, margin, weight


@given(binary_problems(), gammas, gammas, alphas, policies)
def test_binary_outputs_are_finite_with_the_right_signs(problem, gamma_neg, gamma_pos, alpha, policy):
    y, margin, weight = problem
    focal = FocalLoss([gamma_neg, gamma_pos], alpha, hessian=policy)
    g, h = focal.gradient_hessian(y, margin, weight)
    loss = focal.loss(y, margin, weight)
    assert g.shape == h.shape == loss.shape == margin.shape
    assert g.dtype == margin.dtype
    assert np.all(np.isfinite(g))
    assert np.all(np.isfinite(h))
    assert np.all(loss >= 0)
    assert np.all(g[y == 1] <= 0)
    assert np.all(g[y == 0] >= 0)
    if policy != "exact":
        assert np.all(h >= 0)
    # |gradient| = alpha_t q^gamma (gamma p ell + q) <= gamma / e + 1 (as p ell = -p log p <= 1/e).
    bound = max(gamma_neg, gamma_pos) / np.e + 1.0
    w = 1.0 if weight is None else weight
    assert np.all(np.abs(g) <= bound * w * (1 + 1e-6) + 1e-30)


@st.composite
def multiclass_problems(draw):
    n = draw(st.integers(1, 30))
    k = draw(st.integers(2, 6))
    margin = draw(hnp.arrays(np.float64, (n, k), elements=finite_margins))
    if draw(st.booleans()):
        margin = np.asfortranarray(margin)
    y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    alpha = draw(st.none() | hnp.arrays(np.float64, k, elements=st.floats(0.0, 1.0)))
    gamma = draw(st.floats(0.0, 10.0) | hnp.arrays(np.float64, k, elements=st.floats(0.0, 10.0)))
    return y, margin, alpha, gamma


@given(multiclass_problems(), policies)
def test_multiclass_outputs_are_finite_and_consistent(problem, policy):
    y, margin, alpha, gamma = problem
    focal = FocalLoss(gamma, alpha, hessian=policy)
    g, h = focal.gradient_hessian(y, margin)
    loss = focal.loss(y, margin)
    assert g.shape == h.shape == margin.shape
    assert loss.shape == (margin.shape[0],)
    assert np.all(np.isfinite(g))
    assert np.all(np.isfinite(h))
    assert np.all(loss >= 0)
    rows = np.arange(margin.shape[0])
    assert np.all(g[rows, y] <= 0)
    off_class = np.ones_like(g, dtype=bool)
    off_class[rows, y] = False
    assert np.all(g[off_class] >= 0)
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-12)
    if policy != "exact":
        assert np.all(h >= 0)


@given(hnp.arrays(np.float64, st.integers(1, 50), elements=finite_margins), gammas, st.floats(0.01, 0.99))
def test_probabilities_are_distributions(margin, gamma, alpha):
    focal = FocalLoss(gamma, alpha)
    for proba in (focal.predict_proba(margin), focal.posterior_proba(margin)):
        assert proba.shape == (margin.shape[0], 2)
        assert np.all((proba >= 0) & (proba <= 1))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 20), st.integers(2, 5)), elements=finite_margins),
    gammas,
)
def test_multiclass_posterior_is_a_distribution(margin, gamma):
    proba = FocalLoss(gamma, None).posterior_proba(margin)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


@given(st.floats(0.001, 0.999), gammas, st.floats(0.05, 0.95))
def test_binary_init_score_inverts_the_posterior(prior, gamma, alpha):
    """posterior_proba(init_score(y)) is the positive rate, for any gamma and alpha."""
    n = 1000
    y = (np.arange(n) < max(1, min(n - 1, round(prior * n)))).astype(float)
    focal = FocalLoss(gamma, alpha)
    b = focal.init_score(y)
    assert abs(focal.posterior_proba(np.array([b]))[0, 1] - y.mean()) < 1e-9
