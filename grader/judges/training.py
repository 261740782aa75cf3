"""Judge of ``train(model, train_images, train_labels)``: it fits the model and returns the History."""

from __future__ import annotations

from typing import Any

from grader.evidence import Evidence
from grader.judges.base import Verdict
from grader.judges.causes import find_cause
from grader.judges.diagnose import DIVERGENCE_HINT, training_went_wrong
from grader.judges.vocabulary import short_type, training_accuracy
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
    return (
        f"The History reports a final training accuracy of {claimed:.4f}, but the model handed in reaches "
        f"{measured:.4f} on training images (measured by the grader): the History does not describe this model."
    )


RETURN_HISTORY_HINT = "End train() with `history = model.fit(...)` and `return history`."


def judge_training(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """``train()`` returned a Keras History whose training loss is finite and falls, and the model
    learned something (it did not end at chance level).

    Partial credit: half when the model was fitted but the History was not returned, or when a
    single epoch leaves nothing to show the loss falling.
    """
    if evidence.sandbox.graded_as == "saved_model":
        return Verdict.skipped("A saved model keeps no record of its training.")
    cause = find_cause(evidence, spec, "train")
    if cause is not None:
        return cause.verdict("train")
    train = evidence.sandbox.train
    if train is None:
        return Verdict.error("The run did not record what train() returned.")
    # Scripts, notebooks and solution_model() call model.fit themselves: the grader observed
    # those calls and kept the History of the last one (SandboxEvidence.graded_as).
    module = evidence.sandbox.graded_as == "module"
    who = "train()" if module else "model.fit()"
    if not module and not train.fit_calls:
        return Verdict.failed(
            "The model was never trained: the code does not call model.fit().",
            "Train the model after compiling it: model.fit(train_images, train_labels, epochs=5).",
        )
    if module and not train.is_history:
        returned = short_type(train.returned_type)
        if train.fit_calls:
            return Verdict.failed(
                f"train() called model.fit(), but returned {returned} instead of the History that fit() returns.",
                RETURN_HISTORY_HINT,
                0.5,
            )
        return Verdict.failed(
            f"train() returned {returned} and never called model.fit(), so the model was not trained.",
            "Call model.fit(train_images, train_labels, epochs=5) in train() and return the History it gives.",
        )
    loss = train.history.get("loss") or []
    if not loss:
        return Verdict.failed(
            f"The History {who} returned holds no loss values: model.fit() ran no epochs.",
            "Call model.fit(train_images, train_labels, epochs=5) and return its History.",
        )
    epochs = f"{len(loss)} epoch" + ("s" if len(loss) != 1 else "")
    divergence = training_went_wrong(train.history)
    if divergence:
        return Verdict.failed(f"{who} ran {epochs}, but {divergence}.", DIVERGENCE_HINT)
    accuracy = training_accuracy(train.history)
    reached = f", training accuracy {accuracy[-1]:.4f}" if accuracy else ""
    mismatch = history_mismatch(evidence, accuracy)
    if mismatch:
        return Verdict.failed(mismatch, "Return the History that model.fit returns for the model you hand in.", 0.5)
    fitted_epochs = sum(call.epochs or 0 for call in train.fit_calls)
    if len(loss) == 1 and fitted_epochs > 1:
        # fit() called once per epoch in a loop: the History returned is only the last call's.
        return Verdict.passed(
            f"{'train()' if module else 'The code'} fitted {fitted_epochs} epochs in {len(train.fit_calls)} calls of "
            f"model.fit(); the {'History returned' if module else 'last History'} holds the last (loss {loss[0]:.4f}{reached})."
        )
    if len(loss) == 1:
        return Verdict.failed(
            f"{who} ran 1 epoch (loss {loss[0]:.4f}{reached}): a single epoch cannot show the loss falling.",
            "Train for several epochs: the chapter uses epochs=5.",
            0.5,
        )
    if loss[-1] >= loss[0]:
        return Verdict.failed(
            f"{who} ran {epochs}, but the training loss did not fall ({loss[0]:.4f} -> {loss[-1]:.4f}).",
            DIVERGENCE_HINT,
        )
    ran = f"train() returned the History of {epochs}" if module else f"model.fit() ran {epochs}"
    return Verdict.passed(f"{ran}: the loss fell from {loss[0]:.4f} to {loss[-1]:.4f}{reached}.")
