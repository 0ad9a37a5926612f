"""What both imbalanced-classification examples share: three models, one table.

The three models use the same booster, the same tree settings and early
stopping on the same validation rows, each on its own loss:

* ``log loss``: the booster's own classifier with its built-in binary log loss;
* ``class weights``: the same with the positives weighted by
  ``n_negative / n_positive`` (``scale_pos_weight``; the validation rows are
  weighted alike), the usual fix for imbalance;
* ``focal``: :class:`focal_boost.FocalBoostClassifier`.

Each is scored on held-out rows by average precision, ROC AUC, recall at a
fixed precision, Brier score and log loss of its probabilities (the scores of
``focal-boost train``, :func:`focal_boost.metrics.summary`), averaged
over several stratified splits (a rare class makes one split's scores noisy;
"AP sd" is the split-to-split standard deviation of average precision).
"""

from __future__ import annotations

import argparse
import inspect
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from focal_boost import FocalBoostClassifier, installed_backends
from focal_boost.metrics import summary


def installed_backend(preferred: str | None = None) -> str:
    """``preferred`` if given, else the first installed booster (XGBoost first)."""
    if preferred is not None:
        return preferred
    installed = installed_backends()
    if not installed:
        raise SystemExit("this example needs a booster: pip install 'focal-boost[xgboost]' (or [lightgbm])")
    return installed[0]


def argument_parser(description: str, *, splits: int) -> argparse.ArgumentParser:
    """The options both examples take: booster, gamma, alpha, number of splits."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--backend", choices=["xgboost", "lightgbm"], default=None)
    parser.add_argument("--gamma", type=float, default=2.0)
    parser.add_argument("--alpha", type=float, default=None)
    parser.add_argument("--splits", type=int, default=splits)
    return parser


@dataclass
class Settings:
    """Tree settings shared by the three models."""

    backend: str
    learning_rate: float = 0.05
    max_depth: int = 4
    max_rounds: int = 2000
    early_stopping_rounds: int = 50
    n_jobs: int = 2
    random_state: int = 0


def _builtin(settings: Settings, positive_weight: float) -> Any:
    common = {
        "n_estimators": settings.max_rounds,
        "learning_rate": settings.learning_rate,
        "max_depth": settings.max_depth,
        "n_jobs": settings.n_jobs,
        "random_state": settings.random_state,
        "scale_pos_weight": positive_weight,
    }
    if settings.backend == "xgboost":
        import xgboost as xgb

        return xgb.XGBClassifier(
            **common,
            tree_method="hist",
            enable_categorical=True,
            early_stopping_rounds=settings.early_stopping_rounds,
        )
    import lightgbm as lgb

    # LightGBM grows leaf-wise; 2**depth leaves is a depth-wise tree's size.
    return lgb.LGBMClassifier(**common, num_leaves=2**settings.max_depth, verbose=-1)


def _fit_builtin(model: Any, settings: Settings, fit: tuple, valid: tuple, positive_weight: float) -> None:
    X_valid, y_valid = valid
    weight_valid = np.where(y_valid == 1, positive_weight, 1.0)
    if settings.backend == "xgboost":
        model.fit(*fit, eval_set=[valid], sample_weight_eval_set=[weight_valid], verbose=False)
        return
    import lightgbm as lgb

    callbacks = [lgb.early_stopping(settings.early_stopping_rounds, verbose=False)]
    if "eval_X" in inspect.signature(model.fit).parameters:  # LightGBM >= 4.7 deprecates eval_set
        evaluation = {"eval_X": (X_valid,), "eval_y": (y_valid,)}
    else:
        evaluation = {"eval_set": [valid]}
    model.fit(*fit, **evaluation, eval_sample_weight=[weight_valid], callbacks=callbacks)


def _focal(settings: Settings, gamma: float, alpha: Any) -> FocalBoostClassifier:
    return FocalBoostClassifier(
        backend=settings.backend,
        gamma=gamma,
        alpha=alpha,
        n_estimators=settings.max_rounds,
        learning_rate=settings.learning_rate,
        max_depth=settings.max_depth,
        num_leaves=2**settings.max_depth if settings.backend == "lightgbm" else None,
        early_stopping_rounds=settings.early_stopping_rounds,
        n_jobs=settings.n_jobs,
        random_state=settings.random_state,
    )


def _rounds(model: Any) -> int:
    if isinstance(model, FocalBoostClassifier):
        return model.best_iteration_
    if hasattr(model, "get_booster"):  # XGBoost: best_iteration counts from 0
        return int(model.best_iteration) + 1
    return int(model.best_iteration_ or model.n_estimators)  # LightGBM: from 1; 0 without stopping


def compare(
    X: Any,
    y: np.ndarray,
    *,
    settings: Settings,
    gamma: float = 2.0,
    alpha: Any = None,
    precision: float = 0.9,
    test_size: float = 0.3,
    n_splits: int = 3,
) -> list[dict[str, Any]]:
    """The three models' mean scores over ``n_splits`` stratified train/test splits of ``X, y``."""

    def take(part: np.ndarray) -> Any:
        return X.iloc[part] if hasattr(X, "iloc") else X[part]

    names = ["log loss", "class weights", f"focal (gamma={gamma:g}, alpha={alpha})"]
    scores: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    rows = np.arange(len(y))
    for split in range(n_splits):
        seed = settings.random_state + split
        train, test = train_test_split(rows, test_size=test_size, stratify=y, random_state=seed)
        fit, valid = train_test_split(train, test_size=0.25, stratify=y[train], random_state=seed)
        n_positive = int(y[fit].sum())
        positive_weight = (len(fit) - n_positive) / n_positive
        for name in names:
            start = time.perf_counter()
            if name.startswith("focal"):
                model = _focal(settings, gamma, alpha).fit(
                    take(fit), y[fit], eval_set=[(take(valid), y[valid])]
                )
            else:
                weight = positive_weight if name == "class weights" else 1.0
                model = _builtin(settings, weight)
                _fit_builtin(model, settings, (take(fit), y[fit]), (take(valid), y[valid]), weight)
            seconds = time.perf_counter() - start
            # The command-line tool's scores, but the focal loss (which only the focal model minimises).
            scored = summary(y[test], model.predict_proba(take(test)), [0, 1], precision=precision)
            del scored["focal loss"]
            scores[name].append({"rounds": _rounds(model), **scored, "seconds": seconds})
    table = []
    for name, runs in scores.items():
        means = {key: float(np.mean([run[key] for run in runs])) for key in runs[0]}
        spread = float(np.std([run["average precision"] for run in runs], ddof=1)) if len(runs) > 1 else 0.0
        table.append({"model": name, "rounds": means.pop("rounds"), **_after_first(means, "AP sd", spread)})
    return table


def _after_first(scores: dict[str, float], name: str, value: float) -> dict[str, float]:
    """``scores`` with ``name: value`` inserted after the first entry (average precision)."""
    items = list(scores.items())
    return dict([items[0], (name, value), *items[1:]])


def print_table(results: list[dict[str, Any]], *, title: str) -> None:
    """The scores as a fixed-width table: higher is better for average precision,
    recall and ROC AUC, lower for Brier score and log loss."""
    columns = list(results[0])[1:]
    width = max(len(row["model"]) for row in results) + 2
    print(title)
    sizes = {column: max(len(column), 6) + 2 for column in columns}
    print("model".ljust(width) + "".join(f"{column:>{sizes[column]}}" for column in columns))
    for row in results:
        cells = [f"{row[column]:>{sizes[column]}.{0 if column == 'rounds' else 4}f}" for column in columns]
        print(row["model"].ljust(width) + "".join(cells))
