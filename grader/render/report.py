"""The HTML and Markdown reports of one finished result.

    render_reports(result, Path("grade-reports/fashion_mnist"))
    # -> {"html": .../report.html, "md": .../report.md, "accuracy_curve": .../figures/accuracy-curve.png, ...}

``report.html`` is one self-contained file (inline CSS, figures as PNG data URIs, no script, a
Content-Security-Policy that forbids network access), readable on a phone and on paper.
``report.md`` holds the same sections and figures; its plots are PNG files in ``figures/`` next
to it, and every number in them is also written out as text or a table.

The report is built in two steps. ``report_context`` turns the result into plain view data
(ordered checks, layer rows with parameter arithmetic, per-class rows, most confused pairs,
cleaned output): pure Python, unit-testable without matplotlib. The templates then only lay it
out. Every number comes from the result; nothing is typed into a template.

Learner-provided text (output, exception messages, layer names, answers) is untrusted: the HTML
environment autoescapes, and the Markdown environment escapes every ``{{ ... }}`` by default
(``finalize``), so a template cannot forget to.
"""

from __future__ import annotations

import base64
import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from grader.result import CheckResult, GradeResult
from grader.spec import templates_root

STATUS_MARK = {"passed": "\u2714", "failed": "\u2718", "error": "!", "skipped": "\u2013"}

# The sandbox already bounds captured output (64 KiB); a report shows at most this much of it.
# Training logs are long and the end (the last epochs, the error) matters most, so the kept
# part is a short head and a longer tail.
OUTPUT_MAX_LINES = 300
OUTPUT_HEAD_LINES = 60
OUTPUT_MAX_LINE_CHARS = 400
MOST_CONFUSED = 5
FIGURE_NAMES = ("accuracy_curve", "loss_curve", "confusion_matrix", "predictions")

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --------------------------------------------------------------------------------------------
# View data
# --------------------------------------------------------------------------------------------


@dataclass
class LayerRow:
    name: str
    class_name: str
    output_shape: str
    params: int
    activation: str
    arithmetic: str  # "784 × 64 + 64 = 50,240", or "" when it cannot be derived


@dataclass
class ClassRow:
    label: int
    name: str
    support: int
    correct: int | None  # from the confusion matrix diagonal, when there is one
    precision: float
    recall: float


@dataclass
class ConfusedPair:
    true_name: str
    predicted_name: str
    count: int
    share: float  # of the true class's test images


@dataclass
class OutputView:
    text: str
    omitted_lines: int = 0
    truncated_bytes: int = 0


@dataclass
class ReportContext:
    result: GradeResult
    checks: list[CheckResult]
    status_counts: dict[str, int]
    graded_at: str
    tensorflow_version: str | None
    is_quiz: bool
    model: dict[str, Any] | None
    layers: list[LayerRow]
    total_arithmetic: str
    compile_rows: list[tuple[str, str]]
    history: dict[str, list[float]]
    history_rows: list[tuple[int, list[float | None]]]  # (epoch, values in column order)
    history_columns: list[str]
    has_validation: bool
    history_note: str  # why there is no history, when there is none
    evaluation: dict[str, Any] | None
    class_rows: list[ClassRow]
    confused: list[ConfusedPair]
    samples: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    output: OutputView
    notes: list[str]
    flagged: list[dict[str, Any]]
    figure_notes: dict[str, str] = field(default_factory=dict)


def report_context(result: GradeResult) -> ReportContext:
    """Everything the templates show, computed from the result alone."""
    details = result.details or {}
    # Defaults for every key the templates read, so a result from an older grader (or a
    # hand-written one) renders instead of failing on a missing key.
    model = _with_defaults(details.get("model"), MODEL_DEFAULTS)
    evaluation = _with_defaults(details.get("evaluation"), EVALUATION_DEFAULTS)
    history = {str(k): [_float(x) for x in v] for k, v in (details.get("history") or {}).items() if v}
    class_names = [row.get("name", str(row.get("label"))) for row in (evaluation or {}).get("per_class", [])]
    counts = {status: sum(c.status == status for c in result.checks) for status in ("error", "failed", "skipped", "passed")}
    columns = sorted(history, key=_history_column_order)
    epochs = max((len(v) for v in history.values()), default=0)
    rows = [(i + 1, [history[key][i] if i < len(history[key]) else None for key in columns]) for i in range(epochs)]
    notes = [str(n) for n in details.get("notes") or []]
    if details.get("limit_hit"):
        notes.insert(0, f"Your code was stopped by the grader's {details['limit_hit']} limit.")
    layers = layer_rows(model) if model else []
    return ReportContext(
        result=result,
        checks=ordered_checks(result.checks),
        status_counts=counts,
        graded_at=_format_timestamp(details.get("graded_at")),
        tensorflow_version=details.get("tensorflow_version"),
        is_quiz=result.style == "quiz",
        model=model,
        layers=layers,
        total_arithmetic=total_arithmetic(layers, (model or {}).get("total_params")),
        compile_rows=compile_summary((model or {}).get("compile_config") or {}),
        history=history,
        history_rows=rows,
        history_columns=columns,
        has_validation=any(key.startswith("val_") for key in columns),
        history_note=_why_no_history(details.get("errors") or []),
        evaluation=evaluation,
        class_rows=class_rows(evaluation) if evaluation else [],
        confused=most_confused((evaluation or {}).get("confusion") or [], class_names),
        samples=[
            {
                **sample,
                "right": sample.get("predicted") == sample.get("true"),
                "predicted_name": _name(class_names, sample.get("predicted")),
                "true_name": _name(class_names, sample.get("true")),
            }
            for sample in (evaluation or {}).get("sample_predictions") or []
        ],
        errors=[_with_defaults(e, ERROR_DEFAULTS) for e in details.get("errors") or []],
        output=clean_output(details.get("output") or "", int(details.get("output_truncated_bytes") or 0)),
        notes=notes,
        flagged=[_with_defaults(f, FLAG_DEFAULTS) for f in details.get("flagged_for_review") or []],
    )


MODEL_DEFAULTS: dict[str, Any] = {
    "returned_type": "", "is_keras_model": True, "built": True, "compiled": False, "input_shape": None,
    "output_shape": None, "layers": [], "total_params": None, "compile_config": {}, "summary": "",
}
EVALUATION_DEFAULTS: dict[str, Any] = {
    "status": "ok", "error": "", "test_accuracy": None, "n_test": 0, "input_scaling": None,
    "per_class": [], "confusion": [], "sample_predictions": [],
}
ERROR_DEFAULTS: dict[str, Any] = {"step": "?", "type": "Exception", "message": "", "frames": [], "traceback": ""}
FLAG_DEFAULTS: dict[str, Any] = {"id": "", "title": "", "prompt": "", "answer": "", "rubric_found": [], "rubric_missing": []}


def _with_defaults(data: Any, defaults: Mapping[str, Any]) -> dict[str, Any] | None:
    if not isinstance(data, Mapping) or not data:
        return None
    return {**defaults, **data}


def _float(value: Any) -> float:
    # A diverged loss arrives as NaN (or None from an odd callback); it still gets a row.
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _why_no_history(errors: Sequence[Mapping[str, Any]]) -> str:
    steps = [str(error.get("step")) for error in errors]
    if "train" in steps:
        return "train() raised an error before it returned (see the error above)."
    if steps:
        return "training did not run because of the error above."
    return "train() did not return the History that model.fit(...) returns."


def ordered_checks(checks: Sequence[CheckResult]) -> list[CheckResult]:
    """Checks in the order a learner should fix them: what did not pass, in the exercise's
    order, then what passed (a stable sort keeps the exercise's order within each part)."""
    # An exercise lists its checks in pipeline order (functions present, data, model, compile,
    # training, test), so the first unresolved check is the earliest stage that went wrong, and
    # the checks after it are often its consequences ("Not checked, because load_data() is not
    # written yet", reported as errors). Sorting errors before failures would bury that first
    # cause under its consequences; pipeline order keeps it on top.
    return sorted(checks, key=lambda check: check.status == "passed")


def _history_column_order(key: str) -> tuple[int, int, str]:
    # loss, accuracy, other metrics, then the same for validation: the order Keras prints.
    validation = key.startswith("val_")
    base = key[4:] if validation else key
    rank = 0 if base == "loss" else 1 if "acc" in base else 2
    return (int(validation), rank, base)


# --- the model, as model.summary() shows it, with the parameter arithmetic -----------------


def layer_rows(model: Mapping[str, Any]) -> list[LayerRow]:
    """One row per layer. The arithmetic is derived from the layer's config and the shape that
    flows into it, and only shown when it reproduces the parameter count Keras reported: for a
    layer we cannot explain (a branchy functional model, a custom layer) the count stands alone."""
    rows = []
    incoming = model.get("input_shape")
    for layer in model.get("layers") or []:
        config = layer.get("config") or {}
        params = int(layer.get("params") or 0)
        formula = parameter_formula(layer.get("class_name", ""), config, incoming)
        arithmetic = ""
        if formula is not None:
            terms, value = formula
            if value == params and params > 0:
                arithmetic = f"{terms} = {params:,}"
        output_shape = layer.get("output_shape")
        rows.append(
            LayerRow(
                name=str(layer.get("name", "")),
                class_name=str(layer.get("class_name", "")),
                output_shape=_shape_text(output_shape),
                params=params,
                activation=_activation(layer.get("class_name", ""), config),
                arithmetic=arithmetic,
            )
        )
        if output_shape is not None:
            incoming = output_shape
    return rows


def parameter_formula(
    class_name: str, config: Mapping[str, Any], incoming: Sequence[int | None] | None
) -> tuple[str, int] | None:
    """``("784 × 64 + 64", 50240)`` for a layer whose weights follow from its config and input."""
    inputs = incoming[-1] if incoming else None
    bias = bool(config.get("use_bias", True))
    if class_name == "Dense" and isinstance(inputs, int) and isinstance(config.get("units"), int):
        units = config["units"]
        return _formula([inputs, units], units if bias else 0)
    if class_name in ("Conv1D", "Conv2D", "Conv3D") and isinstance(inputs, int) and isinstance(config.get("filters"), int):
        kernel = config.get("kernel_size")
        kernel = list(kernel) if isinstance(kernel, (list, tuple)) else [kernel]
        if not all(isinstance(k, int) for k in kernel):
            return None
        groups = int(config.get("groups") or 1)
        filters = config["filters"]
        return _formula([*kernel, inputs // groups, filters], filters if bias else 0)
    if class_name == "BatchNormalization" and isinstance(inputs, int):
        # gamma and beta (when scale/center) plus the moving mean and variance.
        per_channel = 2 + bool(config.get("scale", True)) + bool(config.get("center", True))
        return _formula([per_channel, inputs], 0)
    if class_name == "Embedding" and isinstance(config.get("input_dim"), int) and isinstance(config.get("output_dim"), int):
        return _formula([config["input_dim"], config["output_dim"]], 0)
    return None


def _formula(factors: Sequence[int], bias: int) -> tuple[str, int]:
    value = math.prod(factors) + bias
    terms = " \u00d7 ".join(f"{f:,}" for f in factors)
    if bias:
        terms += f" + {bias:,}"
    return terms, value


def total_arithmetic(layers: Sequence[LayerRow], total: int | None) -> str:
    """``"50,240 + 650 = 50,890"`` when the layers' counts add up to the model's total."""
    counts = [row.params for row in layers if row.params]
    if total is None or len(counts) < 2 or sum(counts) != total:
        return ""
    return " + ".join(f"{c:,}" for c in counts) + f" = {total:,}"


def compile_summary(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``[("optimizer", "adam"), ("loss", "sparse_categorical_crossentropy"), ...]`` from
    ``model.get_compile_config()``, where objects are serialised as class-name dicts."""

    def describe(value: Any) -> str:
        if isinstance(value, Mapping):
            name = str(value.get("class_name") or value.get("config", {}).get("name") or "?")
            rate = (value.get("config") or {}).get("learning_rate")
            return f"{name} (learning rate {rate:g})" if isinstance(rate, (int, float)) else name
        if isinstance(value, (list, tuple)):
            return ", ".join(describe(v) for v in value if v is not None)
        return str(value)

    keys = ("optimizer", "loss", "metrics")
    return [(key, describe(config[key])) for key in keys if config.get(key) not in (None, [], "")]


def _shape_text(shape: Sequence[int | None] | None) -> str:
    if shape is None:
        return "?"
    # model.summary() shows the batch axis as None; the evidence leaves it out.
    return "(" + ", ".join("None" if d is None else str(d) for d in [None, *shape]) + ")"


def _activation(class_name: str, config: Mapping[str, Any]) -> str:
    if class_name == "Softmax":
        return "softmax"
    if class_name == "ReLU":
        return "relu"
    value = config.get("activation")
    if isinstance(value, Mapping):  # a serialised object: {"class_name": ..., "config": ...}
        value = value.get("config", {}).get("name") or value.get("class_name")
    return str(value) if value not in (None, "") else ""


# --- test results -------------------------------------------------------------------------


def class_rows(evaluation: Mapping[str, Any]) -> list[ClassRow]:
    confusion = evaluation.get("confusion") or []
    rows = []
    for figures in evaluation.get("per_class") or []:
        label = int(figures.get("label", len(rows)))
        correct = None
        if 0 <= label < len(confusion) and label < len(confusion[label]):
            correct = int(confusion[label][label])
        rows.append(
            ClassRow(
                label=label,
                name=str(figures.get("name", label)),
                support=int(figures.get("support") or 0),
                correct=correct,
                precision=float(figures.get("precision") or 0.0),
                recall=float(figures.get("recall") or 0.0),
            )
        )
    return rows


def most_confused(
    confusion: Sequence[Sequence[int]], class_names: Sequence[str], top: int = MOST_CONFUSED
) -> list[ConfusedPair]:
    """The largest off-diagonal cells: which class the model takes for which, and how often.
    Ties break by class order so the list is the same on every run."""
    cells = []
    for true, row in enumerate(confusion):
        support = sum(row)
        for predicted, count in enumerate(row):
            if true != predicted and count > 0:
                cells.append((-count, true, predicted, support))
    cells.sort()
    return [
        ConfusedPair(
            true_name=_name(class_names, true),
            predicted_name=_name(class_names, predicted),
            count=-negative,
            share=-negative / support if support else 0.0,
        )
        for negative, true, predicted, support in cells[:top]
    ]


def _name(class_names: Sequence[str], label: Any) -> str:
    if isinstance(label, int) and 0 <= label < len(class_names):
        return class_names[label]
    return str(label)


# --- learner output -----------------------------------------------------------------------


def clean_output(text: str, truncated_bytes: int = 0) -> OutputView:
    """Learner output as a terminal would have shown it, bounded for the report.

    Keras progress bars redraw a line with carriage returns and colour it with ANSI codes; kept
    raw they fill pages with half-drawn bars. So each line keeps only what was drawn last, escape
    sequences and other control characters go, and long output keeps its head and tail."""
    text = _ANSI.sub("", text.replace("\r\n", "\n"))
    lines = [line.rsplit("\r", 1)[-1] for line in text.split("\n")]
    lines = [_CONTROL.sub("\ufffd", line) for line in lines]
    lines = [line if len(line) <= OUTPUT_MAX_LINE_CHARS else line[:OUTPUT_MAX_LINE_CHARS] + " \u2026" for line in lines]
    while lines and not lines[-1].strip():
        lines.pop()
    omitted = 0
    if len(lines) > OUTPUT_MAX_LINES:
        tail = OUTPUT_MAX_LINES - OUTPUT_HEAD_LINES
        omitted = len(lines) - OUTPUT_MAX_LINES
        lines = [*lines[:OUTPUT_HEAD_LINES], f"\u2026 {omitted:,} lines left out \u2026", *lines[-tail:]]
    return OutputView(text="\n".join(lines), omitted_lines=omitted, truncated_bytes=truncated_bytes)


def _format_timestamp(value: Any) -> str:
    if not value:
        return ""
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    zone = stamp.strftime("%Z") or ""
    if zone in ("UTC", "UTC+00:00"):
        zone = "UTC"
    return f"{stamp:%Y-%m-%d %H:%M} {zone}".strip()


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def build_figures(context: ReportContext, dataset: Any, dataset_name: str | None, data_dir: Path | None) -> dict[str, bytes]:
    """PNG bytes by figure name; a figure that cannot be drawn gets a note instead."""
    from grader.render import plots

    figures: dict[str, bytes] = {}
    accuracy_key, loss_key = plots.metric_keys(context.history)
    for name, key, title in (("accuracy_curve", accuracy_key, "Accuracy"), ("loss_curve", loss_key, "Loss")):
        png = plots.training_curve(context.history, key, title) if key else None
        if png:
            figures[name] = png
    evaluation = context.evaluation or {}
    names = [row.name for row in context.class_rows]
    if evaluation.get("confusion"):
        png = plots.confusion_heatmap(evaluation["confusion"], names)
        if png:
            figures["confusion_matrix"] = png
    if context.samples:
        images, why_not = _sample_images(context.samples, dataset, dataset_name, data_dir)
        png = plots.prediction_grid(images, context.samples, names or _dataset_names(dataset)) if images else None
        if png:
            figures["predictions"] = png
        else:
            context.figure_notes["predictions"] = why_not or "the test images could not be drawn"
    return figures


def _sample_images(
    samples: Sequence[Mapping[str, Any]], dataset: Any, name: str | None, data_dir: Path | None
) -> tuple[list[Any], str]:
    """The sample test images, or an empty list and the reason. Never raises: a report without
    the grid is still a report."""
    if dataset is None:
        if not name:
            return [], "the result does not name its dataset"
        try:
            from grader.datasets import load_dataset

            dataset = load_dataset(name, data_dir)
        except Exception as exc:  # noqa: BLE001 - missing data, or a datasets module in flux
            return [], f"the {name} test images are not available here ({exc})"
    try:
        test_images = dataset.test_images
        return [test_images[int(s["index"])] for s in samples], ""
    except Exception as exc:  # noqa: BLE001 - indices from another dataset version, etc.
        return [], f"the test images could not be read ({type(exc).__name__}: {exc})"


def _dataset_names(dataset: Any) -> list[str]:
    return list(getattr(dataset, "class_names", None) or [])


# --------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------


class MarkdownSafe(str):
    """Markdown that a filter already escaped or fenced; ``finalize`` leaves it alone."""


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
# Block markers at the start of a line: a heading, quote, list item, setext underline.
_MD_LINE_MARKER = re.compile(r"^([ \t]*)([#>+=-]|\d+(?=[.)]))", re.MULTILINE)


def markdown_escape(value: Any, *, line_start: bool = False) -> MarkdownSafe:
    """Text that renders as itself in Markdown and can carry no HTML.

    ``<``, ``>`` and ``&`` become entities (raw HTML is allowed in Markdown, so a ``<script>``
    would otherwise reach a renderer that does not sanitise); Markdown punctuation is
    backslash-escaped; no line inside the text can start a heading, quote or list. The first
    line is only treated so with ``line_start`` (the template puts the value at a line start),
    so a number in the middle of a sentence stays a plain number."""
    if isinstance(value, MarkdownSafe):
        return value
    if value is None:
        return MarkdownSafe("")
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    first, newline, rest = text.partition("\n")
    if line_start:
        first = _MD_LINE_MARKER.sub(_escape_marker, first)
    rest = _MD_LINE_MARKER.sub(_escape_marker, rest)
    return MarkdownSafe(first + newline + rest)


def _escape_marker(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    # "1." is escaped as "1\.": a backslash before a digit would show as a backslash.
    return f"{indent}{marker}\\" if marker[0].isdigit() else f"{indent}\\{marker}"


def markdown_block(value: Any) -> MarkdownSafe:
    """Escaped text that the template places at the start of a line (a paragraph)."""
    return markdown_escape(value, line_start=True)


def markdown_cell(value: Any) -> MarkdownSafe:
    """Escaped text on one line, for a table cell."""
    return MarkdownSafe(markdown_escape(" ".join(str(value if value is not None else "").split())))


def markdown_fence(value: Any, info: str = "text") -> MarkdownSafe:
    """A fenced code block that no content can break out of: the fence is longer than any run of
    backticks inside. Inside a fence Markdown shows HTML as text."""
    text = str(value if value is not None else "")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return MarkdownSafe(f"{fence}{info}\n{text}\n{fence}")


def _finalize_markdown(value: Any) -> Any:
    # Numbers and MarkdownSafe pass through; every other {{ value }} is escaped.
    if isinstance(value, (MarkdownSafe, int, float)) or value is None:
        return "" if value is None else value
    return markdown_escape(value)


def _seconds(value: Any) -> str:
    if value is None:
        return ""
    # A quiz takes hundredths of a second; "0.0 s" would read as "not measured".
    return f"{float(value):.2f} s" if float(value) < 1 else f"{float(value):.1f} s"


def _common_filters(env: jinja2.Environment) -> None:
    env.filters["points"] = lambda value: f"{float(value):g}"
    env.filters["fixed"] = lambda value, places=4: "" if value is None else f"{float(value):.{places}f}"
    env.filters["percent"] = lambda value, places=1: "" if value is None else f"{100 * float(value):.{places}f}%"
    env.filters["thousands"] = lambda value: f"{int(value):,}"
    env.filters["seconds"] = _seconds
    env.globals["STATUS_MARK"] = STATUS_MARK


@functools.lru_cache(maxsize=2)
def _environment(markdown: bool) -> jinja2.Environment:
    # Cached: an instructor's batch renders hundreds of reports from the same two templates.
    loader = jinja2.FileSystemLoader(str(templates_root()))
    if markdown:
        env = jinja2.Environment(
            loader=loader, autoescape=False, finalize=_finalize_markdown,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
        )
        env.filters["cell"] = markdown_cell
        env.filters["fence"] = markdown_fence
        env.filters["block"] = markdown_block
    else:
        env = jinja2.Environment(
            loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
        )
    _common_filters(env)
    return env


def render_html(context: ReportContext, figures: Mapping[str, bytes]) -> str:
    uris = {name: "data:image/png;base64," + base64.b64encode(png).decode("ascii") for name, png in figures.items()}
    return _environment(markdown=False).get_template("report.html.j2").render(ctx=context, r=context.result, figures=uris)


def render_markdown(context: ReportContext, figure_paths: Mapping[str, str]) -> str:
    paths = {name: MarkdownSafe(path) for name, path in figure_paths.items()}
    return _environment(markdown=True).get_template("report.md.j2").render(ctx=context, r=context.result, figures=paths)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def render_reports(
    result: GradeResult, out_dir: Path, *, dataset: Any = None, data_dir: Path | None = None
) -> dict[str, Path]:
    """Write ``report.html``, ``report.md`` and the Markdown's figures into ``out_dir``.

    ``dataset`` (anything with ``test_images`` and ``class_names``) supplies the test images
    for the prediction grid; without it the dataset named in the result is loaded (from
    ``data_dir`` when given), and when that fails the grid is left out with a note.
    Returns the written files by kind: ``html``, ``md`` and one entry per figure.
    """
    out_dir = Path(out_dir)
    context = report_context(result)
    figures = build_figures(context, dataset, (result.details or {}).get("dataset"), data_dir)

    out_dir.mkdir(parents=True, exist_ok=True)
    figure_dir = out_dir / "figures"
    written: dict[str, Path] = {}
    relative: dict[str, str] = {}
    for name in FIGURE_NAMES:
        path = figure_dir / f"{name.replace('_', '-')}.png"
        if name in figures:
            figure_dir.mkdir(exist_ok=True)
            _write_atomically(path, figures[name])
            written[name] = path
            relative[name] = f"figures/{path.name}"
        else:
            # A figure from an earlier run in the same folder would no longer match the report.
            path.unlink(missing_ok=True)

    html_path, md_path = out_dir / "report.html", out_dir / "report.md"
    _write_atomically(html_path, render_html(context, figures).encode("utf-8"))
    _write_atomically(md_path, render_markdown(context, relative).encode("utf-8"))
    return {"html": html_path, "md": md_path, **written}


REPORTS_FOLDER = "grade-reports"


def default_report_dir(exercise: str, submission: Path, cwd: Path | None = None) -> Path:
    """Where ``grade`` writes reports without ``--report``: ``grade-reports/<exercise>/`` next
    to the submission, so grading several learners' files never overwrites one report with
    another. A submission inside the grader itself (its bundled exercises and reference
    solutions, in a source tree or an installed wheel) gets the folder in the current
    directory instead: the grader's own files stay untouched."""
    import grader
    from grader.spec import exercises_root, solutions_root

    submission = Path(submission).resolve()
    protected = (Path(grader.__file__).resolve().parent, exercises_root().resolve(), solutions_root().resolve())
    base = submission.parent
    if any(submission.is_relative_to(root) for root in protected):
        base = (cwd or Path.cwd()).resolve()
    return base / REPORTS_FOLDER / exercise


def _write_atomically(path: Path, data: bytes) -> None:
    # A browser or CI artifact upload never sees half a report.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
