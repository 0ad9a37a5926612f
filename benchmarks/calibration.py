"""Are FocalBoostClassifier's probabilities honest? Raw link against the posterior correction.

For each data set, backend and ``gamma``, train ``FocalBoostClassifier``
(100 rounds, learning rate 0.1, otherwise the backend's defaults, and once
more with depth-4 trees) on stratified 60/40 splits and compare, on the 40%
held out, the Brier score of

* ``raw``: the sigmoid of the margin (``probability="raw"``), and
* ``posterior``: the focal posterior correction (the default),

with ``gamma = 0`` (log loss, where the two coincide) as the reference. The
table gives the mean over splits of each and how often the posterior wins.

Run: ``python benchmarks/calibration.py [--splits 5]`` (about 5 minutes);
prints a Markdown table.
"""

from __future__ import annotations

import argparse
import importlib.util

import numpy as np
from sklearn.datasets import load_digits, make_classification
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import train_test_split

from focal_boost import FocalBoostClassifier

GAMMAS = (0.0, 0.5, 1.0, 2.0, 5.0)
TREES = {"defaults": {}, "depth 4": {"max_depth": 4}}


def data_sets():
    X, y = make_classification(10_000, 10, n_informative=5, weights=[0.95], flip_y=0.02, random_state=0)
    yield "synthetic 5%", X, y
    X, y = make_classification(
        20_000, 20, n_informative=4, n_clusters_per_class=3, class_sep=0.7, weights=[0.99], random_state=1
    )
    yield "synthetic 1%", X, y
    digits = load_digits()
    yield "digits 8 vs rest (10%)", digits.data, (digits.target == 8).astype(int)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    args = parser.parse_args()
    backends = [name for name in ("xgboost", "lightgbm") if importlib.util.find_spec(name)]
    print("| data | backend | trees | gamma | Brier raw | Brier posterior | posterior better |")
    print("|---|---|---|---:|---:|---:|---:|")
    for name, X, y in data_sets():
        for backend in backends:
            for trees, extra in TREES.items():
                for gamma in GAMMAS:
                    raw, posterior = [], []
                    for split in range(args.splits):
                        X_train, X_test, y_train, y_test = train_test_split(
                            X, y, test_size=0.4, stratify=y, random_state=split
                        )
                        model = FocalBoostClassifier(
                            backend=backend, gamma=gamma, n_jobs=2, random_state=0, **extra
                        ).fit(X_train, y_train)
                        posterior.append(brier_score_loss(y_test, model.predict_proba(X_test)[:, 1]))
                        model.set_params(probability="raw")
                        raw.append(brier_score_loss(y_test, model.predict_proba(X_test)[:, 1]))
                    wins = sum(p < r for p, r in zip(posterior, raw, strict=True))
                    print(
                        f"| {name} | {backend} | {trees} | {gamma:g} | {np.mean(raw):.5f} | "
                        f"{np.mean(posterior):.5f} | {'-' if gamma == 0 else f'{wins}/{args.splits}'} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
