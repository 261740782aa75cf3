"""``%grade`` in Jupyter and Colab: grade the running notebook without leaving it.

    %load_ext grader
    %grade fashion_mnist              # a full grading of this notebook
    %grade fashion_mnist --quick      # a preview in seconds (grader.quick)
    %grade exercise4 other.ipynb      # a notebook or file named explicitly

What is graded: the saved ``.ipynb`` of this notebook when the kernel can tell which file it is
(VS Code names it; Jupyter Server gives its kernels ``JPY_SESSION_NAME``), else the cells executed
so far, in the order they ran (the kernel's input history), written to a notebook of their own.
Either way it is graded by ``grade`` in a subprocess, in the sandbox as always: learner code never
runs in this kernel for grading, and this kernel never imports TensorFlow for it (loading the
extension imports nothing heavy). The result is shown inline as HTML: the checks with their
messages and hints, the first error the code raised, and a link to the full HTML report.

Where the grader's datasets are missing (a fresh Colab machine) it says how to get them in one
line instead of grading.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.messages import LANGUAGES, language_from_environment, normalise_language, use_language
from grader.messages import interface as msg
from grader.safe_text import printable

# The one line that installs the datasets (Colab: run it in a cell, then %grade again).
DATA_COMMAND = "!grade data prepare"
STATUS_COLOUR = {"passed": "#1a7f37", "failed": "#cf222e", "error": "#a40e26", "skipped": "#9a6700"}
STATUS_MARK = {"passed": "✔", "failed": "✘", "error": "!", "skipped": "–"}
HISTORY_NOTEBOOK = "notebook_cells.ipynb"  # the cells executed so far, when no saved file is known


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext grader``: register the ``%grade`` line magic."""
    ipython.register_magic_function(lambda line: grade_magic(line, ipython), magic_kind="line", magic_name="grade")


# --- what to grade -----------------------------------------------------------------------------


@dataclass
class NotebookSource:
    path: Path  # the file handed to `grade`
    description: str  # for the learner: which code was graded
    temporary: bool = False  # written from the history: removed after grading


def find_saved_notebook(user_ns: dict[str, Any], environ: dict[str, str] | os._Environ[str], cwd: Path) -> Path | None:
    """The ``.ipynb`` file this kernel runs, when the front end says which: VS Code puts it in
    ``__vsc_ipynb_file__``; Jupyter Server sets ``JPY_SESSION_NAME`` (a path, absolute or
    relative to the server's root, which is usually the kernel's folder or above it)."""
    candidates: list[Path] = []
    vscode = user_ns.get("__vsc_ipynb_file__")
    if isinstance(vscode, str) and vscode:
        candidates.append(Path(vscode))
    session = environ.get("JPY_SESSION_NAME", "")
    if session.endswith(".ipynb"):
        session_path = Path(session)
        candidates += [session_path, cwd / session_path, cwd / session_path.name]
    for candidate in candidates:
        if candidate.suffix == ".ipynb" and candidate.is_file():
            return candidate.resolve()
    return None


def _is_grader_line(line: str) -> bool:
    words = line.strip().split()
    if not words:
        return False
    if words[0] in ("%grade", "%%grade"):
        return True
    return words[0] in ("%load_ext", "%reload_ext") and len(words) > 1 and words[1] == "grader"


def history_cells(raw_inputs: list[str]) -> list[str]:
    """The cells executed so far, in order, without the grader's own lines (``%load_ext grader``,
    ``%grade ...``): grading them would grade the grading."""
    cells = []
    for source in raw_inputs[1:]:  # In[0] is always empty
        kept = "\n".join(line for line in source.splitlines() if not _is_grader_line(line))
        if kept.strip():
            cells.append(kept)
    return cells


def write_history_notebook(cells: list[str], folder: Path) -> Path:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    path = folder / HISTORY_NOTEBOOK
    nbformat.write(notebook, str(path))
    return path


def notebook_source(ipython: Any, explicit: Path | None, scratch: Path) -> NotebookSource:
    if explicit is not None:
        return NotebookSource(explicit.resolve(), f"{explicit.name}")
    saved = find_saved_notebook(ipython.user_ns, os.environ, Path.cwd())
    if saved is not None:
        age = time.time() - saved.stat().st_mtime
        return NotebookSource(saved, msg.magic_saved_notebook(saved.name, _age_text(age) if age > 60 else None))
    cells = history_cells(list(getattr(ipython.history_manager, "input_hist_raw", []) or []))
    path = write_history_notebook(cells, scratch)
    return NotebookSource(path, msg.magic_executed_cells(len(cells)), temporary=True)


def _age_text(seconds: float) -> str:
    if seconds < 3600:
        return msg.minutes_text(f"{seconds / 60:.0f}")
    return msg.hours_text(f"{seconds / 3600:.1f}")


# --- the magic ---------------------------------------------------------------------------------


class _MagicParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ValueError(message)


def magic_parser() -> argparse.ArgumentParser:
    parser = _MagicParser(prog="%grade", add_help=False)
    parser.add_argument("exercise")
    parser.add_argument("path", nargs="?", type=Path)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--timeout", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--sandbox", choices=["bwrap", "process"])
    parser.add_argument("--style")
    parser.add_argument("--lang", choices=LANGUAGES)
    return parser


def grade_magic(line: str, ipython: Any) -> None:
    """``%grade EXERCISE [PATH] [--quick] [--timeout S] [--seed N] [--data-dir DIR] [--sandbox K]``."""
    from IPython.display import HTML, display

    try:
        args = magic_parser().parse_args(shlex.split(line))
    except ValueError as exc:
        display(HTML(_message_html(msg.magic_usage(str(exc)), error=True)))
        return
    # The kernel's locale, unless --lang says otherwise; `grade` below is given the same.
    args.lang = normalise_language(args.lang) if args.lang else language_from_environment()
    with use_language(args.lang):
        _grade_in_language(args, ipython)


def _grade_in_language(args: argparse.Namespace, ipython: Any) -> None:
    from IPython.display import HTML, display

    missing = missing_data_message(args.exercise, args.data_dir)
    if missing is not None:
        display(HTML(missing))
        return
    handle = display(HTML(_message_html(msg.magic_grading())), display_id=True)
    with tempfile.TemporaryDirectory(prefix="grade-notebook-") as scratch:
        source = notebook_source(ipython, args.path, Path(scratch))
        report_dir = Path.cwd() / "grade-reports" / args.exercise
        outcome = run_grade(args, source.path, report_dir, Path(scratch) / "result.json", handle)
    handle.update(HTML(outcome_html(outcome, source, report_dir)))


@dataclass
class GradeOutcome:
    exit_code: int
    result: dict[str, Any] | None
    error_line: str  # what `grade` said when it could not grade (exit 2)


def grade_command(args: argparse.Namespace, path: Path, report_dir: Path, json_path: Path) -> list[str]:
    command = [sys.executable, "-m", "grader", args.exercise, str(path), "--quiet", "--json", str(json_path),
               "--report", str(report_dir)]  # fmt: skip
    if args.quick:
        command.append("--quick")
    for flag, value in (("--timeout", args.timeout), ("--seed", args.seed), ("--data-dir", args.data_dir),
                        ("--sandbox", args.sandbox), ("--style", args.style),
                        ("--lang", getattr(args, "lang", None))):  # fmt: skip
        if value is not None:
            command += [flag, str(value)]
    return command


def run_grade(args: argparse.Namespace, path: Path, report_dir: Path, json_path: Path, handle: Any) -> GradeOutcome:
    """Run ``grade`` and show its progress lines as they come; interrupting the kernel stops it
    (SIGINT, so it stops its sandbox too)."""
    from IPython.display import HTML

    process = subprocess.Popen(
        grade_command(args, path, report_dir, json_path),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace",
    )  # fmt: skip
    said: list[str] = []  # what `grade` wrote besides progress: its error line, or a grader fault
    try:
        assert process.stderr is not None
        for raw in process.stderr:
            line = printable(raw.rstrip(), keep_newlines=False, limit=300)
            if not line.strip():
                continue
            if line.lstrip().startswith("[") and handle is not None:  # a progress line: "[  3.2 s] ..."
                handle.update(HTML(_message_html(msg.magic_grading_line(line.strip()))))
            else:
                said = [*said[-40:], line]
        process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        raise
    result = None
    if json_path.is_file():
        try:
            result = json.loads(json_path.read_text(encoding="utf-8"))
        except ValueError:
            result = None
    errors = [line.split("error:", 1)[1].strip() for line in said if line.startswith("error:")]
    # The CLI's one-line error when it could not grade; else the end of what it said (a grader fault).
    error = errors[-1] if errors else ("\n".join(said[-15:]) or f"grade exited with code {process.returncode}")
    return GradeOutcome(process.returncode, result, error)


def missing_data_message(exercise: str, data_dir: Path | None) -> str | None:
    """HTML saying how to install the datasets, when the exercise's dataset is not on this machine."""
    try:
        from grader.datasets import dataset_status
        from grader.spec import load_exercise

        spec = load_exercise(exercise)
    except Exception:  # noqa: BLE001 - `grade` itself will say what is wrong with the exercise
        return None
    if spec.kind != "model":
        return None
    for row in dataset_status(data_dir):
        if row["name"] == spec.dataset and not row.get("found"):
            return (
                '<div class="grader-result">'
                f"<p>{msg.magic_no_data_html(html.escape(str(spec.dataset)), html.escape(exercise))}</p>"
                f"<pre>{html.escape(DATA_COMMAND)}</pre>"
                f'<p style="color:#57606a">({html.escape(printable(row.get("reason", ""), keep_newlines=False, limit=400))})</p>'
                "</div>"
            )
    return None


# --- the result as HTML ------------------------------------------------------------------------


def _text(value: Any, limit: int | None = None) -> str:
    """Learner-influenced text, safe for HTML."""
    return html.escape(printable(value if value is not None else "", limit=limit))


def _message_html(message: str, *, error: bool = False) -> str:
    colour = "#a40e26" if error else "#57606a"
    return f'<div class="grader-result" style="color:{colour}">{html.escape(message)}</div>'


def report_link(report_dir: Path, cwd: Path | None = None) -> str:
    """A link the notebook's front end can open: relative to the kernel's folder (JupyterLab,
    Notebook and VS Code resolve it beside the notebook), else a file URL."""
    report = report_dir / "report.html"
    try:
        return report.resolve().relative_to((cwd or Path.cwd()).resolve()).as_posix()
    except ValueError:
        return report.resolve().as_uri()


def outcome_html(outcome: GradeOutcome, source: NotebookSource, report_dir: Path) -> str:
    result = outcome.result
    if result is None:
        return (
            f'<div class="grader-result"><p style="color:#a40e26"><b>{html.escape(msg.magic_not_graded())}</b></p>'
            f'<pre style="white-space:pre-wrap">{_text(outcome.error_line, 3000)}</pre>'
            f'<p style="color:#57606a">{html.escape(msg.magic_handed_in(printable(source.description)))}</p></div>'
        )
    quick = result.get("mode") == "quick"
    rows = []
    for check in result.get("checks", []):
        status = str(check.get("status", ""))
        colour = STATUS_COLOUR.get(status, "#57606a")
        detail = f"{_text(check.get('message'), 1500)}"
        if check.get("hint") and status != "passed":
            hint = f"<b>{html.escape(msg.hint_heading())}</b> {_text(check.get('hint'), 1500)}"
            detail += f'<br><span style="color:#0969da">{hint}</span>'
        mark = f"{STATUS_MARK.get(status, '?')} {html.escape(msg.status_word(status))}"
        rows.append(
            f'<tr><td style="color:{colour};white-space:nowrap;text-align:left">{mark}</td>'
            f'<td style="text-align:left">{_text(check.get("name"))}</td>'
            f'<td style="text-align:right;white-space:nowrap">{float(check.get("score", 0)):g}/{float(check.get("max_score", 0)):g}</td>'
            f'<td style="text-align:left">{detail}</td></tr>'
        )
    if quick:
        measured = sum(float(c.get("max_score", 0)) for c in result.get("checks", []) if c.get("status") != "skipped")
        verdict = f'<b style="color:#9a6700">{html.escape(msg.verdict_word(None))}</b>' + msg.magic_preview_html(
            f"{float(result.get('score', 0)):g}", f"{measured:g}", _text(result.get("exercise"))
        )
    else:
        passed = bool(result.get("passed"))
        accuracy = (result.get("metrics") or {}).get("test_accuracy")
        shown = msg.magic_accuracy(f"{accuracy:.4f}") if isinstance(accuracy, (int, float)) else ""
        verdict = (
            f'<b style="color:{STATUS_COLOUR["passed"] if passed else STATUS_COLOUR["failed"]}">'
            f"{html.escape(msg.verdict_word(passed))}</b>"
            + html.escape(
                msg.magic_score(
                    f"{float(result.get('score', 0)):g}",
                    f"{float(result.get('max_score', 0)):g}",
                    shown,
                    f"{float(result.get('pass_mark', 0)):g}",
                )
            )
        )
    errors = (result.get("details") or {}).get("errors") or []
    raised = ""
    if errors:
        first = errors[0]
        raised = (
            f"<details open><summary>{html.escape(msg.your_code_raised())}</summary>"
            f'<pre style="white-space:pre-wrap">{_text(first.get("traceback") or first.get("message"), 4000)}</pre></details>'
        )
    report = report_dir / "report.html"
    link = (
        f'<p><a href="{html.escape(report_link(report_dir))}" target="_blank">{html.escape(msg.magic_open_report())}</a> '
        f"({html.escape(str(report))})</p>"
        if report.is_file()
        else ""
    )
    return (
        '<div class="grader-result">'
        f"<p><b>{_text(result.get('exercise'))}</b>: {verdict}</p>"
        f'<table><thead><tr><th style="text-align:left">{html.escape(msg.column_status())}</th>'
        f'<th style="text-align:left">{html.escape(msg.column_check())}</th>'
        f'<th>{html.escape(msg.column_points())}</th><th style="text-align:left">{html.escape(msg.column_details())}</th>'
        "</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        f"{raised}{link}"
        '<p style="color:#57606a">'
        + html.escape(
            msg.magic_graded(
                printable(source.description),
                printable(result.get("style") or ""),
                printable(result.get("isolation") or ""),
                f"{float(result.get('elapsed_s', 0)):.1f}",
            )
        )
        + "</p>"
        "</div>"
    )
