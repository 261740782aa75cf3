"""Judges of ``model.compile(...)``: the loss, the optimizer and the accuracy metric.

They read ``model.get_compile_config()`` as the sandbox recorded it, through the canonicalising
helpers in ``vocabulary``, so every Keras spelling of the same choice is judged the same.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from grader.datasets import dataset_info
from grader.evidence import Evidence, ModelInfo
from grader.judges.base import JudgeParams, Verdict
from grader.judges.causes import model_cause
from grader.judges.diagnose import (
    BINARY_CROSSENTROPY_HINT,
    DIVERGENCE_HINT,
    METRICS_POSITIONAL_HINT,
    training_went_wrong,
)
from grader.judges.model import judge_output_layer, output_block
from grader.judges.names import Fraction, LossName, MetricName, OptimizerName
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
from grader.messages import _
from grader.messages import judges as messages
from grader.spec import ExerciseSpec


def _compiled_model(evidence: Evidence, spec: ExerciseSpec) -> tuple[ModelInfo | None, Verdict | None]:
    """The compiled model to judge, or the verdict to give when there is none."""
    cause = model_cause(evidence, spec)
    if cause is not None:
        return None, cause.brief_verdict()
    model = evidence.graded_model  # measured from the scored file (see Evidence.graded_model)
    assert model is not None  # model_cause checked it
    if not model.compiled or not model.compile_config:
        return None, Verdict.failed(_(messages.NOT_CHECKED_NOT_COMPILED))
    if "error" in model.compile_config and "loss" not in model.compile_config:
        return None, Verdict.error(messages.compile_settings_unreadable(str(model.compile_config["error"])))
    return model, None


# --- loss ----------------------------------------------------------------------------------------


class LossParams(JudgeParams):
    """``[checks.params]`` of ``judge = "loss"``."""

    accepted: list[LossName] = Field(
        default=["sparse_categorical_crossentropy", "categorical_crossentropy"],
        min_length=1,
        description="Canonical loss names that earn full marks.",
    )
    partial: dict[LossName, Fraction] = Field(
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
    wanted = messages.alternatives([f'"{name}"' for name in accepted])
    if loss is None:
        return Verdict.failed(_(messages.NO_LOSS), messages.pass_loss(accepted[0]))
    written = loss.written
    if loss.name == "binary_crossentropy":
        classes = dataset_info(spec.dataset or "").num_classes
        return Verdict.failed(messages.binary_loss(written, classes), _(BINARY_CROSSENTROPY_HINT))
    if loss.name not in accepted and loss.name not in partial:
        why = messages.why_other_loss(loss.name, dataset_info(spec.dataset or "").num_classes)
        return Verdict.failed(messages.loss_is_because(written, why), messages.use_loss(wanted))

    encoding = label_encoding(evidence, spec)
    mismatch = _label_mismatch(loss.name, encoding)
    if mismatch:
        return Verdict.failed(messages.loss_but(written, mismatch[0]), mismatch[1])

    block = output_block(model)
    activation = block.activation if block else None
    if loss.from_logits and activation == "softmax":
        return Verdict.failed(messages.logits_and_softmax(written), _(messages.REMOVE_FROM_LOGITS_HINT), 0.5)
    if not loss.from_logits and activation == "linear":
        return Verdict.failed(messages.probabilities_expected(written), _(messages.ADD_SOFTMAX_HINT), 0.5)
    if loss.name in partial:
        return Verdict.failed(
            messages.loss_works_but(written, encoding, wanted), messages.use_loss(wanted), partial[loss.name]
        )
    return Verdict.passed(messages.loss_passed(written, encoding))


def _label_mismatch(loss_name: str, encoding: LabelEncoding | None) -> tuple[str, str] | None:
    """(what is wrong, the fix) when the loss cannot read the labels, else None."""
    if loss_name == "categorical_crossentropy" and encoding == "integer":
        return _(messages.INTEGER_LABELS_CATEGORICAL), _(messages.INTEGER_LABELS_CATEGORICAL_HINT)
    if loss_name == "sparse_categorical_crossentropy" and encoding == "one_hot":
        return _(messages.ONE_HOT_LABELS_SPARSE), _(messages.ONE_HOT_LABELS_SPARSE_HINT)
    return None


def output_and_loss_hint(evidence: Evidence, spec: ExerciseSpec) -> str:
    """When the exercise's output-layer or loss check fails, a hint that sends the learner there
    (with that check's own fix), else "". A linear output read as probabilities, or 5 units for 10
    classes, keeps the loss near chance level and the accuracy low whatever the epochs: the
    training and test-accuracy hints name this cause before any other."""
    for name, judge in (("output_layer", judge_output_layer), ("loss", judge_loss)):
        check = next((c for c in spec.checks if c.judge == name), None)
        if check is None:
            continue
        verdict = judge(evidence, dict(check.params), spec)
        if verdict.status == "failed" and verdict.hint:
            return messages.fix_output_and_loss_first(verdict.hint)
    return ""


# --- optimizer -----------------------------------------------------------------------------------


class OptimizerParams(JudgeParams):
    """``[checks.params]`` of ``judge = "optimizer"``."""

    accepted: list[OptimizerName] = Field(
        default=[], description="Optimizer names for full marks (any case); empty: any optimizer."
    )


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
        return Verdict.error(_(messages.NO_OPTIMIZER))
    accepted = [name.lower() for name in OptimizerParams.of(params).accepted]
    rate = optimizer.learning_rate
    shown = messages.optimizer_shown(optimizer.written, rate)
    if accepted and optimizer.name not in accepted:
        wanted = messages.alternatives([f'"{name}"' for name in accepted])
        return Verdict.failed(messages.other_optimizer(shown, wanted), messages.compile_with_optimizer(wanted))
    train = evidence.sandbox.train
    divergence = training_went_wrong(train.history, spec) if train else None
    default = DEFAULT_LEARNING_RATES.get(optimizer.name, 0.01)
    if divergence and rate is not None and rate > default * 1.5:
        return Verdict.failed(
            messages.learning_rate_too_high(optimizer.written, rate, default, divergence), _(DIVERGENCE_HINT), 0.5
        )
    return Verdict.passed(messages.optimizer_passed(shown))


# --- accuracy metric -----------------------------------------------------------------------------


class AccuracyMetricParams(JudgeParams):
    """``[checks.params]`` of ``judge = "accuracy_metric"``."""

    accepted: list[MetricName] = Field(
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
            return Verdict.failed(messages.metrics_to_loss_weights(str(weights)), _(METRICS_POSITIONAL_HINT))
        return Verdict.failed(_(messages.NO_METRICS), _(messages.ADD_METRICS_HINT))
    shown = messages.listing([m.written for m in metrics])
    encoding = label_encoding(evidence, spec)
    candidates = [m for m in metrics if m.name in accepted]
    fitting = [m for m in candidates if not _metric_mismatch(m.name, encoding)]
    if fitting:
        return Verdict.passed(messages.metrics_passed(shown))
    if candidates:
        metric = candidates[0]
        return Verdict.failed(
            messages.metric_does_not_fit(metric.written, encoding, _metric_mismatch(metric.name, encoding)),
            _(messages.AUTO_ACCURACY_HINT),
        )
    names = {m.name for m in metrics}
    if ELEMENTWISE_ACCURACY in names:
        return Verdict.failed(messages.elementwise_accuracy(shown), _(messages.STRING_ACCURACY_HINT))
    if "binary_accuracy" in names:
        return Verdict.failed(
            messages.binary_accuracy(shown, dataset_info(spec.dataset or "").num_classes),
            _(messages.USE_ACCURACY_HINT),
        )
    return Verdict.failed(messages.no_accuracy(shown), _(messages.ADD_ACCURACY_HINT))


def _metric_mismatch(name: str, encoding: LabelEncoding | None) -> str:
    if name == "categorical_accuracy" and encoding == "integer":
        return _(messages.CATEGORICAL_ACCURACY_NEEDS_ONE_HOT)
    if name == "sparse_categorical_accuracy" and encoding == "one_hot":
        return _(messages.SPARSE_ACCURACY_NEEDS_INTEGERS)
    return ""
