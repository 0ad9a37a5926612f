"""The examples run, and show what they claim, on a smaller problem."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
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
