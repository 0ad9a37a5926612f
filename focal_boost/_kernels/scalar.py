r"""Scalar focal-loss math for one example, in margin space.

Every function here is a plain Python function of floats that Numba compiles
into the kernels (:mod:`focal_boost._kernels.loops`); nothing here touches arrays.

Notation
--------
For one example let ``s`` be its *signed margin*: the raw margin ``z`` for a
positive and ``-z`` for a negative in the binary case; in the multiclass case
``s = z_c - logsumexp_{j != c} z_j`` for the true class ``c``. Then

.. math::

    p = \sigma(s) = p_t, \qquad q = \sigma(-s) = 1 - p_t, \qquad
    \ell = \operatorname{softplus}(-s) = -\log p_t ,

and the focal loss (Lin et al., 2017) is

.. math::

    FL(s) = \alpha\, q^\gamma\, \ell .

Derivatives with respect to ``s`` (``dq/ds = -pq``, ``d\ell/ds = -q``):

.. math::

    \frac{dFL}{ds} &= -G, \qquad G = \alpha\, q^\gamma\,(\gamma\, p\, \ell + q) \ \ge 0, \\
    \frac{d^2FL}{ds^2} &= \alpha\, p\, q^\gamma\,
        \bigl[(2\gamma + 1)\, q + \gamma^2 p\, \ell - \gamma\, q\, \ell\bigr] .

``G`` has no ``q^{\gamma - 1}`` factor, so ``gamma < 1`` is as stable as any
other value. The last term ``-\gamma q \ell`` makes the exact second
derivative negative for badly misclassified examples (``s`` below about
``-(2 + 1/\gamma)``); dropping it gives the *upper* Hessian

.. math::

    H^{+} = \alpha\, p\, q^\gamma\,\bigl[(2\gamma + 1)\, q + \gamma^2 p\, \ell\bigr]
          \ \ge\ \frac{d^2FL}{ds^2}, \qquad H^{+} > 0,

which equals the exact value at ``gamma = 0`` (log loss: ``G = q``,
``H = p q``).

Numerics: one ``t = exp(-|s|)`` gives ``p``, ``q`` (no ``1 - p``
subtraction), ``\ell`` and ``\log q`` through one ``log1p(t)``;
``q^\gamma = exp(\gamma \log q)`` with ``\log q = -\operatorname{softplus}(s)``
computed directly (or by multiplication for an integer ``gamma``); ``p \ell``
(at most ``1/e``) is formed before it multiplies anything, so nothing
overflows, turns into ``0 * inf`` or loses precision for any finite margin.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from focal_boost._kernels.elementary import (
    JIT_OPTIONS,
    ONE,
    TWO,
    exp_nonpositive,
    exp_nonpositive_wide,
    integer_power,
    reciprocal_log1p,
)

#: The largest double: what margins and losses are clamped to instead of overflowing to infinity.
DOUBLE_MAX = 1.7976931348623157e308

#: The largest ``gamma`` accepted. The loss then counts only examples with ``p_t`` below about
#: ``1 / gamma``; the kernels agree with mpmath to 1e-14 up to here (and would overflow ``gamma**2``
#: into NaN Hessians near 1e154).
MAX_GAMMA = 1e6
#: The largest floor of the "clip" Hessian policy accepted.
MAX_HESSIAN_FLOOR = 1e6
#: Per unit of sample weight, a bound on ``|gradient|`` and ``|Hessian|`` for every margin, ``alpha <= 1``,
#: ``gamma <= MAX_GAMMA`` and floor ``<= MAX_HESSIAN_FLOOR``, times the boosters' multiclass factor (at
#: most 2). Per unit weight ``|G| <= gamma + 1``, the upper Hessian ``<= (gamma + 1)^2 / (gamma + 2)``,
#: the exact one within ``gamma + 2`` and the other classes' entries within ``h + G / 4``
#: (``p ell <= q`` and ``p q^(gamma+1) <= 1 / (gamma + 2)``): at most ``2 gamma + 3 + floor``.
GRADIENT_BOUND = 2.0 * (2.0 * MAX_GAMMA + 3.0 + MAX_HESSIAN_FLOOR)
#: The largest sample weight the kernels accept: the bound times it stays a finite double. The
#: kernels' own weight check, ``0 <= w <= MAX_WEIGHT``, also rejects NaN and infinity, at no cost.
MAX_WEIGHT = 1e300
#: The largest sample weight when the outputs are float32 (what boosters store): weighted gradients
#: and Hessians then stay below float32's 3.4e38 (``GRADIENT_BOUND`` is below 6e6).
MAX_FLOAT32_WEIGHT = 1e31

#: Hessian policies, as the integer codes the kernels take.
HESSIAN_EXACT = 0
HESSIAN_CLIP = 1
HESSIAN_UPPER = 2

#: Decorator for scalar math: a plain function that Numba compiles inline
#: into any caller, with the kernels' options.
scalar = njit(inline="always", **JIT_OPTIONS)


@scalar
def sigmoid_terms(s):
    """``(p, q, ell, log_q)`` for a signed margin ``s``.

    ``p = sigmoid(s)``, ``q = sigmoid(-s)``, ``ell = softplus(-s) = -log p`` and
    ``log_q = -softplus(s)``, all from one ``exp`` and one ``log1p``. ``log_q`` is
    float64 even in the float32 variant: ``q**gamma = exp(gamma log_q)`` turns
    an absolute error in ``log_q`` (about ``|s|`` float32 ulps) into a relative
    one in the result.
    """
    a = abs(s)
    t = exp_nonpositive(-a)
    inv, log1p_t = reciprocal_log1p(t)
    nonnegative = s >= 0.0
    p = inv if nonnegative else t * inv
    q = t * inv if nonnegative else inv
    ell = log1p_t if nonnegative else a + log1p_t
    log_q = -(np.float64(a) + np.float64(log1p_t)) if nonnegative else -np.float64(log1p_t)
    return p, q, ell, log_q


@scalar
def focusing_factor(q, log_q, gamma, gamma_int, use_integer):
    """``q**gamma``: ``integer_power(q, gamma_int)`` when ``use_integer`` (then
    ``gamma == gamma_int``), else ``exp(gamma * log q)``.

    ``use_integer`` holds when every class has an integer gamma below 16. The
    binary and multiclass gradient kernels keep one copy of their loop per
    value and pass it as a constant (LLVM does not unswitch the branch by
    itself), so the integer loop contains no ``exp``.
    """
    if use_integer:
        return integer_power(q, gamma_int)
    return exp_nonpositive_wide(np.float64(gamma) * log_q)


@scalar
def focal_loss(s, alpha, gamma, gamma_int, use_integer):
    """Focal loss ``alpha * q**gamma * ell`` at signed margin ``s``."""
    _, q, ell, log_q = sigmoid_terms(s)
    return alpha * focusing_factor(q, log_q, gamma, gamma_int, use_integer) * ell


@scalar
def focal_derivatives(s, alpha, gamma, gamma_int, use_integer):
    """``(G, h_exact, h_upper)`` at signed margin ``s``.

    ``G = -dFL/ds >= 0``; ``h_exact = d2FL/ds2`` (may be negative);
    ``h_upper >= h_exact`` is the positive upper Hessian (module docstring).
    With ``use_integer``, ``gamma_int == gamma`` is used (see :func:`focusing_factor`).
    """
    p, q, ell, log_q = sigmoid_terms(s)
    # p * ell = -p log p <= 1/e for every margin, while ell alone reaches
    # 1e308 and would turn 0 * ell into NaN at the extremes.
    p_ell = p * ell
    modulator = alpha * focusing_factor(q, log_q, gamma, gamma_int, use_integer)
    gradient = modulator * (gamma * p_ell + q)
    h_upper = modulator * ((TWO * gamma + ONE) * p * q + gamma * gamma * p * p_ell)
    h_exact = h_upper - modulator * gamma * q * p_ell
    return gradient, h_exact, h_upper


@scalar
def apply_hessian_policy(h_exact, h_upper, policy, floor):
    """The Hessian handed to the booster under ``policy``.

    ``HESSIAN_EXACT``: ``h_exact``; ``HESSIAN_CLIP``: ``max(h_exact, floor)``;
    ``HESSIAN_UPPER``: ``h_upper``.
    """
    if policy == HESSIAN_EXACT:
        return h_exact
    if policy == HESSIAN_CLIP:
        return max(h_exact, floor)
    return h_upper


@scalar
def log_posterior_weight(s, gamma):
    r"""``log h_gamma(p)`` at ``p = sigmoid(s)``, for the posterior correction.

    Charoenphakdee et al. (CVPR 2021) show that the minimiser ``p`` of the
    conditional focal risk relates to the class posterior ``eta`` through
    ``eta_k alpha_k ∝ h_{gamma_k}(p_k)`` with

    .. math::

        h_\gamma(p) = \frac{p}{(1-p)^{\gamma-1}\,\bigl((1-p) - \gamma\, p \log p\bigr)},

    computed here as ``log p - gamma log(1-p) - log1p(gamma p ell / (1-p))``,
    with ``ell / (1-p)`` evaluated without cancellation (it tends to 1 as
    ``s -> inf`` and to ``|s|`` as ``s -> -inf``).
    """
    a = abs(s)
    t = math.exp(-a)
    log1p_t = math.log1p(t)
    if s >= 0.0:
        p = 1.0 / (1.0 + t)
        ell = log1p_t
        log_q = -(a + log1p_t)
        # ell / q = log1p(t) (1 + t) / t, which tends to 1 as t -> 0.
        ratio = log1p_t * (1.0 + t) / t if t > 1e-300 else 1.0
    else:
        p = t / (1.0 + t)
        ell = a + log1p_t
        log_q = -log1p_t
        ratio = ell * (1.0 + t)
    return -ell - gamma * log_q - math.log1p(gamma * p * ratio)
