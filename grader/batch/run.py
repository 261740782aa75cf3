"""Grade a class: discover, skip what is cached, grade the rest in parallel, write every file.

    OUT/
      gradebook.csv, grades.json      the class's grades (deterministic: see gradebook.py)
      summary.html                    the class summary page
      overrides.toml                  the instructor's overrides (written once, then only read)
      export/                         LMS import files (--export canvas|moodle|csv)
      run.json                        this run's statistics (graded, cached, errors, seconds)
      students/<id>/grade.json        the full result, as `grade --json` writes it, with the final grade
      students/<id>/results.json      Gradescope's format
      students/<id>/report.html, report.md, figures/
      cache/<key>.json                outcomes by content (grader.batch.cache)

Resuming is a property of the cache, not a special mode: every outcome is written to the cache
atomically the moment it arrives, before anything else, so after a crash or ``kill -9`` the next
run finds every finished student there and grades only the rest. ``--regrade`` is resumable the
same way: it writes ``OUT/.regrade.json`` (when it started) and takes only cache entries written
since; an interrupted regrade run again carries on where it stopped, and the marker goes when the
regrade is complete. The per-student files are rewritten when they are missing or stale (each
folder's ``.key`` marker, written last, names the outcome and final grade its files show), the
folders of students no longer in the class are removed, and the gradebook is rebuilt from all
records.

The final grade (``grader.batch.policy``: the exercise's scale, ``--due``/``--late-penalty``,
``OUT/overrides.toml``) is applied to every record on every run, so changing an override or the
due date regrades nobody.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from grader.batch.cache import (
    ResultCache,
    cache_key,
    dataset_checksums,
    file_digest,
    spec_digest,
    write_json_atomically,
    write_text_atomically,
)
from grader.batch.discover import Discovery, Student, discover_students
from grader.batch.executor import Executor, remove_stale_worker_dirs
from grader.batch.gradebook import write_gradebook
from grader.batch.policy import LatePolicy, Override, ensure_overrides_file, final_grade, load_overrides
from grader.batch.progress import BatchProgress
from grader.batch.records import StudentRecord, missing_record, problem_record, record_from_outcome
from grader.batch.summary import write_summary
from grader.batch.task import GradeTask
from grader.errors import UsageError
from grader.messages import interface as msg
from grader.result import GradeResult
from grader.spec import ExerciseSpec

KEY_MARKER = ".key"
REGRADE_MARKER = ".regrade.json"
STUDENT_FILES = ("grade.json", "results.json", "report.html", "report.md", KEY_MARKER)


@dataclass
class BatchOptions:
    out_dir: Path
    data_dir: Path | None = None
    seed: int | None = None
    timeout_s: float | None = None  # None: the exercise's limit
    threads: int | None = None  # TensorFlow threads per sandbox (local: cores // jobs)
    sandbox: str = "auto"  # isolation: "auto", "bwrap" or "process"
    cache_dir: Path | None = None  # None: OUT/cache
    regrade: bool = False  # grade again what was cached before this regrade started
    reports: bool = True  # HTML/Markdown report per student
    roster: Path | None = None  # CSV of the class (grader.batch.roster)
    only: list[str] = field(default_factory=list)  # regrade just these student ids
    late_policy: LatePolicy | None = None
    exports: list[str] = field(default_factory=list)  # "canvas", "moodle", "csv"
    assignment: str | None = None  # the LMS assignment's name (exports); default: the exercise title


@dataclass
class BatchRun:
    records: list[StudentRecord]
    graded: int = 0  # graded in this run
    cached: int = 0  # taken from the cache
    seconds: float = 0.0
    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # submissions matching no roster student
    similar: list[Any] = field(default_factory=list)  # grader.batch.similarity.SimilarPair
    layout: str = "folder"

    @property
    def errors(self) -> int:
        return sum(r.status == "error" for r in self.records)


def find_class(spec: ExerciseSpec, submissions: Path, roster: Path | None) -> Discovery:
    discovery = discover_students(submissions, spec)
    if roster is not None:
        from grader.batch.roster import apply_roster, load_roster

        discovery = apply_roster(discovery, load_roster(roster))
    return discovery


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
    remove_stale_worker_dirs()  # a killed batch's worker folders
    discovery = find_class(spec, submissions, options.roster)
    known_ids = {s.id for s in discovery.students}
    unknown_only = sorted(set(options.only) - known_ids)
    if unknown_only:
        raise UsageError(f"--only names students who are not in this class: {', '.join(unknown_only)}.")
    overrides_path = ensure_overrides_file(out_dir)
    overrides = load_overrides(overrides_path, spec)
    # Before any grading: without the dataset nothing can be graded, and its checksum is part
    # of every key. (A quiz has no dataset.)
    datasets = dataset_checksums(spec, options.data_dir)
    spec_hash = spec_digest(spec)
    timeout_s = options.timeout_s or spec.timeout_s
    writer = StudentFiles(out_dir, spec, options)
    run = BatchRun(records=[], unmatched=list(discovery.unmatched), layout=discovery.layout)
    students = {s.id: s for s in discovery.students}
    regrade_since = _regrade_since(out_dir, options)

    def finish(record: StudentRecord) -> StudentRecord:
        """The record's identity and final grade, then its files."""
        record.student = students.get(record.id)
        student = record.student
        record.final = final_grade(
            record.result if record.graded else None, spec, graded=record.graded,
            submitted_at=student.submitted_at if student else None,
            late_by_lms=student.late_by_lms if student else False,
            policy=options.late_policy, override=overrides.get(record.id),
        )  # fmt: skip
        # The status follows the final grade: a late penalty can fail a pass, an override can
        # pass a failure (or a run stopped at the time limit).
        follows = record.status in ("passed", "failed") or (record.status == "timeout" and record.final.passed)
        if record.graded and record.final.passed is not None and follows:
            record.status = "passed" if record.final.passed else "failed"
        return record

    # Students grouped by key: identical files are graded once and share the outcome.
    groups: dict[str, list[tuple[str, str]]] = {}
    pending: list[StudentRecord] = []  # no grading needed: written after the display starts
    for student in discovery.students:
        submission = str(student.submission) if student.submission else None
        if student.missing:
            pending.append(finish(missing_record(spec, student.id)))
            continue
        if student.problem or student.submission is None:
            pending.append(finish(problem_record(spec, student.id, submission, student.problem)))
            continue
        try:
            digest = file_digest(student.submission)
        except OSError as exc:
            problem = f"{student.submission.name} cannot be read: {exc.strerror or exc}"
            pending.append(finish(problem_record(spec, student.id, submission, problem)))
            continue
        key = cache_key(digest, spec_hash, datasets, seed=options.seed, timeout_s=timeout_s, sandbox=options.sandbox)
        groups.setdefault(key, []).append((student.id, str(student.submission)))

    tasks: list[GradeTask] = []
    cached_records: list[StudentRecord] = []
    for key, members in groups.items():
        forced = any(student_id in options.only for student_id, _ in members)
        outcome = None if forced else cache.get(key, since=regrade_since)
        if outcome is None and options.only and not forced:
            # --only: everyone else keeps what the cache has; without an entry they wait.
            outcome = cache.get(key)
            if outcome is None:
                for student_id, submission in members:
                    message = "not graded yet: this run graded only the students named with --only; run without --only to grade everyone"
                    pending.append(finish(problem_record(spec, student_id, submission, message)))
                continue
        if outcome is None:
            student_id, submission = members[0]
            task = GradeTask(
                key=key,
                exercise=spec.id,
                submission=submission,
                kind=spec.kind,
                spec_digest=spec_hash,
                datasets=datasets,
                data_dir=str(options.data_dir) if options.data_dir else None,
                seed=options.seed,
                timeout_s=timeout_s,
                threads=options.threads,
                sandbox=options.sandbox,
            )
            tasks.append(task)
            progress.label(submission, [m[0] for m in members])
            continue
        for student_id, submission in members:
            cached_records.append(finish(record_from_outcome(spec, student_id, submission, outcome, key)))

    for path in discovery.ignored:
        if path.name.startswith("."):  # a hidden file that looks like a submission (..py, .alice.py)
            progress.note(msg.batch_skipped_hidden(path.name))
            continue
        progress.note(f"Skipped {path.name}: not a {spec.id} submission (expected {', '.join(_suffixes(spec))}).")
    for student_id in discovery.unmatched:
        progress.note(f"{student_id}: matches no student on the roster; graded and listed with a note.")
    progress.start(
        len(tasks), students=len(discovery.students), cached=len(cached_records),
        problems=len(pending), executor=executor.description,
    )  # fmt: skip
    for record in pending:
        run.records.append(writer.write(record))
        progress.problem(record)
    executor.on_start = lambda task: progress.running(task.submission)
    try:
        for record in cached_records:
            run.records.append(writer.write(record, fresh=False))
            run.cached += 1
        with contextlib.closing(executor.grade(tasks)) as finished:
            for task, outcome in finished:
                progress.finished(task.submission)
                if outcome.cacheable:
                    cache.put(task.key, outcome)  # first: from here on a restart regrades nothing
                for index, (student_id, submission) in enumerate(groups[task.key]):
                    record = writer.write(finish(record_from_outcome(spec, student_id, submission, outcome, task.key)))
                    run.records.append(record)
                    run.graded += 1
                    progress.student_done(record, advance=index == 0)
    finally:
        executor.on_start = None
        progress.close()

    if options.regrade or regrade_since is not None:
        (out_dir / REGRADE_MARKER).unlink(missing_ok=True)  # the regrade is complete
    run.warnings = writer.warnings
    run.warnings += _remove_departed_students(out_dir, {r.id for r in run.records})
    run.similar = _flag_similar(run.records, spec)
    run.files.update(write_gradebook(out_dir, run.records, spec, submissions))
    run.files["summary"] = write_summary(out_dir, run.records, spec, similar=run.similar, unmatched=run.unmatched)
    run.files["overrides"] = overrides_path
    if options.exports:
        from grader.batch.export import write_exports

        run.files.update(write_exports(out_dir, run.records, spec, options.exports, assignment=options.assignment))
    run.seconds = time.monotonic() - started
    run.files["run"] = out_dir / "run.json"
    write_json_atomically(run.files["run"], _run_statistics(run, spec, executor, options))
    return run


def _regrade_since(out_dir: Path, options: BatchOptions) -> float | None:
    """With --regrade (or an interrupted regrade to finish): cache entries written before this
    time are graded again. The marker survives an interruption, so the next run resumes."""
    marker = out_dir / REGRADE_MARKER
    try:
        since = float(json.loads(marker.read_text(encoding="utf-8"))["since"])
    except (OSError, ValueError, KeyError, TypeError):
        since = None
    if since is None and options.regrade:
        since = time.time()
        write_json_atomically(
            marker, {"since": since, "started": datetime.now().astimezone().isoformat(timespec="seconds")}
        )
    return since


def _flag_similar(records: list[StudentRecord], spec: ExerciseSpec) -> list[Any]:
    from grader.batch.similarity import find_similar, flags_by_student

    submissions = {
        r.id: Path(r.submission)
        for r in records
        if r.submission and r.status != "missing" and Path(r.submission).is_file()
    }
    stub = spec.stub_path if spec.kind != "quiz" else None
    pairs = find_similar(submissions, stub)
    flags = flags_by_student(pairs)
    for record in records:
        record.flags = flags.get(record.id, [])
    return pairs


def _remove_departed_students(out_dir: Path, current: set[str]) -> list[str]:
    """Folders of students no longer in the class (renamed, withdrawn) are removed, so the output
    shows this class only. Only folders the batch wrote (they hold grade.json) are touched."""
    root = Path(out_dir) / "students"
    notes: list[str] = []
    if not root.is_dir():
        return notes
    for folder in sorted(root.iterdir()):
        if folder.name in current or not folder.is_dir() or folder.is_symlink():
            continue
        if (folder / "grade.json").is_file() or (folder / KEY_MARKER).is_file():
            shutil.rmtree(folder, ignore_errors=True)
    return notes


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
        "missing": sum(r.status == "missing" for r in run.records),
        "passed": sum(r.status == "passed" for r in run.records),
        "unmatched": run.unmatched,
        "layout": run.layout,
        "similar_pairs": [dataclasses.asdict(p) for p in run.similar],
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


def presented_result(record: StudentRecord) -> GradeResult:
    """The result as the student's files show it: the final grade out of the exercise's points
    (scaled, late penalty, overrides), with the sentences that explain each adjustment. An
    ungraded student's result keeps its reason and no score."""
    result = dataclasses.replace(record.result, details=record.result.details.copy())
    final = record.final
    if final is None:
        return result
    if final.points is not None:
        result.score = final.points
        result.max_score = final.max_points
        result.passed = bool(final.passed)
        if final.scaled or final.late_penalty or final.adjustments:
            result.pass_mark = _exercise_pass_mark(record, result)
    result.details["final_grade"] = final.to_json()
    if final.adjustments:
        result.details["adjustments"] = list(final.adjustments)
    return result


def _exercise_pass_mark(record: StudentRecord, result: GradeResult) -> float:
    # The exercise's pass mark: the style's scaled one scaled back (68 of 85 is 80 of 100).
    raw_max = record.final.raw_max if record.final else None
    if raw_max and record.result.max_score and result.max_score:
        return round(record.result.pass_mark * result.max_score / record.result.max_score, 2)
    return result.pass_mark


class StudentFiles:
    """Writes one student's folder: grade.json, Gradescope's results.json, the reports, and the
    ``.key`` marker last. A folder whose marker already names the same outcome and final grade is
    left as it is, so re-running an unchanged class rewrites no report."""

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
        stamp = _marker_text(record)
        if not fresh and stamp and _read(marker) == stamp and (folder / "grade.json").is_file():
            return record
        marker.unlink(missing_ok=True)
        shown = presented_result(record)
        document = shown.to_json()
        if not record.graded and (record.final is None or record.final.points is None):
            document["score"] = document["passed"] = None  # not graded: no score, not a zero
        write_json_atomically(folder / "grade.json", document)
        write_gradescope_results(shown, folder / "results.json", exercise_max=self.spec.max_score, spec=self.spec)
        if self.options.reports:
            self._write_report(record, shown, folder)
        if stamp:
            write_text_atomically(marker, stamp)
        return record

    def _write_report(self, record: StudentRecord, shown: GradeResult, folder: Path) -> None:
        render_reports = self._report_renderer()
        if render_reports is None:
            return
        try:
            render_reports(shown, folder, dataset=self._report_dataset(), data_dir=self.options.data_dir)
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


def _marker_text(record: StudentRecord) -> str | None:
    """The outcome's key plus a digest of the final grade: a changed override or due date
    rewrites the student's files, an unchanged class rewrites nothing."""
    if not record.key:
        return None
    final = json.dumps(record.final.to_json() if record.final else None, sort_keys=True, default=str)
    return f"{record.key}:{hashlib.sha256(final.encode()).hexdigest()[:16]}"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


def read_run_statistics(out_dir: Path) -> dict[str, Any]:
    statistics: dict[str, Any] = json.loads((Path(out_dir) / "run.json").read_text(encoding="utf-8"))
    return statistics


__all__ = ["BatchOptions", "BatchRun", "Override", "Student", "StudentFiles", "find_class", "run_batch"]
