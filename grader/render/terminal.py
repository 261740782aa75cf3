"""The terminal summary of a finished result (rich): checks, accuracy, score, verdict."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from grader.messages import current_language
from grader.messages import interface as msg
from grader.result import GradeResult
from grader.safe_text import printable

STATUS_STYLE = {"passed": "green", "failed": "red", "error": "bold red", "skipped": "yellow"}
STATUS_MARK = {"passed": "✔", "failed": "✘", "error": "!", "skipped": "-"}


def render_terminal(result: GradeResult, console: Console) -> None:
    # Text from learner code (messages quoting it, tracebacks, notes on their cells) is shown
    # only through printable(), and nothing here assumes a detail's type: the verdict must show.
    title = f"{result.exercise} · {printable(result.submission, keep_newlines=False)}"
    table = Table(title=escape(title), show_lines=False, expand=True)
    table.add_column(msg.column_status(), no_wrap=True)
    # Every word of a check's name, message and hint matters to the learner (the fix is in the
    # hint): long runs with no spaces (Chinese text, `loss="categorical_crossentropy"`) are
    # folded onto the next line, never cut short with an ellipsis, at any terminal width.
    table.add_column(msg.column_check(), ratio=2, overflow="fold")
    table.add_column(msg.column_points(), justify="right", no_wrap=True)
    table.add_column(msg.column_details(), ratio=5, overflow="fold")
    for check in result.checks:
        status = check.status if check.status in STATUS_MARK else "error"
        details = Text(printable(check.message))
        if check.hint and status != "passed":
            details.append("\n" + msg.hint_label(), style="bold cyan")
            details.append(printable(check.hint), style="cyan")
        table.add_row(
            Text(f"{STATUS_MARK[status]} {msg.status_word(status)}", style=STATUS_STYLE[status]),
            Text(printable(check.name, keep_newlines=False)),
            f"{_points(check.score)}/{_points(check.max_score)}",
            details,
        )
    console.print(table)

    details_ = result.details if isinstance(result.details, dict) else {}
    errors = (
        [e for e in details_.get("errors") or [] if isinstance(e, dict)]
        if isinstance(details_.get("errors"), list)
        else []
    )
    for error in errors[:1]:
        # The first real cause, in the learner's own file and line.
        text = printable(error.get("traceback") or error.get("message") or "")
        console.print(Panel(Text(text), title=msg.your_code_raised(), border_style="red"))
    _print_notes(details_.get("notes"), console)

    accuracy = result.metrics.get("test_accuracy")
    lines = Text()
    if result.mode == "quick":
        console.print(_preview_footer(result))
        return
    if isinstance(accuracy, (int, float)):
        lines.append(msg.test_accuracy_line(f"{accuracy:.4f}"), style="bold")
        scaling = result.metrics.get("input_scaling")
        if scaling == "raw":
            lines.append(msg.raw_pixels_note(), style="yellow")
        lines.append("\n")
    elif result.style != "quiz":
        lines.append(msg.accuracy_not_measured() + "\n", style="yellow")
    lines.append(msg.score_line(_points(result.score), _points(result.max_score)), style="bold")
    lines.append(msg.pass_mark_note(_points(result.pass_mark)) + "\n")
    verdict = msg.verdict_word(result.passed)
    lines.append(
        verdict, style="bold yellow" if result.passed is None else "bold green" if result.passed else "bold red"
    )
    # The submission style the grader recognised (module, script, notebook, ...): a learner who
    # meant another can force it with --style.
    facts = msg.run_facts(
        f"{result.elapsed_s:.1f}",
        str(result.seed) if result.seed is not None else None,
        str(result.grader_version),
        str(result.style) if result.style != "quiz" else None,
        str(result.isolation),
    )
    lines.append(f"   {facts}")
    console.print(lines)
    _print_task_link(result, console)


def _preview_footer(result: GradeResult) -> Text:
    """Quick mode (grader.quick): say plainly that this is a preview, not a grade."""
    measured = [c for c in result.checks if c.status != "skipped"]
    possible = sum(c.max_score for c in measured)
    lines = Text()
    lines.append(msg.quick_accuracy_not_measured() + "\n", style="yellow")
    lines.append(
        msg.quick_points(_points(result.score), _points(possible), _points(result.max_score)) + "\n", style="bold"
    )
    lines.append(msg.verdict_word(None), style="bold yellow")
    lines.append(msg.preview_not_a_grade())
    facts = msg.run_facts(
        f"{result.elapsed_s:.1f}",
        None,
        str(result.grader_version),
        str(result.style) if result.style != "quiz" else None,
        str(result.isolation),
    )
    lines.append(f"\n{facts}")
    return lines


def _print_task_link(result: GradeResult, console: Console) -> None:
    """In Chinese, where the task is explained in Chinese (README.zh.md): a learner who reads
    only Chinese finds the exercise's text from the verdict. English output is unchanged."""
    if current_language() == "en":
        return
    from grader.spec import exercises_root

    readme = exercises_root() / str(result.exercise) / msg.readme_name()
    if readme.is_file():
        console.print(msg.task_link(str(readme)), markup=False, highlight=False, soft_wrap=True)


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
    text.append(msg.notes_heading(), style="bold")
    for note in notes[:NOTES_SHOWN]:
        text.append("\n  - " + printable(note, keep_newlines=False))
    if len(notes) > NOTES_SHOWN:
        text.append("\n  " + msg.more_notes(len(notes) - NOTES_SHOWN))
    console.print(text)
