"""The rows a fit trains and validates on: labels, weights, validation data, members' splits."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import assert_all_finite
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_array, column_or_1d

from focal_boost._boosters.evaluation import evaluation_sets
from focal_boost._boosters.frames import as_pandas
from focal_boost._estimator.features import CategoryLevels, has_levels, is_frame
from focal_boost._kernels.checks import check_booster_weights
from focal_boost._util.sklearn_compat import FINITE_KEYWORD, check_feature_names_and_count, validate_data


def fit_data(estimator: Any, X: Any, y: Any, sample_weight: Any, eval_set: Any) -> tuple[tuple, tuple | None]:
    """Checked ``(train, valid)`` as ``(X, codes, weight)`` triples (``valid`` may be None).

    Sets ``estimator``'s ``classes_``, ``n_classes_``, ``n_features_in_`` (and
    ``feature_names_in_``); the labels become codes 0..K-1.
    """
    X = estimator._validate_features(X, reset=True)
    y = checked_labels(y, X.shape[0])
    encoder = LabelEncoder().fit(y)
    estimator._set_classes(encoder.classes_)
    codes = encoder.transform(y).astype(np.float64)
    weight = None if sample_weight is None else checked_weights(sample_weight, X, codes, encoder.classes_)
    features = functools.partial(estimator._validate_features, reset=False)
    return training_and_validation(X, codes, weight, eval_set, encoder, features)


def checked_class_count(classes: np.ndarray) -> int:
    """The number of classes; fewer than two is a ValueError."""
    if len(classes) < 2:
        raise ValueError(f"y has only one class ({classes[0]!r}); a classifier needs at least two")
    return len(classes)


def checked_labels(y: Any, n_rows: int) -> np.ndarray:
    """``y`` as a 1-d array of class labels for ``n_rows`` rows; missing labels are a ValueError."""
    y = column_or_1d(y, warn=True)
    if y.dtype.kind == "f":
        assert_all_finite(y, input_name="y")  # "Input y contains NaN.", before sklearn's cast warns
    elif y.dtype == object:
        missing = sum(map(_is_missing, y))
        if missing:
            raise ValueError(
                f"y contains {missing} missing labels (None or NaN) of {y.shape[0]}: drop those rows "
                "or give them a class"
            )
    check_classification_targets(y)
    if y.shape[0] != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {y.shape[0]} labels")
    return y


def checked_weights(sample_weight: Any, X: Any, codes: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """``sample_weight`` as float64, checked for the boosters (float32) and for every class's total."""
    weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
    stored = check_booster_weights(weight)
    totals = np.bincount(codes.astype(np.intp), weights=stored, minlength=classes.shape[0])
    if np.any(totals <= 0):
        empty = classes[totals <= 0].tolist()
        raise ValueError(
            f"sample_weight is 0 for every example of class{'es' if len(empty) > 1 else ''} {empty}: "
            "a class without weight cannot be learned; drop its rows or give them weight"
        )
    return weight


def training_and_validation(
    X: Any, codes: np.ndarray, weight: Any, eval_set: Any, encoder: Any, features: Callable[[Any], Any]
) -> tuple[tuple, tuple | None]:
    """``(train, valid)`` as ``(X, y, weight)`` triples; ``valid`` (the ``eval_set``) may be None.

    ``features`` checks the validation features against the training ones.
    """
    if eval_set:
        first = evaluation_sets(eval_set)[0]
        X_valid = features(first.X)
        y_valid = np.asarray(first.y)
        unseen = np.setdiff1d(y_valid, encoder.classes_)
        if unseen.size:
            raise ValueError(f"eval_set has labels not seen in y: {unseen.tolist()}")
        warn_if_one_class(y_valid)
        w_valid = None
        if first.weight is not None:
            w_valid = _check_sample_weight(first.weight, X_valid, dtype=np.float64)
            check_booster_weights(w_valid, "the eval_set's sample_weight")
            if not np.any(w_valid > 0):  # scikit-learn >= 1.4 says so itself
                raise ValueError("the eval_set's sample_weight is 0 everywhere: nothing to validate on")
        return (X, codes, weight), (X_valid, encoder.transform(y_valid).astype(np.float64), w_valid)
    return (X, codes, weight), None


def local(values: Any) -> np.ndarray:
    """A NumPy array of ``values``, computed if they are a Dask collection (validation data only)."""
    return np.asarray(values.compute() if hasattr(values, "compute") else values)


@dataclass(frozen=True)
class Split:
    """One member's data: the training and validation ``(X, codes, weight)`` triples, or the training
    triple and the rows of it held out (``holdout``), copied only when the member trains."""

    train: tuple
    valid: tuple | None
    holdout: np.ndarray | None = None

    @property
    def validated(self) -> bool:
        return self.valid is not None or self.holdout is not None

    def validation(self) -> tuple | None:
        if self.holdout is None:
            return self.valid
        return tuple(take_rows(part, self.holdout) for part in self.train)

    def validation_codes(self) -> np.ndarray | None:
        if self.holdout is None:
            return None if self.valid is None else self.valid[1]
        return self.train[1][self.holdout]

    def data(self) -> tuple[tuple, tuple | None]:
        """``(train, valid)``: with a hold-out, copies of the rows outside it and in it."""
        if self.holdout is None:
            return self.train, self.valid
        fit_rows = np.setdiff1d(np.arange(self.train[1].shape[0]), self.holdout, assume_unique=True)
        return tuple(take_rows(part, fit_rows) for part in self.train), self.validation()


def validation_data(eval_set: Any, X_val: Any, y_val: Any, sample_weight_val: Any) -> Any:
    """``eval_set``, or scikit-learn's ``X_val, y_val, sample_weight_val`` as an ``eval_set``."""
    if X_val is None and y_val is None:
        if sample_weight_val is not None:
            raise ValueError("sample_weight_val needs X_val and y_val")
        return eval_set
    if X_val is None or y_val is None:
        raise ValueError("give both X_val and y_val, or neither")
    if eval_set:
        raise ValueError("give the validation data either as eval_set or as X_val, y_val, not both")
    return [(X_val, y_val, sample_weight_val)]


def _is_missing(label: Any) -> bool:
    """Whether an object label is missing: None, a float NaN, or pandas' NA or NaT."""
    if label is None:
        return True
    if isinstance(label, (float, np.floating)):
        return bool(np.isnan(label))
    return type(label).__name__ in ("NAType", "NaTType")


def warn_if_one_class(y_valid: np.ndarray) -> None:
    """Warn when validation labels hold a single class: their focal loss then measures that class only."""
    present = np.unique(y_valid)
    if present.size == 1:
        warnings.warn(
            f"the validation data (eval_set) hold only class {present.tolist()[0]!r}: their focal loss "
            "measures that class alone, so early stopping and evals_result_ say little about "
            "the others; pass validation data with every class",
            UserWarning,
            stacklevel=4,  # the caller of fit
        )


def take_rows(X: Any, rows: np.ndarray) -> Any:
    if X is None:
        return None
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def checked_numeric_columns(frame: Any) -> np.ndarray:
    """The numeric columns of a DataFrame with categorical columns, checked as an array (finite or NaN).

    Columns of NumPy's integer and float dtypes are one array already, which
    scikit-learn checks as it checks the frame, several times faster; other
    dtypes (pandas' nullable ones, booleans, objects) go through its frame path.
    """
    if all(isinstance(dtype, np.dtype) and dtype.kind in "iuf" for dtype in frame.dtypes):
        frame = frame.to_numpy()
    return check_array(frame, dtype=[np.float64, np.float32], input_name="X", **{FINITE_KEYWORD: "allow-nan"})


def _is_checked_array(estimator: Any, X: Any) -> bool:
    """Whether ``X`` is what scikit-learn's ``validate_data`` returns unchanged in prediction.

    A 2-D float NumPy array with rows, the fitted width and no infinity, for
    a model fitted without feature names: checked here in a few microseconds,
    where ``validate_data`` takes 60-80 (mostly telling dataframe libraries
    apart), most of the estimator's cost on one row. Anything else goes
    through ``validate_data``, which raises or warns as scikit-learn does.
    """
    if type(X) is not np.ndarray or X.ndim != 2 or X.dtype not in (np.float64, np.float32) or X.shape[0] == 0:
        return False
    if hasattr(estimator, "feature_names_in_") or X.shape[1] != estimator.n_features_in_:
        return False
    return not np.isinf(X).any()


def validated_features(estimator: Any, X: Any, *, reset: bool, for_prediction: bool = False) -> Any:
    """``X`` checked; a DataFrame with categorical or text columns gets them coded to the training levels.

    Those columns become pandas categoricals with the levels seen in ``fit``
    (a level not seen there becomes missing), so that both boosters read the
    same codes in training and prediction; the other columns are checked as
    scikit-learn checks an array (finite or NaN). ``reset`` (in ``fit``)
    records the features and their levels on ``estimator``.
    ``for_prediction``: such a frame becomes one float array with those
    columns as their codes instead (:meth:`CategoryLevels.array`), which a
    trained booster scores alike, faster.
    """
    X = as_pandas(X)  # polars, pyarrow, Arrow-backed pandas: pandas with NumPy-backed columns
    if reset:
        estimator._category_levels = CategoryLevels.learn(X) if has_levels(X) else None
    levels = getattr(estimator, "_category_levels", None)
    if levels is None:
        if for_prediction and _is_checked_array(estimator, X):
            return X
        return validate_data(
            estimator,
            X,
            reset=reset,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            **{FINITE_KEYWORD: "allow-nan"},
        )
    if not is_frame(X):
        raise TypeError(
            f"this model was fitted on a DataFrame with categorical or text columns "
            f"({', '.join(map(repr, list(levels.levels)[:5]))}); pass a DataFrame with the same "
            f"columns, got {type(X).__name__}"
        )
    check_feature_names_and_count(estimator, X, reset=reset)
    if X.shape[0] == 0:
        raise ValueError("Found array with 0 sample(s) (shape=(0, ...)) while a minimum of 1 is required.")
    if for_prediction:
        return levels.array(X, checked_numeric_columns)
    return levels.frame(X, checked_numeric_columns)
