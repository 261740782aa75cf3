"""The chapter-question quizzes (exercise1..exercise3) and the quiz grader, grader.quiz.

No TensorFlow here: a quiz is graded from a TOML answers file alone, so these run in milliseconds.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from grader.errors import GraderError, SpecError, SubmissionNotFoundError
from grader.quiz import AnswersFileError, RubricTerm, _mentions, grade_quiz, render_answers_stub, validate_quiz_spec
from grader.result import GradeResult
from grader.spec import CheckSpec, ExerciseSpec, load_exercise, load_spec_file, spec_from_document

QUIZZES = ("exercise1", "exercise2", "exercise3")


@pytest.fixture(params=QUIZZES)
def spec(request: pytest.FixtureRequest) -> ExerciseSpec:
    return load_exercise(request.param)


def _toml_value(value: Any) -> str:
    # JSON's string escapes are valid in TOML basic strings, which is all these tests need.
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


def write_answers(tmp_path: Path, exercise_id: str, **changes: Any) -> Path:
    """The reference answers of a quiz with some items changed (``None`` removes the line)."""
    answers = tomllib.loads(load_exercise(exercise_id).solution_path.read_text(encoding="utf-8"))
    answers.update(changes)
    path = tmp_path / "answers.toml"
    path.write_text("".join(f"{k} = {_toml_value(v)}\n" for k, v in answers.items() if v is not None), encoding="utf-8")
    return path


def grade_with(tmp_path: Path, exercise_id: str, **changes: Any) -> GradeResult:
    return grade_quiz(load_exercise(exercise_id), write_answers(tmp_path, exercise_id, **changes))


def check(result: GradeResult, item_id: str):
    return next(c for c in result.checks if c.id == item_id)


# --------------------------------------------------------------------------------------------
# The three quizzes as shipped
# --------------------------------------------------------------------------------------------


def test_each_quiz_spec_validates_with_five_to_eight_items(spec: ExerciseSpec) -> None:
    items = validate_quiz_spec(spec)
    assert spec.kind == "quiz" and spec.stub == f"{spec.id}_answers.toml" and spec.dataset is None
    assert 5 <= len(items) <= 8
    types = {item.type for item in items}
    assert {"single", "multiple", "numeric", "text"} <= types
    assert all(item.points == 0 for item in items if item.type == "text")
    assert 0 < spec.pass_mark <= sum(item.points for item in items)


def test_item_ids_are_unique_across_quizzes() -> None:
    # Unique ids let the grader tell a learner that a file belongs to another quiz.
    ids = [item.id for quiz in QUIZZES for item in validate_quiz_spec(load_exercise(quiz))]
    assert len(ids) == len(set(ids))


def test_committed_stub_is_the_rendered_stub(spec: ExerciseSpec) -> None:
    """The stub is generated from exercise.toml; after editing a quiz run `python -m grader.quiz`."""
    assert spec.stub_path.read_text(encoding="utf-8") == render_answers_stub(spec)


def test_stub_shows_every_question_and_choice(spec: ExerciseSpec) -> None:
    stub = spec.stub_path.read_text(encoding="utf-8")
    answers = tomllib.loads(stub)
    for item in validate_quiz_spec(spec):
        assert answers[item.id] in ("", [])
        assert item.title in stub
        for letter in item.choices:
            assert f"#   {letter}) " in stub


def test_reference_answers_get_full_marks(spec: ExerciseSpec) -> None:
    result = grade_quiz(spec, spec.solution_path)
    assert result.passed
    assert result.score == result.max_score > 0
    assert result.metrics["items_correct"] == result.metrics["items_total"]
    items = validate_quiz_spec(spec)
    assert [c.id for c in result.checks] == [item.id for item in items]
    assert [c.name for c in result.checks] == [item.title for item in items]
    for item, c in zip(items, result.checks, strict=False):
        assert c.status == ("passed" if item.scored else "skipped")
        assert c.max_score == item.points
    # The model free-text answer mentions every rubric idea and is flagged for a person.
    (flag,) = result.details["flagged_for_review"]
    assert flag["rubric_missing"] == [] and flag["answer"]
    text_check = next(c for c in result.checks if c.status == "skipped")
    assert "flagged for an instructor" in text_check.message


def test_stub_scores_zero_and_does_not_pass(spec: ExerciseSpec) -> None:
    result = grade_quiz(spec, spec.stub_path)
    assert result.score == 0 and not result.passed
    assert result.metrics["items_correct"] == 0
    assert result.details["flagged_for_review"] == []
    assert all(c.status in ("failed", "skipped") for c in result.checks)
    assert all("Not answered" in c.message for c in result.checks if c.status == "failed")


def test_result_shape_and_json_round_trip(spec: ExerciseSpec) -> None:
    result = grade_quiz(spec, spec.solution_path, started=0.0)
    assert result.style == "quiz" and result.seed is None and result.exercise == spec.id
    assert result.elapsed_s > 0  # measured from the caller's start
    assert set(result.details) >= {"flagged_for_review", "answers"}
    data = json.loads(json.dumps(result.to_json()))
    assert GradeResult.from_json(data) == result


# --------------------------------------------------------------------------------------------
# Typical wrong answers get the intended explanation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exercise_id", "item_id", "answer", "expected"),
    [
        ("exercise3", "dense64_params", 50176, "one bias, so add 64"),
        ("exercise3", "dense64_params", "50,944", "one per unit"),
        ("exercise3", "dense10_params", 640, "so add 10"),
        ("exercise3", "dense10_params", 7850, "reads the 64 outputs"),
        ("exercise3", "total_params", 51674, "Flatten only reshapes"),
        ("exercise3", "total_params", 50816, "Add the biases"),
        ("exercise3", "flatten_size", 56, "multiply"),
        ("exercise3", "output_count", 1, "argmax"),
        ("exercise3", "input_layer_role", "a", "no weights at all"),
        ("exercise2", "update_step", 0.7, "You added the step"),
        ("exercise2", "update_step", -1.5, "scaled by the learning rate"),
        ("exercise2", "update_count", 1875, "5 epochs"),
        ("exercise2", "gradient_direction", "b", "forward pass"),
        ("exercise2", "gradient_count", 50816, "biases are trainable too"),
        ("exercise1", "relu_negative", -3.5, "max(0, x)"),
        ("exercise1", "softmax_sum", 100, "percentages"),
        ("exercise1", "sigmoid_range", "b", "tanh"),
        ("exercise1", "nonlinearity", "c", "no parameters"),
    ],
)
def test_typical_wrong_answer_gets_its_explanation(
    tmp_path: Path, exercise_id: str, item_id: str, answer: Any, expected: str
) -> None:
    result = grade_with(tmp_path, exercise_id, **{item_id: answer})
    c = check(result, item_id)
    assert c.status == "failed" and c.score == 0
    assert expected in c.message
    assert c.hint  # every wrong answer also gets the item's hint
    assert result.score == result.max_score - c.max_score


def test_unlisted_wrong_number_gets_the_general_explanation(tmp_path: Path) -> None:
    c = check(grade_with(tmp_path, "exercise3", dense64_params=12345), "dense64_params")
    assert c.status == "failed"
    assert "You answered 12,345." in c.message and "784 x 64 + 64" in c.message


def test_multiple_answers_give_partial_credit_and_explain_each_slip(tmp_path: Path) -> None:
    # layer_facts: a, b, e are true (3 points, 1 per true statement).
    missed_one = check(grade_with(tmp_path, "exercise3", layer_facts=["a", "b"]), "layer_facts")
    assert missed_one.status == "failed" and missed_one.score == 2.0
    assert "left out a true statement" in missed_one.message and "input layer receives the pixels" in missed_one.message

    one_wrong = check(grade_with(tmp_path, "exercise3", layer_facts=["a", "b", "c", "e"]), "layer_facts")
    assert one_wrong.score == 2.0 and "c) is not true" in one_wrong.message and "design choice" in one_wrong.message

    all_wrong = check(grade_with(tmp_path, "exercise3", layer_facts=["c", "d"]), "layer_facts")
    assert all_wrong.score == 0.0  # wrong picks never push the score below zero
    assert "overfit" in all_wrong.message


def test_keras_case_sensitivity_is_taught(tmp_path: Path) -> None:
    c = check(grade_with(tmp_path, "exercise1", activation_facts=["a", "b", "d", "e"]), "activation_facts")
    assert "case-sensitive" in c.message and c.score == 2.0


def test_free_text_is_advisory_and_lists_rubric_terms(tmp_path: Path) -> None:
    result = grade_with(
        tmp_path,
        "exercise3",
        explain_layers="The hidden layer learns features. The output gives one probability per class.",
    )
    c = check(result, "explain_layers")
    assert c.status == "skipped" and c.score == 0 and c.max_score == 0
    assert "features" in c.message and "not found: pixels, flatten, softmax" in c.message
    assert "flagged for an instructor to read" in c.message
    (flag,) = result.details["flagged_for_review"]
    assert flag["id"] == "explain_layers" and flag["rubric_found"] == ["features", "class", "probability"]
    assert result.score == result.max_score  # free text never changes the score


def test_rubric_matching_ignores_case_hyphens_and_plurals() -> None:
    assert _mentions("It adds NON-LINEARITY.", RubricTerm("nonlinearity"))
    assert _mentions("Uses the Chain  Rule", RubricTerm("chain rule"))
    assert _mentions("two gradients", RubricTerm("gradient"))
    assert _mentions("max(0, x)", RubricTerm("relu", ("max(0",)))
    assert not _mentions("a relay", RubricTerm("relu"))
    assert not _mentions("softmaxed", RubricTerm("softmax"))


# --------------------------------------------------------------------------------------------
# Lenient reading of answers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("letter", ["c", "C", " c ", "c)", "(c)", "c."])
def test_choice_letters_are_read_leniently(tmp_path: Path, letter: str) -> None:
    assert check(grade_with(tmp_path, "exercise3", input_layer_role=letter), "input_layer_role").status == "passed"


@pytest.mark.parametrize("number", [50240, 50240.0, "50240", "50,240", "50 240", "50_240", " 50,240 ", "5.024e4"])
def test_numbers_are_read_leniently(tmp_path: Path, number: Any) -> None:
    result = grade_with(tmp_path, "exercise3", dense64_params=number)
    assert check(result, "dense64_params").status == "passed"
    assert result.details["answers"]["dense64_params"] == 50240


@pytest.mark.parametrize("letters", [["E", "a", "b"], "a, b, e", "a b e", ["a", "b", "e", "a"]])
def test_multiple_answers_are_read_leniently(tmp_path: Path, letters: Any) -> None:
    result = grade_with(tmp_path, "exercise3", layer_facts=letters)
    assert check(result, "layer_facts").status == "passed"
    assert result.details["answers"]["layer_facts"] == ["a", "b", "e"]


def test_decimal_answer_within_tolerance(tmp_path: Path) -> None:
    assert check(grade_with(tmp_path, "exercise2", update_step="0.30"), "update_step").status == "passed"
    assert check(grade_with(tmp_path, "exercise1", softmax_sum=0.9999), "softmax_sum").status == "passed"


def test_missing_lines_count_as_unanswered(tmp_path: Path) -> None:
    result = grade_with(tmp_path, "exercise3", flatten_size=None, explain_layers=None)
    assert check(result, "flatten_size").status == "failed"
    assert "Not answered" in check(result, "flatten_size").message
    assert check(result, "explain_layers").status == "skipped"
    assert result.details["answers"]["flatten_size"] is None
    assert result.details["flagged_for_review"] == []


def test_answers_path_may_be_given_as_a_string(tmp_path: Path) -> None:
    path = write_answers(tmp_path, "exercise1")
    assert grade_quiz(load_exercise("exercise1"), str(path)).passed  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Bad answers files give the right errors
# --------------------------------------------------------------------------------------------


def test_missing_file_is_submission_not_found(tmp_path: Path) -> None:
    with pytest.raises(SubmissionNotFoundError, match="grade init exercise1"):
        grade_quiz(load_exercise("exercise1"), tmp_path / "answers.toml")


def test_unquoted_letter_names_the_line_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "answers.toml"
    path.write_text("# my answers\nnonlinearity = b\n", encoding="utf-8")
    with pytest.raises(AnswersFileError) as caught:
        grade_quiz(load_exercise("exercise1"), path)
    message = str(caught.value)
    assert "line 2" in message and "`nonlinearity = b`" in message
    assert 'nonlinearity = "b"' in message
    assert isinstance(caught.value, GraderError)


def test_unquoted_grouped_number_suggests_quotes(tmp_path: Path) -> None:
    path = tmp_path / "answers.toml"
    path.write_text("dense64_params = 50,240\n", encoding="utf-8")
    with pytest.raises(AnswersFileError, match='dense64_params = "50,240"'):
        grade_quiz(load_exercise("exercise3"), path)


def test_other_toml_errors_explain_the_format(tmp_path: Path) -> None:
    path = tmp_path / "answers.toml"
    path.write_text("flatten_size == 784\n", encoding="utf-8")
    with pytest.raises(AnswersFileError, match=r"line 1.*several letters in brackets"):
        grade_quiz(load_exercise("exercise3"), path)


def test_unclosed_bracket_points_at_its_line_not_the_end(tmp_path: Path) -> None:
    # tomllib reports this at the end of the document; the learner needs the line that opened it.
    path = tmp_path / "answers.toml"
    path.write_text('flatten_size = 784\nlayer_facts = ["a", "b"\noutput_count = 10\n', encoding="utf-8")
    with pytest.raises(AnswersFileError, match=r'line 2.*`layer_facts = \["a", "b"`'):
        grade_quiz(load_exercise("exercise3"), path)


def test_unknown_item_id_lists_the_known_ones(tmp_path: Path) -> None:
    path = write_answers(tmp_path, "exercise3", dense_64_params=50240)
    with pytest.raises(AnswersFileError, match=r"dense_64_params.*Check the spelling.*dense64_params"):
        grade_quiz(load_exercise("exercise3"), path)


def test_answers_of_another_quiz_are_recognised(tmp_path: Path) -> None:
    path = write_answers(tmp_path, "exercise2")
    with pytest.raises(AnswersFileError, match="belong to exercise2: grade this file with `grade exercise2`"):
        grade_quiz(load_exercise("exercise1"), path)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"input_layer_role": ["c"]}, 'takes one letter, not a list: write input_layer_role = "c"'),
        ({"input_layer_role": ["a", "c"]}, "not a list"),
        ({"input_layer_role": "z"}, "'z' is not a choice; answer with one of the letters a, b, c, d"),
        ({"input_layer_role": "the second one"}, "is not a choice"),
        ({"input_layer_role": 3}, "takes one letter in quotes"),
        ({"layer_facts": 3}, "takes a list of letters"),
        ({"layer_facts": ["a", "x"]}, "'x' is not a choice"),
        ({"dense64_params": "fifty thousand"}, "takes a number"),
        ({"dense64_params": "0,5"}, "a dot for decimals"),
        ({"dense64_params": True}, "takes a number"),
        ({"dense64_params": [50240]}, "takes a number"),
        ({"explain_layers": 42}, "takes text in quotes"),
    ],
)
def test_wrong_types_raise_answers_file_error(tmp_path: Path, changes: dict[str, Any], expected: str) -> None:
    path = write_answers(tmp_path, "exercise3", **changes)
    with pytest.raises(AnswersFileError) as caught:
        grade_quiz(load_exercise("exercise3"), path)
    assert expected in str(caught.value)
    assert str(caught.value).startswith("answers.toml: ")  # names the file and the item


def test_non_utf8_file_is_an_answers_file_error(tmp_path: Path) -> None:
    path = tmp_path / "answers.toml"
    path.write_bytes('explain_layers = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(AnswersFileError, match="UTF-8"):
        grade_quiz(load_exercise("exercise3"), path)


# --------------------------------------------------------------------------------------------
# Malformed specs raise SpecError
# --------------------------------------------------------------------------------------------


def _with_items(spec: ExerciseSpec, change) -> ExerciseSpec:
    """The spec loaded again (validated as at load time) with its items passed through
    change(items) -> items."""
    raw = json.loads(json.dumps(spec.raw))  # deep copy; spec TOML holds only JSON-able values
    raw["items"] = change(raw["items"])
    return spec_from_document(raw, spec.directory / "exercise.toml")


def _edit(index: int, **fields: Any):
    def change(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for key, value in fields.items():
            if value is None:
                items[index].pop(key, None)
            else:
                items[index][key] = value
        return items

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_edit(0, type="essay"), "items[0].type (id = \"input_layer_role\"): found 'essay'"),
        (_edit(0, id="Bad Id"), "'id' must be lower-case"),
        (_edit(0, prompt=""), "'prompt' must be a non-empty string"),
        (_edit(0, answer="z"), "'answer' must be one of the choice letters"),
        (_edit(0, answer=["a"]), "items[0].answer (id = \"input_layer_role\"): found ['a'] (an array)"),
        (_edit(0, explanations={}, explanation=None), "has no explanation"),
        (_edit(0, explanations={"z": "?"}), "which is not a choice"),
        (_edit(0, choices={"a": "only one"}), "at least two choices"),
        (_edit(0, points=0), "needs 'points' above 0"),
        (_edit(1, answer="784"), "items[1].answer"),
        (_edit(1, tolerance=-1), "'tolerance' must be"),
        (_edit(1, wrong_answers=[{"value": 784, "explanation": "same"}]), "within the tolerance"),
        (_edit(1, wrong_answers=[{"value": 28}]), "items[1].wrong_answers[0].explanation"),
        (_edit(1, explanation=None), "needs a general 'explanation'"),
        (_edit(6, answer=["a", "z"]), "list of distinct choice letters"),
        (_edit(6, answer=[]), "list of distinct choice letters"),
        (_edit(7, points=2), "advisory only"),
        (_edit(7, rubric=[]), "non-empty 'rubric'"),
        (_edit(7, rubric=[["features", 3]]), "items[7].rubric[0]"),
        (lambda items: [*items, items[0]], "two items with the id 'input_layer_role'"),
        (lambda items: [], "items: found [] (an array)"),
    ],
)
def test_malformed_items_raise_spec_error(change, expected: str) -> None:
    spec = load_exercise("exercise3")
    with pytest.raises(SpecError) as caught:
        validate_quiz_spec(_with_items(spec, change))
    assert expected in str(caught.value)
    assert "exercise.toml" in str(caught.value)


def test_spec_level_mistakes_raise_spec_error() -> None:
    spec = load_exercise("exercise3")
    with pytest.raises(SpecError, match='kind = "quiz"'):
        validate_quiz_spec(dataclasses.replace(spec, kind="model"))
    with pytest.raises(SpecError, match="pass_mark = 99"):
        validate_quiz_spec(dataclasses.replace(spec, pass_mark=99.0))
    with pytest.raises(SpecError, match=r"\[\[items\]\], not \[\[checks\]\]"):
        validate_quiz_spec(dataclasses.replace(spec, checks=(CheckSpec("x", "x", "x", 1.0),)))


def test_grade_quiz_validates_the_spec_first(tmp_path: Path) -> None:
    spec = load_exercise("exercise3")
    spec = dataclasses.replace(spec, items=(spec.items[0].model_copy(update={"answer": "z"}), *spec.items[1:]))
    with pytest.raises(SpecError):
        grade_quiz(spec, write_answers(tmp_path, "exercise3"))


# --- translations are complete -----------------------------------------------------------------
# A missing [items.zh.choices] entry once passed validation and `grade init --lang zh` showed that
# choice in English in the middle of a Chinese quiz.


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda item: item["zh"]["choices"].pop("d"),
         "[items.zh.choices] of 'nonlinearity' does not translate choice 'd'; translate every choice"),
        (lambda item: item["zh"].pop("prompt"),
         "[items.zh] of 'nonlinearity' has no 'prompt'; the English item has one"),
        (lambda item: item["zh"].pop("title"), "[items.zh] of 'nonlinearity' has no 'title'"),
        (lambda item: item["zh"]["explanations"].pop("c"),
         "[items.zh.explanations] of 'nonlinearity' does not translate the explanation of choice 'c'"),
        # The English table explains a, c and d (b is the answer): a Chinese explanation of b
        # would never be shown, so it is refused as the English table would show it.
        (lambda item: item["zh"]["explanations"].update(b="对"),
         "[items.zh.explanations] of 'nonlinearity' explains choice 'b', which [items.explanations] does not"),
        (lambda item: item["zh"]["choices"].update(e="多余"),
         "[items.zh.choices] of 'nonlinearity' names a choice 'e' the item does not have"),
    ],
)  # fmt: skip
def test_an_incomplete_translation_is_refused(change, expected: str) -> None:
    spec = load_exercise("exercise1")
    document = json.loads(json.dumps(spec.raw))
    change(document["items"][0])
    with pytest.raises(SpecError) as caught:
        spec_from_document(document, spec.directory / "exercise.toml")
    assert expected in " ".join(str(caught.value).split())


def test_a_translation_problem_names_its_line(tmp_path: Path) -> None:
    source = (load_exercise("exercise1").directory / "exercise.toml").read_text(encoding="utf-8")
    folder = tmp_path / "exercise1"
    folder.mkdir()
    missing = 'd = "它把像素值从 0-255 缩放到 0-1 的范围。"\n'
    assert missing in source
    broken = source.replace(missing, "", 1)
    (folder / "exercise.toml").write_text(broken, encoding="utf-8")
    header = 1 + broken.splitlines().index("[items.zh.choices]")
    with pytest.raises(SpecError, match=rf"\[items\.zh\.choices\] of 'nonlinearity' \(line {header}\)"):
        load_spec_file(folder / "exercise.toml")


def test_the_shipped_quizzes_are_completely_translated() -> None:
    for exercise in ("exercise1", "exercise2", "exercise3"):
        assert load_exercise(exercise).kind == "quiz"  # loading checks the translations
