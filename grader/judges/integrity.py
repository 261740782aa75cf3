"""Judges of a fair run: the learner's code stayed within the sandbox's limits, did not train on
the test split and did not tamper with how models are measured.

These are about the run, not the learner's model, so they carry no points of their own: the
exercise's ``integrity`` check is worth 0 points and ``required``, so a run that broke a limit or
played unfair never passes, and ``counted_only_if_untouched`` makes the test accuracy worth
nothing when the model saw the test images while training. Everything is read from evidence:

* ``RunInfo.limit_hit``: which limit of ``grader.sandbox.limits`` ended the run;
* ``FitCall.x_fingerprint`` against ``EvaluationEvidence.test_fingerprint``: the first images the
  learner trained on are the test split's first images (only possible without bubblewrap, which
  hides the test split altogether);
* ``SandboxEvidence.tampering``: code replacing ``Model.evaluate``/``predict``/... (found in the
  source by the runner). The grader tests the saved model with its own code, so this changes
  nothing in the score; it is reported because it can only be meant to mislead;
* ``EvaluationEvidence.refused``: the saved model was refused before loading (too large, two
  inputs, a pathological graph) or stopped by the evaluation's limits;
* ``EvaluationEvidence.test_accuracy`` against ``train_accuracy``, both measured by the trusted
  evaluation: an honest model does about as well or better on the images it trained on, so one
  that does clearly better on the public test split (by more than ``memorised_margin``) was
  trained on it somewhere, e.g. at home, its weights set inside train();
* ``SandboxEvidence.saved_weights`` against ``EvaluationEvidence.weights_digest``: the model scored
  must be the model ``model.fit`` left, saved by the grader's code (not a ``save()`` the model's
  class overrides). These digests come from the learner's process, so this check stops the
  simple ways (set_weights after fit, a throw-away model's fit, an overridden save); the
  memorisation check above does not depend on them.
"""

from __future__ import annotations

import math
from functools import wraps
from typing import Any

from pydantic import Field

from grader.evidence import Evidence
from grader.judges.base import Judge, JudgeParams, Verdict
from grader.judges.vocabulary import training_accuracy
from grader.sandbox.limits import LIMIT_HINTS, describe_limit, size_text
from grader.spec import ExerciseSpec

TEST_SPLIT_HINT = (
    "Train only on the images the grader hands to train() (or, in load_data(), on the training "
    "split): the test split is for measuring the model, and a model that has seen it says "
    "nothing about new images."
)
TAMPERING_HINT = (
    "Remove the code that replaces Keras' methods: the grader tests your saved model with its "
    "own code, so it changes nothing in your grade."
)


MEMORISED_HINT = (
    "Train the model in your code on the training images the grader serves, and let the grader "
    "save the model that model.fit trained: a model trained on the test split (at home, or by "
    "loading weights) says nothing about new images."
)
WEIGHTS_HINT = (
    "Return (or keep in `model`) the model that model.fit trained, and do not change its weights "
    "afterwards (set_weights, load_weights): the grader scores the model as training left it. To "
    "keep the best epoch, use keras.callbacks.EarlyStopping(restore_best_weights=True)."
)
SAVE_HINT = (
    "Remove the save() method from your model class (or the patch that replaces it): the grader "
    "saves the trained model with Keras' own saving function."
)


class IntegrityParams(JudgeParams):
    """``[checks.params]`` of ``judge = "integrity"``."""

    memorised_margin: float = Field(
        default=0.03,
        ge=0,
        le=1,
        description="Test accuracy above the accuracy on training images by more than this means the "
        "model was trained on the (public) test split.",
    )
    retrain_margin: float = Field(
        default=0.03,
        ge=0,
        le=1,
        description="With --retrain: a test accuracy above the grader's reproduction's by more than this fails.",
    )
    max_params: int | None = Field(
        default=None,
        gt=0,
        description="The most parameters a saved model's architecture may ask for: a larger one is "
        "refused before loading (read by grader.pipeline for the trusted evaluation).",
    )


def memorised_gap(evidence: Evidence) -> float | None:
    """Test accuracy minus accuracy on training images, both trusted; None when not measured."""
    evaluation = evidence.evaluation
    if evaluation.test_accuracy is None or evaluation.train_accuracy is None:
        return None
    return evaluation.test_accuracy - evaluation.train_accuracy


def looks_memorised(evidence: Evidence, margin: float) -> bool:
    """The test accuracy exceeds the accuracy on training images by more than ``margin`` plus
    three standard errors of the difference (sampling noise: about 0.015 for 10,000 images each
    at 0.85, but 0.2 and more for the tiny sets of a test run), so an honest model is never
    accused because its samples were small."""
    gap = memorised_gap(evidence)
    evaluation = evidence.evaluation
    if gap is None or not evaluation.n_test or not evaluation.n_train:
        return False
    p_test, p_train = evaluation.test_accuracy or 0.0, evaluation.train_accuracy or 0.0
    noise = math.sqrt(p_test * (1 - p_test) / evaluation.n_test + p_train * (1 - p_train) / evaluation.n_train)
    return gap > margin + 3 * noise


def weights_problem(evidence: Evidence) -> str:
    """Why the model scored is not the model ``model.fit`` left, or ""."""
    sandbox, evaluation = evidence.sandbox, evidence.evaluation
    record = sandbox.saved_weights
    if record is not None and record.save_overridden:
        return (
            f"the model's class replaces Keras' save() ({record.save_overridden}), so the file it would "
            "save need not be the model that was trained"
        )
    if sandbox.graded_as == "saved_model" or evaluation.status != "ok":
        return ""
    if record is None:
        # No digests to compare (a record the run could forge is no proof either way); the History
        # against the grader's own figure still tells.
        return history_shortfall(evidence)
    if not record.fitted:
        if record.fit_calls_on_other_models:
            return "the model graded is not the one model.fit trained: model.fit trained another model"
        # No model.fit at all: a custom training loop (GradientTape) trains without one, so there
        # is no digest to compare; the training check says fit was not called, and the
        # train-versus-test gap still applies.
        return ""
    if evaluation.weights_digest is not None and record.after_fit is not None:
        if evaluation.weights_digest != record.after_fit:
            return "the weights of the model graded are not the ones model.fit left: they were changed after training"
    return history_shortfall(evidence)


# How far the grader's own accuracy on training images may lie above the best training accuracy
# the History ever recorded. Measured on the reference solutions: within 0.01. Dropout and data
# augmentation make the accuracy during fit lower than the trained model's (by a few hundredths);
# an outside tester's model whose weights a callback replaced at on_train_end (fit on 64 images:
# History 0.36, the model scored 0.92 on training images) is far past this.
HISTORY_SHORTFALL = 0.15


def history_shortfall(evidence: Evidence) -> str:
    """Why the model scored cannot be what its ``model.fit`` trained, judged by the History: it
    does far better on training images than training ever got. "" when it can't be told (no
    History accuracy, no trusted figure). Weights set inside fit (a callback's on_train_end)
    leave the digests equal, but not this."""
    measured = evidence.evaluation.train_accuracy
    train = evidence.sandbox.train
    if measured is None or train is None or evidence.sandbox.graded_as == "saved_model":
        return ""
    recorded = [float(a) for a in training_accuracy(train.history) if isinstance(a, (int, float)) and math.isfinite(a)]
    if not recorded:
        return ""
    best = max(recorded)
    n = evidence.evaluation.n_train or 0
    noise = 3 * math.sqrt(measured * (1 - measured) / n) if n else 0.0
    if measured - best <= HISTORY_SHORTFALL + noise:
        return ""
    return (
        f"it reaches {measured:.4f} on training images (measured by the grader), far above the best training "
        f"accuracy its History ever recorded ({best:.4f}), so its weights were not learned by that model.fit"
    )


def reproduction_problem(evidence: Evidence, margin: float) -> str:
    """With ``--retrain``: why the submission's test accuracy is not believable, or ""."""
    evaluation = evidence.evaluation
    reproduction = evaluation.reproduction
    if reproduction is None or reproduction.status != "ok" or reproduction.test_accuracy is None:
        return ""
    if evaluation.test_accuracy is None or evaluation.test_accuracy - reproduction.test_accuracy <= margin:
        return ""
    return (
        f"The model scores {evaluation.test_accuracy:.4f} on the test images, but the same architecture, "
        f"compiled the same way and trained again by the grader on the training images ({reproduction.epochs} "
        f"epochs, batch size {reproduction.batch_size}), reaches {reproduction.test_accuracy:.4f}: more than "
        f"{margin:g} better than its own recipe can explain, so its weights were not learned from the "
        "training images alone. Its test accuracy does not count."
    )


def trained_on_test_split(evidence: Evidence) -> bool:
    """A ``model.fit`` call got the test split's images (same fingerprint of the first images)."""
    expected = evidence.evaluation.test_fingerprint
    train = evidence.sandbox.train
    if not expected or train is None:
        return False
    return any(call.x_fingerprint == expected for call in train.fit_calls)


def judge_integrity(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """The run was fair: no limit of the sandbox ended it, the model was not trained on the test
    split, and the code does not replace Keras' measuring methods.

    Worth 0 points and meant to be ``required``: it never adds points, it stops a pass.
    """
    sandbox = evidence.sandbox
    run = sandbox.run
    settings = IntegrityParams.of(params)
    if run.limit_hit:
        return Verdict.failed(_limit_message(evidence), LIMIT_HINTS.get(run.limit_hit, ""))
    if not sandbox.steps:
        return Verdict.error(
            "The run left no record of your code: it ended before the grader could see anything.",
            "Run your file with `python` to check that it starts, and grade again.",
        )
    refused = evidence.evaluation.refused
    if refused:
        return Verdict.failed(
            f"The grader did not test the saved model: {refused.rstrip('.')}.",
            "Hand in a model with one 28x28 image input and one output of one score per class, built "
            "from Keras' built-in layers and within the exercise's size.",
        )
    if looks_memorised(evidence, settings.memorised_margin):
        evaluation = evidence.evaluation
        return Verdict.failed(
            f"The model does clearly better on the test images ({evaluation.test_accuracy:.4f}) than on the "
            f"training images ({evaluation.train_accuracy:.4f}, measured by the grader on {evaluation.n_train:,} "
            "of them): a model trained on the training images does not, so it was trained on the test split. "
            "Its test accuracy does not count.",
            MEMORISED_HINT,
        )
    unreproduced = reproduction_problem(evidence, settings.retrain_margin)
    if unreproduced:
        return Verdict.failed(unreproduced, MEMORISED_HINT)
    problem = weights_problem(evidence)
    if problem:
        hint = SAVE_HINT if sandbox.saved_weights is not None and sandbox.saved_weights.save_overridden else WEIGHTS_HINT
        return Verdict.failed(f"The model graded may not be the model your code trained: {problem}.", hint)
    if trained_on_test_split(evidence):
        return Verdict.failed(
            "Your code trained the model on the test split's images, which it found on disk: the "
            "test accuracy of such a model does not count.",
            TEST_SPLIT_HINT,
        )
    if sandbox.tampering:
        places = "; ".join(sandbox.tampering[:5])
        return Verdict.failed(f"Your code changes how Keras measures a model ({places}).", TAMPERING_HINT)
    return Verdict.passed(f"Your code ran within the grader's limits ({run.isolation} isolation) and fairly.")


def _limit_message(evidence: Evidence) -> str:
    """What the limit was and what the code did, in the learner's terms."""
    run = evidence.sandbox.run
    limit = run.limit_hit or ""
    name = _limit_name(limit)
    refused = [
        step.exception
        for step in evidence.sandbox.steps.values()
        if step.exception is not None and step.exception.type in ("MemoryError", "OSError", "ResourceExhaustedError")
    ]
    if limit == "memory" and refused and run.peak_memory_bytes <= run.limits.get("memory_bytes", float("inf")):
        # The kernel refused one allocation (RLIMIT_DATA) before the watchdog saw it grow.
        allowed = run.limits.get("memory_bytes")
        shown = f" ({size_text(allowed)})" if allowed else ""
        return f"Your code hit the grader's memory limit: it asked for more memory at once than the grader allows{shown}, and the allocation was refused (MemoryError)."
    if limit == "file_size" and any("File too large" in exc.message or "Errno 27" in exc.message for exc in refused):
        per_file = run.limits.get("file_bytes")
        shown = f" of {size_text(per_file)}" if per_file else ""
        return f"Your code hit the grader's file size limit: it wrote a file larger than the limit{shown}, and the write was refused."
    # What it reached, when that says more than the limit itself (the watchdog samples ten
    # times a second, so a fast-growing run is caught somewhat past the limit).
    used = ""
    if limit == "memory" and run.peak_memory_bytes > 1.1 * run.limits.get("memory_bytes", float("inf")):
        used = f" (it reached {size_text(run.peak_memory_bytes)})"
    elif limit == "processes" and run.peak_processes:
        used = f" (it had {run.peak_processes} when it was stopped)"
    return f"Your code was stopped by the grader's {name} limit: it used {describe_limit(limit, run.limits)}{used}."


def _limit_name(limit: str) -> str:
    return {"cpu": "CPU time", "file_size": "file size", "processes": "process"}.get(limit, limit)


def integrity_settings(spec: ExerciseSpec) -> IntegrityParams:
    """The parameters of the exercise's integrity check (defaults when it has none)."""
    for check in spec.checks:
        if check.judge == "integrity":
            return IntegrityParams.of(dict(check.params))
    return IntegrityParams()


def counted_only_if_untouched(judge: Judge) -> Judge:
    """``judge``, except that it fails with no points when the model was trained on the test
    split (found on disk, or memorised), or is not the model ``model.fit`` left: its test
    accuracy then measures nothing. (The integrity check says the same.)"""

    @wraps(judge)
    def guarded(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
        if trained_on_test_split(evidence):
            return Verdict.failed(
                "Not counted: the model was trained on the test split's images, so its accuracy "
                "on them says nothing about new images.",
                TEST_SPLIT_HINT,
            )
        if looks_memorised(evidence, integrity_settings(spec).memorised_margin):
            return Verdict.failed(
                f"Not counted: test accuracy {evidence.evaluation.test_accuracy:.4f}, clearly above the "
                f"model's accuracy on training images ({evidence.evaluation.train_accuracy:.4f}): it was "
                "trained on the test split (see the fair-run check).",
                MEMORISED_HINT,
            )
        problem = weights_problem(evidence)
        if problem:
            return Verdict.failed(f"Not counted: {problem} (see the fair-run check).", WEIGHTS_HINT)
        if reproduction_problem(evidence, integrity_settings(spec).retrain_margin):
            return Verdict.failed(
                "Not counted: the grader's own training of this architecture and recipe reaches clearly less "
                "(see the fair-run check).",
                MEMORISED_HINT,
            )
        return judge(evidence, params, spec)

    return guarded
