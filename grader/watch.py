"""Watch mode (``grade EXERCISE [FILE] --watch``): a quick preview each time the file is saved.

The learner keeps their editor open and saves; each save re-runs quick mode (``grader.quick``)
and shows a compact view of the checks, marking those whose outcome changed since the last run
("was failed"). Pressing ``f`` runs a full grading once (``--full`` makes every run a full one);
Ctrl-C stops watching, killing a grading in flight, and exits 0.

Three threads, one queue: the file watcher (``watchfiles``: the operating system's file events,
not polling) and the key reader put events in the queue; the main thread takes them and grades,
so only one grading runs at a time and saves made during a grading are folded into one run.
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.errors import GraderError, UsageError
from grader.messages import interface as msg
from grader.result import GradeResult
from grader.safe_text import printable
from grader.spec import ExerciseSpec

STATUS_MARK = {"passed": ("✔", "green"), "failed": ("✘", "red"), "error": ("!", "bold red"), "skipped": ("–", "yellow")}
DEBOUNCE_MS = 300  # editors write a file in several steps; one save is one run
MESSAGE_CHARS = 160  # a check's message in the compact view


@dataclass
class WatchState:
    """What the last run found, to say what changed. ``outcomes``: check id -> (status, score)."""

    outcomes: dict[str, tuple[str, float]] = field(default_factory=dict)
    runs: int = 0

    def changes(self, result: GradeResult) -> dict[str, str]:
        """check id -> how it changed since the last run ("was failed", "new"); unchanged: absent."""
        if not self.outcomes:
            return {}
        changed: dict[str, str] = {}
        for check in result.checks:
            before = self.outcomes.get(check.id)
            if before is None:
                changed[check.id] = msg.watch_change_new()
            elif before[0] != check.status:
                changed[check.id] = msg.watch_change_status(before[0])
            elif abs(before[1] - check.score) > 1e-9:
                changed[check.id] = msg.watch_change_points(f"{before[1]:g}")
        return changed

    def remember(self, result: GradeResult) -> None:
        self.outcomes = {check.id: (check.status, check.score) for check in result.checks}
        self.runs += 1


def compact_view(result: GradeResult, changes: dict[str, str], *, trigger: str) -> Table:
    """One line per check (status, name, points, what changed) and, for a check that did not
    pass, its message and hint below it, shortened."""
    kind = msg.run_kind(full=result.mode != "quick")
    when = time.strftime("%H:%M:%S")
    file_name = printable(Path(result.submission).name, keep_newlines=False)
    table = Table(
        title=msg.watch_title(file_name, kind, msg.watch_trigger(trigger), when, f"{result.elapsed_s:.1f}"),
        show_header=False, box=None, expand=True, padding=(0, 1),
    )  # fmt: skip
    table.add_column(no_wrap=True)
    table.add_column(ratio=1)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    for check in result.checks:
        mark, style = STATUS_MARK.get(check.status, ("?", ""))
        change = changes.get(check.id, "")
        name = Text(check.name)
        if check.status not in ("passed",) and (check.message or check.hint):
            detail = printable(check.message, keep_newlines=False, limit=MESSAGE_CHARS)
            name.append(f"\n  {detail}", style="dim")
            if check.hint:
                name.append(
                    f"\n  {msg.hint_label()}{printable(check.hint, keep_newlines=False, limit=MESSAGE_CHARS)}",
                    style="cyan",
                )
        table.add_row(
            Text(f"{mark} {msg.status_word(check.status)}", style=style),
            name,
            f"{check.score:g}/{check.max_score:g}",
            Text(f"← {change}" if change else "", style="bold magenta"),
        )
    return table


def summary_line(result: GradeResult) -> Text:
    if result.mode == "quick":
        measured = sum(c.max_score for c in result.checks if c.status != "skipped")
        return Text(msg.watch_preview_line(f"{result.score:g}", f"{measured:g}"), style="bold")
    verdict = msg.verdict_word(bool(result.passed))
    accuracy = result.metrics.get("test_accuracy")
    shown = f"{accuracy:.4f}" if isinstance(accuracy, float) else None
    return Text(
        msg.watch_full_line(f"{result.score:g}", f"{result.max_score:g}", shown, verdict),
        style="bold green" if result.passed else "bold red",
    )


# --- events --------------------------------------------------------------------------------------


def _watch_file(path: Path, events: queue.Queue[str], stop: threading.Event) -> None:
    """Put "save" in the queue each time ``path`` is written (or replaced: editors that save by
    renaming a new file over the old one). Its folder is watched, since the file's own inode
    changes with each such save."""
    from watchfiles import watch

    name = path.name
    for _changes in watch(
        path.parent, watch_filter=lambda _change, changed: Path(changed).name == name,
        debounce=DEBOUNCE_MS, stop_event=stop, recursive=False, raise_interrupt=False,
    ):  # fmt: skip
        events.put("save")


def _read_keys(events: queue.Queue[str], stop: threading.Event) -> None:
    """``f``: a full grading; ``q``: stop. On a terminal one key press is enough (cbreak mode,
    set up by ``_keys_mode``); from a pipe, one letter per line."""
    stream = sys.stdin
    if stream is None:
        return
    interactive = stream.isatty()
    while not stop.is_set():
        try:
            data = os.read(stream.fileno(), 1) if interactive else stream.readline().encode()
        except (OSError, ValueError):
            return
        if not data:
            return  # end of input: keep watching files
        key = data.decode(errors="ignore").strip().lower()[:1]
        if key == "f":
            events.put("full")
        elif key == "q":
            events.put("quit")


class _keys_mode:
    """On a terminal: keys arrive without Enter and are not echoed, until the terminal is restored."""

    def __enter__(self) -> None:
        self.saved: Any = None
        if sys.stdin is not None and sys.stdin.isatty():
            import termios
            import tty

            try:
                self.saved = termios.tcgetattr(sys.stdin.fileno())
                tty.setcbreak(sys.stdin.fileno())
            except termios.error:
                self.saved = None

    def __exit__(self, *exc: object) -> None:
        if self.saved is not None:
            import termios

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self.saved)


def _next_events(events: queue.Queue[str]) -> Iterator[str]:
    """Wait for events, folding the ones that piled up during a grading: any "quit" wins, then a
    "full", else one "save". The wait wakes up regularly so Ctrl-C is handled at once."""
    while True:
        try:
            first = events.get(timeout=0.2)
        except queue.Empty:
            continue
        pending = {first}
        while True:
            try:
                pending.add(events.get_nowait())
            except queue.Empty:
                break
        yield "quit" if "quit" in pending else "full" if "full" in pending else "save"


# --- the loop ------------------------------------------------------------------------------------


def watch_submission(spec: ExerciseSpec, path: Path, args: argparse.Namespace, out: Console, err: Console) -> int:
    """Grade ``path`` now and again at each save until Ctrl-C (or ``q``). Returns the exit code: 0."""
    from grader.cli import grade_options, write_reports
    from grader.pipeline import grade_submission
    from grader.render.progress import ProgressDisplay
    from grader.render.terminal import render_terminal

    if spec.kind != "model":
        raise UsageError(msg.watch_quiz(spec.id))
    path = Path(path).resolve()
    if not path.is_file():
        raise UsageError(msg.watch_not_a_file(str(path)))
    state = WatchState()
    events: queue.Queue[str] = queue.Queue()
    stop = threading.Event()
    quick_by_default = not args.full

    def grade_once(full: bool, trigger: str) -> None:
        if out.is_terminal:
            out.clear()
        label = msg.run_kind(full)
        out.print(Text(f"── {label} ({msg.watch_trigger(trigger)}) ──", style="bold"), highlight=False)
        try:
            with ProgressDisplay(err, live=not args.quiet) as progress:
                result = grade_submission(spec, path, grade_options(args, progress, quick=not full))
        except GraderError as exc:
            # A file that cannot be graded yet (half-written, binary): say so and keep watching.
            out.print(Text(msg.watch_cannot_grade(printable(exc)), style="bold red"))
            return
        except Exception:  # noqa: BLE001 - a grader bug must not end the learner's session
            out.print(Text(msg.watch_grader_failed(), style="bold red"))
            out.print(traceback.format_exc(), markup=False, highlight=False)
            return
        if full:
            render_terminal(result, out)  # the whole result, as `grade` shows it
            if not args.no_report:
                write_reports(result, args.report, args.data_dir, out, err)
        else:
            out.print(compact_view(result, state.changes(result), trigger=trigger))
            out.print(summary_line(result))
        state.remember(result)

    watcher = threading.Thread(target=_watch_file, args=(path, events, stop), name="grade-watch-files", daemon=True)
    keys = threading.Thread(target=_read_keys, args=(events, stop), name="grade-watch-keys", daemon=True)
    help_line = Text(msg.watch_help(path.name), style="dim")
    try:
        with _keys_mode():
            watcher.start()
            keys.start()
            grade_once(full=not quick_by_default, trigger="started")
            out.print(help_line)
            for event in _next_events(events):
                if event == "quit":
                    break
                if event == "full":
                    grade_once(full=True, trigger="f pressed")
                else:
                    grade_once(full=not quick_by_default, trigger="saved")
                out.print(help_line)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how watch mode ends; a grading in flight was stopped with its sandbox
    finally:
        stop.set()
    out.print(msg.watch_stopped(path.name, state.runs), highlight=False)
    return 0
