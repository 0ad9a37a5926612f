"""LightGBM adapters: focal loss as a custom objective and evaluation metric.

* :func:`train` wraps ``lightgbm.train``: it sets the objective, the focal-loss
  metric and the initial score (``init_score`` of the training and validation
  Datasets), and records the loss on the booster so that :func:`predict_margin`
  and :func:`predict_proba` add the initial score back (LightGBM's ``predict``
  does not) and apply the link and the posterior correction.
* :class:`FocalObjective` and :class:`FocalMetric` are what
  ``lightgbm.train(params={"objective": ...}, feval=...)`` takes; they read
  labels and weights from the Dataset and apply the weights exactly once.
* :class:`SklearnFocalObjective` and :class:`SklearnFocalMetric` are for
  ``lightgbm.LGBMClassifier(objective=...)`` and ``fit(eval_metric=...)``. Their
  signature is ``(y_true, y_pred, weight)``: LightGBM's wrapper picks the call
  form by counting arguments, and a two-argument callable silently loses the
  sample weights.

Margins: float64, shape ``(n,)`` for binary and ``(n, K)`` for multiclass
(LightGBM 4). LightGBM's own softmax objective scales its diagonal Hessian by
``K / (K - 1)``; the objective here applies the same factor
(:func:`multiclass_hessian_scale`) so that ``gamma=0, alpha=None`` reproduces
``objective="multiclass"``. All objects are stateless, so LightGBM's deep copy
of ``params`` loses nothing.

Weights: LightGBM counts rows, not weights, when it builds histogram bins and
checks ``min_data_in_leaf``, so even its built-in objectives do not give
integer weights and repeated rows the same model. What the adapters guarantee
is that the weights multiply each row's gradient and Hessian exactly once, as
LightGBM's built-in objectives do (tested against them at ``gamma=0``).
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from focal_boost import _record
from focal_boost._adapter import (
    BoosterMetric,
    BoosterObjective,
    training_loss_and_init,
    wrapper_got_booster_data,
    wrong_data,
)
from focal_boost._extras import require
from focal_boost._files import write_atomically
from focal_boost._openmp import lightgbm_runtime as lightgbm_openmp_runtime
from focal_boost._record import TrainingRecord
from focal_boost.loss import FocalLoss

__all__ = [
    "FocalMetric",
    "FocalObjective",
    "SklearnFocalMetric",
    "SklearnFocalObjective",
    "load_model",
    "multiclass_hessian_scale",
    "predict_margin",
    "predict_proba",
    "save_model",
    "train",
    "training_record",
]


def _lightgbm() -> Any:
    return require("lightgbm", "focal_boost.lightgbm")


def multiclass_hessian_scale(n_classes: int) -> float:
    """LightGBM's multiclass Hessian factor ``K / (K - 1)``."""
    return n_classes / (n_classes - 1.0)


def _constructed(dataset: Any) -> bool:
    return dataset._handle is not None  # LightGBM has no public "constructed" flag


def _weights(dataset: Any) -> np.ndarray | None:
    # Before construction LightGBM keeps weights as given (get_weight() would raise).
    weight = dataset.get_weight() if _constructed(dataset) else dataset.weight
    return None if weight is None or len(weight) == 0 else np.asarray(weight, dtype=np.float64)


class FocalObjective(BoosterObjective):
    """Focal loss as ``lightgbm.train({"objective": FocalObjective(loss), ...}, ...)``.

    ``n_threads``: pass LightGBM's ``num_threads`` so the two thread pools take turns.
    """

    # LightGBM stores float32 gradients and flattens (n, K) ones column by
    # column: handing them over in that form spares it two conversions a round.
    output_dtype = np.float32
    output_order = "F"
    # LightGBM's OpenMP threads spin between its parallel regions: they run the parallel
    # (float64, binary) kernel (focal_boost._openmp).
    openmp_runtime = staticmethod(lightgbm_openmp_runtime)

    multiclass_hessian_scale = staticmethod(multiclass_hessian_scale)

    def __call__(self, preds: np.ndarray, train_data: Any) -> tuple[np.ndarray, np.ndarray]:
        _require_a_dataset(self, train_data)
        return self.gradient_hessian(train_data.get_label(), preds, _weights(train_data))


class SklearnFocalObjective(FocalObjective):
    """Focal loss for ``lightgbm.LGBMClassifier(objective=SklearnFocalObjective(loss))``.

    ``LGBMClassifier`` sets no intercept for a custom objective and its
    ``predict_proba`` returns raw scores: pass ``init_score=`` to ``fit`` and
    convert margins with ``loss.posterior_proba``, or use :func:`train`.
    """

    def __call__(self, y_true, y_pred, weight=None):  # type: ignore[override]
        _refuse_a_dataset(self, y_pred)
        return self.gradient_hessian(y_true, y_pred, _nonempty(weight))


class FocalMetric(BoosterMetric):
    """The (weighted) mean focal loss as ``lightgbm.train(..., feval=FocalMetric(loss))``.

    Returns ``("focal_loss", value, False)``: lower is better. With ``metric``
    (``"log_loss"``, ``"average_precision"``, ``"roc_auc"``, a function or a
    :class:`~focal_boost.metrics.ValidationMetric`), that metric of the
    posterior-corrected probabilities instead, with its name and direction.
    """

    def __call__(self, preds: np.ndarray, eval_data: Any) -> tuple[str, float, bool]:
        _require_a_dataset(self, eval_data)
        value = self.score(eval_data.get_label(), preds, _weights(eval_data))
        return self.name, value, self.greater_is_better


class SklearnFocalMetric(FocalMetric):
    """The focal-loss metric for ``LGBMClassifier.fit(eval_metric=SklearnFocalMetric(loss))``."""

    def __call__(self, y_true, y_pred, weight=None):  # type: ignore[override]
        _refuse_a_dataset(self, y_pred)
        return self.name, self.score(y_true, y_pred, _nonempty(weight)), self.greater_is_better


def _require_a_dataset(callable_: Any, received: Any) -> None:
    if not isinstance(received, _lightgbm().Dataset):
        raise wrong_data(callable_, received, "lightgbm")


def _refuse_a_dataset(callable_: Any, received: Any) -> None:
    if isinstance(received, _lightgbm().Dataset):  # given to lightgbm.train
        raise wrapper_got_booster_data(callable_, "lightgbm")


def _nonempty(weight: Any) -> np.ndarray | None:
    return None if weight is None or len(weight) == 0 else np.asarray(weight, dtype=np.float64)


def train(
    params: Mapping[str, Any],
    train_set: Any,
    num_boost_round: int = 100,
    *,
    loss: FocalLoss | None = None,
    valid_sets: Sequence[Any] = (),
    n_threads: int | None = None,
    early_stopping_metric: Any = None,
    **kwargs: Any,
) -> Any:
    """``lightgbm.train`` with focal loss as objective and metric, and its initial score.

    ``params`` are LightGBM's (``num_class`` for multiclass; an ``objective``
    or ``metric`` in them is replaced). The initial score is
    ``loss.init_score`` on the training labels and weights (``alpha="balanced"``
    is fixed from them too), set as the ``init_score`` of ``train_set`` and of
    every Dataset in ``valid_sets`` (one already set is an error). Other keyword
    arguments go to ``lightgbm.train`` (``valid_names``, ``callbacks`` such as
    ``lightgbm.early_stopping``, ...). The loss and initial score are kept on
    the returned booster (:func:`training_record`; pickling keeps it, and so
    does :func:`save_model`, not LightGBM's own) for :func:`predict_margin` and
    :func:`predict_proba`.

    ``early_stopping_metric``: the metric reported for ``valid_sets`` and
    watched by early stopping: ``"focal_loss"`` (default), ``"log_loss"``,
    ``"average_precision"``, ``"roc_auc"`` of the posterior-corrected
    probabilities, a loss function ``(y_true, y_prob, sample_weight) -> float``
    or a :class:`~focal_boost.metrics.ValidationMetric` (its direction goes to
    LightGBM with each value).
    """
    from focal_boost import _lightgbm_run

    lgb = _lightgbm()
    y, weight = np.asarray(train_set.get_label()), _weights(train_set)

    def with_init_scores(run: Any) -> Any:
        for dataset in _distinct([train_set, *valid_sets]):
            _set_init_score(dataset, run)
        return train_set

    return _lightgbm_run.boost(
        lgb.train,
        with_init_scores,
        params,
        num_boost_round,
        loss=loss,
        loss_and_init=lambda loss, columns: training_loss_and_init(loss, y, weight, columns),
        n_threads=n_threads,
        early_stopping_metric=early_stopping_metric,
        valid_sets=list(valid_sets),
        builtin=True,
        **kwargs,
    )


def _distinct(objects: Sequence[Any]) -> list[Any]:
    """``objects`` without repeats by identity (the training set is often a validation set too)."""
    return list({id(obj): obj for obj in objects}.values())


def _set_init_score(dataset: Any, run: Any) -> None:
    existing = dataset.get_init_score() if _constructed(dataset) else dataset.init_score
    if existing is not None and len(existing):
        raise ValueError("this Dataset already has an init_score; focal_boost.lightgbm.train sets it")
    n = dataset.num_data() if _constructed(dataset) else len(dataset.get_label())
    dataset.set_init_score(run.init_scores(n))


def training_record(booster: Any) -> TrainingRecord:
    """The loss (``alpha="balanced"`` resolved) and the initial score ``booster`` was trained with.

    Kept on the booster by :func:`train`; pickling keeps it, and so do
    :func:`save_model` and :func:`load_model` (LightGBM's own ``save_model``
    writes only the trees).
    """
    return _record.read_lightgbm(booster)


def save_model(booster: Any, filename: str | os.PathLike, **kwargs: Any) -> None:
    """``booster.save_model(filename, **kwargs)`` that keeps the training record, written atomically.

    The file is LightGBM's model text with one more line (``focal_boost:{...}``)
    that LightGBM's own loader ignores: ``lightgbm.Booster(model_file=...)``
    still loads the trees, and :func:`load_model` the trees and the record.
    """
    text = _record.lightgbm_text(booster, **kwargs)
    write_atomically(filename, lambda temporary: pathlib.Path(temporary).write_text(text))


def load_model(filename: str | os.PathLike) -> Any:
    """A booster saved by :func:`save_model`, with its training record."""
    lgb = _lightgbm()
    text = pathlib.Path(filename).read_text()
    booster = lgb.Booster(model_str=text)
    record = _record.record_in_lightgbm_text(text)
    if record is None:
        raise ValueError(
            f"{filename} holds no focal_boost record: it was saved by LightGBM's own save_model, "
            "not by focal_boost.lightgbm.save_model"
        )
    _record.write_lightgbm(booster, record)
    return booster


def predict_margin(booster: Any, data: Any, **kwargs: Any) -> np.ndarray:
    """Raw margins, initial score included (``(n,)`` or ``(n, K)``), of a booster from :func:`train`.

    ``kwargs`` go to ``Booster.predict``. As LightGBM's ``predict`` does, the
    trees used are those up to the best round when training stopped early
    (an explicit ``num_iteration`` wins; ``num_iteration=0`` is every tree).
    """
    init = training_record(booster).init_score
    return np.asarray(booster.predict(data, raw_score=True, **kwargs), dtype=np.float64) + init


def predict_proba(booster: Any, data: Any, *, posterior: bool = True, **kwargs: Any) -> np.ndarray:
    """Class probabilities ``(n, K)`` of a booster from :func:`train`, posterior-corrected by default."""
    loss = training_record(booster).loss
    margin = predict_margin(booster, data, **kwargs)
    return loss.posterior_proba(margin) if posterior else loss.predict_proba(margin)
