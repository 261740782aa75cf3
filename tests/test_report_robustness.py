"""No report turns a verdict into a crash.

Every renderer (terminal, JSON, HTML, Markdown, Gradescope, gradebook, class summary) formats a
finished result whose ``details`` hold evidence in whatever shape Keras and the grader gave it:
activations and losses given as functions (``tf.nn.relu``, ``tf.losses.sparse_categorical_
crossentropy``), objects, legacy ``.h5`` configs, nested and multi-output models, keys a newer
grader added. Two kinds of proof:

* property-based tests (Hypothesis) over generated details, from Keras-shaped configs to values
  of the wrong type anywhere, for every renderer;
* configs captured from real Keras objects (the ``real_model_facts`` session fixture in
  conftest.py builds small models in many styles and serialises them the way the grader does).

And the command line: when a report still cannot be written, the exit code stays the verdict's,
the result says which report failed, and no out-of-date report is left in its place.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from test_reports import SyntheticDataset, model_result

from grader.atomic import write_atomically, write_json_atomically
from grader.render import report as report_module
from grader.render.report import (
    ReportNotWritten,
    compile_summary,
    layer_rows,
    render_html,
    render_markdown,
    render_reports,
    report_context,
)
from grader.render.terminal import render_terminal
from grader.result import STATUSES, CheckResult, GradeResult

# Hypothesis runs many examples; rendering one takes a few milliseconds. The default lane runs a
# sample of each property (about 15 s on a loaded two-core machine); the slow lane runs every
# property on many more (test_every_renderer_takes_many_more_results).
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
MANY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)

# --- strategies ------------------------------------------------------------------------------

HOSTILE_TEXT = st.sampled_from(
    [
        "",
        "relu",
        "softmax_v2",
        "<script>alert(1)</script>",
        "**bold** | cell",
        "\x1b[2J\x1b]0;title\x07",
        "line\nbreak\r\n",
        "\u202eevil",
        "`" * 5,
        "{{ ctx }}",
        "{% raw %}",
        "NaN",
        "1e309",
        "é中文",
    ]
)
TEXT = st.one_of(HOSTILE_TEXT, st.text(max_size=30))
NUMBER = st.one_of(st.integers(-(10**12), 10**12), st.floats(allow_nan=True, allow_infinity=True))
SCALAR = st.one_of(st.none(), st.booleans(), NUMBER, TEXT)

# Any JSON value: what an unknown key, or a known key of an unexpected type, may hold.
JSON = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)


def keras_object(config: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A serialised Keras object as ``get_config()`` / ``get_compile_config()`` write one."""
    return st.fixed_dictionaries(
        {
            "class_name": st.one_of(
                st.sampled_from(["function", "Adam", "SparseCategoricalCrossentropy", "MeanMetricWrapper", "ReLU"]),
                TEXT,
            )
        },
        optional={
            "module": st.sampled_from(["builtins", "keras.losses", "keras.optimizers", "keras.metrics"]),
            "config": config,
            "registered_name": st.one_of(st.none(), TEXT),
        },
    )


# A setting as Keras serialises it: a string, a function ({"class_name": "function", "config":
# "relu"} - config is a *string*), an object (config a dict), lists and dicts of those (metrics,
# multi-output losses), nested lists (legacy .h5 metrics), or anything else.
SETTING = (
    st.recursive(
        st.one_of(
            TEXT,
            keras_object(
                st.one_of(
                    TEXT,
                    st.dictionaries(TEXT, JSON, max_size=3),
                    st.fixed_dictionaries({"learning_rate": st.one_of(NUMBER, JSON), "name": TEXT}),
                )
            ),
        ),
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
        max_leaves=6,
    )
    | JSON
)

LAYER = (
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.one_of(TEXT, JSON),
            "class_name": st.one_of(
                st.sampled_from(
                    [
                        "Dense",
                        "Conv2D",
                        "Flatten",
                        "Activation",
                        "Softmax",
                        "ReLU",
                        "BatchNormalization",
                        "Embedding",
                        "Sequential",
                        "InputLayer",
                    ]
                ),
                TEXT,
                JSON,
            ),
            "params": st.one_of(st.integers(0, 10**7), JSON),
            "output_shape": st.one_of(
                st.lists(st.one_of(st.none(), st.integers(-3, 5000)), max_size=4),
                st.lists(st.lists(st.integers(1, 10), max_size=2), max_size=2),
                JSON,
            ),
            "config": st.one_of(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "activation": SETTING,
                        "units": st.one_of(st.integers(-2, 4096), JSON),
                        "filters": st.one_of(st.integers(-1, 64), JSON),
                        "kernel_size": st.one_of(st.lists(st.integers(-1, 5), max_size=3), st.integers(-1, 5), JSON),
                        "groups": JSON,
                        "use_bias": JSON,
                        "input_dim": JSON,
                        "output_dim": JSON,
                        "layers": JSON,
                    },
                ),
                JSON,
            ),
        },
    )
    | JSON
)

MODEL = (
    st.fixed_dictionaries(
        {},
        optional={
            "returned_type": st.one_of(TEXT, JSON),
            "is_keras_model": JSON,
            "built": JSON,
            "compiled": JSON,
            "input_shape": st.one_of(st.lists(st.one_of(st.none(), st.integers(1, 784)), max_size=3), JSON),
            "output_shape": JSON,
            "layers": st.one_of(st.lists(LAYER, max_size=5), JSON),
            "total_params": st.one_of(st.integers(0, 10**8), JSON),
            "compile_config": st.one_of(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "optimizer": SETTING,
                        "loss": SETTING,
                        "metrics": SETTING,
                        "weighted_metrics": SETTING,
                        "loss_weights": JSON,
                        "error": TEXT,
                    },
                ),
                JSON,
            ),
            "summary": st.one_of(TEXT, JSON),
            "unknown_key": JSON,
        },
    )
    | JSON
)

SERIES = st.lists(st.one_of(NUMBER, JSON), max_size=6)
EVALUATION = (
    st.fixed_dictionaries(
        {},
        optional={
            "status": st.one_of(st.sampled_from(["ok", "error", "not_run"]), JSON),
            "error": st.one_of(TEXT, JSON),
            "test_accuracy": st.one_of(st.floats(0, 1), JSON),
            "n_test": st.one_of(st.integers(0, 10**5), JSON),
            "input_scaling": st.one_of(st.sampled_from(["unit", "raw"]), JSON),
            "per_class": st.one_of(
                st.lists(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "label": st.one_of(st.integers(-1, 12), JSON),
                            "name": JSON,
                            "support": JSON,
                            "precision": JSON,
                            "recall": JSON,
                        },
                    ),
                    max_size=4,
                ),
                JSON,
            ),
            "confusion": st.one_of(
                st.lists(st.lists(st.one_of(st.integers(0, 100), JSON), max_size=4), max_size=4), JSON
            ),
            "sample_predictions": st.one_of(
                st.lists(
                    st.fixed_dictionaries({}, optional={"index": JSON, "predicted": JSON, "true": JSON}), max_size=3
                ),
                JSON,
            ),
            "model": MODEL,
        },
    )
    | JSON
)

DETAILS = st.fixed_dictionaries(
    {},
    optional={
        "graded_at": st.one_of(st.just("2025-01-02T03:04:05+00:00"), TEXT, JSON),
        "tensorflow_version": JSON,
        "dataset": st.one_of(st.just("fashion_mnist"), JSON),
        "model": MODEL,
        "evaluation": EVALUATION,
        "history": st.one_of(
            st.dictionaries(
                st.sampled_from(["loss", "accuracy", "val_loss", "val_accuracy", "acc"]), SERIES, max_size=4
            ),
            JSON,
        ),
        "errors": st.one_of(
            st.lists(
                st.one_of(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "step": JSON,
                            "type": JSON,
                            "message": st.one_of(TEXT, JSON),
                            "traceback": st.one_of(TEXT, JSON),
                        },
                    ),
                    JSON,
                ),
                max_size=2,
            ),
            JSON,
        ),
        "output": st.one_of(TEXT, JSON),
        "output_truncated_bytes": JSON,
        "limit_hit": JSON,
        "notes": st.one_of(st.lists(st.one_of(TEXT, JSON), max_size=8), JSON),
        "flagged_for_review": JSON,
        "fit_calls": JSON,
        "a_key_from_a_newer_grader": JSON,
    },
)

CHECK = st.builds(
    CheckResult,
    id=TEXT,
    name=TEXT,
    status=st.sampled_from(STATUSES),
    score=st.floats(0, 100),
    max_score=st.floats(0, 100),
    message=TEXT,
    hint=TEXT,
)


@st.composite
def results(draw: st.DrawFn) -> GradeResult:
    return GradeResult(
        exercise=draw(st.sampled_from(["fashion_mnist", "exercise4"])),
        submission=draw(TEXT),
        passed=(passed := draw(st.sampled_from([True, False, None]))),
        score=draw(st.floats(0, 100)),
        max_score=100.0,
        pass_mark=80.0,
        seed=draw(st.one_of(st.none(), st.integers(0, 99))),
        grader_version="0.1.0",
        elapsed_s=draw(st.floats(0, 1000)),
        checks=draw(st.lists(CHECK, max_size=5)),
        # The grader writes the metrics itself (numbers or None), unlike the evidence in details.
        metrics=draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "test_accuracy": st.one_of(st.none(), st.floats(0, 1)),
                    "train_seconds": st.one_of(st.none(), st.floats(0, 1e4)),
                    "input_scaling": st.sampled_from([None, "unit", "raw"]),
                    "epochs": st.one_of(st.none(), st.integers(0, 100)),
                    "a_metric_from_a_newer_grader": JSON,
                },
            )
        ),
        style=draw(st.sampled_from(["module", "certificate", "script", "notebook", "saved_model", "quiz"])),
        isolation=draw(st.sampled_from(["bwrap", "process", "none"])),
        details=draw(DETAILS),
        mode="quick" if passed is None else "full",  # a quick preview has no verdict
    )


SPECS: dict[str, Any] = {}


def verdict_word(result: GradeResult) -> str:
    return "PREVIEW" if result.passed is None else "NOT PASSED" if not result.passed else "PASSED"


# --- property tests: every renderer, every shape ---------------------------------------------


@PROPERTY
@given(result=results())
def test_html_and_markdown_render_any_details(result: GradeResult) -> None:
    check_html_and_markdown(result)


def check_html_and_markdown(result: GradeResult) -> None:
    context = report_context(result)
    page = render_html(context, {})
    markdown = render_markdown(context, {})
    assert verdict_word(result) in page and verdict_word(result) in markdown
    assert "<script>" not in page  # learner text stays text
    assert "\x1b" not in page and "\x1b" not in markdown  # and carries no terminal escapes


@PROPERTY
@given(result=results())
def test_terminal_renders_any_details(result: GradeResult) -> None:
    check_terminal(result)


def check_terminal(result: GradeResult) -> None:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    render_terminal(result, console)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert verdict_word(result) in shown
    assert "\x1b" not in shown


@FEW
@given(result=results())
def test_json_round_trips_any_details(result: GradeResult, tmp_path: Path) -> None:
    check_json_round_trip(result, tmp_path)


def check_json_round_trip(result: GradeResult, tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    result.write_json(path)
    back = GradeResult.from_json(json.loads(path.read_text(encoding="utf-8")))
    assert back.passed == result.passed and back.score == result.score and len(back.checks) == len(result.checks)


@FEW
@given(result=results())
def test_gradescope_gradebook_and_summary_render_any_details(result: GradeResult) -> None:
    check_gradescope_gradebook_and_summary(result)


def check_gradescope_gradebook_and_summary(result: GradeResult) -> None:
    from grader.batch.gradebook import gradebook_csv
    from grader.batch.records import StudentRecord, result_status
    from grader.batch.summary import render_summary, summary_context
    from grader.render.gradescope import gradescope_results
    from grader.spec import load_exercise

    spec = SPECS.get(result.exercise) or SPECS.setdefault(result.exercise, load_exercise(result.exercise))
    payload = gradescope_results(result, spec=spec)
    json.dumps(payload, allow_nan=False)  # Gradescope reads strict JSON
    if result.passed is None:
        return  # a quick preview is never part of a class's gradebook
    record = StudentRecord(id="student", submission="student.py", status=result_status(result), result=result, key="k")
    assert "student" in gradebook_csv([record], spec)
    assert "student" in render_summary(summary_context([record], spec))


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(result=results())
def test_render_reports_writes_both_files_for_any_details(result: GradeResult, tmp_path: Path) -> None:
    """The whole thing, figures included (matplotlib on NaN, ragged or empty data)."""
    check_render_reports(result, tmp_path)


def check_render_reports(result: GradeResult, tmp_path: Path) -> None:
    files = render_reports(result, tmp_path / "out", dataset=SyntheticDataset())
    assert files["html"].is_file() and files["md"].is_file()


@pytest.mark.slow
@MANY
@given(result=results(), with_figures=st.integers(0, 9))
def test_every_renderer_takes_many_more_results(result: GradeResult, with_figures: int, tmp_path: Path) -> None:
    """The properties above on many more results (the slow lane); one in ten with the figures."""
    check_html_and_markdown(result)
    check_terminal(result)
    check_json_round_trip(result, tmp_path)
    check_gradescope_gradebook_and_summary(result)
    if with_figures == 0:
        check_render_reports(result, tmp_path)


# --- configs captured from real Keras objects -------------------------------------------------

# How Keras 2 wrote a legacy .h5's training config (metrics wrapped in MeanMetricWrapper, nested
# in a list per output) - the files learners still download from older tutorials.
KERAS_2_H5_COMPILE = {
    "loss": "categorical_crossentropy",
    "metrics": [
        [
            {
                "class_name": "MeanMetricWrapper",
                "config": {"name": "accuracy", "dtype": "float32", "fn": "categorical_accuracy"},
            }
        ]
    ],
    "weighted_metrics": None,
    "loss_weights": None,
    "optimizer": {
        "class_name": "RMSprop",
        "config": {"name": "RMSprop", "learning_rate": 0.001, "decay": 0.0, "rho": 0.9},
    },
}


def test_real_keras_configs_render_in_every_renderer(real_model_facts: dict[str, dict], tmp_path: Path) -> None:
    assert len(real_model_facts) >= 20
    for style, facts in real_model_facts.items():
        for where in ("model", "evaluation"):
            details = (
                {"model": facts}
                if where == "model"
                else {"evaluation": {**model_result().details["evaluation"], "model": facts}}
            )
            result = model_result(details=details, passed=True, score=100.0)
            context = report_context(result)
            page, markdown = render_html(context, {}), render_markdown(context, {})
            assert "PASSED" in page and "PASSED" in markdown, style
            console = Console(file=io.StringIO(), width=120, color_system=None)
            render_terminal(result, console)
            assert "PASSED" in console.file.getvalue(), style  # type: ignore[attr-defined]
            if facts.get("layers"):
                assert 'id="layers"' in page, style
    # One full report with figures, from the model the issue was filed for.
    files = render_reports(
        model_result(details={"model": real_model_facts["tf.nn functions"]}), tmp_path, dataset=SyntheticDataset()
    )
    assert files["html"].is_file() and files["md"].is_file()


def test_function_valued_settings_read_as_the_learner_wrote_them(real_model_facts: dict[str, dict]) -> None:
    facts = real_model_facts["tf.nn functions"]
    rows = layer_rows(facts)
    assert [row.activation for row in rows if row.class_name == "Dense"] == ["relu", "softmax"]  # not "softmax_v2"
    assert dict(compile_summary(facts["compile_config"]))["loss"] == "sparse_categorical_crossentropy"
    objects = dict(compile_summary(real_model_facts["keras functions and objects"]["compile_config"]))
    assert objects["optimizer"] == "Adam (learning rate 0.002)"
    assert objects["metrics"] == "SparseCategoricalAccuracy, sparse_categorical_accuracy"
    schedule = dict(compile_summary(real_model_facts["schedule and sgd"]["compile_config"]))
    assert schedule["optimizer"] == "SGD (learning rate 0.01)"  # the schedule's starting rate
    legacy = dict(compile_summary(KERAS_2_H5_COMPILE))
    assert legacy == {
        "optimizer": "RMSprop (learning rate 0.001)",
        "loss": "categorical_crossentropy",
        "metrics": "accuracy",
    }
    heads = dict(compile_summary(real_model_facts["multi-output"]["compile_config"]))
    assert "digit: sparse_categorical_crossentropy" in heads["loss"] and "odd: BinaryCrossentropy" in heads["loss"]


def test_input_dim_model_is_read_like_an_input_layer(real_model_facts: dict[str, dict]) -> None:
    """Dense(64, input_dim=784) as the first layer: Keras 3 warns but builds it, and the grader
    reads it as a model taking (784,) images, with the chapter's parameter arithmetic."""
    facts = real_model_facts["input_dim"]
    assert facts["input_shape"] == [784] and facts["built"]
    rows = layer_rows(facts)
    assert rows[0].arithmetic == "784 × 64 + 64 = 50,240"


# --- the command line: a report that fails never costs the verdict ---------------------------


def _grade_quiz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> tuple[int, Path]:
    """`grade exercise1` on the reference answers: a real grading that takes milliseconds."""
    from grader.cli import main
    from grader.spec import load_exercise

    spec = load_exercise("exercise1")
    answers = tmp_path / "work" / spec.stub
    answers.parent.mkdir(exist_ok=True)
    answers.write_text(spec.solution_path.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return main(["exercise1", str(answers), "--report", "out", "--json", "result.json", *extra]), tmp_path / "out"


def test_a_report_that_fails_to_render_keeps_the_verdict_and_leaves_no_stale_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    code, out = _grade_quiz(tmp_path, monkeypatch)
    assert code == 0 and (out / "report.html").is_file()
    capfd.readouterr()

    def broken(*args: Any) -> str:
        raise AttributeError("'str' object has no attribute 'get'")

    monkeypatch.setattr(report_module, "render_html", broken)
    code, out = _grade_quiz(tmp_path, monkeypatch)
    shown = capfd.readouterr()
    assert code == 0, "a PASSED result stays exit 0 when its HTML report fails"
    assert not (out / "report.html").exists(), "the previous submission's report must not stay"
    assert (out / "report.md").is_file()
    assert "report.html could not be written" in shown.err and "AttributeError" in shown.err
    recorded = json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))["details"]["reports"]
    assert set(recorded["failed"]) == {"html"} and set(recorded["written"]) == {"md"}
    assert not list(out.glob(".*.tmp")), "no temporary file left behind"


def test_a_crash_while_building_the_view_data_keeps_the_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    _grade_quiz(tmp_path, monkeypatch)

    def broken(result: GradeResult) -> None:
        raise TypeError("boom")

    monkeypatch.setattr(report_module, "report_context", broken)
    code, out = _grade_quiz(tmp_path, monkeypatch)
    assert code == 0
    assert not (out / "report.html").exists() and not (out / "report.md").exists()
    assert "could not be written" in capfd.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_report_folder_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        code, _ = _grade_quiz(tmp_path, monkeypatch)
    finally:
        out.chmod(stat.S_IRWXU)
    assert code == 0 and "could not be written" in capfd.readouterr().err


def test_a_terminal_summary_that_fails_still_prints_the_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    import grader.render.terminal as terminal

    def broken(result: GradeResult, console: Console) -> None:
        raise KeyError("status")

    monkeypatch.setattr(terminal, "render_terminal", broken)
    code, _ = _grade_quiz(tmp_path, monkeypatch)
    shown = capfd.readouterr()
    assert code == 0 and "PASSED" in shown.out and "bug in the grader" in shown.err


def test_render_reports_raises_report_not_written_naming_the_failed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    render_reports(model_result(), tmp_path, dataset=SyntheticDataset())

    def broken(*args: Any) -> str:
        raise ValueError("bad template")

    monkeypatch.setattr(report_module, "render_markdown", broken)
    with pytest.raises(ReportNotWritten) as caught:
        render_reports(model_result(), tmp_path, dataset=SyntheticDataset())
    assert caught.value.failed == {"md": "ValueError: bad template"}
    assert set(caught.value.written) >= {"html"} and not (tmp_path / "report.md").exists()


# --- the project's one atomic write -------------------------------------------------------------


def test_atomic_write_replaces_whole_files_and_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    write_atomically(target, "old")
    write_atomically(target, b"new \xe2\x9c\x94")
    assert target.read_text(encoding="utf-8") == "new ✔"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    write_json_atomically(tmp_path / "r.json", {"score": math.pi, "path": tmp_path})
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["score"] == math.pi
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "report.html"]


def test_atomic_write_failure_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "grade.json"
    write_atomically(target, "old")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        write_atomically(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["grade.json"]


def test_atomic_temporary_names_are_unique(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writers of one target never share a temporary file (a fixed name collided)."""
    seen: list[str] = []
    original = os.replace

    def spy(src: Any, dst: Any) -> None:
        seen.append(str(src))
        original(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    for _ in range(3):
        write_atomically(tmp_path / "x.json", "{}")
    assert len(set(seen)) == 3 and all(Path(name).parent == tmp_path for name in seen)
