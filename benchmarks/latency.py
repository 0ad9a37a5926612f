"""Prediction latency: FocalBoostClassifier.predict_proba against the booster it wraps.

    python benchmarks/latency.py [--repeats 400]

Per call, for 1 and 1,000 rows: the estimator's ``predict_proba`` (posterior
probabilities) on a NumPy array and on a pandas frame with a text column,
against the booster alone (XGBoost ``inplace_predict``, LightGBM ``predict``
of the raw score, then the sigmoid in NumPy; on the array, and on the frame
with that column as a categorical of the training levels), the plain booster of
``export_booster`` loaded by the booster itself, a model loaded from its
model file, and the model's ONNX graph in ONNX Runtime (when installed, its
threads told not to spin between calls). The calls interleave, so that
machine noise hits all alike; the table gives the median in microseconds and
the ratio to the booster alone.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from focal_boost import FocalBoostClassifier, load_model


def _data(rows: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 20))
    shop = rng.choice(["grocery", "travel", "online", "fuel", "other"], size=rows)
    y = (X[:, 0] + X[:, 1] + 1.5 * (shop == "online") + rng.normal(size=rows) > 2.8).astype(int)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(20)])
    frame["shop"] = shop
    return frame, y


def _booster_alone(model: FocalBoostClassifier, backend: str) -> Callable[[np.ndarray], np.ndarray]:
    """The wrapped booster's raw margin and sigmoid: what predicting costs without the estimator."""
    booster, rounds = model.booster_, model.best_iteration_
    if backend == "xgboost":
        return lambda X: 1.0 / (1.0 + np.exp(-booster.inplace_predict(X, iteration_range=(0, rounds))))
    return lambda X: 1.0 / (1.0 + np.exp(-booster.predict(X, raw_score=True, num_iteration=rounds)))


def _plain(model: FocalBoostClassifier, backend: str, folder: Path) -> Callable[[np.ndarray], np.ndarray]:
    path = folder / ("plain.ubj" if backend == "xgboost" else "plain.txt")
    model.export_booster(path)
    if backend == "xgboost":
        import xgboost as xgb

        booster = xgb.Booster(model_file=str(path))
        return lambda X: booster.inplace_predict(X)
    import lightgbm as lgb

    booster = lgb.Booster(model_file=str(path))
    return lambda X: booster.predict(X)


def _onnx(model: FocalBoostClassifier) -> Callable[[np.ndarray], np.ndarray] | None:
    """The model's ONNX graph in ONNX Runtime (posterior probabilities), or None without onnxruntime."""
    try:
        import onnxruntime as ort

        from focal_boost.onnx import to_onnx
    except ImportError:
        return None
    options = ort.SessionOptions()
    # Its threads otherwise spin between calls, taking the cores the other paths are timed on.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(
        to_onnx(model).SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return lambda X: session.run(["probabilities"], {"X": X.astype(np.float32)})[0]


def _median_us(call: Callable[[], object], timings: list[float]) -> None:
    start = time.perf_counter()
    call()
    timings.append((time.perf_counter() - start) * 1e6)


def run(backend: str, repeats: int) -> list[dict[str, object]]:
    frame, y = _data(20_000)
    numeric = frame.drop(columns="shop").to_numpy()
    on_array = FocalBoostClassifier(backend=backend, gamma=2.0, random_state=0).fit(numeric, y)
    on_frame = FocalBoostClassifier(backend=backend, gamma=2.0, random_state=0).fit(frame, y)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        on_array.save_model(Path(folder) / "m.zip")
        loaded = load_model(Path(folder) / "m.zip")
        plain = _plain(on_array, backend, Path(folder))
        alone = _booster_alone(on_array, backend)
        alone_on_frame = _booster_alone(on_frame, backend)
        levels = on_frame._category_levels.levels["shop"]
        coded = frame.assign(shop=pd.Categorical(frame["shop"], categories=levels))
        for n in (1, 1000):
            X, F, C = numeric[:n], frame.iloc[:n], coded.iloc[:n]
            calls = {
                "booster alone (raw sigmoid)": lambda X=X: alone(X),
                "booster alone, frame with a categorical column": lambda C=C: alone_on_frame(C),
                "plain booster, exported (raw sigmoid)": lambda X=X: plain(X),
                "estimator, array": lambda X=X: on_array.predict_proba(X),
                "estimator loaded from its model file": lambda X=X: loaded.predict_proba(X),
                "estimator, frame with a text column": lambda F=F: on_frame.predict_proba(F),
            }
            served = _onnx(on_array)
            if served is not None:
                calls["ONNX Runtime (the model's probabilities)"] = lambda X=X, run=served: run(X)
            timings: dict[str, list[float]] = {name: [] for name in calls}
            for call in calls.values():  # warm up
                call()
            for _ in range(repeats):
                for name, call in calls.items():
                    _median_us(call, timings[name])
            base = statistics.median(timings["booster alone (raw sigmoid)"])
            for name in calls:
                median = statistics.median(timings[name])
                rows.append({"backend": backend, "rows": n, "path": name, "us": median})
                rows[-1]["ratio"] = median / base
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=400)
    parser.add_argument("--backends", nargs="+", default=["xgboost", "lightgbm"])
    args = parser.parse_args()
    print("| booster | rows per call | path | median (us) | / booster alone |")
    print("|---|---:|---|---:|---:|")
    for backend in args.backends:
        for row in run(backend, args.repeats):
            print(
                f"| {row['backend']} | {row['rows']:,} | {row['path']} "
                f"| {row['us']:.0f} | {row['ratio']:.2f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
