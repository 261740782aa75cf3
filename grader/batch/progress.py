"""Progress of a batch: one line per finished student, and a live bar with an ETA.

On a terminal a rich progress bar (done / to grade, elapsed, time remaining) stays at the bottom
while the per-student lines scroll above it. Elsewhere (CI, a pipe, ``--quiet``) only the lines
are printed, each carrying the count and the ETA, so a log shows how far a batch got.

The ETA counts only submissions graded in this run: results taken from the cache arrive
instantly and would make the rate look far higher than it is.
"""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from grader.batch.records import StudentRecord
from grader.messages import interface as msg
from grader.safe_text import printable

STATUS_STYLE = {"passed": "green", "failed": "red", "timeout": "yellow", "error": "bold red", "missing": "magenta"}
STATUS_MARK = {"passed": "\u2714", "failed": "\u2718", "timeout": "\u231b", "error": "!", "missing": "\u2205"}
RUNNING_SHOWN = 4  # students named on the live line; the rest are counted
STILL_RUNNING_EVERY_S = 60.0  # without a live display: a line naming long runs this often


def safe(text: object) -> str:
    """Text from a student's file name or code, for the console: no control characters or
    escape sequences (grader.safe_text), and no rich markup."""
    return escape(printable(text, keep_newlines=False))


class RunningColumn(ProgressColumn):
    """Who is being graded right now, and for how long: "running: dave 9m12s, erin 4s"."""

    def __init__(self, progress: BatchProgress) -> None:
        super().__init__()
        self.batch = progress

    def render(self, task: object) -> Text:
        return Text(self.batch.running_text(), style="dim")


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class BatchProgress:
    def __init__(self, console: Console, *, live: bool = True) -> None:
        self.console = console
        self.live = live and console.is_terminal
        self.total = 0
        self.done = 0
        self.started = time.monotonic()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._running: dict[str, float] = {}  # submission path -> start time
        self._labels: dict[str, str] = {}  # submission path -> student id(s) shown
        self._lock = threading.Lock()
        self._last_still_running = time.monotonic()

    def label(self, submission: str, students: list[str]) -> None:
        """How to name the students of one submission (several who handed in the same file)."""
        self._labels[submission] = ", ".join(printable(s, keep_newlines=False) for s in students)

    def running(self, submission: str) -> None:
        """A submission started grading (called from the executor's threads)."""
        with self._lock:
            self._running[submission] = time.monotonic()

    def finished(self, submission: str) -> None:
        with self._lock:
            self._running.pop(submission, None)

    def running_now(self) -> list[tuple[str, float]]:
        """(student, seconds running), longest first."""
        now = time.monotonic()
        with self._lock:
            items = [(self._labels.get(path, path), now - started) for path, started in self._running.items()]
        return sorted(items, key=lambda item: -item[1])

    def running_text(self) -> str:
        items = self.running_now()
        if not items:
            return ""
        return msg.batch_running(*self._running_names(items))

    @staticmethod
    def _running_names(items: list[tuple[str, float]]) -> tuple[str, int]:
        """The students named on a line (each with how long it has run), and how many more."""
        shown = msg.list_separator().join(
            f"{name} {format_duration(seconds)}" for name, seconds in items[:RUNNING_SHOWN]
        )
        return shown, max(0, len(items) - RUNNING_SHOWN)

    def still_running_note(self) -> None:
        """Without a live display, a line now and then naming what has been running long."""
        if self.live or time.monotonic() - self._last_still_running < STILL_RUNNING_EVERY_S:
            return
        self._last_still_running = time.monotonic()
        items = self.running_now()
        if items:
            text = msg.batch_running(*self._running_names(items), still=True)
            self.console.print(f"[dim]{escape(text)}[/]", highlight=False)

    def start(self, to_grade: int, *, students: int, cached: int, problems: int, executor: str) -> None:
        self.total, self.done, self.started = to_grade, 0, time.monotonic()
        line = msg.batch_start(students, cached, problems, to_grade, executor)
        self.console.print(line, markup=False, highlight=False)
        if self.live and to_grade:
            self._progress = Progress(
                TextColumn(escape(msg.batch_bar_grading())),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(escape(msg.batch_bar_elapsed())),
                TimeElapsedColumn(),
                TextColumn(escape(msg.batch_bar_eta())),
                TimeRemainingColumn(),
                RunningColumn(self),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("grade", total=to_grade)
        elif to_grade:
            self._ticker_stop = threading.Event()
            self._ticker = threading.Thread(target=self._tick, name="batch-still-running", daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._ticker_stop.wait(5.0):
            self.still_running_note()

    def eta_seconds(self) -> float | None:
        if not self.done or self.done >= self.total:
            return None
        rate = self.done / (time.monotonic() - self.started)
        return (self.total - self.done) / rate if rate > 0 else None

    def student_done(self, record: StudentRecord, *, cached: bool = False, advance: bool = True) -> None:
        """A line for one student. ``advance`` is False for the second and later students who
        handed in the same file as another: one task graded them all."""
        if advance and not cached:
            self.done += 1
        result = record.result
        mark, style = STATUS_MARK[record.status], STATUS_STYLE[record.status]
        if not record.graded:
            what = safe(record.error)
        else:
            points = record.points if record.points is not None else result.score
            maximum = record.final.max_points if record.final is not None else result.max_score
            what = escape(
                msg.batch_student_points(f"{points:g}", f"{maximum:g}", record.status, f"{result.elapsed_s:.1f}")
            )
        where = escape(msg.batch_cached()) if cached else f"{self.done}/{self.total}"
        eta = self.eta_seconds()
        tail = escape(msg.batch_eta(format_duration(eta))) if eta is not None and not self.live and not cached else ""
        running = self.running_text() if not self.live and not cached else ""
        tail += f"; {escape(running)}" if running else ""
        self.console.print(f"[{style}]{mark}[/] {safe(record.id)}: {what} [dim]({where}{tail})[/]", highlight=False)
        if self._progress is not None and self._task is not None and advance and not cached:
            self._progress.advance(self._task)

    def problem(self, record: StudentRecord) -> None:
        """A student with no gradable submission: never queued, but never silent either."""
        mark, style = STATUS_MARK[record.status], STATUS_STYLE[record.status]
        self.console.print(f"[{style}]{mark}[/] {safe(record.id)}: {safe(record.error)}", highlight=False)

    def note(self, text: str) -> None:
        self.console.print(printable(text), markup=False, highlight=False)

    def close(self) -> None:
        if getattr(self, "_ticker_stop", None) is not None:
            self._ticker_stop.set()
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
