"""Judge of the test accuracy, as the trusted evaluator measured it on the real test split."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from grader.evidence import Evidence
from grader.judges.base import JudgeParams, NumberPair, Verdict
from grader.judges.causes import find_cause
from grader.judges.diagnose import (
    DIVERGENCE_HINT,
    MORE_EPOCHS_HINT,
    OVERFITTING_HINT,
    RAW_PIXELS_HINT,
    overfitting_gap,
    still_improving,
    trained_on_raw_pixels,
    training_went_wrong,
)
from grader.judges.vocabulary import sentence_case, training_accuracy
from grader.spec import ExerciseSpec


class AccuracyParams(JudgeParams):
    """``[checks.params]`` of ``judge = "test_accuracy"``."""

    # No default: the bar is the one number every exercise must state for itself.
    threshold: float = Field(gt=0, le=1, description="The test accuracy for full marks.")
    partial: list[NumberPair] = Field(
        default=[],
        description="[[below, fraction], ...]: an accuracy at most `below` under the threshold earns "
        "`fraction` of the points (the narrowest band that fits); further below earns 0.",
    )
    overfit_gap: float = Field(
        default=0.05, ge=0, description="A training accuracy this far above the test accuracy is reported as overfitting."
    )
    min_gain: float = Field(
        default=0.005, ge=0, description="A last-epoch gain above this means training stopped while still improving."
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
        reason = (evaluation.error or "no trained model came back from the run").rstrip(".")
        if evaluation.refused:
            return Verdict.failed(f"Not tested: {evaluation.refused.rstrip('.')} (see the fair-run check).")
        if evaluation.status == "error":
            return Verdict.error(
                f"The trained model could not be tested: {reason}.",
                "Build the model from Keras' built-in layers so it can be saved and reloaded.",
            )
        return Verdict.error(f"The trained model was not tested: {reason}.")

    accuracy = evaluation.test_accuracy
    settings = AccuracyParams.of(params)
    threshold = settings.threshold
    bands = sorted(settings.partial)
    tested_on = f" on the {evaluation.n_test:,} test images" if evaluation.n_test else ""
    raw_note = (
        " (The model was tested on raw 0-255 pixels: it does clearly better on them than on pixels "
        "scaled to [0, 1], so that is what it was trained on.)"
        if trained_on_raw_pixels(evaluation)
        else ""
    )
    if accuracy >= threshold:
        return Verdict.passed(f"Test accuracy {accuracy:.4f}{tested_on} (full marks from {threshold:g}).{raw_note}")

    band = next(((below, fraction) for below, fraction in bands if threshold - accuracy <= below + 1e-12), None)
    message = f"Test accuracy {accuracy:.4f}{tested_on}, below the {threshold:g} needed for full marks"
    if band is not None:
        message += f": {band[1]:.0%} of the points for being within {band[0]:g} of it."
    else:
        message += "."
    return Verdict.failed(message + raw_note, _why_low(evidence, accuracy, settings), band[1] if band else 0.0)


def _why_low(evidence: Evidence, accuracy: float, settings: AccuracyParams) -> str:
    """The likeliest reason for a low test accuracy, as a hint."""
    if trained_on_raw_pixels(evidence.evaluation):
        return RAW_PIXELS_HINT
    history = evidence.sandbox.train.history if evidence.sandbox.train else {}
    divergence = training_went_wrong(history)
    if divergence:
        return f"{_sentence(divergence)}. {DIVERGENCE_HINT}"
    gap = overfitting_gap(history, accuracy)
    if gap is not None and gap > settings.overfit_gap:
        final = training_accuracy(history)[-1]
        return f"Training accuracy {final:.4f} against test accuracy {accuracy:.4f}: {OVERFITTING_HINT}"
    rising = still_improving(history, settings.min_gain)
    if rising:
        return f"{_sentence(rising)}. {MORE_EPOCHS_HINT}"
    return (
        "Check the other checks first; then try more epochs or a somewhat larger hidden layer, and "
        "make sure the images are scaled to [0, 1]."
    )


def _sentence(phrase: str) -> str:
    return sentence_case(phrase)
