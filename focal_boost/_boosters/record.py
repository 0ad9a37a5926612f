"""The training record: the loss a booster was trained on and its initial score, kept with the booster.

Every prediction path needs both (the initial score is added to the trees'
margin, the loss gives the link and the posterior correction), so they travel
with the model, in one format for both boosters:

* XGBoost: the booster attribute ``focal_boost`` (``Booster.set_attr``), which
  XGBoost keeps through ``save_model``/``load_model`` and pickling.
* LightGBM: a Python attribute of the booster, which pickling keeps; LightGBM's
  own ``save_model`` writes only its C++ model, so
  :func:`focal_boost.lightgbm.save_model` appends the record as one last line
  (``focal_boost:{...}``) that LightGBM's loader ignores and
  :func:`focal_boost.lightgbm.load_model` reads back.

The text is JSON: ``{"format": 1, "gamma", "alpha", "hessian", "hessian_floor",
"init_score"}``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from focal_boost.loss import FocalLoss

#: The version of the record's JSON layout.
FORMAT = 1


@dataclass(frozen=True)
class TrainingRecord:
    """The loss trained on (``alpha="balanced"`` resolved) and the initial margin.

    ``init_score`` is a 0-d array for binary models and one value per class
    for multiclass ones.
    """

    loss: FocalLoss
    init_score: np.ndarray

    def to_json(self) -> str:
        loss = self.loss
        return json.dumps(
            {
                "format": FORMAT,
                "gamma": _plain(loss.gamma),
                "alpha": _plain(loss.alpha),
                "hessian": loss.hessian,
                "hessian_floor": loss.hessian_floor,
                "init_score": _plain(self.init_score),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> TrainingRecord:
        info = json.loads(text)
        if not isinstance(info, dict) or "format" not in info:
            raise ValueError("not a focal_boost training record (no 'format' key)")
        if info["format"] > FORMAT:
            raise ValueError(
                f"this model's focal_boost record has format {info['format']}, newer than this "
                f"focal_boost reads ({FORMAT}): upgrade focal_boost"
            )
        loss = FocalLoss(
            info["gamma"], info["alpha"], hessian=info["hessian"], hessian_floor=info["hessian_floor"]
        )
        return cls(loss, np.asarray(info["init_score"], dtype=np.float64))


def _plain(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value


# ------------------------------------------------------------------------ XGBoost

#: The booster attribute that holds the record.
XGBOOST_ATTRIBUTE = "focal_boost"


def write_xgboost(booster: Any, record: TrainingRecord) -> None:
    text = record.to_json()
    booster.set_attr(**{XGBOOST_ATTRIBUTE: text})
    _remember(text, record)


def read_xgboost(booster: Any) -> TrainingRecord:
    raw = booster.attr(XGBOOST_ATTRIBUTE)
    if raw is None:
        raise ValueError(
            "this booster was not trained by focal_boost.xgboost.train (no 'focal_boost' attribute)"
        )
    record = _KNOWN.get(raw)
    if record is None:
        record = _remember(raw, TrainingRecord.from_json(raw))
    return record


#: Records by their text, so that predictions (which read the record on every call) and the
#: backends (which read it back after training) parse and validate each one once per process.
_KNOWN: dict[str, TrainingRecord] = {}
_KNOWN_MOST = 256
_KNOWN_LOCK = threading.Lock()


def _remember(text: str, record: TrainingRecord) -> TrainingRecord:
    """Keep ``record`` for ``text``; a record is immutable (its initial score made read-only)."""
    record = TrainingRecord(record.loss, np.array(record.init_score, dtype=np.float64))
    record.init_score.flags.writeable = False
    with _KNOWN_LOCK:  # predictions may read records from several threads
        if len(_KNOWN) >= _KNOWN_MOST:
            _KNOWN.pop(next(iter(_KNOWN)))  # the oldest
        _KNOWN[text] = record
    return record


# ----------------------------------------------------------------------- LightGBM

#: The Python attribute of a LightGBM booster that holds the record.
LIGHTGBM_ATTRIBUTE = "focal_boost_"
#: The line of a saved LightGBM model text that holds the record.
LIGHTGBM_LINE = "focal_boost:"
#: LightGBM's own last line, which its Python loader looks for at the end of the text.
_PANDAS_LINE = "pandas_categorical:"


def write_lightgbm(booster: Any, record: TrainingRecord) -> None:
    setattr(booster, LIGHTGBM_ATTRIBUTE, record)


def read_lightgbm(booster: Any) -> TrainingRecord:
    record = getattr(booster, LIGHTGBM_ATTRIBUTE, None)
    if record is None:
        raise ValueError(
            "this booster has no focal_boost record: it was not trained by focal_boost.lightgbm.train, "
            "or it was saved by LightGBM's own save_model, which keeps only the trees (save and load "
            "with focal_boost.lightgbm.save_model/load_model)"
        )
    return record


def lightgbm_text(booster: Any, **kwargs: Any) -> str:
    """LightGBM's model text with the record as an extra line (:func:`with_last_line`)."""
    text = booster.model_to_string(**kwargs)
    return with_last_line(text, f"{LIGHTGBM_LINE}{read_lightgbm(booster).to_json()}")


def with_last_line(text: str, line: str) -> str:
    """LightGBM's model ``text`` with ``line`` added where both of LightGBM's loaders ignore it.

    The line goes just before LightGBM's ``pandas_categorical`` line, which its
    Python loader expects last; its C++ loader stops reading at the end of the
    parameters, so it ignores both.
    """
    body, _, last = text.rstrip("\n").rpartition("\n")
    if last.startswith(_PANDAS_LINE):
        return f"{body}\n{line}\n{last}\n"
    return f"{text.rstrip(chr(10))}\n{line}\n"


def record_in_lightgbm_text(text: str) -> TrainingRecord | None:
    """The record a :func:`lightgbm_text` holds, or None (a model saved by LightGBM itself)."""
    for line in reversed(text.splitlines()[-3:]):
        if line.startswith(LIGHTGBM_LINE):
            return TrainingRecord.from_json(line[len(LIGHTGBM_LINE) :])
    return None
