r"""Figures for the command-line tool (matplotlib; ``pip install 'focal-boost[cli]'``).

* :func:`focal_loss_curves`: the loss against the probability of the true
  class for several ``gamma``, the paper's Figure 1.
* :func:`precision_recall`: precision-recall curves of several models.
* :func:`reliability`: reliability diagrams (predicted probability against
  the observed frequency in bins), e.g. raw against posterior-corrected.

Each function writes one PNG and returns its path.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from focal_boost._util.extras import require
from focal_boost._util.files import write_atomically


def _pyplot() -> Any:
    matplotlib = require("matplotlib", "focal_boost.plots")
    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, path: str | pathlib.Path) -> pathlib.Path:
    """Write ``figure`` as a PNG at ``path``, atomically."""
    figure.tight_layout()
    try:
        return write_atomically(path, lambda temporary: figure.savefig(temporary, dpi=120, format="png"))
    finally:
        _pyplot().close(figure)


def focal_loss_curves(
    path: str | pathlib.Path, gammas: Sequence[float] = (0.0, 0.5, 1.0, 2.0, 5.0)
) -> pathlib.Path:
    r"""``FL(p_t) = -(1 - p_t)^gamma log p_t`` against ``p_t`` for each ``gamma`` (Lin et al., Fig. 1)."""
    plt = _pyplot()
    p_t = np.linspace(0.001, 1.0, 500)
    figure, axes = plt.subplots(figsize=(6, 4.5))
    for gamma in gammas:
        axes.plot(p_t, -((1.0 - p_t) ** gamma) * np.log(p_t), label=rf"$\gamma$ = {gamma:g}")
    axes.set(xlabel="probability of the true class $p_t$", ylabel="loss", ylim=(0, 5), xlim=(0, 1))
    axes.set_title("Focal loss: well-classified examples ($p_t$ > 0.5) count less")
    axes.legend()
    axes.grid(alpha=0.3)
    return _save(figure, path)


def _shown(label: Any) -> str:
    """A class label as the user wrote it: ``'no'``, ``1``."""
    return repr(label.item() if isinstance(label, np.generic) else label)


def precision_recall(
    path: str | pathlib.Path, y_true: Any, scores: Mapping[str, Any], *, pos_label: Any = 1
) -> pathlib.Path:
    """Precision-recall curves, one per entry of ``scores`` (name -> positive-class scores)."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4.5))
    for name, score in scores.items():
        precision, recall, _ = precision_recall_curve(y_true, score, pos_label=pos_label)
        ap = average_precision_score(y_true, score, pos_label=pos_label)
        axes.step(recall, precision, where="post", label=f"{name} (AP {ap:.3f})")
    prevalence = float(np.mean(np.asarray(y_true) == pos_label))
    axes.axhline(prevalence, color="grey", linestyle=":", label=f"chance ({prevalence:.3f})")
    axes.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
    axes.set_title(f"Precision-recall of class {_shown(pos_label)} on held-out data")
    axes.legend(loc="upper right")
    axes.grid(alpha=0.3)
    return _save(figure, path)


def reliability(
    path: str | pathlib.Path,
    y_true: Any,
    probabilities: Mapping[str, Any],
    *,
    pos_label: Any = 1,
    n_bins: int = 10,
) -> pathlib.Path:
    """Reliability diagram: mean predicted probability against observed frequency, per quantile bin.

    Quantile bins (equal counts) keep every point meaningful when the positive
    class is rare; a calibrated model lies on the diagonal.
    """
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss

    plt = _pyplot()
    positive = (np.asarray(y_true) == pos_label).astype(int)
    figure, axes = plt.subplots(figsize=(6, 4.5))
    top = 0.0
    for name, probability in probabilities.items():
        observed, predicted = calibration_curve(positive, probability, n_bins=n_bins, strategy="quantile")
        brier = brier_score_loss(positive, probability)
        axes.plot(predicted, observed, marker="o", label=f"{name} (Brier {brier:.4f})")
        top = max(top, float(np.max(predicted)), float(np.max(observed)))
    top = min(1.0, 1.05 * top) if top > 0 else 1.0
    axes.plot([0, top], [0, top], color="grey", linestyle=":", label="calibrated")
    axes.set(
        xlabel=f"mean predicted probability of class {_shown(pos_label)}",
        ylabel="observed frequency",
        xlim=(0, top),
        ylim=(0, top),
    )
    axes.set_title(f"Reliability for class {_shown(pos_label)} on held-out data")
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    return _save(figure, path)


def importance(
    path: str | pathlib.Path, names: Sequence[str], values: Sequence[float], unit: str
) -> pathlib.Path:
    """Each feature's mean absolute contribution as horizontal bars, the largest on top (at most 25)."""
    plt = _pyplot()
    order = np.argsort(np.asarray(values, dtype=np.float64))[::-1][:25][::-1]
    figure, axes = plt.subplots(figsize=(6, 1.5 + 0.3 * len(order)))
    axes.barh([str(names[i]) for i in order], np.asarray(values, dtype=np.float64)[order], color="#1f77b4")
    axes.set(xlabel=f"mean |contribution| ({unit})")
    axes.set_title("Feature importance")
    axes.grid(alpha=0.3, axis="x")
    return _save(figure, path)
