"""The ``grade`` command.

    grade list                         the exercises, one line each
    grade init EXERCISE [--dir DIR]    copy the exercise's stub into a folder
    grade data status|prepare          where the datasets are; verify, cache and prepare them
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

from grader import __version__
from grader.errors import GraderError, UsageError

if TYPE_CHECKING:
    from grader.result import GradeResult

EXIT_PASSED, EXIT_NOT_PASSED, EXIT_CANNOT_GRADE = 0, 1, 2
SUBCOMMANDS = ("list", "init", "data")


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
            return {"list": cmd_list, "init": cmd_init, "data": cmd_data}[argv[0]](argv[1:], out)
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
    parser = _ArgumentParser(
        prog="grade",
        description="Grade an exercise solution. Other commands: grade list | init EXERCISE | data status|prepare",
    )
    parser.add_argument("exercise", help="exercise id (see `grade list`)")
    parser.add_argument("path", nargs="?", type=Path, help="your solution (default: ./<the stub's file name>)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the result as JSON")
    parser.add_argument("--data-dir", type=Path, help="folder with the dataset files")
    parser.add_argument("--seed", type=int, help="random seed (default: the exercise's)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="wall-clock limit for your code")
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
            GradeOptions(data_dir=args.data_dir, seed=args.seed, timeout_s=args.timeout, on_progress=progress),
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


def _shown_path(path: Path) -> str:
    # Relative to where the user is, when it is below it: shorter, and clickable in most terminals.
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
