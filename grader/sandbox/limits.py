"""Resource limits for the sandboxed child, and how they are enforced and measured.

Two mechanisms, because neither covers everything on its own:

* **Kernel limits** (``setrlimit``), set by a small wrapper process right before it executes the
  child, so they are in place before any learner code runs and cannot be raised by it (the hard
  limits equal the soft ones):

  - ``RLIMIT_CPU``: CPU seconds, a backstop behind the wall-clock limit that the kernel enforces
    even if the grader itself stalls (SIGXCPU, then SIGKILL);
  - ``RLIMIT_DATA``: the size of the private writable memory a process may map, so one giant
    allocation fails at once with ``MemoryError`` instead of racing the watchdog. TensorFlow's
    data size stays close to its resident size (measured: 1.2 GB data for 1.17 GB resident
    while training the chapter's model on the real Fashion-MNIST), unlike its *virtual* size
    (3.3 GB, and more with more cores), which is why ``RLIMIT_AS`` is not used;
  - ``RLIMIT_FSIZE``: the largest file the child may write (a saved model included); Python
    ignores SIGXFSZ, so a write past it raises ``OSError: [Errno 27] File too large``;
  - ``RLIMIT_CORE`` = 0: a killed multi-gigabyte process does not leave a core dump;
  - a seccomp filter (``grader.sandbox.seccomp``): ``shmget`` fails with ``EPERM``, so learner
    code cannot hold memory in System V shared-memory segments, which no process's resident
    size, and so no watchdog, shows;
  - ``RLIMIT_NPROC`` (inside bubblewrap only): tasks, threads included, counted per user. Set
    inside the sandbox's user namespace, it counts only that sandbox's tasks, so it stops a fork
    bomb in the kernel when the grader runs as an ordinary user. The kernel exempts tasks whose
    real user is root on the host, and bubblewrap maps the sandbox's user to the grader's, so a
    grader run as root (CI) gets nothing from it (measured: 300 forks under a limit of 72).
    Outside a namespace it would count every process of the grader's user, so it is not set.

* **A watchdog in the grader** (``TreeWatch``), polled every ``POLL_S`` seconds, that reads
  ``/proc`` for the whole tree of processes under the sandbox and kills all of them when the
  sum of their resident memory (plus memory held in open ``memfd_create`` files and in the
  sandbox's own ``/tmp`` and ``/dev/shm``), their number, or the bytes written to the scratch
  folder is over its limit. Where cgroup v2 is available to a root grader, a cgroup per run
  (``grader.sandbox.cgroups``) enforces memory and tasks in the kernel as well. Resident memory is what fills a machine's RAM, so it is the memory limit that
  counts; the kernel's data limit above is only its fast, generous backstop. The process limit
  is the fork-bomb defence that works for root too: it is low (16), and learner code runs at a
  lower priority (nice 10), so the watchdog gets CPU time while a bomb spreads (measured: a
  TensorFlow child's ``while True: os.fork()`` is stopped at about 20 processes, in under a
  second; with a limit of 64 and no lower priority the same bomb starved the grader).

Which limit ended the run is recorded as ``RunInfo.limit_hit``: "time", "cpu", "memory",
"output", "processes" or "file_size".

Run as ``python -m grader.sandbox.limits [--guard] --cpu S --data B --fsize B [--nproc N] --
CMD...``: apply the limits, then run CMD. Without ``--guard`` it simply executes CMD (inside
bubblewrap, whose own init process already stands between the child and the grader). With
``--guard`` (process isolation) it stays as CMD's parent: the learner's ``os.getppid()`` is
this guard, not the grader, so killing "the parent" cannot kill the grader; the guard is also a
child subreaper, so processes the learner detaches stay in the tree the watchdog sees.

``--user UID:GID`` (the grader runs as root): learner code never runs as root. The wrapper
drops to that user (``drop_privileges``) right before it executes CMD; with ``--guard`` the
guard first gives the run PID, mount and IPC namespaces of its own (``private_view``: the
grader's data folders empty, a private ``/tmp`` and ``/dev/shm``, the folders the run needs
reachable by that user) and starts CMD under a PID 1 of its own, whose exit ends every process
the run left behind.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.messages import sandbox as say_sandbox
from grader.sandbox import seccomp

GiB = 1024**3
MiB = 1024**2

POLL_S = 0.1  # how often the watchdog samples the process tree (about 1-2 ms of CPU each time)
DISK_POLL_S = 1.0  # how often it adds up the scratch folder (a walk of the folder)

LIMITS = ("time", "cpu", "memory", "output", "processes", "file_size")


class LimitHints(Mapping[str, str]):
    """``LIMIT_HINTS[limit]``: how to stay within ``limit``, in the current language
    (``grader.messages.sandbox.limit_hint``)."""

    def __getitem__(self, limit: str) -> str:
        if limit not in say_sandbox.LIMIT_HINTS:
            raise KeyError(limit)
        return say_sandbox.limit_hint(limit)

    def __iter__(self) -> Iterator[str]:
        return iter(say_sandbox.LIMIT_HINTS)

    def __len__(self) -> int:
        return len(say_sandbox.LIMIT_HINTS)


# The sentences about limits (how to stay within each, what a limit is, why a run ended) live
# in grader.messages.sandbox, in one place: limit_hint, limit_phrase, limit_message,
# death_reason. These names stay for the modules that import them from here.
LIMIT_HINTS = LimitHints()
describe_limit = say_sandbox.limit_phrase
size_text = say_sandbox.size_text


# Signals a child's exit status may name, and the limit each stands for when the kernel sent it.
_SIGNAL_LIMITS = {signal.SIGXCPU: "cpu", signal.SIGXFSZ: "file_size"}


def usable_cores() -> int:
    """Cores this process may run on (a container or ``taskset`` may allow fewer than exist):
    the one core count of the project (sandbox limits, batch thread shares)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def default_memory_bytes() -> int:
    """4 GiB: over three times what TensorFlow needs to train the chapter's model on the real
    data (1.17 GB resident, measured), room for a CNN; never more than half the machine."""
    total = physical_memory()
    if total is None:
        return 4 * GiB
    return int(max(1.5 * GiB, min(4 * GiB, total / 2)))


@dataclass
class SandboxLimits:
    """What one run of learner code may use. Every field has a default that fits the chapter's
    exercises; ``None`` means "derived from the others" (see the properties)."""

    timeout_s: float = 900.0  # wall clock, from start to finish (TensorFlow's start included)
    output_bytes: int = 64 * 1024  # learner output kept for the report
    output_limit_bytes: int = 32 * MiB  # output after which the run is stopped
    cpu_s: float | None = None  # None: timeout_s times the usable cores (a backstop)
    memory_bytes: int = field(default_factory=default_memory_bytes)  # resident, whole tree
    file_bytes: int = 512 * MiB  # largest single file (a .keras model of ~130M parameters)
    disk_bytes: int = 1 * GiB  # all files in the scratch folder together
    tmp_bytes: int = 256 * MiB  # the sandbox's private /tmp (memory-backed)
    shm_bytes: int = 64 * MiB  # the sandbox's private /dev/shm (memory-backed)
    # Processes in the tree: TensorFlow needs one, bubblewrap adds two, the guard one. Low, so a
    # fork bomb is stopped while the grader still gets CPU time to stop it (measured: a bomb of
    # a few hundred processes starves the grader's watchdog for minutes).
    processes: int = 16

    @property
    def cpu_seconds(self) -> int:
        if self.cpu_s is not None:
            return max(1, math.ceil(self.cpu_s))
        return math.ceil(self.timeout_s * usable_cores()) + 5

    @property
    def data_bytes(self) -> int:
        """``RLIMIT_DATA``: twice the memory limit, so only what the watchdog could not stop in
        time (one huge allocation) ever meets it."""
        return 2 * self.memory_bytes

    @property
    def tasks(self) -> int:
        """``RLIMIT_NPROC`` inside bubblewrap: tasks (threads count) in the sandbox's user
        namespace. TensorFlow starts about two threads per core plus a dozen (19 measured on
        two cores while training)."""
        return 64 + 4 * usable_cores()

    def describe(self) -> dict[str, float]:
        """The limits as numbers, for the evidence (``RunInfo.limits``) and the messages."""
        return {
            "time_s": float(self.timeout_s),
            "cpu_s": float(self.cpu_seconds),
            "memory_bytes": float(self.memory_bytes),
            "file_bytes": float(self.file_bytes),
            "disk_bytes": float(self.disk_bytes),
            "processes": float(self.processes),
            "output_bytes": float(self.output_limit_bytes),
        }


@dataclass(frozen=True)
class SandboxUser:
    """The unprivileged user learner code runs as when the grader runs as root ("nobody", which
    every Debian system has), and what its private view of the file system needs (process
    isolation only; bubblewrap builds its own view)."""

    uid: int
    gid: int
    name: str = "nobody"


def wrapper_command(
    limits: SandboxLimits,
    command: Sequence[str],
    *,
    guard: bool,
    nproc: bool | int,
    user: SandboxUser | None = None,
    readable: Sequence[Path] = (),
    writable: Sequence[Path] = (),
    hidden: Sequence[Path] = (),
) -> list[str]:
    """``python -m grader.sandbox.limits ...`` that applies ``limits`` and runs ``command``.

    ``user``: drop to this user before ``command`` runs (the grader runs as root). With
    ``guard`` (process isolation) the guard also gives the run a PID namespace of its own and a
    mount namespace in which ``hidden`` folders are empty and ``readable``/``writable`` folders
    are reachable by ``user`` (see ``private_view``).
    """
    argv = [sys.executable, "-m", "grader.sandbox.limits"]
    if guard:
        argv.append("--guard")
    argv += ["--cpu", str(limits.cpu_seconds), "--data", str(limits.data_bytes), "--fsize", str(limits.file_bytes)]
    if nproc:
        argv += ["--nproc", str(nproc if not isinstance(nproc, bool) else limits.tasks)]
    if user is not None:
        argv += ["--user", f"{user.uid}:{user.gid}"]
        if guard:
            argv += ["--tmp-bytes", str(limits.tmp_bytes), "--shm-bytes", str(limits.shm_bytes)]
            argv += [item for path in readable for item in ("--readable", str(path))]
            argv += [item for path in writable for item in ("--writable", str(path))]
            argv += [item for path in hidden for item in ("--hide", str(path))]
    return [*argv, "--", *command]


# --- the wrapper (runs in the sandbox, before the child) ---------------------------------------


NICENESS = 10  # learner code yields the CPU to the grader, whose watchdog must keep running


def apply_rlimits(cpu_s: int, data_bytes: int, file_bytes: int, nproc: int | None) -> None:
    import resource

    try:
        os.nice(NICENESS)
    except OSError:
        pass
    # Soft and hard limits are equal so learner code cannot raise them; the CPU hard limit is a
    # few seconds higher so SIGXCPU (which names the limit) comes before SIGKILL.
    wanted = [
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_CPU, cpu_s, cpu_s + 5),
        (resource.RLIMIT_DATA, data_bytes, data_bytes),
        (resource.RLIMIT_FSIZE, file_bytes, file_bytes),
    ]
    if nproc is not None:
        wanted.append((resource.RLIMIT_NPROC, nproc, nproc))
    for which, soft, hard in wanted:
        try:
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            # A system without this limit (or a lower hard limit already): the watchdog still
            # guards the run, and failing here would stop every run on that system.
            pass


def _become_subreaper() -> None:
    """Orphans of the learner's processes are re-parented to us rather than to init, so they
    stay in the tree the grader watches and kills. Linux only; elsewhere a no-op."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_CHILD_SUBREAPER = 36
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


_POLITE_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)

# Exit code of a wrapper that could not set the sandbox up (its reason is on stderr, first line
# "grader sandbox: ..."); the runner turns it into an error of the grader, not of the learner.
SETUP_FAILED = 125
SETUP_FAILED_PREFIX = "grader sandbox: "


@dataclass
class _View:
    """What ``--guard`` builds for learner code when the grader runs as root."""

    user: SandboxUser
    readable: list[Path] = field(default_factory=list)
    writable: list[Path] = field(default_factory=list)
    hidden: list[Path] = field(default_factory=list)
    tmp_bytes: int = 256 * MiB
    shm_bytes: int = 64 * MiB


def _guard(command: list[str], view: _View | None = None) -> int:
    """Run ``command`` as our child and exit as it did: its exit code, or 128 + the signal that
    killed it (the shell's convention, and bubblewrap's, so the grader reads both alike).

    With ``view`` (the grader runs as root) the command runs as an unprivileged user, in a PID
    namespace of its own (``kill(-1)`` reaches only the run's own processes, and when the run
    ends the kernel ends every process it left behind, detached daemons included) and a mount
    namespace (``private_view``) where the grader's data folders are empty.
    """
    _become_subreaper()
    # The learner may signal its parent; a guard that ignores the polite signals stays up, and
    # one killed outright is noticed by the grader (its own child died) all the same.
    for sig in _POLITE_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    if view is not None:
        try:
            _unshare(_CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWIPC)
            private_view(view)
        except OSError as exc:
            return _setup_failed(f"cannot give learner code a private view as {view.user.name} ({exc})")
    pid = os.fork()
    if pid == 0:
        try:
            for sig in _POLITE_SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
            if view is not None:
                os._exit(_namespace_init(command, view.user))
            os.execv(command[0], command)
        finally:
            os._exit(127)
    status = _wait_for(pid)
    # Processes the learner started and left running are our children now (subreaper): end
    # them before we go, or they would be re-parented to init, out of the grader's sight.
    _kill_leftovers()
    return _exit_code(status)


def _wait_for(pid: int) -> int:
    while True:
        try:
            waited, status = os.waitpid(pid, 0)
        except InterruptedError:
            continue
        if waited == pid:
            return status


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1


def _setup_failed(reason: str) -> int:
    print(f"{SETUP_FAILED_PREFIX}{reason}", file=sys.stderr, flush=True)
    return SETUP_FAILED


def _namespace_init(command: list[str], user: SandboxUser) -> int:
    """PID 1 of the run's PID namespace: start the learner's process, reap every orphan, and
    exit as the learner's process did. When PID 1 exits the kernel kills every process left
    in the namespace, so nothing the learner started outlives the run."""
    try:
        # A /proc of this namespace: learner code sees its own processes, not the machine's.
        _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    except OSError:
        pass  # the machine's /proc stays; signals still reach only this namespace
    pid = os.fork()
    if pid == 0:
        try:
            drop_privileges(user)
            os.execv(command[0], command)
        except OSError as exc:
            _setup_failed(f"cannot start learner code as {user.name} ({exc})")
            os._exit(SETUP_FAILED)
        finally:
            os._exit(127)
    # Signals from inside the namespace do not reach its init unless it handles them; the
    # polite ones are ignored here as well, for signals from outside.
    while True:
        try:
            waited, status = os.waitpid(-1, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            return 1
        if waited == pid:
            return _exit_code(status)


def drop_privileges(user: SandboxUser) -> None:
    """Become ``user`` for good: no supplementary groups, its group, its user id (which clears
    every capability), and no way back through setuid programs (``no_new_privs``)."""
    os.setgroups([])
    os.setgid(user.gid)
    os.setuid(user.uid)
    if os.getuid() != user.uid or os.geteuid() != user.uid or os.getegid() != user.gid:
        raise OSError(f"still running as user {os.geteuid()}")
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    except (OSError, AttributeError):
        pass


# --- the private view (process isolation as root) ----------------------------------------------

_CLONE_NEWNS = 0x00020000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWIPC = 0x08000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18


def _libc() -> object:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _unshare(flags: int) -> None:
    import ctypes

    if _libc().unshare(flags) != 0:  # type: ignore[attr-defined]
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    import ctypes

    encode = lambda value: value.encode() if value is not None else None  # noqa: E731
    if _libc().mount(encode(source), encode(target), encode(fstype), flags, encode(data)) != 0:  # type: ignore[attr-defined]
        error = ctypes.get_errno()
        raise OSError(error, f"mount {target}: {os.strerror(error)}")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def blocked_ancestor(path: Path) -> Path | None:
    """The outermost folder on ``path``'s way (itself included) that other users cannot enter
    (no ``o+x``: ``/root`` on Debian), or None when ``nobody`` can reach ``path``."""
    current = Path("/")
    for part in path.parts[1:]:
        current = current / part
        try:
            mode = os.stat(current).st_mode
        except OSError:
            return None
        if not mode & 0o001:
            return current
    return None


def private_view(view: _View) -> None:
    """In a fresh mount namespace (nothing here reaches the machine's mounts): empty folders
    over the ``hidden`` ones (the grader's cache, dataset folders: the test split), and every
    ``readable``/``writable`` folder reachable by the sandbox user, even where it lies inside a
    folder that user cannot enter (a Python installed in root's home, the served data inside the
    hidden cache). Each such outer folder is covered by an empty, read-only tmpfs in which only
    the needed folders are bound back, so nothing else inside it is visible either."""
    needed = [Path(os.path.realpath(p)) for p in [*view.readable, *view.writable] if os.path.isdir(p)]
    # Opened before anything is covered: bound back through these, whatever is mounted over them.
    handles = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in needed}
    covers = {Path(os.path.realpath(p)) for p in view.hidden if os.path.isdir(p)}
    covers |= {blocked for path in needed if (blocked := blocked_ancestor(path)) is not None}
    # A /tmp and /dev/shm of its own, memory-backed and bounded as under bubblewrap: files left
    # there are counted by the watchdog and vanish with the run, and other users' are not seen.
    writable_tmpfs = {Path("/tmp"): view.tmp_bytes, Path("/dev/shm"): view.shm_bytes}
    covers |= {path for path in writable_tmpfs if path.is_dir()}
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    # Outer folders first; a deeper cover (a hidden folder inside Python's folder, the cache
    # inside /root) comes later and binds back whatever needed folder lies inside it again.
    for cover in sorted(covers, key=lambda p: len(p.parts)):
        if not os.path.isdir(cover):
            continue  # inside an earlier cover, and on no needed folder's way: already hidden
        size = writable_tmpfs.get(cover)
        options = f"mode=1777,size={size}" if size is not None else "mode=0755,size=1m"
        _mount("tmpfs", str(cover), "tmpfs", _MS_NOSUID | _MS_NODEV, options)
        for path in sorted(needed, key=lambda p: len(p.parts)):
            if _inside(path, cover):
                path.mkdir(parents=True, exist_ok=True)
                _mount(f"/proc/self/fd/{handles[path]}", str(path), None, _MS_BIND | _MS_REC)
    for fd in handles.values():
        os.close(fd)


def _kill_leftovers() -> None:
    me = os.getpid()
    for _ in range(50):
        if PROC_AVAILABLE:
            kill_tree_below(me)
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            return  # no children left
        time.sleep(0.01)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.sandbox.limits")
    parser.add_argument("--guard", action="store_true")
    parser.add_argument("--cpu", type=int, required=True)
    parser.add_argument("--data", type=int, required=True)
    parser.add_argument("--fsize", type=int, required=True)
    parser.add_argument("--nproc", type=int)
    parser.add_argument("--user", metavar="UID:GID", help="run the command as this user (the grader runs as root)")
    parser.add_argument("--readable", type=Path, action="append", default=[])
    parser.add_argument("--writable", type=Path, action="append", default=[])
    parser.add_argument("--hide", type=Path, action="append", default=[])
    parser.add_argument("--tmp-bytes", type=int, default=256 * MiB)
    parser.add_argument("--shm-bytes", type=int, default=64 * MiB)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run")
    user = None
    if args.user:
        uid, gid = (int(part) for part in args.user.split(":"))
        user = SandboxUser(uid, gid)
    apply_rlimits(args.cpu, args.data, args.fsize, args.nproc)
    # Before the guard or the child starts, so every process of the run inherits it. A kernel
    # without seccomp filters still runs learner code, as a system without an rlimit does: the
    # run's IPC namespace (bubblewrap; process isolation as root) then ends its segments with it.
    seccomp.install()
    if args.guard:
        view = (
            _View(user, args.readable, args.writable, args.hide, args.tmp_bytes, args.shm_bytes)
            if user is not None else None
        )  # fmt: skip
        return _guard(command, view)
    if user is not None:
        try:
            drop_privileges(user)
        except OSError as exc:
            return _setup_failed(f"cannot start learner code as user {user.uid} ({exc})")
    os.execv(command[0], command)
    return 127  # not reached


# --- the watchdog (runs in the grader) --------------------------------------------------------


def children(pid: int) -> list[int]:
    """Direct children of ``pid``, from ``/proc/<pid>/task/<tid>/children`` (every thread's)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as handle:
                found.extend(int(p) for p in handle.read().split())
        except (OSError, ValueError):
            continue
    return found


def descendants(root: int) -> list[int]:
    """Every process below ``root``, parents before their children."""
    order: list[int] = []
    seen = {root}
    queue = [root]
    while queue:
        pid = queue.pop(0)
        for child in children(pid):
            if child not in seen:
                seen.add(child)
                order.append(child)
                queue.append(child)
    return order


def resident_bytes(pid: int) -> int:
    """Resident memory of one process (``/proc/<pid>/statm``, second field), 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def proportional_bytes(pid: int) -> int:
    """Proportional set size of one process (``/proc/<pid>/smaps_rollup``): its private pages
    plus its share of pages shared with others. Falls back to the resident size."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return resident_bytes(pid)


try:
    _PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
except (ValueError, OSError, AttributeError):
    _PAGE_SIZE = 4096

PROC_AVAILABLE = Path("/proc/self/task").is_dir()


def folder_bytes(folder: Path, max_entries: int = 20_000) -> int:
    """Bytes on disk under ``folder``, without following links. A folder of more than
    ``max_entries`` entries counts as over any limit: that many files is itself the problem."""
    total = 0
    entries = 0
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as scan:
                for entry in scan:
                    entries += 1
                    if entries > max_entries:
                        return sys.maxsize
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(Path(entry.path))
                        else:
                            total += entry.stat(follow_symlinks=False).st_blocks * 512
                    except OSError:
                        continue
        except OSError:
            continue
    return total


SHARED_POLL_S = 0.5  # how often it looks for memory held outside processes (memfd, tmpfs)
# The memory-backed file systems learner code can write to: counted as memory when they are the
# sandbox's own (bubblewrap's, or the private ones of process isolation as root).
PRIVATE_TMPFS = ("tmp", "dev/shm")


def memfd_bytes(pids: Sequence[int]) -> int:
    """Memory held in ``memfd_create`` files (and, with ``shared_tmpfs_paths``, host tmpfs
    files) that the processes keep open but have not mapped: no process's resident size shows
    it (measured: 5.25 GB held that way against a 4 GB limit went unseen). Each file counts once,
    by the memory it has allocated; a mapped one shows in the resident size already."""
    mapped: set[int] = set()
    held: dict[tuple[int, int], int] = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/maps", "rb") as handle:
                for line in handle:
                    if b"/memfd:" in line:
                        fields = line.split()
                        if len(fields) >= 5 and fields[4].isdigit():
                            mapped.add(int(fields[4]))
        except OSError:
            pass
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if not target.startswith("/memfd:"):
                    continue
                info = os.stat(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            held[(info.st_dev, info.st_ino)] = info.st_blocks * 512
    return sum(size for (_, inode), size in held.items() if inode not in mapped)


def private_tmpfs_bytes(pids: Sequence[int]) -> int:
    """Bytes stored in the sandbox's own ``/tmp`` and ``/dev/shm`` (memory-backed), seen through
    a sandboxed process's root; 0 where they are the machine's own (not the run's to count)."""
    for pid in reversed(pids):  # the newest processes are the sandbox's, inside its namespaces
        total = 0
        private = False
        for name in PRIVATE_TMPFS:
            try:
                inside = os.stat(f"/proc/{pid}/root/{name}")
                if inside.st_dev == os.stat(f"/{name}").st_dev:
                    continue  # the machine's own folder: other users' files are in it too
                usage = os.statvfs(f"/proc/{pid}/root/{name}")
            except OSError:
                continue
            private = True
            total += (usage.f_blocks - usage.f_bfree) * usage.f_frsize
        if private:
            return total
    return 0


@dataclass
class TreeWatch:
    """Samples the process tree under ``root`` and says which limit, if any, it is over.

    Memory is the tree's resident memory plus what it holds outside any process's resident
    size: ``memfd_create`` files it keeps open, and (``private_tmpfs``: the sandbox has its own
    ``/tmp`` and ``/dev/shm``) the files in its memory-backed folders. Where cgroups are
    available (``grader.sandbox.cgroups``) the kernel counts all of it anyway.
    """

    root: int
    limits: SandboxLimits
    scratch: Path | None = None
    private_tmpfs: bool = False
    peak_memory: int = 0
    peak_processes: int = 0
    _next_disk: float = 0.0
    _next_shared: float = 0.0
    _shared: int = 0

    def check(self) -> str | None:
        if not PROC_AVAILABLE:
            return None
        tree = descendants(self.root)
        processes = len(tree) + 1
        self.peak_processes = max(self.peak_processes, processes)
        if processes > self.limits.processes:
            return "processes"
        # Resident memory of each process, added up (cheap, and exact for one process). Forked
        # copies share pages that this counts once per process, so a sum over the limit is
        # checked again with each process's proportional share of shared pages (PSS): a fork of
        # a 600 MB TensorFlow process does not use another 600 MB.
        pids = (self.root, *tree)
        now = time.monotonic()
        if now >= self._next_shared:
            # Every half second: reading every process's maps costs a few milliseconds.
            self._next_shared = now + SHARED_POLL_S
            self._shared = memfd_bytes(pids) + (private_tmpfs_bytes(tree) if self.private_tmpfs else 0)
        memory = sum(resident_bytes(pid) for pid in pids) + self._shared
        if memory > self.limits.memory_bytes and len(pids) > 1:
            memory = sum(proportional_bytes(pid) for pid in pids) + self._shared
        self.peak_memory = max(self.peak_memory, memory)
        if memory > self.limits.memory_bytes:
            return "memory"
        if self.scratch is not None and now >= self._next_disk:
            self._next_disk = now + DISK_POLL_S
            if folder_bytes(self.scratch) > self.limits.disk_bytes:
                return "file_size"
        return None


def kill_tree(root: int) -> None:
    """Kill ``root`` and every process below it, including ones that left its process group.

    The tree is frozen first (SIGSTOP, repeated until no new process appears), so a fork bomb
    cannot outrun the killing; then everything gets SIGKILL, the children before ``root``: while
    the guard lives, orphans are re-parented to it and stay findable.
    """
    if PROC_AVAILABLE:
        # The direct children first: under bubblewrap that is the sandbox's init, whose death
        # makes the kernel end every process of its PID namespace at once.
        for pid in children(root):
            _signal(pid, signal.SIGKILL)
        kill_tree_below(root)
    try:
        os.killpg(root, signal.SIGKILL)  # the process group, as started (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass
    _signal(root, signal.SIGKILL)


def kill_tree_below(root: int) -> None:
    """Freeze, then kill, every process below ``root`` (not ``root`` itself)."""
    stopped: list[int] = []
    seen: set[int] = set()
    for _ in range(50):
        fresh = [pid for pid in descendants(root) if pid not in seen]
        if not fresh:
            break
        for pid in fresh:
            _signal(pid, signal.SIGSTOP)
        seen.update(fresh)
        stopped.extend(fresh)
    for pid in reversed(stopped):
        _signal(pid, signal.SIGKILL)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def limit_of_signal(signum: int) -> str | None:
    """The limit a kernel-sent signal stands for: SIGXCPU is the CPU limit."""
    try:
        return _SIGNAL_LIMITS.get(signal.Signals(signum))
    except ValueError:
        return None


if __name__ == "__main__":
    sys.exit(main())
