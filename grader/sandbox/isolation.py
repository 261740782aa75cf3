"""Which isolation the sandbox uses, and the bubblewrap command line that builds it.

Two kinds (``--sandbox bwrap|process``; the default, "auto", is bubblewrap when it works here):

``bwrap``
    The child runs inside `bubblewrap <https://github.com/containers/bubblewrap>`_ (Debian
    package ``bubblewrap``), in namespaces of its own:

    - **files**: a new, read-only root holding only the system folders (``/usr``, ``/etc``,
      ``/lib*``...), the Python installation, the grader package, the *served* folders (the
      training split only) and the TFDS copies made from them. The grader's cache, the system
      dataset folders, Keras's cache and any ``--data-dir`` are not there at all (and wherever
      one lies inside a bound folder, an empty folder covers it), so the test split of every
      dataset is out of reach. The only writable places are the run's scratch folder, a private
      ``/tmp`` and ``/dev/shm`` (both size-limited, memory-backed). The submission's folder,
      the report folder and the grader's cache are not visible, let alone writable;
    - **network**: none (``--unshare-net``: only a loopback of its own);
    - **System V shared memory**: none (``shmget`` fails with ``EPERM``: the seccomp filter of
      ``grader.sandbox.seccomp``, which the limits wrapper installs in both isolations);
    - **processes**: a PID namespace (``--unshare-pid``): the grader is invisible, ``kill(-1)``
      reaches only the sandbox, and when bubblewrap dies (``--die-with-parent``) the kernel ends
      every process in it;
    - **user**: for an ordinary grader, uid 65534 in a user namespace of its own, with no
      capabilities and no way to make further namespaces (``--disable-userns``); the
      namespace's user is the grader's own user on the host, so file access is limited by what
      is bound (read-only) and hidden, not by permissions: ``/etc/shadow`` and the like are
      covered too. For a grader run as root, no user namespace (in one, the sandbox's user
      would be root on the host, owner of root's files and exempt from ``RLIMIT_NPROC``):
      bubblewrap keeps only CAP_SETUID and CAP_SETGID, and the limits wrapper becomes the real
      user "nobody" (``sandbox_user``), which clears them, before learner code starts.

``process``
    The child is a separate process (its own session and process group, the limits of
    ``grader.sandbox.limits``, a guard process between it and the grader, HOME and TMPDIR in the
    scratch folder). For a grader run as root, it runs as "nobody" in PID, mount and IPC
    namespaces of its own: ``kill(-1)`` reaches only the run, nothing it starts outlives it,
    the grader's cache and dataset folders are empty, and ``/tmp`` and ``/dev/shm`` are its own
    (``grader.sandbox.limits.private_view``); the network is the machine's. System V shared
    memory is refused as under bubblewrap (``grader.sandbox.seccomp``). For an ordinary
    grader it runs as the grader's user, so it could read the test split, write outside its
    scratch folder, open network connections or signal other processes of that user: use it
    only where bubblewrap cannot run. The result says which isolation was used, and unattended
    commands never choose it by themselves (``isolation_for_unattended_run``).

Whether bubblewrap works is found out by running it once (cached for the process): it needs
user namespaces, which some containers and hardened kernels do not allow.
"""

from __future__ import annotations

import functools
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import GraderError
from grader.messages import sandbox as say_sandbox
from grader.sandbox.limits import SandboxUser

ISOLATIONS = ("bwrap", "process")
SANDBOX_UID = 65534  # "nobody": an unprivileged user inside the sandbox's user namespace

# System folders bound read-only (or re-created as the same symlinks, on merged-/usr systems).
SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Files of /etc nobody's code needs and no learner should read.
SECRET_SYSTEM_FILES = ("/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/sudoers")
SECRET_SYSTEM_DIRS = ("/etc/ssh", "/etc/sudoers.d", "/etc/ssl/private")

# The namespaces and hardening every sandbox gets (and the detection probe checks).
NAMESPACE_FLAGS = (
    # Every namespace (what --unshare-all gives, spelled out; it omits the user namespace for
    # root, and the user namespace is what takes root's capabilities away):
    "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
    "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
    "--disable-userns",  # no nested user namespace to win capabilities back
    "--cap-drop", "ALL",
    "--die-with-parent",  # if the grader dies, the sandbox dies with it
    "--new-session",  # no controlling terminal to inject keystrokes into
    "--hostname", "sandbox",
)  # fmt: skip


# The same sandbox for a grader run as root. Without a user namespace of its own (in one, the
# sandbox's user would be root on the host, with root's own files writable to it and no process
# limit from the kernel), bubblewrap keeps only the capabilities the limits wrapper needs to
# become "nobody" (``grader.sandbox.limits.drop_privileges``), which clears them for good before
# learner code starts.
PRIVILEGED_NAMESPACE_FLAGS = (
    "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
    "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
    "--die-with-parent",
    "--new-session",
    "--hostname", "sandbox",
)  # fmt: skip


def namespace_flags() -> tuple[str, ...]:
    """The namespace flags for this grader: ``PRIVILEGED_NAMESPACE_FLAGS`` when it runs as root."""
    return PRIVILEGED_NAMESPACE_FLAGS if sandbox_user() is not None else NAMESPACE_FLAGS


@functools.cache
def sandbox_user() -> SandboxUser | None:
    """The user learner code runs as: "nobody" when the grader runs as root (in every isolation
    mode), None (the grader's own user) otherwise."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        raise IsolationUnavailableError(say_sandbox.isolation_problem("no_nobody")) from None
    return SandboxUser(uid=entry.pw_uid, gid=entry.pw_gid, name="nobody")


class IsolationUnavailableError(GraderError):
    """``--sandbox bwrap`` was asked for where bubblewrap cannot run."""


@dataclass(frozen=True)
class IsolationChoice:
    kind: str  # "bwrap" or "process"
    note: str = ""  # why it is not bubblewrap, for the result; "" when it is what was asked


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def bwrap_problem() -> str | None:
    """Why bubblewrap cannot isolate the child here, or None when it can.

    Tried once per process, with the same namespaces as a real run: an installed bwrap can still
    fail (no user namespaces in a container, a kernel that forbids them).
    """
    if not sys.platform.startswith("linux"):
        return say_sandbox.bwrap_problem("not_linux", platform=sys.platform)
    executable = bwrap_path()
    if executable is None:
        return say_sandbox.bwrap_problem("not_installed")
    probe = [
        executable, *namespace_flags(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
        "--size", str(1024 * 1024), "--tmpfs", "/tmp", "true",
    ]  # fmt: skip
    try:
        done = subprocess.run(probe, stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return say_sandbox.bwrap_problem("not_started", reason=str(exc))
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return say_sandbox.bwrap_problem("not_working", reason=reason[-1] if reason else "", exit_code=done.returncode)
    return None


def choose_isolation(requested: str = "auto") -> IsolationChoice:
    """The isolation to use for ``requested`` ("auto", "bwrap" or "process")."""
    if requested == "process":
        return IsolationChoice("process")
    if requested not in ("auto", "bwrap"):
        raise GraderError(say_sandbox.isolation_problem("unknown", requested=requested))
    problem = bwrap_problem()
    if problem is None:
        return IsolationChoice("bwrap")
    if requested == "bwrap":
        raise IsolationUnavailableError(say_sandbox.isolation_problem("bwrap_asked", problem=problem))
    return IsolationChoice("process", say_sandbox.process_isolation_note(problem))


def isolation_for_unattended_run(requested: str, command: str) -> str:
    """The isolation a run nobody watches uses (``grade batch``, ``grade validate``, ``grade
    gradescope``), decided once before anything is graded: "bwrap" or "process".

    Such runs never fall back to process isolation on their own: a learner at a terminal reads
    the note saying so, but a gradebook would silently hold grades of learner code that could
    read the test split. So "auto" means bubblewrap, and where it cannot run the command stops
    with one sentence, unless ``--sandbox process`` was given explicitly. The batch records the
    returned kind on every row.
    """
    if requested == "process":
        return "process"
    if requested not in ("auto", "bwrap"):
        raise GraderError(say_sandbox.isolation_problem("unknown", requested=requested))
    problem = bwrap_problem()
    if problem is None:
        return "bwrap"
    raise IsolationUnavailableError(say_sandbox.isolation_problem("unattended", command=command, problem=problem))


# --- the bubblewrap command line ---------------------------------------------------------------


@dataclass
class BwrapLayout:
    """What the sandbox may see. Paths keep their host names inside, so the plan's paths work."""

    scratch: Path  # read-write: the child's working folder, evidence and model
    workdir: Path  # where the child starts (inside scratch)
    readable: list[Path] = field(default_factory=list)  # read-only extras: served data, TFDS copies
    hidden: list[Path] = field(default_factory=list)  # never visible, even inside a bound folder
    tmp_bytes: int = 256 * 1024 * 1024
    shm_bytes: int = 64 * 1024 * 1024


def python_dirs() -> list[Path]:
    """Folders the Python interpreter and its installed packages live in.

    Not every entry of ``sys.path``: it also holds the folder the grader was started from and,
    for an editable install, the project's own folder, which may hold submissions or data.
    """
    candidates: list[str] = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            candidates.append(sysconfig.get_paths()[key])
        except KeyError:
            pass
    candidates += site.getsitepackages()
    if site.ENABLE_USER_SITE:
        candidates.append(site.getusersitepackages())
    candidates.append(str(Path(sys.executable).resolve().parent))
    return _outermost(Path(c) for c in candidates if c and Path(c).is_dir())


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """The paths, resolved, without any that lie inside another one."""
    unique = sorted({Path(os.path.realpath(p)) for p in paths}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in unique:
        if not any(_inside(path, outer) for outer in kept):
            kept.append(path)
    return kept


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def bwrap_command(layout: BwrapLayout, command: Sequence[str], package_dir: Path) -> list[str]:
    """The full ``bwrap ... -- command`` line for ``layout``.

    ``package_dir`` is the grader package's folder (``.../grader``): bound alone, not the
    project around it (its tests, solutions and any data next to them stay out of sight).
    Mounts apply in order: system and Python first, then empty folders over anything hidden
    inside them, then the served data and the scratch folder (which may lie inside a hidden
    folder, like the served data inside the grader's cache).
    """
    executable = bwrap_path() or "bwrap"
    args: list[str] = [executable, *namespace_flags()]
    bound: list[Path] = []
    made: set[Path] = set()

    def parents(path: Path) -> None:
        """Folders on the way to a mount point, made by hand (0755): bubblewrap would make them
        private to their owner, and learner code runs as "nobody" when the grader runs as root."""
        for folder in reversed(Path(path).parents):
            if folder == Path("/") or folder in made or any(_inside(folder, b) for b in bound):
                continue
            args.extend(["--perms", "0755", "--dir", str(folder)])
            made.add(folder)

    for name in SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
            bound.append(path)
    # The private /tmp comes before Python and the grader package are bound: either may live
    # under /tmp (a CI checkout, a venv there), and a later tmpfs would hide it.
    args += ["--proc", "/proc", "--dev", "/dev"]
    # World-writable with the sticky bit, as on any system, for whichever user the code runs as.
    args += ["--perms", "1777", "--size", str(layout.shm_bytes), "--tmpfs", "/dev/shm"]
    args += ["--perms", "1777", "--size", str(layout.tmp_bytes), "--tmpfs", "/tmp"]
    made.update({Path("/dev"), Path("/tmp"), Path("/proc")})
    # Python and its packages, when they live outside the system folders (pyenv, a venv...).
    # A Python folder that holds a hidden one (a data folder under a venv) is still bound; the
    # hidden folder is covered below.
    for path in python_dirs():
        if not any(_inside(path, b) for b in bound):
            parents(path)
            args += ["--ro-bind", str(path), str(path)]
            bound.append(path)
    package_dir = Path(os.path.realpath(package_dir))
    if not any(_inside(package_dir, b) for b in bound):
        parents(package_dir)
        args += ["--ro-bind", str(package_dir), str(package_dir)]
        bound.append(package_dir)
    # Secrets: system files, then every folder that may hold a test split, where it is visible.
    for secret in SECRET_SYSTEM_FILES:
        if Path(secret).is_file():
            args += ["--ro-bind", "/dev/null", secret]
    read_only = ["/dev", "/"]  # remounted last: bwrap may still need to make mount points
    covered: list[Path] = []
    for secret_dir in [*map(Path, SECRET_SYSTEM_DIRS), *layout.hidden]:
        for variant in _spellings(secret_dir):
            if variant.is_dir() and any(_inside(variant, b) for b in bound):
                args += ["--tmpfs", str(variant)]
                read_only.insert(0, str(variant))
                covered.append(variant)
    # A hidden folder wide enough to hold Python or the grader (a --data-dir of /usr/lib, say)
    # must not take them away: they are bound again on top of the empty folder.
    for path in [*python_dirs(), package_dir]:
        if any(_inside(path, hidden) for hidden in covered):
            args += ["--ro-bind", str(path), str(path)]
    for path in layout.readable:
        real = Path(os.path.realpath(path))
        if real.exists():
            parents(real)
            args += ["--ro-bind", str(real), str(real)]
            if real != Path(path):  # the plan names the path as given
                parents(Path(path))
                args += ["--ro-bind", str(real), str(path)]
    parents(layout.scratch)
    args += ["--bind", str(layout.scratch), str(layout.scratch)]
    # Empty folders over secrets stay empty, and bubblewrap's own /dev and / are writable,
    # unbounded tmpfs: only the scratch folder, /tmp and /dev/shm stay writable.
    for mount_point in read_only:
        args += ["--remount-ro", mount_point]
    args += ["--chdir", str(layout.workdir)]
    return [*args, "--", *command]


def _spellings(path: Path) -> list[Path]:
    """A path as given and resolved (a hidden folder may be reached through a symlink)."""
    path = Path(path).expanduser()
    real = Path(os.path.realpath(path))
    return [path] if real == path else [path, real]
