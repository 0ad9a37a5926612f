"""The cost of explanations: ``FocalBoostClassifier.explain`` per 1,000 rows in each space.

    python benchmarks/explain.py [--repeats 7]

Both boosters, binary and multiclass (3 and 5 classes), 20 numeric features,
20,000 training rows, ``gamma=2``, 300 rounds of depth 4 without early
stopping (so every model has the same trees to walk); 1,000 rows explained in
the ``margin`` (the booster's TreeSHAP), ``log_odds`` (binary) and
``probability`` spaces, against ``predict_proba`` of the same rows and, with
shap installed, shap's ``TreeExplainer`` on the exported booster. The
calls interleave; the table gives medians in milliseconds and the ratio to
the margin space.
"""

from __future__ import annotations

import argparse
import importlib.util
import pathlib
import statistics
import tempfile
import time

import numpy as np

from focal_boost import FocalBoostClassifier


def _shap_on_export(model: FocalBoostClassifier, backend: str):
    """shap's own TreeExplainer on the plain booster of ``export_booster``, or None without shap."""
    try:
        import shap
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / ("model.json" if backend == "xgboost" else "model.txt")
        model.export_booster(path)
        if backend == "xgboost":
            import xgboost as xgb

            booster = xgb.Booster(model_file=str(path))
        else:
            import lightgbm as lgb

            booster = lgb.Booster(model_file=str(path))
    return shap.TreeExplainer(booster)


def run(backend: str, n_classes: int, repeats: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(21_000, 20))
    score = X[:, 0] + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] + rng.normal(size=len(X))
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1] ** 0.3))
    model = FocalBoostClassifier(
        backend=backend, gamma=2.0, n_estimators=300, max_depth=4, early_stopping_rounds=None, random_state=0
    ).fit(X[:20_000], y[:20_000])
    rows = X[20_000:]
    calls = {"predict_proba": lambda: model.predict_proba(rows)}
    spaces = ["margin", "log_odds", "probability"] if n_classes == 2 else ["margin", "probability"]
    for space in spaces:
        calls[space] = lambda space=space: model.explain(rows, space=space)
    shap = _shap_on_export(model, backend)
    if shap is not None:
        calls["shap.TreeExplainer, exported booster (margin)"] = lambda: shap(rows)
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():  # warm up
        call()
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            timings[name].append((time.perf_counter() - start) * 1e3)
    margin = statistics.median(timings["margin"])
    return [
        {
            "backend": backend,
            "classes": n_classes,
            "what": name,
            "ms": statistics.median(times),
            "ratio": statistics.median(times) / margin,
        }
        for name, times in timings.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print("| booster | classes | per 1,000 rows | median (ms) | / margin space |")
    print("|---|---:|---|---:|---:|")
    for backend in ("xgboost", "lightgbm"):
        if importlib.util.find_spec(backend) is None:
            continue
        for n_classes in (2, 3, 5):
            for row in run(backend, n_classes, args.repeats):
                print(
                    f"| {row['backend']} | {row['classes']} | {row['what']} | {row['ms']:.1f} "
                    f"| {row['ratio']:.2f}x |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
