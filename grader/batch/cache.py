"""Results cached by content, so an unchanged class is graded once.

The key of a submission's result is a SHA-256 over everything that decides it:

- the bytes of the submission file (not its name or path: a renamed file keeps its grade, and two
  students who hand in the same bytes share one grading run);
- the exercise spec (``exercise.toml`` as parsed, so a comment edit does not regrade a class,
  while a changed threshold or points value does);
- the grader version, and a digest of the grader's own code (every ``.py`` file of the package
  and the report templates), so a changed judge or evaluator regrades a class even when the
  version string was not bumped;
- the checksums of the dataset the exercise trains and tests on (none for a quiz);
- the options that change a result: the seed, the time limit and the sandbox asked for (a
  submission that reads files it should not can score differently without bubblewrap);
- the language of the feedback (``--lang``): an outcome holds its messages as sentences, so a
  ``grade batch --lang zh`` after an English run grades again rather than show English.

An entry is one JSON file, ``<cache dir>/<key>.json``, written atomically (temporary file, then
rename), so a batch killed at any moment leaves either the whole entry or none; a corrupt or
foreign file, or one whose outcome is not a ``TaskOutcome`` (``grader.batch.task``), reads as a
miss. Entries written by an earlier grader are never read at all: the key holds the digest of
the grader's code, so a new grader regrades (the entry layout itself is unchanged).
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from grader import __version__
from grader.atomic import write_atomically
from grader.batch.task import TaskOutcome
from grader.messages import current_language
from grader.spec import ExerciseSpec

CACHE_FORMAT = 2  # bumped when an entry's layout changes, which invalidates older entries


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.cache
def grader_code_digest() -> str:
    """SHA-256 over the grader package's source files and templates (relative path and bytes, in
    a fixed order): what decides a result besides the submission, the spec and the data."""
    from grader.spec import templates_root

    return code_digest(Path(__file__).resolve().parent.parent, templates_root())


def code_digest(package: Path, templates: Path | None = None) -> str:
    digest = hashlib.sha256()
    roots = [(package, "grader", "*.py")] + ([(templates, "templates", "*")] if templates is not None else [])
    for root, label, pattern in roots:
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob(pattern) if p.is_file() and "__pycache__" not in p.parts):
            digest.update(f"{label}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def spec_digest(spec: ExerciseSpec) -> str:
    # spec.raw is the parsed TOML: key order and comments do not change the digest.
    canonical = json.dumps(spec.raw, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def dataset_checksums(spec: ExerciseSpec, data_dir: Path | None) -> dict[str, str]:
    """The exercise's dataset checksum, or nothing for a quiz. Raises DataMissingError when the
    data is missing: no submission of a model exercise can be graded without it anyway."""
    if spec.kind == "quiz" or not spec.dataset:
        return {}
    from grader.datasets import load_dataset

    return {spec.dataset: load_dataset(spec.dataset, data_dir).checksum}


def cache_key(
    submission_digest: str,
    spec_hash: str,
    datasets: dict[str, str],
    *,
    seed: int | None,
    timeout_s: float | None,
    sandbox: str = "auto",
    grader_version: str = __version__,
    grader_code: str | None = None,
    language: str | None = None,
) -> str:
    """The key of one submission's result; ``language`` defaults to the current one."""
    material = {
        "grader_code": grader_code if grader_code is not None else grader_code_digest(),
        "format": CACHE_FORMAT,
        "submission": submission_digest,
        "spec": spec_hash,
        "grader": grader_version,
        "datasets": dict(sorted(datasets.items())),
        "seed": seed,
        "timeout_s": timeout_s,
        "sandbox": sandbox,
        "language": language if language is not None else current_language(),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode("utf-8")).hexdigest()


class ResultCache:
    """Outcomes by key, one file each."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str, *, since: float | None = None) -> TaskOutcome | None:
        """The outcome cached under ``key``; with ``since`` (a ``--regrade`` in progress) only an
        entry written at or after that time."""
        try:
            entry = json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        if since is not None:
            written = entry.get("written_at")
            if not isinstance(written, (int, float)) or written < since:
                return None
        try:
            return TaskOutcome.from_json(entry.get("outcome"))
        except ValueError:
            return None

    def put(self, key: str, outcome: TaskOutcome) -> Path:
        path = self.path(key)
        write_json_atomically(path, {"key": key, "written_at": time.time(), "outcome": outcome.to_json()})
        return path


def write_json_atomically(path: Path, content: Any) -> None:
    # Not ASCII-escaped: a lone surrogate would stay a "\udcff" escape, which strict JSON readers
    # refuse; as text, ``grader.atomic`` writes it as U+FFFD.
    write_text_atomically(path, json.dumps(content, indent=2, default=str, ensure_ascii=False) + "\n")


def write_text_atomically(path: Path, text: str) -> None:
    """A reader, or a batch restarted after ``kill -9``, sees the old file or the new one, never
    half of one (``grader.atomic``: a unique temporary name, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text)
