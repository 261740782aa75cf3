"""The corpus of broken, hostile and mistaken submissions (``tests/corpus/``), graded through the
CLI one after another, on the tiny synthetic datasets.

Every case of ``tests/corpus/manifest.toml`` (its header says what each key checks) is graded by
``python -m grader EXERCISE FILE --json ...`` in a subprocess, as an instructor would, so a case
that crashed or hung the grader fails here rather than in a class's batch. Cases run in the
manifest's order, one after another. Measured on two cores: the 39 cases with bubblewrap take
4 min 50 s (about 5 s each, mostly TensorFlow starting in the child and in the grader; the four
meant to hang take their 8 s limit); the 11 graded again with process isolation (marked slow)
1 min 40 s more.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import write_tiny_dataset

from grader.sandbox.isolation import bwrap_problem

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parent / "corpus"
MANIFEST = tomllib.loads((CORPUS / "manifest.toml").read_text(encoding="utf-8"))
DEFAULTS: dict[str, Any] = MANIFEST["defaults"]
CASES: list[dict[str, Any]] = MANIFEST["cases"]
ISOLATION = "bwrap" if bwrap_problem() is None else "process"
LIMITS = {"time", "cpu", "memory", "output", "processes", "file_size"}


# Cases graded a second time with --sandbox process (where bubblewrap runs; otherwise that is
# the only run): the fallback's own defences (the guard, the fingerprint, the watchdog as root).
# Not write_outside_scratch.py: without bubblewrap it would write into real folders.
PROCESS_CASES = [
    case for case in CASES
    if ("process" in case or case.get("limit") in ("memory", "output", "processes", "file_size")
        or case["file"] in ("os_exit_in_train.py", "segfault.py")
        or any(key in case for key in ("process_root", "root", "sentinel", "daemon_marker", "poisons_cache", "env", "max_seconds")))
]  # fmt: skip
AS_ROOT = os.geteuid() == 0
# Cases graded in the slow lane only (CI runs it): the default lane proves the same behaviour
# with another case or test, and each grading costs a TensorFlow start or two.
SLOW_CASES = {
    "typographic_curly_quotes.py": "typographic_guillemets.py, the same message",
    "empty.py": "missing_function.py: a function that is not defined",
    "loop_in_build_model.py": "loop_in_train.py: a busy endless loop meets the time limit",
    "sys_exit_in_train.py": "test_sandbox.py::test_sys_exit_in_train_does_not_end_grading",
    "os_exit_in_train.py": "test_sandbox.py::test_os_exit_in_train_is_a_failure_not_a_crash",
    "untouched_stub.py": "test_sandbox.py::test_stub_fails_naming_not_implemented, test_end_to_end.py's stubs",
    "softmax_case.py": "test_sandbox.py::test_wrong_case_activation_says_write_softmax",
    "non_utf8.py": "binary.py: a file that is not UTF-8 text",
    "huge_source.py": "huge_file.py: a source too large to parse",
    "wrong_signature.py": "missing_function.py: the functions the exercise asks for",
    "build_returns_none.py": "not_keras_object.py: build_model() returns no Keras model",
    "sleep_forever.py": "loop_in_train.py: the time limit",
    "stop_self.py": "test_isolation.py::test_time_limit",
    "huge_allocation.py": "test_isolation.py::test_one_huge_allocation_is_refused_at_once",
    "print_50mb.py": "progress_flood.py, test_isolation.py::test_output_limit",
    "kill_everyone.py": "kill_parent.py, test_isolation.py::test_kill_minus_one_reaches_only_the_run",
    "fork_bomb.py": "test_isolation.py::test_fork_bomb_is_stopped_by_the_process_limit",
    "network_connection.py": "test_isolation.py::test_network",
    "fifo_evidence.py": "test_isolation.py::test_a_fifo_left_for_the_evidence_does_not_hang_the_grader",
    "memfd_memory.py": "test_isolation.py::test_memory_held_in_memfd_files_counts_against_the_limit",
    "ex4_download_data.py": "ex4_other_dataset.py: datasets served offline",
    "two_input_model.py": "giant_config.py: the archive's checks refuse the model before loading",
}


def expected(case: dict[str, Any], isolation: str) -> dict[str, Any]:
    """The case's expectations under ``isolation``."""
    merged = {key: value for key, value in case.items() if key not in ("process", "process_root", "root")}
    if isolation == "process":
        merged.update(case.get("process", {}))
    if AS_ROOT:  # the code runs as "nobody" (README, trust model)
        merged.update(case.get("root", {}))
        if isolation == "process":  # ... in namespaces of its own, with the data folders hidden
            merged.update(case.get("process_root", {}))
    return merged


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Tiny datasets, a grader cache prepared once for all cases, and a copy of the corpus (the
    huge file padded) in a folder of its own, so escape markers cannot land in the repository."""
    root = tmp_path_factory.mktemp("corpus-run")
    data = root / "tiny-data"
    write_tiny_dataset(data / "mnist", "mnist", seed=0, gz=False)
    write_tiny_dataset(data / "fashion_mnist", "fashion_mnist", seed=100, gz=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(GRADER_DATA_DIR=str(data), GRADER_CACHE_DIR=str(root / "cache"), GRADER_OFFLINE="1")
    # Served folders and TFDS copies once, rather than in the first case that needs them.
    subprocess.run(
        [sys.executable, "-m", "grader.datasets", "prepare"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    submissions = root / "submissions"
    shutil.copytree(CORPUS, submissions)
    for case in CASES:
        if case.get("pad_bytes"):
            with (submissions / case["file"]).open("a", encoding="utf-8") as handle:
                line = case.get("pad_line", "# " + "this line only pads the file " * 3) + "\n"
                handle.write(line * (int(case["pad_bytes"]) // len(line)))
    return {"root": root, "env": env, "submissions": submissions, "cache": root / "cache", "data": data}


def test_the_manifest_covers_the_corpus() -> None:
    files = {path.name for path in CORPUS.iterdir() if path.name != "manifest.toml"}
    listed = [case["file"] for case in CASES]
    assert len(listed) == len(set(listed)), "a file is listed twice"
    assert files == set(listed)
    assert set(SLOW_CASES) <= files
    assert len(CASES) >= 30
    for case in CASES:
        assert case.get("limit") in LIMITS | {None}, case["file"]
        assert case["exit"] in (0, 1, 2), case["file"]


SAMPLED_CASES = [pytest.param(case, marks=[pytest.mark.slow] if case["file"] in SLOW_CASES else []) for case in CASES]


@pytest.mark.parametrize("case", SAMPLED_CASES, ids=[case["file"] for case in CASES])
def test_corpus_case(case: dict[str, Any], corpus_run: dict[str, Any]) -> None:
    grade_case(case, corpus_run, ISOLATION)


@pytest.mark.slow  # a minute and a half more; CI runs it
@pytest.mark.skipif(ISOLATION == "process", reason="the corpus already ran with process isolation")
@pytest.mark.parametrize("case", PROCESS_CASES, ids=[case["file"] for case in PROCESS_CASES])
def test_corpus_case_with_process_isolation(case: dict[str, Any], corpus_run: dict[str, Any]) -> None:
    grade_case(case, corpus_run, "process")


def grade_case(case: dict[str, Any], corpus_run: dict[str, Any], isolation: str) -> None:
    if isolation == "process" and case.get("process_needs_root") and not AS_ROOT:
        pytest.skip("process isolation as an ordinary user cannot keep this code from the grader's processes")
    want = expected(case, isolation)
    exercise = case.get("exercise", DEFAULTS["exercise"])
    timeout = case.get("timeout", DEFAULTS["hang_timeout"] if case.get("hang") else DEFAULTS["timeout"])
    result_path = corpus_run["root"] / f"{case['file']}-{isolation}.json"
    argv = [
        sys.executable, "-m", "grader", exercise, str(corpus_run["submissions"] / case["file"]),
        "--timeout", str(timeout), "--json", str(result_path), "--no-report", "--quiet",
    ]  # fmt: skip
    if isolation != ISOLATION:
        argv += ["--sandbox", isolation]
    sentinel = _start_sentinel() if case.get("sentinel") else None
    started = time.monotonic()
    # The grader must end by itself: this outer limit only turns a hung grader into a failure.
    env = {**corpus_run["env"], **case.get("env", {})}
    try:
        done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout + 180)
    finally:
        if sentinel is not None:
            alive = sentinel.poll() is None
            sentinel.kill()
            sentinel.wait()
            assert alive, "a process outside the run (another student's) was killed"
    seconds = time.monotonic() - started
    output = done.stdout + done.stderr
    if "max_seconds" in want:
        assert seconds < want["max_seconds"], f"took {seconds:.1f} s"
    for fragment in want.get("not_in_output", []):
        assert fragment not in output, f"{fragment!r} reached the terminal"
    if case.get("daemon_marker"):
        _assert_no_process_with(case["daemon_marker"])
    if case.get("poisons_cache"):
        _assert_real_test_labels(corpus_run)
    assert "Traceback (most recent call last)" not in output, output[-3000:]
    assert "The grader itself failed" not in output, output[-3000:]
    assert done.returncode == want["exit"], output[-3000:]

    if want["exit"] == 2:
        for fragment in want.get("contains", []):
            assert fragment in done.stderr, done.stderr
        assert not result_path.exists()
        return

    result = json.loads(result_path.read_text(encoding="utf-8"))
    assert result["isolation"] == isolation
    assert result["passed"] == (want["exit"] == 0)
    assert result["score"] <= want["max_score"], _summary(result)
    assert result["score"] >= want.get("min_score", 0), _summary(result)
    # limit_also: a second limit that may stop the same run first (see the manifest's reason)
    allowed = {want.get("limit")} | ({want["limit_also"]} if "limit_also" in want else set())
    assert result["details"]["limit_hit"] in allowed, _summary(result)
    shown = "\n".join(f"{c['message']}\n{c['hint']}" for c in result["checks"] if c["status"] != "passed")
    for fragment in want.get("contains", []):
        assert fragment in shown, _summary(result)
    # Never a pass without the evidence: a check that could not be made gives nothing.
    for check in result["checks"]:
        if check["status"] in ("error", "skipped"):
            assert check["score"] == 0, check
    if case.get("escape_marker"):
        _assert_no_escape(case["escape_marker"], corpus_run, isolation)


def _assert_no_escape(marker: str, corpus_run: dict[str, Any], isolation: str) -> None:
    """With bubblewrap nothing the code wrote may appear outside its scratch folder; process
    isolation cannot promise that, so there the markers are only cleaned up."""
    places = [
        corpus_run["submissions"], corpus_run["cache"], corpus_run["data"], ROOT, ROOT / "grader",
        Path.home(), Path.home() / ".cache" / "exercise-grader", Path("/tmp"),
    ]  # fmt: skip
    places += [path.parent for path in corpus_run["cache"].glob("served/*/meta.json")]
    found = [place / marker for place in places if (place / marker).exists()]
    for path in found:
        path.unlink()
    if isolation == "bwrap":
        assert not found, f"the sandbox wrote outside its scratch folder: {found}"


def _start_sentinel() -> subprocess.Popen:
    """A process of the sandbox's user ("nobody" as root) outside the run, like another
    student's sandbox in the same batch: learner code must not be able to signal it."""
    user = {"user": 65534, "group": 65534, "extra_groups": []} if AS_ROOT else {}
    return subprocess.Popen(["sleep", "600"], cwd="/", **user)


def _assert_no_process_with(marker: str) -> None:
    """No process on the machine has ``marker`` in its command line (a second to settle)."""
    deadline = time.monotonic() + 2
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if marker.encode() in (entry / "cmdline").read_bytes():
                        found.append(int(entry.name))
                except OSError:
                    continue
        if not found or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for pid in found:  # never leave it running, even when the test fails
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    assert not found, f"a process left by the submission outlived the run: {found}"


def _assert_real_test_labels(corpus_run: dict[str, Any]) -> None:
    """Whatever the code did to the grader's cache, both datasets still load with their real
    test labels (the cached arrays are verified on every load)."""
    from grader.datasets import IDX_FILE_NAMES, idx_md5, read_idx

    code = (
        "import json\nfrom grader import datasets\n"
        "print(json.dumps({n: datasets.idx_md5(datasets.load_dataset(n).test_labels) for n in ('mnist', 'fashion_mnist')}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=corpus_run["env"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    for name, md5 in loaded.items():
        truth = next((corpus_run["data"] / name).glob(IDX_FILE_NAMES["test_labels"] + "*"))
        assert md5 == idx_md5(read_idx(truth)), f"{name}: the grader would score against changed test labels"


def _summary(result: dict[str, Any]) -> str:
    lines = [f"score {result['score']}, passed {result['passed']}, limit {result['details']['limit_hit']}"]
    lines += [
        f"  {c['id']}: {c['status']} {c['score']}/{c['max_score']}: {c['message']} | {c['hint']}"
        for c in result["checks"]
    ]
    return "\n".join(lines)
