"""The parent side of the sandbox: start the child, enforce limits, collect the evidence.

The child (``grader.sandbox.child``) writes its evidence to a file in a scratch folder after
every step. Whatever happens to it (an exception, ``os._exit``, a time limit, a crash), this side
reads what was recorded, adds how the child ended, and turns a step left in flight into an
exception with the reason, so the judges always get evidence and never a hole.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from grader.evidence import ExceptionInfo, RunInfo, SandboxEvidence, StepResult, from_json

ProgressCallback = Callable[[dict[str, Any]], None]

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


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
    # How to run this style (grader.adapters.SubmissionPlan.child_instructions), JSON as is.
    adapter: dict[str, Any] = field(default_factory=dict)
    threads: int | None = None


@dataclass
class SandboxLimits:
    timeout_s: float = 900.0
    output_bytes: int = 64 * 1024  # captured learner output kept for the report


@dataclass
class SandboxOutcome:
    evidence: SandboxEvidence
    scratch: Path  # the child's scratch folder (holds model.keras); the caller removes it
    model_path: Path | None


class _BoundedReader(threading.Thread):
    """Drains a pipe so the child never blocks on a full pipe, keeping only the first bytes."""

    def __init__(self, stream: Any, limit: int) -> None:
        super().__init__(daemon=True)
        self.stream, self.limit = stream, limit
        self.kept = bytearray()
        self.dropped = 0

    def run(self) -> None:
        while chunk := self.stream.read1(65536) if hasattr(self.stream, "read1") else self.stream.read(65536):
            room = self.limit - len(self.kept)
            self.kept += chunk[: max(room, 0)]
            self.dropped += max(len(chunk) - max(room, 0), 0)


class _ProgressReader(threading.Thread):
    """Reads the child's JSON-lines progress pipe and hands each event to the callback."""

    def __init__(self, fd: int, callback: ProgressCallback | None) -> None:
        super().__init__(daemon=True)
        self.file = os.fdopen(fd, "r", encoding="utf-8", errors="replace")
        self.callback = callback

    def run(self) -> None:
        for line in self.file:
            if self.callback is None:
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # a learner cannot write here, but never let a bad line stop grading
            try:
                self.callback(event)
            except Exception:  # noqa: BLE001 - a display problem must not stop grading
                pass


def run_in_sandbox(plan: SandboxPlan, limits: SandboxLimits, on_progress: ProgressCallback | None = None) -> SandboxOutcome:
    scratch = Path(tempfile.mkdtemp(prefix="grade-"))
    work = scratch / "work"
    work.mkdir()
    submission = work / plan.submission.name
    shutil.copyfile(plan.submission, submission)
    evidence_path = scratch / "evidence.json"
    model_path = scratch / "model.keras"

    progress_r, progress_w = os.pipe()
    child_plan = {
        "submission": str(submission),
        "display_name": plan.submission.name,
        "functions": plan.functions,
        "seed": plan.seed,
        "dataset": plan.dataset,
        "served": {name: str(path) for name, path in plan.served.items()},
        "tfds_dir": str(plan.tfds_dir) if plan.tfds_dir else None,
        "train_data": plan.train_data,
        "style": plan.style,
        "adapter": plan.adapter,
        "threads": plan.threads,
        "evidence_path": str(evidence_path),
        "model_path": str(model_path),
        "progress_fd": progress_w,
    }
    plan_path = scratch / "plan.json"
    plan_path.write_text(json.dumps(child_plan), encoding="utf-8")

    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "grader.sandbox.child", str(plan_path)],
        cwd=work,
        env=child_environment(plan),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=(progress_w,),
        start_new_session=True,  # its own process group: a kill takes every descendant with it
    )
    os.close(progress_w)
    output = _BoundedReader(process.stdout, limits.output_bytes)
    progress = _ProgressReader(progress_r, on_progress)
    output.start()
    progress.start()

    limit_hit = None
    try:
        process.wait(timeout=limits.timeout_s)
    except subprocess.TimeoutExpired:
        limit_hit = "time"
    finally:
        _kill_group(process)
    output.join(timeout=5)
    progress.join(timeout=5)

    run = RunInfo(
        returncode=process.returncode,
        limit_hit=limit_hit,
        wall_seconds=time.monotonic() - started,
        output=strip_runtime_noise(output.kept.decode("utf-8", errors="replace")),
        output_truncated_bytes=output.dropped,
        isolation="process",
    )
    evidence = read_evidence(evidence_path, plan, run, limits)
    has_model = evidence.model_file is not None and model_path.is_file()
    return SandboxOutcome(evidence=evidence, scratch=scratch, model_path=model_path if has_model else None)


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


def child_environment(plan: SandboxPlan) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(
        PYTHONHASHSEED=str(plan.seed),
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        # The grader package must be importable from the scratch folder.
        PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH", "")])),
        TF_CPP_MIN_LOG_LEVEL="2",  # TensorFlow's C++ start-up chatter is not the learner's output
        CUDA_VISIBLE_DEVICES="",
        MPLBACKEND="Agg",  # plots never open a window
    )
    return env


def read_evidence(path: Path, plan: SandboxPlan, run: RunInfo, limits: SandboxLimits) -> SandboxEvidence:
    evidence: SandboxEvidence
    try:
        evidence = from_json(SandboxEvidence, json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        # The child died before it wrote anything (or wrote garbage): evidence of nothing.
        evidence = SandboxEvidence(submission=plan.submission.name, seed=plan.seed, style=plan.style)
    evidence.run = run
    reason = _death_reason(run, limits)
    for name, step in list(evidence.steps.items()):
        if step.status == "started":
            who = step.label or f"{name}()"  # a script's phases: "your script did not finish"
            evidence.steps[name] = StepResult(
                name=name,
                status="exception",
                seconds=run.wall_seconds,
                exception=ExceptionInfo(type=_death_type(run), message=f"{who} did not finish: {reason}"),
                label=step.label,
            )
    if not evidence.steps and run.returncode != 0:
        evidence.steps["import"] = StepResult(
            name="import",
            status="exception",
            exception=ExceptionInfo(type=_death_type(run), message=f"the submission could not be run: {reason}"),
        )
    return evidence


def _death_type(run: RunInfo) -> str:
    return {"time": "TimeLimitExceeded"}.get(run.limit_hit or "", "ProcessDied")


def _death_reason(run: RunInfo, limits: SandboxLimits) -> str:
    if run.limit_hit == "time":
        return f"the time limit of {limits.timeout_s:g} s was reached (an endless loop, or training too long?)"
    if run.returncode is not None and run.returncode < 0:
        try:
            name = signal.Signals(-run.returncode).name
        except ValueError:
            name = f"signal {-run.returncode}"
        return f"the process was killed by {name}"
    return f"the process exited with code {run.returncode} (os._exit or a crash inside TensorFlow?)"


def _kill_group(process: subprocess.Popen) -> None:
    """Kill the child's whole process group, then reap the child."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
