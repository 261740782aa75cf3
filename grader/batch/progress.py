"""Progress of a batch: one line per finished student, and a live bar with an ETA.

On a terminal a rich progress bar (done / to grade, elapsed, time remaining) stays at the bottom
while the per-student lines scroll above it. Elsewhere (CI, a pipe, ``--quiet``) only the lines
are printed, each carrying the count and the ETA, so a log shows how far a batch got.

The ETA counts only submissions graded in this run: results taken from the cache arrive
instantly and would make the rate look far higher than it is.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from grader.batch.records import StudentRecord

STATUS_STYLE = {"passed": "green", "failed": "red", "timeout": "yellow", "error": "bold red"}
STATUS_MARK = {"passed": "\u2714", "failed": "\u2718", "timeout": "\u231b", "error": "!"}


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
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

    def start(self, to_grade: int, *, students: int, cached: int, problems: int, executor: str) -> None:
        self.total, self.done, self.started = to_grade, 0, time.monotonic()
        parts = [f"{students} students"]
        if cached:
            parts.append(f"{cached} already graded (cached)")
        if problems:
            parts.append(f"{problems} without a gradable submission")
        parts.append(f"{to_grade} to grade on {executor}")
        self.console.print(", ".join(parts) + ".", highlight=False)
        if self.live and to_grade:
            self._progress = Progress(
                TextColumn("Grading"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("elapsed"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("grade", total=to_grade)

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
        if record.status == "error":
            what = escape(record.error)
        else:
            what = f"{result.score:g}/{result.max_score:g} {record.status}, {result.elapsed_s:.1f} s"
        where = "cached" if cached else f"{self.done}/{self.total}"
        eta = self.eta_seconds()
        tail = f", ETA {format_duration(eta)}" if eta is not None and not self.live and not cached else ""
        self.console.print(f"[{style}]{mark}[/] {escape(record.id)}: {what} [dim]({where}{tail})[/]", highlight=False)
        if self._progress is not None and self._task is not None and advance and not cached:
            self._progress.advance(self._task)

    def problem(self, record: StudentRecord) -> None:
        """A student with no gradable submission: never queued, but never silent either."""
        self.console.print(f"[bold red]![/] {escape(record.id)}: {escape(record.error)}", highlight=False)

    def note(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
