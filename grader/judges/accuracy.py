"""Judge of the test accuracy, as the trusted evaluator measured it on the real test split."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from grader.evidence import Evidence
from grader.judges.base import JudgeParams, Verdict
from grader.judges.causes import find_cause
from grader.judges.compile import output_and_loss_hint
from grader.judges.diagnose import (
    DIVERGENCE_HINT,
    MORE_EPOCHS_HINT,
    RAW_PIXELS_HINT,
    overfitting_gap,
    still_improving,
    trained_on_raw_pixels,
    training_went_wrong,
)
from grader.judges.model import custom_class_verdict
from grader.judges.names import FractionPair
from grader.judges.scaling import scaled_twice, scales_own_input
from grader.judges.vocabulary import sentence_case, training_accuracy
from grader.messages import _
from grader.messages import judges as messages
from grader.messages import sandbox as sandbox_messages
from grader.spec import ExerciseSpec


class AccuracyParams(JudgeParams):
    """``[checks.params]`` of ``judge = "test_accuracy"``."""

    # No default: the bar is the one number every exercise must state for itself.
    threshold: float = Field(gt=0, le=1, description="The test accuracy for full marks.")
    partial: list[FractionPair] = Field(
        default=[],
        description="[[below, fraction], ...]: an accuracy at most `below` under the threshold earns "
        "`fraction` of the points (the narrowest band that fits); further below earns 0.",
    )
    overfit_gap: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="A training accuracy this far above the test accuracy is reported as overfitting.",
    )
    min_gain: float = Field(
        default=0.005,
        ge=0,
        le=1,
        description="A last-epoch gain above this means training stopped while still improving.",
    )


def judge_test_accuracy(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """Full marks at ``threshold`` or above; partial credit in bands below it.

    params:

    * ``threshold``: the test accuracy for full marks (one number to change per exercise);
    * ``partial``: ``[[below, fraction], ...]``: an accuracy at most ``below`` under the threshold
      earns ``fraction`` of the points (the first band that fits, narrowest first); anything
      further below earns 0;
    * ``overfit_gap`` (default 0.05): a final training accuracy this much above the test accuracy
      is reported as overfitting;
    * ``min_gain`` (default 0.005): a last-epoch gain in training accuracy above this means
      training stopped while the model was still improving.

    The hint for a low score names the likeliest reason, from the evidence: raw 0-255 pixels, a
    diverging loss, overfitting, or too few epochs.
    """
    evaluation = evidence.evaluation
    if evaluation.status != "ok" or evaluation.test_accuracy is None:
        cause = find_cause(evidence, spec, "train")
        if cause is not None:
            return cause.brief_verdict()
        reason = messages.clause(evaluation.error or sandbox_messages.no_model_came_back())
        if evaluation.refused:
            return Verdict.failed(messages.not_tested_refused(messages.clause(evaluation.refused)))
        if evaluation.custom_model_class:
            return custom_class_verdict(evidence, spec)  # a subclass of keras.Model: not loaded
        if evaluation.status == "error":
            return Verdict.error(messages.could_not_test(reason), _(messages.BUILT_IN_LAYERS_HINT))
        return Verdict.error(messages.not_tested(reason))

    accuracy = evaluation.test_accuracy
    settings = AccuracyParams.of(params)
    threshold = settings.threshold
    bands = sorted(settings.partial)
    # A model that scales its own pixels is rightly tested on raw ones: said as such, no advice.
    scaler = scales_own_input(evidence)
    raw_pixels = trained_on_raw_pixels(evaluation)
    if accuracy >= threshold:
        message = messages.accuracy_passed(accuracy, evaluation.n_test, threshold, raw_pixels and scaler is None)
        if raw_pixels and scaler is not None:
            message = messages.with_self_scaling_note(message, scaler.shown)
        return Verdict.passed(message)

    band = next(((below, fraction) for below, fraction in bands if threshold - accuracy <= below + 1e-12), None)
    message = messages.accuracy_below(accuracy, evaluation.n_test, threshold, band, raw_pixels and scaler is None)
    if raw_pixels and scaler is not None:
        message = messages.with_self_scaling_note(message, scaler.shown)
    return Verdict.failed(message, _why_low(evidence, accuracy, settings, spec), band[1] if band else 0.0)


def _why_low(evidence: Evidence, accuracy: float, settings: AccuracyParams, spec: ExerciseSpec) -> str:
    """The likeliest reason for a low test accuracy, as a hint."""
    design = output_and_loss_hint(evidence, spec)
    if design:
        return design
    scaler = scales_own_input(evidence)
    twice = scaled_twice(evidence)
    if twice is not None:
        return messages.sentences(messages.scaled_twice(twice.shown), _(messages.SCALE_ONCE_HINT))
    if scaler is None and trained_on_raw_pixels(evidence.evaluation):
        return _(RAW_PIXELS_HINT)
    history = evidence.sandbox.train.history if evidence.sandbox.train else {}
    divergence = training_went_wrong(history, spec)
    if divergence:
        return messages.finding_then_hint(_sentence(divergence), _(DIVERGENCE_HINT))
    gap = overfitting_gap(history, accuracy)
    if gap is not None and gap > settings.overfit_gap:
        final = training_accuracy(history)[-1]
        return messages.overfitting(final, accuracy)
    rising = still_improving(history, settings.min_gain)
    if rising:
        return messages.finding_then_hint(_sentence(rising), _(MORE_EPOCHS_HINT))
    return _(messages.LOW_ACCURACY_SELF_SCALING_HINT if scaler is not None else messages.LOW_ACCURACY_HINT)


def _sentence(phrase: str) -> str:
    return sentence_case(phrase)
