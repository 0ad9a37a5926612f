"""The estimator's explanations: exact per-feature contributions (:mod:`focal_boost.explain`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from focal_boost._boosters.backend import TrainedModel
from focal_boost._boosters.frames import as_pandas
from focal_boost._estimator.backends import BACKENDS
from focal_boost._estimator.data import validated_features
from focal_boost._estimator.params import thread_count
from focal_boost.explain import Explanation, check_space, explanation


class Explaining:
    """:meth:`explain`, for :class:`~focal_boost.FocalBoostClassifier` (and its Dask twin, on local data)."""

    def explain(self, X: Any, *, space: str = "margin") -> Explanation:
        """Exact per-feature contributions to each row's output: ``values.sum(axis=1) + base_values``.

        ``space``:

        * ``"margin"`` (default): the booster's exact TreeSHAP of
          :meth:`decision_function` over the best rounds, the initial score
          in ``base_values``; focal-margin units (``docs/explain.md``);
        * ``"log_odds"`` (binary): of the log-odds of :meth:`predict_proba`'s
          positive class;
        * ``"probability"``: of :meth:`predict_proba` (posterior-corrected,
          or raw with ``probability="raw"``): the positive class's for a
          binary model, every class's for a multiclass one.

        ``X``: what :meth:`predict_proba` takes (arrays, sparse matrices,
        frames with category or text columns), in memory. Returns an
        :class:`~focal_boost.explain.Explanation`; ``.to_shap()`` gives a
        ``shap.Explanation`` for shap's plots.
        """
        check_is_fitted(self, "booster_")
        check_space(space, self.n_classes_ == 2)
        if hasattr(X, "__dask_graph__"):
            raise TypeError(
                "explain takes in-memory data (a NumPy array, SciPy sparse matrix or pandas frame), "
                f"got a Dask {type(X).__name__}: compute the rows to explain first (X.compute())"
            )
        model: TrainedModel = self._model
        X = as_pandas(X)  # once: for the features and for display_data
        features = validated_features(self, X, reset=False, for_prediction=True)
        values, base = BACKENDS[model.backend]().contributions(model, features, thread_count(self.n_jobs))
        names = getattr(self, "feature_names_in_", None)
        names = [f"x{i}" for i in range(self.n_features_in_)] if names is None else [str(n) for n in names]
        levels = getattr(self, "_category_levels", None)
        return explanation(
            values,
            base,
            space=space,
            log_proba=self.loss_.predict_log_proba
            if self.probability == "raw"
            else self.loss_.posterior_log_proba,
            classes=list(self.classes_),
            data=features,
            feature_names=names,
            display_data=None if levels is None else np.asarray(X, dtype=object),
        )
