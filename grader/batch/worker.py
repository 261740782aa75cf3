"""A local batch worker: ``python -m grader.batch.worker TASK.json OUTCOME.json``.

Each model submission of a local batch is graded in a fresh worker process, which starts the
sandbox child as ``grade`` does and runs the trusted evaluation itself. A worker of its own means
a crash or a hang in the grader's side of one submission (TensorFlow loading a strange model)
costs that student an error row, never the batch. The outcome file is written atomically.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m grader.batch.worker TASK.json OUTCOME.json", file=sys.stderr)
        return 2
    # SIGTERM (the batch stopping) becomes SystemExit, so the sandbox runner's cleanup kills
    # the child's process group instead of leaving it running.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    from grader.batch.cache import write_json_atomically
    from grader.batch.task import GradeTask, run_grade_task

    task = GradeTask.from_json(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    outcome = run_grade_task(task)
    write_json_atomically(Path(argv[1]), outcome)
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # The outcome is on disk; skip interpreter teardown, which TensorFlow can stretch to seconds.
    os._exit(code)
