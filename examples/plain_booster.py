"""Serve a focal model with plain XGBoost or LightGBM: no focal_boost where it is scored.

``FocalBoostClassifier.export_booster`` writes a booster that XGBoost or
LightGBM loads by itself. Its raw margin is the model's
(``decision_function``), its plain ``predict`` the sigmoid or softmax of it:
the raw probabilities. The model's default probabilities are
posterior-corrected (focal loss pulls scores towards 1/2 and ``alpha`` shifts
them); ``focal_posterior`` below does that with Python's ``math`` alone, from
the margin and the loss's ``gamma`` and ``alpha`` (``model.loss_``; the
exported booster also names them: XGBoost's booster attribute, LightGBM's
last line ``focal_boost_export``).

    python examples/plain_booster.py [--backend lightgbm]
"""

from __future__ import annotations

# --8<-- [start:posterior]
import math


def _log_h(s: float, gamma: float) -> float:
    """``log h_gamma(p)`` at ``p = sigmoid(s)``.

    ``h_gamma(p) = p / ((1-p)^(gamma-1) ((1-p) - gamma p log p))``, in a form stable for any finite ``s``.
    """
    a = abs(s)
    t = math.exp(-a)
    log1p_t = math.log1p(t)
    if s >= 0.0:
        p, ell, log_q = 1.0 / (1.0 + t), log1p_t, -(a + log1p_t)
        ratio = log1p_t * (1.0 + t) / t if t > 1e-300 else 1.0  # ell / (1 - p) without cancellation
    else:
        p, ell, log_q = t / (1.0 + t), a + log1p_t, -log1p_t
        ratio = ell * (1.0 + t)
    return -ell - gamma * log_q - math.log1p(gamma * p * ratio)


def focal_posterior(margin: float | list[float], gamma: list[float], alpha: list[float]) -> list[float]:
    """One row's class probabilities from its margin (a number for binary, K numbers for multiclass).

    ``gamma`` and ``alpha`` have one value per class (binary: negative, then
    positive), as ``model.loss_`` resolves them: ``alpha`` None is all ones, a
    number ``a`` is ``[1 - a, a]``.
    """
    if isinstance(margin, (int, float)):  # binary: the posterior's log-odds, then the sigmoid
        logit = (_log_h(margin, gamma[1]) - math.log(alpha[1])) - (
            _log_h(-margin, gamma[0]) - math.log(alpha[0])
        )
        positive = 1.0 / (1.0 + math.exp(-logit)) if logit >= 0 else math.exp(logit) / (1.0 + math.exp(logit))
        return [1.0 - positive, positive]
    weights = []
    for k, z in enumerate(margin):  # each class against the rest: s_k = z_k - logsumexp of the others
        rest = [margin[j] for j in range(len(margin)) if j != k]
        top = max(rest)
        s = z - top - math.log(sum(math.exp(r - top) for r in rest))
        weights.append(_log_h(s, gamma[k]) - math.log(alpha[k]))
    top = max(weights)
    total = sum(math.exp(w - top) for w in weights)
    return [math.exp(w - top) / total for w in weights]


# --8<-- [end:posterior]


def main(argv: list[str] | None = None) -> dict[str, float]:
    import argparse
    import json
    import pathlib
    import tempfile

    import numpy as np
    from sklearn.datasets import make_classification

    from focal_boost import FocalBoostClassifier

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["xgboost", "lightgbm"], default="xgboost")
    args = parser.parse_args(argv)
    X, y = make_classification(5000, n_features=10, weights=[0.95], random_state=0)
    model = FocalBoostClassifier(backend=args.backend, gamma=2.0, alpha=0.25, random_state=0).fit(X, y)
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / ("model.json" if args.backend == "xgboost" else "model.txt")
        model.export_booster(path)
        if args.backend == "xgboost":  # from here on: XGBoost alone
            import xgboost as xgb

            booster = xgb.Booster(model_file=str(path))
            margin = booster.predict(xgb.DMatrix(X), output_margin=True)
            loss = json.loads(booster.attr("focal_boost_export"))
        else:
            import lightgbm as lgb

            booster = lgb.Booster(model_file=str(path))
            margin = booster.predict(X, raw_score=True)
            line = next(x for x in path.read_text().splitlines() if x.startswith("focal_boost_export:"))
            loss = json.loads(line.partition(":")[2])
    gamma, alpha = loss["gamma"], loss["alpha"]
    gamma = gamma if isinstance(gamma, list) else [gamma, gamma]
    alpha = [1.0, 1.0] if alpha is None else alpha if isinstance(alpha, list) else [1 - alpha, alpha]
    served = np.array([focal_posterior(float(m), gamma, alpha) for m in margin])
    differences = {
        "margin": float(np.max(np.abs(margin - model.decision_function(X)))),
        "probability": float(np.max(np.abs(served - model.predict_proba(X)))),
    }
    print(f"plain {args.backend} + focal_posterior vs FocalBoostClassifier.predict_proba:")
    print(f"  largest margin difference       {differences['margin']:.2e}")
    print(f"  largest probability difference  {differences['probability']:.2e}")
    return differences


if __name__ == "__main__":
    main()
