"""FocalBoostClassifier: gradient-boosted trees trained on focal loss, as a scikit-learn classifier.

The estimator owns what the boosters' own wrappers lose with a custom
objective: the initial score (:meth:`FocalLoss.init_score`, set before the
first tree and added back to every prediction) and the link (sigmoid or
softmax, then by default the focal posterior correction), so
:meth:`~FocalBoostClassifier.predict_proba` returns probabilities, never raw
scores.
"""

from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_array, check_is_fitted, column_or_1d

from focal_boost._boosters.backend import BoostingSettings, TrainedModel
from focal_boost._estimator import selection as _auto
from focal_boost._estimator.backends import BACKENDS
from focal_boost._estimator.features import CategoryLevels, has_levels, is_frame
from focal_boost._estimator.members import can_hold_out, draw_holdouts
from focal_boost._estimator.selection import is_auto
from focal_boost._kernels.checks import check_booster_weights
from focal_boost._util.sklearn_compat import FINITE_KEYWORD, check_feature_names_and_count, validate_data
from focal_boost._util.warnings import warn
from focal_boost.loss import FocalLoss
from focal_boost.metrics.validation import validation_metric

__all__ = ["FocalBoostClassifier"]

_PROBABILITIES = ("posterior", "raw")
_DEVICES = ("cpu", "cuda")


class FocalBoostClassifier(ClassifierMixin, BaseEstimator):
    r"""Gradient-boosted trees (XGBoost or LightGBM) on focal or log loss, early-stopped without losing rows.

    Focal loss (Lin et al., 2017), ``FL(p_t) = -alpha_t (1 - p_t)^gamma log p_t``,
    down-weights examples the model already gets right, so that the trees
    concentrate on the hard ones; ``alpha`` re-weights the classes. With
    ``gamma=0, alpha=None`` (the default) it is the booster's own log loss,
    trained with the booster's built-in objective. Binary problems use the
    sigmoid, multiclass problems the softmax focal loss.

    At its defaults the estimator early-stops on held-out data without giving
    those rows up: it trains ``n_members=2`` models, each on every row but its
    own stratified ``validation_fraction`` hold-out (the hold-outs are
    disjoint), each with its own seed for column sampling, and each
    early-stopped on its hold-out; their margins are averaged into one booster
    (``booster_``). On the 15 real imbalanced data sets of
    ``benchmarks/quality.py`` this ranks the rare class better than the
    booster's own log loss early-stopped on a 10% split, and than a pair of
    such models (``docs/quality.md``). Focal loss (``gamma > 0``) did not beat
    log loss there on average once both were early-stopped; ``gamma="auto"``
    tests it on your data and keeps it only where it wins.

    Parameters
    ----------
    backend : {"xgboost", "lightgbm"}, default="xgboost"
        The booster. XGBoost is the default because it trains faster with the
        focal objective in ``benchmarks/training.py`` (1M rows: about 11 s
        against 15 s for LightGBM). Needs the matching extra
        (``pip install 'focal-boost[xgboost]'`` or ``[lightgbm]``).
    gamma : float, array-like of float or "auto", default=0.0
        Focusing parameter ``>= 0``; per class for asymmetric focusing
        (binary ``[gamma_negative, gamma_positive]``). ``0`` is log loss.
        ``"auto"`` weighs the evidence on the training data
        (:mod:`focal_boost._estimator.selection`): the members are trained for ``gamma`` 0,
        0.5, 1 and 2, each candidate's members score their own hold-outs,
        and a focal ``gamma`` is kept only if it beats log loss in average
        precision of the rare class by more than the standard error of the
        difference; else log loss. It costs four fits of the members and needs
        validation data (early stopping on). ``focusing_`` says what was
        compared and chosen.
    alpha : float, array-like, dict, "balanced" or None, default=None
        Class weights of the loss. A float is the positive-class weight of a
        binary problem (``1 - alpha`` for the negative class); an array gives one
        weight in ``[0, 1]`` per class in the order of ``classes_``; a dict maps
        class labels to weights; ``"balanced"`` uses inverse class frequencies
        of the training data; ``None`` weights all classes equally. (The
        default differs from :class:`FocalLoss`'s 0.25, the paper's value for
        object detection, which *down*-weights the rare positives: for
        tabular data, tune ``alpha`` together with ``gamma``.)
    hessian : {"upper", "clip", "exact"}, default="upper"
        The Hessian policy (:class:`FocalLoss`); ``"upper"`` was chosen by the
        study in ``benchmarks/hessian_policy.py``.
    n_estimators : int, default=100
        Boosting rounds (the most, with early stopping).
    learning_rate : float, default=0.1
    max_depth : int or None, default=None
        Tree depth (``None``: XGBoost's 6, no limit for LightGBM).
    num_leaves : int or None, default=None
        Leaves per tree (``None``: LightGBM's 31; XGBoost's ``max_leaves``, no limit).
    subsample : float, default=1.0
        Fraction of rows drawn for each tree. (Drawing 80% helped on some
        benchmark sets and lost up to 0.015 average precision on another.)
    colsample_bytree : float, default=0.8
        Fraction of features drawn for each tree (the name ``XGBClassifier``
        and ``LGBMClassifier`` use; LightGBM's ``feature_fraction``); with
        ``n_members``, a source of the members' diversity.
    reg_lambda : float or None, default=None
        L2 penalty on leaf values (``None``: the booster's default, 1 for
        XGBoost and 0 for LightGBM).
    min_child_weight : float or None, default=None
        Least sum of Hessians in a leaf (``None``: the booster's default, 1 for
        XGBoost and 1e-3 for LightGBM). Focal loss has small Hessians on easy
        examples; lower this if trees stop splitting on small data.
    early_stopping_rounds : int, "auto" or None, default="auto"
        Stop when ``early_stopping_metric`` on the validation data has not
        improved for this many rounds, and keep the best round. The same rule
        for every ``gamma``. The validation data are the first ``eval_set``
        passed to :meth:`fit`, or else ``n_members`` disjoint stratified
        hold-outs of ``validation_fraction`` of the training rows. ``"auto"``:
        20 rounds whenever there are validation data (an ``eval_set``, or two
        rows of every class to hold out), else no early stopping; a number:
        early stopping, an error where no validation data can be had;
        ``None``: every round.
    n_members : int, default=2
        Models trained when the estimator holds out its own validation data:
        each on all rows but its own hold-out, with its own seed, early-stopped
        on it; their margins are averaged into one booster. ``1`` trains one
        model, which never learns from its hold-out. With an ``eval_set`` or
        without early stopping, one model is trained. Averaging needs tree
        boosters: XGBoost's gbtree or dart, LightGBM without linear trees.
    early_stopping_metric : str, callable, ValidationMetric or None, default=None
        What the validation data are scored by after every round
        (``evals_result_``) and early stopping keeps the best round of
        (None: ``"log_loss"``, for every ``gamma``):
        ``"focal_loss"`` (the training objective), ``"log_loss"``,
        ``"average_precision"`` or ``"roc_auc"`` of the posterior-corrected
        probabilities (those of :meth:`predict_proba` with
        ``probability="posterior"``; macro one-vs-rest for multiclass), a
        loss function ``(y_true, y_prob, sample_weight) -> float`` (``y_true``
        class codes 0..K-1, ``y_prob`` the positive class's probability for
        binary, else ``(n, K)``), or a
        :class:`~focal_boost.metrics.ValidationMetric` for a function where
        greater is better. On Dask the means are exact over all workers and
        a ranking metric is computed on all validation rows together.
    validation_fraction : float, default=0.1
        Fraction of the training data in each member's hold-out when no
        ``eval_set`` is given.
    probability : {"posterior", "raw"}, default="posterior"
        What :meth:`predict_proba` returns. Focal loss's minimiser is not the
        class probability: it is pulled towards 1/2 (and shifted by
        ``alpha``), so the raw sigmoid/softmax of the margin is miscalibrated.
        ``"posterior"`` inverts that relation (Charoenphakdee et al., CVPR
        2021; :meth:`FocalLoss.posterior_proba`) and is what to use for
        decisions and for calibrated scores; ``"raw"`` returns the link of the
        margin. :meth:`predict` follows the same probabilities.
    n_jobs : int or None, default=None
        Threads for the booster and for the gradient kernel (``None``: the
        booster's default, all cores; negative: ``cpu_count + 1 + n_jobs``).
    random_state : int, RandomState or None, default=None
        Seed for the hold-outs and for the boosters' row and column sampling.
        With ``None`` (scikit-learn's convention) each fit draws them anew,
        so two fits of the same data give different models; pass an integer
        for a reproducible model.
    device : {"cpu", "cuda"}, default="cpu"
        Where the booster builds trees. XGBoost with ``"cuda"`` trains through
        :func:`focal_boost.xgboost.train_on_device`: margins, focal gradients
        and Hessians stay on the GPU (CUDA kernels; needs the ``gpu`` extra;
        without it, or without a GPU, a one-time warning and XGBoost's
        standard path). LightGBM with ``"cuda"`` uses ``device_type="gpu"``
        (the OpenCL build in LightGBM's wheels); its custom-objective
        gradients are computed on the host. See the GPU guide.
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

    # ------------------------------------------------------------------ fitting

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
        loss = self._check_parameters()
        eval_set = _validation_data(eval_set, X_val, y_val, sample_weight_val)
        backend = self._backend(self.backend)  # an ImportError naming the extra if the booster is missing
        train, given = self._fit_data(X, y, sample_weight, eval_set)
        if isinstance(self.alpha, Mapping):  # per class label: known now
            loss = FocalLoss(loss.gamma, self._class_alpha(), hessian=self.hessian)
        if isinstance(loss.alpha, str):  # "balanced": from all the training rows, the same for every member
            loss = self._balanced(loss, train)
        random_state = check_random_state(self.random_state)
        splits, patience = self._splits(train, given, random_state)
        seed = int(random_state.randint(np.iinfo(np.int32).max - len(splits)))
        metric = validation_metric(
            _DEFAULT_METRIC if self.early_stopping_metric is None else self.early_stopping_metric
        )
        auto = is_auto(self.gamma)
        if auto and not splits[0].validated:
            raise ValueError(
                "gamma='auto' compares focusings on validation data: pass eval_set, or leave "
                "early_stopping_rounds on with data that allow a hold-out (two rows of every class)"
            )
        if len(splits) > 1:
            backend.check_average(self._settings(seed))
        gammas = (0.0, *_auto.AUTO_GAMMAS) if auto else (loss.gamma,)
        fits = len(gammas) * len(splits)
        trained = {}
        for i, gamma in enumerate(gammas):
            focal = FocalLoss(gamma, loss.alpha, hessian=loss.hessian, hessian_floor=loss.hessian_floor)
            trained[i] = [
                backend.train(
                    self._settings(seed + j),
                    focal,
                    *split.data(),  # one member's copy of the rows at a time
                    int(self.n_estimators),
                    patience if split.validated else None,
                    _part_of(progress, i * len(splits) + j, fits),
                    early_stopping_metric=metric,
                )
                for j, split in enumerate(splits)
            ]
        if auto:
            chosen, evidence = self._gate(backend, trained, splits, random_state)
            self.focusing_ = {
                "gamma": float(gammas[chosen]),
                "rule": "gamma='auto': each candidate's members scored on their hold-outs, paired; "
                "the best candidate is kept only if it beats log loss (gamma 0) by more than the "
                "standard error of the difference (a paired bootstrap), else log loss",
                "metric": _evidence_name(self.classes_, train[1]),
                "candidates": evidence,
            }
        else:
            chosen = 0
            self.focusing_ = {"gamma": _plain(self.gamma), "rule": _given_rule(self.gamma)}
        members = trained[chosen]
        for model, split in zip(members, splits, strict=True):
            warn_if_stopped_at_once(model, split.validation_codes(), patience, self.classes_)
        self.members_ = [
            _member_record(model, split.validation_codes(), metric.name)
            for model, split in zip(members, splits, strict=True)
        ]
        if len(members) == 1:
            return self._keep(members[0], members[0].evals_result)
        history = {f"valid_{j + 1}": member.evals_result.get("valid", {}) for j, member in enumerate(members)}
        return self._keep(backend.average(members), history)

    def _balanced(self, loss: FocalLoss, train: tuple) -> FocalLoss:
        """``alpha="balanced"`` fixed from the training labels and weights."""
        return loss.resolved(train[1], train[2], n_classes=self.n_classes_)

    def _splits(
        self, train: tuple, given: tuple | None, random_state: Any
    ) -> tuple[list[_Split], int | None]:
        """The members' training and validation data, and the early-stopping patience (None: none).

        One early-stopping rule for every ``gamma``: with ``early_stopping_rounds``
        ``"auto"`` (the default) early stopping is on, with a patience of
        :data:`AUTO_PATIENCE`, whenever there are validation data: the given
        ``eval_set``, or else ``n_members`` disjoint stratified hold-outs of
        ``validation_fraction`` (:mod:`focal_boost._estimator.members`), which need two
        rows of every class. A number asks for early stopping (an error where
        no validation data can be had); ``None`` turns it off.
        """
        rounds = self.early_stopping_rounds
        asked = rounds is not None and not _is_auto_rounds(rounds)
        patience = int(rounds) if asked else (AUTO_PATIENCE if rounds is not None else None)
        if given is not None or patience is None:
            return [_Split(train, given)], patience
        codes = train[1]
        if not self._holds_out or (not asked and not can_hold_out(codes, self.n_classes_)):
            return [_Split(train, None)], None
        holdouts = draw_holdouts(
            codes, self.validation_fraction, int(self.n_members), random_state, self.classes_
        )
        return [_Split(train, None, valid_rows) for valid_rows in holdouts], patience

    def _gate(self, backend: Any, trained: dict, splits: list, random_state: Any) -> tuple[int, list]:
        """``gamma="auto"``: the index of the chosen candidate, and the evidence (:func:`_auto.choose`)."""
        threads = self._n_threads()
        codes = np.concatenate([_local(split.validation_codes()) for split in splits])
        probabilities = {}
        for members in trained.values():
            gamma = float(np.asarray(members[0].loss.gamma).flat[0])
            probabilities[gamma] = np.concatenate(
                [
                    np.exp(member.loss.posterior_log_proba(_local(backend.margin(member, X_valid, threads))))
                    for member, X_valid in zip(members, (s.validation()[0] for s in splits), strict=True)
                ]
            )
        classes = _auto.scored_classes(codes, self.n_classes_)
        chosen, evidence = _auto.choose(codes, probabilities, classes, random_state)
        return list(probabilities).index(chosen), evidence

    def _backend(self, name: str) -> Any:
        """The backend that trains and predicts (``focal_boost._estimator.backends``)."""
        return BACKENDS[name]()

    def _fit_data(self, X: Any, y: Any, sample_weight: Any, eval_set: Any) -> tuple[tuple, tuple | None]:
        """Checked ``(train, valid)`` as ``(X, codes, weight)`` triples (``valid`` may be None).

        Sets ``classes_``, ``n_classes_``, ``n_features_in_`` (and
        ``feature_names_in_``); the labels become codes 0..K-1.
        """
        X = self._validate_features(X, reset=True)
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
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} labels")
        encoder = LabelEncoder().fit(y)
        self._set_classes(encoder.classes_)
        codes = encoder.transform(y).astype(np.float64)
        weight = None if sample_weight is None else self._checked_weights(sample_weight, X, codes)
        return self._training_and_validation(X, codes, weight, eval_set, encoder)

    def _set_classes(self, classes: np.ndarray) -> None:
        self.classes_ = classes
        self.n_classes_ = len(classes)
        if self.n_classes_ < 2:
            raise ValueError(f"y has only one class ({classes[0]!r}); a classifier needs at least two")

    def _prediction_features(self, X: Any) -> Any:
        """``X`` checked against the features seen in ``fit``."""
        return self._validate_features(X, reset=False)

    def _probabilities(self, margin: Any, convert: Callable[[Any], Any]) -> Any:
        """``convert`` (a log-link) applied to margins."""
        return convert(margin)

    def _checked_weights(self, sample_weight: Any, X: Any, codes: np.ndarray) -> np.ndarray:
        """``sample_weight`` as float64, checked for the boosters (float32) and for every class's total."""
        weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        stored = check_booster_weights(weight)
        totals = np.bincount(codes.astype(np.intp), weights=stored, minlength=self.n_classes_)
        if np.any(totals <= 0):
            empty = self.classes_[totals <= 0].tolist()
            raise ValueError(
                f"sample_weight is 0 for every example of class{'es' if len(empty) > 1 else ''} {empty}: "
                "a class without weight cannot be learned; drop its rows or give them weight"
            )
        return weight

    def _settings(self, seed: int) -> BoostingSettings:
        """The common boosting parameters, for a backend (after ``n_classes_`` is known)."""
        return BoostingSettings(
            learning_rate=float(self.learning_rate),
            max_depth=self.max_depth,
            num_leaves=self.num_leaves,
            subsample=float(self.subsample),
            colsample_bytree=float(self.colsample_bytree),
            reg_lambda=self.reg_lambda,
            min_child_weight=self.min_child_weight,
            n_threads=self._n_threads(),
            seed=int(seed),
            device=self.device,
            n_classes=self.n_classes_,
            extra=dict(self.backend_params or {}),
        )

    def _keep(self, model: TrainedModel, history: dict) -> FocalBoostClassifier:
        """Set the fitted attributes from a backend's result."""
        self._model = model
        self.booster_ = model.booster
        self.best_iteration_ = model.n_rounds
        self.evals_result_ = history
        self.init_score_ = float(model.init_score) if model.init_score.ndim == 0 else model.init_score
        self.loss_ = model.loss
        return self

    def _training_and_validation(self, X, codes, weight, eval_set, encoder):
        """``(train, valid)`` as ``(X, y, weight)`` triples; ``valid`` (the ``eval_set``) may be None."""
        if eval_set:
            first = eval_set[0]
            if not isinstance(first, (tuple, list)) or len(first) not in (2, 3):
                raise TypeError("eval_set must be a list of (X, y) or (X, y, sample_weight) tuples")
            X_valid = self._validate_features(first[0], reset=False)
            y_valid = np.asarray(first[1])
            unseen = np.setdiff1d(y_valid, self.classes_)
            if unseen.size:
                raise ValueError(f"eval_set has labels not seen in y: {unseen.tolist()}")
            warn_if_one_class(y_valid)
            w_valid = None
            if len(first) == 3 and first[2] is not None:
                w_valid = _check_sample_weight(first[2], X_valid, dtype=np.float64)
                check_booster_weights(w_valid, "the eval_set's sample_weight")
                if not np.any(w_valid > 0):  # scikit-learn >= 1.4 says so itself
                    raise ValueError("the eval_set's sample_weight is 0 everywhere: nothing to validate on")
            return (X, codes, weight), (X_valid, encoder.transform(y_valid).astype(np.float64), w_valid)
        return (X, codes, weight), None

    # ------------------------------------------------------------------ prediction

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw margins, initial score included: shape (n,) for binary, (n, K) for multiclass.

        With several members, the mean of their margins, which is the margin of
        the one booster ``booster_``.
        """
        check_is_fitted(self, "booster_")
        X = self._prediction_features(X)
        return self._backend(self._model.backend).margin(self._model, X, self._n_threads())

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), in the order of ``classes_``.

        Posterior-corrected by default (see ``probability``); ``exp`` of
        :meth:`predict_log_proba`.
        """
        return np.exp(self.predict_log_proba(X))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, computed in log space.

        :meth:`predict_proba` is its ``exp``, so the two order the classes of
        a row alike: taking the log of probabilities instead would merge
        values a rounding apart into ties in one and not the other.
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

    # ------------------------------------------------------------------ helpers

    def _check_parameters(self) -> FocalLoss:
        """Check every parameter; returns the loss (its ``alpha`` None when given per class label;
        ``gamma`` 0 for ``"auto"``)."""
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {sorted(BACKENDS)}, got {self.backend!r}")
        _check_number("n_estimators", self.n_estimators, integer=True, low=1)
        _check_number("learning_rate", self.learning_rate, low=0.0, low_open=True)
        _check_number("max_depth", self.max_depth, integer=True, low=1, optional=True)
        _check_number("num_leaves", self.num_leaves, integer=True, low=2, optional=True)
        _check_number("subsample", self.subsample, low=0.0, high=1.0, low_open=True)
        _check_number("colsample_bytree", self.colsample_bytree, low=0.0, high=1.0, low_open=True)
        _check_number("reg_lambda", self.reg_lambda, low=0.0, optional=True)
        _check_number("min_child_weight", self.min_child_weight, low=0.0, optional=True)
        if not _is_auto_rounds(self.early_stopping_rounds):
            _check_number(
                "early_stopping_rounds", self.early_stopping_rounds, integer=True, low=1, optional=True,
                choices="or 'auto'",
            )  # fmt: skip
        _check_number("n_members", self.n_members, integer=True, low=1)
        validation_metric(self.early_stopping_metric)  # a ValueError or TypeError naming the choices
        _check_number(
            "validation_fraction", self.validation_fraction, low=0.0, high=1.0, low_open=True, high_open=True
        )
        _check_number("n_jobs", self.n_jobs, integer=True, optional=True)
        if self.n_jobs == 0:
            raise ValueError("n_jobs must not be 0 (None: all cores; a positive count; or negative)")
        if self.probability not in _PROBABILITIES:
            raise ValueError(f"probability must be one of {_PROBABILITIES}, got {self.probability!r}")
        if self.device not in _DEVICES:
            raise ValueError(f"device must be one of {_DEVICES}, got {self.device!r}")
        if self.backend_params is not None and not isinstance(self.backend_params, Mapping):
            raise TypeError(f"backend_params must be a dict, got {type(self.backend_params).__name__}")
        # gamma, alpha and hessian are checked by FocalLoss with their own messages.
        alpha = None if isinstance(self.alpha, Mapping) else self.alpha
        if isinstance(self.gamma, str) and not is_auto(self.gamma):
            raise ValueError(f"gamma must be a number >= 0, one per class, or 'auto'; got {self.gamma!r}")
        return FocalLoss(0.0 if is_auto(self.gamma) else self.gamma, alpha, hessian=self.hessian)

    def _class_alpha(self) -> Any:
        """``alpha`` with a dict keyed by class label turned into per-class values."""
        if not isinstance(self.alpha, Mapping):
            return self.alpha
        missing = [c for c in self.classes_ if c not in self.alpha]
        extra = [c for c in self.alpha if c not in set(self.classes_.tolist())]
        if missing or extra:
            raise ValueError(
                f"alpha as a dict needs exactly the classes {self.classes_.tolist()}: "
                f"missing {missing}, unknown {extra}"
            )
        return [float(self.alpha[c]) for c in self.classes_]

    def _n_threads(self) -> int | None:
        if self.n_jobs is None:
            return None
        if self.n_jobs < 0:
            return max(1, (os.cpu_count() or 1) + 1 + self.n_jobs)
        return int(self.n_jobs)

    def _validate_features(self, X: Any, *, reset: bool) -> Any:
        """``X`` checked; a DataFrame with categorical or text columns gets them coded to the training levels.

        Those columns become pandas categoricals with the levels seen in
        ``fit`` (a level not seen there becomes missing), so that both
        boosters read the same codes in training and prediction; the other
        columns are checked as scikit-learn checks an array (finite or NaN).
        """
        if reset:
            self._category_levels = CategoryLevels.learn(X) if has_levels(X) else None
        levels = getattr(self, "_category_levels", None)
        if levels is None:
            return validate_data(
                self,
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
        check_feature_names_and_count(self, X, reset=reset)
        if X.shape[0] == 0:
            raise ValueError(
                "Found array with 0 sample(s) (shape=(0, ...)) while a minimum of 1 is required."
            )
        return levels.frame(X, _checked_numeric_columns)

    def __sklearn_tags__(self):  # scikit-learn >= 1.6
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags

    def _more_tags(self) -> dict[str, Any]:  # pragma: no cover - scikit-learn < 1.6
        return {"allow_nan": True}


#: Rounds without improvement before early stopping, with ``early_stopping_rounds="auto"``.
AUTO_PATIENCE = 20
#: What early stopping watches when ``early_stopping_metric`` is None, for every ``gamma``.
_DEFAULT_METRIC = "log_loss"


def _local(values: Any) -> np.ndarray:
    """A NumPy array of ``values``, computed if they are a Dask collection (validation data only)."""
    return np.asarray(values.compute() if hasattr(values, "compute") else values)


def _is_auto_rounds(rounds: Any) -> bool:
    return isinstance(rounds, str) and rounds == "auto"


def _part_of(progress: Callable[[int, int], None] | None, index: int, count: int) -> Any:
    """Fit ``index`` of ``count`` as a part of one progress bar over all their rounds."""
    if progress is None:
        return None

    def report(done: int, total: int) -> None:
        progress(index * total + done, count * total)

    return report


def _plain(value: Any) -> Any:
    """A parameter value as JSON has it (lists for arrays, floats for numbers)."""
    if isinstance(value, np.ndarray | list | tuple):
        return [float(v) for v in value]
    return float(value) if isinstance(value, numbers.Real) else value


def _given_rule(gamma: Any) -> str:
    """Why a model trained on the ``gamma`` it was given (``focusing_["rule"]``)."""
    if isinstance(gamma, numbers.Real) and float(gamma) == 0.0:
        return (
            "given: gamma 0, log loss, the default (at equal early stopping no focal gamma beat it on the "
            "15 real sets of benchmarks/quality.py, docs/quality.md); gamma='auto' weighs focal loss on "
            "these data"
        )
    return "given (the gamma parameter)"


def _member_record(model: TrainedModel, valid_codes: Any, metric: str) -> dict[str, Any]:
    """What one member did: its rounds, its validation rows and score at its best round."""
    curve = model.evals_result.get("valid", {}).get(metric)
    return {
        "rounds": int(model.n_rounds),
        "validation_rows": 0 if valid_codes is None else int(valid_codes.shape[0]),
        f"validation_{metric}": float(curve[model.n_rounds - 1]) if curve else None,
    }


def _evidence_name(classes: np.ndarray, codes: np.ndarray) -> str:
    """What ``gamma="auto"`` compares, in words."""
    if classes.shape[0] != 2:
        return "average precision, macro over the classes, on the members' hold-outs"
    rare = classes[int(np.argmin(np.bincount(codes.astype(np.intp), minlength=2)))]
    rare = rare.item() if isinstance(rare, np.generic) else rare
    return f"average precision of the rare class {rare!r} on the members' hold-outs"


def warn_if_stopped_at_once(
    model: TrainedModel, valid_codes: Any, patience: int | None, classes: Any
) -> None:
    """Warn when early stopping kept round 1 on validation data with one or two rows of a class."""
    if valid_codes is None or patience is None or model.n_rounds != 1:
        return
    counts = np.bincount(np.asarray(valid_codes).astype(np.intp), minlength=len(classes))
    fewest = int(np.argmin(counts))
    if counts[fewest] > 2 or counts[fewest] == 0:  # an absent class is warned about with the eval_set
        return
    label = classes[fewest].item() if isinstance(classes[fewest], np.generic) else classes[fewest]
    warn(
        f"early stopping kept only the first round: the validation data hold {counts[fewest]} "
        f"example{'s' if counts[fewest] != 1 else ''} of class {label!r}, too few to tell "
        "the rounds apart; pass a larger eval_set, raise validation_fraction, or set "
        "early_stopping_rounds=None"
    )


@dataclass(frozen=True)
class _Split:
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
        return tuple(_take_rows(part, self.holdout) for part in self.train)

    def validation_codes(self) -> np.ndarray | None:
        if self.holdout is None:
            return None if self.valid is None else self.valid[1]
        return self.train[1][self.holdout]

    def data(self) -> tuple[tuple, tuple | None]:
        """``(train, valid)``: with a hold-out, copies of the rows outside it and in it."""
        if self.holdout is None:
            return self.train, self.valid
        fit_rows = np.setdiff1d(np.arange(self.train[1].shape[0]), self.holdout, assume_unique=True)
        return tuple(_take_rows(part, fit_rows) for part in self.train), self.validation()


def _validation_data(eval_set: Any, X_val: Any, y_val: Any, sample_weight_val: Any) -> Any:
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


def _take_rows(X: Any, rows: np.ndarray) -> Any:
    if X is None:
        return None
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def _checked_numeric_columns(frame: Any) -> np.ndarray:
    """The numeric columns of a DataFrame with categorical columns, checked as an array (finite or NaN)."""
    return check_array(frame, dtype=[np.float64, np.float32], input_name="X", **{FINITE_KEYWORD: "allow-nan"})


def _check_number(
    name: str,
    value: Any,
    *,
    integer: bool = False,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    optional: bool = False,
    choices: str = "",
) -> None:
    if value is None and optional:
        return
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = "an integer" if integer else "a number"
        others = ", None" if optional and choices else " or None" if optional else ""
        raise TypeError(f"{name} must be {expected}{others}{' ' + choices if choices else ''}, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value!r}")
