"""The live progress display, fed synthetic events as the sandbox child and pipeline send them."""

from __future__ import annotations

import io
import re
from typing import Any

from rich.console import Console

from grader.render.progress import ProgressDisplay, ProgressState, format_logs

EVENTS: list[dict[str, Any]] = [
    {"event": "stage", "stage": "data"},
    {"event": "stage", "stage": "import"},
    {"event": "stage", "stage": "build_model"},
    {"event": "stage", "stage": "train"},
    {"event": "fit", "epochs": 3, "samples": 60000},
    {"event": "epoch", "epoch": 1, "epochs": 3, "logs": {"accuracy": 0.82, "loss": 0.5012}},
    {"event": "epoch", "epoch": 2, "epochs": 3, "logs": {"accuracy": 0.86, "loss": 0.3811}},
    {"event": "epoch", "epoch": 3, "epochs": 3, "logs": {"accuracy": 0.875, "loss": 0.3402}},
    {"event": "done"},
    {"event": "stage", "stage": "evaluate"},
]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def console(*, terminal: bool) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(
        file=buffer, force_terminal=terminal, width=120, color_system=None if not terminal else "standard"
    ), buffer


def test_plain_lines_when_not_a_terminal() -> None:
    out, buffer = console(terminal=False)
    clock = FakeClock()
    with ProgressDisplay(out, live=True, clock=clock) as display:  # live asked, but no terminal
        for event in EVENTS:
            clock.now += 1.5
            display(event)
    assert buffer.getvalue().splitlines() == [
        "[   1.5 s] Loading the dataset",
        "[   3.0 s] Importing your code",
        "[   4.5 s] Running build_model()",
        "[   6.0 s] Running train()",
        "[   9.0 s] Epoch 1/3: loss 0.5012, accuracy 0.8200",
        "[  10.5 s] Epoch 2/3: loss 0.3811, accuracy 0.8600",
        "[  12.0 s] Epoch 3/3: loss 0.3402, accuracy 0.8750",
        "[  15.0 s] Testing your model on the test split",
    ]


def test_quiet_gives_plain_lines_on_a_terminal_too() -> None:
    out, buffer = console(terminal=True)
    with ProgressDisplay(out, live=False, clock=FakeClock()) as display:
        for event in EVENTS:
            display(event)
    text = ANSI.sub("", buffer.getvalue())
    assert "Epoch 2/3: loss 0.3811, accuracy 0.8600" in text
    assert "\x1b[?25l" not in buffer.getvalue()  # no live display: the cursor was never hidden


def test_live_display_streams_each_epoch_as_it_ends() -> None:
    out, buffer = console(terminal=True)
    with ProgressDisplay(out, live=True) as display:
        assert display.live
        for event in EVENTS[:6]:
            display(event)
        # Streamed: epoch 1 is on screen before epoch 2 has happened.
        assert "Epoch 1/3: loss 0.5012, accuracy 0.8200" in ANSI.sub("", buffer.getvalue())
        assert display.state.description == "Training"
        assert display.state.counter == "epoch 1/3"
        task = display._progress.tasks[0]  # type: ignore[union-attr]
        assert (task.completed, task.total) == (1, 3)
        assert task.fields["metrics"] == "loss 0.5012, accuracy 0.8200"
        for event in EVENTS[6:]:
            display(event)
        assert display.state.description == "Testing your model on the test split"
        assert task.total is None  # pulsing again: no epochs outside training
    text = ANSI.sub("", buffer.getvalue())
    for epoch in (1, 2, 3):
        assert text.count(f"Epoch {epoch}/3:") == 1  # one permanent line per epoch, never replayed


def test_learner_metric_names_are_not_rich_markup() -> None:
    out, buffer = console(terminal=False)
    with ProgressDisplay(out, live=False, clock=FakeClock()) as display:
        display({"event": "epoch", "epoch": 1, "epochs": 2, "logs": {"[bold red]evil[/]": 1.0, "loss": float("nan")}})
    assert "[bold red]evil[/] 1" in buffer.getvalue()
    assert "loss nan" in buffer.getvalue()


def test_state_handles_unknown_epochs_and_repeated_fit_calls() -> None:
    state = ProgressState()
    assert state.description == "Starting"
    state.apply({"event": "stage", "stage": "train"})
    state.apply({"event": "fit", "epochs": 0})  # epochs given as something not an int
    assert state.apply({"event": "epoch", "epoch": 1, "epochs": 0, "logs": {}}) == ["Epoch 1/?"]
    state.apply({"event": "fit", "epochs": 2})
    assert state.description == "Training (fit call 2)"
    assert state.epoch == 0 and state.counter == "epoch 0/2"
    assert state.apply({"event": "stage", "stage": "my_new_stage"}) == ["Running my_new_stage"]
    assert state.apply({"event": "something_new"}) == []
    # An epoch with no fit event before it (an older child) still shows as training.
    fresh = ProgressState()
    assert fresh.apply({"event": "epoch", "epoch": 4, "epochs": 10, "logs": {"loss": 1}}) == ["Epoch 4/10: loss 1.0000"]
    assert fresh.training and fresh.counter == "epoch 4/10"


def test_format_logs_uses_keras_order() -> None:
    logs = {"val_accuracy": 0.87, "learning_rate": 0.001, "accuracy": 0.9, "val_loss": 0.35, "loss": 0.29}
    assert (
        format_logs(logs) == "loss 0.2900, accuracy 0.9000, learning_rate 0.001, val_loss 0.3500, val_accuracy 0.8700"
    )


def test_a_display_error_never_reaches_the_pipeline() -> None:
    # The runner swallows callback errors; the display itself must still accept odd events.
    out, _ = console(terminal=False)
    with ProgressDisplay(out, live=False) as display:
        display({})
        display({"event": "epoch", "logs": "not a dict"})
        display({"event": "stage"})


HOSTILE_EVENTS: list[dict[str, Any]] = [
    # What the runner's validation would drop; the display strips control characters all the
    # same (one stripper, grader.safe_text.printable), so nothing reaches the terminal raw.
    {"event": "stage", "stage": "\x1b[2K\x1b[1A\u2714 every check passed\x1b]0;PASSED\x07"},
    {"event": "fit", "epochs": 2, "samples": 10},
    {
        "event": "epoch",
        "epoch": 1,
        "epochs": 2,
        "logs": {"loss\x1b]52;c;cm0gLXJmIH4=\x07": 0.5, "acc\u202eur": "\x1b[31mred"},
    },
]


def test_control_characters_never_reach_the_terminal() -> None:
    for terminal, live in ((False, False), (True, True), (True, False)):
        out, buffer = console(terminal=terminal)
        with ProgressDisplay(out, live=live, clock=FakeClock()) as display:
            for event in HOSTILE_EVENTS:
                display(event)
        shown = ANSI.sub("", buffer.getvalue())  # rich's own styling is fine; the learner's is not
        for fragment in ("\x1b]", "\x07", "\u202e", "\x1b[2K", "\x1b[1A", "\x1b[31m"):
            assert fragment not in shown, (terminal, live, repr(shown))
        if not live:
            assert "Running \u2714 every check passed" in shown  # plain text in a progress line, not a verdict
