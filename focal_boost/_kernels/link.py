"""The link: log-sigmoid and log-softmax of margins, and the focal posterior correction in log space.

Probabilities only ever come from here (as scikit-learn's ``link.inverse``):
:func:`log_link` is the raw model's, :func:`posterior_log_proba` undoes focal
loss's pull towards 1/2 and ``alpha``'s shift (:meth:`focal_boost.FocalLoss.posterior_proba`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.special
from numba import njit

from focal_boost._kernels.elementary import JIT_OPTIONS
from focal_boost._kernels.rows import one_vs_rest_margin, rest_max
from focal_boost._kernels.scalar import DOUBLE_MAX, log_posterior_weight

if TYPE_CHECKING:
    from focal_boost._kernels.prepared import PreparedLoss

__all__ = ["check_finite", "log_link", "posterior_log_proba"]

_JIT = {"cache": True, "nogil": True, **JIT_OPTIONS}


def log_link(margin: np.ndarray) -> np.ndarray:
    """``log sigmoid`` (columns ``[log P(y=0), log P(y=1)]``) or ``log softmax`` of finite margins."""
    if margin.ndim == 1:
        return np.column_stack([scipy.special.log_expit(-margin), scipy.special.log_expit(margin)])
    with np.errstate(over="ignore", invalid="ignore"):  # a spread beyond 1.8e308: -inf, the right limit
        return scipy.special.log_softmax(margin, axis=1)


def check_finite(margin: np.ndarray) -> None:
    if not np.all(np.isfinite(margin)):
        raise ValueError("margin contains NaN or infinite values")


def posterior_log_proba(prepared: PreparedLoss, margin: np.ndarray) -> np.ndarray:
    """Log class posteriors ``(n, K)`` of checked margins under ``prepared``'s ``alpha`` and ``gamma``."""
    check_finite(margin)
    alpha, gamma = prepared.alpha, prepared.gamma
    if np.any(alpha <= 0.0):
        raise ValueError(f"the posterior is undefined for a class with alpha = 0 (alpha = {alpha.tolist()})")
    log_alpha = np.log(alpha)
    if margin.ndim == 1:
        logit = np.empty(margin.shape[0])
        binary_posterior_logit(margin, log_alpha[0], log_alpha[1], gamma[0], gamma[1], logit)
        return log_link(logit)
    log_weights = np.empty(margin.shape)
    multiclass_posterior_log(margin, log_alpha, gamma, log_weights)
    # gamma * s overflows for one-vs-rest margins beyond about 1e308 / gamma: the largest double
    # is the class that wins (softmax would turn inf - inf into NaN).
    np.clip(log_weights, -DOUBLE_MAX, DOUBLE_MAX, out=log_weights)
    return log_link(log_weights)


@njit(**_JIT)
def binary_posterior_logit(margin, log_alpha_neg, log_alpha_pos, gamma_neg, gamma_pos, out):
    """Posterior-corrected logit: ``log(eta / (1 - eta))`` for each margin."""
    for i in range(margin.shape[0]):
        z = float(margin[i])
        out[i] = (log_posterior_weight(z, gamma_pos) - log_alpha_pos) - (
            log_posterior_weight(-z, gamma_neg) - log_alpha_neg
        )


@njit(**_JIT)
def multiclass_posterior_log(margin, log_alpha, gamma, out):
    """Unnormalised log posterior ``log h_k(p_k) - log alpha_k`` for each row."""
    n_rows, n_classes = margin.shape
    for i in range(n_rows):
        z_row = margin[i]
        for k in range(n_classes):
            m, _ = rest_max(z_row, k)
            s = one_vs_rest_margin(z_row, k, m)
            out[i, k] = log_posterior_weight(s, gamma[k]) - log_alpha[k]
