"""The command's model file: the fitted estimator, its feature schema and metadata, written atomically."""

from __future__ import annotations

import pathlib
from typing import Any

from focal_boost._util.files import write_atomically
from focal_boost.cli.report import UsageError
from focal_boost.cli.tables import FeatureSchema

MODEL_FORMAT = "focal-boost-model/1"


def save_model(path: str | pathlib.Path, model: Any, schema: FeatureSchema, metadata: dict[str, Any]) -> None:
    """Save the model file atomically: a failed or interrupted save leaves the previous file intact."""
    import joblib

    path = pathlib.Path(path)
    payload = {"format": MODEL_FORMAT, "model": model, "schema": schema.to_dict(), "metadata": metadata}
    # joblib compresses by the file name's suffix, which the temporary file does not have.
    method = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".lzma": "lzma", ".z": "zlib"}.get(
        path.suffix.lower()
    )
    compress = (method, 3) if method else 0
    try:
        write_atomically(path, lambda temporary: joblib.dump(payload, temporary, compress=compress))
    except OSError as error:
        raise UsageError(f"{path}: cannot write the model: {error.strerror or error}") from error


def load_model(path: str | pathlib.Path) -> dict[str, Any]:
    import joblib

    path = pathlib.Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such model file")
    try:
        saved = joblib.load(path)
    except Exception as error:  # joblib/pickle raise many types for a file that is not a model
        raise UsageError(f"{path}: not a focal-boost model file ({type(error).__name__})") from error
    if not isinstance(saved, dict) or saved.get("format") != MODEL_FORMAT:
        raise UsageError(f"{path}: not a focal-boost model file")
    return saved
