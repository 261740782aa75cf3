"""Live progress while a submission is graded.

The sandbox child streams events through the runner's progress pipe as they happen, and the
pipeline adds its own stages; each one reaches ``ProgressDisplay`` (the ``on_progress``
callback) at once, so the learner sees an epoch the moment it ends:

    {"event": "stage", "stage": "train"}
    {"event": "fit", "epochs": 5, "samples": 60000}
    {"event": "epoch", "epoch": 1, "epochs": 5, "logs": {"loss": 0.50, "accuracy": 0.82}}
    {"event": "done"}

On a terminal it is a rich progress line (spinner, stage, a bar over the epochs, loss and
accuracy of the last epoch, elapsed time) with one permanent line per finished epoch above it;
the live line disappears when grading ends, leaving the epoch lines for the summary to follow.
Elsewhere (a pipe, CI, ``--quiet``) it prints plain lines, one per stage and per epoch.

``ProgressState`` holds what is known so far and turns events into those lines; it renders
nothing, so the logic is tested with synthetic events.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from grader.messages import current_language, use_language
from grader.messages import interface as msg
from grader.safe_text import printable

STAGE_TEXT = msg.STAGE_TEXT  # stage -> its line, in English; stage_text() translates


MAX_NAME_CHARS = 64  # a stage or metric name longer than this is cut


def stage_text(stage: Any) -> str:
    known = msg.stage_text(str(stage))
    if known is not None:
        return known
    return msg.running_stage(printable(stage, keep_newlines=False, limit=MAX_NAME_CHARS))


def format_logs(logs: Mapping[str, Any]) -> str:
    """``"loss 0.3012, accuracy 0.8921, val_loss 0.3520, val_accuracy 0.8710"``: the order
    Keras prints, whatever order the child sent."""

    def order(key: str) -> tuple[int, int, str]:
        validation = key.startswith("val_")
        base = key[4:] if validation else key
        return (int(validation), 0 if base == "loss" else 1 if "acc" in base else 2, base)

    return msg.list_separator().join(
        msg.log_entry(printable(key, keep_newlines=False, limit=MAX_NAME_CHARS), _number(key, logs[key]))
        for key in sorted(logs, key=lambda key: order(str(key)))
    )


def _number(key: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return printable(value, keep_newlines=False, limit=MAX_NAME_CHARS)
    if math.isnan(value) or math.isinf(value):
        return str(value)  # a diverged loss shows as "nan", which is exactly what to notice
    # Loss and accuracy as Keras prints them; anything else (a learning rate of 0.001) keeps
    # its significant digits.
    return f"{value:.4f}" if key.removeprefix("val_") == "loss" or "acc" in key else f"{value:.4g}"


@dataclass
class ProgressState:
    """What is known so far. ``apply`` returns the permanent lines an event produces."""

    stage: str | None = None
    epoch: int = 0
    epochs: int | None = None  # None: the child could not tell (epochs not a plain int)
    logs: dict[str, Any] = field(default_factory=dict)
    fit_calls: int = 0
    training: bool = False  # inside a model.fit call: from its fit event to the next stage

    @property
    def description(self) -> str:
        if self.training:
            return msg.training(self.fit_calls)
        return stage_text(self.stage) if self.stage else msg.starting()

    @property
    def counter(self) -> str:
        if not self.training:
            return ""
        return msg.epoch_counter(self.epoch, str(self.epochs or "?"))

    def apply(self, event: Mapping[str, Any]) -> list[str]:
        kind = event.get("event")
        if kind == "stage":
            self.stage = str(event.get("stage"))
            self.training = False
            return [stage_text(self.stage)]
        if kind == "fit":
            # Each model.fit call starts its epochs from 1 again.
            self.fit_calls += 1
            self.training = True
            self.epoch, self.logs = 0, {}
            self.epochs = _positive_int(event.get("epochs"))
            return []
        if kind == "epoch":
            if self.fit_calls == 0:  # an epoch without a fit event still counts as training
                self.fit_calls = 1
            self.training = True
            self.epoch = _positive_int(event.get("epoch")) or self.epoch + 1
            self.epochs = _positive_int(event.get("epochs")) or self.epochs
            logs = event.get("logs")
            self.logs = dict(logs) if isinstance(logs, Mapping) else {}
            line = msg.epoch_line(self.epoch, str(self.epochs or "?"))
            if self.logs:
                line = msg.epoch_line_with_logs(line, format_logs(self.logs))
            return [line]
        return []  # "done" and anything newer: nothing to print


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


class ProgressDisplay:
    """The ``on_progress`` callback. Use as a context manager; call it with each event.

    ``live``: a rich progress line when the console is a terminal; plain lines otherwise.
    Events arrive on the runner's reader thread, so updates take a lock.
    """

    def __init__(self, console: Console, *, live: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.live = live and console.is_terminal
        self.state = ProgressState()
        self.clock = clock
        self.started = clock()
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        # Events arrive on the runner's reader thread, which does not share this thread's
        # language (a context variable): the lines are written in the language of the command.
        self.language = current_language()

    def __enter__(self) -> ProgressDisplay:
        self.started = self.clock()
        if self.live:
            self._progress = Progress(
                SpinnerColumn(),
                # markup=False: metric names come from learner code and are shown as they are.
                TextColumn("{task.description}", markup=False),
                BarColumn(bar_width=20),
                TextColumn("{task.fields[counter]}", markup=False),
                TextColumn("{task.fields[metrics]}", markup=False, style="cyan"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,  # the summary follows; the epoch lines above stay
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.state.description, total=None, counter="", metrics="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __call__(self, event: dict[str, Any]) -> None:
        with self._lock, use_language(self.language):
            lines = self.state.apply(event)
            if self._progress is None:
                for line in lines:
                    self._print_plain(line)
                return
            if event.get("event") == "epoch":
                for line in lines:
                    self._progress.console.print(Text(printable(line, keep_newlines=False)), highlight=False)
            self._refresh()

    def _refresh(self) -> None:
        assert self._progress is not None and self._task is not None
        state = self.state
        self._progress.update(
            self._task,
            description=state.description,
            completed=state.epoch if state.training else 0,
            counter=state.counter,
            metrics=_short_metrics(state.logs) if state.training else "",
        )
        # A bar over the epochs while training; outside it the bar pulses instead of pretending
        # to know how far along a stage is. (update() cannot set None: it means "unchanged".)
        task = next(t for t in self._progress.tasks if t.id == self._task)
        task.total = state.epochs if state.training and state.epochs else None
        task.finished_time = None  # a "finished" task freezes its elapsed time; grading goes on

    def _print_plain(self, line: str) -> None:
        # Elapsed time on every line: in a CI log it shows where the time went. The line went
        # through printable() piece by piece already; once more for the whole costs nothing.
        elapsed = self.clock() - self.started
        self.console.print(
            Text(f"[{elapsed:6.1f} s] {printable(line, keep_newlines=False)}"), highlight=False, soft_wrap=True
        )


def _short_metrics(logs: Mapping[str, Any]) -> str:
    """The live line keeps to training loss and accuracy so it fits an 80-column terminal; the
    full figures are in the epoch lines above it."""
    keep = {key: value for key, value in logs.items() if not key.startswith("val_") and (key == "loss" or "acc" in key)}
    return format_logs(keep)
