"""The command line: its parser and the checks argparse cannot make."""

from __future__ import annotations

import argparse
from typing import Any

from focal_boost import __version__
from focal_boost._boosters.validation import NAMED_METRICS
from focal_boost.cli.commands import convert, demo, evaluate, explain, export, predict
from focal_boost.cli.report import UsageError
from focal_boost.cli.train import gamma_argument, train


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


def _model_file_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="a model file from `focal-boost train`")
    parser.add_argument(
        "--allow-pickle",
        action="store_true",
        help="also read a pickle (joblib) model file, the format before the model file, with a warning: "
        "loading a pickle runs any code it holds, so pass this only for a file you trust",
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
    for add in (_add_train, _add_predict, _add_explain, _add_evaluate, _add_export, _add_convert, _add_demo):
        add(commands)
    return parser


def _add_train(commands: Any) -> None:
    train_parser = commands.add_parser("train", help="train, compare with log loss, save the model")
    train_parser.add_argument("data", help="CSV, TSV or Parquet file")
    train_parser.add_argument("--target", required=True, help="the label column")
    train_parser.add_argument(
        "--drop", action="append", default=[], metavar="COL", help="a column to leave out (repeatable)"
    )
    train_parser.add_argument(
        "--gamma",
        type=gamma_argument,
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
    _boosting_options(train_parser)
    train_parser.add_argument(
        "-o",
        "--model",
        default="focal_boost_model.zip",
        help="where to save the model: a model file (the booster in its own format and JSON; no pickle) "
        "that focal_boost.load_model reads too (default focal_boost_model.zip)",
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


def _boosting_options(parser: argparse.ArgumentParser) -> None:
    """``train``'s rounds, tree size, early stopping and evaluation."""
    parser.add_argument("--n-estimators", type=int, default=1000, help="most boosting rounds (default 1000)")
    parser.add_argument("--learning-rate", type=float, default=0.05, help="(default 0.05)")
    parser.add_argument("--max-depth", type=int, default=4, help="tree depth (default 4)")
    parser.add_argument(
        "--early-stopping-rounds",
        type=int,
        default=50,
        help="stop after this many rounds without improvement on the validation data: each member's "
        "10%% hold-out; 0: never (not with --gamma auto, which compares on the hold-outs) (default 50)",
    )
    parser.add_argument(
        "--early-stopping-metric",
        choices=sorted(NAMED_METRICS),
        default=None,
        help="what early stopping watches on the validation split: the focal loss, or the log loss, "
        "average precision or ROC AUC of the posterior probabilities (default: log_loss with "
        "--gamma auto, else focal_loss)",
    )
    evaluation = parser.add_mutually_exclusive_group()
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


def _rows_in_rows_out(parser: argparse.ArgumentParser) -> None:
    """DATA, ``-o OUT`` and ``--keep COL``: one output row per input row."""
    parser.add_argument("data", help="CSV, TSV or Parquet file with the model's feature columns")
    parser.add_argument("-o", "--output", required=True, help="CSV, TSV or Parquet file to write")
    parser.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="COL",
        help="copy this input column to the output (repeatable)",
    )


def _add_predict(commands: Any) -> None:
    predict_parser = commands.add_parser(
        "predict", help="predict classes and probabilities with a saved model"
    )
    _model_file_options(predict_parser)
    _rows_in_rows_out(predict_parser)
    _output_options(predict_parser)
    predict_parser.set_defaults(run=predict)


def _add_explain(commands: Any) -> None:
    explain_parser = commands.add_parser(
        "explain", help="each row's top reasons: the features that moved its prediction most"
    )
    _model_file_options(explain_parser)
    _rows_in_rows_out(explain_parser)
    explain_parser.add_argument(
        "--top", type=int, default=3, help="reasons per row, by the size of their contribution (default 3)"
    )
    explain_parser.add_argument(
        "--space",
        choices=["probability", "log_odds", "margin"],
        default="probability",
        help="what the contributions add up to: the predicted probability (default), its log-odds "
        "(binary models) or the model's raw focal margin",
    )
    explain_parser.add_argument(
        "--class",
        dest="explain_class",
        default=None,
        metavar="LABEL",
        help="explain this class for every row (default: binary, the positive class of training; "
        "multiclass, each row's predicted class)",
    )
    explain_parser.add_argument(
        "--plots", default=None, metavar="DIR", help="write a feature-importance plot (importance.png) here"
    )
    _output_options(explain_parser)
    explain_parser.set_defaults(run=explain)


def _add_evaluate(commands: Any) -> None:
    evaluate_parser = commands.add_parser("evaluate", help="score a saved model on labelled data")
    _model_file_options(evaluate_parser)
    evaluate_parser.add_argument("data", help="CSV, TSV or Parquet file")
    evaluate_parser.add_argument("--target", required=True, help="the label column")
    evaluate_parser.add_argument(
        "--precision", type=float, default=0.9, help="precision at which recall is reported (default 0.9)"
    )
    _positive_option(evaluate_parser, saved=True)
    _output_options(evaluate_parser)
    evaluate_parser.set_defaults(run=evaluate)


def _add_export(commands: Any) -> None:
    export_parser = commands.add_parser(
        "export", help="write the model as ONNX, or its booster for plain XGBoost or LightGBM"
    )
    _model_file_options(export_parser)
    export_parser.add_argument(
        "-o",
        "--output",
        required=True,
        help="an ONNX graph (.onnx: trees, initial score and the model's probabilities; pip install "
        "'focal-boost[onnx]'), or the plain booster: .json or .ubj for XGBoost, LightGBM's model text "
        "(e.g. .txt), whose raw margin is the model's and plain prediction the raw sigmoid/softmax "
        "(docs/deploy.md)",
    )
    _output_options(export_parser)
    export_parser.set_defaults(run=export)


def _add_convert(commands: Any) -> None:
    convert_parser = commands.add_parser(
        "convert", help="rewrite a trusted pickle (joblib) model file as a model file"
    )
    _model_file_options(convert_parser)
    convert_parser.add_argument("-o", "--output", required=True, help="the model file to write")
    _output_options(convert_parser)
    convert_parser.set_defaults(run=convert)


def _add_demo(commands: Any) -> None:
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


def _default_backend() -> str:
    from focal_boost import installed_backends

    installed = installed_backends()
    if not installed:
        raise UsageError("no booster installed: pip install 'focal-boost[xgboost]' (or [lightgbm])")
    return installed[0]


def check_arguments(args: argparse.Namespace) -> None:
    if hasattr(args, "backend") and args.backend is None:
        args.backend = _default_backend()
    if not 0.0 < getattr(args, "precision", 0.5) <= 1.0:
        raise UsageError("--precision must lie in (0, 1]")
    if getattr(args, "top", 1) < 1:
        raise UsageError("--top must be at least 1")
    if getattr(args, "cv", None) is not None and args.cv < 2:
        raise UsageError("--cv needs at least 2 folds")
    if not 0.0 < getattr(args, "test_size", 0.5) < 1.0:
        raise UsageError("--test-size must lie in (0, 1)")
    gamma = getattr(args, "gamma", 0.0)
    if not isinstance(gamma, str) and gamma < 0.0:
        raise UsageError("--gamma must be >= 0")
