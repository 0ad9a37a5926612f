r"""A focal loss prepared for the kernels: its parameters decided once, with names.

:class:`~focal_boost.loss.FocalLoss` holds what a user chose: ``gamma`` as one
number or per class, ``alpha`` as a number, per class, ``"balanced"`` or
None, a Hessian policy by name. :func:`prepare_loss` turns that, for a margin
layout (one margin per row, or ``K`` columns) and, for ``alpha="balanced"``,
the labels, into a :class:`PreparedLoss`: per-class float64 vectors, the
integer-gamma decision (``gamma`` a small integer for every class: the
multiplication fast path), the policy code and the booster's Hessian scale.
Each of these is decided here and nowhere else.

The kernels' contract is the one calling form

.. code-block:: text

    kernel(y, margin, weight, *prepared.gradient_arguments, gradient, hessian)
    kernel(y, margin, weight, *prepared.loss_arguments, loss)

on the CPU (:func:`focal_boost._kernels.threads.run_kernel`, which takes the prepared
loss itself) and on the GPU (:func:`focal_boost._kernels.cuda.run_kernel`, with the
per-class vectors copied to the device once by
:func:`focal_boost._kernels.cuda.device_arguments`). The arguments are, in order:

* ``per_class``: binary (``task == "binary"``) a
  :data:`~focal_boost._kernels.rows.BinaryClasses` named tuple ``(alpha_neg,
  alpha_pos, gamma_neg, gamma_pos, int_neg, int_pos, use_integer)``, where
  ``int_*`` is the class's ``gamma`` as an integer, or -1 when it is not a
  small integer, read by name; multiclass ``(alpha, gamma, gamma_int,
  use_integer)`` (vectors of ``K``), which the kernels unpack by these names;
* then, for the gradient kernels only: ``policy, floor, hessian_scale``.

A training run prepares its loss once (the adapters' objectives keep it
across rounds), so a boosting round's Python work is the array checks and one
kernel call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from focal_boost._kernels import device_arrays, threads
from focal_boost._kernels.checks import (
    check_float32_weight_range,
    check_labels,
    check_margin,
    check_n_threads,
    check_output,
    check_sample_weight,
    raise_for_bad_counts,
)
from focal_boost._kernels.rows import BinaryClasses
from focal_boost._kernels.scalar import HESSIAN_CLIP, HESSIAN_EXACT, HESSIAN_UPPER

if TYPE_CHECKING:
    from focal_boost.loss import FocalLoss

__all__ = ["FLOAT32_INTEGER_GAMMA_LIMIT", "INTEGER_GAMMA_LIMIT", "PreparedLoss", "prepare_loss"]

#: Integer ``gamma`` below this takes the multiplication fast path (``q**gamma`` by repeated
#: products) instead of ``exp(gamma * log q)``.
INTEGER_GAMMA_LIMIT = 16

#: The largest integer ``gamma`` for which the float32 kernel computes ``q**gamma`` by products:
#: within 10 float32 ulps of the float64 result (``exp(gamma log q)``, with ``log q`` in float64,
#: stays within 7 for any ``gamma``; ``tests/test_precision.py``).
FLOAT32_INTEGER_GAMMA_LIMIT = 2

_POLICY_CODES = {"exact": HESSIAN_EXACT, "clip": HESSIAN_CLIP, "upper": HESSIAN_UPPER}


@dataclass(frozen=True, eq=False)
class PreparedLoss:
    """A focal loss's parameters as the kernels take them, for one margin layout.

    Made by :func:`prepare_loss`; the array fields are read-only.
    """

    #: "binary" (one margin per row) or "multiclass" (``K`` columns).
    task: str
    #: ``K`` (2 for binary margins).
    n_classes: int
    #: Per-class weights ``alpha_k``, float64 ``(K,)``.
    alpha: np.ndarray
    #: Per-class focusing parameters ``gamma_k``, float64 ``(K,)``.
    gamma: np.ndarray
    #: ``gamma_k`` as int64 where it is an integer below :data:`INTEGER_GAMMA_LIMIT`, else -1.
    gamma_int: np.ndarray
    #: Every ``gamma_k`` is such an integer: the kernels take the multiplication path.
    use_integer: bool
    #: The Hessian policy's code (:data:`focal_boost._kernels.scalar.HESSIAN_UPPER`, ...).
    policy: int
    #: The floor of the "clip" policy.
    floor: float
    #: The booster's factor on the Hessian (its multiclass convention; 1 for binary).
    hessian_scale: float
    #: The per-class tuple every kernel takes, in the kernels' order (see the module docstring).
    per_class: tuple = field(init=False, repr=False)
    #: :attr:`gradient_arguments` at float32 for the binary float32 kernel
    #: (:mod:`focal_boost._kernels.float32`), or None where it does not apply: multiclass, a Hessian
    #: policy other than "upper" (the exact Hessian cancels), or a ``gamma`` that float32 would
    #: round (``q**gamma`` would be a different loss).
    float32_gradient_arguments: tuple | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.task == "binary":
            alpha, gamma, power = self.alpha, self.gamma, self.gamma_int
            per_class = BinaryClasses(
                float(alpha[0]),
                float(alpha[1]),
                float(gamma[0]),
                float(gamma[1]),
                int(power[0]),
                int(power[1]),
                self.use_integer,
            )
        else:
            per_class = (self.alpha, self.gamma, self.gamma_int, self.use_integer)
        object.__setattr__(self, "per_class", per_class)
        float32_ok = (
            self.task == "binary"
            and self.policy == HESSIAN_UPPER
            and bool(np.all(self.gamma.astype(np.float32) == self.gamma))
        )
        float32_arguments = None
        if float32_ok:
            # q**n by n - 1 products multiplies q's float32 error by n; above
            # FLOAT32_INTEGER_GAMMA_LIMIT the float32 kernel takes exp(gamma log q) instead.
            integer = self.use_integer and float(self.gamma.max()) <= FLOAT32_INTEGER_GAMMA_LIMIT
            narrow = BinaryClasses(
                *(np.float32(v) for v in per_class[:4]), per_class.int_neg, per_class.int_pos, integer
            )
            float32_arguments = (narrow, self.policy, np.float32(self.floor), np.float32(self.hessian_scale))
        object.__setattr__(self, "float32_gradient_arguments", float32_arguments)

    @property
    def loss_arguments(self) -> tuple:
        """What the loss kernels take between the weights and the output: ``(per_class,)``."""
        return (self.per_class,)

    @property
    def gradient_arguments(self) -> tuple:
        """What the gradient kernels take between the weights and the outputs."""
        return (self.per_class, self.policy, self.floor, self.hessian_scale)

    @property
    def margin_columns(self) -> int | None:
        """The margin layout: None for one margin per row, else ``K``."""
        return None if self.task == "binary" else self.n_classes

    # -------------------------------------------------------------- CPU computations

    def checked_inputs(
        self, y: Any, margin: Any, sample_weight: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(y, margin, weight)`` as the kernels read them; the margin must have this layout."""
        margin = check_margin(margin)
        if (margin.ndim == 1) != (self.task == "binary") or (
            margin.ndim == 2 and margin.shape[1] != self.n_classes
        ):
            expected = "(n,)" if self.task == "binary" else f"(n, {self.n_classes})"
            raise ValueError(f"margin has shape {margin.shape}, but the loss was prepared for {expected}")
        n = margin.shape[0]
        return check_labels(y, n), margin, check_sample_weight(sample_weight, n)

    def gradient_hessian(
        self,
        y: Any,
        margin: Any,
        sample_weight: Any = None,
        *,
        gradient_out: np.ndarray | None = None,
        hessian_out: np.ndarray | None = None,
        n_threads: int | None = None,
        float32_kernel: bool = False,
        openmp_runtime: Any = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Weighted gradient and Hessian (times :attr:`hessian_scale`) by the CPU kernels.

        As :meth:`focal_boost.loss.FocalLoss.gradient_hessian`, for host arrays.
        ``float32_kernel``: compute in float32 where :func:`focal_boost._kernels.threads.run_kernel`
        allows it (float32 margins and outputs; what a booster that stores float32 asks for);
        ``openmp_runtime``: the booster's OpenMP runtime, whose threads then run it.
        """
        y, margin, weight = self.checked_inputs(y, margin, sample_weight)
        grad = (
            np.empty_like(margin)
            if gradient_out is None
            else check_output(gradient_out, margin.shape, "gradient_out")
        )
        hess = (
            np.empty_like(margin)
            if hessian_out is None
            else check_output(hessian_out, margin.shape, "hessian_out")
        )
        check_float32_weight_range(weight, grad.dtype if grad.dtype == np.float32 else hess.dtype)
        counts = threads.run_kernel(
            "grad_hess",
            self,
            y,
            margin,
            weight,
            grad,
            hess,
            n_threads=check_n_threads(n_threads),
            float32=float32_kernel,
            openmp_runtime=openmp_runtime,
        )
        raise_for_bad_counts(counts, y, margin, weight)
        return grad, hess

    def loss(
        self,
        y: Any,
        margin: Any,
        sample_weight: Any = None,
        *,
        loss_out: np.ndarray | None = None,
        n_threads: int | None = None,
    ) -> np.ndarray:
        """Weighted per-sample focal loss by the CPU kernels (:meth:`FocalLoss.loss`, host arrays)."""
        y, margin, weight = self.checked_inputs(y, margin, sample_weight)
        n = margin.shape[0]
        out = (
            np.empty(n, dtype=margin.dtype) if loss_out is None else check_output(loss_out, (n,), "loss_out")
        )
        check_float32_weight_range(weight, out.dtype)
        counts = threads.run_kernel(
            "loss", self, y, margin, weight, out, n_threads=check_n_threads(n_threads)
        )
        raise_for_bad_counts(counts, y, margin, weight)
        return out


def prepare_loss(
    loss: FocalLoss,
    margin_columns: int | None,
    y: Any = None,
    sample_weight: Any = None,
    *,
    hessian_scale: float = 1.0,
) -> PreparedLoss:
    """``loss`` prepared for margins with ``margin_columns`` columns (None: one margin per row).

    ``y`` and ``sample_weight`` are needed only for ``alpha="balanced"``,
    whose weights are counted on them. ``hessian_scale`` is the booster's
    factor on multiclass Hessians (binary margins always get 1).
    """
    binary = margin_columns is None
    n_classes = 2 if binary else int(margin_columns)
    balanced_labels = y if isinstance(loss.alpha, str) else None
    alpha = _read_only(loss.class_weights(n_classes, balanced_labels, sample_weight), np.float64)
    gamma = _read_only(loss.class_gammas(n_classes), np.float64)
    is_small_integer = (gamma == np.floor(gamma)) & (gamma < INTEGER_GAMMA_LIMIT)
    gamma_int = _read_only(np.where(is_small_integer, gamma, -1), np.int64)
    return PreparedLoss(
        task="binary" if binary else "multiclass",
        n_classes=n_classes,
        alpha=alpha,
        gamma=gamma,
        gamma_int=gamma_int,
        use_integer=bool(np.all(is_small_integer)),
        policy=_POLICY_CODES[loss.hessian],
        floor=loss.hessian_floor,
        hessian_scale=1.0 if binary else float(hessian_scale),
    )


def _read_only(values: Any, dtype: Any) -> np.ndarray:
    array = np.array(values, dtype=dtype)  # a copy: the caller's array is not frozen
    array.flags.writeable = False
    return array


def on_device(loss: FocalLoss, kind: str, y: Any, margin: Any, sample_weight: Any, outputs: tuple) -> list:
    """``loss.loss`` (``kind="loss"``) or ``loss.gradient_hessian`` of device arrays, by the CUDA kernels."""
    from focal_boost._kernels import cuda

    device_arrays.check_inputs(y, margin, sample_weight)
    columns = None if margin.ndim == 1 else margin.shape[1]
    if isinstance(loss.alpha, str):  # "balanced" counts the classes on the host
        host_y, host_weight = device_arrays.to_host(y), device_arrays.to_host(sample_weight)
        prepared = prepare_loss(loss, columns, host_y, host_weight)
    else:
        prepared = prepare_loss(loss, columns)
    if kind == "loss":
        shapes, names = [(margin.shape[0],)], ["loss_out"]
    else:
        shapes, names = [margin.shape] * 2, ["gradient_out", "hessian_out"]
    results = [
        device_arrays.empty(margin, shape, margin.dtype)
        if out is None
        else device_arrays.check_output(out, shape, name)
        for out, shape, name in zip(outputs, shapes, names, strict=True)
    ]
    counts = cuda.run_kernel(kind, prepared, y, margin, sample_weight, *results)
    device_arrays.raise_for_counts(counts, y, margin, sample_weight)
    return results


def prepared_for(loss: FocalLoss, margin: np.ndarray, y: Any, sample_weight: Any) -> PreparedLoss:
    """``loss`` prepared for ``margin``'s layout (``alpha="balanced"``: counted on ``y``)."""
    columns = None if margin.ndim == 1 else margin.shape[1]
    if isinstance(loss.alpha, str):  # the labels and weights are checked before they are counted
        n = margin.shape[0]
        return prepare_loss(loss, columns, check_labels(y, n), check_sample_weight(sample_weight, n))
    return prepare_loss(loss, columns)
