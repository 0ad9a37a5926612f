r"""Early stopping on hold-outs without losing their rows: members on disjoint hold-outs, one booster.

What ``benchmarks/quality.py`` found on 15 real imbalanced sets
(``docs/quality.md``): early stopping is worth more than any focusing, and a
model early-stopped on a held-out 10% never learns from those rows (on a small
set, a tenth of its positives). :class:`~focal_boost.FocalBoostClassifier`
therefore draws ``n_members`` *disjoint* stratified hold-outs; member
:math:`k` trains on every row outside hold-out :math:`k`, with its own seed for
row and column sampling, and early-stops on hold-out :math:`k`. Every row is
trained on by all members but one, and the members' margins are averaged:

.. math::

    f(x) = \frac{1}{M} \sum_{k=1}^{M} f_k(x),

which is itself one tree ensemble (:mod:`focal_boost._boosters.averaging`): the
estimator keeps one booster. Two members cost about two single fits.

:func:`draw_holdouts` draws the hold-outs; :func:`can_hold_out` says whether
labels allow one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["can_hold_out", "draw_holdouts"]


def can_hold_out(codes: np.ndarray, n_classes: int) -> bool:
    """Whether every class has the two rows a hold-out needs (one to validate on, one to train on)."""
    counts = np.bincount(codes.astype(np.intp), minlength=n_classes)
    return bool(np.all(counts >= 2))


def draw_holdouts(
    codes: np.ndarray, fraction: float, count: int, random_state: np.random.RandomState, classes: np.ndarray
) -> list[np.ndarray]:
    """``count`` disjoint stratified hold-outs of about ``fraction`` of the rows each (sorted row indices).

    Each class contributes ``round(fraction * n_class)`` rows to each hold-out,
    at least one and at most ``n_class - 1``, so that every hold-out holds every
    class and every member still trains on every class. A class too small for
    ``count`` disjoint shares is shared: its hold-outs then overlap in that
    class only. A class with a single row is an error.
    """
    codes = codes.astype(np.intp)
    counts = np.bincount(codes, minlength=classes.shape[0])
    if np.any(counts < 2):
        lonely = classes[counts < 2].tolist()
        raise ValueError(
            f"cannot hold out validation data for early stopping: classes {lonely} have a single "
            "example, which cannot be both trained on and validated on; pass eval_set (or X_val, y_val), "
            "or set early_stopping_rounds=None"
        )
    holdouts: list[list[np.ndarray]] = [[] for _ in range(count)]
    for k in range(classes.shape[0]):
        rows = random_state.permutation(np.flatnonzero(codes == k))
        n = rows.shape[0]
        share = int(min(max(1, round(fraction * n)), n - 1))
        for j in range(count):
            start = (j * share) % n
            holdouts[j].append(np.take(rows, np.arange(start, start + share), mode="wrap"))
    return [np.sort(np.concatenate(parts)) for parts in holdouts]
