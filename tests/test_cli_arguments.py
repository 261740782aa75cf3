"""The `grade` command line: options anywhere, outputs that never overwrite inputs, a reader of
stdout that leaves early, and usage errors in the learner's language. Quizzes only: no training."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.cli import main
from grader.spec import load_exercise

QUIZ = "exercise2"


@pytest.fixture(autouse=True)
def _course_folder_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--course` sets GRADER_COURSE_DIR in this process (for its workers): undone after each test."""
    monkeypatch.setenv("GRADER_COURSE_DIR", "")  # so that undoing it restores the value before
    monkeypatch.delenv("GRADER_COURSE_DIR")


@pytest.fixture
def answers(tmp_path: Path) -> Path:
    """A learner's copy of the quiz's reference answers (passes)."""
    target = tmp_path / "work" / "exercise2_answers.toml"
    target.parent.mkdir()
    shutil.copyfile(load_exercise(QUIZ).solution_path, target)
    return target


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A course folder holding a copy of the quiz and its reference answers."""
    spec = load_exercise(QUIZ)
    folder = tmp_path / "course"
    shutil.copytree(spec.directory, folder / "exercises" / QUIZ)
    shutil.copytree(spec.solution_path.parent, folder / "solutions" / QUIZ)
    return folder


def submissions(folder: Path, count: int = 3) -> Path:
    """A class of ``count`` students, one answers file each, alternately the reference and the stub."""
    spec = load_exercise(QUIZ)
    folder.mkdir(parents=True)
    for index in range(count):
        source = spec.solution_path if index % 2 == 0 else spec.stub_path
        shutil.copyfile(source, folder / f"student{index}.toml")
    return folder


# --- options between the positionals -------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [["--seed", "3"], ["--no-report"], ["--quiet"], ["--json", "{tmp}/j.json"], ["--course", "{course}"]],
    ids=["seed", "no-report", "quiet", "json", "course"],
)
def test_grade_takes_options_between_the_exercise_and_the_path(
    options: list[str], answers: Path, course: Path, tmp_path: Path, capfd: pytest.CaptureFixture
) -> None:
    words = [word.format(tmp=tmp_path, course=course) for word in options]
    assert main([QUIZ, *words, str(answers), "--no-report"]) == 0, capfd.readouterr().err
    if "--json" in options:
        assert json.loads((tmp_path / "j.json").read_text())["passed"] is True


def test_the_readme_command_for_a_course_reference_works_as_written(course: Path, tmp_path: Path) -> None:
    reference = course / "solutions" / QUIZ / "exercise2_answers.toml"
    argv = [QUIZ, "--course", str(course), str(reference), "--json", str(tmp_path / "ref.json")]
    assert main(argv) == 0
    assert main(argv) == 0  # and again: its own earlier report is replaced
    assert json.loads((tmp_path / "ref.json").read_text())["passed"] is True


def test_batch_validate_and_data_take_options_anywhere(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    subs = submissions(tmp_path / "subs")
    out = tmp_path / "out"
    assert main(["batch", QUIZ, "--quiet", "--no-reports", str(subs), "--out", str(out)]) == 0
    assert (out / "gradebook.csv").is_file()
    assert main(["validate", "--spec-only", QUIZ]) == 0
    assert main(["data", "table", "--hash", "md5", "mnist"]) == 0
    assert "train-images" in capfd.readouterr().out


# --- usage errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--lang", "zh", "--bogus"], "无法识别的参数：--bogus"),
        ([QUIZ, "--seed", "3", "--bogus", "x.toml"], "unrecognized arguments: --bogus"),
        (["batch", "--bogus"], "unrecognized arguments: --bogus"),
        (["--lang", "zh", "exercise9"], "未知的练习“exercise9”"),
        (["exercise9"], "Unknown exercise 'exercise9'. Known exercises: "),
    ],
)
def test_the_first_mistake_is_named_in_the_chosen_language(
    argv: list[str], expected: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert main(argv) == 2
    err = capfd.readouterr().err
    assert expected in err and "Traceback" not in err


def test_an_abbreviated_option_still_works(answers: Path) -> None:
    assert main([QUIZ, "--no-rep", str(answers), "--quie"]) == 0


def test_an_unknown_language_is_said_in_the_locales_language(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert main(["--lang", "xx", QUIZ]) == 2
    err = capfd.readouterr().err
    assert "--lang xx" in err and "未知的语言" in err and "错误" in err


# --- outputs never overwrite inputs ----------------------------------------------------------------


def test_json_onto_the_submission_is_refused_before_grading(answers: Path, capfd: pytest.CaptureFixture) -> None:
    before = answers.read_text()
    for extra in ([], ["--quick"]):
        assert main([QUIZ, str(answers), "--json", str(answers), *extra]) == 2
        err = capfd.readouterr().err
        assert "--json" in err and "is the file being graded" in err
    assert answers.read_text() == before
    assert not (answers.parent / "grade-reports").exists()  # refused before any grading


def test_json_onto_an_exercise_file_is_refused(course: Path, answers: Path, capfd: pytest.CaptureFixture) -> None:
    spec_file = course / "exercises" / QUIZ / "exercise.toml"
    before = spec_file.read_text()
    assert main([QUIZ, str(answers), "--course", str(course), "--json", str(spec_file)]) == 2
    assert "a file the grader reads" in capfd.readouterr().err
    assert spec_file.read_text() == before


def test_json_onto_the_report_is_refused_before_grading(
    answers: Path, tmp_path: Path, capfd: pytest.CaptureFixture
) -> None:
    # The JSON and the HTML report would overwrite each other: the learner would open one of them.
    folder = tmp_path / "out"
    for argv in (
        [QUIZ, str(answers), "--report", str(folder), "--json", str(folder / "report.html")],
        [QUIZ, str(answers), "--json", str(answers.parent / "grade-reports" / QUIZ / "report.md")],
    ):
        assert main(argv) == 2
        err = capfd.readouterr().err
        assert "is a file of the report" in err and "Traceback" not in err
    assert not folder.exists() and not (answers.parent / "grade-reports").exists()


def test_report_folder_never_overwrites_the_submission(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    # A quiz answers file named like the report the grader writes: --report into its folder.
    folder = tmp_path / "mine"
    folder.mkdir()
    submission = folder / "report.md"
    shutil.copyfile(load_exercise(QUIZ).solution_path, submission)
    before = submission.read_text()
    assert main([QUIZ, str(submission), "--report", str(folder)]) == 2
    assert "is the file being graded" in capfd.readouterr().err
    assert submission.read_text() == before


def test_report_leaves_a_report_the_grader_did_not_write(
    answers: Path, tmp_path: Path, capfd: pytest.CaptureFixture
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "report.md").write_text("# My own report\n")
    assert main([QUIZ, str(answers), "--report", str(folder)]) == 2
    assert "was not written by the grader" in capfd.readouterr().err
    assert (folder / "report.md").read_text() == "# My own report\n"

    # The grader's own reports carry a marker: a second run into the same folder replaces them.
    ours = tmp_path / "ours"
    assert main([QUIZ, str(answers), "--report", str(ours), "--quiet"]) == 0
    (ours / "report.md").write_text((ours / "report.md").read_text() + "\nedited\n")
    assert main([QUIZ, str(answers), "--report", str(ours), "--quiet"]) == 0
    assert "edited" not in (ours / "report.md").read_text()


def test_batch_out_inside_the_submissions_and_roster_as_output_are_refused(
    tmp_path: Path, capfd: pytest.CaptureFixture
) -> None:
    subs = submissions(tmp_path / "subs")
    assert main(["batch", QUIZ, str(subs), "--out", str(subs / "out")]) == 2
    assert "inside the submissions folder" in capfd.readouterr().err
    assert not (subs / "out").exists()

    out = tmp_path / "out"
    out.mkdir()
    roster = out / "gradebook.csv"
    roster.write_text("id\nstudent0\n")
    assert main(["batch", QUIZ, str(subs), "--out", str(out), "--roster", str(roster)]) == 2
    assert "a file the grader reads" in capfd.readouterr().err
    assert roster.read_text() == "id\nstudent0\n"


def test_validate_junit_onto_an_exercise_file_is_refused(course: Path, capfd: pytest.CaptureFixture) -> None:
    answers = course / "solutions" / QUIZ / "exercise2_answers.toml"
    before = answers.read_text()
    assert main(["validate", QUIZ, "--course", str(course), "--junit", str(answers)]) == 2
    assert "--junit" in capfd.readouterr().err
    assert answers.read_text() == before


def test_gradescope_results_onto_the_submission_are_refused(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    upload = tmp_path / "submission"
    upload.mkdir()
    answers = upload / "exercise2_answers.toml"
    shutil.copyfile(load_exercise(QUIZ).solution_path, answers)
    before = answers.read_text()
    assert main(["gradescope", QUIZ, "--submission-dir", str(upload), "--results", str(answers)]) == 2
    assert "is the file being graded" in capfd.readouterr().err
    assert answers.read_text() == before


# --- a reader of stdout that leaves early (`grade ... | head -1`) ---------------------------------


def run_with_stdout_closed(*args: str, cwd: Path) -> tuple[int, str]:
    """The real command with a reader that leaves at once: every write to stdout fails."""
    process = subprocess.Popen(
        [sys.executable, "-m", "grader", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read()
    return process.wait(timeout=300), err


def test_batch_finishes_every_file_when_stdout_closes_early(tmp_path: Path) -> None:
    subs = submissions(tmp_path / "subs", count=4)
    code, err = run_with_stdout_closed("batch", QUIZ, str(subs), "--out", "out", cwd=tmp_path)
    assert code == 0, err
    assert "Traceback" not in err
    gradebook = (tmp_path / "out" / "gradebook.csv").read_text()
    assert all(f"student{index}" in gradebook for index in range(4))
    assert (tmp_path / "out" / "summary.html").is_file()


@pytest.mark.parametrize(("source", "code"), [("solution_path", 0), ("stub_path", 1)])
def test_a_grading_keeps_its_exit_code_and_files_when_stdout_closes_early(
    source: str, code: int, tmp_path: Path
) -> None:
    answers = tmp_path / "exercise2_answers.toml"
    shutil.copyfile(getattr(load_exercise(QUIZ), source), answers)
    returned, err = run_with_stdout_closed(QUIZ, str(answers), "--json", "r.json", cwd=tmp_path)
    assert returned == code, err
    assert "Traceback" not in err
    assert json.loads((tmp_path / "r.json").read_text())["passed"] is (code == 0)
    assert (tmp_path / "grade-reports" / QUIZ / "report.html").is_file()


# --- ending the grader from outside --------------------------------------------------------------


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_termination_ends_a_command_as_ctrl_c_does(name: str) -> None:
    # The sandbox's clean-up and a batch's "run the same command again" run on KeyboardInterrupt
    # (tests/test_sandbox.py terminates a real grading); afterwards the signal is as it was.
    import os
    import signal
    import time

    from grader.cli import _termination_as_interrupt

    sig = getattr(signal, name)
    before = signal.getsignal(sig)
    with pytest.raises(KeyboardInterrupt), _termination_as_interrupt():
        os.kill(os.getpid(), sig)
        time.sleep(30)  # the handler's exception ends the sleep at once
    assert signal.getsignal(sig) == before
