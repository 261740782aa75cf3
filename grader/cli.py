"""The ``grade`` command.

    grade list                         the exercises, one line each
    grade init EXERCISE [--dir DIR]    copy the exercise's stub into a folder
    grade data status|prepare          where the datasets are; verify, cache and prepare them
    grade batch EXERCISE FOLDER --out DIR [--jobs N] [--executor dask --scheduler ADDRESS]
                                       grade a class: gradebook, reports, summary, Gradescope files
    grade validate [EXERCISE ...] [--junit FILE]
                                       references pass, stubs fail, known-bad variants fail as listed
    grade gradescope EXERCISE          Gradescope's autograder entry: writes its results.json
    grade EXERCISE [PATH] [options]    grade a submission (default: ./<stub file name>)

Exit codes: 0 passed, 1 graded and not passed, 2 could not grade (bad usage, missing file or
data, or a grader fault), 3 a quick-mode preview (``--quick``: no verdict).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.markup import escape

from grader import __version__
from grader.errors import DataMissingError, GraderError, SpecError, UsageError
from grader.sandbox.isolation import IsolationUnavailableError, isolation_for_unattended_run

if TYPE_CHECKING:
    from grader.pipeline import GradeOptions
    from grader.result import GradeResult
    from grader.sandbox.runner import ProgressCallback

EXIT_PASSED, EXIT_NOT_PASSED, EXIT_CANNOT_GRADE = 0, 1, 2
EXIT_PREVIEW = 3  # `grade --quick`: a preview, no verdict (grader.quick)
SUBCOMMANDS = ("list", "init", "data", "batch", "validate", "gradescope", "spec")


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, but usage mistakes become a UsageError (one line, exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Our own messages go through a duplicate of stderr, so they still show while TensorFlow's
    # native start-up chatter on descriptor 2 is silenced (see grader.evaluation).
    out, err = Console(), Console(file=_duplicate_stderr(), stderr=True)
    try:
        if argv and argv[0] in SUBCOMMANDS:
            commands = {
                "list": cmd_list, "init": cmd_init, "data": cmd_data,
                "batch": cmd_batch, "validate": cmd_validate, "gradescope": cmd_gradescope,
                "spec": cmd_spec,
            }  # fmt: skip
            return commands[argv[0]](argv[1:], out)
        return cmd_grade(argv, out, err)
    except GraderError as exc:
        # soft_wrap: one line a terminal may wrap, never a hard break inside a path
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return EXIT_CANNOT_GRADE
    except Exception:  # noqa: BLE001 - a grader bug: keep the traceback for the report
        err.print("[bold red]The grader itself failed (this is a bug in the grader, not in your code):[/]")
        err.print(traceback.format_exc(), markup=False, highlight=False)
        return EXIT_CANNOT_GRADE


def _duplicate_stderr() -> TextIO:
    try:
        return os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    except OSError:
        return sys.stderr


def cmd_list(argv: list[str], out: Console) -> int:
    from grader.spec import list_exercises

    _ArgumentParser(prog="grade list", description="List the exercises.").parse_args(argv)
    for spec in list_exercises():
        points = f"{spec.max_score:g} points"
        out.print(
            f"[bold]{spec.id:<14}[/] {spec.title} ({spec.kind}, {points}) — {spec.summary}",
            highlight=False, no_wrap=True, overflow="ellipsis",
        )
    return 0


def cmd_init(argv: list[str], out: Console) -> int:
    from grader.spec import load_exercise

    parser = _ArgumentParser(prog="grade init", description="Copy an exercise's stub into a folder.")
    parser.add_argument("exercise")
    parser.add_argument("--dir", type=Path, default=Path("."), help="where to write it (default: here)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = parser.parse_args(argv)
    spec = load_exercise(args.exercise)
    target = args.dir / spec.stub
    if target.exists() and not args.force:
        # Never overwrite a learner's work by accident.
        raise UsageError(f"{target} already exists; edit it, or pass --force to replace it with a fresh stub.")
    args.dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(spec.stub_path, target)
    out.print(f"Wrote {target}. Edit it, then run: grade {spec.id} {target}", highlight=False, soft_wrap=True)
    readme = spec.directory / "README.md"
    if readme.is_file():
        out.print(f"The task is described in {readme}", highlight=False, soft_wrap=True)
    return 0


def cmd_data(argv: list[str], out: Console) -> int:
    from grader import datasets

    parser = _ArgumentParser(prog="grade data", description="Find, verify and prepare the datasets.")
    parser.add_argument("action", choices=["status", "prepare"])
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.action == "prepare":
        report = datasets.prepare_all(args.data_dir)
        out.print(report, highlight=False)
        return 0 if report.ok else EXIT_CANNOT_GRADE
    missing = False
    for row in datasets.dataset_status(args.data_dir):
        found = row.get("found")
        missing |= not found
        detail = row.get("source") if found else row.get("reason")
        out.print(f"{row['name']:<14} {'found' if found else 'MISSING'}  {detail}", highlight=False)
    return EXIT_CANNOT_GRADE if missing else 0


def grade_parser() -> argparse.ArgumentParser:
    from grader.adapters import STYLES

    parser = _ArgumentParser(
        prog="grade",
        description="Grade an exercise solution. Other commands: grade list | init EXERCISE | data status|prepare",
    )
    parser.add_argument("exercise", help="exercise id (see `grade list`)")
    parser.add_argument("path", nargs="?", type=Path, help="your solution (default: ./<the stub's file name>)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the result as JSON")
    parser.add_argument("--data-dir", type=Path, help="folder with the dataset files")
    parser.add_argument("--seed", type=int, help="random seed (default: the exercise's)")
    parser.add_argument(
        "--style", choices=STYLES,
        help="how your file is written (default: recognised from the file; see README)",
    )
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="wall-clock limit for your code")
    parser.add_argument(
        "--sandbox", choices=["bwrap", "process"], default="auto",
        help="isolation for your code: bubblewrap, or a plain process (default: bubblewrap when it works here)",
    )
    parser.add_argument("--quiet", action="store_true", help="no live progress display: plain lines")
    parser.add_argument(
        "--report", type=Path, metavar="DIR",
        help="write report.html and report.md here (default: grade-reports/EXERCISE/ next to your solution)",
    )
    parser.add_argument("--no-report", action="store_true", help="do not write the HTML and Markdown reports")
    parser.add_argument(
        "--quick", action="store_true",
        help="a preview in seconds: every check but the test accuracy, with a short trial fit; no verdict "
        f"(exit code {EXIT_PREVIEW}; no report unless --report is given)",
    )
    parser.add_argument(
        "--watch", action="store_true",
        help="grade again (quick) each time the file is saved; press f for a full grading, Ctrl-C to stop",
    )
    parser.add_argument("--full", action="store_true", help="with --watch: full gradings on every save instead of quick ones")
    parser.add_argument(
        "--retrain", action="store_true",
        help="for exams: also train the submitted architecture again from scratch with its own recipe, and "
        "fail the fair-run check if the submission beats it by clearly more than seeds explain (doubles the time)",
    )
    parser.add_argument("--version", action="version", version=f"grade {__version__}")
    return parser


def cmd_grade(argv: list[str], out: Console, err: Console) -> int:
    from grader.pipeline import GradeOptions, grade_submission
    from grader.render.progress import ProgressDisplay
    from grader.spec import load_exercise

    args = grade_parser().parse_args(argv)
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds.")
    if args.full and not args.watch:
        raise UsageError("--full goes with --watch (a grading without --quick is already a full one).")
    spec = load_exercise(args.exercise)
    path = args.path or Path(spec.stub)
    if args.path is None and not path.exists():
        raise UsageError(
            f"There is no {spec.stub} in this folder: run `grade init {spec.id}` to get the stub, "
            f"or give the path: grade {spec.id} path/to/{spec.stub}"
        )
    if args.watch:
        from grader.watch import watch_submission

        return watch_submission(spec, path, args, out, err)
    with ProgressDisplay(err, live=not args.quiet) as progress:
        result = grade_submission(spec, path, grade_options(args, progress, quick=args.quick))
    # The verdict is decided: nothing below may turn it into "the grader failed" (exit 2). A
    # report or JSON file that cannot be written is said, and the exit code stays the verdict's.
    show_result(result, out, err)
    # A quick preview writes a report only when asked (--report): it is meant to take seconds.
    if not args.no_report and (not args.quick or args.report):
        write_reports(result, args.report, args.data_dir, out, err)
    if args.json:
        # After the reports, so the JSON says which report could not be written, if one could not.
        write_result_json(result, args.json, out, err)
    if result.mode == "quick":
        return EXIT_PREVIEW
    return EXIT_PASSED if result.passed else EXIT_NOT_PASSED


def grade_options(args: argparse.Namespace, progress: ProgressCallback | None, *, quick: bool) -> GradeOptions:
    """The pipeline's options from `grade`'s command line (shared with watch mode)."""
    from grader.pipeline import GradeOptions

    return GradeOptions(
        data_dir=args.data_dir, seed=args.seed, timeout_s=args.timeout, on_progress=progress, style=args.style,
        sandbox=args.sandbox, quick=quick, retrain=bool(getattr(args, "retrain", False)) and not quick,
    )  # fmt: skip


def show_result(result: GradeResult, out: Console, err: Console) -> None:
    """The terminal summary; should it fail on some result (a grader bug), the verdict is still
    printed in one plain line, since it is what the learner ran the grader for."""
    from grader.render.terminal import render_terminal

    try:
        render_terminal(result, out)
    except Exception as exc:  # noqa: BLE001 - see above
        verdict = "PREVIEW" if result.passed is None else "PASSED" if result.passed else "NOT PASSED"
        out.print(f"Score: {result.score:g} / {result.max_score:g}  {verdict}", markup=False, highlight=False)
        err.print(
            f"warning: the summary table could not be shown ({type(exc).__name__}: {exc}); "
            "this is a bug in the grader, not in your code.",
            markup=False, highlight=False, soft_wrap=True,
        )


def write_reports(result: GradeResult, report_dir: Path | None, data_dir: Path | None, out: Console, err: Console) -> None:
    """After the summary, so the learner reads the verdict while the plots are drawn. A report
    that cannot be written (a read-only folder, a grader bug while drawing it) is a warning: the
    grade itself stands. No out-of-date report is left where the failed one should be, and
    ``result.details["reports"]`` records what was written and what failed (for --json)."""
    from grader.render.report import ReportNotWritten, default_report_dir, render_reports

    report_dir = report_dir or default_report_dir(result.exercise, Path(result.submission))
    try:
        files = render_reports(result, report_dir, data_dir=data_dir)
        failed: dict[str, str] = {}
    except ReportNotWritten as exc:
        files, failed = exc.written, exc.failed
    except Exception as exc:  # noqa: BLE001 - render_reports reports its own failures; this is a last guard
        files, failed = {}, {"html": f"{type(exc).__name__}: {exc}", "md": f"{type(exc).__name__}: {exc}"}
    result.details["reports"] = {
        "written": {kind: str(path) for kind, path in files.items() if kind in ("html", "md")},
        "failed": failed,
    }
    for kind, why in failed.items():
        name = {"html": "report.html", "md": "report.md"}.get(kind, kind)
        err.print(
            f"warning: {name} could not be written to {_shown_path(Path(report_dir))}: {why}",
            markup=False, highlight=False, soft_wrap=True,
        )
    if "html" in files:
        beside = f" (and {files['md'].name} beside it)" if "md" in files else ""
        out.print(f"Report: {_shown_path(files['html'])}{beside}", markup=False, highlight=False, soft_wrap=True)
    elif "md" in files:
        out.print(f"Report: {_shown_path(files['md'])}", markup=False, highlight=False, soft_wrap=True)


def write_result_json(result: GradeResult, path: Path, out: Console, err: Console) -> None:
    try:
        result.write_json(path)
    except OSError as exc:
        err.print(
            f"warning: the result could not be written to {path}: {exc.strerror or exc}",
            markup=False, highlight=False, soft_wrap=True,
        )
        return
    out.print(f"Result written to {path}", markup=False, highlight=False, soft_wrap=True)


def cmd_batch(argv: list[str], out: Console) -> int:
    """Grade a class. Exit 0 when every student was graded, 1 when some could not be (their
    rows say why), 2 when the batch could not run at all."""
    from grader.batch.executor import DaskExecutor, Executor, LocalExecutor, threads_per_sandbox
    from grader.batch.progress import BatchProgress
    from grader.batch.run import BatchOptions, run_batch
    from grader.spec import load_exercise

    parser = _ArgumentParser(prog="grade batch", description="Grade a class: one file or one folder per student.")
    parser.add_argument("exercise", help="exercise id (see `grade list`)")
    parser.add_argument("submissions", type=Path, help="folder with one file (alice.py, bob.ipynb, ...) or one folder per student")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="where the gradebook, reports and summary go")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="sandboxes at once; the cores are divided among them (default 1)")
    parser.add_argument("--executor", choices=["local", "dask"], default="local", help="run here (default) or on a Dask cluster")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="the Dask scheduler, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="wall-clock limit per submission (default: the exercise's)")
    parser.add_argument("--seed", type=int, help="random seed (default: the exercise's)")
    parser.add_argument("--data-dir", type=Path, help="folder with the dataset files")
    parser.add_argument("--cache-dir", type=Path, metavar="DIR", help="results cached by content (default: OUT/cache)")
    parser.add_argument("--regrade", action="store_true", help="grade every submission again (an interrupted regrade, run again, carries on)")
    parser.add_argument("--no-reports", action="store_true", help="no per-student HTML/Markdown reports")
    parser.add_argument("--quiet", action="store_true", help="no live progress bar: plain lines")
    parser.add_argument("--sandbox", choices=["bwrap", "process"], default="auto", help="isolation (default: bubblewrap when it works)")
    parser.add_argument("--roster", type=Path, metavar="FILE", help="CSV of the class: an id column, optionally name, email, lms_user_id, sis_id, section")
    parser.add_argument("--only", nargs="+", metavar="ID", default=[], help="regrade just these students (the others keep their cached grades)")
    parser.add_argument("--due", metavar="DATETIME", help="the due date and time, e.g. 2026-03-01T23:59 (with --late-penalty)")
    parser.add_argument("--late-penalty", metavar="RULE", help="e.g. 10%%/day, 5/hour, 10%%/day,max=50%%,grace=15m")
    parser.add_argument("--export", action="append", choices=["canvas", "moodle", "csv"], default=[], help="also write the grades in an LMS's import format (repeatable)")
    parser.add_argument("--assignment", metavar="NAME", help="the assignment's name in the LMS (default: the exercise's title)")
    parser.add_argument("--course", type=Path, metavar="DIR", help="a course folder holding exercises/ and solutions/ (or GRADER_COURSE_DIR)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        raise UsageError("--jobs must be 1 or more.")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds.")
    if (args.executor == "dask") != bool(args.scheduler):
        raise UsageError("--executor dask and --scheduler ADDRESS go together.")
    if bool(args.due) != bool(args.late_penalty):
        raise UsageError("--due and --late-penalty go together (a due date alone takes nothing off; use both).")
    use_course(args.course)
    spec = load_exercise(args.exercise)
    late_policy = None
    if args.due:
        from grader.batch.policy import parse_due, parse_late_rule

        late_policy = parse_late_rule(args.late_penalty, parse_due(args.due))
    if args.roster is not None and not args.roster.is_file():
        raise UsageError(f"The roster {args.roster} does not exist.")
    # Never a silent fallback to process isolation: decided once, before anyone is graded.
    args.sandbox = isolation_for_unattended_run(args.sandbox, "grade batch")
    executor: Executor
    if args.executor == "dask":
        executor, threads = DaskExecutor(args.scheduler), None  # each worker divides its own host's cores
    else:
        executor, threads = LocalExecutor(args.jobs, default_timeout_s=spec.timeout_s), threads_per_sandbox(args.jobs)
    options = BatchOptions(
        out_dir=args.out, data_dir=args.data_dir, seed=args.seed, timeout_s=args.timeout, threads=threads,
        cache_dir=args.cache_dir, regrade=args.regrade, reports=not args.no_reports, sandbox=args.sandbox,
        roster=args.roster, only=list(args.only), late_policy=late_policy, exports=list(dict.fromkeys(args.export)),
        assignment=args.assignment,
    )  # fmt: skip
    try:
        run = run_batch(spec, args.submissions, options, executor, BatchProgress(out, live=not args.quiet))
    except KeyboardInterrupt:
        out.print("Interrupted. Every finished result is saved: run the same command again to grade the rest.")
        return EXIT_CANNOT_GRADE
    finally:
        executor.close()
    counts = {status: sum(r.status == status for r in run.records) for status in ("passed", "failed", "timeout", "error", "missing")}
    out.print(
        f"{len(run.records)} students in {run.seconds:.1f} s ({run.graded} graded now, {run.cached} from the cache): "
        + ", ".join(f"{n} {status}" for status, n in counts.items() if n),
        highlight=False,
    )
    for warning in run.warnings:
        out.print(f"warning: {warning}", markup=False, highlight=False)
    out.print(f"Gradebook: {_shown_path(run.files['gradebook'])}  Summary: {_shown_path(run.files['summary'])}", markup=False, highlight=False)
    for kind in ("canvas", "moodle", "moodle_feedback", "csv"):
        if kind in run.files:
            out.print(f"Export ({kind.replace('_', ' ')}): {_shown_path(run.files[kind])}", markup=False, highlight=False)
    return EXIT_NOT_PASSED if counts["error"] else EXIT_PASSED


def use_course(course: Path | None) -> None:
    """``--course DIR``: exercises and reference solutions from a course folder. Set in the
    environment, so worker processes and sandboxes started from here read the same folder."""
    if course is None:
        return
    if not (course / "exercises").is_dir():
        raise UsageError(f"--course {course}: no exercises/ folder there (a course folder holds exercises/ and solutions/).")
    os.environ["GRADER_COURSE_DIR"] = str(course.resolve())


def cmd_validate(argv: list[str], out: Console) -> int:
    """Exit 0 when every case holds, 1 when one does not."""
    from grader.render.junit import write_junit
    from grader.spec import list_exercises, load_exercise
    from grader.validate import CaseOutcome, junit_suites, run_validation

    parser = _ArgumentParser(
        prog="grade validate",
        description="Check that each reference solution passes with full marks, each stub fails, "
        "and each known-bad variant in solutions/<id>/bad/ fails exactly the checks its manifest names.",
    )
    parser.add_argument("exercises", nargs="*", metavar="EXERCISE", help="exercise ids (default: all)")
    parser.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML for CI")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="cases graded at once (default 1)")
    parser.add_argument("--data-dir", type=Path, help="folder with the dataset files")
    parser.add_argument("--sandbox", choices=["bwrap", "process"], default="auto", help="isolation (default: bubblewrap when it works)")
    parser.add_argument("--course", type=Path, metavar="DIR", help="a course folder holding exercises/ and solutions/ (or GRADER_COURSE_DIR)")
    parser.add_argument(
        "--spec-only", action="store_true",
        help="check every spec, stub and solution file statically, in seconds (no training)",
    )
    args = parser.parse_args(argv)
    use_course(args.course)
    if args.jobs < 1:
        raise UsageError("--jobs must be 1 or more.")
    if args.spec_only:
        return _validate_statically(args.exercises, out)
    specs = [load_exercise(e) for e in args.exercises] if args.exercises else list_exercises()
    args.sandbox = isolation_for_unattended_run(args.sandbox, "grade validate")

    def show(outcome: CaseOutcome) -> None:
        mark = "[green]\u2714[/]" if outcome.ok else "[bold red]\u2718[/]"
        out.print(f"{mark} {outcome.case.exercise.id}: {escape(outcome.case.title)} [dim]({escape(outcome.message)})[/]", highlight=False)

    report = run_validation(specs, jobs=args.jobs, data_dir=args.data_dir, sandbox=args.sandbox, on_outcome=show)
    failed = [o for o in report.outcomes if not o.ok]
    out.print(f"{len(report.outcomes) - len(failed)} of {len(report.outcomes)} validation cases hold.", highlight=False)
    if args.junit:
        write_junit(args.junit, junit_suites(report))
        out.print(f"JUnit XML written to {args.junit}", markup=False, highlight=False)
    return EXIT_PASSED if report.ok else EXIT_NOT_PASSED


def _validate_statically(exercise_ids: list[str], out: Console) -> int:
    """``grade validate --spec-only``: exit 0 when every file is sound, 2 when a spec is not
    (as loading it would), 1 when a stub or solution file is not."""
    from grader.spec_check import check_exercises

    findings = check_exercises(exercise_ids or None)
    for finding in findings:
        mark = "[green]\u2714[/]" if finding.ok else "[bold red]\u2718[/]"
        out.print(f"{mark} {finding.exercise}: {escape(finding.subject)} [dim]({escape(finding.message)})[/]", highlight=False)
    bad = [f for f in findings if not f.ok]
    out.print(f"{len(findings) - len(bad)} of {len(findings)} files are sound (static checks; no training).", highlight=False)
    if any(f.subject == "exercise.toml" for f in bad):
        return EXIT_CANNOT_GRADE
    return EXIT_NOT_PASSED if bad else EXIT_PASSED


def cmd_spec(argv: list[str], out: Console) -> int:
    """``grade spec schema``: the JSON Schema of exercise.toml, generated from the spec models."""
    import json

    from grader.spec_models import exercise_schema

    parser = _ArgumentParser(
        prog="grade spec",
        description="The exercise.toml format: `grade spec schema` prints its JSON Schema (for editors), "
        "`--out FILE` writes it.",
    )
    parser.add_argument("action", choices=["schema"])
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the schema here instead of printing it")
    args = parser.parse_args(argv)
    text = json.dumps(exercise_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_PASSED
    try:
        args.out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"Cannot write {args.out}: {exc.strerror or exc}.") from None
    out.print(f"JSON Schema of exercise.toml written to {args.out}", markup=False, highlight=False)
    return EXIT_PASSED


GRADESCOPE_SUBMISSION_DIR = Path("/autograder/submission")  # Gradescope's documented layout
GRADESCOPE_RESULTS = Path("/autograder/results/results.json")


def cmd_gradescope(argv: list[str], out: Console) -> int:
    """Gradescope's autograder entry. results.json is always written, so the learner reads why
    even when grading failed. Exit 0 when the learner has their answer (a grade, or what is
    wrong with the upload); 2 when the autograder itself is broken (no data, a bad spec), which
    Gradescope shows the instructor."""
    from grader.batch.discover import pick_submission_file
    from grader.batch.records import error_result
    from grader.pipeline import GradeOptions, grade_submission
    from grader.render.gradescope import VISIBILITIES, write_gradescope_results
    from grader.spec import load_exercise

    parser = _ArgumentParser(prog="grade gradescope", description="Grade a Gradescope submission and write its results.json.")
    parser.add_argument("exercise", help="exercise id (see `grade list`)")
    parser.add_argument("--submission-dir", type=Path, default=GRADESCOPE_SUBMISSION_DIR, metavar="DIR")
    parser.add_argument("--results", type=Path, default=GRADESCOPE_RESULTS, metavar="FILE")
    parser.add_argument("--data-dir", type=Path, help="folder with the dataset files")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="wall-clock limit (default: the exercise's)")
    parser.add_argument("--visibility", choices=VISIBILITIES, default="visible", help="when learners see the results")
    parser.add_argument("--sandbox", choices=["bwrap", "process"], default="auto", help="isolation (default: bubblewrap when it works)")
    parser.add_argument("--course", type=Path, metavar="DIR", help="a course folder holding exercises/ (or GRADER_COURSE_DIR)")
    args = parser.parse_args(argv)
    use_course(args.course)
    spec = load_exercise(args.exercise)
    path, problem = pick_submission_file(args.submission_dir, spec) if args.submission_dir.is_dir() else (
        None, f"the submission folder {args.submission_dir} does not exist")  # fmt: skip
    autograder_broken = False
    if path is None:
        result = error_result(spec, None, f"{problem} Upload {spec.stub}.")
    else:
        try:
            sandbox = isolation_for_unattended_run(args.sandbox, "grade gradescope")
            options = GradeOptions(data_dir=args.data_dir, timeout_s=args.timeout, sandbox=sandbox)
            result = grade_submission(spec, path, options)
        except GraderError as exc:
            result = error_result(spec, str(path), str(exc), type(exc).__name__)
            autograder_broken = isinstance(exc, (DataMissingError, SpecError, IsolationUnavailableError))
    write_gradescope_results(result, args.results, visibility=args.visibility, spec=spec)
    if result.checks:
        show_result(result, out, out)
    else:
        out.print(f"Not graded: {result.details['grading_error']['message']}", markup=False, highlight=False)
    out.print(f"Results written to {args.results}", markup=False, highlight=False)
    return EXIT_CANNOT_GRADE if autograder_broken else EXIT_PASSED


def _shown_path(path: Path) -> str:
    # Relative to where the user is, when it is below it: shorter, and clickable in most terminals.
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
