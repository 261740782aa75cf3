"""The class roster: who should have handed something in (``grade batch ... --roster FILE``).

A roster is a CSV file with a header row: an ``id`` column (the course's own student id, used in
the gradebook) and any of ``name``, ``email``, ``lms_user_id`` (the Canvas user id or Moodle
participant id of the bulk download), ``sis_id``, ``section``. Header names are matched without
regard to case, spaces or hyphens, and a few common spellings are understood (``student id``,
``canvas id``, ``moodle id``, ``sis user id``...).

With a roster every roster student gets a gradebook row (``missing`` when nothing was handed in),
and a submission that matches no roster student is graded and listed with a note, never dropped.
A submission is matched, in this order, by the LMS id of its download layout, by its id (the file
or folder name) against the roster's id, email or email's local part, then by name (letters
only, either order of the words: Canvas writes "smithjane" for "Jane Smith").
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.batch.discover import Discovery, Student, safe_id
from grader.errors import UsageError

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "student_id", "studentid", "student", "username", "login", "login_id"),
    "name": ("name", "full_name", "fullname", "student_name"),
    "email": ("email", "email_address", "e_mail", "mail"),
    "lms_user_id": (
        "lms_user_id",
        "lms_id",
        "user_id",
        "canvas_id",
        "canvas_user_id",
        "moodle_id",
        "participant",
        "participant_id",
    ),
    "sis_id": ("sis_id", "sis_user_id", "sis_login_id", "sis"),
    "section": ("section", "sections", "group"),
}


@dataclass(frozen=True)
class RosterStudent:
    id: str
    name: str = ""
    email: str = ""
    lms_user_id: str = ""
    sis_id: str = ""
    section: str = ""
    row: dict[str, str] = field(default_factory=dict)

    def as_row(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "email": self.email, "lms_user_id": self.lms_user_id,
                "sis_id": self.sis_id, "section": self.section}  # fmt: skip


def _normalise_header(name: str) -> str:
    return re.sub(r"[\s\-.]+", "_", name.strip().lower()).strip("_")


def load_roster(path: Path) -> list[RosterStudent]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read the roster {path}: {getattr(exc, 'strerror', None) or exc}") from None
    reader = csv.DictReader(text.splitlines())
    headers = {_normalise_header(h): h for h in reader.fieldnames or []}
    columns: dict[str, str] = {}
    for field_name, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in headers:
                columns[field_name] = headers[alias]
                break
    if "id" not in columns:
        found = ", ".join(reader.fieldnames or []) or "no header row"
        raise UsageError(
            f"The roster {path} needs an id column (the course's student id); its columns are: {found}. "
            "Optional columns: name, email, lms_user_id, sis_id, section."
        )
    students: list[RosterStudent] = []
    seen: set[str] = set()
    for number, row in enumerate(reader, start=2):
        values = {key: (row.get(column) or "").strip() for key, column in columns.items()}
        if not values["id"]:
            if any(values.values()):
                raise UsageError(f"The roster {path}, line {number}, has no id.")
            continue
        student_id = safe_id(values["id"])
        if student_id in seen:
            raise UsageError(f"The roster {path} lists the id {student_id} twice (line {number}).")
        seen.add(student_id)
        students.append(RosterStudent(
            id=student_id, name=values.get("name", ""), email=values.get("email", ""),
            lms_user_id=values.get("lms_user_id", ""), sis_id=values.get("sis_id", ""),
            section=values.get("section", ""), row={k: v for k, v in row.items() if k},
        ))  # fmt: skip
    if not students:
        raise UsageError(f"The roster {path} lists no students.")
    return students


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def _name_keys(name: str) -> set[str]:
    words = [w for w in re.split(r"[\s,]+", name.lower()) if w]
    if not words:
        return set()
    return {_letters("".join(words)), _letters("".join(reversed(words)))} - {""}


def apply_roster(discovery: Discovery, roster: list[RosterStudent]) -> Discovery:
    """Every roster student, with their submission or ``missing``; then the submissions that
    matched nobody (``on_roster=False``), under their own ids."""
    by_lms = {r.lms_user_id: r for r in roster if r.lms_user_id}
    by_id: dict[str, RosterStudent] = {}
    for r in roster:
        by_id.setdefault(r.id.lower(), r)
        if r.email:
            by_id.setdefault(r.email.lower(), r)
            by_id.setdefault(r.email.split("@")[0].lower(), r)
    by_name: dict[str, RosterStudent] = {}
    for r in roster:
        for key in _name_keys(r.name):
            by_name.setdefault(key, r)

    matched: dict[str, Student] = {}
    unmatched: list[Student] = []
    for student in discovery.students:
        found = (
            (by_lms.get(student.lms_user_id) if student.lms_user_id else None)
            or by_id.get(student.id.lower())
            or next(
                (by_name[k] for k in _name_keys(student.name or student.id) | {_letters(student.id)} if k in by_name),
                None,
            )
        )
        if found is None or found.id in matched:
            unmatched.append(replace(student, on_roster=False))
            continue
        matched[found.id] = replace(
            student, id=found.id, name=found.name or student.name, roster=found.as_row(), on_roster=True,
            lms_user_id=student.lms_user_id or found.lms_user_id,
        )  # fmt: skip
    students: list[Student] = []
    for r in roster:
        if r.id in matched:
            students.append(matched[r.id])
        else:
            students.append(Student(
                r.id, None, "nothing was handed in", name=r.name, lms_user_id=r.lms_user_id,
                roster=r.as_row(), on_roster=True, missing=True,
            ))  # fmt: skip
    taken = {s.id for s in students}
    for student in unmatched:
        student_id = student.id
        while student_id in taken:  # an unmatched file named like a roster id already taken
            student_id = safe_id(f"{student_id}_unmatched")
        taken.add(student_id)
        students.append(replace(student, id=student_id))
    return replace(discovery, students=sorted(students, key=lambda s: s.id), unmatched=sorted(s.id for s in unmatched))
