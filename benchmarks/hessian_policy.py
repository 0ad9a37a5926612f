"""Which positive Hessian policy should be the default? Evidence from real training runs.

For XGBoost and LightGBM, each positive policy (``"upper"``, ``"clip"``) and
``gamma`` in {1, 2, 5}, train on imbalanced data sets (synthetic and real,
binary and multiclass) over several random train/test splits, and record:

* **convergence**: the training focal loss after 25, 50, 100 and all rounds
  (every policy minimises the same loss; only the Newton step differs), and
  the first round at which the training loss is within 1% of the best final
  training loss any policy reached on that split;
* **held-out quality**: average precision on the test split after the last
  round (macro one-vs-rest for multiclass), and the best held-out focal loss
  over the rounds;
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
        n_samples=30_000, n_features=20, n_informative=8, n_redundant=4, weights=[0.99],
        flip_y=0.005, class_sep=1.0, random_state=seed,
    )


def _synthetic_hard(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """5% positives in three clusters, weak separation, 3% label noise."""
    return make_classification(
        n_samples=30_000, n_features=30, n_informative=6, n_redundant=6, n_clusters_per_class=3,
        weights=[0.95], flip_y=0.03, class_sep=0.6, random_state=seed,
    )


def _digits_eight(seed: int) -> tuple[np.ndarray, np.ndarray]:
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
        n_samples=30_000, n_features=20, n_informative=8, n_redundant=4, n_classes=4,
        n_clusters_per_class=2, weights=[0.85, 0.10, 0.04, 0.01], flip_y=0.02, class_sep=0.8,
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


def run_xgboost(X_train, y_train, X_test, y_test, loss: FocalLoss, rounds: int, n_classes: int) -> dict:
    import xgboost as xgb

    import focal_boost.xgboost as fx

    params = {"max_depth": 6, "eta": 0.1, "tree_method": "hist", "nthread": 2, "seed": 0}
    if n_classes > 2:
        params["num_class"] = n_classes
    dtrain = xgb.DMatrix(X_train, label=y_train)
    dtest = xgb.DMatrix(X_test, label=y_test)
    history: dict = {}
    booster = fx.train(
        params, dtrain, rounds, loss=loss, evals=[(dtrain, "train"), (dtest, "test")],
        evals_result=history, verbose_eval=False,
    )
    proba = fx.predict_proba(booster, X_test)
    return {
        "train": history["train"]["focal_loss"],
        "test": history["test"]["focal_loss"],
        "proba": proba,
    }


def run_lightgbm(X_train, y_train, X_test, y_test, loss: FocalLoss, rounds: int, n_classes: int) -> dict:
    import lightgbm as lgb

    import focal_boost.lightgbm as fl

    params = {"num_leaves": 63, "learning_rate": 0.1, "num_threads": 2, "seed": 0, "verbose": -1}
    if n_classes > 2:
        params["num_class"] = n_classes
    train_set = lgb.Dataset(X_train, label=y_train, free_raw_data=False)
    test_set = lgb.Dataset(X_test, label=y_test, reference=train_set, free_raw_data=False)
    history: dict = {}
    booster = fl.train(
        params, train_set, rounds, loss=loss, valid_sets=[train_set, test_set],
        valid_names=["train", "test"], callbacks=[lgb.record_evaluation(history)],
    )
    proba = fl.predict_proba(booster, X_test)
    return {
        "train": history["train"]["focal_loss"],
        "test": history["test"]["focal_loss"],
        "proba": proba,
    }


BOOSTERS = {"XGBoost": run_xgboost, "LightGBM": run_lightgbm}


def _finite(values) -> bool:
    return all(math.isfinite(v) for v in values)


def study(splits: int, rounds: int, boosters: list[str], datasets: list[str]) -> list[dict]:
    """One record per (booster, data set, gamma, policy, split)."""
    records = []
    for data_name in datasets:
        for split in range(splits):
            X, y = DATASETS[data_name](split)
            n_classes = int(np.max(y)) + 1
            X_train, X_test, y_train, y_test = train_test_split(
                X.astype(np.float32), y, test_size=0.3, stratify=y, random_state=split
            )
            for booster_name in boosters:
                for gamma in GAMMAS:
                    group = []
                    for policy in POLICIES:
                        loss = FocalLoss(gamma, 0.25 if n_classes == 2 else None, hessian=policy)
                        start = time.perf_counter()
                        with warnings.catch_warnings(), np.errstate(all="ignore"):
                            warnings.simplefilter("ignore")
                            result = BOOSTERS[booster_name](
                                X_train, y_train, X_test, y_test, loss, rounds, n_classes
                            )
                        seconds = time.perf_counter() - start
                        proba = result.pop("proba")
                        finite = bool(np.all(np.isfinite(proba))) and _finite(result["train"])
                        record = {
                            "booster": booster_name, "data": data_name, "gamma": gamma,
                            "policy": policy, "split": split, "seconds": seconds, "finite": finite,
                            "average_precision": average_precision(y_test, proba) if finite else math.nan,
                            "best_test_loss": min(result["test"]) if finite else math.nan,
                            **result,
                        }
                        group.append(record)
                    _add_rounds_to_target(group)
                    records.extend(group)
            print(f"  done: {data_name}, split {split}", flush=True)
    return records


def _add_rounds_to_target(group: list[dict]) -> None:
    """Rounds until each run's training loss is within 1% of the best final loss of the group."""
    finals = [r["train"][-1] for r in group if r["finite"] and r["policy"] != "exact"]
    target = 1.01 * min(finals)
    for record in group:
        curve = np.asarray(record["train"])
        reached = np.flatnonzero(np.isfinite(curve) & (curve <= target))
        record["rounds_to_target"] = int(reached[0]) + 1 if reached.size else None


def summarise(records: list[dict], rounds: int) -> str:
    """Markdown table: per booster, data set, gamma and policy, means over splits."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for record in records:
        groups[(record["booster"], record["data"], record["gamma"], record["policy"])].append(record)
    header = (
        "| booster | data | gamma | policy | train loss @25 | @50 | @100 | "
        f"@{rounds} | rounds to 1% | test AP | best test loss | non-finite |"
    )
    lines = [header, "|" + "---|" * 12]
    for (booster, data, gamma, policy), runs in groups.items():
        finite = [r for r in runs if r["finite"]]

        def mean(values):
            values = [v for v in values if v is not None and math.isfinite(v)]
            return statistics.fmean(values) if values else math.nan

        at = [mean(r["train"][c - 1] for r in finite) for c in (*CHECKPOINTS, rounds)]
        reached = [r["rounds_to_target"] for r in finite]
        reached_text = (
            f"{mean(reached):.0f}" if all(v is not None for v in reached) and reached
            else f"{sum(v is None for v in reached)}/{len(reached)} never"
        )
        lines.append(
            f"| {booster} | {data} | {gamma:g} | {policy} | "
            + " | ".join(f"{v:.5f}" for v in at)
            + f" | {reached_text} | {mean(r['average_precision'] for r in finite):.4f} | "
            f"{mean(r['best_test_loss'] for r in finite):.5f} | {len(runs) - len(finite)}/{len(runs)} |"
        )
    return "\n".join(lines)


def verdict(records: list[dict]) -> str:
    """Head-to-head of the positive policies: wins per (booster, data, gamma, split)."""
    pairs: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for record in records:
        key = (record["booster"], record["data"], record["gamma"], record["split"])
        pairs[key][record["policy"]] = record
    tally: dict[str, dict[str, int]] = {
        name: defaultdict(int) for name in ("final train loss", "rounds to 1%", "test AP", "best test loss")
    }
    for runs in pairs.values():
        upper, clip = runs["upper"], runs["clip"]
        if not clip["finite"] or not upper["finite"]:
            tally["test AP"]["upper" if upper["finite"] else "clip"] += 1
            continue
        comparisons = {
            "final train loss": (upper["train"][-1], clip["train"][-1], "lower"),
            "rounds to 1%": (
                upper["rounds_to_target"] or 10**9, clip["rounds_to_target"] or 10**9, "lower"
            ),
            "test AP": (upper["average_precision"], clip["average_precision"], "higher"),
            "best test loss": (upper["best_test_loss"], clip["best_test_loss"], "lower"),
        }
        for name, (u, c, better) in comparisons.items():
            if u == c:
                tally[name]["tie"] += 1
            elif (u < c) == (better == "lower"):
                tally[name]["upper"] += 1
            else:
                tally[name]["clip"] += 1
    lines = ["| criterion | upper better | clip better | tie |", "|---|---|---|---|"]
    for name, counts in tally.items():
        lines.append(f"| {name} | {counts['upper']} | {counts['clip']} | {counts['tie']} |")
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
    print(verdict([r for r in records]))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(records, handle)


if __name__ == "__main__":
    main()
