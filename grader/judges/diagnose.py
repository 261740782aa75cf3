"""Diagnosis: the chapter's classic mistakes, recognised from an exception or from the evidence.

Every entry of ``docs/mistakes.md`` that is recognised from an *exception* lives in
``diagnose_exception``; the ones recognised from *evidence patterns* (a diverging loss, a
train/test gap, raw pixels...) are the small predicates further down, which the judges call.
Each diagnosis is a hint: what to change, in the learner's terms. Messages quoted in the rules are
Keras 3.15's real ones, captured by running Keras (see ``tests/test_judges.py``).

Everything here is pure: strings and evidence in, strings out.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

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
    "keras": "import keras (or: from tensorflow import keras)",
    "layers": "from keras import layers",
    "np": "import numpy as np",
    "numpy": "import numpy as np",
    "tfds": "import tensorflow_datasets as tfds",
}

COMMON_LAYERS = (
    "Input", "Dense", "Flatten", "Conv2D", "MaxPooling2D", "Dropout", "BatchNormalization",
    "Reshape", "Softmax", "Activation", "Rescaling", "GlobalAveragePooling2D", "ReLU",
)  # fmt: skip

DIVERGENCE_HINT = (
    "Lower the learning rate (Adam's default, 0.001, is a good start) and make sure the pixels "
    "are scaled to [0, 1]."
)
# The book's own chapter-5 notebook never scales its pixels (and stays below the 0.85 bar on
# Fashion-MNIST), so the hint does not send the learner back to the chapter for this step.
RAW_PIXELS_HINT = (
    "The model works best on raw 0-255 pixel values, so it was trained on unscaled images: divide "
    "the images by 255.0 so the pixels lie in [0, 1] (train_images = train_images / 255.0, and the "
    "same for the test images). Large input values make training slow and unsteady; scaled "
    "images usually reach a clearly higher accuracy in the same number of epochs."
)
OVERFITTING_HINT = (
    "The model fits its training images much better than new ones (overfitting, as the chapter "
    "explains): train for fewer epochs, add a Dropout layer, or use a smaller model."
)
MORE_EPOCHS_HINT = "Train for more epochs (the chapter uses epochs=5), within the exercise's time limit."
TIME_LIMIT_HINT = (
    "Make the run fit in the time limit: train for fewer epochs, use a smaller model or a larger "
    "batch_size, and make sure no loop runs forever."
)


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


def _typographic_quotes(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
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
            where = f"Line {line}" if line else "Your file"
            return Diagnosis(
                "typographic-quotes",
                f"{where} contains the typographic quote {quote} (U+{ord(quote):04X}), which Python "
                "does not accept: it usually comes from copying code out of a book or a word "
                "processor. Retype it as a plain quote, ' or \".",
            )
    return None


def _identifier(kind: str, known: tuple[str, ...], example: str, key: str, aliases: dict[str, str] | None = None) -> Rule:
    """A rule for Keras' "Could not interpret <kind> identifier: <name>"."""
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
            return Diagnosis(
                key,
                f'Keras names are case-sensitive: write {argument.format(meant)} instead of "{name}".',
            )
        if meant is not None:
            return Diagnosis(key, f'Keras has no {kind} called "{name}": did you mean "{meant}"?')
        return Diagnosis(key, f'Keras has no {kind} called "{name}": use one of its names, e.g. {example}.')

    return rule


def _label_shapes(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
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
        return Diagnosis("missing-flatten", missing_flatten_hint(output[1:]))
    loss = None
    if evidence is not None and evidence.graded_model is not None:
        loss = canonical_loss(evidence.graded_model.compile_config)
    if len(target) < len(output) or (len(target) == 2 and target[-1] == 1):
        if loss is not None and loss.name == "binary_crossentropy":
            return Diagnosis("binary-crossentropy", BINARY_CROSSENTROPY_HINT)
        return Diagnosis(
            "integer-labels-categorical-loss",
            "Your labels are integers (0-9), but categorical_crossentropy expects one-hot labels: "
            'use loss="sparse_categorical_crossentropy" (or one-hot encode the labels with '
            "keras.utils.to_categorical).",
        )
    if len(target) == len(output):
        return Diagnosis(
            "one-hot-labels-sparse-loss",
            "Your labels are one-hot vectors, but sparse_categorical_crossentropy expects integer "
            'labels (0-9): use loss="categorical_crossentropy", or keep integer labels.',
        )
    return None


BINARY_CROSSENTROPY_HINT = (
    "binary_crossentropy is for two classes (one sigmoid output); with 10 classes use "
    'loss="sparse_categorical_crossentropy" for integer labels (or "categorical_crossentropy" '
    "for one-hot labels) and a softmax output."
)


def missing_flatten_hint(per_image_output: list[int | None]) -> str:
    return (
        f"The model outputs shape {_shape_text(per_image_output)} for each image instead of (10,): "
        "without a Flatten layer, Dense layers work on each row of the 28x28 image separately. "
        "Add keras.layers.Flatten() as the first layer (right after the Input)."
    )


def _shape_text(shape: list[int | None]) -> str:
    parts = ["None" if d is None else str(d) for d in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _not_compiled(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    if "must call `compile()`" not in exc.message:
        return None
    if evidence is not None and evidence.sandbox.graded_as != "module":
        # A script, notebook or solution_model() has no build_model() to put it in.
        return Diagnosis("not-compiled", NOT_COMPILED_BEFORE_FIT_HINT)
    return Diagnosis("not-compiled", NOT_COMPILED_HINT)


NOT_COMPILED_HINT = (
    'Compile the model in build_model() before returning it: model.compile(optimizer="adam", '
    'loss="sparse_categorical_crossentropy", metrics=["accuracy"]).'
)
NOT_COMPILED_BEFORE_FIT_HINT = (
    'Compile the model before model.fit(...): model.compile(optimizer="adam", '
    'loss="sparse_categorical_crossentropy", metrics=["accuracy"]).'
)


def _label_out_of_range(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    match = re.search(r"Received a label value of (\d+) which is outside the valid range of \[0, (\d+)\)", exc.message)
    if match is None:
        return None
    label, units = match.groups()
    return Diagnosis(
        "output-units",
        f"The output layer has {units} units but the labels go up to {label}: it needs one unit "
        'per class, Dense(10, activation="softmax").',
    )


def _metrics_positional(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    # compile(optimizer, loss, loss_weights, metrics, ...): a list of metric names passed as the
    # third positional argument becomes loss_weights, and fit() fails converting the strings.
    if "dtype='string' is not a valid dtype" not in exc.message:
        return None
    return Diagnosis("metrics-positional", METRICS_POSITIONAL_HINT)


METRICS_POSITIONAL_HINT = (
    "compile()'s third positional parameter is loss_weights, not metrics: pass the metrics by "
    'keyword, model.compile(optimizer=..., loss=..., metrics=["accuracy"]).'
)


def _metrics_not_list(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    if "Expected `metrics` argument to be a list" not in exc.message:
        return None
    return Diagnosis("metrics-not-list", 'metrics takes a list: write metrics=["accuracy"], not metrics="accuracy".')


def _input_shape(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    message = exc.message
    if "min_ndim=4" in message and "ndim=3" in message:
        return Diagnosis(
            "input-shape",
            "Conv2D needs images with a channel axis, (28, 28, 1): start the model with "
            "keras.Input(shape=(28, 28, 1)) and reshape the images, or add "
            "keras.layers.Reshape((28, 28, 1)) as the first layer.",
        )
    if "Invalid input shape" in message or "is incompatible with the layer" in message:
        return Diagnosis(
            "input-shape",
            "The model's input shape does not fit the 28x28 images it is given: start the model "
            "with keras.Input(shape=(28, 28)) followed by keras.layers.Flatten().",
        )
    if re.search(r"Cannot convert '?\d+'? to a shape", message):
        return Diagnosis("shape-not-tuple", "A shape is a tuple: write shape=(784,) with the trailing comma, or shape=(28, 28).")
    return None


def _not_implemented(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    if exc.type != "NotImplementedError":
        return None
    name = f"{step}()" if step and step != "import" else "This function"
    return Diagnosis("stub", f"{name} is still the stub: replace `raise NotImplementedError(...)` with your own code.")


def _name_error(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    if exc.type not in ("NameError", "UnboundLocalError"):
        return None
    match = re.search(r"name '(\w+)' is not defined", exc.message)
    if match is None:
        return None
    name = match.group(1)
    if name in COMMON_IMPORTS:
        return Diagnosis("missing-import", f"Add `{COMMON_IMPORTS[name]}` at the top of your file.")
    return Diagnosis("name-error", f'"{name}" is used before it is defined: check its spelling, or define or import it first.')


def _missing_module(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    match = re.search(r"No module named '([\w.]+)'", exc.message)
    if match is None:
        return None
    return Diagnosis(
        "missing-module",
        f'There is no module "{match.group(1)}" where the grader runs your code: check its '
        "spelling, and if it is installed on your computer, leave it out: the grader provides "
        "tensorflow, keras, numpy, matplotlib and tensorflow_datasets.",
    )


def _no_attribute(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    match = re.search(r"module '[\w.]*layers[\w.]*' has no attribute '(\w+)'", exc.message)
    if match is None:
        return None
    name = match.group(1)
    meant = next((known for known in COMMON_LAYERS if known.lower() == name.lower()), None)
    meant = meant or next(iter(difflib.get_close_matches(name, COMMON_LAYERS, n=1, cutoff=0.6)), None)
    if meant is None:
        return None
    return Diagnosis("layer-name", f"Keras has no layer {name}: did you mean layers.{meant}? Layer names are case-sensitive.")


def _signature(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    # Raised by the call itself, so no frame of the learner's code is on the traceback.
    if exc.type != "TypeError" or exc.frames:
        return None
    if not re.search(r"positional arguments? but \d+ (?:was|were) given|missing \d+ required positional argument", exc.message):
        return None
    function = spec.function(step) if spec is not None else None
    if function is None:
        return Diagnosis("signature", "Give the function exactly the parameters the exercise names.")
    call = f"{function.name}({', '.join(function.parameters)})"
    return Diagnosis("signature", f"The grader calls {call}: define the function with exactly these parameters.")


def _limits(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    if exc.type == "TimeLimitExceeded":
        return Diagnosis("time-limit", TIME_LIMIT_HINT)
    if exc.type in ("MemoryError", "ResourceExhaustedError") or "memory limit" in exc.message:
        return Diagnosis(
            "memory",
            "The run ran out of memory: use a smaller model or batch_size, and don't keep extra "
            "copies of the dataset.",
        )
    if exc.type == "SystemExit":
        return Diagnosis("exit", "Don't call sys.exit() or exit() in your solution: return from the function instead.")
    if exc.type == "ProcessDied":
        return Diagnosis(
            "process-died",
            # The sandbox's hint, when a limit of its own stopped the process (output, processes...).
            exc.hint
            or "Your code ended the grading process (os._exit, a crash inside TensorFlow, or too much "
            "memory): return from your functions normally and keep the model a reasonable size.",
        )
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

KERAS_WAY = (
    "Rewrite it the TensorFlow 2 way, with Keras like the chapter's code: model = "
    "tf.keras.Sequential([...]), model.compile(...), model.fit(train_images, train_labels, epochs=5)."
)


def _loader(spec: ExerciseSpec | None) -> str:
    dataset = spec.dataset if spec is not None and spec.dataset else "mnist"
    return f"tf.keras.datasets.{dataset}.load_data()"


def _tensorflow_1(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    message = exc.message
    if re.search(r"No module named '?tensorflow\.examples", message):
        return Diagnosis(
            "tensorflow-1",
            "This is TensorFlow 1 code: tensorflow.examples.tutorials.mnist (input_data) was removed "
            f"in TensorFlow 2. Load the data with {_loader(spec)}, which returns ((train_images, "
            "train_labels), (test_images, test_labels)) as NumPy arrays.",
        )
    match = re.search(r"module 'tensorflow(?:\._api\.v2\.train)?' has no attribute '(\w+)'", message)
    if match and match.group(1) in TF1_NAMES:
        name = match.group(1)
        written = f"tf.train.{name}" if "_api.v2.train" in message else f"tf.{name}"
        return Diagnosis(
            "tensorflow-1",
            f"This is TensorFlow 1 code: {written} was removed in TensorFlow 2, which has no graphs to "
            f"build, no placeholder and no Session (code runs as it is written). {KERAS_WAY}",
        )
    if "tf.placeholder() is not compatible with eager execution" in message or "The Session graph is empty" in message:
        return Diagnosis(
            "tensorflow-1",
            "This is TensorFlow 1 code run through tf.compat.v1: a placeholder and a Session build a "
            f"graph that TensorFlow 2 does not run, and the grader grades a Keras model. {KERAS_WAY}",
        )
    return None


def _keras_2_model_methods(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    match = re.search(r"'(\w+)' object has no attribute '(predict_classes|predict_proba|fit_generator|evaluate_generator|predict_generator)'", exc.message)
    if match is None:
        return None
    method = match.group(2)
    if method == "predict_classes":
        hint = (
            "model.predict_classes() was removed in TensorFlow 2.6: use "
            "np.argmax(model.predict(images), axis=1), which picks the class with the highest "
            "probability for each image."
        )
    elif method == "predict_proba":
        hint = "model.predict_proba() was removed in TensorFlow 2.6: model.predict(images) already returns the probabilities."
    else:
        plain = method.replace("_generator", "")
        hint = (
            f"model.{method}() was removed in Keras 3: model.{plain}() takes a generator or a "
            f"tf.data dataset itself, so write model.{plain}(generator, ...) with the same arguments "
            "(steps_per_epoch, epochs, validation_data)."
        )
    return Diagnosis("keras-2-api", hint)


def _keras_2_arguments(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    match = re.search(r"Argument\(s\) not recognized: \{'lr': ([^,}]+)", exc.message)
    if match is not None:
        rate = match.group(1).strip()
        return Diagnosis(
            "keras-2-lr",
            f"lr= is the Keras 2 name of the learning rate; Keras 3 calls it learning_rate: write "
            f"Adam(learning_rate={rate}) (the same for SGD, RMSprop and the other optimizers).",
        )
    return None


def _keras_3_file_names(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    message = exc.message
    received = re.search(r"Received: filepath=(\S+?)\.?$", message.strip())
    path = received.group(1) if received else ""
    stem = re.sub(r"\.(ckpt|h5|hdf5|tf|keras)$", "", path.rstrip("/"))
    if "save_weights_only=True" in message and ".weights.h5" in message:
        return Diagnosis(
            "keras-3-file-names",
            "Keras 3 saves weights only to files ending in .weights.h5: write "
            f'ModelCheckpoint("{stem or "checkpoint"}.weights.h5", save_weights_only=True). Older TensorFlow '
            'tutorials use "cp.ckpt", which Keras 3 refuses.',
        )
    if "The filename must end in `.weights.h5`" in message:
        return Diagnosis(
            "keras-3-file-names",
            f'Keras 3 saves weights only to files ending in .weights.h5: write model.save_weights("{stem or "my_model"}.weights.h5").',
        )
    if "The filepath provided must end in `.keras`" in message:
        return Diagnosis(
            "keras-3-file-names",
            f'Keras 3 saves whole models to .keras files: write ModelCheckpoint("{stem or "checkpoint"}.keras"), '
            'or add save_weights_only=True and a name ending in ".weights.h5".',
        )
    if "Invalid filepath extension for saving" in message or "`save_format` argument is deprecated" in message:
        return Diagnosis(
            "keras-3-file-names",
            f'Keras 3 saves a model to a file ending in .keras: write model.save("{stem or "my_model"}.keras") '
            "(a folder in TensorFlow's SavedModel format is no longer written by save()).",
        )
    return None


def _keras_2_imports(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    message = exc.message
    if re.search(r"np_utils|all_utils", message) and re.search(r"No module named|cannot import name|has no attribute", message):
        return Diagnosis(
            "keras-2-imports",
            "keras.utils.np_utils was removed in Keras 3; to_categorical is now in keras.utils "
            "itself: write `from tensorflow.keras.utils import to_categorical` and call "
            "to_categorical(labels, 10) (not np_utils.to_categorical).",
        )
    if re.search(r"layers\.experimental|'[\w.]*layers' has no attribute 'experimental'", message):
        return Diagnosis(
            "keras-2-imports",
            "keras.layers.experimental.preprocessing was where TensorFlow 2.3-2.5 kept the "
            "preprocessing layers; they are ordinary layers now: write keras.layers.Rescaling(1 / 255) "
            "(tf.keras.layers.Rescaling), keras.layers.Normalization(), keras.layers.RandomFlip(...).",
        )
    return None


# The accuracy key in a callback's ``logs``: Keras names it after the metric as compile() got
# it, so metrics=["accuracy"] gives 'accuracy'; TensorFlow 1 and Keras 2 before 2.3 gave 'acc'.
_LOGS_KEY = re.compile(r"""logs(?:\.get\(\s*|\[\s*)['"](val_acc|acc)['"]""")


def _tensorflow_1_logs_key(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    code = " ".join(frame.code for frame in exc.frames[-2:])
    match = _LOGS_KEY.search(code)
    key_error = exc.type == "KeyError" and exc.message.strip("'\"") in ("acc", "val_acc")
    none_compared = exc.type == "TypeError" and "NoneType" in exc.message
    if not (key_error or (match and none_compared)):
        return None
    old = match.group(1) if match else exc.message.strip("'\"")
    new = old.replace("acc", "accuracy")
    why = f"logs['{old}'] does not exist" if key_error else f"logs.get('{old}') is None, which cannot be compared"
    return Diagnosis(
        "logs-acc",
        f"TensorFlow 1 named the accuracy '{old}' in a callback's logs; TensorFlow 2 names it after "
        f"the metric given to compile(), so with metrics=[\"accuracy\"] the key is '{new}': write "
        f"logs.get('{new}') ({why}).",
    )


def _labels_against_outputs(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    """A loss that compares labels and outputs value by value (mse, mae, hinge) given one integer
    label per image and 10 outputs. TensorFlow says it in two ways (2.21): "Dimensions must be
    equal, but are 32 and 10 for '{{node compile_loss/mse/sub}} ...' with input shapes: [32],
    [32,10]." while tracing, or "Incompatible shapes: [32] vs. [32,10]" at run time."""
    match = re.search(r"input shapes: \[(\d+)\], \[(\d+),(\d+)\]|Incompatible shapes: \[(\d+)\] vs\. \[(\d+),(\d+)\]", exc.message)
    if match is None:
        return None
    groups = [g for g in match.groups() if g is not None]
    classes = groups[2]
    loss = canonical_loss(evidence.graded_model.compile_config) if evidence is not None and evidence.graded_model else None
    named = f"loss {loss.name}" if loss is not None else "the loss"
    return Diagnosis(
        "labels-against-outputs",
        f"The labels hold one class number per image (shape [{groups[0]}]) but the model outputs "
        f"{classes} values per image ([{groups[1]}, {classes}]), and {named} compares them value by "
        'value. For class labels use loss="sparse_categorical_crossentropy", which compares each '
        "label with the predicted probabilities.",
    )


# --- errors that come from where the grader runs the code ----------------------------------------

GRADER_ONLY = "This happens only where the grader runs your code, not where you ran it: "


def _grader_environment(exc: ExceptionInfo, step: str, evidence: Evidence | None, spec: ExerciseSpec | None) -> Diagnosis | None:
    message = exc.message
    if re.search(r"No module named '?google\.colab", message):
        return Diagnosis(
            "grader-environment",
            GRADER_ONLY + "google.colab exists only inside Colab. Leave out `from google.colab import "
            f"...` and drive.mount(...), and load the data with {_loader(spec)}, which the grader serves.",
        )
    if exc.type == "FileNotFoundError" or (exc.type == "OSError" and "No such file or directory" in message):
        name = re.search(r"No such file or directory: '([^']*)'", message)
        shown = f' "{name.group(1)}"' if name else ""
        return Diagnosis(
            "grader-environment",
            f"The grader runs your file on its own, in an empty working folder: the file{shown} "
            "your code opens is not there, even if it is next to your solution on your computer. "
            f"Load the data with {_loader(spec)} (served offline), and write any other file "
            "before your code reads it.",
        )
    return None


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
    _identifier("activation function", KNOWN_ACTIVATIONS, '"relu" for hidden layers, "softmax" for the output', "activation-name"),
    _identifier("loss", KNOWN_LOSSES, '"sparse_categorical_crossentropy"', "loss-name", LOSS_ALIASES),
    _identifier("optimizer", KNOWN_OPTIMIZERS, '"adam"', "optimizer-name"),
    _identifier("metric", KNOWN_METRICS, '"accuracy"', "metric-name"),
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
            return f"the training loss became {value} at epoch {epoch}"
    if len(loss) >= 2 and loss[-1] > loss[0]:
        return f"the training loss rose from {loss[0]:.4g} to {loss[-1]:.4g}"
    return None


def stalled_at_chance(history: dict[str, list[float]], classes: int = 10) -> str | None:
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
    shown = f"training accuracy {accuracy[-1]:.4f}, " if accuracy else ""
    return f"the model learned nothing ({shown}final loss {loss[-1]:.4g}, no better than guessing among {classes} classes)"


def training_went_wrong(history: dict[str, list[float]]) -> str | None:
    """A diverging loss or a model stuck at chance, as a phrase, else None."""
    return loss_divergence(history) or stalled_at_chance(history)


def still_improving(history: dict[str, list[float]], min_gain: float = 0.005) -> str | None:
    """Whether training stopped while accuracy was still climbing, as a phrase, else None."""
    accuracy = training_accuracy(history)
    if len(accuracy) >= 2 and accuracy[-1] - accuracy[-2] > min_gain:
        return f"training accuracy was still rising at the last epoch ({accuracy[-2]:.4f} -> {accuracy[-1]:.4f})"
    loss = history.get("loss") or []
    if not accuracy and len(loss) >= 2 and finite(loss[-2:]) and loss[-1] < loss[-2] * 0.98:
        return f"the training loss was still falling at the last epoch ({loss[-2]:.4f} -> {loss[-1]:.4f})"
    if len(accuracy) == 1 or (not accuracy and len(loss) == 1):
        return "the model was trained for a single epoch"
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
