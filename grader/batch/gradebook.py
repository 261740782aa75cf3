"""The class's grades: ``gradebook.csv`` for a spreadsheet, ``grades.json`` for programs. (LMS
import files are ``grader.batch.export``.)

gradebook.csv has one row per student, sorted by id:

    student_id, name, section, status, score, max_score, percent, passed, integrity, isolation,
    test_accuracy, submitted_at, late_penalty, adjustments, points_<check id>..., note, flags,
    grading_seconds, submission

- ``status``: passed | failed | timeout (stopped at the time limit) | error (could not be graded)
  | missing (on the roster, nothing handed in). For error and missing the score cells stay empty,
  so an import never mistakes "not graded" for zero points, and ``note`` says why.
- ``score`` is the final grade out of ``max_score``, the exercise's points, for every style (a
  saved model's 85 applicable points are scaled to 100; ``adjustments`` says so), after the late
  penalty and the instructor's overrides. ``percent`` is score / max_score.
- ``passed``: true | false (empty when not graded). ``integrity``: the integrity check's verdict,
  judged automatically (passed | failed | error). ``isolation``: how the learner's code ran
  (bwrap | process). ``test_accuracy`` is a figure (0-1); the ``points_*`` columns are points.
- ``flags`` is for the instructor: identical or near-identical submissions (``grader.batch.similarity``).

Every text cell goes through ``grader.safe_text.spreadsheet_cell`` (ids, names and notes come
from students' file names and code). Both files are built from the records alone, with no run
timestamps, so a batch resumed after a crash writes exactly the gradebook an uninterrupted run writes.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from grader.batch.cache import write_json_atomically, write_text_atomically
from grader.batch.records import StudentRecord
from grader.messages import interface as msg
from grader.safe_text import escape_invisible, printable, spreadsheet_cell
from grader.spec import ExerciseSpec

LEADING_COLUMNS = (
    "student_id", "name", "section", "status", "score", "max_score", "percent", "passed", "integrity",
    "isolation", "test_accuracy", "submitted_at", "late_penalty", "adjustments",
)  # fmt: skip
TRAILING_COLUMNS = ("note", "flags", "grading_seconds", "submission")
CHECK_PREFIX = "points_"


def spec_check_ids(spec: ExerciseSpec) -> list[str]:
    """The checks in the exercise's order: its [[checks]], or a quiz's [[items]]."""
    if spec.kind == "quiz":
        return [item.id for item in spec.items]
    return [check.id for check in spec.checks]


def check_columns(spec: ExerciseSpec) -> dict[str, str]:
    """Check id -> column name: ``points_<id>``, so a check's points never read as a figure."""
    return {cid: f"{CHECK_PREFIX}{cid}" for cid in spec_check_ids(spec)}


def gradebook_columns(spec: ExerciseSpec) -> list[str]:
    # Column names are machine-stable English ids in every language (--lang zh too): spreadsheets,
    # LMS imports and scripts read them by name. The cells a person reads (``note``) and the class
    # summary follow the language.
    return [*LEADING_COLUMNS, *check_columns(spec).values(), *TRAILING_COLUMNS]


def _points(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def gradebook_rows(
    records: list[StudentRecord], spec: ExerciseSpec, submissions_root: Path | None = None
) -> list[dict[str, str]]:
    columns = check_columns(spec)
    rows = []
    for record in sorted(records, key=lambda r: r.id):
        result, final, student = record.result, record.final, record.student
        accuracy = (result.metrics or {}).get("test_accuracy") if record.graded else None
        points = record.points
        passed = record.passed
        roster = student.roster if student is not None else {}
        row = {
            "student_id": record.id,
            "name": (roster.get("name") or (student.name if student else "")),
            "section": roster.get("section", ""),
            "status": record.status,
            "score": _points(points),
            "max_score": _points(spec.max_score),
            "percent": f"{100 * points / spec.max_score:.1f}" if points is not None and spec.max_score else "",
            "passed": ""
            if passed is None or (not record.graded and points is None)
            else ("true" if passed else "false"),
            "integrity": record.integrity if record.graded else "",
            "isolation": record.isolation,
            "test_accuracy": f"{accuracy:.4f}" if accuracy is not None else "",
            "submitted_at": (final.submitted_at if final else None) or "",
            "late_penalty": _points(final.late_penalty) if final and final.late_penalty else "",
            "adjustments": " ".join(final.adjustments) if final else "",
        }
        by_id = {check.id: check for check in result.checks}
        for check_id, column in columns.items():
            check = by_id.get(check_id)
            # A check that does not apply to this style (0 points possible, skipped) is left
            # empty rather than written as a failed 0.
            applies = check is not None and record.graded and not (check.status == "skipped" and check.max_score == 0)
            row[column] = _points(check.score) if applies and check is not None else ""
        row["note"] = note(record)
        row["flags"] = "; ".join(record.flags)
        row["grading_seconds"] = f"{result.elapsed_s:.1f}" if record.graded else ""
        row["submission"] = _relative(record.submission, submissions_root) or ""
        rows.append({key: spreadsheet_cell(value) for key, value in row.items()})
    return rows


def note(record: StudentRecord) -> str:
    """One line for a person: why not graded, what was missed, what was adjusted."""
    parts: list[str] = []
    if record.status in ("error", "missing"):
        parts.append(record.error)
    elif record.status == "timeout":
        parts.append(msg.note_time_limit())
    elif record.passed is False:
        missed = [check.id for check in record.result.checks if check.status in ("failed", "error")]
        parts.append(msg.note_not_passed(", ".join(missed)) if missed else msg.note_below_pass_mark())
    if record.integrity == "failed":
        parts.append(msg.note_integrity_failed())
    if record.student is not None and record.student.on_roster is False:
        parts.append(msg.note_not_on_roster())
    if record.final is not None and record.final.override_comment:
        parts.append(msg.note_instructor(record.final.override_comment))
    return printable(msg.note_separator().join(p for p in parts if p), keep_newlines=False)


def gradebook_csv(records: list[StudentRecord], spec: ExerciseSpec, submissions_root: Path | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=gradebook_columns(spec), lineterminator="\n")
    writer.writeheader()
    writer.writerows(gradebook_rows(records, spec, submissions_root))
    return buffer.getvalue()


def grades_document(
    records: list[StudentRecord], spec: ExerciseSpec, submissions_root: Path | None = None
) -> dict[str, Any]:
    """grades.json: the exercise, its checks, and per student the status, final score and
    per-check status and points. The full result of each student is in students/<id>/grade.json."""
    return {
        "exercise": spec.id,
        "title": spec.title,
        "max_score": spec.max_score,
        "pass_mark": spec.pass_mark,
        "checks": [{"id": cid, "column": column} for cid, column in check_columns(spec).items()],
        "students": [_student_entry(record, submissions_root) for record in sorted(records, key=lambda r: r.id)],
    }


def _student_entry(record: StudentRecord, submissions_root: Path | None) -> dict[str, Any]:
    result, student = record.result, record.student
    return {
        "id": record.id,
        "name": (student.roster.get("name") or student.name) if student else "",
        "lms_user_id": student.lms_user_id if student else "",
        "on_roster": student.on_roster if student else None,
        "submission": _relative(record.submission, submissions_root),
        "status": record.status,
        "score": record.points,
        "max_score": record.final.max_points if record.final else result.max_score,
        "passed": record.passed if record.graded or record.points is not None else None,
        "integrity": record.integrity or None,
        "isolation": record.isolation or None,
        "test_accuracy": (result.metrics or {}).get("test_accuracy") if record.graded else None,
        "elapsed_s": result.elapsed_s if record.graded else None,
        "final": record.final.to_json() if record.final else None,
        "checks": {c.id: {"status": c.status, "score": c.score, "max_score": c.max_score} for c in result.checks},
        "error": record.error or None,
        "flags": record.flags,
        "key": record.key,
    }


def _relative(path: str | None, root: Path | None) -> str | None:
    # Relative to the submissions folder: the same grades.json wherever the class folder lives.
    # Shown with visible escapes, like the id (``bob\x1b.py`` is ``bob-x1b.py``): three files
    # the terminal would show as "bob.py" stay three names, and a byte that is not UTF-8 is
    # named rather than lost.
    if not path:
        return path
    if root is not None:
        try:
            path = str(Path(path).absolute().relative_to(Path(root).absolute()))
        except ValueError:
            pass
    return escape_invisible(path)


def write_gradebook(
    out_dir: Path, records: list[StudentRecord], spec: ExerciseSpec, submissions_root: Path | None = None
) -> dict[str, Path]:
    csv_path, json_path = Path(out_dir) / "gradebook.csv", Path(out_dir) / "grades.json"
    write_text_atomically(csv_path, gradebook_csv(records, spec, submissions_root))
    write_json_atomically(json_path, grades_document(records, spec, submissions_root))
    return {"gradebook": csv_path, "grades": json_path}
