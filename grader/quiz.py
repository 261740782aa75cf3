"""Quizzes: exercises answered in a TOML file and graded item by item, with no learner code run.

A quiz is an exercise whose ``exercise.toml`` says ``kind = "quiz"`` and lists its questions as
``[[items]]`` tables next to the usual keys (``spec.items``, typed by ``grader.spec_models``, which
refuses unknown keys and wrong types; this module checks the rest). Four item types exist:

``single``
    one letter out of ``[items.choices]``; ``answer = "b"``.
``multiple``
    several letters; ``answer = ["a", "c"]``. Partial credit: each right letter picked earns its
    share of the points, each wrong letter picked takes one share back (never below zero).
``numeric``
    a number; ``answer = 50240`` and an absolute ``tolerance`` (default 0).
    ``[[items.wrong_answers]]`` tables (``value``, ``explanation``) name typical mistakes, so a
    learner who answers 50,176 for ``Dense(64)`` hears that the 64 biases are missing.
``text``
    free text, scored only as advice: 0 points, status ``skipped``, the rubric terms found listed,
    and the answer flagged for an instructor to read (``details["flagged_for_review"]``).
    ``rubric`` is a list whose entries are a term or a list ``[term, synonym, ...]``.

Every item has ``id``, ``type``, ``title`` (short, shown as the check's name), ``prompt``,
``points`` and, where it applies, ``[items.explanations]`` (one per choice letter: why that
choice is wrong, or why a right one is right), a general ``explanation`` and a ``hint``.
For example::

    [[items]]
    id = "sigmoid_range"
    type = "single"
    title = "Range of sigmoid"
    prompt = "Into which range does the sigmoid function squash its input?"
    points = 2
    answer = "a"
    hint = "Picture the S-shaped curve: where does it flatten out?"
    [items.choices]
    a = "Between 0 and 1"
    b = "Between -1 and 1"
    [items.explanations]
    b = "That is tanh. Sigmoid never goes below 0."

The learner's answers file has one line per item, keyed by item id::

    sigmoid_range = "a"
    dense64_params = "50,240"

Answers are read leniently where the meaning is clear ("B", "(b)", "a, c", "50,240", 50240.0);
anything else raises :class:`AnswersFileError` with the line or item and the fix.
"""

from __future__ import annotations

import math
import re
import textwrap
import time
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import __version__
from grader.errors import GraderError, SpecError, SubmissionNotFoundError
from grader.messages import _
from grader.messages import judges as messages
from grader.result import CheckResult, GradeResult
from grader.spec import ExerciseSpec, list_exercises

__all__ = [
    "ITEM_TYPES",
    "AnswersFileError",
    "QuizItem",
    "RubricTerm",
    "WrongAnswer",
    "grade_quiz",
    "read_answers",
    "render_answers_stub",
    "validate_quiz_spec",
]

ITEM_TYPES: tuple[str, ...] = ("single", "multiple", "numeric", "text")

# Item ids become keys in the learner's TOML file; keeping them bare keys means the learner
# never has to quote a key, which is one less way to write an unparsable file.
_ITEM_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_CHOICE_LETTER = re.compile(r"^[a-z]$")
# "b", "B", "b)", "(b)", "b." all mean choice b.
_LETTER_ANSWER = re.compile(r"^\(?\s*([A-Za-z])\s*[).:]?$")
# Thousands separators a learner may type: "50,240", "50 240", "50_240" (and a thin space).
_GROUPED_NUMBER = re.compile(r"^[+-]?\d{1,3}([, _\u202f\u00a0]\d{3})+(\.\d+)?$")
_TOML_LINE = re.compile(r"line (\d+)")


class AnswersFileError(GraderError):
    """The answers file cannot be graded: bad TOML, an unknown item id, or a value of the wrong type."""


@dataclass(frozen=True)
class RubricTerm:
    """One idea a free-text answer should mention, and the other words that count for it."""

    name: str
    synonyms: tuple[str, ...] = ()

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.synonyms)


@dataclass(frozen=True)
class WrongAnswer:
    """A typical wrong number and what it reveals about the learner's reasoning."""

    value: float
    explanation: str


@dataclass(frozen=True)
class QuizItem:
    """One validated question of a quiz."""

    id: str
    type: str
    title: str
    prompt: str
    points: float
    answer: Any = None  # letter (single), tuple of letters (multiple), float (numeric), None (text)
    choices: dict[str, str] = field(default_factory=dict)
    explanations: dict[str, str] = field(default_factory=dict)
    explanation: str = ""
    hint: str = ""
    tolerance: float = 0.0
    wrong_answers: tuple[WrongAnswer, ...] = ()
    rubric: tuple[RubricTerm, ...] = ()

    @property
    def scored(self) -> bool:
        """Free-text items are advisory: they never count toward the score."""
        return self.type != "text"


# --------------------------------------------------------------------------------------------
# Spec validation
# --------------------------------------------------------------------------------------------


def validate_quiz_spec(spec: ExerciseSpec) -> tuple[QuizItem, ...]:
    """Check a quiz spec's items and return them parsed.

    Raises :class:`~grader.errors.SpecError` naming the item and the bad key, so an author can fix
    ``exercise.toml`` without reading this code.

    >>> items = validate_quiz_spec(load_exercise("exercise1"))  # doctest: +SKIP
    >>> [item.id for item in items][:2]                          # doctest: +SKIP
    ['nonlinearity', 'relu_negative']
    """
    where = spec.directory / "exercise.toml"
    if spec.kind != "quiz":
        raise SpecError(f"Exercise spec {where} has kind = '{spec.kind}'; a quiz needs kind = \"quiz\".")
    if spec.checks:
        raise SpecError(f"Exercise spec {where} is a quiz: put its questions in [[items]], not [[checks]].")
    # The typed items as the file wrote them: the types are checked; the meaning is checked here.
    raw_items = [item.model_dump(exclude_unset=True) for item in spec.items]
    if not raw_items:
        raise SpecError(f"Exercise spec {where} is a quiz but has no [[items]] tables.")

    items = tuple(_parse_item(raw, index, where) for index, raw in enumerate(raw_items, start=1))
    ids = [item.id for item in items]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SpecError(f"Exercise spec {where} has two items with the id '{duplicates[0]}'.")
    total = sum(item.points for item in items)
    if total <= 0:
        raise SpecError(f"Exercise spec {where}: the items carry no points, so nobody could pass.")
    if not 0 < spec.pass_mark <= total:
        raise SpecError(
            f"Exercise spec {where}: pass_mark = {_format_number(spec.pass_mark)} must be above 0 "
            f"and at most the {_format_number(total)} points the items carry."
        )
    return items


def _parse_item(raw: Any, index: int, where: Path) -> QuizItem:
    """Read one ``[[items]]`` table; every problem names the item so the author finds it."""
    if not isinstance(raw, dict):
        raise SpecError(f"Exercise spec {where}: item {index} is not a table.")
    label = f"item {index} ('{raw.get('id', '?')}')"

    def fail(problem: str) -> SpecError:
        return SpecError(f"Exercise spec {where}, {label}: {problem}")

    def text(key: str, *, required: bool) -> str:
        value = raw.get(key, "")
        if not isinstance(value, str) or (required and not value.strip()):
            raise fail(f"'{key}' must be a non-empty string." if required else f"'{key}' must be a string.")
        return _tidy(value)

    item_id = raw.get("id")
    if not isinstance(item_id, str) or not _ITEM_ID.match(item_id):
        raise fail("'id' must be lower-case letters, digits and underscores, starting with a letter.")
    item_type = raw.get("type")
    if item_type not in ITEM_TYPES:
        raise fail(f"'type' must be one of {', '.join(ITEM_TYPES)}; got {item_type!r}.")
    points = raw.get("points", 0 if item_type == "text" else None)
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
        raise fail("'points' must be a number of 0 or more.")
    if item_type == "text" and points != 0:
        raise fail("a text item is advisory only, so its 'points' must be 0 (or left out).")
    if item_type != "text" and points == 0:
        raise fail("a scored item needs 'points' above 0.")

    fields: dict[str, Any] = {
        "id": item_id,
        "type": item_type,
        "title": text("title", required=True),
        "prompt": text("prompt", required=True),
        "points": float(points),
        "explanation": text("explanation", required=False),
        "hint": text("hint", required=False),
    }

    if item_type in ("single", "multiple"):
        choices = raw.get("choices")
        if not isinstance(choices, dict) or len(choices) < 2:
            raise fail("a choice item needs a [items.choices] table with at least two choices.")
        for letter, choice in choices.items():
            if not _CHOICE_LETTER.match(letter) or not isinstance(choice, str) or not choice.strip():
                raise fail(f"choice '{letter}' must be a single lower-case letter with non-empty text.")
        explanations = raw.get("explanations", {})
        if not isinstance(explanations, dict) or not all(isinstance(v, str) for v in explanations.values()):
            raise fail("[items.explanations] must map choice letters to strings.")
        stray = sorted(set(explanations) - set(choices))
        if stray:
            raise fail(f"[items.explanations] explains '{stray[0]}', which is not a choice.")
        answer = raw.get("answer")
        if item_type == "single":
            if not isinstance(answer, str) or answer not in choices:
                raise fail(f"'answer' must be one of the choice letters {', '.join(choices)}.")
            right = {answer}
        else:
            if (
                not isinstance(answer, list)
                or not answer
                or not all(isinstance(a, str) and a in choices for a in answer)
                or len(set(answer)) != len(answer)
            ):
                raise fail(f"'answer' must be a non-empty list of distinct choice letters from {', '.join(choices)}.")
            right = set(answer)
            answer = tuple(sorted(answer))
        # Every wrong choice must be explained, or the learner who picks it learns nothing.
        unexplained = [letter for letter in choices if letter not in right and letter not in explanations]
        if unexplained and not fields["explanation"]:
            raise fail(f"wrong choice '{unexplained[0]}' has no explanation and there is no general 'explanation'.")
        fields.update(
            answer=answer,
            choices={k: _tidy(v) for k, v in choices.items()},
            explanations={k: _tidy(v) for k, v in explanations.items()},
        )

    elif item_type == "numeric":
        answer = raw.get("answer")
        tolerance = raw.get("tolerance", 0)
        if isinstance(answer, bool) or not isinstance(answer, (int, float)) or not math.isfinite(answer):
            raise fail("'answer' must be a number.")
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or tolerance < 0:
            raise fail("'tolerance' must be a number of 0 or more.")
        wrong: list[WrongAnswer] = []
        for entry in raw.get("wrong_answers", []):
            value = entry.get("value") if isinstance(entry, dict) else None
            why = entry.get("explanation") if isinstance(entry, dict) else None
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not isinstance(why, str)
                or not why.strip()
            ):
                raise fail("each [[items.wrong_answers]] needs a numeric 'value' and an 'explanation'.")
            if abs(value - answer) <= tolerance:
                raise fail(f"wrong answer {value} is within the tolerance of the right answer.")
            wrong.append(WrongAnswer(float(value), _tidy(why)))
        if not fields["explanation"]:
            raise fail("a numeric item needs a general 'explanation' for answers not listed in wrong_answers.")
        fields.update(answer=float(answer), tolerance=float(tolerance), wrong_answers=tuple(wrong))

    else:  # text
        rubric_raw = raw.get("rubric")
        if not isinstance(rubric_raw, list) or not rubric_raw:
            raise fail("a text item needs a non-empty 'rubric' list of terms (or lists of synonyms).")
        rubric: list[RubricTerm] = []
        for entry in rubric_raw:
            spellings = [entry] if isinstance(entry, str) else entry
            if (
                not isinstance(spellings, list)
                or not spellings
                or not all(isinstance(s, str) and s.strip() for s in spellings)
            ):
                raise fail("each rubric entry must be a term or a non-empty list of synonyms.")
            rubric.append(RubricTerm(spellings[0].strip(), tuple(s.strip() for s in spellings[1:])))
        fields.update(rubric=tuple(rubric))

    return QuizItem(**fields)


def _tidy(text: str) -> str:
    """Join the lines an author wrapped in a multi-line TOML string, keeping blank-line paragraphs.

    Messages are shown in a terminal table, JSON and reports, each of which wraps on its own.
    """
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


# --------------------------------------------------------------------------------------------
# Reading the learner's answers
# --------------------------------------------------------------------------------------------


def read_answers(answers_path: Path, items: tuple[QuizItem, ...], *, exercise_id: str = "") -> dict[str, Any]:
    """Read the answers file and return each item's answer, normalised.

    The result maps every item id to a letter (``single``), a sorted tuple of letters
    (``multiple``), an int or float (``numeric``), a string (``text``) or ``None`` when unanswered.
    A missing line counts as unanswered; an unknown id, an unparsable file or a value of the wrong
    type raises :class:`AnswersFileError` (a missing file :class:`SubmissionNotFoundError`).
    """
    path = Path(answers_path)
    if not path.is_file():
        raise SubmissionNotFoundError(messages.answers_not_found(str(path), exercise_id or "<exercise>"))
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise AnswersFileError(messages.answers_not_utf8(str(path))) from None
    except OSError as exc:
        raise SubmissionNotFoundError(messages.answers_unreadable(str(path), str(exc.strerror or exc))) from None
    try:
        raw = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise AnswersFileError(_explain_toml_error(path, source, exc)) from None

    by_id = {item.id: item for item in items}
    unknown = [key for key in raw if key not in by_id]
    if unknown:
        raise AnswersFileError(_explain_unknown_ids(path, unknown, list(by_id), exercise_id))
    return {item.id: _normalise_answer(item, raw.get(item.id), path) for item in items}


def _explain_toml_error(path: Path, source: str, exc: tomllib.TOMLDecodeError) -> str:
    """Turn tomllib's terse message into the line, what it says, and how to fix it."""
    reason = str(exc)
    match = _TOML_LINE.search(reason)
    number = int(match.group(1)) if match else None
    if "unclosed" in reason.lower() or number is None:
        # tomllib reports an unclosed bracket where it gave up, often lines after the slip.
        number = _unclosed_line(source) or number
    if number is None:
        return messages.answers_not_toml(str(path), reason)
    lines = source.splitlines()
    line = lines[number - 1].strip() if 0 < number <= len(lines) else ""
    # The position inside tomllib's reason may be where it gave up, not the line shown here.
    reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", reason)
    # The most common slip is a value without quotes; show the exact line to write instead.
    bare = re.match(r"^([A-Za-z0-9_-]+)\s*=\s*([^\"'\[\]{}#=]+?)\s*(#.*)?$", line)
    if bare and not _is_toml_value(bare.group(2)):
        return messages.answers_bad_line(str(path), number, reason, line, key=bare.group(1), value=bare.group(2))
    return messages.answers_bad_line(str(path), number, reason, line)


def _is_toml_value(text: str) -> bool:
    try:
        tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        return False
    return True


def _unclosed_line(source: str) -> int | None:
    """The line that opens a bracket or quote never closed ("Unclosed array (at end of document)").

    tomllib reports such errors at the end of the file, far from the slip; the first answer line
    whose brackets or quotes do not balance is almost always the one to fix.
    """
    for number, line in enumerate(source.splitlines(), start=1):
        if "=" not in line or line.lstrip().startswith("#"):
            continue
        value = line.split("=", 1)[1]
        if '"""' in value or "'''" in value:
            return None  # a multi-line string legitimately spans lines: no safe guess
        if value.count("[") != value.count("]") or value.count('"') % 2 or value.count("'") % 2:
            return number
    return None


def _explain_unknown_ids(path: Path, unknown: list[str], known: list[str], exercise_id: str) -> str:
    # Learners who keep several quizzes in one folder may grade the wrong file; say which it is.
    try:
        others = [s for s in list_exercises() if s.kind == "quiz" and s.id != exercise_id]
    except GraderError:
        others = []
    for other in others:
        other_ids = {item.id for item in other.items}
        if set(unknown) <= other_ids:
            return messages.answers_unknown_items(str(path), unknown, known, other.id)
    return messages.answers_unknown_items(str(path), unknown, known, None)


def _normalise_answer(item: QuizItem, value: Any, path: Path) -> Any:
    """One answer in the form the scorer compares; ``None`` when left empty or left out."""
    if value is None:
        return None
    where = f"{path.name}: {item.id}"
    if item.type == "single":
        if isinstance(value, list):
            raise AnswersFileError(messages.answer_not_a_list(where, item.id, _first_letter(value)))
        if not isinstance(value, str):
            raise AnswersFileError(messages.answer_one_letter(where, item.id, repr(value)))
        if not value.strip():
            return None
        return _parse_letter(item, value, where)
    if item.type == "multiple":
        if isinstance(value, str):
            # "a, c" or "a c" is as clear as ["a", "c"].
            value = [part for part in re.split(r"[\s,;]+", value.strip()) if part]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise AnswersFileError(messages.answer_letters(where, item.id, repr(value)))
        letters = {_parse_letter(item, v, where) for v in value if v.strip()}
        return tuple(sorted(letters)) or None
    if item.type == "numeric":
        if isinstance(value, str) and not value.strip():
            return None
        return _parse_number(value, item, where)
    # text
    if not isinstance(value, str):
        raise AnswersFileError(messages.answer_text(where, item.id))
    return value.strip() or None


def _first_letter(values: list[Any]) -> str:
    return next((str(v).strip().lower() for v in values if str(v).strip()), "a")


def _parse_letter(item: QuizItem, value: str, where: str) -> str:
    match = _LETTER_ANSWER.match(value.strip())
    letter = match.group(1).lower() if match else None
    if letter not in item.choices:
        allowed = ", ".join(item.choices)
        raise AnswersFileError(messages.answer_not_a_choice(where, repr(value.strip()), allowed))
    return letter


def _parse_number(value: Any, item: QuizItem, where: str) -> int | float:
    """Accept 50240, 50240.0, "50240", "50,240", "50 240", "50_240", "5.024e4"."""
    if isinstance(value, bool):
        raise AnswersFileError(messages.answer_number(where, item.id, str(value).lower()))
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if _GROUPED_NUMBER.match(text):
            text = re.sub(r"[, _\u202f\u00a0]", "", text)
        try:
            number = float(text)
        except ValueError:
            raise AnswersFileError(messages.answer_number_text(where, item.id, repr(value))) from None
    else:
        raise AnswersFileError(messages.answer_number(where, item.id, repr(value)))
    if not math.isfinite(number):
        raise AnswersFileError(messages.answer_finite_number(where, repr(value)))
    # Whole numbers stay ints so the JSON result shows 50240, as the learner wrote it.
    return int(number) if number.is_integer() else number


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


@dataclass
class _Scored:
    """A check result plus what grade_quiz aggregates from it."""

    check: CheckResult
    correct: bool = False
    flag: dict[str, Any] | None = None


def grade_quiz(spec: ExerciseSpec, answers_path: Path, *, started: float | None = None) -> GradeResult:
    """Grade a quiz answers file against its spec: one check per item.

    ``started`` is a ``time.monotonic()`` reading taken when grading began (so ``elapsed_s`` can
    include the caller's own work); it defaults to now. The result's ``details`` hold
    ``answers`` (the normalised answers, ``None`` for unanswered items) and
    ``flagged_for_review`` (free-text answers an instructor should read).

    >>> result = grade_quiz(load_exercise("exercise3"), Path("exercise3_answers.toml"))  # doctest: +SKIP
    >>> result.metrics                                                          # doctest: +SKIP
    {'items_correct': 7, 'items_total': 7, 'items_flagged': 1}
    """
    start = time.monotonic() if started is None else started
    items = validate_quiz_spec(spec)
    answers = read_answers(answers_path, items, exercise_id=spec.id)

    scored = [_score_item(item, answers[item.id]) for item in items]
    checks = [s.check for s in scored]
    score = round(sum(c.score for c in checks), 2)
    max_score = float(sum(item.points for item in items))
    flagged = [s.flag for s in scored if s.flag is not None]
    return GradeResult(
        exercise=spec.id,
        submission=str(answers_path),
        passed=score >= spec.pass_mark,
        score=score,
        max_score=max_score,
        pass_mark=spec.pass_mark,
        seed=None,
        grader_version=__version__,
        elapsed_s=round(time.monotonic() - start, 3),
        checks=checks,
        metrics={
            "items_correct": sum(s.correct for s in scored),
            "items_total": sum(item.scored for item in items),
            "items_flagged": len(flagged),
        },
        style="quiz",
        # No learner code runs for a quiz: the answers file is only parsed as data.
        isolation="none",
        details={
            "flagged_for_review": flagged,
            "answers": {key: list(value) if isinstance(value, tuple) else value for key, value in answers.items()},
        },
    )


def _score_item(item: QuizItem, answer: Any) -> _Scored:
    if item.type == "text":
        return _score_text(item, answer)
    if answer is None:
        return _Scored(_check(item, "failed", 0.0, messages.quiz_not_answered(item.id)))
    if item.type == "single":
        return _score_single(item, answer)
    if item.type == "multiple":
        return _score_multiple(item, answer)
    return _score_numeric(item, answer)


def _check(item: QuizItem, status: str, score: float, message: str) -> CheckResult:
    return CheckResult(
        id=item.id,
        name=item.title,
        status=status,  # type: ignore[arg-type]  # one of the Status literals, chosen by callers
        score=round(score, 2),
        max_score=item.points,
        message=message,
        hint="" if status == "passed" else item.hint,
    )


def _correct_message(item: QuizItem) -> str:
    # Confirming *why* it is right reinforces the idea; the general explanation says that.
    return messages.quiz_correct(item.explanation)


def _score_single(item: QuizItem, letter: str) -> _Scored:
    if letter == item.answer:
        return _Scored(_check(item, "passed", item.points, _correct_message(item)), correct=True)
    why = item.explanations.get(letter) or item.explanation
    message = messages.quiz_chose(letter, _shorten(item.choices[letter]), why)
    return _Scored(_check(item, "failed", 0.0, message))


def _score_multiple(item: QuizItem, letters: tuple[str, ...]) -> _Scored:
    right = set(item.answer)
    picked = set(letters)
    if picked == right:
        return _Scored(_check(item, "passed", item.points, _correct_message(item)), correct=True)
    wrong_picked = sorted(picked - right)
    missed = sorted(right - picked)
    share = item.points / len(right)
    score = max(0.0, share * (len(picked & right) - len(wrong_picked)))
    parts: list[str] = []
    for letter in wrong_picked:
        why = item.explanations.get(letter) or item.explanation
        parts.append(messages.quiz_not_true(letter, why))
    for letter in missed:
        # Explain why the missed statement holds but do not name its letter: the explanation
        # teaches the idea, a letter alone would only fix this one file.
        why = item.explanations.get(letter) or item.explanation
        parts.append(messages.quiz_left_out(why))
    message = messages.quiz_partly(
        _format_number(round(score, 2)), _format_number(item.points), parts, partly=score > 0
    )
    return _Scored(_check(item, "failed", score, message))


def _score_numeric(item: QuizItem, number: int | float) -> _Scored:
    if abs(number - item.answer) <= item.tolerance + 1e-9 * max(1.0, abs(item.answer)):
        return _Scored(_check(item, "passed", item.points, _correct_message(item)), correct=True)
    known = next(
        (w for w in item.wrong_answers if abs(number - w.value) <= item.tolerance + 1e-9 * max(1.0, abs(w.value))),
        None,
    )
    why = known.explanation if known else item.explanation
    return _Scored(_check(item, "failed", 0.0, messages.quiz_answered(_format_number(number), why)))


def _score_text(item: QuizItem, text: str | None) -> _Scored:
    """Advisory only: list which rubric ideas the answer mentions and flag it for a person."""
    if text is None:
        return _Scored(_check(item, "skipped", 0.0, _(messages.QUIZ_TEXT_EMPTY)))
    found = [term.name for term in item.rubric if _mentions(text, term)]
    missing = [term.name for term in item.rubric if term.name not in found]
    message = messages.quiz_text_reviewed(found, missing, len(item.rubric))
    flag = {
        "id": item.id,
        "title": item.title,
        "prompt": item.prompt,
        "answer": text,
        "rubric_found": found,
        "rubric_missing": missing,
    }
    return _Scored(_check(item, "skipped", 0.0, message), flag=flag)


def _normalise_words(text: str) -> str:
    """Lower-case words separated by single spaces; "non-linear" and "nonlinear" become equal."""
    text = text.lower().replace("-", "")
    return " ".join(re.findall(r"[a-z0-9]+", text))


# Chinese, Japanese and Korean script: no spaces between words, so a spelling in it is found
# as a substring (神经元输出 in "每个神经元输出的值"), not as whole words.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _normalise_cjk(text: str) -> str:
    """Full-width forms folded ("（" -> "(", "０" -> "0"), lower case, no whitespace at all."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).lower())


def _mentions(text: str, term: RubricTerm) -> bool:
    """Whether any spelling of the term occurs: as whole words (a plural s/es allowed), or as
    a substring for a spelling written in Chinese."""
    haystack = _normalise_words(text)
    for spelling in term.spellings:
        if _CJK.search(spelling):
            if _normalise_cjk(spelling) in _normalise_cjk(text):
                return True
            continue
        needle = _normalise_words(spelling)
        if needle and re.search(rf"(?<![a-z0-9]){re.escape(needle)}(?:s|es)?(?![a-z0-9])", haystack):
            return True
    return False


def _format_number(number: float) -> str:
    """50240.0 -> "50,240"; 0.3 -> "0.3": how a learner would write it."""
    if float(number).is_integer():
        return f"{int(number):,}"
    return f"{number:g}"


def _shorten(text: str, width: int = 80) -> str:
    return textwrap.shorten(text, width=width, placeholder=" ...")


# --------------------------------------------------------------------------------------------
# The stub a learner starts from
# --------------------------------------------------------------------------------------------


def render_answers_stub(spec: ExerciseSpec) -> str:
    """The answers file ``grade init`` gives a learner: every question as comments, answers empty.

    The committed ``exercises/<id>/<id>_answers.toml`` is this text (a test keeps them equal), so the
    questions live in one place, ``exercise.toml``, and the stub never drifts from them. After
    editing a quiz, rewrite its stub with ``python -m grader.quiz``.
    """
    items = validate_quiz_spec(spec)
    total = sum(item.points for item in items)
    rule = "# " + "-" * 94
    lines = [
        f"# {spec.title}",
        f"# {spec.summary}" if spec.summary else "#",
        "#",
        f"# {messages.stub_grade_with(spec.id)}",
        "# "
        + messages.stub_questions(
            sum(i.scored for i in items),
            _format_number(total),
            _format_number(spec.pass_mark),
            sum(not i.scored for i in items),
        ),
        "#",
        f"# {messages.stub_how_to_answer()}",
        *(f"#   {_pad(_(label), 20)}{_(example)}" for label, example in messages.QUIZ_ANSWER_FORMS),
        f"# {messages.stub_empty_scores_zero()}",
        "",
    ]
    for number, item in enumerate(items, start=1):
        how = messages.stub_how(item.type, _format_number(item.points) if item.scored else None)
        lines += [rule, f"# {number}. {item.title}  ({how})", "#"]
        lines += _comment_block(item.prompt)
        if item.choices:
            lines.append("#")
            for letter, choice in item.choices.items():
                lines += _comment_block(choice, first=f"#   {letter}) ", rest="#      ")
        if item.type == "numeric":
            lines += ["#", f"# {messages.stub_number_alone()}"]
        if item.type == "text":
            lines += ["#", f"# {messages.stub_own_words()}"]
        lines.append(f"{item.id} = []" if item.type == "multiple" else f'{item.id} = ""')
        lines.append("")
    return "\n".join(lines)


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` columns as a terminal shows it (a Chinese character takes two)."""
    columns = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    return text + " " * max(1, width - columns)


def _comment_block(text: str, *, first: str = "# ", rest: str = "# ") -> list[str]:
    """Wrap text into comment lines, keeping the author's paragraph breaks."""
    out: list[str] = []
    for paragraph in text.split("\n\n"):
        if out:
            out.append("#")
        wrapped = textwrap.wrap(" ".join(paragraph.split()), width=96, initial_indent=first, subsequent_indent=rest)
        out += [line.rstrip() for line in wrapped]
        first = rest
    return out


def main(argv: list[str] | None = None) -> int:
    """Rewrite the answers stub of every quiz (or of the ids given) from its exercise.toml."""
    import sys

    from grader.spec import load_exercise

    wanted = sys.argv[1:] if argv is None else argv
    specs = [load_exercise(i) for i in wanted] if wanted else [s for s in list_exercises() if s.kind == "quiz"]
    for spec in specs:
        spec.stub_path.write_text(render_answers_stub(spec), encoding="utf-8")
        print(f"wrote {spec.stub_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
