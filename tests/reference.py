"""References that share no formulas with focal_boost.

* ``mp_*``: the focal loss written from its definition in mpmath, with enough
  digits that ``1 - p`` and ``log p`` are exact at any tested margin, and its
  derivatives taken by mpmath's numerical differentiation of that loss.
* ``naive_*``: the textbook float64 NumPy formulas, valid for moderate margins,
  used for brute-force minimisation.
"""

from __future__ import annotations

import mpmath
import numpy as np


def _digits(*margins: float) -> int:
    # exp(-|s|) must be resolved next to 1: log10(e) * |s| digits, plus 40.
    return 40 + int(max(abs(float(m)) for m in margins) * 0.4343) + 1


def mp_binary_loss(s, alpha: float, gamma: float):
    """FL at signed margin ``s`` from the definition: p = 1 / (1 + e^-s)."""
    p = 1 / (1 + mpmath.exp(-s))
    return -alpha * (1 - p) ** gamma * mpmath.log(p) if gamma else -alpha * mpmath.log(p)


def mp_binary(z: float, y: int, alpha_pos: float, alpha_neg: float, gamma_pos: float, gamma_neg: float):
    """(loss, d/dz, d2/dz2) for raw margin ``z`` and label ``y``, as mpf."""
    with mpmath.workdps(_digits(z)):
        alpha, gamma, sign = (alpha_pos, gamma_pos, 1) if y == 1 else (alpha_neg, gamma_neg, -1)
        alpha, gamma = mpmath.mpf(alpha), mpmath.mpf(gamma)

        def f(x):
            return mp_binary_loss(sign * x, alpha, gamma)

        x = mpmath.mpf(float(z))
        return f(x), mpmath.diff(f, x, 1), mpmath.diff(f, x, 2)


def mp_binary_scale(z: float, y: int, alpha: float, gamma: float):
    """Size of the terms that the exact Hessian sums (for its tolerance near zero)."""
    with mpmath.workdps(_digits(z)):
        s = mpmath.mpf(float(z)) * (1 if y == 1 else -1)
        p = 1 / (1 + mpmath.exp(-s))
        q = 1 / (1 + mpmath.exp(s))
        ell = -mpmath.log(p)
        gamma = mpmath.mpf(gamma)
        return alpha * p * q**gamma * ((2 * gamma + 1) * q + gamma**2 * p * ell + gamma * q * ell)


def mp_softmax_loss(z, c: int, alpha, gamma):
    """Softmax focal loss from the definition, as a function of the margin vector."""
    total = mpmath.fsum(mpmath.exp(zj) for zj in z)
    p = mpmath.exp(z[c]) / total
    rest = mpmath.fsum(mpmath.exp(zj) for j, zj in enumerate(z) if j != c) / total  # 1 - p, exactly
    return -alpha * rest**gamma * mpmath.log(p) if gamma else -alpha * mpmath.log(p)


def mp_multiclass(z_row, c: int, alpha: float, gamma: float):
    """(loss, gradient[K], diagonal Hessian[K]) for one row, as mpf lists."""
    spread = max(z_row) - min(z_row)
    with mpmath.workdps(_digits(spread)):
        x = [mpmath.mpf(float(v)) for v in z_row]
        alpha, gamma = mpmath.mpf(alpha), mpmath.mpf(gamma)
        k = len(x)

        def f(*args):
            return mp_softmax_loss(args, c, alpha, gamma)

        grad, hess = [], []
        for j in range(k):
            order = tuple(1 if i == j else 0 for i in range(k))
            grad.append(mpmath.diff(f, x, order))
            hess.append(mpmath.diff(f, x, tuple(2 * o for o in order)))
        return f(*x), grad, hess


def naive_binary_loss(
    y: np.ndarray, z: np.ndarray, alpha_pos: float, alpha_neg: float, gamma_pos: float, gamma_neg: float
):
    """Textbook float64 focal loss (moderate margins only)."""
    p = 1.0 / (1.0 + np.exp(-z))
    pt = np.where(y == 1, p, 1.0 - p)
    alpha = np.where(y == 1, alpha_pos, alpha_neg)
    gamma = np.where(y == 1, gamma_pos, gamma_neg)
    return -alpha * (1.0 - pt) ** gamma * np.log(pt)


def naive_softmax_loss(y: np.ndarray, z: np.ndarray, alpha: np.ndarray, gamma: np.ndarray):
    """Textbook float64 softmax focal loss (moderate margins only)."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    idx = y.astype(int)
    pt = p[np.arange(len(y)), idx]
    return -alpha[idx] * (1.0 - pt) ** gamma[idx] * np.log(pt)


def mp_multiclass_scale(z_row, c: int, alpha: float, gamma: float):
    """Per-entry size of the terms the exact diagonal Hessian sums."""
    spread = max(z_row) - min(z_row)
    with mpmath.workdps(_digits(spread)):
        x = [mpmath.mpf(float(v)) for v in z_row]
        rest = [mpmath.exp(v) for j, v in enumerate(x) if j != c]
        rest_total = mpmath.fsum(rest)
        s = x[c] - mpmath.log(rest_total)
        p = 1 / (1 + mpmath.exp(-s))
        q = 1 / (1 + mpmath.exp(s))
        ell = -mpmath.log(p)
        gamma = mpmath.mpf(gamma)
        modulator = alpha * q**gamma
        big = modulator * (gamma * p * ell + q)
        curvature = modulator * p * ((2 * gamma + 1) * q + gamma**2 * p * ell + gamma * q * ell)
        scales = []
        for j, v in enumerate(x):
            if j == c:
                scales.append(curvature)
            else:
                r = mpmath.exp(v) / rest_total
                scales.append(curvature * r * r + big * r * (1 - r))
        return scales
