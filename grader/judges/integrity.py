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
  nothing in the score; it is reported because it can only be meant to mislead.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from grader.evidence import Evidence
from grader.judges.base import Judge, Verdict
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
    if run.limit_hit:
        return Verdict.failed(_limit_message(evidence), LIMIT_HINTS.get(run.limit_hit, ""))
    if not sandbox.steps:
        return Verdict.error(
            "The run left no record of your code: it ended before the grader could see anything.",
            "Run your file with `python` to check that it starts, and grade again.",
        )
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


def counted_only_if_untouched(judge: Judge) -> Judge:
    """``judge``, except that it fails with no points when the model was trained on the test
    split: its test accuracy then measures nothing. (The integrity check says the same.)"""

    @wraps(judge)
    def guarded(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
        if trained_on_test_split(evidence):
            return Verdict.failed(
                "Not counted: the model was trained on the test split's images, so its accuracy "
                "on them says nothing about new images.",
                TEST_SPLIT_HINT,
            )
        return judge(evidence, params, spec)

    return guarded
