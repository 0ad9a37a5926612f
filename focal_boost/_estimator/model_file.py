"""The model file: a fitted estimator as its booster, in the booster's own format, and JSON; no pickle.

A model file is a ZIP archive of two members:

* ``focal_boost.json``: the format and its version, the versions that wrote
  it, the estimator's parameters and fitted attributes (``classes_``, the
  feature names and the category levels, the best round, ``focusing_``, ...)
  and, for the command-line tool, its own ``extra`` entries;
* the booster: ``booster.ubj`` (XGBoost's binary JSON) or ``booster.txt``
  (LightGBM's model text), the training record (loss and initial score) inside
  as :mod:`focal_boost._boosters.record` keeps it.

Reading it parses JSON and hands the booster's bytes to the booster's own
loader: nothing in it is executed. Every failure is a :class:`ModelFileError`
that says which of these it is: not a file, a pickle, a foreign file, a
corrupt or truncated one, or one from a newer focal_boost.
"""

from __future__ import annotations

import importlib
import json
import pathlib
import platform
import zipfile
from dataclasses import dataclass
from typing import Any

from sklearn.utils.validation import check_is_fitted

from focal_boost._boosters.backend import TrainedModel
from focal_boost._estimator.backends import BACKENDS
from focal_boost._estimator.features import CategoryLevels
from focal_boost._util.files import write_atomically
from focal_boost._util.portable import decode, encode
from focal_boost._util.version import __version__
from focal_boost._util.warnings import warn

__all__ = [
    "FORMAT_VERSION",
    "ModelFileError",
    "ModelFiles",
    "PickleFileError",
    "SavedModel",
    "read",
    "restore",
    "write",
]

#: What the metadata's ``format`` says.
FORMAT = "focal-boost-model"
#: The layout's version: a file of this or an older version loads; a newer one is refused.
FORMAT_VERSION = 1
#: The metadata's name inside the archive.
METADATA = "focal_boost.json"
#: The fitted attributes a model file keeps (``feature_names_in_`` only when the estimator has it).
FITTED = [
    "classes_",
    "n_classes_",
    "n_features_in_",
    "feature_names_in_",
    "best_iteration_",
    "evals_result_",
    "members_",
    "focusing_",
]
#: What :func:`read` takes from the metadata's fitted attributes: nothing else is set on the estimator.
_SAVED = {*FITTED, "category_levels"}
#: The first bytes of a pickle (protocols 2 to 5) and of joblib's compressed files (zlib, gzip, bz2, xz,
#: lzma).
_PICKLE_STARTS = (
    *(bytes([0x80, protocol]) for protocol in range(2, 6)),
    *(bytes([0x78, level]) for level in (0x01, 0x5E, 0x9C, 0xDA)),
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"\x5d\x00\x00",
)
#: What reading a pickle says.
_PICKLE_MESSAGE = (
    "{path}: a pickle or joblib file, not a focal-boost model file. Loading a pickle runs whatever "
    "code it holds, so focal_boost does not load one. If you made this file yourself and trust it, "
    "load it with joblib.load and save it again with model.save_model(path) (the command-line "
    "tool: --allow-pickle)"
)
#: ZIP entries get one fixed time, so that one model always makes the same bytes.
_ENTRY_TIME = (1980, 1, 1, 0, 0, 0)


class ModelFileError(ValueError):
    """A file that is not a model file this focal_boost can load; the message says why."""


class PickleFileError(ModelFileError):
    """A pickle or joblib file: never loaded here, since loading one runs the code it holds."""


@dataclass
class SavedModel:
    """What a model file holds: the parameters, the fitted attributes, the trained model, ``extra``."""

    params: dict[str, Any]
    fitted: dict[str, Any]
    model: TrainedModel
    extra: dict[str, Any]
    metadata: dict[str, Any]


class ModelFiles:
    """The estimator's methods that write files: its model file and its plain booster."""

    def save_model(self, path: str | pathlib.Path) -> None:
        """Save the fitted model to ``path`` for :func:`focal_boost.load_model`, atomically.

        The file is a ZIP archive of the booster in its own format (XGBoost's
        UBJSON, LightGBM's model text) and JSON: no pickle. Its layout and what
        loads across versions: ``docs/deploy.md``.
        """
        write(self, path)

    def export_booster(self, path: str | pathlib.Path) -> None:
        """Write a booster that plain XGBoost or LightGBM loads, without focal_boost, atomically.

        Its raw margin (``output_margin=True``, ``raw_score=True``) is
        :meth:`decision_function`: the best rounds only, the initial score in
        the first round's leaves. Its objective is the booster's logistic
        (binary) or softmax (multiclass), so its plain ``predict`` gives the
        raw probabilities; the posterior correction :meth:`predict_proba`
        applies by default is a formula on top (``docs/deploy.md``).
        XGBoost: ``path`` ends in ``.json`` or ``.ubj``; LightGBM: model text.
        """
        check_is_fitted(self, "booster_")
        path = pathlib.Path(path)
        model: TrainedModel = self._model
        data = BACKENDS[model.backend]().export_booster(model, path.suffix.lower())
        write_atomically(path, lambda temporary: temporary.write_bytes(data))


def write(estimator: Any, path: str | pathlib.Path, extra: dict[str, Any] | None = None) -> pathlib.Path:
    """Save fitted ``estimator`` to ``path`` atomically, with ``extra`` (what :func:`encode` saves) beside it.

    Parameters a model file cannot hold without pickle (a callable metric, a
    ``RandomState``) are left out with a warning: they matter for refitting,
    not for predicting.
    """
    check_is_fitted(estimator, "booster_")
    model: TrainedModel = estimator._model
    backend = BACKENDS[model.backend]()
    params, unsaved = {}, []
    for name, value in estimator.get_params(deep=False).items():
        try:
            params[name] = encode(value, name)
        except TypeError:
            unsaved.append(name)
    if unsaved:
        warn(
            f"the model file leaves out parameter(s) {', '.join(unsaved)} (their values cannot be saved "
            "without pickle): the loaded estimator has their defaults, which matter only for refitting"
        )
    fitted = {name: getattr(estimator, name) for name in FITTED if hasattr(estimator, name)}
    levels = getattr(estimator, "_category_levels", None)
    fitted["category_levels"] = None if levels is None else dict(levels.levels)
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "written_by": _versions(model.backend),
        "estimator": type(estimator).__name__,
        "booster": {"name": model.backend, "file": backend.booster_file, "rounds": model.n_rounds},
        "params": params,
        "unsaved_params": unsaved,
        "fitted": {name: encode(value, name) for name, value in fitted.items()},
        "extra": encode(extra or {}, "extra"),
    }
    text = json.dumps(metadata, indent=1, allow_nan=False)
    booster = backend.save_booster(model)

    def write_zip(temporary: pathlib.Path) -> None:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in [(METADATA, text.encode()), (backend.booster_file, booster)]:
                archive.writestr(zipfile.ZipInfo(name, date_time=_ENTRY_TIME), data, zipfile.ZIP_DEFLATED)

    return write_atomically(path, write_zip)


def read(path: str | pathlib.Path) -> SavedModel:
    """What :func:`write` saved at ``path``; a :class:`ModelFileError` for anything else."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    with path.open("rb") as handle:
        start = handle.read(6)
    if not zipfile.is_zipfile(path):
        if start.startswith(_PICKLE_STARTS):
            raise PickleFileError(_PICKLE_MESSAGE.format(path=path))
        raise ModelFileError(f"{path}: not a focal-boost model file (not a ZIP archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if METADATA not in names:
                raise ModelFileError(
                    f"{path}: not a focal-boost model file (a ZIP archive without {METADATA})"
                )
            metadata = _checked_metadata(path, json.loads(archive.read(METADATA)))
            booster = metadata["booster"]
            data = archive.read(booster["file"])
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError, KeyError, ValueError, UnicodeDecodeError, OSError) as error:
        raise ModelFileError(f"{path}: a corrupt or truncated model file ({error})") from error
    try:  # the metadata's values, before any booster is loaded
        name, rounds = booster["name"], int(booster["rounds"])
        fitted = {key: decode(value) for key, value in metadata["fitted"].items() if key in _SAVED}
        params = {key: decode(value) for key, value in metadata["params"].items()}
        extra = decode(metadata["extra"])
        written = dict(metadata["written_by"]).get(name, "an unknown version")
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ModelFileError(f"{path}: a corrupt model file ({METADATA}: {error!r})") from error
    if name not in BACKENDS:
        raise ModelFileError(f"{path}: a model of an unknown booster {name!r}")
    try:
        model = BACKENDS[name]().load_booster(data, rounds)
    except ValueError as error:
        raise ModelFileError(
            f"{path}: its {name} booster (written by {name} {written}) does not load: {error}"
        ) from error
    return SavedModel(params, fitted, model, extra, metadata)


def restore(estimator: Any, saved: SavedModel) -> Any:
    """``estimator`` (unfitted, with ``saved.params``) given the fitted state of ``saved``; returned."""
    fitted = dict(saved.fitted)
    levels = fitted.pop("category_levels", None)
    estimator._category_levels = None if levels is None else CategoryLevels(levels)
    for name, value in fitted.items():
        setattr(estimator, name, value)
    estimator._keep(saved.model, fitted.get("evals_result_", {}))
    return estimator


def _versions(booster: str) -> dict[str, str]:
    module = importlib.import_module(booster)
    return {"focal_boost": __version__, booster: module.__version__, "python": platform.python_version()}


def _checked_metadata(path: pathlib.Path, metadata: Any) -> dict[str, Any]:
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a focal-boost model file ({METADATA} is not this package's)")
    version = metadata.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        written = metadata.get("written_by", {}).get("focal_boost", "a newer focal_boost")
        raise ModelFileError(
            f"{path}: model format version {version}, written by focal_boost {written}, is newer than "
            f"this focal_boost {__version__} reads (up to {FORMAT_VERSION}): upgrade focal_boost"
        )
    missing = [key for key in ("written_by", "booster", "params", "fitted", "extra") if key not in metadata]
    if missing:
        raise ModelFileError(f"{path}: a corrupt model file ({METADATA} lacks {missing[0]!r})")
    return metadata
