"""Tables on disk for the command-line tool: read, check, turn into features, write.

Everything here raises :class:`TableError` with a one-line message that names
the file or column at fault; the CLI prints it and exits with status 2.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from focal_boost._estimator.features import CategoryLevels, is_categorical, is_text
from focal_boost._util.extras import require
from focal_boost._util.files import write_atomically

SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}

#: A text column is "numeric with junk" when at least this share of its values parse as numbers.
NUMERIC_SHARE = 0.9
#: A text column with more distinct values than this share of the rows looks like an identifier.
IDENTIFIER_SHARE = 0.5


class TableError(ValueError):
    """Bad input data; the message is one line meant for the user."""


def _pandas() -> Any:
    try:
        return require("pandas", "the command-line tool")
    except ImportError as error:  # pragma: no cover - exercised without the extra
        raise TableError(str(error)) from error


def _format(path: pathlib.Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".zip", ".xz", ".zst"):
        suffixes = suffixes[:-1]
    kind = SUFFIXES.get(suffixes[-1] if suffixes else "")
    if kind is None:
        raise TableError(f"{path}: unknown file type (use .csv, .tsv or .parquet)")
    return kind


def read_table(path: str | pathlib.Path) -> Any:
    """A CSV/TSV (optionally compressed) or Parquet file as a pandas DataFrame."""
    pd = _pandas()
    path = pathlib.Path(path)
    kind = _format(path)
    if not path.is_file():
        raise TableError(f"{path}: no such file")
    try:
        if kind == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, sep="\t" if kind == "tsv" else ",", low_memory=False)
    except ImportError as error:
        raise TableError(f"{path}: reading Parquet needs pyarrow: pip install 'focal-boost[cli]'") from error
    except (ValueError, UnicodeDecodeError, OSError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise TableError(f"{path}: cannot read as {kind}: {reason}") from error
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise TableError(f"{path}: no rows or no columns")
    return frame


#: pandas' names of the compressions a CSV/TSV file name can ask for.
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz", ".zst": "zstd"}


def write_table(frame: Any, path: str | pathlib.Path) -> None:
    """Write ``frame`` as CSV/TSV (compressed by the suffix, e.g. ``.csv.gz``) or Parquet, atomically.

    An interrupted or failed write leaves the file that was there before, never a truncated one.
    """
    path = pathlib.Path(path)
    kind = _format(path)
    compression = COMPRESSIONS.get(path.suffix.lower())

    def write(temporary: pathlib.Path) -> None:
        if kind == "parquet":
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_csv(temporary, sep="\t" if kind == "tsv" else ",", index=False, compression=compression)

    try:
        write_atomically(path, write)
    except ImportError as error:
        raise TableError(f"{path}: writing Parquet needs pyarrow: pip install 'focal-boost[cli]'") from error
    except OSError as error:
        raise TableError(f"{path}: cannot write: {error.strerror or error}") from error


@dataclass
class FeatureSchema:
    """The feature columns a model was trained on, and the levels of its categorical ones.

    The levels are learned and applied by :class:`focal_boost._estimator.features.CategoryLevels`,
    the estimator's own code path; this adds the checks a text file needs.
    """

    columns: list[str]
    categories: dict[str, list[Any]] = field(default_factory=dict)
    #: Integer columns that look like row identifiers (found by :meth:`learn`; not saved).
    identifiers: list[str] = field(default_factory=list, compare=False)

    @classmethod
    def learn(cls, frame: Any, *, target: str, drop: list[str] = ()) -> FeatureSchema:
        """Feature columns of ``frame`` (all but ``target`` and ``drop``), checked."""
        missing = [name for name in [target, *drop] if name not in frame.columns]
        if missing:
            raise TableError(f"no column named {missing[0]!r} (columns: {_listing(frame.columns)})")
        columns = [str(c) for c in frame.columns if c != target and c not in drop]
        if not columns:
            raise TableError("no feature columns left besides the target")
        features = frame[[c for c in frame.columns if c != target and c not in drop]]
        features.columns = columns
        _check_text_columns(features)
        levels = CategoryLevels.learn(features).levels
        identifiers = [
            name for name in columns if name not in levels and _looks_like_row_numbers(features[name])
        ]
        return cls(columns, {name: list(values) for name, values in levels.items()}, identifiers)

    def features(self, frame: Any) -> Any:
        """``frame``'s feature columns as the model expects them.

        Numeric and boolean columns become float64; text and categorical
        columns become pandas categoricals with the training levels (a level
        not seen in training becomes missing).
        """
        pd = _pandas()
        missing = [name for name in self.columns if name not in frame.columns]
        if missing:
            raise TableError(f"the data lack the model's feature column {missing[0]!r}")
        levels = CategoryLevels({name: tuple(values) for name, values in self.categories.items()})
        out = {}
        for name in self.columns:
            values = frame[name]
            out[name] = levels.encode(values, name) if name in self.categories else _numeric(name, values, pd)
        return pd.DataFrame(out, index=frame.index)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "categories": self.categories}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSchema:
        return cls(list(data["columns"]), {k: list(v) for k, v in data["categories"].items()})


def _check_text_columns(frame: Any) -> None:
    """Text columns that are numbers with junk, or look like identifiers: all named in one error."""
    pd = _pandas()
    junk, identifiers = [], []
    for name in frame.columns:
        values = frame[name]
        if is_categorical(values) or not is_text(values):
            continue
        present = values.dropna()
        if present.empty:
            continue
        numeric = pd.to_numeric(present, errors="coerce").notna()
        if numeric.mean() >= NUMERIC_SHARE:
            bad = present[~numeric]
            junk.append((name, str(bad.iloc[0]), bad.index[0]))
            continue
        distinct = present.nunique()
        if distinct > max(50, IDENTIFIER_SHARE * len(present)):
            identifiers.append((name, distinct))
    problems = []
    if len(junk) == 1:
        name, value, row = junk[0]
        problems.append(
            f"column {name!r} is numeric but has non-numeric values such as {value!r} (row {row}); "
            "fix or drop them"
        )
    elif junk:
        named = ", ".join(f"{name!r} (e.g. {value!r} in row {row})" for name, value, row in junk)
        problems.append(f"columns {named} are numeric but have non-numeric values; fix or drop them")
    if identifiers:
        named = ", ".join(f"{name!r} ({distinct} distinct values)" for name, distinct in identifiers)
        drops = " ".join(f"--drop {name}" for name, _ in identifiers)
        problems.append(
            f"text column{'s' if len(identifiers) > 1 else ''} {named} look like identifiers: "
            f"leave {'them' if len(identifiers) > 1 else 'it'} out with {drops}"
        )
    if problems:
        raise TableError("; ".join(problems))


#: The fewest rows in which an integer column that is all distinct and in order is called an identifier.
IDENTIFIER_ROWS = 20


def _looks_like_row_numbers(values: Any) -> bool:
    """Whether a numeric column holds whole numbers, all distinct, in increasing or decreasing order."""
    if values.dtype == bool or values.dtype.kind not in "iuf" or len(values) < IDENTIFIER_ROWS:
        return False
    numbers = values.to_numpy()
    if values.dtype.kind == "f" and not (
        np.all(np.isfinite(numbers)) and np.all(np.floor(numbers) == numbers)
    ):
        return False
    steps = np.diff(numbers)
    return bool(np.all(steps > 0) or np.all(steps < 0))


def _numeric(name: str, values: Any, pd: Any) -> np.ndarray:
    if values.dtype == bool:
        return values.to_numpy(dtype=np.float64)
    parsed = pd.to_numeric(values, errors="coerce")
    bad = parsed.isna() & values.notna()
    if bad.any():
        raise TableError(
            f"column {name!r} should be numeric but has {str(values[bad].iloc[0])!r} "
            f"(row {values.index[bad][0]})"
        )
    return parsed.to_numpy(dtype=np.float64, na_value=np.nan)


def target_values(frame: Any, target: str) -> np.ndarray:
    """The target column, checked: present, no missing values, class labels, at least two classes."""
    if target not in frame.columns:
        raise TableError(f"no target column {target!r} (columns: {_listing(frame.columns)})")
    values = frame[target]
    if values.isna().any():
        raise TableError(f"target column {target!r} has {int(values.isna().sum())} missing values")
    labels = values.to_numpy()
    if labels.dtype == object or is_text(values):
        labels = labels.astype(str)
    distinct = len(np.unique(labels))
    if labels.dtype.kind == "f" and not np.all(np.floor(labels) == labels):
        raise TableError(
            f"target column {target!r} is not a class label column: {distinct} distinct values, "
            "not all whole numbers (a continuous target?)"
        )
    if distinct > max(50, IDENTIFIER_SHARE * len(labels)):
        raise TableError(
            f"target column {target!r} is not a class label column: {distinct} distinct values "
            f"in {len(labels)} rows"
        )
    if distinct < 2:
        raise TableError(f"target column {target!r} has only one class ({labels[0]!r}); nothing to learn")
    return labels


def _listing(columns: Any, most: int = 8) -> str:
    names = [str(c) for c in columns]
    shown = ", ".join(names[:most])
    return shown + (f", ... ({len(names)} in all)" if len(names) > most else "")
