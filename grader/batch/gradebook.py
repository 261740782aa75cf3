"""The class's grades: ``gradebook.csv`` for a spreadsheet or an LMS import, ``grades.json`` for programs.

gradebook.csv has one row per student, sorted by id:

    id, score, max, passed, test_accuracy, <one column per check: points earned>, status, time, note

``status`` is passed | failed | timeout (stopped at the time limit) | error (could not be graded:
the score cells stay empty, so an import never mistakes "not graded" for zero points, and
``note`` says why). ``time`` is the grading time in seconds.

Both files are built from the results alone, with no timestamps or run statistics, so a batch
resumed after a crash writes exactly the gradebook an uninterrupted run writes.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from grader.batch.cache import write_json_atomically, write_text_atomically
from grader.batch.records import StudentRecord
from grader.spec import ExerciseSpec

FIXED_COLUMNS = ("id", "score", "max", "passed", "test_accuracy", "status", "time", "note")


def spec_check_ids(spec: ExerciseSpec) -> list[str]:
    """The checks in the exercise's order: its [[checks]], or a quiz's [[items]]."""
    if spec.kind == "quiz":
        return [str(item["id"]) for item in spec.raw.get("items", []) if isinstance(item, dict) and "id" in item]
    return [check.id for check in spec.checks]


def check_columns(spec: ExerciseSpec) -> dict[str, str]:
    """Check id -> column name; a check named like a fixed column gets a ``check_`` prefix."""
    return {cid: f"check_{cid}" if cid in FIXED_COLUMNS else cid for cid in spec_check_ids(spec)}


def gradebook_rows(records: list[StudentRecord], spec: ExerciseSpec) -> list[dict[str, str]]:
    columns = check_columns(spec)
    rows = []
    for record in sorted(records, key=lambda r: r.id):
        result = record.result
        accuracy = (result.metrics or {}).get("test_accuracy")
        row = {
            "id": record.id,
            "score": _points(result.score) if record.graded else "",
            "max": _points(result.max_score),
            "passed": ("yes" if result.passed else "no") if record.graded else "",
            "test_accuracy": f"{accuracy:.4f}" if accuracy is not None else "",
        }
        by_id = {check.id: check for check in result.checks}
        for check_id, column in columns.items():
            check = by_id.get(check_id)
            row[column] = _points(check.score) if check is not None and record.graded else ""
        row["status"] = record.status
        row["time"] = f"{result.elapsed_s:.1f}" if record.graded else ""
        row["note"] = _note(record)
        rows.append(row)
    return rows


def _note(record: StudentRecord) -> str:
    if record.status == "error":
        return record.error
    if record.status == "timeout":
        return "stopped at the time limit"
    if record.status == "failed":
        missed = [check.id for check in record.result.checks if check.status in ("failed", "error")]
        return "not passed: " + ", ".join(missed) if missed else "below the pass mark"
    return ""


def _points(value: float) -> str:
    return f"{value:g}"


def gradebook_csv(records: list[StudentRecord], spec: ExerciseSpec) -> str:
    columns = ["id", "score", "max", "passed", "test_accuracy", *check_columns(spec).values(), "status", "time", "note"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(gradebook_rows(records, spec))
    return buffer.getvalue()


def grades_document(records: list[StudentRecord], spec: ExerciseSpec, submissions_root: Path | None = None) -> dict[str, Any]:
    """grades.json: the exercise, its checks, and per student the status, score and per-check
    status and points. The full result of each student is in students/<id>/grade.json."""
    return {
        "exercise": spec.id,
        "title": spec.title,
        "max_score": spec.max_score,
        "pass_mark": spec.pass_mark,
        "checks": [{"id": cid, "column": column} for cid, column in check_columns(spec).items()],
        "students": [_student_entry(record, submissions_root) for record in sorted(records, key=lambda r: r.id)],
    }


def _student_entry(record: StudentRecord, submissions_root: Path | None) -> dict[str, Any]:
    result = record.result
    return {
        "id": record.id,
        "submission": _relative(record.submission, submissions_root),
        "status": record.status,
        "score": result.score if record.graded else None,
        "max_score": result.max_score,
        "passed": result.passed if record.graded else None,
        "test_accuracy": (result.metrics or {}).get("test_accuracy"),
        "elapsed_s": result.elapsed_s if record.graded else None,
        "checks": {c.id: {"status": c.status, "score": c.score, "max_score": c.max_score} for c in result.checks},
        "error": record.error or None,
        "key": record.key,
    }


def _relative(path: str | None, root: Path | None) -> str | None:
    # Relative to the submissions folder: the same grades.json wherever the class folder lives.
    if not path or root is None:
        return path
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return path


def write_gradebook(out_dir: Path, records: list[StudentRecord], spec: ExerciseSpec, submissions_root: Path | None = None) -> dict[str, Path]:
    csv_path, json_path = Path(out_dir) / "gradebook.csv", Path(out_dir) / "grades.json"
    write_text_atomically(csv_path, gradebook_csv(records, spec))
    write_json_atomically(json_path, grades_document(records, spec, submissions_root))
    return {"gradebook": csv_path, "grades": json_path}
