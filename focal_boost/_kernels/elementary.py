"""Vectorisable elementary functions for the CPU kernels.

Why this module exists: Numba's LLVM has no SVML here, so ``math.exp`` and
``math.log1p`` are scalar libm calls, and a loop that calls them cannot be
vectorised. The two functions below are branch-free (selects only), use only
``+ - * /`` and integer bit manipulation, and are accurate to 1 ulp in
float64, so LLVM turns a loop over them into AVX2/AVX-512 code. They cover
exactly the domains the focal-loss math needs:

* :func:`exp_nonpositive` -- ``exp(x)`` for ``x <= 0`` (and any ``x <= 709``),
  with correct underflow through the subnormal range to ``0``.
* :func:`reciprocal_log1p` -- ``(1 / (1 + t), log(1 + t))`` for ``t`` in
  ``[0, 1]``: the sigmoid and the softplus of a margin share ``t = exp(-|s|)``,
  and computing both together costs one division instead of three.
* :func:`log_normal` -- ``log(x)`` for a positive normal ``x`` (the
  multiclass kernel's log-sum-exp).
* :func:`integer_power` -- ``q**n`` for integers ``0 <= n < 16`` by four
  branch-free squarings, the fast path for integer ``gamma``.

All are ``njit(inline="always")``: Numba inlines them into the caller's IR,
so the kernels' loops contain no calls (LLVM's own inliner gives up on large
loop bodies, and a loop with a call does not vectorise). Called from Python
they compile and run the same code.

Method
------
``exp``: Cody-Waite range reduction ``x = k ln2 + r`` with ``|r| <= ln2 / 2``,
where ``k`` is obtained by the "shifter" trick (adding ``1.5 * 2**52`` rounds
to the nearest integer and leaves ``k`` in the low mantissa bits, so no
float-to-int64 conversion is needed, which AVX2 lacks); ``exp(r)`` by its
degree-13 Taylor polynomial (truncation error below ``4e-18``), evaluated by
Estrin's scheme (dependency depth 5 instead of 13: the kernels are latency
bound); ``2**k`` built
directly in the exponent bits, split into two factors so that results in the
subnormal range are rounded once, like libm.

``log1p``: ``u = 1 + t`` with the rounding error ``c = t - (u - 1)`` kept as a
first-order correction ``c / u``; ``u`` is reduced to ``m`` in
``[sqrt(2)/2, sqrt(2)]`` and ``log(m)`` is evaluated with fdlibm's ``e_log.c``
minimax polynomial in ``s = f / (2 + f)``, ``f = m - 1`` (error below 1 ulp).
The two quotients ``1 / u`` and ``f / (2 + f)`` come from the one reciprocal
``1 / (u (2 + f))``, which costs about 1 ulp in ``1 / u``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic


def _bitcast(source, target):
    """An intrinsic that reinterprets the bits of a ``source`` value as a ``target`` of the same
    width (an LLVM bitcast), e.g. ``_bitcast(types.int64, types.float64)``."""

    def reinterpret(typingctx, value):  # pragma: no cover - compiled only
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(target))

        return target(source), codegen

    reinterpret.__name__ = f"{target}_from_{source}_bits"
    return intrinsic(reinterpret)


_float64_from_bits = _bitcast(types.int64, types.float64)
_bits_from_float64 = _bitcast(types.float64, types.int64)
_float32_from_bits = _bitcast(types.int32, types.float32)
_bits_from_float32 = _bitcast(types.float32, types.int32)


#: Compile options for all scalar math. Overloads do not inherit the caller's,
#: and Python's error model adds a division-by-zero branch that stops LLVM from
#: vectorising a loop. "contract" allows fused multiply-add only (NaN and Inf
#: semantics are kept).
JIT_OPTIONS = {"error_model": "numpy", "fastmath": {"contract"}}

_LOG2E = 1.4426950408889634
# ln 2 split so that k * _LN2_HI is exact for |k| < 2**11 (fdlibm's constants).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
# Adding this rounds a double of magnitude < 2**51 to the nearest integer and
# leaves that integer in the low bits of the mantissa.
_SHIFTER = 6755399441055744.0  # 1.5 * 2**52
_SQRT2 = 1.4142135623730951

# fdlibm e_log.c: minimax coefficients for log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)).
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01


_TAYLOR = [1.0 / math.factorial(i) for i in range(14)]
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = _TAYLOR[2:]


_INLINE = {"inline": "always", **JIT_OPTIONS}

#: Constants of the shared focal math, named so that its float32 variant
#: (:mod:`focal_boost._kernels.float32`) can replace them with float32 ones: a
#: Python float literal would make every expression it touches float64.
ONE = 1.0
TWO = 2.0
#: The float type of the kernels' margins and arithmetic (float32 in the float32 variant).
KERNEL_FLOAT = np.float64


@njit(**_INLINE)
def compute_float(x):
    """A margin or weight as the kernel computes it: float64 here, float32 in the float32 variant.

    (Numba's ``float()`` keeps a float32 a float32.)
    """
    return np.float64(x)


@njit(**_INLINE)
def exp_nonpositive(x):
    """Branch-free ``exp(x)`` for ``x <= 709``, within 1 ulp of libm.

    Arguments below ``-746`` give ``0`` (through correctly rounded subnormals);
    NaN propagates. The focal-loss math only needs ``x <= 0``.
    """
    x = min(max(x, -746.0), 709.0) if x == x else x
    shifted = x * _LOG2E + _SHIFTER
    k_bits = _bits_from_float64(shifted) - _bits_from_float64(_SHIFTER)
    k = shifted - _SHIFTER
    r = (x - k * _LN2_HI) - k * _LN2_LO
    # exp(r) = 1 + r + r^2 * tail(r), tail by Estrin's scheme.
    r2 = r * r
    r4 = r2 * r2
    low = (_C2 + _C3 * r) + (_C4 + _C5 * r) * r2
    mid = (_C6 + _C7 * r) + (_C8 + _C9 * r) * r2
    high = (_C10 + _C11 * r) + (_C12 + _C13 * r) * r2
    tail = low + (mid + high * r4) * r4
    p = 1.0 + (r + r2 * tail)
    # 2**k as two normal factors, so that subnormal results round only once.
    k_half = k_bits >> 1
    scale_1 = _float64_from_bits((k_half + 1023) << 52)
    scale_2 = _float64_from_bits((k_bits - k_half + 1023) << 52)
    return p * scale_1 * scale_2


#: ``exp`` of an argument that carries float64 precision (``gamma log q``): the same
#: function here, one that reduces it in float64 in the float32 variant.
exp_nonpositive_wide = exp_nonpositive


@njit(**_INLINE)
def reciprocal_log1p(t):
    """Branch-free ``(1 / (1 + t), log(1 + t))`` for ``t`` in ``[0, 1]``.

    ``log1p`` within 1 ulp, the reciprocal within 2.
    """
    u = 1.0 + t
    rounding = t - (u - 1.0)  # exact: what 1 + t lost to rounding
    upper_half = u > _SQRT2
    m = u * 0.5 if upper_half else u
    k = 1.0 if upper_half else 0.0
    f = m - 1.0
    two_plus_f = 2.0 + f
    shared = 1.0 / (u * two_plus_f)
    inv_u = two_plus_f * shared
    s = f * (u * shared)  # f / (2 + f)
    z = s * s
    w = z * z
    r = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7))) + w * (_LG2 + w * (_LG4 + w * _LG6))
    half_f2 = 0.5 * f * f
    log1p_t = k * _LN2_HI - ((half_f2 - (s * (half_f2 + r) + (k * _LN2_LO + rounding * inv_u))) - f)
    return inv_u, log1p_t


_EXPONENT_MASK = 0x7FF0000000000000
_ONE_BITS = 0x3FF0000000000000  # the bits of 1.0


@njit(**_INLINE)
def _fdlibm_log1p_reduced(f):
    """``log(1 + f)`` for ``f`` in ``[sqrt(2)/2 - 1, sqrt(2) - 1]`` (fdlibm e_log.c)."""
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7))) + w * (_LG2 + w * (_LG4 + w * _LG6))
    half_f2 = 0.5 * f * f
    return f - (half_f2 - s * (half_f2 + r))


@njit(**_INLINE)
def log_normal(x):
    """Branch-free ``log(x)`` for a positive normal ``x``, within 1 ulp.

    ``x = 2**k * m`` from the exponent bits, ``m`` in ``[1, 2)`` moved to
    ``[sqrt(2)/2, sqrt(2))``; ``k`` becomes a double by the shifter trick.
    """
    bits = _bits_from_float64(x)
    k_bits = ((bits & _EXPONENT_MASK) >> 52) - 1023
    m = _float64_from_bits((bits & ~_EXPONENT_MASK) | _ONE_BITS)
    upper_half = m > _SQRT2
    m = m * 0.5 if upper_half else m
    k = _float64_from_bits(k_bits + _bits_from_float64(_SHIFTER)) - _SHIFTER
    k = k + 1.0 if upper_half else k
    log_m = _fdlibm_log1p_reduced(m - 1.0)
    return (k * _LN2_HI + (log_m + k * _LN2_LO)) if x == x else x


@njit(**_INLINE)
def integer_power(q, n):
    """``q**n`` for an integer ``0 <= n < 16``: four squarings, no branches."""
    result = ONE
    base = q
    for bit in range(4):
        result *= base if (n >> bit) & 1 else ONE
        base *= base
    return result


# ------------------------------------------------------------------ float32
# The float32 kernels (for boosters' float32 margins: 8 AVX2 lanes instead of 4) run the same
# math at float32 (:mod:`focal_boost._kernels.float32`); these replace the functions above there.

_F32 = np.float32
_TAYLOR_32 = [_F32(c) for c in _TAYLOR[2:8]]
_D2, _D3, _D4, _D5, _D6, _D7 = _TAYLOR_32
_ONE_32, _TWO_32, _HALF_32 = _F32(1.0), _F32(2.0), _F32(0.5)
_SQRT2_32 = _F32(_SQRT2)
# fdlibm e_logf.c: ln 2 split for float32, and FreeBSD's degree-8 minimax coefficients of R(s^2).
_LN2_HI_32 = _F32(6.9313812256e-01)
_LN2_LO_32 = _F32(9.0580006145e-06)
_LGF1 = _F32(0.66666662693)
_LGF2 = _F32(0.40000972152)
_LGF3 = _F32(0.28498786688)
_LGF4 = _F32(0.24279078841)


# fdlibm e_expf.c: ln 2 split so that k * _LN2_HI_EXP_32 is exact for |k| < 2**8.
_LN2_HI_EXP_32 = _F32(6.9314575195e-01)
_LN2_LO_EXP_32 = _F32(1.4286067653e-06)
_LOG2E_32 = _F32(_LOG2E)
_SHIFTER_32 = _F32(12582912.0)  # 1.5 * 2**23


@njit(**_INLINE)
def _exp_reduced_float32(r, k_bits):
    """``exp(r) * 2**k_bits`` for ``|r| <= ln2 / 2``: degree-7 Taylor polynomial (error below
    ``6e-9``), ``2**k`` as two float32 factors so that subnormal results round once."""
    r2 = r * r
    r4 = r2 * r2
    tail = ((_D2 + _D3 * r) + (_D4 + _D5 * r) * r2) + (_D6 + _D7 * r) * r4
    p = _ONE_32 + (r + r2 * tail)
    k_half = k_bits >> 1
    scale_1 = _float32_from_bits(np.int32((k_half + 127) << 23))
    scale_2 = _float32_from_bits(np.int32((k_bits - k_half + 127) << 23))
    return p * scale_1 * scale_2


@njit(**_INLINE)
def exp_nonpositive_float32(x):
    """:func:`exp_nonpositive` for a float32 ``x <= 88``, within 1 ulp, all in float32.

    Below ``-104`` it gives ``0`` (through the subnormals); NaN propagates.
    """
    x = min(max(x, _F32(-104.0)), _F32(88.5)) if x == x else x
    shifted = x * _LOG2E_32 + _SHIFTER_32
    k_bits = _bits_from_float32(shifted) - _bits_from_float32(_SHIFTER_32)
    k = shifted - _SHIFTER_32
    r = (x - k * _LN2_HI_EXP_32) - k * _LN2_LO_EXP_32
    return _exp_reduced_float32(r, k_bits)


@njit(**_INLINE)
def exp_nonpositive_wide_float32(x):
    """``exp(x)`` as a float32 for a float64 ``x <= 88``, within 1 ulp.

    The range reduction ``x = k ln2 + r`` runs in float64, so that an argument
    that carries more than float32's precision (``gamma * log q`` for a small
    ``q``) loses nothing: an error ``d`` in ``x`` is a relative error ``d`` in
    the result. Below ``-104`` it gives ``0``; NaN propagates.
    """
    x = min(max(np.float64(x), -104.0), 88.5) if x == x else np.float64(x)
    shifted = x * _LOG2E + _SHIFTER
    k_bits = _bits_from_float64(shifted) - _bits_from_float64(_SHIFTER)
    k = shifted - _SHIFTER
    return _exp_reduced_float32(_F32((x - k * _LN2_HI) - k * _LN2_LO), np.int32(k_bits))


@njit(**_INLINE)
def reciprocal_log1p_float32(t):
    """Branch-free ``(1 / (1 + t), log(1 + t))`` in float32 for a float32 ``t`` in ``[0, 1]``.

    :func:`reciprocal_log1p` with fdlibm's float32 constants (``e_logf.c``,
    FreeBSD's four-term polynomial), within 1 ulp each. Unlike the float64
    function it spends two divisions (eight float32 lanes make them cheap)
    and corrects the reciprocal for the rounding of ``1 + t``: the focal
    factors raise it to the power ``gamma``, which multiplies its error.
    """
    u = _ONE_32 + t
    rounding = t - (u - _ONE_32)
    upper_half = u > _SQRT2_32
    m = u * _HALF_32 if upper_half else u
    k = _ONE_32 if upper_half else _F32(0.0)
    f = m - _ONE_32
    inv_u = _ONE_32 / u
    s = f / (_TWO_32 + f)
    z = s * s
    w = z * z
    r = z * (_LGF1 + w * _LGF3) + w * (_LGF2 + w * _LGF4)
    half_f2 = _HALF_32 * f * f
    log1p_t = k * _LN2_HI_32 - ((half_f2 - (s * (half_f2 + r) + (k * _LN2_LO_32 + rounding * inv_u))) - f)
    return inv_u - rounding * inv_u * inv_u, log1p_t


@njit(**_INLINE)
def as_float32(x):
    """:func:`compute_float` of the float32 variant."""
    return np.float32(x)
