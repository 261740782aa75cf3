"""One student's line in a batch: who they are, the result (or why there is none), its status
and the final grade.

Every writer (gradebook, grades.json, exports, reports, Gradescope files, the class summary)
reads ``StudentRecord``s. One status vocabulary everywhere:

    passed    graded, and the final grade passes
    failed    graded, and it does not
    timeout   graded, stopped at the time limit
    error     could not be graded (no file to pick, a broken answers file, a grader fault)
    missing   on the roster, nothing handed in

A student with ``error`` or ``missing`` has no score anywhere (empty cells, ``null`` in JSON,
"not graded" in their report), never a 0 an LMS would import as earned. Internally an
ungradable submission still gets a ``GradeResult`` (``error_result``: no checks, the reason in
``details``), so renderers need no special path for "no result".
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Literal

from grader import __version__
from grader.batch.discover import Student
from grader.batch.policy import FinalGrade
from grader.batch.task import TaskOutcome
from grader.result import GradeResult, ResultDetails
from grader.spec import ExerciseSpec

RowStatus = Literal["passed", "failed", "timeout", "error", "missing"]
ROW_STATUSES: tuple[RowStatus, ...] = ("passed", "failed", "timeout", "error", "missing")
UNGRADED: tuple[RowStatus, ...] = ("error", "missing")


@dataclass
class StudentRecord:
    id: str
    submission: str | None
    status: RowStatus
    result: GradeResult
    key: str | None = None  # cache key; None when nothing could be graded
    error: str = ""  # why it could not be graded (status "error" or "missing")
    student: Student | None = None  # identity, LMS layout, submission time, roster row
    final: FinalGrade | None = None  # set by the batch from the result, scale, late policy, overrides
    flags: list[str] = field(default_factory=list)  # for the instructor: identical / similar submissions

    @property
    def graded(self) -> bool:
        return self.status not in UNGRADED

    @property
    def points(self) -> float | None:
        """The final grade out of the exercise's points, or None when not graded."""
        if self.final is not None:
            return self.final.points
        return self.result.score if self.graded else None

    @property
    def passed(self) -> bool | None:
        if self.final is not None:
            return self.final.passed
        return self.result.passed if self.graded else None

    @property
    def integrity(self) -> str:
        """The integrity check's verdict, judged automatically: passed | failed | error | skipped | ""."""
        check = next((c for c in self.result.checks if c.id == "integrity" or c.id.startswith("integrity")), None)
        return check.status if check is not None else ""

    @property
    def isolation(self) -> str:
        return self.result.isolation if self.graded else ""


def error_result(
    spec: ExerciseSpec, submission: str | None, message: str, error_type: str = "GradingError"
) -> GradeResult:
    """A result for a submission the grader could not grade (no file, a broken answers file,
    a grader fault): it has no checks and says why in the place reports show notes."""
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
        details=ResultDetails(
            notes=[f"This submission could not be graded: {message}"],
            grading_error={"type": error_type, "message": message},
            dataset=spec.dataset,
        ),
    )


def is_error_result(result: GradeResult) -> bool:
    return bool(result.details.get("grading_error"))


def result_status(result: GradeResult) -> RowStatus:
    if is_error_result(result):
        return "error"
    if result.passed:
        return "passed"
    if result.details.get("limit_hit") == "time":
        return "timeout"
    return "failed"


def record_from_outcome(
    spec: ExerciseSpec, student_id: str, submission: str, outcome: TaskOutcome, key: str | None
) -> StudentRecord:
    """The record of one student from a task outcome (fresh, or read back from the cache).
    ``key`` is kept only for an outcome the cache holds: it names what the student's files show."""
    key = key if outcome.cacheable else None
    if outcome.result is not None:
        # Two students with identical files share one outcome: each gets a result of their own,
        # with their own path (the batch adds each one's final grade to it).
        result = copy.deepcopy(outcome.result)
        result.submission = submission
        return StudentRecord(student_id, submission, result_status(result), result, key)
    assert outcome.error is not None  # a TaskOutcome holds one of the two
    message = outcome.error.message or "unknown error"
    if outcome.error.submission and outcome.error.submission != submission:
        message = message.replace(outcome.error.submission, submission)
    result = error_result(spec, submission, message, outcome.error.type or "GradingError")
    return StudentRecord(student_id, submission, "error", result, key, error=message)


def problem_record(spec: ExerciseSpec, student_id: str, submission: str | None, problem: str) -> StudentRecord:
    """A student whose submission could not even be picked (empty folder, two candidates, a link)."""
    return StudentRecord(
        student_id,
        submission,
        "error",
        error_result(spec, submission, problem, "SubmissionProblem"),
        None,
        error=problem,
    )


def missing_record(spec: ExerciseSpec, student_id: str) -> StudentRecord:
    """A roster student who handed in nothing."""
    message = "nothing was handed in"
    return StudentRecord(student_id, None, "missing", error_result(spec, None, message, "Missing"), None, error=message)
