"""``focal_boost.load_model``: a fitted :class:`~focal_boost.FocalBoostClassifier` from a model file."""

from __future__ import annotations

import pathlib
from typing import Any

from focal_boost._estimator import model_file
from focal_boost._estimator.classifier import FocalBoostClassifier

__all__ = ["load_model", "read_model_file"]


def load_model(path: str | pathlib.Path) -> FocalBoostClassifier:
    """The fitted estimator that :meth:`FocalBoostClassifier.save_model` saved at ``path``.

    Nothing in the file is executed: it is JSON and the booster in its own
    format, read by the booster's own loader. A file that is not a model file
    (a pickle, a foreign, corrupt or truncated file, one from a newer
    focal_boost) raises a ``ValueError`` saying which. The model predicts
    exactly as the saved one did; a model fitted on a Dask cluster loads as a
    local :class:`FocalBoostClassifier`.
    """
    return read_model_file(path)[0]


def read_model_file(path: str | pathlib.Path) -> tuple[FocalBoostClassifier, dict[str, Any]]:
    """The fitted estimator at ``path`` and the ``extra`` entries saved with it."""
    saved = model_file.read(path)
    names = set(FocalBoostClassifier._get_param_names())
    estimator = FocalBoostClassifier(**{k: v for k, v in saved.params.items() if k in names})
    return model_file.restore(estimator, saved), saved.extra
