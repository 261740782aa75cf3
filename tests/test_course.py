"""Course folders (``--course DIR`` / ``GRADER_COURSE_DIR``): an instructor's exercises outside
the package, read by every command and by the pytest plugin.

``docs/example-course`` is the one the README walks through: its spec, stub, reference and
known-bad variants are checked statically here (unit lane) and graded on the real data in the
slow lane, as a course's CI would.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from grader.cli import main

pytest_plugins = ["pytester"]  # runs a course's own test file with the plugin

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_COURSE = ROOT / "docs" / "example-course"
EXAMPLE = "wider_dropout"


@pytest.fixture(autouse=True)
def no_course_outside_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--course`` sets GRADER_COURSE_DIR for the process (so workers and sandboxes inherit it);
    monkeypatch puts the variable back as it was after each test."""
    monkeypatch.setenv("GRADER_COURSE_DIR", "")


def test_example_course_is_sound_statically(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--course", str(EXAMPLE_COURSE), "--spec-only"]) == 0
    out = capsys.readouterr().out
    for subject in (
        "exercise.toml",
        "reference wider_dropout.py",
        "stub wider_dropout.py",
        "bad no_dropout.py",
        "bad too_narrow.py",
    ):
        assert f"{EXAMPLE}: {subject}" in out
    assert "5 of 5 files are sound" in out


def test_example_exercise_asks_for_more_than_the_chapter(monkeypatch: pytest.MonkeyPatch) -> None:
    """The course's exercise differs from the chapter's where it says it does."""
    from grader.spec import ExerciseSpec, load_exercise

    chapter = load_exercise("fashion_mnist")
    monkeypatch.setenv("GRADER_COURSE_DIR", str(EXAMPLE_COURSE))
    ours = load_exercise(EXAMPLE)

    def params(spec: ExerciseSpec, judge: str) -> dict[str, Any]:
        return next(check.params for check in spec.checks if check.judge == judge)

    assert params(ours, "test_accuracy")["threshold"] > params(chapter, "test_accuracy")["threshold"]
    assert params(ours, "hidden_layers")["exactly"] == [{"layer": "Dense", "units": 256, "activation": "relu"}]
    assert params(ours, "hidden_layers")["required_layers"] == [{"layer": "Dropout", "rate": [0.2, 0.5]}]
    assert ours.solution_path == EXAMPLE_COURSE / "solutions" / EXAMPLE / "wider_dropout.py"


def test_list_init_and_grade_read_the_course_folder(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--course", str(EXAMPLE_COURSE)]) == 0
    listed = capfd.readouterr().out
    assert EXAMPLE in listed and "fashion_mnist" not in listed

    assert main(["init", EXAMPLE, "--course", str(EXAMPLE_COURSE), "--dir", str(tmp_path)]) == 0
    written = tmp_path / "wider_dropout.py"
    assert written.read_text() == (EXAMPLE_COURSE / "exercises" / EXAMPLE / "wider_dropout.py").read_text()

    # `grade EXERCISE` finds the course's exercise (here it stops before any sandbox: no file).
    capfd.readouterr()
    assert main([EXAMPLE, str(tmp_path / "missing.py"), "--course", str(EXAMPLE_COURSE), "--quiet"]) == 2
    said = capfd.readouterr().err
    assert "missing.py" in said and "Unknown exercise" not in said


def test_a_folder_that_is_not_a_course_is_refused(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    for command in (["list"], ["validate", "--spec-only"], [EXAMPLE], ["init", EXAMPLE]):
        assert main([*command, "--course", str(tmp_path)]) == 2, command
        assert "no exercises/ folder there" in capfd.readouterr().err


def test_batch_grades_a_course_exercise(tmp_path: Path) -> None:
    """A quiz copied into a course folder under a name the package does not have: the batch (and
    its in-process quiz tasks) read the course's spec and nothing else."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "exercises" / "exercise1", course / "exercises" / "course_quiz")
    shutil.copytree(ROOT / "solutions" / "exercise1", course / "solutions" / "course_quiz")
    spec_file = course / "exercises" / "course_quiz" / "exercise.toml"
    spec_file.write_text(spec_file.read_text().replace('id = "exercise1"', 'id = "course_quiz"', 1))
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    reference = (course / "solutions" / "course_quiz" / "exercise1_answers.toml").read_text()
    (submissions / "alice.toml").write_text(reference)
    out = tmp_path / "out"
    assert main(["batch", "course_quiz", str(submissions), "--out", str(out), "--quiet", "--course", str(course)]) == 0
    gradebook = (out / "gradebook.csv").read_text()
    assert "alice" in gradebook and "passed" in gradebook


def test_pytest_plugin_reads_the_course_folder(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # The child pytest imports this source tree's grader, whatever is installed.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    pytester.makepyfile(
        f"""
        def test_course_exercise(exercise_grader):
            from grader.spec import load_exercise

            assert load_exercise("{EXAMPLE}").title.startswith("Fashion-MNIST: a wider network")
        """
    )
    result = pytester.runpytest_subprocess("--grader-course", str(EXAMPLE_COURSE), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.mark.slow
def test_example_course_validates_on_the_real_data(capsys: pytest.CaptureFixture[str]) -> None:
    """The reference passes with full marks on the real Fashion-MNIST, the stub does not pass,
    and each known-bad variant fails exactly the checks its manifest names (three trainings of
    10 epochs: minutes)."""
    assert main(["validate", "--course", str(EXAMPLE_COURSE)]) == 0, capsys.readouterr().out
    assert "4 of 4 validation cases hold" in capsys.readouterr().out
