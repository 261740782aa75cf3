"""Grades in the import format of a learning management system (``grade batch ... --export``).

``canvas`` -> ``export/canvas_grades.csv``: Canvas's Gradebook import (Grades > Import). Canvas
    matches a row by one of ``Student`` (its sortable name), ``ID`` (the Canvas user id), ``SIS
    User ID`` or ``SIS Login ID``, and reads ``Section``; every further column is an assignment,
    named as in Canvas (``Assignment name (assignment id)`` matches an existing one). The row
    after the header may be ``Points Possible`` (Canvas's own export writes it, and its import
    accepts it). A student who was not graded gets an empty cell, which Canvas leaves unchanged.

``moodle`` -> ``export/moodle_grades.csv``: the assignment's offline grading worksheet ("Upload
    grading worksheet"): ``Identifier`` (``Participant <id>``, the number in the download's
    folder names), ``Full name``, ``Email address``, ``Status``, ``Grade``, ``Maximum Grade``,
    ``Grade can be changed``, ``Last modified (submission)``, ``Last modified (grade)``,
    ``Feedback comments``. For a Moodle download, also ``export/moodle_feedback_files.zip``: each
    student's reports in a folder named as in the download (``Full Name_id_assignsubmission_file_/``),
    the layout Moodle's "Upload multiple feedback files in a zip" matches back to students.

``csv`` -> ``export/grades.csv``: a plain, LMS-neutral sheet: student id, name, email, SIS id,
    section, points, points possible, percent, status.

Scores are final grades (scaled, late policy, overrides) out of the exercise's points. Only
students the LMS knows are exported to Canvas and Moodle; with a roster, only roster students (a
file that matched nobody on it is left for the instructor to sort out, never imported).
Every text cell goes through ``spreadsheet_cell``.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from grader.batch.cache import write_text_atomically
from grader.batch.gradebook import note
from grader.batch.records import StudentRecord
from grader.safe_text import spreadsheet_cell, without_surrogates
from grader.spec import ExerciseSpec

EXPORTS = ("canvas", "moodle", "csv")
CANVAS_FIXED = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_COLUMNS = (
    "Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade", "Grade can be changed",
    "Last modified (submission)", "Last modified (grade)", "Feedback comments",
)  # fmt: skip
PLAIN_COLUMNS = ("student_id", "name", "email", "sis_id", "section", "points", "points_possible", "percent", "status")
FEEDBACK_FILES = ("report.html", "report.md")


def _points(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _importable(record: StudentRecord) -> bool:
    return record.student is None or record.student.on_roster is not False


def _roster(record: StudentRecord) -> dict[str, str]:
    return record.student.roster if record.student is not None else {}


def _name(record: StudentRecord) -> str:
    return _roster(record).get("name") or (record.student.name if record.student else "") or record.id


def _csv(columns: tuple[str, ...] | list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([spreadsheet_cell(cell) for cell in row])
    return buffer.getvalue()


def canvas_sortable_name(name: str) -> str:
    """Canvas's ``Student`` column: "Last, First"."""
    words = name.split()
    return f"{words[-1]}, {' '.join(words[:-1])}" if len(words) > 1 else name


def canvas_csv(records: list[StudentRecord], spec: ExerciseSpec, assignment: str) -> str:
    rows: list[list[str]] = [["Points Possible", "", "", "", "", _points(spec.max_score)]]
    for record in sorted(records, key=lambda r: r.id):
        roster = _roster(record)
        canvas_id = record.student.lms_user_id if record.student else ""
        sis = roster.get("sis_id", "")
        if (not canvas_id and not sis) or not _importable(record):
            continue  # Canvas could not match this row to anyone
        rows.append([
            canvas_sortable_name(_name(record)), canvas_id, sis, "",
            roster.get("section", ""), _points(record.points),
        ])  # fmt: skip
    return _csv([*CANVAS_FIXED, assignment], rows)


def moodle_csv(records: list[StudentRecord], spec: ExerciseSpec) -> str:
    rows: list[list[str]] = []
    for record in sorted(records, key=lambda r: r.id):
        participant = record.student.lms_user_id if record.student else ""
        if not participant or not _importable(record):
            continue
        status = "No submission" if record.status == "missing" else "Submitted for grading"
        submitted = record.final.submitted_at if record.final and record.final.submitted_at else ""
        feedback = note(record)
        if record.final and record.final.adjustments:
            feedback = " ".join(p for p in [feedback, *record.final.adjustments] if p)
        rows.append([
            f"Participant {participant}", _name(record), _roster(record).get("email", ""), status,
            _points(record.points), _points(spec.max_score), "Yes", submitted, "", feedback,
        ])  # fmt: skip
    return _csv(MOODLE_COLUMNS, rows)


def plain_csv(records: list[StudentRecord], spec: ExerciseSpec) -> str:
    rows = []
    for record in sorted(records, key=lambda r: r.id):
        roster = _roster(record)
        points = record.points
        percent = f"{100 * points / spec.max_score:.1f}" if points is not None and spec.max_score else ""
        rows.append([
            record.id, _name(record), roster.get("email", ""), roster.get("sis_id", ""), roster.get("section", ""),
            _points(points), _points(spec.max_score), percent, record.status,
        ])  # fmt: skip
    return _csv(PLAIN_COLUMNS, rows)


def moodle_feedback_zip(out_dir: Path, records: list[StudentRecord], path: Path) -> int:
    """The students' reports in the Moodle download's own folder names. Returns how many students."""
    count = 0
    tmp = path.with_name(f".{path.name}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for record in sorted(records, key=lambda r: r.id):
            student = record.student
            if student is None or student.lms != "moodle" or not student.lms_entry:
                continue
            folder = Path(out_dir) / "students" / record.id
            files = [folder / name for name in FEEDBACK_FILES if (folder / name).is_file()]
            for file in files:
                # A fixed time: the same grades give a byte-identical zip.
                # A zip holds UTF-8 names: a byte of the folder's name that was not is written as U+FFFD.
                entry = without_surrogates(f"{student.lms_entry}/{file.name}")
                info = zipfile.ZipInfo(entry, date_time=(2000, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, file.read_bytes())
            count += bool(files)
    tmp.replace(path)
    return count


def write_exports(
    out_dir: Path, records: list[StudentRecord], spec: ExerciseSpec, kinds: list[str], *, assignment: str | None = None
) -> dict[str, Path]:
    folder = Path(out_dir) / "export"
    written: dict[str, Path] = {}
    name = assignment or spec.title
    for kind in kinds:
        if kind == "canvas":
            written["canvas"] = folder / "canvas_grades.csv"
            write_text_atomically(written["canvas"], canvas_csv(records, spec, name))
        elif kind == "moodle":
            written["moodle"] = folder / "moodle_grades.csv"
            write_text_atomically(written["moodle"], moodle_csv(records, spec))
            if any(r.student is not None and r.student.lms == "moodle" for r in records):
                written["moodle_feedback"] = folder / "moodle_feedback_files.zip"
                moodle_feedback_zip(out_dir, records, written["moodle_feedback"])
        elif kind == "csv":
            written["csv"] = folder / "grades.csv"
            write_text_atomically(written["csv"], plain_csv(records, spec))
    return written
