"""The backends :class:`~focal_boost.FocalBoostClassifier` can train with, by name."""

from __future__ import annotations

import importlib.util

from focal_boost._boosters.backend import Backend
from focal_boost.lightgbm.backend import LightGBMBackend
from focal_boost.xgboost.backend import XGBoostBackend

__all__ = ["BACKENDS", "installed_backends"]

#: Backend classes by name, in order of preference.
BACKENDS: dict[str, type[Backend]] = {"xgboost": XGBoostBackend, "lightgbm": LightGBMBackend}


def installed_backends() -> list[str]:
    """The backends whose booster is installed, in order of preference (XGBoost first)."""
    return [name for name in BACKENDS if importlib.util.find_spec(name) is not None]
