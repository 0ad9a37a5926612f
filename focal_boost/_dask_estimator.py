"""DaskFocalBoostClassifier: :class:`~focal_boost.FocalBoostClassifier` on Dask collections."""

from __future__ import annotations

from typing import Any

import numpy as np

from focal_boost._backends import BACKENDS, TrainedModel
from focal_boost.estimator import FocalBoostClassifier, warn_if_one_class
from focal_boost.loss import FocalLoss


def _dask_array(values: Any, name: str) -> Any:
    import dask.array as da

    if hasattr(values, "to_dask_array"):  # Dask DataFrame or Series
        dtype = getattr(values, "dtype", None)  # a Series' (DataFrames have dtypes)
        if dtype is not None and not isinstance(dtype, np.dtype):
            values = values.astype(object)  # pandas' string (extension) dtype: labels as objects
        values = values.to_dask_array(lengths=True)
    elif not isinstance(values, da.Array):
        raise TypeError(f"{name} must be a Dask array, DataFrame or Series, got {type(values).__name__}")
    return values


class DaskFocalBoostClassifier(FocalBoostClassifier):
    """:class:`~focal_boost.FocalBoostClassifier` trained and predicting on a Dask cluster.

    The same parameters and fitted attributes; ``fit`` takes Dask arrays,
    DataFrames or Series (no rows are gathered to the client: the classes, the
    class counts and the initial score are computed on the cluster), and
    :meth:`predict_proba`, :meth:`predict` and :meth:`decision_function`
    return lazy Dask arrays. The cluster is the ``client`` attribute (set it,
    or the current default client is used), as with ``xgboost.dask``.

    Backends: XGBoost (``xgboost.dask``; early stopping on an ``eval_set``,
    with the exact global focal loss) and LightGBM (``lightgbm.dask``, which
    supports no callbacks: no ``eval_set`` and no early stopping). Without an
    ``eval_set``, ``early_stopping_rounds`` is an error (no hold-out split is
    drawn on the cluster).
    """

    @property
    def client(self) -> Any:
        client = getattr(self, "_client", None)
        if client is None:
            from distributed import get_client

            client = get_client()
        return client

    @client.setter
    def client(self, client: Any) -> None:
        self._client = client

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_client", None)  # a connection, not part of the model
        return state

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, eval_set: Any = None
    ) -> DaskFocalBoostClassifier:
        """Train on Dask collections ``X, y`` (and ``sample_weight``; ``eval_set`` for XGBoost)."""
        self._check_parameters()
        if self.early_stopping_rounds is not None and not eval_set:
            raise ValueError("early stopping on Dask needs an eval_set (no validation split is drawn)")
        if self.backend == "lightgbm" and eval_set:
            raise ValueError(
                "lightgbm.dask supports no callbacks: no eval_set or early stopping with LightGBM"
            )
        BACKENDS[self.backend]()  # an ImportError naming the extra if the booster is missing
        from focal_boost.dask import _aligned

        columns = getattr(X, "columns", None)
        X, X_array, y, weight = _aligned(X, y, sample_weight)
        self.n_features_in_ = int(X_array.shape[1])
        if columns is not None and all(isinstance(c, str) for c in columns):
            self.feature_names_in_ = np.asarray(list(columns), dtype=object)
        if y.dtype.kind == "f":
            import dask.array as da

            if bool(da.isnan(y).any().compute()):
                raise ValueError("Input y contains NaN.")
        self.classes_ = np.unique(np.asarray(y.map_blocks(np.unique, dtype=y.dtype).compute()))
        self.n_classes_ = len(self.classes_)
        if self.n_classes_ < 2:
            raise ValueError(f"y has only one class ({self.classes_[0]!r}); a classifier needs at least two")
        loss = FocalLoss(self.gamma, self._class_alpha(), hessian=self.hessian)
        codes = self._codes(y)
        if self.backend == "xgboost":
            return self._keep(self._train_xgboost(X, codes, weight, loss, eval_set))
        return self._keep(self._train_lightgbm(X, X_array.chunks[0], codes, weight, loss))

    def _codes(self, y: Any) -> Any:
        classes = self.classes_

        def encode(block: np.ndarray) -> np.ndarray:
            codes = np.searchsorted(classes, block)
            unseen = (codes >= len(classes)) | (classes[np.minimum(codes, len(classes) - 1)] != block)
            if np.any(unseen):
                raise ValueError(f"labels not seen in y: {np.unique(block[unseen])[:5].tolist()}")
            return codes.astype(np.float64)

        return y.map_blocks(encode, dtype=np.float64)

    def _train_xgboost(self, X: Any, codes: Any, weight: Any, loss: FocalLoss, eval_set: Any) -> TrainedModel:
        from focal_boost import xgboost as fx
        from focal_boost.dask import xgboost_train

        params = BACKENDS["xgboost"]().params(self._settings())
        evals = []
        if eval_set:
            from focal_boost.dask import _aligned

            first = eval_set[0]
            X_valid, _, y_valid, w_valid = _aligned(
                first[0], first[1], first[2] if len(first) > 2 else None, what="eval_set: "
            )
            warn_if_one_class(
                np.unique(np.asarray(y_valid.map_blocks(np.unique, dtype=y_valid.dtype).compute()))
            )
            evals.append((X_valid, self._codes(y_valid), w_valid))
        result = xgboost_train(
            self.client,
            params,
            X,
            codes,
            int(self.n_estimators),
            loss=loss,
            sample_weight=weight,
            eval_set=evals,
            early_stopping_rounds=self.early_stopping_rounds,
            verbose_eval=False,
        )
        booster = result["booster"]
        stopped = bool(evals) and self.early_stopping_rounds is not None
        rounds = booster.best_iteration + 1 if stopped else int(self.n_estimators)
        record = fx.training_record(booster)
        trained_loss, init = record.loss, record.init_score
        history = {"valid": result["history"]["valid_0"]} if evals else {}
        return TrainedModel("xgboost", booster, trained_loss, init, rounds, history)

    def _train_lightgbm(self, X: Any, rows: tuple, codes: Any, weight: Any, loss: FocalLoss) -> TrainedModel:
        import dask.array as da
        import lightgbm as lgb

        from focal_boost import lightgbm as fl
        from focal_boost.dask import initial_score

        multiclass = self.n_classes_ > 2
        loss, init = initial_score(loss, codes, weight, n_classes=self.n_classes_ if multiclass else None)
        params = BACKENDS["lightgbm"]().params(self._settings())
        params.pop("num_class", None)  # LGBMClassifier sets it from the labels
        model = lgb.DaskLGBMClassifier(
            client=self.client,
            objective=fl.SklearnFocalObjective(loss),
            n_estimators=int(self.n_estimators),
            **params,
        )
        start = (
            da.broadcast_to(da.asarray(init), (sum(rows), len(init)), chunks=(rows, -1))
            if multiclass
            else da.full(sum(rows), float(init), chunks=(rows,))
        )
        model.fit(X, codes, sample_weight=weight, init_score=start)
        init = np.asarray(init, dtype=np.float64)
        return TrainedModel("lightgbm", model.booster_, loss, init, int(self.n_estimators), {})

    # ------------------------------------------------------------------ prediction (lazy)

    def decision_function(self, X: Any) -> Any:
        """Lazy raw margins, initial score included: (n,) binary, (n, K) multiclass."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "booster_")
        X_array = _dask_array(X, "X")
        if X_array.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X_array.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        if self._model.backend == "xgboost":
            from focal_boost.dask import xgboost_predict_margin

            return xgboost_predict_margin(
                self.client, self.booster_, X, iteration_range=(0, self.best_iteration_)
            )
        booster, init, rounds = self.booster_, self._model.init_score, self.best_iteration_

        def margins(block: np.ndarray) -> np.ndarray:
            if block.shape[0] == 0:  # an empty partition
                return np.empty((0, init.shape[0]) if init.ndim else (0,))
            return booster.predict(block, raw_score=True, num_iteration=rounds) + init

        # meta: an empty result of the right type, so that Dask does not call the booster on a
        # zero-width block to find it out.
        if self.n_classes_ > 2:
            return X_array.rechunk({1: -1}).map_blocks(
                margins,
                dtype=np.float64,
                chunks=(X_array.chunks[0], (self.n_classes_,)),
                meta=np.empty((0, 0), dtype=np.float64),
            )
        return X_array.rechunk({1: -1}).map_blocks(
            margins, dtype=np.float64, drop_axis=1, meta=np.empty((0,), dtype=np.float64)
        )

    def predict_proba(self, X: Any) -> Any:
        """Lazy class probabilities, (n, n_classes): posterior-corrected unless ``probability="raw"``."""
        import dask.array as da

        return da.exp(self.predict_log_proba(X))

    def predict_log_proba(self, X: Any) -> Any:
        """Lazy log-probabilities, computed in log space (``predict_proba`` is their ``exp``)."""
        from focal_boost.dask import _probabilities

        margin = self.decision_function(X)
        loss = self.loss_
        convert = loss.predict_log_proba if self.probability == "raw" else loss.posterior_log_proba
        return _probabilities(margin, convert, self.n_classes_)

    def predict(self, X: Any) -> Any:
        """Lazy predicted labels (the most probable class of each row)."""
        classes = self.classes_
        return self.predict_proba(X).map_blocks(
            lambda p: classes[np.argmax(p, axis=1)], dtype=classes.dtype, drop_axis=1
        )

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy, computed on the cluster."""
        hits = self.predict(X) == _dask_array(y, "y")
        if sample_weight is None:
            return float(hits.mean().compute())
        weight = _dask_array(sample_weight, "sample_weight")
        return float(((hits * weight).sum() / weight.sum()).compute())
