"""Grade a class: discover, skip what is cached, grade the rest in parallel, write every file.

    OUT/
      gradebook.csv, grades.json      the class's grades (deterministic: see gradebook.py)
      summary.html                    the class summary page
      run.json                        this run's statistics (graded, cached, errors, seconds)
      students/<id>/grade.json        the full result, as `grade --json` writes it
      students/<id>/results.json      Gradescope's format
      students/<id>/report.html, report.md, figures/
      cache/<key>.json                outcomes by content (grader.batch.cache)

Resuming is a property of the cache, not a special mode: every outcome is written to the cache
atomically the moment it arrives, before anything else, so after a crash or ``kill -9`` the next
run finds every finished student there and grades only the rest. The per-student files are then
rewritten from the cache when they are missing or stale (each folder's ``.key`` marker, written
last, names the outcome its files show), and the gradebook is rebuilt from all records.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.batch.cache import ResultCache, cache_key, dataset_checksums, file_digest, spec_digest, write_json_atomically, write_text_atomically
from grader.batch.discover import discover_students
from grader.batch.executor import Executor
from grader.batch.gradebook import write_gradebook
from grader.batch.progress import BatchProgress
from grader.batch.records import StudentRecord, problem_record, record_from_outcome
from grader.batch.summary import write_summary
from grader.batch.task import GradeTask, is_cacheable
from grader.spec import ExerciseSpec

KEY_MARKER = ".key"


@dataclass
class BatchOptions:
    out_dir: Path
    data_dir: Path | None = None
    seed: int | None = None
    timeout_s: float | None = None  # None: the exercise's limit
    threads: int | None = None  # TensorFlow threads per sandbox (local: cores // jobs)
    sandbox: str = "auto"  # isolation: "auto", "bwrap" or "process"
    cache_dir: Path | None = None  # None: OUT/cache
    regrade: bool = False  # ignore cached outcomes (they are still refreshed)
    reports: bool = True  # HTML/Markdown report per student


@dataclass
class BatchRun:
    records: list[StudentRecord]
    graded: int = 0  # graded in this run
    cached: int = 0  # taken from the cache
    seconds: float = 0.0
    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(r.status == "error" for r in self.records)


def run_batch(
    spec: ExerciseSpec,
    submissions: Path,
    options: BatchOptions,
    executor: Executor,
    progress: BatchProgress,
) -> BatchRun:
    started = time.monotonic()
    out_dir = Path(options.out_dir)
    cache = ResultCache(options.cache_dir or out_dir / "cache")
    _remove_stale_temporaries(out_dir)
    discovery = discover_students(submissions, spec)
    # Before any grading: without the dataset nothing can be graded, and its checksum is part
    # of every key. (A quiz has no dataset.)
    datasets = dataset_checksums(spec, options.data_dir)
    spec_hash = spec_digest(spec)
    timeout_s = options.timeout_s or spec.timeout_s
    writer = StudentFiles(out_dir, spec, options)
    run = BatchRun(records=[])

    # Students grouped by key: identical files are graded once and share the outcome.
    groups: dict[str, list[tuple[str, str]]] = {}
    for student in discovery.students:
        submission = str(student.submission) if student.submission else None
        if student.problem or student.submission is None:
            run.records.append(writer.write(problem_record(spec, student.id, submission, student.problem)))
            continue
        try:
            digest = file_digest(student.submission)
        except OSError as exc:
            problem = f"{student.submission.name} cannot be read: {exc.strerror or exc}"
            run.records.append(writer.write(problem_record(spec, student.id, submission, problem)))
            continue
        key = cache_key(digest, spec_hash, datasets, seed=options.seed, timeout_s=timeout_s, sandbox=options.sandbox)
        groups.setdefault(key, []).append((student.id, str(student.submission)))

    tasks: list[GradeTask] = []
    cached_records: list[StudentRecord] = []
    for key, members in groups.items():
        outcome = None if options.regrade else cache.get(key)
        if outcome is None:
            student_id, submission = members[0]
            tasks.append(
                GradeTask(
                    key=key, exercise=spec.id, submission=submission, kind=spec.kind, spec_digest=spec_hash,
                    datasets=datasets, data_dir=str(options.data_dir) if options.data_dir else None,
                    seed=options.seed, timeout_s=timeout_s, threads=options.threads, sandbox=options.sandbox,
                )  # fmt: skip
            )
            continue
        for student_id, submission in members:
            cached_records.append(record_from_outcome(spec, student_id, submission, outcome, key))

    for path in discovery.ignored:
        progress.note(f"Skipped {path.name}: not a {spec.id} submission (expected {', '.join(_suffixes(spec))}).")
    progress.start(
        len(tasks), students=len(discovery.students), cached=len(cached_records),
        problems=len(run.records), executor=executor.description,
    )  # fmt: skip
    for record in run.records:
        progress.problem(record)
    try:
        for record in cached_records:
            run.records.append(writer.write(record, fresh=False))
            run.cached += 1
        with contextlib.closing(executor.grade(tasks)) as finished:
            for task, outcome in finished:
                if is_cacheable(outcome):
                    cache.put(task.key, outcome)  # first: from here on a restart regrades nothing
                for index, (student_id, submission) in enumerate(groups[task.key]):
                    record = writer.write(record_from_outcome(spec, student_id, submission, outcome, task.key))
                    run.records.append(record)
                    run.graded += 1
                    progress.student_done(record, advance=index == 0)
    finally:
        progress.close()

    run.files.update(write_gradebook(out_dir, run.records, spec, submissions))
    run.files["summary"] = write_summary(out_dir, run.records, spec)
    run.seconds = time.monotonic() - started
    run.warnings = writer.warnings
    run.files["run"] = out_dir / "run.json"
    write_json_atomically(run.files["run"], _run_statistics(run, spec, executor, options))
    return run


def _suffixes(spec: ExerciseSpec) -> tuple[str, ...]:
    from grader.batch.discover import accepted_suffixes

    return accepted_suffixes(spec)


def _run_statistics(run: BatchRun, spec: ExerciseSpec, executor: Executor, options: BatchOptions) -> dict[str, Any]:
    return {
        "exercise": spec.id,
        "students": len(run.records),
        "graded": run.graded,
        "cached": run.cached,
        "errors": run.errors,
        "passed": sum(r.status == "passed" for r in run.records),
        "seconds": round(run.seconds, 2),
        "executor": executor.description,
        "threads_per_sandbox": options.threads,
        "warnings": run.warnings,
    }


def _remove_stale_temporaries(out_dir: Path) -> None:
    """A ``kill -9`` between writing a temporary file and renaming it leaves the temporary."""
    if out_dir.is_dir():
        for stale in out_dir.rglob(".*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()


class StudentFiles:
    """Writes one student's folder: grade.json, Gradescope's results.json, the reports, and the
    ``.key`` marker last. A folder whose marker already names the same outcome is left as it is,
    so re-running an unchanged class rewrites no report."""

    def __init__(self, out_dir: Path, spec: ExerciseSpec, options: BatchOptions) -> None:
        self.root = Path(out_dir) / "students"
        self.spec = spec
        self.options = options
        self.warnings: list[str] = []
        self._render_reports: Any = None
        self._reports_checked = False
        self._dataset: Any = None

    def write(self, record: StudentRecord, *, fresh: bool = True) -> StudentRecord:
        """``fresh``: the outcome was just graded, so the files are rewritten whatever the marker says."""
        from grader.render.gradescope import write_gradescope_results

        folder = self.root / record.id
        marker = folder / KEY_MARKER
        if not fresh and record.key and _read(marker) == record.key and (folder / "grade.json").is_file():
            return record
        marker.unlink(missing_ok=True)
        record.result.write_json(folder / "grade.json")
        write_gradescope_results(record.result, folder / "results.json")
        if self.options.reports:
            self._write_report(record, folder)
        if record.key:
            write_text_atomically(marker, record.key)
        return record

    def _write_report(self, record: StudentRecord, folder: Path) -> None:
        render_reports = self._report_renderer()
        if render_reports is None:
            return
        try:
            render_reports(record.result, folder, dataset=self._report_dataset(), data_dir=self.options.data_dir)
        except Exception as exc:  # noqa: BLE001 - a report that cannot be drawn must not cost the grade
            self.warnings.append(f"{record.id}: the report could not be written ({type(exc).__name__}: {exc})")

    def _report_renderer(self) -> Any:
        # Imported lazily: the reports module is optional for a batch (the grades stand alone).
        if not self._reports_checked:
            self._reports_checked = True
            try:
                from grader.render.report import render_reports

                self._render_reports = render_reports
            except ImportError as exc:
                self.warnings.append(f"Per-student reports were not written: {exc}")
        return self._render_reports

    def _report_dataset(self) -> Any:
        """The test images for the reports' prediction grids, loaded once per batch."""
        if self._dataset is None and self.spec.kind != "quiz" and self.spec.dataset:
            with contextlib.suppress(Exception):
                from grader.datasets import load_dataset

                self._dataset = load_dataset(self.spec.dataset, self.options.data_dir)
        return self._dataset


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


def read_run_statistics(out_dir: Path) -> dict[str, Any]:
    return json.loads((Path(out_dir) / "run.json").read_text(encoding="utf-8"))
