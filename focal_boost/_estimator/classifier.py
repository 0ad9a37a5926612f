"""FocalBoostClassifier: gradient-boosted trees trained on focal loss, as a scikit-learn classifier.

The estimator owns what the boosters' own wrappers lose with a custom
objective: the initial score (:meth:`FocalLoss.init_score`, set before the
first tree and added back to every prediction) and the link (sigmoid or
softmax, then by default the focal posterior correction), so
:meth:`~FocalBoostClassifier.predict_proba` returns probabilities, never raw
scores.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from focal_boost._boosters.backend import TrainedModel
from focal_boost._boosters.validation import validation_metric
from focal_boost._estimator import explaining, model_file
from focal_boost._estimator.backends import BACKENDS
from focal_boost._estimator.data import (
    checked_class_count,
    fit_data,
    validated_features,
    validation_data,
)
from focal_boost._estimator.members import (
    candidate_gammas,
    focusing,
    member_record,
    member_splits,
    train_members,
    warn_if_stopped_at_once,
)
from focal_boost._estimator.params import (
    DEFAULT_METRIC,
    boosting_settings,
    check_parameters,
    class_alpha,
    thread_count,
    unknown_parameter_message,
)
from focal_boost.loss import FocalLoss

__all__ = ["FocalBoostClassifier"]


class FocalBoostClassifier(ClassifierMixin, model_file.ModelFiles, explaining.Explaining, BaseEstimator):
    r"""Gradient-boosted trees (XGBoost or LightGBM) on focal or log loss, early-stopped without losing rows.

    Focal loss (Lin et al., 2017), ``FL(p_t) = -alpha_t (1 - p_t)^gamma log p_t``,
    down-weights examples the model already gets right, so that the trees
    concentrate on the hard ones; ``alpha`` re-weights the classes. With
    ``gamma=0, alpha=None`` (the default) it is the booster's own log loss,
    trained with the booster's built-in objective. Binary problems use the
    sigmoid, multiclass problems the softmax focal loss.

    At its defaults the estimator early-stops on held-out data without giving
    those rows up (``n_members``), and keeps one booster (``booster_``). Why
    these defaults, measured on 15 real imbalanced sets: ``docs/quality.md``.

    Parameters
    ----------
    backend : {"xgboost", "lightgbm"}, default="xgboost"
        The booster; needs the matching extra (``pip install 'focal-boost[xgboost]'``
        or ``[lightgbm]``).
    gamma : float, array-like of float or "auto", default=0.0
        Focusing parameter ``>= 0``; per class for asymmetric focusing
        (binary ``[gamma_negative, gamma_positive]``). ``0`` is log loss.
        ``"auto"`` trains the members for ``gamma`` 0, 0.5, 1 and 2 and keeps a
        focal ``gamma`` only if it beats log loss on their hold-outs (average
        precision of the rare class) by more than a standard error; four
        fits, and it needs validation data. ``focusing_`` says what it chose and why.
    alpha : float, array-like, dict, "balanced" or None, default=None
        Class weights of the loss. A float is the positive-class weight of a
        binary problem (``1 - alpha`` for the negative class); an array gives one
        weight in ``[0, 1]`` per class in the order of ``classes_``; a dict maps
        class labels to weights; ``"balanced"`` uses inverse class frequencies
        of the training data; ``None`` weights all classes equally (unlike
        :class:`FocalLoss`'s 0.25, the paper's value for object detection).
    hessian : {"upper", "clip", "exact"}, default="upper"
        The Hessian policy (:class:`FocalLoss`).
    n_estimators : int, default=100
        Boosting rounds (the most, with early stopping).
    learning_rate : float, default=0.1
    max_depth : int or None, default=None
        Tree depth (``None``: XGBoost's 6, no limit for LightGBM).
    num_leaves : int or None, default=None
        Leaves per tree (``None``: LightGBM's 31; XGBoost's ``max_leaves``, no limit).
    subsample : float, default=1.0
        Fraction of rows drawn for each tree.
    colsample_bytree : float, default=0.8
        Fraction of features drawn for each tree (LightGBM's ``feature_fraction``).
    reg_lambda : float or None, default=None
        L2 penalty on leaf values (``None``: the booster's default, 1 for
        XGBoost and 0 for LightGBM).
    min_child_weight : float or None, default=None
        Least sum of Hessians in a leaf (``None``: the booster's default, 1 for
        XGBoost and 1e-3 for LightGBM); focal loss has small Hessians.
    early_stopping_rounds : int, "auto" or None, default="auto"
        Stop when ``early_stopping_metric`` on the validation data (the first
        ``eval_set``, else the members' hold-outs) has not improved for this
        many rounds, and keep the best round. ``"auto"``: 20 rounds wherever
        there are validation data; ``None``: every round.
    n_members : int, default=2
        Models trained when the estimator holds out its own validation data:
        each on all rows but its own disjoint stratified hold-out, with its own
        seed, early-stopped on it; their margins are averaged into one booster
        (tree boosters only). With an ``eval_set`` or without early stopping,
        one model is trained.
    early_stopping_metric : str, callable, ValidationMetric or None, default=None
        What early stopping watches (None: ``"log_loss"``): ``"focal_loss"``,
        ``"log_loss"``, ``"average_precision"`` or ``"roc_auc"`` of the
        posterior-corrected probabilities, a loss function ``(y_true, y_prob,
        sample_weight) -> float`` (``y_true`` codes 0..K-1, ``y_prob`` the
        positive class's probability for binary, else ``(n, K)``), or a
        :class:`~focal_boost.metrics.ValidationMetric`.
    validation_fraction : float, default=0.1
        Fraction of the training data in each member's hold-out when no
        ``eval_set`` is given.
    probability : {"posterior", "raw"}, default="posterior"
        What :meth:`predict_proba` (and :meth:`predict`) use: the focal
        posterior correction (:meth:`FocalLoss.posterior_proba`), which undoes
        focal loss's pull towards 1/2 and ``alpha``'s shift, or ``"raw"``, the
        link of the margin.
    n_jobs : int or None, default=None
        Threads for the booster and for the gradient kernel (``None``: the
        booster's default, all cores; negative: ``cpu_count + 1 + n_jobs``).
    random_state : int, RandomState or None, default=None
        Seed for the hold-outs and the boosters' sampling; ``None`` draws anew
        on each fit, an integer gives a reproducible model.
    device : {"cpu", "cuda"}, default="cpu"
        Where the booster builds trees: XGBoost with ``"cuda"`` keeps margins
        and gradients on the GPU (:func:`focal_boost.xgboost.train_on_device`),
        LightGBM uses its OpenCL build (``device_type="gpu"``). See the GPU guide.
    backend_params : dict or None, default=None
        Further booster parameters under the booster's own names; they
        override the ones above under any of the booster's aliases
        (LightGBM's ``eta`` or ``shrinkage_rate`` replace ``learning_rate``).
        The objective, the metric, the class count, the number of rounds and
        early stopping are the estimator's: setting them here is an error.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_classes_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` has string column names.
    booster_ : xgboost.Booster or lightgbm.Booster
        The one booster that predicts: with several members, all their best
        rounds' trees, each leaf scaled by ``1 / n_members`` (the mean margin).
    best_iteration_ : int
        The number of boosting rounds ``booster_`` predicts with: the best
        round (counted from 1) with early stopping, else ``n_estimators``;
        with several members, the sum of theirs (each in ``members_``).
    evals_result_ : dict
        The validation metric per round, ``{"valid": {"log_loss": [...]}}``
        (the key is ``early_stopping_metric``'s name; empty without validation
        data); with several members one entry per hold-out, ``"valid_1"``,
        ``"valid_2"``, ...
    init_score_ : float or ndarray of shape (n_classes,)
        The initial margin (the loss's constant minimiser on the training
        data; the members' mean), included in every prediction.
    loss_ : FocalLoss
        The loss trained on, with ``alpha`` resolved to per-class values.
    members_ : list of dict
        Per member: ``"rounds"`` (its best round), ``"validation_rows"`` and
        ``"validation_<metric>"`` (its validation score at that round).
    focusing_ : dict
        The ``gamma`` trained on and why (``"rule"``); with ``gamma="auto"``
        also the ``"metric"`` compared and the ``"candidates"``: each one's
        ``"gamma"``, ``"score"``, ``"difference"`` from log loss and its
        ``"standard_error"``.
    """

    #: Whether ``fit`` can hold out a validation split itself (not on a Dask cluster).
    _holds_out = True

    class _InitSignature:
        """The class's signature is its ``__init__``'s, as without :meth:`__new__` (scikit-learn reads it)."""

        def __get__(self, instance: Any, owner: type) -> inspect.Signature:
            if instance is not None:
                raise AttributeError("__signature__")
            signature = inspect.signature(owner.__init__)
            return signature.replace(parameters=list(signature.parameters.values())[1:])

    __signature__ = _InitSignature()

    def __new__(cls, *args: Any, **kwargs: Any) -> FocalBoostClassifier:
        """Check the keyword names first, so that a foreign or misspelt one says where it goes."""
        unknown = [name for name in kwargs if name not in inspect.signature(cls.__init__).parameters]
        if unknown:
            raise TypeError(unknown_parameter_message(cls.__name__, unknown[0]))
        return super().__new__(cls)

    def __init__(
        self,
        *,
        backend: str = "xgboost",
        gamma: Any = 0.0,
        alpha: Any = None,
        hessian: str = "upper",
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        max_depth: int | None = None,
        num_leaves: int | None = None,
        subsample: float = 1.0,
        colsample_bytree: float = 0.8,
        reg_lambda: float | None = None,
        min_child_weight: float | None = None,
        early_stopping_rounds: Any = "auto",
        n_members: int = 2,
        early_stopping_metric: Any = None,
        validation_fraction: float = 0.1,
        probability: str = "posterior",
        n_jobs: int | None = None,
        random_state: Any = None,
        device: str = "cpu",
        backend_params: Mapping[str, Any] | None = None,
    ) -> None:
        self.backend = backend
        self.gamma = gamma
        self.alpha = alpha
        self.hessian = hessian
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.num_leaves = num_leaves
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.min_child_weight = min_child_weight
        self.early_stopping_rounds = early_stopping_rounds
        self.n_members = n_members
        self.early_stopping_metric = early_stopping_metric
        self.validation_fraction = validation_fraction
        self.probability = probability
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.device = device
        self.backend_params = backend_params

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        eval_set: Any = None,
        *,
        X_val: Any = None,
        y_val: Any = None,
        sample_weight_val: Any = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> FocalBoostClassifier:
        """Train on ``X, y``.

        Parameters
        ----------
        X : array-like, sparse matrix or pandas DataFrame of shape (n_samples, n_features)
            Missing values (NaN) are allowed: the boosters learn where they go.
            Pandas ``category`` columns and text columns (object or string
            dtype, as ``pandas.read_csv`` gives them) go to the boosters'
            native categorical support with the levels seen here: at
            prediction a level not seen in ``fit`` counts as missing. Other
            columns must be numeric, finite or NaN.
        y : array-like of shape (n_samples,)
            Class labels of any type scikit-learn accepts (at least two classes).
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights multiplying each sample's loss.
        eval_set : list of (X, y) or (X, y, sample_weight) tuples, optional
            Validation data (XGBoost's and LightGBM's form); the first one
            drives early stopping and fills ``evals_result_``.
        X_val, y_val, sample_weight_val : optional
            The same validation data in scikit-learn's form
            (``HistGradientBoostingClassifier.fit``); give these or ``eval_set``.
        progress : callable, optional
            Called after each boosting round as ``progress(rounds_done,
            n_estimators)``, e.g. to drive a progress bar.

        Notes
        -----
        A fit that fails or is interrupted (an error in boosting, an exception
        raised by ``progress``, Ctrl-C) leaves the estimator as it was before
        the call: fitted as before, or unfitted.
        """
        before = dict(self.__dict__)
        try:
            return self._fit(X, y, sample_weight, eval_set, X_val, y_val, sample_weight_val, progress)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit(self, X, y, sample_weight, eval_set, X_val, y_val, sample_weight_val, progress):
        """:meth:`fit`, which may leave the estimator half-updated if it fails."""
        loss = check_parameters(self)
        eval_set = validation_data(eval_set, X_val, y_val, sample_weight_val)
        backend = self._backend(self.backend)  # an ImportError naming the extra if the booster is missing
        train, given = self._fit_data(X, y, sample_weight, eval_set)
        if isinstance(self.alpha, Mapping):  # per class label: known now
            loss = FocalLoss(loss.gamma, class_alpha(self.alpha, self.classes_), hessian=self.hessian)
        if isinstance(loss.alpha, str):  # "balanced": from all the training rows, the same for every member
            loss = self._balanced(loss, train)
        random_state = check_random_state(self.random_state)
        splits, patience = member_splits(self, train, given, random_state)
        seed = int(random_state.randint(np.iinfo(np.int32).max - len(splits)))
        if len(splits) > 1:
            backend.check_average(boosting_settings(self, seed))
        gammas = candidate_gammas(self.gamma, loss, splits)
        metric = validation_metric(
            DEFAULT_METRIC if self.early_stopping_metric is None else self.early_stopping_metric
        )
        trained = train_members(self, backend, loss, gammas, splits, (seed, patience, metric, progress))
        chosen, self.focusing_ = focusing(self, backend, gammas, trained, splits, random_state)
        members = trained[chosen]
        for model, split in zip(members, splits, strict=True):
            warn_if_stopped_at_once(model, split.validation_codes(), patience, self.classes_)
        self.members_ = [
            member_record(model, split.validation_codes(), metric.name)
            for model, split in zip(members, splits, strict=True)
        ]
        if len(members) == 1:
            return self._keep(members[0], members[0].evals_result)
        history = {f"valid_{j + 1}": member.evals_result.get("valid", {}) for j, member in enumerate(members)}
        return self._keep(backend.average(members), history)

    def _balanced(self, loss: FocalLoss, train: tuple) -> FocalLoss:
        """``alpha="balanced"`` fixed from the training labels and weights."""
        return loss.resolved(train[1], train[2], n_classes=self.n_classes_)

    def _backend(self, name: str) -> Any:
        """The backend that trains and predicts (``focal_boost._estimator.backends``)."""
        return BACKENDS[name]()

    def _fit_data(self, X: Any, y: Any, sample_weight: Any, eval_set: Any) -> tuple[tuple, tuple | None]:
        """Checked ``(train, valid)`` as ``(X, codes, weight)`` triples (``valid`` may be None); sets
        ``classes_``, ``n_classes_``, ``n_features_in_`` (``feature_names_in_``); labels: codes 0..K-1."""
        return fit_data(self, X, y, sample_weight, eval_set)

    def _set_classes(self, classes: np.ndarray) -> None:
        self.classes_, self.n_classes_ = classes, checked_class_count(classes)

    def _prediction_features(self, X: Any) -> Any:
        """``X`` checked against the features seen in ``fit``, as the trained booster predicts from it."""
        return validated_features(self, X, reset=False, for_prediction=True)

    def _probabilities(self, margin: Any, convert: Callable[[Any], Any]) -> Any:
        """``convert`` (a log-link) applied to margins."""
        return convert(margin)

    def _keep(self, model: TrainedModel, history: dict) -> FocalBoostClassifier:
        """Set the fitted attributes from a backend's result."""
        self._model = model
        self.booster_ = model.booster
        self.best_iteration_ = model.n_rounds
        self.evals_result_ = history
        self.init_score_ = float(model.init_score) if model.init_score.ndim == 0 else model.init_score
        self.loss_ = model.loss
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw margins, initial score included: shape (n,) for binary, (n, K) for multiclass.

        With several members, the mean of their margins, which is the margin of
        the one booster ``booster_``.
        """
        check_is_fitted(self, "booster_")
        X = self._prediction_features(X)
        return self._backend(self._model.backend).margin(self._model, X, thread_count(self.n_jobs))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), in the order of ``classes_``.

        Posterior-corrected by default (see ``probability``); ``exp`` of
        :meth:`predict_log_proba`.
        """
        return np.exp(self.predict_log_proba(X))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, which is its ``exp``, so that both rank a row's classes alike.

        (The log of probabilities would merge values a rounding apart into ties in one and not the other.)
        """
        margin = self.decision_function(X)
        convert = (
            self.loss_.predict_log_proba if self.probability == "raw" else self.loss_.posterior_log_proba
        )
        return self._probabilities(margin, convert)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row (by :meth:`predict_proba`)."""
        check_is_fitted(self, "booster_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def _validate_features(self, X: Any, *, reset: bool) -> Any:
        """``X`` checked (:func:`~focal_boost._estimator.data.validated_features`)."""
        return validated_features(self, X, reset=reset)

    def __sklearn_tags__(self):  # scikit-learn >= 1.6
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags

    def _more_tags(self) -> dict[str, Any]:  # pragma: no cover - scikit-learn < 1.6
        return {"allow_nan": True}
