"""The command's model file: the estimator's model file (no pickle), with the feature schema and metadata.

``train`` writes :meth:`~focal_boost.FocalBoostClassifier.save_model`'s format,
the schema and the training metadata in its ``extra`` entries. ``predict``,
``evaluate`` and ``convert`` read it; a pickle (joblib) file, the format
before it, is refused unless ``--allow-pickle`` says the user trusts it.
"""

from __future__ import annotations

import pathlib
import warnings
from typing import Any

from focal_boost._estimator import model_file
from focal_boost._estimator.loading import read_model_file
from focal_boost.cli.report import UsageError
from focal_boost.cli.tables import FeatureSchema

#: The format of the pickle (joblib) files written before the model file.
PICKLE_FORMAT = "focal-boost-model/1"
#: What ``--allow-pickle`` warns.
PICKLE_WARNING = (
    "{path}: loading a pickle (joblib) file, which runs any code it holds: do this only for a file you "
    "made yourself or trust. Convert it once: focal-boost convert --allow-pickle {path} NEW.zip"
)


def save_model(path: str | pathlib.Path, model: Any, schema: FeatureSchema, metadata: dict[str, Any]) -> None:
    """Save the model file atomically: a failed or interrupted save leaves the previous file intact."""
    path = pathlib.Path(path)
    try:
        model_file.write(model, path, extra={"schema": schema.to_dict(), "metadata": metadata})
    except OSError as error:
        raise UsageError(f"{path}: cannot write the model: {error.strerror or error}") from error


def load_model(path: str | pathlib.Path, *, allow_pickle: bool = False) -> dict[str, Any]:
    """``{"model", "schema", "metadata"}`` from a model file (or, with ``allow_pickle``, a pickle file)."""
    path = pathlib.Path(path)
    try:
        model, extra = read_model_file(path)
    except model_file.PickleFileError as error:
        if allow_pickle:
            return _load_pickle(path)
        raise UsageError(str(error)) from error
    except model_file.ModelFileError as error:
        raise UsageError(str(error)) from error
    if "schema" not in extra:
        raise UsageError(
            f"{path}: a model saved by save_model, not by `focal-boost train`: it has no feature schema "
            "for reading a table (load it in Python with focal_boost.load_model)"
        )
    return {"model": model, "schema": extra["schema"], "metadata": extra.get("metadata", {})}


def _load_pickle(path: pathlib.Path) -> dict[str, Any]:
    import joblib

    warnings.warn(PICKLE_WARNING.format(path=path), UserWarning, stacklevel=3)
    try:
        saved = joblib.load(path)
    except Exception as error:  # joblib/pickle raise many types for a file that is not a model
        raise UsageError(f"{path}: not a focal-boost model file ({type(error).__name__})") from error
    if not isinstance(saved, dict) or saved.get("format") != PICKLE_FORMAT:
        raise UsageError(f"{path}: not a focal-boost model file")
    return saved
