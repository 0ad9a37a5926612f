"""What the command prints: tables, JSON, warnings, progress, and the scores it reports."""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np


class UsageError(ValueError):
    """Bad input or arguments: reported on one line, exit status 2."""


class Reporter:
    """Where the command's output goes: a table for people, JSON for scripts, or nothing."""

    def __init__(self, *, quiet: bool, as_json: bool) -> None:
        self.quiet = quiet
        self.as_json = as_json

    def line(self, text: str = "") -> None:
        if not (self.quiet or self.as_json):
            print(text)

    def warning(self, text: str) -> None:
        """A warning on stderr (silenced by ``--quiet``; ``--json`` keeps stdout for the document)."""
        if not self.quiet:
            print(f"focal-boost: warning: {text}", file=sys.stderr)

    def table(self, title: str, rows: dict[str, dict[str, float]]) -> None:
        if self.quiet or self.as_json:
            return
        columns = list(next(iter(rows.values())))
        width = max(len("model"), *(len(name) for name in rows)) + 2
        sizes = {column: max(len(column), 8) + 2 for column in columns}
        print(title)
        print("model".ljust(width) + "".join(f"{c:>{sizes[c]}}" for c in columns))
        for name, scores in rows.items():
            cells = "".join(f"{_cell(scores[c], c):>{sizes[c]}}" for c in columns)
            print(name.ljust(width) + cells)

    def result(self, payload: dict[str, Any]) -> None:
        if self.as_json:
            print(json.dumps(payload, indent=2, default=_plain))

    def progress(self, label: str, total: int) -> Any:
        """A per-round callback that drives a progress bar on stderr (``None`` when quiet)."""
        if self.quiet or self.as_json:
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm comes with the cli extra
            return None
        # disable=None: no bar when stderr is not a terminal (logs, pipes, CI).
        bar = tqdm(total=total, desc=label, unit="round", leave=False, file=sys.stderr, disable=None)

        def update(done: int, most: int) -> None:
            if bar.total != most:  # several fits (members, candidates) report into one bar
                bar.total = most
            bar.update(done - bar.n)
            if done >= most:
                bar.close()

        update.close = bar.close  # type: ignore[attr-defined]
        return update


def shown_label(value: Any) -> str:
    """A class label as the user wrote it in the data: ``'yes'``, ``1``."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _cell(value: Any, column: str) -> str:
    if column == "rounds":
        return f"{value:.0f}"
    if isinstance(value, float) and not np.isfinite(value):
        return "n/a"
    return f"{value:.4f}"


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


#: The baseline ``train`` compares with: what a careful user trains anyway.
BASELINE = "log loss (one model)"


#: Printed under every score table: which probabilities each column is computed on.
SCORES_LEGEND = (
    "focal loss: of each model's raw sigmoid/softmax output, the quantity focal training minimises; "
    "the other columns: of the probabilities the model returns (posterior-corrected for focal models); "
    "log loss: the booster's own, early-stopped on one 10% split"
)


def held_out_scores(
    model: Any, X: Any, y: Any, precision: float, loss: Any = None, positive: Any = None
) -> dict[str, float]:
    """``summary`` scores of ``model`` on ``X, y``; the focal loss is ``loss``'s (default: the model's).

    ``positive``: the class a binary target's ranking scores are of (default ``classes_[1]``).

    Each column is scored on what it measures (:data:`SCORES_LEGEND`): the
    focal loss on the raw link of the margin, which a focal model minimises
    (its posterior correction would be scored against it), everything else
    on ``predict_proba``.
    """
    from focal_boost.metrics import summary

    loss = trained_loss(model) if loss is None else loss
    raw = raw_proba(model, X)
    return summary(
        y,
        model.predict_proba(X),
        model.classes_,
        precision=precision,
        gamma=loss.gamma,
        alpha=loss.alpha,
        focal_loss_prob=raw,
        positive=positive,
    )


def trained_loss(model: Any) -> Any:
    """The focal loss a model was trained on."""
    return model.loss_


def raw_proba(model: Any, X: Any) -> np.ndarray:
    """The raw sigmoid/softmax of a model's margins, before the posterior correction."""
    return model.loss_.predict_proba(model.decision_function(X))


def rounds_of(model: Any) -> int:
    """The boosting rounds the model's one booster predicts with (all members' together)."""
    return model.best_iteration_


def focusing_lines(model: Any) -> list[str]:
    """What the model is and why: its members, and the gamma chosen (with ``gamma="auto"``, the evidence)."""
    members = model.members_
    lines = []
    if len(members) > 1 or members[0]["validation_rows"]:
        metric = next(key for key in members[0] if key.startswith("validation_") and key != "validation_rows")
        scores = [m[metric] for m in members]
        seen = (
            ""
            if None in scores
            else f"; validation {metric[11:].replace('_', ' ')} "
            + ", ".join(f"{value:.4g}" for value in scores)
        )
        what = (
            f"{len(members)} members, each early-stopped on its own hold-out of "
            f"{members[0]['validation_rows']:,} rows and trained on all the others, their margins averaged "
            "into one booster"
            if len(members) > 1
            else f"one model, early-stopped on {members[0]['validation_rows']:,} validation rows"
        )
        lines.append(f"model: {what} (rounds {', '.join(str(m['rounds']) for m in members)}{seen})")
    focusing = model.focusing_
    if "candidates" not in focusing:
        gamma = focusing["gamma"]
        shown = ", ".join(f"{g:g}" for g in gamma) if isinstance(gamma, list) else f"{gamma:g}"
        lines.append(f"focusing: gamma {shown} ({focusing['rule']})")
        return lines
    chosen = focusing["gamma"]
    reference = next(row for row in focusing["candidates"] if row["gamma"] == 0.0)
    others = "; ".join(
        f"gamma {row['gamma']:g} {row['difference']:+.4f} +- {row['standard_error']:.4f}"
        for row in focusing["candidates"]
        if row["gamma"] != 0.0
    )
    verdict = (
        f"chose gamma {chosen:g} (focal loss): it beat log loss by more than one standard error"
        if chosen
        else "chose gamma 0 (log loss): no focal gamma beat it by more than one standard error"
    )
    lines.append(f"focusing: gamma=auto {verdict}")
    lines.append(f"  evidence: {focusing['metric']}: log loss {reference['score']:.4f}; {others}")
    return lines


def paired_difference(truth: np.ndarray, ours: np.ndarray, theirs: np.ndarray, seed: int) -> dict[str, Any]:
    """Average precision of ``ours`` minus ``theirs`` on the same rows, with a paired bootstrap's error."""
    from focal_boost._estimator.selection import average_precision, bootstrap

    n = truth.shape[0]
    ones = np.ones((1, n))
    difference = float(average_precision(truth, ours, ones)[0] - average_precision(truth, theirs, ones)[0])
    resampled = bootstrap(
        lambda weights: {
            "difference": average_precision(truth, ours, weights) - average_precision(truth, theirs, weights)
        },
        n,
        np.random.RandomState(seed),
    )["difference"]
    resampled = resampled[~np.isnan(resampled)]
    error = float(np.std(resampled, ddof=1)) if resampled.size > 1 else float("nan")
    return {"metric": "average precision", "difference": difference, "standard_error": error, "rows": n}


def comparison_line(name: str, comparison: dict[str, Any], truth: np.ndarray) -> str:
    difference, error = comparison["difference"], comparison["standard_error"]
    if not abs(difference) > 2.0 * error:
        verdict = "within two standard errors: no difference these rows can show"
    else:
        verdict = f"{'better' if difference > 0 else 'worse'} by more than two standard errors"
    return (
        f"average precision, {name} minus {BASELINE}: {difference:+.4f} +- {error:.4f} (paired bootstrap "
        f"over {truth.shape[0]:,} held-out rows with {int(truth.sum()):,} positives; {verdict})"
    )


def mean_scores(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: float(np.mean([run[key] for run in runs])) for key in runs[0]}
