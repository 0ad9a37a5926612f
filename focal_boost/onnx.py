"""ONNX: a fitted FocalBoostClassifier as one ONNX graph, trees, initial score and focal probabilities.

:func:`to_onnx` returns an ``onnx.ModelProto`` with one input, ``X`` (float32,
``(n, n_features)``), and two outputs, ``label`` (the predicted class labels)
and ``probabilities`` (``(n, K)``, float64), that ONNX Runtime, or any runtime
with the ``ai.onnx.ml`` tree operators, evaluates without focal_boost:

* the trees of the best rounds, built directly as one ``TreeEnsembleRegressor``
  whose targets are the classes' margins (one target for a binary model) and
  whose base values are the initial score. ONNX's tree post-transforms are a
  fixed list (none, logistic, softmax, probit) that has no focal posterior, so
  the ensemble outputs the raw margin;
* the link and the posterior correction as ONNX arithmetic in float64
  (``docs/math.md``): the sigmoid or softmax of the margin with
  ``probability="raw"``, else ``eta_k ∝ h_gamma_k(p_k) / alpha_k`` computed
  in the same stable form as :func:`focal_boost.loss.FocalLoss.posterior_proba`.

The trees compare float32 features as the boosters do: XGBoost's thresholds
are float32 already (``x < t``); LightGBM's double thresholds ``t`` become the
largest float32 ``t32 <= t``, for which ``x <= t32`` exactly when ``x <= t``
for every float32 ``x``. Missing values (NaN) take each split's default
direction (XGBoost, and LightGBM's ``missing_type=NaN``), or LightGBM's
direction for zero (``missing_type=None``). Categorical splits are not
expressed: a model fitted on category or text columns is refused, with the
workaround.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

__all__ = ["to_onnx"]

#: The ``ai.onnx.ml`` opset of the tree operator, and the default-domain opset.
ML_OPSET = 3
OPSET = 17


def to_onnx(model: Any) -> Any:
    """The ONNX graph of fitted ``model`` (a :class:`~focal_boost.FocalBoostClassifier`).

    Needs the ``onnx`` package. Raises a ``ValueError`` for what ONNX's tree
    operator cannot express: categorical splits (a model fitted on a frame
    with category or text columns; encode them first, e.g. with
    ``OrdinalEncoder`` in a pipeline, and fit on numbers) and LightGBM's
    ``zero_as_missing``.
    """
    import onnx
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, "booster_")
    levels = getattr(model, "_category_levels", None)
    if levels is not None:
        raise ValueError(
            f"ONNX's tree operator has no categorical splits, and this model was fitted with category or "
            f"text columns ({', '.join(map(repr, list(levels.levels)[:5]))}): encode them as numbers first "
            "(e.g. OrdinalEncoder or OneHotEncoder in a pipeline) and fit on those"
        )
    n_classes = len(model.classes_)
    n_targets = 1 if n_classes == 2 else n_classes
    trees = _xgboost_trees(model) if model.backend == "xgboost" else _lightgbm_trees(model, n_targets)
    init = np.atleast_1d(np.asarray(model.init_score_, dtype=np.float64))
    h = onnx.helper
    nodes = [
        h.make_node(
            "TreeEnsembleRegressor",
            ["X"],
            ["margin32"],
            domain="ai.onnx.ml",
            n_targets=n_targets,
            aggregate_function="SUM",
            post_transform="NONE",
            base_values=init.astype(np.float32).tolist(),
            **trees,
        ),
        h.make_node("Cast", ["margin32"], ["margin"], to=onnx.TensorProto.DOUBLE),
    ]
    constants: dict[str, np.ndarray] = {}
    graph = _Graph(nodes, constants)
    if model.probability == "raw":
        probabilities = graph.raw(n_classes)
    elif n_classes == 2:
        probabilities = graph.binary_posterior(model.loss_)
    else:
        probabilities = graph.multiclass_posterior(model.loss_, n_classes)
    nodes.append(h.make_node("Identity", [probabilities], ["probabilities"]))
    nodes.append(h.make_node("ArgMax", ["probabilities"], ["label_index"], axis=1, keepdims=0))
    nodes.append(h.make_node("Gather", ["classes", "label_index"], ["label"], axis=0))
    classes = np.asarray(model.classes_)
    label_type = _label_type(classes)
    initializers = [onnx.numpy_helper.from_array(value, name) for name, value in constants.items()]
    initializers.append(_classes_tensor(classes, label_type))
    n_features = int(model.n_features_in_)
    graph_proto = h.make_graph(
        nodes,
        "focal_boost",
        [h.make_tensor_value_info("X", onnx.TensorProto.FLOAT, [None, n_features])],
        [
            h.make_tensor_value_info("label", label_type, [None]),
            h.make_tensor_value_info("probabilities", onnx.TensorProto.DOUBLE, [None, n_classes]),
        ],
        initializers,
    )
    proto = h.make_model(
        graph_proto,
        opset_imports=[h.make_opsetid("", OPSET), h.make_opsetid("ai.onnx.ml", ML_OPSET)],
        producer_name="focal_boost",
    )
    proto.ir_version = 8  # read by ONNX Runtime 1.14 and later
    about = {"classes": classes.tolist(), "probability": model.probability}
    proto.doc_string = json.dumps(about, default=str)
    onnx.checker.check_model(proto)
    return proto


# ------------------------------------------------------------------------ trees


class _Trees:
    """The node and target lists of a TreeEnsembleRegressor, filled one node at a time."""

    def __init__(self) -> None:
        self.nodes: dict[str, list] = {
            key: []
            for key in (
                "nodes_treeids",
                "nodes_nodeids",
                "nodes_featureids",
                "nodes_values",
                "nodes_modes",
                "nodes_truenodeids",
                "nodes_falsenodeids",
                "nodes_missing_value_tracks_true",
                "nodes_hitrates",
            )
        }
        self.targets: dict[str, list] = {
            key: [] for key in ("target_treeids", "target_nodeids", "target_ids", "target_weights")
        }

    def split(self, tree: int, node: int, feature: int, value: float, *links: Any) -> None:
        """A node: ``mode`` ("BRANCH_LT", "BRANCH_LEQ", "LEAF"), true and false ids, whether NaN goes true."""
        mode, true, false, missing = links
        for key, item in zip(
            self.nodes,
            (tree, node, feature, value, mode, true, false, int(missing), 1.0),
            strict=True,
        ):
            self.nodes[key].append(item)

    def leaf(self, tree: int, node: int, target: int, value: float) -> None:
        self.split(tree, node, 0, 0.0, "LEAF", 0, 0, False)
        for key, item in zip(self.targets, (tree, node, target, value), strict=True):
            self.targets[key].append(item)

    def attributes(self) -> dict[str, list]:
        return {**self.nodes, **self.targets}


def _xgboost_trees(model: Any) -> dict[str, list]:
    from focal_boost._boosters.averaging import xgboost_trees

    document = json.loads(model.booster_[: int(model.best_iteration_)].save_raw("json"))
    gbtree = document["learner"]["gradient_booster"]
    if gbtree.get("name") == "dart":
        raise ValueError("DART boosters weigh each tree at prediction: not expressed in ONNX here")
    trees = xgboost_trees(document)
    out = _Trees()
    for index, tree in enumerate(trees["trees"]):
        target = int(trees["tree_info"][index])
        if any(int(kind) != 0 for kind in tree.get("split_type", [])):
            raise ValueError("the model has categorical splits, which ONNX's tree operator cannot express")
        for node, left in enumerate(tree["left_children"]):
            if left == -1:
                out.leaf(index, node, target, float(tree["split_conditions"][node]))
            else:
                out.split(
                    index,
                    node,
                    int(tree["split_indices"][node]),
                    float(np.float32(tree["split_conditions"][node])),
                    "BRANCH_LT",
                    int(left),
                    int(tree["right_children"][node]),
                    bool(tree["default_left"][node]),
                )
    return out.attributes()


def _lightgbm_trees(model: Any, n_targets: int) -> dict[str, list]:
    dump = model.booster_.dump_model(num_iteration=int(model.best_iteration_))
    out = _Trees()
    for tree in dump["tree_info"]:
        index = int(tree["tree_index"])
        _lightgbm_node(out, index, index % n_targets, tree["tree_structure"], [0])
    return out.attributes()


def _lightgbm_node(out: _Trees, tree: int, target: int, node: dict, counter: list[int]) -> int:
    """Add ``node`` and its subtree; its id. Ids are given in pre-order from ``counter``."""
    me = counter[0]
    counter[0] += 1
    if "leaf_value" in node:
        out.leaf(tree, me, target, float(node["leaf_value"]))
        return me
    if node["decision_type"] != "<=":
        raise ValueError("the model has categorical splits, which ONNX's tree operator cannot express")
    if node["missing_type"] == "Zero":
        raise ValueError("LightGBM's zero_as_missing splits cannot be expressed in ONNX: fit without it")
    threshold = float(node["threshold"])
    with np.errstate(over="ignore"):  # a threshold beyond float32's range: inf, then the largest float32
        below = np.float32(threshold)
    if float(below) > threshold:  # the largest float32 not above the threshold
        below = np.nextafter(below, np.float32(-np.inf))
    # NaN: the default direction (missing_type NaN), else LightGBM reads it as 0.
    missing = bool(node["default_left"]) if node["missing_type"] == "NaN" else threshold >= 0.0
    position = len(out.nodes["nodes_nodeids"])
    out.split(tree, me, int(node["split_feature"]), float(below), "BRANCH_LEQ", -1, -1, missing)
    left = _lightgbm_node(out, tree, target, node["left_child"], counter)
    right = _lightgbm_node(out, tree, target, node["right_child"], counter)
    out.nodes["nodes_truenodeids"][position] = left
    out.nodes["nodes_falsenodeids"][position] = right
    return me


# ---------------------------------------------------------------- probabilities


class _Graph:
    """ONNX arithmetic nodes in float64, with constants, each output a fresh name."""

    def __init__(self, nodes: list, constants: dict[str, np.ndarray]) -> None:
        self.nodes, self.constants = nodes, constants

    def _name(self, stem: str) -> str:
        return f"{stem}_{len(self.nodes)}"

    def op(self, kind: str, *inputs: str, **attributes: Any) -> str:
        import onnx

        out = self._name(kind.lower())
        self.nodes.append(onnx.helper.make_node(kind, list(inputs), [out], **attributes))
        return out

    def const(self, value: Any, dtype: Any = np.float64) -> str:
        name = f"c_{len(self.constants)}"
        self.constants[name] = np.asarray(value, dtype=dtype)
        return name

    def log1p_ratio(self, t: str, log1p_t: str) -> str:
        """``log1p(t) (1 + t) / t``, which tends to 1 as ``t -> 0`` (the series where ``t`` is tiny)."""
        one_plus = self.op("Add", t, self.const(1.0))
        exact = self.op("Div", self.op("Mul", log1p_t, one_plus), self.op("Max", t, self.const(1e-300)))
        series = self.op("Add", self.const(1.0), self.op("Mul", t, self.const(0.5)))
        return self.op("Where", self.op("Greater", t, self.const(1e-6)), exact, series)

    def log_h(self, s: str, gamma: str) -> str:
        """``log h_gamma(p)`` at ``p = sigmoid(s)``, as ``_kernels.scalar.log_posterior_weight``."""
        a = self.op("Abs", s)
        t = self.op("Exp", self.op("Neg", a))
        one_plus = self.op("Add", t, self.const(1.0))
        log1p_t = self.op("Log", one_plus)
        positive = self.op("GreaterOrEqual", s, self.const(0.0))
        p = self.op("Where", positive, self.op("Reciprocal", one_plus), self.op("Div", t, one_plus))
        a_plus = self.op("Add", a, log1p_t)
        ell = self.op("Where", positive, log1p_t, a_plus)
        log_q = self.op("Where", positive, self.op("Neg", a_plus), self.op("Neg", log1p_t))
        ratio = self.op("Where", positive, self.log1p_ratio(t, log1p_t), self.op("Mul", ell, one_plus))
        x = self.op("Mul", self.op("Mul", gamma, p), ratio)
        tail = self.op("Log", self.op("Add", x, self.const(1.0)))  # x >= 0: log(1 + x) loses only ~1e-16
        return self.op("Neg", self.op("Add", self.op("Add", ell, self.op("Mul", gamma, log_q)), tail))

    def raw(self, n_classes: int) -> str:
        if n_classes == 2:
            return self._two_columns(self.op("Sigmoid", "margin"))
        return self.op("Softmax", "margin", axis=1)

    def _two_columns(self, positive: str) -> str:
        negative = self.op("Sub", self.const(1.0), positive)
        return self.op("Concat", negative, positive, axis=1)

    def binary_posterior(self, loss: Any) -> str:
        gamma = np.broadcast_to(np.asarray(loss.gamma, dtype=np.float64), (2,))
        alpha = _per_class_alpha(loss.alpha, 2)
        z = "margin"
        positive = self.op("Sub", self.log_h(z, self.const(gamma[1])), self.const(np.log(alpha[1])))
        flipped = self.op("Neg", z)
        negative = self.op("Sub", self.log_h(flipped, self.const(gamma[0])), self.const(np.log(alpha[0])))
        return self._two_columns(self.op("Sigmoid", self.op("Sub", positive, negative)))

    def multiclass_posterior(self, loss: Any, n_classes: int) -> str:
        gamma = np.broadcast_to(np.asarray(loss.gamma, dtype=np.float64), (n_classes,))
        alpha = _per_class_alpha(loss.alpha, n_classes)
        columns = []
        for k in range(n_classes):
            own = self.op("Gather", "margin", self.const([k], np.int64), axis=1)
            others = [j for j in range(n_classes) if j != k]
            rest = self.op("Gather", "margin", self.const(others, np.int64), axis=1)
            rest_max = self.op("ReduceMax", rest, axes=[1], keepdims=1)  # opset 17: axes an attribute
            shifted = self.op("Exp", self.op("Sub", rest, rest_max))
            summed = self.op("ReduceSum", shifted, self.const([1], np.int64), keepdims=1)
            s = self.op("Sub", self.op("Sub", own, rest_max), self.op("Log", summed))
            weight = self.op("Sub", self.log_h(s, self.const(gamma[k])), self.const(np.log(alpha[k])))
            columns.append(weight)
        return self.op("Softmax", self.op("Concat", *columns, axis=1), axis=1)


def _per_class_alpha(alpha: Any, n_classes: int) -> np.ndarray:
    if alpha is None:
        return np.ones(n_classes)
    values = np.asarray(alpha, dtype=np.float64)
    if values.ndim == 0:
        if n_classes == 2:
            return np.array([1.0 - float(values), float(values)])
        return np.full(n_classes, float(values))
    if np.any(values <= 0.0):
        raise ValueError(f"the posterior is undefined for a class with alpha = 0 (alpha = {values.tolist()})")
    return values


def _label_type(classes: np.ndarray) -> int:
    import onnx

    if classes.dtype.kind in "iub":
        return onnx.TensorProto.INT64
    if classes.dtype.kind == "f":
        return onnx.TensorProto.DOUBLE
    return onnx.TensorProto.STRING


def _classes_tensor(classes: np.ndarray, label_type: int) -> Any:
    import onnx

    if label_type == onnx.TensorProto.STRING:
        labels = [str(c).encode() for c in classes]
        return onnx.helper.make_tensor("classes", label_type, [len(classes)], labels)
    dtype = np.int64 if label_type == onnx.TensorProto.INT64 else np.float64
    return onnx.numpy_helper.from_array(classes.astype(dtype), "classes")
