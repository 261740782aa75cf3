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
from grader.messages import judges as messages
from grader.result import STATUSES, CheckResult
from grader.spec import CheckSpec, ExerciseSpec


def score_evidence(
    spec: ExerciseSpec, evidence: Evidence, mode: str = "full"
) -> tuple[list[CheckResult], float, bool | None]:
    """Judge every check of ``spec``: ``(check results in spec order, total score, passed)``.

    ``mode="quick"`` (``grader.quick``): a preview of a run with a trial fit; checks that need
    the full training are skipped, and ``passed`` is None: a preview has no verdict.
    """
    results = [score_check(check, spec, evidence, mode) for check in spec.checks]
    total = round(sum(result.score for result in results), 2)
    if mode == "quick":
        return results, total, None
    required = required_check_ids(spec)
    required_failed = any(r.id in required and r.status in ("failed", "error") for r in results)
    passed = total >= spec.pass_mark and not required_failed
    return results, total, passed


def score_check(check: CheckSpec, spec: ExerciseSpec, evidence: Evidence, mode: str = "full") -> CheckResult:
    """One check: its judge's verdict weighted by its points, with the spec's hint applied."""
    if mode == "quick":
        from grader.quick import preview_verdict

        verdict = preview_verdict(check, spec, evidence)
    else:
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
        return Verdict.error(messages.no_such_judge(check.id, check.judge))
    try:
        verdict = judge(evidence, dict(check.params), spec)
    except Exception as exc:  # noqa: BLE001 - a judge bug must not lose the other checks
        return Verdict.error(messages.internal_error(check.id, f"{type(exc).__name__}: {exc}"))
    problem = _invalid(verdict)
    if problem:
        return Verdict.error(messages.internal_error(check.id, problem))
    return verdict


def _invalid(verdict: Any) -> str:
    """What is wrong with a judge's return value, or "" when it is a sound Verdict."""
    if not isinstance(verdict, Verdict):
        return messages.judge_returned(type(verdict).__name__)
    if verdict.status not in STATUSES:
        return messages.judge_returned_status(repr(verdict.status))
    if not isinstance(verdict.fraction, (int, float)) or not math.isfinite(verdict.fraction):
        return messages.judge_returned_fraction(repr(verdict.fraction), outside=False)
    if not 0.0 <= verdict.fraction <= 1.0:
        return messages.judge_returned_fraction(repr(verdict.fraction), outside=True)
    return ""


def required_check_ids(spec: ExerciseSpec) -> set[str]:
    """Ids of the checks marked ``required = true`` in exercise.toml."""
    return {check.id for check in spec.checks if check.required}


def on_exercise_scale(score: float, max_score: float, exercise_max: float) -> tuple[float, bool]:
    """``score`` out of ``max_score`` expressed out of the exercise's ``exercise_max`` points,
    and whether it had to be scaled. A style whose checks cannot all apply (a saved model has no
    training to judge: 85 points) is scaled to the same maximum as everyone else, so 85/85 is
    100/100 in every gradebook, summary and export. Skipped checks are not counted either way."""
    if not max_score or not exercise_max or abs(max_score - exercise_max) < 1e-9:
        return round(float(score), 2), False
    return round(float(score) * float(exercise_max) / float(max_score), 2), True
