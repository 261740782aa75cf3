"""A pytest plugin for course repositories: assert a submission's grade in your own tests.

Installed with the grader (entry point ``pytest11``), it adds one fixture, ``exercise_grader``:

    def test_reference_solution_passes(exercise_grader):
        result = exercise_grader.grade("fashion_mnist", "solutions/fashion_mnist/fashion_mnist.py")
        exercise_grader.assert_passes(result)

    def test_softmax_typo_is_caught(exercise_grader):
        result = exercise_grader.grade("fashion_mnist", "tests/bad/softmax_typo.py")
        exercise_grader.assert_fails_exactly(result, ["model_built", "compiled", ...])
        assert result.score < result.max_score

``grade`` returns the ``GradeResult`` (see ``grader.result``), graded in a sandbox exactly as
``grade EXERCISE PATH`` does. Results are kept for the session by file content and options, so
several tests asserting on one submission train it once.

Options: ``--grader-data-dir DIR`` (or ``GRADER_DATA_DIR``) names the dataset folder,
``--grader-timeout SECONDS`` caps each submission's run, ``--grader-course DIR`` (or
``GRADER_COURSE_DIR``) reads the exercises from a course folder holding ``exercises/`` and
``solutions/``, and ``--grader-cache-dir DIR`` (or ``GRADER_PLUGIN_CACHE_DIR``) keeps results
between runs, keyed by content exactly as ``grade batch`` keys them (the submission's bytes, the
exercise spec, the dataset checksums, the grader's own code, the options): a course CI run that
changed nothing trains nothing. Results that hold a grader error are never kept.

Loading this plugin costs nothing: it imports only the standard library and pytest at start-up,
and the grader (and TensorFlow) only when a test uses the fixture. Disable it with
``-p no:exercise_grader``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from grader.result import GradeResult

FAILING = ("failed", "error")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("exercise_grader", "exercise grader")
    group.addoption("--grader-data-dir", default=None, metavar="DIR", help="folder with the dataset files")
    group.addoption(
        "--grader-timeout", type=float, default=None, metavar="SECONDS", help="time limit per graded submission"
    )
    group.addoption("--grader-course", default=None, metavar="DIR", help="course folder with exercises/ and solutions/")
    group.addoption(
        "--grader-cache-dir", default=None, metavar="DIR", help="keep results between runs here, keyed by content"
    )


class ExerciseGrader:
    """Grades submissions for tests, and says in the assertion message what went wrong."""

    def __init__(
        self, data_dir: Path | None = None, timeout_s: float | None = None, cache_dir: Path | None = None
    ) -> None:
        self.data_dir = data_dir
        self.timeout_s = timeout_s
        self.cache_dir = cache_dir
        self._results: dict[tuple[Any, ...], GradeResult] = {}
        self.trained = 0  # submissions graded (not taken from a cache) in this session

    def grade(
        self, exercise: str, path: str | Path, *, seed: int | None = None, timeout_s: float | None = None
    ) -> GradeResult:
        from grader.pipeline import GradeOptions, grade_submission
        from grader.spec import load_exercise

        path = Path(path)
        timeout_s = timeout_s or self.timeout_s
        content = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else str(path)
        key = (exercise, content, path.suffix, seed, timeout_s)
        if key not in self._results:
            spec = load_exercise(exercise)
            stored = self._stored_key(spec, path, seed, timeout_s)
            result = self._load(stored)
            if result is None:
                options = GradeOptions(data_dir=self.data_dir, seed=seed, timeout_s=timeout_s)
                result = grade_submission(spec, path, options)
                self.trained += 1
                self._store(stored, result)
            result.submission = str(path)
            self._results[key] = result
        return self._results[key]

    def _stored_key(self, spec: Any, path: Path, seed: int | None, timeout_s: float | None) -> str | None:
        if self.cache_dir is None or not path.is_file():
            return None
        from grader.batch.cache import cache_key, dataset_checksums, file_digest, spec_digest

        content = hashlib.sha256(f"{file_digest(path)}:{path.suffix.lower()}".encode()).hexdigest()
        return cache_key(content, spec_digest(spec), dataset_checksums(spec, self.data_dir), seed=seed,
                         timeout_s=timeout_s or spec.timeout_s, sandbox="auto")  # fmt: skip

    def _load(self, stored: str | None) -> GradeResult | None:
        if stored is None:
            return None
        from grader.batch.cache import ResultCache

        outcome = ResultCache(self.cache_dir).get(stored)  # type: ignore[arg-type]
        return outcome.result if outcome is not None else None  # an error entry: graded again

    def _store(self, stored: str | None, result: GradeResult) -> None:
        if stored is None:
            return
        from grader.batch.cache import ResultCache
        from grader.batch.task import TaskOutcome

        outcome = TaskOutcome(result=result)
        if outcome.cacheable:
            ResultCache(self.cache_dir).put(stored, outcome)  # type: ignore[arg-type]

    @staticmethod
    def failing_checks(result: GradeResult) -> set[str]:
        """Ids of the checks that failed or raised."""
        return {check.id for check in result.checks if check.status in FAILING}

    @staticmethod
    def check(result: GradeResult, check_id: str) -> Any:
        found = next((c for c in result.checks if c.id == check_id), None)
        if found is None:
            raise KeyError(
                f"{result.exercise} has no check '{check_id}'; its checks: {', '.join(c.id for c in result.checks)}"
            )
        return found

    def assert_passes(self, result: GradeResult, *, full_marks: bool = True) -> None:
        if result.passed and (not full_marks or result.score >= result.max_score):
            return
        pytest.fail(
            f"expected {result.submission} to pass{' with full marks' if full_marks else ''}:\n{describe(result)}",
            pytrace=False,
        )

    def assert_fails(self, result: GradeResult) -> None:
        if result.passed:
            pytest.fail(f"expected {result.submission} not to pass:\n{describe(result)}", pytrace=False)

    def assert_fails_exactly(self, result: GradeResult, checks: Iterable[str]) -> None:
        """Exactly these checks fail (or raise); every other check passes or is skipped."""
        expected, failing = set(checks), self.failing_checks(result)
        if failing != expected:
            missing = ", ".join(sorted(expected - failing)) or "none"
            extra = ", ".join(sorted(failing - expected)) or "none"
            pytest.fail(
                f"{result.submission}: expected exactly [{', '.join(sorted(expected))}] to fail; "
                f"not failed: {missing}; also failed: {extra}\n{describe(result)}",
                pytrace=False,
            )


def describe(result: GradeResult) -> str:
    lines = [
        f"  {result.exercise}: {result.score:g}/{result.max_score:g}, {'passed' if result.passed else 'not passed'}"
    ]
    lines += [f"  {c.status:<7} {c.id}: {c.message}" for c in result.checks]
    return "\n".join(lines)


@pytest.fixture(scope="session")
def exercise_grader(pytestconfig: pytest.Config) -> ExerciseGrader:
    """Grade a submission and assert on its result: ``exercise_grader.grade(exercise, path)``."""
    import os

    data_dir = pytestconfig.getoption("grader_data_dir", default=None)
    course = pytestconfig.getoption("grader_course", default=None)
    if course:
        os.environ["GRADER_COURSE_DIR"] = str(Path(course).resolve())
    cache_dir = pytestconfig.getoption("grader_cache_dir", default=None) or os.environ.get("GRADER_PLUGIN_CACHE_DIR")
    return ExerciseGrader(
        data_dir=Path(data_dir) if data_dir else None,
        timeout_s=pytestconfig.getoption("grader_timeout", default=None),
        cache_dir=Path(cache_dir) if cache_dir else None,
    )
