"""`grade batch`: discovery, the content cache, the gradebook and summary, resume after kill -9,
parallel local jobs and the Dask executor.

Most tests grade quizzes (milliseconds, no TensorFlow). The model batches run on the tiny
synthetic data of ``tiny_data_dir``: each submission costs a few seconds, mostly TensorFlow's
import in the sandbox child. Submissions live in tests/batch_fixtures/ as readable files.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.batch.cache import ResultCache, cache_key, file_digest, spec_digest
from grader.batch.discover import discover_students, pick_submission_file
from grader.batch.executor import threads_per_sandbox
from grader.batch.records import StudentRecord, error_result
from grader.batch.summary import common_mistakes, score_histogram
from grader.cli import main
from grader.result import CheckResult, GradeResult
from grader.spec import load_exercise

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "batch_fixtures"
QUIZ = "exercise1"


def read_gradebook(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open(newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def run_stats(out: Path) -> dict:
    return json.loads((out / "run.json").read_text())


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
    assert list(next(iter(rows.values())))[:5] == ["id", "score", "max", "passed", "test_accuracy"]
    assert list(next(iter(rows.values())))[-3:] == ["status", "time", "note"]
    assert rows["alice"]["score"] == rows["alice"]["max"] == f"{spec.max_score:g}" and rows["alice"]["status"] == "passed"
    assert rows["bob"]["nonlinearity"] == "0" and rows["bob"]["relu_negative"] == "2"
    assert rows["carol"]["status"] == "failed" and rows["carol"]["passed"] == "no"
    # Errors: no score at all (not a zero an LMS would import), and the reason.
    assert rows["dave"]["status"] == "error" and rows["dave"]["score"] == "" and "line 1" in rows["dave"]["note"]
    assert rows["frank"]["status"] == "error" and "no submission file" in rows["frank"]["note"]
    assert rows["erin"]["status"] == "passed"

    grades = json.loads((out / "grades.json").read_text())
    assert [s["id"] for s in grades["students"]] == sorted(rows)
    assert grades["students"][0]["submission"] == "alice.toml"  # relative to the class folder

    for student in ("alice", "dave", "frank"):
        gradescope = json.loads((out / "students" / student / "results.json").read_text())
        assert {"score", "max_score", "execution_time", "output", "tests"} <= set(gradescope)
        assert all(t["status"] in ("passed", "failed") for t in gradescope["tests"])
        assert GradeResult.from_json(json.loads((out / "students" / student / "grade.json").read_text()))
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
    assert sorted(by_id) == ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]
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
    cache.put(key, {"result": {"score": 1}})
    assert cache.get(key) == {"result": {"score": 1}}
    cache.path(key).write_text("{ half a file")  # what a crash without atomic writes would leave
    assert cache.get(key) is None


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
        return CheckResult("test_accuracy", "Test accuracy", status, 30.0 if status == "passed" else 0.0, 30.0, f"Test accuracy {value} is below 0.85.")

    records = [
        _record("ann", [accuracy(0.81)], 70),
        _record("ben", [accuracy(0.79)], 70),
        _record("cat", [accuracy(0.90), CheckResult("loss", "Loss", "failed", 0, 10, "The loss is mse.")], 90),
        _record("dan", [accuracy(0.91)], 100),
        _record("eve", [
            CheckResult("model_built", "Model", "error", 0, 5, "build_model() raised ValueError at eve.py, line 11."),
            CheckResult("loss", "Loss", "error", 0, 10, "Not checked, because build_model() raised ValueError."),
        ], 0),
    ]
    mistakes = common_mistakes(records)
    # eve's second error is a consequence of her first: not a mistake of its own.
    assert [(m.check_id, m.students) for m in mistakes] == [("test_accuracy", ["ann", "ben"]), ("loss", ["cat"]), ("model_built", ["eve"])]
    histogram = score_histogram([r.result.score for r in records], 100.0)
    assert histogram[0].count == 1 and [b.count for b in histogram][-4:] == [0, 2, 0, 2]  # 70-80 %: 2; 90-100 %: 2, full marks included


def test_error_result_renders_in_every_writer(tmp_path: Path) -> None:
    from grader.render.gradescope import gradescope_results

    spec = load_exercise("fashion_mnist")
    result = error_result(spec, "x.py", "x.py holds no model")
    payload = gradescope_results(result)
    assert payload["score"] == 0 and payload["tests"][0]["status"] == "failed" and "no model" in payload["output"]
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


HANG_TIMEOUT = "30"  # above a tiny submission's worst time on a busy 2-core machine


def test_batch_killed_midway_resumes_without_regrading(tiny_data_dir: Path, tmp_path: Path) -> None:
    submissions, out = model_class(tmp_path), tmp_path / "out"
    scratch = tmp_path / "scratch"  # TMPDIR of the batch: every sandbox's plan lives below it
    scratch.mkdir()
    command = [sys.executable, "-m", "grader", "batch", "fashion_mnist", str(submissions), "--out", str(out),
               "--jobs", "2", "--timeout", HANG_TIMEOUT, "--quiet"]  # fmt: skip
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(ROOT)}

    # 1. Start the batch, and kill -9 its whole process group once a few results are in.
    batch = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    cache = out / "cache"
    try:
        deadline = time.monotonic() + 240
        while len(list(cache.glob("*.json"))) < 3 and batch.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert batch.poll() is None, "the batch finished before it could be killed midway"
        os.killpg(batch.pid, signal.SIGKILL)
        batch.wait()
    finally:
        if batch.poll() is None:
            os.killpg(batch.pid, signal.SIGKILL)
        end_sandboxes_under(scratch)
    finished = {path.name: path.stat().st_mtime_ns for path in cache.glob("*.json")}
    assert 3 <= len(finished) < 10
    assert not (out / "gradebook.csv").exists()

    # 2. Start it again: it grades only what had not finished.
    resumed = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    end_sandboxes_under(scratch)
    assert resumed.returncode == 1, resumed.stdout + resumed.stderr  # ken has no file: one error row
    stats = run_stats(out)
    students_finished_before = stats["cached"]
    assert students_finished_before >= len(finished)  # (grace shares alice's entry)
    assert stats["graded"] + stats["cached"] == 11  # ken had nothing to grade
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("*.json") if p.name in finished} == finished
    assert len(list(cache.glob("*.json"))) == 10  # one entry per distinct file

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
