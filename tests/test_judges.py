"""Judges, diagnosis and the Keras vocabulary, on evidence written by hand.

No TensorFlow here: every Keras fact the judges rely on (compile configs, layer configs, error
messages) was captured once by running Keras 3.15 and is pasted below as a literal, so these
tests run in milliseconds and document what Keras really produces.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest

from grader.evidence import (
    ArrayInfo,
    DataInfo,
    EvaluationEvidence,
    Evidence,
    ExceptionInfo,
    FitCall,
    Frame,
    FunctionInfo,
    LayerInfo,
    ModelInfo,
    RunInfo,
    SandboxEvidence,
    StepResult,
    TrainInfo,
)
from grader.judges import JUDGES, Verdict
from grader.judges.causes import find_cause, model_cause
from grader.judges.diagnose import (
    clean_message,
    diagnose_exception,
    loss_divergence,
    overfitting_gap,
    stalled_at_chance,
    still_improving,
    suggest_name,
    trained_on_raw_pixels,
)
from grader.judges.vocabulary import (
    AUTO_ACCURACY,
    ELEMENTWISE_ACCURACY,
    blocks,
    canonical_activation,
    canonical_loss,
    canonical_metrics,
    canonical_optimizer,
    label_encoding,
    shape_text,
    snake_case,
    training_accuracy,
)
from grader.spec import ExerciseSpec, load_spec_file

ROOT = Path(__file__).resolve().parents[1]
FASHION = load_spec_file(ROOT / "exercises" / "fashion_mnist" / "exercise.toml")
EX4 = load_spec_file(ROOT / "exercises" / "exercise4" / "exercise.toml")

# =================================================================================================
# Keras 3.15 facts, captured by running Keras (model.get_compile_config(), layer.get_config()).
# =================================================================================================

# optimizer="adam" (a string!) is serialised as the object Keras made of it.
ADAM = {
    "module": "keras.optimizers",
    "class_name": "Adam",
    "config": {
        "name": "adam", "learning_rate": 0.0010000000474974513, "weight_decay": None,
        "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False,
        "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
        "gradient_accumulation_steps": None, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
        "amsgrad": False,
    },
    "registered_name": None,
}  # fmt: skip
# keras.optimizers.SGD() (default learning rate 0.01)
SGD = {
    "module": "keras.optimizers",
    "class_name": "SGD",
    "config": {
        "name": "sgd", "learning_rate": 0.009999999776482582, "weight_decay": None,
        "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False,
        "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
        "gradient_accumulation_steps": None, "momentum": 0.0, "nesterov": False,
    },
    "registered_name": None,
}  # fmt: skip
# keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.01, 100, 0.9))
ADAM_SCHEDULE = copy.deepcopy(ADAM)
ADAM_SCHEDULE["config"]["learning_rate"] = {
    "module": "keras.optimizers.schedules",
    "class_name": "ExponentialDecay",
    "config": {
        "initial_learning_rate": 0.01,
        "decay_steps": 100,
        "decay_rate": 0.9,
        "staircase": False,
        "name": "ExponentialDecay",
    },
    "registered_name": None,
}


def adam(learning_rate: float) -> dict[str, Any]:
    """keras.optimizers.Adam(learning_rate=...) as get_compile_config() records it."""
    optimizer = copy.deepcopy(ADAM)
    optimizer["config"]["learning_rate"] = learning_rate
    return optimizer


# keras.losses.SparseCategoricalCrossentropy(from_logits=True)
SCCE_LOGITS = {
    "module": "keras.losses",
    "class_name": "SparseCategoricalCrossentropy",
    "config": {
        "name": "sparse_categorical_crossentropy",
        "reduction": "sum_over_batch_size",
        "from_logits": True,
        "ignore_class": None,
    },
    "registered_name": None,
}
# keras.losses.SparseCategoricalCrossentropy()
SCCE_OBJECT = copy.deepcopy(SCCE_LOGITS)
SCCE_OBJECT["config"]["from_logits"] = False
# keras.losses.CategoricalCrossentropy()
CCE_OBJECT = {
    "module": "keras.losses",
    "class_name": "CategoricalCrossentropy",
    "config": {
        "name": "categorical_crossentropy",
        "reduction": "sum_over_batch_size",
        "from_logits": False,
        "label_smoothing": 0.0,
        "axis": -1,
    },
    "registered_name": None,
}
# keras.losses.BinaryCrossentropy()
BCE_OBJECT = {
    "module": "keras.losses",
    "class_name": "BinaryCrossentropy",
    "config": {
        "name": "binary_crossentropy",
        "reduction": "sum_over_batch_size",
        "from_logits": False,
        "label_smoothing": 0.0,
        "axis": -1,
    },
    "registered_name": None,
}
# keras.losses.sparse_categorical_crossentropy (the function)
SCCE_FUNCTION = {
    "module": "builtins",
    "class_name": "function",
    "config": "sparse_categorical_crossentropy",
    "registered_name": "function",
}
# keras.metrics.SparseCategoricalAccuracy()
SCA_OBJECT = {
    "module": "keras.metrics",
    "class_name": "SparseCategoricalAccuracy",
    "config": {"name": "sparse_categorical_accuracy", "dtype": "float32"},
    "registered_name": None,
}
# keras.metrics.CategoricalAccuracy(name="acc")
CA_OBJECT = {
    "module": "keras.metrics",
    "class_name": "CategoricalAccuracy",
    "config": {"name": "acc", "dtype": "float32"},
    "registered_name": None,
}
# keras.metrics.Accuracy() - element-wise equality, not classification accuracy
ACCURACY_OBJECT = {
    "module": "keras.metrics",
    "class_name": "Accuracy",
    "config": {"name": "accuracy", "dtype": "float32"},
    "registered_name": None,
}
# keras.metrics.sparse_categorical_accuracy (the function)
SCA_FUNCTION = {
    "module": "builtins",
    "class_name": "function",
    "config": "sparse_categorical_accuracy",
    "registered_name": "function",
}
# Dense(10, activation=tf.nn.softmax): TensorFlow's function is called softmax_v2
TF_SOFTMAX = {"module": "builtins", "class_name": "function", "config": "softmax_v2", "registered_name": "function"}


def compile_config(
    loss: Any = "sparse_categorical_crossentropy", metrics: Any = ("accuracy",), optimizer: Any = None, **extra: Any
) -> dict[str, Any]:
    """model.get_compile_config() for model.compile(optimizer, loss, metrics)."""
    config = {
        "optimizer": optimizer or ADAM,
        "loss": loss,
        "loss_weights": None,
        "metrics": list(metrics) if isinstance(metrics, tuple) else metrics,
        "weighted_metrics": None,
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }
    config.update(extra)
    return config


# --- layers ------------------------------------------------------------------------------------


def dense(units: int, activation: Any = "linear", inputs: int = 784, name: str = "dense") -> LayerInfo:
    return LayerInfo(
        name=name,
        class_name="Dense",
        params=inputs * units + units,
        output_shape=[units],
        config={"name": name, "trainable": True, "units": units, "activation": activation, "use_bias": True},
    )


def flatten(out: int = 784) -> LayerInfo:
    return LayerInfo(
        name="flatten",
        class_name="Flatten",
        params=0,
        output_shape=[out],
        config={"name": "flatten", "data_format": "channels_last"},
    )


def layer(class_name: str, output_shape: list[int] | None = None, params: int = 0, **config: Any) -> LayerInfo:
    return LayerInfo(
        name=class_name.lower(),
        class_name=class_name,
        params=params,
        output_shape=output_shape,
        config={"name": class_name.lower(), **config},
    )


def input_layer(shape: list[int]) -> LayerInfo:
    return LayerInfo(
        name="input_layer",
        class_name="InputLayer",
        params=0,
        output_shape=shape,
        config={"batch_shape": [None, *shape], "dtype": "float32"},
    )


def chapter_layers() -> list[LayerInfo]:
    """Flatten -> Dense(64, relu) -> Dense(10, softmax): what the sandbox records (Sequential
    models do not list their InputLayer)."""
    return [flatten(), dense(64, "relu", name="dense"), dense(10, "softmax", inputs=64, name="dense_1")]


def model_info(layers: list[LayerInfo] | None = None, **fields: Any) -> ModelInfo:
    layers = chapter_layers() if layers is None else layers
    info = ModelInfo(
        returned_type="keras.src.models.sequential.Sequential",
        is_keras_model=True,
        built=True,
        compiled=True,
        input_shape=[28, 28],
        output_shape=[10],
        layers=layers,
        total_params=sum(layer.params for layer in layers),
        compile_config=compile_config(),
    )
    for key, value in fields.items():
        setattr(info, key, value)
    return info


CHAPTER_HISTORY = {
    "accuracy": [0.8207, 0.8613, 0.8712, 0.8788, 0.8846],
    "loss": [0.5174, 0.3925, 0.3568, 0.3330, 0.3153],
}


def functions_for(spec: ExerciseSpec) -> dict[str, FunctionInfo]:
    return {
        f.name: FunctionInfo(
            name=f.name,
            present=True,
            callable=True,
            parameters=list(f.parameters),
            required_parameters=len(f.parameters),
        )
        for f in spec.functions
    }


def ok(name: str) -> StepResult:
    return StepResult(name=name, status="ok", seconds=0.1)


def raised(
    name: str, type_: str, message: str, line: int = 12, code: str = "", file: str = "fashion_mnist.py"
) -> StepResult:
    frames = [Frame(file=file, line=line, function=name if name != "import" else "<module>", code=code)]
    return StepResult(
        name=name, status="exception", exception=ExceptionInfo(type=type_, message=message, frames=frames)
    )


def mnist_data(**overrides: ArrayInfo) -> DataInfo:
    arrays = {
        "train_images": ArrayInfo(shape=[50000, 28, 28], dtype="float32", min=0.0, max=1.0),
        "train_labels": ArrayInfo(shape=[50000], dtype="uint8", min=0.0, max=9.0),
        "test_images": ArrayInfo(shape=[10000, 28, 28], dtype="float32", min=0.0, max=1.0),
        "test_labels": ArrayInfo(shape=[10000], dtype="uint8", min=0.0, max=9.0),
    }
    arrays.update(overrides)
    return DataInfo(structure_ok=True, arrays=arrays)


def make_evidence(
    spec: ExerciseSpec = FASHION,
    *,
    model: ModelInfo | str | None = "default",
    trained: ModelInfo | str | None = "same",
    steps: dict[str, StepResult] | None = None,
    history: dict[str, list[float]] | None = None,
    train: TrainInfo | str | None = "default",
    evaluation: EvaluationEvidence | None = None,
    data: DataInfo | str | None = "default",
    functions: dict[str, FunctionInfo] | None = None,
    run: RunInfo | None = None,
) -> Evidence:
    """A complete, successful run of the reference solution, with any part replaced
    (``None`` means "not recorded")."""
    is_ex4 = spec.train_data == "load_data"
    model = model_info() if model == "default" else model
    if steps is None:
        steps = {"import": ok("import")}
        if is_ex4:
            steps["load_data"] = ok("load_data")
        steps["build_model"] = ok("build_model")
        steps["train"] = ok("train")
    history = dict(CHAPTER_HISTORY) if history is None else history
    n = 50000 if is_ex4 else 60000
    if train == "default":
        train = TrainInfo(
            returned_type="keras.src.callbacks.history.History",
            is_history=True,
            history=history,
            epochs_run=len(history.get("loss", [])),
            fit_calls=[FitCall(x_shape=[n, 28, 28], x_dtype="float32", x_min=0.0, x_max=1.0, y_shape=[n], epochs=5)],
            seconds=20.0,
        )
    if data == "default":
        data = mnist_data() if is_ex4 else None
    sandbox = SandboxEvidence(
        submission=spec.stub,
        seed=42,
        steps=steps,
        functions=functions_for(spec) if functions is None else functions,
        data=data,  # type: ignore[arg-type]
        model=model,  # type: ignore[arg-type]
        trained_model=copy.deepcopy(model) if trained == "same" else trained,  # type: ignore[arg-type]
        train=train,  # type: ignore[arg-type]
        model_file="model.keras",
        run=run or RunInfo(returncode=0, wall_seconds=25.0),
    )
    if evaluation is None:
        evaluation = EvaluationEvidence(
            status="ok",
            test_accuracy=0.8647 if not is_ex4 else 0.9761,
            n_test=10000,
            input_shape_used=[28, 28],
            input_scaling="unit",
            probe_accuracy={"unit": 0.88, "raw": 0.10},
        )
    return Evidence(sandbox=sandbox, evaluation=evaluation)


def params_of(spec: ExerciseSpec, judge: str) -> dict[str, Any]:
    return dict(next(c.params for c in spec.checks if c.judge == judge))


def judge(name: str, evidence: Evidence, spec: ExerciseSpec = FASHION, **overrides: Any) -> Verdict:
    """Run judge ``name`` with the spec's params for it (plus overrides)."""
    params = params_of(spec, name) if any(c.judge == name for c in spec.checks) else {}
    params.update(overrides)
    verdict = JUDGES[name](evidence, params, spec)
    assert isinstance(verdict, Verdict)
    assert 0.0 <= verdict.fraction <= 1.0
    return verdict


def with_compile(**kwargs: Any) -> Evidence:
    model = model_info(compile_config=compile_config(**kwargs))
    return make_evidence(model=model)


# =================================================================================================
# The reference runs pass every check
# =================================================================================================


@pytest.mark.parametrize("spec", [FASHION, EX4], ids=["fashion_mnist", "exercise4"])
def test_reference_run_passes_every_check(spec: ExerciseSpec) -> None:
    evidence = make_evidence(spec)
    for check in spec.checks:
        verdict = JUDGES[check.judge](evidence, dict(check.params), spec)
        assert verdict.status == "passed", (check.id, verdict)
        assert verdict.fraction == 1.0
        assert verdict.message


def test_every_judge_has_a_docstring() -> None:
    for name, function in JUDGES.items():
        assert function.__doc__ and len(function.__doc__) > 40, name


# =================================================================================================
# Vocabulary: Keras spellings -> canonical names
# =================================================================================================


@pytest.mark.parametrize(
    "loss, name, from_logits",
    [
        ("sparse_categorical_crossentropy", "sparse_categorical_crossentropy", False),
        ("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy", False),
        (SCCE_OBJECT, "sparse_categorical_crossentropy", False),
        (SCCE_LOGITS, "sparse_categorical_crossentropy", True),
        (SCCE_FUNCTION, "sparse_categorical_crossentropy", False),
        ("categorical_crossentropy", "categorical_crossentropy", False),
        ("CategoricalCrossentropy", "categorical_crossentropy", False),
        (CCE_OBJECT, "categorical_crossentropy", False),
        ("binary_crossentropy", "binary_crossentropy", False),
        ("BCE", "binary_crossentropy", False),
        (BCE_OBJECT, "binary_crossentropy", False),
        ("mse", "mean_squared_error", False),
        ("MeanSquaredError", "mean_squared_error", False),
        (
            {"module": "builtins", "class_name": "function", "config": "my_loss", "registered_name": "function"},
            "my_loss",
            False,
        ),
        (["sparse_categorical_crossentropy"], "sparse_categorical_crossentropy", False),  # one-output list
        ({"dense_1": SCCE_LOGITS}, "sparse_categorical_crossentropy", True),  # per-output dict
    ],
)
def test_canonical_loss(loss: Any, name: str, from_logits: bool) -> None:
    choice = canonical_loss(compile_config(loss=loss))
    assert choice is not None
    assert (choice.name, choice.from_logits) == (name, from_logits)


def test_canonical_loss_none_when_compiled_without_one() -> None:
    assert canonical_loss(compile_config(loss=None)) is None
    assert canonical_loss({}) is None


def test_canonical_loss_shows_objects_as_written() -> None:
    assert canonical_loss(compile_config(loss=SCCE_LOGITS)).written == "SparseCategoricalCrossentropy(from_logits=True)"  # type: ignore[union-attr]
    assert (
        canonical_loss(compile_config(loss="sparse_categorical_crossentropy")).written
        == "sparse_categorical_crossentropy"
    )  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "metrics, names",
    [
        (["accuracy"], [AUTO_ACCURACY]),
        (["acc"], [AUTO_ACCURACY]),
        (["Accuracy"], [AUTO_ACCURACY]),  # Keras lower-cases the string: still the smart accuracy
        (["ACC"], [AUTO_ACCURACY]),
        ([SCA_OBJECT], ["sparse_categorical_accuracy"]),
        ([SCA_FUNCTION], ["sparse_categorical_accuracy"]),
        (["sparse_categorical_accuracy"], ["sparse_categorical_accuracy"]),
        ([CA_OBJECT], ["categorical_accuracy"]),
        ([ACCURACY_OBJECT], [ELEMENTWISE_ACCURACY]),
        (["accuracy", "mse"], [AUTO_ACCURACY, "mse"]),
        ({"dense_1": ["accuracy"]}, [AUTO_ACCURACY]),
        (None, []),
    ],
)
def test_canonical_metrics(metrics: Any, names: list[str]) -> None:
    assert [m.name for m in canonical_metrics(compile_config(metrics=metrics))] == names


def test_canonical_metrics_include_weighted_metrics() -> None:
    config = compile_config(metrics=None, weighted_metrics=["accuracy"])
    assert [m.name for m in canonical_metrics(config)] == [AUTO_ACCURACY]


@pytest.mark.parametrize(
    "optimizer, name, rate",
    [
        (ADAM, "adam", 0.001),
        (SGD, "sgd", 0.01),
        (adam(5.0), "adam", 5.0),
        (ADAM_SCHEDULE, "adam", 0.01),
        ({"module": "keras.optimizers", "class_name": "RMSprop", "config": {"learning_rate": 0.001}}, "rmsprop", 0.001),
        ({"class_name": "LossScaleOptimizer", "config": {"inner_optimizer": SGD}}, "sgd", 0.01),
        ("adam", "adam", None),
    ],
)
def test_canonical_optimizer(optimizer: Any, name: str, rate: float | None) -> None:
    choice = canonical_optimizer(compile_config(optimizer=optimizer))
    assert choice is not None and choice.name == name
    if rate is None:
        assert choice.learning_rate is None
    else:
        assert choice.learning_rate == pytest.approx(rate, rel=1e-6)


@pytest.mark.parametrize(
    "value, name",
    [("relu", "relu"), ("softmax", "softmax"), (TF_SOFTMAX, "softmax"), (None, "linear"), ("linear", "linear"),
     ({"module": "builtins", "class_name": "function", "config": "relu", "registered_name": "function"}, "relu")],
)  # fmt: skip
def test_canonical_activation(value: Any, name: str) -> None:
    assert canonical_activation(value) == name


def test_blocks_fold_activation_layers_into_the_layer_before() -> None:
    layers = [
        input_layer([28, 28]),
        layer("Reshape", [28, 28, 1], target_shape=[28, 28, 1]),
        layer("Conv2D", [26, 26, 4], 40, filters=4, kernel_size=[3, 3], activation="linear"),
        layer("ReLU", [26, 26, 4], negative_slope=0.0),
        layer("MaxPooling2D", [13, 13, 4], pool_size=[2, 2]),
        layer("BatchNormalization", [13, 13, 4], 16, axis=-1),
        layer("Dropout", [13, 13, 4], rate=0.2),
        flatten(676),
        dense(16, "linear", inputs=676),
        layer("LeakyReLU", [16], negative_slope=0.3),
        dense(10, "linear", inputs=16),
        layer("Activation", [10], activation="softmax"),
    ]
    found = blocks(layers)
    assert [(b.kind, b.units, b.activation) for b in found] == [
        ("Conv2D", 4, "relu"),
        ("Dense", 16, "leaky_relu"),
        ("Dense", 10, "softmax"),
    ]
    assert found[0].describe() == "Conv2D(4 filters, relu)"
    assert found[2].describe() == "Dense(10, softmax)"


def test_blocks_softmax_layer() -> None:
    found = blocks([flatten(), dense(10, "linear"), layer("Softmax", [10], axis=-1)])
    assert [b.activation for b in found] == ["softmax"]


def test_snake_case_and_shape_text() -> None:
    assert snake_case("SparseCategoricalCrossentropy") == "sparse_categorical_crossentropy"
    assert snake_case("KLDivergence") == "kl_divergence"
    assert shape_text([784]) == "(784,)"
    assert shape_text([28, 28]) == "(28, 28)"
    assert shape_text(None) == "unknown"


def test_label_encoding_from_fit_call_data_or_grader() -> None:
    assert label_encoding(make_evidence(), FASHION) == "integer"
    evidence = make_evidence()
    evidence.sandbox.train.fit_calls[0].y_shape = [60000, 10]  # type: ignore[union-attr]
    assert label_encoding(evidence, FASHION) == "one_hot"
    ex4 = make_evidence(EX4, train=None, data=mnist_data(train_labels=ArrayInfo([50000, 10], "float32", 0.0, 1.0)))
    assert label_encoding(ex4, EX4) == "one_hot"
    assert label_encoding(make_evidence(train=None), FASHION) == "integer"  # the grader's own labels
    assert label_encoding(make_evidence(EX4, train=None, data=None), EX4) is None


def test_training_accuracy_finds_any_accuracy_key() -> None:
    assert training_accuracy({"acc": [0.5, 0.6]}) == [0.5, 0.6]
    assert training_accuracy({"sparse_categorical_accuracy": [0.7]}) == [0.7]
    assert training_accuracy({"Accuracy": [0.1], "val_accuracy": [0.2]}) == [0.1]
    assert training_accuracy({"loss": [1.0]}) == []


# =================================================================================================
# Diagnosis from exceptions (messages are Keras 3.15's and Python 3.11's real ones)
# =================================================================================================


def exc(type_: str, message: str, code: str = "", frames: bool = True) -> ExceptionInfo:
    return ExceptionInfo(type=type_, message=message, frames=[Frame("x.py", 9, "build_model", code)] if frames else [])


@pytest.mark.parametrize(
    "message, expected",
    [
        (
            "Could not interpret activation function identifier: softMax",
            'write activation="softmax" instead of "softMax"',
        ),
        ("Could not interpret activation function identifier: Relu", 'write activation="relu" instead of "Relu"'),
        ("Could not interpret activation function identifier: Softmax", 'activation="softmax"'),
        ("Could not interpret activation function identifier: sofmax", 'did you mean "softmax"'),
        ("Could not interpret activation function identifier: banana", '"relu" for hidden layers'),
    ],
)
def test_diagnose_activation_names(message: str, expected: str) -> None:
    diagnosis = diagnose_exception(exc("ValueError", message), "build_model")
    assert diagnosis is not None and diagnosis.key == "activation-name"
    assert expected in diagnosis.hint


@pytest.mark.parametrize(
    "message, key, expected",
    [
        ("Could not interpret loss identifier: sparse_crossentropy", "loss-name", "sparse_categorical_crossentropy"),
        (
            "Could not interpret loss identifier: Sparse_Categorical_Crossentropy",
            "loss-name",
            'loss="sparse_categorical_crossentropy"',
        ),
        ("Could not interpret optimizer identifier: adamm", "optimizer-name", '"adam"'),
        ("Could not interpret metric identifier: accuracyy", "metric-name", '"accuracy"'),
        (
            "Could not interpret metric identifier: Sparse_Categorical_Accuracy",
            "metric-name",
            'metrics=["sparse_categorical_accuracy"]',
        ),
    ],
)
def test_diagnose_unknown_identifiers(message: str, key: str, expected: str) -> None:
    diagnosis = diagnose_exception(exc("ValueError", message), "train")
    assert diagnosis is not None and diagnosis.key == key
    assert expected in diagnosis.hint


@pytest.mark.parametrize("quote", list("‘’“”«»‹›„"))
def test_diagnose_typographic_quotes(quote: str) -> None:
    # Python 3.11: "invalid character '‘' (U+2018)"
    message = f"invalid character '{quote}' (U+{ord(quote):04X})"
    diagnosis = diagnose_exception(
        exc("SyntaxError", message, code=f"model.compile(optimizer={quote}adam{quote})"), "import"
    )
    assert diagnosis is not None and diagnosis.key == "typographic-quotes"
    assert quote in diagnosis.hint and "plain quote" in diagnosis.hint and "Line 9" in diagnosis.hint


def test_diagnose_typographic_quote_inside_a_plain_string() -> None:
    # print('hi’) -> Python only says the string is unterminated; the quote is in the line.
    error = exc("SyntaxError", "unterminated string literal (detected at line 9)", code="print('hi’)")
    diagnosis = diagnose_exception(error, "import")
    assert diagnosis is not None and diagnosis.key == "typographic-quotes" and "’" in diagnosis.hint


def test_diagnose_integer_labels_with_categorical_crossentropy() -> None:
    message = "Arguments `target` and `output` must have the same rank (ndim). Received: target.shape=(32,), output.shape=(32, 10)"
    diagnosis = diagnose_exception(
        exc("ValueError", message), "train", with_compile(loss="categorical_crossentropy"), FASHION
    )
    assert diagnosis is not None and diagnosis.key == "integer-labels-categorical-loss"
    assert "sparse_categorical_crossentropy" in diagnosis.hint


def test_diagnose_binary_crossentropy_with_integer_labels() -> None:
    message = "Arguments `target` and `output` must have the same rank (ndim). Received: target.shape=(32,), output.shape=(32, 10)"
    diagnosis = diagnose_exception(
        exc("ValueError", message), "train", with_compile(loss="binary_crossentropy"), FASHION
    )
    assert diagnosis is not None and diagnosis.key == "binary-crossentropy"
    assert "two classes" in diagnosis.hint


def test_diagnose_one_hot_labels_with_sparse_loss() -> None:
    message = "Argument `output` must have rank (ndim) `target.ndim - 1`. Received: target.shape=(32, 10), output.shape=(32, 10)"
    diagnosis = diagnose_exception(exc("ValueError", message), "train")
    assert diagnosis is not None and diagnosis.key == "one-hot-labels-sparse-loss"
    assert 'loss="categorical_crossentropy"' in diagnosis.hint


def test_diagnose_missing_flatten() -> None:
    message = "Argument `output` must have rank (ndim) `target.ndim - 1`. Received: target.shape=(32,), output.shape=(32, 28, 10)"
    diagnosis = diagnose_exception(exc("ValueError", message), "train")
    assert diagnosis is not None and diagnosis.key == "missing-flatten"
    assert "(28, 10)" in diagnosis.hint and "Flatten()" in diagnosis.hint


@pytest.mark.parametrize(
    "type_, message, key, expected",
    [
        ("ValueError", "You must call `compile()` before using the model.", "not-compiled", "model.compile("),
        (
            "InvalidArgumentError",
            "Graph execution error:\n\nDetected at node compile_loss/sparse_categorical_crossentropy/Sparse...\n\n"
            "Received a label value of 9 which is outside the valid range of [0, 5).  Label values: 9 8 6 1 5\n"
            "\t [[{{node compile_loss/...}}]] [Op:__inference_multi_step_on_iterator_652]",
            "output-units",
            "has 5 units but the labels go up to 9",
        ),
        (
            "ValueError",
            "dtype='string' is not a valid dtype for Keras type promotion.",
            "metrics-positional",
            "loss_weights",
        ),
        (
            "ValueError",
            "Expected `metrics` argument to be a list, tuple, or dict. Received instead: metrics=accuracy of type <class 'str'>",
            "metrics-not-list",
            'metrics=["accuracy"]',
        ),
        (
            "ValueError",
            'Exception encountered when calling Sequential.call().\n\n\x1b[1mInvalid input shape for input Tensor("data:0", '
            "shape=(32, 28, 28), dtype=float32) with name 'keras_tensor_5' and path ''. Expected shape (None, 784), but input "
            "has incompatible shape (32, 28, 28)\x1b[0m\n\nArguments received by Sequential.call():\n  • inputs=tf.Tensor(...)",
            "input-shape",
            "keras.Input(shape=(28, 28))",
        ),
        (
            "ValueError",
            "Input 0 with name 'None' of layer 'conv2d_1' is incompatible with the layer: expected min_ndim=4, found ndim=3. "
            "Full shape received: (32, 28, 28)",
            "input-shape",
            "(28, 28, 1)",
        ),
        ("ValueError", "Cannot convert '784' to a shape.", "shape-not-tuple", "shape=(784,)"),
        ("NotImplementedError", "build_model() is not written yet", "stub", "raise NotImplementedError"),
        ("NameError", "name 'tf' is not defined", "missing-import", "import tensorflow as tf"),
        ("NameError", "name 'layers' is not defined", "missing-import", "from keras import layers"),
        ("NameError", "name 'modle' is not defined", "name-error", '"modle"'),
        ("ModuleNotFoundError", "No module named 'tensorflow_dataset'", "missing-module", "tensorflow_datasets"),
        ("AttributeError", "module 'keras.api.layers' has no attribute 'dense'", "layer-name", "layers.Dense"),
        (
            "TimeLimitExceeded",
            "train() did not finish: the time limit of 600 s was reached",
            "time-limit",
            "fewer epochs",
        ),
        ("ProcessDied", "train() did not finish: the process was killed by SIGKILL", "process-died", "os._exit"),
        ("SystemExit", "the code called sys.exit(0)", "exit", "sys.exit()"),
        ("MemoryError", "", "memory", "smaller model"),
    ],
)
def test_diagnose_exceptions(type_: str, message: str, key: str, expected: str) -> None:
    diagnosis = diagnose_exception(exc(type_, message), "train")
    assert diagnosis is not None, message
    assert diagnosis.key == key
    assert expected in diagnosis.hint


def test_diagnose_signature_names_the_call() -> None:
    error = exc("TypeError", "train() takes 2 positional arguments but 3 were given", frames=False)
    diagnosis = diagnose_exception(error, "train", None, FASHION)
    assert diagnosis is not None and diagnosis.key == "signature"
    assert "train(model, train_images, train_labels)" in diagnosis.hint


def test_diagnose_unknown_exception_gives_nothing() -> None:
    assert diagnose_exception(exc("KeyError", "'foo'"), "train") is None
    # A TypeError inside the learner's own code is not a signature problem.
    assert diagnose_exception(exc("TypeError", "train() missing 1 required positional argument: 'x'"), "train") is None


def test_clean_message_keeps_the_sentence_that_matters() -> None:
    keras_wrapped = (
        "Exception encountered when calling Sequential.call().\n\n\x1b[1mInvalid input shape for input X. "
        "Expected shape (None, 784)\x1b[0m\n\nArguments received by Sequential.call():\n  • inputs=..."
    )
    assert clean_message(keras_wrapped) == "Invalid input shape for input X. Expected shape (None, 784)"
    graph = 'Graph execution error:\n\nDetected at node x defined at:\n  File "a.py"\n\nReceived a label value of 9 which is outside the valid range of [0, 5).  Label values: 9 8'
    assert clean_message(graph) == "Received a label value of 9 which is outside the valid range of [0, 5)."
    assert len(clean_message("x" * 1000)) == 300


def test_suggest_name() -> None:
    assert suggest_name("softMax", ("softmax", "relu")) == "softmax"
    assert suggest_name("rleu", ("softmax", "relu")) == "relu"
    assert (
        suggest_name("SparseCategoricalCrossEntropy", ("sparse_categorical_crossentropy",))
        == "sparse_categorical_crossentropy"
    )
    assert (
        suggest_name("sparse_crossentropy", ("binary_crossentropy", "sparse_categorical_crossentropy"))
        == "sparse_categorical_crossentropy"
    )
    assert suggest_name("zzz", ("softmax", "relu")) is None


# =================================================================================================
# Diagnosis from evidence patterns
# =================================================================================================


def test_loss_divergence() -> None:
    assert loss_divergence({"loss": [0.5, 0.4]}) is None
    assert (
        loss_divergence({"loss": [5431908.5, 22423520.0, 29500642.0]})
        == "the training loss rose from 5.432e+06 to 2.95e+07"
    )
    assert loss_divergence({"loss": [2.3, math.nan]}) == "the training loss became nan at epoch 2"
    assert loss_divergence({"loss": [math.inf]}) == "the training loss became inf at epoch 1"
    assert loss_divergence({}) is None


def test_stalled_at_chance() -> None:
    # Adam(learning_rate=5.0) on Fashion-MNIST, measured: the loss falls after exploding, but the
    # model ends up guessing.
    history = {"accuracy": [0.0991, 0.0975, 0.0972, 0.0972, 0.0972], "loss": [117.76, 3.109, 2.7568, 2.7568, 2.7568]}
    assert loss_divergence(history) is None
    assert stalled_at_chance(history, 10) == (
        "the model learned nothing (training accuracy 0.0972, final loss 2.757, no better than guessing among 10 classes)"
    )
    assert stalled_at_chance(CHAPTER_HISTORY, 10) is None
    # keras.metrics.Accuracy reports ~0 for a model that learns: the loss shows it learned.
    assert stalled_at_chance({"accuracy": [0.0, 0.0], "loss": [0.5, 0.3]}, 10) is None
    assert stalled_at_chance({"loss": [2.4, 2.35]}, 10) is not None
    # Chance depends on the dataset's classes: a loss of 2.0 is a guess among 5, not among 10.
    assert stalled_at_chance({"accuracy": [0.2, 0.21], "loss": [2.1, 2.0]}, 5) is not None
    assert stalled_at_chance({"accuracy": [0.2, 0.21], "loss": [2.1, 2.0]}, 10) is None


def test_still_improving() -> None:
    assert still_improving({"accuracy": [0.80, 0.84]}) is not None
    assert still_improving({"accuracy": [0.880, 0.882]}) is None
    assert still_improving({"accuracy": [0.9]}) == "the model was trained for a single epoch"
    assert still_improving({"loss": [0.5, 0.4]}) is not None  # no accuracy: the loss tells
    assert still_improving({"loss": [0.40, 0.399]}) is None


def test_overfitting_gap_and_raw_pixels() -> None:
    assert overfitting_gap({"accuracy": [0.9, 0.99]}, 0.90) == pytest.approx(0.09)
    assert overfitting_gap({"loss": [1.0]}, 0.9) is None
    assert trained_on_raw_pixels(EvaluationEvidence(status="ok", input_scaling="raw"))
    assert not trained_on_raw_pixels(EvaluationEvidence(status="ok", input_scaling="unit"))


# =================================================================================================
# The first real cause
# =================================================================================================

SOFTMAX_CASE = raised(
    "build_model", "ValueError", "Could not interpret activation function identifier: softMax", line=16
)


def softmax_case_evidence() -> Evidence:
    return make_evidence(
        steps={"import": ok("import"), "build_model": SOFTMAX_CASE},
        model=None,
        trained=None,
        train=None,
        evaluation=EvaluationEvidence(
            status="not_run", error="build_model() failed, so there was no trained model to test"
        ),
    )


def test_softmax_case_full_message_once_then_brief_downstream() -> None:
    evidence = softmax_case_evidence()
    built = judge("model_built", evidence)
    assert built.status == "error" and built.fraction == 0
    assert built.message == (
        "build_model() raised ValueError at fashion_mnist.py, line 16: "
        "Could not interpret activation function identifier: softMax"
    )
    assert 'activation="softmax"' in built.hint
    for name in (
        "compiled",
        "input_shape",
        "hidden_layers",
        "output_layer",
        "loss",
        "optimizer",
        "accuracy_metric",
        "training",
        "test_accuracy",
    ):
        verdict = judge(name, evidence)
        assert verdict.status == "error", name
        assert verdict.fraction == 0
        assert verdict.message == "Not checked, because build_model() raised ValueError (fashion_mnist.py, line 16).", (
            name
        )
        assert verdict.hint == ""
    assert judge("functions_present", evidence).status == "passed"  # the functions do exist


def test_import_failure_is_reported_by_functions_present() -> None:
    quote = raised(
        "import", "SyntaxError", "invalid character '‘' (U+2018)", line=22, code="model.compile(optimizer=‘adam’)"
    )
    evidence = make_evidence(steps={"import": quote}, model=None, trained=None, train=None, functions={},
                             evaluation=EvaluationEvidence(status="not_run"))  # fmt: skip
    verdict = judge("functions_present", evidence)
    assert verdict.status == "error"
    assert (
        verdict.message
        == "Your file could not be run: SyntaxError at fashion_mnist.py, line 22: invalid character '‘' (U+2018)"
    )
    assert "plain quote" in verdict.hint
    for name in ("model_built", "output_layer", "training", "test_accuracy"):
        assert (
            judge(name, evidence).message
            == "Not checked, because the file could not be run (SyntaxError at fashion_mnist.py, line 22)."
        )


def test_stub_scores_nothing_anywhere() -> None:
    stub = raised(
        "build_model",
        "NotImplementedError",
        "build_model() is not written yet: build, compile and return the model",
        line=30,
    )
    evidence = make_evidence(steps={"import": ok("import"), "build_model": stub}, model=None, trained=None, train=None,
                             evaluation=EvaluationEvidence(status="not_run"))  # fmt: skip
    for check in FASHION.checks:
        if check.points == 0:
            continue  # the integrity check: a fair run is worth nothing, and the stub's run was fair
        verdict = JUDGES[check.judge](evidence, dict(check.params), FASHION)
        assert verdict.fraction == 0, check.id
        assert verdict.status in ("failed", "error"), check.id
    functions = judge("functions_present", evidence)
    assert functions.status == "failed" and "build_model() still raises NotImplementedError" in functions.message
    built = judge("model_built", evidence)
    assert (
        built.message
        == "build_model() is not written yet: it still raises NotImplementedError at fashion_mnist.py, line 30."
    )
    assert "raise NotImplementedError" in built.hint


def test_exercise4_stub_scores_nothing_anywhere() -> None:
    # The sandbox still calls build_model() when load_data() fails; in the stub both raise.
    steps = {
        "import": ok("import"),
        "load_data": raised("load_data", "NotImplementedError", "load_data() is not written yet", file="exercise4.py"),
        "build_model": raised(
            "build_model", "NotImplementedError", "build_model() is not written yet", line=40, file="exercise4.py"
        ),
    }
    evidence = make_evidence(EX4, steps=steps, model=None, trained=None, train=None, data=None,
                             evaluation=EvaluationEvidence(status="not_run"))  # fmt: skip
    for check in EX4.checks:
        if check.points == 0:
            continue  # the integrity check: a fair run is worth nothing, and the stub's run was fair
        verdict = JUDGES[check.judge](evidence, dict(check.params), EX4)
        assert verdict.fraction == 0, check.id
    data = judge("load_data", evidence, EX4)
    assert data.status == "error" and data.message.startswith("load_data() is not written yet")
    assert judge("model_built", evidence, EX4).message.startswith("build_model() is not written yet")
    assert judge("output_layer", evidence, EX4).message == "Not checked, because build_model() is not written yet."
    assert judge("training", evidence, EX4).message == "Not checked, because load_data() is not written yet."
    functions = judge("functions_present", evidence, EX4)
    assert functions.status == "failed"
    assert functions.message == (
        "load_data() still raises NotImplementedError (the stub's placeholder); "
        "build_model() still raises NotImplementedError (the stub's placeholder)."
    )


def test_load_data_failing_does_not_hide_the_model_checks() -> None:
    steps = {
        "import": ok("import"),
        "load_data": raised("load_data", "KeyError", "'image'", file="exercise4.py"),
        "build_model": ok("build_model"),
    }
    evidence = make_evidence(
        EX4, steps=steps, data=None, trained=None, train=None, evaluation=EvaluationEvidence(status="not_run")
    )
    for name in (
        "model_built",
        "compiled",
        "input_shape",
        "hidden_layers",
        "output_layer",
        "loss",
        "optimizer",
        "accuracy_metric",
    ):
        assert judge(name, evidence, EX4).status == "passed", name
    assert judge("load_data", evidence, EX4).message == "load_data() raised KeyError at exercise4.py, line 12: 'image'"
    assert (
        judge("training", evidence, EX4).message
        == "Not checked, because load_data() raised KeyError (exercise4.py, line 12)."
    )
    assert judge("test_accuracy", evidence, EX4).status == "error"


def test_missing_function_cause() -> None:
    functions = functions_for(FASHION)
    functions["build_model"] = FunctionInfo(name="build_model", present=False)
    evidence = make_evidence(steps={"import": ok("import")}, functions=functions, model=None, trained=None, train=None,
                             evaluation=EvaluationEvidence(status="not_run"))  # fmt: skip
    built = judge("model_built", evidence)
    assert built.status == "error" and built.message == "fashion_mnist.py does not define build_model()."
    assert "def build_model():" in built.hint
    assert judge("training", evidence).message == "Not checked, because build_model() is not defined."
    assert judge("functions_present", evidence).message == "build_model() is not defined."


def test_time_limit_in_train() -> None:
    killed = StepResult(
        name="train",
        status="exception",
        exception=ExceptionInfo(
            type="TimeLimitExceeded",
            message="train() did not finish: the time limit of 600 s was reached (an endless loop, or training too long?)",
        ),
    )
    steps = {"import": ok("import"), "build_model": ok("build_model"), "train": killed}
    evidence = make_evidence(steps=steps, train=None, run=RunInfo(returncode=-9, limit_hit="time"),
                             evaluation=EvaluationEvidence(status="not_run"))  # fmt: skip
    training = judge("training", evidence)
    assert training.status == "error"
    assert (
        training.message
        == "train() did not finish: the time limit of 600 s was reached (an endless loop, or training too long?)."
    )
    assert "fewer epochs" in training.hint
    accuracy = judge("test_accuracy", evidence)
    assert accuracy.status == "error" and accuracy.message.startswith("Not checked, because train() did not finish")
    assert judge("output_layer", evidence).status == "passed"  # the model itself was fine


def test_step_in_flight_when_killed() -> None:
    steps = {
        "import": ok("import"),
        "build_model": ok("build_model"),
        "train": StepResult(name="train", status="started"),
    }
    evidence = make_evidence(steps=steps, train=None, run=RunInfo(returncode=-9, limit_hit="memory"))
    cause = find_cause(evidence, FASHION, "train")
    assert cause is not None and cause.message == "The run was stopped by the memory limit before train() finished."


def test_child_died_before_anything() -> None:
    evidence = make_evidence(steps={}, functions={}, model=None, trained=None, train=None, run=RunInfo(returncode=-9))
    cause = find_cause(evidence, FASHION, "import")
    assert cause is not None and cause.step == "import"
    assert "exit code -9" in cause.message


def test_results_count_even_without_a_record_of_the_call() -> None:
    """A run that produced a model and a history some other way (a script, a saved model) is
    judged on what it produced: missing *evidence* blocks a check, not missing bookkeeping."""
    evidence = make_evidence(steps={"import": ok("import")})
    for name in ("model_built", "output_layer", "loss", "training", "test_accuracy"):
        assert judge(name, evidence).status == "passed", name


def test_sandbox_hint_is_used_when_no_diagnosis_fits() -> None:
    failure = raised("train", "KeyError", "'x'")
    assert failure.exception is not None
    failure.exception.hint = "Put the trained model in a variable named `model`."
    evidence = make_evidence(
        steps={"import": ok("import"), "build_model": ok("build_model"), "train": failure}, train=None
    )
    assert judge("training", evidence).hint == "Put the trained model in a variable named `model`."


# --- other submission styles (grader.adapters): scripts, solution_model(), saved models ----------


def script_evidence(**kwargs: Any) -> Evidence:
    evidence = make_evidence(functions={}, **kwargs)
    evidence.sandbox.graded_as = "script"
    evidence.sandbox.model_source = "the model in your script's variable `model`"
    for name, step in evidence.sandbox.steps.items():
        if name != "import":
            step.label = "your script"
    return evidence


def test_script_style_is_judged_on_what_it_ran() -> None:
    evidence = script_evidence()
    functions = judge("functions_present", evidence)
    assert functions.status == "passed"
    assert functions.message == "The code ran to the end; the model in your script's variable `model` is a Keras model."
    scaled = judge("load_data", evidence)
    assert scaled.status == "passed" and "model.fit() received pixels from 0 to 1" in scaled.message


def test_script_style_raw_pixels_and_errors_in_its_words() -> None:
    evidence = script_evidence()
    evidence.sandbox.train.fit_calls[0].x_max = 255.0  # type: ignore[union-attr]
    assert judge("load_data", evidence).status == "failed"
    failing = script_evidence(
        steps={"import": ok("import"), "build_model": SOFTMAX_CASE}, model=None, trained=None, train=None
    )
    failing.sandbox.steps["build_model"].label = "your script"
    # The check that the script runs to the end comes first and owns the failure of the run
    # (grader.judges.causes.RUN): the full error and hint there, once; the model check is brief.
    ran = judge("functions_present", failing)
    assert (
        ran.message.startswith("Your script raised ValueError at fashion_mnist.py, line 16") and "softmax" in ran.hint
    )
    assert (
        judge("model_built", failing).message
        == "Not checked, because your script raised ValueError (fashion_mnist.py, line 16)."
    )


def test_script_style_model_variable_is_not_a_model() -> None:
    evidence = script_evidence(
        model=ModelInfo(returned_type="builtins.NoneType", is_keras_model=False), trained=None, train=None
    )
    verdict = judge("model_built", evidence)
    assert verdict.message == "The model in your script's variable `model` is None, not a Keras model."


def test_saved_model_style() -> None:
    evidence = make_evidence(steps={"import": ok("import")}, functions={}, train=None)
    evidence.sandbox.graded_as = "saved_model"
    assert judge("functions_present", evidence).status == "skipped"
    assert judge("training", evidence).status == "skipped"
    assert judge("load_data", evidence).status == "passed"  # the evaluator found [0, 1] pixels work
    evidence.evaluation.input_scaling = "raw"
    evidence.evaluation.probe_accuracy = {"unit": 0.12, "raw": 0.86}
    assert judge("load_data", evidence).status == "failed"
    assert judge("output_layer", evidence).status == "passed"


@pytest.mark.parametrize(
    "unit, raw, n_train, status, fragment",
    [
        # The chapter's model trained on [0, 1] pixels, and one still early in training.
        (0.88, 0.10, 10_000, "passed", "works on pixels scaled to [0, 1]"),
        (0.31, 0.11, 10_000, "passed", "works on pixels scaled to [0, 1]"),
        # Trained on raw pixels: they clearly win.
        (0.12, 0.86, 10_000, "failed", "raw 0-255 pixels"),
        # An outside tester's saved model, compiled and never trained (test accuracy 0.1177).
        (0.1180, 0.0980, 10_000, "skipped", "looks untrained"),
        (0.1180, 0.1180, 10_000, "skipped", "looks untrained"),
        # A model that scales its own input (BatchNormalization first), or an easy dataset: as
        # well on both, so nothing to blame the learner for.
        (0.90, 0.88, 10_000, "passed", "copes with either scaling"),
        (1.00, 1.00, 200, "passed", "copes with either scaling"),
        # On a tiny sample a small lead over guessing is noise.
        (0.25, 0.08, 40, "skipped", "looks untrained"),
    ],
)
def test_a_saved_models_scaling_needs_evidence(
    unit: float, raw: float, n_train: int, status: str, fragment: str
) -> None:
    """A model that does clearly better than guessing on [0, 1] pixels passes unless raw pixels
    clearly win; a model that guesses under both shows nothing and earns no points for this
    check, without being accused of anything."""
    evidence = make_evidence(EX4, steps={"import": ok("import")}, functions={}, train=None)
    evidence.sandbox.graded_as = "saved_model"
    evidence.evaluation.input_scaling = "raw" if raw > unit + 0.05 else "unit"  # as the evaluator chooses
    evidence.evaluation.probe_accuracy = {"unit": unit, "raw": raw}
    evidence.evaluation.n_train = n_train
    verdict = judge("load_data", evidence, EX4)
    assert verdict.status == status and fragment in verdict.message, verdict.message
    assert verdict.fraction == (1.0 if status == "passed" else 0.0)


def test_build_model_returned_none() -> None:
    none_model = ModelInfo(returned_type="builtins.NoneType", is_keras_model=False)
    evidence = make_evidence(
        model=none_model, trained=None, train=None, steps={"import": ok("import"), "build_model": ok("build_model")}
    )
    built = judge("model_built", evidence)
    assert built.status == "error" and built.message == "build_model() returned None instead of a Keras model."
    assert "return model" in built.hint
    assert judge("training", evidence).message == "Not checked, because build_model() did not return a Keras model."
    cause = model_cause(evidence, FASHION)
    assert cause is not None and cause.step == "build_model"


def test_build_model_returned_something_else() -> None:
    evidence = make_evidence(model=ModelInfo(returned_type="builtins.list", is_keras_model=False), trained=None, train=None,
                             steps={"import": ok("import"), "build_model": ok("build_model")})  # fmt: skip
    assert judge("model_built", evidence).message == "build_model() returned list instead of a Keras model."


def test_train_not_run_because_load_data_was_unusable() -> None:
    data = DataInfo(structure_ok=False, description="a tuple of 4 items")
    steps = {"import": ok("import"), "load_data": ok("load_data"), "build_model": ok("build_model")}
    evidence = make_evidence(
        EX4, steps=steps, data=data, train=None, trained=None, evaluation=EvaluationEvidence(status="not_run")
    )
    assert judge("training", evidence, EX4).message == "Not checked, because load_data() did not return usable data."
    loaded = judge("load_data", evidence, EX4)
    assert loaded.status == "failed" and "a tuple of 4 items" in loaded.message


# =================================================================================================
# functions_present
# =================================================================================================


def test_functions_present_accepts_other_names_and_defaults() -> None:
    functions = functions_for(FASHION)
    functions["train"] = FunctionInfo(
        name="train", present=True, callable=True, parameters=["m", "x", "y", "epochs"], required_parameters=3
    )
    verdict = judge("functions_present", make_evidence(functions=functions))
    assert verdict.status == "passed"
    assert "train(m, x, y) names its parameters differently" in verdict.message


def test_functions_present_accepts_varargs() -> None:
    functions = functions_for(FASHION)
    functions["train"] = FunctionInfo(
        name="train", present=True, callable=True, parameters=[], required_parameters=0, accepts_varargs=True
    )
    assert judge("functions_present", make_evidence(functions=functions)).status == "passed"


@pytest.mark.parametrize(
    "info, expected",
    [
        (
            FunctionInfo(name="train", present=True, callable=True, parameters=["model"], required_parameters=1),
            "train(model) cannot be called as train(model, train_images, train_labels)",
        ),
        (
            FunctionInfo(
                name="train", present=True, callable=True, parameters=["a", "b", "c", "d"], required_parameters=4
            ),
            "cannot be called as",
        ),
        (FunctionInfo(name="train", present=False), "train() is not defined"),
        (FunctionInfo(name="train", present=True, callable=False), "train is not a function"),
    ],
)
def test_functions_present_failures(info: FunctionInfo, expected: str) -> None:
    functions = functions_for(FASHION)
    functions["train"] = info
    verdict = judge("functions_present", make_evidence(functions=functions))
    assert verdict.status == "failed" and verdict.fraction == 0
    assert expected in verdict.message
    assert "train(model, train_images, train_labels)" in verdict.hint


def test_functions_present_not_implemented_in_train_only() -> None:
    steps = {
        "import": ok("import"),
        "build_model": ok("build_model"),
        "train": raised("train", "NotImplementedError", ""),
    }
    verdict = judge("functions_present", make_evidence(steps=steps, train=None))
    assert (
        verdict.status == "failed"
        and verdict.message == "train() still raises NotImplementedError (the stub's placeholder)."
    )


def test_functions_present_error_when_not_recorded() -> None:
    assert judge("functions_present", make_evidence(functions={})).status == "error"


# =================================================================================================
# load_data (exercise4)
# =================================================================================================


def test_load_data_passes_variants() -> None:
    for images in ([50000, 28, 28, 1], [50000, 784]):
        data = mnist_data(
            train_images=ArrayInfo(images, "float32", 0.0, 1.0),
            test_images=ArrayInfo([10000, *images[1:]], "float64", 0.0, 1.0),
        )
        assert judge("load_data", make_evidence(EX4, data=data), EX4).status == "passed"
    one_hot = mnist_data(
        train_labels=ArrayInfo([50000, 10], "float32", 0.0, 1.0),
        test_labels=ArrayInfo([10000, 10], "float32", 0.0, 1.0),
    )
    verdict = judge("load_data", make_evidence(EX4, data=one_hot), EX4)
    assert verdict.status == "passed" and "one-hot labels" in verdict.message


def test_load_data_unscaled_pixels() -> None:
    data = mnist_data(
        train_images=ArrayInfo([50000, 28, 28], "float32", 0.0, 255.0),
        test_images=ArrayInfo([10000, 28, 28], "float32", 0.0, 255.0),
    )
    verdict = judge("load_data", make_evidence(EX4, data=data), EX4)
    assert verdict.status == "failed" and verdict.fraction == pytest.approx(0.8)
    assert "not scaled to [0, 1] (train_images ranges 0 to 255, test_images ranges 0 to 255)" in verdict.message
    assert "divide the images by 255.0" in verdict.hint.lower()


def test_load_data_uint8_images() -> None:
    data = mnist_data(
        train_images=ArrayInfo([50000, 28, 28], "uint8", 0.0, 255.0),
        test_images=ArrayInfo([10000, 28, 28], "uint8", 0.0, 255.0),
    )
    verdict = judge("load_data", make_evidence(EX4, data=data), EX4)
    assert verdict.fraction == pytest.approx(0.6)  # dtype and scaling wrong
    assert "train_images is uint8" in verdict.message


def test_load_data_bad_shapes_labels_and_counts() -> None:
    data = mnist_data(
        train_images=ArrayInfo([50000, 32, 32], "float32", 0.0, 1.0),
        train_labels=ArrayInfo([49999], "int64", 0.0, 9.0),
        test_labels=ArrayInfo([10000], "float32", 0.0, 9.0),
    )
    verdict = judge("load_data", make_evidence(EX4, data=data), EX4)
    assert verdict.status == "failed" and verdict.fraction == pytest.approx(0.4)
    assert "train_images (50000, 32, 32)" in verdict.message
    assert "test_labels: float32 values instead of integers" in verdict.message
    assert "train_images has 50000 images but train_labels has 49999 labels" in verdict.message


def test_load_data_label_range() -> None:
    data = mnist_data(train_labels=ArrayInfo([50000], "int64", 1.0, 10.0))
    verdict = judge("load_data", make_evidence(EX4, data=data), EX4)
    assert "values 1 to 10 instead of 0 to 9" in verdict.message


def test_load_data_wrong_structure_and_dataset() -> None:
    data = DataInfo(structure_ok=False, description="train_images is a _PrefetchDataset, not an array")
    verdict = judge("load_data", make_evidence(EX4, data=data), EX4)
    assert verdict.status == "failed" and verdict.fraction == 0
    assert "tfds.as_numpy" in verdict.hint


def test_load_data_raised() -> None:
    steps = {
        "import": ok("import"),
        "load_data": raised(
            "load_data", "FileNotFoundError", "[Errno 2] No such file or directory: 'mnist.npz'", file="exercise4.py"
        ),
    }
    verdict = judge("load_data", make_evidence(EX4, steps=steps, data=None), EX4)
    assert verdict.status == "error"
    assert (
        verdict.message
        == "load_data() raised FileNotFoundError at exercise4.py, line 12: [Errno 2] No such file or directory: 'mnist.npz'"
    )


def test_load_data_not_recorded() -> None:
    assert judge("load_data", make_evidence(EX4, data=None), EX4).status == "error"


# =================================================================================================
# model_built, compiled, input_shape
# =================================================================================================


def test_model_built_message() -> None:
    verdict = judge("model_built", make_evidence())
    assert verdict.message == "build_model() returned a Sequential model with 3 layers, 50,890 parameters."


def test_functional_model_lists_input_layer_and_still_passes() -> None:
    layers = [input_layer([28, 28]), *chapter_layers()]
    model = model_info(layers, returned_type="keras.src.models.functional.Functional")
    evidence = make_evidence(model=model)
    for name in ("model_built", "input_shape", "hidden_layers", "output_layer"):
        assert judge(name, evidence).status == "passed", name
    assert "Functional model with 3 layers" in judge("model_built", evidence).message


def test_compiled_only_in_train_gets_half() -> None:
    model = model_info(compiled=False, compile_config={})
    evidence = make_evidence(model=model, trained=model_info())
    verdict = judge("compiled", evidence)
    assert verdict.status == "failed" and verdict.fraction == 0.5
    assert "compiled later, in train()" in verdict.message


def test_never_compiled() -> None:
    model = model_info(compiled=False, compile_config={})
    train_failed = raised("train", "ValueError", "You must call `compile()` before using the model.")
    evidence = make_evidence(model=model, trained=copy.deepcopy(model), train=None,
                             steps={"import": ok("import"), "build_model": ok("build_model"), "train": train_failed})  # fmt: skip
    verdict = judge("compiled", evidence)
    assert verdict.status == "failed" and verdict.fraction == 0 and "model.compile(" in verdict.hint
    training = judge("training", evidence)
    assert training.status == "error" and "model.compile(" in training.hint
    for name in ("loss", "optimizer", "accuracy_metric"):
        later = judge(name, evidence)
        assert later.status == "failed" and later.message.startswith("Not checked: the model is never compiled"), name


def test_unreadable_compile_config() -> None:
    evidence = make_evidence(model=model_info(compile_config={"error": "TypeError: cannot serialise my_loss"}))
    assert judge("loss", evidence).status == "error"


@pytest.mark.parametrize("shape", [[28, 28], [28, 28, 1], [784], [None, 28]])
def test_input_shape_accepts(shape: list[int | None]) -> None:
    if shape == [None, 28]:
        # A dimension left open (None) fits any size.
        assert judge("input_shape", make_evidence(model=model_info(input_shape=shape))).status == "passed"
        return
    verdict = judge("input_shape", make_evidence(model=model_info(input_shape=shape)))
    assert verdict.status == "passed" and shape_text(shape) in verdict.message


@pytest.mark.parametrize("shape", [[28, 28, 3], [32, 32], [28], [784, 1]])
def test_input_shape_rejects(shape: list[int]) -> None:
    verdict = judge("input_shape", make_evidence(model=model_info(input_shape=shape)))
    assert verdict.status == "failed" and shape_text(shape) in verdict.message
    assert "keras.Input(shape=(28, 28))" in verdict.hint


def test_input_shape_from_fit_when_model_declares_none() -> None:
    unbuilt = model_info(input_shape=None, built=False)
    evidence = make_evidence(model=unbuilt, trained=copy.deepcopy(unbuilt))
    verdict = judge("input_shape", evidence)
    assert verdict.status == "passed" and "as trained" in verdict.message


def test_input_shape_unknown() -> None:
    unbuilt = model_info(input_shape=None, built=False)
    steps = {"import": ok("import"), "build_model": ok("build_model"), "train": raised("train", "ValueError", "boom")}
    verdict = judge(
        "input_shape", make_evidence(model=unbuilt, trained=copy.deepcopy(unbuilt), train=None, steps=steps)
    )
    assert verdict.status == "error" and "declares none" in verdict.message
    verdict = judge("input_shape", make_evidence(model=unbuilt, trained=copy.deepcopy(unbuilt), train=None))
    assert verdict.status == "failed"


# =================================================================================================
# output_layer
# =================================================================================================


def output_model(*last: LayerInfo, output_shape: list[int] | None = None) -> ModelInfo:
    layers = [flatten(), dense(64, "relu"), *last]
    shape = output_shape if output_shape is not None else (last[-1].output_shape if last else [64])
    return model_info(layers, output_shape=shape)


@pytest.mark.parametrize(
    "last",
    [
        [dense(10, "softmax", inputs=64)],
        [dense(10, TF_SOFTMAX, inputs=64)],
        [dense(10, "linear", inputs=64), layer("Softmax", [10], axis=-1)],
        [dense(10, "linear", inputs=64), layer("Activation", [10], activation="softmax")],
        [dense(10, "softmax", inputs=64), layer("Dropout", [10], rate=0.1)],
    ],
)
def test_output_layer_softmax_spellings(last: list[LayerInfo]) -> None:
    verdict = judge("output_layer", make_evidence(model=output_model(*last)))
    assert verdict.status == "passed", verdict
    assert verdict.message == "The output layer is Dense(10, softmax)."


def test_output_layer_sigmoid() -> None:
    verdict = judge("output_layer", make_evidence(model=output_model(dense(10, "sigmoid", inputs=64))))
    assert verdict.status == "failed" and verdict.fraction == 0.5
    assert "sigmoid scores each class independently" in verdict.message
    assert 'activation="softmax"' in verdict.hint


def test_output_layer_linear_without_from_logits() -> None:
    verdict = judge("output_layer", make_evidence(model=output_model(dense(10, "linear", inputs=64))))
    assert verdict.fraction == 0.5 and "no activation" in verdict.message


def test_output_layer_logits_with_from_logits() -> None:
    model = output_model(dense(10, "linear", inputs=64))
    model.compile_config = compile_config(loss=SCCE_LOGITS)
    evidence = make_evidence(model=model)
    strict = judge("output_layer", evidence, FASHION)
    assert strict.status == "failed" and strict.fraction == 0.5 and "outputs logits" in strict.message
    relaxed = judge("output_layer", evidence, EX4)
    assert relaxed.status == "passed" and "logits" in relaxed.message


@pytest.mark.parametrize("units", [1, 5, 11, 100])
def test_output_layer_wrong_units(units: int) -> None:
    verdict = judge("output_layer", make_evidence(model=output_model(dense(units, "softmax", inputs=64))))
    assert verdict.status == "failed" and verdict.fraction == 0.5
    assert f"it has {units} units, but there are 10 classes" in verdict.message
    assert "Dense(10, ...)" in verdict.hint


def test_output_layer_wrong_units_and_activation() -> None:
    verdict = judge("output_layer", make_evidence(model=output_model(dense(1, "sigmoid", inputs=64))))
    assert verdict.fraction == 0


def test_output_layer_missing_flatten() -> None:
    layers = [dense(64, "relu", inputs=28), dense(10, "softmax", inputs=64)]
    layers[0].output_shape, layers[1].output_shape = [28, 64], [28, 10]
    evidence = make_evidence(model=model_info(layers, output_shape=[28, 10]))
    verdict = judge("output_layer", evidence)
    assert verdict.status == "failed" and verdict.fraction == 0
    assert verdict.message == "The model outputs shape (28, 10) for each image, not (10,)."
    assert "Flatten()" in verdict.hint


def test_output_layer_no_dense_at_all() -> None:
    evidence = make_evidence(model=model_info([flatten()], output_shape=[784]))
    assert judge("output_layer", evidence).status == "failed"


def test_output_layer_units_from_config_when_unbuilt() -> None:
    unbuilt = output_model(dense(10, "softmax", inputs=64), output_shape=None)
    unbuilt.output_shape = None
    assert judge("output_layer", make_evidence(model=unbuilt, trained=None)).status == "passed"


# =================================================================================================
# hidden_layers
# =================================================================================================


def test_hidden_layers_exact_relu_layer_object() -> None:
    layers = [flatten(), dense(64, "linear"), layer("ReLU", [64], negative_slope=0.0), dense(10, "softmax", inputs=64)]
    assert judge("hidden_layers", make_evidence(model=model_info(layers))).status == "passed"


@pytest.mark.parametrize(
    "hidden, fraction, shown",
    [
        # The chapter's one Dense layer with another size or activation: half the points.
        ([dense(128, "relu")], 0.5, "Dense(128, relu)"),
        ([dense(64, "sigmoid")], 0.5, "Dense(64, sigmoid)"),
        ([dense(64, "linear")], 0.5, "Dense(64, linear)"),
        # A different architecture (more or fewer hidden layers): none.
        ([dense(128, "relu"), dense(64, "relu", inputs=128)], 0.0, "Dense(128, relu), Dense(64, relu)"),
        ([], 0.0, "none"),
    ],
)
def test_hidden_layers_exact_partial_credit(hidden: list[LayerInfo], fraction: float, shown: str) -> None:
    layers = [flatten(), *hidden, dense(10, "softmax", inputs=64)]
    verdict = judge("hidden_layers", make_evidence(model=model_info(layers)))
    assert verdict.status == "failed" and verdict.fraction == pytest.approx(fraction)
    if fraction:
        assert verdict.message == f"Hidden layers: {shown}; the exercise asks for exactly Dense(64, relu)."
    else:
        assert verdict.message.startswith(f"Hidden layers: {shown}. This is a different architecture")
        assert "exactly 1 hidden layer, Dense(64, relu)" in verdict.message


def test_hidden_layers_any_sensible_cnn() -> None:
    layers = [
        input_layer([28, 28, 1]),
        layer("Conv2D", [26, 26, 32], 320, filters=32, kernel_size=[3, 3], activation="relu"),
        layer("MaxPooling2D", [13, 13, 32], pool_size=[2, 2]),
        layer("BatchNormalization", [13, 13, 32], 128, axis=-1),
        layer("Dropout", [13, 13, 32], rate=0.25),
        flatten(5408),
        dense(10, "softmax", inputs=5408),
    ]
    model = model_info(layers, input_shape=[28, 28, 1], returned_type="keras.src.models.functional.Functional")
    verdict = judge("hidden_layers", make_evidence(EX4, model=model), EX4)
    assert verdict.status == "passed" and "Conv2D(32 filters, relu)" in verdict.message
    assert "(budget 2,000,000)" in verdict.message


def test_hidden_layers_none_for_exercise4() -> None:
    model = model_info([flatten(), dense(10, "softmax")])
    verdict = judge("hidden_layers", make_evidence(EX4, model=model), EX4)
    assert verdict.status == "failed" and verdict.fraction == 0 and "0 hidden layers" in verdict.message


def test_hidden_layers_all_linear() -> None:
    model = model_info(
        [flatten(), dense(128, "linear"), dense(64, "linear", inputs=128), dense(10, "softmax", inputs=64)]
    )
    verdict = judge("hidden_layers", make_evidence(EX4, model=model), EX4)
    assert verdict.status == "failed" and "still a linear model" in verdict.message


def test_hidden_layers_over_budget() -> None:
    model = model_info(
        [flatten(), dense(4096, "relu"), dense(4096, "relu", inputs=4096), dense(10, "softmax", inputs=4096)]
    )
    verdict = judge("hidden_layers", make_evidence(EX4, model=model), EX4)
    assert verdict.status == "failed" and verdict.fraction == 0.5
    assert "20,037,642 parameters, over the budget of 2,000,000" in verdict.message


DROPOUT_REQUIRED = {
    "exactly": [{"layer": "Dense", "units": 256, "activation": "relu"}],
    "required_layers": [{"layer": "Dropout", "rate": [0.2, 0.5]}],
}


@pytest.mark.parametrize(
    "between, status, fraction, words",
    [
        ([layer("Dropout", [256], rate=0.3)], "passed", 1.0, "Dense(256, relu)"),
        ([], "failed", 0.5, "no Dropout layer"),
        (
            [layer("Dropout", [256], rate=0.7)],
            "failed",
            0.5,
            "rate is 0.7; the exercise asks for a rate from 0.2 to 0.5",
        ),
        # A layer of a related class is not the one asked for: the spec names the class.
        ([layer("GaussianDropout", [256], rate=0.3)], "failed", 0.5, "no Dropout layer"),
    ],
)
def test_hidden_layers_required_layers(between: list[LayerInfo], status: str, fraction: float, words: str) -> None:
    layers = [flatten(), dense(256, "relu"), *between, dense(10, "softmax", inputs=256)]
    verdict = JUDGES["hidden_layers"](make_evidence(model=model_info(layers)), DROPOUT_REQUIRED, FASHION)
    assert (verdict.status, verdict.fraction) == (status, pytest.approx(fraction))
    assert words in verdict.message
    if status == "failed":
        assert "Dropout layer (rate 0.2 to 0.5)" in verdict.hint


def test_hidden_layers_required_layers_share_what_the_layers_earned() -> None:
    """A wrong hidden layer and no Dropout: half of the half the wrong size earns; both said."""
    layers = [flatten(), dense(16, "relu"), dense(10, "softmax", inputs=16)]
    verdict = JUDGES["hidden_layers"](make_evidence(model=model_info(layers)), DROPOUT_REQUIRED, FASHION)
    assert verdict.status == "failed" and verdict.fraction == pytest.approx(0.25)
    assert "Dense(16, relu)" in verdict.message and "no Dropout layer" in verdict.message


# =================================================================================================
# loss
# =================================================================================================


@pytest.mark.parametrize(
    "loss", ["sparse_categorical_crossentropy", "SparseCategoricalCrossentropy", SCCE_OBJECT, SCCE_FUNCTION]
)
def test_loss_accepts_sparse_spellings(loss: Any) -> None:
    verdict = judge("loss", with_compile(loss=loss))
    assert verdict.status == "passed" and "integer labels" in verdict.message


def test_loss_categorical_with_integer_labels() -> None:
    verdict = judge("loss", with_compile(loss="categorical_crossentropy"))
    assert verdict.status == "failed" and verdict.fraction == 0
    assert "expects one-hot labels" in verdict.message and "sparse_categorical_crossentropy" in verdict.hint


def test_loss_categorical_with_one_hot_labels() -> None:
    evidence = with_compile(loss=CCE_OBJECT)
    evidence.sandbox.train.fit_calls[0].y_shape = [60000, 10]  # type: ignore[union-attr]
    fashion = judge("loss", evidence, FASHION)
    assert fashion.status == "failed" and fashion.fraction == 0.5 and "it works, but" in fashion.message
    assert judge("loss", evidence, EX4).status == "passed"


def test_loss_sparse_with_one_hot_labels() -> None:
    evidence = with_compile(loss="sparse_categorical_crossentropy")
    evidence.sandbox.train.fit_calls[0].y_shape = [60000, 10]  # type: ignore[union-attr]
    verdict = judge("loss", evidence)
    assert verdict.status == "failed" and "one-hot" in verdict.message


@pytest.mark.parametrize("loss", ["binary_crossentropy", BCE_OBJECT, "BCE"])
def test_loss_binary(loss: Any) -> None:
    verdict = judge("loss", with_compile(loss=loss))
    assert verdict.status == "failed" and verdict.fraction == 0
    assert "two classes" in verdict.message and "sparse_categorical_crossentropy" in verdict.hint


@pytest.mark.parametrize(
    "loss, words", [("mse", "regression"), ("hinge", "margin"), ("poisson", "not a cross-entropy")]
)
def test_loss_other(loss: str, words: str) -> None:
    verdict = judge("loss", with_compile(loss=loss))
    assert verdict.status == "failed" and words in verdict.message


def test_loss_from_logits_with_softmax_output() -> None:
    verdict = judge("loss", with_compile(loss=SCCE_LOGITS))
    assert verdict.status == "failed" and verdict.fraction == 0.5
    assert "outputs probabilities" in verdict.message and "Remove from_logits=True" in verdict.hint


def test_loss_linear_output_without_from_logits() -> None:
    model = output_model(dense(10, "linear", inputs=64))
    verdict = judge("loss", make_evidence(model=model))
    assert verdict.status == "failed" and verdict.fraction == 0.5 and "logits" in verdict.message


def test_loss_linear_output_with_from_logits() -> None:
    model = output_model(dense(10, "linear", inputs=64))
    model.compile_config = compile_config(loss=SCCE_LOGITS)
    assert judge("loss", make_evidence(model=model)).status == "passed"


def test_loss_missing() -> None:
    verdict = judge("loss", with_compile(loss=None))
    assert verdict.status == "failed" and 'loss="sparse_categorical_crossentropy"' in verdict.hint


# =================================================================================================
# optimizer
# =================================================================================================


def test_optimizer_adam_passes_with_rate() -> None:
    assert judge("optimizer", make_evidence()).message == "The optimizer is Adam (learning rate 0.001)."


def test_optimizer_not_adam_for_fashion_any_for_exercise4() -> None:
    evidence = with_compile(optimizer=SGD)
    verdict = judge("optimizer", evidence, FASHION)
    assert (
        verdict.status == "failed"
        and verdict.message == 'The optimizer is SGD (learning rate 0.01); the exercise asks for "adam".'
    )
    assert judge("optimizer", evidence, EX4).status == "passed"


def test_optimizer_learning_rate_diverges() -> None:
    evidence = with_compile(optimizer=adam(5.0))
    evidence.sandbox.train.history = {"accuracy": [0.14, 0.09, 0.14], "loss": [5431908.5, 22423520.0, 29500642.0]}  # type: ignore[union-attr]
    verdict = judge("optimizer", evidence, EX4)
    assert verdict.status == "failed" and verdict.fraction == 0.5
    assert "learning rate 5, 5000 times its default of 0.001" in verdict.message
    assert "Lower the learning rate" in verdict.hint


def test_optimizer_learning_rate_stalls_at_chance() -> None:
    evidence = with_compile(optimizer=adam(5.0))
    evidence.sandbox.train.history = {"accuracy": [0.0991, 0.0972], "loss": [117.76, 2.7568]}  # type: ignore[union-attr]
    verdict = judge("optimizer", evidence, FASHION)
    assert verdict.status == "failed" and verdict.fraction == 0.5 and "learned nothing" in verdict.message
    training = judge("training", evidence)
    assert training.status == "failed" and training.fraction == 0
    assert training.message.startswith("train() ran 2 epochs, but the model learned nothing")


def test_optimizer_divergence_at_default_rate_is_not_blamed_on_it() -> None:
    evidence = make_evidence(history={"loss": [2.3, math.nan]})
    assert judge("optimizer", evidence).status == "passed"


def test_optimizer_schedule() -> None:
    assert (
        judge("optimizer", with_compile(optimizer=ADAM_SCHEDULE)).message
        == "The optimizer is Adam (learning rate 0.01)."
    )


# =================================================================================================
# accuracy_metric
# =================================================================================================


@pytest.mark.parametrize(
    "metrics",
    [
        ["accuracy"],
        ["acc"],
        ["Accuracy"],
        [SCA_OBJECT],
        [SCA_FUNCTION],
        ["sparse_categorical_accuracy"],
        ["mse", "accuracy"],
    ],
)
def test_accuracy_metric_accepts(metrics: list[Any]) -> None:
    assert judge("accuracy_metric", with_compile(metrics=metrics)).status == "passed"


def test_accuracy_metric_weighted() -> None:
    assert judge("accuracy_metric", with_compile(metrics=None, weighted_metrics=["accuracy"])).status == "passed"


def test_accuracy_metric_none() -> None:
    verdict = judge("accuracy_metric", with_compile(metrics=None))
    assert (
        verdict.status == "failed"
        and verdict.message == "The model is compiled without metrics, so training reports no accuracy."
    )
    assert 'metrics=["accuracy"]' in verdict.hint


def test_accuracy_metric_passed_positionally() -> None:
    # model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"]): the list is loss_weights
    verdict = judge("accuracy_metric", with_compile(metrics=None, loss_weights=["accuracy"]))
    assert verdict.status == "failed" and "loss_weights" in verdict.message and "by keyword" in verdict.hint


def test_accuracy_metric_elementwise_accuracy_object() -> None:
    verdict = judge("accuracy_metric", with_compile(metrics=[ACCURACY_OBJECT]))
    assert verdict.status == "failed" and "value by value" in verdict.message


def test_accuracy_metric_categorical_with_integer_labels() -> None:
    verdict = judge("accuracy_metric", with_compile(metrics=[CA_OBJECT]))
    assert verdict.status == "failed" and "categorical_accuracy expects one-hot labels" in verdict.message


def test_accuracy_metric_categorical_with_one_hot_labels() -> None:
    evidence = with_compile(loss="categorical_crossentropy", metrics=[CA_OBJECT])
    evidence.sandbox.train.fit_calls[0].y_shape = [60000, 10]  # type: ignore[union-attr]
    assert judge("accuracy_metric", evidence).status == "passed"


def test_accuracy_metric_binary_and_other() -> None:
    assert "two classes" in judge("accuracy_metric", with_compile(metrics=["binary_accuracy"])).message
    assert judge("accuracy_metric", with_compile(metrics=["mse"])).message == 'Metrics: "mse", but no accuracy.'


# =================================================================================================
# training
# =================================================================================================


def test_training_passes_with_epochs_and_loss() -> None:
    verdict = judge("training", make_evidence())
    assert (
        verdict.message
        == "train() returned the History of 5 epochs: the loss fell from 0.5174 to 0.3153, training accuracy 0.8846."
    )


def test_training_returned_none_after_fit() -> None:
    evidence = make_evidence()
    evidence.sandbox.train.is_history = False  # type: ignore[union-attr]
    evidence.sandbox.train.returned_type = "builtins.NoneType"  # type: ignore[union-attr]
    verdict = judge("training", evidence)
    assert verdict.status == "failed" and verdict.fraction == 0.5
    assert "returned None instead of the History" in verdict.message and "return history" in verdict.hint


def test_training_never_fitted() -> None:
    evidence = make_evidence()
    evidence.sandbox.train = TrainInfo(returned_type="builtins.NoneType", is_history=False)
    verdict = judge("training", evidence)
    assert verdict.fraction == 0 and "never called model.fit()" in verdict.message


def test_training_nan_loss() -> None:
    verdict = judge("training", make_evidence(history={"loss": [2.3, math.nan, math.nan]}))
    assert verdict.status == "failed" and verdict.fraction == 0
    assert verdict.message == "train() ran 3 epochs, but the training loss became nan at epoch 2."


def test_training_rising_loss() -> None:
    verdict = judge("training", make_evidence(history={"loss": [2.3, 2.5]}))
    assert verdict.status == "failed" and "rose from 2.3 to 2.5" in verdict.message


def test_training_flat_loss() -> None:
    verdict = judge("training", make_evidence(history={"loss": [2.3, 2.3]}))
    assert verdict.status == "failed" and "did not fall" in verdict.message


def test_training_single_epoch() -> None:
    evidence = make_evidence(history={"loss": [0.5], "accuracy": [0.82]})
    evidence.sandbox.train.fit_calls[0].epochs = 1  # type: ignore[union-attr]
    verdict = judge("training", evidence)
    assert verdict.status == "failed" and verdict.fraction == 0.5 and "single epoch" in verdict.message


def test_training_fit_in_a_loop() -> None:
    evidence = make_evidence(history={"loss": [0.31], "accuracy": [0.88]})
    evidence.sandbox.train.fit_calls = [FitCall(x_shape=[60000, 28, 28], y_shape=[60000], epochs=1) for _ in range(5)]  # type: ignore[union-attr]
    verdict = judge("training", evidence)
    assert verdict.status == "passed" and "5 epochs in 5 calls" in verdict.message


def test_training_empty_history() -> None:
    verdict = judge("training", make_evidence(history={}))
    assert verdict.status == "failed" and "no loss values" in verdict.message


def test_training_raised_with_diagnosis() -> None:
    failure = raised(
        "train",
        "ValueError",
        "Arguments `target` and `output` must have the same rank (ndim). Received: target.shape=(32,), output.shape=(32, 10)",
        line=33,
    )
    steps = {"import": ok("import"), "build_model": ok("build_model"), "train": failure}
    evidence = make_evidence(model=model_info(compile_config=compile_config(loss="categorical_crossentropy")), steps=steps,
                             evaluation=EvaluationEvidence(status="not_run"))  # fmt: skip
    verdict = judge("training", evidence)
    assert verdict.status == "error"
    assert verdict.message.startswith("train() raised ValueError at fashion_mnist.py, line 33: Arguments `target`")
    assert "sparse_categorical_crossentropy" in verdict.hint
    # The loss check explains the same mistake from the compile config.
    assert "expects one-hot labels" in judge("loss", evidence).message


# =================================================================================================
# test_accuracy
# =================================================================================================


def with_accuracy(
    accuracy: float, spec: ExerciseSpec = FASHION, history: dict[str, list[float]] | None = None, scaling: str = "unit"
) -> Evidence:
    evaluation = EvaluationEvidence(status="ok", test_accuracy=accuracy, n_test=10000, input_scaling=scaling,
                                    probe_accuracy={"unit": 0.5, "raw": 0.8} if scaling == "raw" else {"unit": 0.88, "raw": 0.1})  # fmt: skip
    return make_evidence(spec, evaluation=evaluation, history=history)


def test_test_accuracy_full_marks() -> None:
    verdict = judge("test_accuracy", with_accuracy(0.8647))
    assert verdict.status == "passed"
    assert verdict.message == "Test accuracy 0.8647 on the 10,000 test images (full marks from 0.85)."


@pytest.mark.parametrize(
    "accuracy, fraction",
    [
        (0.85, 1.0),
        (0.8499, 0.7),
        (0.83, 0.7),
        (0.8299, 0.4),
        (0.80, 0.4),
        (0.79, 0.2),
        (0.75, 0.2),
        (0.7499, 0.0),
        (0.1, 0.0),
    ],
)
def test_test_accuracy_bands(accuracy: float, fraction: float) -> None:
    verdict = judge("test_accuracy", with_accuracy(accuracy))
    assert verdict.fraction == pytest.approx(fraction)
    assert f"{accuracy:.4f}" in verdict.message


def test_test_accuracy_threshold_is_one_number() -> None:
    assert judge("test_accuracy", with_accuracy(0.8647), threshold=0.87).status == "failed"
    assert judge("test_accuracy", with_accuracy(0.96, EX4), EX4).status == "passed"
    assert judge("test_accuracy", with_accuracy(0.94, EX4), EX4).fraction == 0.7


def test_test_accuracy_raw_pixels() -> None:
    verdict = judge("test_accuracy", with_accuracy(0.62, EX4, scaling="raw"), EX4)
    assert verdict.status == "failed" and "raw 0-255 pixels" in verdict.message
    assert "divide the images by 255.0" in verdict.hint
    assert "raw 0-255" in judge("test_accuracy", with_accuracy(0.97, EX4, scaling="raw"), EX4).message


def test_test_accuracy_overfitting_hint() -> None:
    history = {"accuracy": [0.90, 0.95, 0.97, 0.98, 0.985], "loss": [0.3, 0.15, 0.1, 0.06, 0.04]}
    verdict = judge("test_accuracy", with_accuracy(0.84, history=history))
    assert "Training accuracy 0.9850 against test accuracy 0.8400" in verdict.hint and "overfitting" in verdict.hint


def test_test_accuracy_too_few_epochs_hint() -> None:
    history = {"accuracy": [0.78, 0.82], "loss": [0.6, 0.5]}
    verdict = judge("test_accuracy", with_accuracy(0.81, history=history))
    assert verdict.hint.startswith(
        "Training accuracy was still rising at the last epoch (0.7800 -> 0.8200). Train for more epochs"
    )


def test_test_accuracy_divergence_hint() -> None:
    verdict = judge("test_accuracy", with_accuracy(0.1, history={"loss": [2.3, 9.1]}))
    assert verdict.hint.startswith("The training loss rose from 2.3 to 9.1.") and "learning rate" in verdict.hint


def test_test_accuracy_generic_hint() -> None:
    history = {"accuracy": [0.80, 0.801], "loss": [0.5, 0.499]}
    assert "more epochs" in judge("test_accuracy", with_accuracy(0.80, history=history)).hint


def test_test_accuracy_model_not_loadable() -> None:
    evaluation = EvaluationEvidence(
        status="error",
        error="the model contains a Lambda layer (arbitrary code), which the grader does not load for safety; use built-in layers such as Rescaling or Flatten instead",
    )
    verdict = judge("test_accuracy", make_evidence(evaluation=evaluation))
    assert verdict.status == "error" and verdict.fraction == 0
    assert verdict.message.startswith("The trained model could not be tested: the model contains a Lambda layer")


def test_test_accuracy_not_run_without_cause() -> None:
    evaluation = EvaluationEvidence(status="not_run", error="the trained model could not be saved: TypeError: x")
    verdict = judge("test_accuracy", make_evidence(evaluation=evaluation))
    assert (
        verdict.status == "error"
        and verdict.message == "The trained model was not tested: the trained model could not be saved: TypeError: x."
    )


def test_missing_evidence_is_never_a_pass() -> None:
    """Empty evidence (a child that recorded nothing) fails or errors every check of both specs."""
    for spec in (FASHION, EX4):
        evidence = Evidence(sandbox=SandboxEvidence(submission=spec.stub, seed=42, run=RunInfo(returncode=1)))
        for check in spec.checks:
            verdict = JUDGES[check.judge](evidence, dict(check.params), spec)
            assert verdict.status in ("failed", "error"), (spec.id, check.id, verdict)
            assert verdict.fraction == 0, (spec.id, check.id)


def test_judges_and_scoring_import_no_tensorflow() -> None:
    """Judges are pure: importing them must not pull in TensorFlow or Keras (checked in a fresh
    interpreter, since other tests in this process may have imported them)."""
    import subprocess
    import sys

    code = "import sys, grader.judges, grader.scoring; print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_sentences_keep_file_names_and_code_as_written() -> None:
    from grader.judges.vocabulary import sentence_case

    assert sentence_case("units_inf.keras could not be loaded") == "units_inf.keras could not be loaded"
    assert sentence_case("model.fit raised ValueError") == "model.fit raised ValueError"
    assert sentence_case("build_model() raised") == "build_model() raised"
    assert sentence_case("the saved model could not be loaded") == "The saved model could not be loaded"
