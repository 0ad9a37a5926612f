"""One booster whose margin is the mean of several boosters' margins.

A mean of margins is itself a tree ensemble: every member's trees, each leaf
value scaled by the member's weight, and the mean of the initial scores. The
members of :class:`~focal_boost.FocalBoostClassifier` (one per hold-out, see
:mod:`focal_boost._estimator.members`) are merged so, which gives the fitted estimator
one booster to predict with, save, export and explain, with predictions equal
to the members' mean margin up to float32 rounding of the leaf values (a weight
of one half scales them exactly).

Both functions take boosters trained by this package's ``train`` (which carry
a training record: the loss and the initial score) on the same features with
the same loss, and the number of rounds of each to keep (its best round).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from focal_boost._boosters import record as _record
from focal_boost._boosters.record import TrainingRecord

__all__ = ["average_lightgbm", "average_xgboost", "check_lightgbm_params", "check_xgboost_booster"]


def _mean_record(records: Sequence[TrainingRecord]) -> TrainingRecord:
    """The members' loss (the same for all) and the mean of their initial scores."""
    first = records[0].loss
    for record in records[1:]:
        if record.loss != first:
            raise ValueError("only boosters trained on the same loss can be averaged")
    init = np.mean([np.asarray(record.init_score, dtype=np.float64) for record in records], axis=0)
    return TrainingRecord(first, init)


# ------------------------------------------------------------------------ XGBoost


def _xgboost_base_score(text: str) -> tuple[np.ndarray, bool]:
    """``learner_model_param.base_score``: ``"-2.1E0"`` (XGBoost 2) or ``"[-2.1E0]"`` (XGBoost 3)."""
    bracketed = text.strip().startswith("[")
    values = json.loads(text) if bracketed else [float(text)]
    return np.asarray(values, dtype=np.float64), bracketed


def average_xgboost(boosters: Sequence[Any], rounds: Sequence[int]) -> Any:
    """An ``xgboost.Booster`` predicting the mean margin of ``boosters``' first ``rounds`` rounds each."""
    import xgboost as xgb

    weight = 1.0 / len(boosters)
    records = [_record.read_xgboost(booster) for booster in boosters]
    for booster in boosters:  # before slicing, which only tree boosters support
        check_xgboost_booster(json.loads(booster.save_config())["learner"]["gradient_booster"]["name"])
    documents = [
        json.loads(booster[: int(n)].save_raw("json")) for booster, n in zip(boosters, rounds, strict=True)
    ]
    merged = documents[0]
    learner = merged["learner"]
    trees: list[dict[str, Any]] = []
    tree_info: list[int] = []
    indptr = [0]
    bases = []
    drops: list[float] = []
    for document in documents:
        model = xgboost_trees(document)
        drops += document["learner"]["gradient_booster"].get("weight_drop", [])
        for tree in model["trees"]:
            if int(tree["tree_param"].get("size_leaf_vector", "1")) > 1:
                raise ValueError("vector-leaf (multi-output) trees cannot be averaged here: set n_members=1")
            leaves = [child == -1 for child in tree["left_children"]]
            tree = dict(tree)
            tree["base_weights"] = [value * weight for value in tree["base_weights"]]
            tree["split_conditions"] = [
                value * weight if leaf else value
                for value, leaf in zip(tree["split_conditions"], leaves, strict=True)
            ]
            tree["id"] = len(trees)
            trees.append(tree)
        tree_info += model["tree_info"]
        indptr += [indptr[-1] + offset for offset in model["iteration_indptr"][1:]]
        bases.append(_xgboost_base_score(document["learner"]["learner_model_param"]["base_score"]))
    model = xgboost_trees(merged)
    model["trees"] = trees
    model["tree_info"] = tree_info
    model["iteration_indptr"] = indptr
    model["gbtree_model_param"]["num_trees"] = str(len(trees))
    base = np.mean([values for values, _ in bases], axis=0)
    text = json.dumps([float(v) for v in base]) if bases[0][1] else repr(float(base[0]))
    learner["learner_model_param"]["base_score"] = text
    if "weight_drop" in learner["gradient_booster"]:  # DART: each tree's weight, kept with the tree
        learner["gradient_booster"]["weight_drop"] = drops
    learner["attributes"] = {}  # no best_iteration: every tree is used
    booster = xgb.Booster()
    booster.load_model(bytearray(json.dumps(merged).encode()))
    _record.write_xgboost(booster, _mean_record(records))
    return booster


def check_xgboost_booster(name: Any) -> None:
    """A ValueError unless XGBoost's ``booster`` ``name`` grows trees (gbtree, dart; None: gbtree)."""
    if name not in (None, "gbtree", "dart"):
        raise ValueError(
            "n_members > 1 averages the members' trees into one booster: only tree boosters (gbtree, dart) "
            f"can be averaged, not {name!r}; set n_members=1"
        )


def check_lightgbm_params(params: dict[str, Any]) -> None:
    """A ValueError where LightGBM's ``params`` grow trees whose outputs this module cannot scale."""
    if any(params.get(name) for name in ("linear_tree", "linear_trees")):
        raise ValueError(
            "n_members > 1 averages the members' trees into one booster: linear trees (linear_tree=True) "
            "cannot be averaged here; set n_members=1"
        )


def xgboost_trees(document: dict[str, Any]) -> dict[str, Any]:
    """The tree model of an XGBoost JSON model: gbtree's own, or the one inside DART."""
    booster = document["learner"]["gradient_booster"]
    return booster["gbtree"]["model"] if booster.get("name") == "dart" else booster["model"]


# ----------------------------------------------------------------------- LightGBM

#: Per-tree lines of LightGBM's model text that hold outputs (scaled by a member's weight).
_LIGHTGBM_OUTPUTS = ("leaf_value=", "internal_value=", "shrinkage=")


def _scaled_line(line: str, weight: float) -> str:
    key, _, values = line.partition("=")
    scaled = np.array(values.split(), dtype=np.float64) * weight
    return f"{key}=" + " ".join(map(repr, scaled.tolist()))


def average_lightgbm(boosters: Sequence[Any], rounds: Sequence[int]) -> Any:
    """A ``lightgbm.Booster`` predicting the mean raw score of ``boosters``' first ``rounds`` rounds each."""
    import lightgbm as lgb

    weight = 1.0 / len(boosters)
    records = [_record.read_lightgbm(booster) for booster in boosters]
    blocks: list[str] = []
    head = tail = ""
    for booster, n in zip(boosters, rounds, strict=True):
        text = booster.model_to_string(num_iteration=int(n))
        starts = [match.start() for match in re.finditer(r"^Tree=\d+$", text, re.MULTILINE)]
        end = text.index("end of trees")
        if not head:
            head, tail = text[: starts[0]] if starts else text[:end], text[end:]
        for start, stop in zip(starts, [*starts[1:], end], strict=True):
            lines = text[start:stop].split("\n")
            if any(line == "is_linear=1" for line in lines):
                check_lightgbm_params({"linear_tree": True})
            lines[0] = f"Tree={len(blocks)}"
            lines = [
                _scaled_line(line, weight) if line.startswith(_LIGHTGBM_OUTPUTS) else line for line in lines
            ]
            blocks.append("\n".join(lines))
    sizes = " ".join(str(len(block)) for block in blocks)
    head = re.sub(r"^tree_sizes=.*$", f"tree_sizes={sizes}", head, count=1, flags=re.MULTILINE)
    booster = lgb.Booster(model_str=head + "".join(blocks) + tail)
    _record.write_lightgbm(booster, _mean_record(records))
    return booster
