"""The prototypes behind the estimator's default (issue 22), against the same fair baselines.

Each prototype is built from the boosters' own classifiers (their built-in log
loss; a focal member where a prototype has one), so that the design could be
chosen before it was built into :class:`~focal_boost.FocalBoostClassifier`.
The folds, tree settings, scores and baselines are those of
``benchmarks/quality.py`` (imported from it); the protocol is 2 repeats of
stratified 3-fold CV, as in the issue's own trial.

Prototypes (``M`` models, margins averaged unless said otherwise):

* ``refit_g0``, ``refit_g0_s``: early-stop on the split, then refit on all rows
  for the best round count (``_s``: scaled by 1/0.9); ``refit_g1_s`` with
  focal loss (gamma 1); ``refit_pair``: the early-stopped model and the refit
  averaged (probabilities);
* ``cross_g0``, ``cross_g0m``: two log-loss models, each early-stopped on its
  own hold-out (two disjoint stratified 10% folds), probabilities / margins
  averaged; ``cross_g0_g1``: one of them focal (gamma 1); ``cross3_g0``:
  three; ``cross_refit``: their mean round count refit on all rows;
* ``cross_ss``, ``cross_row``, ``cross_col``, ``cross_mixed``: the same two
  members with row and column sampling (0.8/0.8), rows only, columns only,
  or one member without and one with both; ``cross_ss_g0_g1``: with focal
  loss for one member;
* ``cv5_g0``: 5-fold CV bagging (5 members, each early-stopped on its fold);
  ``gate5``: the same for gamma 0, 0.5, 1 and 2, the gamma kept by the
  folds' paired average precision: the focal gamma whose mean difference
  from log loss minus its standard error is largest and positive, else log
  loss;
* ``auto_before``: the former default, ``FocalBoostClassifier(gamma="auto")``
  of issue 16 (the mean posterior of a gamma-0 and a gamma-1 model
  early-stopped on the same split); only in the recorded runs (it needs that
  version of the package).

Run: ``python benchmarks/quality_prototypes.py`` (all sets and prototypes:
several hours on 2 cores); ``--report-only`` redoes the report from
``results/quality_prototypes_runs.jsonl``.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import quality

from focal_boost import FocalBoostClassifier

RESULTS = quality.RESULTS

Prototype = Callable[[str, Any, np.ndarray, int, int], tuple[Any, dict[str, Any]]]


def holdout(y: np.ndarray, seed: int, which: int) -> tuple[np.ndarray, np.ndarray]:
    """``(fit_rows, valid_rows)``: ``which`` 0 is the baselines' split, 1, 2, ... disjoint 10% folds."""
    if which == 0:
        return quality.split(y, seed)
    folds = StratifiedKFold(n_splits=round(1 / quality.VALIDATION_FRACTION), shuffle=True, random_state=seed)
    return list(folds.split(np.zeros(len(y)), y))[which - 1]


def early_stopped(booster: str, model: Any, X: Any, y: np.ndarray, rows: tuple) -> tuple[Any, int]:
    """``model`` fitted on ``rows[0]`` and early-stopped on ``rows[1]``; its best round."""
    fit, valid = rows
    if booster == "xgboost":
        model.fit(X.iloc[fit], y[fit], eval_set=[(X.iloc[valid], y[valid])], verbose=False)
        return model, int(model.best_iteration + 1)
    import lightgbm

    model.fit(
        X.iloc[fit], y[fit], eval_set=[(X.iloc[valid], y[valid])],
        callbacks=[lightgbm.early_stopping(quality.PATIENCE, verbose=False)],
    )  # fmt: skip
    return model, int(model.best_iteration_)


def focal_member(
    booster: str, gamma: float, X: Any, y: np.ndarray, rows: tuple, seed: int, threads: int, **extra
):
    fit, valid = rows
    model = FocalBoostClassifier(
        backend=booster, gamma=gamma, n_estimators=quality.ROUNDS, n_jobs=threads, random_state=seed,
        early_stopping_rounds=quality.PATIENCE, early_stopping_metric="log_loss", n_members=1,
        subsample=extra.get("subsample", 1.0), colsample_bytree=extra.get("colsample_bytree", 1.0),
        **quality.TREES,
    )  # fmt: skip
    model.fit(X.iloc[fit], y[fit], eval_set=[(X.iloc[valid], y[valid])])
    return model, int(model.best_iteration_)


def member(booster: str, gamma: float, X: Any, y: np.ndarray, rows: tuple, seed: int, threads: int, **extra):
    """One early-stopped member: the booster's own log loss at gamma 0, else a focal model."""
    if gamma == 0.0:
        return early_stopped(
            booster, quality.builtin(booster, seed, threads, early=True, **extra), X, y, rows
        )
    return focal_member(booster, gamma, X, y, rows, seed, threads, **extra)


class MarginAveraged:
    """The mean of several fitted classifiers' log-odds (binary): one tree ensemble, for log-loss members."""

    def __init__(self, models: list[Any]) -> None:
        self.models = models

    def predict_proba(self, X: Any) -> np.ndarray:
        logits = []
        for model in self.models:
            proba = np.clip(model.predict_proba(X), 1e-300, 1.0)
            logits.append(np.log(proba[:, 1]) - np.log(proba[:, 0]))
        p = 1.0 / (1.0 + np.exp(-np.mean(logits, axis=0)))
        return np.column_stack([1.0 - p, p])


def refit(scale: float, gamma: float = 0.0) -> Prototype:
    def fit(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
        _, rounds = member(booster, gamma, X, y, holdout(y, seed, 0), seed, threads)
        n = max(1, round(rounds * scale))
        if gamma == 0.0:
            model = quality.builtin(booster, seed, threads, early=False).set_params(n_estimators=n).fit(X, y)
        else:
            model = FocalBoostClassifier(
                backend=booster, gamma=gamma, n_estimators=n, n_jobs=threads, random_state=seed,
                early_stopping_rounds=None, n_members=1, colsample_bytree=1.0, **quality.TREES,
            ).fit(X, y)  # fmt: skip
        return model, {"rounds": rounds, "refit": n}

    return fit


def refit_pair(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
    stopped, rounds = member(booster, 0.0, X, y, holdout(y, seed, 0), seed, threads)
    n = max(1, round(rounds / (1 - quality.VALIDATION_FRACTION)))
    refitted = quality.builtin(booster, seed, threads, early=False).set_params(n_estimators=n).fit(X, y)
    return quality.Averaged([stopped, refitted]), {"rounds": rounds, "refit": n}


def cross(gammas: tuple[float, ...], *, margins: bool = False, sampling: tuple[dict, ...] = ()) -> Prototype:
    """One member per gamma, member k early-stopped on disjoint fold k (``sampling[k]``: its sampling)."""

    def fit(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
        models, rounds = [], []
        for k, gamma in enumerate(gammas):
            extra = sampling[k] if sampling else {}
            model, best = member(
                booster,
                gamma,
                X,
                y,
                holdout(y, seed, k + 1),
                seed + 1000 * k if extra else seed,
                threads,
                **extra,
            )
            models.append(model)
            rounds.append(best)
        return (MarginAveraged if margins else quality.Averaged)(models), {"rounds": rounds}

    return fit


def cross_refit(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
    rounds = [member(booster, 0.0, X, y, holdout(y, seed, k), seed, threads)[1] for k in (1, 2)]
    n = max(1, round(float(np.mean(rounds)) / (1 - quality.VALIDATION_FRACTION)))
    model = quality.builtin(booster, seed, threads, early=False).set_params(n_estimators=n).fit(X, y)
    return model, {"rounds": rounds, "refit": n}


def _folds(booster: str, X: Any, y: np.ndarray, seed: int, threads: int, gamma: float, k: int):
    """The ``k`` fold models of one gamma, each early-stopped on its fold, and their AP on it."""
    models, scores = [], []
    for fit_rows, valid_rows in StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(
        np.zeros(len(y)), y
    ):
        model, _ = member(booster, gamma, X, y, (fit_rows, valid_rows), seed, threads)
        models.append(model)
        scores.append(average_precision_score(y[valid_rows], model.predict_proba(X.iloc[valid_rows])[:, 1]))
    return models, np.array(scores)


def cv_bagging(k: int) -> Prototype:
    def fit(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
        return MarginAveraged(_folds(booster, X, y, seed, threads, 0.0, k)[0]), {}

    return fit


def gate(gammas: tuple[float, ...], k: int) -> Prototype:
    def fit(booster: str, X: Any, y: np.ndarray, seed: int, threads: int) -> tuple[Any, dict]:
        results = {gamma: _folds(booster, X, y, seed, threads, gamma, k) for gamma in gammas}
        chosen, margin = 0.0, 0.0  # the largest lower bound (mean - standard error) above log loss's
        for gamma in gammas[1:]:
            difference = results[gamma][1] - results[0.0][1]
            bound = difference.mean() - difference.std(ddof=1) / np.sqrt(k)
            if bound > margin:
                chosen, margin = gamma, bound
        info = {"gamma": chosen, "ap": {str(g): float(results[g][1].mean()) for g in gammas}}
        return MarginAveraged(results[chosen][0]), info

    return fit


SAMPLED = {"subsample": 0.8, "colsample_bytree": 0.8}
ROWS = {"subsample": 0.8, "colsample_bytree": 1.0}
COLUMNS = {"subsample": 1.0, "colsample_bytree": 0.8}
NONE = {"subsample": 1.0, "colsample_bytree": 1.0}

PROTOTYPES: dict[str, Prototype] = {
    "log_loss_es": quality.log_loss_es_method,
    "log_loss_pair": quality.log_loss_pair_method,
    "class_weight_es": quality.class_weight_es_method,
    "refit_g0": refit(1.0),
    "refit_g0_s": refit(1 / (1 - quality.VALIDATION_FRACTION)),
    "refit_g1_s": refit(1 / (1 - quality.VALIDATION_FRACTION), 1.0),
    "refit_pair": refit_pair,
    "cross_g0": cross((0.0, 0.0)),
    "cross_g0m": cross((0.0, 0.0), margins=True),
    "cross_g0_g1": cross((0.0, 1.0)),
    "cross3_g0": cross((0.0, 0.0, 0.0)),
    "cross_refit": cross_refit,
    "cross_ss": cross((0.0, 0.0), margins=True, sampling=(SAMPLED, SAMPLED)),
    "cross_ss_g0_g1": cross((0.0, 1.0), sampling=(SAMPLED, SAMPLED)),
    "cross_row": cross((0.0, 0.0), margins=True, sampling=(ROWS, ROWS)),
    "cross_col": cross((0.0, 0.0), margins=True, sampling=(COLUMNS, COLUMNS)),
    "cross_mixed": cross((0.0, 0.0), margins=True, sampling=(NONE, SAMPLED)),
    "cv5_g0": cv_bagging(5),
    "gate5": gate((0.0, 0.5, 1.0, 2.0), 5),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="*", default=None)
    parser.add_argument("--boosters", nargs="+", default=["xgboost", "lightgbm"])
    parser.add_argument("--methods", nargs="+", default=list(PROTOTYPES), choices=list(PROTOTYPES))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=pathlib.Path, default=RESULTS / "quality_prototypes_runs.jsonl")
    parser.add_argument("--report", type=pathlib.Path, default=RESULTS / "quality_prototypes.md")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    if not args.report_only:
        quality.run(args, PROTOTYPES)
    records = quality.read_runs(args.runs)
    methods = [m for m in [*PROTOTYPES, "auto_before"] if any(r["method"] == m for r in records)]
    text = quality.report(records, methods, headline=tuple(methods)).replace(
        "# The estimator against the careful user's baselines, on real imbalanced data",
        "# Prototypes of the default (issue 22), against the careful user's baselines",
    )
    args.report.write_text(text)
    print(f"wrote {args.report}")


if __name__ == "__main__":
    main()
