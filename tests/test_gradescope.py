"""Gradescope: the results.json format, and `grade gradescope` on Gradescope's folder layout.

Gradescope's contract: the submission is in /autograder/submission/, results go to
/autograder/results/results.json; tests point both options into a temporary folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grader.cli import main
from grader.errors import DataMissingError
from grader.render.gradescope import gradescope_results
from grader.result import CheckResult, GradeResult
from grader.spec import load_exercise

FIXTURES = Path(__file__).parent / "batch_fixtures"
TEST_STATUSES = {"passed", "failed"}  # the only two Gradescope knows
VISIBILITY = {"visible", "hidden", "after_due_date", "after_published"}


def layout(tmp_path: Path) -> tuple[Path, Path]:
    submission = tmp_path / "autograder" / "submission"
    submission.mkdir(parents=True)
    return submission, tmp_path / "autograder" / "results" / "results.json"


def gradescope(exercise: str, submission: Path, results: Path, *extra: str) -> tuple[int, dict]:
    code = main(["gradescope", exercise, "--submission-dir", str(submission), "--results", str(results), *extra])
    return code, json.loads(results.read_text())


def assert_valid(payload: dict) -> None:
    """The keys and value types Gradescope's autograder specification documents."""
    assert isinstance(payload["score"], float) and isinstance(payload["execution_time"], int)
    assert isinstance(payload["output"], str) and payload["visibility"] in VISIBILITY
    assert payload["stdout_visibility"] in VISIBILITY
    for test in payload["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] in TEST_STATUSES and test["visibility"] in VISIBILITY
        assert 0 <= test["score"] <= test["max_score"]
    json.dumps(payload, allow_nan=False)


def test_results_map_every_check_to_a_test() -> None:
    checks = [
        CheckResult("loss", "Loss", "passed", 10, 10, "The loss is right."),
        CheckResult("output_layer", "Output layer", "failed", 0, 10, "softMax is not an activation.", "Write softmax."),
        CheckResult("training", "Training", "error", 0, 10, "train() raised."),
        CheckResult("explain", "In your own words", "skipped", 0, 0, "Advisory, not scored."),
    ]
    result = GradeResult(
        "fashion_mnist", "x.py", False, 10.0, 30.0, 20.0, 42, "0.1.0", 12.3, checks, {"test_accuracy": 0.5}
    )
    payload = gradescope_results(result, visibility="after_published")
    assert_valid(payload)
    assert (payload["score"], payload["max_score"], payload["execution_time"]) == (10.0, 30.0, 13)
    assert [t["status"] for t in payload["tests"]] == ["passed", "failed", "failed", "passed"]
    assert "Hint: Write softmax." in payload["tests"][1]["output"]
    assert "Start with: Output layer" in payload["output"] and "0.5000" in payload["output"]
    assert payload["visibility"] == "after_published"
    with pytest.raises(ValueError):
        gradescope_results(result, visibility="everyone")


def test_quiz_from_the_gradescope_layout(tmp_path: Path) -> None:
    spec = load_exercise("exercise2")
    submission, results = layout(tmp_path)
    shutil.copyfile(spec.solution_path, submission / spec.stub)
    code, payload = gradescope("exercise2", submission, results)
    assert code == 0
    assert_valid(payload)
    assert payload["score"] == payload["max_score"] == spec.max_score
    assert len(payload["tests"]) == len(spec.raw["items"])


def test_any_single_file_is_taken_and_problems_still_write_results(tmp_path: Path) -> None:
    spec = load_exercise("exercise1")
    submission, results = layout(tmp_path)
    code, payload = gradescope("exercise1", submission, results)  # nothing uploaded
    assert code == 0 and payload["score"] == 0 and "Upload exercise1_answers.toml" in payload["output"]
    assert_valid(payload)

    (submission / "my_answers.toml").write_text('nonlinearity = "b\n')  # another name, broken TOML
    code, payload = gradescope("exercise1", submission, results)
    assert code == 0 and payload["score"] == 0 and "line 1" in payload["output"]
    assert_valid(payload)

    (submission / "my_answers.toml").write_text(spec.solution_path.read_text())
    code, payload = gradescope("exercise1", submission, results, "--visibility", "hidden")
    assert code == 0 and payload["score"] == spec.max_score and payload["visibility"] == "hidden"


def test_a_broken_autograder_exits_2_but_still_explains(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import grader.datasets

    def no_data(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise DataMissingError("Fashion-MNIST was not found: run grade data prepare.")

    monkeypatch.setattr(grader.datasets, "load_dataset", no_data)
    submission, results = layout(tmp_path)
    shutil.copyfile(FIXTURES / "fashion_mnist" / "good.py", submission / "fashion_mnist.py")
    code, payload = gradescope("fashion_mnist", submission, results)
    assert code == 2 and "was not found" in payload["output"]
    assert_valid(payload)


def test_model_submission_from_the_gradescope_layout(tiny_data_dir: Path, tmp_path: Path) -> None:
    spec = load_exercise("fashion_mnist")
    submission, results = layout(tmp_path)
    shutil.copyfile(FIXTURES / "fashion_mnist" / "good.py", submission / spec.stub)
    code, payload = gradescope("fashion_mnist", submission, results, "--timeout", "120")
    assert code == 0
    assert_valid(payload)
    assert payload["score"] == payload["max_score"] == spec.max_score
    assert {t["tags"][0] for t in payload["tests"]} == {c.id for c in spec.checks}
    assert payload["execution_time"] >= 1


def test_per_check_visibility_leaderboard_and_no_rows_for_checks_that_do_not_apply() -> None:
    import dataclasses

    spec = load_exercise("fashion_mnist")
    raw = {
        **spec.raw,
        "checks": [dict(c, visibility="hidden") if c.get("id") == "test_accuracy" else c for c in spec.raw["checks"]],
    }
    spec = dataclasses.replace(spec, raw=raw)
    checks = [
        CheckResult(
            c.id,
            c.name,
            "skipped" if c.id == "training" else "passed",
            0.0 if c.id == "training" else c.points,
            0.0 if c.id == "training" else c.points,
            "ok",
        )
        for c in spec.checks
    ]
    result = GradeResult("fashion_mnist", "m.keras", True, 85.0, 85.0, 68.0, 42, "0.1.0", 9.0, checks,
                         {"test_accuracy": 0.8712}, style="saved_model")  # fmt: skip
    payload = gradescope_results(result, spec=spec)
    assert_valid(payload)
    by_tag = {t["tags"][0]: t for t in payload["tests"]}
    assert "training" not in by_tag  # it cannot apply to a saved model: no 0/0 row
    assert by_tag["test_accuracy"]["visibility"] == "hidden" and by_tag["loss"]["visibility"] == "visible"
    assert payload["visibility"] == "visible"  # a hidden check never hides the total
    assert (payload["score"], payload["max_score"]) == (100.0, 100.0) and "Scaled to the exercise's points" in payload[
        "output"
    ]
    assert payload["leaderboard"] == [{"name": "Test accuracy", "value": 0.8712}, {"name": "Score", "value": 100.0}]
