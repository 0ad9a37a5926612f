"""The estimator's parameters: their checks, and what they become for a backend."""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from focal_boost._boosters.backend import BoostingSettings
from focal_boost._boosters.validation import validation_metric
from focal_boost._estimator.backends import BACKENDS
from focal_boost._estimator.selection import is_auto
from focal_boost.loss import FocalLoss

_PROBABILITIES = ("posterior", "raw")


_DEVICES = ("cpu", "cuda")


#: Rounds without improvement before early stopping, with ``early_stopping_rounds="auto"``.
AUTO_PATIENCE = 20


#: What early stopping watches when ``early_stopping_metric`` is None, for every ``gamma``.
DEFAULT_METRIC = "log_loss"


def is_auto_rounds(rounds: Any) -> bool:
    return isinstance(rounds, str) and rounds == "auto"


def _check_number(
    name: str,
    value: Any,
    *,
    integer: bool = False,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    optional: bool = False,
    choices: str = "",
) -> None:
    if value is None and optional:
        return
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = "an integer" if integer else "a number"
        others = ", None" if optional and choices else " or None" if optional else ""
        raise TypeError(f"{name} must be {expected}{others}{' ' + choices if choices else ''}, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value!r}")


def check_parameters(estimator: Any) -> FocalLoss:
    """Check every parameter; returns the loss (its ``alpha`` None when given per class label;
    ``gamma`` 0 for ``"auto"``)."""
    if estimator.backend not in BACKENDS:
        raise ValueError(f"backend must be one of {sorted(BACKENDS)}, got {estimator.backend!r}")
    _check_number("n_estimators", estimator.n_estimators, integer=True, low=1)
    _check_number("learning_rate", estimator.learning_rate, low=0.0, low_open=True)
    _check_number("max_depth", estimator.max_depth, integer=True, low=1, optional=True)
    _check_number("num_leaves", estimator.num_leaves, integer=True, low=2, optional=True)
    _check_number("subsample", estimator.subsample, low=0.0, high=1.0, low_open=True)
    _check_number("colsample_bytree", estimator.colsample_bytree, low=0.0, high=1.0, low_open=True)
    _check_number("reg_lambda", estimator.reg_lambda, low=0.0, optional=True)
    _check_number("min_child_weight", estimator.min_child_weight, low=0.0, optional=True)
    if not is_auto_rounds(estimator.early_stopping_rounds):
        _check_number(
            "early_stopping_rounds", estimator.early_stopping_rounds, integer=True, low=1, optional=True,
            choices="or 'auto'",
        )  # fmt: skip
    _check_number("n_members", estimator.n_members, integer=True, low=1)
    validation_metric(estimator.early_stopping_metric)  # a ValueError or TypeError naming the choices
    _check_number(
        "validation_fraction", estimator.validation_fraction, low=0.0, high=1.0, low_open=True, high_open=True
    )
    _check_number("n_jobs", estimator.n_jobs, integer=True, optional=True)
    if estimator.n_jobs == 0:
        raise ValueError("n_jobs must not be 0 (None: all cores; a positive count; or negative)")
    if estimator.probability not in _PROBABILITIES:
        raise ValueError(f"probability must be one of {_PROBABILITIES}, got {estimator.probability!r}")
    if estimator.device not in _DEVICES:
        raise ValueError(f"device must be one of {_DEVICES}, got {estimator.device!r}")
    if estimator.backend_params is not None and not isinstance(estimator.backend_params, Mapping):
        raise TypeError(f"backend_params must be a dict, got {type(estimator.backend_params).__name__}")
    # gamma, alpha and hessian are checked by FocalLoss with their own messages.
    alpha = None if isinstance(estimator.alpha, Mapping) else estimator.alpha
    if isinstance(estimator.gamma, str) and not is_auto(estimator.gamma):
        raise ValueError(f"gamma must be a number >= 0, one per class, or 'auto'; got {estimator.gamma!r}")
    return FocalLoss(0.0 if is_auto(estimator.gamma) else estimator.gamma, alpha, hessian=estimator.hessian)


def class_alpha(alpha: Any, classes: np.ndarray) -> Any:
    """``alpha`` with a dict keyed by class label turned into per-class values."""
    if not isinstance(alpha, Mapping):
        return alpha
    missing = [c for c in classes if c not in alpha]
    extra = [c for c in alpha if c not in set(classes.tolist())]
    if missing or extra:
        raise ValueError(
            f"alpha as a dict needs exactly the classes {classes.tolist()}: "
            f"missing {missing}, unknown {extra}"
        )
    return [float(alpha[c]) for c in classes]


def thread_count(n_jobs: int | None) -> int | None:
    """The booster threads ``n_jobs`` asks for: None (all), a count, or all but ``-n_jobs - 1``."""
    if n_jobs is None:
        return None
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    return int(n_jobs)


def boosting_settings(estimator: Any, seed: int) -> BoostingSettings:
    """The common boosting parameters, for a backend (after ``n_classes_`` is known)."""
    return BoostingSettings(
        learning_rate=float(estimator.learning_rate),
        max_depth=estimator.max_depth,
        num_leaves=estimator.num_leaves,
        subsample=float(estimator.subsample),
        colsample_bytree=float(estimator.colsample_bytree),
        reg_lambda=estimator.reg_lambda,
        min_child_weight=estimator.min_child_weight,
        n_threads=thread_count(estimator.n_jobs),
        seed=int(seed),
        device=estimator.device,
        n_classes=estimator.n_classes_,
        extra=dict(estimator.backend_params or {}),
    )


def early_stopping_patience(rounds: Any) -> tuple[int | None, bool]:
    """``(patience, asked)``: the patience ``early_stopping_rounds`` gives (None: off), and whether a
    number asked for it (``"auto"`` stops early only where there are validation data)."""
    asked = rounds is not None and not is_auto_rounds(rounds)
    return (int(rounds) if asked else (AUTO_PATIENCE if rounds is not None else None)), asked


#: Parameters of the boosters' own scikit-learn classifiers that the estimator spells otherwise.
_RENAMED = {
    "scale_pos_weight": "class weights are alpha here: alpha=0.75 gives the positive class three times "
    "the weight of the negative one, alpha='balanced' weighs the classes by their inverse frequency",
    "class_weight": "class weights are alpha here: a number (the positive class's weight), "
    "'balanced', or {label: weight}",
    "num_leaves": "pass it in backend_params={'num_leaves': ...} (LightGBM)",
    "objective": "the objective is focal loss, set by gamma and alpha",
    "eval_metric": "early stopping watches early_stopping_metric",
}


def unknown_parameter_message(owner: str, name: str) -> str:
    """What a user who passed ``name``, which ``owner`` does not take, should pass instead."""
    hint = _RENAMED.get(
        name,
        f"a booster parameter the estimator does not name goes in backend_params, e.g. "
        f"{owner}(backend_params={{{name!r}: ...}})",
    )
    return f"{owner} got an unexpected keyword argument {name!r}: {hint}"
