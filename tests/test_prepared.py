"""The prepared loss: parameters decided once, with names, shared by every kernel caller."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from focal_boost import FocalLoss
from focal_boost._boosters.objective import BoosterMetric, BoosterObjective
from focal_boost._kernels import prepared as _prepared
from focal_boost._kernels.prepared import prepare_loss
from focal_boost._kernels.scalar import HESSIAN_CLIP, HESSIAN_UPPER


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_binary_fields_and_kernel_arguments():
    prepared = prepare_loss(FocalLoss([1.0, 3.0], 0.25, hessian="clip", hessian_floor=1e-4), None)
    assert prepared.task == "binary"
    assert prepared.n_classes == 2
    assert prepared.margin_columns is None
    np.testing.assert_array_equal(prepared.alpha, [0.75, 0.25])
    np.testing.assert_array_equal(prepared.gamma_int, [1, 3])
    assert prepared.use_integer
    assert (prepared.policy, prepared.floor, prepared.hessian_scale) == (HESSIAN_CLIP, 1e-4, 1.0)
    assert prepared.per_class == (0.75, 0.25, 1.0, 3.0, 1, 3, True)
    assert prepared.loss_arguments == (prepared.per_class,)
    assert prepared.gradient_arguments == (prepared.per_class, HESSIAN_CLIP, 1e-4, 1.0)
    assert not prepared.alpha.flags.writeable


@pytest.mark.parametrize(
    ("gamma", "use_integer", "gamma_int"),
    [
        (2.0, True, [2, 2, 2]),
        (0.0, True, [0, 0, 0]),
        ([1.0, 2.5, 3.0], False, [1, -1, 3]),
        (_prepared.INTEGER_GAMMA_LIMIT, False, [-1, -1, -1]),
        (_prepared.INTEGER_GAMMA_LIMIT - 1.0, True, [15, 15, 15]),
    ],
)
def test_the_integer_gamma_decision_is_made_once(gamma, use_integer, gamma_int):
    prepared = prepare_loss(FocalLoss(gamma, None), 3, hessian_scale=2.0)
    assert prepared.task == "multiclass"
    assert prepared.margin_columns == 3
    assert prepared.use_integer is use_integer
    np.testing.assert_array_equal(prepared.gamma_int, gamma_int)
    assert prepared.policy == HESSIAN_UPPER
    assert prepared.hessian_scale == 2.0


def test_binary_margins_never_get_a_hessian_scale():
    assert prepare_loss(FocalLoss(), None, hessian_scale=2.0).hessian_scale == 1.0


def test_balanced_alpha_is_counted_on_the_labels_given():
    y = np.array([0, 0, 0, 1.0])
    prepared = prepare_loss(FocalLoss(2.0, "balanced"), None, y)
    np.testing.assert_allclose(prepared.alpha, [0.25, 0.75])
    with pytest.raises(ValueError, match="balanced"):
        prepare_loss(FocalLoss(2.0, "balanced"), None)


def test_a_margin_of_another_layout_is_an_error():
    prepared = prepare_loss(FocalLoss(2.0, None), 3)
    with pytest.raises(ValueError, match=r"prepared for \(n, 3\)"):
        prepared.gradient_hessian(np.zeros(4), np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"prepared for \(n, 3\)"):
        prepared.loss(np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match=r"prepared for \(n,\)"):
        prepare_loss(FocalLoss(), None).loss(np.zeros(4), np.zeros((4, 2)))


def test_prepared_results_equal_the_loss_methods(rng):
    loss = FocalLoss([0.5, 2.0, 4.0], [0.2, 0.3, 0.5], hessian="exact")
    margin = rng.normal(0, 4, (50, 3))
    y = rng.integers(0, 3, 50)
    weight = rng.uniform(0, 2, 50)
    prepared = prepare_loss(loss, 3)
    for got, expected in zip(
        prepared.gradient_hessian(y, margin, weight), loss.gradient_hessian(y, margin, weight), strict=True
    ):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(prepared.loss(y, margin, weight), loss.loss(y, margin, weight))


def test_the_hessian_scale_is_applied_in_the_kernel(rng):
    margin = rng.normal(0, 3, (40, 4))
    y = rng.integers(0, 4, 40)
    plain = prepare_loss(FocalLoss(2.0, None), 4).gradient_hessian(y, margin)
    scaled = prepare_loss(FocalLoss(2.0, None), 4, hessian_scale=1.5).gradient_hessian(y, margin)
    np.testing.assert_array_equal(scaled[0], plain[0])
    np.testing.assert_allclose(scaled[1], 1.5 * plain[1], rtol=1e-15)


class _ScaledObjective(BoosterObjective):
    @staticmethod
    def multiclass_hessian_scale(n_classes: int) -> float:
        return float(n_classes)


def test_objectives_keep_their_prepared_loss_across_rounds(rng, monkeypatch):
    made = []
    original = _prepared.prepare_loss

    def counting(*args, **kwargs):
        made.append(args[1])
        return original(*args, **kwargs)

    import focal_boost._boosters.objective as adapter

    monkeypatch.setattr(adapter, "prepare_loss", counting)
    objective = _ScaledObjective(FocalLoss(2.0, None))
    metric = BoosterMetric(FocalLoss(2.0, None))
    y3, margin3 = rng.integers(0, 3, 30).astype(float), rng.normal(size=(30, 3))
    for _ in range(4):  # four boosting rounds
        _, hess = objective.gradient_hessian(y3, margin3)
        metric.score(y3, margin3)
    assert made == [3, 3]  # once for the objective, once for the metric
    expected = FocalLoss(2.0, None).gradient_hessian(y3, margin3)[1] * 3.0
    np.testing.assert_allclose(hess, expected, rtol=1e-15)
    y2 = rng.integers(0, 2, 10).astype(float)
    objective.gradient_hessian(y2, rng.normal(size=(10, 2)))  # another layout
    assert made == [3, 3, 2]
    objective.loss = FocalLoss(1.0, None)  # a new loss is prepared again
    objective.gradient_hessian(y2, rng.normal(size=(10, 2)))
    assert made == [3, 3, 2, 2]
    assert "_prepared" not in pickle.loads(pickle.dumps(objective)).__dict__
    assert "_prepared" not in pickle.loads(pickle.dumps(metric)).__dict__


def test_unresolved_balanced_alpha_is_prepared_on_each_call():
    objective = BoosterObjective(FocalLoss(0.0, "balanced"))
    margin = np.zeros(8)
    few = np.array([0, 0, 0, 0, 0, 0, 0, 1.0])
    even = np.array([0, 0, 0, 0, 1, 1, 1, 1.0])
    grad_few = objective.gradient_hessian(few, margin)[0].copy()
    grad_even = objective.gradient_hessian(even, margin)[0].copy()
    np.testing.assert_allclose(grad_few[-1], -0.5 * 7 / 8)  # alpha_1 = 7/8 on the first call's labels
    np.testing.assert_allclose(grad_even[-1], -0.5 * 1 / 2)  # 1/2 on the second's


def test_per_class_tuples_have_the_lengths_the_parallel_drivers_slice():
    """_cpu's parallel drivers pass the per-class tuple flat and rebuild it as args[3:10] / args[3:7]."""
    assert len(prepare_loss(FocalLoss(), None).per_class) == 7
    assert len(prepare_loss(FocalLoss(2.0, None), 3).per_class) == 4
