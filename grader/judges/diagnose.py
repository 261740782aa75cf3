"""Diagnosis: the chapter's classic mistakes, recognised from an exception or from the evidence.

Every entry of ``docs/mistakes.md`` that is recognised from an *exception* lives in
``diagnose_exception``; the ones recognised from *evidence patterns* (a diverging loss, a
train/test gap, raw pixels...) are the small predicates further down, which the judges call.
Each diagnosis is a hint: what to change, in the learner's terms. Messages quoted in the rules are
Keras 3.15's real ones, captured by running Keras (see ``tests/test_judges.py``).

Everything here is pure: strings and evidence in, strings out. The rules recognise Keras' and
Python's English text (a fact, never translated); the hints they give are sentences of
``grader.messages.judges``, in the learner's language.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from grader.datasets import DATASETS, DatasetInfo, dataset_info
from grader.evidence import EvaluationEvidence, Evidence, ExceptionInfo
from grader.judges.vocabulary import (
    KNOWN_ACTIVATIONS,
    KNOWN_LOSSES,
    KNOWN_METRICS,
    KNOWN_OPTIMIZERS,
    LOSS_ALIASES,
    canonical_loss,
    finite,
    snake_case,
    training_accuracy,
)
from grader.messages import _
from grader.messages import judges as messages
from grader.messages import sandbox as sandbox_messages
from grader.safe_text import printable
from grader.spec import ExerciseSpec


@dataclass(frozen=True)
class Diagnosis:
    """A recognised mistake: ``key`` names its entry in docs/mistakes.md, ``hint`` says the fix."""

    key: str
    hint: str


# --- cleaning Keras' messages --------------------------------------------------------------------

# Lines of a Keras/TensorFlow message that frame the real sentence rather than say it.
_NOISE = (
    "Exception encountered when calling",
    "Arguments received by",
    "•",
    "Graph execution error",
    "Detected at node",
    "File ",
    "[[{{node",
)


def clean_message(message: str, limit: int = 300) -> str:
    """The one sentence of an exception message that says what went wrong.

    Keras wraps the real cause in context ("Exception encountered when calling Sequential.call()
    ... Arguments received by ...") and TensorFlow in a graph trace; the learner needs the
    sentence in the middle. Colour codes are removed and the result is bounded.
    """
    text = printable(message or "")
    lines = [line.strip() for line in text.splitlines()]
    useful = [line for line in lines if line and not line.startswith(_NOISE)]
    chosen = useful[0] if useful else (lines[0] if lines else "")
    # TensorFlow appends every label of the batch ("Label values: 9 8 6 1 ..."): not needed.
    chosen = re.sub(r"\s+Label values:.*$", "", chosen)
    if len(chosen) > limit:
        chosen = chosen[: limit - 3].rstrip() + "..."
    return chosen


def _shape(text: str) -> list[int | None]:
    """``"(32, 10)"`` -> ``[32, 10]``; ``"(32,)"`` -> ``[32]``."""
    return [None if part.strip() == "None" else int(part) for part in text.strip("()").split(",") if part.strip()]


def suggest_name(name: str, known: tuple[str, ...], aliases: dict[str, str] | None = None) -> str | None:
    """The known name a learner most likely meant: same name in another case, or a near miss."""
    candidates = [name.strip().lower().replace("-", "_"), snake_case(name.strip())]
    for candidate in candidates:
        candidate = (aliases or {}).get(candidate, candidate)
        if candidate in known:
            return candidate
    close = difflib.get_close_matches(candidates[0], known, n=3, cutoff=0.7)
    # "sparse_crossentropy" is nearer "binary_crossentropy" letter by letter, but the learner
    # meant a sparse loss: prefer a match that starts with the same word.
    first_word = candidates[0].split("_")[0]
    same_start = [match for match in close if match.split("_")[0] == first_word]
    return next(iter(same_start or close), None)


# --- exceptions ----------------------------------------------------------------------------------

TYPOGRAPHIC_QUOTES = "‘’‚‛“”„‟‹›«»′″"

COMMON_IMPORTS = {
    "tf": "import tensorflow as tf",
    "tensorflow": "import tensorflow as tf",
    "keras": messages.KERAS_IMPORT,
    "layers": "from keras import layers",
    "np": "import numpy as np",
    "numpy": "import numpy as np",
    "tfds": "import tensorflow_datasets as tfds",
}

COMMON_LAYERS = (
    "Input", "Dense", "Flatten", "Conv2D", "MaxPooling2D", "Dropout", "BatchNormalization",
    "Reshape", "Softmax", "Activation", "Rescaling", "GlobalAveragePooling2D", "ReLU",
)  # fmt: skip

# The hints the judges share (English message ids: translate with ``_`` where one is given out).
DIVERGENCE_HINT = messages.DIVERGENCE_HINT
RAW_PIXELS_HINT = messages.RAW_PIXELS_HINT
OVERFITTING_HINT = messages.OVERFITTING_HINT
MORE_EPOCHS_HINT = messages.MORE_EPOCHS_HINT


def diagnose_exception(
    exc: ExceptionInfo,
    step: str = "",
    evidence: Evidence | None = None,
    spec: ExerciseSpec | None = None,
) -> Diagnosis | None:
    """The classic mistake behind an exception the learner's code raised, if we know it.

    ``step`` is where it was raised ("import", "load_data", "build_model", "train");
    ``evidence`` and ``spec`` sharpen some hints (which loss was used, how a function is called).
    """
    for rule in _RULES:
        diagnosis = rule(exc, step, evidence, spec)
        if diagnosis is not None:
            return diagnosis
    return None


Rule = Callable[[ExceptionInfo, str, "Evidence | None", "ExerciseSpec | None"], "Diagnosis | None"]


def _typographic_quotes(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    if exc.type not in ("SyntaxError", "IndentationError", "TabError"):
        return None
    # Python names the character ("invalid character '‘' (U+2018)"); when a typographic quote
    # sits inside a plain-quoted string Python says "unterminated string literal" instead, so
    # the source line is searched too.
    code = exc.frames[-1].code if exc.frames else ""
    for text in (exc.message, code):
        quote = next((ch for ch in text if ch in TYPOGRAPHIC_QUOTES), None)
        if quote is not None:
            line = exc.frames[-1].line if exc.frames else None
            return Diagnosis("typographic-quotes", messages.typographic_quote(quote, line))
    return None


def _identifier(kind: str, known: tuple[str, ...], key: str, aliases: dict[str, str] | None = None) -> Rule:
    """A rule for Keras' "Could not interpret <kind> identifier: <name>" (``kind`` as Keras writes
    it; ``grader.messages.judges`` has how a learner reads it and an example of a good name)."""
    pattern = re.compile(rf"Could not interpret {kind} identifier: (.+)")
    # How the fixed name is written in the learner's code.
    argument = {
        "activation function": 'activation="{}"',
        "loss": 'loss="{}"',
        "optimizer": 'optimizer="{}"',
        "metric": 'metrics=["{}"]',
    }[kind]

    def rule(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
        match = pattern.search(exc.message)
        if match is None:
            return None
        name = match.group(1).strip().splitlines()[0].strip("'\"")
        meant = suggest_name(name, known, aliases)
        if meant is not None and meant.lower() == name.lower().replace("-", "_"):
            return Diagnosis(key, messages.identifier_case(argument.format(meant), name))
        if meant is not None:
            return Diagnosis(key, messages.identifier_meant(kind, name, meant))
        return Diagnosis(key, messages.identifier_unknown(kind, name))

    return rule


def _label_shapes(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    """Keras' loss functions complain about label/output ranks in two ways (Keras 3.15):

    * ``Arguments `target` and `output` must have the same rank (ndim). Received:
      target.shape=(32,), output.shape=(32, 10)`` - categorical or binary cross-entropy given
      integer labels;
    * ``Argument `output` must have rank (ndim) `target.ndim - 1`. Received:
      target.shape=(32, 10), output.shape=(32, 10)`` - sparse categorical cross-entropy given
      one-hot labels, or (output.shape=(32, 28, 10)) a model without Flatten.
    """
    match = re.search(r"target\.shape=(\([^)]*\)), output\.shape=(\([^)]*\))", exc.message)
    if match is None:
        return None
    target, output = _shape(match.group(1)), _shape(match.group(2))
    if len(output) > 2:
        return Diagnosis("missing-flatten", missing_flatten_hint(output[1:], spec))
    loss = None
    if evidence is not None and evidence.graded_model is not None:
        loss = canonical_loss(evidence.graded_model.compile_config)
    if len(target) < len(output) or (len(target) == 2 and target[-1] == 1):
        if loss is not None and loss.name == "binary_crossentropy":
            return Diagnosis("binary-crossentropy", _(BINARY_CROSSENTROPY_HINT))
        return Diagnosis("integer-labels-categorical-loss", _(messages.INTEGER_LABELS_CATEGORICAL_LOSS_HINT))
    if len(target) == len(output):
        return Diagnosis("one-hot-labels-sparse-loss", _(messages.ONE_HOT_LABELS_SPARSE_LOSS_HINT))
    return None


BINARY_CROSSENTROPY_HINT = messages.BINARY_CROSSENTROPY_HINT


def missing_flatten_hint(per_image_output: list[int | None], spec: ExerciseSpec | None) -> str:
    data = dataset_of(spec)
    return messages.missing_flatten(_shape_text(per_image_output), data.num_classes, data.shape_text)


def dataset_of(spec: ExerciseSpec | None) -> DatasetInfo:
    """The registry entry of the exercise's dataset, whose image shape and classes the hints
    name; the chapter's Fashion-MNIST when no exercise is known (a hint for a bare exception)."""
    if spec is None or not spec.dataset:
        return DATASETS["fashion_mnist"]
    return dataset_info(spec.dataset)


def _shape_text(shape: list[int | None]) -> str:
    parts = ["None" if d is None else str(d) for d in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _not_compiled(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    if "must call `compile()`" not in exc.message:
        return None
    if evidence is not None and evidence.sandbox.graded_as != "module":
        # A script, notebook or solution_model() has no build_model() to put it in.
        return Diagnosis("not-compiled", _(NOT_COMPILED_BEFORE_FIT_HINT))
    return Diagnosis("not-compiled", _(NOT_COMPILED_HINT))


NOT_COMPILED_HINT = messages.NOT_COMPILED_HINT
NOT_COMPILED_BEFORE_FIT_HINT = messages.NOT_COMPILED_BEFORE_FIT_HINT


def _label_out_of_range(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    match = re.search(r"Received a label value of (\d+) which is outside the valid range of \[0, (\d+)\)", exc.message)
    if match is None:
        return None
    label, units = match.groups()
    # TensorFlow names the first label out of range it met (8 one run, 9 the next), not the
    # highest: the dataset's labels go up to its classes - 1 (or higher, when they are wrong).
    classes = dataset_of(spec).num_classes
    highest = max(int(label), classes - 1)
    return Diagnosis("output-units", messages.label_out_of_range(units, str(highest), classes))


def _metrics_positional(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    # compile(optimizer, loss, loss_weights, metrics, ...): a list of metric names passed as the
    # third positional argument becomes loss_weights, and fit() fails converting the strings.
    if "dtype='string' is not a valid dtype" not in exc.message:
        return None
    return Diagnosis("metrics-positional", _(METRICS_POSITIONAL_HINT))


METRICS_POSITIONAL_HINT = messages.METRICS_POSITIONAL_HINT


def _metrics_not_list(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    if "Expected `metrics` argument to be a list" not in exc.message:
        return None
    return Diagnosis("metrics-not-list", _(messages.METRICS_NOT_LIST_HINT))


def _input_shape(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    message = exc.message
    data = dataset_of(spec)
    height, width = data.image_shape
    if "min_ndim=4" in message and "ndim=3" in message:
        return Diagnosis("input-shape", messages.conv_needs_channel_hint(_shape_text([height, width, data.channels])))
    if "Invalid input shape" in message or "is incompatible with the layer" in message:
        return Diagnosis(
            "input-shape", messages.input_shape_mismatch_hint(data.shape_text, _shape_text([*data.array_shape]))
        )
    if re.search(r"Cannot convert '?\d+'? to a shape", message):
        shape = _shape_text([*data.array_shape])
        return Diagnosis("shape-not-tuple", messages.shape_not_tuple_hint(data.values_per_image, shape))
    return None


def _not_implemented(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    if exc.type != "NotImplementedError":
        return None
    return Diagnosis("stub", messages.still_the_stub(f"{step}()" if step and step != "import" else None))


def _name_error(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    if exc.type not in ("NameError", "UnboundLocalError"):
        return None
    match = re.search(r"name '(\w+)' is not defined", exc.message)
    if match is None:
        return None
    name = match.group(1)
    if name in COMMON_IMPORTS:
        return Diagnosis("missing-import", messages.missing_import(_(COMMON_IMPORTS[name])))
    return Diagnosis("name-error", messages.name_not_defined(name))


def _missing_module(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    match = re.search(r"No module named '([\w.]+)'", exc.message)
    if match is None:
        return None
    return Diagnosis("missing-module", messages.missing_module(match.group(1)))


def _no_attribute(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    match = re.search(r"module '[\w.]*layers[\w.]*' has no attribute '(\w+)'", exc.message)
    if match is None:
        return None
    name = match.group(1)
    meant = next((known for known in COMMON_LAYERS if known.lower() == name.lower()), None)
    meant = meant or next(iter(difflib.get_close_matches(name, COMMON_LAYERS, n=1, cutoff=0.6)), None)
    if meant is None:
        return None
    return Diagnosis("layer-name", messages.layer_name(name, meant))


def _signature(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    # Raised by the call itself, so no frame of the learner's code is on the traceback.
    if exc.type != "TypeError" or exc.frames:
        return None
    if not re.search(
        r"positional arguments? but \d+ (?:was|were) given|missing \d+ required positional argument", exc.message
    ):
        return None
    function = spec.function(step) if spec is not None else None
    if function is None:
        return Diagnosis("signature", _(messages.SIGNATURE_HINT))
    call = f"{function.name}({', '.join(function.parameters)})"
    return Diagnosis("signature", messages.signature(call))


def _limits(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    if exc.type == "TimeLimitExceeded":
        return Diagnosis("time-limit", sandbox_messages.limit_hint("time"))
    if exc.type in ("MemoryError", "ResourceExhaustedError") or "memory limit" in exc.message:
        return Diagnosis("memory", _(messages.MEMORY_HINT))
    if exc.type == "SystemExit":
        return Diagnosis("exit", _(messages.EXIT_HINT))
    if exc.type == "ProcessDied":
        # The sandbox's hint, when a limit of its own stopped the process (output, processes...).
        return Diagnosis("process-died", exc.hint or _(messages.PROCESS_DIED_HINT))
    return None


# --- TensorFlow 1 and Keras 2 code meeting TensorFlow 2 / Keras 3 -------------------------------
#
# Older tutorials, courses and certificate practice files are written for TensorFlow 1 or Keras
# 2. Their code fails in Keras 3 with messages that do not say why ("module 'tensorflow' has no
# attribute 'placeholder'", "Argument(s) not recognized: {'lr': 0.001}"). Each message quoted
# below is the one TensorFlow 2.21 / Keras 3.15 gives, captured by running the line.

# Names TensorFlow 1 had at the top level (or in tf.train) that TensorFlow 2 removed: graph
# building, sessions and the old optimizers and initialisers.
TF1_NAMES = (
    "placeholder", "Session", "InteractiveSession", "global_variables_initializer",
    "local_variables_initializer", "reset_default_graph", "get_default_graph", "variable_scope",
    "get_variable", "set_random_seed", "random_normal", "truncated_normal", "random_uniform",
    "to_float", "log", "layers", "contrib", "AdamOptimizer", "GradientDescentOptimizer",
    "MomentumOptimizer", "RMSPropOptimizer", "AdagradOptimizer", "Saver", "summary.FileWriter",
)  # fmt: skip


def _loader(spec: ExerciseSpec | None) -> str:
    dataset = spec.dataset if spec is not None and spec.dataset else "mnist"
    return f"tf.keras.datasets.{dataset}.load_data()"


def _tensorflow_1(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    message = exc.message
    if re.search(r"No module named '?tensorflow\.examples", message):
        return Diagnosis("tensorflow-1", messages.tensorflow_1_input_data(_loader(spec)))
    match = re.search(r"module 'tensorflow(?:\._api\.v2\.train)?' has no attribute '(\w+)'", message)
    if match and match.group(1) in TF1_NAMES:
        name = match.group(1)
        written = f"tf.train.{name}" if "_api.v2.train" in message else f"tf.{name}"
        return Diagnosis("tensorflow-1", messages.tensorflow_1_name(written))
    if "tf.placeholder() is not compatible with eager execution" in message or "The Session graph is empty" in message:
        return Diagnosis("tensorflow-1", _(messages.TENSORFLOW_1_COMPAT_HINT))
    return None


def _keras_2_model_methods(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    match = re.search(
        r"'(\w+)' object has no attribute '(predict_classes|predict_proba|fit_generator|evaluate_generator|predict_generator)'",
        exc.message,
    )
    if match is None:
        return None
    method = match.group(2)
    if method == "predict_classes":
        hint = _(messages.PREDICT_CLASSES_HINT)
    elif method == "predict_proba":
        hint = _(messages.PREDICT_PROBA_HINT)
    else:
        hint = messages.generator_method(method, method.replace("_generator", ""))
    return Diagnosis("keras-2-api", hint)


def _keras_2_arguments(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    match = re.search(r"Argument\(s\) not recognized: \{'lr': ([^,}]+)", exc.message)
    if match is not None:
        rate = match.group(1).strip()
        return Diagnosis("keras-2-lr", messages.keras_2_lr(rate))
    return None


def _keras_3_file_names(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    message = exc.message
    received = re.search(r"Received: filepath=(\S+?)\.?$", message.strip())
    path = received.group(1) if received else ""
    stem = re.sub(r"\.(ckpt|h5|hdf5|tf|keras)$", "", path.rstrip("/"))
    if "save_weights_only=True" in message and ".weights.h5" in message:
        return Diagnosis("keras-3-file-names", messages.checkpoint_weights_name(stem or "checkpoint"))
    if "The filename must end in `.weights.h5`" in message:
        return Diagnosis("keras-3-file-names", messages.save_weights_name(stem or "my_model"))
    if "The filepath provided must end in `.keras`" in message:
        return Diagnosis("keras-3-file-names", messages.checkpoint_model_name(stem or "checkpoint"))
    if "Invalid filepath extension for saving" in message or "`save_format` argument is deprecated" in message:
        return Diagnosis("keras-3-file-names", messages.save_model_name(stem or "my_model"))
    return None


def _keras_2_imports(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    message = exc.message
    if re.search(r"np_utils|all_utils", message) and re.search(
        r"No module named|cannot import name|has no attribute", message
    ):
        return Diagnosis("keras-2-imports", messages.np_utils(dataset_of(spec).num_classes))
    if re.search(r"layers\.experimental|'[\w.]*layers' has no attribute 'experimental'", message):
        return Diagnosis("keras-2-imports", _(messages.EXPERIMENTAL_PREPROCESSING_HINT))
    return None


# The accuracy key in a callback's ``logs``: Keras names it after the metric as compile() got
# it, so metrics=["accuracy"] gives 'accuracy'; TensorFlow 1 and Keras 2 before 2.3 gave 'acc'.
_LOGS_KEY = re.compile(r"""logs(?:\.get\(\s*|\[\s*)['"](val_acc|acc)['"]""")


def _tensorflow_1_logs_key(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    code = " ".join(frame.code for frame in exc.frames[-2:])
    match = _LOGS_KEY.search(code)
    key_error = exc.type == "KeyError" and exc.message.strip("'\"") in ("acc", "val_acc")
    none_compared = exc.type == "TypeError" and "NoneType" in exc.message
    if not (key_error or (match and none_compared)):
        return None
    old = match.group(1) if match else exc.message.strip("'\"")
    new = old.replace("acc", "accuracy")
    return Diagnosis("logs-acc", messages.logs_key(old, new, key_error))


def _labels_against_outputs(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    """A loss that compares labels and outputs value by value (mse, mae, hinge) given one integer
    label per image and 10 outputs. TensorFlow says it in two ways (2.21): "Dimensions must be
    equal, but are 32 and 10 for '{{node compile_loss/mse/sub}} ...' with input shapes: [32],
    [32,10]." while tracing, or "Incompatible shapes: [32] vs. [32,10]" at run time."""
    match = re.search(
        r"input shapes: \[(\d+)\], \[(\d+),(\d+)\]|Incompatible shapes: \[(\d+)\] vs\. \[(\d+),(\d+)\]", exc.message
    )
    if match is None:
        return None
    groups = [g for g in match.groups() if g is not None]
    classes = groups[2]
    loss = (
        canonical_loss(evidence.graded_model.compile_config) if evidence is not None and evidence.graded_model else None
    )
    return Diagnosis(
        "labels-against-outputs",
        messages.labels_against_outputs(groups[0], groups[1], classes, loss.name if loss is not None else None),
    )


# --- errors that come from where the grader runs the code ----------------------------------------


def _grader_environment(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    message = exc.message
    if re.search(r"No module named '?google\.colab", message):
        return Diagnosis("grader-environment", messages.colab_only(_loader(spec)))
    if exc.type == "FileNotFoundError" or (exc.type == "OSError" and "No such file or directory" in message):
        name = re.search(r"No such file or directory: '([^']*)'", message)
        return Diagnosis("grader-environment", messages.file_not_there(name.group(1) if name else None, _loader(spec)))
    return None


# TensorFlow's rule for scope names, which Keras makes of layer names while tracing fit():
# "'隐藏层' is not a valid scope name. A scope name has to match the following pattern:
# ^[A-Za-z0-9_.\\/>-]*$" (TensorFlow 2.21).
_SCOPE_NAME = re.compile(r"[A-Za-z0-9_.\\/>-]*")
_INVALID_SCOPE = re.compile(r"'(.{1,200}?)' is not a valid scope name")


def _layer_scope_name(
    exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None
) -> Diagnosis | None:
    """A layer named with characters TensorFlow refuses (Chinese characters, spaces). The
    error names one name; the model's recorded layers give every other invalid one, and
    whether the layer is the model's last (an example name "output") or not ("hidden")."""
    match = _INVALID_SCOPE.search(exc.message)
    if match is None:
        return None
    first = printable(match.group(1), keep_newlines=False, limit=60)
    model = evidence.sandbox.final_model if evidence is not None else None
    layers = [layer for layer in (model.layers if model is not None else []) if layer.class_name != "InputLayer"]
    # The name TensorFlow met first, then the model's other invalid ones.
    invalid = [match.group(1)]
    invalid += [layer.name for layer in layers if layer.name not in invalid and not _SCOPE_NAME.fullmatch(layer.name)]
    names = messages.listing([f"'{printable(name, keep_newlines=False, limit=60)}'" for name in invalid[:5]])
    last = bool(layers) and layers[-1].name == match.group(1)
    example = "output" if last else "hidden"
    return Diagnosis("layer-scope-name", messages.layer_scope_name(names, first, example))


_RULES: tuple[Rule, ...] = (
    _typographic_quotes,
    # Old TensorFlow/Keras code first: its messages would otherwise get a generic hint below
    # ("check its spelling" for tensorflow.examples).
    _tensorflow_1,
    _keras_2_model_methods,
    _keras_2_arguments,
    _keras_3_file_names,
    _keras_2_imports,
    _tensorflow_1_logs_key,
    _labels_against_outputs,
    _grader_environment,
    _layer_scope_name,
    _identifier("activation function", KNOWN_ACTIVATIONS, "activation-name"),
    _identifier("loss", KNOWN_LOSSES, "loss-name", LOSS_ALIASES),
    _identifier("optimizer", KNOWN_OPTIMIZERS, "optimizer-name"),
    _identifier("metric", KNOWN_METRICS, "metric-name"),
    _label_shapes,
    _not_compiled,
    _label_out_of_range,
    _metrics_positional,
    _metrics_not_list,
    _input_shape,
    _not_implemented,
    _name_error,
    _missing_module,
    _no_attribute,
    _signature,
    _limits,
)


# --- evidence patterns -----------------------------------------------------------------------------


def loss_divergence(history: dict[str, list[float]]) -> str | None:
    """How the training loss went wrong, if it did: NaN/infinite, or higher at the end than at
    the start. Returned as a phrase: "the training loss became nan at epoch 2"."""
    loss = history.get("loss") or []
    for epoch, value in enumerate(loss, start=1):
        if not finite([value]):
            return messages.loss_became(str(value), epoch)
    if len(loss) >= 2 and loss[-1] > loss[0]:
        return messages.loss_rose(loss[0], loss[-1])
    return None


def stalled_at_chance(history: dict[str, list[float]], classes: int) -> str | None:
    """Whether training ended no better than guessing, as a phrase, else None.

    A loss can fall and still leave the model useless: with a huge learning rate the first epoch
    explodes (loss 117) and later epochs settle at a constant guess (loss 2.76, accuracy 0.097).
    A final cross-entropy at or above ln(classes) - the loss of a uniform guess - with accuracy
    near 1/classes is that case. Both are required, so a nonsense accuracy metric alone (see
    keras.metrics.Accuracy) is not mistaken for it.
    """
    loss = history.get("loss") or []
    if not loss or not finite(loss[-1:]) or loss[-1] < math.log(classes):
        return None
    accuracy = training_accuracy(history)
    if accuracy and accuracy[-1] > 1 / classes + 0.05:
        return None
    return messages.learned_nothing(loss[-1], classes, accuracy[-1] if accuracy else None)


def training_went_wrong(history: dict[str, list[float]], spec: ExerciseSpec | None) -> str | None:
    """A diverging loss or a model stuck at chance (among the exercise's dataset's classes), as a
    phrase, else None."""
    return loss_divergence(history) or stalled_at_chance(history, dataset_of(spec).num_classes)


def still_improving(history: dict[str, list[float]], min_gain: float = 0.005) -> str | None:
    """Whether training stopped while accuracy was still climbing, as a phrase, else None."""
    accuracy = training_accuracy(history)
    if len(accuracy) >= 2 and accuracy[-1] - accuracy[-2] > min_gain:
        return messages.accuracy_still_rising(accuracy[-2], accuracy[-1])
    loss = history.get("loss") or []
    if not accuracy and len(loss) >= 2 and finite(loss[-2:]) and loss[-1] < loss[-2] * 0.98:
        return messages.loss_still_falling(loss[-2], loss[-1])
    if len(accuracy) == 1 or (not accuracy and len(loss) == 1):
        return messages.single_epoch()
    return None


def overfitting_gap(history: dict[str, list[float]], test_accuracy: float | None) -> float | None:
    """Final training accuracy minus test accuracy (positive: better on the training images)."""
    accuracy = training_accuracy(history)
    if not accuracy or test_accuracy is None or not finite(accuracy[-1:]):
        return None
    return accuracy[-1] - test_accuracy


def trained_on_raw_pixels(evaluation: EvaluationEvidence) -> bool:
    """The trusted evaluator found the model does clearly better on 0-255 pixels than on [0, 1]."""
    return evaluation.input_scaling == "raw"


# How far above guessing the grader's own accuracy on training images must be before a model
# that no model.fit() trained counts as trained another way (a custom GradientTape loop): an
# untrained 10-class model stays near 0.1, one epoch of any training reaches 0.8 and more.
TRAINED_WITHOUT_FIT_MARGIN = 0.3


def never_fitted(evidence: Evidence) -> bool:
    """The run called no ``model.fit()`` at all (a saved model's training is unknown: False)."""
    if evidence.sandbox.graded_as == "saved_model":
        return False
    train = evidence.sandbox.train
    return train is None or not train.fit_calls


def trained_without_fit(evidence: Evidence, spec: ExerciseSpec | None) -> float | None:
    """The grader's accuracy on training images of a model that no ``model.fit()`` trained, when
    it is clearly above chance: the learner trained it another way (a custom training loop). None
    when fit was called, or the accuracy was not measured (quick mode) or is near chance."""
    if not never_fitted(evidence):
        return None
    measured = evidence.evaluation.train_accuracy
    chance = 1.0 / max(1, dataset_of(spec).num_classes)
    return measured if measured is not None and measured >= chance + TRAINED_WITHOUT_FIT_MARGIN else None
