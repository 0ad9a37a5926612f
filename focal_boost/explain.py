"""Explanations of a focal model: exact per-feature contributions in margin, log-odds or probability terms.

:meth:`FocalBoostClassifier.explain <focal_boost.FocalBoostClassifier.explain>`
returns an :class:`Explanation`. Its margin values are the boosters' own exact
TreeSHAP (XGBoost ``pred_contribs``, LightGBM ``pred_contrib``) over the best
rounds, the initial score inside the base value, so that
``values.sum(axis=1) + base_values`` is ``decision_function(X)``.

The other spaces map those onto the model's probabilities (posterior-corrected
by default, see ``docs/explain.md``), keeping additivity exact:

* binary ``"log_odds"`` and ``"probability"``: each feature's margin
  contribution times the secant slope of the map ``g`` (margin to posterior
  log-odds or probability) between the base margin ``b`` and the row's margin
  ``z``: ``phi_i (g(z) - g(b)) / (z - b)`` (DeepLIFT's rescale rule). The
  values add up to ``g(z) - g(b)`` and keep the margin values' signs and
  ranking within a row.
* multiclass ``"probability"``: the change of class ``k``'s probability from
  ``b`` to ``z`` (vectors of class margins) split over the class margins by
  integrated gradients along the straight line between them (32-node
  Gauss-Legendre quadrature, central differences), then each class margin's
  share passed to the features in proportion to their margin contributions
  to it. The quadrature's remainder (below 1e-9 in the tests) is spread over
  the class margins so that the sum is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: The spaces an explanation can be in.
SPACES = ("margin", "log_odds", "probability")

#: Gauss-Legendre nodes of the multiclass path integral.
_NODES = 32
#: Gradient entries per block of the multiclass path integral (rows x nodes x classes^2): about 64 MB.
_BLOCK_ENTRIES = 8_000_000
#: Step of the central differences of the probability map (margins are O(1)-O(10)).
_STEP = 1e-5


@dataclass
class Explanation:
    """Per-feature contributions to a model's output for each row.

    ``values``: ``(n, n_features)`` for one output (binary), ``(n,
    n_features, K)`` for one per class; ``base_values``: ``(n,)`` or ``(n,
    K)``; ``values.sum(axis=1) + base_values`` is the explained output
    (``output``). ``data``: the features as the model scored them (numbers;
    a text or category column as its training level's code, NaN if missing
    or unseen); ``display_data``: the values as given, where they differ.
    """

    values: np.ndarray
    base_values: np.ndarray
    data: Any
    feature_names: list[str]
    space: str
    output_names: list[Any]
    display_data: Any = None
    output: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.output = self.values.sum(axis=1) + self.base_values

    def to_shap(self) -> Any:
        """The explanation as a ``shap.Explanation``, for shap's plots (``pip install shap``).

        Multiclass: index the last axis for one class (``explanation[..., k]``)
        before a plot of one output (waterfall, beeswarm).
        """
        try:
            import shap
        except ImportError as error:
            raise ImportError(
                "to_shap needs the shap package: pip install shap (or focal-boost[explain])"
            ) from error
        data = (
            self.data.toarray() if hasattr(self.data, "toarray") else np.asarray(self.data, dtype=np.float64)
        )
        display = None if self.display_data is None else np.asarray(self.display_data, dtype=object)
        return shap.Explanation(
            values=self.values,
            base_values=self.base_values,
            data=data,
            display_data=display,
            feature_names=list(self.feature_names),
            output_names=[str(name) for name in self.output_names] if self.values.ndim == 3 else None,
        )

    def importance(self) -> np.ndarray:
        """Mean absolute contribution of each feature over the rows (and classes): ``(n_features,)``."""
        magnitude = np.abs(self.values)
        return magnitude.mean(axis=(0, 2)) if magnitude.ndim == 3 else magnitude.mean(axis=0)


def explanation(
    values: np.ndarray,
    base: np.ndarray,
    *,
    space: str,
    log_proba: Callable[[np.ndarray], np.ndarray],
    classes: Sequence[Any],
    data: Any,
    feature_names: list[str],
    display_data: Any = None,
) -> Explanation:
    """An :class:`Explanation` in ``space`` from margin contributions.

    ``values`` ``(n, n_features, M)`` and ``base`` ``(n, M)``: a booster's
    TreeSHAP of the margin, ``M = 1`` for binary, the initial score inside
    ``base``. ``log_proba`` maps margins (``(n,)`` binary, ``(n, K)``) to the
    model's log-probabilities ``(n, K)``.
    """
    binary = values.shape[2] == 1
    check_space(space, binary)
    if binary:
        values, base = values[:, :, 0], base[:, 0]
        outputs: list[Any] = [classes[1]]
    else:
        outputs = list(classes)
    if space == "margin":
        pass
    elif binary:
        if space == "log_odds":

            def mapped(margin: np.ndarray) -> np.ndarray:
                logs = log_proba(margin)
                return logs[:, 1] - logs[:, 0]

        else:

            def mapped(margin: np.ndarray) -> np.ndarray:
                return np.exp(log_proba(margin)[:, 1])

        values, base = _rescaled(values, base, mapped)
    else:
        values, base = _integrated(values, base, lambda margin: np.exp(log_proba(margin)))
    return Explanation(
        values=values,
        base_values=base,
        data=data,
        feature_names=feature_names,
        space=space,
        output_names=outputs,
        display_data=display_data,
    )


def check_space(space: Any, binary: bool) -> None:
    """A ValueError unless ``space`` is one a model (``binary`` or not) can be explained in."""
    if not isinstance(space, str) or space not in SPACES:
        raise ValueError(f"space must be one of {', '.join(map(repr, SPACES))}, got {space!r}")
    if space == "log_odds" and not binary:
        raise ValueError(
            "space='log_odds' explains a binary model's log-odds; a multiclass model has no single one: "
            "use space='margin' or space='probability'"
        )


def _rescaled(values: np.ndarray, base: np.ndarray, mapped: Callable) -> tuple[np.ndarray, np.ndarray]:
    """Binary: margin contributions times the secant slope of ``mapped`` from the base margin to the row's."""
    delta = values.sum(axis=1)
    start, end = mapped(base), mapped(base + delta)
    tiny = np.abs(delta) < 1e-9  # no secant: the slope at the base margin
    slope = (end - start) / np.where(tiny, 1.0, delta)
    if tiny.any():
        at = base[tiny]
        slope[tiny] = (mapped(at + _STEP) - mapped(at - _STEP)) / (2 * _STEP)
    return values * slope[:, None], start


def _integrated(values: np.ndarray, base: np.ndarray, mapped: Callable) -> tuple[np.ndarray, np.ndarray]:
    """Multiclass: integrated gradients of ``mapped`` over the class margins, passed on to the features."""
    n, _, k = values.shape
    out = np.empty_like(values)
    start = np.empty_like(base)
    block = max(16, _BLOCK_ENTRIES // (_NODES * k * k))
    for first in range(0, n, block):
        rows = slice(first, min(first + block, n))
        out[rows], start[rows] = _integrated_block(values[rows], base[rows], mapped, k)
    return out, start


def _integrated_block(
    values: np.ndarray, base: np.ndarray, mapped: Callable, k: int
) -> tuple[np.ndarray, np.ndarray]:
    n = values.shape[0]
    delta = values.sum(axis=1)  # (n, K): each class margin's change from the base
    nodes, weights = np.polynomial.legendre.leggauss(_NODES)
    nodes, weights = (nodes + 1.0) / 2.0, weights / 2.0
    points = (base[:, None, :] + nodes[None, :, None] * delta[:, None, :]).reshape(-1, k)
    gradient = np.empty((n, _NODES, k, k))  # [row, node, output, class margin]
    for j in range(k):
        step = np.zeros(k)
        step[j] = _STEP
        gradient[..., j] = ((mapped(points + step) - mapped(points - step)) / (2 * _STEP)).reshape(
            n, _NODES, k
        )
    # share[row, output, class margin]: the output's change along the path due to that class margin
    share = np.einsum("t,ntkj->nkj", weights, gradient) * delta[:, None, :]
    start = mapped(base)
    remainder = (mapped(base + delta) - start) - share.sum(axis=2)
    moving = delta != 0
    spread = np.abs(share)
    total = spread.sum(axis=2, keepdims=True)
    fallback = np.broadcast_to(
        (moving / np.maximum(moving.sum(axis=1, keepdims=True), 1))[:, None, :], share.shape
    )
    spread = np.where(total > 0, spread / np.where(total > 0, total, 1.0), fallback)
    share = share + remainder[:, :, None] * spread
    # each feature's part of a class margin's change: its margin contribution over the change
    part = np.where(moving[:, None, :], values / np.where(moving, delta, 1.0)[:, None, :], 0.0)
    return np.einsum("nfj,nkj->nfk", part, share), start
