"""Judges of the model ``build_model()`` returns: built, compiled, input, output, hidden layers.

The structure checks read ``Evidence.graded_model``: the facts the trusted evaluation measured
from the model file it scored. Only when no model came back (the run cannot pass then) do they
fall back on what the run recorded: the model after training when there is one (a Sequential
model without an ``Input`` only knows its shapes once it has seen data), else the model
``build_model()`` returned.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from grader.datasets import DatasetInfo, dataset_info
from grader.evidence import Evidence, ModelInfo
from grader.judges.base import JudgeParams, Shape, Verdict
from grader.judges.causes import find_cause, model_cause, model_source
from grader.judges.diagnose import NOT_COMPILED_HINT, missing_flatten_hint, never_fitted, trained_without_fit
from grader.judges.names import ActivationName, FractionRange, LayerName
from grader.judges.vocabulary import (
    Block,
    blocks,
    canonical_loss,
    is_nonlinear,
    reduces_to_vector,
    sentence_case,
    shape_text,
    short_type,
    total_params,
)
from grader.messages import _
from grader.messages import judges as messages
from grader.safe_text import printable
from grader.spec import ExerciseSpec


def judge_model_built(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """``build_model()`` ran and returned a Keras model."""
    cause = model_cause(evidence, spec)
    if cause is not None:
        return cause.verdict("build_model")
    model = evidence.graded_model if evidence.facts_are_trusted else (evidence.sandbox.model or evidence.graded_model)
    assert model is not None  # model_cause checked it
    layers = [layer for layer in model.layers if layer.class_name != "InputLayer"]
    described = messages.model_described(short_type(model.returned_type), len(layers), _known_params(model))
    source = model_source(evidence)  # scripts, notebooks, solution_model(), saved models
    if evidence.sandbox.graded_as != "module" and source:
        return Verdict.passed(messages.source_is(sentence_case(source), described))
    return Verdict.passed(messages.build_model_returned(described))


def _known_params(model: ModelInfo) -> int | None:
    """The model's parameter count, or None when its weights do not exist yet: a subclass of
    keras.Model (or a model without an input shape) creates them when it first sees data, so
    before training it counts 0 parameters though its Dense layers will hold thousands."""
    count = total_params(model)
    if not count and any("units" in layer.config or "filters" in layer.config for layer in model.layers):
        return None
    return count


# A layer class name fit to print as code (it comes from the learner's process).
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,40}")
# Layers a Sequential rewrite leaves out: the input is written as keras.Input.
_NOT_REWRITTEN = frozenset({"InputLayer"})


def _layer_code(class_name: str, config: dict[str, Any]) -> str:
    """``keras.layers.Dense(128, activation="relu")`` from a layer's class and config."""
    arguments: list[str] = []
    for size in ("units", "filters"):
        if isinstance(config.get(size), int):
            arguments.append(str(config[size]))
    kernel = config.get("kernel_size")
    if isinstance(kernel, (list, tuple)) and kernel and all(isinstance(k, int) for k in kernel):
        arguments.append(shape_text(list(kernel)))
    rate = config.get("rate")
    if isinstance(rate, (int, float)) and not isinstance(rate, bool):
        arguments.append(f"{float(rate):g}")
    activation = config.get("activation")
    if isinstance(activation, str) and _IDENTIFIER.fullmatch(activation) and activation != "linear":
        arguments.append(f'activation="{activation}"')
    return f"keras.layers.{class_name}({', '.join(arguments)})"


def sequential_code(model: ModelInfo | None, input_shape: list[int | None]) -> str:
    """The model's layers written as ``keras.Sequential([...])``: how a subclass of
    keras.Model is rebuilt so that the grader can test it. Empty when no layer is known."""
    if model is None:
        return ""
    written = [
        _layer_code(layer.class_name, layer.config)
        for layer in model.layers
        if layer.class_name not in _NOT_REWRITTEN and _IDENTIFIER.fullmatch(layer.class_name)
    ]
    if not written or len(written) > 12:
        return ""
    shape = shape_text([d for d in input_shape if d is not None])
    return "keras.Sequential([" + ", ".join([f"keras.Input(shape={shape})", *written]) + "])"


def custom_class_verdict(evidence: Evidence, spec: ExerciseSpec) -> Verdict:
    """The test accuracy of a model that is a subclass of keras.Model: not measured, because
    the trusted evaluation loads models in Keras' safe mode and never runs a learner's
    ``call()``. Not an accusation: the message says what the grader can test and the hint
    shows the same layers in ``keras.Sequential``."""
    name = printable(evidence.evaluation.custom_model_class, keep_newlines=False, limit=60)
    train = evidence.sandbox.train
    calls = train.fit_calls if train else []
    shape: list[int | None] = list(calls[-1].x_shape[1:]) if calls and calls[-1].x_shape else []
    if not shape:
        shape = list(dataset_info(spec.dataset or "").input_shapes[0])
    code = sequential_code(evidence.sandbox.final_model, shape)
    hint = messages.rebuild_as_sequential(code) if code else _(messages.REBUILD_AS_SEQUENTIAL_HINT)
    return Verdict.failed(messages.subclass_not_tested(name), hint)


class CompiledParams(JudgeParams):
    """``[checks.params]`` of ``judge = "compiled"``."""

    compiled_in_train: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Share of the points when the model is compiled in train(), not build_model().",
    )


def judge_compiled(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """``build_model()`` returns the model already compiled.

    A model compiled only inside ``train()`` works, but is not what the exercise asks for: it gets
    ``compiled_in_train`` of the points (default 0.5).
    """
    cause = model_cause(evidence, spec)
    if cause is not None:
        return cause.brief_verdict()
    sandbox = evidence.sandbox
    if sandbox.graded_as != "module":
        # Only the finished model is seen: whether it is compiled is all there is to judge.
        if evidence.graded_model is not None and evidence.graded_model.compiled:
            return Verdict.passed(_(messages.MODEL_COMPILED))
        if sandbox.graded_as == "saved_model":
            return Verdict.failed(_(messages.SAVED_MODEL_NOT_COMPILED), _(messages.SAVED_MODEL_NOT_COMPILED_HINT))
        return _never_compiled(evidence, spec, _(messages.COMPILE_BEFORE_TRAINING_HINT))
    graded = evidence.graded_model
    if evidence.facts_are_trusted and graded is not None and not graded.compiled:
        return _never_compiled(evidence, spec, _(NOT_COMPILED_HINT))
    # When it was compiled (in build_model() or later, in train()) only the run can tell.
    returned = sandbox.model
    if returned is not None and returned.compiled:
        return Verdict.passed(_(messages.RETURNS_COMPILED))
    trained = graded if evidence.facts_are_trusted else sandbox.trained_model
    if trained is not None and trained.compiled:
        return Verdict.failed(
            _(messages.COMPILED_IN_TRAIN),
            _(messages.COMPILED_IN_TRAIN_HINT),
            CompiledParams.of(params).compiled_in_train,
        )
    return _never_compiled(evidence, spec, _(NOT_COMPILED_HINT))


def _never_compiled(evidence: Evidence, spec: ExerciseSpec, hint: str) -> Verdict:
    """A model never compiled. Without any model.fit() call it may still have been trained
    another way (a custom GradientTape loop): then the message says so, instead of claiming
    that Keras cannot train it, and asks for compile() and fit() as the chapter uses them."""
    if not never_fitted(evidence) or find_cause(evidence, spec, "train") is not None:
        # fit() was called (and raised), or training stopped at an error before any fit.
        return Verdict.failed(_(messages.NEVER_COMPILED), hint)
    accuracy = trained_without_fit(evidence, spec)
    if accuracy is not None:
        return Verdict.failed(messages.compiled_trained_without_fit(accuracy), _(messages.COMPILE_AND_FIT_HINT))
    return Verdict.failed(_(messages.NEVER_COMPILED_NO_FIT), _(messages.COMPILE_AND_FIT_HINT))


def _model(evidence: Evidence) -> ModelInfo:
    model = evidence.graded_model
    assert model is not None
    return model


class InputShapeParams(JudgeParams):
    """``[checks.params]`` of ``judge = "input_shape"``."""

    accepted: list[Shape] | None = Field(
        default=None,
        min_length=1,
        description="Input shapes (without the batch size) for full marks. Default: every shape that holds "
        "one image of the exercise's dataset, as its registry entry lists them (grader.datasets).",
    )


def input_hint(info: DatasetInfo) -> str:
    """How to start a model on ``info``'s images: Input and Flatten (and the Conv2D shape)."""
    shapes = info.input_shapes
    with_channels = shape_text(shapes[1]) if info.channels == 1 else None
    return messages.input_shape_hint(shape_text(shapes[0]), with_channels)


def judge_input_shape(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """The model takes the dataset's images: for 28x28 images input (28, 28), (28, 28, 1) or
    (784,); for 32x32x3 ones (32, 32, 3) or (3072,) (``accepted`` overrides)."""
    cause = model_cause(evidence, spec)
    if cause is not None:
        return cause.brief_verdict()
    info = dataset_info(spec.dataset or "")
    accepted = [list(shape) for shape in (InputShapeParams.of(params).accepted or info.input_shapes)]
    model = _model(evidence)
    shape = model.input_shape
    as_trained = False
    if shape is None:
        # A Sequential model without Input is only built by fit(): use what fit() was given.
        train = evidence.sandbox.train
        calls = train.fit_calls if train else []
        if calls and calls[-1].x_shape:
            shape = list(calls[-1].x_shape[1:])
            as_trained = True
    allowed = messages.listing([shape_text(s) for s in accepted])
    declare_hint = messages.declare_input_hint(shape_text(info.input_shapes[0]))
    if shape is None:
        if find_cause(evidence, spec, "train") is not None:
            return Verdict.error(_(messages.NO_INPUT_SHAPE_UNTRAINED), declare_hint)
        return Verdict.failed(_(messages.NO_INPUT_SHAPE), declare_hint)
    if any(_fits(shape, s) for s in accepted):
        return Verdict.passed(messages.takes_images(shape_text(shape), as_trained))
    return Verdict.failed(
        messages.wrong_input_shape(shape_text(shape), allowed, as_trained, info.shape_text), input_hint(info)
    )


def _fits(shape: list[int | None], accepted: list[int]) -> bool:
    """Same rank, and every declared dimension equal (None accepts any size)."""
    return len(shape) == len(accepted) and all(d is None or d == a for d, a in zip(shape, accepted, strict=True))


def output_block(model: ModelInfo) -> Block | None:
    found = blocks(model.layers)
    return found[-1] if found else None


class OutputLayerParams(JudgeParams):
    """``[checks.params]`` of ``judge = "output_layer"``."""

    units: int | None = Field(
        default=None, gt=0, description="Units of the output layer. Default: one per class of the exercise's dataset."
    )
    activation: ActivationName = Field(default="softmax", description="The output activation, as Keras names it.")
    allow_logits: bool = Field(
        default=False, description="A linear output with from_logits=True in the loss also earns full marks."
    )


def judge_output_layer(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """The output is one value per class (``units``, default the dataset's classes) through a softmax.

    The activation may be in the last Dense layer or a following Softmax/Activation layer. With
    ``allow_logits`` true, a linear output (logits) is also full marks when the loss is told
    ``from_logits=True`` - that is the recommended Keras idiom; otherwise it gets half.
    Half the points for the units, half for the activation.
    """
    cause = model_cause(evidence, spec)
    if cause is not None:
        return cause.brief_verdict()
    settings = OutputLayerParams.of(params)
    units_wanted = settings.units or dataset_info(spec.dataset or "").num_classes
    activation_wanted = settings.activation
    model = _model(evidence)
    block = output_block(model)
    if block is None:
        return Verdict.failed(_(messages.NO_OUTPUT_LAYER), messages.end_with_output(units_wanted, activation_wanted))
    output_shape = model.output_shape
    if output_shape is not None and len(output_shape) > 1:
        not_vector = messages.output_not_vector(shape_text(output_shape), units_wanted)
        if not reduces_to_vector(model.layers):
            return Verdict.failed(not_vector, missing_flatten_hint(list(output_shape), spec))
        return Verdict.failed(not_vector, messages.flatten_before_output(units_wanted))
    units = output_shape[-1] if output_shape else block.units
    problems: list[str] = []
    hints: list[str] = []
    score = 0.0
    if units == units_wanted:
        score += 0.5
    else:
        problems.append(messages.wrong_output_units(units, units_wanted))
        hints.append(messages.one_unit_per_class(units_wanted))

    activation = block.activation
    loss = canonical_loss(model.compile_config)
    logits_ok = settings.allow_logits
    if activation == activation_wanted:
        score += 0.5
    elif activation == "linear" and loss is not None and loss.from_logits:
        if logits_ok:
            score += 0.5
        else:
            problems.append(_(messages.LOGITS_NOT_ASKED))
            hints.append(messages.use_activation_without_logits(activation_wanted))
    else:
        problems.append(_activation_problem(activation, activation_wanted, has_loss=loss is not None))
        hints.append(messages.use_output_activation(activation_wanted))
    described = f"{block.kind}({units}, {activation})"
    if not problems:
        return Verdict.passed(messages.output_layer_passed(described, logits=activation == "linear"))
    return Verdict.failed(messages.output_layer_failed(described, problems), messages.fixes(hints), score)


def _activation_problem(activation: str, wanted: str, *, has_loss: bool) -> str:
    if activation == "sigmoid":
        return _(messages.SIGMOID_OUTPUT)
    if activation == "linear":
        # Without a compiled loss there is no loss that could expect probabilities.
        return _(messages.LINEAR_OUTPUT if has_loss else messages.LINEAR_OUTPUT_NOT_COMPILED)
    return messages.other_activation(activation, wanted)


class HiddenLayer(JudgeParams):
    """One hidden layer that ``exactly`` asks for."""

    layer: LayerName = Field(default="Dense", description="The layer kind: Dense, Conv2D, ...")
    units: int | None = Field(default=None, gt=0, description="Its units (filters); leave out for any.")
    activation: ActivationName = Field(default="linear", description="Its activation, as Keras names it.")


class RequiredLayer(JudgeParams):
    """A layer ``required_layers`` asks for anywhere in the model: ``{ layer = "Dropout", rate = [0.2, 0.5] }``."""

    layer: LayerName = Field(description="The layer's class as Keras names it: Dropout, BatchNormalization, ...")
    rate: FractionRange | None = Field(
        default=None, description="[lowest, highest]: the rate it must have (Dropout and its kin); leave out for any."
    )

    def describe(self) -> str:
        """``Dropout`` or ``Dropout (rate 0.2 to 0.5)``, as a hint names it."""
        return messages.required_layer(self.layer, self.rate)


class HiddenLayersParams(JudgeParams):
    """``[checks.params]`` of ``judge = "hidden_layers"``: ``exactly``, or the budget keys."""

    exactly: list[HiddenLayer] | None = Field(
        default=None, description="Exactly these hidden layers, in order (the chapter's model); else any sensible one."
    )
    min_hidden: int = Field(default=1, ge=0, description="At least this many hidden layers.")
    max_params: int | None = Field(
        default=None, gt=0, description="At most this many parameters in all; none: no budget."
    )
    required_layers: list[RequiredLayer] = Field(
        default=[],
        description="Layers the model must also hold, anywhere (e.g. a Dropout); each one missing or "
        "outside its range takes an equal share of the points.",
    )


def judge_hidden_layers(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """The hidden layers as ``_hidden_layers_as_asked`` judges them, and then the
    ``required_layers`` (layers that compute nothing themselves, such as Dropout, which the
    hidden layers leave out): each one the model lacks, or holds with a rate outside the range
    asked, takes an equal share of what the hidden layers earned."""
    verdict = _hidden_layers_as_asked(evidence, params, spec)
    required = HiddenLayersParams.of(params).required_layers
    if not required or verdict.status in ("error", "skipped") or evidence.graded_model is None:
        return verdict
    problems = [problem for wanted in required if (problem := _required_layer_problem(evidence.graded_model, wanted))]
    if not problems:
        return verdict
    fraction = verdict.fraction * (1 - len(problems) / (len(required) + 1))
    message = messages.but_also(verdict.message, problems)
    hint = verdict.hint or messages.add_required_layers(messages.and_list([wanted.describe() for wanted in required]))
    return Verdict.failed(message, hint, fraction)


def _required_layer_problem(model: ModelInfo, wanted: RequiredLayer) -> str:
    """What is wrong about one required layer, or "" when the model has it as asked."""
    found = [layer for layer in model.layers if layer.class_name == wanted.layer]
    if not found:
        return messages.missing_required_layer(wanted.layer)
    if wanted.rate is None:
        return ""
    low, high = wanted.rate
    rates = [layer.config.get("rate") for layer in found]
    if any(isinstance(rate, (int, float)) and low <= rate <= high for rate in rates):
        return ""
    shown = [float(rate) if isinstance(rate, (int, float)) else None for rate in rates]
    return messages.required_rate_wrong(wanted.layer, shown, low, high)


def _hidden_layers_as_asked(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """The layers between input and output.

    Two modes, chosen by params:

    * ``exactly``: a list of ``{layer, units, activation}``, e.g. the chapter's one
      ``{layer = "Dense", units = 64, activation = "relu"}``. A different architecture (other
      layer types, more or fewer hidden layers: a CNN, an extra Dense layer) gets no points;
      the same layers get one share for each matching size and activation.
    * otherwise "any sensible architecture": at least ``min_hidden`` (default 1) hidden layers,
      at least one with a nonlinear activation (stacked linear layers are still a linear model),
      and at most ``max_params`` parameters in total. A sensible model over budget gets half.

    "Hidden layer" means a layer that learns (Dense, Conv2D, ...); Flatten, pooling, Dropout,
    BatchNormalization and Reshape are allowed anywhere and not counted.
    """
    cause = model_cause(evidence, spec)
    if cause is not None:
        return cause.brief_verdict()
    model = _model(evidence)
    found = blocks(model.layers)
    hidden = found[:-1]
    shown = messages.listing([b.describe() for b in hidden]) or _(messages.NONE)
    settings = HiddenLayersParams.of(params)
    if settings.exactly is not None:
        return _exact_hidden(hidden, [layer.model_dump() for layer in settings.exactly], shown)

    min_hidden = settings.min_hidden
    max_params = settings.max_params
    if len(hidden) < min_hidden:
        return Verdict.failed(messages.too_few_hidden(len(hidden), min_hidden), _(messages.ADD_HIDDEN_HINT))
    if not any(is_nonlinear(b.activation) for b in hidden):
        return Verdict.failed(messages.hidden_all_linear(shown), _(messages.HIDDEN_ACTIVATION_HINT))
    count = total_params(model)
    if max_params is not None and count is not None and count > int(max_params):
        return Verdict.failed(messages.over_budget(shown, count, int(max_params)), _(messages.OVER_BUDGET_HINT), 0.5)
    budget = int(max_params) if max_params is not None else None
    return Verdict.passed(messages.hidden_passed(shown, count, budget))


def _exact_hidden(hidden: list[Block], expected: list[dict[str, Any]], shown: str) -> Verdict:
    """The exercise asks for one architecture (the chapter's network). A different architecture
    (other layer types such as Conv2D, or more or fewer hidden layers) earns none of the points;
    the same layers with another size or activation earn a share for each one that matches."""
    wanted = messages.listing(
        [f"{e.get('layer', 'Dense')}({e.get('units')}, {e.get('activation', 'linear')})" for e in expected]
    )
    kinds = [block.kind for block in hidden]
    if len(hidden) != len(expected) or any(
        kind != e.get("layer", "Dense") for kind, e in zip(kinds, expected, strict=True)
    ):
        return Verdict.failed(
            messages.other_architecture(shown, len(expected), wanted), messages.build_chapter_network(wanted)
        )
    shares = 2 * len(expected)
    earned = 0
    for block, spec in zip(hidden, expected, strict=True):
        earned += spec.get("units") is None or block.units == spec.get("units")
        earned += block.activation == spec.get("activation", "linear")
    if earned == shares:
        return Verdict.passed(messages.hidden_as_asked(shown))
    return Verdict.failed(messages.hidden_not_exactly(shown, wanted), messages.use_exactly(wanted), earned / shares)
