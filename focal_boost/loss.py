r"""The focal loss object: parameters, validation, dispatch to the kernels, the link.

:class:`FocalLoss` owns the math that every integration shares, in the spirit
of scikit-learn's private ``sklearn._loss`` module: per-sample loss, gradient
and Hessian with respect to the raw margin, the optimal constant margin
(initial score), the inverse link and the posterior correction.

Binary: margins of shape ``(n,)``, labels in ``{0, 1}``, link ``sigmoid``.
Multiclass: margins of shape ``(n, K)``, labels in ``{0..K-1}``, link
``softmax``; the Hessian returned is the diagonal of the true Hessian.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from focal_boost._kernels import device_arrays as _device_arrays
from focal_boost._kernels import link
from focal_boost._kernels.checks import (
    check_alpha,
    check_class_indices,
    check_gamma,
    check_hessian,
    check_labels,
    check_margin,
    check_n_threads,
)
from focal_boost._kernels.intercept import (
    balanced_weights,
    binary_init_score,
    class_totals,
    multiclass_init_score,
)
from focal_boost._kernels.link import check_finite, log_link
from focal_boost._kernels.prepared import on_device, prepare_loss, prepared_for

__all__ = ["FocalLoss"]


class FocalLoss:
    r"""Focal loss (Lin et al., 2017) for binary and multiclass boosting.

    .. math::

        FL = -\alpha_t\,(1 - p_t)^{\gamma_t} \log p_t ,

    where ``p_t`` is the predicted probability of the true class (sigmoid of
    the margin for binary problems, softmax for multiclass), ``alpha_t`` the
    weight of the true class and ``gamma_t`` its focusing parameter.
    ``gamma = 0`` and ``alpha = None`` is the log loss.

    Parameters
    ----------
    gamma : float or sequence of float, default=2.0
        Focusing parameter in ``[0, 1e6]`` (:data:`focal_boost._kernels.scalar.MAX_GAMMA`:
        beyond about 100 the loss already ignores all but the examples with
        ``p_t`` below ``1 / gamma``). A sequence gives one value per class
        (class order ``0, 1, ..., K-1``): for binary problems
        ``gamma=[gamma_negative, gamma_positive]`` is the asymmetric focusing
        of Ridnik et al. (2021), e.g. ``[4.0, 0.0]`` focuses on hard negatives
        only. A scalar is the symmetric loss.
    alpha : float, "balanced", sequence of float or None, default=0.25
        Class weights ``alpha_t`` in ``[0, 1]``.

        * float (binary only): ``alpha`` on the positive class and
          ``1 - alpha`` on the negative class, as in
          ``torchvision.ops.sigmoid_focal_loss``.
        * sequence: one weight per class.
        * ``"balanced"``: ``alpha_k`` proportional to ``1 / W_k``, with ``W_k``
          the (weighted) count of class ``k``, normalised to sum to 1 (binary:
          ``alpha = W_0 / (W_0 + W_1)``). Resolved from the labels of each call;
          use :meth:`resolved` to fix it from the training labels.
        * ``None``: every class weighs 1.
    hessian : {"upper", "clip", "exact"}, default="upper"
        What :meth:`gradient_hessian` returns as the Hessian. The exact second
        derivative is negative for badly misclassified examples, which a
        booster cannot use:

        * ``"upper"``: the positive upper bound
          ``alpha p q^gamma [(2 gamma + 1) q + gamma^2 p ell]`` that drops the
          negative term ``-gamma q ell`` (see :mod:`focal_boost._kernels.scalar`); equal to
          the exact value at ``gamma = 0``.
        * ``"clip"``: ``max(exact, hessian_floor)``.
        * ``"exact"``: the true second derivative (for analysis and tests).

        For multiclass the policy applies to each diagonal entry. ``"upper"``
        is the default on evidence (``benchmarks/hessian_policy.py``, summary
        in ``docs/math.md``): ``"clip"`` reaches a given training loss in
        5-8% fewer rounds, but ``"upper"`` does as well or better on held-out
        data and never produced the huge leaf values that ``"clip"`` did with
        LightGBM's unregularised leaves.
    hessian_floor : float, default=1e-6
        The floor of the ``"clip"`` policy, before sample weights, in ``[0, 1e6]``.

    Notes
    -----
    Gradients and Hessians are with respect to the raw margin and are computed
    in float64 whatever the input dtype, stably for any finite margin
    (multiclass rows whose margins span more than the doubles give the
    limits; the loss then saturates at the largest double). Sample weights
    must be finite, ``>= 0`` and at most ``1e300``, and at most ``1e31``
    for float32 outputs (:data:`focal_boost._kernels.scalar.MAX_FLOAT32_WEIGHT`), which
    keeps every weighted gradient and Hessian inside the float32 that
    boosters store.
    """

    def __init__(
        self,
        gamma: float | Any = 2.0,
        alpha: float | str | Any | None = 0.25,
        *,
        hessian: str = "upper",
        hessian_floor: float = 1e-6,
    ) -> None:
        self._gamma = check_gamma(gamma)
        self._alpha = check_alpha(alpha)
        self._hessian, self._hessian_floor = check_hessian(hessian, hessian_floor)

    # ---------------------------------------------------------------- parameters

    @property
    def gamma(self) -> float | np.ndarray:
        """Focusing parameter: a float, or per-class values."""
        return self._gamma

    @property
    def alpha(self) -> float | str | np.ndarray | None:
        """Class weighting: None, "balanced", a float or per-class values."""
        return self._alpha

    @property
    def hessian(self) -> str:
        """The Hessian policy."""
        return self._hessian

    @property
    def hessian_floor(self) -> float:
        """The floor of the "clip" Hessian policy."""
        return self._hessian_floor

    @property
    def is_log_loss(self) -> bool:
        """Whether this is exactly the (unweighted) log loss: ``gamma`` 0 for every class, no ``alpha``.

        Gradients and Hessians are then the boosters' own (the ``"clip"`` policy
        differs where ``p (1 - p)`` is below its floor), and the adapters train
        with the booster's built-in objective and log-loss metric, which cost
        less per round than a custom objective.
        """
        return (
            self._alpha is None and self._hessian != "clip" and bool(np.all(np.asarray(self._gamma) == 0.0))
        )

    def __repr__(self) -> str:
        def show(value: Any) -> str:
            return repr(value.tolist()) if isinstance(value, np.ndarray) else repr(value)

        extra = f", hessian_floor={self._hessian_floor!r}" if self._hessian == "clip" else ""
        return (
            f"FocalLoss(gamma={show(self._gamma)}, alpha={show(self._alpha)}, "
            f"hessian={self._hessian!r}{extra})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FocalLoss):
            return NotImplemented
        return repr(self) == repr(other) and self._hessian_floor == other._hessian_floor

    def __hash__(self) -> int:
        return hash((repr(self), self._hessian_floor))

    def class_weights(self, n_classes: int, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """``alpha`` as a vector of ``n_classes`` per-class weights.

        ``y`` (and ``sample_weight``) are needed only for ``alpha="balanced"``.
        """
        alpha = self._alpha
        if alpha is None:
            return np.ones(n_classes)
        if isinstance(alpha, float):
            if n_classes != 2:
                raise ValueError(
                    f"a single alpha is for binary problems (alpha={alpha:g} weighs the positive class, "
                    f"1 - alpha the negative; FocalLoss's default is the paper's 0.25): for {n_classes} "
                    f"classes pass alpha=None (equal weights), 'balanced' or {n_classes} per-class values"
                )
            return np.array([1.0 - alpha, alpha])
        if isinstance(alpha, str):
            if y is None:
                raise ValueError("alpha='balanced' needs the labels: call resolved(y) first")
            y = check_labels(y)
            check_class_indices(y, n_classes)
            return balanced_weights(class_totals(y, sample_weight, n_classes))
        if alpha.shape[0] != n_classes:
            raise ValueError(f"alpha has {alpha.shape[0]} per-class values but there are {n_classes} classes")
        return alpha

    def class_gammas(self, n_classes: int) -> np.ndarray:
        """``gamma`` as a vector of ``n_classes`` per-class values."""
        if isinstance(self._gamma, float):
            return np.full(n_classes, self._gamma)
        if self._gamma.shape[0] != n_classes:
            raise ValueError(
                f"gamma has {self._gamma.shape[0]} per-class values but there are {n_classes} classes"
            )
        return self._gamma

    def resolved(self, y: Any, sample_weight: Any = None, *, n_classes: int | None = None) -> FocalLoss:
        """A copy with ``alpha="balanced"`` replaced by the weights it means on ``y``.

        Boosters and estimators call this once on the training labels, so that
        every later call (validation data, prediction) uses the same weights.
        Returns ``self`` when ``alpha`` is not ``"balanced"``.
        """
        if not isinstance(self._alpha, str):
            return self
        y = check_labels(y)
        n_classes = check_class_indices(y, n_classes)
        weights = balanced_weights(class_totals(y, sample_weight, n_classes))
        alpha: float | np.ndarray = float(weights[1]) if n_classes == 2 else weights
        return FocalLoss(self._gamma, alpha, hessian=self._hessian, hessian_floor=self._hessian_floor)

    # ------------------------------------------------------------- loss and derivatives

    def loss(
        self,
        y: Any,
        margin: Any,
        sample_weight: Any = None,
        *,
        loss_out: np.ndarray | None = None,
        n_threads: int | None = None,
    ) -> np.ndarray:
        """Per-sample focal loss, shape ``(n,)``, times ``sample_weight`` if given.

        Parameters
        ----------
        y : array-like of shape (n,)
            Labels: 0/1 for binary margins, 0..K-1 for multiclass margins.
        margin : array-like of shape (n,) or (n, K)
            Raw margins (log-odds, or logits before softmax).
        sample_weight : array-like of shape (n,), optional
            Non-negative weights that multiply each sample's loss.
        loss_out : ndarray of shape (n,), optional
            Where to write the result (float32 or float64).
        n_threads : int, optional
            Threads for the kernel (``None``/``-1``: all of Numba's threads).
        """
        if _device_arrays.is_device_array(margin):
            return on_device(self, "loss", y, margin, sample_weight, (loss_out,))[0]
        n_threads = check_n_threads(n_threads)
        margin = check_margin(margin)
        prepared = prepared_for(self, margin, y, sample_weight)
        return prepared.loss(y, margin, sample_weight, loss_out=loss_out, n_threads=n_threads)

    def gradient_hessian(
        self,
        y: Any,
        margin: Any,
        sample_weight: Any = None,
        *,
        gradient_out: np.ndarray | None = None,
        hessian_out: np.ndarray | None = None,
        n_threads: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian of the focal loss with respect to the raw margin.

        Both have the shape of ``margin`` (for multiclass, the Hessian is the
        diagonal ``d^2 FL / dz_j^2``) and are multiplied by ``sample_weight``
        if given. The Hessian follows the policy chosen at construction.
        Outputs default to new arrays of the margin's dtype (as boosters store
        gradients in float32, float32 margins give float32 outputs); pass
        ``gradient_out``/``hessian_out`` to reuse memory. Arguments are as in
        :meth:`loss`.

        GPU arrays (``__cuda_array_interface__``: CuPy, numba-cuda) are
        computed on the GPU by the CUDA kernels, with outputs on the device
        (this and :meth:`loss`; ``n_threads`` does not apply there).
        """
        if _device_arrays.is_device_array(margin):
            grad, hess = on_device(self, "grad_hess", y, margin, sample_weight, (gradient_out, hessian_out))
            return grad, hess
        n_threads = check_n_threads(n_threads)
        margin = check_margin(margin)
        prepared = prepared_for(self, margin, y, sample_weight)
        return prepared.gradient_hessian(
            y, margin, sample_weight, gradient_out=gradient_out, hessian_out=hessian_out, n_threads=n_threads
        )

    # ------------------------------------------------------------------ initial score

    def init_score(
        self, y: Any, sample_weight: Any = None, *, n_classes: int | None = None
    ) -> float | np.ndarray:
        r"""The constant margin that minimises the (weighted) focal loss on ``y``.

        The boosting counterpart of the paper's prior initialisation
        ``b = -log((1 - pi) / pi)``; at ``gamma = 0, alpha = None`` it is exactly
        ``logit(pi)`` (binary) or the centred log-priors (multiclass).

        It is the minimiser on the probability simplex, where every class's
        marginal risk is equal (:mod:`focal_boost._kernels.intercept`: time linear
        in ``K``, computed in log space for any ``gamma``), and it satisfies
        ``posterior_proba(b) = pi``, the (weighted) class priors. Binary: a
        float; multiclass: margins centred to sum to zero.

        Parameters
        ----------
        y : array-like of shape (n,)
            Labels 0/1, or 0..K-1.
        sample_weight : array-like of shape (n,), optional
        n_classes : int, optional
            ``K``; default ``max(y) + 1`` (2 for binary). Pass it to get a
            multiclass score for ``K = 2`` margins of shape ``(n, 2)``.

        Returns
        -------
        float (binary) or ndarray of shape (K,) (multiclass, ``n_classes > 2``
        or given explicitly).
        """
        y = check_labels(y)
        multiclass_requested = n_classes is not None
        n_classes = check_class_indices(y, n_classes)
        totals = class_totals(y, sample_weight, n_classes)
        alpha = self._weights_for(totals)
        gamma = self.class_gammas(n_classes)
        effective = totals * alpha
        if np.any(effective <= 0.0):
            missing = [k for k in range(n_classes) if effective[k] <= 0.0]
            raise ValueError(
                f"the focal loss has no finite minimiser: classes {missing} have zero "
                "(weighted) count or zero alpha"
            )
        if n_classes == 2 and not multiclass_requested:
            return binary_init_score(totals, alpha, gamma)
        return self._multiclass_init_score(totals, n_classes)

    def _multiclass_init_score(self, totals: np.ndarray, n_classes: int) -> np.ndarray:
        # One aggregated row per class: label k, weight W_k / sum(W); linear in K (_intercept).
        return multiclass_init_score(totals, self._weights_for(totals), self.class_gammas(n_classes))

    def _weights_for(self, totals: np.ndarray) -> np.ndarray:
        """:meth:`class_weights` for data with class totals ``totals``."""
        return (
            balanced_weights(totals) if isinstance(self._alpha, str) else self.class_weights(totals.shape[0])
        )

    # -------------------------------------------------------------- probabilities

    def predict_proba(self, margin: Any) -> np.ndarray:
        """The inverse link: ``sigmoid`` / ``softmax`` of the margin, shape ``(n, K)``.

        For a binary margin of shape ``(n,)`` the columns are ``[P(y=0),
        P(y=1)]``. This is the model's raw probability; a focal-trained model's
        raw probabilities are not calibrated: see :meth:`posterior_proba`.
        ``exp`` of :meth:`predict_log_proba`, so that the two order the classes alike.
        """
        return np.exp(self.predict_log_proba(margin))

    def predict_log_proba(self, margin: Any) -> np.ndarray:
        """The logarithm of :meth:`predict_proba`, computed in log space (log-sigmoid, log-softmax)."""
        margin = np.asarray(check_margin(margin), dtype=np.float64)
        check_finite(margin)
        return log_link(margin)

    def posterior_proba(self, margin: Any) -> np.ndarray:
        r"""Class-posterior estimates from a focal-trained margin, shape ``(n, K)``.

        The minimiser of the focal risk is not the class posterior: focal loss
        pushes probabilities towards 1/2 (binary) and ``alpha`` shifts them.
        Charoenphakdee, Vongkulbhisal, Chairatanakul and Sugiyama (CVPR 2021,
        "On Focal Loss for Class-Posterior Probability Estimation") give the
        closed-form inverse: if ``p`` minimises the conditional focal risk then

        .. math::

            \eta_k = \frac{h_{\gamma_k}(p_k) / \alpha_k}{\sum_j h_{\gamma_j}(p_j) / \alpha_j},
            \qquad h_\gamma(p) = \frac{p}{(1 - p)^{\gamma - 1}\,((1 - p) - \gamma p \log p)} ,

        where ``p = sigmoid``/``softmax`` of the margin; the ``1 / alpha_k``
        undoes the class weighting. With ``gamma = 0`` and ``alpha = None`` this
        is the identity. Computed in log space, stably for any finite margin,
        as ``exp`` of :meth:`posterior_log_proba` (so that the two order the
        classes alike).
        """
        return np.exp(self.posterior_log_proba(margin))

    def posterior_log_proba(self, margin: Any) -> np.ndarray:
        """The logarithm of :meth:`posterior_proba`, computed in log space."""
        margin = check_margin(margin)
        if isinstance(self._alpha, str):
            check_finite(margin)
            raise ValueError(
                "alpha='balanced' must be fixed from the training labels first: use resolved(y_train)"
            )
        return link.posterior_log_proba(self._prepared(None if margin.ndim == 1 else margin.shape[1]), margin)

    def _prepared(self, margin_columns: int | None) -> Any:
        """:func:`prepare_loss` for ``margin_columns``, kept: the loss does not change, and preparing
        it costs more than the correction of one row (the estimator's one-row prediction)."""
        kept = self.__dict__.setdefault("_prepared_by_columns", {})
        if margin_columns not in kept:
            kept[margin_columns] = prepare_loss(self, margin_columns)
        return kept[margin_columns]
