"""The sandbox and the whole pipeline on tiny synthetic data (real TensorFlow, tiny sets).

Most tests run learner code in a real child process, so each costs a few seconds (TensorFlow's
import in the child); the data are the tiny IDX files of the ``tiny_data_dir`` fixture. The
trust-boundary tests at the end (progress channel, environment, files read back, size caps, the
isolation decision, memory held outside processes) are pure and take milliseconds.
"""

from __future__ import annotations

import json
import os
import textwrap
import threading
import time
from pathlib import Path

import pytest

from grader.adapters import MAX_CODE_BYTES, SubmissionFormatError, SubmissionTooLargeError, check_submission_size
from grader.evidence import RunInfo
from grader.pipeline import GradeOptions, grade_submission
from grader.result import GradeResult
from grader.sandbox import cgroups, isolation
from grader.sandbox.limits import SandboxLimits, memfd_bytes
from grader.sandbox.runner import (
    MAX_PROGRESS_EVENTS,
    PASSED_ENVIRONMENT,
    OutputBudget,
    SandboxPlan,
    ScratchFileError,
    _ProgressReader,
    child_environment,
    open_scratch_file,
    progress_stages,
    read_evidence,
    validate_progress_event,
)
from grader.spec import load_exercise

CHAPTER_MODEL = """
import tensorflow as tf


def build_model():
    model = tf.keras.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(64, activation="{activation}"),
        tf.keras.layers.Dense(10, activation="{output}"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
{train_body}
"""

GOOD_TRAIN = "    return model.fit(train_images, train_labels, epochs=30, verbose=0)"


def write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def chapter_submission(
    tmp_path: Path, *, activation: str = "relu", output: str = "softmax", train_body: str = GOOD_TRAIN
) -> Path:
    source = CHAPTER_MODEL.format(activation=activation, output=output, train_body=train_body)
    return write(tmp_path, "fashion_mnist.py", source)


def grade(path: Path, exercise: str = "fashion_mnist", **options) -> GradeResult:
    return grade_submission(load_exercise(exercise), path, GradeOptions(**options))


def check(result: GradeResult, check_id: str):
    return next(c for c in result.checks if c.id == check_id)


def failed_text(result: GradeResult) -> str:
    """Every message and hint of the checks that did not pass, for assertions on wording."""
    return "\n".join(f"{c.message} {c.hint}" for c in result.checks if c.status != "passed")


def test_working_tiny_model_passes(tiny_data_dir: Path, tmp_path: Path) -> None:
    result = grade(chapter_submission(tmp_path))
    assert result.passed, failed_text(result)
    assert result.score == result.max_score
    assert result.metrics["test_accuracy"] >= 0.85
    assert result.metrics["epochs"] == 30
    assert result.seed == 42
    assert result.details["model"]["total_params"] == 50_890


@pytest.mark.parametrize(
    "train_body, fragment",
    [
        (  # a History edited before it is returned
            "    history = model.fit(train_images, train_labels, epochs=30, verbose=0)\n"
            "    history.history['loss'] = [value / 2 for value in history.history['loss']]\n"
            "    return history\n",
            "The History your code returned shows figures that no model.fit logged",
        ),
        (  # trained with SGD and no metrics; the compile settings then edited to the chapter's
            "    model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss='sparse_categorical_crossentropy')\n"
            "    history = model.fit(train_images, train_labels, epochs=30, verbose=0)\n"
            "    settings = getattr(model, '_compile' + '_config').config\n"
            "    settings['optimizer'], settings['metrics'] = 'adam', ['accuracy']\n"
            "    return history\n",
            "name the optimizer adam, but model.fit trained it with SGD",
        ),
        (  # weights set in a callback's on_train_end, after the last epoch ended
            "    class Swap(tf.keras.callbacks.Callback):\n"
            "        def on_train_end(self, logs=None):\n"
            "            self.model.set_weights([w * 1.01 for w in self.model.get_weights()])\n"
            "    return model.fit(train_images, train_labels, epochs=30, verbose=0, callbacks=[Swap()])\n",
            "were set as model.fit ended",
        ),
        (  # weights trained by another model set before each epoch; the graded model's own
            # fit (learning rate 1e-9) learns nothing
            "    helper = tf.keras.models.clone_model(model)\n"
            "    helper.compile(optimizer='adam', loss='sparse_categorical_crossentropy')\n"
            "    helper.fit(train_images, train_labels, epochs=30, verbose=0)\n"
            "    good = helper.get_weights()\n"
            "    class Reset(tf.keras.callbacks.Callback):\n"
            "        def on_epoch_begin(self, epoch, logs=None):\n"
            "            self.model.set_weights(good)\n"
            "    model.compile(optimizer=tf.keras.optimizers.Adam(1e-9), loss='sparse_categorical_crossentropy',\n"
            "                  metrics=['accuracy'])\n"
            "    return model.fit(train_images, train_labels, epochs=3, verbose=0, callbacks=[Reset()])\n",
            "less than a thousandth of their size",
        ),
    ],
    ids=["history", "compile_settings", "weights_set_as_fit_ended", "weights_set_between_epochs"],
)
def test_facts_edited_after_training_fail_the_integrity_check(
    train_body: str, fragment: str, tiny_data_dir: Path, tmp_path: Path
) -> None:
    result = grade(chapter_submission(tmp_path, train_body=train_body))
    assert not result.passed
    integrity = check(result, "integrity")
    assert integrity.status == "failed" and fragment in integrity.message, integrity.message


def test_stub_fails_naming_not_implemented(tiny_data_dir: Path) -> None:
    spec = load_exercise("fashion_mnist")
    result = grade_submission(spec, spec.stub_path)
    assert not result.passed
    assert result.score == 0
    assert "NotImplementedError" in failed_text(result)


def test_exception_in_train_reports_learner_line(tiny_data_dir: Path, tmp_path: Path) -> None:
    body = "    data = train_images * 2\n    raise RuntimeError('my own bug')\n"
    path = chapter_submission(tmp_path, train_body=body)
    result = grade(path)
    assert not result.passed
    error = result.details["errors"][0]
    assert error["step"] == "train" and error["type"] == "RuntimeError"
    line = path.read_text().splitlines().index("    raise RuntimeError('my own bug')") + 1
    assert error["frames"][-1]["line"] == line
    assert f"line {line}" in failed_text(result)
    assert result.metrics["test_accuracy"] is None


def test_timeout_is_reported_as_one(tiny_data_dir: Path, tmp_path: Path) -> None:
    # A sleeping hang, so the CPU is free for other tests (busy ones: the corpus' loop_in_*.py).
    path = chapter_submission(tmp_path, train_body="    import time\n    while True:\n        time.sleep(1)\n")
    result = grade(path, timeout_s=12)
    assert not result.passed
    assert result.details["limit_hit"] == "time"
    assert "time limit" in failed_text(result)
    # The model was built before the loop: its checks still count, the training ones cannot.
    assert check(result, "output_layer").status == "passed"


def test_wrong_case_activation_says_write_softmax(tiny_data_dir: Path, tmp_path: Path) -> None:
    result = grade(chapter_submission(tmp_path, output="softMax"))
    assert not result.passed
    assert '"softmax"' in failed_text(result)


def test_sys_exit_in_train_does_not_end_grading(tiny_data_dir: Path, tmp_path: Path) -> None:
    result = grade(chapter_submission(tmp_path, train_body="    import sys\n    sys.exit(3)\n"))
    assert not result.passed
    assert "sys.exit(3)" in failed_text(result)


def test_os_exit_in_train_is_a_failure_not_a_crash(tiny_data_dir: Path, tmp_path: Path) -> None:
    result = grade(chapter_submission(tmp_path, train_body="    import os\n    os._exit(0)\n"))
    assert not result.passed
    assert result.metrics["test_accuracy"] is None
    assert "train() did not finish" in failed_text(result)


def test_output_is_bounded(tiny_data_dir: Path, tmp_path: Path) -> None:
    body = "    for _ in range(200_000):\n        print('x' * 100)\n" + GOOD_TRAIN + "\n"
    result = grade(chapter_submission(tmp_path, train_body=body))
    assert len(result.details["output"]) <= 64 * 1024
    assert result.details["output_truncated_bytes"] > 19_000_000
    assert result.passed, failed_text(result)


def test_exercise4_functions_with_keras_loader(tiny_data_dir: Path, tmp_path: Path) -> None:
    """exercise4: the learner loads MNIST with tf.keras.datasets, served offline by the grader."""
    source = """
        import tensorflow as tf


        def load_data():
            (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
            return (x_train / 255.0, y_train), (x_test / 255.0, y_test)


        def build_model():
            model = tf.keras.Sequential([
                tf.keras.Input(shape=(28, 28)),
                tf.keras.layers.Flatten(),
                tf.keras.layers.Dense(128, activation="relu"),
                tf.keras.layers.Dense(10, activation="softmax"),
            ])
            model.compile(optimizer=tf.keras.optimizers.Adam(),
                          loss=tf.keras.losses.SparseCategoricalCrossentropy(),
                          metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])
            return model


        def train(model, train_images, train_labels):
            return model.fit(train_images, train_labels, epochs=30, verbose=0)
    """
    result = grade(write(tmp_path, "exercise4.py", source), exercise="exercise4")
    assert result.passed, failed_text(result)
    assert result.score == result.max_score


# =============================================================================================
# The sandbox's trust boundary, pure and fast (no TensorFlow): the progress channel, the
# environment, files read back from the sandbox, submission size caps, the isolation decision.
# =============================================================================================

VALID_EVENTS = [
    {"event": "stage", "stage": "train"},
    {"event": "stage", "stage": "solution_model()"},
    {"event": "fit", "epochs": 5, "samples": 60000},
    {"event": "fit", "epochs": None, "samples": None},
    {"event": "epoch", "epoch": 1, "epochs": 5, "logs": {"loss": 0.5, "accuracy": 0.8, "val_loss": float("nan")}},
    {"event": "done"},
]
FORGED_EVENTS = [
    {"event": "stage", "stage": "\x1b[2K\u2714 every check passed"},  # not a stage the child announces
    {"event": "stage", "stage": "Score 100/100 PASSED"},
    {"event": "stage", "stage": "train", "verdict": "PASSED"},  # an extra field
    {"event": "epoch", "epoch": 1, "epochs": 5, "logs": {"accuracy\x1b]0;title\x07": 1.0}},  # escape in a name
    {"event": "epoch", "epoch": 1, "epochs": 5, "logs": {"loss": "\x1b]52;c;Zm9v\x07"}},  # a string for a number
    {"event": "epoch", "epoch": True, "epochs": 5, "logs": {}},  # a bool is not a count
    {"event": "epoch", "epoch": -1, "epochs": 5, "logs": {}},
    {"event": "epoch", "epoch": 1, "epochs": 5},  # logs missing
    {"event": "epoch", "epoch": 1, "epochs": 5, "logs": {f"m{i}": 1.0 for i in range(40)}},  # too many metrics
    {"event": "fit", "epochs": 10**12, "samples": 1},
    {"event": "done", "score": 100},
    {"event": "verdict", "passed": True},
    ["event", "stage"],
    "done",
]


def test_progress_events_of_the_child_are_accepted_as_they_are() -> None:
    stages = progress_stages(SandboxPlan(submission=Path("x.py"), functions={"build_model": [], "train": []}, seed=1))
    for event in VALID_EVENTS:
        clean = validate_progress_event(event, stages)
        assert clean is not None, event
        assert set(clean) == set(event)


@pytest.mark.parametrize("event", FORGED_EVENTS, ids=range(len(FORGED_EVENTS)))
def test_anything_else_on_the_progress_channel_is_rejected(event: object) -> None:
    assert (
        validate_progress_event(event, progress_stages(SandboxPlan(submission=Path("x.py"), functions={}, seed=1)))
        is None
    )


def read_progress(lines: list[bytes], limit: int | None = None) -> tuple[list[dict], _ProgressReader]:
    """Feed ``lines`` through a real pipe to the reader the runner uses; return what it passed on."""
    read_end, write_end = os.pipe()
    seen: list[dict] = []
    reader = _ProgressReader(read_end, seen.append, OutputBudget(limit))
    reader.start()
    writer = threading.Thread(target=lambda: [os.write(write_end, line) for line in lines])
    writer.start()
    writer.join()
    os.close(write_end)
    reader.join(timeout=30)
    assert not reader.is_alive()
    return seen, reader


def test_the_progress_reader_passes_on_only_valid_events_and_counts_the_rest() -> None:
    lines = [json.dumps(e).encode() + b"\n" for e in [*VALID_EVENTS, *FORGED_EVENTS]]
    lines += [b"\x1b[2J\x1b[H\xe2\x9c\x94 every check passed\n", b"not json\n", b"{" * 10_000 + b"\n"]
    seen, reader = read_progress(lines)
    assert [event["event"] for event in seen] == [event["event"] for event in VALID_EVENTS[:1] + VALID_EVENTS[2:]]
    assert reader.rejected == len(FORGED_EVENTS) + 4  # the stage "solution_model()" is not this plan's
    assert reader.budget.total == sum(len(line) for line in lines)


def test_a_progress_flood_counts_against_the_output_limit_and_is_not_all_shown() -> None:
    line = json.dumps({"event": "epoch", "epoch": 1, "epochs": 1, "logs": {"loss": 0.1}}).encode() + b"\n"
    started = time.monotonic()
    seen, reader = read_progress([line * 1000] * 200, limit=4 * 1024 * 1024)  # 200,000 lines
    assert time.monotonic() - started < 20
    assert len(seen) == MAX_PROGRESS_EVENTS
    assert reader.budget.exceeded.is_set() and reader.budget.total == len(line) * 200_000


def test_learner_code_gets_an_allow_list_of_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "TF_VAR_db_password": "s1", "TF_TOKEN_app_terraform_io": "s2", "AWS_SECRET_ACCESS_KEY": "s3",
        "GITHUB_TOKEN": "s4", "GRADER_CACHE_DIR": "/somewhere", "TF_SOMETHING_ELSE": "s5",
    }  # fmt: skip
    for key, value in {**secrets, "LANG": "C.UTF-8", "TF_ENABLE_ONEDNN_OPTS": "0", "OMP_NUM_THREADS": "2"}.items():
        monkeypatch.setenv(key, value)
    env = child_environment(SandboxPlan(submission=Path("x.py"), functions={}, seed=3), Path("/scratch"))
    assert not set(secrets) & set(env)
    assert env["LANG"] == "C.UTF-8" and env["TF_ENABLE_ONEDNN_OPTS"] == "0" and env["OMP_NUM_THREADS"] == "2"
    assert all(key in PASSED_ENVIRONMENT or key in {
        "PYTHONHASHSEED", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "TF_CPP_MIN_LOG_LEVEL",
        "CUDA_VISIBLE_DEVICES", "MPLBACKEND", "HOME", "TMPDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
    } for key in env)  # fmt: skip


def test_a_fifo_in_place_of_a_scratch_file_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "evidence.json"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(ScratchFileError, match="not a regular file"):
        open_scratch_file(fifo, 1024)
    assert time.monotonic() - started < 1  # opening a FIFO without O_NONBLOCK waits for a writer forever
    evidence = read_evidence(
        fifo, SandboxPlan(submission=Path("x.py"), functions={}, seed=1), RunInfo(returncode=0), SandboxLimits()
    )
    step = evidence.steps["import"]
    assert step.status == "exception" and "record of the run could not be read" in step.exception.message
    assert any("replaced the grader's record" in item for item in evidence.tampering)


def test_links_and_oversized_scratch_files_are_refused(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    target.write_text("x" * 100)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(ScratchFileError, match="symbolic link"):
        open_scratch_file(link, 1024)
    with pytest.raises(ScratchFileError, match="larger than"):
        open_scratch_file(target, 10)
    os.close(open_scratch_file(target, 100))  # a regular file within its bound opens


def test_submissions_over_their_size_cap_are_refused_before_parsing(tmp_path: Path) -> None:
    huge = tmp_path / "solution.py"
    huge.write_text("a=1\n" * (MAX_CODE_BYTES // 4 + 1))
    started = time.monotonic()
    with pytest.raises(SubmissionTooLargeError, match="more than the 256 KB the grader reads for a Python file"):
        check_submission_size(huge)
    assert time.monotonic() - started < 1
    fifo = tmp_path / "fifo.py"
    os.mkfifo(fifo)
    with pytest.raises(SubmissionFormatError, match="not a regular file"):
        check_submission_size(fifo)
    fine = tmp_path / "fine.py"
    fine.write_text("a = 1\n")
    assert check_submission_size(fine) == 6


def test_a_notebook_with_too_much_code_is_refused(tmp_path: Path) -> None:
    from grader.adapters import plan_submission

    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "a=1\n" * 40_000}
    notebook = {"cells": [cell, cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "big.ipynb"
    path.write_text(json.dumps(notebook))
    started = time.monotonic()
    with pytest.raises(SubmissionTooLargeError, match="of code, more than the 256 KB"):
        plan_submission(load_exercise("fashion_mnist"), path)
    # Refused before its lines are turned into Python one by one (seconds for 80,000 lines).
    assert time.monotonic() - started < 5


def test_unattended_runs_never_fall_back_to_process_isolation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        isolation, "bwrap_problem", lambda: "bubblewrap is not installed (Debian: apt-get install bubblewrap)"
    )
    with pytest.raises(isolation.IsolationUnavailableError) as caught:
        isolation.isolation_for_unattended_run("auto", "grade batch")
    message = str(caught.value)
    assert message.startswith("grade batch needs bubblewrap") and "--sandbox process" in message
    assert message.count(". ") == 0 and message.endswith(".")  # one sentence
    assert isolation.isolation_for_unattended_run("process", "grade batch") == "process"
    monkeypatch.setattr(isolation, "bwrap_problem", lambda: None)
    assert isolation.isolation_for_unattended_run("auto", "grade validate") == "bwrap"


def test_cgroups_are_not_used_where_the_machine_has_no_cgroup_v2(tmp_path: Path) -> None:
    cgroups.problem.cache_clear()
    try:
        assert "no cgroup v2 hierarchy" in (cgroups.problem(tmp_path) or "")
        assert cgroups.RunCgroup.create(SandboxLimits(), root=tmp_path) is None
    finally:
        cgroups.problem.cache_clear()


@pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="memfd_create is Linux-only")
def test_memory_held_in_memfd_files_is_counted() -> None:
    import mmap

    before = memfd_bytes([os.getpid()])
    fd = os.memfd_create("held")
    try:
        os.write(fd, b"\1" * (8 * 1024 * 1024))
        assert memfd_bytes([os.getpid()]) - before >= 8 * 1024 * 1024
        # Once mapped its pages show in the resident size instead: not counted twice.
        with mmap.mmap(fd, 8 * 1024 * 1024) as mapped:
            mapped[0]
            assert memfd_bytes([os.getpid()]) - before < 1024 * 1024
    finally:
        os.close(fd)


def test_a_terminated_grader_stops_its_sandbox_and_leaves_no_scratch_folder(
    tiny_data_dir: Path, tmp_path: Path
) -> None:
    # A closed terminal or a scheduler stopping the grader: like Ctrl-C, it ends with exit 2,
    # every process of the learner's run stopped and the scratch folder (a copy of the
    # learner's code, a trained model) removed.
    import signal
    import subprocess
    import sys

    path = chapter_submission(tmp_path, train_body="    import time\n    while True:\n        time.sleep(1)\n")
    scratch_parent = tmp_path / "tmp"
    scratch_parent.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch_parent)}
    argv = [sys.executable, "-m", "grader", "exercise4", str(path), "--quiet", "--no-report", "--timeout", "300"]
    grader = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # Wait for the learner's loop: the sandbox's copy of the submission exists.
        deadline = time.monotonic() + 120
        while not list(scratch_parent.glob("grade-*/*/*.py")):
            assert grader.poll() is None, grader.communicate()[0]
            assert time.monotonic() < deadline, "the sandbox never started"
            time.sleep(0.2)
        time.sleep(2)  # into train()'s loop
        grader.send_signal(signal.SIGTERM)
        output, _ = grader.communicate(timeout=60)
    finally:
        grader.kill()
    assert grader.returncode == 2, output
    assert "interrupted" in output.lower(), output
    assert "Traceback" not in output, output
    assert list(scratch_parent.iterdir()) == [], sorted(p.name for p in scratch_parent.iterdir())
    # Nothing of the run is left: no process still runs the learner's copy.
    leftovers = subprocess.run(["pgrep", "-f", str(scratch_parent)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", leftovers.stdout
