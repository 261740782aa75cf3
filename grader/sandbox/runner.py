"""The parent side of the sandbox: start the child, enforce limits, collect the evidence.

The child (``grader.sandbox.child``) writes its evidence to a file in a scratch folder after
every step. Whatever happens to it (an exception, ``os._exit``, a limit, a crash), this side
reads what was recorded, adds how the child ended, and turns a step left in flight into an
exception with the reason, so the judges always get evidence and never a hole.

The processes, from the grader down (``grader.sandbox.isolation`` has the why of each):

    bubblewrap:  grader -> bwrap -> bwrap's init (PID 1 of the sandbox) -> limits wrapper,
                 which sets the kernel limits and becomes (exec) -> the child
    process:     grader -> guard (``grader.sandbox.limits --guard``: sets the limits, stays
                 the child's parent and subreaper) -> the child

Either way the learner's ``os.getppid()`` is not the grader. While the child runs, this side
watches the wall clock, the output, and (``grader.sandbox.limits.TreeWatch``) the memory, the
processes and the disk use of everything under it; on a limit it kills the whole tree and
records which limit it was.
"""

from __future__ import annotations

import ast
import errno
import json
import os
import re
import select
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.evidence import ExceptionInfo, RunInfo, SandboxEvidence, StepResult, from_json
from grader.messages import sandbox as say_sandbox
from grader.sandbox.cgroups import RunCgroup
from grader.sandbox.isolation import (
    BwrapLayout,
    IsolationUnavailableError,
    bwrap_command,
    choose_isolation,
    python_dirs,
    sandbox_user,
)
from grader.sandbox.limits import (
    POLL_S,
    SETUP_FAILED,
    SETUP_FAILED_PREFIX,
    SandboxLimits,
    SandboxUser,
    TreeWatch,
    kill_tree,
    limit_of_signal,
    wrapper_command,
)
from grader.sandbox.plan import ChildPlan, StyleInstructions, TrialFit
from grader.sandbox.scratch import RecordTooDeepError, load_record, remove_tree

ProgressCallback = Callable[[dict[str, Any]], None]

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = PACKAGE_ROOT / "grader"

MAX_EVIDENCE_BYTES = 16 * 1024 * 1024  # a real record is kilobytes; a bigger one is not read
MAX_PROGRESS_LINE = 64 * 1024
# A saved model is tested in the grader's own process: its unpacked size is checked first, so
# a crafted archive cannot fill the grader's memory.
MAX_MODEL_UNPACKED_BYTES = 2 * 1024**3
MAX_MODEL_FILE_BYTES = 1024**3  # above the sandbox's own file-size limit: only a swapped file is bigger


@dataclass
class SandboxPlan:
    """What to run: everything the child needs, and nothing it must not see."""

    submission: Path
    functions: dict[str, list[str]]  # name -> parameter names, in call order
    seed: int
    dataset: str | None = None
    served: dict[str, Path] = field(default_factory=dict)  # dataset -> folder with the train split only
    tfds_dir: Path | None = None
    train_data: str = "grader"  # "grader" or "load_data"
    style: str = "module"
    # How to run this style (grader.adapters.SubmissionPlan.child_instructions).
    adapter: StyleInstructions = field(default_factory=StyleInstructions)
    threads: int | None = None
    # Quick mode (``grade --quick``, grader.quick.QuickTrial): every model.fit becomes a trial
    # fit on a small slice. None: a full grading.
    quick: TrialFit | None = None


@dataclass
class SandboxOutcome:
    evidence: SandboxEvidence
    scratch: Path  # the child's scratch folder (holds model.keras); the caller removes it
    model_path: Path | None


class OutputBudget:
    """Bytes learner code has written to the grader, over every channel (stdout, stderr and the
    progress pipe) together: ``exceeded`` is set once more than ``limit`` came through, which is
    the output limit. Thread-safe: each channel has its reader thread."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.total = 0
        self.exceeded = threading.Event()
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        with self._lock:
            self.total += count
            if self.limit is not None and self.total > self.limit:
                self.exceeded.set()


class _BoundedReader(threading.Thread):
    """Drains a pipe so the child never blocks on a full pipe, keeping only the first bytes.

    Every byte counts against ``budget`` (the output limit). Draining goes on (and discards)
    until the child is killed, so it never blocks on a full pipe.
    """

    def __init__(self, stream: Any, limit: int, budget: OutputBudget) -> None:
        super().__init__(daemon=True)
        self.stream, self.limit, self.budget = stream, limit, budget
        self.kept = bytearray()
        self.dropped = 0

    @property
    def exceeded(self) -> threading.Event:
        return self.budget.exceeded

    def run(self) -> None:
        while chunk := self.stream.read1(65536) if hasattr(self.stream, "read1") else self.stream.read(65536):
            room = self.limit - len(self.kept)
            self.kept += chunk[: max(room, 0)]
            self.dropped += max(len(chunk) - max(room, 0), 0)
            self.budget.add(len(chunk))


# --- the progress channel ------------------------------------------------------------------------
#
# The child streams JSON lines through a pipe of its own. Learner code runs in that process and
# can write to the pipe too, so what arrives is data to check, not instructions: only the four
# event types below, with exactly their typed fields, are passed on; anything else is dropped.
# Strings in accepted events are names from a fixed set (stages) or short identifiers (metric
# names), and the display strips control characters once more before printing.

MAX_PROGRESS_LINE = 4096  # a real event is a few hundred bytes
MAX_PROGRESS_EVENTS = 2000  # events passed on per run (epochs of every fit call, stages)
MAX_LOG_KEYS = 32
MAX_COUNT = 10_000_000  # epochs, samples: larger is not a real run
_METRIC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]{0,63}")
_FUNCTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

# Stages the child announces besides the exercise's functions and "name()" labels.
PROGRESS_STAGES: frozenset[str] = frozenset({
    "tensorflow", "import", "build_model", "train", "finish", "script", "notebook", "saved_model",
})  # fmt: skip


def progress_stages(plan: SandboxPlan) -> frozenset[str]:
    """Every stage name the child may announce for ``plan``."""
    names = {name for name in [*plan.functions, plan.adapter.function or "solution_model"]
             if _FUNCTION_NAME.fullmatch(name)}  # fmt: skip
    return PROGRESS_STAGES | names | {f"{name}()" for name in names}


def _count(value: Any, *, optional: bool = False) -> int | bool | None:
    """A non-negative int field, None when allowed; ``False`` marks an invalid value."""
    if value is None and optional:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT:
        return value
    return False


def validate_progress_event(event: Any, stages: frozenset[str] = PROGRESS_STAGES) -> dict[str, Any] | None:
    """The event as the display may use it, or None when it is not one the child sends.

    Accepted, with exactly these fields (a missing or extra field rejects the event):

        {"event": "stage", "stage": <one of ``stages``>}
        {"event": "fit", "epochs": <int or null>, "samples": <int or null>}
        {"event": "epoch", "epoch": <int>, "epochs": <int>, "logs": {<metric name>: <number>}}
        {"event": "done"}
    """
    if not isinstance(event, dict):
        return None
    kind = event.get("event")
    if kind == "stage":
        stage = event.get("stage")
        if set(event) != {"event", "stage"} or not isinstance(stage, str) or stage not in stages:
            return None
        return {"event": "stage", "stage": stage}
    if kind == "fit":
        if set(event) != {"event", "epochs", "samples"}:
            return None
        epochs, samples = _count(event["epochs"], optional=True), _count(event["samples"], optional=True)
        if epochs is False or samples is False:
            return None
        return {"event": "fit", "epochs": epochs, "samples": samples}
    if kind == "epoch":
        if set(event) != {"event", "epoch", "epochs", "logs"}:
            return None
        epoch, epochs, logs = _count(event["epoch"]), _count(event["epochs"]), event["logs"]
        if epoch is False or epochs is False or not isinstance(logs, dict) or len(logs) > MAX_LOG_KEYS:
            return None
        clean: dict[str, float] = {}
        for key, value in logs.items():
            if not isinstance(key, str) or not _METRIC_NAME.fullmatch(key):
                return None
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return None
            clean[key] = float(value)
        return {"event": "epoch", "epoch": epoch, "epochs": epochs, "logs": clean}
    if kind == "done":
        return {"event": "done"} if set(event) == {"event"} else None
    return None


class _ProgressReader(threading.Thread):
    """Reads the child's JSON-lines progress pipe and hands each valid event to the callback.

    Bounded: every byte counts against the output limit (``budget``), a line longer than
    ``MAX_PROGRESS_LINE`` is skipped, and at most ``MAX_PROGRESS_EVENTS`` events are passed on.
    ``rejected`` counts lines that were not a valid event (learner code writing to the pipe).
    """

    def __init__(
        self,
        fd: int,
        callback: ProgressCallback | None,
        budget: OutputBudget | None = None,
        stages: frozenset[str] = PROGRESS_STAGES,
    ) -> None:
        super().__init__(daemon=True)
        self.file = os.fdopen(fd, "rb")
        self.callback = callback
        self.budget = budget or OutputBudget(None)
        self.stages = stages
        self.passed_on = 0
        self.rejected = 0

    def run(self) -> None:
        while line := self.file.readline(MAX_PROGRESS_LINE):
            self.budget.add(len(line))
            if not line.endswith(b"\n"):
                # The rest of an overlong line: counted and skipped.
                while (rest := self.file.readline(MAX_PROGRESS_LINE)) and not rest.endswith(b"\n"):
                    self.budget.add(len(rest))
                self.budget.add(len(rest))
                self.rejected += 1
                continue
            try:
                event = validate_progress_event(json.loads(line), self.stages)
            except (ValueError, RecursionError):
                event = None
            if event is None:
                self.rejected += 1
                continue
            if self.callback is None or self.passed_on >= MAX_PROGRESS_EVENTS:
                continue
            self.passed_on += 1
            try:
                self.callback(event)
            except Exception:  # noqa: BLE001 - a display problem must not stop grading
                pass


def run_in_sandbox(
    plan: SandboxPlan,
    limits: SandboxLimits,
    on_progress: ProgressCallback | None = None,
    *,
    isolation: str = "auto",
    hidden: Iterable[Path] = (),
) -> SandboxOutcome:
    """Run the plan's learner code in the sandbox and return what it recorded.

    ``isolation``: "auto" (bubblewrap when it works here, else process isolation, with a note),
    "bwrap" (an ``IsolationUnavailableError`` when it does not work) or "process".
    ``hidden``: folders the learner must not see besides the known dataset locations (for
    example the ``--data-dir`` the test split came from).
    """
    choice = choose_isolation(isolation)
    scratch = Path(tempfile.mkdtemp(prefix="grade-"))
    work = scratch / "work"
    home = scratch / "home"  # HOME, so libraries' caches and config land in the scratch folder
    for folder in (work, home, scratch / "tmp"):
        folder.mkdir()
    submission = work / plan.submission.name
    shutil.copyfile(plan.submission, submission)
    evidence_path = scratch / "evidence.json"
    model_path = scratch / "model.keras"

    progress_r, progress_w = os.pipe()
    child_plan = ChildPlan(
        submission=str(submission),
        display_name=plan.submission.name,
        functions=plan.functions,
        seed=plan.seed,
        evidence_path=str(evidence_path),
        model_path=str(model_path),
        dataset=plan.dataset,
        served={name: str(path) for name, path in plan.served.items()},
        tfds_dir=str(plan.tfds_dir) if plan.tfds_dir else None,
        train_data=plan.train_data,
        style=plan.style,
        adapter=plan.adapter,
        threads=plan.threads,
        quick=plan.quick,
        progress_fd=progress_w,
    )
    plan_path = scratch / "plan.json"
    child_plan.write(plan_path)

    child = [sys.executable, "-m", "grader.sandbox.child", str(plan_path)]
    budget = OutputBudget(limits.output_limit_bytes)
    progress = _ProgressReader(progress_r, on_progress, budget, progress_stages(plan))
    progress.start()
    try:
        raw = run_command(
            child,
            scratch=scratch,
            limits=limits,
            isolation=choice.kind,
            env=child_environment(plan, scratch),
            readable=[*plan.served.values(), *([plan.tfds_dir] if plan.tfds_dir else [])],
            hidden=hidden_data_locations(hidden),
            pass_fds=(progress_w,),
            output_budget=budget,
        )
    except BaseException:
        # Interrupted (Ctrl-C, the grader being terminated): run_command has stopped every
        # process of the run; nobody will read its scratch folder, which holds the learner's
        # copy and a trained model (and whatever tree learner code built: ``remove_tree``).
        remove_tree(scratch)
        raise
    finally:
        os.close(progress_w)
    progress.join(timeout=5)

    run = RunInfo(
        returncode=raw.returncode,
        limit_hit=raw.limit_hit,
        wall_seconds=raw.wall_seconds,
        output=strip_runtime_noise(raw.output.decode("utf-8", errors="replace")),
        output_truncated_bytes=raw.output_dropped,
        isolation=choice.kind,
        limits=limits.describe(),
        peak_memory_bytes=raw.peak_memory,
        peak_processes=raw.peak_processes,
        enforced_by=raw.enforced_by,
    )
    try:
        evidence = read_evidence(evidence_path, plan, run, limits, scratch_work=work)
    except BaseException:
        remove_tree(scratch)  # the caller gets no outcome, so no scratch folder to remove
        raise
    if choice.note:
        evidence.notes.append(choice.note)
    evidence.tampering += find_tampering(submission_sources(plan))
    if progress.rejected:
        # Only learner code writes anything else into the progress pipe: forged epoch lines,
        # "every check passed", escape sequences. None of it was shown.
        evidence.tampering.append(say_sandbox.tampering("forged_progress", count=progress.rejected))
    has_model = evidence.model_file is not None and _model_file_problem(model_path) is None
    if evidence.model_file is not None and not has_model:
        evidence.model_save_error = _model_file_problem(model_path)
    return SandboxOutcome(evidence=evidence, scratch=scratch, model_path=model_path if has_model else None)


@dataclass
class RawRun:
    """How a command in the sandbox ended, before anything is read from its scratch folder."""

    returncode: int | None
    limit_hit: str | None
    wall_seconds: float
    output: bytes  # the first ``limits.output_bytes`` of stdout and stderr together
    output_dropped: int
    peak_memory: int
    peak_processes: int
    enforced_by: list[str] = field(default_factory=list)  # what kept the limits (``enforcement``)


def run_command(
    command: Sequence[str],
    *,
    scratch: Path,
    limits: SandboxLimits,
    isolation: str,
    env: dict[str, str],
    readable: Iterable[Path] = (),
    hidden: Iterable[Path] = (),
    pass_fds: Sequence[int] = (),
    output_budget: OutputBudget | None = None,
) -> RawRun:
    """Run ``command`` in the sandbox, in ``scratch / "work"``, within ``limits``.

    ``isolation`` is "bwrap" or "process" (``choose_isolation`` decides). Under bubblewrap the
    command sees the system, Python, the grader package, ``readable`` (read-only) and
    ``scratch`` (read-write), and nothing of ``hidden``. Whatever happens, every process it
    started is gone when this returns.
    """
    work = scratch / "work"
    user = sandbox_user()  # "nobody" when the grader runs as root, in every isolation
    if user is not None:
        hand_over(scratch, user)
    if isolation == "bwrap":
        layout = BwrapLayout(
            scratch=scratch, workdir=work, readable=list(readable), hidden=list(hidden),
            tmp_bytes=limits.tmp_bytes, shm_bytes=limits.shm_bytes,
        )  # fmt: skip
        # RLIMIT_NPROC counts per user: inside bubblewrap's own user namespace only this sandbox's
        # tasks; as "nobody" without one, every task of "nobody" on the machine together (all
        # sandboxes and evaluations of a batch --jobs run, other graders). A shared limit lets one
        # run's fork bomb (or many runs at once) stop TensorFlow starting its threads in another
        # student's run, which then fails through no fault of its own (seen under a loaded CI run:
        # a saved model graded 0). So it is not set there, as for process isolation: the
        # watchdog counts this run's own processes.
        nproc = limits.tasks if user is None else False
        wrapper = wrapper_command(limits, command, guard=False, nproc=nproc, user=user)
        argv = bwrap_command(layout, wrapper, PACKAGE_DIR)
    else:
        argv = wrapper_command(
            limits, command, guard=True, nproc=False, user=user,
            readable=[*python_dirs(), PACKAGE_DIR, *readable], writable=[scratch], hidden=list(hidden),
        )  # fmt: skip

    started = time.monotonic()
    process = subprocess.Popen(
        argv,
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=tuple(pass_fds),
        start_new_session=True,  # its own session and process group, away from the grader's
    )
    # Output counts against the output limit together with whatever else the caller counts
    # (the progress pipe).
    budget = output_budget or OutputBudget(limits.output_limit_bytes)
    # A cgroup of its own where the machine allows one (grader.sandbox.cgroups): the kernel then
    # enforces memory and tasks, whatever form the memory takes. The wrapper is moved in before
    # it has finished starting Python, long before learner code runs.
    cgroup = RunCgroup.create(limits)
    if cgroup is not None and not cgroup.add(process.pid):
        cgroup.close()
        cgroup = None
    output = _BoundedReader(process.stdout, limits.output_bytes, budget)
    output.start()
    # The sandbox's /tmp and /dev/shm are its own under bubblewrap and, as root, in process
    # isolation too: what is stored there is memory the run uses.
    watch = TreeWatch(process.pid, limits, scratch, private_tmpfs=isolation == "bwrap" or user is not None)
    limit_hit: str | None = None
    try:
        limit_hit = _watch(process, limits, output, watch, started)
    finally:
        # The child is not reaped yet (see _watch), so its process ID and group cannot have been
        # reused by an unrelated process while we kill whatever is left under it.
        kill_tree(process.pid)
        if cgroup is not None:
            limit_hit = limit_hit or cgroup.limit_hit()
            peak_in_cgroup = cgroup.peak_memory()
            if peak_in_cgroup is not None:
                watch.peak_memory = max(watch.peak_memory, peak_in_cgroup)
            cgroup.close()  # kills anything that left the tree
        _reap(process)
    output.join(timeout=5)
    returncode = process.returncode
    if returncode == SETUP_FAILED and limit_hit is None and not (scratch / "evidence.json").exists():
        # (The child writes its evidence before any learner code runs: with it there, this
        # exit code and message are the learner's, and are graded as such.)
        first_line = bytes(output.kept[:2000]).decode("utf-8", "replace").partition("\n")[0]
        if first_line.startswith(SETUP_FAILED_PREFIX):
            # The wrapper could not build the sandbox (no namespaces, no user to drop to): the
            # grader's problem, never a silent run with less isolation.
            raise IsolationUnavailableError(
                say_sandbox.sandbox_setup_failed(first_line.removeprefix(SETUP_FAILED_PREFIX))
            )
    if limit_hit is None and returncode is not None and returncode > 128:
        limit_hit = limit_of_signal(returncode - 128)  # the kernel's CPU limit: SIGXCPU
    return RawRun(
        returncode=returncode,
        limit_hit=limit_hit,
        wall_seconds=time.monotonic() - started,
        output=bytes(output.kept),
        output_dropped=output.dropped,
        peak_memory=watch.peak_memory,
        peak_processes=watch.peak_processes,
        enforced_by=enforcement(isolation, cgroup is not None, user),
    )


def enforcement(isolation: str, cgroup: bool, user: SandboxUser | None) -> list[str]:
    """What kept this run's limits and isolation, as short phrases for the result (README,
    "Trust model"): which mechanism bounded memory and processes, and whom the code ran as."""
    return say_sandbox.enforcement(isolation, cgroup, user.name if user is not None else None)


def hand_over(scratch: Path, user: SandboxUser) -> None:
    """Give the scratch folder to the sandbox's user: learner code writes its evidence, model and
    files there, and nowhere else (its HOME and TMPDIR are inside). Its group stays the grader's
    (mode 0770): the limits wrapper, still root but without root's capabilities until it drops
    to the sandbox's user, must enter it too. Nobody else on the machine can."""
    group = os.getgid()
    for folder, _subfolders, files in os.walk(scratch):
        os.chown(folder, user.uid, group, follow_symlinks=False)
        os.chmod(folder, 0o770)
        for name in files:
            os.chown(os.path.join(folder, name), user.uid, group, follow_symlinks=False)


def _watch(
    process: subprocess.Popen, limits: SandboxLimits, output: _BoundedReader, watch: TreeWatch, started: float
) -> str | None:
    """Wait for the child to end; return the limit that ended it first, if one did.

    Returns without reaping the child (``WNOWAIT``): the caller kills what it left behind first.
    """
    deadline = started + limits.timeout_s
    waiter = _ExitWaiter(process.pid)
    try:
        while True:
            if waiter.wait(POLL_S):
                return None
            if output.exceeded.is_set():
                return "output"
            if time.monotonic() >= deadline:
                return "time"
            hit = watch.check()
            if hit is not None:
                return hit
    finally:
        waiter.close()


class _ExitWaiter:
    """``wait(timeout)``: wait up to ``timeout`` seconds for a child process to end and say
    whether it did, leaving it unreaped. A pidfd wakes up the moment the process ends; without
    one (old kernels, other systems) the exit is polled."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        try:
            self.pidfd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self.pidfd = None

    def ended(self) -> bool:
        try:
            return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True

    def wait(self, timeout: float) -> bool:
        if self.pidfd is not None:
            ready, _, _ = select.select([self.pidfd], [], [], timeout)
            return bool(ready) or self.ended()
        if self.ended():
            return True
        time.sleep(timeout)
        return self.ended()

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


def _reap(process: subprocess.Popen) -> None:
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def hidden_data_locations(extra: Iterable[Path] = ()) -> list[Path]:
    """Every folder that may hold a test split: the grader's cache (its verified arrays), the
    system dataset folders, Keras' and TFDS' caches, GRADER_DATA_DIR and ``extra``. Bubblewrap
    covers each one that lies inside a folder it binds; the rest are not bound at all."""
    from grader import datasets  # the grader's own code: numpy, no TensorFlow

    locations = [
        datasets.cache_dir(),
        *datasets.SYSTEM_DATA_DIRS,
        datasets.keras_datasets_dir().parent,
        Path.home() / "tensorflow_datasets",
        *(Path(p) for p in extra if p),
    ]
    if os.environ.get("GRADER_DATA_DIR"):
        locations.append(Path(os.environ["GRADER_DATA_DIR"]))
    return [Path(p).expanduser() for p in locations]


# TensorFlow's C++ runtime logs a few start-up lines before its log level applies; they are not
# the learner's output and only bury it.
_RUNTIME_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called.*"
    r"|[IWE]\d{4} [\d:.]+\s+\d+ \w+\.cc:\d+\].*"
    r"|To enable the following instructions: .*rebuild TensorFlow.*)\n?",
    re.MULTILINE,
)


def strip_runtime_noise(text: str) -> str:
    return _RUNTIME_NOISE.sub("", text)


# The only variables passed on from the grader's environment, by exact name: the locale, the
# time zone, the library search path and thread settings. Nothing else, and no prefixes: a CI
# runner's environment holds credentials under all kinds of names (Terraform's TF_VAR_* and
# TF_TOKEN_* share TensorFlow's TF_ prefix), and learner code can print its environment.
PASSED_ENVIRONMENT: frozenset[str] = frozenset({
    "PATH", "LANG", "LANGUAGE", "TZ", "LD_LIBRARY_PATH",
    "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE", "LC_MONETARY", "LC_MESSAGES",
    "LC_PAPER", "LC_NAME", "LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
    "TF_ENABLE_ONEDNN_OPTS", "KERAS_BACKEND",
})  # fmt: skip


def child_environment(plan: SandboxPlan, scratch: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in PASSED_ENVIRONMENT}
    env.update(
        PYTHONHASHSEED=str(plan.seed),
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        # The grader package must be importable from the scratch folder.
        PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")])),
        TF_CPP_MIN_LOG_LEVEL="2",  # TensorFlow's C++ start-up chatter is not the learner's output
        CUDA_VISIBLE_DEVICES="",
        MPLBACKEND="Agg",  # plots never open a window
    )
    if scratch is not None:
        # Keras, matplotlib, TFDS and tempfile write their caches and temporary files here, in
        # the scratch folder (counted by the disk limit), not in the grader user's home.
        home = scratch / "home"
        env.update(
            HOME=str(home),
            TMPDIR=str(scratch / "tmp"),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
        )
    return env


def read_evidence(
    path: Path, plan: SandboxPlan, run: RunInfo, limits: SandboxLimits, scratch_work: Path | None = None
) -> SandboxEvidence:
    evidence: SandboxEvidence
    unreadable: ScratchFileError | RecordTooDeepError | None = None
    try:
        evidence = from_json(SandboxEvidence, load_record(_read_scratch_file(path, MAX_EVIDENCE_BYTES), file=path.name))
    except (ScratchFileError, RecordTooDeepError) as exc:
        # Learner code swapped the grader's record for a link, a FIFO or something huge, or put
        # values nested thousands of levels deep where the child records them (a model's compile
        # config, the History): unreadable either way.
        evidence = SandboxEvidence(submission=plan.submission.name, seed=plan.seed, style=plan.style)
        unreadable = exc
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        # The child died before it wrote anything (or wrote garbage): evidence of nothing.
        evidence = SandboxEvidence(submission=plan.submission.name, seed=plan.seed, style=plan.style)
    evidence.run = run
    evidence.tampering = []  # found by the grader only (``find_tampering``), never taken from the child
    if unreadable is not None:
        replaced = isinstance(unreadable, ScratchFileError)
        evidence.steps["import"] = StepResult(
            name="import",
            status="exception",
            exception=ExceptionInfo(
                type="ProcessDied",
                message=say_sandbox.record_unreadable(str(unreadable)),
                hint=say_sandbox.record_unreadable_hint() if replaced else say_sandbox.record_too_deep_hint(),
                code="record_unreadable",
            ),
        )
        if replaced:
            evidence.tampering.append(say_sandbox.tampering("replaced_record", reason=str(unreadable)))
        return evidence
    explain_record(evidence)
    _annotate_exceptions(evidence, scratch_work)
    reason = say_sandbox.death_reason(run.limit_hit, run.returncode, run.isolation, limits.describe())
    hint = say_sandbox.limit_hint(run.limit_hit) or say_sandbox.death_hint(run.returncode, run.isolation)
    for name, step in list(evidence.steps.items()):
        if step.status == "started":
            # A script's phases: "your script did not finish"; the import: "your file ...".
            who = step.label or say_sandbox.step_label(name)
            evidence.steps[name] = StepResult(
                name=name,
                status="exception",
                seconds=run.wall_seconds,
                exception=ExceptionInfo(
                    type=_death_type(run),
                    message=say_sandbox.did_not_finish(who, reason),
                    hint=hint,
                    code="did_not_finish",
                ),
                label=step.label,
                run_by=step.run_by,
            )
    if not evidence.steps and (run.returncode != 0 or run.limit_hit):
        evidence.steps["import"] = StepResult(
            name="import",
            status="exception",
            exception=ExceptionInfo(
                type=_death_type(run), message=say_sandbox.could_not_run(reason), hint=hint, code="could_not_run"
            ),
        )
    return evidence


# The exception type of the problems the child finds itself (no model to grade, a model file
# that does not load); the judges know it (grader.judges.causes.RUNNER_EXCEPTIONS).
MODEL_NOT_FOUND = "ModelNotFound"


def explain_record(evidence: SandboxEvidence) -> None:
    """Put the child's codes and facts into words, in the current language
    (``grader.messages.sandbox``): the problems it found, ``sys.exit()``, the tracebacks, what
    ran, where the graded model came from, what ``load_data()`` returned, a saved model's lost
    compile settings. The child writes no sentence; whatever text it left in those fields is
    replaced, so nothing there speaks with the grader's voice unless the grader wrote it."""
    for step in evidence.steps.values():
        if not isinstance(step, StepResult):
            continue
        step.label = say_sandbox.run_label(str(step.run_by)[:100]) if step.run_by else ""
        exc = step.exception
        if not isinstance(exc, ExceptionInfo):
            continue
        facts = exc.facts if isinstance(exc.facts, dict) else {}
        if exc.type == MODEL_NOT_FOUND:
            exc.message, exc.hint = say_sandbox.problem(str(exc.code), facts)
            exc.traceback = exc.message
            continue
        exc.hint = ""  # only the grader gives hints; the child records none for learner exceptions
        if exc.code == "sys_exit":
            exc.message = say_sandbox.sys_exit_message(str(facts.get("exit_code", ""))[:200])
        elif exc.code in say_sandbox.DATASET_CODES:
            exc.message = say_sandbox.dataset_not_served(exc.code, facts)
        exc.traceback = format_traceback(exc, evidence.submission)
    origin = evidence.model_origin
    evidence.model_source = say_sandbox.model_source(str(origin.code), origin.facts) if origin is not None else ""
    data = evidence.data
    if data is not None and not data.structure_ok:
        items = data.items if isinstance(data.items, int) else None
        data.description = say_sandbox.data_description(
            str(data.returned_type)[:100], items, str(data.bad_item)[:100], str(data.bad_item_type)[:100]
        )
    lost = evidence.compile_settings_lost
    if isinstance(lost, dict):
        evidence.notes.append(say_sandbox.compile_settings_note(evidence.submission, lost))


def format_traceback(exc: ExceptionInfo, display_name: str) -> str:
    """The learner's frames and the final line, under the grader's heading."""
    lines = [say_sandbox.traceback_header()]
    for frame in exc.frames if isinstance(exc.frames, list) else []:
        # A notebook cell is no file to open: "analysis.ipynb, cell 5, line 3".
        where = f'File "{frame.file}"' if frame.file == display_name else frame.file
        lines.append(f"  {where}, line {frame.line}, in {frame.function}")
        if frame.code:
            lines.append(f"    {frame.code}")
    lines.append(f"{exc.type}: {exc.message}")
    return "\n".join(lines)


class ScratchFileError(ValueError):
    """A file read back from a sandbox is not what the grader wrote there: a link, a FIFO, a
    device, a folder, or larger than its bound. The message names the file."""


def open_scratch_file(path: Path, max_bytes: int) -> int:
    """Open a file the sandbox left, for reading, only if it is a regular file of at most
    ``max_bytes``; return the descriptor (the caller closes it).

    Learner code can replace any file in its scratch folder. ``O_NOFOLLOW`` refuses a symlink
    (to a file of the grader's), ``O_NONBLOCK`` makes opening a FIFO return at once instead of
    waiting forever for a writer, and ``fstat`` on the open descriptor checks the very file
    that will be read (no window between a check and the open).
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == getattr(errno, "ELOOP", None):
            raise ScratchFileError(say_sandbox.scratch_file_problem("symlink", path.name)) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ScratchFileError(say_sandbox.scratch_file_problem("not_regular", path.name))
        if info.st_size > max_bytes:
            raise ScratchFileError(say_sandbox.scratch_file_problem("too_large", path.name, max_bytes))
        # Reads of a regular file never block; clear the flag so the file reads as usual.
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_scratch_file(path: Path, max_bytes: int) -> bytes:
    """A file the child wrote, read safely (see ``open_scratch_file``); it may still grow while
    being read, so the read itself is bounded too."""
    with os.fdopen(open_scratch_file(path, max_bytes), "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ScratchFileError(say_sandbox.scratch_file_problem("too_large", path.name, max_bytes))
    return data


def _model_file_problem(
    path: Path, max_unpacked: int = MAX_MODEL_UNPACKED_BYTES, max_bytes: int = MAX_MODEL_FILE_BYTES
) -> str | None:
    """Why the saved model may not go to the trusted evaluator, or None when it may."""
    try:
        fd = open_scratch_file(path, max_bytes)
    except FileNotFoundError:
        return say_sandbox.model_file_problem("not_saved")
    except ScratchFileError as exc:
        return say_sandbox.model_file_problem("refused", str(exc))
    except OSError:
        return say_sandbox.model_file_problem("not_saved")
    try:
        with os.fdopen(fd, "rb") as handle, zipfile.ZipFile(handle) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return say_sandbox.model_file_problem("not_keras")
    if unpacked > max_unpacked:
        return say_sandbox.model_file_problem("too_large", unpacked_bytes=unpacked)
    return None


# Exceptions the sandbox itself causes, recognised by their message, and the cause (its fix:
# grader.messages.sandbox.sandbox_cause_hint).
_SANDBOX_CAUSES = (
    (re.compile(r"Network is unreachable|Temporary failure in name resolution|Name or service not known|\[Errno (101|-3|-2)\]"),
     "network"),
    (re.compile(r"Read-only file system|\[Errno 30\]"), "read_only"),
    (re.compile(r"Non-UTF-8 code|codec can't decode"), "encoding"),
)  # fmt: skip


def _annotate_exceptions(evidence: SandboxEvidence, scratch_work: Path | None) -> None:
    """What the sandbox knows about exceptions it caused itself.

    Limits met without a kill: the kernel's data limit makes an allocation raise MemoryError,
    its file-size limit makes a write raise "File too large". Sandbox walls: no network, a
    read-only file system. And the scratch folder's path is taken out of messages (Python
    names the file it compiled there): the learner knows only their file's name.
    """
    for step in evidence.steps.values():
        exc = step.exception
        if exc is None or step.status != "exception":
            continue
        if scratch_work is not None:
            exc.message = exc.message.replace(f"{scratch_work}{os.sep}", "").replace(str(scratch_work), ".")
            exc.traceback = exc.traceback.replace(f"{scratch_work}{os.sep}", "").replace(str(scratch_work), ".")
        limit = None
        if exc.type in ("MemoryError", "ResourceExhaustedError", "OutOfMemoryError"):
            limit = "memory"
        elif "File too large" in exc.message or "[Errno 27]" in exc.message:
            limit = "file_size"
        if limit is not None:
            evidence.run.limit_hit = evidence.run.limit_hit or limit
            exc.hint = exc.hint or say_sandbox.limit_hint(limit)
            if limit == "memory" and not exc.message.strip():
                # Python's MemoryError says nothing; "memory limit" also selects the judges' hint.
                exc.message = say_sandbox.memory_refused()
            continue
        for pattern, cause in _SANDBOX_CAUSES:
            if pattern.search(exc.message):
                exc.hint = exc.hint or say_sandbox.sandbox_cause_hint(cause)
                break


def _death_type(run: RunInfo) -> str:
    # The judges' diagnosis knows these two (grader.judges.diagnose): a time-like limit, or a
    # process that ended without finishing; the message and hint say which limit it was.
    return "TimeLimitExceeded" if run.limit_hit in ("time", "cpu") else "ProcessDied"


# --- tampering: code that changes how a model is measured -------------------------------------

# Methods whose replacement changes what Keras reports about a model, or what the grader
# records and saves. The grader tests the saved model with its own code, so replacing them
# changes nothing in the score; it is still reported, because it can only be meant to mislead.
_MEASURING_METHODS = frozenset({
    "evaluate", "predict", "predict_on_batch", "test_on_batch", "predict_step", "test_step",
    "fit", "save", "save_model", "load_model", "count_params", "get_compile_config", "summary",
})  # fmt: skip
MAX_SCANNED_SOURCE = 1024 * 1024  # the adapter refused larger code before the run (MAX_CODE_BYTES)


def submission_sources(plan: SandboxPlan) -> list[tuple[str, str]]:
    """``(where, source)`` pairs of the learner's code: the file, or a notebook's code cells."""
    cells = plan.adapter.cells
    if cells:
        return [(say_sandbox.cell_prefix(cell.number), cell.source) for cell in cells]
    if plan.submission.suffix.lower() not in ("", ".py"):
        return []
    try:
        if plan.submission.stat().st_size > MAX_SCANNED_SOURCE:
            return []
        return [("", plan.submission.read_bytes().decode("utf-8", errors="replace"))]
    except OSError:
        return []


def find_tampering(sources: Iterable[tuple[str, str]]) -> list[str]:
    """Places where the code replaces a method Keras measures models with, or imports the
    grader's own modules: ``["line 12: replaces Model.evaluate", ...]``.

    A static scan of the source (``ast``): a call of ``setattr`` with a computed name escapes
    it, which is acceptable, since nothing here changes the score (the trusted evaluation does
    not run learner code); it only tells the instructor what the code tried.
    """
    found: list[tuple[str, int, str]] = []
    for where, source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # code that does not parse does not run either
        for node in ast.walk(tree):
            line = getattr(node, "lineno", 0)
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for item in ast.walk(target):
                        if isinstance(item, ast.Attribute) and item.attr in _MEASURING_METHODS:
                            found.append((where, line, say_sandbox.tampering("replaces", target=_dotted(item))))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
                if (
                    len(node.args) >= 2
                    and isinstance(node.args[1], ast.Constant)
                    and node.args[1].value in _MEASURING_METHODS
                ):
                    replaced = f"{_dotted(node.args[0])}.{node.args[1].value}"
                    found.append((where, line, say_sandbox.tampering("replaces", target=replaced)))
            elif (isinstance(node, ast.Import) and any(a.name.split(".")[0] == "grader" for a in node.names)) or (
                isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "grader" and not node.level
            ):
                found.append((where, line, say_sandbox.tampering("imports_grader")))
    ordered = sorted(dict.fromkeys(found), key=lambda item: (item[0], item[1]))
    return [say_sandbox.at_line(where, line, what) for where, line, what in ordered[:20]]


def _dotted(node: ast.AST) -> str:
    try:
        return ast.unparse(node)[:60]
    except Exception:  # noqa: BLE001 - only for a message
        return say_sandbox.type_phrase("object")
