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
``passed``, any other check that did not pass is ``failed``. Learner output goes to the
report, not to Gradescope's stdout panel, so ``stdout_visibility`` is ``hidden``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from grader.result import CheckResult, GradeResult

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def gradescope_results(result: GradeResult, *, visibility: str = "visible") -> dict[str, Any]:
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}; got {visibility!r}")
    grading_error = (result.details or {}).get("grading_error")
    tests = [_test(number, check, visibility) for number, check in enumerate(result.checks, start=1)]
    if grading_error:
        tests = [
            {
                "name": "Submission graded",
                "number": "1",
                "score": 0.0,
                "max_score": result.max_score,
                "status": "failed",
                "output": str(grading_error.get("message", "")),
                "visibility": visibility,
            }
        ]
    return {
        "score": _number(result.score),
        "max_score": _number(result.max_score),
        "execution_time": int(math.ceil(result.elapsed_s or 0)),
        "output": overall_output(result),
        "output_format": "text",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "exercise": result.exercise,
            "passed": result.passed,
            "test_accuracy": (result.metrics or {}).get("test_accuracy"),
            "grader_version": result.grader_version,
        },
    }


def overall_output(result: GradeResult) -> str:
    details = result.details or {}
    grading_error = details.get("grading_error")
    if grading_error:
        return f"This submission could not be graded: {grading_error.get('message', '')}"
    verdict = "PASSED" if result.passed else "NOT PASSED"
    lines = [f"{verdict}: {result.score:g} / {result.max_score:g} points (pass mark {result.pass_mark:g})."]
    accuracy = (result.metrics or {}).get("test_accuracy")
    if accuracy is not None:
        lines.append(f"Test accuracy: {accuracy:.4f}.")
    if details.get("limit_hit"):
        lines.append(f"Your code was stopped by the grader's {details['limit_hit']} limit.")
    first = next((c for c in result.checks if c.status in ("error", "failed")), None)
    if first is not None:
        lines.append(f"Start with: {first.name}. {first.message}")
    return "\n".join(lines)


def _test(number: int, check: CheckResult, visibility: str) -> dict[str, Any]:
    lost_nothing = check.status == "skipped" and check.max_score == 0
    output = check.message
    if check.hint and check.status != "passed":
        output += f"\n\nHint: {check.hint}"
    return {
        "name": check.name,
        "number": str(number),
        "score": _number(check.score),
        "max_score": _number(check.max_score),
        "status": "passed" if check.status == "passed" or lost_nothing else "failed",
        "output": output,
        "visibility": visibility,
        "tags": [check.id],
    }


def _number(value: float) -> float:
    # JSON has no NaN; a score is always finite, but a bad value must not break the upload.
    return float(value) if value is not None and math.isfinite(float(value)) else 0.0


def write_gradescope_results(result: GradeResult, path: Path, *, visibility: str = "visible") -> Path:
    from grader.batch.cache import write_json_atomically

    write_json_atomically(Path(path), gradescope_results(result, visibility=visibility))
    return Path(path)
