"""Judges of the model ``build_model()`` returns: built, compiled, input, output, hidden layers.

The structure checks read ``Evidence.graded_model``: the facts the trusted evaluation measured
from the model file it scored. Only when no model came back (the run cannot pass then) do they
fall back on what the run recorded: the model after training when there is one (a Sequential
model without an ``Input`` only knows its shapes once it has seen data), else the model
``build_model()`` returned.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from grader.evidence import Evidence, ModelInfo
from grader.judges.base import JudgeParams, Shape, Verdict
from grader.judges.causes import find_cause, model_cause
from grader.judges.diagnose import NOT_COMPILED_HINT, missing_flatten_hint
from grader.judges.vocabulary import (
    Block,
    blocks,
    canonical_loss,
    is_nonlinear,
    reduces_to_vector,
    shape_text,
    short_type,
    total_params,
)
from grader.spec import ExerciseSpec

DEFAULT_INPUT_SHAPES = [[28, 28], [28, 28, 1], [784]]


def judge_model_built(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """``build_model()`` ran and returned a Keras model."""
    cause = model_cause(evidence, spec)
    if cause is not None:
        return cause.verdict("build_model")
    model = evidence.graded_model if evidence.facts_are_trusted else (evidence.sandbox.model or evidence.graded_model)
    assert model is not None  # model_cause checked it
    layers = [layer for layer in model.layers if layer.class_name != "InputLayer"]
    params_count = total_params(model)
    size = f", {params_count:,} parameters" if params_count is not None else ""
    described = f"a {short_type(model.returned_type)} model with {len(layers)} layers{size}"
    source = evidence.sandbox.model_source  # scripts, notebooks, solution_model(), saved models
    if evidence.sandbox.graded_as != "module" and source:
        return Verdict.passed(f"{source[:1].upper()}{source[1:]} is {described}.")
    return Verdict.passed(f"build_model() returned {described}.")


class CompiledParams(JudgeParams):
    """``[checks.params]`` of ``judge = "compiled"``."""

    compiled_in_train: float = Field(
        default=0.5, ge=0, le=1, description="Share of the points when the model is compiled in train(), not build_model()."
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
            return Verdict.passed("The model is compiled.")
        if sandbox.graded_as == "saved_model":
            return Verdict.failed(
                "The saved model has no compile settings: it was saved before model.compile(...), "
                "or without its optimizer.",
                'Compile and train the model, then save it with model.save("model.keras").',
            )
        return Verdict.failed(
            "The model is never compiled, so Keras cannot train it.",
            'Compile the model before training it: model.compile(optimizer="adam", '
            'loss="sparse_categorical_crossentropy", metrics=["accuracy"]).',
        )
    graded = evidence.graded_model
    if evidence.facts_are_trusted and graded is not None and not graded.compiled:
        return Verdict.failed("The model is never compiled, so Keras cannot train it.", NOT_COMPILED_HINT)
    # When it was compiled (in build_model() or later, in train()) only the run can tell.
    returned = sandbox.model
    if returned is not None and returned.compiled:
        return Verdict.passed("build_model() returns a compiled model.")
    trained = graded if evidence.facts_are_trusted else sandbox.trained_model
    if trained is not None and trained.compiled:
        return Verdict.failed(
            "build_model() returns an uncompiled model; it is compiled later, in train().",
            "Move model.compile(...) into build_model(), just before `return model`.",
            CompiledParams.of(params).compiled_in_train,
        )
    return Verdict.failed("The model is never compiled, so Keras cannot train it.", NOT_COMPILED_HINT)


def _model(evidence: Evidence) -> ModelInfo:
    model = evidence.graded_model
    assert model is not None
    return model


class InputShapeParams(JudgeParams):
    """``[checks.params]`` of ``judge = "input_shape"``."""

    accepted: list[Shape] = Field(
        default=DEFAULT_INPUT_SHAPES, min_length=1, description="Input shapes (without the batch size) for full marks."
    )


def judge_input_shape(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """The model takes 28x28 images: input (28, 28), (28, 28, 1) or (784,) (``accepted``)."""
    cause = model_cause(evidence, spec)
    if cause is not None:
        return cause.brief_verdict()
    accepted = [list(shape) for shape in InputShapeParams.of(params).accepted]
    model = _model(evidence)
    shape = model.input_shape
    source = ""
    if shape is None:
        # A Sequential model without Input is only built by fit(): use what fit() was given.
        train = evidence.sandbox.train
        calls = train.fit_calls if train else []
        if calls and calls[-1].x_shape:
            shape = list(calls[-1].x_shape[1:])
            source = " (as trained: the model declares no input shape)"
    allowed = ", ".join(shape_text(s) for s in accepted)
    if shape is None:
        if find_cause(evidence, spec, "train") is not None:
            return Verdict.error(
                "Could not tell the model's input shape: it declares none and was never trained.",
                "Start the model with keras.Input(shape=(28, 28)) so its input shape is known.",
            )
        return Verdict.failed(
            "The model declares no input shape.",
            "Start the model with keras.Input(shape=(28, 28)) so its input shape is known.",
        )
    if any(_fits(shape, s) for s in accepted):
        return Verdict.passed(f"The model takes images of shape {shape_text(shape)}{source}.")
    return Verdict.failed(
        f"The model takes inputs of shape {shape_text(shape)}{source}; 28x28 images need one of {allowed}.",
        "Start the model with keras.Input(shape=(28, 28)) followed by keras.layers.Flatten() "
        "(or Input(shape=(28, 28, 1)) for Conv2D layers).",
    )


def _fits(shape: list[int | None], accepted: list[int]) -> bool:
    """Same rank, and every declared dimension equal (None accepts any size)."""
    return len(shape) == len(accepted) and all(d is None or d == a for d, a in zip(shape, accepted))


def output_block(model: ModelInfo) -> Block | None:
    found = blocks(model.layers)
    return found[-1] if found else None


class OutputLayerParams(JudgeParams):
    """``[checks.params]`` of ``judge = "output_layer"``."""

    units: int = Field(default=10, gt=0, description="Units of the output layer: one per class.")
    activation: str = Field(default="softmax", description="The output activation, as Keras names it.")
    allow_logits: bool = Field(
        default=False, description="A linear output with from_logits=True in the loss also earns full marks."
    )


def judge_output_layer(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """The output is one value per class (``units``, default 10) through a softmax.

    The activation may be in the last Dense layer or a following Softmax/Activation layer. With
    ``allow_logits`` true, a linear output (logits) is also full marks when the loss is told
    ``from_logits=True`` - that is the recommended Keras idiom; otherwise it gets half.
    Half the points for the units, half for the activation.
    """
    cause = model_cause(evidence, spec)
    if cause is not None:
        return cause.brief_verdict()
    settings = OutputLayerParams.of(params)
    units_wanted = settings.units
    activation_wanted = settings.activation
    model = _model(evidence)
    block = output_block(model)
    if block is None:
        return Verdict.failed(
            "The model has no Dense (or other trainable) layer to produce the output.",
            f'End the model with Dense({units_wanted}, activation="{activation_wanted}").',
        )
    output_shape = model.output_shape
    if output_shape is not None and len(output_shape) > 1:
        if not reduces_to_vector(model.layers):
            return Verdict.failed(
                f"The model outputs shape {shape_text(output_shape)} for each image, not ({units_wanted},).",
                missing_flatten_hint(list(output_shape)),
            )
        return Verdict.failed(
            f"The model outputs shape {shape_text(output_shape)} for each image, not ({units_wanted},).",
            f"Flatten before the output layer so it gives one vector of {units_wanted} values per image.",
        )
    units = output_shape[-1] if output_shape else block.units
    problems: list[str] = []
    hints: list[str] = []
    score = 0.0
    if units == units_wanted:
        score += 0.5
    else:
        problems.append(f"it has {units} units, but there are {units_wanted} classes")
        hints.append(f"the output layer needs one unit per class: Dense({units_wanted}, ...)")

    activation = block.activation
    loss = canonical_loss(model.compile_config)
    logits_ok = settings.allow_logits
    if activation == activation_wanted:
        score += 0.5
    elif activation == "linear" and loss is not None and loss.from_logits:
        if logits_ok:
            score += 0.5
        else:
            problems.append("it outputs logits (linear, with from_logits=True in the loss), which works, but the exercise asks for a softmax output")
            hints.append(f'use activation="{activation_wanted}" in the output layer and a loss without from_logits=True')
    else:
        problems.append(_activation_problem(activation, activation_wanted))
        hints.append(f'use activation="{activation_wanted}" in the output layer, so it gives one probability per class')
    described = f"{block.kind}({units}, {activation})"
    if not problems:
        note = " (logits, with from_logits=True in the loss)" if activation == "linear" else ""
        return Verdict.passed(f"The output layer is {described}{note}.")
    hint = "; ".join(hints)
    return Verdict.failed(
        f"The output layer is {described}: " + "; ".join(problems) + ".",
        hint[:1].upper() + hint[1:] + ".",
        score,
    )


def _activation_problem(activation: str, wanted: str) -> str:
    if activation == "sigmoid":
        return "sigmoid scores each class independently (for yes/no or multi-label outputs), not one choice among the classes"
    if activation == "linear":
        return "it has no activation, so it outputs unnormalised scores (logits) while the loss expects probabilities"
    return f"its activation is {activation}, not {wanted}"


class HiddenLayer(JudgeParams):
    """One hidden layer that ``exactly`` asks for."""

    layer: str = Field(default="Dense", description="The layer kind: Dense, Conv2D, ...")
    units: int | None = Field(default=None, gt=0, description="Its units (filters); leave out for any.")
    activation: str = Field(default="linear", description="Its activation, as Keras names it.")


class HiddenLayersParams(JudgeParams):
    """``[checks.params]`` of ``judge = "hidden_layers"``: ``exactly``, or the budget keys."""

    exactly: list[HiddenLayer] | None = Field(
        default=None, description="Exactly these hidden layers, in order (the chapter's model); else any sensible one."
    )
    min_hidden: int = Field(default=1, ge=0, description="At least this many hidden layers.")
    max_params: int | None = Field(default=None, gt=0, description="At most this many parameters in all; none: no budget.")


def judge_hidden_layers(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
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
    shown = ", ".join(b.describe() for b in hidden) or "none"
    settings = HiddenLayersParams.of(params)
    if settings.exactly is not None:
        return _exact_hidden(hidden, [layer.model_dump() for layer in settings.exactly], shown)

    min_hidden = settings.min_hidden
    max_params = settings.max_params
    if len(hidden) < min_hidden:
        return Verdict.failed(
            f"The model has {len(hidden)} hidden layers (between input and output); at least {min_hidden} needed.",
            'Add a hidden layer with a nonlinear activation before the output, e.g. Dense(128, activation="relu").',
        )
    if not any(is_nonlinear(b.activation) for b in hidden):
        return Verdict.failed(
            f"Hidden layers: {shown}. None has a nonlinear activation, so the whole network is still a linear model.",
            'Give the hidden layers an activation, e.g. activation="relu".',
        )
    count = total_params(model)
    if max_params is not None and count is not None and count > int(max_params):
        return Verdict.failed(
            f"Hidden layers: {shown}; but the model has {count:,} parameters, over the budget of {int(max_params):,}.",
            "Use fewer or smaller layers (e.g. Dense(128) instead of Dense(1024), or a MaxPooling2D "
            "before Flatten in a CNN): a model this size is slow to train and overfits easily.",
            0.5,
        )
    size = f", {count:,} parameters" if count is not None else ""
    budget = f" (budget {int(max_params):,})" if max_params is not None and count is not None else ""
    return Verdict.passed(f"Hidden layers: {shown}{size}{budget}.")


def _exact_hidden(hidden: list[Block], expected: list[dict[str, Any]], shown: str) -> Verdict:
    """The exercise asks for one architecture (the chapter's network). A different architecture
    (other layer types such as Conv2D, or more or fewer hidden layers) earns none of the points;
    the same layers with another size or activation earn a share for each one that matches."""
    wanted = ", ".join(
        f"{e.get('layer', 'Dense')}({e.get('units')}, {e.get('activation', 'linear')})" for e in expected
    )
    layers = "hidden layer" if len(expected) == 1 else "hidden layers"
    asked = f"exactly {len(expected)} {layers}, {wanted}"
    kinds = [block.kind for block in hidden]
    if len(hidden) != len(expected) or any(kind != e.get("layer", "Dense") for kind, e in zip(kinds, expected)):
        return Verdict.failed(
            f"Hidden layers: {shown}. This is a different architecture from the one the exercise asks for: "
            f"the chapter's network has {asked} (between Flatten and the output layer), so the "
            "architecture points are not given, however well the model does.",
            f"Build the chapter's network: Flatten, then {wanted}, then the output layer.",
        )
    shares = 2 * len(expected)
    earned = 0
    for block, spec in zip(hidden, expected):
        earned += spec.get("units") is None or block.units == spec.get("units")
        earned += block.activation == spec.get("activation", "linear")
    if earned == shares:
        return Verdict.passed(f"Hidden layers: {shown}, as the exercise asks.")
    return Verdict.failed(
        f"Hidden layers: {shown}; the exercise asks for exactly {wanted}.",
        f"Between Flatten and the output layer, use exactly {wanted}.",
        earned / shares,
    )
