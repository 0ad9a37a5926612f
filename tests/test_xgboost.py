"""Focal loss inside XGBoost: equivalence with the built-in objectives, weights,
early stopping, initial score, probabilities, pickling and errors."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
import scipy.special

from focal_boost import FocalLoss

xgb = pytest.importorskip("xgboost", reason="XGBoost is not installed (pip install 'focal-boost[xgboost]')")
fx = pytest.importorskip("focal_boost.xgboost")

# SklearnFocalObjective warns that the wrapper's predict_proba is raw; these tests use it knowingly.
pytestmark = pytest.mark.filterwarnings("ignore::focal_boost.RawProbabilityWarning")

PARAMS = {"max_depth": 3, "eta": 0.3, "tree_method": "hist", "nthread": 2, "seed": 0}


def test_gamma_zero_reproduces_binary_logistic(binary_data):
    X, y = binary_data
    # The same start for both: XGBoost 3 estimates base_score as the prior, XGBoost 2.1 by one Newton step.
    builtin = xgb.train(
        {**PARAMS, "objective": "binary:logistic", "base_score": y.mean()}, xgb.DMatrix(X, label=y), 30
    )
    expected = builtin.predict(xgb.DMatrix(X))
    log_loss = FocalLoss(0.0, None)
    # Through the managed helper...
    booster = fx.train(PARAMS, xgb.DMatrix(X, label=y), 30, loss=log_loss)
    np.testing.assert_allclose(fx.predict_proba(booster, X, posterior=False)[:, 1], expected, atol=1e-6)
    np.testing.assert_allclose(fx.predict_proba(booster, X)[:, 1], expected, atol=1e-6)
    # ... and as a raw objective with the initial score as base_score.
    raw = xgb.train(
        {**PARAMS, "base_score": log_loss.init_score(y)},
        xgb.DMatrix(X, label=y),
        30,
        obj=fx.FocalObjective(log_loss),
    )
    np.testing.assert_allclose(
        scipy.special.expit(raw.predict(xgb.DMatrix(X), output_margin=True)), expected, atol=1e-6
    )


def test_gamma_zero_reproduces_multi_softprob(multiclass_data):
    X, y = multiclass_data
    log_loss = FocalLoss(0.0, None)
    init = log_loss.init_score(y)
    start = np.broadcast_to(init, (y.shape[0], 3))
    dtrain = xgb.DMatrix(X, label=y, base_margin=start)
    builtin = xgb.train({**PARAMS, "objective": "multi:softprob", "num_class": 3}, dtrain, 30)
    expected = builtin.predict(xgb.DMatrix(X, base_margin=start))
    booster = fx.train({**PARAMS, "num_class": 3}, xgb.DMatrix(X, label=y), 30, loss=log_loss)
    np.testing.assert_allclose(fx.predict_proba(booster, X, posterior=False), expected, atol=1e-6)
    # A DMatrix that carries the base margin already is not shifted twice.
    np.testing.assert_allclose(
        fx.predict_proba(booster, xgb.DMatrix(X, base_margin=start), posterior=False), expected, atol=1e-6
    )


def test_multiclass_hessian_uses_xgboost_convention(multiclass_data):
    _, y = multiclass_data
    margin = np.random.default_rng(0).normal(size=(y.shape[0], 3)).astype(np.float32)
    focal = FocalLoss(2.0, None)
    _, hess = fx.FocalObjective(focal).gradient_hessian(y, margin)
    _, true_hess = focal.gradient_hessian(y, margin)
    np.testing.assert_allclose(hess, fx.multiclass_hessian_scale(3) * true_hess, rtol=1e-6)


def test_integer_weights_equal_repeated_rows(binary_data):
    X, y = binary_data
    X, y = X[:600], y[:600]
    w = np.random.default_rng(2).integers(1, 4, y.shape[0]).astype(np.float64)
    params = {**PARAMS, "tree_method": "exact"}
    focal = FocalLoss(2.0, 0.25)
    weighted = fx.train(params, xgb.DMatrix(X, label=y, weight=w), 20, loss=focal)
    repeated = fx.train(
        params,
        xgb.DMatrix(np.repeat(X, w.astype(int), axis=0), label=np.repeat(y, w.astype(int))),
        20,
        loss=focal,
    )
    np.testing.assert_allclose(
        fx.predict_margin(weighted, X), fx.predict_margin(repeated, X), rtol=1e-5, atol=1e-5
    )
    # And weights are applied exactly once: unweighted training differs.
    plain = fx.train(params, xgb.DMatrix(X, label=y), 20, loss=focal)
    assert np.abs(fx.predict_margin(plain, X) - fx.predict_margin(weighted, X)).max() > 1e-2


def test_early_stopping_on_the_focal_metric(binary_data):
    X, y = binary_data
    dtrain, dvalid = xgb.DMatrix(X[:2000], label=y[:2000]), xgb.DMatrix(X[2000:], label=y[2000:])
    history: dict = {}
    booster = fx.train(
        {**PARAMS, "max_depth": 6, "eta": 0.5},
        dtrain,
        500,
        loss=FocalLoss(2.0, 0.25),
        evals=[(dtrain, "train"), (dvalid, "valid")],
        early_stopping_rounds=10,
        evals_result=history,
        verbose_eval=False,
    )
    valid = history["valid"]["focal_loss"]
    assert len(valid) < 500, "overfitting deep trees must stop early"
    assert booster.best_iteration == int(np.argmin(valid))
    assert booster.best_score == pytest.approx(min(valid))
    assert len(valid) == booster.best_iteration + 11
    # The metric is the loss object's own weighted mean on the validation margins.
    best = (0, booster.best_iteration + 1)
    margin = fx.predict_margin(booster, X[2000:], iteration_range=best)
    # Full precision: XGBoost formats a custom metric with six decimals; train() keeps the exact values.
    assert fx.FocalMetric(FocalLoss(2.0, 0.25)).score(y[2000:], margin) == pytest.approx(min(valid), rel=1e-6)
    assert any(value != round(value, 6) for value in valid)


def test_managed_predictions_use_the_best_round_after_early_stopping(binary_data, tmp_path):
    """As XGBClassifier does: predict_margin/predict_proba stop at best_iteration unless told otherwise."""
    X, y = binary_data
    dtrain, dvalid = xgb.DMatrix(X[:2000], label=y[:2000]), xgb.DMatrix(X[2000:], label=y[2000:])
    booster = fx.train(
        {**PARAMS, "max_depth": 6, "eta": 0.5},
        dtrain,
        500,
        evals=[(dvalid, "valid")],
        early_stopping_rounds=10,
        verbose_eval=False,
        loss=FocalLoss(),
    )
    assert booster.num_boosted_rounds() == booster.best_iteration + 11
    best = (0, booster.best_iteration + 1)
    every = fx.predict_margin(booster, X[2000:], iteration_range=(0, 0))
    np.testing.assert_array_equal(
        fx.predict_margin(booster, X[2000:]), fx.predict_margin(booster, X[2000:], iteration_range=best)
    )
    assert np.abs(fx.predict_margin(booster, X[2000:]) - every).max() > 1e-2
    loss = fx.training_record(booster).loss
    best_margin = fx.predict_margin(booster, X[2000:], iteration_range=best)
    np.testing.assert_array_equal(fx.predict_proba(booster, X[2000:]), loss.posterior_proba(best_margin))
    # The best round survives saving and loading.
    path = tmp_path / "model.json"
    booster.save_model(path)
    loaded = xgb.Booster()
    loaded.load_model(path)
    np.testing.assert_array_equal(fx.predict_margin(loaded, X[2000:]), best_margin)
    # Without early stopping every tree is used.
    plain = fx.train(PARAMS, dtrain, 7, loss=FocalLoss())
    np.testing.assert_array_equal(
        fx.predict_margin(plain, X[2000:]), fx.predict_margin(plain, X[2000:], iteration_range=(0, 7))
    )


def test_tiny_focal_losses_are_recorded_exactly(binary_data):
    """gamma=8: losses near 1e-5, which six decimals would round to one or two digits."""
    X, y = binary_data
    dtrain, dvalid = xgb.DMatrix(X[:2000], label=y[:2000]), xgb.DMatrix(X[2000:], label=y[2000:])
    history: dict = {}
    focal = FocalLoss(8.0, 0.25)
    booster = fx.train(
        PARAMS, dtrain, 15, loss=focal, evals=[(dvalid, "valid")], evals_result=history, verbose_eval=False
    )
    valid = history["valid"]["focal_loss"]
    assert max(valid) < 1e-3
    for rounds in (1, 8, 15):
        margin = fx.predict_margin(booster, X[2000:], iteration_range=(0, rounds))
        assert valid[rounds - 1] == pytest.approx(fx.FocalMetric(focal).score(y[2000:], margin), rel=1e-5)


def test_training_loss_decreases_with_focal_loss(binary_data):
    X, y = binary_data
    history: dict = {}
    dtrain = xgb.DMatrix(X, label=y)
    fx.train(
        PARAMS,
        dtrain,
        30,
        loss=FocalLoss(2.0, 0.25),
        evals=[(dtrain, "train")],
        evals_result=history,
        verbose_eval=False,
    )
    curve = history["train"]["focal_loss"]
    assert curve[-1] < 0.5 * curve[0]
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(curve))


def test_xgbclassifier_with_sklearn_objective_and_weights(binary_data):
    X, y = binary_data
    focal = FocalLoss(2.0, 0.25)
    w = np.random.default_rng(3).uniform(0.5, 2.0, y.shape[0])
    prior_margin = focal.init_score(y, w)
    model = xgb.XGBClassifier(
        n_estimators=20,
        max_depth=3,
        learning_rate=0.3,
        n_jobs=2,
        random_state=0,
        objective=fx.SklearnFocalObjective(focal),
        base_score=float(scipy.special.expit(prior_margin)),
    )
    model.fit(X, y, sample_weight=w)
    reference = fx.train(PARAMS, xgb.DMatrix(X, label=y, weight=w), 20, loss=focal)
    np.testing.assert_allclose(
        model.predict(X, output_margin=True), fx.predict_margin(reference, X), rtol=1e-5, atol=1e-5
    )


def test_xgbclassifier_gamma_zero_matches_builtin(binary_data):
    X, y = binary_data
    common = {"n_estimators": 20, "max_depth": 3, "learning_rate": 0.3, "n_jobs": 2, "random_state": 0}
    builtin = xgb.XGBClassifier(**common, base_score=float(y.mean())).fit(X, y)
    custom = xgb.XGBClassifier(
        **common, objective=fx.SklearnFocalObjective(FocalLoss(0.0, None)), base_score=float(y.mean())
    )
    custom.fit(X, y)
    probability = scipy.special.expit(custom.predict(X, output_margin=True))
    np.testing.assert_allclose(probability, builtin.predict_proba(X)[:, 1], atol=1e-6)


def test_objects_pickle(binary_data):
    X, y = binary_data
    focal = FocalLoss([1.0, 3.0], 0.3)
    for obj in (
        fx.FocalObjective(focal, n_threads=1),
        fx.FocalMetric(focal),
        fx.SklearnFocalObjective(focal),
    ):
        clone = pickle.loads(pickle.dumps(obj))
        assert clone.loss == focal
        assert repr(clone) == repr(obj)
    model = xgb.XGBClassifier(n_estimators=5, objective=fx.SklearnFocalObjective(focal), n_jobs=1).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        restored.predict(X, output_margin=True), model.predict(X, output_margin=True)
    )
    booster = fx.train(PARAMS, xgb.DMatrix(X, label=y), 5, loss=focal)
    again = pickle.loads(pickle.dumps(booster))
    np.testing.assert_array_equal(fx.predict_proba(again, X), fx.predict_proba(booster, X))


def test_balanced_alpha_is_fixed_from_the_training_labels(binary_data):
    X, y = binary_data
    booster = fx.train(PARAMS, xgb.DMatrix(X, label=y), 5, loss=FocalLoss(2.0, "balanced"))
    loss = fx.training_record(booster).loss
    assert loss.alpha == pytest.approx(np.mean(y == 0))


def test_clear_errors_before_or_at_the_first_round(multiclass_data, binary_data):
    X, y = multiclass_data
    with pytest.raises(ValueError, match=r"set params\['num_class'\]"):
        fx.train(PARAMS, xgb.DMatrix(X, label=y), 5, loss=FocalLoss())
    with pytest.raises(ValueError, match=r"set params\['num_class'\]"):
        xgb.train(PARAMS, xgb.DMatrix(X, label=y), 5, obj=fx.FocalObjective(FocalLoss()))
    Xb, yb = binary_data
    bad = yb.copy()
    bad[3] = 0.5
    with pytest.raises(ValueError, match="only 0 and 1"):
        xgb.train(PARAMS, xgb.DMatrix(Xb, label=bad), 5, obj=fx.FocalObjective(FocalLoss()))
    with pytest.raises(ValueError, match="classes \\[1\\]"):
        fx.train(PARAMS, xgb.DMatrix(Xb, label=np.zeros_like(yb)), 5, loss=FocalLoss())
    plain = xgb.train(PARAMS, xgb.DMatrix(Xb, label=yb), 2)
    with pytest.raises(ValueError, match="not trained by focal_boost"):
        fx.predict_margin(plain, Xb)
    with_margin = xgb.DMatrix(X, label=y, base_margin=np.zeros((y.shape[0], 3)))
    with pytest.raises(ValueError, match="already has a base_margin"):
        fx.train({**PARAMS, "num_class": 3}, with_margin, 2, loss=FocalLoss(2.0, None))
    with pytest.raises(ValueError, match="a single alpha is for binary problems"):
        fx.train({**PARAMS, "num_class": 3}, xgb.DMatrix(X, label=y), 2, loss=FocalLoss(2.0, 0.25))


def test_saved_and_loaded_booster_keeps_its_loss(binary_data, tmp_path):
    X, y = binary_data
    booster = fx.train(PARAMS, xgb.DMatrix(X, label=y), 5, loss=FocalLoss([1.0, 3.0], 0.3))
    path = tmp_path / "model.json"
    booster.save_model(path)
    loaded = xgb.Booster()
    loaded.load_model(path)
    record = fx.training_record(loaded)
    loss, init = record.loss, record.init_score
    assert loss == FocalLoss([1.0, 3.0], 0.3)
    assert float(init) == pytest.approx(FocalLoss([1.0, 3.0], 0.3).init_score(y))
    np.testing.assert_array_equal(fx.predict_proba(loaded, X), fx.predict_proba(booster, X))


def test_xgbclassifier_early_stopping_on_the_focal_metric(binary_data):
    X, y = binary_data
    focal = FocalLoss(2.0, 0.25)
    model = xgb.XGBClassifier(
        n_estimators=500,
        max_depth=6,
        learning_rate=0.5,
        n_jobs=2,
        random_state=0,
        objective=fx.SklearnFocalObjective(focal),
        base_score=float(scipy.special.expit(focal.init_score(y[:2000]))),
        eval_metric=fx.SklearnFocalMetric(focal),
        early_stopping_rounds=10,
    )
    model.fit(X[:2000], y[:2000], eval_set=[(X[2000:], y[2000:])], verbose=False)
    valid = model.evals_result()["validation_0"]["focal_loss"]
    assert len(valid) < 500
    assert model.best_iteration == int(np.argmin(valid))
    margin = model.predict(X[2000:], output_margin=True, iteration_range=(0, model.best_iteration + 1))
    assert fx.FocalMetric(focal).score(y[2000:], margin) == pytest.approx(min(valid), rel=1e-4)


def test_multiclass_training_set_may_also_be_an_evaluation_set(multiclass_data):
    X, y = multiclass_data
    dtrain = xgb.DMatrix(X, label=y)
    history: dict = {}
    focal = FocalLoss(2.0, None)
    booster = fx.train(
        {**PARAMS, "num_class": 3},
        dtrain,
        10,
        loss=focal,
        evals=[(dtrain, "train")],
        evals_result=history,
        verbose_eval=False,
    )
    final = fx.FocalMetric(focal).score(y, fx.predict_margin(booster, X))
    assert history["train"]["focal_loss"][-1] == pytest.approx(final, rel=1e-5)


def test_xgbclassifier_multiclass_with_sklearn_objective(multiclass_data):
    """Multiclass through XGBClassifier: (n, K) margins, weights, initial score as base_margin."""
    X, y = multiclass_data
    common = {"n_estimators": 20, "max_depth": 3, "learning_rate": 0.3, "n_jobs": 2, "random_state": 0}
    w = np.random.default_rng(4).uniform(0.5, 2.0, y.shape[0])
    focal = FocalLoss(2.0, [0.2, 0.3, 0.5])
    start = np.broadcast_to(focal.init_score(y, w, n_classes=3), (y.shape[0], 3))
    model = xgb.XGBClassifier(**common, objective=fx.SklearnFocalObjective(focal))
    model.fit(X, y, sample_weight=w, base_margin=start)
    assert model.n_classes_ == 3
    reference = fx.train({**PARAMS, "num_class": 3}, xgb.DMatrix(X, label=y, weight=w), 20, loss=focal)
    margin = model.predict(X, output_margin=True, base_margin=start)
    np.testing.assert_allclose(margin, fx.predict_margin(reference, X), rtol=1e-5, atol=1e-5)
    # gamma = 0, alpha = None: the same model as XGBoost's own multi:softprob.
    log_loss = FocalLoss(0.0, None)
    start = np.broadcast_to(log_loss.init_score(y, n_classes=3), (y.shape[0], 3))
    builtin = xgb.XGBClassifier(**common).fit(X, y, base_margin=start)
    custom = xgb.XGBClassifier(**common, objective=fx.SklearnFocalObjective(log_loss))
    custom.fit(X, y, base_margin=start)
    np.testing.assert_allclose(
        log_loss.predict_proba(custom.predict(X, output_margin=True, base_margin=start)),
        builtin.predict_proba(X, base_margin=start),
        atol=1e-6,
    )


def test_remembered_labels_apply_only_to_their_dmatrix(binary_data):
    X, y = binary_data
    focal = FocalLoss(2.0, 0.25)
    w = np.random.default_rng(5).uniform(0.5, 2.0, y.shape[0]).astype(np.float32)  # as XGBoost keeps them
    margin = np.random.default_rng(6).normal(size=y.shape[0]).astype(np.float32)
    dtrain, other = xgb.DMatrix(X, label=y), xgb.DMatrix(X, label=1 - y, weight=w)
    objective = fx.FocalObjective(focal)
    objective.remember(dtrain, y, None)
    # The reference: the same objective's kernel (float32 for float32 margins) on labels given explicitly.
    focal = fx.FocalObjective(focal)
    np.testing.assert_array_equal(objective(margin, dtrain)[0], focal.gradient_hessian(y, margin)[0])
    np.testing.assert_array_equal(objective(margin, other)[0], focal.gradient_hessian(1 - y, margin, w)[0])
    # A pickled copy forgets the DMatrix (a weak reference) and reads labels itself.
    copy = pickle.loads(pickle.dumps(objective))
    np.testing.assert_array_equal(copy(margin, other)[1], focal.gradient_hessian(1 - y, margin, w)[1])


def test_objective_and_metric_on_a_worker_without_rows():
    """On a cluster a worker's partitions may hold no rows: empty gradients, no contribution to the metric."""
    empty = xgb.DMatrix(np.empty((0, 3)), label=np.empty(0))
    grad, hess = fx.FocalObjective(FocalLoss(2.0, 0.25))(np.empty(0, dtype=np.float32), empty)
    assert grad.shape == hess.shape == (0,)
    assert grad.dtype == np.float32
    grad, hess = fx.FocalObjective(FocalLoss(2.0, None))(np.empty((0, 3), dtype=np.float32), empty)
    assert grad.shape == hess.shape == (0, 3)
    assert fx.FocalMetric(FocalLoss(2.0, 0.25)).sums(np.empty(0), np.empty(0)) == (0.0, 0.0)


def test_objects_used_the_wrong_way_say_what_to_pass(binary_data):
    """The class for an instance, the LightGBM objects, the sklearn ones and back: a TypeError at once."""
    X, y = binary_data
    X, y = X[:300], y[:300]
    dtrain = xgb.DMatrix(X, label=y)
    with pytest.raises(
        TypeError, match=r"pass an instance, FocalObjective\(FocalLoss\(...\)\), not the class"
    ):
        xgb.train({}, dtrain, 2, obj=fx.FocalObjective)
    with pytest.raises(TypeError, match="pass an instance, FocalMetric"):
        xgb.train({}, dtrain, 2, evals=[(dtrain, "t")], custom_metric=fx.FocalMetric, verbose_eval=False)
    with pytest.raises(TypeError, match=r"for XGBClassifier: focal_boost\.xgboost\.SklearnFocalObjective"):
        xgb.XGBClassifier(n_estimators=2, objective=fx.FocalObjective).fit(X, y)
    with pytest.raises(TypeError, match=r"use focal_boost\.xgboost\.SklearnFocalObjective\(loss\)"):
        xgb.XGBClassifier(n_estimators=2, objective=fx.FocalObjective(FocalLoss())).fit(X, y)
    with pytest.raises(TypeError, match=r"FocalMetric is xgboost\.train's metric .* got a ndarray"):
        xgb.XGBClassifier(
            n_estimators=2,
            objective=fx.SklearnFocalObjective(FocalLoss()),
            eval_metric=fx.FocalMetric(FocalLoss()),
        ).fit(X, y, eval_set=[(X, y)], verbose=False)
    with pytest.raises(
        TypeError, match=r"got a DMatrix: for xgboost\.train use focal_boost\.xgboost\.FocalObjective"
    ):
        xgb.train({}, dtrain, 2, obj=fx.SklearnFocalObjective(FocalLoss()))
    with pytest.raises(TypeError, match="FocalObjective takes a FocalLoss"):
        fx.FocalObjective(0.25)
    lgb = pytest.importorskip("lightgbm")
    import focal_boost.lightgbm as fl

    with pytest.raises(
        TypeError, match=r"got a DMatrix: for xgboost\.train use focal_boost\.xgboost\.FocalObjective"
    ):
        xgb.train({}, dtrain, 2, obj=fl.FocalObjective(FocalLoss()))
    with pytest.raises(
        TypeError, match=r"got a Dataset: for lightgbm\.train use focal_boost\.lightgbm\.FocalObjective"
    ):
        lgb.train({"objective": fx.FocalObjective(FocalLoss()), "verbose": -1}, lgb.Dataset(X, y), 2)


def test_label_messages_point_to_the_cause(binary_data):
    X, y = binary_data
    with pytest.raises(
        ValueError, match=r"binary focal loss needs labels 0 and 1, found \[1\.0, 2\.0\]: recode"
    ):
        fx.train(PARAMS, xgb.DMatrix(X, label=y + 1), 2, loss=FocalLoss())
    three = y + (X[:, 0] > 0)
    with pytest.raises(ValueError, match=r"labels go up to 2 \(3 distinct\) .* set params\['num_class'\]"):
        fx.train(PARAMS, xgb.DMatrix(X, label=three), 2, loss=FocalLoss())
    with pytest.raises(
        ValueError, match=r"FocalLoss's default is the paper's 0\.25\): for 3 classes pass alpha=None"
    ):
        fx.train({**PARAMS, "num_class": 3}, xgb.DMatrix(X, label=three), 2, loss=FocalLoss())


def test_training_record_format(binary_data):
    """One JSON layout for both boosters; a newer format is refused with a clear message."""
    from focal_boost._boosters.record import TrainingRecord

    X, y = binary_data
    booster = fx.train(PARAMS, xgb.DMatrix(X, label=y), 3, loss=FocalLoss([1.0, 3.0], 0.3))
    record = fx.training_record(booster)
    again = TrainingRecord.from_json(record.to_json())
    assert again.loss == record.loss
    assert again.init_score.ndim == 0  # binary
    np.testing.assert_array_equal(again.init_score, record.init_score)
    newer = record.to_json().replace('"format": 1', '"format": 2')
    with pytest.raises(ValueError, match="format 2, newer than this focal_boost reads"):
        TrainingRecord.from_json(newer)
    with pytest.raises(ValueError, match="not a focal_boost training record"):
        TrainingRecord.from_json(record.to_json().replace('"format": 1, ', ""))
    with pytest.raises(ValueError, match=r"not trained by focal_boost\.xgboost\.train"):
        fx.training_record(xgb.train({}, xgb.DMatrix(X, label=y), 1))


def test_training_record_is_read_once_per_record(binary_data, monkeypatch):
    """Predictions read the record on every call: it is parsed (and its loss validated) once."""
    from focal_boost._boosters.record import TrainingRecord

    X, y = binary_data
    booster = fx.train(PARAMS, xgb.DMatrix(X, label=y), 3, loss=FocalLoss(1.5, 0.4))
    parsed = []
    original = TrainingRecord.from_json.__func__

    def counting(cls, text):
        parsed.append(text)
        return original(cls, text)

    monkeypatch.setattr(TrainingRecord, "from_json", classmethod(counting))
    first = fx.training_record(booster)
    for _ in range(3):
        fx.predict_proba(booster, X[:10])
    assert parsed == []  # written by train(), known since
    assert fx.training_record(booster) is first
    assert not first.init_score.flags.writeable
    loaded = xgb.Booster(model_file=None)
    loaded.load_model(bytearray(booster.save_raw("ubj")))
    assert fx.training_record(loaded) is first  # the same text: the same record
    other = fx.train(PARAMS, xgb.DMatrix(X, label=y), 3, loss=FocalLoss(0.5, 0.4))
    assert fx.training_record(other).loss == FocalLoss(0.5, 0.4)
    assert parsed == []
    booster.set_attr(focal_boost=first.to_json().replace('"gamma": 1.5', '"gamma": 2.5'))
    assert fx.training_record(booster).loss.gamma == 2.5  # a changed attribute is read again
    assert len(parsed) == 1
