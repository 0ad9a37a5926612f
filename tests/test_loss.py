"""FocalLoss behaviour: log-loss limit, initial score, link, posterior, API."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import reference
import scipy.optimize
import scipy.special

from focal_boost import FocalLoss
from focal_boost._kernels import threads as _cpu


@pytest.fixture
def rng():
    return np.random.default_rng(20261123)


# ------------------------------------------------------------------ log-loss limit


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("policy", ["exact", "clip", "upper"])
def test_gamma_zero_alpha_none_is_log_loss(rng, dtype, policy):
    z = np.concatenate([rng.normal(0, 4, 500), [-30, -5, 0, 5, 30]]).astype(dtype)
    y = (rng.random(z.shape[0]) < 0.3).astype(np.float64)
    focal = FocalLoss(0.0, None, hessian=policy, hessian_floor=0.0)
    g, h = focal.gradient_hessian(y, z, gradient_out=np.empty(z.shape), hessian_out=np.empty(z.shape))
    z64 = z.astype(np.float64)
    p, one_minus_p = scipy.special.expit(z64), scipy.special.expit(-z64)  # no 1 - p cancellation
    np.testing.assert_allclose(g, np.where(y == 1, -one_minus_p, p), rtol=1e-13, atol=0)
    np.testing.assert_allclose(h, p * one_minus_p, rtol=1e-13, atol=0)
    log_loss = -(
        y * scipy.special.log_expit(z.astype(np.float64))
        + (1 - y) * scipy.special.log_expit(-z.astype(np.float64))
    )
    np.testing.assert_allclose(focal.loss(y, z, loss_out=np.empty(z.shape)), log_loss, rtol=1e-13)


def test_gamma_zero_multiclass_is_softmax_cross_entropy(rng):
    z = rng.normal(0, 3, (300, 5))
    y = rng.integers(0, 5, 300).astype(np.float64)
    focal = FocalLoss(0.0, None)
    g, h = focal.gradient_hessian(y, z)
    p = scipy.special.softmax(z, axis=1)
    onehot = np.eye(5)[y.astype(int)]
    # 1 - p_j as the other classes' share, not a difference: p_j near 1 would lose digits in 1 - p_j
    total = scipy.special.logsumexp(z, axis=1)
    others = [scipy.special.logsumexp(np.delete(z, j, axis=1), axis=1) - total for j in range(5)]
    complement = np.exp(np.stack(others, axis=1))
    np.testing.assert_allclose(g, p - onehot, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h, p * complement, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(focal.loss(y, z), -np.log(p[np.arange(300), y.astype(int)]), rtol=1e-12)


def test_alpha_weights_classes_as_documented(rng):
    z = rng.normal(size=50)
    y = (rng.random(50) < 0.5).astype(float)
    plain = FocalLoss(2.0, None).loss(y, z)
    weighted = FocalLoss(2.0, 0.25).loss(y, z)
    np.testing.assert_allclose(weighted, plain * np.where(y == 1, 0.25, 0.75), rtol=1e-14)
    as_vector = FocalLoss(2.0, [0.75, 0.25]).loss(y, z)
    np.testing.assert_array_equal(as_vector, weighted)


def test_sample_weight_multiplies_through(rng):
    z = rng.normal(0, 3, (40, 3))
    y = rng.integers(0, 3, 40)
    w = rng.uniform(0, 5, 40)
    focal = FocalLoss(1.5, [0.2, 0.5, 0.3])
    g, h = focal.gradient_hessian(y, z)
    gw, hw = focal.gradient_hessian(y, z, w)
    np.testing.assert_allclose(gw, g * w[:, None], rtol=1e-14)
    np.testing.assert_allclose(hw, h * w[:, None], rtol=1e-14)
    np.testing.assert_allclose(focal.loss(y, z, w), focal.loss(y, z) * w, rtol=1e-14)


def test_multiclass_gradient_rows_sum_to_zero(rng):
    z = rng.normal(0, 10, (200, 6))
    y = rng.integers(0, 6, 200)
    g, _ = FocalLoss(2.0, None).gradient_hessian(y, z)
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-15)


def test_multiclass_with_two_columns_matches_binary(rng):
    """Softmax over [0, z] is the sigmoid of z: same loss and gradient on column 1."""
    z = rng.normal(0, 3, 100)
    y = (rng.random(100) < 0.4).astype(float)
    focal = FocalLoss([1.0, 3.0], 0.3, hessian="exact")
    margins = np.column_stack([np.zeros_like(z), z])
    np.testing.assert_allclose(focal.loss(y, margins), focal.loss(y, z), rtol=1e-13)
    g2, h2 = focal.gradient_hessian(y, margins)
    g1, h1 = focal.gradient_hessian(y, z)
    np.testing.assert_allclose(g2[:, 1], g1, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(h2[:, 1], h1, rtol=1e-12, atol=1e-300)


# ----------------------------------------------------------------- Hessian policies


@pytest.mark.parametrize("gamma", [0.5, 2.0, 5.0])
def test_hessian_policies(rng, gamma):
    z = np.concatenate([rng.normal(0, 5, 2000), np.linspace(-30, 30, 61)])
    y = (rng.random(z.shape[0]) < 0.5).astype(float)
    exact = FocalLoss(gamma, 0.25, hessian="exact").gradient_hessian(y, z)[1]
    upper = FocalLoss(gamma, 0.25, hessian="upper").gradient_hessian(y, z)[1]
    clip = FocalLoss(gamma, 0.25, hessian="clip", hessian_floor=1e-4).gradient_hessian(y, z)[1]
    assert (exact < 0).any(), "the exact focal Hessian is negative for hard examples"
    assert np.all(upper >= exact)
    assert np.all(upper[np.abs(z) < 700] > 0)
    np.testing.assert_array_equal(clip, np.maximum(exact, 1e-4))
    # Where the exact Hessian is negative, it is for misclassified examples only.
    signed = np.where(y == 1, z, -z)
    assert np.all(signed[exact < 0] < -1.0)


@pytest.mark.parametrize(
    ("gamma", "crossing"),
    [(0.25, -6.00), (0.5, -4.02), (1.0, -3.10), (2.0, -2.79), (5.0, -2.94), (10.0, -3.30)],
)
def test_exact_hessian_turns_negative_where_documented(gamma, crossing):
    """The margin below which a positive's exact Hessian is negative (docs/math.md)."""
    z = np.linspace(-10, 0, 100001)
    h = FocalLoss(gamma, None, hessian="exact").gradient_hessian(np.ones_like(z), z)[1]
    assert np.all(h[z < crossing - 0.01] < 0)
    assert np.all(h[z > crossing + 0.01] > 0)


def test_multiclass_policies(rng):
    z = rng.normal(0, 6, (500, 4))
    y = rng.integers(0, 4, 500)
    exact = FocalLoss(3.0, None, hessian="exact").gradient_hessian(y, z)[1]
    upper = FocalLoss(3.0, None, hessian="upper").gradient_hessian(y, z)[1]
    clip = FocalLoss(3.0, None, hessian="clip", hessian_floor=1e-5).gradient_hessian(y, z)[1]
    assert (exact < 0).any()
    assert np.all(upper >= exact - 1e-17)
    assert np.all(upper >= 0)
    # 1-ulp differences allowed: each policy is compiled separately, and FMA
    # contraction may round the shared terms differently.
    np.testing.assert_allclose(clip, np.maximum(exact, 1e-5), rtol=1e-14, atol=0)


# ------------------------------------------------------------------- initial score


def _brute_force_binary(y, w, alpha_pos, alpha_neg, gamma_pos, gamma_neg):
    def risk(b):
        return np.sum(
            w
            * reference.naive_binary_loss(y, np.full(y.shape, b), alpha_pos, alpha_neg, gamma_pos, gamma_neg)
        )

    grid = np.linspace(-15, 15, 3001)
    best = grid[np.argmin([risk(b) for b in grid])]
    result = scipy.optimize.minimize_scalar(risk, bracket=(best - 0.02, best, best + 0.02), tol=1e-12)
    return result.x


@pytest.mark.parametrize(
    ("gamma", "alpha", "rate"),
    [(0.0, None, 0.1), (2.0, 0.25, 0.02), (0.5, None, 0.3), (5.0, 0.9, 0.05), ([3.0, 1.0], 0.5, 0.2)],
)
def test_binary_init_score_is_the_minimiser(rng, gamma, alpha, rate):
    n = 2000
    y = (rng.random(n) < rate).astype(float)
    w = rng.uniform(0.5, 2.0, n)
    focal = FocalLoss(gamma, alpha)
    b = focal.init_score(y, w)
    a = (1.0, 1.0) if alpha is None else (alpha, 1 - alpha)
    g = (gamma, gamma) if np.isscalar(gamma) else (gamma[1], gamma[0])
    expected = _brute_force_binary(y, w, a[0], a[1], g[0], g[1])
    assert b == pytest.approx(expected, abs=1e-6)


def test_init_score_is_logit_of_prior_for_log_loss(rng):
    y = (rng.random(1000) < 0.07).astype(float)
    w = rng.uniform(0, 3, 1000)
    prior = np.sum(w * y) / np.sum(w)
    assert FocalLoss(0.0, None).init_score(y, w) == pytest.approx(np.log(prior / (1 - prior)), abs=1e-13)


def test_multiclass_init_score_is_the_minimiser(rng):
    y = rng.choice(4, size=3000, p=[0.6, 0.25, 0.1, 0.05]).astype(float)
    alpha = np.array([0.1, 0.2, 0.3, 0.4])
    gamma = np.array([2.0, 2.0, 1.0, 0.5])
    focal = FocalLoss(gamma, alpha)
    b = focal.init_score(y)
    assert b.shape == (4,)
    assert b.sum() == pytest.approx(0.0, abs=1e-12)

    def risk(v):
        return np.sum(reference.naive_softmax_loss(y, np.broadcast_to(v, (y.shape[0], 4)), alpha, gamma))

    brute = scipy.optimize.minimize(
        risk, np.zeros(4), method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 20000}
    )
    assert risk(b) <= risk(brute.x) + 1e-9
    np.testing.assert_allclose(b, brute.x - brute.x.mean(), atol=1e-4)


@pytest.mark.parametrize("n_classes", [3, 40, 2000])
def test_multiclass_init_score_is_stationary(rng, n_classes):
    """The risk's gradient at the score, from the multiclass kernel (another code path), vanishes.

    One aggregated row per class, heavy-tailed class sizes (the rarest classes
    have margins the risk barely constrains), per-class gamma and alpha.
    """
    totals = np.round((rng.pareto(1.0, n_classes) + 1e-3) * 1000) + 1
    gamma = rng.uniform(0.0, 5.0, n_classes)
    alpha = rng.uniform(0.05, 1.0, n_classes)
    focal = FocalLoss(gamma, alpha)
    labels = np.arange(n_classes, dtype=np.float64)
    b = focal.init_score(labels, totals, n_classes=n_classes)
    assert b.sum() == pytest.approx(0.0, abs=1e-9)
    margins = np.broadcast_to(b, (n_classes, n_classes)).copy()
    grad, _ = focal.gradient_hessian(labels, margins, totals / totals.sum())
    assert np.abs(grad.sum(axis=0)).max() < 1e-14
    if n_classes == 3:  # and a general-purpose optimiser on the reference risk agrees

        def risk(v):
            return np.sum(
                reference.naive_softmax_loss(labels, np.broadcast_to(v, (3, 3)), alpha, gamma) * totals
            )

        brute = scipy.optimize.minimize(risk, np.zeros(3), method="BFGS", options={"gtol": 1e-12})
        np.testing.assert_allclose(b, brute.x - brute.x.mean(), atol=1e-6)


def test_multiclass_init_score_for_ten_thousand_classes(rng):
    """Linear in K. The posterior of the score is the class prior, exactly (focal loss's calibration
    map inverts the constant model): checked through posterior_proba's own formula."""
    n_classes = 10_000
    totals = np.round((rng.pareto(1.2, n_classes) + 1e-3) * 100) + 1
    prior = totals / totals.sum()
    for gamma in (0.0, 2.0, 7.5):
        b = FocalLoss(gamma, None).init_score(np.arange(n_classes), totals, n_classes=n_classes)
        posterior = FocalLoss(gamma, None).posterior_proba(b[np.newaxis, :])[0]
        np.testing.assert_allclose(posterior, prior, rtol=1e-9)
    log_prior = np.log(prior)
    np.testing.assert_allclose(
        FocalLoss(0.0, None).init_score(np.arange(n_classes), totals, n_classes=n_classes),
        log_prior - log_prior.mean(),
        rtol=0,
        atol=1e-12,
    )


def test_multiclass_init_score_for_log_loss_is_centred_log_prior(rng):
    y = rng.choice(3, size=999, p=[0.5, 0.3, 0.2])
    log_prior = np.log(np.bincount(y) / 999)
    np.testing.assert_allclose(FocalLoss(0.0, None).init_score(y), log_prior - log_prior.mean(), atol=1e-9)


def test_init_score_with_extreme_imbalance():
    y = np.zeros(10**6)
    y[:3] = 1
    for gamma in (0.0, 2.0, 10.0):
        b = FocalLoss(gamma, None).init_score(y)
        assert np.isfinite(b)
        posterior = FocalLoss(gamma, None).posterior_proba(np.array([b]))[0, 1]
        assert posterior == pytest.approx(3e-6, rel=1e-8)


def test_init_score_errors():
    with pytest.raises(ValueError, match="classes \\[1\\]"):
        FocalLoss().init_score(np.zeros(10))
    with pytest.raises(ValueError, match="zero"):
        FocalLoss(2.0, 1.0).init_score(np.array([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="NaN"):
        FocalLoss().init_score(np.array([0, np.nan, 1]))


# ------------------------------------------------------------- link and posterior


def test_predict_proba_is_sigmoid_and_softmax(rng):
    z = rng.normal(0, 50, 100)
    p = FocalLoss().predict_proba(z)
    # exp of the log-sigmoid (so that predict_log_proba orders classes alike): a relative error of
    # about |log p| ulps, the rounding of log p carried through exp.
    expected = scipy.special.expit(z)
    tolerance = 2.3e-16 * (1.0 + np.abs(np.log(expected))) * expected
    assert np.all(np.abs(p[:, 1] - expected) <= tolerance)
    np.testing.assert_array_equal(np.exp(FocalLoss().predict_log_proba(z)), p)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    zm = rng.normal(0, 50, (100, 3))
    expected = scipy.special.softmax(zm, axis=1)
    tolerance = 4.5e-16 * (1.0 + np.abs(np.log(expected))) * expected  # as above, plus the log-softmax sum
    assert np.all(np.abs(FocalLoss().predict_proba(zm) - expected) <= tolerance)


def test_posterior_is_identity_for_log_loss(rng):
    z = rng.normal(0, 20, 200)
    focal = FocalLoss(0.0, None)
    np.testing.assert_allclose(focal.posterior_proba(z), focal.predict_proba(z), rtol=1e-12, atol=1e-300)
    zm = rng.normal(0, 20, (200, 4))
    np.testing.assert_allclose(focal.posterior_proba(zm), focal.predict_proba(zm), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize(("gamma", "alpha"), [(2.0, None), (2.0, 0.25), (0.5, 0.6), ([4.0, 1.0], 0.3)])
def test_binary_posterior_recovers_true_probability_by_simulation(gamma, alpha):
    """Draw labels with known P(y=1), minimise the empirical focal risk, map back."""
    rng = np.random.default_rng(3)
    n = 400_000
    a = (1.0, 1.0) if alpha is None else (alpha, 1 - alpha)
    g = (gamma, gamma) if np.isscalar(gamma) else (gamma[1], gamma[0])
    focal = FocalLoss(gamma, alpha)
    for eta in (0.02, 0.2, 0.5, 0.85):
        rate = np.mean(rng.random(n) < eta)  # empirical positive rate of the draw

        def risk(b, rate=rate):
            # The empirical focal risk of a constant margin b.
            at_b = np.array([b, b])
            per_label = reference.naive_binary_loss(np.array([1, 0]), at_b, a[0], a[1], g[0], g[1])
            return rate * per_label[0] + (1 - rate) * per_label[1]

        b = scipy.optimize.minimize_scalar(
            risk, bounds=(-20, 20), method="bounded", options={"xatol": 1e-10}
        ).x
        raw = scipy.special.expit(b)
        corrected = focal.posterior_proba(np.array([b]))[0, 1]
        tolerance = 4 * np.sqrt(eta * (1 - eta) / n) + 1e-6
        assert abs(corrected - eta) < tolerance, (eta, corrected)
        if eta != 0.5 or alpha is not None:
            assert abs(raw - eta) > 10 * tolerance, (
                "the raw probability must be off, or the test proves nothing"
            )


def test_multiclass_posterior_recovers_true_probability_by_simulation():
    rng = np.random.default_rng(5)
    eta = np.array([0.6, 0.3, 0.08, 0.02])
    alpha = np.array([0.2, 0.3, 0.5, 0.9])
    gamma = np.array([2.0, 2.0, 3.0, 1.0])
    n = 400_000
    y = rng.choice(4, size=n, p=eta)
    freq = np.bincount(y, minlength=4) / n

    def risk(v):
        per_class = reference.naive_softmax_loss(np.arange(4), np.broadcast_to(v, (4, 4)), alpha, gamma)
        return per_class @ freq

    b = scipy.optimize.minimize(
        risk, np.zeros(4), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 40000}
    ).x
    focal = FocalLoss(gamma, alpha)
    corrected = focal.posterior_proba(b[None, :])[0]
    raw = focal.predict_proba(b[None, :])[0]
    tolerance = 4 * np.sqrt(eta * (1 - eta) / n) + 1e-5
    assert np.all(np.abs(corrected - eta) < tolerance), corrected
    assert np.any(np.abs(raw - eta) > 10 * tolerance)


def test_posterior_of_init_score_is_the_weighted_prior(rng):
    y = rng.choice(3, size=5000, p=[0.7, 0.2, 0.1])
    w = rng.uniform(0.1, 3, 5000)
    focal = FocalLoss([2.0, 1.0, 4.0], [0.2, 0.5, 0.9])
    b = focal.init_score(y, w)
    prior = np.bincount(y, weights=w) / w.sum()
    np.testing.assert_allclose(focal.posterior_proba(b[None, :])[0], prior, rtol=1e-7)


@pytest.mark.parametrize("gamma", [0.5, 2.0, 10.0])
def test_posterior_is_monotone_and_finite_in_the_margin(gamma):
    z = np.linspace(-700, 700, 20001)
    eta = FocalLoss(gamma, 0.25).posterior_proba(z)[:, 1]
    assert np.all(np.isfinite(eta))
    assert np.all(np.diff(eta) >= 0)
    assert eta[0] < 1e-100
    assert eta[-1] == 1.0


def test_posterior_needs_resolved_balanced_alpha_and_positive_alpha():
    with pytest.raises(ValueError, match="resolved"):
        FocalLoss(2.0, "balanced").posterior_proba(np.zeros(3))
    with pytest.raises(ValueError, match="alpha = 0"):
        FocalLoss(2.0, 0.0).posterior_proba(np.zeros(3))


# ---------------------------------------------------------------------- "balanced"


def test_balanced_alpha(rng):
    y = (rng.random(1000) < 0.1).astype(float)
    focal = FocalLoss(2.0, "balanced")
    resolved = focal.resolved(y)
    assert resolved.alpha == pytest.approx(np.mean(y == 0))
    z = rng.normal(size=1000)
    np.testing.assert_allclose(focal.loss(y, z), resolved.loss(y, z), rtol=1e-14)
    ym = rng.choice(3, size=1000, p=[0.5, 0.3, 0.2])
    alpha = FocalLoss(2.0, "balanced").resolved(ym).alpha
    counts = np.bincount(ym)
    np.testing.assert_allclose(alpha, (1 / counts) / np.sum(1 / counts))
    assert FocalLoss(2.0, 0.3).resolved(y).alpha == 0.3


# --------------------------------------------------------------- API and plumbing


def test_outputs_follow_margin_dtype_and_can_be_supplied(rng):
    z32 = rng.normal(size=100).astype(np.float32)
    y = (rng.random(100) < 0.5).astype(np.float32)
    g, h = FocalLoss().gradient_hessian(y, z32)
    assert g.dtype == h.dtype == np.float32
    grad_out, hess_out = np.empty(100), np.empty(100)
    g2, h2 = FocalLoss().gradient_hessian(y, z32, gradient_out=grad_out, hessian_out=hess_out)
    assert g2 is grad_out
    assert h2 is hess_out
    np.testing.assert_allclose(g, g2, rtol=1e-6)


def test_read_only_strided_and_integer_inputs(rng):
    z = rng.normal(size=(200, 2))[:, 1]  # strided view
    z.flags.writeable = False
    y = (rng.random(200) < 0.5).astype(np.int64)
    y.flags.writeable = False
    g, h = FocalLoss().gradient_hessian(y, z)
    g2, h2 = FocalLoss().gradient_hessian(y.astype(float), np.ascontiguousarray(z))
    np.testing.assert_array_equal(g, g2)
    np.testing.assert_array_equal(h, h2)
    # integer margins and boolean labels are accepted and converted
    gi, _ = FocalLoss().gradient_hessian(y.astype(bool), np.arange(200) - 100)
    assert gi.dtype == np.float64


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_parallel_and_serial_kernels_agree(rng, task, monkeypatch):
    n = _cpu.PARALLEL_MIN_ELEMENTS * 2 + 1  # several parallel chunks, the last one short
    if task == "binary":
        z, y = rng.normal(0, 5, n), (rng.random(n) < 0.2).astype(float)
    else:
        z, y = rng.normal(0, 5, (n // 4, 4)), rng.integers(0, 4, n // 4)
    focal = FocalLoss(2.0, None if task == "binary" else [0.1, 0.2, 0.3, 0.4])
    used = []
    for name, (rows, parallel) in dict(_cpu._KERNELS).items():

        def spy(*args, _parallel=parallel, _name=name):
            used.append(_name)
            return _parallel(*args)

        monkeypatch.setitem(_cpu._KERNELS, name, (rows, spy))
    g1, h1 = focal.gradient_hessian(y, z, n_threads=1)
    l1 = focal.loss(y, z, n_threads=1)
    assert used == []
    g2, h2 = focal.gradient_hessian(y, z, n_threads=2)
    l2 = focal.loss(y, z, n_threads=2)
    assert used == [f"{task}_grad_hess", f"{task}_loss"]
    np.testing.assert_allclose(g1, g2, rtol=1e-15, atol=0)
    np.testing.assert_allclose(h1, h2, rtol=1e-15, atol=0)
    np.testing.assert_allclose(l1, l2, rtol=1e-15, atol=0)


def test_bad_values_are_counted_in_every_parallel_chunk(rng):
    n = _cpu.PARALLEL_CHUNK_ELEMENTS * 3
    y = (rng.random(n) < 0.5).astype(float)
    y[[5, n - 1]] = 2.0
    with pytest.raises(ValueError, match=r"found labels \[0.0, 1.0, 2.0\]"):
        FocalLoss().gradient_hessian(y, np.zeros(n), n_threads=2)
    margin = np.zeros(n)
    margin[[7, _cpu.PARALLEL_CHUNK_ELEMENTS + 1, n - 2]] = np.nan
    with pytest.raises(ValueError, match=r"\(3 of them\)"):
        FocalLoss().gradient_hessian(np.zeros(n), margin, n_threads=2)


def test_thread_count_is_restored():
    import numba

    before = numba.get_num_threads()
    n = _cpu.PARALLEL_MIN_ELEMENTS
    FocalLoss().gradient_hessian(np.zeros(n), np.zeros(n), n_threads=1 if before > 1 else 2)
    assert numba.get_num_threads() == before


def test_resolve_n_threads():
    available = _cpu.numba.config.NUMBA_NUM_THREADS
    assert _cpu.resolve_n_threads(None) == available
    assert _cpu.resolve_n_threads(-1) == available
    assert _cpu.resolve_n_threads(1) == 1
    assert _cpu.resolve_n_threads(10**6) == available
    assert _cpu.resolve_n_threads(-(10**6)) == 1


def test_pickle_repr_and_equality():
    focal = FocalLoss([1.0, 2.0], 0.3, hessian="clip", hessian_floor=1e-3)
    clone = pickle.loads(pickle.dumps(focal))
    assert clone == focal
    assert hash(clone) == hash(focal)
    assert clone != FocalLoss([1.0, 2.0], 0.3, hessian="clip", hessian_floor=1e-4)
    assert repr(focal) == "FocalLoss(gamma=[1.0, 2.0], alpha=0.3, hessian='clip', hessian_floor=0.001)"
    assert repr(FocalLoss()) == "FocalLoss(gamma=2.0, alpha=0.25, hessian='upper')"
    assert eval(repr(FocalLoss(0.5, None)), {"FocalLoss": FocalLoss}) == FocalLoss(0.5, None)
