"""``grade validate``: prove that a course's exercises are sound, for its CI.

For each exercise:

- the reference solution (``solutions/<id>/<stub>``) passes with full marks;
- the stub (``exercises/<id>/<stub>``) does not pass;
- each known-bad variant in ``solutions/<id>/bad/`` fails exactly the checks its manifest names.

The manifest, ``solutions/<id>/bad/manifest.toml``, lists one ``[[variants]]`` table per file:

    [[variants]]
    file = "softmax_typo.py"
    mistake = "activation=\\"softMax\\": activation names are case-sensitive in Keras 3"
    fails = ["model_built", "compiled", ...]   # exactly these checks are failed or error

A check that "fails" has status ``failed`` or ``error``; every check the manifest does not name
must pass or be skipped. So a variant proves both that the grader catches the mistake and that
it blames nothing else.

Cases run through the batch executor (``--jobs N`` at once), always graded afresh: a CI run
proves the grader as it is now, not a cached past.
"""

from __future__ import annotations

import contextlib
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.errors import SpecError
from grader.messages import interface as msg
from grader.render.junit import JUnitCase, JUnitSuite
from grader.result import GradeResult
from grader.spec import ExerciseSpec, solutions_root

CaseKind = Literal["reference", "stub", "bad"]
MANIFEST = "manifest.toml"
FAILING = ("failed", "error")


@dataclass
class ValidationCase:
    exercise: ExerciseSpec
    kind: CaseKind
    path: Path
    fails: frozenset[str] = frozenset()  # for a bad variant: the checks it must fail
    mistake: str = ""
    problem: str = ""  # a case that cannot run as planned (a missing file, a bad manifest)

    @property
    def title(self) -> str:
        return msg.validate_case_title(self.kind, self.path.name, sorted(self.fails))


@dataclass
class CaseOutcome:
    case: ValidationCase
    ok: bool
    message: str  # what went wrong, or a one-line confirmation
    result: GradeResult | None = None
    seconds: float = 0.0
    could_not_run: bool = False  # no data, a grader fault: an "error" in JUnit terms


@dataclass
class ValidationReport:
    outcomes: list[CaseOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)


def plan_cases(spec: ExerciseSpec) -> list[ValidationCase]:
    cases = [
        ValidationCase(spec, "reference", spec.solution_path),
        ValidationCase(spec, "stub", spec.stub_path),
    ]
    cases.extend(bad_variants(spec))
    for case in cases[:2]:
        if not case.path.is_file():
            case.problem = msg.validate_missing_file(str(case.path))
    if cases[0].problem:
        # An installed grader carries no reference solutions (learners install the same wheel).
        cases[0].problem = msg.validate_no_reference(cases[0].problem)
    return cases


def bad_variants(spec: ExerciseSpec) -> list[ValidationCase]:
    """The known-bad variants the exercise's manifest lists (none without a bad/ folder)."""
    folder = solutions_root() / spec.id / "bad"
    manifest = folder / MANIFEST
    if not folder.is_dir():
        return []
    if not manifest.is_file():
        raise SpecError(f"{folder} has no {MANIFEST}: list each variant and the checks it must fail.")
    try:
        variants = tomllib.loads(manifest.read_text(encoding="utf-8")).get("variants", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"Cannot read {manifest}: {exc}") from None
    known = _check_ids(spec)
    cases = []
    for index, variant in enumerate(variants, start=1):
        if (
            not isinstance(variant, dict)
            or not isinstance(variant.get("file"), str)
            or not isinstance(variant.get("fails"), list)
        ):
            raise SpecError(f'{manifest}: variant {index} needs file = "..." and fails = ["check id", ...].')
        case = ValidationCase(
            spec,
            "bad",
            folder / variant["file"],
            frozenset(map(str, variant["fails"])),
            str(variant.get("mistake", "")),
        )
        unknown = sorted(case.fails - known)
        if unknown:
            case.problem = msg.validate_unknown_checks(spec.id, ", ".join(unknown))
        elif not case.path.is_file():
            case.problem = msg.validate_missing_file(str(case.path))
        cases.append(case)
    listed = {c.path.name for c in cases}
    for stray in sorted(
        p for p in folder.iterdir() if p.is_file() and p.name != MANIFEST and not p.name.startswith(".")
    ):
        if stray.name not in listed:
            # An unlisted variant proves nothing; say so rather than skip it quietly.
            unlisted = msg.validate_unlisted_variant(stray.name, MANIFEST)
            cases.append(ValidationCase(spec, "bad", stray, problem=unlisted))
    return cases


def _check_ids(spec: ExerciseSpec) -> set[str]:
    from grader.batch.gradebook import spec_check_ids

    return set(spec_check_ids(spec))


def judge_case(case: ValidationCase, result: GradeResult) -> CaseOutcome:
    failing = {c.id for c in result.checks if c.status in FAILING}
    if case.kind == "reference":
        if result.passed and result.score >= result.max_score:
            return CaseOutcome(case, True, f"{result.score:g}/{result.max_score:g}", result)
        missed = ", ".join(
            msg.validate_missed_check(c.id, c.status, c.message)
            for c in result.checks
            if c.status != "passed" and c.max_score > 0
        )
        not_full = msg.validate_not_full_marks(f"{result.score:g}", f"{result.max_score:g}", missed)
        return CaseOutcome(case, False, not_full, result)
    if case.kind == "stub":
        if not result.passed:
            return CaseOutcome(case, True, f"{result.score:g}/{result.max_score:g}", result)
        return CaseOutcome(case, False, msg.validate_stub_passes(f"{result.score:g}", f"{result.max_score:g}"), result)
    if failing == case.fails:
        return CaseOutcome(case, True, msg.validate_as_manifest_says(), result)
    parts = []
    if case.fails - failing:
        parts.append(msg.validate_did_not_fail(", ".join(sorted(case.fails - failing))))
    if failing - case.fails:
        also = ", ".join(f"{c.id} ({c.message})" for c in result.checks if c.id in failing - case.fails)
        parts.append(msg.validate_also_failed(also))
    return CaseOutcome(case, False, "; ".join(parts), result)


def run_validation(
    specs: list[ExerciseSpec],
    *,
    jobs: int = 1,
    data_dir: Path | None = None,
    sandbox: str = "auto",
    on_outcome: Callable[[CaseOutcome], None] | None = None,
) -> ValidationReport:
    from grader.batch.cache import dataset_checksums, spec_digest
    from grader.batch.executor import LocalExecutor, threads_per_sandbox
    from grader.batch.task import GradeTask

    report = ValidationReport()
    notify = on_outcome or (lambda outcome: None)
    tasks: list[GradeTask] = []
    cases: dict[str, ValidationCase] = {}
    for spec in specs:
        for case in plan_cases(spec):
            if case.problem:
                report.outcomes.append(CaseOutcome(case, False, case.problem))
                notify(report.outcomes[-1])
                continue
            datasets: dict[str, str] = {}
            with contextlib.suppress(Exception):  # missing data shows up as the case's own error
                datasets = dataset_checksums(spec, data_dir)
            task_id = f"{len(cases)}"
            cases[task_id] = case
            tasks.append(
                GradeTask(
                    key=task_id,
                    exercise=spec.id,
                    submission=str(case.path),
                    kind=spec.kind,
                    spec_digest=spec_digest(spec),
                    datasets=datasets,
                    data_dir=str(data_dir) if data_dir else None,
                    timeout_s=spec.timeout_s,
                    threads=threads_per_sandbox(jobs),
                    sandbox=sandbox,
                )
            )
    executor = LocalExecutor(jobs)
    started = {task.key: time.monotonic() for task in tasks}
    with contextlib.closing(executor.grade(tasks)) as finished:
        for task, outcome in finished:
            case = cases[task.key]
            if outcome.result is not None:
                graded = judge_case(case, outcome.result)
                graded.seconds = outcome.result.elapsed_s
            else:
                message = outcome.error.message if outcome.error is not None else None
                graded = CaseOutcome(
                    case, False, msg.validate_could_not_grade(message),
                    seconds=time.monotonic() - started[task.key], could_not_run=True,
                )  # fmt: skip
            report.outcomes.append(graded)
            notify(graded)
    order = {id(case): i for i, case in enumerate(cases.values())}
    report.outcomes.sort(key=lambda o: (o.case.exercise.id, order.get(id(o.case), -1)))
    return report


def junit_suites(report: ValidationReport) -> list[JUnitSuite]:
    suites: dict[str, JUnitSuite] = {}
    for outcome in report.outcomes:
        exercise = outcome.case.exercise.id
        suite = suites.setdefault(exercise, JUnitSuite(exercise))
        case = JUnitCase(
            name=outcome.case.title,
            classname=f"grade.validate.{exercise}",
            seconds=outcome.seconds,
            output=_checks_text(outcome.result),
        )
        if outcome.could_not_run:
            case.error, case.details = outcome.message, outcome.message
        elif not outcome.ok:
            case.failure = outcome.message
            case.details = outcome.message + ("\n\n" + case.output if case.output else "")
        suite.cases.append(case)
    return list(suites.values())


def _checks_text(result: GradeResult | None) -> str:
    if result is None:
        return ""
    lines = [f"{result.exercise}: {result.score:g}/{result.max_score:g}, {'passed' if result.passed else 'not passed'}"]
    lines += [f"  {c.status:<7} {c.id}: {c.message}" for c in result.checks]
    return "\n".join(lines)


def summary_line(report: ValidationReport) -> dict[str, Any]:
    failed = [o for o in report.outcomes if not o.ok]
    return {"cases": len(report.outcomes), "failed": len(failed), "ok": report.ok}
