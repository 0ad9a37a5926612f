"""What differs between the scikit-learn versions we support (1.3 to the newest)."""

from __future__ import annotations

from typing import Any

import sklearn
from sklearn.utils.fixes import parse_version

SKLEARN_VERSION = parse_version(parse_version(sklearn.__version__).base_version)

#: ``check_array``'s keyword for the NaN/inf policy (renamed in 1.6).
_RENAMED_FINITE = parse_version("1.6")
FINITE_KEYWORD = "ensure_all_finite" if _RENAMED_FINITE <= SKLEARN_VERSION else "force_all_finite"

#: ``make_scorer``'s keywords for a scorer of ``predict_proba`` (``needs_proba`` before 1.4).
PROBA_SCORER_KEYWORDS: dict[str, Any] = (
    {"response_method": "predict_proba"} if parse_version("1.4") <= SKLEARN_VERSION else {"needs_proba": True}
)

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - scikit-learn < 1.6
    _validate_data = None


def validate_data(
    estimator: Any, X: Any, y: Any = "no_validation", *, reset: bool = True, **kwargs: Any
) -> Any:
    """``sklearn.utils.validation.validate_data`` (1.6+) or ``estimator._validate_data`` before it."""
    if _validate_data is not None:
        return _validate_data(estimator, X, y, reset=reset, **kwargs)
    return estimator._validate_data(X, y, reset=reset, **kwargs)  # pragma: no cover


def check_feature_names_and_count(estimator: Any, X: Any, *, reset: bool) -> None:
    """Record (``reset``) or check ``feature_names_in_`` and ``n_features_in_`` without converting ``X``."""
    if _validate_data is not None:
        _validate_data(estimator, X, skip_check_array=True, reset=reset)
    else:  # pragma: no cover - scikit-learn < 1.6
        estimator._check_feature_names(X, reset=reset)
        estimator._check_n_features(X, reset=reset)
