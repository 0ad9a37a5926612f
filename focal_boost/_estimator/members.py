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

:func:`member_splits` gives each member its data and the early-stopping
patience; :func:`draw_holdouts` draws the hold-outs; :func:`can_hold_out` says
whether labels allow one. The rest records what the members did.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from focal_boost._boosters.backend import TrainedModel
from focal_boost._estimator import selection
from focal_boost._estimator.data import Split, local
from focal_boost._estimator.params import boosting_settings, early_stopping_patience, thread_count
from focal_boost._util.warnings import warn
from focal_boost.loss import FocalLoss

__all__ = [
    "can_hold_out",
    "candidate_gammas",
    "draw_holdouts",
    "focusing",
    "member_splits",
    "train_members",
]


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


def part_of(progress: Callable[[int, int], None] | None, index: int, count: int) -> Any:
    """Fit ``index`` of ``count`` as a part of one progress bar over all their rounds."""
    if progress is None:
        return None

    def report(done: int, total: int) -> None:
        progress(index * total + done, count * total)

    return report


def plain(value: Any) -> Any:
    """A parameter value as JSON has it (lists for arrays, floats for numbers)."""
    if isinstance(value, np.ndarray | list | tuple):
        return [float(v) for v in value]
    return float(value) if isinstance(value, numbers.Real) else value


def given_rule(gamma: Any) -> str:
    """Why a model trained on the ``gamma`` it was given (``focusing_["rule"]``)."""
    if isinstance(gamma, numbers.Real) and float(gamma) == 0.0:
        return (
            "given: gamma 0, log loss, the default (at equal early stopping no focal gamma beat it on the "
            "15 real sets of benchmarks/quality.py, docs/quality.md); gamma='auto' weighs focal loss on "
            "these data"
        )
    return "given (the gamma parameter)"


def member_record(model: TrainedModel, valid_codes: Any, metric: str) -> dict[str, Any]:
    """What one member did: its rounds, its validation rows and score at its best round."""
    curve = model.evals_result.get("valid", {}).get(metric)
    return {
        "rounds": int(model.n_rounds),
        "validation_rows": 0 if valid_codes is None else int(valid_codes.shape[0]),
        f"validation_{metric}": float(curve[model.n_rounds - 1]) if curve else None,
    }


def evidence_name(classes: np.ndarray, codes: np.ndarray) -> str:
    """What ``gamma="auto"`` compares, in words."""
    if classes.shape[0] != 2:
        return "average precision, macro over the classes, on the members' hold-outs"
    rare = classes[int(np.argmin(np.bincount(codes.astype(np.intp), minlength=2)))]
    rare = rare.item() if isinstance(rare, np.generic) else rare
    return f"average precision of the rare class {rare!r} on the members' hold-outs"


def warn_if_stopped_at_once(
    model: TrainedModel, valid_codes: Any, patience: int | None, classes: Any
) -> None:
    """Warn when early stopping kept round 1 on validation data with one or two rows of a class."""
    if valid_codes is None or patience is None or model.n_rounds != 1:
        return
    counts = np.bincount(np.asarray(valid_codes).astype(np.intp), minlength=len(classes))
    fewest = int(np.argmin(counts))
    if counts[fewest] > 2 or counts[fewest] == 0:  # an absent class is warned about with the eval_set
        return
    label = classes[fewest].item() if isinstance(classes[fewest], np.generic) else classes[fewest]
    warn(
        f"early stopping kept only the first round: the validation data hold {counts[fewest]} "
        f"example{'s' if counts[fewest] != 1 else ''} of class {label!r}, too few to tell "
        "the rounds apart; pass a larger eval_set, raise validation_fraction, or set "
        "early_stopping_rounds=None"
    )


def member_splits(
    estimator: Any, train: tuple, given: tuple | None, random_state: Any
) -> tuple[list[Split], int | None]:
    """The members' training and validation data, and the early-stopping patience (None: none).

    One early-stopping rule for every ``gamma``: with ``early_stopping_rounds``
    ``"auto"`` (the default) early stopping is on, with a patience of
    :data:`~focal_boost._estimator.params.AUTO_PATIENCE`, whenever there are
    validation data: the given ``eval_set``, or else ``n_members`` disjoint
    stratified hold-outs of ``validation_fraction``, which need two rows of
    every class. A number asks for early stopping (an error where no
    validation data can be had); ``None`` turns it off.
    """
    patience, asked = early_stopping_patience(estimator.early_stopping_rounds)
    if given is not None or patience is None:
        return [Split(train, given)], patience
    codes = train[1]
    if not estimator._holds_out or (not asked and not can_hold_out(codes, estimator.n_classes_)):
        return [Split(train, None)], None
    holdouts = draw_holdouts(
        codes, estimator.validation_fraction, int(estimator.n_members), random_state, estimator.classes_
    )
    return [Split(train, None, valid_rows) for valid_rows in holdouts], patience


def candidate_gammas(gamma: Any, loss: FocalLoss, splits: list[Split]) -> tuple:
    """The ``gamma`` values the members are trained for: the given one, or ``"auto"``'s candidates."""
    if not selection.is_auto(gamma):
        return (loss.gamma,)
    if not splits[0].validated:
        raise ValueError(
            "gamma='auto' compares focusings on validation data: pass eval_set, or leave "
            "early_stopping_rounds on with data that allow a hold-out (two rows of every class)"
        )
    return (0.0, *selection.AUTO_GAMMAS)


def train_members(
    estimator: Any, backend: Any, loss: FocalLoss, gammas: tuple, splits: list[Split], run: tuple
) -> list[list[TrainedModel]]:
    """Every member for every candidate ``gamma``: ``[candidate][member]`` trained models.

    ``run`` is ``(seed, patience, metric, progress)``: member ``j`` draws with
    ``seed + j``; ``progress`` sees all the fits as one bar.
    """
    seed, patience, metric, progress = run
    fits = len(gammas) * len(splits)
    trained = []
    for i, gamma in enumerate(gammas):
        focal = FocalLoss(gamma, loss.alpha, hessian=loss.hessian, hessian_floor=loss.hessian_floor)
        trained.append(
            [
                backend.train(
                    boosting_settings(estimator, seed + j),
                    focal,
                    *split.data(),  # one member's copy of the rows at a time
                    int(estimator.n_estimators),
                    patience if split.validated else None,
                    part_of(progress, i * len(splits) + j, fits),
                    early_stopping_metric=metric,
                )
                for j, split in enumerate(splits)
            ]
        )
    return trained


def focusing(
    estimator: Any, backend: Any, gammas: tuple, trained: list, splits: list[Split], random_state: Any
) -> tuple[int, dict[str, Any]]:
    """The candidate kept (its index in ``gammas``) and ``focusing_``, which says why.

    With ``gamma="auto"``, each candidate's members score their own hold-outs
    and :func:`~focal_boost._estimator.selection.choose` weighs the evidence.
    """
    if len(gammas) == 1:
        return 0, {"gamma": plain(estimator.gamma), "rule": given_rule(estimator.gamma)}
    threads = thread_count(estimator.n_jobs)
    codes = np.concatenate([local(split.validation_codes()) for split in splits])
    probabilities = {}
    for members in trained:
        gamma = float(np.asarray(members[0].loss.gamma).flat[0])
        probabilities[gamma] = np.concatenate(
            [
                np.exp(member.loss.posterior_log_proba(local(backend.margin(member, X_valid, threads))))
                for member, X_valid in zip(members, (s.validation()[0] for s in splits), strict=True)
            ]
        )
    classes = selection.scored_classes(codes, estimator.n_classes_)
    chosen, evidence = selection.choose(codes, probabilities, classes, random_state)
    return list(probabilities).index(chosen), {
        "gamma": float(chosen),
        "rule": "gamma='auto': each candidate's members scored on their hold-outs, paired; "
        "the best candidate is kept only if it beats log loss (gamma 0) by more than the "
        "standard error of the difference (a paired bootstrap), else log loss",
        "metric": evidence_name(estimator.classes_, splits[0].train[1]),
        "candidates": evidence,
    }
