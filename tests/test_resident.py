"""focal_boost.xgboost.train_on_device: the loop that keeps margins where the booster works.

On the CPU the loop runs with NumPy and the CPU kernels and must build the
very model that ``focal_boost.xgboost.train`` (XGBoost's standard
custom-objective path) builds on the same QuantileDMatrix. With the CUDA
kernels it runs here under Numba's CUDA simulator (conftest.py switches it on
without a GPU), on a GPU with CuPy arrays (tests marked ``gpu``).
"""

from __future__ import annotations

import importlib.util
import os
import warnings

import numpy as np
import pytest

from focal_boost.loss import FocalLoss
from focal_boost.xgboost import device

xgb = pytest.importorskip("xgboost", reason="XGBoost is not installed (pip install 'focal-boost[xgboost]')")
fx = pytest.importorskip("focal_boost.xgboost")

PARAMS = {"tree_method": "hist", "max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 0}
HAS_NUMBA_CUDA = importlib.util.find_spec("numba_cuda") is not None
SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
HAS_GPU = HAS_NUMBA_CUDA and not SIMULATED and importlib.util.find_spec("cupy") is not None


def _standard(params, X, y, rounds, *, weight=None, loss=None, evals=(), **kwargs):
    """focal_boost.xgboost.train (XGBoost's custom-objective path) on QuantileDMatrix data."""
    dtrain = device.quantile_matrix(xgb, params, X, y, weight)
    matrices = [
        (device.quantile_matrix(xgb, params, Xe, ye, we, ref=dtrain), name) for Xe, ye, we, name in evals
    ]
    loss = FocalLoss() if loss is None else loss
    return fx.train(params, dtrain, rounds, loss=loss, evals=matrices, verbose_eval=False, **kwargs)


def _split(data, n_train):
    X, y = data
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_host_loop_builds_the_standard_path_s_model(task, binary_data, multiclass_data):
    X, y, X_valid, y_valid = _split(binary_data if task == "binary" else multiclass_data, 2000)
    params = dict(PARAMS, num_class=3) if task == "multiclass" else dict(PARAMS)
    loss = FocalLoss(2.0, 0.25) if task == "binary" else FocalLoss([1.0, 2.0, 3.0], [0.2, 0.3, 0.5])
    weight = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    evals = [(X_valid, y_valid, None, "valid")]
    history_standard: dict = {}
    history_resident: dict = {}
    standard = _standard(
        params, X, y, 15, weight=weight, loss=loss, evals=evals, evals_result=history_standard
    )
    resident = fx.train_on_device(
        params, X, y, 15, sample_weight=weight, loss=loss, evals=evals, evals_result=history_resident
    )
    # Same gradients from the same float32 margins: the same trees, bit for bit.
    np.testing.assert_array_equal(fx.predict_margin(resident, X_valid), fx.predict_margin(standard, X_valid))
    np.testing.assert_allclose(
        history_resident["valid"]["focal_loss"], history_standard["valid"]["focal_loss"], rtol=1e-12
    )
    assert (
        fx.training_record(resident).init_score.tolist() == fx.training_record(standard).init_score.tolist()
    )
    # A training matrix built beforehand (dtrain=) is used as it is: the same model.
    prebuilt = device.quantile_matrix(xgb, params, X, y, weight)
    reused = fx.train_on_device(params, X, y, 15, sample_weight=weight, loss=loss, dtrain=prebuilt)
    np.testing.assert_array_equal(fx.predict_margin(reused, X_valid), fx.predict_margin(standard, X_valid))
    # And the model is not trivial: unweighted training gives another one.
    other = fx.train_on_device(params, X, y, 15, loss=loss)
    assert np.abs(fx.predict_margin(other, X_valid) - fx.predict_margin(resident, X_valid)).max() > 1e-3


def test_early_stopping_and_callbacks_behave_as_in_xgboost_train(binary_data):
    X, y, X_valid, y_valid = _split(binary_data, 2000)
    params = {**PARAMS, "max_depth": 6, "eta": 0.5}
    loss = FocalLoss(2.0, 0.25)
    evals = [(X, y, "train"), (X_valid, y_valid, "valid")]
    rounds_seen: list[int] = []

    class Count(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            rounds_seen.append(epoch)
            return False

    history: dict = {}
    resident = fx.train_on_device(
        params,
        X,
        y,
        300,
        loss=loss,
        evals=evals,
        early_stopping_rounds=8,
        evals_result=history,
        callbacks=[Count()],
    )
    valid = history["valid"]["focal_loss"]
    assert len(valid) < 300
    assert resident.best_iteration == int(np.argmin(valid))
    assert len(valid) == resident.best_iteration + 9 == len(rounds_seen)
    standard = _standard(
        params,
        X,
        y,
        300,
        loss=loss,
        evals=[(X, y, None, "train"), (X_valid, y_valid, None, "valid")],
        early_stopping_rounds=8,
    )
    assert standard.best_iteration == resident.best_iteration
    # The training set given as an evaluation set reuses the training margin: its loss is the real one.
    margin = fx.predict_margin(resident, X, iteration_range=(0, 5))
    assert history["train"]["focal_loss"][4] == pytest.approx(fx.FocalMetric(loss).score(y, margin), rel=1e-6)


def test_verbose_eval_prints_the_focal_loss(binary_data, capsys):
    X, y, X_valid, y_valid = _split(binary_data, 2000)
    fx.train_on_device(PARAMS, X, y, 4, evals=[(X_valid, y_valid, "valid")], verbose_eval=2, loss=FocalLoss())
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["[0]", "[2]", "[3]"]
    assert all("valid-focal_loss:" in line for line in lines)


def test_pandas_features_and_labels(binary_data):
    pandas = pytest.importorskip("pandas")
    X, y, X_valid, _ = _split(binary_data, 2000)
    frame = pandas.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    booster = fx.train_on_device(PARAMS, frame, pandas.Series(y), 5, loss=FocalLoss())
    plain = fx.train_on_device(PARAMS, X, y, 5, loss=FocalLoss())
    assert booster.feature_names == list(frame.columns)
    np.testing.assert_allclose(
        fx.predict_margin(booster, pandas.DataFrame(X_valid, columns=frame.columns)),
        fx.predict_margin(plain, X_valid),
        rtol=1e-6,
    )


def test_clear_errors(binary_data):
    X, y, X_valid, y_valid = _split(binary_data, 2000)
    with pytest.raises(ValueError, match="early stopping needs at least one evaluation set"):
        fx.train_on_device(PARAMS, X, y, 5, early_stopping_rounds=3, loss=FocalLoss())
    with pytest.raises(ValueError, match="X has 2000 rows but y has 1999"):
        fx.train_on_device(PARAMS, X, y[:-1], 5, loss=FocalLoss())
    with pytest.raises(ValueError, match=r"\(X, y, name\) or \(X, y, weight, name\)"):
        fx.train_on_device(PARAMS, X, y, 5, evals=[(X_valid, "valid")], loss=FocalLoss())
    bad = y.copy()
    bad[7] = 2.0
    with pytest.raises(ValueError, match="num_class"):
        fx.train_on_device(PARAMS, X, bad, 5, loss=FocalLoss())
    bad_valid = y_valid.copy()
    bad_valid[3] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        fx.train_on_device(PARAMS, X, y, 5, evals=[(X_valid, bad_valid, "valid")], loss=FocalLoss())
    with pytest.raises(ValueError, match="sample_weight must have shape"):
        fx.train_on_device(PARAMS, X, y, 5, sample_weight=np.ones(3), loss=FocalLoss())


@pytest.mark.skipif(HAS_GPU, reason="checks the fallback on a machine without a usable GPU")
def test_without_a_gpu_cuda_falls_back_to_the_standard_path_with_one_warning(binary_data, monkeypatch):
    X, y, X_valid, y_valid = _split(binary_data, 2000)
    monkeypatch.setattr(fx.device, "_FALLBACKS_WARNED", set())
    params = {**PARAMS, "device": "cuda"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = fx.train_on_device(params, X, y, 5, evals=[(X_valid, y_valid, "valid")], loss=FocalLoss())
        fx.train_on_device(params, X, y, 5, loss=FocalLoss())
    ours = [w for w in caught if issubclass(w.category, fx.DeviceFallbackWarning)]
    assert len(ours) == 1, "one warning per reason and process"
    message = str(ours[0].message)
    assert "standard custom-objective path" in message
    assert any(reason in message for reason in ("CuPy is not installed", "numba-cuda", "no usable CUDA GPU"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # XGBoost's own "no GPU found" warning
        standard = _standard(params, X, y, 5)
    np.testing.assert_array_equal(fx.predict_margin(first, X_valid), fx.predict_margin(standard, X_valid))


def test_unsupported_boosters_and_features_are_named_in_the_fallback():
    scipy_sparse = pytest.importorskip("scipy.sparse")
    from focal_boost.xgboost.resident import device_feature_kind

    assert device_feature_kind(np.zeros((2, 2))) == "array"
    assert device_feature_kind(scipy_sparse.csr_matrix(np.eye(2))) is None
    pandas = pytest.importorskip("pandas")
    assert device_feature_kind(pandas.DataFrame({"a": [1.0, 2.0]})) == "frame"
    assert device_feature_kind(pandas.DataFrame({"a": pandas.Categorical(["x", "y"])})) is None
    if HAS_GPU:
        pytest.skip("the reasons below depend on the machine having no GPU")
    reason = device.gpu_path_unavailable({"device": "cuda"}, np.zeros((2, 2)), [])
    assert reason is not None


@pytest.mark.skipif(
    not (HAS_NUMBA_CUDA and SIMULATED), reason="runs the CUDA kernels under Numba's simulator"
)
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_loop_with_the_cuda_kernels_builds_the_same_model(task, binary_data, multiclass_data, monkeypatch):
    X, y, X_valid, y_valid = _split(binary_data if task == "binary" else multiclass_data, 240)
    X_valid, y_valid = X_valid[:80], y_valid[:80]
    params = dict(PARAMS, num_class=3) if task == "multiclass" else dict(PARAMS)
    loss = FocalLoss(2.0, 0.25) if task == "binary" else FocalLoss([0.5, 2.0, 3.0], None, hessian="clip")
    weight = np.random.default_rng(1).uniform(0.2, 3.0, len(y))
    evals = [(X_valid, y_valid, None, "valid")]
    run = {
        "sample_weight": weight,
        "loss": loss,
        "evals": evals,
        "early_stopping_rounds": None,
        "early_stopping_metric": None,
        "verbose_eval": False,
        "callbacks": None,
        "n_threads": None,
        "missing": np.nan,
        "dtrain": None,
    }
    history_cuda: dict = {}
    history_host: dict = {}
    cuda = device.train_resident(
        xgb, params, X, y, device.DeviceRun(num_boost_round=6, evals_result=history_cuda, **run), "cuda"
    )
    # The CUDA kernels compute in float64: compare with the host's float64 kernel, not its float32 variant.
    monkeypatch.setattr(fx.FocalObjective, "float32_kernel", False)
    host = device.train_resident(
        xgb, params, X, y, device.DeviceRun(num_boost_round=6, evals_result=history_host, **run), "host"
    )
    np.testing.assert_allclose(fx.predict_margin(cuda, X_valid), fx.predict_margin(host, X_valid), rtol=1e-6)
    # The CPU metric stores per-row losses in the margins' float32; the CUDA one sums float64 values.
    np.testing.assert_allclose(
        history_cuda["valid"]["focal_loss"], history_host["valid"]["focal_loss"], rtol=1e-6
    )


@pytest.mark.skipif(
    not (HAS_NUMBA_CUDA and SIMULATED), reason="runs the CUDA kernels under Numba's simulator"
)
def test_loop_with_the_cuda_kernels_reports_a_probability_metric(binary_data):
    from sklearn.metrics import average_precision_score

    X, y, X_valid, y_valid = _split(binary_data, 240)
    history: dict = {}
    run = {
        "sample_weight": None,
        "loss": FocalLoss(2.0, None),
        "evals": [(X_valid, y_valid, None, "valid")],
        "early_stopping_rounds": 3,
        "early_stopping_metric": "average_precision",
        "verbose_eval": False,
        "callbacks": None,
        "n_threads": None,
        "missing": np.nan,
        "dtrain": None,
    }
    booster = device.train_resident(
        xgb, dict(PARAMS), X, y, device.DeviceRun(num_boost_round=8, evals_result=history, **run), "cuda"
    )
    curve = history["valid"]["average_precision"]
    assert booster.best_iteration == int(np.argmax(curve))
    prob = fx.predict_proba(booster, X_valid, iteration_range=(0, len(curve)))[:, 1]
    assert curve[-1] == pytest.approx(average_precision_score(y_valid, prob), rel=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(
    not HAS_GPU, reason="needs an NVIDIA GPU with CuPy and numba-cuda (pip install 'focal-boost[gpu]')"
)
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_device_resident_path_on_the_gpu_builds_the_standard_path_s_model(task, binary_data, multiclass_data):
    import cupy

    X, y, X_valid, y_valid = _split(binary_data if task == "binary" else multiclass_data, 2000)
    params = dict(PARAMS, device="cuda", num_class=3) if task == "multiclass" else dict(PARAMS, device="cuda")
    loss = FocalLoss(2.0, 0.25) if task == "binary" else FocalLoss([1.0, 2.0, 3.0], [0.2, 0.3, 0.5])
    weight = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    history_device: dict = {}
    history_standard: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", fx.DeviceFallbackWarning)
        device = fx.train_on_device(
            params,
            cupy.asarray(X),
            cupy.asarray(y),
            20,
            sample_weight=cupy.asarray(weight),
            loss=loss,
            evals=[(cupy.asarray(X_valid), cupy.asarray(y_valid), "valid")],
            evals_result=history_device,
        )
    standard = _standard(
        params,
        X,
        y,
        20,
        weight=weight,
        loss=loss,
        evals=[(X_valid, y_valid, None, "valid")],
        evals_result=history_standard,
    )
    np.testing.assert_allclose(
        fx.predict_margin(device, X_valid), fx.predict_margin(standard, X_valid), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        history_device["valid"]["focal_loss"], history_standard["valid"]["focal_loss"], rtol=1e-5
    )


def test_evaluation_sets_take_the_estimator_s_form_too(binary_data):
    from focal_boost._boosters.evaluation import evaluation_sets

    X, y, X_valid, y_valid = _split(binary_data, 2000)
    w = np.ones(len(y_valid))
    assert [item[3] for item in evaluation_sets([(X, y), (X, y, w), (X, y, "mine"), (X, y, w, "w")])] == [
        "valid_0",
        "valid_1",
        "mine",
        "w",
    ]
    assert evaluation_sets([(X_valid, y_valid, w)])[0][2] is w
    history: dict = {}
    fx.train_on_device(PARAMS, X, y, 3, evals=[(X_valid, y_valid)], evals_result=history, loss=FocalLoss())
    assert list(history) == ["valid_0"]
    assert len(history["valid_0"]["focal_loss"]) == 3
