"""examples/serve_c and serve_java: a C program scores an exported booster through the booster's C library
alone; a Java class applies the posterior correction to margins."""

from __future__ import annotations

import importlib.util
import json
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

from focal_boost import FocalBoostClassifier, FocalLoss

EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples" / "serve_c"
JAVA_EXAMPLE = EXAMPLE.parent / "serve_java" / "FocalPosterior.java"
COMPILER = shutil.which("cc") or shutil.which("gcc")
needs_compiler = pytest.mark.skipif(
    COMPILER is None, reason="no C compiler (cc or gcc) on PATH to build the C example"
)
needs_java = pytest.mark.skipif(
    shutil.which("javac") is None or shutil.which("java") is None, reason="no JDK (javac, java) on PATH"
)
BACKENDS = [
    pytest.param(
        name, marks=pytest.mark.skipif(importlib.util.find_spec(name) is None, reason=f"{name} missing")
    )
    for name in ("xgboost", "lightgbm")
]
LIBRARIES = {
    "xgboost": ("xgboost", "xgboost", []),
    "lightgbm": ("lightgbm", "_lightgbm", ["-DFOCAL_LIGHTGBM"]),
}


def _build(backend: str, folder: pathlib.Path) -> pathlib.Path:
    """The command docs/deploy.md gives, against the library inside the booster's Python wheel."""
    package, name, flags = LIBRARIES[backend]
    library = pathlib.Path(importlib.util.find_spec(package).origin).parent / "lib"
    program = folder / f"score_{backend}"
    command = [COMPILER, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", *flags, "-o", str(program)]
    command += [str(EXAMPLE / "score.c"), f"-L{library}", f"-l{name}", f"-Wl,-rpath,{library}", "-lm"]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return program


def _loss(backend: str, path: pathlib.Path, n_classes: int) -> tuple[str, str]:
    """GAMMA and ALPHA for the program, from the exported booster's own note of the loss."""
    if backend == "xgboost":
        import xgboost as xgb

        note = json.loads(xgb.Booster(model_file=str(path)).attr("focal_boost_export"))
    else:
        line = next(x for x in path.read_text().splitlines() if x.startswith("focal_boost_export:"))
        note = json.loads(line.partition(":")[2])
    gamma, alpha = note["gamma"], note["alpha"]
    gamma = gamma if isinstance(gamma, list) else [gamma] * n_classes
    alpha = [1.0] * n_classes if alpha is None else alpha if isinstance(alpha, list) else [1 - alpha, alpha]
    return ",".join(map(repr, gamma)), ",".join(map(repr, alpha))


def _csv(X: np.ndarray) -> str:
    return "".join(",".join("" if np.isnan(v) else repr(float(v)) for v in row) + "\n" for row in X)


def _score(program: pathlib.Path, *args: str, rows: str) -> np.ndarray:
    done = subprocess.run([str(program), *args], input=rows, capture_output=True, text=True, check=True)
    return np.array([[float(v) for v in line.split(",")] for line in done.stdout.splitlines()])


@needs_compiler
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("n_classes", "settings"),
    [
        (2, {"gamma": [1.0, 2.5], "alpha": [0.7, 0.3], "n_estimators": 300, "early_stopping_rounds": 5}),
        (2, {}),  # the default: gamma="auto", two members in one booster
        (3, {"gamma": [0.5, 2.0, 1.0], "alpha": [0.2, 0.5, 0.3], "n_estimators": 40}),
    ],
)
def test_the_c_program_gives_predict_proba(backend, n_classes, settings, tmp_path):
    rng = np.random.default_rng(n_classes)
    X = rng.normal(size=(800, 6))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = np.digitize(
        np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 1]) + rng.normal(size=800),
        [1.2, 2.0][: n_classes - 1],
    )
    model = FocalBoostClassifier(backend=backend, random_state=0, **settings).fit(X, y)
    path = tmp_path / ("model.json" if backend == "xgboost" else "model.txt")
    model.export_booster(path)
    served = _score(_build(backend, tmp_path), str(path), *_loss(backend, path, n_classes), rows=_csv(X))
    assert served.shape == (800, n_classes)
    # XGBoost: float32 margins (its leaves); LightGBM: doubles throughout.
    assert np.max(np.abs(served - model.predict_proba(X))) <= (1e-6 if backend == "xgboost" else 1e-12)


@needs_compiler
@pytest.mark.parametrize("backend", BACKENDS)
def test_the_c_program_says_what_is_wrong(backend, tmp_path):
    X = np.random.default_rng(0).normal(size=(200, 3))
    model = FocalBoostClassifier(backend=backend, gamma=2.0, n_estimators=5).fit(X, (X[:, 0] > 1).astype(int))
    path = tmp_path / ("model.json" if backend == "xgboost" else "model.txt")
    model.export_booster(path)
    program = _build(backend, tmp_path)
    for args, rows, message in [
        ((str(path), "2,2", "1"), "1,2,3\n", "ALPHA: not one value per class"),
        ((str(path), "2,2,2", "1,1,1"), "1,2,3\n", "GAMMA: not one value per class of the model"),
        ((str(path), "2,2", "1,1"), "1,2,3\n1,2\n", "rows.csv: rows of different lengths"),
        ((str(path), "2,2", "1,1"), "1,x,3\n", "rows.csv: not a number"),
        ((str(tmp_path / "absent.json"), "2,2", "1,1"), "1,2,3\n", "absent.json"),
    ]:
        done = subprocess.run([str(program), *args], input=rows, capture_output=True, text=True)
        assert done.returncode == 1, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)


@needs_java
@pytest.mark.parametrize(
    ("gamma", "alpha", "width"),
    [([1.0, 2.5], [0.7, 0.3], 1), ([2.0, 2.0], [1.0, 1.0], 1), ([0.5, 2.0, 1.0], [0.2, 0.5, 0.3], 3)],
)
def test_the_java_posterior_gives_the_loss_posterior(gamma, alpha, width, tmp_path):
    """Margins as a Java service gets them from its booster; extreme ones included."""
    rng = np.random.default_rng(width)
    margin = np.concatenate(
        [rng.normal(scale=3.0, size=(300, width)), np.full((4, width), [[-700], [-40], [35], [700]])]
    )
    subprocess.run(["javac", "-d", str(tmp_path), str(JAVA_EXAMPLE)], check=True, capture_output=True)
    rows = "".join(",".join(map(repr, row.tolist())) + "\n" for row in margin)
    done = subprocess.run(
        [
            "java",
            "-cp",
            str(tmp_path),
            "FocalPosterior",
            ",".join(map(repr, gamma)),
            ",".join(map(repr, alpha)),
        ],
        input=rows,
        capture_output=True,
        text=True,
        check=True,
    )
    served = np.array([[float(v) for v in line.split(",")] for line in done.stdout.splitlines()])
    expected = FocalLoss(gamma=gamma, alpha=alpha).posterior_proba(margin[:, 0] if width == 1 else margin)
    assert served.shape == expected.shape
    assert np.all(np.isfinite(served))
    assert np.max(np.abs(served - expected)) <= 1e-12
