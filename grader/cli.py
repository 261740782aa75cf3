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
data, or a grader fault).
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
from rich.markup import escape

from grader import __version__
from grader.errors import DataMissingError, GraderError, SpecError, UsageError

if TYPE_CHECKING:
    from grader.result import GradeResult

EXIT_PASSED, EXIT_NOT_PASSED, EXIT_CANNOT_GRADE = 0, 1, 2
SUBCOMMANDS = ("list", "init", "data", "batch", "validate", "gradescope")


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
    parser.add_argument("--version", action="version", version=f"grade {__version__}")
    return parser


def cmd_grade(argv: list[str], out: Console, err: Console) -> int:
    from grader.pipeline import GradeOptions, grade_submission
    from grader.render.progress import ProgressDisplay
    from grader.render.terminal import render_terminal
    from grader.spec import load_exercise

    args = grade_parser().parse_args(argv)
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds.")
    spec = load_exercise(args.exercise)
    path = args.path or Path(spec.stub)
    if args.path is None and not path.exists():
        raise UsageError(
            f"There is no {spec.stub} in this folder: run `grade init {spec.id}` to get the stub, "
            f"or give the path: grade {spec.id} path/to/{spec.stub}"
        )
    with ProgressDisplay(err, live=not args.quiet) as progress:
        result = grade_submission(
            spec,
            path,
            GradeOptions(
                data_dir=args.data_dir, seed=args.seed, timeout_s=args.timeout, on_progress=progress, style=args.style,
                sandbox=args.sandbox,
            ),
        )
    render_terminal(result, out)
    if args.json:
        result.write_json(args.json)
        out.print(f"Result written to {args.json}", highlight=False)
    if not args.no_report:
        write_reports(result, args.report, args.data_dir, out, err)
    return EXIT_PASSED if result.passed else EXIT_NOT_PASSED


def write_reports(result: GradeResult, report_dir: Path | None, data_dir: Path | None, out: Console, err: Console) -> None:
    """After the summary, so the learner reads the verdict while the plots are drawn. A report
    that cannot be written (a read-only folder) is a warning: the grade itself stands."""
    from grader.render.report import default_report_dir, render_reports

    report_dir = report_dir or default_report_dir(result.exercise, Path(result.submission))
    try:
        files = render_reports(result, report_dir, data_dir=data_dir)
    except OSError as exc:
        err.print(
            f"warning: could not write the report to {report_dir}: {exc.strerror or exc}",
            markup=False, highlight=False, soft_wrap=True,
        )
        return
    shown = f"Report: {_shown_path(files['html'])} (and {files['md'].name} beside it)"
    out.print(shown, markup=False, highlight=False, soft_wrap=True)


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
    parser.add_argument("--regrade", action="store_true", help="grade every submission again, ignoring the cache")
    parser.add_argument("--no-reports", action="store_true", help="no per-student HTML/Markdown reports")
    parser.add_argument("--quiet", action="store_true", help="no live progress bar: plain lines")
    parser.add_argument("--sandbox", choices=["bwrap", "process"], default="auto", help="isolation (default: bubblewrap when it works)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        raise UsageError("--jobs must be 1 or more.")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds.")
    if (args.executor == "dask") != bool(args.scheduler):
        raise UsageError("--executor dask and --scheduler ADDRESS go together.")
    spec = load_exercise(args.exercise)
    executor: Executor
    if args.executor == "dask":
        executor, threads = DaskExecutor(args.scheduler), None  # each worker divides its own host's cores
    else:
        executor, threads = LocalExecutor(args.jobs, default_timeout_s=spec.timeout_s), threads_per_sandbox(args.jobs)
    options = BatchOptions(
        out_dir=args.out, data_dir=args.data_dir, seed=args.seed, timeout_s=args.timeout, threads=threads,
        cache_dir=args.cache_dir, regrade=args.regrade, reports=not args.no_reports, sandbox=args.sandbox,
    )  # fmt: skip
    try:
        run = run_batch(spec, args.submissions, options, executor, BatchProgress(out, live=not args.quiet))
    except KeyboardInterrupt:
        out.print("Interrupted. Every finished result is saved: run the same command again to grade the rest.")
        return EXIT_CANNOT_GRADE
    finally:
        executor.close()
    counts = {status: sum(r.status == status for r in run.records) for status in ("passed", "failed", "timeout", "error")}
    out.print(
        f"{len(run.records)} students in {run.seconds:.1f} s ({run.graded} graded now, {run.cached} from the cache): "
        + ", ".join(f"{n} {status}" for status, n in counts.items() if n),
        highlight=False,
    )
    for warning in run.warnings:
        out.print(f"warning: {warning}", markup=False, highlight=False)
    out.print(f"Gradebook: {_shown_path(run.files['gradebook'])}  Summary: {_shown_path(run.files['summary'])}", markup=False, highlight=False)
    return EXIT_NOT_PASSED if counts["error"] else EXIT_PASSED


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
    args = parser.parse_args(argv)
    if args.jobs < 1:
        raise UsageError("--jobs must be 1 or more.")
    specs = [load_exercise(e) for e in args.exercises] if args.exercises else list_exercises()

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
    from grader.render.terminal import render_terminal
    from grader.spec import load_exercise

    parser = _ArgumentParser(prog="grade gradescope", description="Grade a Gradescope submission and write its results.json.")
    parser.add_argument("exercise", help="exercise id (see `grade list`)")
    parser.add_argument("--submission-dir", type=Path, default=GRADESCOPE_SUBMISSION_DIR, metavar="DIR")
    parser.add_argument("--results", type=Path, default=GRADESCOPE_RESULTS, metavar="FILE")
    parser.add_argument("--data-dir", type=Path, help="folder with the dataset files")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="wall-clock limit (default: the exercise's)")
    parser.add_argument("--visibility", choices=VISIBILITIES, default="visible", help="when learners see the results")
    parser.add_argument("--sandbox", choices=["bwrap", "process"], default="auto", help="isolation (default: bubblewrap when it works)")
    args = parser.parse_args(argv)
    spec = load_exercise(args.exercise)
    path, problem = pick_submission_file(args.submission_dir, spec) if args.submission_dir.is_dir() else (
        None, f"the submission folder {args.submission_dir} does not exist")  # fmt: skip
    autograder_broken = False
    if path is None:
        result = error_result(spec, None, f"{problem} Upload {spec.stub}.")
    else:
        try:
            options = GradeOptions(data_dir=args.data_dir, timeout_s=args.timeout, sandbox=args.sandbox)
            result = grade_submission(spec, path, options)
        except GraderError as exc:
            result = error_result(spec, str(path), str(exc), type(exc).__name__)
            autograder_broken = isinstance(exc, (DataMissingError, SpecError))
    write_gradescope_results(result, args.results, visibility=args.visibility)
    if result.checks:
        render_terminal(result, out)
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
