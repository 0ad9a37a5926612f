"""polars, pyarrow and Arrow-backed pandas frames: accepted wherever pandas is, predicting as pandas does;
date and time columns refused with one message."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from focal_boost import FocalBoostClassifier

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")
pytest.importorskip("narwhals")
BACKENDS = [
    pytest.param(
        name, marks=pytest.mark.skipif(importlib.util.find_spec(name) is None, reason=f"{name} missing")
    )
    for name in ("xgboost", "lightgbm")
]


def _polars(rows: int = 600, seed: int = 0):
    """Numbers with nulls, text with nulls, a categorical, an enum, booleans and integers with nulls."""
    rng = np.random.default_rng(seed)
    shop = rng.choice(["grocery", "travel", "online"], rows).tolist()
    for i in range(0, rows, 11):
        shop[i] = None
    amount = rng.normal(size=rows)
    frame = pl.DataFrame(
        {
            "amount": [None if i % 13 == 0 else float(v) for i, v in enumerate(amount)],
            "shop": shop,
            "colour": pl.Series(rng.choice(["red", "blue"], rows).tolist(), dtype=pl.Categorical),
            "size": pl.Series(rng.choice(["S", "M", "L"], rows).tolist(), dtype=pl.Enum(["S", "M", "L"])),
            "online": rng.random(rows) < 0.5,
            "count": [None if i % 17 == 0 else int(v) for i, v in enumerate(rng.integers(0, 9, rows))],
        }
    )
    score = np.nan_to_num(amount) + 1.5 * (np.array(shop, dtype=object) == "online") + rng.normal(size=rows)
    return frame, (score > 1.2).astype(int)


def _model(backend, X, y, eval_set=None):
    params = {"gamma": 2.0, "n_estimators": 30, "random_state": 0, "n_jobs": 1}
    return FocalBoostClassifier(backend=backend, **params).fit(X, y, eval_set=eval_set)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_polars_frame_fits_and_predicts_as_its_pandas_equivalent(backend):
    frame, y = _polars()
    equivalent = frame.to_pandas()  # object text, categories, float64 with NaN
    on_polars = _model(backend, frame, y, eval_set=[(frame[:200], y[:200])])
    on_pandas = _model(backend, equivalent, y, eval_set=[(equivalent[:200], y[:200])])
    assert list(on_polars.feature_names_in_) == ["amount", "shop", "colour", "size", "online", "count"]
    expected = on_pandas.predict_proba(equivalent)
    np.testing.assert_array_equal(on_polars.predict_proba(frame), expected)
    np.testing.assert_array_equal(on_polars.predict_proba(equivalent), expected)  # either kind, after either
    np.testing.assert_array_equal(on_pandas.predict_proba(frame), expected)
    explained = on_polars.explain(frame[:50])
    np.testing.assert_allclose(explained.output, on_pandas.decision_function(equivalent[:50]), atol=1e-5)
    assert (
        explained.display_data[0, 1] is None or explained.display_data[0, 1] != explained.display_data[0, 1]
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_arrow_backed_pandas_and_pyarrow_tables_predict_as_numpy_backed_pandas(backend):
    if int(pd.__version__.split(".")[0]) < 2:
        pytest.skip("pandas < 2.0 has no Arrow-backed frames (dtype_backend)")
    frame, y = _polars()
    equivalent = frame.to_pandas()
    arrow_backed = equivalent.convert_dtypes(dtype_backend="pyarrow")
    assert any(isinstance(dtype, pd.ArrowDtype) for dtype in arrow_backed.dtypes)
    reference = _model(backend, equivalent, y)
    expected = reference.predict_proba(equivalent)
    for other in (arrow_backed, pa.Table.from_pandas(equivalent, preserve_index=False)):
        np.testing.assert_array_equal(_model(backend, other, y).predict_proba(other), expected)
        np.testing.assert_array_equal(reference.predict_proba(other), expected)
    # An Arrow dictionary column is a categorical with the dictionary's levels in their order.
    shop = [None if pd.isna(v) else v for v in equivalent["shop"]]
    dictionary = equivalent.assign(
        shop=pd.array(shop, dtype=pd.ArrowDtype(pa.dictionary(pa.int32(), pa.string())))
    )
    levels = pa.array(dictionary["shop"].array).dictionary.to_pylist()
    categorical = equivalent.assign(shop=pd.Categorical(shop, categories=levels))
    expected = _model(backend, categorical, y).predict_proba(categorical)
    np.testing.assert_array_equal(_model(backend, dictionary, y).predict_proba(dictionary), expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_lazy_frame_is_refused_with_what_to_do(backend):
    frame, y = _polars(200)
    with pytest.raises(TypeError, match=r"X is a lazy LazyFrame: collect it into a data frame first"):
        _model(backend, frame.lazy(), y)
    model = _model(backend, frame, y)
    with pytest.raises(TypeError, match="collect it"):
        model.predict_proba(frame.lazy())


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["datetime64", "tz-aware", "timedelta", "period", "arrow-timestamp"])
def test_a_date_or_time_column_gets_one_clear_message(backend, kind, monkeypatch):
    hours = pd.date_range("2024-01-01", periods=200, freq="h")
    if kind == "arrow-timestamp":
        if int(pd.__version__.split(".")[0]) < 2:
            pytest.skip("pandas < 2.0 cannot cast to Arrow timestamps")
        column = pd.Series(hours).astype(pd.ArrowDtype(pa.timestamp("us")))
    else:
        column = {
            "datetime64": lambda: pd.Series(hours),
            "tz-aware": lambda: pd.Series(hours.tz_localize("Europe/Paris")),
            "timedelta": lambda: pd.Series(pd.to_timedelta(np.arange(200), unit="s")),
            "period": lambda: pd.Series(pd.period_range("2024-01", periods=200, freq="M")),
        }[kind]()
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"amount": rng.normal(size=200), "when": column})
    y = (rng.random(200) < 0.3).astype(int)
    from focal_boost._estimator import backends

    def never(*args, **kwargs):
        raise AssertionError("the booster must not run")

    monkeypatch.setattr(backends.BACKENDS[backend], "train", never)
    with pytest.raises(
        TypeError, match=r"column 'when' holds dates, times or durations \(.+\): the boosters"
    ):
        _model(backend, X, y)
    with pytest.raises(TypeError, match="column 'when' holds dates"):
        _model(backend, pl.from_pandas(X) if not isinstance(column.dtype, pd.PeriodDtype) else X, y)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_date_column_at_prediction_is_refused_too(backend):
    frame, y = _polars(200)
    model = _model(backend, frame, y)
    when = frame.with_columns(pl.Series("count", pd.date_range("2024-01-01", periods=200, freq="h")))
    with pytest.raises(TypeError, match="column 'count' holds dates"):
        model.predict_proba(when)


def test_the_booster_level_helpers_read_polars_frames_as_pandas():
    """LightGBM's own Arrow path has no dictionary type: the helpers go through pandas."""
    frame, y = _polars(400)
    equivalent = frame.to_pandas()
    categorical = equivalent[["amount", "colour", "size", "count"]]  # the boosters' own frames: no text
    polars_categorical = frame.select(["amount", "colour", "size", "count"])
    if importlib.util.find_spec("xgboost"):
        import xgboost as xgb

        import focal_boost.xgboost as fx
        from focal_boost import FocalLoss

        booster = fx.train(
            {}, xgb.DMatrix(categorical, label=y, enable_categorical=True), 10, loss=FocalLoss()
        )
        np.testing.assert_array_equal(
            fx.predict_proba(booster, polars_categorical), fx.predict_proba(booster, categorical)
        )
    if importlib.util.find_spec("lightgbm"):
        import lightgbm as lgb

        import focal_boost.lightgbm as fl
        from focal_boost import FocalLoss

        booster = fl.train({"verbose": -1}, lgb.Dataset(categorical, y), 10, loss=FocalLoss())
        np.testing.assert_array_equal(
            fl.predict_proba(booster, polars_categorical), fl.predict_proba(booster, categorical)
        )
