"""Bad input reaches the user as a clear error naming the problem."""

from __future__ import annotations

import numpy as np
import pytest

from focal_boost import FocalLoss


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"gamma": -0.1}, ValueError, "gamma must be a finite number >= 0"),
        ({"gamma": float("nan")}, ValueError, "gamma"),
        ({"gamma": float("inf")}, ValueError, "gamma"),
        ({"gamma": [1.0, -2.0]}, ValueError, "per-class gamma"),
        ({"gamma": "2"}, TypeError, "gamma must be a number"),
        ({"gamma": [[1.0, 2.0]]}, ValueError, "1-D"),
        ({"alpha": 1.5}, ValueError, r"alpha must lie in \[0, 1\]"),
        ({"alpha": -0.1}, ValueError, r"alpha must lie in \[0, 1\]"),
        ({"alpha": float("nan")}, ValueError, r"alpha must lie in \[0, 1\]"),
        ({"alpha": [0.5, 1.2]}, ValueError, "per-class alpha"),
        ({"alpha": "auto"}, ValueError, "'balanced'"),
        ({"alpha": {"a": 1}}, TypeError, "alpha must be"),
        ({"alpha": ["a", "b"]}, TypeError, "numbers only"),
        ({"alpha": []}, ValueError, "non-empty"),
        ({"hessian": "positive"}, ValueError, "hessian must be one of"),
        ({"hessian": "clip", "hessian_floor": -1.0}, ValueError, "hessian_floor"),
        (
            {"hessian": "clip", "hessian_floor": 2e6},
            ValueError,
            r"hessian_floor must be a number in \[0, 1e6\]",
        ),
        ({"gamma": 1.5e6}, ValueError, r"gamma must be at most 1e6 \(the loss then counts only examples"),
        ({"gamma": [1.0, 1e154]}, ValueError, "every per-class gamma must be at most 1e6"),
        ({"gamma": True}, TypeError, "gamma"),
    ],
)
def test_bad_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        FocalLoss(**kwargs)


BINARY_Y = np.array([0.0, 1.0, 1.0])
BINARY_Z = np.array([0.1, -0.2, 0.3])


@pytest.mark.parametrize("method", ["loss", "gradient_hessian"])
@pytest.mark.parametrize(
    ("y", "margin", "weight", "error", "match"),
    [
        (np.array([0.0, np.nan, 1.0]), BINARY_Z, None, ValueError, "y contains NaN"),
        (
            np.array([0.0, 2.0, 1.0]),
            BINARY_Z,
            None,
            ValueError,
            r"only 0 and 1 .* found labels \[0.0, 1.0, 2.0\]",
        ),
        (np.array([0.0, -1.0, 1.0]), BINARY_Z, None, ValueError, "only 0 and 1"),
        (np.array([0.0, 0.5, 1.0]), BINARY_Z, None, ValueError, "only 0 and 1"),
        (BINARY_Y, np.array([0.0, np.nan, 1.0]), None, ValueError, "margin contains NaN or infinite"),
        (BINARY_Y, np.array([0.0, np.inf, 1.0]), None, ValueError, "margin contains NaN or infinite"),
        (BINARY_Y, np.array([0.0, -np.inf, 1.0]), None, ValueError, "margin contains NaN or infinite"),
        (
            BINARY_Y,
            BINARY_Z,
            np.array([1.0, -1.0, 1.0]),
            ValueError,
            "sample_weight must be finite, >= 0 and at most 1e300: of its 3 values, 1 are negative",
        ),
        (
            BINARY_Y,
            BINARY_Z,
            np.array([1.0, 2e300, 1.0]),
            ValueError,
            r"1 exceed 1e300 \(the largest is 2e\+300\)",
        ),
        (
            BINARY_Y,
            BINARY_Z.astype(np.float32),  # float32 outputs: weights up to 1e31 keep them finite
            np.array([1.0, 2e31, 1.0]),
            ValueError,
            r"at most 1e31: of its 3 values, 1 exceed 1e31 \(the largest is 2e\+31\), where weighted "
            "gradients could overflow the float32",
        ),
        (BINARY_Y, BINARY_Z, np.array([1.0, np.nan, 1.0]), ValueError, "sample_weight must be finite"),
        (BINARY_Y, BINARY_Z, np.array([1.0, np.inf, 1.0]), ValueError, "sample_weight must be finite"),
        (BINARY_Y, BINARY_Z, np.ones(4), ValueError, r"sample_weight must have shape \(3,\)"),
        (BINARY_Y, BINARY_Z, np.array(["a", "b", "c"]), TypeError, "sample_weight must be numeric"),
        (np.array([0.0, 1.0]), BINARY_Z, None, ValueError, "y has 2 samples but margin has 3"),
        (np.array(["a", "b", "a"]), BINARY_Z, None, TypeError, "LabelEncoder"),
        (np.zeros((3, 1)), BINARY_Z, None, ValueError, "y must be 1-D"),
        (np.array([]), np.array([]), None, ValueError, "margin is empty"),
        (BINARY_Y, np.zeros((3, 2, 2)), None, ValueError, r"margin must have shape \(n,\)"),
        (BINARY_Y, np.zeros((3, 1)), None, ValueError, "K >= 2 columns"),
        (BINARY_Y, np.array(["1", "2", "3"]), None, TypeError, "margin must be numeric"),
    ],
)
def test_bad_binary_inputs(method, y, margin, weight, error, match):
    with pytest.raises(error, match=match):
        getattr(FocalLoss(), method)(y, margin, weight)


@pytest.mark.parametrize("method", ["loss", "gradient_hessian"])
@pytest.mark.parametrize(
    ("y", "alpha", "gamma", "match"),
    [
        (np.array([0, 1, 3]), None, 2.0, r"integers 0..2 \(margin has 3 columns\)"),
        (np.array([0, 1, 1.5]), None, 2.0, "integers 0..2"),
        (np.array([0, 1, np.nan]), None, 2.0, "y contains NaN"),
        (np.array([0, 1, 2]), 0.25, 2.0, "a single alpha is for binary problems"),
        (np.array([0, 1, 2]), [0.2, 0.8], 2.0, "alpha has 2 per-class values but there are 3 classes"),
        (np.array([0, 1, 2]), None, [1.0, 2.0], "gamma has 2 per-class values but there are 3 classes"),
    ],
)
def test_bad_multiclass_inputs(method, y, alpha, gamma, match):
    margin = np.zeros((3, 3))
    with pytest.raises(ValueError, match=match):
        getattr(FocalLoss(gamma, alpha), method)(y, margin)


def test_bad_outputs():
    focal = FocalLoss()
    with pytest.raises(ValueError, match=r"gradient_out must have shape \(3,\)"):
        focal.gradient_hessian(BINARY_Y, BINARY_Z, gradient_out=np.empty(4))
    with pytest.raises(TypeError, match="hessian_out must be float32 or float64"):
        focal.gradient_hessian(BINARY_Y, BINARY_Z, hessian_out=np.empty(3, dtype=np.int64))
    read_only = np.empty(3)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="loss_out is read-only"):
        focal.loss(BINARY_Y, BINARY_Z, loss_out=read_only)
    with pytest.raises(TypeError, match="must be a numpy array"):
        focal.loss(BINARY_Y, BINARY_Z, loss_out=[0.0, 0.0, 0.0])


def test_balanced_alpha_needs_every_class():
    with pytest.raises(ValueError, match=r"classes \[2\] have none"):
        FocalLoss(2.0, "balanced").gradient_hessian(np.array([0, 1, 1]), np.zeros((3, 3)))


@pytest.mark.parametrize(
    ("y", "kwargs", "match"),
    [
        (np.array([1, 1, 1]), {}, r"classes \[0\]"),
        (np.array([0, 1, 2]), {"n_classes": 2}, "outside 0..1"),
        (np.array([0, 1, 1]), {"n_classes": 1}, "n_classes must be an integer >= 2"),
        (np.array([0, -1, 1]), {}, "class indices"),
        (np.array([0, 1, 1]), {"sample_weight": np.array([1.0, -1.0, 1.0])}, "sample_weight"),
        (np.array([0, 1, 1]), {"sample_weight": np.array([1.0, 0.0, 0.0])}, r"classes \[1\] have none"),
    ],
)
def test_bad_init_score_inputs(y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        FocalLoss(2.0, None).init_score(y, **kwargs)


def test_bad_probability_inputs():
    with pytest.raises(ValueError, match="NaN or infinite"):
        FocalLoss().predict_proba(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="NaN or infinite"):
        FocalLoss().posterior_proba(np.array([[0.0, np.inf]]))
    with pytest.raises(ValueError, match="empty"):
        FocalLoss().posterior_proba(np.array([]))


def test_balanced_alpha_rejects_non_integer_and_nan_labels():
    with pytest.raises(ValueError, match=r"class indices 0..(1|K-1); found labels \[0.0, 0.5, 1.0\]"):
        FocalLoss(2.0, "balanced").resolved(np.array([0.0, 0.5, 1.0]), n_classes=2)
    with pytest.raises(ValueError, match="y contains NaN"):
        FocalLoss(2.0, "balanced").class_weights(2, np.array([0.0, np.nan, 1.0]))


def test_per_class_parameters_are_read_only():
    focal = FocalLoss([1.0, 2.0], [0.3, 0.7])
    with pytest.raises(ValueError, match="read-only"):
        focal.gamma[0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        focal.alpha[1] = 0.0


@pytest.mark.parametrize("dtype", [np.float16, np.longdouble])
def test_labels_and_weights_of_any_float_dtype_compute(dtype):
    """float16 (and long double) labels and weights are read as float64, not a Numba TypingError."""
    focal = FocalLoss(2.0, 0.25)
    weight = np.array([1.0, 0.5, 2.0])
    expected = focal.loss(BINARY_Y, BINARY_Z, weight)
    np.testing.assert_array_equal(
        focal.loss(BINARY_Y.astype(dtype), BINARY_Z, weight.astype(dtype)), expected
    )
    for got, reference in zip(
        focal.gradient_hessian(BINARY_Y.astype(dtype), BINARY_Z, weight.astype(dtype)),
        focal.gradient_hessian(BINARY_Y, BINARY_Z, weight),
        strict=True,
    ):
        np.testing.assert_array_equal(got, reference)
    multiclass = FocalLoss(2.0, None)
    y3, z3 = np.array([0.0, 2.0, 1.0]), np.eye(3)
    np.testing.assert_array_equal(multiclass.loss(y3.astype(dtype), z3), multiclass.loss(y3, z3))


@pytest.mark.parametrize(
    ("n_threads", "error", "match"),
    [
        ("2", TypeError, "n_threads must be an integer or None, got '2'"),
        (2.5, TypeError, "n_threads must be an integer or None, got 2.5"),
        (True, TypeError, "n_threads must be an integer or None, got True"),
        (0, ValueError, "n_threads must not be 0"),
    ],
)
def test_bad_thread_counts(n_threads, error, match):
    focal = FocalLoss()
    with pytest.raises(error, match=match):
        focal.loss(BINARY_Y, BINARY_Z, n_threads=n_threads)
    with pytest.raises(error, match=match):
        focal.gradient_hessian(BINARY_Y, BINARY_Z, n_threads=n_threads)
    from focal_boost._boosters.objective import BoosterMetric, BoosterObjective

    for kind in (BoosterObjective, BoosterMetric):
        with pytest.raises(error, match=match):
            kind(focal, n_threads=n_threads)
    assert focal.loss(BINARY_Y, BINARY_Z, n_threads=np.int64(2)).shape == (3,)


def test_extreme_but_valid_inputs_compute_finitely():
    """The edges of every accepted parameter give finite values, or a clear error where they cannot."""
    rng = np.random.default_rng(3)
    z = np.concatenate([rng.normal(0, 30, 200), [-1e308, 1e308, -800.0, 800.0, 0.0]])
    y = (rng.random(z.shape[0]) < 0.5).astype(float)
    for gamma in (0.0, 1e-3, 50.0, 1e6):  # gamma up to the limit: finite for every margin
        for policy in ("upper", "exact", "clip"):
            grad, hess = FocalLoss(gamma, 0.25, hessian=policy).gradient_hessian(y, z)
            assert np.all(np.isfinite(grad)), (gamma, policy)
            assert np.all(np.isfinite(hess)), (gamma, policy)
        assert np.all(np.isfinite(FocalLoss(gamma, 0.25).loss(y, z)))
    # Weights up to the limit keep float32 gradients finite (the largest Hessian bound times 2).
    w = np.full(z.shape[0], 1e31)
    grad, hess = FocalLoss(1e6, 1.0, hessian="clip", hessian_floor=1e6).gradient_hessian(
        y, np.clip(z, -3e38, 3e38).astype(np.float32), w
    )
    assert np.all(np.isfinite(grad))
    assert np.all(np.isfinite(2 * hess.astype(np.float64)))
    # A float32 loss that truly exceeds float32 is named, not returned as infinity.
    with pytest.raises(ValueError, match="the weighted focal loss overflows its float32 output in 1 places"):
        FocalLoss(0.0, None).loss(np.array([1.0]), np.array([-3e38], np.float32), np.array([1e31]))


def test_multiclass_margins_spanning_beyond_the_doubles():
    """z_c - logsumexp overflows past 1.8e308: the limits, not NaN."""
    z = np.array([[1e308, -1e308, 0.0], [-1.7e308, 1.7e308, 1.0], [1e308, 1e308, -1e308]])
    y = np.array([1.0, 0.0, 2.0])
    focal = FocalLoss(2.0, None)
    grad, hess = focal.gradient_hessian(y, z)
    np.testing.assert_array_equal(grad[0], [1.0, -1.0, 0.0])  # the true class has p = 0: G = alpha
    np.testing.assert_array_equal(grad[1], [-1.0, 1.0, 0.0])
    np.testing.assert_allclose(grad[2], [0.5, 0.5, -1.0])
    assert np.all(np.isfinite(hess))
    loss = focal.loss(y, z)
    np.testing.assert_array_equal(loss, np.finfo(np.float64).max)  # saturated, not infinite
    np.testing.assert_array_equal(
        focal.posterior_proba(z), [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0]]
    )
    np.testing.assert_array_equal(focal.predict_proba(z), [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])


def test_init_score_at_large_gamma_is_the_minimiser():
    """q**gamma underflows and the risk's derivative is 0 in float64 far from the answer: solved in logs."""
    y = np.r_[np.zeros(900), np.ones(100)]
    for gamma in (1e3, 1e6):
        focal = FocalLoss(gamma, None)
        b = focal.init_score(y)
        np.testing.assert_allclose(focal.posterior_proba(np.array([b]))[0], [0.9, 0.1], rtol=1e-9)
