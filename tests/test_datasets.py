"""focal_boost.datasets: the built-in imbalanced data sets."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from focal_boost.datasets import MERCHANT_CATEGORIES, load_screening, make_transactions


def test_transactions_are_reproducible_and_rare():
    first = make_transactions(20_000, fraud_rate=0.02, random_state=5)
    again = make_transactions(20_000, fraud_rate=0.02, random_state=5)
    np.testing.assert_array_equal(first.data, again.data)
    np.testing.assert_array_equal(first.target, again.target)
    assert first.data.shape == (20_000, len(first.feature_names))
    # The intercept is solved for the expected rate; the draw is within sampling error of it.
    assert first.fraud_probability.mean() == pytest.approx(0.02, rel=1e-6)
    assert abs(first.target.mean() - 0.02) < 4 * np.sqrt(0.02 * 0.98 / 20_000)
    merchant = first.data[:, first.feature_names.index("merchant_category")]
    assert set(np.unique(merchant)) == set(range(len(MERCHANT_CATEGORIES)))
    # Informative but noisy: the true probability ranks fraud far above chance, far from perfectly.
    oracle = average_precision_score(first.target, first.fraud_probability)
    assert 0.3 < oracle < 0.8


def test_transactions_as_frame_has_a_categorical_column():
    pd = pytest.importorskip("pandas")
    bunch = make_transactions(500, random_state=0, as_frame=True)
    frame = bunch.frame
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == [*bunch.feature_names, "target"]
    assert isinstance(frame["merchant_category"].dtype, pd.CategoricalDtype)
    codes = frame["merchant_category"].cat.codes.to_numpy()
    np.testing.assert_array_equal(codes, bunch.data[:, 2].astype(int))
    np.testing.assert_array_equal(frame["target"], bunch.target)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_samples": 0}, "n_samples"),
        ({"fraud_rate": 0.0}, "fraud_rate"),
        ({"fraud_rate": 0.7}, "fraud_rate"),
    ],
)
def test_transactions_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_transactions(**{"n_samples": 100, **kwargs})


def test_screening_prevalence_and_coding():
    bunch = load_screening(prevalence=0.05)
    assert bunch.data.shape == (bunch.target.size, 30)
    assert bunch.target.mean() == pytest.approx(0.05, abs=0.005)
    assert (bunch.target == 0).sum() == 357  # every benign case kept
    # 1 means malignant: malignant tumours are larger (mean radius).
    radius = bunch.data[:, bunch.feature_names.index("mean radius")]
    assert radius[bunch.target == 1].mean() > radius[bunch.target == 0].mean() + 3
    with pytest.raises(ValueError, match="prevalence"):
        load_screening(prevalence=0.5)
