"""The float32 variant of the CPU kernels: the same code, compiled against float32 constants.

Boosters hand XGBoost-style float32 margins over and store float32 gradients.
In float32 an AVX2 register holds 8 lanes instead of 4, and the elementary
functions need shorter polynomials, so the binary gradient kernel runs about
twice as fast (``benchmarks/kernels.py``). The focal math is written once
(:mod:`focal_boost._kernels.scalar`, :mod:`focal_boost._kernels.rows`, the loops of
:mod:`focal_boost._kernels.loops`) with its constants and its precision-specific
functions looked up by name: :data:`FLOAT32_NAMES`. :func:`float32_variant`
compiles a function again with those names bound to float32 constants and to
the float32 elementary functions of :mod:`focal_boost._kernels.elementary`, and does
the same for every function of this package that it calls, so the float32
kernel cannot drift from the float64 one.

What stays in float64 in the variant, because float32 would lose accuracy:
``log q`` and the argument ``gamma log q`` of ``exp`` (an absolute error
there is a relative error of ``q**gamma``; the argument is reduced in
float64), and the labels. The result: within a few float32 ulps of the
float64 kernel's result rounded to float32 (``tests/test_precision.py``).
:func:`focal_boost._kernels.threads.run_kernel` uses it for float32 margins and outputs
under the upper Hessian policy (the exact Hessian's last term cancels), when
every ``gamma`` is a float32 number.
"""

from __future__ import annotations

import types

import numpy as np
from numba import njit
from numba.core.caching import NullCache
from numba.core.registry import CPUDispatcher

from focal_boost._kernels.elementary import (
    as_float32,
    exp_nonpositive_float32,
    exp_nonpositive_wide_float32,
    reciprocal_log1p_float32,
)

__all__ = ["FLOAT32_NAMES", "float32_variant"]

#: The names the shared math looks up, and what the float32 variant binds them to.
FLOAT32_NAMES = {
    "ONE": np.float32(1.0),
    "TWO": np.float32(2.0),
    "KERNEL_FLOAT": np.float32,
    "compute_float": as_float32,
    "exp_nonpositive": exp_nonpositive_float32,
    "exp_nonpositive_wide": exp_nonpositive_wide_float32,
    "reciprocal_log1p": reciprocal_log1p_float32,
}

_VARIANTS: dict[CPUDispatcher, CPUDispatcher] = {}


def float32_variant(function: CPUDispatcher) -> CPUDispatcher:
    """``function`` (a Numba function of this package) compiled with :data:`FLOAT32_NAMES`.

    Its callees from this package are replaced by their own float32
    variants; its compile options (inlining, ``cache``, ``nogil``) are kept.
    """
    if function in _VARIANTS:
        return _VARIANTS[function]
    source = function.py_func
    namespace = dict(source.__globals__)
    for name in source.__code__.co_names:
        value = namespace.get(name)
        if name in FLOAT32_NAMES:
            namespace[name] = FLOAT32_NAMES[name]
        elif isinstance(value, CPUDispatcher) and value.py_func.__module__.startswith("focal_boost."):
            namespace[name] = float32_variant(value)
    copy = types.FunctionType(
        source.__code__, namespace, f"{source.__name__}_float32", source.__defaults__, source.__closure__
    )
    copy.__qualname__ = f"{source.__qualname__}_float32"  # its own entry in Numba's cache
    copy.__module__ = source.__module__
    variant = njit(**{k: v for k, v in function.targetoptions.items() if k != "nopython"})(copy)
    if not isinstance(function._cache, NullCache):  # `cache=True` is not among the target options
        variant.enable_caching()
    _VARIANTS[function] = variant
    return variant
