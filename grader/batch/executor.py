"""Where the per-submission tasks run: here (``LocalExecutor``) or on a Dask cluster (``DaskExecutor``).

Both take a list of ``GradeTask`` and yield ``(task, TaskOutcome)`` pairs as tasks finish, in
whatever order they finish; the batch writes each result the moment it arrives. Neither raises
for one task's failure: a worker that crashes, hangs or is lost becomes an error outcome.

    with contextlib.closing(LocalExecutor(jobs=2).grade(tasks)) as finished:
        for task, outcome in finished:
            ...
"""

from __future__ import annotations

import collections
import contextvars
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Protocol

import grader
from grader.batch.task import GradeTask, TaskError, TaskOutcome, error_outcome, run_grade_task
from grader.errors import UsageError
from grader.messages import interface as msg
from grader.sandbox.limits import usable_cores
from grader.sandbox.scratch import remove_tree, scratch_folder

# Room beyond the learner's time limit for the grader's own work in a worker: loading the data,
# preparing TFDS once, the trusted evaluation, saving the result.
WORKER_GRACE_S = 300.0
# How long a Dask batch waits with no worker at all before the students still queued get error
# rows (a cluster restarting its workers comes back well within this).
CLUSTER_LOST_WAIT_S = 120.0
WORKER_DIR_PREFIX = "grade-worker-"
OWNER_FILE = "batch.pid"  # in each worker folder: "PID START" of the batch process that made it
WORKER_LOG_TAIL = 2000  # characters of a crashed worker's log kept in its error row
PACKAGE_ROOT = Path(grader.__file__).resolve().parent.parent


StartCallback = Callable[[GradeTask], None]


class Executor(Protocol):
    description: str
    on_start: StartCallback | None  # told when a task starts running (the live display)

    def grade(self, tasks: Sequence[GradeTask]) -> Generator[tuple[GradeTask, TaskOutcome], None, None]: ...

    def close(self) -> None: ...


def threads_per_sandbox(jobs: int, cores: int | None = None) -> int:
    """TensorFlow threads for each of ``jobs`` sandboxes running at once: the cores divided among
    them, so N sandboxes never ask for more threads than the machine has (oversubscribed
    TensorFlow thread pools make N = cores slower than N = 1)."""
    return max(1, (cores or usable_cores()) // max(1, jobs))


class WorkerFailed(Exception):
    """A local worker process died or hung: the grader's side failed, not the learner's code."""


class LocalExecutor:
    """Up to ``jobs`` tasks at once on this machine, each model submission in a fresh worker
    process (``python -m grader.batch.worker``). A quiz runs no learner code and takes
    milliseconds, so quiz tasks are graded in this process."""

    def __init__(self, jobs: int = 1, *, default_timeout_s: float = 900.0) -> None:
        if jobs < 1:
            raise UsageError("--jobs must be 1 or more.")
        self.jobs = jobs
        self.default_timeout_s = default_timeout_s  # for tasks that leave the limit to the exercise
        self.description = msg.local_jobs(jobs)
        self._workers: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.on_start: StartCallback | None = None

    def grade(self, tasks: Sequence[GradeTask]) -> Generator[tuple[GradeTask, TaskOutcome], None, None]:
        if not tasks:
            return
        self._stopping.clear()
        pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="grade-job")
        # Each job runs in a copy of this thread's context: the command's language (grader.messages)
        # reaches the quizzes graded in the pool's threads.
        futures = {pool.submit(contextvars.copy_context().run, self._run, task): task for task in tasks}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            # Reached on completion, and when the batch stops early (Ctrl-C, an error): running
            # workers are stopped so no sandbox outlives the batch.
            self._stopping.set()
            for future in futures:
                future.cancel()
            self._stop_workers()
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        self._stop_workers()

    def _run(self, task: GradeTask) -> TaskOutcome:
        if self._stopping.is_set():
            return error_outcome(WorkerFailed("the batch was stopped before this submission was graded"))
        if self.on_start is not None:
            self.on_start(task)
        if task.kind == "quiz":
            return run_grade_task(task)
        try:
            return self._run_in_worker(task)
        except WorkerFailed as exc:
            return TaskOutcome(error=TaskError("WorkerFailed", str(exc)))

    def _run_in_worker(self, task: GradeTask) -> TaskOutcome:
        limit_s = (task.timeout_s or self.default_timeout_s) + WORKER_GRACE_S
        # Not tempfile.TemporaryDirectory: the sandboxes below this folder hold whatever learner
        # code left (a tree 5,000 levels deep made its cleanup raise and end the whole batch).
        with scratch_folder(WORKER_DIR_PREFIX) as tmp:
            task_path, outcome_path, log_path = (
                Path(tmp) / name for name in ("task.json", "outcome.json", "worker.log")
            )
            task_path.write_text(json.dumps(task.to_json()), encoding="utf-8")
            # The batch that owns this folder: a later batch removes it if this one was killed.
            (Path(tmp) / OWNER_FILE).write_text(f"{os.getpid()} {process_start(os.getpid()) or ''}", encoding="ascii")
            # Everything the worker and its sandbox write goes below this folder (TMPDIR); the
            # worker removes it itself on every exit, SIGTERM from a dying batch included.
            worker_tmp = Path(tmp) / "tmp"
            worker_tmp.mkdir()
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH", "")]))
            env["TMPDIR"] = str(worker_tmp)
            env["GRADER_BATCH_PID"] = str(os.getpid())  # the worker dies with this process
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "grader.batch.worker", str(task_path), str(outcome_path)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                )  # fmt: skip
                with self._lock:
                    self._workers.add(process)
                try:
                    process.wait(timeout=limit_s)
                except subprocess.TimeoutExpired:
                    _stop(process)
                    raise WorkerFailed(
                        f"The grader's worker did not finish within {limit_s:g} s (the learner's time "
                        "limit plus room for evaluation) and was stopped."
                    ) from None
                finally:
                    with self._lock:
                        self._workers.discard(process)
            try:
                return TaskOutcome.from_json(json.loads(outcome_path.read_text(encoding="utf-8")))
            except (OSError, ValueError, RecursionError):  # none written, or not an outcome (pydantic: ValueErrors)
                pass
            if self._stopping.is_set():
                raise WorkerFailed("the batch was stopped while this submission was being graded")
            try:
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-WORKER_LOG_TAIL:].strip()
            except OSError:  # the folder went away with the worker's own cleanup
                tail = ""
            raise WorkerFailed(
                f"The grader's worker process ended with {_exit_text(process.returncode)} before it reported a result"
                + (f"; its last output:\n{tail}" if tail else ".")
            )

    def _stop_workers(self) -> None:
        with self._lock:
            workers = list(self._workers)
        for process in workers:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM first: the worker turns it into SystemExit, and the sandbox runner's cleanup kills
    the child's process group. SIGKILL if it does not go within seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _exit_text(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


class DaskExecutor:
    """Sends each task to an existing Dask distributed cluster. Every worker runs the sandbox on
    its own machine, with the grader, the exercises and the datasets installed there (checked per
    task against the batch's spec digest and dataset checksums). Submissions travel as bytes,
    so workers need no shared disk; results come back to this process, which writes every file."""

    def __init__(
        self,
        scheduler: str,
        *,
        connect_timeout_s: float = 30.0,
        lost_wait_s: float = CLUSTER_LOST_WAIT_S,
        poll_s: float = 0.5,
    ) -> None:
        self.lost_wait_s = lost_wait_s
        self.poll_s = poll_s
        self.on_start: StartCallback | None = None
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--executor dask needs Dask distributed: pip install 'exercise-grader[dask]'.") from None
        try:
            self.client = Client(scheduler, timeout=connect_timeout_s)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(f"Cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        workers = self._workers()
        self.description = msg.dask_cluster(scheduler, len(workers))

    def _workers(self) -> dict[str, dict[str, Any]]:
        return dict(self.client.scheduler_info(n_workers=-1).get("workers", {}))

    def threads_by_worker(self) -> dict[str, int]:
        """Each worker's share of its host's cores: several worker processes (or threads) on
        one host divide that host's cores, as ``--jobs`` does locally."""
        workers = self._workers()
        cores = self.client.run(usable_cores)
        slots: collections.Counter[str] = collections.Counter()
        for info in workers.values():
            slots[info.get("host", "")] += int(info.get("nthreads", 1))
        return {
            address: max(1, int(cores.get(address, 1)) // max(1, slots[info.get("host", "")]))
            for address, info in workers.items()
        }

    def grade(self, tasks: Sequence[GradeTask]) -> Generator[tuple[GradeTask, TaskOutcome], None, None]:
        if not tasks:
            return
        from distributed import as_completed as dask_as_completed

        threads = self.threads_by_worker()
        futures = {}
        for task in tasks:
            task.content = Path(task.submission).read_bytes()
            task.threads_by_worker = threads
            # A unique key: two batches grading the same bytes must not share a future that
            # reports the other batch's submission path.
            future = self.client.submit(
                run_grade_task, task, key=f"grade-{task.key[:16]}-{uuid.uuid4().hex[:8]}", pure=False
            )
            futures[future] = task
        pending = set(futures)
        finished = dask_as_completed(list(futures))
        no_workers_since: float | None = None
        try:
            while pending:
                batch = finished.next_batch(block=False)
                if not batch:
                    # Nothing finished: are there still machines to grade on? With none for
                    # lost_wait_s, the students still queued get error rows instead of a batch
                    # that waits forever.
                    if self._workers():
                        no_workers_since = None
                    elif no_workers_since is None:
                        no_workers_since = time.monotonic()
                    elif time.monotonic() - no_workers_since > self.lost_wait_s:
                        for future in sorted(pending, key=lambda f: futures[f].submission):
                            task = futures[future]
                            task.content = None
                            yield task, _cluster_lost_outcome(self.lost_wait_s)
                        pending.clear()
                        break
                    time.sleep(self.poll_s)
                    continue
                for future in batch:
                    if future not in pending:
                        continue
                    pending.discard(future)
                    task = futures[future]
                    try:
                        outcome = future.result()
                    except Exception as exc:  # noqa: BLE001 - a lost worker (KilledWorker) is one error row
                        message = (
                            "The grading machine running this submission was lost before it finished "
                            f"({type(exc).__name__}); run the batch again to grade it."
                        )
                        outcome = TaskOutcome(error=TaskError(type(exc).__name__, message))
                    task.content = None  # keep memory flat in large classes
                    yield task, outcome
        finally:
            self.client.cancel(list(futures))

    def close(self) -> None:
        self.client.close()


def _cluster_lost_outcome(waited_s: float) -> TaskOutcome:
    """What a student sees when no machine was left to grade them: no cluster jargon."""
    message = (
        f"This submission was not graded: every grading machine of the batch was gone for over {waited_s:g} s. "
        "Nothing is wrong with the submission; the instructor will grade it again."
    )
    return TaskOutcome(error=TaskError("GradingMachinesLost", message))


def remove_stale_worker_dirs(root: Path | None = None) -> int:
    """Worker folders left by a batch that was killed (its process is gone): removed. Returns
    how many. A folder of a batch that still runs is left alone."""
    root = Path(root or tempfile.gettempdir())
    removed = 0
    for folder in root.glob(f"{WORKER_DIR_PREFIX}*"):
        try:
            pid, _, started = (folder / OWNER_FILE).read_text(encoding="ascii").strip().partition(" ")
            owner = int(pid)
        except (OSError, ValueError):
            continue
        if owner != os.getpid() and not _is_running(owner, started or None):
            remove_tree(folder)  # sandboxes wrote below it: any depth (grader.sandbox.scratch)
            removed += 1
    return removed


def _is_running(pid: int, started: str | None) -> bool:
    """Whether the process that wrote an owner file still runs. A live pid with another start
    time is a later process that reuses the number. (Any program may run a batch, a test runner
    as well as ``grade``, so the command line tells nothing.) Without a start time to compare, a
    live pid counts as running: a folder is never taken from under a batch that still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    if started is None:
        return True
    now = process_start(pid)
    return now is None or now == started


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (the kernel's clock ticks since boot, ``/proc/PID/stat``
    field 22), which tells it from a later process with the same number; None off Linux or when
    there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # Field 2, the command name, may hold spaces and parentheses: count from the last ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None
