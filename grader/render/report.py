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
import contextlib
import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from grader.atomic import write_atomically
from grader.judges.scaling import scaling_layer_of
from grader.judges.vocabulary import ACTIVATION_ALIASES, ACTIVATION_LAYERS, canonical_activation
from grader.messages import DEFAULT_LANGUAGE, current_language, translations
from grader.messages import _ as translate
from grader.messages import interface as msg
from grader.result import CheckResult, GradeResult
from grader.safe_text import printable
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
    submission: str = ""  # the submission's path, printable (a learner names their own files)
    # "evaluation": the model facts were measured by the grader from the model it tested; "run":
    # recorded while the learner's code ran (no trained model came back); "" when not said.
    model_facts_from: str = ""


def report_context(result: GradeResult) -> ReportContext:
    """Everything the templates show, computed from the result alone.

    Never raises on what ``details`` holds: it is evidence in whatever shape the grader that
    wrote it used (an older grader, a newer one, a hand-written result, any config Keras can
    serialise), so every value is checked for its type here and the templates get plain,
    well-typed view data. A report with a section left empty is better than no report."""
    details = _mapping(result.details)
    model = model_view(_model_details(details))
    evaluation = evaluation_view(details.get("evaluation"))
    if evaluation is not None:
        # A model that scales its own pixels (Rescaling(1/255)) is rightly tested on raw ones:
        # the report says so instead of advising to divide by 255 (which would scale twice).
        scaler = scaling_layer_of(model["layers"]) if model else None
        evaluation["scaling_layer"] = scaler.shown if scaler else None
    history = history_view(details.get("history"))
    class_rows_ = class_rows(evaluation) if evaluation else []
    class_names = [row.name for row in class_rows_]
    checks = [_check_view(check) for check in result.checks if isinstance(check, CheckResult)]
    counts = {status: sum(c.status == status for c in checks) for status in ("error", "failed", "skipped", "passed")}
    columns = sorted(history, key=_history_column_order)
    epochs = max((len(v) for v in history.values()), default=0)
    rows = [(i + 1, [history[key][i] if i < len(history[key]) else None for key in columns]) for i in range(epochs)]
    notes = [printable(n) for n in _list(details.get("notes"))]
    if details.get("limit_hit"):
        notes.insert(0, msg.stopped_by_limit(printable(details["limit_hit"])))
    errors = [error_view(e) for e in _list(details.get("errors")) if isinstance(e, Mapping)]
    layers = layer_rows(model) if model else []
    return ReportContext(
        result=result,
        checks=ordered_checks(checks),
        status_counts=counts,
        graded_at=_format_timestamp(details.get("graded_at")),
        tensorflow_version=printable(details["tensorflow_version"]) if details.get("tensorflow_version") else None,
        is_quiz=result.style == "quiz",
        model=model,
        layers=layers,
        total_arithmetic=total_arithmetic(layers, (model or {}).get("total_params")),
        compile_rows=compile_summary((model or {}).get("compile_config")),
        history=history,
        history_rows=rows,
        history_columns=columns,
        has_validation=any(key.startswith("val_") for key in columns),
        history_note=_why_no_history(errors),
        evaluation=evaluation,
        class_rows=class_rows_,
        confused=most_confused((evaluation or {}).get("confusion") or [], class_names),
        samples=[
            sample_view(sample, class_names)
            for sample in _list((evaluation or {}).get("sample_predictions"))
            if isinstance(sample, Mapping)
        ],
        errors=errors,
        output=clean_output(details.get("output") or "", _int(details.get("output_truncated_bytes"))),
        notes=notes,
        flagged=[flag_view(f) for f in _list(details.get("flagged_for_review")) if isinstance(f, Mapping)],
        submission=_text(result.submission, one_line=True),
        model_facts_from=str(details.get("model_facts_from"))
        if details.get("model_facts_from") in ("evaluation", "run")
        else "",
    )


# --- reading details defensively ------------------------------------------------------------


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _int(value: Any, default: int = 0) -> int:
    """An integer count from evidence; ``default`` for anything that is not a finite number."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return default
        return int(number) if math.isfinite(number) else default
    return default


def _int_or_none(value: Any) -> int | None:
    return (
        _int(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        else None
    )


def _float_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _float(value: Any) -> float:
    # A diverged loss arrives as NaN (or None from an odd callback); it still gets a row.
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def _text(value: Any, *, one_line: bool = False) -> str:
    """Learner-influenced text as the report may show it (see grader.safe_text)."""
    return "" if value is None else printable(value, keep_newlines=not one_line)


def _shape(value: Any) -> list[int | None] | None:
    """A shape without the batch axis: ``[28, 28]``; None when ``value`` is not one (a
    multi-output layer gives a list of shapes, which the report does not draw)."""
    if not isinstance(value, (list, tuple)):
        return None
    if not all(d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in value):
        return None
    return list(value)


def _model_details(details: Mapping[str, Any]) -> Any:
    """The model facts: ``details["model"]``, or the trusted evaluator's facts about the model
    it tested when a grader records them there instead (both shapes render)."""
    model = details.get("model")
    if isinstance(model, Mapping) and model:
        return model
    evaluation = _mapping(details.get("evaluation"))
    for key in ("model", "architecture"):
        if isinstance(evaluation.get(key), Mapping) and evaluation[key]:
            return evaluation[key]
    return None


def model_view(data: Any) -> dict[str, Any] | None:
    """The model facts the templates read, each of the type they expect."""
    if not isinstance(data, Mapping) or not data:
        return None
    return {
        "returned_type": _text(data.get("returned_type"), one_line=True),
        "is_keras_model": bool(data.get("is_keras_model", True)),
        "built": bool(data.get("built", True)),
        "compiled": bool(data.get("compiled", False)),
        "input_shape": _shape(data.get("input_shape")),
        "output_shape": _shape(data.get("output_shape")),
        "layers": [layer for layer in _list(data.get("layers")) if isinstance(layer, Mapping)],
        "total_params": _int_or_none(data.get("total_params")),
        "compile_config": _mapping(data.get("compile_config")),
        "summary": _text(data.get("summary")),
    }


def evaluation_view(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, Mapping) or not data:
        return None
    confusion = [
        [_int(count) for count in row] for row in _list(data.get("confusion")) if isinstance(row, (list, tuple))
    ]
    scaling = data.get("input_scaling")
    return {
        "status": str(data.get("status", "ok")),
        "error": _text(data.get("error"), one_line=True),
        "test_accuracy": _float_or_none(data.get("test_accuracy")),
        "n_test": _int(data.get("n_test")),
        "input_scaling": scaling if isinstance(scaling, str) else None,
        "per_class": [row for row in _list(data.get("per_class")) if isinstance(row, Mapping)],
        "confusion": confusion,
        "sample_predictions": _list(data.get("sample_predictions")),
    }


def history_view(data: Any) -> dict[str, list[float]]:
    """``{"loss": [...], "accuracy": [...]}``: one list of numbers per series that has any."""
    history: dict[str, list[float]] = {}
    for key, series in _mapping(data).items():
        values = [_float(x) for x in _list(series)]
        if values:
            history[_text(key, one_line=True)] = values
    return history


def error_view(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "step": _text(data.get("step") or "?", one_line=True),
        "type": _text(data.get("type") or "Exception", one_line=True),
        "message": _text(data.get("message")),
        "traceback": _text(data.get("traceback")),
    }


def flag_view(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": _text(data.get("id"), one_line=True),
        "title": _text(data.get("title"), one_line=True),
        "prompt": _text(data.get("prompt")),
        "answer": _text(data.get("answer")),
        "rubric_found": [_text(x, one_line=True) for x in _list(data.get("rubric_found"))],
        "rubric_missing": [_text(x, one_line=True) for x in _list(data.get("rubric_missing"))],
    }


def sample_view(sample: Mapping[str, Any], class_names: Sequence[str]) -> dict[str, Any]:
    predicted, true = sample.get("predicted"), sample.get("true")
    return {
        "index": _int_or_none(sample.get("index")),
        "predicted": predicted,
        "true": true,
        "right": predicted == true,
        "predicted_name": _text(_name(class_names, predicted), one_line=True),
        "true_name": _text(_name(class_names, true), one_line=True),
    }


def _check_view(check: CheckResult) -> CheckResult:
    """The check with its text made printable and its points numbers (a judge's message can
    quote learner code or a Keras message)."""
    status = check.status if check.status in STATUS_MARK else "error"
    return CheckResult(
        id=_text(check.id, one_line=True),
        name=_text(check.name, one_line=True),
        status=status,
        score=_float_or_none(check.score) or 0.0,
        max_score=_float_or_none(check.max_score) or 0.0,
        message=_text(check.message),
        hint=_text(check.hint),
    )


def _why_no_history(errors: Sequence[Mapping[str, Any]]) -> str:
    steps = [str(error.get("step")) for error in errors]
    if "train" in steps:
        return msg.no_history_train_raised()
    if steps:
        return msg.no_history_after_error()
    return msg.no_history_returned()


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
    incoming = _shape(model.get("input_shape"))
    for layer in _list(model.get("layers")):
        if not isinstance(layer, Mapping):
            continue
        config = _mapping(layer.get("config"))
        class_name = _text(layer.get("class_name"), one_line=True)
        params = _int(layer.get("params"))
        formula = parameter_formula(class_name, config, incoming)
        arithmetic = ""
        if formula is not None:
            terms, value = formula
            if value == params and params > 0:
                arithmetic = f"{terms} = {params:,}"
        output_shape = _shape(layer.get("output_shape"))
        rows.append(
            LayerRow(
                name=_text(layer.get("name", ""), one_line=True),
                class_name=class_name,
                output_shape=_shape_text(output_shape),
                params=params,
                activation=_activation(class_name, config),
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
    if not _is_count(inputs):
        inputs = None
    bias = bool(config.get("use_bias", True))
    if class_name == "Dense" and inputs is not None and _is_count(config.get("units")):
        units = config["units"]
        return _formula([inputs, units], units if bias else 0)
    if class_name in ("Conv1D", "Conv2D", "Conv3D") and inputs is not None and _is_count(config.get("filters")):
        kernel = config.get("kernel_size")
        kernel = list(kernel) if isinstance(kernel, (list, tuple)) else [kernel]
        groups = config.get("groups") or 1
        if not all(_is_count(k) for k in kernel) or not _is_count(groups):
            return None
        filters = config["filters"]
        return _formula([*kernel, inputs // groups, filters], filters if bias else 0)
    if class_name == "BatchNormalization" and inputs is not None:
        # gamma and beta (when scale/center) plus the moving mean and variance.
        per_channel = 2 + bool(config.get("scale", True)) + bool(config.get("center", True))
        return _formula([per_channel, inputs], 0)
    if class_name == "Embedding" and _is_count(config.get("input_dim")) and _is_count(config.get("output_dim")):
        return _formula([config["input_dim"], config["output_dim"]], 0)
    return None


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


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


def compile_summary(config: Any) -> list[tuple[str, str]]:
    """``[("optimizer", "Adam (learning rate 0.001)"), ("loss", "sparse_categorical_crossentropy"), ...]``
    from ``model.get_compile_config()``.

    Keras serialises each setting in one of several shapes (measured with Keras 3.15): a string
    as written (``"adam"``); an object as ``{"class_name": "Adam", "config": {...}}``; a plain
    function (``tf.losses.sparse_categorical_crossentropy``) as ``{"class_name": "function",
    "config": "sparse_categorical_crossentropy"}``, where ``config`` is a *string*; a legacy
    ``.h5`` file's metrics as nested lists of ``MeanMetricWrapper`` objects; a multi-output
    model's as ``{"output_name": ...}``. Every shape is described, anything else shown as text."""
    config = _mapping(config)
    keys = ("optimizer", "loss", "metrics")
    return [(key, _describe_setting(config[key])) for key in keys if config.get(key) not in (None, [], "", {})]


def _describe_setting(value: Any, depth: int = 0) -> str:
    if depth > 8:  # a config nested this deep is not something Keras writes
        return "..."
    if isinstance(value, Mapping):
        if "class_name" not in value:  # {"output_name": setting} of a multi-output model
            return ", ".join(f"{_text(k, one_line=True)}: {_describe_setting(v, depth + 1)}" for k, v in value.items())
        name = serialised_name(value)
        inner = value.get("config")
        rate = inner.get("learning_rate") if isinstance(inner, Mapping) else None
        if isinstance(rate, Mapping):  # a schedule: its starting rate
            rate = _mapping(rate.get("config")).get("initial_learning_rate")
        rate = _float_or_none(rate)
        return msg.with_learning_rate(name, f"{rate:g}") if rate is not None else name
    if isinstance(value, (list, tuple)):
        return ", ".join(_describe_setting(v, depth + 1) for v in value if v is not None)
    return _text(value, one_line=True)


def serialised_name(value: Mapping[str, Any]) -> str:
    """The name a learner would recognise in one serialised Keras object: the function's name
    for a plain function, the wrapped function's for a legacy ``MeanMetricWrapper``, else the
    class name."""
    class_name = value.get("class_name")
    inner = value.get("config")
    if class_name == "function" and isinstance(inner, str):
        return _text(ACTIVATION_ALIASES.get(inner, inner), one_line=True)
    if isinstance(inner, Mapping) and class_name == "MeanMetricWrapper" and isinstance(inner.get("name"), str):
        return _text(inner["name"], one_line=True)
    if isinstance(class_name, str) and class_name:
        return _text(class_name, one_line=True)
    if isinstance(inner, Mapping) and isinstance(inner.get("name"), str):
        return _text(inner["name"], one_line=True)
    return "?"


def _shape_text(shape: Sequence[int | None] | None) -> str:
    if shape is None:
        return "?"
    # model.summary() shows the batch axis as None; the evidence leaves it out.
    return "(" + ", ".join("None" if d is None else str(d) for d in [None, *shape]) + ")"


def _activation(class_name: str, config: Mapping[str, Any]) -> str:
    """The activation a layer applies, as the learner would name it: ``"relu"`` whether they
    wrote ``"relu"``, ``tf.nn.relu`` or ``keras.activations.relu``; ``"softmax"`` for
    ``tf.nn.softmax`` (which serialises as "softmax_v2"); "" for a layer without one."""
    if class_name in ACTIVATION_LAYERS:
        return ACTIVATION_LAYERS[class_name]
    if "activation" not in config or config.get("activation") in (None, ""):
        return ""
    return _text(canonical_activation(config.get("activation")), one_line=True)


# --- test results -------------------------------------------------------------------------


def class_rows(evaluation: Mapping[str, Any]) -> list[ClassRow]:
    confusion = _list(evaluation.get("confusion"))
    rows: list[ClassRow] = []
    for figures in _list(evaluation.get("per_class")):
        if not isinstance(figures, Mapping):
            continue
        label = _int(figures.get("label", len(rows)), default=len(rows))
        correct = None
        if (
            0 <= label < len(confusion)
            and isinstance(confusion[label], (list, tuple))
            and label < len(confusion[label])
        ):
            correct = _int(confusion[label][label])
        rows.append(
            ClassRow(
                label=label,
                name=msg.class_name(_text(figures.get("name", label), one_line=True)),
                support=_int(figures.get("support")),
                correct=correct,
                precision=_float_or_none(figures.get("precision")) or 0.0,
                recall=_float_or_none(figures.get("recall")) or 0.0,
            )
        )
    return rows


def most_confused(
    confusion: Sequence[Sequence[int]], class_names: Sequence[str], top: int = MOST_CONFUSED
) -> list[ConfusedPair]:
    """The largest off-diagonal cells: which class the model takes for which, and how often.
    Ties break by class order so the list is the same on every run."""
    cells = []
    for true, row in enumerate(_list(confusion)):
        counts = [_int(count) for count in _list(row)]
        support = sum(counts)
        for predicted, count in enumerate(counts):
            if true != predicted and count > 0:
                cells.append((-count, true, predicted, support))
    cells.sort()
    return [
        ConfusedPair(
            true_name=_name(class_names, true),
            predicted_name=_name(class_names, predicted),
            count=-negative,
            share=-negative / support if support > 0 else 0.0,
        )
        for negative, true, predicted, support in cells[:top]
    ]


def _name(class_names: Sequence[str], label: Any) -> str:
    if isinstance(label, int) and not isinstance(label, bool) and 0 <= label < len(class_names):
        return class_names[label]
    return _text(label, one_line=True)


# --- learner output -----------------------------------------------------------------------


def clean_output(text: Any, truncated_bytes: int = 0) -> OutputView:
    """Learner output as a terminal would have shown it, bounded for the report.

    Keras progress bars redraw a line with carriage returns and colour it with ANSI codes; kept
    raw they fill pages with half-drawn bars. So each line keeps only what was drawn last, escape
    sequences and other control characters go (``grader.safe_text.printable``), and long output
    keeps its head and tail."""
    text = text if isinstance(text, str) else ("" if text is None else str(text))
    lines = [line.rsplit("\r", 1)[-1] for line in text.replace("\r\n", "\n").split("\n")]
    lines = [printable(line, keep_newlines=False) for line in lines]
    lines = [line if len(line) <= OUTPUT_MAX_LINE_CHARS else line[:OUTPUT_MAX_LINE_CHARS] + " \u2026" for line in lines]
    while lines and not lines[-1].strip():
        lines.pop()
    omitted = 0
    if len(lines) > OUTPUT_MAX_LINES:
        tail = OUTPUT_MAX_LINES - OUTPUT_HEAD_LINES
        omitted = len(lines) - OUTPUT_MAX_LINES
        lines = [*lines[:OUTPUT_HEAD_LINES], f"\u2026 {msg.lines_left_out(f'{omitted:,}')} \u2026", *lines[-tail:]]
    return OutputView(text="\n".join(lines), omitted_lines=omitted, truncated_bytes=max(0, _int(truncated_bytes)))


def _format_timestamp(value: Any) -> str:
    if not value:
        return ""
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        return _text(value, one_line=True)
    zone = stamp.strftime("%Z") or ""
    if zone in ("UTC", "UTC+00:00"):
        zone = "UTC"
    return f"{stamp:%Y-%m-%d %H:%M} {zone}".strip()


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def build_figures(
    context: ReportContext, dataset: Any, dataset_name: str | None, data_dir: Path | None
) -> dict[str, bytes]:
    """PNG bytes by figure name; a figure that cannot be drawn gets a note instead.

    A figure illustrates numbers the report also writes out, so a figure that fails to draw
    (odd data, a matplotlib problem) is left out with a note and never costs the report."""
    from grader.render import plots

    figures: dict[str, bytes] = {}

    def draw(name: str, make: Any) -> None:
        try:
            png = make()
        except Exception as exc:  # noqa: BLE001 - see above: the report goes on without it
            context.figure_notes[name] = msg.figure_not_drawn(type(exc).__name__)
            return
        if png:
            figures[name] = png

    accuracy_key, loss_key = plots.metric_keys(context.history)
    curves = (("accuracy_curve", accuracy_key, msg.figure_accuracy()), ("loss_curve", loss_key, msg.figure_loss()))
    for name, key, title in curves:
        if key:
            draw(name, lambda key=key, title=title: plots.training_curve(context.history, key, title))
    evaluation = context.evaluation or {}
    names = [row.name for row in context.class_rows]
    if evaluation.get("confusion"):
        draw("confusion_matrix", lambda: plots.confusion_heatmap(evaluation["confusion"], names))
    if context.samples:
        images, why_not = _sample_images(context.samples, dataset, dataset_name, data_dir)
        if images:
            draw(
                "predictions", lambda: plots.prediction_grid(images, context.samples, names or _dataset_names(dataset))
            )
        if "predictions" not in figures:
            context.figure_notes.setdefault("predictions", why_not or msg.test_images_not_drawn())
    return figures


def _sample_images(
    samples: Sequence[Mapping[str, Any]], dataset: Any, name: str | None, data_dir: Path | None
) -> tuple[list[Any], str]:
    """The sample test images, or an empty list and the reason. Never raises: a report without
    the grid is still a report."""
    if dataset is None:
        if not name:
            return [], msg.no_dataset_named()
        try:
            from grader.datasets import load_dataset

            dataset = load_dataset(name, data_dir)
        except Exception as exc:  # noqa: BLE001 - missing data, or a datasets module in flux
            return [], msg.test_images_unavailable(name, str(exc))
    try:
        test_images = dataset.test_images
        return [test_images[int(s["index"])] for s in samples], ""
    except Exception as exc:  # noqa: BLE001 - indices from another dataset version, etc.
        return [], msg.test_images_unreadable(f"{type(exc).__name__}: {exc}")


def _dataset_names(dataset: Any) -> list[str]:
    return [msg.class_name(str(name)) for name in getattr(dataset, "class_names", None) or []]


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


# The number filters are total: a value that is not a number (None from an older result, a
# string from a hand-written one) is shown as it is, never turned into a failed report.


def _seconds(value: Any) -> str:
    number = _float_or_none(value)
    if number is None:
        return "" if value is None else _text(value, one_line=True)
    # A quiz takes hundredths of a second; "0.0 s" would read as "not measured".
    return f"{number:.2f} s" if number < 1 else f"{number:.1f} s"


def _points(value: Any) -> str:
    number = _float_or_none(value)
    return f"{number:g}" if number is not None else _text(value, one_line=True)


def _fixed(value: Any, places: int = 4) -> str:
    number = _float_or_none(value)
    if number is None:
        return "" if value is None else _text(value, one_line=True)
    return f"{number:.{places}f}"


def _percent(value: Any, places: int = 1) -> str:
    number = _float_or_none(value)
    if number is None:
        return "" if value is None else _text(value, one_line=True)
    return f"{100 * number:.{places}f}%"


def _thousands(value: Any) -> str:
    number = _float_or_none(value)
    return f"{int(number):,}" if number is not None else ("" if value is None else _text(value, one_line=True))


def install_html_gettext(env: jinja2.Environment) -> None:
    """Bind an HTML environment's ``_`` (jinja2.ext.i18n) to grader.messages, and give it the
    helpers the templates use for the language (also used by grader.batch.summary)."""
    install = env.install_gettext_callables  # type: ignore[attr-defined]  # added by jinja2.ext.i18n
    install(gettext=_html_text, ngettext=_html_plural, newstyle=False)
    env.filters["status_word"] = msg.status_word
    env.globals["html_lang"] = msg.html_lang


def _html_text(message: str, /, **facts: Any) -> markupsafe.Markup:
    """``_("...", name=value)`` in the HTML templates: the sentence in the current language,
    escaped, with each value escaped as it goes in (a value the template already marked up,
    such as ``<span class="mono">``, stays markup)."""
    return markupsafe.Markup(markupsafe.escape(translate(message))).format(**facts)


def _html_plural(singular: str, plural: str, count: int, /, **facts: Any) -> markupsafe.Markup:
    return markupsafe.Markup(markupsafe.escape(_ngettext(singular, plural, count))).format(count=count, **facts)


def _markdown_text(message: str, /, **facts: Any) -> MarkdownSafe:
    """``_("...", name=value)`` in the Markdown template: our own sentence as Markdown, each value
    escaped as ``finalize`` would (a value already escaped by a filter stays as it is)."""
    return MarkdownSafe(translate(message).format(**{key: _markdown_value(value) for key, value in facts.items()}))


def _markdown_plural(singular: str, plural: str, count: int, /, **facts: Any) -> MarkdownSafe:
    chosen = _ngettext(singular, plural, count)
    values = {key: _markdown_value(value) for key, value in facts.items()}
    return MarkdownSafe(chosen.format(count=count, **values))


def _markdown_value(value: Any) -> Any:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else markdown_escape(value)


def _ngettext(singular: str, plural: str, count: int) -> str:
    if current_language() == DEFAULT_LANGUAGE:
        return singular if count == 1 else plural
    return translations(current_language()).ngettext(singular, plural, count)


def _common_filters(env: jinja2.Environment) -> None:
    env.filters["points"] = _points
    env.filters["fixed"] = _fixed
    env.filters["percent"] = _percent
    env.filters["thousands"] = _thousands
    env.filters["seconds"] = _seconds
    env.filters["status_word"] = msg.status_word
    env.filters["setting_word"] = msg.setting_word
    env.globals["STATUS_MARK"] = STATUS_MARK
    # The language is read when a template runs, so one cached environment serves them all.
    env.globals["html_lang"] = msg.html_lang
    env.globals["verdict_word"] = msg.verdict_word
    env.globals["readme_name"] = msg.readme_name
    env.globals["submission_style"] = msg.submission_style
    env.globals["isolation_phrase"] = msg.isolation_phrase


@functools.lru_cache(maxsize=2)
def _environment(markdown: bool) -> jinja2.Environment:
    # Cached: an instructor's batch renders hundreds of reports from the same two templates.
    loader = jinja2.FileSystemLoader(str(templates_root()))
    if markdown:
        env = jinja2.Environment(
            loader=loader,
            autoescape=False,
            finalize=_finalize_markdown,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.i18n"],
        )
        env.filters["cell"] = markdown_cell
        env.filters["fence"] = markdown_fence
        env.filters["block"] = markdown_block
        env.filters["markdown"] = MarkdownSafe  # Markdown the template itself writes (`--json`, **bold**)
        # The templates' sentences are the interface catalogue's (grader.messages.interface).
        install = env.install_gettext_callables  # type: ignore[attr-defined]  # added by jinja2.ext.i18n
        install(gettext=_markdown_text, ngettext=_markdown_plural, newstyle=False)
    else:
        env = jinja2.Environment(
            loader=loader,
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.i18n"],
        )
        install_html_gettext(env)
    _common_filters(env)
    return env


def render_html(context: ReportContext, figures: Mapping[str, bytes]) -> str:
    uris = {name: "data:image/png;base64," + base64.b64encode(png).decode("ascii") for name, png in figures.items()}
    return (
        _environment(markdown=False).get_template("report.html.j2").render(ctx=context, r=context.result, figures=uris)
    )


def render_markdown(context: ReportContext, figure_paths: Mapping[str, str]) -> str:
    paths = {name: MarkdownSafe(path) for name, path in figure_paths.items()}
    return _environment(markdown=True).get_template("report.md.j2").render(ctx=context, r=context.result, figures=paths)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


class ReportNotWritten(Exception):
    """One or both reports could not be written. The grade stands; the caller says which.

    ``failed`` maps each report that is missing (``"html"``, ``"md"``) to the reason, in words a
    user can act on; ``written`` holds the files that were written. A report that failed left
    no file from an earlier run in its place, so nobody opens an out-of-date report."""

    def __init__(self, failed: dict[str, str], written: dict[str, Path]) -> None:
        self.failed = failed
        self.written = written
        super().__init__("; ".join(f"{REPORT_NAMES[kind]}: {why}" for kind, why in failed.items()))


REPORT_NAMES = {"html": "report.html", "md": "report.md"}


def render_reports(
    result: GradeResult, out_dir: Path, *, dataset: Any = None, data_dir: Path | None = None
) -> dict[str, Path]:
    """Write ``report.html``, ``report.md`` and the Markdown's figures into ``out_dir``.

    ``dataset`` (anything with ``test_images`` and ``class_names``) supplies the test images
    for the prediction grid; without it the dataset named in the result is loaded (from
    ``data_dir`` when given), and when that fails the grid is left out with a note.
    Returns the written files by kind: ``html``, ``md`` and one entry per figure.

    Each file is written beside its target and renamed into place (``grader.atomic``), so a
    reader sees the old report or the new one, never half of one. When a report cannot be
    rendered or written, the other is still written, the old file of the failed one is
    removed, and ``ReportNotWritten`` says which failed and why.
    """
    out_dir = Path(out_dir)
    html_path, md_path = out_dir / "report.html", out_dir / "report.md"
    targets = {"html": html_path, "md": md_path}
    failed: dict[str, str] = {}
    written: dict[str, Path] = {}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportNotWritten({kind: _why(exc) for kind in targets}, {}) from exc

    try:
        context: ReportContext | None = report_context(result)
    except Exception as exc:  # noqa: BLE001 - a grader bug in the view data: no report, the grade stands
        context, failed = None, {kind: _why(exc) for kind in targets}
    figures: dict[str, bytes] = {}
    if context is not None:
        try:
            figures = build_figures(context, dataset, _mapping(result.details).get("dataset"), data_dir)
        except Exception as exc:  # noqa: BLE001 - the figures only illustrate the tables
            context.figure_notes.setdefault("predictions", msg.figures_not_drawn(type(exc).__name__))

    figure_dir = out_dir / "figures"
    relative: dict[str, str] = {}
    for name in FIGURE_NAMES:
        path = figure_dir / f"{name.replace('_', '-')}.png"
        try:
            if name in figures:
                figure_dir.mkdir(exist_ok=True)
                write_atomically(path, figures[name])
                written[name] = path
                relative[name] = f"figures/{path.name}"
            else:
                # A figure from an earlier run in the same folder would no longer match the report.
                path.unlink(missing_ok=True)
        except OSError:
            pass  # the HTML embeds its own copy; the Markdown goes without this figure

    renderers = {
        "html": lambda ctx: render_html(ctx, figures),
        "md": lambda ctx: render_markdown(ctx, relative),
    }
    for kind, target in targets.items():
        if kind in failed or context is None:
            _remove_stale(target)
            continue
        try:
            write_atomically(target, renderers[kind](context))
            written[kind] = target
        except Exception as exc:  # noqa: BLE001 - one report failing must not cost the other, or the grade
            failed[kind] = _why(exc)
            _remove_stale(target)
    if failed:
        raise ReportNotWritten(failed, written)
    return written


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror + (f": {exc.filename}" if exc.filename else "")
    return f"{type(exc).__name__}: {printable(exc, keep_newlines=False, limit=300)}"


def _remove_stale(path: Path) -> None:
    # A folder we cannot write to: then nothing new was written into it either.
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


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
