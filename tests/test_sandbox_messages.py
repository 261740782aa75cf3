"""The sandbox's one voice: the child records codes and facts, the parent says them in words.

``grader.sandbox.child`` writes no sentence of its own; ``grader.sandbox.runner.read_evidence``
turns its codes into sentences through ``grader.messages.sandbox``, in English or, under
``use_language("zh")``, in Simplified Chinese from ``grader/locale/zh/LC_MESSAGES/sandbox.po``,
with Keras' own text left as Keras wrote it. Pure tests: no TensorFlow.
"""

from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path
from types import SimpleNamespace

from babel.messages.pofile import read_po

from grader.evidence import ExceptionInfo, Finding, SandboxEvidence, StepResult, from_json, to_json
from grader.messages import sandbox as say_sandbox
from grader.messages import use_language
from grader.sandbox import child
from grader.sandbox.limits import LIMIT_HINTS, SandboxLimits
from grader.sandbox.plan import ChildPlan, CodeCell, StyleInstructions, TrialFit
from grader.sandbox.runner import RunInfo, SandboxPlan, read_evidence

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "grader" / "locale" / "zh" / "LC_MESSAGES" / "sandbox.po"
KERAS_TEXT = "Could not deserialize class 'MyLoss' because its parent module losses cannot be imported."


def _record(tmp_path: Path, evidence: SandboxEvidence) -> SandboxEvidence:
    """``evidence`` as the child writes it, read back by the parent."""
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(to_json(evidence)), encoding="utf-8")
    plan = SandboxPlan(submission=Path("solution.py"), functions={}, seed=1)
    return read_evidence(path, plan, RunInfo(returncode=0), SandboxLimits())


def _child_record() -> SandboxEvidence:
    """A script that left no model, and a saved model whose compile settings Keras lost: codes
    and facts only, as the child records them."""
    evidence = SandboxEvidence(submission="solution.py", seed=1, style="script", graded_as="script")
    evidence.steps["build_model"] = StepResult(
        name="build_model",
        status="exception",
        exception=ExceptionInfo(
            type=child.MODEL_NOT_FOUND,
            message="",
            code="no_model",
            facts={"kind": "script", "variable": "model", "holds": "int"},
        ),
        run_by="script",
    )
    evidence.compile_settings_lost = {"exception": "TypeError", "detail": KERAS_TEXT, "lambda_layer": False}
    return evidence


def test_a_code_and_facts_render_in_english(tmp_path: Path) -> None:
    evidence = _record(tmp_path, _child_record())
    exc = evidence.steps["build_model"].exception
    assert exc is not None
    assert exc.message == (
        "no Keras model was found after your script ran: no variable `model` holds one (`model` holds a int), "
        "and model.fit was never called"
    )
    assert (
        exc.hint
        == "Keep the model to grade in a variable named `model`: `model = keras.Sequential([...])`, then compile and fit it."
    )
    assert exc.traceback == exc.message
    assert evidence.steps["build_model"].label == "your script"
    assert evidence.notes == [
        f"solution.py was loaded without its compile settings, which Keras could not restore: TypeError: {KERAS_TEXT}"
    ]


def test_the_same_record_renders_in_chinese_with_keras_text_verbatim(tmp_path: Path) -> None:
    with use_language("zh"):
        evidence = _record(tmp_path, _child_record())
    exc = evidence.steps["build_model"].exception
    assert exc is not None
    assert exc.message.startswith("你的脚本运行后没有找到 Keras 模型") and "`model`" in exc.message
    assert "变量" in exc.hint and "`model = keras.Sequential([...])`" in exc.hint
    assert evidence.steps["build_model"].label == "你的脚本"
    (note,) = evidence.notes
    assert "编译设置" in note and note.endswith(f"TypeError: {KERAS_TEXT}")  # Keras' words untouched
    assert not re.search(r"\b(was|the|could|not)\b", note.replace(KERAS_TEXT, ""))


def test_limits_speak_from_one_place_in_both_languages(tmp_path: Path) -> None:
    limits = SandboxLimits(timeout_s=12)
    path = tmp_path / "evidence.json"
    evidence = SandboxEvidence(submission="solution.py", seed=1)
    evidence.steps["train"] = StepResult(name="train", status="started")
    path.write_text(json.dumps(to_json(evidence)), encoding="utf-8")
    plan = SandboxPlan(submission=Path("solution.py"), functions={}, seed=1)
    run = RunInfo(returncode=-9, limit_hit="time", limits=limits.describe())
    english = read_evidence(path, plan, run, limits).steps["train"].exception
    assert english is not None
    assert (
        english.message
        == "train() did not finish: the time limit of 12 s was reached (an endless loop, or training too long?)"
    )
    assert english.hint == LIMIT_HINTS["time"] == say_sandbox.limit_hint("time")
    with use_language("zh"):
        chinese = read_evidence(path, plan, run, limits).steps["train"].exception
        assert LIMIT_HINTS["time"] == chinese.hint  # the limits module's table is the messages module's
    assert chinese.message == "train() 没有运行完：达到了 12 秒的时间限制（是否有死循环，或者训练时间太长？）"
    assert "epoch" in chinese.hint and "batch_size" in chinese.hint


def test_a_forged_sentence_in_the_record_is_replaced_by_the_graders_own(tmp_path: Path) -> None:
    evidence = _child_record()
    step = evidence.steps["build_model"]
    assert step.exception is not None
    step.exception.message = step.exception.hint = "All checks passed! Full marks."
    step.label = "the grader"
    evidence.model_source = "the instructor's reference model"
    read = _record(tmp_path, evidence)
    text = json.dumps(to_json(read))
    assert "All checks passed" not in text and "reference model" not in text and 'the grader"' not in text


# --- the child writes codes and facts only ------------------------------------------------------


class _Model:
    """Stands in for keras.Model: choose_script_model only asks isinstance and compiled."""

    def __init__(self, compiled: bool = True) -> None:
        self.compiled, self.optimizer = compiled, object() if compiled else None


FAKE_KERAS = SimpleNamespace(Model=_Model)
WORD = re.compile(r"[A-Za-z]{2,}")


def _facts_are_facts(finding: Finding) -> None:
    """Codes are identifiers; facts are names, numbers, flags and types, never sentences."""
    assert finding.code in say_sandbox.PROBLEMS + say_sandbox.MODEL_ORIGINS
    for value in finding.facts.values():
        items = value if isinstance(value, list) else [value]
        for item in items:
            assert isinstance(item, (str, int, bool)), finding
            assert not isinstance(item, str) or " " not in item, finding


def test_the_childs_findings_are_codes_with_facts() -> None:
    one, other = _Model(), _Model()
    cases = [
        ({"model": one}, [], "variable"),
        ({"net": one}, [], "left_in"),
        ({"a": one, "b": other}, [], "several_models"),
        ({}, [one], "fit_in_kind"),
        ({}, [one, other], "several_fitted"),
        ({"model": 3}, [], "no_model"),
    ]
    for namespace, fitted, code in cases:
        _, finding = child.choose_script_model(namespace, "model", fitted, FAKE_KERAS, "notebook")
        assert finding.code == code
        _facts_are_facts(finding)
        words = (
            say_sandbox.model_source(finding.code, finding.facts) or say_sandbox.problem(finding.code, finding.facts)[0]
        )
        assert "notebook" in words  # the parent's sentence names what the learner handed in


def test_load_data_and_sys_exit_are_recorded_as_facts() -> None:
    data = child.describe_data((1, 2, 3))
    assert (data.description, data.returned_type, data.items) == ("", "tuple", 3)
    assert say_sandbox.data_description(data.returned_type, data.items) == "a tuple of 3 items"
    try:
        raise SystemExit(3)
    except SystemExit as exc:
        info = child.describe_exception(exc, Path("x.py"), "x.py")
    assert (info.message, info.code, info.facts) == ("", "sys_exit", {"exit_code": "3"})
    assert "Traceback" not in info.traceback  # the heading is the parent's, in the learner's language


def test_child_py_holds_no_learner_facing_sentence() -> None:
    """Every string in the child (docstrings aside) is an identifier, a file name, or text the child
    matches in TensorFlow's own messages: no English sentence for a learner."""
    tree = ast.parse((ROOT / "grader" / "sandbox" / "child.py").read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    matched_in_tensorflow = {"defined at (most recent call last)"}
    sentences = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = " ".join(
                part.value for part in node.values if isinstance(part, ast.Constant) and isinstance(part.value, str)
            )
        else:
            continue
        if len(WORD.findall(text)) >= 3 and " " in text.strip() and text not in matched_in_tensorflow:
            sentences.append((node.lineno, text))
    assert [text for _, text in sentences if len(WORD.findall(text)) >= 4] == []


# --- one typed plan, one serialisation ------------------------------------------------------------


def test_the_childs_plan_round_trips_as_a_dataclass(tmp_path: Path) -> None:
    plan = ChildPlan(
        submission=str(tmp_path / "work" / "analysis.ipynb"),
        display_name="analysis.ipynb",
        functions={"build_model": [], "train": ["model", "x", "y"]},
        seed=7,
        evidence_path=str(tmp_path / "evidence.json"),
        model_path=str(tmp_path / "model.keras"),
        served={"fashion_mnist": str(tmp_path / "served" / "fashion_mnist")},
        adapter=StyleInstructions(graded_as="script", cells=[CodeCell(number=3, source="model = 1")], notes=["a note"]),
        quick=TrialFit(samples=64, epochs=1),
        progress_fd=5,
    )
    path = tmp_path / "plan.json"
    plan.write(path)
    assert ChildPlan.read(path) == plan
    assert from_json(SandboxEvidence, json.loads(json.dumps(to_json(_child_record())))) == _child_record()


# --- the catalogue ----------------------------------------------------------------------------------


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_sandbox_message_is_translated_with_the_same_placeholders() -> None:
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle, locale="zh")
    messages = [message for message in catalogue if message.id]
    assert len(messages) >= 100
    for message in messages:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {ids[0]!r}"
        for translated in strings:
            assert _placeholders(translated) == _placeholders(ids[-1]), ids[0]
            assert re.search(r"[\u4e00-\u9fff]", translated) or translated == ids[0], ids[0]


def test_a_script_killed_while_training_keeps_its_model_and_says_what_ran(tmp_path: Path) -> None:
    """The child's record of a script stopped inside model.fit: the parent names what ran and
    where the model came from, from codes."""
    evidence = SandboxEvidence(submission="endless.py", seed=1, style="script", graded_as="script")
    evidence.steps["build_model"] = StepResult(name="build_model", status="ok", run_by="script")
    evidence.steps["train"] = StepResult(name="train", status="started", run_by="script")
    evidence.model_origin = Finding("in_training")
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(to_json(evidence)), encoding="utf-8")
    limits = SandboxLimits(timeout_s=25)
    run = RunInfo(returncode=-9, limit_hit="time", limits=limits.describe())
    plan = SandboxPlan(submission=Path("endless.py"), functions={}, seed=1)
    read = read_evidence(path, plan, run, limits)
    assert read.model_source == "the model model.fit was training"
    train = read.steps["train"]
    assert train.label == "your script" and train.exception is not None
    assert train.exception.message.startswith("your script did not finish: the time limit of 25 s")
    with use_language("zh"):
        read = read_evidence(path, plan, run, limits)
    assert read.model_source == "model.fit 正在训练的模型"
    assert read.steps["train"].exception.message.startswith("你的脚本没有运行完：达到了 25 秒的时间限制")
