"""Which positive Hessian policy should be the default? Evidence from real training runs.

For XGBoost and LightGBM, each positive policy (``"upper"``, ``"clip"``) and
``gamma`` in {1, 2, 5}, train on imbalanced data sets (synthetic and real,
binary and multiclass) over several random train/test splits, and record:

* **convergence**: the training focal loss after 25, 50, 100 and all rounds
  (every policy minimises the same loss; only the Newton step differs), and
  the rounds each policy needs to reach the worse of the two positive
  policies' final training losses (the slower one needs all of them);
* **held-out quality**: each data set is split 60/20/20 (stratified); the
  best round is the one with the lowest validation focal loss (what early
  stopping picks), and the test split at that round gives the average
  precision of the posterior-corrected probabilities (macro one-vs-rest for
  multiclass) and the mean focal loss;
* whether a run produced a non-finite prediction.

``"exact"`` (the true, sometimes negative, Hessian) is run too, for context:
it shows what happens without a policy. Both boosters use their usual
defaults apart from the learning rate, depth/leaves and rounds below.

Run: ``python benchmarks/hessian_policy.py [--splits 3] [--rounds 200]
[--json curves.json]``; the summary table goes to stdout as Markdown, the
per-round curves (optional) to JSON for plotting.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
import warnings
from collections import defaultdict
from collections.abc import Callable

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.metrics import average_precision_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import label_binarize

from focal_boost import FocalLoss

POLICIES = ("upper", "clip", "exact")
GAMMAS = (1.0, 2.0, 5.0)
CHECKPOINTS = (25, 50, 100)


def _synthetic_rare(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """1% positives, informative features, a little label noise."""
    return make_classification(
        n_samples=30_000,
        n_features=20,
        n_informative=8,
        n_redundant=4,
        weights=[0.99],
        flip_y=0.005,
        class_sep=1.0,
        random_state=seed,
    )


def _synthetic_hard(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """5% positives in three clusters, weak separation, 3% label noise."""
    return make_classification(
        n_samples=30_000,
        n_features=30,
        n_informative=6,
        n_redundant=6,
        n_clusters_per_class=3,
        weights=[0.95],
        flip_y=0.03,
        class_sep=0.6,
        random_state=seed,
    )


def _digits_eight(seed: int) -> tuple[np.ndarray, np.ndarray]:  # noqa: ARG001 (fixed data)
    """Real: handwritten digits, '8' (the digit most confused with others) vs the rest, 10%."""
    X, y = load_digits(return_X_y=True)
    return X, (y == 8).astype(np.float64)


def _breast_cancer_rare(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Real: breast cancer, malignant cases subsampled to 1 in 10 (40 of 397)."""
    X, y = load_breast_cancer(return_X_y=True)
    malignant = (y == 0).astype(np.float64)  # sklearn codes malignant as 0
    rng = np.random.default_rng(seed)
    keep = np.flatnonzero(malignant == 0)
    keep = np.concatenate([keep, rng.choice(np.flatnonzero(malignant), size=40, replace=False)])
    return X[keep], malignant[keep]


def _synthetic_multiclass(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Four classes at 85/10/4/1%, weak separation, 2% label noise."""
    return make_classification(
        n_samples=30_000,
        n_features=20,
        n_informative=8,
        n_redundant=4,
        n_classes=4,
        n_clusters_per_class=2,
        weights=[0.85, 0.10, 0.04, 0.01],
        flip_y=0.02,
        class_sep=0.8,
        random_state=seed,
    )


DATASETS: dict[str, Callable[[int], tuple[np.ndarray, np.ndarray]]] = {
    "synthetic 1%": _synthetic_rare,
    "synthetic hard 5%": _synthetic_hard,
    "digits '8' 10%": _digits_eight,
    "breast cancer 10%": _breast_cancer_rare,
    "synthetic 4-class": _synthetic_multiclass,
}


def average_precision(y: np.ndarray, proba: np.ndarray) -> float:
    """Average precision of the positive class; macro one-vs-rest for multiclass."""
    if proba.shape[1] == 2:
        return float(average_precision_score(y, proba[:, 1]))
    onehot = label_binarize(y, classes=np.arange(proba.shape[1]))
    return float(average_precision_score(onehot, proba, average="macro"))


def run_xgboost(split: dict, loss: FocalLoss, rounds: int, n_classes: int) -> dict:
    import xgboost as xgb

    import focal_boost.xgboost as fx

    params = {"max_depth": 6, "eta": 0.1, "tree_method": "hist", "nthread": 2, "seed": 0}
    if n_classes > 2:
        params["num_class"] = n_classes
    dtrain = xgb.DMatrix(split["X_train"], label=split["y_train"])
    dvalid = xgb.DMatrix(split["X_valid"], label=split["y_valid"])
    history: dict = {}
    booster = fx.train(
        params,
        dtrain,
        rounds,
        loss=loss,
        evals=[(dtrain, "train"), (dvalid, "valid")],
        evals_result=history,
        verbose_eval=False,
    )
    train, valid = history["train"]["focal_loss"], history["valid"]["focal_loss"]
    best = int(np.nanargmin(valid)) + 1 if _finite(valid) else rounds
    margin = fx.predict_margin(booster, split["X_test"], iteration_range=(0, best))
    return {"train": train, "valid": valid, "best_round": best, "test_margin": margin}


def run_lightgbm(split: dict, loss: FocalLoss, rounds: int, n_classes: int) -> dict:
    import lightgbm as lgb

    import focal_boost.lightgbm as fl

    params = {"num_leaves": 63, "learning_rate": 0.1, "num_threads": 2, "seed": 0, "verbose": -1}
    if n_classes > 2:
        params["num_class"] = n_classes
    train_set = lgb.Dataset(split["X_train"], label=split["y_train"])
    valid_set = lgb.Dataset(split["X_valid"], label=split["y_valid"], reference=train_set)
    history: dict = {}
    booster = fl.train(
        params,
        train_set,
        rounds,
        loss=loss,
        valid_sets=[train_set, valid_set],
        valid_names=["train", "valid"],
        callbacks=[lgb.record_evaluation(history)],
    )
    train, valid = history["train"]["focal_loss"], history["valid"]["focal_loss"]
    best = int(np.nanargmin(valid)) + 1 if _finite(valid) else rounds
    margin = fl.predict_margin(booster, split["X_test"], num_iteration=best)
    return {"train": train, "valid": valid, "best_round": best, "test_margin": margin}


BOOSTERS = {"XGBoost": run_xgboost, "LightGBM": run_lightgbm}


def _finite(values) -> bool:
    return all(math.isfinite(v) for v in values)


def _split(X: np.ndarray, y: np.ndarray, seed: int) -> dict:
    """Stratified 60/20/20 train/validation/test split, float32 features (as boosters bin them)."""
    X = X.astype(np.float32)
    X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.4, stratify=y, random_state=seed)
    X_valid, X_test, y_valid, y_test = train_test_split(
        X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=seed
    )
    return {
        "X_train": X_train,
        "y_train": y_train,
        "X_valid": X_valid,
        "y_valid": y_valid,
        "X_test": X_test,
        "y_test": y_test,
    }


def study(splits: int, rounds: int, boosters: list[str], datasets: list[str]) -> list[dict]:
    """One record per (booster, data set, gamma, policy, split)."""
    records = []
    for data_name in datasets:
        for seed in range(splits):
            X, y = DATASETS[data_name](seed)
            n_classes = int(np.max(y)) + 1
            split = _split(X, y, seed)
            for booster_name in boosters:
                for gamma in GAMMAS:
                    group = []
                    for policy in POLICIES:
                        loss = FocalLoss(gamma, 0.25 if n_classes == 2 else None, hessian=policy)
                        start = time.perf_counter()
                        with warnings.catch_warnings(), np.errstate(all="ignore"):
                            warnings.simplefilter("ignore")
                            result = BOOSTERS[booster_name](split, loss, rounds, n_classes)
                        seconds = time.perf_counter() - start
                        margin = result.pop("test_margin")
                        finite = bool(np.all(np.isfinite(margin))) and _finite(result["train"])
                        y_test = split["y_test"]
                        proba = loss.posterior_proba(margin) if finite else None
                        record = {
                            "booster": booster_name,
                            "data": data_name,
                            "gamma": gamma,
                            "policy": policy,
                            "split": seed,
                            "seconds": seconds,
                            "finite": finite,
                            "test_ap": average_precision(y_test, proba) if finite else math.nan,
                            "test_loss": float(np.mean(loss.loss(y_test, margin))) if finite else math.nan,
                            **result,
                        }
                        group.append(record)
                    _add_rounds_to_target(group)
                    records.extend(group)
            print(f"  done: {data_name}, split {seed}", flush=True)
    return records


def _add_rounds_to_target(group: list[dict]) -> None:
    """Rounds until each run's training loss reaches the worse final loss of the positive policies.

    The slower policy gets there at its last round by definition; the faster
    one earlier, and the ratio of the two is the speed-up in rounds.
    """
    finals = [r["train"][-1] for r in group if r["finite"] and r["policy"] != "exact"]
    target = max(finals) if finals else math.nan
    for record in group:
        curve = np.asarray(record["train"])
        reached = np.flatnonzero(np.isfinite(curve) & (curve <= target))
        record["rounds_to_target"] = int(reached[0]) + 1 if reached.size else None


def _mean(values) -> float:
    values = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.fmean(values) if values else math.nan


def summarise(records: list[dict], rounds: int) -> str:
    """Markdown table: per booster, data set, gamma and policy, means over splits."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for record in records:
        groups[(record["booster"], record["data"], record["gamma"], record["policy"])].append(record)
    checkpoints = [c for c in CHECKPOINTS if c < rounds] + [rounds]
    header = (
        "| booster | data | gamma | policy | "
        + " | ".join(f"train loss @{c}" for c in checkpoints)
        + " | rounds to target | best round | test AP | test loss | non-finite |"
    )
    lines = [header, "|" + "---|" * (len(checkpoints) + 9)]
    for (booster, data, gamma, policy), runs in groups.items():
        finite = [r for r in runs if r["finite"]]
        at = [_mean(r["train"][c - 1] for r in finite) for c in checkpoints]
        reached = [r["rounds_to_target"] for r in finite]
        never = sum(v is None for v in reached)
        reached_text = f"{_mean(reached):.0f}" + (f" ({never} never)" if never else "")
        lines.append(
            f"| {booster} | {data} | {gamma:g} | {policy} | "
            + " | ".join(f"{v:.3g}" for v in at)
            + f" | {reached_text} | {_mean(r['best_round'] for r in finite):.0f} | "
            f"{_mean(r['test_ap'] for r in finite):.4f} | {_mean(r['test_loss'] for r in finite):.3g} | "
            f"{len(runs) - len(finite)}/{len(runs)} |"
        )
    return "\n".join(lines)


def verdict(records: list[dict]) -> str:
    """Head-to-head of the positive policies over every (booster, data, gamma, split)."""
    pairs: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for record in records:
        key = (record["booster"], record["data"], record["gamma"], record["split"])
        pairs[key][record["policy"]] = record
    criteria = {  # name: (record -> value, lower is better)
        "rounds to target (training speed)": (lambda r: r["rounds_to_target"] or 10**9, True),
        "test AP at the best round": (lambda r: r["test_ap"], False),
        "test focal loss at the best round": (lambda r: r["test_loss"], True),
    }
    lines = [
        "| booster | criterion | upper better | clip better | tie | mean upper | mean clip |",
        "|---|---|---|---|---|---|---|",
    ]
    for booster in sorted({key[0] for key in pairs}):
        both = [runs for key, runs in pairs.items() if key[0] == booster]
        for name, (value, lower_better) in criteria.items():
            counts = {"upper": 0, "clip": 0, "tie": 0}
            means: dict[str, list[float]] = {"upper": [], "clip": []}
            for runs in both:
                upper, clip = runs["upper"], runs["clip"]
                if not (upper["finite"] and clip["finite"]):
                    counts["upper" if upper["finite"] else "clip"] += 1
                    continue
                u, c = value(upper), value(clip)
                means["upper"].append(u)
                means["clip"].append(c)
                if math.isclose(u, c, rel_tol=1e-9):
                    counts["tie"] += 1
                elif (u < c) == lower_better:
                    counts["upper"] += 1
                else:
                    counts["clip"] += 1
            lines.append(
                f"| {booster} | {name} | {counts['upper']} | {counts['clip']} | {counts['tie']} | "
                f"{_mean(means['upper']):.4g} | {_mean(means['clip']):.4g} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--boosters", nargs="+", default=list(BOOSTERS), choices=list(BOOSTERS))
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--json", help="write every run's per-round curves here")
    args = parser.parse_args()

    import lightgbm
    import numba
    import sklearn
    import xgboost

    print(
        f"xgboost {xgboost.__version__}, lightgbm {lightgbm.__version__}, numba {numba.__version__}, "
        f"scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
        f"{args.splits} splits, {args.rounds} rounds",
        flush=True,
    )
    records = study(args.splits, args.rounds, args.boosters, args.datasets)
    print()
    print(summarise(records, args.rounds))
    print()
    print(verdict(records))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(records, handle)


if __name__ == "__main__":
    main()
