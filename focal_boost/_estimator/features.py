"""Feature tables: categorical and text columns held to the levels seen in training.

A booster scores a categorical column by its integer codes, so a frame at
prediction time must code its levels exactly as the training frame did.
Pandas codes a column by the order of *its own* categories: a level the
training data never had, or an extra level declared in the dtype, shifts the
codes (XGBoost then scores an unseen level as whichever training level has
its code, and an extra declared level makes it fail in C++). So the levels of
every categorical or text column are recorded when a model is fitted
(:meth:`CategoryLevels.learn`) and every later frame is recoded to them
(:meth:`CategoryLevels.encode`): a value not among them becomes missing, as
LightGBM does on its own. Numeric columns are checked as scikit-learn checks
an array (finite or NaN).

Both :class:`~focal_boost.FocalBoostClassifier` and the ``focal-boost``
command use this, the command adding its own checks of text files on top
(:mod:`focal_boost.cli.tables`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from focal_boost._boosters.data import is_categorical, is_frame
from focal_boost._util.warnings import warn

#: What ``pandas.api.types.infer_dtype`` calls the values of an object column that holds numbers.
_NUMERIC_INFERRED = {"integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty"}


def is_text(values: Any) -> bool:
    """Whether a pandas Series holds text: a string dtype, or objects that are not all numbers."""
    import pandas as pd

    if isinstance(values.dtype, pd.StringDtype) or str(values.dtype) in ("string", "str"):
        return True
    if values.dtype != object:
        return False
    return pd.api.types.infer_dtype(values, skipna=True) not in _NUMERIC_INFERRED


def has_levels(X: Any) -> bool:
    """Whether ``X`` is a DataFrame with a categorical or text column."""
    return is_frame(X) and any(is_categorical(X[c]) or is_text(X[c]) for c in X.columns)


def text_levels(values: Any) -> list[str]:
    """The sorted distinct values of a text column, as strings (missing values left out)."""
    return sorted({str(v) for v in values.dropna().unique()})


@dataclass(frozen=True)
class CategoryLevels:
    """The levels of each categorical or text column of a training frame, by column name.

    A categorical column keeps its categories in their order; a text column
    has its distinct values, sorted, as strings. Levels that are all strings
    are matched as strings (a column read as numbers at prediction time still
    finds the levels ``"1"``, ``"2"``), others by value.
    """

    levels: Mapping[str, tuple]

    @classmethod
    def learn(cls, frame: Any) -> CategoryLevels:
        """The levels of ``frame``'s categorical and text columns."""
        levels = {}
        for name in frame.columns:
            values = frame[name]
            if is_categorical(values):
                levels[name] = tuple(values.cat.categories)
            elif is_text(values):
                levels[name] = tuple(text_levels(values))
        return cls(levels)

    def codes(self, values: Any, name: Any) -> np.ndarray:
        """Column ``name``'s ``values`` (a Series) as codes of the training levels, -1 where missing.

        A value not among them, and a missing value, become missing.
        """
        import pandas as pd

        index, as_text = self._indexes[name]
        if is_categorical(values):  # recode its categories, then map its codes: no pass over the values
            categories = np.asarray(values.cat.categories, dtype=object)
            if as_text:
                categories = categories.astype(str).astype(object)
            mapping = np.append(index.get_indexer(categories), -1)  # code -1 (missing) stays -1
            return mapping[values.cat.codes.to_numpy()]
        values = values.to_numpy(dtype=object)
        missing = pd.isna(values)
        present = values[~missing]
        if as_text:
            present = np.array([str(v) for v in present], dtype=object)
        codes = np.full(len(values), -1, dtype=np.int64)
        codes[~missing] = index.get_indexer(present)
        return codes

    @functools.cached_property
    def _indexes(self) -> dict[Any, tuple[Any, bool]]:
        """Per column: its levels as a pandas Index (which keeps its hash table between calls), and
        whether they are matched as strings."""
        import pandas as pd

        return {
            name: (pd.Index(levels), all(isinstance(level, str) for level in levels))
            for name, levels in self.levels.items()
        }

    def encode(self, values: Any, name: Any) -> Any:
        """Column ``name``'s ``values`` as a Categorical with the training levels (:meth:`codes`)."""
        import pandas as pd

        return pd.Categorical.from_codes(self.codes(values, name), categories=self._indexes[name][0])

    def frame(self, frame: Any, check_numeric: Any) -> Any:
        """``frame`` with its level columns encoded and its other columns passed through ``check_numeric``.

        ``check_numeric`` takes the 2-D frame of the other columns and returns
        them as an array (e.g. ``sklearn.utils.check_array``), or raises.
        What a booster is trained on: it learns which columns are categorical.
        """
        import pandas as pd

        numeric = [name for name in frame.columns if name not in self.levels]
        checked = check_numeric(frame[numeric]) if numeric else None
        columns = {}
        for name in frame.columns:
            if name in self.levels:
                columns[name] = self.encode(frame[name], name)
                warn_if_mostly_unseen(frame[name], columns[name].codes, name)
            else:
                columns[name] = checked[:, numeric.index(name)]
        out = pd.DataFrame(columns, index=frame.index)
        out.columns = frame.columns
        return out

    def array(self, frame: Any, check_numeric: Any) -> np.ndarray:
        """``frame`` as one float64 array: its level columns as their codes (NaN where missing).

        What a trained booster predicts from: both boosters score a
        categorical split on the code, and read NaN as missing, so their
        margins on this array equal those on :meth:`frame`'s (bit for bit,
        ``tests/test_estimator_inputs.py``) without their per-call conversion
        of a pandas frame, most of the time of a prediction of a few rows.
        """
        numeric = [i for i, name in enumerate(frame.columns) if name not in self.levels]
        out = np.empty(frame.shape, dtype=np.float64)
        if numeric:
            out[:, numeric] = check_numeric(frame.iloc[:, numeric])
        for i, name in enumerate(frame.columns):
            if name in self.levels:
                values = frame.iloc[:, i]
                codes = self.codes(values, name)
                warn_if_mostly_unseen(values, codes, name)
                out[:, i] = np.where(codes < 0, np.nan, codes)
        return out


#: The share of a level column's values unseen in training above which predicting warns.
UNSEEN_SHARE_WARNED = 0.5


def warn_if_mostly_unseen(values: Any, codes: np.ndarray, name: Any) -> None:
    """Warn when most present values of a level column were never seen in training (they become missing).

    A few new levels are normal; most of a column unseen means the data differ
    from the training data's coding (e.g. the levels' integer codes instead of
    their labels), and the model would silently score the column as missing.
    """
    if not (codes < 0).any():  # every value a training level
        return
    present = ~values.isna().to_numpy()
    count = int(present.sum())
    if count == 0:
        return
    unseen = present & (codes < 0)
    share = float(unseen.sum()) / count
    if share <= UNSEEN_SHARE_WARNED:
        return
    examples = ", ".join(repr(v) for v in list(dict.fromkeys(values[unseen].tolist()))[:3])
    warn(
        f"column {name!r}: {share:.0%} of its {count:,} values ({int(unseen.sum()):,}) are levels never "
        f"seen in fit (e.g. {examples}), which the model scores as missing; pass the column as it was in "
        "training (its labels, not their integer codes)"
    )
