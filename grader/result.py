"""The finished result of grading one submission: what every renderer formats.

``GradeResult.to_json()`` is the stable, documented JSON shape (``grade ... --json FILE``):

    exercise, submission, style, passed, score, max_score, pass_mark, seed, grader_version,
    elapsed_s, isolation, mode, metrics {test_accuracy, train_seconds, ...},
    checks [{id, name, status, score, max_score, message, hint}], details {...}

``mode`` is "full", or "quick" for a ``grade --quick`` preview: ``passed`` is then null (a
preview has no verdict) and the checks that need the full training are "skipped".

``details`` carries the evidence the reports draw (model layers, history, per-class figures,
confusion matrix, captured output). Its keys are declared, with their types, by ``ResultDetails``;
they may grow, the top-level keys above do not change.

One mechanism writes and reads all of it: ``RESULT_JSON``, a pydantic ``TypeAdapter`` over these
dataclasses. ``to_json`` dumps in Python mode (the same values ``dataclasses.asdict`` gave, so a
NaN loss stays NaN); ``from_json`` validates, so a file that is not a result (a missing score,
a check without a status) is an error at the boundary rather than a crash in a renderer, while
details in a shape ``ResultDetails`` does not describe are kept as written (renderers read them
defensively; a grade is never lost over its evidence). The batch's task outcomes
(``grader.batch.task.TaskOutcome``) embed a result through the same adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    with_config,
)
from typing_extensions import TypedDict  # pydantic validates typing_extensions' TypedDict on 3.11

from grader.atomic import write_json_atomically

Status = Literal["passed", "failed", "error", "skipped"]
STATUSES: tuple[Status, ...] = ("passed", "failed", "error", "skipped")


def _ungraded_scores_zero(value: Any) -> Any:
    return 0.0 if value is None else value


# A batch writes ``"score": null`` for a student nobody could grade (grader.batch.run), whose
# result scores 0 inside the grader (grader.batch.records.error_result); read back, it is that 0.
Score = Annotated[float, BeforeValidator(_ungraded_scores_zero)]


class GradingError(TypedDict):
    """Why a submission could not be graded (``grader.batch.records.error_result``)."""

    type: str  # "Missing", "SubmissionProblem", an exception's class name, ...
    message: str


class ReportFiles(TypedDict):
    """The reports ``grade`` wrote (kind -> path) and those it could not (kind -> why)."""

    written: dict[str, str]
    failed: dict[str, str]


@with_config(ConfigDict(extra="allow"))  # a newer grader's keys are kept, not dropped
class ResultDetails(TypedDict, total=False):
    """The evidence behind a result, for reports: every key a producer writes, with its type.

    Model exercises (``grader.pipeline``) write the evidence keys, quizzes (``grader.quiz``) the
    answer keys, an ungradable submission ``grading_error``; ``grade`` adds ``reports`` and a
    batch ``final_grade``/``adjustments``. Every key is optional: readers use ``.get``. The
    evidence shapes (model facts, evaluation, exceptions, fit calls) are the ``to_json`` of the
    dataclasses in ``grader.evidence`` and ``grader.evaluation``, described there.
    """

    # A model exercise (grader.pipeline)
    graded_at: str  # ISO 8601, UTC
    tensorflow_version: str | None
    keras_version: str | None
    dataset: str | None
    model: dict[str, Any] | None  # grader.evidence.ModelInfo
    model_facts_from: str  # "evaluation" (measured by the grader) or "run" (the run's claim)
    history: dict[str, Any]  # History.history as the run reported it: metric -> values per epoch
    fit_calls: list[dict[str, Any]]  # grader.evidence.FitCall
    evaluation: dict[str, Any] | None  # the trusted evaluation's figures
    errors: list[dict[str, Any]]  # {"step": ..., **grader.evidence.ExceptionInfo}
    output: str
    output_truncated_bytes: int
    limit_hit: str | None  # "time", "memory", ...: the limit that stopped the run
    limits_enforced_by: Any
    notes: list[str]
    graded_as: str
    model_source: str
    # A quiz (grader.quiz)
    flagged_for_review: list[dict[str, Any]]
    answers: dict[str, Any]
    # No result (grader.batch.records.error_result)
    grading_error: GradingError
    # Added after grading: by `grade` (grader.cli) and by a batch (grader.batch.run)
    reports: ReportFiles
    final_grade: dict[str, Any]  # grader.batch.policy.FinalGrade
    adjustments: list[str]


def _details_as_written(value: Any, typed: ValidatorFunctionWrapHandler) -> Any:
    """Details in today's shape are read as ``ResultDetails``; evidence in a shape they do not
    describe (an older grader's, or a producer's bug) is kept as written, since the renderers
    read it defensively and a grade must never be lost over its evidence. Not a mapping at all
    is an error."""
    try:
        return typed(value)
    except ValidationError:
        if isinstance(value, dict):
            return dict(value)
        raise


Details = Annotated[ResultDetails, WrapValidator(_details_as_written)]


@dataclass
class CheckResult:
    """One check as a learner reads it."""

    id: str
    name: str
    status: Status
    score: float
    max_score: float
    message: str
    hint: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = CHECK_JSON.dump_python(self)
        return data


@dataclass
class GradeResult:
    exercise: str
    submission: str
    passed: bool | None  # None: a quick-mode preview, which has no verdict (grader.quick)
    score: Score
    max_score: float
    pass_mark: float
    seed: int | None
    grader_version: str
    elapsed_s: float
    checks: list[CheckResult]
    metrics: dict[str, Any] = field(default_factory=dict)
    style: str = "module"
    isolation: str = "process"
    details: Details = field(default_factory=lambda: ResultDetails())
    # "full", or "quick": a preview from a trial fit, test accuracy not measured (grader.quick).
    mode: str = "full"

    def to_json(self) -> dict[str, Any]:
        # warnings=False: details read from an older grader may not fit today's types, and are
        # written back as they are.
        data: dict[str, Any] = RESULT_JSON.dump_python(self, warnings=False)
        return data

    @classmethod
    def from_json(cls, data: Any) -> GradeResult:
        """Read a result back, validated (``pydantic.ValidationError``, a ``ValueError``, when it
        is not a result); keys a newer grader added at the top level are ignored, so old code
        reads new JSON."""
        return RESULT_JSON.validate_python(data)

    def write_json(self, path: Path) -> None:
        """Write atomically, so a reader never sees half a result."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomically(path, self.to_json())


RESULT_JSON: TypeAdapter[GradeResult] = TypeAdapter(GradeResult)
CHECK_JSON: TypeAdapter[CheckResult] = TypeAdapter(CheckResult)
