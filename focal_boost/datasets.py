"""Imbalanced data sets that need no download: for examples, tests and the demo.

:func:`make_transactions` simulates card transactions with rare fraud;
:func:`load_screening` is scikit-learn's breast-cancer data (Wisconsin
diagnostic) with the malignant cases thinned to a screening-like prevalence.
Both return a :class:`sklearn.utils.Bunch` like scikit-learn's loaders.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.optimize
from sklearn.utils import Bunch, check_random_state

from focal_boost._util.extras import require

__all__ = ["load_screening", "make_transactions"]

MERCHANT_CATEGORIES = (
    "grocery",
    "fuel",
    "restaurant",
    "travel",
    "electronics",
    "online_marketplace",
    "gambling",
    "pharmacy",
)
#: How much each merchant category raises the odds of fraud (log-odds).
_MERCHANT_RISK = np.array([0.0, 0.2, -0.2, 0.6, 1.2, 1.0, 1.6, -0.4])
#: Scale of the fraud log-odds: how separable fraud is (the best possible
#: average precision is about 0.54 at 1% fraud).
_SHARPNESS = 3.5
_MERCHANT_SHARE = np.array([0.30, 0.12, 0.20, 0.06, 0.07, 0.17, 0.02, 0.06])

TRANSACTION_FEATURES = (
    "amount",
    "hour",
    "merchant_category",
    "card_present",
    "foreign",
    "distance_from_home_km",
    "transactions_last_24h",
    "account_age_days",
    "amount_vs_usual",
)


def make_transactions(
    n_samples: int = 50_000,
    *,
    fraud_rate: float = 0.01,
    random_state: Any = None,
    as_frame: bool = False,
) -> Bunch:
    """Simulated card transactions, a few of them fraudulent.

    Each row is a transaction with a lognormal amount, the hour, a merchant
    category, whether the card was present, whether it was abroad, the
    distance from the cardholder's home, how many transactions the card made
    in the last 24 hours, the account's age and the amount relative to the
    cardholder's usual spend. Fraud follows a logistic model with
    interactions that trees find and a linear model does not (large amounts
    at night online, many transactions far from home on young accounts), and
    its intercept is solved so that the expected fraud share is
    ``fraud_rate``. Labels are drawn from that model, so the best possible
    classifier still errs: the problem is hard in the way real fraud is.

    Parameters
    ----------
    n_samples : int, default=50_000
    fraud_rate : float, default=0.01
        Expected share of fraudulent transactions, in (0, 0.5].
    random_state : int, RandomState or None
    as_frame : bool, default=False
        Also return a pandas DataFrame (``frame``; needs pandas), with
        ``merchant_category`` as a categorical column; ``data`` holds its
        integer codes either way.

    Returns
    -------
    Bunch with ``data`` (float64, ``(n_samples, 9)``), ``target`` (int, 1 for
    fraud), ``feature_names``, ``categorical_features`` (names), ``categories``
    (the merchant categories in code order), ``fraud_probability`` (the true
    probability of each row) and ``frame`` (a DataFrame with ``target``, or None).
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if not 0.0 < fraud_rate <= 0.5:
        raise ValueError(f"fraud_rate must lie in (0, 0.5], got {fraud_rate!r}")
    rng = check_random_state(random_state)
    n = int(n_samples)

    columns = _simulated_columns(rng, n)
    score = _fraud_score(columns)
    intercept = _intercept_for_rate(score, fraud_rate)
    probability = 1.0 / (1.0 + np.exp(-(score + intercept)))
    target = (rng.uniform(size=n) < probability).astype(np.int64)
    merchant = columns["merchant"]
    data = np.column_stack(
        [
            columns["amount"],
            columns["hour"].astype(float),
            merchant.astype(float),
            columns["card_present"],
            columns["foreign"],
            np.round(columns["distance"], 1),
            columns["transactions_24h"],
            np.round(columns["account_age"]),
            np.round(columns["amount_vs_usual"], 3),
        ]
    )
    frame = None
    if as_frame:
        frame = _transactions_frame(data, merchant, target)
    return Bunch(
        data=data,
        target=target,
        feature_names=list(TRANSACTION_FEATURES),
        categorical_features=["merchant_category"],
        categories=list(MERCHANT_CATEGORIES),
        fraud_probability=probability,
        frame=frame,
        DESCR=make_transactions.__doc__,
    )


def _simulated_columns(rng: np.random.RandomState, n: int) -> dict[str, np.ndarray]:
    """The raw columns of ``n`` simulated transactions, by name."""
    merchant = rng.choice(len(MERCHANT_CATEGORIES), size=n, p=_MERCHANT_SHARE)
    hour = rng.choice(24, size=n, p=_hour_profile())
    online = np.isin(merchant, [4, 5, 6])
    card_present = (rng.uniform(size=n) < np.where(online, 0.05, 0.9)).astype(float)
    foreign = (rng.uniform(size=n) < 0.04).astype(float)
    distance = rng.lognormal(np.where(foreign == 1, 6.5, 1.5), 1.0)
    transactions_24h = rng.poisson(2.0, size=n).astype(float)
    account_age = rng.exponential(900.0, size=n)
    amount_vs_usual = rng.lognormal(0.0, 0.6, size=n)
    amount = np.round(rng.lognormal(3.4, 1.0, size=n) * amount_vs_usual, 2)
    return {
        "merchant": merchant,
        "hour": hour,
        "online": online,
        "card_present": card_present,
        "foreign": foreign,
        "distance": distance,
        "transactions_24h": transactions_24h,
        "account_age": account_age,
        "amount_vs_usual": amount_vs_usual,
        "amount": amount,
    }


def _fraud_score(c: dict[str, np.ndarray]) -> np.ndarray:
    """The log-odds of fraud up to the intercept: the simulation's ground truth."""
    night = ((c["hour"] <= 4) | (c["hour"] >= 23)).astype(float)
    young = (c["account_age"] < 60).astype(float)
    return _SHARPNESS * (
        _MERCHANT_RISK[c["merchant"]]
        + 0.8 * np.log(c["amount_vs_usual"])
        + 1.4 * night * c["online"] * (c["amount"] > 150)
        + 0.9 * (1 - c["card_present"])
        + 0.7 * c["foreign"]
        + 0.25 * np.maximum(c["transactions_24h"] - 3, 0.0)
        + 1.2 * young * (c["distance"] > 50)
        + 0.5 * young
        - 0.6 * c["card_present"] * (c["distance"] < 10)
    )


def _hour_profile() -> np.ndarray:
    """Share of transactions per hour: few at night, most in the day and evening."""
    hours = np.arange(24)
    weight = 0.15 + np.exp(-0.5 * ((hours - 13.5) / 4.5) ** 2)
    return weight / weight.sum()


def _intercept_for_rate(score: np.ndarray, rate: float) -> float:
    """The intercept ``c`` with ``mean(sigmoid(score + c)) = rate``."""

    def excess(c: float) -> float:
        return float(np.mean(1.0 / (1.0 + np.exp(-(score + c))))) - rate

    return float(scipy.optimize.brentq(excess, -60.0, 60.0, xtol=1e-10))


def _transactions_frame(data: np.ndarray, merchant: np.ndarray, target: np.ndarray) -> Any:
    pd = require("pandas", "as_frame=True")
    frame = pd.DataFrame(data, columns=list(TRANSACTION_FEATURES))
    frame["merchant_category"] = pd.Categorical.from_codes(merchant, categories=list(MERCHANT_CATEGORIES))
    for name in ("hour", "transactions_last_24h"):
        frame[name] = frame[name].astype(np.int64)
    for name in ("card_present", "foreign"):
        frame[name] = frame[name].astype(bool)
    frame["target"] = target
    return frame


def load_screening(*, prevalence: float = 0.05, random_state: Any = 0, as_frame: bool = False) -> Bunch:
    """Breast-cancer screening: scikit-learn's Wisconsin diagnostic data with rare malignancy.

    The original data (569 fine-needle aspirates, 30 features, 212 malignant)
    is 37% malignant, far above what a screening programme sees. Keeping every
    benign case and a random subset of the malignant ones gives a data set of
    the requested ``prevalence`` where the positive class (``target == 1``) is
    *malignant* (the reverse of scikit-learn's coding, where 1 is benign).

    Parameters
    ----------
    prevalence : float, default=0.05
        Share of malignant cases to keep, in (0, 0.37].
    random_state : int, RandomState or None, default=0
        Which malignant cases are kept.
    as_frame : bool, default=False
        Also return a pandas DataFrame (``frame``; needs pandas).

    Returns
    -------
    Bunch with ``data``, ``target`` (1 = malignant), ``feature_names``,
    ``frame`` (or None) and ``DESCR``.
    """
    from sklearn.datasets import load_breast_cancer

    original = load_breast_cancer()
    malignant = original.target == 0
    n_benign = int(np.sum(~malignant))
    most = malignant.sum() / malignant.size
    if not 0.0 < prevalence <= most:
        raise ValueError(f"prevalence must lie in (0, {most:.3f}], got {prevalence!r}")
    n_malignant = max(1, round(prevalence * n_benign / (1.0 - prevalence)))
    rng = check_random_state(random_state)
    kept_malignant = rng.choice(np.flatnonzero(malignant), size=n_malignant, replace=False)
    rows = np.sort(np.concatenate([np.flatnonzero(~malignant), kept_malignant]))
    data = original.data[rows]
    target = malignant[rows].astype(np.int64)
    frame = None
    if as_frame:
        import pandas as pd

        frame = pd.DataFrame(data, columns=list(original.feature_names))
        frame["target"] = target
    return Bunch(
        data=data,
        target=target,
        feature_names=list(original.feature_names),
        frame=frame,
        DESCR=load_screening.__doc__,
    )
