"""The backends :class:`~focal_boost.FocalBoostClassifier` can train with, by name.

A backend's module is imported when the backend is first looked up, so that
``import focal_boost`` does not pay for the adapters of boosters it may never use.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator, Mapping
from typing import ClassVar

from focal_boost._boosters.backend import SavingBackend

__all__ = ["BACKENDS", "installed_backends"]


class _Backends(Mapping[str, type[SavingBackend]]):
    """Backend classes by name, in order of preference; each imported on first lookup."""

    _where: ClassVar[dict[str, tuple[str, str]]] = {
        "xgboost": ("focal_boost.xgboost.backend", "XGBoostBackend"),
        "lightgbm": ("focal_boost.lightgbm.backend", "LightGBMBackend"),
    }

    def __getitem__(self, name: str) -> type[SavingBackend]:
        module, attribute = self._where[name]
        return getattr(importlib.import_module(module), attribute)

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


#: Backend classes by name, in order of preference.
BACKENDS: Mapping[str, type[SavingBackend]] = _Backends()


def installed_backends() -> list[str]:
    """The backends whose booster is installed, in order of preference (XGBoost first)."""
    return [name for name in BACKENDS if importlib.util.find_spec(name) is not None]
