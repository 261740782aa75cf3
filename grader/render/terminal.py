"""The terminal summary of a finished result (rich): checks, accuracy, score, verdict."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from grader.result import GradeResult
from grader.safe_text import printable

STATUS_STYLE = {"passed": "green", "failed": "red", "error": "bold red", "skipped": "yellow"}
STATUS_MARK = {"passed": "✔ passed", "failed": "✘ failed", "error": "! error", "skipped": "- skipped"}


def render_terminal(result: GradeResult, console: Console) -> None:
    # Text from learner code (messages quoting it, tracebacks, notes on their cells) is shown
    # only through printable(), and nothing here assumes a detail's type: the verdict must show.
    title = f"{result.exercise} · {printable(result.submission, keep_newlines=False)}"
    table = Table(title=escape(title), show_lines=False, expand=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Check", ratio=2)
    table.add_column("Points", justify="right", no_wrap=True)
    table.add_column("Details", ratio=5)
    for check in result.checks:
        status = check.status if check.status in STATUS_MARK else "error"
        details = Text(printable(check.message))
        if check.hint and status != "passed":
            details.append("\nHint: ", style="bold cyan")
            details.append(printable(check.hint), style="cyan")
        table.add_row(
            Text(STATUS_MARK[status], style=STATUS_STYLE[status]),
            Text(printable(check.name, keep_newlines=False)),
            f"{_points(check.score)}/{_points(check.max_score)}",
            details,
        )
    console.print(table)

    details_ = result.details if isinstance(result.details, dict) else {}
    errors = [e for e in details_.get("errors") or [] if isinstance(e, dict)] if isinstance(details_.get("errors"), list) else []
    for error in errors[:1]:
        # The first real cause, in the learner's own file and line.
        text = printable(error.get("traceback") or error.get("message") or "")
        console.print(Panel(Text(text), title="Your code raised", border_style="red"))
    _print_notes(details_.get("notes"), console)

    accuracy = result.metrics.get("test_accuracy")
    lines = Text()
    if result.mode == "quick":
        console.print(_preview_footer(result))
        return
    if isinstance(accuracy, (int, float)):
        lines.append(f"Test accuracy: {accuracy:.4f}", style="bold")
        scaling = result.metrics.get("input_scaling")
        if scaling == "raw":
            lines.append(" (model trained on raw 0-255 pixels)", style="yellow")
        lines.append("\n")
    elif result.style != "quiz":
        lines.append("Test accuracy: not measured (no trained model)\n", style="yellow")
    lines.append(f"Score: {_points(result.score)} / {_points(result.max_score)}", style="bold")
    lines.append(f"   (pass mark {_points(result.pass_mark)})\n")
    verdict = "PREVIEW" if result.passed is None else "PASSED" if result.passed else "NOT PASSED"
    lines.append(verdict, style="bold yellow" if result.passed is None else "bold green" if result.passed else "bold red")
    seed = f", seed {result.seed}" if result.seed is not None else ""
    # The submission style the grader recognised (module, script, notebook, ...): a learner who
    # meant another can force it with --style.
    style = f"{result.style} submission, " if result.style != "quiz" else ""
    lines.append(f"   in {result.elapsed_s:.1f} s{seed}, grader {result.grader_version}, {style}{result.isolation} isolation")
    console.print(lines)


def _preview_footer(result: GradeResult) -> Text:
    """Quick mode (grader.quick): say plainly that this is a preview, not a grade."""
    measured = [c for c in result.checks if c.status != "skipped"]
    possible = sum(c.max_score for c in measured)
    lines = Text()
    lines.append("Test accuracy: not measured (quick mode trains on a small slice only)\n", style="yellow")
    lines.append(
        f"Points so far: {_points(result.score)} of the {_points(possible)} that quick mode can check "
        f"({_points(result.max_score)} in all)\n",
        style="bold",
    )
    lines.append("PREVIEW", style="bold yellow")
    lines.append(" - not a grade: run without --quick for the test accuracy and the verdict.")
    style = f", {result.style} submission" if result.style != "quiz" else ""
    lines.append(f"\nin {result.elapsed_s:.1f} s, grader {result.grader_version}{style}, {result.isolation} isolation")
    return lines


def _points(value: float) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else printable(value, keep_newlines=False)


# The footer lists at most this many notes (skipped notebook magics, ...); the report has all.
NOTES_SHOWN = 5


def _print_notes(notes: object, console: Console) -> None:
    """What the grader did to the submission besides running it, e.g. the notebook magics and
    shell lines it skipped ("Cell 1, line 1: skipped the IPython magic `%matplotlib inline`"):
    a learner whose `!pip install` did not run should not have to open the JSON to learn why."""
    if not isinstance(notes, list) or not notes:
        return
    text = Text()
    text.append("Notes:", style="bold")
    for note in notes[:NOTES_SHOWN]:
        text.append("\n  - " + printable(note, keep_newlines=False))
    if len(notes) > NOTES_SHOWN:
        text.append(f"\n  ... and {len(notes) - NOTES_SHOWN} more (see the report)")
    console.print(text)
