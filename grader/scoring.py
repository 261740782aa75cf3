"""Scoring: run each check's judge over the evidence and add up the points.

``score_evidence(spec, evidence)`` returns the checks in the spec's order, the total and whether
the submission passes: the total reaches ``pass_mark`` *and* no check marked ``required = true``
in ``exercise.toml`` failed (a submission whose model does not reach the accuracy bar does not
pass, however many other points it collects).

Scoring never crashes on a judge: a judge that raises is a grader bug, reported as that check's
``error`` with 0 points, so one bad judge cannot lose the rest of a learner's result.
"""

from __future__ import annotations

import math
from typing import Any

from grader.evidence import Evidence
from grader.judges import JUDGES, Verdict
from grader.result import STATUSES, CheckResult
from grader.spec import CheckSpec, ExerciseSpec


def score_evidence(spec: ExerciseSpec, evidence: Evidence) -> tuple[list[CheckResult], float, bool]:
    """Judge every check of ``spec``: ``(check results in spec order, total score, passed)``."""
    results = [score_check(check, spec, evidence) for check in spec.checks]
    total = round(sum(result.score for result in results), 2)
    required = required_check_ids(spec)
    required_failed = any(r.id in required and r.status in ("failed", "error") for r in results)
    passed = total >= spec.pass_mark and not required_failed
    return results, total, passed


def score_check(check: CheckSpec, spec: ExerciseSpec, evidence: Evidence) -> CheckResult:
    """One check: its judge's verdict weighted by its points, with the spec's hint applied."""
    verdict = run_judge(check, spec, evidence)
    # Only a check that ran and found the work lacking earns partial credit; "error" (could not
    # check) and "skipped" never hand out points.
    fraction = verdict.fraction if verdict.status in ("passed", "failed") else 0.0
    hint = verdict.hint
    if verdict.status == "failed" and check.hint:
        hint = check.hint  # the exercise author's hint replaces the judge's generic one
    if verdict.status == "passed":
        hint = ""
    return CheckResult(
        id=check.id,
        name=check.name,
        status=verdict.status,
        score=round(fraction * check.points, 2),
        max_score=check.points,
        message=verdict.message,
        hint=hint,
    )


def run_judge(check: CheckSpec, spec: ExerciseSpec, evidence: Evidence) -> Verdict:
    """Call the check's judge; turn any failure of the judge itself into an ``error`` verdict."""
    judge = JUDGES.get(check.judge)
    if judge is None:
        return Verdict.error(f"internal grader error in check {check.id}: no judge named '{check.judge}'.")
    try:
        verdict = judge(evidence, dict(check.params), spec)
    except Exception as exc:  # noqa: BLE001 - a judge bug must not lose the other checks
        return Verdict.error(f"internal grader error in check {check.id}: {type(exc).__name__}: {exc}")
    problem = _invalid(verdict)
    if problem:
        return Verdict.error(f"internal grader error in check {check.id}: {problem}")
    return verdict


def _invalid(verdict: Any) -> str:
    """What is wrong with a judge's return value, or "" when it is a sound Verdict."""
    if not isinstance(verdict, Verdict):
        return f"the judge returned {type(verdict).__name__}, not a Verdict"
    if verdict.status not in STATUSES:
        return f"the judge returned status {verdict.status!r}"
    if not isinstance(verdict.fraction, (int, float)) or not math.isfinite(verdict.fraction):
        return f"the judge returned fraction {verdict.fraction!r}"
    if not 0.0 <= verdict.fraction <= 1.0:
        return f"the judge returned fraction {verdict.fraction!r}, outside 0..1"
    return ""


def required_check_ids(spec: ExerciseSpec) -> set[str]:
    """Ids of the checks marked ``required = true`` in exercise.toml.

    ``grader.spec`` keeps every key of the file in ``spec.raw``; ``required`` is read from there so
    the spec dataclasses need no change for it.
    """
    return {
        str(check["id"])
        for check in spec.raw.get("checks", [])
        if isinstance(check, dict) and check.get("required") is True and "id" in check
    }
