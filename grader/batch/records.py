"""One student's line in a batch: the result (or why there is none) and its status.

Every writer (gradebook, grades.json, reports, Gradescope files, the class summary) reads
``StudentRecord``s, and an ungradable submission still gets a ``GradeResult``, built by
``error_result``: score 0, no checks, the reason in ``details``. Renderers then need no special
path for "no result", and the gradebook tells errors apart by ``status``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from grader import __version__
from grader.result import GradeResult
from grader.spec import ExerciseSpec

RowStatus = Literal["passed", "failed", "timeout", "error"]


@dataclass
class StudentRecord:
    id: str
    submission: str | None
    status: RowStatus
    result: GradeResult
    key: str | None = None  # cache key; None when nothing could be graded
    error: str = ""  # why it could not be graded (status "error")

    @property
    def graded(self) -> bool:
        return self.status != "error"


def error_result(spec: ExerciseSpec, submission: str | None, message: str, error_type: str = "GradingError") -> GradeResult:
    """A result for a submission the grader could not grade (no file, a broken answers file,
    a grader fault): it scores nothing, and says why in the place reports show notes."""
    return GradeResult(
        exercise=spec.id,
        submission=submission or "",
        passed=False,
        score=0.0,
        max_score=spec.max_score,
        pass_mark=spec.pass_mark,
        seed=None,
        grader_version=__version__,
        elapsed_s=0.0,
        checks=[],
        metrics={"test_accuracy": None},
        style="quiz" if spec.kind == "quiz" else "unknown",
        isolation="none",
        details={
            "notes": [f"This submission could not be graded: {message}"],
            "grading_error": {"type": error_type, "message": message},
            "dataset": spec.dataset,
        },
    )


def is_error_result(result: GradeResult) -> bool:
    return bool((result.details or {}).get("grading_error"))


def result_status(result: GradeResult) -> RowStatus:
    if is_error_result(result):
        return "error"
    if result.passed:
        return "passed"
    if (result.details or {}).get("limit_hit") == "time":
        return "timeout"
    return "failed"


def record_from_outcome(
    spec: ExerciseSpec, student_id: str, submission: str, outcome: dict[str, Any], key: str | None
) -> StudentRecord:
    """The record of one student from a task outcome (fresh, or read back from the cache).
    ``key`` is kept only for an outcome the cache holds: it names what the student's files show."""
    from grader.batch.task import is_cacheable

    key = key if is_cacheable(outcome) else None
    if "result" in outcome:
        result = GradeResult.from_json(outcome["result"])
        # Two students with identical files share one outcome; each keeps their own path.
        result.submission = submission
        return StudentRecord(student_id, submission, result_status(result), result, key)
    error = outcome.get("error") or {}
    message = str(error.get("message") or "unknown error")
    if error.get("submission") and error["submission"] != submission:
        message = message.replace(str(error["submission"]), submission)
    result = error_result(spec, submission, message, str(error.get("type") or "GradingError"))
    return StudentRecord(student_id, submission, "error", result, key, error=message)


def problem_record(spec: ExerciseSpec, student_id: str, submission: str | None, problem: str) -> StudentRecord:
    """A student whose submission could not even be picked (empty folder, two candidates)."""
    return StudentRecord(student_id, submission, "error", error_result(spec, submission, problem, "SubmissionProblem"), None, error=problem)
