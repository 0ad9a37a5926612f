"""What the objectives and metrics say when used the wrong way: which call, which object, instead.

A booster calls its objective as ``f(margins, data)`` and its scikit-learn
wrapper as ``f(y_true, y_pred, ...)``; handing one form's object to the other,
the class instead of an instance, or labels coded otherwise, is a TypeError
or ValueError that names what to pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from focal_boost._util.warnings import RawProbabilityWarning, warn

__all__ = ["raise_missing_num_class", "refuse_call_as_class", "wrapper_got_booster_data", "wrong_data"]


def raise_missing_num_class(y: np.ndarray) -> None:
    """Labels above 1 with one margin per row: binary labels coded otherwise, or ``num_class`` unset."""
    present = np.unique(y[~np.isnan(y)]) if y.dtype.kind == "f" else np.unique(y)
    if present.shape[0] <= 2:
        raise ValueError(
            f"binary focal loss needs labels 0 and 1, found {present.tolist()}: recode them (e.g. with "
            "sklearn.preprocessing.LabelEncoder); for multiclass focal loss set params['num_class'] "
            "to the number of classes"
        )
    raise ValueError(
        f"labels go up to {int(np.nanmax(y))} ({present.shape[0]} distinct) but there is one margin per "
        "row: for multiclass focal loss set params['num_class'] to the number of classes (binary "
        "labels must be 0 and 1)"
    )


@dataclass(frozen=True)
class CallProtocol:
    """How a booster calls a custom objective and metric: what the messages about misuse name."""

    module: str  # this package's module for the booster
    train: str  # the booster's training function
    slots: tuple[str, str]  # where the objective and the metric go in it
    data: str  # the type of its second argument there
    wrapper: str  # the booster's scikit-learn classifier
    wrapper_call: str  # how that calls an objective
    wrapper_objects: str  # ours for that classifier


PROTOCOLS = {
    "xgboost": CallProtocol(
        "focal_boost.xgboost",
        "xgboost.train",
        ("obj=...", "custom_metric=..."),
        "DMatrix",
        "XGBClassifier",
        "(y_true, y_pred)",
        "focal_boost.xgboost.SklearnFocalObjective(loss) and SklearnFocalMetric(loss)",
    ),
    "lightgbm": CallProtocol(
        "focal_boost.lightgbm",
        "lightgbm.train",
        ("params['objective']", "feval=..."),
        "Dataset",
        "LGBMClassifier",
        "(y_true, y_pred, weight)",
        "focal_boost.lightgbm.SklearnFocalObjective(loss) and SklearnFocalMetric(loss)",
    ),
}


def wrong_data(callable_: Any, received: Any, booster: str) -> TypeError:
    """The TypeError for ``booster``'s plain objective or metric handed something not its data type.

    An array means the booster's scikit-learn classifier called it; the other
    booster's data type means it was given to the other booster.
    """
    protocol = PROTOCOLS[booster]
    metric = hasattr(callable_, "sums")  # a metric adds up per-row terms; an objective does not
    source = type(received).__module__.split(".")[0]
    if isinstance(received, np.ndarray):
        hint = f"for {protocol.wrapper} use {protocol.wrapper_objects}"
    elif source in PROTOCOLS and source != booster:
        other = PROTOCOLS[source]
        hint = f"for {other.train} use {other.module}.FocalObjective and FocalMetric"
    else:
        hint = f"pass it to {protocol.train}"
    return TypeError(
        f"{protocol.module}.{type(callable_).__name__} is {protocol.train}'s "
        f"{'metric' if metric else 'objective'} ({protocol.slots[metric]}), called with "
        f"(margins, {protocol.data}), but got a {type(received).__name__}: {hint}"
    )


def wrapper_got_booster_data(callable_: Any, booster: str) -> TypeError:
    """The TypeError for a scikit-learn-wrapper objective or metric handed the booster's own data."""
    protocol = PROTOCOLS[booster]
    plain = "FocalMetric" if hasattr(callable_, "sums") else "FocalObjective"
    return TypeError(
        f"{protocol.module}.{type(callable_).__name__} is for {protocol.wrapper}, called with "
        f"{protocol.wrapper_call}, but got a {protocol.data}: for {protocol.train} use "
        f"{protocol.module}.{plain}(loss)"
    )


def refuse_call_as_class(cls: type, args: tuple) -> None:
    """A booster calling the class itself (``obj=FocalObjective``) passes two or three arrays."""
    if len(args) > 1:
        names = ", ".join(type(arg).__name__ for arg in args)
        wrappers = ""
        if all(isinstance(arg, np.ndarray) for arg in args):  # XGBClassifier's or LGBMClassifier's call
            wrappers = (
                " (for XGBClassifier: focal_boost.xgboost.SklearnFocalObjective(loss); for "
                "LGBMClassifier: focal_boost.lightgbm.SklearnFocalObjective(loss))"
            )
        raise TypeError(
            f"{cls.__module__}.{cls.__name__} was called with ({names}), as a booster calls its objective "
            f"or metric: pass an instance, {cls.__name__}(FocalLoss(...)), not the class{wrappers}"
        )


def warn_raw_probabilities(wrapper: str, convert: str) -> None:
    """A :class:`RawProbabilityWarning`: ``wrapper``'s ``predict_proba`` is not the class probabilities."""
    warn(
        f"{wrapper}.predict_proba with this objective returns the raw sigmoid or softmax of the focal "
        "margin, not the class probabilities (focal loss pulls them towards 1/2 and alpha shifts them): "
        f"{convert} with loss.posterior_proba, or use FocalBoostClassifier",
        RawProbabilityWarning,
    )
