"""Scoring: points, totals, the pass mark, required checks, hint overrides, and judges that break.

No TensorFlow: the evidence is written by hand (the builders live in test_judges.py, which pytest
puts on the import path as a sibling test module).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_judges import EX4, FASHION, SOFTMAX_CASE, make_evidence, ok, raised

from grader.evidence import EvaluationEvidence, Evidence, RunInfo, SandboxEvidence
from grader.judges import JUDGES, Verdict
from grader.scoring import required_check_ids, score_evidence
from grader.spec import CheckSpec, ExerciseSpec


def spec_with(
    checks: list[tuple[str, str, float]],
    pass_mark: float = 8,
    required: tuple[str, ...] = (),
    hints: dict[str, str] | None = None,
) -> ExerciseSpec:
    """A hand-made spec: ``checks`` as (id, judge, points)."""
    hints = hints or {}
    check_specs = tuple(
        CheckSpec(id=i, name=f"Check {i}", judge=j, points=p, hint=hints.get(i, ""), required=i in required)
        for i, j, p in checks
    )
    raw = {
        "checks": [
            {"id": i, "judge": j, "points": p, **({"required": True} if i in required else {})} for i, j, p in checks
        ]
    }
    return ExerciseSpec(
        id="demo", title="Demo", summary="", kind="model", stub="demo.py", directory=Path("."),
        dataset=None, train_data="grader", seed=42, timeout_s=60, pass_mark=pass_mark,
        functions=(), checks=check_specs, raw=raw,
    )  # fmt: skip


def empty_evidence() -> Evidence:
    return Evidence(sandbox=SandboxEvidence(submission="demo.py", seed=42, run=RunInfo(returncode=0)))


def fixed(verdict: Any) -> Any:
    return lambda evidence, params, spec: verdict


@pytest.fixture
def fake_judges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Judges with fixed verdicts, registered for the duration of one test."""

    def crash(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
        raise RuntimeError("boom")

    fakes = {
        "always_pass": fixed(Verdict.passed("fine")),
        "always_fail": fixed(Verdict.failed("wrong", "the judge's hint")),
        "third": fixed(Verdict.failed("a third right", "judge hint", 1 / 3)),
        "half": fixed(Verdict.failed("half right", "judge hint", 0.5)),
        "broken_evidence": fixed(Verdict("error", 0.7, "could not check", "judge hint")),  # fraction ignored
        "skip": fixed(Verdict("skipped", 1.0, "not applicable")),
        "crash": crash,
        "not_a_verdict": fixed({"status": "passed"}),
        "bad_fraction": fixed(Verdict("passed", 1.5, "too generous")),
        "nan_fraction": fixed(Verdict("failed", float("nan"), "nan")),
        "bad_status": fixed(Verdict("great", 1.0, "?")),  # type: ignore[arg-type]
        "echo_params": lambda evidence, params, spec: Verdict.passed(f"params {sorted(params.items())}"),
    }
    for name, judge in fakes.items():
        monkeypatch.setitem(JUDGES, name, judge)


@pytest.mark.usefixtures("fake_judges")
def test_points_total_and_order() -> None:
    spec = spec_with(
        [("a", "always_pass", 5), ("b", "third", 10), ("c", "half", 3), ("d", "always_fail", 2)], pass_mark=9
    )
    results, total, passed = score_evidence(spec, empty_evidence())
    assert [r.id for r in results] == ["a", "b", "c", "d"]
    assert [r.score for r in results] == [5.0, 3.33, 1.5, 0.0]
    assert [r.max_score for r in results] == [5, 10, 3, 2]
    assert total == 9.83
    assert passed


@pytest.mark.usefixtures("fake_judges")
def test_pass_mark_is_inclusive() -> None:
    spec = spec_with([("a", "always_pass", 8), ("b", "always_fail", 2)], pass_mark=8)
    assert score_evidence(spec, empty_evidence())[1:] == (8.0, True)
    spec = spec_with([("a", "always_pass", 7.99), ("b", "always_fail", 2)], pass_mark=8)
    assert score_evidence(spec, empty_evidence())[1:] == (7.99, False)


@pytest.mark.usefixtures("fake_judges")
def test_required_check_failing_blocks_a_pass() -> None:
    spec = spec_with([("a", "always_pass", 9), ("acc", "half", 1)], pass_mark=5, required=("acc",))
    _results, total, passed = score_evidence(spec, empty_evidence())
    assert total == 9.5 and not passed
    assert required_check_ids(spec) == {"acc"}


@pytest.mark.usefixtures("fake_judges")
def test_required_check_in_error_blocks_a_pass() -> None:
    spec = spec_with([("a", "always_pass", 9), ("acc", "crash", 1)], pass_mark=5, required=("acc",))
    assert score_evidence(spec, empty_evidence())[2] is False


@pytest.mark.usefixtures("fake_judges")
def test_required_check_passing_allows_a_pass() -> None:
    spec = spec_with([("a", "always_fail", 1), ("acc", "always_pass", 9)], pass_mark=5, required=("acc",))
    assert score_evidence(spec, empty_evidence())[2] is True


@pytest.mark.usefixtures("fake_judges")
def test_error_and_skipped_never_earn_points() -> None:
    spec = spec_with([("e", "broken_evidence", 10), ("s", "skip", 10)], pass_mark=1)
    results, total, passed = score_evidence(spec, empty_evidence())
    assert [(r.status, r.score) for r in results] == [("error", 0.0), ("skipped", 0.0)]
    assert total == 0 and not passed


@pytest.mark.usefixtures("fake_judges")
@pytest.mark.parametrize(
    "judge, expected",
    [
        ("crash", "internal grader error in check x: RuntimeError: boom"),
        ("not_a_verdict", "internal grader error in check x: the judge returned dict, not a Verdict"),
        ("bad_fraction", "internal grader error in check x: the judge returned fraction 1.5, outside 0..1"),
        ("nan_fraction", "internal grader error in check x: the judge returned fraction nan"),
        ("bad_status", "internal grader error in check x: the judge returned status 'great'"),
        ("no_such_judge", "internal grader error in check x: no judge named 'no_such_judge'."),
    ],
)
def test_broken_judges_become_errors(judge: str, expected: str) -> None:
    spec = spec_with([("ok", "always_pass", 5), ("x", judge, 5)], pass_mark=1)
    results, total, _passed = score_evidence(spec, empty_evidence())
    broken = results[1]
    assert broken.status == "error" and broken.score == 0
    assert broken.message == expected
    assert results[0].status == "passed" and total == 5  # the other checks are unaffected


@pytest.mark.usefixtures("fake_judges")
def test_spec_hint_overrides_only_on_failure() -> None:
    hints = {"f": "spec hint", "h": "spec hint", "e": "spec hint", "p": "spec hint"}
    spec = spec_with(
        [("f", "always_fail", 1), ("h", "half", 1), ("e", "broken_evidence", 1), ("p", "always_pass", 1)], hints=hints
    )
    results = {r.id: r for r in score_evidence(spec, empty_evidence())[0]}
    assert results["f"].hint == "spec hint"
    assert results["h"].hint == "spec hint"  # partial credit is still a failure
    assert results["e"].hint == "judge hint"  # "could not check": the judge's diagnosis stands
    assert results["p"].hint == ""


@pytest.mark.usefixtures("fake_judges")
def test_no_spec_hint_keeps_the_judges() -> None:
    spec = spec_with([("f", "always_fail", 1)])
    assert score_evidence(spec, empty_evidence())[0][0].hint == "the judge's hint"


@pytest.mark.usefixtures("fake_judges")
def test_params_reach_the_judge_as_a_copy() -> None:
    spec = spec_with([("a", "echo_params", 1)])
    spec = ExerciseSpec(
        **{**spec.__dict__, "checks": (CheckSpec(id="a", name="A", judge="echo_params", points=1, params={"k": 1}),)}
    )
    assert score_evidence(spec, empty_evidence())[0][0].message == "params [('k', 1)]"


def test_required_ids_come_from_the_typed_checks_not_the_raw_file() -> None:
    spec = spec_with([("a", "always_pass", 1), ("b", "always_pass", 1)], required=("b",))
    spec.raw["checks"][0]["required"] = True  # the parsed file is only a fingerprint
    assert required_check_ids(spec) == {"b"}


# --- the real exercises, on hand-made evidence -------------------------------------------------


@pytest.mark.parametrize("spec", [FASHION, EX4], ids=["fashion_mnist", "exercise4"])
def test_reference_run_gets_full_marks(spec: ExerciseSpec) -> None:
    results, total, passed = score_evidence(spec, make_evidence(spec))
    assert total == spec.max_score == 100
    assert passed
    assert all(r.status == "passed" and r.hint == "" for r in results)


def test_fashion_stub_scores_zero() -> None:
    stub = raised("build_model", "NotImplementedError", "build_model() is not written yet")
    evidence = make_evidence(steps={"import": ok("import"), "build_model": stub}, model=None, trained=None, train=None,
                             evaluation=EvaluationEvidence(status="not_run"))  # fmt: skip
    results, total, passed = score_evidence(FASHION, evidence)
    assert total == 0 and not passed
    assert all(r.score == 0 for r in results)


def test_exercise4_stub_scores_zero() -> None:
    stub = raised("load_data", "NotImplementedError", "load_data() is not written yet", file="exercise4.py")
    evidence = make_evidence(EX4, steps={"import": ok("import"), "load_data": stub}, model=None, trained=None, train=None,
                             data=None, evaluation=EvaluationEvidence(status="not_run"))  # fmt: skip
    assert score_evidence(EX4, evidence)[1:] == (0.0, False)


def test_softmax_case_is_not_passed_and_says_softmax() -> None:
    evidence = make_evidence(steps={"import": ok("import"), "build_model": SOFTMAX_CASE}, model=None, trained=None,
                             train=None, evaluation=EvaluationEvidence(status="not_run"))  # fmt: skip
    results, _total, passed = score_evidence(FASHION, evidence)
    assert not passed
    hints = [r.hint for r in results if r.hint]
    assert hints == ['Keras names are case-sensitive: write activation="softmax" instead of "softMax".']


def test_accuracy_below_threshold_fails_despite_points() -> None:
    evaluation = EvaluationEvidence(status="ok", test_accuracy=0.845, n_test=10000, input_scaling="unit")
    _results, total, passed = score_evidence(FASHION, make_evidence(evaluation=evaluation))
    assert total == 91.0  # 70 + 70% of 30
    assert not passed  # test_accuracy is required


def test_chapter_hint_replaces_judge_hint_for_hidden_layers() -> None:
    from test_judges import dense, flatten, model_info

    model = model_info([flatten(), dense(128, "relu"), dense(10, "softmax", inputs=128)])
    results = {r.id: r for r in score_evidence(FASHION, make_evidence(model=model))[0]}
    hidden = results["hidden_layers"]
    assert hidden.status == "failed" and hidden.score == 5.0  # the right activation, another size
    assert hidden.hint.startswith("The chapter's model is Flatten()")
