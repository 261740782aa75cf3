"""The `grade` command: subcommands, usage errors and exit codes (fast: no training)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader import datasets
from grader.cli import main
from grader.spec import list_exercises, load_exercise


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real console entry point in a fresh process, as a learner runs it."""
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_list_shows_every_exercise_on_one_line_each() -> None:
    completed = run_cli("list")
    assert completed.returncode == 0
    lines = completed.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == [spec.id for spec in list_exercises()]
    assert {"fashion_mnist", "exercise4", "exercise1"} <= {line.split()[0] for line in lines}


def test_init_writes_the_stub_and_never_overwrites_work(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    assert main(["init", "exercise4", "--dir", str(tmp_path)]) == 0
    written = tmp_path / "exercise4.py"
    assert written.read_text() == load_exercise("exercise4").stub_path.read_text()

    written.write_text("# my work in progress\n")
    assert main(["init", "exercise4", "--dir", str(tmp_path)]) == 2
    assert written.read_text() == "# my work in progress\n"
    assert "--force" in capfd.readouterr().err
    assert main(["init", "exercise4", "--dir", str(tmp_path), "--force"]) == 0
    assert "NotImplementedError" in written.read_text()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["nonexistent_exercise", "x.py"], "Unknown exercise 'nonexistent_exercise'"),
        (["fashion_mnist", "no/such/file.py"], "Submission file not found"),
        (["fashion_mnist", "x.py", "--timeout", "-3"], "--timeout must be a positive"),
        (["fashion_mnist", "x.py", "--seed", "abc"], "invalid int value"),
        (["init", "nonexistent_exercise"], "Unknown exercise"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], expected: str, capfd: pytest.CaptureFixture) -> None:
    assert main(args) == 2
    captured = capfd.readouterr()
    assert expected in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_grading_without_a_file_here_says_how_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["exercise4"]) == 2
    assert "grade init exercise4" in capfd.readouterr().err


def test_a_folder_is_not_a_submission(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    assert main(["fashion_mnist", str(tmp_path)]) == 2
    assert "is a folder" in capfd.readouterr().err


def test_no_data_anywhere_exits_2_with_one_sentence(
    tmp_path: Path, isolated_grader_cache: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIRS", (tmp_path / "no-system-data",))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no-keras-cache"))
    submission = load_exercise("fashion_mnist").solution_path
    assert main(["fashion_mnist", str(submission), "--quiet"]) == 2
    err = capfd.readouterr().err.strip()
    assert "Traceback" not in err
    message = err.removeprefix("error:").strip()
    assert message.count(". ") == 0 and message.endswith(".")  # one sentence
    assert "Fashion-MNIST" in message and "install" in message


def test_quiz_reference_answers_pass_and_stub_fails(tmp_path: Path) -> None:
    spec = load_exercise("exercise2")
    assert (
        run_cli("exercise2", str(spec.solution_path), "--json", str(tmp_path / "r.json"), cwd=tmp_path).returncode == 0
    )
    assert run_cli("exercise2", str(spec.stub_path), "--no-report").returncode == 1
