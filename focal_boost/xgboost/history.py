"""The validation metric's exact values in XGBoost's history, and early stopping on them.

XGBoost rounds a custom metric to six decimals before early stopping and
``evals_result`` see it; :class:`RememberingMetric` keeps each round's values
at full precision and :func:`exact_history` writes them back.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np

from focal_boost._boosters.validation import ValidationMetric
from focal_boost.loss import FocalLoss
from focal_boost.xgboost.objective import FocalMetric, _xgboost

__all__ = ["RememberingMetric", "exact_history", "stopping_direction"]


def stopping_direction(metric: ValidationMetric, maximize: bool | None) -> bool:
    """XGBoost's ``maximize`` for early stopping on ``metric``; a ``maximize`` against it is an error."""
    if maximize is not None and bool(maximize) != metric.greater_is_better:
        raise ValueError(
            f"maximize={maximize} contradicts the validation metric {metric.name!r}, for which "
            f"{'greater' if metric.greater_is_better else 'lower'} is better: leave maximize unset"
        )
    return metric.greater_is_better


#: Each remembering metric's values of the current round, by the metric's token. Keyed by a
#: token rather than held by the object: on a Dask worker the metric XGBoost calls and the one
#: the callback holds can arrive as two unpickled copies.
_ROUND_VALUES: dict[str, list[float]] = {}


class RememberingMetric(FocalMetric):
    """:class:`~focal_boost.xgboost.FocalMetric` that keeps this round's values, in call order,
    at full precision."""

    def __init__(
        self, loss: FocalLoss | None = None, *, n_threads: int | None = None, metric: Any = None
    ) -> None:
        super().__init__(loss, n_threads=n_threads, metric=metric)
        self.token = uuid.uuid4().hex

    def __call__(self, predt: np.ndarray, dmatrix: Any) -> tuple[str, float]:
        name, value = super().__call__(predt, dmatrix)
        _ROUND_VALUES.setdefault(self.token, []).append(value)
        return name, value

    def take_round(self) -> list[float]:
        """This round's values (and forget them)."""
        return _ROUND_VALUES.pop(self.token, [])


def exact_history(
    metric: RememberingMetric,
    names: list[str],
    early_stopping_rounds: int | None,
    maximize: bool | None,
) -> Any:
    """A callback that puts the metric's full-precision values into XGBoost's history.

    XGBoost passes a custom metric's value through text formatted with ``%f``
    (six decimals) before early stopping and ``evals_result`` see it. A focal
    loss of 1e-4 (large ``gamma``, rare positives) would then keep two
    significant digits, and early stopping would take rounding ties for a
    plateau. This callback overwrites each round's rounded values with the
    exact ones. With ``early_stopping_rounds`` it is XGBoost's own
    ``EarlyStopping``, which decides on the values just written back (a
    separate callback could run after it: XGBoost 2.1 keeps callbacks in a set).
    XGBoost evaluates the sets in the order of ``evals`` (``names``), so the
    metric's values of the round are matched by position; this also works on
    Dask workers, where the DMatrix objects are the workers' own. A loop that
    computes the exact values itself (:mod:`focal_boost.xgboost.resident`) never
    calls the metric, and the callback leaves its history as it is.
    """
    xgb = _xgboost()

    def write_back(evals_log: dict) -> None:
        values = metric.take_round()
        if len(values) != len(names):  # not one value per evaluation set: leave XGBoost's
            return
        for name, value in zip(names, values, strict=True):
            record = evals_log.get(name, {}).get(metric.name)
            if record:
                record[-1] = value

    class ExactHistory(xgb.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: dict) -> bool:
            write_back(evals_log)
            return False

    class ExactEarlyStopping(xgb.callback.EarlyStopping):
        def after_iteration(self, model: Any, epoch: int, evals_log: dict) -> bool:
            write_back(evals_log)
            return super().after_iteration(model, epoch, evals_log)

    if early_stopping_rounds is None:
        return ExactHistory()
    return ExactEarlyStopping(rounds=early_stopping_rounds, maximize=maximize)
