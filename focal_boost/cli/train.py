"""``focal-boost train``: the estimator's model against the careful user's baseline, then saved."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import pathlib
from typing import Any

import numpy as np

from focal_boost import __version__
from focal_boost._util.files import check_writable
from focal_boost.cli.models import save_model
from focal_boost.cli.report import (
    BASELINE,
    SCORES_LEGEND,
    Reporter,
    UsageError,
    comparison_line,
    focusing_lines,
    held_out_scores,
    mean_scores,
    paired_difference,
    raw_proba,
    rounds_of,
    shown_label,
    trained_loss,
)
from focal_boost.cli.tables import FeatureSchema, read_table, target_values


def _alpha(text: str | None) -> Any:
    if text is None or text.lower() == "none":
        return None
    if text == "balanced":
        return "balanced"
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise UsageError(
            f"--alpha must be a number, comma-separated numbers, 'balanced' or 'none'; got {text!r}"
        ) from None
    return values[0] if len(values) == 1 else values


def positive_class(classes: np.ndarray, counts: np.ndarray, given: str | None) -> tuple[Any, str]:
    """The class a binary target's scores are about, and why: ``--positive``, else the minority class.

    ``(None, "")`` for a multiclass target (scored one-vs-rest, macro-averaged).
    """
    if len(classes) != 2:
        if given is not None:
            raise UsageError(f"--positive applies to a binary target; this one has {len(classes)} classes")
        return None, ""
    if given is not None:
        matches = [c for c in classes if str(c) == given]
        if not matches:
            raise UsageError(
                f"--positive {given!r} is not a class of the target (classes: {', '.join(map(str, classes))})"
            )
        return matches[0], "--positive"
    if counts[0] == counts[1]:
        return classes[1], "the classes are equally frequent: the greater label"
    return classes[int(np.argmin(counts))], "the minority class; --positive LABEL to choose"


def _binary_alpha(alpha: Any, classes: np.ndarray, positive: Any) -> Any:
    """``--alpha`` as a number is the positive class's weight: as a weight per class label."""
    if positive is None or not isinstance(alpha, float):
        return alpha
    negative = classes[0] if classes[1] == positive else classes[1]
    return {positive: alpha, negative: 1.0 - alpha}


def gamma_argument(text: str) -> Any:
    """``--gamma``: ``auto`` or a number >= 0."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return float(text)  # a negative one is refused with the other checks of the arguments
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number >= 0 or 'auto', got {text!r}") from None


def estimator_for(args: argparse.Namespace, *, gamma: Any, alpha: Any, n_members: int = 2) -> Any:
    from focal_boost import FocalBoostClassifier

    return FocalBoostClassifier(
        backend=args.backend,
        gamma=gamma,
        alpha=alpha,
        n_members=n_members,
        n_estimators=args.n_estimators,
        learning_rate=args.learning_rate,
        max_depth=args.max_depth,
        early_stopping_rounds=args.early_stopping_rounds or None,
        early_stopping_metric=args.early_stopping_metric,
        n_jobs=args.n_jobs,
        random_state=args.seed,
    )


def fit_with_progress(model: Any, X: Any, y: Any, reporter: Reporter, label: str) -> Any:
    progress = reporter.progress(label, model.n_estimators)
    try:
        model.fit(X, y, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    return model


@dataclasses.dataclass
class TrainingData:
    """The table read for ``train``: features, labels, the schema, and the class the scores are about."""

    X: Any
    y: np.ndarray
    schema: FeatureSchema
    positive: Any
    alpha: Any


def train(args: argparse.Namespace, reporter: Reporter) -> dict[str, Any]:
    """Train focal and log-loss models, compare them, save the focal one."""
    check_writable(args.model, "model")  # before the data are read and the models trained
    if args.plots:
        from focal_boost import plots  # fail before training if matplotlib is missing

        plots._pyplot()
        check_writable(pathlib.Path(args.plots) / "focal_loss_curves.png", "plots")
    data = _read(args, reporter)
    shown_gamma = args.gamma if isinstance(args.gamma, str) else f"{args.gamma:g}"
    focal_name = f"focal_boost (gamma={shown_gamma}, alpha={args.alpha or 'none'})"
    # The baseline is what a careful user trains anyway: the booster's log loss, early-stopped on a split.
    names = {focal_name: (args.gamma, data.alpha, 2), BASELINE: (0.0, None, 1)}
    splits = _evaluation_splits(args, data.X, data.y)
    scores, held_out, comparison = _compare(args, reporter, data, names, splits)
    how = f"mean of {args.cv} stratified folds" if args.cv else f"stratified hold-out of {args.test_size:.0%}"
    final = held_out[focal_name]
    if args.cv:  # the saved model is trained on all the data
        model = estimator_for(args, gamma=args.gamma, alpha=data.alpha)
        final = fit_with_progress(model, data.X, data.y, reporter, "final model")
    metadata = {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "focal_boost": __version__,
        "data": str(args.data),
        "rows": len(data.y),
        "target": args.target,
        "classes": final.classes_.tolist(),
        "positive_class": data.positive,
        "evaluation": how,
        "scores": scores,
        "parameters": {k: v for k, v in final.get_params().items() if k != "backend_params"},
        "trained_on": "all rows" if args.cv else "the training split",
        "comparison": comparison,
        "focusing": final.focusing_,
        "members": final.members_,
    }
    for line in focusing_lines(final):
        reporter.line(line)
    save_model(args.model, final, data.schema, metadata)
    reporter.line(f"saved the focal model to {args.model}")
    written = []
    if args.plots:
        if args.cv:
            reporter.line("plots show the last fold's held-out data")
        last = splits[-1][1]
        written = _plots(args, held_out, focal_name, data.X.iloc[last], data.y[last], data.positive)
        for path in written:
            reporter.line(f"wrote {path}")
    return {
        "command": "train",
        "positive_class": data.positive,
        "model": str(args.model),
        "scores": scores,
        "plots": [str(p) for p in written],
        "metadata": metadata,
    }


def _read(args: argparse.Namespace, reporter: Reporter) -> TrainingData:
    """The table, its features and labels, the positive class; what was read, printed."""
    alpha = _alpha(args.alpha)
    frame = read_table(args.data)
    y = target_values(frame, args.target)
    schema = FeatureSchema.learn(frame, target=args.target, drop=args.drop)
    classes, counts = np.unique(y, return_counts=True)
    positive, why = positive_class(classes, counts, args.positive)
    shown = ", ".join(f"{c} {n / len(y):.2%}" for c, n in zip(classes[:10], counts[:10], strict=True))
    more = f", ... ({len(classes)} classes)" if len(classes) > 10 else ""
    scored = "" if positive is None else f"; positive class {shown_label(positive)} ({why})"
    reporter.line(
        f"{args.data}: {len(y):,} rows, {len(schema.columns)} features, classes {shown}{more}{scored}"
    )
    for name in schema.identifiers:
        reporter.warning(
            f"column {name!r} looks like a row identifier (whole numbers, all distinct, in order): a model "
            f"that splits on it learns the row order, not the data; leave it out with --drop {name}"
        )
    return TrainingData(schema.features(frame), y, schema, positive, _binary_alpha(alpha, classes, positive))


def _evaluation_splits(args: argparse.Namespace, X: Any, y: np.ndarray) -> list:
    """``(fit_rows, test_rows)`` pairs: ``--cv`` stratified folds, or one stratified hold-out."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    try:
        if args.cv:
            return list(StratifiedKFold(args.cv, shuffle=True, random_state=args.seed).split(X, y))
        rows = np.arange(len(y))
        return [train_test_split(rows, test_size=args.test_size, stratify=y, random_state=args.seed)]
    except ValueError as error:
        raise UsageError(f"cannot split the data for evaluation: {error}") from error


def _compare(
    args: argparse.Namespace, reporter: Reporter, data: TrainingData, names: dict, splits: list
) -> tuple[dict, dict, dict | None]:
    """Every model on every split: the mean scores (printed), the last split's models, the paired
    difference of the focal model's ranking from the baseline's (None for a multiclass target)."""
    X, y, positive = data.X, data.y, data.positive
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    held_out: dict[str, Any] = {}
    ranked: dict[str, list[np.ndarray]] = {name: [] for name in names}  # the positive class's, held out
    for fold, (fit_rows, test_rows) in enumerate(splits):
        focal_loss = None  # every model's "focal loss" score uses the focal model's gamma and alpha
        for name, (gamma, model_alpha, members) in names.items():
            label = f"{name.split(' (')[0]} {fold + 1}/{len(splits)}" if args.cv else name.split(" (")[0]
            model = estimator_for(args, gamma=gamma, alpha=model_alpha, n_members=members)
            model = fit_with_progress(model, X.iloc[fit_rows], y[fit_rows], reporter, label)
            focal_loss = trained_loss(model) if focal_loss is None else focal_loss
            scores = held_out_scores(
                model, X.iloc[test_rows], y[test_rows], args.precision, focal_loss, positive
            )
            runs[name].append({"rounds": rounds_of(model), **scores})
            held_out[name] = model
            if positive is not None:
                column = model.classes_.tolist().index(positive)
                ranked[name].append(model.predict_proba(X.iloc[test_rows])[:, column])
    scores = {name: mean_scores(run) for name, run in runs.items()}
    how = f"mean of {args.cv} stratified folds" if args.cv else f"stratified hold-out of {args.test_size:.0%}"
    about = "" if positive is None else f"; ranking scores of class {shown_label(positive)}"
    reporter.table(f"Scores on held-out data ({how}{about}; higher is better for the first three):", scores)
    reporter.line(SCORES_LEGEND)
    if positive is None:
        return scores, held_out, None
    truth = np.concatenate([y[test_rows] for _, test_rows in splits]) == positive
    focal_name, baseline = names
    comparison = paired_difference(
        truth, np.concatenate(ranked[focal_name]), np.concatenate(ranked[baseline]), args.seed
    )
    reporter.line(comparison_line(focal_name, comparison, truth))
    return scores, held_out, comparison


def _plots(
    args: argparse.Namespace, models: dict[str, Any], focal_name: str, X: Any, y: Any, positive: Any
) -> list[pathlib.Path]:
    from focal_boost import plots

    directory = pathlib.Path(args.plots)
    written = [plots.focal_loss_curves(directory / "focal_loss_curves.png")]
    focal, log_loss = models[focal_name], models[BASELINE]
    if len(focal.classes_) != 2:
        return written  # precision-recall and reliability are drawn for binary targets
    column = focal.classes_.tolist().index(positive)
    posterior = focal.predict_proba(X)[:, column]
    raw = raw_proba(focal, X)[:, column]
    baseline = log_loss.predict_proba(X)[:, column]
    written.append(
        plots.precision_recall(
            directory / "precision_recall.png",
            y,
            {"focal_boost": posterior, BASELINE: baseline},
            pos_label=positive,
        )
    )
    written.append(
        plots.reliability(
            directory / "reliability.png",
            y,
            {"focal_boost, raw link": raw, "focal_boost, posterior-corrected": posterior, BASELINE: baseline},
            pos_label=positive,
        )
    )
    return written
