r"""``gamma="auto"``: focal loss where the evidence on the user's data says it helps, else log loss.

:class:`~focal_boost.FocalBoostClassifier` with ``gamma="auto"`` trains its
members (:mod:`focal_boost._estimator.members`, one per hold-out) once per candidate
focusing: log loss (``gamma = 0``) and each of :data:`AUTO_GAMMAS`. Every
candidate's members predict their own hold-outs, so each candidate has
out-of-sample probabilities for the same rows (the union of the hold-outs),
and the candidates are compared *paired*, on those rows, by the average
precision of the rare class (macro over classes for multiclass): the ranking
focal loss is meant to improve.

The rule is the one-standard-error rule with log loss as the simple model:
the best-scoring candidate is taken only if it beats log loss by more than the
standard error of their difference (a paired bootstrap over the rows, with
:data:`BOOTSTRAP` resamples); otherwise log loss is kept. The chosen
candidate's members are the model, so nothing is trained twice. What was
compared and why the choice was made is the estimator's ``focusing_``.

What it costs and shows (``benchmarks/quality.py``, ``docs/quality.md``): one
fit of the members per candidate, four in all; on the benchmark's 15 real
sets focusing did not beat log loss on average, which is why ``gamma=0`` is
the estimator's default and ``"auto"`` is asked for, not implied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["AUTO_GAMMAS", "BOOTSTRAP", "average_precision", "bootstrap", "choose", "is_auto"]

#: The focusing candidates weighed against log loss.
AUTO_GAMMAS = (0.5, 1.0, 2.0)
#: Paired bootstrap resamples for the standard error of a difference in average precision.
BOOTSTRAP = 200
#: The most weights (resamples x rows) held at once: a million held-out rows are resampled in chunks.
_CHUNK_ELEMENTS = 2_000_000


def is_auto(gamma: Any) -> bool:
    """Whether ``gamma`` asks for the automatic focusing."""
    return isinstance(gamma, str) and gamma == "auto"


def average_precision(positive: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average precision of ``score`` for the boolean labels ``positive``, once per row of ``weights``.

    scikit-learn's ``average_precision_score`` (the step-wise sum over distinct
    thresholds of recall gained times precision) with each row of ``weights``
    ``(B, n)`` as sample weights, for all ``B`` resamples in one pass over the
    sorted scores. NaN where a row gives the positives no weight.
    """
    order = np.argsort(-score, kind="mergesort")
    ordered, hits = score[order], positive[order]
    w = weights[:, order]
    last = np.append(np.flatnonzero(np.diff(ordered)), ordered.size - 1)  # each distinct score's last row
    true_positives = np.cumsum(w * hits, axis=1)[:, last]
    false_positives = np.cumsum(w * ~hits, axis=1)[:, last]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(
            true_positives + false_positives > 0, true_positives / (true_positives + false_positives), 0.0
        )
        recall = true_positives / true_positives[:, -1:]
    gained = np.diff(recall, axis=1, prepend=0.0)
    return np.sum(gained * precision, axis=1)


def _scores(codes: np.ndarray, proba: np.ndarray, weights: np.ndarray, classes: list[int]) -> np.ndarray:
    """Mean over ``classes`` of each class's average precision against the rest, per row of ``weights``."""
    return np.mean([average_precision(codes == k, proba[:, k], weights) for k in classes], axis=0)


def bootstrap(
    scores: Callable[[np.ndarray], dict[Any, np.ndarray]], n: int, random_state: np.random.RandomState
) -> dict[Any, np.ndarray]:
    """``scores(weights)`` on :data:`BOOTSTRAP` resamples of ``n`` rows, the same resamples for every key.

    ``scores`` maps a ``(B, n)`` array of resample counts to each key's ``B``
    values. The resamples are drawn in order from ``random_state`` and passed
    in chunks of at most :data:`_CHUNK_ELEMENTS` counts, so memory stays bounded
    however many rows there are.
    """
    size = max(1, min(BOOTSTRAP, _CHUNK_ELEMENTS // max(n, 1)))
    parts: dict[Any, list[np.ndarray]] = {}
    for start in range(0, BOOTSTRAP, size):
        draws = [random_state.randint(0, n, n) for _ in range(min(size, BOOTSTRAP - start))]
        weights = np.stack([np.bincount(draw, minlength=n) for draw in draws]).astype(np.float64)
        for key, values in scores(weights).items():
            parts.setdefault(key, []).append(values)
    return {key: np.concatenate(values) for key, values in parts.items()}


def scored_classes(codes: np.ndarray, n_classes: int) -> list[int]:
    """The classes the evidence ranks: the rarest of a binary problem, every class of a multiclass one."""
    counts = np.bincount(codes.astype(np.intp), minlength=n_classes)
    return [int(np.argmin(counts))] if n_classes == 2 else list(range(n_classes))


def choose(
    codes: np.ndarray,
    probabilities: dict[float, np.ndarray],
    classes: list[int],
    random_state: np.random.RandomState,
) -> tuple[float, list[dict[str, float]]]:
    """The chosen ``gamma`` and each candidate's evidence, from out-of-sample ``probabilities``.

    ``probabilities[gamma]``: ``(n, K)`` probabilities of the same ``n``
    held-out rows (labels ``codes``) by each candidate; ``0.0`` is log loss.
    Returns the gamma of the one-standard-error rule and, per candidate, its
    score, its difference from log loss and that difference's standard error.
    """
    n = codes.shape[0]
    scores = {
        gamma: float(_scores(codes, proba, np.ones((1, n)), classes)[0])
        for gamma, proba in probabilities.items()
    }
    # The same resamples for every candidate, so that the differences are paired; resamples without
    # a row of some scored class have no average precision and are left out.
    resampled = bootstrap(
        lambda weights: {
            gamma: _scores(codes, proba, weights, classes) for gamma, proba in probabilities.items()
        },
        n,
        random_state,
    )
    evidence = []
    for gamma in probabilities:
        if gamma == 0.0:
            error = 0.0
        else:
            differences = resampled[gamma] - resampled[0.0]
            differences = differences[~np.isnan(differences)]
            error = float(np.std(differences, ddof=1)) if differences.size > 1 else float("inf")
        evidence.append(
            {
                "gamma": float(gamma),
                "score": scores[gamma],
                "difference": scores[gamma] - scores[0.0],
                "standard_error": error,
            }
        )
    best = max(evidence, key=lambda row: row["score"])
    chosen = best["gamma"] if best["difference"] > best["standard_error"] else 0.0
    return chosen, evidence
