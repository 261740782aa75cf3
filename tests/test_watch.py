"""Watch mode (``grade EXERCISE FILE --watch``, ``grader.watch``), for real: the command runs in a
subprocess on the tiny synthetic datasets, the test saves the file as an editor would, presses
``f`` (a line on its standard input) and ends it with SIGINT, as Ctrl-C does.

Five gradings (a TensorFlow start in the sandbox and one in the trusted process each), one of
them full, plus one quick grading on a pseudo-terminal for the single-key path: measured here
only while the machine was shared and heavily loaded (load average 15-30 on 2 cores): 5 min and
3 min; on a quiet machine each grading takes a few seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from test_quick import FASHION_SOURCE, variant

from grader.result import CheckResult, GradeResult
from grader.watch import WatchState, compact_view

READY = "Watching fashion_mnist.py"


def _result(**statuses: str) -> GradeResult:
    checks = [
        CheckResult(id=i, name=i, status=s, score=5.0 if s == "passed" else 0.0, max_score=5, message=f"{i} said")
        for i, s in statuses.items()
    ]  # type: ignore[arg-type]
    return GradeResult(exercise="fashion_mnist", submission="f.py", passed=None, score=0, max_score=10, pass_mark=8,
                       seed=1, grader_version="0", elapsed_s=1.0, checks=checks, mode="quick")  # fmt: skip


def test_changes_since_the_last_run() -> None:
    state = WatchState()
    first = _result(model_built="error", loss="passed")
    assert state.changes(first) == {}
    state.remember(first)
    second = _result(model_built="passed", loss="passed", training="skipped")
    assert state.changes(second) == {"model_built": "was error", "training": "new"}
    table = compact_view(second, state.changes(second), trigger="saved")
    assert [column.header for column in table.columns] == ["", "", "", ""] and table.row_count == 3


class _Output(threading.Thread):
    """Collects a stream's lines as they come."""

    def __init__(self, stream) -> None:
        super().__init__(daemon=True)
        self.stream, self.lines, self.lock = stream, [], threading.Lock()

    def run(self) -> None:
        for line in self.stream:
            with self.lock:
                self.lines.append(line)

    def text(self) -> str:
        with self.lock:
            return "".join(self.lines)

    def wait_for(self, fragment: str, count: int, timeout: float = 180) -> str:
        """Until ``fragment`` has appeared ``count`` times; returns the output so far."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if text.count(fragment) >= count:
                return text
            time.sleep(0.2)
        raise AssertionError(f"{fragment!r} did not appear {count} times in:\n{self.text()}")


def _sandbox_processes(marker: str) -> list[int]:
    """Processes whose command line mentions ``marker`` (the test's own temporary folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().decode(errors="ignore"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_watch_regrades_on_save_runs_full_on_f_and_stops_on_sigint(tiny_data_dir: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    scratch = tmp_path / "scratch"  # the sandboxes' scratch folders land here (TMPDIR)
    scratch.mkdir()
    path = work / "fashion_mnist.py"
    path.write_text(variant(('activation="softmax"', 'activation="softMax"')), encoding="utf-8")
    env = {**os.environ, "TMPDIR": str(scratch), "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-m", "grader", "fashion_mnist", str(path), "--watch", "--quiet", "--no-report"],
        cwd=work, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    out, err = _Output(process.stdout), _Output(process.stderr)
    out.start()
    err.start()
    try:
        first = out.wait_for(READY, 1)
        assert "quick preview (started)" in first and "softMax" in first

        # Save 1: the mistake fixed. The check that was an error now passes, and says it changed.
        path.write_text(FASHION_SOURCE, encoding="utf-8")
        second = out.wait_for(READY, 2)[len(first) :]
        assert "quick preview (saved)" in second
        assert "was error" in second, second
        assert "Preview:" in second and "test accuracy not measured" in second

        # Save 2: a new mistake. The output layer check goes from passed to failed.
        path.write_text(
            variant(('Dense(10, activation="softmax")', 'Dense(10, activation="sigmoid")')), encoding="utf-8"
        )
        so_far = out.wait_for(READY, 3)
        third = so_far[len(first) + len(second) :]
        assert "was passed" in third and "sigmoid" in third, third

        # f: a full grading on demand, with the verdict.
        assert process.stdin is not None
        process.stdin.write("f\n")
        process.stdin.flush()
        full = out.wait_for(READY, 4)[len(so_far) :]
        assert "full grading (f pressed)" in full and "Test accuracy: " in full and "PASSED" in full, full
        assert "Output layer" in full and "sigmoid" in full  # the full result, as `grade` shows it

        # Save 3, then Ctrl-C while that grading runs: a clean exit, and its sandbox is gone.
        path.write_text(FASHION_SOURCE + "\n# saved again\n", encoding="utf-8")
        out.wait_for("quick preview (saved)", 3)
        time.sleep(1.5)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    out.join(timeout=5)
    err.join(timeout=5)
    assert "Stopped watching fashion_mnist.py" in out.text()
    assert "Traceback" not in err.text() and "Traceback" not in out.text()
    time.sleep(0.5)
    assert _sandbox_processes(str(scratch)) == [], "a sandbox outlived watch mode"


def test_watch_on_a_terminal_reads_single_keys_and_restores_the_terminal(tiny_data_dir: Path, tmp_path: Path) -> None:
    """On a terminal (a pseudo-terminal here) a key works without Enter: `q` stops watching,
    and the terminal gets its echo back."""
    import pty
    import termios

    path = tmp_path / "fashion_mnist.py"
    path.write_text(FASHION_SOURCE, encoding="utf-8")
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "grader", "fashion_mnist", str(path), "--watch", "--quiet"],
        cwd=tmp_path, stdin=terminal, stdout=terminal, stderr=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    os.close(terminal)
    seen = b""
    try:
        deadline = time.monotonic() + 300
        while READY.encode() not in seen and time.monotonic() < deadline:
            try:
                seen += os.read(controller, 65536)
            except OSError:
                break
        assert READY.encode() in seen, seen[-2000:]
        echo_while_watching = termios.tcgetattr(controller)[3] & termios.ECHO
        os.write(controller, b"q")  # no Enter
        assert process.wait(timeout=60) == 0
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        restored = termios.tcgetattr(controller)[3] & termios.ECHO
        os.close(controller)
    assert b"Stopped watching fashion_mnist.py after 1 grading" in seen
    assert not echo_while_watching and restored  # cbreak while watching, echo back after
