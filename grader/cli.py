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

Every command takes ``--lang en|zh`` (default: the locale, e.g. ``LANG=zh_CN.UTF-8``): the
language of everything it prints and writes for people (terminal, reports, summaries).

Exit codes: 0 passed, 1 graded and not passed, 2 could not grade (bad usage, missing file or
data, or a grader fault), 3 a quick-mode preview (``--quick``: no verdict).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

from rich.console import Console
from rich.markup import escape

from grader import __version__
from grader.errors import DataMissingError, GraderError, SpecError, UsageError
from grader.messages import (
    LANGUAGES,
    UnknownLanguage,
    current_language,
    language_from_environment,
    normalise_language,
    use_language,
)
from grader.messages import interface as msg
from grader.sandbox.isolation import IsolationUnavailableError, isolation_for_unattended_run

if TYPE_CHECKING:
    from grader.pipeline import GradeOptions
    from grader.result import GradeResult
    from grader.sandbox.runner import ProgressCallback
    from grader.spec import ExerciseSpec

EXIT_PASSED, EXIT_NOT_PASSED, EXIT_CANNOT_GRADE = 0, 1, 2
EXIT_PREVIEW = 3  # `grade --quick`: a preview, no verdict (grader.quick)
SUBCOMMANDS = ("list", "init", "data", "batch", "validate", "gradescope", "spec")


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, but usage mistakes become a UsageError (one line, exit 2)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Read by main() before the parser runs (see take_language); listed here for --help.
        self.add_argument("--lang", choices=LANGUAGES, help=msg.grade_help("--lang"))

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(msg.usage_error(message, self.prog))

    def parse_args(self, args: Sequence[str] | None = None, namespace: object = None) -> argparse.Namespace:  # type: ignore[override]
        """Options may come anywhere, also between the positionals (``grade exercise1 --seed 3
        answers.toml``), and an unknown option is named before any missing argument is."""
        words = list(sys.argv[1:] if args is None else args)
        for word in words:
            if word == "--":
                break
            if self._is_unknown_option(word):
                self.error(msg.argparse_text("unrecognized arguments: %s") % word)
        return cast(argparse.Namespace, self.parse_intermixed_args(words, namespace))

    def _is_unknown_option(self, word: str) -> bool:
        if not word.startswith("-") or word == "-" or " " in word or self._negative_number_matcher.match(word):
            return False  # a positional, a value such as "-3", or a sentence: argparse decides
        name = word.split("=", 1)[0]
        known = self._option_string_actions
        # argparse accepts an unambiguous abbreviation of a long option (--tim for --timeout)
        return name not in known and not (name.startswith("--") and any(option.startswith(name) for option in known))


def take_language(argv: list[str]) -> tuple[list[str], str]:
    """``argv`` without its ``--lang X`` and the language to speak: X, else the locale's.

    Taken out before any parser runs, so the usage errors of every command (and the one about
    ``--lang`` itself) are already in the chosen language."""
    rest: list[str] = []
    chosen: str | None = None
    words = iter(argv)
    for word in words:
        if word == "--lang":
            chosen = next(words, "")
        elif word.startswith("--lang="):
            chosen = word.removeprefix("--lang=")
        else:
            rest.append(word)
    if chosen is None:
        return rest, language_from_environment()
    try:
        return rest, normalise_language(chosen) if chosen else _unknown_language(chosen)
    except UnknownLanguage:
        return rest, _unknown_language(chosen)


def _unknown_language(name: str) -> str:
    raise UsageError(msg.unknown_language(name, ", ".join(LANGUAGES)))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Our own messages go through a duplicate of stderr, so they still show while TensorFlow's
    # native start-up chatter on descriptor 2 is silenced (see grader.evaluation).
    # (A text stream in all but name: typeshed's IO[str] is a protocol io.TextIOBase does not declare.)
    stdout = cast(TextIO, _StdoutUntilReaderLeaves())
    out, err = Console(file=stdout), Console(file=_duplicate_stderr(), stderr=True)
    # The language holds for this command only (main may run several times in one process).
    command_scope = contextlib.ExitStack()
    try:
        command_scope.enter_context(_termination_as_interrupt())
        # The locale's language first, so a mistake in --lang itself is said in it.
        command_scope.enter_context(use_language(language_from_environment()))
        argv, language = take_language(argv)
        command_scope.enter_context(use_language(language))
        command_scope.enter_context(_language_for_child_processes(language))
        # --course sets GRADER_COURSE_DIR for the processes this command starts; for this
        # command only (main may run several times in one process: tests, the notebook magic).
        command_scope.enter_context(_environment_restored("GRADER_COURSE_DIR"))
        # argparse's own sentences ("usage:", "the following arguments are required: ...") are
        # looked up with the gettext function of its module: route them through our catalogue.
        argparse._ = msg.argparse_text  # type: ignore[attr-defined]
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
        err.print(f"[bold red]{escape(msg.error_prefix())}[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print(msg.interrupted())
        return EXIT_CANNOT_GRADE
    except Exception:  # noqa: BLE001 - a grader bug: keep the traceback for the report
        err.print(f"[bold red]{escape(msg.grader_failed())}[/]")
        err.print(traceback.format_exc(), markup=False, highlight=False)
        return EXIT_CANNOT_GRADE
    finally:
        command_scope.close()
        _StdoutUntilReaderLeaves().flush()  # what is still buffered, while a reader may have left


@contextlib.contextmanager
def _termination_as_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed terminal, a job scheduler stopping the grader) end the
    command the way Ctrl-C does: the sandbox's processes are stopped, its scratch folder is
    removed, a batch says how to resume, and the exit code is 2. Python's default would end the
    process on the spot and leave all of that behind. Only the main thread may set handlers
    (the notebook magic and tests may call main from elsewhere): there this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def _environment_restored(name: str) -> Iterator[None]:
    """Environment variable ``name`` as it was before the block, whatever the block set."""
    before = os.environ.get(name)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


@contextlib.contextmanager
def _language_for_child_processes(language: str) -> Iterator[None]:
    """Batch workers and other grader processes started by this command speak its language:
    they read it from the locale (``LANGUAGE``), as ``grade`` itself does."""
    before = os.environ.get("LANGUAGE")
    os.environ["LANGUAGE"] = language
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = before


class _StdoutUntilReaderLeaves(io.TextIOBase):
    """Standard output that goes quiet when its reader leaves (``grade batch ... | head -2``):
    the rest of the output is dropped, and the work (grading, reports, gradebook, --json) goes on
    to the end with the exit code it would have had. Python's usual recipe: on BrokenPipeError,
    point descriptor 1 at /dev/null, so later writes (and the flush at exit) succeed."""

    def write(self, text: str) -> int:
        try:
            sys.stdout.write(text)
        except BrokenPipeError:
            _silence_stdout()
        return len(text)

    def flush(self) -> None:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()

    def isatty(self) -> bool:
        return sys.stdout.isatty()

    def fileno(self) -> int:
        return sys.stdout.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(sys.stdout, "encoding", None) or "utf-8"


def _silence_stdout() -> None:
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _duplicate_stderr() -> TextIO:
    try:
        return os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    except OSError:
        return sys.stderr


def cmd_list(argv: list[str], out: Console) -> int:
    from grader.spec import scan_exercises

    parser = _ArgumentParser(prog="grade list", description="List the exercises.")
    add_course_option(parser)
    use_course(parser.parse_args(argv).course)
    specs, broken = scan_exercises()
    for spec in specs:
        points = msg.points_count(f"{spec.max_score:g}")
        out.print(
            f"[bold]{spec.id:<14}[/] {spec.title} ({spec.kind}, {points}) — {spec.summary}",
            highlight=False,
            no_wrap=True,
            overflow="ellipsis",
        )
    if broken:  # listed the exercises that grade; now the files that need fixing (exit 2)
        raise SpecError("\n".join(str(problem) for problem in broken))
    return 0


def cmd_init(argv: list[str], out: Console) -> int:
    from grader.spec import load_exercise

    parser = _ArgumentParser(prog="grade init", description="Copy an exercise's stub into a folder.")
    parser.add_argument("exercise")
    parser.add_argument("--dir", type=Path, default=Path("."), help="where to write it (default: here)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    add_course_option(parser)
    args = parser.parse_args(argv)
    use_course(args.course)
    spec = load_exercise(args.exercise)
    target = args.dir / spec.stub
    if target.exists() and not args.force:
        # Never overwrite a learner's work by accident.
        raise UsageError(msg.stub_exists(str(target)))
    args.dir.mkdir(parents=True, exist_ok=True)
    if spec.kind == "quiz" and current_language() != "en":
        # A quiz's stub holds its questions: written from the spec, in the learner's language
        # (the answer keys on the left stay the same, so the file grades in any language).
        from grader.quiz import render_answers_stub

        target.write_text(render_answers_stub(spec), encoding="utf-8")
    else:
        shutil.copyfile(spec.stub_path, target)
    out.print(msg.wrote_stub(str(target), spec.id), highlight=False, soft_wrap=True)
    readme = task_readme(spec.directory)
    if readme is not None:
        out.print(msg.task_described_in(str(readme)), highlight=False, soft_wrap=True)
    return 0


def cmd_data(argv: list[str], out: Console) -> int:
    from grader import datasets

    parser = _ArgumentParser(prog="grade data", description="Find, verify and prepare the datasets.")
    parser.add_argument("action", choices=["status", "prepare", "table", "schema"])
    parser.add_argument("name", nargs="?", help="table: the dataset whose checksums to print")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--hash", choices=("sha256", "md5"), default="sha256", help="table: which checksums")
    parser.add_argument("--no-tfds", action="store_true", help="prepare: skip the offline TFDS copies")
    add_course_option(parser)  # a course's own datasets (datasets/<name>.toml) are listed too
    args = parser.parse_args(argv)
    use_course(args.course)
    if args.action == "table":  # the registry's checksums, as sha256sum --check reads them
        if not args.name:
            parser.error(f"table needs a dataset name: one of {', '.join(datasets.dataset_names())}")
        _StdoutUntilReaderLeaves().write(datasets.checksum_table(args.name, args.hash) + "\n")
        return 0
    if args.action == "schema":  # docs/dataset.schema.json, for editors that check a course's TOML
        _StdoutUntilReaderLeaves().write(json.dumps(datasets.dataset_schema(), indent=2) + "\n")
        return 0
    if args.action == "prepare":
        report = datasets.prepare_all(args.data_dir, tfds=not args.no_tfds)
        out.print(report, highlight=False)
        return 0 if report.ok else EXIT_CANNOT_GRADE
    missing = False
    for row in datasets.dataset_status(args.data_dir):
        found = row.get("found")
        missing |= not found
        detail = row.get("source") if found else row.get("reason")
        state = msg.dataset_found(bool(found))
        if found and not row.get("official", True):
            state = f"{state} ({msg.dataset_not_official()})"
        # escape: a reason may quote a TOML table such as [splits], which is not rich markup
        out.print(f"{row['name']:<14} {escape(state)}  {escape(str(detail))}", highlight=False)
    return EXIT_CANNOT_GRADE if missing else 0


def grade_parser() -> argparse.ArgumentParser:
    from grader.adapters import STYLES

    parser = _ArgumentParser(prog="grade", description=msg.grade_help("description"))
    parser.add_argument("exercise", help=msg.grade_help("exercise"))
    parser.add_argument("path", nargs="?", type=Path, help=msg.grade_help("path"))
    parser.add_argument("--json", type=Path, metavar="FILE", help=msg.grade_help("--json"))
    parser.add_argument("--data-dir", type=Path, help=msg.grade_help("--data-dir"))
    parser.add_argument("--seed", type=int, help=msg.grade_help("--seed"))
    parser.add_argument("--style", choices=STYLES, help=msg.grade_help("--style"))
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help=msg.grade_help("--timeout"))
    parser.add_argument("--sandbox", choices=["bwrap", "process"], default="auto", help=msg.grade_help("--sandbox"))
    parser.add_argument("--quiet", action="store_true", help=msg.grade_help("--quiet"))
    parser.add_argument("--report", type=Path, metavar="DIR", help=msg.grade_help("--report"))
    parser.add_argument("--no-report", action="store_true", help=msg.grade_help("--no-report"))
    parser.add_argument("--quick", action="store_true", help=msg.grade_help("--quick", code=EXIT_PREVIEW))
    parser.add_argument("--watch", action="store_true", help=msg.grade_help("--watch"))
    parser.add_argument("--full", action="store_true", help=msg.grade_help("--full"))
    parser.add_argument("--retrain", action="store_true", help=msg.grade_help("--retrain"))
    add_course_option(parser)
    parser.add_argument("--version", action="version", version=f"grade {__version__}")
    return parser


def cmd_grade(argv: list[str], out: Console, err: Console) -> int:
    from grader.pipeline import grade_submission
    from grader.render.progress import ProgressDisplay
    from grader.spec import load_exercise

    args = grade_parser().parse_args(argv)
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(msg.timeout_positive())
    if args.full and not args.watch:
        raise UsageError(msg.full_needs_watch())
    use_course(args.course)
    spec = load_exercise(args.exercise)
    path = args.path or Path(spec.stub)
    if args.path is None and not path.exists():
        raise UsageError(msg.no_stub_here(spec.stub, spec.id))
    _refuse_overwriting_grade_inputs(args, spec, path)
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


def _refuse_overwriting_grade_inputs(args: argparse.Namespace, spec: ExerciseSpec, submission: Path) -> None:
    """Before any grading: neither --json nor the report folder may overwrite the submission,
    the exercise's files or a dataset; --report does not replace a report the grader did not write."""
    from grader.output_guard import refuse_foreign_reports, refuse_overwriting
    from grader.render.report import FIGURE_NAMES, REPORT_NAMES, default_report_dir

    inputs = [*exercise_files(spec), args.data_dir]
    if args.json:
        refuse_overwriting("--json", args.json, [args.json], submissions=[submission], inputs=inputs)
    if args.no_report or (args.quick and not args.report):
        return  # no report is written (see cmd_grade)
    report_dir = args.report or default_report_dir(spec.id, submission)
    report_files = [report_dir / name for name in REPORT_NAMES.values()]
    figures = [report_dir / "figures" / f"{name.replace('_', '-')}.png" for name in FIGURE_NAMES]
    if args.json and args.json.resolve() in {path.resolve() for path in [*report_files, *figures]}:
        # Both would be written, one over the other: the learner would find only one of them.
        raise UsageError(msg.output_is_report("--json", str(args.json)))
    refuse_overwriting("--report", report_dir, [*report_files, *figures], submissions=[submission], inputs=inputs)
    if args.report:
        refuse_foreign_reports(args.report)


def exercise_files(spec: ExerciseSpec) -> list[Path]:
    """The files of an exercise the grader reads: its folder's own files and its reference solution."""
    files = [p for p in spec.directory.iterdir() if p.is_file()] if spec.directory.is_dir() else []
    return [*files, spec.solution_path]


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
        verdict = msg.verdict_word(result.passed)
        out.print(
            msg.plain_score_line(f"{result.score:g}", f"{result.max_score:g}", verdict), markup=False, highlight=False
        )
        err.print(
            msg.summary_table_failed(f"{type(exc).__name__}: {exc}"),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def write_reports(
    result: GradeResult, report_dir: Path | None, data_dir: Path | None, out: Console, err: Console
) -> None:
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
            msg.report_not_written(name, _shown_path(Path(report_dir)), why),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if "html" in files:
        beside = files["md"].name if "md" in files else None
        out.print(msg.report_written(_shown_path(files["html"]), beside), markup=False, highlight=False, soft_wrap=True)
    elif "md" in files:
        out.print(msg.report_written(_shown_path(files["md"])), markup=False, highlight=False, soft_wrap=True)


def write_result_json(result: GradeResult, path: Path, out: Console, err: Console) -> None:
    try:
        result.write_json(path)
    except OSError as exc:
        err.print(
            msg.result_not_written(str(path), str(exc.strerror or exc)),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return
    out.print(msg.result_written(str(path)), markup=False, highlight=False, soft_wrap=True)


def cmd_batch(argv: list[str], out: Console) -> int:
    """Grade a class. Exit 0 when every student was graded, 1 when some could not be (their
    rows say why), 2 when the batch could not run at all."""
    from grader.batch.executor import DaskExecutor, Executor, LocalExecutor, threads_per_sandbox
    from grader.batch.progress import BatchProgress
    from grader.batch.run import BatchOptions, run_batch
    from grader.spec import load_exercise

    parser = _ArgumentParser(prog="grade batch", description=msg.batch_help("description"))
    parser.add_argument("exercise", help=msg.batch_help("exercise"))
    parser.add_argument("submissions", type=Path, help=msg.batch_help("submissions"))
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help=msg.batch_help("--out"))
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help=msg.batch_help("--jobs"))
    parser.add_argument("--executor", choices=["local", "dask"], default="local", help=msg.batch_help("--executor"))
    parser.add_argument("--scheduler", metavar="ADDRESS", help=msg.batch_help("--scheduler"))
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help=msg.batch_help("--timeout"))
    parser.add_argument("--seed", type=int, help=msg.batch_help("--seed"))
    parser.add_argument("--data-dir", type=Path, help=msg.batch_help("--data-dir"))
    parser.add_argument("--cache-dir", type=Path, metavar="DIR", help=msg.batch_help("--cache-dir"))
    parser.add_argument("--regrade", action="store_true", help=msg.batch_help("--regrade"))
    parser.add_argument("--no-reports", action="store_true", help=msg.batch_help("--no-reports"))
    parser.add_argument("--quiet", action="store_true", help=msg.batch_help("--quiet"))
    parser.add_argument("--sandbox", choices=["bwrap", "process"], default="auto", help=msg.batch_help("--sandbox"))
    parser.add_argument("--roster", type=Path, metavar="FILE", help=msg.batch_help("--roster"))
    parser.add_argument("--only", nargs="+", metavar="ID", default=[], help=msg.batch_help("--only"))
    parser.add_argument("--due", metavar="DATETIME", help=msg.batch_help("--due"))
    parser.add_argument("--late-penalty", metavar="RULE", help=msg.batch_help("--late-penalty"))
    parser.add_argument(
        "--export", action="append", choices=["canvas", "moodle", "csv"], default=[], help=msg.batch_help("--export")
    )
    parser.add_argument("--assignment", metavar="NAME", help=msg.batch_help("--assignment"))
    parser.add_argument("--course", type=Path, metavar="DIR", help=msg.batch_help("--course"))
    args = parser.parse_args(argv)
    if args.jobs < 1:
        raise UsageError(msg.jobs_positive())
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(msg.timeout_positive())
    if (args.executor == "dask") != bool(args.scheduler):
        raise UsageError(msg.dask_needs_scheduler())
    if bool(args.due) != bool(args.late_penalty):
        raise UsageError(msg.due_needs_penalty())
    use_course(args.course)
    spec = load_exercise(args.exercise)
    late_policy = None
    if args.due:
        from grader.batch.policy import parse_due, parse_late_rule

        late_policy = parse_late_rule(args.late_penalty, parse_due(args.due))
    if args.roster is not None and not args.roster.is_file():
        raise UsageError(msg.roster_missing(str(args.roster)))
    _refuse_overwriting_batch_inputs(args, spec)
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
        out.print(msg.batch_interrupted())
        return EXIT_CANNOT_GRADE
    finally:
        executor.close()
    counts = {
        status: sum(r.status == status for r in run.records)
        for status in ("passed", "failed", "timeout", "error", "missing")
    }
    shown_counts = msg.list_separator().join(msg.status_count(n, status) for status, n in counts.items() if n)
    out.print(
        msg.batch_done(len(run.records), f"{run.seconds:.1f}", run.graded, run.cached, shown_counts),
        highlight=False,
    )
    for warning in run.warnings:
        out.print(f"{msg.warning_prefix()} {warning}", markup=False, highlight=False)
    out.print(
        msg.batch_files(_shown_path(run.files["gradebook"]), _shown_path(run.files["summary"])),
        markup=False,
        highlight=False,
    )
    for kind in ("canvas", "moodle", "moodle_feedback", "csv"):
        if kind in run.files:
            out.print(
                msg.batch_export(kind.replace("_", " "), _shown_path(run.files[kind])), markup=False, highlight=False
            )
    return EXIT_NOT_PASSED if counts["error"] else EXIT_PASSED


BATCH_FILES = ("gradebook.csv", "grades.json", "run.json", "summary.html")  # in --out (grader.batch)
BATCH_FOLDERS = ("students", "cache", "export")


def _refuse_overwriting_batch_inputs(args: argparse.Namespace, spec: ExerciseSpec) -> None:
    """Before any grading: --out is not (inside) the submissions folder, and none of the files
    batch writes there is the roster, an exercise's file or a dataset."""
    from grader.output_guard import refuse_output_in_submissions, refuse_overwriting

    refuse_output_in_submissions("--out", args.out, args.submissions)
    written = [args.out / name for name in BATCH_FILES]
    for folder in BATCH_FOLDERS:
        if (args.out / folder).is_dir():
            written += [p for p in (args.out / folder).rglob("*") if p.is_file()]
    inputs = [args.roster, *exercise_files(spec), args.data_dir]
    refuse_overwriting("--out", args.out, written, inputs=inputs)


def add_course_option(parser: argparse.ArgumentParser) -> None:
    """``--course DIR``: see ``use_course``."""
    parser.add_argument(
        "--course",
        type=Path,
        metavar="DIR",
        help="a course folder holding exercises/ and solutions/ (or GRADER_COURSE_DIR)",
    )


def use_course(course: Path | None) -> None:
    """``--course DIR``: exercises and reference solutions from a course folder. Set in the
    environment, so worker processes and sandboxes started from here read the same folder."""
    if course is None:
        return
    if not (course / "exercises").is_dir():
        raise UsageError(msg.course_without_exercises(str(course)))
    os.environ["GRADER_COURSE_DIR"] = str(course.resolve())


def cmd_validate(argv: list[str], out: Console) -> int:
    """Exit 0 when every case holds, 1 when one does not."""
    from grader.render.junit import write_junit
    from grader.spec import list_exercises, load_exercise
    from grader.validate import CaseOutcome, junit_suites, run_validation

    parser = _ArgumentParser(
        prog="grade validate",
        description=msg.validate_help("description"),
    )
    parser.add_argument("exercises", nargs="*", metavar="EXERCISE", help=msg.validate_help("exercises"))
    parser.add_argument("--junit", type=Path, metavar="FILE", help=msg.validate_help("--junit"))
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help=msg.validate_help("--jobs"))
    parser.add_argument("--data-dir", type=Path, help=msg.validate_help("--data-dir"))
    parser.add_argument("--sandbox", choices=["bwrap", "process"], default="auto", help=msg.validate_help("--sandbox"))
    parser.add_argument("--course", type=Path, metavar="DIR", help=msg.validate_help("--course"))
    parser.add_argument("--spec-only", action="store_true", help=msg.validate_help("--spec-only"))
    args = parser.parse_args(argv)
    use_course(args.course)
    if args.jobs < 1:
        raise UsageError(msg.jobs_positive())
    if args.spec_only:
        return _validate_statically(args.exercises, out)
    specs = [load_exercise(e) for e in args.exercises] if args.exercises else list_exercises()
    if args.junit:
        from grader.output_guard import refuse_overwriting

        # the reference solutions' folders hold the known-bad variants too
        inputs = [file for spec in specs for file in (*exercise_files(spec), spec.solution_path.parent)]
        refuse_overwriting("--junit", args.junit, [args.junit], inputs=[*inputs, args.data_dir])
    args.sandbox = isolation_for_unattended_run(args.sandbox, "grade validate")

    def show(outcome: CaseOutcome) -> None:
        mark = "[green]\u2714[/]" if outcome.ok else "[bold red]\u2718[/]"
        out.print(
            f"{mark} {outcome.case.exercise.id}: {escape(outcome.case.title)} [dim]({escape(outcome.message)})[/]",
            highlight=False,
        )

    report = run_validation(specs, jobs=args.jobs, data_dir=args.data_dir, sandbox=args.sandbox, on_outcome=show)
    failed = [o for o in report.outcomes if not o.ok]
    out.print(msg.validation_cases_hold(len(report.outcomes) - len(failed), len(report.outcomes)), highlight=False)
    if args.junit:
        write_junit(args.junit, junit_suites(report))
        out.print(msg.junit_written(str(args.junit)), markup=False, highlight=False)
    return EXIT_PASSED if report.ok else EXIT_NOT_PASSED


def _validate_statically(exercise_ids: list[str], out: Console) -> int:
    """``grade validate --spec-only``: exit 0 when every file is sound, 2 when a spec is not
    (as loading it would), 1 when a stub or solution file is not."""
    from grader.spec_check import check_exercises

    findings = check_exercises(exercise_ids or None)
    for finding in findings:
        mark = "[green]\u2714[/]" if finding.ok else "[bold red]\u2718[/]"
        out.print(
            f"{mark} {finding.exercise}: {escape(finding.subject)} [dim]({escape(finding.message)})[/]", highlight=False
        )
    bad = [f for f in findings if not f.ok]
    out.print(msg.files_sound(len(findings) - len(bad), len(findings)), highlight=False)
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
        _StdoutUntilReaderLeaves().write(text)
        return EXIT_PASSED
    try:
        args.out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(msg.cannot_write(str(args.out), str(exc.strerror or exc))) from None
    out.print(msg.schema_written(str(args.out)), markup=False, highlight=False)
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

    parser = _ArgumentParser(
        prog="grade gradescope", description="Grade a Gradescope submission and write its results.json."
    )
    parser.add_argument("exercise", help="exercise id (see `grade list`)")
    parser.add_argument("--submission-dir", type=Path, default=GRADESCOPE_SUBMISSION_DIR, metavar="DIR")
    parser.add_argument("--results", type=Path, default=GRADESCOPE_RESULTS, metavar="FILE")
    parser.add_argument("--data-dir", type=Path, help="folder with the dataset files")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="wall-clock limit (default: the exercise's)")
    parser.add_argument("--visibility", choices=VISIBILITIES, default="visible", help="when learners see the results")
    parser.add_argument(
        "--sandbox", choices=["bwrap", "process"], default="auto", help="isolation (default: bubblewrap when it works)"
    )
    parser.add_argument(
        "--course", type=Path, metavar="DIR", help="a course folder holding exercises/ (or GRADER_COURSE_DIR)"
    )
    args = parser.parse_args(argv)
    use_course(args.course)
    spec = load_exercise(args.exercise)
    path, problem = pick_submission_file(args.submission_dir, spec) if args.submission_dir.is_dir() else (
        None, f"the submission folder {args.submission_dir} does not exist")  # fmt: skip
    from grader.output_guard import refuse_overwriting

    refuse_overwriting(
        "--results", args.results, [args.results], submissions=[args.submission_dir],
        inputs=[*exercise_files(spec), args.data_dir],
    )  # fmt: skip
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
        out.print(msg.not_graded(str(result.details["grading_error"]["message"])), markup=False, highlight=False)
    out.print(msg.results_written(str(args.results)), markup=False, highlight=False)
    return EXIT_CANNOT_GRADE if autograder_broken else EXIT_PASSED


def task_readme(directory: Path) -> Path | None:
    """The exercise's task description in the current language (README.zh.md for Chinese),
    else the English one; None when the exercise has neither."""
    for name in dict.fromkeys((msg.readme_name(), "README.md")):
        if (directory / name).is_file():
            return directory / name
    return None


def _shown_path(path: Path) -> str:
    # Relative to where the user is, when it is below it: shorter, and clickable in most terminals.
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
