"""The one interface between the estimators and a booster: :class:`Backend`.

A backend translates the estimator's common boosting parameters
(:class:`BoostingSettings`) into its booster's names, trains through its
adapter's run recipe (which sets the objective, the metric and the initial
score) and returns a :class:`TrainedModel` whose margins include the initial
score. Local backends live beside their booster (``focal_boost.xgboost.backend``,
``focal_boost.lightgbm.backend``), the Dask ones in ``focal_boost.dask.backends``;
nothing here knows about scikit-learn: the estimator validates the data and
encodes the labels before calling in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from focal_boost.loss import FocalLoss

__all__ = [
    "Backend",
    "BoostingSettings",
    "Progress",
    "SavingBackend",
    "TrainedModel",
    "TrainingData",
    "merge_params",
]

#: ``(X, y, sample_weight)`` as a backend receives them: labels already encoded 0..K-1.
TrainingData = tuple[Any, Any, Any]


#: Called after each boosting round with (rounds done, most rounds).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BoostingSettings:
    """The estimator's common parameters, already validated (``None``: the booster's default)."""

    learning_rate: float
    max_depth: int | None
    num_leaves: int | None
    subsample: float
    colsample_bytree: float
    reg_lambda: float | None
    min_child_weight: float | None
    n_threads: int | None
    seed: int
    device: str
    n_classes: int
    extra: dict[str, Any]


@dataclass
class TrainedModel:
    """What a backend returns: the booster, the rounds to predict with, the metric history."""

    backend: str  # key of BACKENDS
    booster: Any
    loss: FocalLoss  # as trained: alpha="balanced" resolved
    init_score: np.ndarray
    n_rounds: int
    evals_result: dict[str, dict[str, list[float]]]


def merge_params(
    ours: dict[str, Any], extra: dict[str, Any], aliases: Callable[[str], set[str]], reserved: dict[str, str]
) -> dict[str, Any]:
    """``ours`` updated with the user's ``extra`` booster parameters, which win under any alias.

    A booster takes a parameter under several names (LightGBM: ``eta``,
    ``shrinkage_rate`` for ``learning_rate``) and picks one of them by its own
    precedence when more than one is given, so the user's value could lose to
    ours without a word. Every parameter of ours that shares an alias with one
    of ``extra`` is dropped first. ``reserved`` maps the names the estimator
    must own (the objective, the class count, the rounds) to the reason, and
    is a ``ValueError`` under any alias.
    """
    merged = dict(ours)
    for key in extra:
        names = aliases(key)
        for owned, reason in reserved.items():
            if owned in names or key in aliases(owned):
                raise ValueError(f"backend_params cannot set {key!r}: {reason}")
        for name in list(merged):
            if name in names or key in aliases(name):
                del merged[name]
    merged.update(extra)
    return merged


#: Parameters the estimator owns, by booster, and what to use instead.
RESERVED_COMMON = {
    "objective": "the objective is focal loss (the estimator's gamma and alpha)",
    "num_class": "the estimator sets it from the labels",
}


class Backend(Protocol):
    """What :class:`~focal_boost.FocalBoostClassifier` and its Dask twin call on a booster."""

    name: str

    def train(
        self,
        settings: BoostingSettings,
        loss: FocalLoss,
        train: TrainingData,
        valid: TrainingData | None,
        n_rounds: int,
        early_stopping_rounds: int | None,
        progress: Progress | None = None,
        early_stopping_metric: Any = None,
    ) -> TrainedModel:
        """One booster trained on ``train``, early-stopped on ``valid`` when both are given."""
        ...

    def margin(self, model: TrainedModel, X: Any, n_threads: int | None) -> Any:
        """Raw margins of ``X``, initial score included, using ``model.n_rounds`` rounds."""
        ...

    def check_average(self, settings: BoostingSettings) -> None:
        """A ValueError, before training, where models of ``settings`` cannot be averaged."""
        ...

    def average(self, models: list[TrainedModel]) -> TrainedModel:
        """One model predicting the mean margin of ``models``."""
        ...


class SavingBackend(Backend, Protocol):
    """A local backend, whose models a model file can hold (:mod:`focal_boost._estimator.saving`)."""

    #: The booster's name inside a model file, its suffix saying the booster's own format.
    booster_file: str

    def save_booster(self, model: TrainedModel) -> bytes:
        """The booster in its booster's own format, the training record inside."""
        ...

    def load_booster(self, data: bytes, n_rounds: int) -> TrainedModel:
        """The model :meth:`save_booster` wrote, predicting with ``n_rounds``; a ValueError if not one."""
        ...

    def export_booster(self, model: TrainedModel, suffix: str) -> bytes:
        """``model``'s plain booster (:mod:`~focal_boost._boosters.export`) in the format ``suffix`` names."""
        ...

    def contributions(
        self, model: TrainedModel, X: Any, n_threads: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The booster's exact TreeSHAP of the margin over ``model.n_rounds`` rounds: per-feature
        ``values`` ``(n, n_features, K)`` and ``base`` ``(n, K)`` (``K = 1`` for binary), float64, the
        initial score inside ``base``, so that ``values.sum(axis=1) + base`` is the margin."""
        ...
