"""The model file: FocalBoostClassifier.save_model / focal_boost.load_model, without pickle."""

from __future__ import annotations

import importlib.util
import json
import pickle
import zipfile

import numpy as np
import pytest
from sklearn.base import clone

import focal_boost
from focal_boost import FocalBoostClassifier, load_model
from focal_boost._util.portable import decode, encode

INSTALLED = [name for name in ("xgboost", "lightgbm") if importlib.util.find_spec(name) is not None]
BACKENDS = [
    pytest.param(name, marks=pytest.mark.skipif(name not in INSTALLED, reason=f"{name} is not installed"))
    for name in ("xgboost", "lightgbm")
]
pd = pytest.importorskip("pandas")


def _frame(n_classes: int, rows: int = 600, seed: int = 0):
    """Numeric, category and text columns, some missing values; a rare class."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3))
    shop = rng.choice(["grocery", "travel", "online", "fuel"], size=rows)
    city = pd.Categorical(rng.choice(["a", "b", "c"], size=rows), categories=["c", "a", "b"])
    score = x[:, 0] + 1.5 * (shop == "online") + 0.5 * (np.asarray(city) == "b")
    x[rng.random(rows) < 0.05, 1] = np.nan
    if n_classes == 2:
        y = np.where(score + rng.normal(size=rows) > 2.0, "fraud", "ok")
    else:
        y = np.digitize(score + rng.normal(size=rows), [0.5, 1.8])
    frame = pd.DataFrame({"amount": x[:, 0], "age": x[:, 1], "hour": x[:, 2], "shop": shop, "city": city})
    frame.loc[rng.random(rows) < 0.03, "shop"] = None
    return frame, y


def _same(a: FocalBoostClassifier, b: FocalBoostClassifier, X) -> None:
    assert np.array_equal(a.decision_function(X), b.decision_function(X))  # bit for bit
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
    assert np.array_equal(a.predict(X), b.predict(X))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_round_trip_is_bit_identical(backend, n_classes, tmp_path):
    """The defaults (two members early-stopped on their hold-outs, averaged), category and text columns."""
    X, y = _frame(n_classes)
    model = FocalBoostClassifier(backend=backend, gamma=2.0, n_estimators=60, random_state=0, n_jobs=1)
    model.fit(X, y)
    path = tmp_path / "model.zip"
    model.save_model(path)
    loaded = load_model(path)
    new_X, _ = _frame(n_classes, rows=300, seed=1)
    new_X.loc[0, "shop"] = "a level never seen"
    _same(model, loaded, new_X)
    assert loaded.classes_.dtype == model.classes_.dtype
    assert np.array_equal(loaded.classes_, model.classes_)
    assert list(loaded.feature_names_in_) == list(model.feature_names_in_)
    assert loaded.n_features_in_ == model.n_features_in_ == 5
    assert loaded.best_iteration_ == model.best_iteration_
    assert loaded.members_ == model.members_
    assert loaded.focusing_ == model.focusing_
    assert np.array_equal(loaded.init_score_, model.init_score_)
    assert loaded.loss_.gamma == model.loss_.gamma
    np.testing.assert_array_equal(loaded.loss_.alpha, model.loss_.alpha)
    assert loaded.get_params() == model.get_params()
    with pytest.raises(ValueError, match="feature names"):  # the features are checked as before saving
        loaded.predict_proba(new_X[list(reversed(new_X.columns))])


@pytest.mark.parametrize("backend", BACKENDS)
def test_round_trip_early_stopped_on_eval_set_and_arrays(backend, tmp_path):
    """An eval_set, a NumPy array, raw probabilities, a dict alpha of integer labels, rounds left unused."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(800, 4))
    y = (X[:, 0] + rng.normal(size=800) > 1.6).astype(int)
    model = FocalBoostClassifier(
        backend=backend,
        gamma=1.0,
        alpha={0: 0.3, 1: 0.7},
        probability="raw",
        n_estimators=300,
        learning_rate=0.3,
        early_stopping_rounds=5,
        random_state=0,
    )
    model.fit(X[:600], y[:600], eval_set=[(X[600:], y[600:])])
    assert model.best_iteration_ < 300  # early-stopped: the booster holds rounds the model does not use
    model.save_model(tmp_path / "m.zip")
    loaded = load_model(tmp_path / "m.zip")
    _same(model, loaded, X)
    assert loaded.alpha == {0: 0.3, 1: 0.7}
    assert loaded.probability == "raw"
    assert loaded.evals_result_ == model.evals_result_


@pytest.mark.skipif("xgboost" not in INSTALLED, reason="xgboost is not installed")
def test_gamma_auto_model_round_trip(tmp_path):
    X, y = _frame(2, rows=800)
    model = FocalBoostClassifier(gamma="auto", n_estimators=40, random_state=0, n_jobs=1).fit(X, y)
    model.save_model(tmp_path / "auto.zip")
    loaded = load_model(tmp_path / "auto.zip")
    _same(model, loaded, X)
    assert loaded.focusing_ == model.focusing_
    assert loaded.gamma == "auto"


@pytest.mark.parametrize("backend", BACKENDS)
def test_loading_unpickles_nothing(backend, tmp_path, monkeypatch):
    X, y = _frame(2)
    model = FocalBoostClassifier(backend=backend, n_estimators=20, random_state=0).fit(X, y)
    model.save_model(tmp_path / "m.zip")

    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    loaded = load_model(tmp_path / "m.zip")
    _same(model, loaded, X)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_archive_holds_the_booster_in_its_own_format(backend, tmp_path):
    X, y = _frame(2)
    model = FocalBoostClassifier(backend=backend, n_estimators=20, random_state=0).fit(X, y)
    model.save_model(tmp_path / "m.zip")
    with zipfile.ZipFile(tmp_path / "m.zip") as archive:
        names = archive.namelist()
        metadata = json.loads(archive.read("focal_boost.json"))
        booster = archive.read(names[1])
    assert names == ["focal_boost.json", "booster.ubj" if backend == "xgboost" else "booster.txt"]
    assert metadata["format"] == "focal-boost-model"
    assert metadata["format_version"] == 1
    assert metadata["written_by"]["focal_boost"] == focal_boost.__version__
    assert backend in metadata["written_by"]
    assert metadata["booster"]["rounds"] == model.best_iteration_
    assert metadata["fitted"]["category_levels"]["shop"] == {
        "$tuple": ["fuel", "grocery", "online", "travel"]
    }
    if backend == "xgboost":
        import xgboost as xgb

        plain = xgb.Booster(model_file=bytearray(booster))  # XGBoost alone reads the booster
        assert plain.num_boosted_rounds() >= model.best_iteration_
    else:
        import lightgbm as lgb

        assert lgb.Booster(model_str=booster.decode()).current_iteration() == model.best_iteration_
    model.save_model(tmp_path / "again.zip")  # one model, one file: no time stamps inside
    assert (tmp_path / "again.zip").read_bytes() == (tmp_path / "m.zip").read_bytes()


@pytest.mark.parametrize(
    "labels", [np.array([3, 7]), np.array([False, True]), np.array(["no", "yes"], dtype=object)]
)
def test_class_labels_keep_their_type(labels, tmp_path):
    pytest.importorskip(INSTALLED[0] if INSTALLED else "xgboost")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = labels[(X[:, 0] + rng.normal(size=300) > 1.0).astype(int)]
    model = FocalBoostClassifier(backend=INSTALLED[0], n_estimators=10, random_state=0).fit(X, y)
    model.save_model(tmp_path / "m.zip")
    loaded = load_model(tmp_path / "m.zip")
    assert loaded.classes_.dtype == model.classes_.dtype
    assert loaded.predict(X).tolist() == model.predict(X).tolist()
    assert type(loaded.predict(X)[0]) is type(model.predict(X)[0])


def _fitted(tmp_path, **params):
    backend = INSTALLED[0] if INSTALLED else pytest.skip("no booster installed")
    X, y = _frame(2, rows=300)
    model = FocalBoostClassifier(backend=backend, n_estimators=10, random_state=0, **params).fit(X, y)
    model.save_model(tmp_path / "m.zip")
    return model, X, tmp_path / "m.zip"


def test_unsaveable_parameters_are_left_out_with_a_warning(tmp_path):
    def brier(y_true, y_prob, sample_weight=None):
        return float(np.mean((y_true - y_prob) ** 2))

    X, y = _frame(2, rows=300)
    model = FocalBoostClassifier(
        backend=INSTALLED[0],
        n_estimators=10,
        early_stopping_metric=brier,
        random_state=np.random.RandomState(0),
    ).fit(X, y)
    with pytest.warns(UserWarning, match="early_stopping_metric, random_state"):
        model.save_model(tmp_path / "m.zip")
    loaded = load_model(tmp_path / "m.zip")
    _same(model, loaded, X)
    assert loaded.early_stopping_metric is None
    assert loaded.random_state is None
    clone(loaded).fit(X, y)  # a loaded model's parameters fit again


def test_an_unfitted_model_is_not_saved(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        FocalBoostClassifier().save_model(tmp_path / "m.zip")
    assert not (tmp_path / "m.zip").exists()


def test_a_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    model, _, path = _fitted(tmp_path)
    before = path.read_bytes()
    backend = focal_boost._estimator.backends.BACKENDS[model.backend]

    def broken(self, trained):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(backend, "save_booster", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        model.save_model(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.zip"]


def test_a_pickle_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.joblib"
    path.write_bytes(pickle.dumps({"format": "focal-boost-model/1", "model": Evil()}))
    with pytest.raises(ValueError, match=r"a pickle or joblib file.*runs whatever code"):
        load_model(path)
    assert not marker.exists()
    joblib = pytest.importorskip("joblib")
    joblib.dump({"x": 1}, tmp_path / "compressed.joblib", compress=3)
    with pytest.raises(ValueError, match="a pickle or joblib file"):
        load_model(tmp_path / "compressed.joblib")


def _rewritten(path, change):
    """``path`` with its metadata passed through ``change``."""
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    metadata = json.loads(entries["focal_boost.json"])
    change(metadata, entries)
    entries["focal_boost.json"] = json.dumps(metadata).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def test_each_kind_of_bad_file_gets_its_own_error(tmp_path):
    _, _, path = _fitted(tmp_path)
    good = path.read_bytes()
    with pytest.raises(ValueError, match="no such model file"):
        load_model(tmp_path / "missing.zip")
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"not a focal-boost model file \(not a ZIP archive\)"):
        load_model(tmp_path / "data.csv")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match=r"a ZIP archive without focal_boost\.json"):
        load_model(tmp_path / "other.zip")
    for cut in (len(good) // 2, len(good) - 30):
        (tmp_path / "cut.zip").write_bytes(good[:cut])
        with pytest.raises(ValueError, match=r"corrupt or truncated|not a ZIP archive"):
            load_model(tmp_path / "cut.zip")

    def newer(metadata, entries):
        metadata["format_version"] = 99
        metadata["written_by"]["focal_boost"] = "9.0"

    _rewritten(path, newer)
    with pytest.raises(ValueError, match=r"format version 99, written by focal_boost 9.0, is newer.*upgrade"):
        load_model(path)
    path.write_bytes(good)

    def broken_booster(metadata, entries):
        entries[metadata["booster"]["file"]] = b"not a booster at all"

    _rewritten(path, broken_booster)
    with pytest.raises(ValueError, match=r"booster .*does not load"):
        load_model(path)
    path.write_bytes(good)

    def foreign(metadata, entries):
        metadata["format"] = "something-else"

    _rewritten(path, foreign)
    with pytest.raises(ValueError, match="is not this package's"):
        load_model(path)


@pytest.mark.parametrize(
    "value",
    [
        None,
        [1, 2.5, "a", True],
        (1, (2, "x")),
        {"a": 1, "$b": 2, 3: [4]},
        {(1, 2): "tuple key"},
        float("nan"),
        -float("inf"),
        np.array([[1, 2], [3, 4]], dtype=np.int32),
        np.array(["x", "yz"]),
        np.array(["x", None, 3], dtype=object),
        np.array(2.5),
        np.float32(1.5),
        np.array([], dtype=np.float64),
    ],
)
def test_values_read_back_as_written(value):
    text = json.dumps(encode(value), allow_nan=False)
    again = decode(json.loads(text))
    if isinstance(value, np.ndarray):
        assert again.dtype == value.dtype
        assert again.shape == value.shape
        assert again.tolist() == value.tolist()
    elif isinstance(value, float) and np.isnan(value):
        assert np.isnan(again)
    else:
        assert again == value
        assert type(again) is type(value if not isinstance(value, np.generic) else value.item())


def test_values_that_cannot_be_saved_say_where():
    with pytest.raises(TypeError, match=r"metric\['f'\]: a value of type function cannot be saved"):
        encode({"f": lambda: 0}, "metric")
    with pytest.raises(TypeError, match="dtype complex128"):
        encode(np.array([1j]), "x")


def test_corrupt_metadata_and_unknown_attributes(tmp_path):
    model, X, path = _fitted(tmp_path)
    good = path.read_bytes()

    def bad_array(metadata, entries):
        metadata["fitted"]["classes_"] = {"$array": [0, 1], "dtype": "<i8"}  # no shape

    _rewritten(path, bad_array)
    with pytest.raises(ValueError, match="a corrupt model file"):
        load_model(path)
    path.write_bytes(good)

    def extra_attribute(metadata, entries):
        metadata["fitted"]["predict_proba"] = "not a method"

    _rewritten(path, extra_attribute)
    loaded = load_model(path)  # only the attributes a model file keeps are set
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
