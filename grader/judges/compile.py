"""Judges of ``model.compile(...)``: the loss, the optimizer and the accuracy metric.

They read ``model.get_compile_config()`` as the sandbox recorded it, through the canonicalising
helpers in ``vocabulary``, so every Keras spelling of the same choice is judged the same.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from grader.evidence import Evidence, ModelInfo
from grader.judges.base import JudgeParams, Verdict
from grader.judges.causes import model_cause
from grader.judges.diagnose import BINARY_CROSSENTROPY_HINT, DIVERGENCE_HINT, METRICS_POSITIONAL_HINT, training_went_wrong
from grader.judges.model import output_block
from grader.judges.vocabulary import (
    AUTO_ACCURACY,
    DEFAULT_LEARNING_RATES,
    ELEMENTWISE_ACCURACY,
    LabelEncoding,
    canonical_loss,
    canonical_metrics,
    canonical_optimizer,
    label_encoding,
)
from grader.spec import ExerciseSpec

LABEL_WORDS = {"integer": "integer labels (0-9)", "one_hot": "one-hot labels"}


def _compiled_model(evidence: Evidence, spec: ExerciseSpec) -> tuple[ModelInfo | None, Verdict | None]:
    """The compiled model to judge, or the verdict to give when there is none."""
    cause = model_cause(evidence, spec)
    if cause is not None:
        return None, cause.brief_verdict()
    model = evidence.graded_model  # measured from the scored file (see Evidence.graded_model)
    assert model is not None  # model_cause checked it
    if not model.compiled or not model.compile_config:
        return None, Verdict.failed("Not checked: the model is never compiled (see the compile check).")
    if "error" in model.compile_config and "loss" not in model.compile_config:
        return None, Verdict.error(f"Could not read the model's compile settings: {model.compile_config['error']}")
    return model, None


# --- loss ----------------------------------------------------------------------------------------

OTHER_LOSS_HINTS = {
    "mean_squared_error": "mean squared error is for predicting numbers (regression), not for choosing one of 10 classes",
    "mean_absolute_error": "mean absolute error is for predicting numbers (regression), not for choosing one of 10 classes",
    "categorical_hinge": "hinge losses are for margin classifiers, not softmax outputs",
    "hinge": "hinge losses are for margin classifiers, not softmax outputs",
}


class LossParams(JudgeParams):
    """``[checks.params]`` of ``judge = "loss"``."""

    accepted: list[str] = Field(
        default=["sparse_categorical_crossentropy", "categorical_crossentropy"],
        min_length=1,
        description="Canonical loss names that earn full marks.",
    )
    partial: dict[str, float] = Field(
        default={}, description="{name = fraction}: losses that work but are not the exercise's choice."
    )


def judge_loss(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """The loss is a cross-entropy that fits the labels and the output layer.

    params: ``accepted`` canonical loss names for full marks (default
    ``["sparse_categorical_crossentropy", "categorical_crossentropy"]``), ``partial`` a table
    ``{name: fraction}`` for losses that work but are not the exercise's choice.

    Whatever the name, the loss must match the labels the model was trained on (sparse for
    integer labels, categorical for one-hot) and the output (``from_logits=True`` only for a
    linear output); a mismatch there gets half the points (the right family, the wrong option)
    or none (the wrong labels: Keras cannot train it).
    """
    model, verdict = _compiled_model(evidence, spec)
    if model is None:
        assert verdict is not None
        return verdict
    settings = LossParams.of(params)
    accepted = list(settings.accepted)
    partial = dict(settings.partial)
    loss = canonical_loss(model.compile_config)
    wanted = " or ".join(f'"{name}"' for name in accepted)
    if loss is None:
        return Verdict.failed("The model is compiled without a loss.", f'Pass loss="{accepted[0]}" to model.compile().')
    written = loss.written
    if loss.name == "binary_crossentropy":
        return Verdict.failed(f"The loss is {written}, which is for two classes, not 10.", BINARY_CROSSENTROPY_HINT)
    if loss.name not in accepted and loss.name not in partial:
        why = OTHER_LOSS_HINTS.get(loss.name, "it is not a cross-entropy for one-of-10 classification")
        return Verdict.failed(f"The loss is {written}: {why}.", f"Use loss={wanted}.")

    encoding = label_encoding(evidence, spec)
    mismatch = _label_mismatch(loss.name, encoding)
    if mismatch:
        return Verdict.failed(f"The loss is {written}, but {mismatch[0]}.", mismatch[1])

    block = output_block(model)
    activation = block.activation if block else None
    if loss.from_logits and activation == "softmax":
        return Verdict.failed(
            f"The loss is {written}, which says the model outputs raw scores (logits), but the output "
            "layer applies softmax, so it outputs probabilities. (Keras 3 notices and warns; "
            "elsewhere softmax would be applied twice.)",
            "Remove from_logits=True from the loss (or remove the softmax from the output layer).",
            0.5,
        )
    if not loss.from_logits and activation == "linear":
        return Verdict.failed(
            f"The loss is {written} but the output layer has no activation: the loss treats the "
            "raw scores (logits) as probabilities.",
            'Add activation="softmax" to the output layer (or pass from_logits=True to the loss).',
            0.5,
        )
    labels = f" for {LABEL_WORDS[encoding]}" if encoding else ""
    if loss.name in partial:
        return Verdict.failed(
            f"The loss is {written}{labels}: it works, but the exercise asks for {wanted}.",
            f"Use loss={wanted}.",
            partial[loss.name],
        )
    return Verdict.passed(f"The loss is {written}{labels}.")


def _label_mismatch(loss_name: str, encoding: LabelEncoding | None) -> tuple[str, str] | None:
    """(what is wrong, the fix) when the loss cannot read the labels, else None."""
    if loss_name == "categorical_crossentropy" and encoding == "integer":
        return (
            "the labels are integers (0-9) and categorical_crossentropy expects one-hot labels",
            'Use loss="sparse_categorical_crossentropy" for integer labels (or one-hot encode them with keras.utils.to_categorical).',
        )
    if loss_name == "sparse_categorical_crossentropy" and encoding == "one_hot":
        return (
            "the labels are one-hot vectors and sparse_categorical_crossentropy expects integer labels",
            'Use loss="categorical_crossentropy" for one-hot labels (or keep the labels as integers).',
        )
    return None


# --- optimizer -----------------------------------------------------------------------------------


class OptimizerParams(JudgeParams):
    """``[checks.params]`` of ``judge = "optimizer"``."""

    accepted: list[str] = Field(default=[], description="Optimizer names for full marks (any case); empty: any optimizer.")


def judge_optimizer(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """The optimizer is one the exercise accepts, with a learning rate that does not diverge.

    params: ``accepted`` lower-case optimizer names (e.g. ``["adam"]``); empty or missing means
    any optimizer. When training went wrong (the loss became NaN, rose, or ended no better than
    guessing) and the learning rate is above the optimizer's default, the learning rate is the
    likely culprit: half the points, and a hint to lower it.
    """
    model, verdict = _compiled_model(evidence, spec)
    if model is None:
        assert verdict is not None
        return verdict
    optimizer = canonical_optimizer(model.compile_config)
    if optimizer is None:
        return Verdict.error("The model's compile settings record no optimizer.")
    accepted = [name.lower() for name in OptimizerParams.of(params).accepted]
    rate = optimizer.learning_rate
    rate_text = f" (learning rate {rate:g})" if rate is not None else ""
    if accepted and optimizer.name not in accepted:
        wanted = " or ".join(f'"{name}"' for name in accepted)
        return Verdict.failed(
            f"The optimizer is {optimizer.written}{rate_text}; the exercise asks for {wanted}.",
            f"Compile with optimizer={wanted}.",
        )
    train = evidence.sandbox.train
    divergence = training_went_wrong(train.history) if train else None
    default = DEFAULT_LEARNING_RATES.get(optimizer.name, 0.01)
    if divergence and rate is not None and rate > default * 1.5:
        return Verdict.failed(
            f"The optimizer is {optimizer.written} with learning rate {rate:g}, "
            f"{rate / default:.0f} times its default of {default:g}, and {divergence}.",
            DIVERGENCE_HINT,
            0.5,
        )
    return Verdict.passed(f"The optimizer is {optimizer.written}{rate_text}.")


# --- accuracy metric -----------------------------------------------------------------------------


class AccuracyMetricParams(JudgeParams):
    """``[checks.params]`` of ``judge = "accuracy_metric"``."""

    accepted: list[str] = Field(
        default=[AUTO_ACCURACY, "sparse_categorical_accuracy", "categorical_accuracy"],
        min_length=1,
        description="Canonical metric names that count as reporting accuracy.",
    )


def judge_accuracy_metric(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """The model reports accuracy while it trains.

    Accepted (``accepted``, canonical names): ``"accuracy"``/``"acc"`` in any case (Keras picks
    the right accuracy for the labels), ``sparse_categorical_accuracy`` with integer labels and
    ``categorical_accuracy`` with one-hot labels, as strings, objects or functions.
    """
    model, verdict = _compiled_model(evidence, spec)
    if model is None:
        assert verdict is not None
        return verdict
    accepted = list(AccuracyMetricParams.of(params).accepted)
    metrics = canonical_metrics(model.compile_config)
    if not metrics:
        weights = model.compile_config.get("loss_weights")
        if isinstance(weights, (list, tuple)) and any(isinstance(w, str) for w in weights):
            return Verdict.failed(
                f"The metrics went to loss_weights instead ({weights}): the third positional argument of compile() is loss_weights.",
                METRICS_POSITIONAL_HINT,
            )
        return Verdict.failed(
            "The model is compiled without metrics, so training reports no accuracy.",
            'Add metrics=["accuracy"] to model.compile(...).',
        )
    shown = ", ".join(m.written for m in metrics)
    encoding = label_encoding(evidence, spec)
    candidates = [m for m in metrics if m.name in accepted]
    fitting = [m for m in candidates if not _metric_mismatch(m.name, encoding)]
    if fitting:
        return Verdict.passed(f"Metrics: {shown}.")
    if candidates:
        metric = candidates[0]
        return Verdict.failed(
            f"The metric {metric.written} does not fit the {LABEL_WORDS.get(encoding or '', 'labels')}: {_metric_mismatch(metric.name, encoding)}.",
            'Use metrics=["accuracy"]: Keras then picks the accuracy that fits your labels.',
        )
    names = {m.name for m in metrics}
    if ELEMENTWISE_ACCURACY in names:
        return Verdict.failed(
            f"Metrics: {shown}. keras.metrics.Accuracy compares outputs and labels value by value, "
            "which for a softmax classifier measures nothing useful.",
            'Use the string metrics=["accuracy"] (or keras.metrics.SparseCategoricalAccuracy()).',
        )
    if "binary_accuracy" in names:
        return Verdict.failed(
            f"Metrics: {shown}. binary_accuracy is for two classes, not 10.",
            'Use metrics=["accuracy"].',
        )
    return Verdict.failed(f"Metrics: {shown}, but no accuracy.", 'Add "accuracy" to the metrics: metrics=["accuracy"].')


def _metric_mismatch(name: str, encoding: LabelEncoding | None) -> str:
    if name == "categorical_accuracy" and encoding == "integer":
        return "categorical_accuracy expects one-hot labels"
    if name == "sparse_categorical_accuracy" and encoding == "one_hot":
        return "sparse_categorical_accuracy expects integer labels"
    return ""
