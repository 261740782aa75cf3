"""A cgroup v2 per sandbox run, where the machine allows one: limits the kernel enforces.

The watchdog (``grader.sandbox.limits.TreeWatch``) samples the processes of a run ten times a
second and adds up what it can see: resident memory, open ``memfd`` files, the sandbox's own
tmpfs folders. A cgroup needs no sampling and sees everything a run's processes are charged
for, page cache and shared memory included, and it keeps processes that detach from the tree:

* ``memory.max``: the memory limit (``memory.swap.max`` = 0, so it cannot move to swap), with
  ``memory.oom.group`` = 1: past it the kernel kills the whole run at once;
* ``pids.max``: tasks (threads count, as in ``RLIMIT_NPROC``) of the run;
* ``cgroup.kill`` at the end: every process still in the group, wherever it moved in the
  process tree, is killed; then the group is removed.

Where it works: a cgroup v2 hierarchy mounted at ``/sys/fs/cgroup`` (``cgroup.controllers``
there lists ``memory`` and ``pids``) and a grader running as root, which creates
``/sys/fs/cgroup/exercise-grader/`` with both controllers enabled and one ``run-...`` group per
sandbox run inside it. On a cgroup v1 or hybrid machine, or as an ordinary user, ``problem()``
says why not, and the watchdog alone keeps the limits (the result says which was in force).
"""

from __future__ import annotations

import functools
import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.limits import SandboxLimits

CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUP_NAME = "exercise-grader"
CONTROLLERS = ("memory", "pids")

_numbers = itertools.count()


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)


@functools.cache
def problem(root: Path = CGROUP_ROOT) -> str | None:
    """Why runs get no cgroup here (a clause), or None when they do. Decided once per process."""
    if not (root / "cgroup.controllers").is_file():
        return f"no cgroup v2 hierarchy is mounted at {root} (cgroup v1 or a hybrid set-up)"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the grader does not run as root (only root can create the groups it needs)"
    try:
        available = (root / "cgroup.controllers").read_text().split()
        missing = [name for name in CONTROLLERS if name not in available]
        if missing:
            return f"the cgroup v2 hierarchy offers no {' or '.join(missing)} controller"
        enabled = (root / "cgroup.subtree_control").read_text().split()
        wanted = " ".join(f"+{name}" for name in CONTROLLERS if name not in enabled)
        if wanted:
            _write(root / "cgroup.subtree_control", wanted)
        base = root / GROUP_NAME
        base.mkdir(exist_ok=True)
        enabled = (base / "cgroup.subtree_control").read_text().split()
        wanted = " ".join(f"+{name}" for name in CONTROLLERS if name not in enabled)
        if wanted:
            _write(base / "cgroup.subtree_control", wanted)
    except OSError as exc:
        return f"the cgroup {root / GROUP_NAME} cannot be set up ({exc.strerror or exc})"
    return None


@dataclass
class RunCgroup:
    """The cgroup of one sandbox run. ``create`` it before the run, ``add`` the run's first
    process, and ``close`` it afterwards (kills whatever is left, removes the group)."""

    path: Path
    limits: SandboxLimits

    @classmethod
    def create(cls, limits: SandboxLimits, root: Path = CGROUP_ROOT) -> RunCgroup | None:
        """A fresh group with ``limits`` in force, or None where cgroups are not available."""
        if problem(root) is not None:
            return None
        path = root / GROUP_NAME / f"run-{os.getpid()}-{next(_numbers)}"
        try:
            path.mkdir()
            _write(path / "memory.max", str(limits.memory_bytes))
            if (path / "memory.swap.max").exists():
                _write(path / "memory.swap.max", "0")
            if (path / "memory.oom.group").exists():
                _write(path / "memory.oom.group", "1")
            _write(path / "pids.max", str(limits.tasks))
        except OSError:
            _remove(path)
            return None
        return cls(path, limits)

    def add(self, pid: int) -> bool:
        """Move ``pid`` (and so everything it starts from now on) into the group."""
        try:
            _write(self.path / "cgroup.procs", str(pid))
            return True
        except OSError:
            return False

    def _events(self, name: str) -> dict[str, int]:
        try:
            lines = (self.path / name).read_text().splitlines()
        except OSError:
            return {}
        counts: dict[str, int] = {}
        for line in lines:
            key, _, value = line.partition(" ")
            if value.strip().isdigit():
                counts[key] = int(value)
        return counts

    def limit_hit(self) -> str | None:
        """The limit the kernel enforced on this run, if it had to: "memory" (the out-of-memory
        killer ended it) or "processes" (a fork or thread was refused)."""
        memory = self._events("memory.events")
        if memory.get("oom_kill", 0) or memory.get("oom_group_kill", 0):
            return "memory"
        if self._events("pids.events").get("max", 0):
            return "processes"
        return None

    def peak_memory(self) -> int | None:
        try:
            return int((self.path / "memory.peak").read_text())
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        """Kill every process still in the group, then remove it."""
        kill = self.path / "cgroup.kill"
        for _ in range(100):
            try:
                pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            except (OSError, ValueError):
                break
            if not pids:
                break
            try:
                if kill.exists():
                    _write(kill, "1")
                else:
                    for pid in pids:
                        os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            time.sleep(0.02)
        _remove(self.path)


def _remove(path: Path) -> None:
    for _ in range(50):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)  # the last processes are still leaving
