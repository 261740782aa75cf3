"""Write a file so that whoever reads it sees the old content or the new, never half of either.

    write_atomically(Path("out/report.html"), html)          # str (UTF-8) or bytes
    write_json_atomically(Path("out/grade.json"), {"score": 90})

The content goes to a temporary file beside the target (same folder, so the same file system),
is flushed to disk, and is then renamed over the target: on POSIX a rename is atomic, so a
browser, a CI upload or another grading process never sees a half-written file. The temporary
name is unique (``.<name>.<random>.tmp``), so two processes writing the same target at once do
not write into each other's temporary file; the last rename wins. After the rename the folder
is synced too, so after a power cut the target holds the new content, not zero bytes.

A failure (disk full, read-only folder) leaves the target as it was and no temporary file behind.
This is the one helper for the project: batch records, caches, results and reports use it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from grader.safe_text import without_surrogates

# Reports and results are meant to be read by others (an instructor, a web server): the usual
# mode of a new file, not mkstemp's owner-only 0600.
DEFAULT_MODE = 0o644


def write_atomically(path: Path | str, content: str | bytes, *, mode: int = DEFAULT_MODE) -> Path:
    """Replace ``path`` with ``content`` in one step; return the path.

    ``str`` content is written as UTF-8, a lone surrogate (learner text no UTF-8 file can hold,
    ``grader.safe_text.without_surrogates``) as U+FFFD: a character never fails a write. The
    parent folder must exist (creating folders is the caller's decision: a report folder yes, a
    folder named by a typo perhaps not).
    """
    path = Path(path)
    data = without_surrogates(content).encode("utf-8") if isinstance(content, str) else bytes(content)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            with contextlib.suppress(OSError):  # a file system without modes (some mounts)
                os.fchmod(handle.fileno(), mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _sync_folder(path.parent)
    return path


def write_json_atomically(path: Path | str, content: Any, *, indent: int | None = 2) -> Path:
    """``content`` as JSON (values JSON cannot hold are written with ``str``), atomically."""
    text = json.dumps(content, indent=indent, default=str, ensure_ascii=False) + "\n"
    return write_atomically(path, text)


def _sync_folder(folder: Path) -> None:
    # The rename lives in the folder's entry table; syncing the folder makes it durable.
    # Not every platform can open a folder (Windows cannot): best effort.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
