"""The per-submission task: what crosses a process or machine boundary, and what comes back.

A ``GradeTask`` is plain data (it travels as JSON to a local worker process, or pickled to a
Dask worker); ``run_grade_task`` runs it wherever it lands and returns a ``TaskOutcome``: the
``GradeResult``, or a ``TaskError`` saying why there is none. Its JSON form (the worker's outcome
file, the cache's entries) is one of:

    {"result": {...GradeResult.to_json()...}}
    {"error": {"type": "...", "message": "...", "cacheable": false, "traceback": "", "submission": "..."}}

written and read by one pydantic ``TypeAdapter`` (``OUTCOME_JSON``) over these dataclasses, the
one ``grader.result`` uses for the result itself; reading validates, so a truncated or foreign
file is refused at the boundary (``TaskOutcome.from_json`` raises ``ValueError``).

It never raises: a grader exception while grading one student becomes that student's error
outcome, so one bad submission cannot stop a batch.
"""

from __future__ import annotations

import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from grader.errors import DataMissingError, GraderError, SpecError, SubmissionNotFoundError, UsageError
from grader.result import GradeResult
from grader.sandbox.scratch import remove_tree

# Errors that say something about this machine (no data, a broken spec, a file that vanished),
# not about the submission: never cached, so a re-run after the fix grades the student.
ENVIRONMENT_ERRORS: tuple[type[GraderError], ...] = (DataMissingError, SpecError, UsageError, SubmissionNotFoundError)


@dataclass
class GradeTask:
    key: str  # the cache key (grader.batch.cache.cache_key)
    exercise: str
    submission: str  # the path where the batch found it; results report this path
    spec_digest: str  # the worker checks its exercise spec is the same one
    kind: str = "model"  # the exercise's kind: a "quiz" runs no learner code
    datasets: dict[str, str] = field(default_factory=dict)  # name -> checksum the worker must have
    data_dir: str | None = None
    seed: int | None = None
    timeout_s: float | None = None  # the learner's time limit (None: the exercise's)
    threads: int | None = None
    sandbox: str = "auto"  # the isolation asked for (grader.sandbox.isolation)
    # Remote workers get the file's bytes, so a cluster needs no shared disk with the batch.
    content: bytes | None = None
    # Dask: TensorFlow threads per worker address, so N sandboxes on one host share its cores.
    threads_by_worker: dict[str, int] | None = None

    def to_json(self) -> dict[str, Any]:
        # Local workers read the file itself: its bytes stay out of task.json.
        data: dict[str, Any] = TASK_JSON.dump_python(self, exclude={"content"})
        return data

    @classmethod
    def from_json(cls, data: Any) -> GradeTask:
        """The task a worker was handed, validated (``ValueError`` when it is not one)."""
        return TASK_JSON.validate_python(data)


TASK_JSON: TypeAdapter[GradeTask] = TypeAdapter(GradeTask)


@dataclass
class TaskError:
    """Why one submission has no result: the student's error row says ``message``."""

    type: str  # the exception's class name, or the batch's own ("WorkerFailed", ...)
    message: str  # a user-facing sentence (for a grader bug: what failed, and that it is a bug)
    cacheable: bool = False  # says something about the submission, not about this machine
    traceback: str = ""  # a grader bug's traceback, for the instructor who reports it
    # The path the message names: two students with identical files share one outcome, and each
    # reads their own path there (grader.batch.records.record_from_outcome).
    submission: str | None = None


@dataclass
class TaskOutcome:
    """What grading one submission gave: its result, or the error that stopped it (exactly one)."""

    result: GradeResult | None = None
    error: TaskError | None = None

    def __post_init__(self) -> None:
        if (self.result is None) == (self.error is None):
            raise ValueError("a task outcome holds a result or an error, exactly one of them")

    @property
    def cacheable(self) -> bool:
        """A result is cached unless it holds a grader error (a judge that raised: fixed in the
        next release, the student must then be graded again); an error only when it says
        something about the submission, not about this machine or a grader fault."""
        if self.result is not None:
            return not holds_grader_error(self.result)
        return self.error is not None and self.error.cacheable

    def to_json(self) -> dict[str, Any]:
        """``{"result": {...}}`` or ``{"error": {...}}``: the absent half is left out."""
        data: dict[str, Any] = OUTCOME_JSON.dump_python(
            self, exclude={"error"} if self.error is None else {"result"}, warnings=False
        )
        return data

    @classmethod
    def from_json(cls, data: Any) -> TaskOutcome:
        """An outcome read back (a worker's file, a cache entry); ``ValueError`` when ``data``
        is not one (pydantic's ``ValidationError`` is a ``ValueError``)."""
        return OUTCOME_JSON.validate_python(data)


OUTCOME_JSON: TypeAdapter[TaskOutcome] = TypeAdapter(TaskOutcome)


def error_outcome(exc: BaseException, *, cacheable: bool | None = None) -> TaskOutcome:
    """An error outcome. A ``GraderError`` message is a user-facing sentence; anything else is
    a grader bug and keeps its traceback for the instructor who reports it."""
    if isinstance(exc, GraderError):
        message = str(exc)
        if cacheable is None:
            cacheable = not isinstance(exc, ENVIRONMENT_ERRORS)
        detail = ""
    else:
        message = f"The grader itself failed on this submission ({type(exc).__name__}: {exc}); this is a grader bug."
        cacheable = False
        detail = "".join(traceback.format_exception(exc))
    return TaskOutcome(error=TaskError(type(exc).__name__, message, cacheable=bool(cacheable), traceback=detail))


def holds_grader_error(result: GradeResult) -> bool:
    """Whether a judge broke on this result: ``grader.scoring`` gives that check status "error"
    and the message ``grader.messages.judges.internal_error``, in whichever language the grading
    ran, so each language's wording is compared."""
    from grader.messages import LANGUAGES, use_language
    from grader.messages.judges import internal_error

    for check in result.checks:
        if check.status != "error":
            continue
        for language in LANGUAGES:
            with use_language(language):
                prefix = internal_error(check.id, "")
            if check.message.startswith(prefix):
                return True
    return False


def run_grade_task(task: GradeTask) -> TaskOutcome:
    """Grade one submission here (a local worker process or a Dask worker) and return its outcome."""
    scratch: Path | None = None
    try:
        from grader.batch.cache import spec_digest
        from grader.pipeline import GradeOptions, grade_submission
        from grader.spec import load_exercise

        spec = load_exercise(task.exercise)
        if spec_digest(spec) != task.spec_digest:
            raise SpecError(
                f"This worker's copy of exercise '{task.exercise}' differs from the batch's; "
                "install the same grader and exercises on every worker."
            )
        _check_datasets(task)
        path = Path(task.submission)
        if task.content is not None:
            # Same file name as the student's, so the submission style and messages match.
            scratch = Path(tempfile.mkdtemp(prefix="grade-task-"))
            path = scratch / Path(task.submission).name
            path.write_bytes(task.content)
        options = GradeOptions(
            data_dir=Path(task.data_dir) if task.data_dir else None,
            seed=task.seed,
            timeout_s=task.timeout_s,
            threads=task.threads or _threads_for_this_worker(task),
            sandbox=task.sandbox,
        )
        result = grade_submission(spec, path, options)
        result.submission = task.submission
        return TaskOutcome(result=result)
    except Exception as exc:  # noqa: BLE001 - one student's failure must not stop the batch
        outcome = error_outcome(exc)
        assert outcome.error is not None
        # Messages may name the file; a student sharing this outcome gets their own path there.
        outcome.error.submission = task.submission
        return outcome
    finally:
        if scratch is not None:
            remove_tree(scratch)


def _check_datasets(task: GradeTask) -> None:
    """A worker with other data would grade against another test set: refuse, in words."""
    if not task.datasets:
        return
    from grader.datasets import load_dataset

    for name, checksum in task.datasets.items():
        here = load_dataset(name, Path(task.data_dir) if task.data_dir else None).checksum
        if here != checksum:
            raise DataMissingError(
                f"This worker's {name} dataset (checksum {here[:12]}) is not the batch's ({checksum[:12]}); "
                "run `grade data prepare` with the same data on every worker."
            )


def _threads_for_this_worker(task: GradeTask) -> int | None:
    if not task.threads_by_worker:
        return None
    try:
        from distributed import get_worker

        return task.threads_by_worker.get(get_worker().address)
    except (ImportError, ValueError):
        return None
