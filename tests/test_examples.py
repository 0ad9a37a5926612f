"""The examples run, and show what they claim, on a smaller problem."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import brier_score_loss

from focal_boost import FocalLoss

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quickstart_newton_booster_and_posterior_correction():
    quickstart = _load("quickstart")
    X, y = make_classification(n_samples=4000, n_features=10, weights=[0.95], flip_y=0.01, random_state=3)
    X_train, y_train, X_test, y_test = X[:2000], y[:2000], X[2000:], y[2000:]
    loss = FocalLoss(gamma=2.0, alpha=0.25)
    init, trees = quickstart.newton_boost(loss, X_train, y_train, n_rounds=15, depth=3)
    assert init == loss.init_score(y_train)
    margin = quickstart.decision_function(init, trees, X_test)
    raw = loss.predict_proba(margin)[:, 1]
    corrected = loss.posterior_proba(margin)[:, 1]
    # Boosting learned something, and the correction made the probabilities more honest.
    assert np.corrcoef(margin, y_test)[0, 1] > 0.3
    assert brier_score_loss(y_test, corrected) < brier_score_loss(y_test, raw)


BOOSTERS = [
    pytest.param(
        name,
        marks=pytest.mark.skipif(importlib.util.find_spec(name) is None, reason=f"{name} is not installed"),
    )
    for name in ("xgboost", "lightgbm")
]


def _rows(results):
    by_name = {row["model"].split(" (")[0]: row for row in results}
    assert set(by_name) == {"log loss", "class weights", "focal"}
    return by_name


@pytest.mark.parametrize("backend", BOOSTERS)
def test_fraud_detection_table(backend, capsys):
    fraud = _load("fraud_detection")
    rows = _rows(fraud.main(["--backend", backend, "--samples", "12000", "--splits", "1"]))
    printed = capsys.readouterr().out
    assert "Card fraud: 12,000 transactions" in printed
    assert "recall at precision 0.9" in printed
    assert "Brier score" in printed
    for row in rows.values():
        assert 0.1 < row["average precision"] <= 1.0
        assert 0.0 <= row["recall at precision 0.9"] <= 1.0
    # Class weighting inflates the probabilities; focal's posterior correction does not.
    assert rows["class weights"]["Brier score"] > 2 * rows["log loss"]["Brier score"]
    assert rows["focal"]["Brier score"] < 1.25 * rows["log loss"]["Brier score"]


@pytest.mark.parametrize("backend", BOOSTERS)
def test_medical_screening_table(backend, capsys):
    screening = _load("medical_screening")
    rows = _rows(screening.main(["--backend", backend, "--splits", "2"]))
    assert "malignant" in capsys.readouterr().out
    for row in rows.values():
        assert row["ROC AUC"] > 0.9
    assert rows["focal"]["Brier score"] < 1.5 * rows["log loss"]["Brier score"]


@pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None or importlib.util.find_spec("xgboost") is None,
    reason="needs Dask and XGBoost (pip install 'focal-boost[dask,xgboost]')",
)
def test_dask_cluster_example_on_its_own_cluster_and_on_an_address(capsys):
    from distributed import LocalCluster

    example = _load("dask_cluster")
    own = example.main(["--rows", "24000", "--blocks", "4"])
    assert own["workers"] == 2
    assert own["average precision"] > 0.15
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0") as cluster:
        remote = example.main([cluster.scheduler_address, "--rows", "24000", "--blocks", "4"])
    assert remote["workers"] == 1
    assert remote["average precision"] > 0.15
    assert "average precision" in capsys.readouterr().out


@pytest.mark.parametrize("backend", BOOSTERS)
def test_plain_booster_serves_the_models_probabilities(backend, capsys):
    differences = _load("plain_booster").main(["--backend", backend])
    assert differences["margin"] <= 1e-5
    assert differences["probability"] <= 1e-5
    assert "largest probability difference" in capsys.readouterr().out


@pytest.mark.parametrize("backend", BOOSTERS)
def test_explain_fraud_adds_up_and_finds_the_true_drivers(backend, capsys):
    explained = _load("explain_fraud").main(["--backend", backend, "--samples", "12000"])
    printed = capsys.readouterr().out
    assert "the riskiest of 6,000 held-out transactions" in printed
    assert max(explained["checks"].values()) < 1e-5
    importance = explained["importance"]
    top = sorted(importance, key=importance.get, reverse=True)[:3]
    assert set(top) == {"merchant_category", "amount_vs_usual", "card_present"}
