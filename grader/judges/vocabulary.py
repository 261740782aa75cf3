"""Keras' many spellings of the same thing, reduced to one canonical name.

A learner can write the same loss as ``"sparse_categorical_crossentropy"``,
``"SparseCategoricalCrossentropy"``, ``keras.losses.SparseCategoricalCrossentropy()`` or
``keras.losses.sparse_categorical_crossentropy``; ``model.get_compile_config()`` records each one
differently (measured with Keras 3.15):

* strings stay strings: ``"sparse_categorical_crossentropy"``, ``"acc"``;
* objects become ``{"module": "keras.losses", "class_name": "SparseCategoricalCrossentropy",
  "config": {"from_logits": true, ...}}``;
* plain functions become ``{"module": "builtins", "class_name": "function",
  "config": "sparse_categorical_crossentropy"}``;
* the optimizer is always an object, even when the learner wrote ``"adam"``.

Layers come as ``LayerInfo`` with ``layer.get_config()``; an activation may sit in a Dense layer
(``activation="relu"``, ``activation=tf.nn.relu`` which serialises as a function named
``"relu"``, ``tf.nn.softmax`` as ``"softmax_v2"``) or in a following ``Activation``/``Softmax``/
``ReLU`` layer. Everything here is pure and knows no TensorFlow.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from grader.evidence import Evidence, LayerInfo, ModelInfo
from grader.messages import current_language
from grader.messages import judges as messages
from grader.spec import ExerciseSpec

# --- names -------------------------------------------------------------------------------------

# Keras 3's aliases, so "BCE" and "binary_crossentropy" compare equal.
LOSS_ALIASES = {
    "bce": "binary_crossentropy",
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "kld": "kl_divergence",
    "ctc": "ctc",
}

# The loss names Keras 3 knows (snake case), used to suggest a fix for a misspelt one.
KNOWN_LOSSES = (
    "sparse_categorical_crossentropy",
    "categorical_crossentropy",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_hinge",
    "cosine_similarity",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "squared_hinge",
)

KNOWN_OPTIMIZERS = (
    "adam", "adamw", "adamax", "adadelta", "adafactor", "adagrad", "ftrl", "lion", "nadam",
    "rmsprop", "sgd",
)  # fmt: skip

# Learning rates Keras uses when none is given. A learning rate well above its optimizer's
# default is the usual reason a loss diverges.
DEFAULT_LEARNING_RATES = {
    "adam": 0.001, "adamw": 0.001, "adamax": 0.001, "nadam": 0.001, "rmsprop": 0.001,
    "adagrad": 0.001, "adadelta": 0.001, "ftrl": 0.001, "lion": 0.001, "sgd": 0.01,
}  # fmt: skip

KNOWN_ACTIVATIONS = (
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
    "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign",
    "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink",
    "threshold",
)  # fmt: skip

KNOWN_METRICS = (
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "auc", "precision",
    "recall", "mean_squared_error", "mean_absolute_error",
)  # fmt: skip

# TensorFlow's own functions serialise under their TF names (``tf.nn.softmax`` is "softmax_v2").
ACTIVATION_ALIASES = {"softmax_v2": "softmax", "none": "linear", "": "linear"}

# Layers whose only job is an activation, and the activation each one applies.
ACTIVATION_LAYERS = {
    "Softmax": "softmax",
    "ReLU": "relu",
    "LeakyReLU": "leaky_relu",
    "PReLU": "prelu",
    "ELU": "elu",
}


def snake_case(name: str) -> str:
    """``"SparseCategoricalCrossentropy"`` -> ``"sparse_categorical_crossentropy"``."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name.strip())
    return name.lower()


def _serialised_name(value: Any) -> tuple[str | None, bool]:
    """The name inside one compile-config entry, and whether it was a string.

    ``"adam"`` -> ("adam", True); ``{"class_name": "Adam", ...}`` -> ("Adam", False);
    ``{"class_name": "function", "config": "softmax_v2"}`` -> ("softmax_v2", False).
    """
    if value is None:
        return None, False
    if isinstance(value, str):
        return value, True
    if isinstance(value, dict):
        class_name = value.get("class_name")
        config = value.get("config")
        if class_name == "function" and isinstance(config, str):
            return config, False
        if isinstance(class_name, str):
            return class_name, False
    return str(value), False


def _single(value: Any) -> Any:
    """A multi-output model may give a list or dict of losses; this exercise has one output."""
    if isinstance(value, dict) and "class_name" not in value:
        return next(iter(value.values()), None)
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


# --- losses ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LossChoice:
    """The loss a model was compiled with, canonicalised."""

    name: str  # "sparse_categorical_crossentropy", or the learner's own name for a custom loss
    from_logits: bool
    written: str  # how to show it to the learner: "SparseCategoricalCrossentropy(from_logits=True)"


def canonical_loss(compile_config: dict[str, Any]) -> LossChoice | None:
    """The model's loss, or None when it was compiled without one."""
    raw = _single(compile_config.get("loss"))
    name, _ = _serialised_name(raw)
    if not name:
        return None
    canonical = snake_case(name)
    canonical = LOSS_ALIASES.get(canonical, canonical)
    from_logits = False
    written = name
    if isinstance(raw, dict) and isinstance(raw.get("config"), dict):
        from_logits = bool(raw["config"].get("from_logits", False))
        written = f"{name}(from_logits=True)" if from_logits else f"{name}()"
    return LossChoice(name=canonical, from_logits=from_logits, written=written)


# --- metrics -----------------------------------------------------------------------------------

# "accuracy" the string: Keras picks binary, categorical or sparse categorical accuracy to match
# the labels and outputs. keras.metrics.Accuracy the *class* (or keras.metrics.accuracy the
# function) compares labels and outputs element by element instead, which for a softmax output
# is meaningless; it gets its own canonical name so a judge can explain that.
AUTO_ACCURACY = "accuracy"
ELEMENTWISE_ACCURACY = "elementwise_accuracy"


@dataclass(frozen=True)
class MetricChoice:
    name: str  # canonical: "accuracy", "sparse_categorical_accuracy", "elementwise_accuracy", ...
    written: str  # as the learner wrote it: "acc", "SparseCategoricalAccuracy()"


def canonical_metrics(compile_config: dict[str, Any]) -> list[MetricChoice]:
    """Every metric in ``metrics`` and ``weighted_metrics``, flattened and canonicalised."""
    found: list[MetricChoice] = []

    def visit(value: Any) -> None:
        if value is None:
            return
        if isinstance(value, (list, tuple)):
            for item in value:
                visit(item)
            return
        if isinstance(value, dict) and "class_name" not in value:  # {"output_name": [...]}
            for item in value.values():
                visit(item)
            return
        name, was_string = _serialised_name(value)
        if not name:
            return
        if was_string:
            # Keras' compile_utils.get_metric: any string whose lower case is "accuracy" or
            # "acc" means "the right accuracy for these labels".
            if name.lower() in ("accuracy", "acc"):
                found.append(MetricChoice(AUTO_ACCURACY, f'"{name}"'))
                return
            found.append(MetricChoice(snake_case(name), f'"{name}"'))
            return
        if name == "MeanMetricWrapper" and isinstance(value, dict):
            # A metric function wrapped (Keras 3's and legacy .h5 files' way of recording
            # metrics=["accuracy"]): judged by the function it wraps, else by its name.
            wrapped = _wrapped_metric(value)
            if wrapped is not None:
                found.append(wrapped)
                return
        canonical = snake_case(name)
        if canonical == "accuracy":
            canonical = ELEMENTWISE_ACCURACY
        found.append(MetricChoice(canonical, f"{name}()" if value.get("class_name") != "function" else name))

    visit(compile_config.get("metrics"))
    visit(compile_config.get("weighted_metrics"))
    return found


def _wrapped_metric(value: dict[str, Any]) -> MetricChoice | None:
    """The metric a ``MeanMetricWrapper`` computes: its ``fn`` (a name, or a serialised
    function), else its ``name`` ("accuracy", "acc": the accuracy Keras picked for the labels)."""
    raw_config = value.get("config")
    config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}
    fn, _ = _serialised_name(config.get("fn"))
    raw_label = config.get("name")
    label = raw_label if isinstance(raw_label, str) else ""
    if fn:
        canonical = snake_case(fn)
        if canonical in ("accuracy", "acc"):
            canonical = ELEMENTWISE_ACCURACY if label.lower() not in ("accuracy", "acc") else AUTO_ACCURACY
        return MetricChoice(canonical, f"MeanMetricWrapper({fn})")
    if label.lower() in ("accuracy", "acc"):
        return MetricChoice(AUTO_ACCURACY, f'MeanMetricWrapper(name="{label}")')
    if label:
        return MetricChoice(snake_case(label), f'MeanMetricWrapper(name="{label}")')
    return None


# --- optimizers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimizerChoice:
    name: str  # lower-case class name: "adam", "sgd", "rmsprop"
    learning_rate: float | None  # the initial rate when a schedule is used
    written: str  # "Adam", "SGD"


def canonical_optimizer(compile_config: dict[str, Any]) -> OptimizerChoice | None:
    raw = compile_config.get("optimizer")
    if isinstance(raw, dict) and raw.get("class_name") == "LossScaleOptimizer":
        raw = (raw.get("config") or {}).get("inner_optimizer", raw)  # mixed precision wrapper
    name, _ = _serialised_name(raw)
    if not name:
        return None
    learning_rate: float | None = None
    if isinstance(raw, dict) and isinstance(raw.get("config"), dict):
        rate = raw["config"].get("learning_rate")
        if isinstance(rate, dict):  # a schedule: its starting rate is what can diverge
            rate = (rate.get("config") or {}).get("initial_learning_rate")
        if isinstance(rate, (int, float)):
            learning_rate = float(rate)
    return OptimizerChoice(name=name.lower(), learning_rate=learning_rate, written=name)


# --- activations and layers --------------------------------------------------------------------


def canonical_activation(value: Any) -> str:
    """``"relu"``, ``{"class_name": "function", "config": "softmax_v2"}``... -> ``"relu"``, ``"softmax"``.

    A missing activation is "linear", which is what Keras does with ``activation=None``.
    """
    name, was_string = _serialised_name(value)
    if name is None:
        return "linear"
    if not was_string and name in ACTIVATION_LAYERS:  # an activation layer object passed in
        return ACTIVATION_LAYERS[name]
    name = name if was_string else snake_case(name)
    return ACTIVATION_ALIASES.get(name, name)


def is_nonlinear(activation: str) -> bool:
    return activation not in ("linear", "")


def computes(layer: LayerInfo) -> bool:
    """A layer that learns a transformation (Dense, Conv2D, LSTM, ...), as opposed to one that
    reshapes, pools, normalises, drops out or only applies an activation."""
    return any(key in layer.config for key in ("units", "filters", "kernel_size"))


def layer_activation(layer: LayerInfo) -> str | None:
    """The activation an activation-only layer applies, or None for any other layer."""
    if layer.class_name == "Activation":
        return canonical_activation(layer.config.get("activation"))
    if layer.class_name == "ReLU" and (layer.config.get("negative_slope") or 0) > 0:
        return "leaky_relu"
    return ACTIVATION_LAYERS.get(layer.class_name)


@dataclass(frozen=True)
class Block:
    """One computing layer with the activation that really follows it.

    ``Dense(10)`` then ``Softmax()`` is one block with activation "softmax", the same as
    ``Dense(10, activation="softmax")``.
    """

    layer: LayerInfo
    activation: str
    units: int | None  # units for Dense/RNN, filters for convolutions

    @property
    def kind(self) -> str:
        return self.layer.class_name

    def describe(self) -> str:
        """``Dense(64, relu)``, ``Conv2D(32 filters, relu)``."""
        if self.units is None:
            return f"{self.kind}({self.activation})"
        size = messages.filters(self.units) if "filters" in self.layer.config else str(self.units)
        return f"{self.kind}({size}, {self.activation})"


def blocks(layers: list[LayerInfo]) -> list[Block]:
    """The model's computing layers in order, each with its effective activation."""
    found: list[Block] = []
    for layer in layers:
        if layer.class_name == "InputLayer":
            continue
        if computes(layer):
            units = layer.config.get("units", layer.config.get("filters"))
            found.append(
                Block(
                    layer=layer,
                    activation=canonical_activation(layer.config.get("activation")),
                    units=int(units) if isinstance(units, (int, float)) else None,
                )
            )
            continue
        activation = layer_activation(layer)
        if activation is not None and found:
            last = found[-1]
            if activation != "linear":
                # A later activation layer is what the block finally outputs.
                found[-1] = Block(layer=last.layer, activation=activation, units=last.units)
    return found


def reduces_to_vector(layers: list[LayerInfo]) -> bool:
    """Whether some layer turns an image into a vector (Flatten, global pooling, Reshape)."""
    return any(layer.class_name in ("Flatten", "Reshape") or layer.class_name.startswith("Global") for layer in layers)


def total_params(model: ModelInfo) -> int | None:
    if model.total_params is not None:
        return model.total_params
    if any(layer.params for layer in model.layers):
        return sum(layer.params for layer in model.layers)
    return None


def short_type(qualified: str) -> str:
    """``"keras.src.models.sequential.Sequential"`` -> ``"Sequential"``; ``"NoneType"`` -> ``"None"``."""
    name = qualified.rsplit(".", 1)[-1]
    return "None" if name == "NoneType" else name


def shape_text(shape: Sequence[int | None] | None) -> str:
    """``[28, 28]`` -> ``"(28, 28)"``; ``[784]`` -> ``"(784,)"``."""
    if shape is None:
        return messages.unknown()
    parts = ["None" if d is None else str(d) for d in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


# --- labels and history ------------------------------------------------------------------------

LabelEncoding = Literal["integer", "one_hot"]


def label_encoding(evidence: Evidence, spec: ExerciseSpec) -> LabelEncoding | None:
    """How the labels the model was trained on are encoded, from the best evidence we have:
    what ``model.fit`` actually received, else what ``load_data()`` returned, else what the
    grader hands ``train()`` (integer labels)."""
    sandbox = evidence.sandbox
    if sandbox.train and sandbox.train.fit_calls:
        shape = sandbox.train.fit_calls[-1].y_shape
        if shape:
            return _encoding_of(shape)
    if sandbox.data and "train_labels" in sandbox.data.arrays:
        return _encoding_of(sandbox.data.arrays["train_labels"].shape)
    if spec.train_data == "grader":
        return "integer"
    return None


def _encoding_of(shape: list[int]) -> LabelEncoding:
    if len(shape) >= 2 and shape[-1] > 1:
        return "one_hot"
    return "integer"


ACCURACY_HISTORY_KEYS = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy")


def training_accuracy(history: dict[str, list[float]]) -> list[float]:
    """The training accuracy per epoch, whichever name the learner's metric gave it."""
    for key in ACCURACY_HISTORY_KEYS:
        if history.get(key):
            return history[key]
    for key, series in history.items():  # e.g. CategoricalAccuracy(name="acc_1") or "Accuracy"
        if not key.startswith("val_") and "acc" in key.lower() and series:
            return series
    return []


def finite(values: list[float]) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def sentence_case(text: str) -> str:
    """``text`` starting with a capital, unless it starts with code or a file name
    (``build_model()``, ``model.fit``, ``units_inf.keras``), which keep their spelling."""
    if current_language() != "en":
        return text  # no capital letters in Chinese; a name at the start keeps its spelling
    first = text.split(" ", 1)[0]
    if re.search(r"[._()/\\`]", first):
        return text
    return text[:1].upper() + text[1:]
