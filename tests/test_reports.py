"""The HTML and Markdown reports, rendered from hand-made results.

No TensorFlow and no dataset: results are written here as the pipeline would write them, and a
small synthetic dataset stands in for the test images. ``model_result`` and ``SyntheticDataset``
are also used by the browser test.
"""

from __future__ import annotations

import html
import re
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.render import report as report_module
from grader.render.report import (
    clean_output,
    default_report_dir,
    layer_rows,
    markdown_escape,
    markdown_fence,
    most_confused,
    ordered_checks,
    parameter_formula,
    render_reports,
)
from grader.result import CheckResult, GradeResult

FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
HOSTILE = (
    "<script>alert(1)</script></textarea></pre><img src=x onerror=alert(1)> **bold** [link](http://x) ``` # heading"
)


class SyntheticDataset:
    """Stands in for grader.datasets.Dataset: the two attributes a report reads."""

    class_names = FASHION

    def __init__(self, n: int = 200) -> None:
        # Deterministic blobs, so the image grid shows something and its PNG is reproducible.
        rng = np.random.default_rng(7)
        self.test_images = (rng.random((n, 28, 28)) * 255).astype(np.uint8)


def _confusion(n: int = 10, per_class: int = 100) -> list[list[int]]:
    rng = np.random.default_rng(3)
    matrix = np.zeros((n, n), dtype=int)
    for true in range(n):
        matrix[true] = rng.multinomial(per_class, np.eye(n)[true] * 0.8 + 0.02)
    matrix[6, 0] += 25  # Shirt taken for T-shirt/top: the chapter's classic confusion
    return matrix.tolist()


def _evaluation(names: tuple[str, ...] = FASHION) -> dict[str, Any]:
    confusion = np.array(_confusion(len(names)))
    per_class = [
        {
            "label": label,
            "name": names[label],
            "support": int(confusion[label].sum()),
            "precision": float(confusion[label, label] / confusion[:, label].sum()),
            "recall": float(confusion[label, label] / confusion[label].sum()),
        }
        for label in range(len(names))
    ]
    samples = [
        {"index": i * 11, "predicted": (i * 3) % 10 if i % 4 == 0 else i % 10, "true": i % 10} for i in range(16)
    ]
    return {
        "status": "ok",
        "error": "",
        "test_accuracy": float(np.trace(confusion) / confusion.sum()),
        "n_test": int(confusion.sum()),
        "input_shape_used": [28, 28],
        "input_scaling": "unit",
        "probe_accuracy": {},
        "outputs_are_probabilities": True,
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "sample_predictions": samples,
        "seconds": 0.4,
    }


def _model(layer_name: str = "dense") -> dict[str, Any]:
    layers = [
        {"name": "flatten", "class_name": "Flatten", "params": 0, "output_shape": [784], "config": {"name": "flatten"}},
        {
            "name": layer_name,
            "class_name": "Dense",
            "params": 50240,
            "output_shape": [64],
            "config": {"name": layer_name, "units": 64, "activation": "relu", "use_bias": True},
        },
        {
            "name": "dense_1",
            "class_name": "Dense",
            "params": 650,
            "output_shape": [10],
            "config": {"name": "dense_1", "units": 10, "activation": "softmax", "use_bias": True},
        },
    ]
    return {
        "returned_type": "keras.src.models.sequential.Sequential",
        "is_keras_model": True,
        "built": True,
        "compiled": True,
        "input_shape": [28, 28],
        "output_shape": [10],
        "layers": layers,
        "total_params": 50890,
        "compile_config": {
            "optimizer": {
                "module": "keras.optimizers",
                "class_name": "Adam",
                "config": {"name": "adam", "learning_rate": 0.001},
            },
            "loss": "sparse_categorical_crossentropy",
            "metrics": ["accuracy"],
        },
        "summary": 'Model: "sequential"\n dense (Dense)   (None, 64)   50,240',
    }


ALL_STATUSES = [
    CheckResult("loads", "Module imports", "passed", 10, 10, "Your file imports without errors."),
    CheckResult(
        "output_layer",
        "Output layer: 10 units, softmax",
        "failed",
        0,
        15,
        "The last layer has 12 units.",
        'Use Dense(10, activation="softmax").',
    ),
    CheckResult(
        "accuracy",
        "Test accuracy at least 0.85",
        "skipped",
        0,
        40,
        "Not measured: there was no trained model.",
        "Fix the error above first.",
    ),
    CheckResult("train", "train() runs", "error", 0, 20, "train() raised ValueError.", "Read the traceback below."),
    CheckResult(
        "compile",
        "Compiled for integer labels",
        "passed",
        15,
        15,
        "sparse_categorical_crossentropy fits integer labels.",
    ),
]


def model_result(**overrides: Any) -> GradeResult:
    """A full model result: every check status, history with validation, evaluation, output."""
    evaluation = _evaluation()
    details: dict[str, Any] = {
        "graded_at": "2025-01-02T03:04:05+00:00",
        "tensorflow_version": "2.21.0",
        "keras_version": "3.15.0",
        "dataset": "fashion_mnist",
        "model": _model(),
        "history": {
            "loss": [0.52, 0.38, 0.34, 0.31, 0.29],
            "accuracy": [0.82, 0.86, 0.875, 0.885, 0.892],
            "val_loss": [0.43, 0.39, 0.37, 0.36, 0.365],
            "val_accuracy": [0.846, 0.861, 0.868, 0.872, 0.871],
        },
        "fit_calls": [],
        "evaluation": evaluation,
        "errors": [],
        "output": "Epoch 1/5\n\r  1/1875 ━━\r1875/1875 ━━━━━━━━━━ 3s 1ms/step - accuracy: 0.82\nDone\n",
        "output_truncated_bytes": 0,
        "limit_hit": None,
        "notes": [],
    }
    details.update(overrides.pop("details", {}))
    if "output" in overrides:
        details["output"] = overrides.pop("output")
    fields: dict[str, Any] = {
        "exercise": "fashion_mnist",
        "submission": "/home/learner/fashion_mnist.py",
        "passed": False,
        "score": 25.0,
        "max_score": 100.0,
        "pass_mark": 80.0,
        "seed": 42,
        "grader_version": "0.1.0",
        "elapsed_s": 23.47,
        "checks": list(ALL_STATUSES),
        "metrics": {"test_accuracy": evaluation["test_accuracy"], "train_seconds": 19.8, "input_scaling": "unit"},
        "style": "module",
        "isolation": "process",
        "details": details,
    }
    fields.update(overrides)
    return GradeResult(**fields)


def error_result() -> GradeResult:
    """build_model() raised: no model, no history, no evaluation; a traceback with HTML in it."""
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "fashion_mnist.py", line 12, in build_model\n'
        '    tf.keras.layers.Dense(10, activation="softMax"),\n'
        "ValueError: Could not interpret activation function identifier: softMax <script>alert(2)</script>"
    )
    return model_result(
        passed=False,
        score=0.0,
        metrics={"test_accuracy": None},
        checks=[
            CheckResult(
                "build",
                "build_model() returns a model",
                "error",
                0,
                20,
                "build_model() raised ValueError: Could not interpret activation function identifier: softMax",
                'Activation names are case-sensitive: use "softmax".',
            )
        ],
        details={
            "model": None,
            "history": {},
            "evaluation": {"status": "not_run", "error": "build_model() failed, so there was no trained model to test"},
            "errors": [
                {
                    "step": "build_model",
                    "type": "ValueError",
                    "message": "Could not interpret activation function identifier: softMax <script>alert(2)</script>",
                    "frames": [],
                    "traceback": traceback,
                }
            ],
            "output": "",
        },
    )


def quiz_result() -> GradeResult:
    return GradeResult(
        exercise="exercise1",
        submission="/home/learner/answers.toml",
        passed=True,
        score=11.0,
        max_score=13.0,
        pass_mark=9.0,
        seed=None,
        grader_version="0.1.0",
        elapsed_s=0.012,
        checks=[
            CheckResult(
                "nonlinearity", "Why a nonlinear activation", "passed", 2, 2, "Correct. Each Dense layer is linear."
            ),
            CheckResult(
                "relu_negative",
                "ReLU of a negative input",
                "failed",
                0,
                2,
                "You answered -3.5. ReLU outputs max(0, x).",
                "Draw the ReLU curve.",
            ),
            CheckResult(
                "explain",
                "Explain softmax",
                "skipped",
                0,
                0,
                "Advisory, not scored. Answer flagged for an instructor to read.",
            ),
        ],
        metrics={"items_correct": 5, "items_total": 6, "items_flagged": 1},
        style="quiz",
        isolation="none",
        details={
            "flagged_for_review": [
                {
                    "id": "explain",
                    "title": "Explain softmax",
                    "prompt": "What does softmax do?",
                    "answer": "It makes <b>probabilities</b>",
                    "rubric_found": ["probabilities"],
                    "rubric_missing": ["sum to one"],
                }
            ],
            "answers": {"nonlinearity": "b", "relu_negative": -3.5, "explain": "It makes <b>probabilities</b>"},
        },
    )


def render(result: GradeResult, tmp_path: Path, **kwargs: Any) -> tuple[str, str, dict[str, Path]]:
    files = render_reports(result, tmp_path / "out", **kwargs)
    return files["html"].read_text(encoding="utf-8"), files["md"].read_text(encoding="utf-8"), files


def visible_text(page: str) -> str:
    """The HTML's text with tags dropped and entities decoded (close to what a reader sees)."""
    page = re.sub(r"<style>.*?</style>|<img [^>]*>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


# --------------------------------------------------------------------------------------------
# Full model report
# --------------------------------------------------------------------------------------------


def test_model_report_has_every_section_with_computed_figures(tmp_path: Path) -> None:
    result = model_result()
    page, _markdown, files = render(result, tmp_path, dataset=SyntheticDataset())
    assert set(files) == {"html", "md", "accuracy_curve", "loss_curve", "confusion_matrix", "predictions"}
    text = visible_text(page)
    # Header
    for expected in (
        "fashion_mnist",
        "/home/learner/fashion_mnist.py",
        "2025-01-02 03:04 UTC",
        "0.1.0",
        "TensorFlow 2.21.0",
        "Seed",
        "42",
        "23.5 s",
        "NOT PASSED",
    ):
        assert expected in text, expected
    assert 'id="score" data-value="25.0">25<' in page
    assert 'id="max-score" data-value="100.0">100<' in page
    accuracy = result.metrics["test_accuracy"]
    assert f'id="accuracy" data-value="{accuracy}">{accuracy:.4f}<' in page
    # Model, as the chapter shows it, with the arithmetic computed from the config
    assert "784 × 64 + 64 = 50,240" in text
    assert "64 × 10 + 10 = 650" in text
    assert "50,240 + 650 = 50,890" in text
    assert "(None, 784)" in text and "relu" in text and "softmax" in text
    assert "Adam (learning rate 0.001)" in text
    # Training curves with validation, test results with class names
    assert "on the training and the validation data" in text
    for name in FASHION:
        assert name in text
    assert "Shirt taken for T-shirt/top" in text
    assert page.count("data:image/png;base64,") == 4
    # Output: progress bars collapsed to what the terminal showed last
    assert "1875/1875" in text and "1/1875 ━━\n" not in text


def test_checks_are_in_fix_order(tmp_path: Path) -> None:
    # What did not pass, in the exercise's (pipeline) order, then what passed.
    ordered = [c.status for c in ordered_checks(ALL_STATUSES)]
    assert ordered == ["failed", "skipped", "error", "passed", "passed"]
    # The first cause stays on top of the errors it caused.
    cascade = [
        CheckResult("present", "Functions defined", "failed", 0, 5, "load_data() still raises NotImplementedError."),
        CheckResult("load_data", "load_data() works", "error", 0, 10, "load_data() is not written yet."),
        CheckResult(
            "model",
            "build_model() returns a model",
            "error",
            0,
            5,
            "Not checked, because load_data() is not written yet.",
        ),
    ]
    assert [c.id for c in ordered_checks(cascade)] == ["present", "load_data", "model"]
    page, markdown, _ = render(model_result(), tmp_path, dataset=SyntheticDataset())
    statuses = re.findall(r'data-status="(\w+)"', page)
    assert statuses == ordered
    headings = re.findall(r"^### \d+\. \S+ (\w+): ", markdown, flags=re.M)
    assert headings == ordered
    # Within a status, the exercise's order is kept.
    assert markdown.index("Module imports") < markdown.index("Compiled for integer labels")
    # Hints are shown for what needs fixing, not for what passed.
    assert 'Use Dense(10, activation="softmax").' in html.unescape(page)


def test_markdown_has_the_same_figures_as_the_json(tmp_path: Path) -> None:
    result = model_result()
    data = result.to_json()
    _, markdown, files = render(result, tmp_path, dataset=SyntheticDataset())
    assert f"**{data['score']:g} / {data['max_score']:g}** points (pass mark {data['pass_mark']:g})" in markdown
    assert f"**{data['metrics']['test_accuracy']:.4f}**" in markdown
    rows = {
        m.group(1): m.groups()
        for m in re.finditer(
            r"^\| (\d+) ([^|]+?) \| ([\d,]+) \| ([\d,]+) \(([\d.]+)%\) \| ([\d.]+) \| ([\d.]+) \|$",
            markdown,
            flags=re.M,
        )
    }
    assert len(rows) == 10
    for figures in data["details"]["evaluation"]["per_class"]:
        _label, name, support, correct, _percent, precision, recall = rows[str(figures["label"])]
        assert markdown_escape(figures["name"]) == name
        assert int(support.replace(",", "")) == figures["support"]
        assert precision == f"{figures['precision']:.4f}"
        assert recall == f"{figures['recall']:.4f}"
        assert int(correct) == data["details"]["evaluation"]["confusion"][figures["label"]][figures["label"]]
    # The confusion matrix is in the Markdown as a table too, cell by cell.
    for row in data["details"]["evaluation"]["confusion"]:
        assert " | ".join(str(v) for v in row) in markdown
    # Figures are files next to the report, linked relatively.
    for name in ("accuracy-curve", "loss-curve", "confusion-matrix", "predictions"):
        assert f"](figures/{name}.png)" in markdown
        assert (files["md"].parent / "figures" / f"{name}.png").read_bytes().startswith(b"\x89PNG")


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    first = render_reports(model_result(), tmp_path / "a", dataset=SyntheticDataset())
    second = render_reports(model_result(), tmp_path / "b", dataset=SyntheticDataset())
    for kind in first:
        assert first[kind].read_bytes() == second[kind].read_bytes(), kind


def test_html_is_self_contained(tmp_path: Path) -> None:
    page, _, _ = render(model_result(), tmp_path, dataset=SyntheticDataset())
    assert "<script" not in page
    assert re.findall(r'(?:src|href)="(?!data:image/png;base64,|#)', page) == []
    assert "default-src 'none'" in page  # the browser refuses scripts and requests even if escaping failed
    assert '<meta name="viewport"' in page and "@media print" in page


# --------------------------------------------------------------------------------------------
# Escaping: learner text never becomes markup
# --------------------------------------------------------------------------------------------


def test_learner_text_is_escaped_everywhere(tmp_path: Path) -> None:
    model = _model(layer_name="<b>evil</b>")
    result = model_result(
        output=f"before\n{HOSTILE}\nafter ```` four backticks",
        checks=[CheckResult("x", "Check <i>name</i>", "failed", 0, 10, f"message {HOSTILE}", f"hint {HOSTILE}")],
        details={
            "model": model,
            "errors": [
                {
                    "step": "train",
                    "type": "ValueError",
                    "message": HOSTILE,
                    "frames": [],
                    "traceback": f"Traceback\nValueError: {HOSTILE}",
                }
            ],
            "notes": [f"note {HOSTILE}"],
        },
    )
    page, markdown, _ = render(result, tmp_path, dataset=SyntheticDataset())
    for raw in ("<script>", "</textarea>", "<img src=x", "<b>evil</b>", "<i>name</i>"):
        assert raw not in page, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert HOSTILE in visible_text(page)  # shown as text, in full

    # Markdown: outside code fences, no raw tag and no live Markdown from learner text.
    fences = list(re.finditer(r"^(`{3,})text\n.*?\n\1$", markdown, flags=re.M | re.S))
    assert len(fences) == 2  # the traceback and the output
    outside = re.sub(r"^(`{3,})text\n.*?\n\1$", "", markdown, flags=re.M | re.S)
    assert "<" not in outside.replace("&lt;", "")
    assert "&lt;b&gt;evil&lt;/b&gt;" in outside
    assert "\\*\\*bold\\*\\*" in outside and "\\[link\\]" in outside
    # The output fence is longer than the longest backtick run inside it.
    output_fence = fences[-1]
    assert len(output_fence.group(1)) == 5
    assert HOSTILE in output_fence.group(0)


def test_markdown_escape_and_fence() -> None:
    assert markdown_escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert markdown_escape("x_y *z* [a](b) `c` | d") == "x\\_y \\*z\\* \\[a\\](b) \\`c\\` \\| d"
    # Block markers are neutralised on every line the text starts, not mid-sentence.
    assert markdown_escape("0.8734") == "0.8734"
    assert (
        markdown_escape("ok\n# not a heading\n1. not a list\n- nor this")
        == "ok\n\\# not a heading\n1\\. not a list\n\\- nor this"
    )
    assert report_module.markdown_block("# top") == "\\# top"
    assert markdown_fence("a ``` b ````` c").startswith("``````text\n")
    assert markdown_fence("plain") == "```text\nplain\n```"


# --------------------------------------------------------------------------------------------
# Missing parts render with a note
# --------------------------------------------------------------------------------------------


def test_error_result_shows_traceback_and_notes_for_missing_parts(tmp_path: Path) -> None:
    page, markdown, files = render(error_result(), tmp_path)
    text = visible_text(page)
    assert set(files) == {"html", "md"}  # nothing to plot
    assert "Your code raised an error" in text
    assert 'File "fashion_mnist.py", line 12, in build_model' in text
    assert "<script>alert(2)</script>" in text and "<script>alert(2)" not in page
    assert "No model to show: build_model() failed" in text
    assert "No training history to plot: training did not run because of the error above." in text
    assert "The model was not tested: build_model() failed, so there was no trained model to test." in text
    assert "Your code printed nothing." in text
    assert 'id="accuracy"' not in page
    assert "build\\_model() failed" in markdown and "```text\nTraceback" in markdown


def test_missing_history_and_no_validation(tmp_path: Path) -> None:
    page, _markdown, files = render(model_result(details={"history": {}}), tmp_path, dataset=SyntheticDataset())
    assert "train() did not return the History" in visible_text(page)
    page, _, _ = render(
        model_result(details={"history": {}, "errors": [{"step": "train", "type": "KeyError", "message": "x"}]}),
        tmp_path,
        dataset=SyntheticDataset(),
    )
    assert "train() raised an error before it returned" in visible_text(page)
    assert "accuracy_curve" not in files and "loss_curve" not in files
    page, _, files = render(
        model_result(details={"history": {"loss": [0.5, 0.4], "accuracy": [0.8, 0.85]}}),
        tmp_path,
        dataset=SyntheticDataset(),
    )
    assert "no validation data was used" in visible_text(page)
    assert "accuracy_curve" in files and "loss_curve" in files


def test_stale_figures_are_removed(tmp_path: Path) -> None:
    render_reports(model_result(), tmp_path / "out", dataset=SyntheticDataset())
    assert (tmp_path / "out" / "figures" / "accuracy-curve.png").exists()
    render_reports(error_result(), tmp_path / "out")
    assert not (tmp_path / "out" / "figures" / "accuracy-curve.png").exists()


def test_quiz_result_has_no_model_sections(tmp_path: Path) -> None:
    page, markdown, files = render(quiz_result(), tmp_path)
    text = visible_text(page)
    assert set(files) == {"html", "md"}
    assert "This exercise is a quiz" in text
    assert 'id="model"' not in page and 'id="training"' not in page
    assert "Answers for an instructor to read" in text
    assert "It makes <b>probabilities</b>" in text and "<b>probabilities</b>" not in page
    assert "**11 / 13** points (pass mark 9)" in markdown
    assert "Seed" not in text  # a quiz has none
    assert "0.01 s" in text and "no code run" in text


def test_missing_test_images_leave_out_the_grid_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_data(name: str, data_dir: Path | None = None) -> Any:
        raise RuntimeError(f"No {name} data found")

    monkeypatch.setitem(sys.modules, "grader.datasets", types.SimpleNamespace(load_dataset=no_data))
    page, markdown, files = render(model_result(), tmp_path)
    assert "predictions" not in files
    text = visible_text(page)
    assert (
        "The image grid is left out: the fashion_mnist test images are not available here (No fashion_mnist data found)"
        in text
    )
    assert "The predictions were: T-shirt/top (T-shirt/top), " in text  # still listed, as text
    assert "| 0 | T-shirt/top | T-shirt/top | ✓ right |" in markdown


def test_dataset_is_loaded_lazily_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def load(name: str, data_dir: Path | None = None) -> Any:
        calls.append((name, data_dir))
        return SyntheticDataset()

    monkeypatch.setitem(sys.modules, "grader.datasets", types.SimpleNamespace(load_dataset=load))
    files = render_reports(model_result(), tmp_path / "out", data_dir=tmp_path)
    assert calls == [("fashion_mnist", tmp_path)]
    assert "predictions" in files


def test_limit_notes_and_truncated_output(tmp_path: Path) -> None:
    lines = "\n".join(f"line {i}" for i in range(1000))
    result = model_result(
        output=lines,
        details={
            "limit_hit": "time",
            "output_truncated_bytes": 12345,
            "notes": ["Skipped the notebook magic %matplotlib"],
        },
    )
    text = visible_text(render(result, tmp_path, dataset=SyntheticDataset())[0])
    assert "stopped by the grader's time limit" in text
    assert "Skipped the notebook magic %matplotlib" in text
    assert "12,345 more bytes were not kept" in text
    assert "700 lines in the middle are left out" in text
    assert "line 0\n" in text and "line 999" in text and "line 500\n" not in text


# --------------------------------------------------------------------------------------------
# The pieces
# --------------------------------------------------------------------------------------------


def test_parameter_arithmetic() -> None:
    assert parameter_formula("Dense", {"units": 64}, [784]) == ("784 × 64 + 64", 50240)
    assert parameter_formula("Dense", {"units": 64, "use_bias": False}, [784]) == ("784 × 64", 50176)
    assert parameter_formula("Conv2D", {"filters": 32, "kernel_size": [3, 3]}, [28, 28, 1]) == (
        "3 × 3 × 1 × 32 + 32",
        320,
    )
    assert parameter_formula("BatchNormalization", {}, [64]) == ("4 × 64", 256)
    assert parameter_formula("Flatten", {}, [28, 28]) is None
    assert parameter_formula("Dense", {"units": 64}, None) is None


def test_layer_rows_show_arithmetic_only_when_it_matches() -> None:
    conv_model = {
        "input_shape": [28, 28, 1],
        "layers": [
            {
                "name": "conv",
                "class_name": "Conv2D",
                "params": 320,
                "output_shape": [26, 26, 32],
                "config": {"filters": 32, "kernel_size": [3, 3], "activation": "relu"},
            },
            {"name": "pool", "class_name": "MaxPooling2D", "params": 0, "output_shape": [13, 13, 32], "config": {}},
            {"name": "flat", "class_name": "Flatten", "params": 0, "output_shape": [5408], "config": {}},
            {
                "name": "out",
                "class_name": "Dense",
                "params": 54090,
                "output_shape": [10],
                "config": {"units": 10, "activation": "softmax"},
            },
            {"name": "custom", "class_name": "MyLayer", "params": 7, "output_shape": [10], "config": {}},
            {"name": "odd", "class_name": "Dense", "params": 999, "output_shape": [10], "config": {"units": 10}},
        ],
    }
    rows = layer_rows(conv_model)
    assert [r.arithmetic for r in rows] == ["3 × 3 × 1 × 32 + 32 = 320", "", "", "5,408 × 10 + 10 = 54,090", "", ""]
    assert rows[0].output_shape == "(None, 26, 26, 32)"
    assert rows[0].activation == "relu" and rows[1].activation == ""


def test_most_confused_pairs() -> None:
    confusion = [[8, 2, 0], [5, 5, 0], [0, 2, 8]]
    pairs = most_confused(confusion, ["a", "b", "c"], top=2)
    assert [(p.true_name, p.predicted_name, p.count, p.share) for p in pairs] == [
        ("b", "a", 5, 0.5),
        ("a", "b", 2, 0.2),
    ]


def test_clean_output() -> None:
    view = clean_output("\x1b[1mEpoch 1/2\x1b[0m\r\n 1/10 [=>..]\r10/10 [====] loss: 0.5\nbell\x07\n\n")
    assert view.text == "Epoch 1/2\n10/10 [====] loss: 0.5\nbell"  # control characters dropped (grader.safe_text)


# --------------------------------------------------------------------------------------------
# Where `grade` writes the reports
# --------------------------------------------------------------------------------------------


def test_default_report_dir_is_next_to_the_submission_but_never_in_the_grader(tmp_path: Path) -> None:
    from grader.spec import solutions_root

    learner = tmp_path / "alice" / "fashion_mnist.py"
    assert (
        default_report_dir("fashion_mnist", learner, cwd=tmp_path / "here")
        == tmp_path / "alice" / "grade-reports" / "fashion_mnist"
    )
    bundled = solutions_root() / "fashion_mnist" / "fashion_mnist.py"
    assert (
        default_report_dir("fashion_mnist", bundled, cwd=tmp_path / "here")
        == (tmp_path / "here").resolve() / "grade-reports" / "fashion_mnist"
    )


def test_cli_writes_reports_and_names_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A quiz grades in milliseconds, so the whole command runs here: --report, the default
    location, and --no-report."""
    from grader.cli import main
    from grader.spec import load_exercise

    spec = load_exercise("exercise1")
    answers = tmp_path / "work" / spec.stub
    answers.parent.mkdir()
    answers.write_text(spec.solution_path.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    assert main(["exercise1", str(answers), "--report", "out"]) == 0
    assert "Report: out/report.html" in capsys.readouterr().out
    assert "This exercise is a quiz" in visible_text((tmp_path / "out" / "report.html").read_text(encoding="utf-8"))

    assert main(["exercise1", str(answers)]) == 0
    assert "Report: work/grade-reports/exercise1/report.html" in capsys.readouterr().out
    assert (tmp_path / "work" / "grade-reports" / "exercise1" / "report.md").is_file()

    assert main(["exercise1", str(answers), "--no-report", "--report", "elsewhere"]) == 0
    assert "Report:" not in capsys.readouterr().out
    assert not (tmp_path / "elsewhere").exists()
