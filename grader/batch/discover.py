"""Find a class's submissions in a folder: one student per file, one student per folder, or an
LMS's bulk download as it was unpacked (nothing is renamed).

    submissions/
      alice.py            -> student "alice"
      bob.ipynb           -> student "bob"
      carol.keras         -> student "carol" (.keras, .h5 and .hdf5 are saved models)
      dave/               -> student "dave": the file inside named like the exercise's stub
        fashion_mnist.py     (or the only file of a kind the grader reads)
        notes.txt

    Canvas ("Download Submissions"): one file per submission, named
      smithjane_12345_67890_fashion_mnist.py        name, Canvas user id, submission id, file
      doejohn_late_23456_78901_fashion_mnist.py     "late": Canvas marked it late
    Moodle ("Download all submissions", in folders or not):
      Jane Smith_1234_assignsubmission_file_/fashion_mnist.py
      John Doe_2345_assignsubmission_file_fashion_mnist.py

The student id is the file's name without its suffix, or the folder's name, or for an LMS layout
the name the LMS gives; a roster (``grader.batch.roster``) maps them to the course's own ids.
Every id is made safe first: file names are chosen by students, and an id reaches the
instructor's terminal and spreadsheet (``grader.safe_text``).

A student whose submission cannot be picked (an empty folder, two candidates, two entries with
the same id, a symbolic link) is still listed, with the ``problem`` in words: the batch turns it
into an error row rather than silently dropping a student from the gradebook. Symbolic links are
never followed: a link to another student's file or to an instructor's file is not a submission.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

from grader.errors import UsageError
from grader.messages import interface as msg
from grader.safe_text import escape_invisible, printable
from grader.spec import ExerciseSpec

# The submission styles the pipeline reads: modules and scripts, notebooks, saved models (.hdf5
# is the same HDF5 format as .h5); a quiz is answered in a TOML file.
MODEL_SUFFIXES = (".py", ".ipynb", ".keras", ".h5", ".hdf5")
QUIZ_SUFFIXES = (".toml",)

# Folders that archives, editors and Jupyter leave behind; never a student's submission.
IGNORED_DIRS = {"__pycache__", "__MACOSX", ".ipynb_checkpoints", ".git", ".venv", "node_modules"}

ID_LIMIT = 80  # characters of a student id: enough for any name, short enough for a table

# Canvas: "<sortable name, lower case, no spaces>[_late]_<user id>_<submission id>_<file name>".
CANVAS_NAME = re.compile(
    r"^(?P<name>[^_]+?)(?P<late>_late)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$", re.IGNORECASE
)
# Moodle: "<Full Name>_<participant id>_assignsubmission_<plugin>_" + (a folder, or the file name).
MOODLE_NAME = re.compile(r"^(?P<name>.+?)_(?P<user>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.*)$")


@dataclass(frozen=True)
class Student:
    id: str
    submission: Path | None  # the file to grade, or None when there is a problem
    problem: str = ""  # why no file could be picked, for the gradebook's error row
    name: str = ""  # a display name (from the LMS layout or the roster)
    lms: str = ""  # "canvas", "moodle" or "" (a plain folder)
    lms_user_id: str = ""  # Canvas user id / Moodle participant id
    lms_entry: str = ""  # the LMS's own folder or file-name prefix (Moodle feedback files go there)
    submitted_at: datetime | None = None  # from the LMS layout or the file's modification time
    late_by_lms: bool = False  # Canvas's "_late_" marker
    roster: dict[str, str] = field(default_factory=dict)  # the roster's row, when there is one
    on_roster: bool | None = None  # None: no roster given
    missing: bool = False  # on the roster, nothing handed in


class _Identity(TypedDict):
    """What the LMS layout says about a student (``Student``'s fields of the same names)."""

    name: str
    lms: str
    lms_user_id: str
    lms_entry: str


@dataclass(frozen=True)
class Discovery:
    students: list[Student]
    ignored: list[Path]  # top-level files that are no submission (README.md, .DS_Store, ...)
    layout: str = "folder"  # "canvas", "moodle", "folder" or a mix ("canvas+folder")
    unmatched: list[str] = field(default_factory=list)  # with a roster: ids that match no roster student


def accepted_suffixes(spec: ExerciseSpec) -> tuple[str, ...]:
    return QUIZ_SUFFIXES if spec.kind == "quiz" else MODEL_SUFFIXES


def safe_id(raw: str) -> str:
    """A student id fit for a terminal, a spreadsheet and a folder name: control characters,
    newlines, bidi overrides and bytes that are not UTF-8 written as visible escapes
    (``grader.safe_text.escape_invisible``: ``bob\\x1b`` -> ``bob-x1b``, so a doctored name never
    becomes the clean one it imitates), path separators replaced, surrounding spaces and dots
    trimmed, bounded in length."""
    value = escape_invisible(raw)
    value = value.replace("/", "_").replace("\\", "_").strip().strip(".")
    value = re.sub(r"\s+", " ", value)[:ID_LIMIT].strip()
    return value or "unnamed"


@dataclass
class _Entry:
    """One top-level entry of the submissions folder, read as a student's."""

    id: str
    path: Path
    name: str = ""  # a display name (an LMS layout's)
    lms: str = ""
    lms_user_id: str = ""
    lms_entry: str = ""
    late: bool = False
    source: str = ""  # the name the id was made from (a plain folder's entries)


def discover_students(folder: Path, spec: ExerciseSpec) -> Discovery:
    """Every student in ``folder``, sorted by id."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(msg.batch_not_a_folder(str(folder)))
    suffixes = accepted_suffixes(spec)
    groups: dict[str, list[_Entry]] = {}
    ignored: list[Path] = []
    layouts: set[str] = set()
    for path in sorted(folder.iterdir()):
        if path.name in IGNORED_DIRS:
            continue
        if path.name.startswith("."):
            # Hidden: an editor's or the system's file (.DS_Store), never graded. One that looks
            # like a submission (.alice.py, ..py) is listed as skipped, so nobody vanishes unseen.
            if path.name.lower().endswith(suffixes) and not path.is_dir():
                ignored.append(path)
            continue
        entry = _read_entry(path, suffixes)
        if entry is None:
            ignored.append(path)
            continue
        layouts.add(entry.lms or "folder")
        # LMS entries belong together by the LMS's id (two "Jane Smith"s stay two students).
        groups.setdefault(f"{entry.lms}:{entry.lms_user_id}" if entry.lms else f"folder:{entry.id}", []).append(entry)

    students = []
    for _, entries in sorted(_keep_changed_names_apart(groups).items()):
        if any(e.lms_entry.endswith("_file_") for e in entries):
            # Moodle puts typed text (onlinetext) beside the files: the files are the submission.
            entries = [e for e in entries if not e.lms or e.lms_entry.endswith("_file_")]
        first = entries[0]
        student_id = first.id
        known = _Identity(name=first.name, lms=first.lms, lms_user_id=first.lms_user_id, lms_entry=first.lms_entry)
        if (
            first.lms == "moodle"
            and len(entries) > 1
            and all(not e.path.is_dir() and not e.path.is_symlink() for e in entries)
        ):
            # Moodle without folders: one student's several files share the prefix.
            picked, problem = _pick_among([e.path for e in entries], folder, spec, f"{first.name}'s files")
            students.append(_student(student_id, picked, problem, known, entries))
            continue
        if len(entries) > 1:
            names = ", ".join(escape_invisible(e.path.name) for e in entries)
            problem = f"{student_id} has {len(entries)} submissions ({names}); keep one."
            students.append(Student(student_id, None, problem, **known))
            continue
        given = first.path
        if given.is_symlink():
            problem = f"{escape_invisible(given.name)} is a symbolic link; the grader does not follow links. Hand in the file itself."
            students.append(Student(student_id, None, problem, **known))
        elif given.is_dir():
            picked, problem = pick_submission_file(given, spec)
            students.append(_student(student_id, picked, problem, known, entries))
        else:
            students.append(_student(student_id, given, "", known, entries))
    layout = "+".join(sorted(layouts)) if layouts else "folder"
    return with_unique_ids(Discovery(students=students, ignored=ignored, layout=layout))


def _read_entry(path: Path, suffixes: tuple[str, ...]) -> _Entry | None:
    """The student an entry belongs to, or None when it is nobody's submission."""
    is_dir = path.is_dir() and not path.is_symlink()
    moodle = MOODLE_NAME.match(path.name)
    if moodle and (is_dir or Path(moodle["file"]).suffix.lower() in suffixes or path.is_symlink()):
        name = printable(moodle["name"], keep_newlines=False).strip()
        prefix = f"{moodle['name']}_{moodle['user']}_assignsubmission_{moodle['plugin']}_"
        return _Entry(safe_id(name), path, name, "moodle", moodle["user"], prefix)
    canvas = CANVAS_NAME.match(path.name)
    if canvas and not is_dir and Path(canvas["file"]).suffix.lower() in suffixes:
        name = canvas["name"]
        return _Entry(
            safe_id(name), path, name, "canvas", canvas["user"], path.name[: -len(canvas["file"])], bool(canvas["late"])
        )
    if is_dir:
        return _Entry(safe_id(path.name), path, source=path.name)
    if path.is_symlink():  # a link is somebody's entry (an error row), never silently skipped
        source = path.stem if path.suffix.lower() in suffixes else path.name
        return _Entry(safe_id(source), path, source=source)
    if path.suffix.lower() in suffixes:
        return _Entry(safe_id(path.stem), path, source=path.stem)
    return None


def _keep_changed_names_apart(groups: dict[str, list[_Entry]]) -> dict[str, list[_Entry]]:
    """Entries of a plain folder share an id only when their names are the same: ``bob.py`` and
    ``bob.ipynb`` are one student with two files (an error row: keep one). A name that
    ``safe_id`` had to change (``bob .py``, a name cut at ID_LIMIT) must neither take the id of
    the clean name it resembles nor block that student: it gets an id of its own, the changed
    id plus a short digest of the name."""
    kept: dict[str, list[_Entry]] = {}
    for key, entries in groups.items():
        if entries[0].lms or len({entry.source for entry in entries}) == 1:
            kept.setdefault(key, []).extend(entries)
            continue
        for entry in entries:
            if entry.source != entry.id:
                digest = hashlib.sha256(entry.source.encode("utf-8", "surrogatepass")).hexdigest()[:6]
                entry.id = f"{entry.id[: ID_LIMIT - len(digest) - 1].rstrip(' .')}-{digest}"
            kept.setdefault(f"folder:{entry.id}", []).append(entry)
    return kept


def _student(student_id: str, path: Path | None, problem: str, known: _Identity, entries: list[_Entry]) -> Student:
    submitted_at = None
    if path is not None:
        try:
            submitted_at = datetime.fromtimestamp(path.lstat().st_mtime, tz=UTC)
        except OSError:
            pass
    late = any(e.late for e in entries)
    return Student(student_id, path, problem, submitted_at=submitted_at, late_by_lms=late, **known)


def with_unique_ids(discovery: Discovery) -> Discovery:
    """Two LMS students with the same name (two "Jane Smith"s) keep apart by their LMS id."""
    counts: dict[str, int] = {}
    for student in discovery.students:
        counts[student.id] = counts.get(student.id, 0) + 1
    students = [
        replace(s, id=safe_id(f"{s.id}_{s.lms_user_id}")) if counts[s.id] > 1 and s.lms_user_id else s
        for s in discovery.students
    ]
    return replace(discovery, students=sorted(students, key=lambda s: s.id))


def pick_submission_file(folder: Path, spec: ExerciseSpec) -> tuple[Path | None, str]:
    """The submission inside one student's folder, or None and why.

    Preference: a file named exactly like the stub (``fashion_mnist.py``), then the stub's name
    with another accepted suffix (``fashion_mnist.ipynb``), then the single candidate. Shallower
    files win at each step, so a copy of the stub in a sub-folder does not make a folder ambiguous.
    Symbolic links (files or folders) are never followed; a link where the submission would be
    is the student's problem, said in words.
    """
    candidates, links = _walk_candidates(folder, spec)
    return _pick_among(candidates, folder, spec, f"{escape_invisible(folder.name)}/", links)


def _pick_among(
    candidates: list[Path], folder: Path, spec: ExerciseSpec, where: str, links: list[Path] | None = None
) -> tuple[Path | None, str]:
    candidates = sorted(candidates, key=lambda p: (len(p.relative_to(folder).parts), str(p)))
    stub = Path(spec.stub)
    for matches in (
        [p for p in candidates if p.name == stub.name or _moodle_file(p.name) == stub.name],
        [p for p in candidates if Path(_moodle_file(p.name) or p.name).stem == stub.stem],
        candidates,
    ):
        if not matches:
            continue
        shallowest = [p for p in matches if len(p.parts) == len(matches[0].parts)]
        if len(shallowest) == 1:
            return shallowest[0], ""
        names = ", ".join(escape_invisible(str(p.relative_to(folder))) for p in shallowest)
        return None, msg.batch_several_submissions(where, names, spec.stub)
    if links:
        names = ", ".join(escape_invisible(str(p.relative_to(folder))) for p in links)
        return None, msg.batch_only_links(where, names)
    kinds = ", ".join(accepted_suffixes(spec))
    return None, msg.batch_no_submission(where, kinds, spec.stub)


def _moodle_file(name: str) -> str:
    match = MOODLE_NAME.match(name)
    return match["file"] if match else ""


def _walk_candidates(root: Path, spec: ExerciseSpec) -> tuple[list[Path], list[Path]]:
    """Files of an accepted kind below ``root``, without following links; and the links found
    where a candidate would be (reported, never read)."""
    suffixes = accepted_suffixes(spec)
    found: list[Path] = []
    links: list[Path] = []
    for current, dirs, files in os.walk(root, followlinks=False):
        here = Path(current)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in IGNORED_DIRS)
        for link in (here / d for d in list(dirs)):
            if link.is_symlink():
                links.append(link)
                dirs.remove(link.name)
        for name in sorted(files):
            path = here / name
            if name.startswith(".") or path.suffix.lower() not in suffixes:
                continue
            if path.is_symlink():
                links.append(path)
            elif path.is_file():
                found.append(path)
    return found, links
