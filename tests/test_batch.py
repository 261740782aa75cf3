"""`grade batch`: discovery, the content cache, the gradebook and summary, resume after kill -9,
parallel local jobs and the Dask executor.

Most tests grade quizzes (milliseconds, no TensorFlow). The model batches run on the tiny
synthetic data of ``tiny_data_dir``: each submission costs a few seconds, mostly TensorFlow's
import in the sandbox child. Submissions live in tests/batch_fixtures/ as readable files.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path

import pytest

from grader.batch.cache import ResultCache, cache_key, file_digest, spec_digest
from grader.batch.discover import discover_students, pick_submission_file
from grader.batch.executor import threads_per_sandbox
from grader.batch.records import StudentRecord, error_result
from grader.batch.summary import common_mistakes, score_histogram
from grader.batch.task import TaskError, TaskOutcome
from grader.cli import main
from grader.errors import UsageError
from grader.result import CheckResult, GradeResult, ResultDetails
from grader.spec import load_exercise

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "batch_fixtures"
QUIZ = "exercise1"


def read_gradebook(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open(newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def run_stats(out: Path) -> dict:
    return json.loads((out / "run.json").read_text())


def check_messages(out: Path, student: str) -> str:
    """One line per check of ``student``'s graded result (for a failing assertion's message)."""
    path = out / "students" / student / "grade.json"
    if not path.is_file():
        return f"(no {path.name} for {student})"
    result = json.loads(path.read_text())
    return "\n".join(f"  [{c.get('id')}] {c.get('status')}: {c.get('message')}" for c in result.get("checks") or [])


# --- A quiz class: fast, no learner code runs --------------------------------------------------


def quiz_class(root: Path) -> Path:
    """Six students: right, half right, empty, broken TOML, one in a folder (same bytes as alice),
    and an empty folder; plus a README that is nobody's submission."""
    spec = load_exercise(QUIZ)
    reference = spec.solution_path.read_text()
    folder = root / "submissions"
    folder.mkdir(parents=True)
    (folder / "alice.toml").write_text(reference)
    (folder / "bob.toml").write_text(reference.replace('nonlinearity = "b"', 'nonlinearity = "a"'))
    (folder / "carol.toml").write_text(spec.stub_path.read_text())
    (folder / "dave.toml").write_text('nonlinearity = "b\n')
    (folder / "erin").mkdir()
    (folder / "erin" / spec.stub).write_text(reference)
    (folder / "frank").mkdir()
    (folder / "frank" / "notes.txt").write_text("I will hand it in tomorrow")
    (folder / "README.md").write_text("Class of 2026")
    return folder


def test_quiz_batch_writes_gradebook_reports_summary_and_gradescope(tmp_path: Path) -> None:
    submissions, out = quiz_class(tmp_path), tmp_path / "out"
    assert main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet"]) == 1  # two could not be graded

    rows = read_gradebook(out)
    assert sorted(rows) == ["alice", "bob", "carol", "dave", "erin", "frank"]
    spec = load_exercise(QUIZ)
    header = list(next(iter(rows.values())))
    assert header[:8] == ["student_id", "name", "section", "status", "score", "max_score", "percent", "passed"]
    assert header[-4:] == ["note", "flags", "grading_seconds", "submission"]
    assert (
        rows["alice"]["score"] == rows["alice"]["max_score"] == f"{spec.max_score:g}"
        and rows["alice"]["status"] == "passed"
    )
    assert rows["alice"]["percent"] == "100.0" and rows["alice"]["passed"] == "true"
    assert rows["bob"]["points_nonlinearity"] == "0" and rows["bob"]["points_relu_negative"] == "2"
    assert (
        rows["carol"]["status"] == "failed"
        and rows["carol"]["passed"] == "false"
        and rows["carol"]["note"].startswith("not passed")
    )
    # Errors: no score at all (not a zero an LMS would import), and the reason.
    assert rows["dave"]["status"] == "error" and rows["dave"]["score"] == "" and "line 1" in rows["dave"]["note"]
    assert rows["frank"]["status"] == "error" and "no submission file" in rows["frank"]["note"]
    assert rows["erin"]["status"] == "passed"
    # alice and erin handed in the same bytes: graded once, and the instructor is told.
    assert "identical bytes to erin" in rows["alice"]["flags"] and "identical bytes to alice" in rows["erin"]["flags"]

    grades = json.loads((out / "grades.json").read_text())
    assert [s["id"] for s in grades["students"]] == sorted(rows)
    assert grades["students"][0]["submission"] == "alice.toml"  # relative to the class folder

    for student in ("alice", "dave", "frank"):
        gradescope = json.loads((out / "students" / student / "results.json").read_text())
        assert {"execution_time", "output", "tests"} <= set(gradescope)
        # Not graded: Gradescope's format needs a number, so it is marked as not graded.
        assert gradescope["extra_data"].get("graded", True) == (student == "alice")
        assert all(t["status"] in ("passed", "failed") for t in gradescope["tests"])
        graded = json.loads((out / "students" / student / "grade.json").read_text())
        assert GradeResult.from_json(graded) and (graded["score"] is None) == (student != "alice")
    assert (out / "students" / "alice" / "report.html").is_file()

    summary = (out / "summary.html").read_text()
    assert "Most common mistakes" in summary and 'id="pass-rate" data-value="0.5"' in summary
    assert "Class of 2026" not in summary
    stats = run_stats(out)
    assert stats["students"] == 6 and stats["graded"] == 5 and stats["cached"] == 0  # alice and erin: one task


def test_quiz_batch_rerun_is_all_cached_and_identical(tmp_path: Path) -> None:
    submissions, out = quiz_class(tmp_path), tmp_path / "out"
    main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet"])
    first = {name: (out / name).read_bytes() for name in ("gradebook.csv", "grades.json", "summary.html")}
    report = out / "students" / "alice" / "report.html"
    report_mtime = report.stat().st_mtime_ns

    main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet"])
    stats = run_stats(out)
    # dave's broken file is cached too: the same bytes give the same error. frank has no file.
    assert stats["graded"] == 0 and stats["cached"] == 5
    assert {name: (out / name).read_bytes() for name in first} == first
    assert report.stat().st_mtime_ns == report_mtime  # an unchanged student's files are left alone

    # One student changes their file: only they are graded again.
    (submissions / "carol.toml").write_text(load_exercise(QUIZ).solution_path.read_text() + "# my own work\n")
    main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet"])
    assert (run_stats(out)["graded"], run_stats(out)["cached"]) == (1, 4)
    assert read_gradebook(out)["carol"]["status"] == "passed"

    main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet", "--regrade"])
    assert run_stats(out)["graded"] == 5


def test_a_grader_exception_is_one_error_row_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import grader.quiz

    real = grader.quiz.grade_quiz

    def flaky(spec, submission, **kwargs):  # type: ignore[no-untyped-def]
        if Path(submission).name == "bob.toml":
            raise RuntimeError("simulated grader fault")
        return real(spec, submission, **kwargs)

    monkeypatch.setattr(grader.quiz, "grade_quiz", flaky)
    submissions, out = quiz_class(tmp_path), tmp_path / "out"
    main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet"])
    rows = read_gradebook(out)
    assert rows["bob"]["status"] == "error" and "grader bug" in rows["bob"]["note"]
    assert rows["alice"]["status"] == rows["erin"]["status"] == "passed"

    # A grader fault is never cached: once fixed, the next run grades bob.
    monkeypatch.setattr(grader.quiz, "grade_quiz", real)
    main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet"])
    assert run_stats(out)["graded"] == 1 and read_gradebook(out)["bob"]["status"] == "passed"


def test_batch_usage_errors_are_one_line(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    assert main(["batch", QUIZ, str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    assert "is not a folder" in capfd.readouterr().err
    assert main(["batch", QUIZ, str(tmp_path), "--out", str(tmp_path / "out"), "--executor", "dask"]) == 2
    assert "--scheduler" in capfd.readouterr().err
    assert main(["batch", QUIZ, str(tmp_path), "--out", str(tmp_path / "out"), "--jobs", "0"]) == 2


# --- Pieces ------------------------------------------------------------------------------------


def test_discovery_files_folders_and_problems(tmp_path: Path) -> None:
    spec = load_exercise("fashion_mnist")
    (tmp_path / "alice.py").write_text("")
    (tmp_path / "bob.ipynb").write_text("{}")
    (tmp_path / "carol.keras").write_bytes(b"")
    (tmp_path / "hank.hdf5").write_bytes(b"")  # a saved model too (HDF5, like .h5)
    (tmp_path / "dave").mkdir()
    (tmp_path / "dave" / "helper.py").write_text("")
    (tmp_path / "dave" / "fashion_mnist.py").write_text("")
    (tmp_path / "dave" / "old").mkdir()
    (tmp_path / "dave" / "old" / "fashion_mnist.py").write_text("")
    (tmp_path / "erin").mkdir()
    (tmp_path / "erin" / "my_model.ipynb").write_text("{}")
    (tmp_path / "erin" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "erin" / ".ipynb_checkpoints" / "my_model-checkpoint.ipynb").write_text("{}")
    (tmp_path / "frank").mkdir()
    (tmp_path / "frank" / "a.py").write_text("")
    (tmp_path / "frank" / "b.py").write_text("")
    (tmp_path / "grace.py").write_text("")
    (tmp_path / "grace.ipynb").write_text("{}")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / ".DS_Store").write_text("")
    (tmp_path / "__pycache__").mkdir()

    found = discover_students(tmp_path, spec)
    by_id = {s.id: s for s in found.students}
    assert sorted(by_id) == ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "hank"]
    assert by_id["alice"].submission == tmp_path / "alice.py"
    assert by_id["dave"].submission == tmp_path / "dave" / "fashion_mnist.py"  # the stub's name, shallowest
    assert by_id["erin"].submission == tmp_path / "erin" / "my_model.ipynb"  # the single candidate
    assert by_id["frank"].submission is None and "several" in by_id["frank"].problem
    assert by_id["grace"].submission is None and "2 submissions" in by_id["grace"].problem
    assert [p.name for p in found.ignored] == ["notes.txt"]

    empty = tmp_path / "empty"
    empty.mkdir()
    assert pick_submission_file(empty, spec)[0] is None


def test_cache_key_follows_content_not_names(tmp_path: Path) -> None:
    spec = load_exercise(QUIZ)
    one, two = tmp_path / "one.toml", tmp_path / "renamed.toml"
    one.write_text("x = 1\n")
    two.write_text("x = 1\n")
    base = dict(seed=None, timeout_s=60.0)
    key = cache_key(file_digest(one), spec_digest(spec), {}, **base)
    assert key == cache_key(file_digest(two), spec_digest(spec), {}, **base)
    two.write_text("x = 2\n")
    assert key != cache_key(file_digest(two), spec_digest(spec), {}, **base)
    assert key != cache_key(file_digest(one), spec_digest(load_exercise("exercise2")), {}, **base)
    assert key != cache_key(file_digest(one), spec_digest(spec), {"mnist": "abc"}, **base)
    assert key != cache_key(file_digest(one), spec_digest(spec), {}, seed=1, timeout_s=60.0)
    assert key != cache_key(file_digest(one), spec_digest(spec), {}, seed=None, timeout_s=30.0)
    assert key != cache_key(file_digest(one), spec_digest(spec), {}, **base, grader_version="9.9")

    cache = ResultCache(tmp_path / "cache")
    assert cache.get(key) is None
    outcome = TaskOutcome(error=TaskError("SyntaxError", "alice.py, line 3: invalid syntax", cacheable=True))
    cache.put(key, outcome)
    assert cache.get(key) == outcome
    entry = json.loads(cache.path(key).read_text())
    written = {
        "type": "SyntaxError",
        "message": outcome.error.message,
        "cacheable": True,
        "traceback": "",
        "submission": None,
    }
    assert entry["outcome"] == {"error": written}
    # An entry as an earlier grader wrote it (no "submission") still reads; a foreign one is a miss.
    del entry["outcome"]["error"]["submission"]
    cache.path(key).write_text(json.dumps(entry))
    assert cache.get(key) == outcome
    cache.path(key).write_text(json.dumps({**entry, "outcome": {"result": {"score": 1}}}))
    assert cache.get(key) is None
    cache.path(key).write_text("{ half a file")  # what a crash without atomic writes would leave
    assert cache.get(key) is None


def test_cache_key_holds_the_feedback_language(tmp_path: Path) -> None:
    # An outcome holds its messages as sentences: `grade batch --lang zh` after an English run
    # must not take the English results from the cache.
    from grader.messages import use_language

    spec = load_exercise(QUIZ)
    answers = tmp_path / "answers.toml"
    answers.write_text("x = 1\n")
    facts = (file_digest(answers), spec_digest(spec), {})
    with use_language("en"):
        english = cache_key(*facts, seed=None, timeout_s=60.0)
    with use_language("zh"):
        chinese = cache_key(*facts, seed=None, timeout_s=60.0)
        assert chinese == cache_key(*facts, seed=None, timeout_s=60.0, language="zh")
    assert english != chinese
    assert english == cache_key(*facts, seed=None, timeout_s=60.0, language="en")


def test_task_outcomes_round_trip_through_json() -> None:
    check = CheckResult("loss", "Loss", "passed", 10.0, 10.0, "The loss is right.")
    details = ResultDetails(history={"loss": [0.5, float("nan")]}, notes=["a note"])
    result = GradeResult("fashion_mnist", "alice.py", True, 100.0, 100.0, 80.0, 42, "0", 1.5, [check], details=details)
    outcome = TaskOutcome(result=result)
    data = json.loads(json.dumps(outcome.to_json()))  # through text, as the worker's file and the cache go
    assert set(data) == {"result"} and data["result"] == json.loads(json.dumps(result.to_json()))
    back = TaskOutcome.from_json(data)
    assert (
        back.result is not None and back.result.checks == result.checks and back.result.details["notes"] == ["a note"]
    )
    assert back.cacheable
    with pytest.raises(ValueError):
        TaskOutcome(result=result, error=TaskError("X", "both"))
    for foreign in ({}, {"result": {"score": 1}}, {"error": {"message": "no type"}}, ["result"]):
        with pytest.raises(ValueError):
            TaskOutcome.from_json(foreign)


def test_only_worker_folders_of_batches_that_are_gone_are_removed(tmp_path: Path) -> None:
    """A batch may run in any program (a test runner too): a folder goes when its owner process
    is gone or its number now belongs to a later process, never while the owner runs."""
    from grader.batch.executor import OWNER_FILE, WORKER_DIR_PREFIX, process_start, remove_stale_worker_dirs

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        owners = {
            "running": f"{sleeper.pid} {process_start(sleeper.pid)}",
            "running-no-start-time": f"{sleeper.pid}",  # as an earlier grader wrote it
            "reused-number": f"{sleeper.pid} 1",  # same pid, another start: a later process
            "gone": f"{2**22 + 1} 5",  # above the kernel's largest pid
        }
        for name, owner in owners.items():
            (tmp_path / f"{WORKER_DIR_PREFIX}{name}").mkdir()
            (tmp_path / f"{WORKER_DIR_PREFIX}{name}" / OWNER_FILE).write_text(owner)
        assert remove_stale_worker_dirs(tmp_path) == 2
        left = sorted(p.name.removeprefix(WORKER_DIR_PREFIX) for p in tmp_path.iterdir())
        assert left == ["running", "running-no-start-time"]
    finally:
        sleeper.kill()
        sleeper.wait()


def test_threads_divide_the_cores_among_sandboxes() -> None:
    assert threads_per_sandbox(1, cores=2) == 2
    assert threads_per_sandbox(2, cores=2) == 1
    assert threads_per_sandbox(4, cores=2) == 1
    assert threads_per_sandbox(3, cores=16) == 5


def _record(student: str, checks: list[CheckResult], score: float, elapsed: float = 1.0) -> StudentRecord:
    result = GradeResult("fashion_mnist", f"{student}.py", score >= 80, score, 100.0, 80.0, 42, "0", elapsed, checks)
    return StudentRecord(student, f"{student}.py", "passed" if result.passed else "failed", result, key="k")


def test_summary_groups_mistakes_across_different_numbers() -> None:
    def accuracy(value: float) -> CheckResult:
        status = "passed" if value >= 0.85 else "failed"
        return CheckResult(
            "test_accuracy",
            "Test accuracy",
            status,
            30.0 if status == "passed" else 0.0,
            30.0,
            f"Test accuracy {value} is below 0.85.",
        )

    records = [
        _record("ann", [accuracy(0.81)], 70),
        _record("ben", [accuracy(0.79)], 70),
        _record("cat", [accuracy(0.90), CheckResult("loss", "Loss", "failed", 0, 10, "The loss is mse.")], 90),
        _record("dan", [accuracy(0.91)], 100),
        _record(
            "eve",
            [
                CheckResult(
                    "model_built", "Model", "error", 0, 5, "build_model() raised ValueError at eve.py, line 11."
                ),
                CheckResult("loss", "Loss", "error", 0, 10, "Not checked, because build_model() raised ValueError."),
            ],
            0,
        ),
    ]
    mistakes = common_mistakes(records)
    # eve's second error is a consequence of her first: not a mistake of its own.
    assert [(m.check_id, m.students) for m in mistakes] == [
        ("test_accuracy", ["ann", "ben"]),
        ("loss", ["cat"]),
        ("model_built", ["eve"]),
    ]
    histogram = score_histogram([r.result.score for r in records], 100.0)
    assert histogram[0].count == 1 and [b.count for b in histogram][-4:] == [
        0,
        2,
        0,
        2,
    ]  # 70-80 %: 2; 90-100 %: 2, full marks included


def test_error_result_renders_in_every_writer(tmp_path: Path) -> None:
    from grader.render.gradescope import gradescope_results

    spec = load_exercise("fashion_mnist")
    result = error_result(spec, "x.py", "x.py holds no model")
    payload = gradescope_results(result)
    assert payload["score"] == 0 and payload["extra_data"]["graded"] is False
    assert payload["tests"][0]["status"] == "failed" and "no model" in payload["output"]
    json.dumps(payload)


# --- Model batches on tiny data ------------------------------------------------------------------


def model_class(root: Path) -> Path:
    """Twelve students: correct, wrong, broken, one that hangs, a notebook, a saved-model file that
    is not one, a folder, an empty folder, and two who handed in the same file."""
    f = FIXTURES / "fashion_mnist"
    folder = root / "submissions"
    folder.mkdir(parents=True)
    for student, fixture in {
        "alice": "good.py", "bob": "softmax_typo.py", "carol": "syntax_error.py", "dave": "hangs.py",
        "frank": "wrong_loss.py", "grace": "good.py", "heidi": "no_history.py", "judy": "os_exit.py",
    }.items():  # fmt: skip
        shutil.copyfile(f / fixture, folder / f"{student}.py")
    shutil.copyfile(f / "good.ipynb", folder / "ivan.ipynb")
    (folder / "erin").mkdir()
    (folder / "erin" / "fashion_mnist.py").write_text((f / "good.py").read_text() + "\n# erin's own copy\n")
    (folder / "erin" / "notes.txt").write_text("it works on my machine")
    (folder / "ken").mkdir()
    (folder / "ken" / "notes.txt").write_text("forgot the file")
    (folder / "leo.keras").write_bytes(b"not a zip file at all")
    return folder


def end_sandboxes_under(tmp_root: Path) -> None:
    """kill -9 of a batch leaves its sandbox children (each in a session of its own) running;
    end the ones this test started: those whose plan file lies under our temporary folder."""
    marker = str(tmp_root).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"grader.sandbox.child" in cmdline and marker in cmdline:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except ProcessLookupError:
                pass


# Above a tiny submission's worst time on a busy 2-core machine (measured up to ~35 s under load
# 11; 60 s was too short once, under load 13). dave's hang sleeps, so its wait costs no CPU: the
# batch's other job grades the rest of the class meanwhile.
HANG_TIMEOUT = "90"


def frozen_grader(folder: Path) -> Path:
    """A copy of the grader's source tree (package, templates, exercises) to run from."""
    for name in ("grader", "templates", "exercises"):
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def processes_under(tmp_root: Path) -> list[int]:
    """Pids of grader processes (batch workers, sandbox children) whose command line names a
    file below ``tmp_root``."""
    marker = str(tmp_root).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().split(") ")[-1][:1]
        except OSError:
            continue
        if marker in cmdline and b"grader" in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def test_batch_killed_midway_resumes_without_regrading(tiny_data_dir: Path, tmp_path: Path) -> None:
    submissions, out = model_class(tmp_path), tmp_path / "out"
    scratch = tmp_path / "scratch"  # TMPDIR of the batch: every sandbox's plan lives below it
    scratch.mkdir()
    command = [sys.executable, "-m", "grader", "batch", "fashion_mnist", str(submissions), "--out", str(out),
               "--jobs", "2", "--timeout", HANG_TIMEOUT, "--quiet"]  # fmt: skip
    # A frozen copy of the grader: the cache key includes a digest of the grader's code, and a
    # tree edited while this test runs would rightly regrade everyone on resume.
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(frozen_grader(tmp_path / "grader-copy"))}

    # 1. Start the batch, and kill -9 the batch process alone (not its process group) once a few
    #    results are in: its workers and their sandboxes must end by themselves.
    batch = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    cache = out / "cache"
    try:
        deadline = time.monotonic() + 400
        while len(list(cache.glob("*.json"))) < 3 and batch.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert batch.poll() is None, "the batch finished before it could be killed midway"
        assert processes_under(scratch), "no worker was running when the batch was killed"
        os.kill(batch.pid, signal.SIGKILL)
        batch.wait()
        deadline = time.monotonic() + 90  # SIGTERM, the sandbox's cleanup, a loaded machine
        while processes_under(scratch) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = processes_under(scratch)
    finally:
        if batch.poll() is None:
            os.killpg(batch.pid, signal.SIGKILL)
        end_sandboxes_under(scratch)
    assert not left, f"processes outlived the killed batch: {left}"
    finished = {path.name: path.stat().st_mtime_ns for path in cache.glob("*.json")}
    assert 3 <= len(finished) < 10
    assert not (out / "gradebook.csv").exists()

    # 2. Start it again: it grades only what had not finished, and leaves no temporary folder.
    resumed = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1200)
    assert not processes_under(scratch)
    end_sandboxes_under(scratch)
    assert not [p.name for p in scratch.iterdir()], "temporary folders were left behind"
    assert resumed.returncode == 1, resumed.stdout + resumed.stderr  # ken has no file: one error row
    stats = run_stats(out)
    students_finished_before = stats["cached"]
    assert students_finished_before >= len(finished)  # (grace shares alice's entry)
    assert stats["graded"] + stats["cached"] == 11  # ken had nothing to grade
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("*.json") if p.name in finished} == finished
    assert len(list(cache.glob("*.json"))) <= 10  # at most one entry per distinct file (leo's is no model)

    rows = read_gradebook(out)
    assert len(rows) == 12
    assert rows["alice"]["status"] == rows["grace"]["status"] == rows["erin"]["status"] == "passed"
    assert rows["dave"]["status"] == "timeout"
    assert rows["bob"]["status"] == rows["carol"]["status"] == rows["frank"]["status"] == "failed"
    grades = {s["id"]: s for s in json.loads((out / "grades.json").read_text())["students"]}
    assert grades["heidi"]["checks"]["training"]["status"] == "failed"  # no History returned
    assert rows["judy"]["status"] == "failed"
    assert rows["ken"]["status"] == "error" and rows["ken"]["score"] == ""
    assert rows["ivan"]["status"] in ("passed", "failed", "error") and rows["leo"]["status"] in ("failed", "error")
    for student in rows:
        folder = out / "students" / student
        assert (folder / "grade.json").is_file() and (folder / "results.json").is_file()
        assert (folder / "report.html").is_file() and (folder / "report.md").is_file()
    summary = (out / "summary.html").read_text()
    assert "Slowest submissions" in summary and "dave" in summary

    # 3. A third run finds everything cached and writes the same gradebook, in seconds.
    gradebook, grades = (out / "gradebook.csv").read_bytes(), (out / "grades.json").read_bytes()
    started = time.monotonic()
    again = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 1
    assert time.monotonic() - started < 20
    assert run_stats(out)["graded"] == 0 and run_stats(out)["cached"] == 11
    assert (out / "gradebook.csv").read_bytes() == gradebook and (out / "grades.json").read_bytes() == grades


def test_dask_executor_on_a_local_cluster(tiny_data_dir: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    f = FIXTURES / "fashion_mnist"
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    submissions.mkdir()
    shutil.copyfile(f / "good.py", submissions / "alice.py")
    shutil.copyfile(f / "syntax_error.py", submissions / "bob.py")
    shutil.copyfile(f / "good.py", submissions / "carol.py")

    # Worker processes inherit GRADER_DATA_DIR (set by tiny_data_dir) and run the sandbox locally.
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster:
        args = ["batch", "fashion_mnist", str(submissions), "--out", str(out), "--quiet",
                "--executor", "dask", "--scheduler", cluster.scheduler_address]  # fmt: skip
        assert main(args) == 0
        rows = read_gradebook(out)
        assert {k: v["status"] for k, v in rows.items()} == {"alice": "passed", "bob": "failed", "carol": "passed"}
        assert run_stats(out)["graded"] == 3 and "Dask" in run_stats(out)["executor"]
        result = json.loads((out / "students" / "carol" / "grade.json").read_text())
        assert result["submission"] == str(submissions / "carol.py")  # the batch's path, not a worker's copy
        for student in rows:
            assert (out / "students" / student / "results.json").is_file()

        # The same resume behaviour: nothing is sent to the cluster again.
        gradebook = (out / "gradebook.csv").read_bytes()
        assert main(args) == 0
        assert run_stats(out)["cached"] == 3 and run_stats(out)["graded"] == 0
        assert (out / "gradebook.csv").read_bytes() == gradebook


# --- Hostile inputs: file names, symbolic links, grader errors, the grader's own code -------------


HOSTILE_NAMES = {
    "ansi": "\x1b[2K\x1b[1A\x1b[32m100 of 100 passed\x1b[0m",  # erases the line above and redraws it
    "newline": "eve\n✔ mallory: 13 of 13 passed",  # a fake progress line
    "bidi": "trudy\u202eelif",  # a right-to-left override reorders what the instructor reads
    "formula": '=HYPERLINK("example.invalid","click")',  # a spreadsheet formula
}


def test_hostile_file_names_reach_no_terminal_and_no_spreadsheet(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    spec = load_exercise(QUIZ)
    folder, out = tmp_path / "submissions", tmp_path / "out"
    folder.mkdir()
    stub = spec.stub_path.read_text()
    for name in HOSTILE_NAMES.values():
        (folder / f"{name}.toml").write_text(stub)
    main(["batch", QUIZ, str(folder), "--out", str(out), "--quiet"])
    printed = capsys.readouterr()
    for stream in (printed.out, printed.err):
        assert "\x1b" not in stream and "\u202e" not in stream
        assert not any(line.startswith("✔ mallory") for line in stream.splitlines())  # never a line of its own
    text = (out / "gradebook.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) == len(HOSTILE_NAMES)  # one line per student: no newline survived in an id
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value
            assert "\x1b" not in value and "\u202e" not in value and "\n" not in value
    ids = {row["student_id"] for row in rows}
    assert '\'=HYPERLINK("example.invalid","click")' in ids  # neutralised, still readable
    # Invisible characters are written as visible escapes (a doctored name never becomes a clean one).
    assert "trudy-u202eelif" in ids and "eve-x0a✔ mallory: 13 of 13 passed" in ids
    assert all((out / "students" / sid.lstrip("'")).is_dir() or (out / "students" / sid).is_dir() for sid in ids)
    summary = (out / "summary.html").read_text()
    assert "\x1b" not in summary and "\u202e" not in summary and "=HYPERLINK" in summary  # shown as text


def test_symbolic_links_are_not_followed(tmp_path: Path) -> None:
    spec = load_exercise(QUIZ)
    reference = spec.solution_path.read_text()
    folder, out = tmp_path / "submissions", tmp_path / "out"
    folder.mkdir()
    (folder / "alice.toml").write_text(reference)
    (folder / "mallory.toml").symlink_to(folder / "alice.toml")  # another student's file: a free 13/13
    instructor = tmp_path / "instructor" / "answers.toml"
    instructor.parent.mkdir()
    instructor.write_text(reference)
    (folder / "eve.toml").symlink_to(instructor)  # a file outside the class folder
    (folder / "trent").mkdir()
    (folder / "trent" / spec.stub).symlink_to(instructor)  # a link inside a student's folder
    (folder / "oscar").symlink_to(tmp_path / "instructor", target_is_directory=True)  # a linked folder
    assert main(["batch", QUIZ, str(folder), "--out", str(out), "--quiet"]) == 1
    rows = read_gradebook(out)
    assert rows["alice"]["status"] == "passed"
    for student in ("mallory", "eve", "trent", "oscar"):
        assert rows[student]["status"] == "error", student
        assert rows[student]["score"] == "" and "symbolic link" in rows[student]["note"], rows[student]
    assert run_stats(out)["graded"] == 1


def test_results_holding_a_grader_error_are_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import grader.quiz

    real = grader.quiz.grade_quiz

    def judge_crashed(spec, submission, **kwargs):  # type: ignore[no-untyped-def]
        result = real(spec, submission, **kwargs)
        first = result.checks[0]
        result.checks[0] = CheckResult(
            first.id,
            first.name,
            "error",
            0.0,
            first.max_score,
            f"internal grader error in check {first.id}: KeyError: 'x'",
        )
        return result

    monkeypatch.setattr(grader.quiz, "grade_quiz", judge_crashed)
    submissions, out = quiz_class(tmp_path), tmp_path / "out"
    main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet"])
    assert run_stats(out)["graded"] == 5
    main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet"])
    # dave's broken TOML is an error outcome about his file (cached); the four results each
    # hold a grader error and are graded again.
    assert (run_stats(out)["graded"], run_stats(out)["cached"]) == (4, 1)

    def outcome(message: str) -> TaskOutcome:
        check = CheckResult("loss", "Loss", "error", 0.0, 10.0, message)
        return TaskOutcome(result=GradeResult("q", "a.toml", False, 0.0, 10.0, 8.0, None, "0", 0.1, [check]))

    from grader.messages import use_language
    from grader.messages.judges import internal_error

    assert not outcome("internal grader error in check loss: boom").cacheable
    with use_language("zh"):  # a batch graded in Chinese words the same fault in Chinese
        assert not outcome(internal_error("loss", "KeyError: 'x'")).cacheable
    assert outcome("The loss is mse.").cacheable


def test_cache_key_changes_with_the_graders_own_code(tmp_path: Path) -> None:
    from grader.batch.cache import code_digest, grader_code_digest

    package = tmp_path / "grader"
    shutil.copytree(ROOT / "grader", package, ignore=shutil.ignore_patterns("__pycache__"))
    before = code_digest(package)
    judge = package / "judges" / "model.py"
    judge.write_text(judge.read_text() + "\n# a changed judge\n")
    assert code_digest(package) != before
    base = dict(seed=None, timeout_s=60.0)
    key = cache_key("abc", "spec", {}, **base)
    assert key == cache_key("abc", "spec", {}, **base, grader_code=grader_code_digest())
    assert key != cache_key("abc", "spec", {}, **base, grader_code=code_digest(package))


# --- Roster, LMS layouts, late policy, overrides, exports (quiz classes: fast) --------------------


def _answers(spec, right: bool) -> str:  # type: ignore[no-untyped-def]
    return spec.solution_path.read_text() if right else spec.stub_path.read_text()


def canvas_class(root: Path, spec) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    """A Canvas download: Jane on time, John late (Canvas's marker and a late file time), Ann
    handed in nothing, and a file of somebody not on the roster."""
    folder = root / "canvas"
    folder.mkdir(parents=True)
    jane = folder / f"smithjane_1001_5001_{spec.stub}"
    john = folder / f"doejohn_late_1002_5002_{spec.stub}"
    stray = folder / f"visitorvic_1999_5999_{spec.stub}"
    jane.write_text(_answers(spec, True))
    john.write_text(_answers(spec, True))
    stray.write_text(_answers(spec, False))
    due = 1_770_000_000  # 2026-02-02T02:40:00Z
    os.utime(jane, (due - 3600, due - 3600))
    os.utime(john, (due + 26 * 3600, due + 26 * 3600))  # 26 hours late: two started days
    os.utime(stray, (due - 60, due - 60))
    roster = root / "canvas_roster.csv"
    roster.write_text(
        "Student ID,Name,Email,Canvas ID,SIS ID,Section\n"
        "s1,Jane Smith,jane@example.edu,1001,SIS-1,A\n"
        "s2,John Doe,john@example.edu,1002,SIS-2,A\n"
        "s3,Ann Lee,ann@example.edu,1003,SIS-3,B\n"
    )
    return folder, roster


def moodle_class(root: Path, spec) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    folder = root / "moodle"
    (folder / "Jane Smith_201_assignsubmission_file_").mkdir(parents=True)
    (folder / "Jane Smith_201_assignsubmission_file_" / spec.stub).write_text(_answers(spec, True))
    (folder / "Jane Smith_201_assignsubmission_onlinetext_").mkdir()
    (folder / "Jane Smith_201_assignsubmission_onlinetext_" / "onlinetext.html").write_text("<p>done</p>")
    (folder / f"John Doe_202_assignsubmission_file_{spec.stub}").write_text(_answers(spec, False))  # no folders
    roster = root / "moodle_roster.csv"
    roster.write_text(
        "id,name,email,lms_user_id\nu1,Jane Smith,jane@example.edu,201\nu2,John Doe,john@example.edu,202\nu3,Ann Lee,ann@example.edu,203\n"
    )
    return folder, roster


def test_canvas_download_with_roster_late_policy_override_and_export(tmp_path: Path) -> None:
    spec = load_exercise(QUIZ)
    folder, roster = canvas_class(tmp_path, spec)
    out = tmp_path / "out"
    out.mkdir()
    (out / "overrides.toml").write_text('[students."s1"]\ncomment = "Checked by hand."\ntotal = 12\n')
    args = ["batch", QUIZ, str(folder), "--out", str(out), "--quiet", "--roster", str(roster),
            "--due", "2026-02-02T02:40:00+00:00", "--late-penalty", "10%/day,max=50%", "--export", "canvas", "--export", "csv"]  # fmt: skip
    main(args)
    rows = read_gradebook(out)
    assert sorted(rows) == ["s1", "s2", "s3", "visitorvic"]
    full = spec.max_score
    # Jane: on time, overridden to 12 by the instructor, the comment visible.
    assert (
        rows["s1"]["score"] == "12"
        and "Checked by hand." in rows["s1"]["note"]
        and "Instructor" in rows["s1"]["adjustments"]
    )
    # John: full marks, 26 hours late -> two started days at 10 % of the points.
    assert (
        rows["s2"]["late_penalty"] == f"{round(0.2 * full, 2):g}"
        and rows["s2"]["score"] == f"{round(full - 0.2 * full, 2):g}"
    )
    assert rows["s2"]["submitted_at"].startswith("2026-02-03T04:40") and "Late" in rows["s2"]["adjustments"]
    # Ann handed in nothing: a row, no score.
    assert rows["s3"]["status"] == "missing" and rows["s3"]["score"] == "" and rows["s3"]["name"] == "Ann Lee"
    assert "not on the roster" in rows["visitorvic"]["note"]
    # The override file is the instructor's: never rewritten.
    assert (out / "overrides.toml").read_text().startswith('[students."s1"]')
    # The student's own report and grade.json say what was adjusted.
    shown = json.loads((out / "students" / "s2" / "grade.json").read_text())
    assert shown["score"] == round(full - 0.2 * full, 2) and any("Late" in a for a in shown["details"]["adjustments"])

    # Canvas's Gradebook import: Student/ID/SIS User ID/SIS Login ID/Section, then the assignment
    # column; a Points Possible row; students matched by Canvas user id; no row for strangers.
    with (out / "export" / "canvas_grades.csv").open(newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", spec.title]
    assert table[1][0] == "Points Possible" and table[1][5] == f"{full:g}"
    by_id = {row[1]: row for row in table[2:]}
    assert set(by_id) == {"1001", "1002", "1003"}
    assert by_id["1001"][0] == "Smith, Jane" and by_id["1001"][2] == "SIS-1" and by_id["1001"][5] == "12"
    assert by_id["1003"][5] == ""  # not graded: left empty, Canvas keeps what it has
    plain = list(csv.DictReader((out / "export" / "grades.csv").read_text().splitlines()))
    assert {r["student_id"]: r["status"] for r in plain}["s3"] == "missing"

    # An instructor edits the override: the next run applies it without grading anyone again.
    (out / "overrides.toml").write_text('[students."s2"]\nwaive_late = true\ncomment = "Was ill."\n')
    main(args)
    assert run_stats(out)["graded"] == 0
    rows = read_gradebook(out)
    assert (
        rows["s2"]["score"] == f"{full:g}" and rows["s2"]["late_penalty"] == "" and rows["s1"]["score"] == f"{full:g}"
    )


def test_moodle_download_with_roster_and_feedback_zip(tmp_path: Path) -> None:
    import zipfile

    spec = load_exercise(QUIZ)
    folder, roster = moodle_class(tmp_path, spec)
    out = tmp_path / "out"
    main(["batch", QUIZ, str(folder), "--out", str(out), "--quiet", "--roster", str(roster), "--export", "moodle"])
    rows = read_gradebook(out)
    assert {k: v["status"] for k, v in rows.items()} == {"u1": "passed", "u2": "failed", "u3": "missing"}
    # Moodle's offline grading worksheet: Identifier "Participant <id>", Grade, Feedback comments.
    with (out / "export" / "moodle_grades.csv").open(newline="") as handle:
        sheet = list(csv.DictReader(handle))
    assert list(sheet[0]) == ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                              "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments"]  # fmt: skip
    by_id = {row["Identifier"]: row for row in sheet}
    assert (
        by_id["Participant 201"]["Grade"] == f"{spec.max_score:g}"
        and by_id["Participant 201"]["Full name"] == "Jane Smith"
    )
    assert by_id["Participant 203"]["Grade"] == "" and by_id["Participant 203"]["Status"] == "No submission"
    assert "not passed" in by_id["Participant 202"]["Feedback comments"]
    # Feedback files in the download's own folder names, for "upload multiple feedback files in a zip".
    with zipfile.ZipFile(out / "export" / "moodle_feedback_files.zip") as archive:
        names = set(archive.namelist())
    assert "Jane Smith_201_assignsubmission_file_/report.html" in names
    assert "John Doe_202_assignsubmission_file_/report.md" in names


def test_removed_students_folders_are_removed_and_only_regrades_one(tmp_path: Path) -> None:
    submissions, out = quiz_class(tmp_path), tmp_path / "out"
    main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet"])
    assert (out / "students" / "carol").is_dir()
    (submissions / "carol.toml").unlink()
    main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet"])
    assert not (out / "students" / "carol").exists() and "carol" not in read_gradebook(out)

    main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet", "--only", "bob"])
    assert (run_stats(out)["graded"], run_stats(out)["cached"]) == (1, 3)  # bob; alice+erin, dave cached
    assert main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet", "--only", "nobody"]) == 2


def test_an_interrupted_regrade_resumes(tmp_path: Path) -> None:
    from rich.console import Console

    from grader.batch.executor import LocalExecutor
    from grader.batch.progress import BatchProgress
    from grader.batch.run import REGRADE_MARKER, BatchOptions, run_batch
    from grader.sandbox.isolation import isolation_for_unattended_run

    spec = load_exercise(QUIZ)
    submissions, out = quiz_class(tmp_path), tmp_path / "out"
    main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet"])

    class StopsAfterTwo(LocalExecutor):
        def grade(self, tasks):  # type: ignore[no-untyped-def]
            for count, item in enumerate(super().grade(tasks), start=1):
                yield item
                if count == 2:
                    raise KeyboardInterrupt

    console = Console(file=io.StringIO())
    with pytest.raises(KeyboardInterrupt):
        options = BatchOptions(out_dir=out, regrade=True, sandbox=isolation_for_unattended_run("auto", "test"))
        run_batch(spec, submissions, options, StopsAfterTwo(1), BatchProgress(console, live=False))
    assert (out / REGRADE_MARKER).is_file()
    # The same regrade again: the two submissions regraded before the interruption are not
    # graded a third time (4 distinct files for 5 students: alice and erin share one).
    main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet", "--regrade"])
    assert run_stats(out)["graded"] + run_stats(out)["cached"] == 5 and 1 <= run_stats(out)["graded"] <= 3
    assert not (out / REGRADE_MARKER).exists()
    main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet"])
    assert run_stats(out)["graded"] == 0


# --- Fair percentages, late rules, overrides, similarity: pure functions --------------------------


def _saved_model_result(score: float = 85.0) -> GradeResult:
    """A saved model graded as the pipeline grades it: training skipped and not counted (85 points)."""
    spec = load_exercise("fashion_mnist")
    checks = []
    for check in spec.checks:
        if check.id == "training":
            checks.append(
                CheckResult("training", "Training", "skipped", 0.0, 0.0, "A saved model: no training to judge.")
            )
        else:
            checks.append(CheckResult(check.id, check.name, "passed", check.points, check.points, "ok"))
    total = sum(c.score for c in checks)
    if score < total:  # lose points on the accuracy check
        accuracy = next(c for c in checks if c.id == "test_accuracy")
        accuracy.score, accuracy.status = accuracy.score - (total - score), "failed"
    return GradeResult("fashion_mnist", "carol.keras", score >= 68, score, 85.0, 68.0, 42, "0", 3.0, checks,
                       metrics={"test_accuracy": 0.87}, style="saved_model", isolation="bwrap")  # fmt: skip


def test_a_saved_models_85_of_85_is_100_everywhere() -> None:
    from grader.batch.policy import final_grade
    from grader.batch.summary import check_rates, score_histogram
    from grader.render.gradescope import gradescope_results

    spec = load_exercise("fashion_mnist")
    result = _saved_model_result()
    final = final_grade(result, spec, graded=True)
    assert (final.points, final.max_points, final.scaled, final.passed) == (100.0, 100.0, True, True)
    assert "85 of the 85 points" in final.adjustments[0] and "saved model" in final.adjustments[0]
    assert score_histogram([final.points], spec.max_score)[-1].count == 1  # the 90-100 % bin, not 80-90 %

    payload = gradescope_results(result, spec=spec)
    assert (payload["score"], payload["max_score"]) == (100.0, 100.0) and "Scaled" in payload["output"]
    assert all(t["max_score"] > 0 or t["tags"] == ["integrity"] for t in payload["tests"])  # no 0/0 training row
    assert "training" not in {t["tags"][0] for t in payload["tests"]}
    assert payload["leaderboard"][0] == {"name": "Test accuracy", "value": 0.87}

    # A skipped check is not a failure in the summary: training is judged for 1 of 2 students.
    module = GradeResult("fashion_mnist", "a.py", True, 100.0, 100.0, 80.0, 42, "0", 3.0,
                         [CheckResult("training", "Training", "passed", 10.0, 10.0, "ok")])  # fmt: skip
    records = [StudentRecord("a", "a.py", "passed", module), StudentRecord("c", "c.keras", "passed", result)]
    training = next(rate for rate in check_rates(records, spec) if rate.id == "training")
    assert (training.passed, training.graded, training.skipped, training.rate) == (1, 1, 1, 1.0)


def test_late_rules_and_overrides() -> None:
    from datetime import datetime, timedelta

    from grader.batch.policy import Override, final_grade, load_overrides, parse_due, parse_late_rule

    due = parse_due("2026-03-01T23:59+00:00")
    rule = parse_late_rule("10%/day,max=30%,grace=15m", due)
    assert rule.penalty(10 * 60, 100) == 0  # within the grace period
    assert rule.penalty(20 * 60, 100) == 10  # one started day
    assert rule.penalty(26 * 3600, 100) == 20 and rule.penalty(30 * 86400, 100) == 30  # two started days; capped
    assert parse_late_rule("5/hour", due).penalty(3 * 3600 + 1, 100) == 20
    for bad in ("ten percent", "10%/fortnight", "10%/day,max=lots", "10%/day,grace=soon", "10%/day,oops=1"):
        with pytest.raises(UsageError):
            parse_late_rule(bad, due)
    with pytest.raises(UsageError):
        parse_due("next tuesday")

    spec = load_exercise("fashion_mnist")
    result = _saved_model_result()
    late = final_grade(result, spec, graded=True, submitted_at=due + timedelta(hours=30), policy=rule)
    assert (late.points, late.late_penalty, late.passed) == (80.0, 20.0, True)
    waived = final_grade(
        result,
        spec,
        graded=True,
        submitted_at=due + timedelta(hours=30),
        policy=rule,
        override=Override(waive_late=True),
    )
    assert waived.points == 100.0
    by_hand = final_grade(result, spec, graded=True, override=Override(comment="re-marked", checks={"training": 10.0}))
    assert (
        by_hand.points == 100.0 and by_hand.raw_max == 95.0 and "Training: 10 points" in " ".join(by_hand.adjustments)
    )
    missing = final_grade(None, spec, graded=False, submitted_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert missing.points is None and missing.passed is None

    from tempfile import TemporaryDirectory

    with TemporaryDirectory() as folder:
        path = Path(folder) / "overrides.toml"
        path.write_text('[students."alice"]\ntotal = 101\n')
        with pytest.raises(UsageError, match="from 0 to 100"):
            load_overrides(path, spec)
        path.write_text('[students."alice".checks]\nlos = 3\n')
        with pytest.raises(UsageError, match="no check 'los'"):
            load_overrides(path, spec)
        path.write_text('[students."alice"]\ncomment = "ok"\ntotal = 90\n')
        assert load_overrides(path, spec)["alice"].total == 90


def test_similarity_flags_copies_and_leaves_independent_work(tmp_path: Path) -> None:
    from grader.batch.similarity import NEAR_IDENTICAL, find_similar

    spec = load_exercise("fashion_mnist")
    f = FIXTURES / "fashion_mnist"
    good = (f / "good.py").read_text()
    renamed = good.replace("model", "net").replace("64", "128")
    for name, text in {"alice.py": good, "bob.py": good, "carol.py": renamed}.items():
        (tmp_path / name).write_text(text)
    shutil.copyfile(ROOT / "tests" / "styles" / "fashion_mnist" / "certificate.py", tmp_path / "dave.py")
    shutil.copyfile(ROOT / "tests" / "styles" / "fashion_mnist" / "chapter_script.py", tmp_path / "erin.py")
    pairs = find_similar({p.stem: p for p in tmp_path.glob("*.py")}, spec.stub_path)
    found = {(p.a, p.b): p.kind for p in pairs}
    assert found[("alice", "bob")] == "identical bytes"
    assert (
        found[("alice", "carol")] == "identical after renaming"
        and found[("bob", "carol")] == "identical after renaming"
    )
    assert not any("dave" in pair or "erin" in pair for pair in found)  # independent styles
    assert 0.5 < NEAR_IDENTICAL < 1


def test_lms_classes_with_a_saved_model_graded_end_to_end(
    tiny_data_dir: Path, tiny_saved_model: Path, tmp_path: Path
) -> None:
    """The semester's round trip on tiny data: a Canvas download and a Moodle download of the
    same class, each with a roster (Ann handed in nothing), a late submission (John), a saved
    model (Carol: 85 applicable points, scaled to 100) and an override (Jane), into each LMS's
    import file. The Moodle run reuses the Canvas run's cache: the same bytes are graded once."""
    f = FIXTURES / "fashion_mnist"
    due = 1_770_000_000
    canvas, moodle = tmp_path / "canvas", tmp_path / "moodle"
    canvas.mkdir()
    files = {
        ("smithjane", "Jane Smith", "1001"): (f / "good.py", "fashion_mnist.py", due - 3600),
        ("doejohn_late", "John Doe", "1002"): (f / "wrong_loss.py", "fashion_mnist.py", due + 3 * 3600),
        ("kingcarol", "Carol King", "1003"): (tiny_saved_model, "fashion_mnist.keras", due - 60),
    }
    for (canvas_name, full_name, user), (source, name, mtime) in files.items():
        target = canvas / f"{canvas_name}_{user}_{int(user) + 4000}_{name}"
        shutil.copyfile(source, target)
        os.utime(target, (mtime, mtime))
        folder = moodle / f"{full_name}_{user}_assignsubmission_file_"
        folder.mkdir(parents=True)
        shutil.copyfile(source, folder / name)
        os.utime(folder / name, (mtime, mtime))
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "id,name,email,lms_user_id,sis_id,section\n"
        "s1,Jane Smith,jane@example.edu,1001,SIS-1,A\ns2,John Doe,john@example.edu,1002,SIS-2,A\n"
        "s3,Carol King,carol@example.edu,1003,SIS-3,B\ns4,Ann Lee,ann@example.edu,1004,SIS-4,B\n"
    )
    cache = tmp_path / "cache"
    for layout, folder, export in (("canvas", canvas, "canvas"), ("moodle", moodle, "moodle")):
        out = tmp_path / f"out-{layout}"
        out.mkdir()
        (out / "overrides.toml").write_text('[students."s1"]\ncomment = "Oral exam bonus."\ntotal = 100\n')
        code = main(["batch", "fashion_mnist", str(folder), "--out", str(out), "--quiet", "--roster", str(roster),
                     "--cache-dir", str(cache), "--due", "2026-02-02T02:40:00+00:00", "--late-penalty", "10%/day",
                     "--export", export, "--timeout", "240"])  # fmt: skip
        assert code == 0, layout
        rows = read_gradebook(out)
        statuses = {k: v["status"] for k, v in rows.items()}
        assert statuses == {"s1": "passed", "s2": "failed", "s3": "passed", "s4": "missing"}, (
            f"{layout}: {statuses}\ns3's checks:\n{check_messages(out, 's3')}"
        )
        assert (
            rows["s3"]["score"] == "100" and rows["s3"]["max_score"] == "100" and "Scaled" in rows["s3"]["adjustments"]
        )
        assert rows["s3"]["points_training"] == ""  # did not apply: not a failed 0
        assert (
            rows["s2"]["late_penalty"] == "10"
            and rows["s1"]["score"] == "100"
            and "Oral exam bonus." in rows["s1"]["note"]
        )
        assert rows["s4"]["score"] == "" and rows["s1"]["isolation"] in ("bwrap", "process")
        assert rows["s1"]["integrity"] == "passed"
        summary = (out / "summary.html").read_text()
        assert 'id="student-s3"' in summary and "scaled to the same maximum" in summary
        if layout == "canvas":
            table = list(csv.reader((out / "export" / "canvas_grades.csv").read_text().splitlines()))
            assert table[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
            scores = {row[1]: row[5] for row in table[2:]}
            assert scores["1003"] == "100" and scores["1001"] == "100" and scores["1004"] == ""
            assert float(scores["1002"]) < 100
        else:
            sheet = {
                r["Identifier"]: r
                for r in csv.DictReader((out / "export" / "moodle_grades.csv").read_text().splitlines())
            }
            assert (
                sheet["Participant 1003"]["Grade"] == "100" and sheet["Participant 1004"]["Status"] == "No submission"
            )
            assert (out / "export" / "moodle_feedback_files.zip").is_file()
            assert run_stats(out)["graded"] == 0  # every distinct file came from the Canvas run's cache


def test_an_ungraded_students_report_says_why_not_zero(tmp_path: Path) -> None:
    submissions, out = quiz_class(tmp_path), tmp_path / "out"
    main(["batch", QUIZ, str(submissions), "--out", str(out), "--quiet"])
    html = (out / "students" / "frank" / "report.html").read_text()
    assert "not graded" in html and "NOT GRADED" in html and "no submission file" in html
    assert "0 / " not in html.split("</header>")[0]
    markdown = (out / "students" / "frank" / "report.md").read_text()
    assert "**not graded**" in markdown and "0 / 13" not in markdown
    grades = {s["id"]: s for s in json.loads((out / "grades.json").read_text())["students"]}
    assert (
        grades["frank"]["score"] is None and grades["frank"]["passed"] is None and grades["frank"]["status"] == "error"
    )


def test_a_dask_batch_with_no_workers_left_gives_error_rows(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    from grader.batch.executor import DaskExecutor
    from grader.batch.task import GradeTask

    spec = load_exercise(QUIZ)
    answers = tmp_path / "alice.toml"
    answers.write_text(spec.solution_path.read_text())
    with distributed.LocalCluster(
        processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0"
    ) as cluster:
        executor = DaskExecutor(cluster.scheduler_address, lost_wait_s=2.0, poll_s=0.2)
        try:
            executor.client.retire_workers(close_workers=True)
            deadline = time.monotonic() + 30
            while executor._workers() and time.monotonic() < deadline:
                time.sleep(0.2)
            task = GradeTask(
                key="k", exercise=QUIZ, submission=str(answers), spec_digest=spec_digest(spec), kind="quiz"
            )
            started = time.monotonic()
            outcomes = list(executor.grade([task]))
            assert time.monotonic() - started < 20  # a bounded wait, not forever
        finally:
            executor.close()
    assert len(outcomes) == 1
    error = outcomes[0][1].error
    assert error is not None and error.type == "GradingMachinesLost" and not error.cacheable
    assert "Dask" not in error.message and "not graded" in error.message


def test_the_live_line_names_who_is_running_and_for_how_long() -> None:
    import io

    from rich.console import Console

    from grader.batch.progress import BatchProgress

    buffer = io.StringIO()
    progress = BatchProgress(Console(file=buffer, width=200), live=False)
    progress.label("/class/dave.py", ["dave"])
    progress.label("/class/e\x1b[2Krin.py", ["e\x1b[2Krin"])
    progress.running("/class/dave.py")
    progress._running["/class/dave.py"] -= 552  # dave has been running for 9m12s
    progress.running("/class/e\x1b[2Krin.py")
    assert progress.running_text() == "running: dave 9m12s, erin 0s"
    progress.finished("/class/dave.py")
    assert progress.running_text() == "running: erin 0s"
    progress._last_still_running -= 3600
    progress.still_running_note()  # without a live display: a line naming long runs
    assert "still running: erin" in buffer.getvalue() and "\x1b" not in buffer.getvalue()
