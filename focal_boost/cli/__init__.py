"""The ``focal-boost`` command: train, predict, evaluate and a demo, from a terminal.

::

    focal-boost train DATA --target COL [--backend ...] [--gamma ...] [--alpha ...] [--cv K]
    focal-boost predict MODEL DATA -o OUT
    focal-boost evaluate MODEL DATA --target COL
    focal-boost demo

``train`` compares the estimator's model (by default ``--gamma auto``: focal
loss where the evidence of its hold-outs says it helps, else log loss, with
its members averaged into one booster; it prints what it chose and why) with
what a careful user trains anyway, the booster's own log loss early-stopped on
one 10% split, on a stratified hold-out or ``--cv K`` folds; prints a table
and saves the estimator's model with its metadata. Exit status: 0 on success, 2 for bad input or
usage (one line on stderr), 1 when something else fails.
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import sys
import tempfile
from typing import Any

import numpy as np

from focal_boost import __version__
from focal_boost._util.files import OutputPathError, check_writable, write_atomically
from focal_boost.cli.tables import FeatureSchema, TableError, _pandas, read_table, target_values, write_table
from focal_boost.metrics.validation import NAMED_METRICS

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
MODEL_FORMAT = "focal-boost-model/1"


class UsageError(ValueError):
    """Bad input or arguments: reported on one line, exit status 2."""


# ----------------------------------------------------------------------------- output


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


def _label(value: Any) -> str:
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


# ----------------------------------------------------------------------------- models


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


def _positive_class(classes: np.ndarray, counts: np.ndarray, given: str | None) -> tuple[Any, str]:
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


def _gamma(text: str) -> Any:
    """``--gamma``: ``auto`` or a number >= 0."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return float(text)  # a negative one is refused with the other checks of the arguments
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number >= 0 or 'auto', got {text!r}") from None


def _estimator(args: argparse.Namespace, *, gamma: Any, alpha: Any, n_members: int = 2) -> Any:
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


def _fit(model: Any, X: Any, y: Any, reporter: Reporter, label: str) -> Any:
    progress = reporter.progress(label, model.n_estimators)
    try:
        model.fit(X, y, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    return model


#: The baseline ``train`` compares with: what a careful user trains anyway.
BASELINE = "log loss (one model)"

#: Printed under every score table: which probabilities each column is computed on.
SCORES_LEGEND = (
    "focal loss: of each model's raw sigmoid/softmax output, the quantity focal training minimises; "
    "the other columns: of the probabilities the model returns (posterior-corrected for focal models); "
    "log loss: the booster's own, early-stopped on one 10% split"
)


def _scores(
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

    loss = _trained_loss(model) if loss is None else loss
    raw = _raw_proba(model, X)
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


def _trained_loss(model: Any) -> Any:
    """The focal loss a model was trained on."""
    return model.loss_


def _raw_proba(model: Any, X: Any) -> np.ndarray:
    """The raw sigmoid/softmax of a model's margins, before the posterior correction."""
    return model.loss_.predict_proba(model.decision_function(X))


def _rounds(model: Any) -> int:
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


def _paired_difference(truth: np.ndarray, ours: np.ndarray, theirs: np.ndarray, seed: int) -> dict[str, Any]:
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


def _comparison_line(name: str, comparison: dict[str, Any], truth: np.ndarray) -> str:
    difference, error = comparison["difference"], comparison["standard_error"]
    if not abs(difference) > 2.0 * error:
        verdict = "within two standard errors: no difference these rows can show"
    else:
        verdict = f"{'better' if difference > 0 else 'worse'} by more than two standard errors"
    return (
        f"average precision, {name} minus {BASELINE}: {difference:+.4f} +- {error:.4f} (paired bootstrap "
        f"over {truth.shape[0]:,} held-out rows with {int(truth.sum()):,} positives; {verdict})"
    )


def _mean(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: float(np.mean([run[key] for run in runs])) for key in runs[0]}


# ----------------------------------------------------------------------------- commands


def train(args: argparse.Namespace, reporter: Reporter) -> dict[str, Any]:
    """Train focal and log-loss models, compare them, save the focal one."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    alpha = _alpha(args.alpha)
    check_writable(args.model, "model")  # before the data are read and the models trained
    if args.plots:
        from focal_boost import plots  # fail before training if matplotlib is missing

        plots._pyplot()
        check_writable(pathlib.Path(args.plots) / "focal_loss_curves.png", "plots")
    frame = read_table(args.data)
    y = target_values(frame, args.target)
    schema = FeatureSchema.learn(frame, target=args.target, drop=args.drop)
    X = schema.features(frame)
    classes, counts = np.unique(y, return_counts=True)
    positive, why = _positive_class(classes, counts, args.positive)
    alpha = _binary_alpha(alpha, classes, positive)
    shown = ", ".join(f"{c} {n / len(y):.2%}" for c, n in zip(classes[:10], counts[:10], strict=True))
    more = f", ... ({len(classes)} classes)" if len(classes) > 10 else ""
    scored = "" if positive is None else f"; positive class {_label(positive)} ({why})"
    reporter.line(
        f"{args.data}: {len(y):,} rows, {len(schema.columns)} features, classes {shown}{more}{scored}"
    )
    for name in schema.identifiers:
        reporter.warning(
            f"column {name!r} looks like a row identifier (whole numbers, all distinct, in order): a model "
            f"that splits on it learns the row order, not the data; leave it out with --drop {name}"
        )
    shown_gamma = args.gamma if isinstance(args.gamma, str) else f"{args.gamma:g}"
    focal_name = f"focal_boost (gamma={shown_gamma}, alpha={args.alpha or 'none'})"
    # The baseline is what a careful user trains anyway: the booster's log loss, early-stopped on a split.
    names = {focal_name: (args.gamma, alpha, 2), BASELINE: (0.0, None, 1)}
    rows = np.arange(len(y))
    try:
        if args.cv:
            splits = list(StratifiedKFold(args.cv, shuffle=True, random_state=args.seed).split(X, y))
        else:
            splits = [train_test_split(rows, test_size=args.test_size, stratify=y, random_state=args.seed)]
    except ValueError as error:
        raise UsageError(f"cannot split the data for evaluation: {error}") from error
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    held_out: dict[str, Any] = {}
    ranked: dict[str, list[np.ndarray]] = {name: [] for name in names}  # the positive class's, held out
    for fold, (fit_rows, test_rows) in enumerate(splits):
        focal_loss = None  # every model's "focal loss" score uses the focal model's gamma and alpha
        for name, (gamma, model_alpha, members) in names.items():
            label = f"{name.split(' (')[0]} {fold + 1}/{len(splits)}" if args.cv else name.split(" (")[0]
            model = _fit(
                _estimator(args, gamma=gamma, alpha=model_alpha, n_members=members),
                X.iloc[fit_rows],
                y[fit_rows],
                reporter,
                label,
            )
            focal_loss = _trained_loss(model) if focal_loss is None else focal_loss
            runs[name].append(
                {
                    "rounds": _rounds(model),
                    **_scores(model, X.iloc[test_rows], y[test_rows], args.precision, focal_loss, positive),
                }
            )
            held_out[name] = model
            if positive is not None:
                column = model.classes_.tolist().index(positive)
                ranked[name].append(model.predict_proba(X.iloc[test_rows])[:, column])
    scores = {name: _mean(run) for name, run in runs.items()}
    how = f"mean of {args.cv} stratified folds" if args.cv else f"stratified hold-out of {args.test_size:.0%}"
    about = "" if positive is None else f"; ranking scores of class {_label(positive)}"
    reporter.table(f"Scores on held-out data ({how}{about}; higher is better for the first three):", scores)
    reporter.line(SCORES_LEGEND)
    comparison = None
    if positive is not None:
        truth = np.concatenate([y[test_rows] for _, test_rows in splits]) == positive
        comparison = _paired_difference(
            truth, np.concatenate(ranked[focal_name]), np.concatenate(ranked[BASELINE]), args.seed
        )
        reporter.line(_comparison_line(focal_name, comparison, truth))

    final = held_out[focal_name]
    if args.cv:  # the saved model is trained on all the data
        final = _fit(_estimator(args, gamma=args.gamma, alpha=alpha), X, y, reporter, "final model")
    metadata = {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "focal_boost": __version__,
        "data": str(args.data),
        "rows": len(y),
        "target": args.target,
        "classes": final.classes_.tolist(),
        "positive_class": positive,
        "evaluation": how,
        "scores": scores,
        "parameters": {k: v for k, v in final.get_params().items() if k != "backend_params"},
        "trained_on": "all rows" if args.cv else "the training split",
        "comparison": comparison,
    }
    metadata["focusing"] = final.focusing_
    metadata["members"] = final.members_
    for line in focusing_lines(final):
        reporter.line(line)
    _save_model(args.model, final, schema, metadata)
    reporter.line(f"saved the focal model to {args.model}")
    written = []
    if args.plots:
        if args.cv:
            reporter.line("plots show the last fold's held-out data")
        written = _plots(args, held_out, focal_name, X.iloc[splits[-1][1]], y[splits[-1][1]], positive)
        for path in written:
            reporter.line(f"wrote {path}")
    return {
        "command": "train",
        "positive_class": positive,
        "model": str(args.model),
        "scores": scores,
        "plots": [str(p) for p in written],
        "metadata": metadata,
    }


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
    raw = _raw_proba(focal, X)[:, column]
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


def _save_model(
    path: str | pathlib.Path, model: Any, schema: FeatureSchema, metadata: dict[str, Any]
) -> None:
    """Save the model file atomically: a failed or interrupted save leaves the previous file intact."""
    import joblib

    path = pathlib.Path(path)
    payload = {"format": MODEL_FORMAT, "model": model, "schema": schema.to_dict(), "metadata": metadata}
    # joblib compresses by the file name's suffix, which the temporary file does not have.
    method = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".lzma": "lzma", ".z": "zlib"}.get(
        path.suffix.lower()
    )
    compress = (method, 3) if method else 0
    try:
        write_atomically(path, lambda temporary: joblib.dump(payload, temporary, compress=compress))
    except OSError as error:
        raise UsageError(f"{path}: cannot write the model: {error.strerror or error}") from error


def _load_model(path: str | pathlib.Path) -> dict[str, Any]:
    import joblib

    path = pathlib.Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such model file")
    try:
        saved = joblib.load(path)
    except Exception as error:  # joblib/pickle raise many types for a file that is not a model
        raise UsageError(f"{path}: not a focal-boost model file ({type(error).__name__})") from error
    if not isinstance(saved, dict) or saved.get("format") != MODEL_FORMAT:
        raise UsageError(f"{path}: not a focal-boost model file")
    return saved


def predict(args: argparse.Namespace, reporter: Reporter) -> dict[str, Any]:
    """Write each row's predicted class and class probabilities."""
    pd = _pandas()
    check_writable(args.output, "predictions")
    saved = _load_model(args.model)
    model, schema = saved["model"], FeatureSchema.from_dict(saved["schema"])
    frame = read_table(args.data)
    missing = [name for name in args.keep if name not in frame.columns]
    if missing:
        raise UsageError(f"--keep: no column named {missing[0]!r}")
    X = schema.features(frame)
    probability = model.predict_proba(X)
    out = frame[args.keep].copy() if args.keep else pd.DataFrame(index=frame.index)
    out["prediction"] = model.classes_[np.argmax(probability, axis=1)]
    for k, label in enumerate(model.classes_):
        out[f"probability_{label}"] = probability[:, k]
    write_table(out, args.output)
    reporter.line(f"wrote {len(out):,} predictions to {args.output}")
    return {"command": "predict", "rows": len(out), "output": str(args.output)}


def evaluate(args: argparse.Namespace, reporter: Reporter) -> dict[str, Any]:
    """Score a saved model on labelled data."""
    saved = _load_model(args.model)
    model, schema = saved["model"], FeatureSchema.from_dict(saved["schema"])
    frame = read_table(args.data)
    y = target_values(frame, args.target)
    unseen = sorted(set(np.unique(y).tolist()) - set(model.classes_.tolist()), key=str)
    if unseen:
        raise UsageError(f"target column {args.target!r} has classes the model never saw: {unseen[:5]}")
    classes = model.classes_
    saved_positive = saved["metadata"].get("positive_class")
    if args.positive is None and saved_positive is not None:
        positive, why = saved_positive, "the model's, from training"
    else:
        positive, why = _positive_class(classes, np.array([np.sum(y == c) for c in classes]), args.positive)
    scores = _scores(model, schema.features(frame), y, args.precision, positive=positive)
    about = "" if positive is None else f"; positive class {_label(positive)} ({why})"
    reporter.table(f"{args.data}: {len(y):,} rows{about}", {"focal model": scores})
    reporter.line(SCORES_LEGEND)
    return {"command": "evaluate", "rows": len(y), "positive_class": positive, "scores": scores}


def demo(args: argparse.Namespace, reporter: Reporter) -> dict[str, Any]:
    """Simulated card transactions: train, save, predict next month's, evaluate.

    The files go to ``--output-dir`` (kept) or to a temporary folder removed at the end.
    """
    if args.output_dir is not None:
        directory = pathlib.Path(args.output_dir)
        check_writable(directory / "transactions.csv", "demo files")
        return _demo_in(directory, args, reporter, kept=True)
    with tempfile.TemporaryDirectory(prefix="focal-boost-demo-") as temporary:
        return _demo_in(pathlib.Path(temporary), args, reporter, kept=False)


def _demo_in(directory: pathlib.Path, args: argparse.Namespace, reporter: Reporter, *, kept: bool) -> dict:
    from focal_boost.datasets import make_transactions

    this_month = directory / "transactions.csv"
    next_month = directory / "next_month.csv"
    write_table(make_transactions(args.samples, random_state=1, as_frame=True).frame, this_month)
    write_table(make_transactions(args.samples // 2, random_state=2, as_frame=True).frame, next_month)
    where = (
        f"kept in {directory}"
        if kept
        else "in a temporary folder, removed at the end (--output-dir keeps them)"
    )
    reporter.line(f"demo: simulated card transactions (about 1% fraud); data, model and predictions {where}")
    common = {"precision": args.precision, "n_jobs": args.n_jobs, "seed": args.seed, "backend": args.backend}
    train_args = argparse.Namespace(
        data=this_month,
        target="target",
        drop=[],
        gamma="auto",
        alpha=None,
        positive=None,
        cv=None,
        test_size=0.25,
        n_estimators=1000,
        learning_rate=0.05,
        max_depth=4,
        early_stopping_rounds=50,
        early_stopping_metric=None,
        model=directory / "fraud_model.joblib",
        plots=args.plots,
        **common,
    )
    trained = train(train_args, reporter)
    predictions = directory / "next_month_predictions.csv"
    predict(
        argparse.Namespace(model=train_args.model, data=next_month, output=predictions, keep=["amount"]),
        reporter,
    )
    evaluated = evaluate(
        argparse.Namespace(
            model=train_args.model, data=next_month, target="target", precision=args.precision, positive=None
        ),
        reporter,
    )
    return {
        "command": "demo",
        "directory": str(directory) if kept else None,
        "train": trained,
        "evaluate": evaluated,
    }


# ----------------------------------------------------------------------------- parser


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        choices=["xgboost", "lightgbm"],
        default=None,
        help="booster (default: the installed one, XGBoost first)",
    )
    parser.add_argument(
        "--precision", type=float, default=0.9, help="precision at which recall is reported (default 0.9)"
    )
    parser.add_argument("--n-jobs", type=int, default=None, help="threads (default: all cores)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def _positive_option(parser: argparse.ArgumentParser, *, saved: bool = False) -> None:
    default = "the one the model was trained with" if saved else "the minority class"
    parser.add_argument(
        "--positive",
        default=None,
        metavar="LABEL",
        help=f"the class of a binary target that average precision, ROC AUC, recall, the plots and a "
        f"numeric --alpha are about (default: {default})",
    )


def _output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    group.add_argument("--json", action="store_true", help="print one JSON document to stdout")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="focal-boost",
        description="Gradient-boosted trees on focal loss for imbalanced classification.",
        epilog="Exit status: 0 success, 2 bad input or usage, 1 other failure.",
    )
    parser.add_argument("--version", action="version", version=f"focal-boost {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train_parser = commands.add_parser("train", help="train, compare with log loss, save the model")
    train_parser.add_argument("data", help="CSV, TSV or Parquet file")
    train_parser.add_argument("--target", required=True, help="the label column")
    train_parser.add_argument(
        "--drop", action="append", default=[], metavar="COL", help="a column to leave out (repeatable)"
    )
    train_parser.add_argument(
        "--gamma",
        type=_gamma,
        default="auto",
        help="focusing parameter >= 0 (0: log loss), or 'auto': focal loss where the members' hold-outs "
        "show that it ranks the rare class better than log loss, else log loss (default auto; "
        "see docs/quality.md)",
    )
    train_parser.add_argument(
        "--alpha",
        default=None,
        help="class weight: a number (the positive class's; the other class gets 1 - it), a,b,c per class "
        "in sorted label order, 'balanced' or 'none' (default)",
    )
    _positive_option(train_parser)
    train_parser.add_argument(
        "--n-estimators", type=int, default=1000, help="most boosting rounds (default 1000)"
    )
    train_parser.add_argument("--learning-rate", type=float, default=0.05, help="(default 0.05)")
    train_parser.add_argument("--max-depth", type=int, default=4, help="tree depth (default 4)")
    train_parser.add_argument(
        "--early-stopping-rounds",
        type=int,
        default=50,
        help="stop after this many rounds without improvement on the validation data: each member's "
        "10%% hold-out; 0: never (not with --gamma auto, which compares on the hold-outs) (default 50)",
    )
    train_parser.add_argument(
        "--early-stopping-metric",
        choices=sorted(NAMED_METRICS),
        default=None,
        help="what early stopping watches on the validation split: the focal loss, or the log loss, "
        "average precision or ROC AUC of the posterior probabilities (default: log_loss with "
        "--gamma auto, else focal_loss)",
    )
    evaluation = train_parser.add_mutually_exclusive_group()
    evaluation.add_argument(
        "--test-size", type=float, default=0.2, help="held-out share for evaluation (default 0.2)"
    )
    evaluation.add_argument(
        "--cv",
        type=int,
        default=None,
        metavar="K",
        help="evaluate by K-fold cross-validation instead; the saved model is then trained on all rows",
    )
    train_parser.add_argument(
        "-o",
        "--model",
        default="focal_boost_model.joblib",
        help="where to save the model (default focal_boost_model.joblib)",
    )
    train_parser.add_argument(
        "--plots",
        default=None,
        metavar="DIR",
        help="write PNG plots (precision-recall, reliability, focal loss curves) here",
    )
    _model_options(train_parser)
    _output_options(train_parser)
    train_parser.set_defaults(run=train)

    predict_parser = commands.add_parser(
        "predict", help="predict classes and probabilities with a saved model"
    )
    predict_parser.add_argument("model", help="a model file from `focal-boost train`")
    predict_parser.add_argument("data", help="CSV, TSV or Parquet file with the model's feature columns")
    predict_parser.add_argument("-o", "--output", required=True, help="CSV, TSV or Parquet file to write")
    predict_parser.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="COL",
        help="copy this input column to the output (repeatable)",
    )
    _output_options(predict_parser)
    predict_parser.set_defaults(run=predict)

    evaluate_parser = commands.add_parser("evaluate", help="score a saved model on labelled data")
    evaluate_parser.add_argument("model", help="a model file from `focal-boost train`")
    evaluate_parser.add_argument("data", help="CSV, TSV or Parquet file")
    evaluate_parser.add_argument("--target", required=True, help="the label column")
    evaluate_parser.add_argument(
        "--precision", type=float, default=0.9, help="precision at which recall is reported (default 0.9)"
    )
    _positive_option(evaluate_parser, saved=True)
    _output_options(evaluate_parser)
    evaluate_parser.set_defaults(run=evaluate)

    demo_parser = commands.add_parser(
        "demo", help="the whole flow on simulated card transactions (no download)"
    )
    demo_parser.add_argument(
        "--samples", type=int, default=40_000, help="transactions to simulate (default 40,000)"
    )
    demo_parser.add_argument(
        "--output-dir",
        default=None,
        metavar="DIR",
        help="keep the data, model and predictions here (default: a temporary directory)",
    )
    demo_parser.add_argument("--plots", default=None, metavar="DIR", help="write PNG plots here")
    _model_options(demo_parser)
    _output_options(demo_parser)
    demo_parser.set_defaults(run=demo)
    return parser


def _default_backend() -> str:
    from focal_boost import installed_backends

    installed = installed_backends()
    if not installed:
        raise UsageError("no booster installed: pip install 'focal-boost[xgboost]' (or [lightgbm])")
    return installed[0]


def _check_arguments(args: argparse.Namespace) -> None:
    if hasattr(args, "backend") and args.backend is None:
        args.backend = _default_backend()
    if not 0.0 < getattr(args, "precision", 0.5) <= 1.0:
        raise UsageError("--precision must lie in (0, 1]")
    if getattr(args, "cv", None) is not None and args.cv < 2:
        raise UsageError("--cv needs at least 2 folds")
    if not 0.0 < getattr(args, "test_size", 0.5) < 1.0:
        raise UsageError("--test-size must lie in (0, 1)")
    gamma = getattr(args, "gamma", 0.0)
    if not isinstance(gamma, str) and gamma < 0.0:
        raise UsageError("--gamma must be >= 0")


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with status 2 on a usage error
    reporter = Reporter(quiet=args.quiet, as_json=args.json)
    try:
        _check_arguments(args)
        reporter.result(args.run(args, reporter))
    except (UsageError, TableError, ImportError, OutputPathError) as error:
        print(f"focal-boost: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as error:  # our estimator's and loss's checks name the problem
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"focal-boost: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("focal-boost: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # anything else: one line, status 1
        print(f"focal-boost: failed: {type(error).__name__}: {error}".splitlines()[0], file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
