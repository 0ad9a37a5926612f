"""Evaluation sets: the one normaliser of the forms users give them in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

__all__ = ["EvaluationSet", "evaluation_sets"]


class EvaluationSet(NamedTuple):
    """One evaluation set: features, labels, weights (None: unweighted) and its name."""

    X: Any
    y: Any
    weight: Any
    name: str


def evaluation_sets(items: Sequence[tuple]) -> list[EvaluationSet]:
    """Evaluation sets given as data, as :class:`EvaluationSet`: the one form every path uses.

    Each item is scikit-learn's and the boosters' ``(X, y)`` or ``(X, y,
    weight)``, named ``"valid_0"``, ``"valid_1"``, ... by position, or the same
    with a name last, ``(X, y, name)`` or ``(X, y, weight, name)``. An item
    that is not a tuple or list is a TypeError; one of another length, a
    ValueError.
    """
    sets = []
    for i, item in enumerate(items):
        if not isinstance(item, tuple | list):
            raise TypeError(
                "eval_set must be a list of (X, y) or (X, y, sample_weight) tuples; evaluation set "
                f"{i} is a {type(item).__name__}"
            )
        named = len(item) > 0 and isinstance(item[-1], str)
        parts = list(item[:-1] if named else item)
        if not 2 <= len(parts) <= 3:
            got = f"{len(item)} items"
            raise ValueError(
                "each evaluation set is (X, y) or (X, y, weight), or with a name last, (X, y, name) or "
                f"(X, y, weight, name); evaluation set {i} is {got}"
            )
        X, y, weight = (*parts, None) if len(parts) == 2 else parts
        sets.append(EvaluationSet(X, y, weight, str(item[-1]) if named else f"valid_{i}"))
    return sets
