"""Folders and records that learner code wrote: removed and read without trusting their shape.

Everything in a sandbox's scratch folder may have been made by learner code, which can build
shapes the standard library's helpers do not survive:

- A folder tree thousands of levels deep (``d/d/d/...``, made with ``mkdir`` relative to an open
  folder, so no path is ever too long for the learner). ``shutil.rmtree`` of Python 3.11 recurses
  once per level and raises ``RecursionError``, which ``ignore_errors=True`` does not catch, and
  the tree's paths are longer than ``PATH_MAX``. The grader then crashed after grading and left
  the scratch folder (with whatever large files sat at the bottom) on the disk.
  ``remove_tree`` walks the tree iteratively, by file descriptor, never by path.
- A JSON record nested thousands of levels deep (a list nested 3,000 times in a model's compile
  config, saved by the child into evidence.json and into the model's config.json).
  ``json.loads`` raises ``RecursionError`` on it, and anything that walks a structure that did
  parse recursively may too. ``load_record`` refuses a record nested deeper than
  ``MAX_RECORD_DEPTH`` with ``RecordTooDeepError``, a ``ValueError``, so it takes the path of any
  other malformed record.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_RECORD_DEPTH = 100
"""The deepest nesting of lists and objects a record from the sandbox may have. The grader's own
records nest about 10 levels (a functional model's config inside evidence.json, under 20); 100
leaves room for nested models and keeps every later recursive walk far from Python's limit."""

_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_RM_TIMEOUT_S = 600  # the fallback's bound: a tree of millions of files still goes in minutes


# --- removing a folder tree --------------------------------------------------------------------


@dataclass
class _Level:
    """One folder on the way down: its name in its parent, its identity, the subfolders left."""

    name: str
    device: int
    inode: int
    subfolders: list[str] = field(default_factory=list)


def remove_tree(path: str | os.PathLike[str]) -> list[str]:
    """Remove the folder tree at ``path`` that learner code wrote into; never raises.

    Handles any depth, size, permission bits and file names: the walk is iterative and holds one
    open folder at a time (a tree 5,000 levels deep needs neither 5,000 stack frames nor 5,000
    descriptors), works relative to that folder's descriptor (no path is ever longer than one
    name), makes each folder writable before emptying it, and never follows a symbolic link (a
    link is removed, not what it points to). It stays on the file system ``path`` is on. What
    this walk leaves (a race with a process still writing, an undeletable file) is handed to
    ``rm -rf --one-file-system``, which handles any depth too.

    Returns what could not be removed (empty when the tree is gone), and logs it.
    """
    problems: list[str] = []
    target = Path(path)
    try:
        _remove_tree_by_descriptor(target, problems)
    except Exception as exc:  # noqa: BLE001 - cleanup must never fail a grading; the fallback follows
        problems.append(f"{target}: {type(exc).__name__}: {exc}")
    if os.path.lexists(target):
        problems = _remove_with_rm(target, problems)
    elif problems:
        problems = []  # the fallback removed what the walk could not
    if problems:
        log.warning("could not remove all of %s: %s", target, "; ".join(problems[:5]))
    return problems


def _remove_tree_by_descriptor(target: Path, problems: list[str]) -> None:
    parent_fd = os.open(target.parent, _OPEN_DIR)
    try:
        try:
            info = os.lstat(target.name, dir_fd=parent_fd)
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(info.st_mode):
            os.unlink(target.name, dir_fd=parent_fd)  # a file or a link: removed, never followed
            return
        top_device = info.st_dev
        top_fd = _enter(parent_fd, target.name, info, problems)
    finally:
        os.close(parent_fd)
    if top_fd is None:
        return
    levels = [_Level(target.name, info.st_dev, info.st_ino)]
    fd = top_fd
    failed: set[tuple[int, int]] = set()  # folders that could not be opened or emptied: not retried
    try:
        levels[-1].subfolders = _empty_files(fd, top_device, problems)
        while levels:
            level = levels[-1]
            if level.subfolders:
                name = level.subfolders.pop()
                try:
                    child = os.lstat(name, dir_fd=fd)
                except OSError as exc:
                    problems.append(f"{name}: {exc.strerror}")
                    continue
                key = (child.st_dev, child.st_ino)
                if not stat.S_ISDIR(child.st_mode):
                    _unlink(fd, name, problems)  # swapped for a file or link since the listing
                    continue
                if key in failed or child.st_dev != top_device:
                    continue
                child_fd = _enter(fd, name, child, problems)
                if child_fd is None:
                    failed.add(key)
                    continue
                os.close(fd)
                fd = child_fd
                levels.append(_Level(name, child.st_dev, child.st_ino))
                levels[-1].subfolders = _empty_files(fd, top_device, problems)
                continue
            # This folder is empty (or holds only what could not be removed): up, and remove it.
            levels.pop()
            if not levels:
                break
            up = os.open("..", _OPEN_DIR, dir_fd=fd)
            up_info = os.fstat(up)
            if (up_info.st_dev, up_info.st_ino) != (levels[-1].device, levels[-1].inode):
                # The tree was moved while being removed: stop here; the fallback takes over.
                os.close(up)
                problems.append(f"{level.name}: moved during removal")
                return
            os.close(fd)
            fd = up
            try:
                os.rmdir(level.name, dir_fd=fd)
            except OSError as exc:
                failed.add((level.device, level.inode))
                problems.append(f"{level.name}: {exc.strerror}")
    finally:
        os.close(fd)
    parent_fd = os.open(target.parent, _OPEN_DIR)
    try:
        os.rmdir(target.name, dir_fd=parent_fd)
    finally:
        os.close(parent_fd)


def _enter(parent_fd: int, name: str, info: os.stat_result, problems: list[str]) -> int | None:
    """Open the folder ``name`` (found by lstat as ``info``) and make it writable by its owner,
    so that its entries can be removed; None when it cannot be opened."""
    try:
        fd = os.open(name, _OPEN_DIR, dir_fd=parent_fd)
    except PermissionError:
        # Mode 000 or similar: give the owner its rights back (the folder is ours) and retry.
        try:
            os.chmod(name, stat.S_IRWXU, dir_fd=parent_fd)
            fd = os.open(name, _OPEN_DIR, dir_fd=parent_fd)
        except OSError as exc:
            problems.append(f"{name}: {exc.strerror}")
            return None
    except OSError as exc:
        problems.append(f"{name}: {exc.strerror}")
        return None
    opened = os.fstat(fd)
    if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
        os.close(fd)  # swapped between the lstat and the open
        problems.append(f"{name}: changed during removal")
        return None
    if opened.st_mode & stat.S_IRWXU != stat.S_IRWXU:
        try:
            os.fchmod(fd, stat.S_IMODE(opened.st_mode) | stat.S_IRWXU)
        except OSError:
            pass  # not ours: the removals below say what stayed
    return fd


def _empty_files(fd: int, device: int, problems: list[str]) -> list[str]:
    """Remove every entry of the open folder ``fd`` that is not a folder; return the subfolders
    (those on another file system are left alone, like ``rm --one-file-system``)."""
    subfolders: list[str] = []
    with os.scandir(fd) as entries:
        for entry in entries:
            try:
                is_folder = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_folder = False
            if is_folder:
                subfolders.append(entry.name)
            else:
                _unlink(fd, entry.name, problems)
    return subfolders


def _unlink(fd: int, name: str, problems: list[str]) -> None:
    try:
        os.unlink(name, dir_fd=fd)
    except FileNotFoundError:
        pass
    except OSError as exc:
        problems.append(f"{name}: {exc.strerror}")


def _remove_with_rm(target: Path, problems: list[str]) -> list[str]:
    """The fallback: coreutils rm, whose walk handles any depth; returns what is still left."""
    rm = shutil.which("rm")
    if rm is None:
        return [*problems, f"{target}: still present (no rm to fall back on)"]
    try:
        done = subprocess.run(
            [rm, "-rf", "--one-file-system", "--", str(target)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_RM_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return [*problems, f"{target}: rm failed: {exc}"]
    if os.path.lexists(target):
        detail = done.stderr.decode("utf-8", errors="replace").strip().splitlines()[:3]
        return [*problems, f"{target}: still present after rm ({' / '.join(detail)})"]
    return []


@contextmanager
def scratch_folder(prefix: str, directory: str | os.PathLike[str] | None = None) -> Iterator[Path]:
    """A private temporary folder (``tempfile.mkdtemp``) removed with ``remove_tree`` on leaving:
    ``tempfile.TemporaryDirectory`` for folders that learner code may write into, whose cleanup
    raises on a deep tree and then hides the block's own result or exception."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=directory))
    try:
        yield folder
    finally:
        remove_tree(folder)


# --- reading a record ----------------------------------------------------------------------------


class RecordTooDeepError(ValueError):
    """A JSON record from the sandbox nests lists and objects deeper than ``MAX_RECORD_DEPTH``.
    The message names the file, for the learner."""


# A JSON string (with its escapes); brackets inside strings do not nest anything. Possessive and
# with an optional closing quote, so that an unterminated string never makes the search retry
# from every later quote (quadratic time on a crafted file).
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*+"?', re.DOTALL)
_NOT_A_BRACKET = re.compile(rb"[^\[\]{}]+")


def record_depth(text: bytes | str) -> int:
    """How deeply a JSON text nests lists and objects, counted without parsing it (so without
    recursion), in time linear in its length. For invalid JSON the figure is only an estimate,
    and the parser rejects the text anyway."""
    import numpy as np

    data = text.encode("utf-8", errors="surrogatepass") if isinstance(text, str) else bytes(text)
    brackets = np.frombuffer(_NOT_A_BRACKET.sub(b"", _JSON_STRING.sub(b"", data)), dtype=np.uint8)
    if not brackets.size:
        return 0
    opens = (brackets == ord("[")) | (brackets == ord("{"))
    return max(0, int(np.where(opens, 1, -1).cumsum().max()))


def load_record(text: bytes | str, *, file: str, max_depth: int = MAX_RECORD_DEPTH) -> Any:
    """``json.loads`` for a record learner code may have shaped. Raises ``ValueError`` for
    anything malformed, ``RecordTooDeepError`` (a ``ValueError``) for nesting deeper than
    ``max_depth``; never ``RecursionError``."""
    from grader.messages.sandbox import record_too_deep

    if record_depth(text) > max_depth:
        raise RecordTooDeepError(record_too_deep(file, max_depth))
    try:
        return json.loads(text)
    except RecursionError:  # the estimate above was fooled; the parser caught it all the same
        raise RecordTooDeepError(record_too_deep(file, max_depth)) from None
