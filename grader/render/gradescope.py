"""Gradescope's ``results.json`` for one finished result.

Gradescope runs ``/autograder/run_autograder`` and reads ``/autograder/results/results.json``:

    {
      "score": 85.0,                 # overrides the sum of the tests' scores
      "max_score": 100.0,            # for readers of the file; Gradescope takes the assignment's own
      "execution_time": 31,          # seconds
      "output": "Score 85 / 100 ...", # shown above the tests
      "visibility": "visible",       # visible | hidden | after_due_date | after_published
      "stdout_visibility": "hidden",
      "tests": [
        {"name": "...", "number": "1", "score": 10.0, "max_score": 10.0, "status": "passed",
         "output": "...", "visibility": "visible", "tags": ["output_layer"]}
      ]
    }

Each check becomes a test. Gradescope knows two test statuses, ``passed`` and ``failed``; a
check that was skipped and carries no points (a quiz's free-text item) has lost nothing and is
``passed``, any other check that did not pass is ``failed``. A check that cannot apply to the
submission's style (0 points possible, skipped: a saved model's training) is left out rather than
shown as a 0/0 row. Learner output goes to the report, not to Gradescope's stdout panel, so
``stdout_visibility`` is ``hidden``.

**Fair totals.** ``score`` is out of the exercise's points (``exercise_max``) for every style:
a saved model's 85 applicable points are scaled to 100, and the output says so.

**Visibility per check.** A ``visibility`` key on a ``[[checks]]`` table of exercise.toml
(visible | hidden | after_due_date | after_published) sets that test's visibility; the total
stays visible (the top-level ``visibility``), so a hidden check never hides the score.

**Leaderboard.** With a test accuracy, ``leaderboard`` carries it (Gradescope shows it on the
assignment's leaderboard when that is enabled), with the score.

A submission that could not be graded gets 0 with one failed test saying why and
``extra_data.graded = false``: Gradescope's format requires a score; every other output of the
grader leaves an ungraded student's score empty.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.messages import interface as msg
from grader.result import CheckResult, GradeResult
from grader.safe_text import printable

if TYPE_CHECKING:
    from grader.spec import ExerciseSpec

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def check_visibilities(spec: ExerciseSpec | None) -> dict[str, str]:
    """Check id -> its ``visibility`` from exercise.toml, for the checks that set one."""
    if spec is None:
        return {}
    found: dict[str, str] = {}
    for check in spec.raw.get("checks", []):
        if isinstance(check, dict) and check.get("visibility") in VISIBILITIES and "id" in check:
            found[str(check["id"])] = str(check["visibility"])
    return found


def gradescope_results(
    result: GradeResult,
    *,
    visibility: str = "visible",
    exercise_max: float | None = None,
    spec: ExerciseSpec | None = None,
) -> dict[str, Any]:
    """``exercise_max``: the exercise's points (default: the spec's, else the result's own)."""
    from grader.scoring import on_exercise_scale

    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}; got {visibility!r}")
    if exercise_max is None:
        exercise_max = spec.max_score if spec is not None else result.max_score
    grading_error = (result.details or {}).get("grading_error")
    per_check = check_visibilities(spec)
    applicable = [
        c for c in result.checks if not (c.status == "skipped" and c.max_score == 0 and _not_counted(c, spec))
    ]
    tests = [
        _test(number, check, per_check.get(check.id, visibility)) for number, check in enumerate(applicable, start=1)
    ]
    accuracy = (result.metrics or {}).get("test_accuracy")
    if grading_error:
        # Not graded: Gradescope's format needs a score (top level or per test), so it is 0 here,
        # the only place an ungraded submission has one; the output and the one test say why, and
        # extra_data says it was not graded.
        return {
            "score": 0.0,
            "max_score": _number(exercise_max),
            "execution_time": math.ceil(result.elapsed_s or 0),
            "output": overall_output(result),
            "output_format": "text",
            "visibility": visibility,
            "stdout_visibility": "hidden",
            "tests": [
                {
                    "name": msg.gradescope_submission_graded(),
                    "number": "1",
                    "score": 0.0,
                    "max_score": _number(exercise_max),
                    "status": "failed",
                    "output": printable(str(grading_error.get("message", ""))),
                    "visibility": visibility,
                }
            ],
            "extra_data": {"exercise": result.exercise, "graded": False, "grader_version": result.grader_version},
        }
    score, scaled = on_exercise_scale(result.score, result.max_score, exercise_max)
    payload: dict[str, Any] = {
        "score": _number(score),
        "max_score": _number(exercise_max),
        "execution_time": math.ceil(result.elapsed_s or 0),
        "output": overall_output(result, exercise_max=exercise_max),
        "output_format": "text",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "exercise": result.exercise,
            "passed": result.passed,
            "test_accuracy": accuracy,
            "grader_version": result.grader_version,
            "isolation": result.isolation,
            "scaled_from": {"score": result.score, "max_score": result.max_score} if scaled else None,
        },
    }
    if accuracy is not None:
        payload["leaderboard"] = [
            {"name": "Test accuracy", "value": round(float(accuracy), 4)},
            {"name": "Score", "value": _number(score)},
        ]
    return payload


def _not_counted(check: CheckResult, spec: ExerciseSpec | None) -> bool:
    """A 0-point skipped check that has points in the exercise: it cannot apply to this style.
    (A quiz's free-text item has 0 points everywhere and stays, as an advisory row.)"""
    if spec is None:
        return False  # without the spec nothing says it could have applied: keep the row
    points = {c.id: c.points for c in spec.checks}
    return points.get(check.id, 0) > 0


def overall_output(result: GradeResult, *, exercise_max: float | None = None) -> str:
    from grader.scoring import on_exercise_scale

    details = result.details or {}
    grading_error = details.get("grading_error")
    if grading_error:
        return printable(msg.gradescope_not_graded(str(grading_error.get("message", ""))))
    verdict = msg.verdict_word(bool(result.passed))
    exercise_max = result.max_score if exercise_max is None else exercise_max
    score, scaled = on_exercise_scale(result.score, result.max_score, exercise_max)
    pass_mark, _ = on_exercise_scale(result.pass_mark, result.max_score, exercise_max)
    lines = [msg.gradescope_verdict(verdict, f"{score:g}", f"{exercise_max:g}", f"{pass_mark:g}")]
    if scaled:
        lines.append(
            msg.gradescope_scaled(f"{result.score:g}", f"{result.max_score:g}", result.style.replace("_", " "))
        )
    accuracy = (result.metrics or {}).get("test_accuracy")
    if accuracy is not None:
        lines.append(msg.gradescope_accuracy(f"{accuracy:.4f}"))
    if details.get("limit_hit"):
        lines.append(msg.stopped_by_limit(str(details["limit_hit"])))
    first = next((c for c in result.checks if c.status in ("error", "failed")), None)
    if first is not None:
        lines.append(msg.gradescope_start_with(first.name, first.message))
    for adjustment in details.get("adjustments") or []:
        lines.append(str(adjustment))
    return printable("\n".join(lines))


def _test(number: int, check: CheckResult, visibility: str) -> dict[str, Any]:
    lost_nothing = check.status == "skipped" and check.max_score == 0
    output = check.message
    if check.hint and check.status != "passed":
        output += f"\n\n{msg.hint_label()}{check.hint}"
    return {
        "name": printable(check.name, keep_newlines=False),
        "number": str(number),
        "score": _number(check.score),
        "max_score": _number(check.max_score),
        "status": "passed" if check.status == "passed" or lost_nothing else "failed",
        "output": printable(output),
        "visibility": visibility,
        "tags": [check.id],
    }


def _number(value: float) -> float:
    # JSON has no NaN; a score is always finite, but a bad value must not break the upload.
    return float(value) if value is not None and math.isfinite(float(value)) else 0.0


def write_gradescope_results(
    result: GradeResult,
    path: Path,
    *,
    visibility: str = "visible",
    exercise_max: float | None = None,
    spec: ExerciseSpec | None = None,
) -> Path:
    from grader.batch.cache import write_json_atomically

    payload = gradescope_results(result, visibility=visibility, exercise_max=exercise_max, spec=spec)
    write_json_atomically(Path(path), payload)
    return Path(path)
