"""The focal-boost command, run through its console-script entry point."""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

pd = pytest.importorskip(
    "pandas", reason="the command-line tool needs pandas (pip install 'focal-boost[cli]')"
)
if importlib.util.find_spec("xgboost") is None and importlib.util.find_spec("lightgbm") is None:
    pytest.skip(
        "the command-line tool needs a booster (pip install 'focal-boost[xgboost]')", allow_module_level=True
    )

from focal_boost.datasets import make_transactions  # noqa: E402

SCRIPT = shutil.which("focal-boost", path=os.path.dirname(sys.executable)) or shutil.which("focal-boost")
FAST = [
    *("--gamma", "2", "--n-estimators", "40", "--learning-rate", "0.3"),
    *("--early-stopping-rounds", "0", "--n-jobs", "1"),
]


def focal_boost(*args: str, cwd: pathlib.Path | None = None) -> subprocess.CompletedProcess:
    if SCRIPT is None:
        pytest.fail("the focal-boost console script is not installed (pip install -e .)")
    return subprocess.run(
        [SCRIPT, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def transactions(tmp_path_factory) -> dict[str, pathlib.Path]:
    directory = tmp_path_factory.mktemp("data")
    frame = make_transactions(3000, fraud_rate=0.05, random_state=0, as_frame=True).frame
    frame["target"] = np.where(frame["target"] == 1, "fraud", "ok")
    frame["merchant_category"] = frame["merchant_category"].astype(str)  # text, as read from a CSV
    paths = {"csv": directory / "train.csv", "parquet": directory / "train.parquet"}
    frame.to_csv(paths["csv"], index=False)
    frame.to_parquet(paths["parquet"], index=False)
    return paths


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_train_predict_evaluate_round_trip(kind, transactions, tmp_path):
    data = transactions[kind]
    model = tmp_path / "model.joblib"
    trained = focal_boost("train", data, "--target", "target", "-o", model, "--json", *FAST)
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout)
    scores = report["scores"]
    assert set(scores) == {"focal (gamma=2, alpha=none)", "log loss"}
    for row in scores.values():
        assert 0.0 < row["average precision"] <= 1.0
        assert 0.5 < row["ROC AUC"] <= 1.0
        assert 0.0 <= row["Brier score"] < 0.1
    # Both models' "focal loss" uses the focal model's gamma: the log-loss model's differs from its log loss.
    assert scores["log loss"]["focal loss"] < scores["log loss"]["log loss"]
    assert report["metadata"]["classes"] == ["fraud", "ok"]
    assert model.is_file()

    out = tmp_path / f"predictions.{kind}"
    predicted = focal_boost("predict", model, data, "-o", out, "--keep", "amount")
    assert predicted.returncode == 0, predicted.stderr
    frame = pd.read_csv(out) if kind == "csv" else pd.read_parquet(out)
    assert list(frame.columns) == ["amount", "prediction", "probability_fraud", "probability_ok"]
    assert len(frame) == 3000
    np.testing.assert_allclose(frame["probability_fraud"] + frame["probability_ok"], 1.0)
    assert set(frame["prediction"]) <= {"fraud", "ok"}

    evaluated = focal_boost("evaluate", model, data, "--target", "target", "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    scores = json.loads(evaluated.stdout)["scores"]
    # The model saw 80% of these rows: it scores at least as well as on the held-out part.
    assert (
        scores["average precision"]
        >= report["scores"]["focal (gamma=2, alpha=none)"]["average precision"] - 0.05
    )
    truth = pd.read_csv(transactions["csv"])["target"].to_numpy()
    accuracy = np.mean(frame["prediction"].to_numpy() == truth)
    assert accuracy > 0.95


def test_cross_validation_table_and_plots(transactions, tmp_path):
    plots = tmp_path / "plots"
    result = focal_boost(
        "train",
        transactions["csv"],
        "--target",
        "target",
        "--cv",
        "3",
        "--alpha",
        "0.25",
        "-o",
        tmp_path / "m.joblib",
        "--plots",
        plots,
        *FAST,
    )
    assert result.returncode == 0, result.stderr
    assert "mean of 3 stratified folds" in result.stdout
    assert "focal (gamma=2, alpha=0.25)" in result.stdout
    for name in ("focal_loss_curves.png", "precision_recall.png", "reliability.png"):
        assert (plots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_runs(tmp_path):
    result = focal_boost("demo", "--samples", "6000", "--output-dir", tmp_path, "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert (tmp_path / "fraud_model.joblib").is_file()
    predictions = pd.read_csv(tmp_path / "next_month_predictions.csv")
    assert len(predictions) == 3000


def test_version_and_help():
    result = focal_boost("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("focal-boost ")
    assert "Exit status" in focal_boost("--help").stdout


@pytest.fixture
def bad_files(tmp_path, transactions):
    frame = pd.read_csv(transactions["csv"])
    one_class = frame.assign(target="ok")
    one_class.to_csv(tmp_path / "one_class.csv", index=False)
    junk = frame.astype({"amount": object})
    junk.loc[7, "amount"] = "twelve dollars"
    junk.to_csv(tmp_path / "junk.csv", index=False)
    frame.assign(target=frame["amount"]).to_csv(tmp_path / "continuous.csv", index=False)
    ids = [f"id-{i:06d}" for i in range(len(frame))]
    frame.assign(txn_id=ids, card_id=ids[::-1]).to_csv(tmp_path / "ids.csv", index=False)
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "notes.xlsx").write_text("not a table")
    return tmp_path


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["train", "{d}/missing.csv", "--target", "target"], "missing.csv: no such file"),
        (["train", "{train}", "--target", "label"], "no target column 'label'"),
        (["train", "{d}/one_class.csv", "--target", "target"], "only one class"),
        (
            ["train", "{d}/junk.csv", "--target", "target"],
            "column 'amount' is numeric but has non-numeric values",
        ),
        (
            ["train", "{d}/continuous.csv", "--target", "target"],
            "target column 'target' is not a class label column: ",
        ),
        (
            ["train", "{d}/ids.csv", "--target", "target"],
            "text columns 'txn_id' (3000 distinct values), 'card_id' (3000 distinct values) look like "
            "identifiers: leave them out with --drop txn_id --drop card_id",
        ),
        (["train", "{d}/binary.csv", "--target", "target"], "binary.csv: cannot read as csv"),
        (["train", "{d}/notes.xlsx", "--target", "target"], "unknown file type"),
        (["train", "{train}", "--target", "target", "--gamma", "-1"], "--gamma must be >= 0"),
        (["train", "{train}", "--target", "target", "--alpha", "lots"], "--alpha must be"),
        (["predict", "{d}/missing.joblib", "{train}", "-o", "{d}/p.csv"], "no such model file"),
        (["predict", "{train}", "{train}", "-o", "{d}/p.csv"], "not a focal-boost model file"),
    ],
)
def test_bad_input_exits_2_with_one_line(arguments, message, bad_files, transactions):
    filled = [a.format(d=bad_files, train=transactions["csv"]) for a in arguments]
    result = focal_boost(*filled)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("focal-boost: error: ")
    assert message in lines[0]
    assert len(lines[0]) < 300, "one short line, not a dump of the data"


def test_usage_errors_exit_2():
    assert focal_boost().returncode == 2
    assert focal_boost("train").returncode == 2  # DATA and --target missing


def test_multiclass_target(tmp_path):
    from sklearn.datasets import make_classification

    X, y = make_classification(
        1500, 6, n_informative=4, n_classes=3, weights=[0.8, 0.15, 0.05], random_state=0
    )
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    frame["kind"] = np.array(["common", "rare", "rarest"])[y]
    frame.to_csv(tmp_path / "three.csv", index=False)
    result = focal_boost(
        "train",
        tmp_path / "three.csv",
        "--target",
        "kind",
        "--alpha",
        "0.2,0.3,0.5",
        "-o",
        tmp_path / "m.joblib",
        "--json",
        *FAST,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["metadata"]["classes"] == ["common", "rare", "rarest"]
    assert report["scores"]["focal (gamma=2, alpha=0.2,0.3,0.5)"]["ROC AUC"] > 0.8


def test_demo_without_output_dir_leaves_nothing_behind(tmp_path):
    """The temporary folder is removed at the end; the first line says so."""
    env_tmp = tmp_path / "tmp"
    env_tmp.mkdir()
    result = subprocess.run(
        [SCRIPT, "demo", "--samples", "6000", "--n-jobs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "TMPDIR": str(env_tmp)},
    )
    assert result.returncode == 0, result.stderr
    assert "removed at the end (--output-dir keeps them)" in result.stdout.splitlines()[0]
    assert list(env_tmp.iterdir()) == []
    # The legend says what each column is scored on; the focal model wins on its own loss.
    assert "focal loss: of each model's raw sigmoid/softmax output" in result.stdout
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith(("focal (", "log loss "))]
    focal_loss_column = -2  # ... Brier score, focal loss, log loss
    focal, log_loss = float(rows[0][focal_loss_column]), float(rows[1][focal_loss_column])
    assert focal < log_loss


def test_scores_put_the_focal_loss_on_the_raw_output(transactions):
    """`focal loss` of a focal model: its raw link output; the other columns: predict_proba."""
    from focal_boost import FocalBoostClassifier
    from focal_boost.cli import _scores
    from focal_boost.metrics import focal_loss, summary

    frame = pd.read_csv(transactions["csv"])
    X, y = frame[["amount", "hour"]], frame["target"].to_numpy()
    model = FocalBoostClassifier(gamma=2.0, n_estimators=20, n_jobs=1).fit(X, y)
    scores = _scores(model, X, y, 0.9)
    raw = model.loss_.predict_proba(model.decision_function(X))
    assert scores["focal loss"] == pytest.approx(focal_loss(y, raw, gamma=2.0, labels=model.classes_))
    returned = summary(y, model.predict_proba(X), model.classes_, gamma=2.0)
    for column in ("average precision", "Brier score", "log loss"):
        assert scores[column] == returned[column]
    assert returned["focal loss"] > scores["focal loss"]  # the posterior, scored on focal loss, loses


# ----------------------------------------------------------------------------- files written safely


def test_outputs_are_checked_before_training(transactions, tmp_path):
    """A path that cannot be written fails at once, in one line, before any model is trained."""
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    started = time.perf_counter()
    result = focal_boost(
        "train", transactions["csv"], "--target", "target", "-o", blocker / "m.joblib", *FAST
    )
    assert result.returncode == 2
    assert f"{blocker / 'm.joblib'}: cannot write the model: {blocker} is not a folder" in result.stderr
    assert "rows," not in result.stdout  # nothing was read or trained
    assert time.perf_counter() - started < 60
    result = focal_boost("train", transactions["csv"], "--target", "target", "-o", tmp_path, *FAST)
    assert result.returncode == 2
    assert "cannot write the model: it is a folder" in result.stderr
    result = focal_boost(
        "train", transactions["csv"], "--target", "target", "--plots", blocker / "plots", *FAST
    )
    assert result.returncode == 2
    assert "cannot write the plots" in result.stderr
    model = tmp_path / "m.joblib"
    assert focal_boost("train", transactions["csv"], "--target", "target", "-o", model, *FAST).returncode == 0
    result = focal_boost("predict", model, transactions["csv"], "-o", blocker / "p.csv")
    assert result.returncode == 2
    assert "cannot write the predictions" in result.stderr


def test_a_failed_write_keeps_the_previous_file(transactions, tmp_path, monkeypatch):
    """Model and predictions are written to a temporary file and renamed: never half a file."""
    import joblib

    from focal_boost import cli

    model = tmp_path / "m.joblib"
    assert (
        cli.main(["train", str(transactions["csv"]), "--target", "target", "-o", str(model), "-q", *FAST])
        == 0
    )
    good = model.read_bytes()
    output = tmp_path / "scores.csv"
    assert cli.main(["predict", str(model), str(transactions["csv"]), "-o", str(output), "-q"]) == 0
    complete = output.read_text()

    def fail_halfway(value, filename, **kwargs):
        pathlib.Path(filename).write_bytes(b"half a model")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(joblib, "dump", fail_halfway)
    assert (
        cli.main(["train", str(transactions["csv"]), "--target", "target", "-o", str(model), "-q", *FAST])
        == 2
    )
    assert model.read_bytes() == good
    monkeypatch.undo()

    original = pd.DataFrame.to_csv

    def interrupted(self, path, *args, **kwargs):
        original(self.iloc[: len(self) // 2], path, *args, **kwargs)  # a truncated file that still parses
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", interrupted)
    assert cli.main(["predict", str(model), str(transactions["csv"]), "-o", str(output), "-q"]) == 130
    assert output.read_text() == complete
    fresh = tmp_path / "fresh.csv"
    assert cli.main(["predict", str(model), str(transactions["csv"]), "-o", str(fresh), "-q"]) == 130
    assert not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.joblib", "scores.csv"]  # no temporary left
    monkeypatch.undo()
    assert output.stat().st_mode & 0o777 == model.stat().st_mode & 0o777  # a new file's usual permissions


def test_train_stops_early_on_the_chosen_metric(transactions, tmp_path):
    import joblib

    from focal_boost import cli

    model = tmp_path / "model.joblib"
    options = [
        "--gamma",
        "2",
        "--n-estimators",
        "60",
        "--learning-rate",
        "0.3",
        "--early-stopping-rounds",
        "5",
    ]
    args = ["train", str(transactions["csv"]), "--target", "target", "-o", str(model), "-q", *options]
    assert cli.main([*args, "--early-stopping-metric", "average_precision"]) == 0
    estimator = joblib.load(model)["model"]
    assert estimator.early_stopping_metric == "average_precision"
    curve = estimator.evals_result_["valid"]["average_precision"]
    assert estimator.best_iteration_ == int(np.argmax(curve)) + 1
    with pytest.raises(SystemExit) as refused:
        cli.main([*args, "--early-stopping-metric", "aucpr"])
    assert refused.value.code == 2


def test_train_with_automatic_focusing_says_what_it_chose(transactions, tmp_path):
    model = tmp_path / "model.joblib"
    options = ["--n-estimators", "60", "--learning-rate", "0.3", "--n-jobs", "1"]  # --gamma auto: the default
    printed = focal_boost("train", transactions["csv"], "--target", "target", "-o", model, *options)
    assert printed.returncode == 0, printed.stderr
    assert "focal (gamma=auto, alpha=none)" in printed.stdout
    chosen = [line for line in printed.stdout.splitlines() if line.startswith("gamma=auto:")]
    assert len(chosen) == 1
    assert "gamma 0 (" in chosen[0]
    assert "gamma 1 (" in chosen[0]
    assert "validation log loss" in chosen[0]
    assert "why:" in printed.stdout
    reported = focal_boost(
        "train", transactions["csv"], "--target", "target", "-o", model, "--json", *options
    )
    focusing = json.loads(reported.stdout)["metadata"]["focusing"]
    assert [row["gamma"] for row in focusing["members"]] == [0.0, 1.0]
    assert focusing["metric"] == "log_loss"
    assert all(1 <= row["rounds"] <= 60 for row in focusing["members"])
