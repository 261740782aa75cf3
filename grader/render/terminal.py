"""The terminal summary of a finished result (rich): checks, accuracy, score, verdict."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from grader.result import GradeResult

STATUS_STYLE = {"passed": "green", "failed": "red", "error": "bold red", "skipped": "yellow"}
STATUS_MARK = {"passed": "✔ passed", "failed": "✘ failed", "error": "! error", "skipped": "- skipped"}


def render_terminal(result: GradeResult, console: Console) -> None:
    title = f"{result.exercise} · {result.submission}"
    table = Table(title=escape(title), show_lines=False, expand=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Check", ratio=2)
    table.add_column("Points", justify="right", no_wrap=True)
    table.add_column("Details", ratio=5)
    for check in result.checks:
        details = Text(check.message)
        if check.hint and check.status != "passed":
            details.append("\nHint: ", style="bold cyan")
            details.append(check.hint, style="cyan")
        table.add_row(
            Text(STATUS_MARK[check.status], style=STATUS_STYLE[check.status]),
            Text(check.name),
            f"{_points(check.score)}/{_points(check.max_score)}",
            details,
        )
    console.print(table)

    for error in result.details.get("errors", [])[:1]:
        # The first real cause, in the learner's own file and line.
        console.print(Panel(Text(error.get("traceback") or error.get("message", "")), title="Your code raised", border_style="red"))

    accuracy = result.metrics.get("test_accuracy")
    lines = Text()
    if accuracy is not None:
        lines.append(f"Test accuracy: {accuracy:.4f}", style="bold")
        scaling = result.metrics.get("input_scaling")
        if scaling == "raw":
            lines.append(" (model trained on raw 0-255 pixels)", style="yellow")
        lines.append("\n")
    elif result.style != "quiz":
        lines.append("Test accuracy: not measured (no trained model)\n", style="yellow")
    lines.append(f"Score: {_points(result.score)} / {_points(result.max_score)}", style="bold")
    lines.append(f"   (pass mark {_points(result.pass_mark)})\n")
    verdict = "PASSED" if result.passed else "NOT PASSED"
    lines.append(verdict, style="bold green" if result.passed else "bold red")
    seed = f", seed {result.seed}" if result.seed is not None else ""
    # The submission style the grader recognised (module, script, notebook, ...): a learner who
    # meant another can force it with --style.
    style = f"{result.style} submission, " if result.style != "quiz" else ""
    lines.append(f"   in {result.elapsed_s:.1f} s{seed}, grader {result.grader_version}, {style}{result.isolation} isolation")
    console.print(lines)


def _points(value: float) -> str:
    return f"{value:g}"
