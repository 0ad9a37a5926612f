"""Why was this transaction flagged? Exact reasons from a focal fraud model.

A ``FocalBoostClassifier`` (focal loss, ``gamma=2``, ``alpha=0.25``) on simulated card transactions
(``focal_boost.datasets.make_transactions``: a text-like merchant column, no
download) explains its riskiest held-out transaction in the three spaces of
``model.explain``: the focal margin (the booster's exact TreeSHAP, initial
score in the base value), the log-odds and the probability of
``predict_proba``. Each adds up exactly to the model's own output; the table
shows the check. Then the features the model leans on most (mean absolute
contribution): the largest terms of the data's true fraud model are the
merchant's risk, the amount against the card's usual spend and whether the
card was present.

    python examples/explain_fraud.py [--backend lightgbm] [--samples 30000]
"""

from __future__ import annotations

import argparse
import importlib.util

import numpy as np

from focal_boost import FocalBoostClassifier
from focal_boost.datasets import make_transactions


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    installed = [name for name in ("xgboost", "lightgbm") if importlib.util.find_spec(name) is not None]
    parser.add_argument(
        "--backend", choices=["xgboost", "lightgbm"], default=installed[0] if installed else None
    )
    parser.add_argument("--samples", type=int, default=30_000)
    args = parser.parse_args(argv)
    bunch = make_transactions(args.samples, fraud_rate=0.02, random_state=0, as_frame=True)
    X = bunch.frame.drop(columns="target")
    X["merchant_category"] = X["merchant_category"].astype(str)  # text, as read from a file
    y = bunch.target
    train, test = slice(0, len(X) // 2), slice(len(X) // 2, None)
    model = FocalBoostClassifier(backend=args.backend, gamma=2.0, alpha=0.25, random_state=0)
    model.fit(X.iloc[train], y[train])
    X_test = X.iloc[test]
    proba = model.predict_proba(X_test)[:, 1]
    riskiest = int(np.argmax(proba))
    row = X_test.iloc[[riskiest]]
    shown = row.iloc[0].tolist()
    chance = proba[riskiest]
    print(f"{args.backend}: the riskiest of {len(X_test):,} held-out transactions, P(fraud) {chance:.3f}")
    totals = {}
    for space in ("margin", "log_odds", "probability"):
        explained = model.explain(row, space=space)
        values = explained.values[0]
        top = np.argsort(-np.abs(values))[:4]
        reasons = ", ".join(f"{explained.feature_names[i]}={shown[i]} {values[i]:+.3f}" for i in top)
        totals[space] = (float(explained.base_values[0]), float(explained.output[0]))
        print(f"  {space:<11} base {explained.base_values[0]:+.4f} -> {explained.output[0]:+.4f}: {reasons}")
    decision = float(model.decision_function(row)[0])
    log_odds = float(np.log(proba[riskiest]) - np.log1p(-proba[riskiest]))
    checks = {
        "margin": abs(totals["margin"][1] - decision),
        "log_odds": abs(totals["log_odds"][1] - log_odds),
        "probability": abs(totals["probability"][1] - proba[riskiest]),
    }
    print("  each adds up to the model's own output: largest difference", f"{max(checks.values()):.1e}")
    everything = model.explain(X_test, space="probability")
    importance = everything.importance()
    order = np.argsort(-importance)
    print("  features by mean |contribution to P(fraud)| over the held-out rows:")
    for i in order:
        print(f"    {everything.feature_names[i]:<24} {importance[i]:.5f}")
    return {
        "checks": checks,
        "importance": dict(zip(everything.feature_names, importance.tolist(), strict=True)),
    }


if __name__ == "__main__":
    main()
