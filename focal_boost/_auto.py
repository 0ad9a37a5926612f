r"""``gamma="auto"``: the focusing chosen from the training data (:class:`~focal_boost.FocalBoostClassifier`).

What ``benchmarks/quality.py`` found on real imbalanced data (``docs/quality.md``):
the number of rounds matters more than the focusing, a single fixed
``gamma`` is as often worse than log loss as better, and picking one
``gamma`` on a validation split follows the split's noise. What helped on
every set, within noise, is the mean of the posterior probabilities of a
log-loss model (``gamma = 0``) and a focal model (:data:`AUTO_GAMMAS`), each
early-stopped on the log loss of the same validation split:

.. math::

    \hat p(x) = \frac{1}{M} \sum_{m=1}^{M} \eta_{\gamma_m}(x),

where :math:`\eta_\gamma` is the posterior-corrected probability of the
member trained with focusing :math:`\gamma`. The members see the same rows,
the same hold-out (the first ``eval_set``, else a stratified
``validation_fraction``), the same seed; each stops on its own. Together they
cost at most :data:`len(AUTO_GAMMAS) <AUTO_GAMMAS>` single fits, usually less
(early stopping), and the result is deterministic for a fixed
``random_state``. The members and their validation scores are kept as the
estimator's ``estimators_`` and ``focusing_``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["AUTO_GAMMAS", "AUTO_METRIC", "AUTO_PATIENCE", "is_auto", "mean_log_proba"]

#: The members' focusing: log loss and a focal loss.
AUTO_GAMMAS = (0.0, 1.0)
#: The metric the members stop on when ``early_stopping_metric`` is left unset.
AUTO_METRIC = "log_loss"
#: Rounds without improvement before a member stops, when ``early_stopping_rounds`` is unset.
AUTO_PATIENCE = 20


def is_auto(gamma: Any) -> bool:
    """Whether ``gamma`` asks for the automatic focusing."""
    return isinstance(gamma, str) and gamma == "auto"


def member_settings(estimator: Any, y: Any, has_eval_set: bool) -> dict[str, Any]:
    """The parameters every member shares: one seed (so one hold-out), early stopping, its metric.

    Without an ``eval_set``, on data too small for the estimator's stratified
    hold-out (a class of one row, fewer validation rows than classes), the
    members train without early stopping, unless the user asked for early
    stopping (``early_stopping_rounds``): then they raise the hold-out's error.
    """
    from sklearn.utils import check_random_state

    seed = int(check_random_state(estimator.random_state).randint(np.iinfo(np.int32).max))
    asked = estimator.early_stopping_rounds is not None
    can_validate = has_eval_set or (estimator._holds_out and (asked or _can_hold_out(estimator, y)))
    rounds = estimator.early_stopping_rounds if asked else AUTO_PATIENCE
    metric = estimator.early_stopping_metric if estimator.early_stopping_metric is not None else AUTO_METRIC
    return {
        "random_state": seed,
        "early_stopping_rounds": rounds if can_validate else None,
        "early_stopping_metric": metric,
    }


def _can_hold_out(estimator: Any, y: Any) -> bool:
    """Whether the estimator's stratified hold-out of ``validation_fraction`` exists for labels ``y``."""
    from sklearn.utils.validation import column_or_1d

    from focal_boost.estimator import _stratified_holdout  # the estimator imports this module

    try:
        classes, codes = np.unique(column_or_1d(y, warn=False), return_inverse=True)
        _stratified_holdout(codes, estimator.validation_fraction, np.random.RandomState(0), classes)
    except (TypeError, ValueError):  # bad labels are the members' fit's to report
        return False
    return True


def member_progress(progress: Callable[[int, int], None] | None, index: int, count: int) -> Any:
    """Member ``index``'s rounds as a part of all ``count`` members' rounds, for one progress bar."""
    if progress is None:
        return None

    def report(done: int, total: int) -> None:
        progress(index * total + done, count * total)

    return report


def evidence(members: list[Any], metric_name: str, validated: bool) -> dict[str, Any]:
    """What the automatic focusing did and saw: each member's gamma, rounds and validation score."""
    rows = []
    for member in members:
        curve = member.evals_result_.get("valid", {}).get(metric_name)
        rows.append(
            {
                "gamma": float(member.gamma),
                "rounds": int(member.best_iteration_),
                f"validation_{metric_name}": None if not curve else float(curve[member.best_iteration_ - 1]),
            }
        )
    return {
        "rule": "mean of the members' posterior probabilities, each member early-stopped on the same "
        "validation data"
        if validated
        else "mean of the members' posterior probabilities (no validation data: no early stopping)",
        "metric": metric_name,
        "members": rows,
    }


def mean_log_proba(logs: list[Any]) -> Any:
    """``log(mean_m exp(logs[m]))``, computed in log space (NumPy or Dask arrays alike)."""
    total = logs[0]
    for log in logs[1:]:
        total = np.logaddexp(total, log)
    return total - np.log(len(logs))
