"""The ``focal-boost`` command: train, predict, explain, evaluate and a demo, from a terminal.

::

    focal-boost train DATA --target COL [--backend ...] [--gamma ...] [--alpha ...] [--cv K]
    focal-boost predict MODEL DATA -o OUT
    focal-boost explain MODEL DATA -o REASONS [--top 3] [--space probability] [--plots DIR]
    focal-boost evaluate MODEL DATA --target COL
    focal-boost export MODEL -o booster.json
    focal-boost convert --allow-pickle OLD.joblib -o MODEL
    focal-boost demo

``train`` compares the estimator's model (by default ``--gamma auto``: focal
loss where the evidence of its hold-outs says it helps, else log loss, with
its members averaged into one booster; it prints what it chose and why) with
what a careful user trains anyway, the booster's own log loss early-stopped on
one 10% split, on a stratified hold-out or ``--cv K`` folds; prints a table
and saves the estimator's model with its metadata in a model file (no pickle:
:mod:`focal_boost._estimator.model_file`). Exit status: 0 on success, 2 for bad input or
usage (one line on stderr), 1 when something else fails.
"""

from __future__ import annotations

import sys

from focal_boost._util.files import OutputPathError
from focal_boost.cli.parser import build_parser, check_arguments
from focal_boost.cli.report import Reporter, UsageError
from focal_boost.cli.tables import TableError

__all__ = ["main", "run"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with status 2 on a usage error
    reporter = Reporter(quiet=args.quiet, as_json=args.json)
    try:
        check_arguments(args)
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
