"""A local batch worker: ``python -m grader.batch.worker TASK.json OUTCOME.json``.

Each model submission of a local batch is graded in a fresh worker process, which starts the
sandbox child as ``grade`` does and runs the trusted evaluation itself. A worker of its own means
a crash or a hang in the grader's side of one submission (TensorFlow loading a strange model)
costs that student an error row, never the batch. The outcome file is written atomically.

A worker never outlives its batch: it asks the kernel for SIGTERM when the batch process dies
(``PR_SET_PDEATHSIG``, Linux), turns SIGTERM into SystemExit so the sandbox runner's cleanup
kills the learner's process group, and removes its temporary folder (``TMPDIR``, made for it by
the batch) on every way out.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from grader.sandbox.scratch import remove_tree  # stdlib only; imported now, not while stopping

PR_SET_PDEATHSIG = 1
STOP_GRACE_S = 20.0  # after SIGTERM: time for the sandbox cleanup before the worker just exits


def die_with_batch() -> None:
    """SIGTERM when the batch dies (even by kill -9), and exit now if it is already gone."""
    expected = os.environ.get("GRADER_BATCH_PID")
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the batch's own cleanup still stops us
        pass
    if expected and str(os.getppid()) != expected:
        _leave(143)  # the batch died between starting us and the prctl


def _stop(signum: int, frame: object) -> None:
    # A watchdog: if the cleanup below hangs, leave anyway (after removing our folder).
    def leave_after_grace() -> None:
        time.sleep(STOP_GRACE_S)
        _leave(128 + signum)

    threading.Thread(target=leave_after_grace, daemon=True).start()
    sys.exit(128 + signum)


def _remove_own_tmp() -> None:
    tmp = os.environ.get("TMPDIR")
    if tmp and Path(tmp).name == "tmp" and os.environ.get("GRADER_BATCH_PID"):
        remove_tree(tmp)  # sandboxes' scratch folders may be below it: any depth


def _leave(code: int) -> None:
    _remove_own_tmp()
    os._exit(code)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m grader.batch.worker TASK.json OUTCOME.json", file=sys.stderr)
        return 2
    # SIGTERM (the batch stopping, or dying) becomes SystemExit, so the sandbox runner's cleanup
    # kills the child's process group instead of leaving it running.
    signal.signal(signal.SIGTERM, _stop)
    die_with_batch()

    from grader.batch.cache import write_json_atomically
    from grader.batch.task import GradeTask, run_grade_task
    from grader.messages import language_from_environment, set_language

    set_language(language_from_environment())  # `grade batch --lang` exports LANGUAGE to its workers
    task = GradeTask.from_json(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    outcome = run_grade_task(task)
    write_json_atomically(Path(argv[1]), outcome.to_json())
    return 0


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    sys.stdout.flush()
    sys.stderr.flush()
    # The outcome is on disk; skip interpreter teardown, which TensorFlow can stretch to seconds.
    _leave(code)
