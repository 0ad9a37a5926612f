"""The optional dependencies: one import guard that names the extra to install."""

from __future__ import annotations

import importlib
from typing import Any

#: module -> (the name people know it by, the focal-boost extra that installs it)
EXTRAS = {
    "xgboost": ("XGBoost", "xgboost"),
    "xgboost.dask": ("XGBoost with Dask", "dask,xgboost"),
    "lightgbm": ("LightGBM", "lightgbm"),
    "dask": ("Dask", "dask"),
    "dask.array": ("Dask", "dask"),
    "distributed": ("Dask's distributed scheduler", "dask"),
    "pandas": ("pandas", "cli"),
    "matplotlib": ("matplotlib", "cli"),
}


def require(module: str, user: str) -> Any:
    """``import module``, or an ImportError saying that ``user`` needs it and which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        name, extra = EXTRAS[module]
        raise ImportError(f"{user} needs {name}: pip install 'focal-boost[{extra}]'") from error
