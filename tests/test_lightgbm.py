"""Focal loss inside LightGBM: equivalence with the built-in objectives, weights,
early stopping, initial score, probabilities, pickling and errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from focal_boost import FocalLoss

lgb = pytest.importorskip(
    "lightgbm", reason="LightGBM is not installed (pip install 'focal-boost[lightgbm]')"
)
fl = pytest.importorskip("focal_boost.lightgbm")

# SklearnFocalObjective warns that the wrapper's predict_proba is raw; these tests use it knowingly.
pytestmark = pytest.mark.filterwarnings("ignore::focal_boost.RawProbabilityWarning")

PARAMS = {
    "num_leaves": 15,
    "learning_rate": 0.3,
    "num_threads": 2,
    "verbose": -1,
    "seed": 0,
    "deterministic": True,
    "force_row_wise": True,
}


def test_gamma_zero_reproduces_binary(binary_data):
    X, y = binary_data
    builtin = lgb.train({**PARAMS, "objective": "binary"}, lgb.Dataset(X, y), 30)
    booster = fl.train(PARAMS, lgb.Dataset(X, y), 30, loss=FocalLoss(0.0, None))
    np.testing.assert_allclose(
        fl.predict_proba(booster, X, posterior=False)[:, 1], builtin.predict(X), atol=1e-6
    )
    np.testing.assert_allclose(fl.predict_proba(booster, X)[:, 1], builtin.predict(X), atol=1e-6)


def test_gamma_zero_reproduces_multiclass(multiclass_data):
    X, y = multiclass_data
    builtin = lgb.train({**PARAMS, "objective": "multiclass", "num_class": 3}, lgb.Dataset(X, y), 30)
    booster = fl.train({**PARAMS, "num_class": 3}, lgb.Dataset(X, y), 30, loss=FocalLoss(0.0, None))
    np.testing.assert_allclose(fl.predict_proba(booster, X, posterior=False), builtin.predict(X), atol=1e-6)


def test_multiclass_hessian_uses_lightgbm_convention(multiclass_data):
    _, y = multiclass_data
    margin = np.random.default_rng(0).normal(size=(y.shape[0], 3))
    focal = FocalLoss(2.0, None)
    grad, hess = fl.FocalObjective(focal).gradient_hessian(y, margin)
    np.testing.assert_allclose(hess, 1.5 * focal.gradient_hessian(y, margin)[1], rtol=1e-6)
    # In the form LightGBM stores (float32, flattened class by class), so it need not convert them.
    for array in (grad, hess):
        assert array.dtype == np.float32
        assert array.flags.f_contiguous
        assert np.shares_memory(array.ravel(order="F"), array)


def test_weights_are_applied_exactly_once(binary_data, multiclass_data):
    """With weights, gamma=0 reproduces LightGBM's own weighted objectives.

    (LightGBM does not give integer weights and repeated rows the same model even
    for its built-in objectives: it counts rows when it builds bins and checks
    leaf sizes. Weights applied twice, or not at all, would break this test.)
    """
    for (X, y), extra in ((binary_data, {}), (multiclass_data, {"num_class": 3})):
        w = np.random.default_rng(2).integers(1, 4, y.shape[0]).astype(np.float64)
        objective = "multiclass" if extra else "binary"
        builtin = lgb.train({**PARAMS, **extra, "objective": objective}, lgb.Dataset(X, y, weight=w), 20)
        booster = fl.train({**PARAMS, **extra}, lgb.Dataset(X, y, weight=w), 20, loss=FocalLoss(0.0, None))
        proba = fl.predict_proba(booster, X, posterior=False)
        np.testing.assert_allclose(proba if extra else proba[:, 1], builtin.predict(X), atol=1e-6)
        unweighted = fl.train({**PARAMS, **extra}, lgb.Dataset(X, y), 20, loss=FocalLoss(0.0, None))
        assert np.abs(fl.predict_proba(unweighted, X) - fl.predict_proba(booster, X)).max() > 1e-3


def test_early_stopping_on_the_focal_metric(binary_data):
    X, y = binary_data
    train_set = lgb.Dataset(X[:2000], y[:2000])
    valid_set = lgb.Dataset(X[2000:], y[2000:], reference=train_set)
    history: dict = {}
    booster = fl.train(
        {**PARAMS, "num_leaves": 63, "learning_rate": 0.5, "min_data_in_leaf": 2},
        train_set,
        500,
        loss=FocalLoss(2.0, 0.25),
        valid_sets=[valid_set],
        valid_names=["valid"],
        callbacks=[lgb.early_stopping(10, verbose=False), lgb.record_evaluation(history)],
    )
    valid = history["valid"]["focal_loss"]
    assert len(valid) < 500, "overfitting deep trees must stop early"
    assert booster.best_iteration == int(np.argmin(valid)) + 1  # LightGBM counts from 1
    margin = fl.predict_margin(booster, X[2000:], num_iteration=booster.best_iteration)
    assert fl.FocalMetric(FocalLoss(2.0, 0.25)).score(y[2000:], margin) == pytest.approx(min(valid), rel=1e-9)


def test_managed_predictions_use_the_best_round_after_early_stopping(binary_data, tmp_path):
    X, y = binary_data
    train_set = lgb.Dataset(X[:2000], y[:2000])
    valid_set = lgb.Dataset(X[2000:], y[2000:], reference=train_set)
    booster = fl.train(
        {**PARAMS, "num_leaves": 63, "learning_rate": 0.5, "min_data_in_leaf": 2},
        train_set,
        500,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(10, verbose=False)],
        keep_training_booster=True,
        loss=FocalLoss(),  # keeps the trees after the best round (else LightGBM drops them)
    )
    assert booster.current_iteration() == booster.best_iteration + 10
    best = fl.predict_margin(booster, X[2000:], num_iteration=booster.best_iteration)
    np.testing.assert_array_equal(fl.predict_margin(booster, X[2000:]), best)
    every = fl.predict_margin(booster, X[2000:], num_iteration=0)
    assert np.abs(every - best).max() > 1e-2
    loss = fl.training_record(booster).loss
    np.testing.assert_array_equal(fl.predict_proba(booster, X[2000:]), loss.posterior_proba(best))


# LightGBM 4.7 renames fit(eval_set=) to eval_X/eval_y; older 4.x only knows eval_set.
@pytest.mark.filterwarnings("ignore:The argument 'eval_set' is deprecated")
def test_lgbmclassifier_with_sklearn_objective_weights_and_init_score(binary_data):
    X, y = binary_data
    focal = FocalLoss(2.0, 0.25)
    w = np.random.default_rng(3).uniform(0.5, 2.0, y.shape[0])
    init = focal.init_score(y, w)
    model = lgb.LGBMClassifier(
        n_estimators=20,
        num_leaves=15,
        learning_rate=0.3,
        n_jobs=2,
        random_state=0,
        verbose=-1,
        deterministic=True,
        force_row_wise=True,
        objective=fl.SklearnFocalObjective(focal),
    )
    model.fit(
        X,
        y,
        sample_weight=w,
        init_score=np.full(y.shape[0], init),
        eval_set=[(X, y)],
        eval_sample_weight=[w],
        eval_metric=fl.SklearnFocalMetric(focal),
    )
    reference = fl.train({**PARAMS, "min_child_samples": 20}, lgb.Dataset(X, y, weight=w), 20, loss=focal)
    np.testing.assert_allclose(
        model.predict(X, raw_score=True) + init, fl.predict_margin(reference, X), rtol=1e-9, atol=1e-9
    )
    final = model.evals_result_["training"]["focal_loss"][-1]
    expected = fl.FocalMetric(focal).score(y, fl.predict_margin(reference, X), w)
    assert final == pytest.approx(expected, rel=1e-7)  # LightGBM round-trips scores through float32


def test_objects_and_boosters_pickle(binary_data):
    X, y = binary_data
    focal = FocalLoss([1.0, 3.0], 0.3)
    for obj in (
        fl.FocalObjective(focal, n_threads=1),
        fl.FocalMetric(focal),
        fl.SklearnFocalObjective(focal),
    ):
        clone = pickle.loads(pickle.dumps(obj))
        assert clone.loss == focal
        assert repr(clone) == repr(obj)
    booster = fl.train(PARAMS, lgb.Dataset(X, y), 5, loss=focal)
    again = pickle.loads(pickle.dumps(booster))
    np.testing.assert_array_equal(fl.predict_proba(again, X), fl.predict_proba(booster, X))


def test_clear_errors(multiclass_data, binary_data):
    X, y = multiclass_data
    with pytest.raises(ValueError, match=r"set params\['num_class'\]"):
        fl.train(PARAMS, lgb.Dataset(X, y), 5, loss=FocalLoss())
    with pytest.raises(ValueError, match=r"set params\['num_class'\]"):
        lgb.train({**PARAMS, "objective": fl.FocalObjective(FocalLoss())}, lgb.Dataset(X, y), 5)
    with pytest.raises(ValueError, match="already has an init_score"):
        fl.train(
            {**PARAMS, "num_class": 3},
            lgb.Dataset(X, y, init_score=np.zeros((y.shape[0], 3))),
            2,
            loss=FocalLoss(2.0, None),
        )
    Xb, yb = binary_data
    with pytest.raises(ValueError, match="classes \\[1\\]"):
        fl.train(PARAMS, lgb.Dataset(Xb, np.zeros_like(yb)), 5, loss=FocalLoss())
    plain = lgb.train({**PARAMS, "objective": "binary"}, lgb.Dataset(Xb, yb), 2)
    with pytest.raises(ValueError, match="not trained by focal_boost"):
        fl.predict_margin(plain, Xb)


@pytest.mark.filterwarnings("ignore:The argument 'eval_set' is deprecated")
def test_lgbmclassifier_early_stopping_on_the_focal_metric(binary_data):
    X, y = binary_data
    focal = FocalLoss(2.0, 0.25)
    model = lgb.LGBMClassifier(
        n_estimators=500,
        num_leaves=63,
        learning_rate=0.5,
        min_child_samples=2,
        n_jobs=2,
        random_state=0,
        verbose=-1,
        objective=fl.SklearnFocalObjective(focal),
    )
    init = focal.init_score(y[:2000])
    model.fit(
        X[:2000],
        y[:2000],
        init_score=np.full(2000, init),
        eval_set=[(X[2000:], y[2000:])],
        eval_init_score=[np.full(1000, init)],
        eval_metric=fl.SklearnFocalMetric(focal),
        callbacks=[lgb.early_stopping(10, verbose=False)],
    )
    valid = model.evals_result_["valid_0"]["focal_loss"]
    assert len(valid) < 500
    assert model.best_iteration_ == int(np.argmin(valid)) + 1
    margin = model.predict(X[2000:], raw_score=True, num_iteration=model.best_iteration_) + init
    assert fl.FocalMetric(focal).score(y[2000:], margin) == pytest.approx(min(valid), rel=1e-7)


def test_training_set_may_also_be_a_validation_set(binary_data, multiclass_data):
    for (X, y), extra in ((binary_data, {}), (multiclass_data, {"num_class": 3})):
        train_set = lgb.Dataset(X, y)
        history: dict = {}
        focal = FocalLoss(2.0, None)
        booster = fl.train(
            {**PARAMS, **extra},
            train_set,
            10,
            loss=focal,
            valid_sets=[train_set],
            valid_names=["train"],
            callbacks=[lgb.record_evaluation(history)],
        )
        # The training curve is the loss of the margins with the initial score counted once.
        final = fl.FocalMetric(focal).score(y, fl.predict_margin(booster, X))
        assert history["train"]["focal_loss"][-1] == pytest.approx(final, rel=1e-9)


def test_objects_used_the_wrong_way_say_what_to_pass(binary_data):
    X, y = binary_data
    X, y = X[:300], y[:300]
    with pytest.raises(
        TypeError, match=r"pass an instance, FocalObjective\(FocalLoss\(...\)\), not the class"
    ):
        lgb.train({"objective": fl.FocalObjective, "verbose": -1}, lgb.Dataset(X, y), 2)
    with pytest.raises(TypeError, match=r"for LGBMClassifier: focal_boost\.lightgbm\.SklearnFocalObjective"):
        lgb.LGBMClassifier(n_estimators=2, objective=fl.FocalObjective, verbose=-1).fit(X, y)
    with pytest.raises(
        TypeError, match=r"got a ndarray: for LGBMClassifier use focal_boost\.lightgbm\.SklearnFocal"
    ):
        lgb.LGBMClassifier(n_estimators=2, objective=fl.FocalObjective(FocalLoss()), verbose=-1).fit(X, y)
    with pytest.raises(
        TypeError, match=r"got a Dataset: for lightgbm\.train use focal_boost\.lightgbm\.FocalObjective"
    ):
        lgb.train({"objective": fl.SklearnFocalObjective(FocalLoss()), "verbose": -1}, lgb.Dataset(X, y), 2)
    with pytest.raises(TypeError, match=r"FocalMetric is lightgbm\.train's metric .* got a ndarray"):
        fl.FocalMetric(FocalLoss())(np.zeros(300), np.zeros(300))
    with pytest.raises(ValueError, match=r"binary focal loss needs labels 0 and 1, found \[1\.0, 2\.0\]"):
        fl.train({"verbose": -1}, lgb.Dataset(X, y + 1), 2, loss=FocalLoss())


@pytest.mark.parametrize("multiclass", [False, True])
def test_saved_and_loaded_booster_keeps_its_training_record(
    binary_data, multiclass_data, tmp_path, multiclass
):
    """save_model/load_model keep the loss and initial score; LightGBM's own loader still reads the trees."""
    X, y = multiclass_data if multiclass else binary_data
    focal = FocalLoss([1.0, 3.0, 2.0], None) if multiclass else FocalLoss([1.0, 3.0], 0.3)
    params = {**PARAMS, "num_class": 3} if multiclass else PARAMS
    booster = fl.train(params, lgb.Dataset(X, y), 5, loss=focal)
    path = tmp_path / "model.txt"
    fl.save_model(booster, path)
    loaded = fl.load_model(path)
    assert fl.training_record(loaded).loss == focal
    np.testing.assert_array_equal(
        fl.training_record(loaded).init_score, fl.training_record(booster).init_score
    )
    np.testing.assert_array_equal(fl.predict_proba(loaded, X), fl.predict_proba(booster, X))
    plain = lgb.Booster(model_file=str(path))  # LightGBM reads the same file, trees only
    np.testing.assert_array_equal(plain.predict(X, raw_score=True), booster.predict(X, raw_score=True))
    with pytest.raises(ValueError, match=r"no focal_boost record: it was not trained by focal_boost"):
        fl.predict_proba(plain, X)
    booster.save_model(str(tmp_path / "lightgbm_own.txt"))
    with pytest.raises(ValueError, match="saved by LightGBM's own save_model"):
        fl.load_model(tmp_path / "lightgbm_own.txt")


def test_the_record_keeps_pandas_categoricals(tmp_path):
    """LightGBM's Python loader expects its pandas_categorical line last: the record goes before it."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"c": pd.Categorical(rng.choice(["a", "b", "c"], 400)), "x": rng.normal(size=400)})
    y = ((frame["c"] == "a") & (rng.random(400) < 0.9)).astype(float)
    booster = fl.train(PARAMS, lgb.Dataset(frame, y), 5, loss=FocalLoss(2.0, None))
    fl.save_model(booster, tmp_path / "model.txt")
    text = (tmp_path / "model.txt").read_text().splitlines()
    assert text[-1].startswith("pandas_categorical:")
    assert text[-2].startswith("focal_boost:")
    for loaded in (
        fl.load_model(tmp_path / "model.txt"),
        lgb.Booster(model_file=str(tmp_path / "model.txt")),
    ):
        assert loaded.pandas_categorical == booster.pandas_categorical
    np.testing.assert_array_equal(
        fl.predict_proba(fl.load_model(tmp_path / "model.txt"), frame), fl.predict_proba(booster, frame)
    )


def test_public_names_match_focal_boost_xgboost():
    """The two adapters export the same names (LightGBM's model files and XGBoost's device path aside)."""
    fx = pytest.importorskip("focal_boost.xgboost")
    assert set(fl.__all__) - {"load_model", "save_model"} == set(fx.__all__) - {
        "DeviceFallbackWarning",
        "train_on_device",
    }
    assert fx.multiclass_hessian_scale(3) == 2.0
    assert fl.multiclass_hessian_scale(3) == 1.5
