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
    model = tmp_path / "model.zip"
    trained = focal_boost("train", data, "--target", "target", "-o", model, "--json", *FAST)
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout)
    scores = report["scores"]
    assert set(scores) == {"focal_boost (gamma=2, alpha=none)", "log loss (one model)"}
    for row in scores.values():
        assert 0.0 < row["average precision"] <= 1.0
        assert 0.5 < row["ROC AUC"] <= 1.0
        assert 0.0 <= row["Brier score"] < 0.1
    # Both models' "focal loss" uses the focal model's gamma: the log-loss model's differs from its log loss.
    assert scores["log loss (one model)"]["focal loss"] < scores["log loss (one model)"]["log loss"]
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
        >= report["scores"]["focal_boost (gamma=2, alpha=none)"]["average precision"] - 0.05
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
        tmp_path / "m.zip",
        "--plots",
        plots,
        *FAST,
    )
    assert result.returncode == 0, result.stderr
    assert "mean of 3 stratified folds" in result.stdout
    assert "focal_boost (gamma=2, alpha=0.25)" in result.stdout
    for name in ("focal_loss_curves.png", "precision_recall.png", "reliability.png"):
        assert (plots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_runs(tmp_path):
    result = focal_boost("demo", "--samples", "6000", "--output-dir", tmp_path, "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert (tmp_path / "fraud_model.zip").is_file()
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
        (["predict", "{d}/missing.zip", "{train}", "-o", "{d}/p.csv"], "no such model file"),
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
        tmp_path / "m.zip",
        "--json",
        *FAST,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["metadata"]["classes"] == ["common", "rare", "rarest"]
    assert report["scores"]["focal_boost (gamma=2, alpha=0.2,0.3,0.5)"]["ROC AUC"] > 0.8


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
    # The legend says what each column is scored on; the model, its choice and the evidence are printed,
    # with the paired difference from the baseline, and no claim the table does not show.
    lines = result.stdout.splitlines()
    assert "focal loss: of each model's raw sigmoid/softmax output" in result.stdout
    assert sum(line.startswith(("focal_boost (gamma=auto", "log loss (one model)")) for line in lines) == 2
    assert any(line.startswith("model: 2 members") for line in lines)
    assert any(line.startswith("focusing: gamma=auto chose gamma") for line in lines)
    assert any(line.startswith("average precision, focal_boost (gamma=auto") for line in lines)
    assert "beat every fixed gamma" not in result.stdout


def test_scores_put_the_focal_loss_on_the_raw_output(transactions):
    """`focal loss` of a focal model: its raw link output; the other columns: predict_proba."""
    from focal_boost import FocalBoostClassifier
    from focal_boost.cli.report import held_out_scores as _scores
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
    result = focal_boost("train", transactions["csv"], "--target", "target", "-o", blocker / "m.zip", *FAST)
    assert result.returncode == 2
    assert f"{blocker / 'm.zip'}: cannot write the model: {blocker} is not a folder" in result.stderr
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
    model = tmp_path / "m.zip"
    assert focal_boost("train", transactions["csv"], "--target", "target", "-o", model, *FAST).returncode == 0
    result = focal_boost("predict", model, transactions["csv"], "-o", blocker / "p.csv")
    assert result.returncode == 2
    assert "cannot write the predictions" in result.stderr


def test_a_failed_write_keeps_the_previous_file(transactions, tmp_path, monkeypatch):
    """Model and predictions are written to a temporary file and renamed: never half a file."""
    import zipfile

    from focal_boost import cli

    model = tmp_path / "m.zip"
    assert (
        cli.main(["train", str(transactions["csv"]), "--target", "target", "-o", str(model), "-q", *FAST])
        == 0
    )
    good = model.read_bytes()
    output = tmp_path / "scores.csv"
    assert cli.main(["predict", str(model), str(transactions["csv"]), "-o", str(output), "-q"]) == 0
    complete = output.read_text()

    def fail_halfway(self, name, data, *args, **kwargs):
        write(self, name, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    write = zipfile.ZipFile.writestr
    monkeypatch.setattr(zipfile.ZipFile, "writestr", fail_halfway)
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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.zip", "scores.csv"]  # no temporary left
    monkeypatch.undo()
    assert output.stat().st_mode & 0o777 == model.stat().st_mode & 0o777  # a new file's usual permissions


def test_train_stops_early_on_the_chosen_metric(transactions, tmp_path):
    from focal_boost import cli, load_model

    model = tmp_path / "model.zip"
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
    estimator = load_model(model)
    assert estimator.early_stopping_metric == "average_precision"
    for k, member in enumerate(estimator.members_, start=1):  # each member stopped at its best AP
        curve = estimator.evals_result_[f"valid_{k}"]["average_precision"]
        assert member["rounds"] == int(np.argmax(curve)) + 1
        assert member["validation_average_precision"] == max(curve)
    with pytest.raises(SystemExit) as refused:
        cli.main([*args, "--early-stopping-metric", "aucpr"])
    assert refused.value.code == 2


def test_train_with_automatic_focusing_says_what_it_chose_and_why(transactions, tmp_path):
    model = tmp_path / "model.zip"
    options = ["--n-estimators", "60", "--learning-rate", "0.3", "--n-jobs", "1"]  # --gamma auto: the default
    printed = focal_boost("train", transactions["csv"], "--target", "target", "-o", model, *options)
    assert printed.returncode == 0, printed.stderr
    assert "focal_boost (gamma=auto, alpha=none)" in printed.stdout
    lines = printed.stdout.splitlines()
    members = [line for line in lines if line.startswith("model: 2 members")]
    assert len(members) == 1
    assert "validation log loss" in members[0]
    chosen = [line for line in lines if line.startswith("focusing: gamma=auto chose gamma ")]
    assert len(chosen) == 1
    evidence = [line for line in lines if line.startswith("  evidence: average precision of the rare class")]
    assert len(evidence) == 1
    for gamma in ("0.5", "1", "2"):
        assert f"gamma {gamma} " in evidence[0]
    assert "beat every fixed gamma" not in printed.stdout  # no claim the table does not show
    reported = focal_boost(
        "train", transactions["csv"], "--target", "target", "-o", model, "--json", *options
    )
    metadata = json.loads(reported.stdout)["metadata"]
    focusing = metadata["focusing"]
    assert [row["gamma"] for row in focusing["candidates"]] == [0.0, 0.5, 1.0, 2.0]
    assert focusing["metric"] == "average precision of the rare class 'fraud' on the members' hold-outs"
    assert all(1 <= row["rounds"] <= 60 for row in metadata["members"])


@pytest.fixture(scope="module")
def mostly_yes(tmp_path_factory) -> pathlib.Path:
    """A binary target whose greater label ("yes") is the 92% majority, with a row-number column."""
    rng = np.random.default_rng(5)
    n = 2000
    signal = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "row_id": np.arange(1, n + 1),
            "signal": signal,
            "noise": rng.normal(size=n),
            "answer": np.where(signal + 0.8 * rng.normal(size=n) > -1.7, "yes", "no"),
        }
    )
    path = tmp_path_factory.mktemp("yes") / "answers.csv"
    frame.to_csv(path, index=False)
    return path


def test_the_positive_class_is_the_minority_by_default_and_named_everywhere(mostly_yes, tmp_path):
    model = tmp_path / "m.zip"
    base = ["train", mostly_yes, "--target", "answer", "--drop", "row_id"]
    args = [*base, "-o", model, *FAST]
    printed = focal_boost(*args)
    assert printed.returncode == 0, printed.stderr
    first = printed.stdout.splitlines()[0]
    assert "positive class 'no' (the minority class; --positive LABEL to choose)" in first
    assert "ranking scores of class 'no'" in printed.stdout
    report = json.loads(focal_boost(*args, "--json").stdout)
    assert report["positive_class"] == "no"
    assert report["metadata"]["positive_class"] == "no"
    # The scores are those of "no": far from what scoring the 92% "yes" class gives.
    no_ap = report["scores"]["log loss (one model)"]["average precision"]
    yes_args = [*base, "-o", tmp_path / "yes.zip", *FAST]
    yes = json.loads(focal_boost(*yes_args, "--json", "--positive", "yes").stdout)
    assert yes["positive_class"] == "yes"
    assert yes["scores"]["log loss (one model)"]["average precision"] > 0.95
    assert no_ap < 0.9
    evaluated = json.loads(focal_boost("evaluate", model, mostly_yes, "--target", "answer", "--json").stdout)
    assert evaluated["positive_class"] == "no"  # the model's, from training
    assert evaluated["scores"]["average precision"] < 0.95


def test_a_numeric_alpha_weighs_the_positive_class(mostly_yes, tmp_path):
    from focal_boost import load_model

    model = tmp_path / "m.zip"
    args = ["train", mostly_yes, "--target", "answer", "--drop", "row_id", "-o", model, "--alpha", "0.75"]
    assert focal_boost(*args, *FAST).returncode == 0
    assert load_model(model).alpha == {"no": 0.75, "yes": 0.25}
    assert focal_boost(*args, "--positive", "yes", *FAST).returncode == 0
    assert load_model(model).alpha == {"yes": 0.75, "no": 0.25}
    refused = focal_boost(*args, "--positive", "maybe", *FAST)
    assert refused.returncode == 2
    assert "--positive 'maybe' is not a class of the target (classes: no, yes)" in refused.stderr


def test_plots_are_of_the_positive_class(mostly_yes, tmp_path, monkeypatch):
    from focal_boost import cli, plots

    seen = []
    for name in ("precision_recall", "reliability"):
        original = getattr(plots, name)

        def spy(path, y, scores, *, pos_label, _original=original):
            seen.append(pos_label)
            return _original(path, y, scores, pos_label=pos_label)

        monkeypatch.setattr(plots, name, spy)
    args = ["train", str(mostly_yes), "--target", "answer", "--drop", "row_id", "-q"]
    assert cli.main([*args, "-o", str(tmp_path / "m.zip"), "--plots", str(tmp_path / "p"), *FAST]) == 0
    assert seen == ["no", "no"]


def test_an_integer_row_identifier_column_is_warned_about(mostly_yes, tmp_path):
    printed = focal_boost("train", mostly_yes, "--target", "answer", "-o", tmp_path / "m.zip", *FAST)
    assert printed.returncode == 0, printed.stderr
    assert "column 'row_id' looks like a row identifier" in printed.stderr
    assert "--drop row_id" in printed.stderr
    dropped = focal_boost(
        "train", mostly_yes, "--target", "answer", "--drop", "row_id", "-o", tmp_path / "m.zip", *FAST
    )
    assert "identifier" not in dropped.stderr


def test_train_is_reproducible_by_default(mostly_yes, tmp_path):
    """The seed defaults to 0: the same data give the same hold-outs, models and scores."""
    args = ["train", mostly_yes, "--target", "answer", "--drop", "row_id", "--json", "--n-jobs", "1"]
    runs = [json.loads(focal_boost(*args, "-o", tmp_path / f"m{k}.zip").stdout) for k in range(2)]
    assert runs[0]["scores"] == runs[1]["scores"]
    assert runs[0]["metadata"]["focusing"] == runs[1]["metadata"]["focusing"]
    assert runs[0]["metadata"]["members"] == runs[1]["metadata"]["members"]


def test_train_reports_the_paired_difference_from_the_baseline(mostly_yes, tmp_path):
    args = ["train", mostly_yes, "--target", "answer", "--drop", "row_id", "-o", tmp_path / "m.zip"]
    report = json.loads(focal_boost(*args, "--json", *FAST).stdout)
    comparison = report["metadata"]["comparison"]
    scores = report["scores"]
    expected = (
        scores["focal_boost (gamma=2, alpha=none)"]["average precision"]
        - scores["log loss (one model)"]["average precision"]
    )
    assert comparison["difference"] == pytest.approx(expected, abs=1e-12)  # one split: the table's
    assert comparison["metric"] == "average precision"
    assert comparison["rows"] == 400
    assert 0.0 < comparison["standard_error"] < 0.2
    printed = focal_boost(*args, *FAST).stdout
    line = next(line for line in printed.splitlines() if line.startswith("average precision, focal_boost"))
    assert "minus log loss (one model)" in line
    assert "paired bootstrap over 400 held-out rows" in line


def test_pickle_model_files_are_refused_unless_trusted(transactions, tmp_path):
    """The format before the model file: refused, never run; --allow-pickle reads it with a warning."""
    import pickle

    import joblib

    from focal_boost import cli
    from focal_boost._estimator.loading import read_model_file

    model = tmp_path / "model.zip"
    assert (
        cli.main(["train", str(transactions["csv"]), "--target", "target", "-o", str(model), "-q", *FAST])
        == 0
    )
    estimator, extra = read_model_file(model)
    legacy = tmp_path / "legacy.joblib"
    joblib.dump({"format": "focal-boost-model/1", "model": estimator, **extra}, legacy)
    data, expected = transactions["csv"], tmp_path / "expected.csv"
    assert focal_boost("predict", model, data, "-o", expected).returncode == 0

    refused = focal_boost("predict", legacy, data, "-o", tmp_path / "p.csv")
    assert refused.returncode == 2
    assert "a pickle or joblib file" in refused.stderr
    assert "--allow-pickle" in refused.stderr
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    evil = tmp_path / "evil.joblib"
    evil.write_bytes(pickle.dumps({"format": "focal-boost-model/1", "model": Evil()}))
    for command in (
        ["predict", evil, data, "-o", tmp_path / "p.csv"],
        ["evaluate", evil, data, "--target", "target"],
    ):
        assert focal_boost(*command).returncode == 2
    assert not marker.exists()

    trusted = focal_boost("predict", "--allow-pickle", legacy, data, "-o", tmp_path / "trusted.csv")
    assert trusted.returncode == 0, trusted.stderr
    assert "loading a pickle (joblib) file, which runs any code it holds" in trusted.stderr
    assert (tmp_path / "trusted.csv").read_text() == expected.read_text()

    converted = tmp_path / "converted.zip"
    assert focal_boost("convert", "--allow-pickle", legacy, "-o", converted).returncode == 0
    assert focal_boost("predict", converted, data, "-o", tmp_path / "c.csv").returncode == 0
    assert (tmp_path / "c.csv").read_text() == expected.read_text()
    assert focal_boost("convert", legacy, "-o", tmp_path / "again.zip").returncode == 2

    estimator.save_model(tmp_path / "python.zip")  # saved in Python: no feature schema for a table
    result = focal_boost("predict", tmp_path / "python.zip", data, "-o", tmp_path / "p.csv")
    assert result.returncode == 2
    assert "not by `focal-boost train`" in result.stderr


def test_help_says_the_model_file_holds_no_pickle():
    result = focal_boost("train", "--help")
    assert "no pickle" in " ".join(result.stdout.split())
    result = focal_boost("predict", "--help")
    assert "--allow-pickle" in result.stdout
    assert "runs any code" in " ".join(result.stdout.split())


def test_export_writes_a_plain_booster(transactions, tmp_path):
    from focal_boost import load_model

    model = tmp_path / "model.zip"
    assert focal_boost("train", transactions["csv"], "--target", "target", "-o", model, *FAST).returncode == 0
    estimator = load_model(model)
    suffix = ".json" if estimator.backend == "xgboost" else ".txt"
    result = focal_boost("export", model, "-o", tmp_path / f"plain{suffix}", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["booster"] == estimator.backend
    assert (tmp_path / f"plain{suffix}").stat().st_size > 0
    if estimator.backend == "xgboost":
        refused = focal_boost("export", model, "-o", tmp_path / "plain.bin")
        assert refused.returncode == 2
        assert "saved as .json (JSON) or .ubj (UBJSON)" in refused.stderr


def test_export_writes_onnx(tmp_path):
    """A model fitted on numeric columns goes to ONNX with the command; its probabilities are the model's."""
    ort = pytest.importorskip("onnxruntime")
    from focal_boost import load_model

    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.normal(size=(1500, 4)), columns=["a", "b", "c", "d"])
    frame["target"] = np.where(frame["a"] + rng.normal(size=1500) > 1.8, "fraud", "ok")
    frame.to_csv(tmp_path / "numeric.csv", index=False)
    model = tmp_path / "model.zip"
    trained = focal_boost("train", tmp_path / "numeric.csv", "--target", "target", "-o", model, *FAST)
    assert trained.returncode == 0, trained.stderr
    result = focal_boost("export", model, "-o", tmp_path / "model.onnx", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["onnx"] is True
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    X = frame[["a", "b", "c", "d"]].to_numpy(np.float32)
    labels, probabilities = session.run(["label", "probabilities"], {"X": X})
    estimator = load_model(model)
    expected = estimator.predict_proba(pd.DataFrame(X, columns=["a", "b", "c", "d"]))
    assert np.max(np.abs(probabilities - expected)) <= 1e-5
    assert set(labels.tolist()) <= {"fraud", "ok"}


def test_explain_writes_each_rows_top_reasons(transactions, tmp_path):
    model = tmp_path / "model.zip"
    assert (
        focal_boost("train", transactions["csv"], "--target", "target", "-o", model, "-q", *FAST).returncode
        == 0
    )
    reasons, plots = tmp_path / "reasons.csv", tmp_path / "plots"
    done = focal_boost(
        "explain",
        model,
        transactions["csv"],
        "-o",
        reasons,
        "--top",
        "3",
        "--keep",
        "amount",
        "--plots",
        plots,
    )
    assert done.returncode == 0, done.stderr
    assert "contributions in probability" in done.stdout
    assert (plots / "importance.png").stat().st_size > 0
    out = pd.read_csv(reasons)
    assert list(out.columns[:4]) == ["amount", "class", "base_value", "output"]
    assert [c for c in out.columns if c.startswith("reason_")] == ["reason_1", "reason_2", "reason_3"]
    assert set(out["class"]) == {"fraud"}  # the positive class: the minority
    # The output is the model's predicted probability of fraud.
    predictions = tmp_path / "predictions.csv"
    assert focal_boost("predict", model, transactions["csv"], "-o", predictions).returncode == 0
    np.testing.assert_allclose(out["output"], pd.read_csv(predictions)["probability_fraud"], atol=1e-5)
    # Reasons come largest first, with the value the row had.
    sizes = out[["contribution_1", "contribution_2", "contribution_3"]].abs().to_numpy()
    assert np.all(np.diff(sizes, axis=1) <= 1e-15)
    frame = pd.read_csv(transactions["csv"])
    first = out.iloc[0]
    shown = frame.loc[0, first["reason_1"]]
    assert str(first["value_1"]) == str(shown) or float(first["value_1"]) == pytest.approx(float(shown))


def test_explain_multiclass_and_its_errors(tmp_path):
    from sklearn.datasets import make_classification

    X, y = make_classification(900, 5, n_informative=3, n_classes=3, random_state=0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)])
    frame["kind"] = np.array(["a", "b", "c"])[y]
    frame.to_csv(tmp_path / "three.csv", index=False)
    model = tmp_path / "m.zip"
    assert (
        focal_boost("train", tmp_path / "three.csv", "--target", "kind", "-o", model, "-q", *FAST).returncode
        == 0
    )
    reasons = tmp_path / "r.csv"
    done = focal_boost(
        "explain", model, tmp_path / "three.csv", "-o", reasons, "--space", "margin", "--top", "9"
    )
    assert done.returncode == 0, done.stderr
    out = pd.read_csv(reasons)
    assert [c for c in out.columns if c.startswith("reason_")] == [f"reason_{r}" for r in range(1, 6)]
    predicted = focal_boost("predict", model, tmp_path / "three.csv", "-o", tmp_path / "p.csv")
    assert predicted.returncode == 0
    assert list(out["class"]) == list(pd.read_csv(tmp_path / "p.csv")["prediction"])
    fixed = focal_boost("explain", model, tmp_path / "three.csv", "-o", reasons, "--class", "c")
    assert fixed.returncode == 0, fixed.stderr
    assert set(pd.read_csv(reasons)["class"]) == {"c"}
    for arguments, message in [
        (("--class", "d"), "--class 'd': the model's classes are a, b, c"),
        (("--space", "log_odds"), "multiclass model has no single one"),
        (("--top", "0"), "--top must be at least 1"),
        (("--keep", "nope"), "--keep: no column named 'nope'"),
    ]:
        failed = focal_boost("explain", model, tmp_path / "three.csv", "-o", reasons, *arguments)
        assert failed.returncode == 2, (arguments, failed.stderr)
        assert message in failed.stderr
