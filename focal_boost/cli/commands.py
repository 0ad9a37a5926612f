"""``focal-boost predict``, ``evaluate``, ``explain``, ``export``, ``convert`` and ``demo``."""

from __future__ import annotations

import argparse
import pathlib
import tempfile
from typing import Any

import numpy as np

from focal_boost._util.files import check_writable, write_atomically
from focal_boost.cli.models import load_model, save_model
from focal_boost.cli.report import SCORES_LEGEND, Reporter, UsageError, held_out_scores, shown_label
from focal_boost.cli.tables import FeatureSchema, _pandas, read_table, target_values, write_table
from focal_boost.cli.train import positive_class, train


def predict(args: argparse.Namespace, reporter: Reporter) -> dict[str, Any]:
    """Write each row's predicted class and class probabilities."""
    pd = _pandas()
    check_writable(args.output, "predictions")
    saved = load_model(args.model, allow_pickle=args.allow_pickle)
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


#: What each space's contributions are in, for the report and the plot.
_UNITS = {"margin": "focal margin", "log_odds": "log-odds", "probability": "probability"}


def explain(args: argparse.Namespace, reporter: Reporter) -> dict[str, Any]:
    """Write each row's top reasons: the features that moved its output most, with their contributions."""
    pd = _pandas()
    check_writable(args.output, "reasons")
    saved = load_model(args.model, allow_pickle=args.allow_pickle)
    model, schema = saved["model"], FeatureSchema.from_dict(saved["schema"])
    if args.plots:
        from focal_boost import plots  # fail before explaining if matplotlib is missing

        plots._pyplot()
        check_writable(pathlib.Path(args.plots) / "importance.png", "plots")
    frame = read_table(args.data)
    missing = [name for name in args.keep if name not in frame.columns]
    if missing:
        raise UsageError(f"--keep: no column named {missing[0]!r}")
    X = schema.features(frame)
    explained = model.explain(X, space=args.space)
    values, base = explained.values, explained.base_values
    rows = np.arange(len(X))
    out = frame[args.keep].copy() if args.keep else pd.DataFrame(index=frame.index)
    if values.ndim == 3:  # multiclass: the class asked for, else each row's predicted class
        if args.explain_class is None:
            column = np.argmax(model.predict_proba(X), axis=1)
        else:
            column = np.full(len(X), _class_index(model.classes_, args.explain_class))
        out["class"] = model.classes_[column]
        values, base = values[rows, :, column], base[rows, column]
    else:  # binary: the class asked for, else the positive class of training (the minority by default)
        positive = saved["metadata"].get("positive_class")
        wanted = args.explain_class if args.explain_class is not None else positive
        k = 1 if wanted is None else _class_index(model.classes_, str(wanted))
        if k == 0:  # the other class: its margin and log-odds are the negatives, its probability 1 - p
            values, base = -values, (1.0 - base if args.space == "probability" else -base)
        out["class"] = model.classes_[k]
    top = min(args.top, values.shape[1])
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :top]
    names = np.asarray(explained.feature_names, dtype=object)
    shown = X.to_numpy(dtype=object)
    out["base_value"] = base
    out["output"] = base + values.sum(axis=1)
    for r in range(top):
        feature = order[:, r]
        out[f"reason_{r + 1}"] = names[feature]
        out[f"value_{r + 1}"] = shown[rows, feature]
        out[f"contribution_{r + 1}"] = values[rows, feature]
    write_table(out, args.output)
    reporter.line(
        f"wrote the top {top} reasons of {len(out):,} rows to {args.output} "
        f"(contributions in {_UNITS[args.space]}, adding up to each row's output with the base value)"
    )
    written = []
    if args.plots:
        from focal_boost import plots

        path = pathlib.Path(args.plots) / "importance.png"
        written.append(
            plots.importance(path, explained.feature_names, explained.importance(), _UNITS[args.space])
        )
        reporter.line(f"wrote {path}")
    return {
        "command": "explain",
        "rows": len(out),
        "space": args.space,
        "output": str(args.output),
        "importance": dict(zip(explained.feature_names, explained.importance().tolist(), strict=True)),
        "plots": [str(p) for p in written],
    }


def _class_index(classes: np.ndarray, wanted: str) -> int:
    """The position of the class the user named (as text) among ``classes``."""
    for k, label in enumerate(classes):
        if str(label) == wanted:
            return k
    raise UsageError(f"--class {wanted!r}: the model's classes are {', '.join(map(str, classes))}")


def evaluate(args: argparse.Namespace, reporter: Reporter) -> dict[str, Any]:
    """Score a saved model on labelled data."""
    saved = load_model(args.model, allow_pickle=args.allow_pickle)
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
        positive, why = positive_class(classes, np.array([np.sum(y == c) for c in classes]), args.positive)
    scores = held_out_scores(model, schema.features(frame), y, args.precision, positive=positive)
    about = "" if positive is None else f"; positive class {shown_label(positive)} ({why})"
    reporter.table(f"{args.data}: {len(y):,} rows{about}", {"focal model": scores})
    reporter.line(SCORES_LEGEND)
    return {"command": "evaluate", "rows": len(y), "positive_class": positive, "scores": scores}


def export(args: argparse.Namespace, reporter: Reporter) -> dict[str, Any]:
    """Write the model's plain booster (``FocalBoostClassifier.export_booster``)."""
    check_writable(args.output, "booster")
    model = load_model(args.model, allow_pickle=args.allow_pickle)["model"]
    as_onnx = pathlib.Path(args.output).suffix.lower() == ".onnx"
    try:
        if as_onnx:
            from focal_boost.onnx import to_onnx

            data = to_onnx(model).SerializeToString()
            write_atomically(args.output, lambda temporary: temporary.write_bytes(data))
        else:
            model.export_booster(args.output)
    except ValueError as error:  # a suffix the booster does not write, what ONNX cannot express
        raise UsageError(f"{args.output}: {error}") from error
    what = "ONNX graph" if as_onnx else f"plain {model.backend} booster"
    reporter.line(f"wrote the {what} {args.output} ({model.best_iteration_} rounds)")
    return {"command": "export", "output": str(args.output), "booster": model.backend, "onnx": as_onnx}


def convert(args: argparse.Namespace, reporter: Reporter) -> dict[str, Any]:
    """Rewrite a model file (a trusted pickle with ``--allow-pickle``) as a model file."""
    check_writable(args.output, "model")
    saved = load_model(args.model, allow_pickle=args.allow_pickle)
    schema = FeatureSchema.from_dict(saved["schema"])
    save_model(args.output, saved["model"], schema, saved["metadata"])
    reporter.line(f"wrote the model file {args.output}")
    return {"command": "convert", "output": str(args.output)}


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
        model=directory / "fraud_model.zip",
        plots=args.plots,
        **common,
    )
    trained = train(train_args, reporter)
    predictions = directory / "next_month_predictions.csv"
    predict(
        argparse.Namespace(
            model=train_args.model, data=next_month, output=predictions, keep=["amount"], allow_pickle=False
        ),
        reporter,
    )
    evaluated = evaluate(
        argparse.Namespace(
            model=train_args.model,
            data=next_month,
            target="target",
            precision=args.precision,
            positive=None,
            allow_pickle=False,
        ),
        reporter,
    )
    return {
        "command": "demo",
        "directory": str(directory) if kept else None,
        "train": trained,
        "evaluate": evaluated,
    }
