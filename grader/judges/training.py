"""Judge of ``train(model, train_images, train_labels)``: it fits the model and returns the History."""

from __future__ import annotations

import math
from typing import Any

from grader.evidence import Evidence
from grader.judges.base import Verdict
from grader.judges.causes import find_cause
from grader.judges.compile import output_and_loss_hint
from grader.judges.diagnose import DIVERGENCE_HINT, dataset_of, trained_without_fit, training_went_wrong
from grader.judges.vocabulary import short_type, training_accuracy
from grader.messages import _
from grader.messages import judges as messages
from grader.spec import ExerciseSpec

# The History is the run's claim; the grader measures the trained model on training images
# itself. Measured on the reference solutions: the History's last training accuracy is 0.008
# below (Fashion-MNIST) and 0.0004 above (MNIST) the grader's figure (it averages over the last
# epoch while the weights still change). A History this far above the model's real accuracy
# describes another model (or none).
HISTORY_EXCESS = 0.2


def history_mismatch(evidence: Evidence, accuracy: list[float]) -> str:
    """Why the History cannot be the graded model's, or "": it claims a training accuracy far
    above what the trusted evaluation measured on training images."""
    measured = evidence.evaluation.train_accuracy
    if measured is None or not accuracy or not isinstance(accuracy[-1], (int, float)):
        return ""
    claimed = float(accuracy[-1])
    if claimed - measured <= HISTORY_EXCESS:
        return ""
    return messages.history_not_this_model(claimed, measured)


RETURN_HISTORY_HINT = messages.RETURN_HISTORY_HINT

# A cross-entropy ending this close to ln(classes) - the loss of guessing evenly - shows a model
# that learned next to nothing, even when it fell a little on the way: the chapter's model ends
# its first epoch near 0.5 (Fashion-MNIST) or 0.25 (MNIST), while a linear output read as
# probabilities (an outside tester's honest run) ended at 2.3022 against ln 10 = 2.3026.
CHANCE_LEVEL_SHARE = 0.97


def ended_at_chance_level(loss: list[float], classes: int) -> bool:
    """The last training loss is at or above about ln(classes)."""
    return bool(loss) and classes > 1 and loss[-1] >= CHANCE_LEVEL_SHARE * math.log(classes)


def judge_training(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """``train()`` returned a Keras History whose training loss is finite and falls, and the model
    learned something (it did not end at chance level).

    Partial credit: half when the model was fitted but the History was not returned, or when a
    single epoch leaves nothing to show the loss falling.
    """
    if evidence.sandbox.graded_as == "saved_model":
        return Verdict.skipped(_(messages.SAVED_MODEL_NO_TRAINING))
    cause = find_cause(evidence, spec, "train")
    if cause is not None:
        return cause.verdict("train")
    train = evidence.sandbox.train
    if train is None:
        return Verdict.error(_(messages.TRAIN_NOT_RECORDED))
    # Scripts, notebooks and solution_model() call model.fit themselves: the grader observed
    # those calls and kept the History of the last one (SandboxEvidence.graded_as).
    module = evidence.sandbox.graded_as == "module"
    who = "train()" if module else "model.fit()"
    if not module and not train.fit_calls:
        return _no_fit_call(evidence, spec, None)
    if module and not train.is_history:
        returned = short_type(train.returned_type)
        if train.fit_calls:
            return Verdict.failed(messages.history_not_returned(returned), _(RETURN_HISTORY_HINT), 0.5)
        return _no_fit_call(evidence, spec, returned)
    loss = train.history.get("loss") or []
    if not loss:
        return Verdict.failed(messages.history_without_loss(who), _(messages.CALL_FIT_HINT))
    divergence = training_went_wrong(train.history, spec)
    if divergence:
        return Verdict.failed(messages.ran_but(who, len(loss), divergence), _(DIVERGENCE_HINT))
    accuracy = training_accuracy(train.history)
    reached = accuracy[-1] if accuracy else None
    mismatch = history_mismatch(evidence, accuracy)
    if mismatch:
        return Verdict.failed(mismatch, _(messages.RETURN_FITTED_HISTORY_HINT), 0.5)
    fitted_epochs = sum(call.epochs or 0 for call in train.fit_calls)
    if len(loss) == 1 and fitted_epochs > 1:
        # fit() called once per epoch in a loop: the History returned is only the last call's.
        return Verdict.passed(messages.fitted_in_a_loop(module, fitted_epochs, len(train.fit_calls), loss[0], reached))
    if len(loss) == 1:
        return Verdict.failed(messages.single_epoch_run(who, loss[0], reached), _(messages.SEVERAL_EPOCHS_HINT), 0.5)
    if loss[-1] >= loss[0]:
        return Verdict.failed(messages.loss_did_not_fall(who, len(loss), loss[0], loss[-1]), _(DIVERGENCE_HINT))
    classes = dataset_of(spec).num_classes
    if ended_at_chance_level(loss, classes):
        # It fell, but only to where guessing starts: half the points, and the likely cause.
        message = messages.loss_ended_at_chance(who, len(loss), loss[0], loss[-1], classes, math.log(classes), reached)
        return Verdict.failed(message, output_and_loss_hint(evidence, spec) or _(messages.CHANCE_LEVEL_HINT), 0.5)
    return Verdict.passed(messages.training_passed(module, len(loss), loss[0], loss[-1], reached))


def _no_fit_call(evidence: Evidence, spec: ExerciseSpec, returned: str | None) -> Verdict:
    """No model.fit() call at all (``returned``: what train() returned; None for a script).

    The exercise asks for fit(), so this fails either way, but the message fits what the code
    did: a model the grader measured clearly above chance on training images was trained
    another way (a custom GradientTape loop); one near chance was never trained; without a
    measurement (quick mode tests no model) the message only says that fit() is not called."""
    accuracy = trained_without_fit(evidence, spec)
    measured = evidence.evaluation.train_accuracy is not None
    if returned is None:
        if accuracy is not None:
            return Verdict.failed(messages.trained_without_fit(accuracy), _(messages.COMPILE_AND_FIT_HINT))
        if measured:
            return Verdict.failed(_(messages.NEVER_TRAINED), _(messages.TRAIN_AFTER_COMPILING_HINT))
        return Verdict.failed(_(messages.NO_FIT_CALL), _(messages.TRAIN_AFTER_COMPILING_HINT))
    if accuracy is not None:
        return Verdict.failed(
            messages.train_trained_without_fit(returned, accuracy), _(messages.CALL_FIT_IN_TRAIN_HINT)
        )
    if measured:
        return Verdict.failed(messages.train_never_fitted(returned), _(messages.CALL_FIT_IN_TRAIN_HINT))
    return Verdict.failed(messages.train_no_fit_call(returned), _(messages.CALL_FIT_IN_TRAIN_HINT))
