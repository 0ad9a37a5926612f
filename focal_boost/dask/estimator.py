"""DaskFocalBoostClassifier: :class:`~focal_boost.FocalBoostClassifier` on Dask collections.

The estimator's own ``fit`` and prediction methods, with its hooks pointed at
the cluster: the Dask backends (:mod:`focal_boost.dask.backends`) and Dask
data checks (:mod:`focal_boost.dask.data`); predictions are lazy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from focal_boost._boosters.evaluation import evaluation_sets
from focal_boost._estimator.classifier import FocalBoostClassifier
from focal_boost._estimator.data import warn_if_one_class
from focal_boost._estimator.params import is_auto_rounds
from focal_boost._util.extras import require
from focal_boost.dask import data as _dask_data
from focal_boost.dask.backends import DASK_BACKENDS


class DaskFocalBoostClassifier(FocalBoostClassifier):
    """:class:`~focal_boost.FocalBoostClassifier` trained and predicting on a Dask cluster.

    The same parameters and fitted attributes; ``fit`` takes Dask arrays,
    DataFrames or Series (no rows are gathered to the client: the classes, the
    class counts and the initial score are computed on the cluster), and
    :meth:`predict_proba`, :meth:`predict` and :meth:`decision_function`
    return lazy Dask arrays. The cluster is the ``client`` attribute (set it,
    or the current default client is used), as with ``xgboost.dask``.

    Backends: XGBoost (``xgboost.dask``; early stopping on an ``eval_set``,
    with the exact global metric) and LightGBM (``lightgbm.dask``, which
    supports no callbacks: no ``eval_set`` and no early stopping). No hold-out
    is drawn on the cluster, so one model is trained (``n_members`` does not
    apply): with ``early_stopping_rounds="auto"`` (the default) it early-stops
    on an ``eval_set`` if one is given, else trains every round; a number
    without an ``eval_set`` is an error. ``gamma="auto"`` needs an
    ``eval_set``.
    """

    _holds_out = False  # no hold-out split is drawn on the cluster

    @property
    def client(self) -> Any:
        client = getattr(self, "_client", None)
        if client is None:
            client = require("distributed", "DaskFocalBoostClassifier").get_client()
        return client

    @client.setter
    def client(self, client: Any) -> None:
        self._client = client

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_client", None)  # a connection, not part of the model
        return state

    # ------------------------------------------------------------------ the estimator's hooks

    def _backend(self, name: str) -> Any:
        return DASK_BACKENDS[name](lambda: self.client)

    def _balanced(self, loss: Any, train: tuple) -> Any:
        return loss  # one model: the backend fixes alpha="balanced" from class totals on the cluster

    def _fit_data(self, X: Any, y: Any, sample_weight: Any, eval_set: Any) -> tuple[tuple, tuple | None]:
        """Aligned Dask collections; the classes and their codes are found on the cluster."""
        if (
            self.early_stopping_rounds is not None
            and not is_auto_rounds(self.early_stopping_rounds)
            and not eval_set
        ):
            raise ValueError("early stopping on Dask needs an eval_set (no validation split is drawn)")
        columns = getattr(X, "columns", None)
        X, X_array, y, weight = _dask_data.aligned(X, y, sample_weight)
        self.n_features_in_ = int(X_array.shape[1])
        if columns is not None and all(isinstance(c, str) for c in columns):
            self.feature_names_in_ = np.asarray(list(columns), dtype=object)
        if y.dtype.kind == "f":
            _, da = _dask_data.dask_modules()
            if bool(da.isnan(y).any().compute()):
                raise ValueError("Input y contains NaN.")
        self._set_classes(_dask_data.classes_of(y))
        valid = None
        if eval_set:
            first = evaluation_sets(eval_set)[0]
            X_valid, _, y_valid, w_valid = _dask_data.aligned(
                first.X, first.y, first.weight, what="eval_set: "
            )
            warn_if_one_class(_dask_data.classes_of(y_valid))
            valid = (X_valid, _dask_data.encoded(y_valid, self.classes_), w_valid)
        return (X, _dask_data.encoded(y, self.classes_), weight), valid

    def _prediction_features(self, X: Any) -> Any:
        X_array = _dask_data.dask_array(X, "X")
        if X_array.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X_array.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        return X

    def _probabilities(self, margin: Any, convert: Any) -> Any:
        return _dask_data.lazy_probabilities(margin, convert, self.n_classes_)

    # ------------------------------------------------------------------ lazy labels, cluster score

    def predict(self, X: Any) -> Any:
        """Lazy predicted labels (the most probable class of each row)."""
        classes = self.classes_
        return self.predict_proba(X).map_blocks(
            lambda p: classes[np.argmax(p, axis=1)], dtype=classes.dtype, drop_axis=1
        )

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy, computed on the cluster."""
        hits = self.predict(X) == _dask_data.dask_array(y, "y")
        if sample_weight is None:
            return float(hits.mean().compute())
        weight = _dask_data.dask_array(sample_weight, "sample_weight")
        return float(((hits * weight).sum() / weight.sum()).compute())
