"""Plain boosters: a focal model as a booster that XGBoost or LightGBM alone predicts with.

A focal model's margin is its trees' sum plus the initial score, which the
boosters keep nowhere they read by themselves (it lives in the training
record), and their saved objective is a custom one. The plain booster has:

* only the rounds the model predicts with (the best ones);
* the initial score added to every leaf of the first round's tree of each
  class, so that the boosters' raw margin (``output_margin=True``,
  ``raw_score=True``) is the model's margin with no base score or base
  margin to add;
* the booster's own logistic or softmax objective, so that its plain
  ``predict`` is the sigmoid or softmax of that margin: the raw probability.
  The focal posterior correction is not a transform either booster knows
  (docs/deploy.md gives it as a formula);
* no training record: focal_boost's prediction helpers would add the
  initial score a second time, and refuse the booster instead.

The leaves hold the sum in the booster's own precision: float32 for XGBoost
(a rounding of about 1e-7 of the margin), float64 for LightGBM.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from focal_boost._boosters import record as _record
from focal_boost._boosters.averaging import xgboost_trees

__all__ = ["plain_lightgbm_text", "plain_xgboost"]

#: The booster attribute (XGBoost) and model-text line (LightGBM) that describe an exported model.
EXPORT_NOTE = "focal_boost_export"


def _note(record: _record.TrainingRecord) -> str:
    """What a plain booster carries about its origin: the loss, for the posterior correction."""
    loss = record.loss
    return json.dumps(
        {
            "gamma": _record._plain(loss.gamma),
            "alpha": _record._plain(loss.alpha),
            "init_score_in_first_trees": _record._plain(record.init_score),
        }
    )


def _class_scores(record: _record.TrainingRecord) -> np.ndarray:
    return np.atleast_1d(np.asarray(record.init_score, dtype=np.float64))


# ------------------------------------------------------------------------ XGBoost


def plain_xgboost(booster: Any, n_rounds: int) -> Any:
    """An ``xgboost.Booster``: ``booster``'s first ``n_rounds`` rounds, the initial score in their leaves."""
    import xgboost as xgb

    record = _record.read_xgboost(booster)
    scores = _class_scores(record)
    document = json.loads(booster[: int(n_rounds)].save_raw("json"))
    learner = document["learner"]
    trees = xgboost_trees(document)
    first_round = range(trees["iteration_indptr"][0], trees["iteration_indptr"][1])
    drops = document["learner"]["gradient_booster"].get("weight_drop")  # DART scales each tree's leaves
    for index in first_round:
        tree = trees["trees"][index]
        shift = float(scores[trees["tree_info"][index]]) / (float(drops[index]) if drops else 1.0)
        for node, child in enumerate(tree["left_children"]):
            if child == -1:  # a leaf: its value is in both lists
                tree["split_conditions"][node] += shift
                tree["base_weights"][node] += shift
    n_classes = scores.size
    if n_classes == 1:
        learner["objective"] = {"name": "binary:logistic", "reg_loss_param": {"scale_pos_weight": "1"}}
    else:
        learner["objective"] = {
            "name": "multi:softprob",
            "softmax_multiclass_param": {"num_class": str(n_classes)},
        }
    base = learner["learner_model_param"]["base_score"]
    zero = (
        "0.5" if n_classes == 1 else "0"
    )  # the base score whose margin is 0: logit(0.5), softmax's identity
    learner["learner_model_param"]["base_score"] = f"[{zero}]" if base.strip().startswith("[") else zero
    learner["attributes"] = {EXPORT_NOTE: _note(record)}
    plain = xgb.Booster()
    plain.load_model(bytearray(json.dumps(document).encode()))
    return plain


# ----------------------------------------------------------------------- LightGBM


def plain_lightgbm_text(booster: Any, n_rounds: int) -> str:
    """LightGBM's model text of ``booster``'s first ``n_rounds`` rounds, the initial score in its leaves."""
    record = _record.read_lightgbm(booster)
    scores = _class_scores(record)
    text = booster.model_to_string(num_iteration=int(n_rounds))
    starts = [match.start() for match in re.finditer(r"^Tree=\d+$", text, re.MULTILINE)]
    end = text.index("end of trees")
    head, tail = text[: starts[0]] if starts else text[:end], text[end:]
    blocks = []
    for index, (start, stop) in enumerate(zip(starts, [*starts[1:], end], strict=True)):
        lines = text[start:stop].split("\n")
        if index < scores.size:  # the first round: one tree per class, in class order
            lines = [
                _shifted(line, scores[index]) if line.startswith("leaf_value=") else line for line in lines
            ]
        blocks.append("\n".join(lines))
    sizes = " ".join(str(len(block)) for block in blocks)
    head = re.sub(r"^tree_sizes=.*$", f"tree_sizes={sizes}", head, count=1, flags=re.MULTILINE)
    objective = "binary sigmoid:1" if scores.size == 1 else f"multiclass num_class:{scores.size}"
    if re.search(r"^objective=", head, flags=re.MULTILINE):
        head = re.sub(r"^objective=.*$", f"objective={objective}", head, count=1, flags=re.MULTILINE)
    else:  # a custom objective writes no objective line: LightGBM's own goes after max_feature_idx
        head = re.sub(
            r"^(max_feature_idx=.*)$", rf"\1\nobjective={objective}", head, count=1, flags=re.MULTILINE
        )
    tail = tail.replace("[objective: custom]", f"[objective: {objective.split()[0]}]", 1)
    return _record.with_last_line(head + "".join(blocks) + tail, f"{EXPORT_NOTE}:{_note(record)}")


def _shifted(line: str, shift: float) -> str:
    key, _, values = line.partition("=")
    shifted = np.array(values.split(), dtype=np.float64) + shift
    return f"{key}=" + " ".join(map(repr, shifted.tolist()))
