"""The format of ``exercise.toml``, as pydantic models: every key, its type, its default.

``grader.spec`` validates each file against these models when it loads it, so a typo
(``treshold``, ``requierd``, ``judge = "optimiser"``) stops the command with a message naming the
file, the key path, what was found and what is allowed, instead of silently changing grades.

Two kinds of exercise share the top-level keys (``ExerciseBase``):

* ``kind = "model"`` (the default, ``ModelExercise``): a submission is trained in the sandbox and
  scored by ``[[checks]]``; each check names a judge, and its ``[checks.params]`` table is
  validated against the parameters model that judge declares (``grader.judges.JUDGE_PARAMS``);
* ``kind = "quiz"`` (``QuizExercise``): ``[[items]]`` answered in a TOML file (``grader.quiz``
  checks what the types cannot: that an answer is one of the choices, and so on).

Values are taken as TOML gives them (strict mode): ``points = "5"`` is an error, not 5.
``exercise_schema()`` is the JSON Schema of the format, published as ``docs/exercise.schema.json``
(``grade spec schema`` writes it) so that editors can complete and check the files.
"""

from __future__ import annotations

import difflib
import functools
import re
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    create_model,
    model_validator,
)

# A Python name: a function, a parameter, a variable.
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
# Ids of exercises, checks and quiz items: they become file names, CSV columns and CLI words.
LowerId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
NonEmpty = Annotated[str, Field(min_length=1)]

STYLE_NAMES = ("module", "certificate", "script", "saved_model")  # grader.adapters.GRADED_AS


class Table(BaseModel):
    """One TOML table: unknown keys are refused, values are taken as written."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# --- text in other languages -------------------------------------------------------------------
# A spec is written in English; a ``zh`` table beside the English text gives its Simplified
# Chinese (``grade --lang zh``). Only what a learner reads is translated: ids, points, answers,
# thresholds and params stay in the English table. Text a table does not translate stays English.


class ExerciseText(Table):
    """``[zh]``: the exercise's title and summary."""

    title: str | None = None
    summary: str | None = None


class CheckText(Table):
    """``[checks.zh]``: the check's name and hint."""

    name: str | None = None
    hint: str | None = None


class QuizItemText(Table):
    """``[items.zh]``: the item's question and explanations."""

    title: str | None = None
    prompt: str | None = None
    explanation: str | None = None
    hint: str | None = None
    choices: dict[str, str] = Field(default={}, description="Letter -> choice text.")
    explanations: dict[str, str] = Field(default={}, description="Letter -> why that choice is wrong (or right).")
    wrong_answers: list[str] = Field(
        default=[], description="The explanations of [[items.wrong_answers]], in the same order."
    )
    rubric: list[str | list[str]] = Field(
        default=[],
        description="A text item's key ideas in this language, in the order of its 'rubric': each a name, or "
        "[name, synonym, ...] (the English spellings still count too).",
    )


# --- model exercises ---------------------------------------------------------------------------


class FunctionTable(Table):
    """``[functions.<name>]``: a function every module-style submission defines."""

    parameters: list[Identifier] = Field(default=[], description="Its parameter names, in order.")


class CheckTable(Table):
    """One ``[[checks]]`` table. ``params`` is typed per judge (see ``check_table_models``)."""

    id: LowerId = Field(description="The check's id: a CSV column and a key in the JSON result.")
    name: NonEmpty = Field(description="What the learner reads as the check's name.")
    judge: str = Field(description="Which judge decides the check: a name in grader.judges.JUDGES.")
    points: float = Field(ge=0, description="Points for a full pass.")
    required: bool = Field(default=False, description="The exercise is not passed unless this check passes.")
    hint: str = Field(default="", description="Replaces the judge's own hint when the check fails.")
    zh: CheckText | None = Field(default=None, description="The name and hint in Simplified Chinese.")
    visibility: Literal["visible", "hidden", "after_due_date", "after_published"] | None = Field(
        default=None,
        description="Gradescope: when learners see this check (default: the assignment's). A hidden check "
        "still counts in the total, which stays visible.",
    )


class StyleTable(Table):
    """``[styles.<style>]``: how a submission of another style than a module is graded."""

    model_variable: Identifier | None = Field(
        default=None, description="Scripts and notebooks: the variable holding the model to grade (default model)."
    )
    function: Identifier | None = Field(
        default=None, description="Certificate style: the function that returns the model (default solution_model)."
    )
    not_counted: list[str] | None = Field(
        default=None, description="Check ids that cannot apply to this style: skipped and left out of the total."
    )
    pass_mark: float | None = Field(
        default=None, gt=0, description="Points needed to pass in this style (default: the exercise's, scaled)."
    )
    names: dict[str, NonEmpty] = Field(default={}, description="Check id -> the check's name for this style.")


class StylesTable(Table):
    """``[styles]``: one optional table per way of handing in a solution."""

    module: StyleTable | None = None
    certificate: StyleTable | None = None
    script: StyleTable | None = None
    saved_model: StyleTable | None = None

    def written(self) -> dict[str, StyleTable]:
        """The style tables the file has, by style name."""
        return {name: table for name in STYLE_NAMES if (table := getattr(self, name)) is not None}


class ExerciseBase(Table):
    """The keys every exercise has."""

    id: LowerId = Field(description="The exercise's id; must equal its folder's name.")
    title: NonEmpty
    summary: str = ""
    stub: Annotated[str, Field(pattern=r"^[^/\\]+$")] = Field(
        description="File name of the stub (in the exercise's folder) and of the reference solution."
    )
    pass_mark: float = Field(gt=0, description="Points needed to pass.")
    zh: ExerciseText | None = Field(default=None, description="The title and summary in Simplified Chinese.")


class ModelExercise(ExerciseBase):
    """``kind = "model"``: a submission trained in the sandbox and scored by ``[[checks]]``."""

    kind: Literal["model"] = "model"
    dataset: NonEmpty = Field(description="The dataset the exercise trains and tests on (grader.datasets).")
    train_data: Literal["grader", "load_data"] = Field(
        default="grader",
        description='"grader": train() receives the training split; "load_data": the learner\'s load_data() provides it.',
    )
    seed: int = Field(default=42, description="Seed for Python, NumPy and TensorFlow in the sandbox.")
    timeout_s: float = Field(default=900, gt=0, description="Time limit of one grading run, in seconds.")
    functions: dict[Identifier, FunctionTable] = Field(default={}, description="The functions a module defines.")
    checks: list[CheckTable] = Field(min_length=1)
    styles: StylesTable = Field(default_factory=StylesTable)

    @model_validator(mode="after")
    def _consistent(self) -> ModelExercise:
        ids = [check.id for check in self.checks]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"two [[checks]] have the id '{twice[0]}'; each check needs an id of its own")
        total = sum(check.points for check in self.checks)
        if self.pass_mark > total:
            raise ValueError(f"pass_mark = {self.pass_mark:g} is more than the {total:g} points the checks carry")
        if self.train_data == "load_data" and "load_data" not in self.functions:
            raise ValueError('train_data = "load_data" needs a [functions.load_data] table')
        for style, table in self.styles.written().items():
            for check_id in [*(table.not_counted or []), *table.names]:
                if check_id not in ids:
                    close = _did_you_mean(check_id, ids)
                    raise ValueError(f"[styles.{style}] names a check '{check_id}' this exercise does not have{close}")
        return self


# --- quizzes -----------------------------------------------------------------------------------


class QuizItemBase(Table):
    """The keys of every ``[[items]]`` table."""

    id: str = Field(description="The item's id: the key of its answer in the learner's answers file.")
    title: str = Field(description="Short; shown as the check's name.")
    prompt: str = Field(description="The question.")
    explanation: str = Field(default="", description="Why the right answer is right; shown after grading.")
    hint: str = ""
    zh: QuizItemText | None = Field(default=None, description="The item's text in Simplified Chinese.")


class ChoiceItem(QuizItemBase):
    points: float = Field(ge=0)
    choices: dict[str, str] = Field(description="Letter -> choice text.")
    explanations: dict[str, str] = Field(default={}, description="Letter -> why that choice is wrong (or right).")


class SingleChoiceItem(ChoiceItem):
    """One letter out of ``[items.choices]``."""

    type: Literal["single"]
    answer: str


class MultipleChoiceItem(ChoiceItem):
    """Several letters; partial credit per letter."""

    type: Literal["multiple"]
    answer: list[str]


class WrongAnswer(Table):
    """``[[items.wrong_answers]]``: a typical wrong number and what the learner did."""

    value: float
    explanation: str


class NumericItem(QuizItemBase):
    """A number, right within ``tolerance``."""

    type: Literal["numeric"]
    points: float = Field(ge=0)
    answer: float
    tolerance: float = Field(default=0, description="Absolute tolerance; 0: exactly.")
    wrong_answers: list[WrongAnswer] = []


class TextItem(QuizItemBase):
    """Free text, advisory only: 0 points, flagged for an instructor."""

    type: Literal["text"]
    points: float = 0
    rubric: list[str | list[str]] = Field(description="Terms looked for; an entry may be [term, synonym, ...].")


QuizItem = Annotated[SingleChoiceItem | MultipleChoiceItem | NumericItem | TextItem, Field(discriminator="type")]


class QuizExercise(ExerciseBase):
    """``kind = "quiz"``: questions in ``[[items]]``, answered in a TOML file."""

    kind: Literal["quiz"]
    items: list[QuizItem] = Field(min_length=1)


TRANSLATED_LANGUAGES = ("zh",)
"""The languages a spec may carry text in besides English (each a ``zh``-style table)."""


SpecDocument = TypeVar("SpecDocument", bound=ExerciseBase)


def localised(document: SpecDocument, language: str) -> SpecDocument:
    """``document`` with its learner-facing text in ``language`` where the file gives it (the
    ``zh`` tables); the file's English text wherever it does not."""
    if language not in TRANSLATED_LANGUAGES:
        return document
    update: dict[str, Any] = _given(getattr(document, language), ("title", "summary"))
    if isinstance(document, QuizExercise):
        update["items"] = [_localised_item(item, language) for item in document.items]
    elif isinstance(document, ModelExercise):
        update["checks"] = [
            check.model_copy(update=_given(getattr(check, language), ("name", "hint"))) for check in document.checks
        ]
    return document.model_copy(update=update)


def translation_problems(document: ExerciseBase, source: str = "") -> list[str]:
    """What a quiz's ``[items.zh]`` tables lack or say beyond their items. Checked after the quiz
    itself (grader.quiz), whose problems come first; ``source``, the file's text, gives lines.

    A translation is all or nothing per item: a learner who reads the quiz in Chinese must not
    meet an English choice or explanation in the middle of it. So an item with a ``zh`` table
    translates its title, prompt and every choice, and every text the English item has (the
    general explanation, the hint, each ``[items.explanations]`` letter, each wrong answer); it
    explains no letter the English does not explain (the English table says which letters have an
    explanation, the right ones included), and no letter the item lacks."""
    problems = []
    for index, item in enumerate(getattr(document, "items", [])):
        for language in TRANSLATED_LANGUAGES:
            text: QuizItemText | None = getattr(item, language)
            if text is None:
                continue

            def problem(
                where: tuple[str, ...], what: str, language: str = language, index: int = index, item: Any = item
            ) -> None:
                table = ".".join(("items", language, *where[:1]))
                line = _table_line(source, "items", index, table) or _table_line(
                    source, "items", index, f"items.{language}"
                )
                at = f" (line {line})" if line else ""
                problems.append(f"[{table}] of '{item.id}'{at} {what}")

            letters = getattr(item, "choices", {})
            stray = sorted((set(text.choices) | set(text.explanations)) - set(letters))
            if stray:
                problem(("choices",), f"names a choice '{stray[0]}' the item does not have")
            for key in ("title", "prompt", "explanation", "hint"):
                if getattr(item, key) and not getattr(text, key):
                    problem((), f"has no '{key}'; the English item has one, so the translation needs it too")
            untranslated = [letter for letter in letters if letter not in text.choices]
            if untranslated:
                problem(("choices",), f"does not translate choice '{untranslated[0]}'; translate every choice")
            explained = getattr(item, "explanations", {})
            missing = [letter for letter in explained if letter in letters and letter not in text.explanations]
            if missing:
                problem(("explanations",), f"does not translate the explanation of choice '{missing[0]}'")
            extra = sorted(set(text.explanations) - set(explained) - set(stray))
            if extra:
                problem(
                    ("explanations",),
                    f"explains choice '{extra[0]}', which [items.explanations] does not; "
                    "explain it in English too, or remove it",
                )
            listed = len(getattr(item, "wrong_answers", []))
            if len(text.wrong_answers) != listed:
                problem(
                    ("wrong_answers",),
                    f"explains {len(text.wrong_answers)} wrong answers; the item lists {listed}",
                )
            terms = len(getattr(item, "rubric", []))
            if text.rubric and len(text.rubric) != terms:
                problem(("rubric",), f"lists {len(text.rubric)} rubric terms; the item's rubric has {terms}")
    return problems


def _spellings(entry: str | list[str]) -> list[str]:
    """A rubric entry's spellings: ``"softmax"`` or ``["nonlinear", "not linear"]``."""
    return [entry] if isinstance(entry, str) else list(entry)


def _given(text: Table | None, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: getattr(text, key) for key in keys if text is not None and getattr(text, key) is not None}


def _localised_item(item: QuizItemBase, language: str) -> QuizItemBase:
    text: QuizItemText | None = getattr(item, language)
    if text is None:
        return item
    update = _given(text, ("title", "prompt", "explanation", "hint"))
    if isinstance(item, ChoiceItem):
        # Only the letters the item has: a stray one is reported by translation_problems.
        update["choices"] = {letter: text.choices.get(letter, choice) for letter, choice in item.choices.items()}
        update["explanations"] = {
            letter: text.explanations.get(letter, explanation) for letter, explanation in item.explanations.items()
        }
    if isinstance(item, NumericItem):
        update["wrong_answers"] = [
            wrong.model_copy(update={"explanation": text.wrong_answers[i]}) if i < len(text.wrong_answers) else wrong
            for i, wrong in enumerate(item.wrong_answers)
        ]
    if isinstance(item, TextItem) and len(text.rubric) == len(item.rubric):
        # Each key idea is named in the learner's language; its English spellings still count
        # (a Chinese answer often writes ReLU, softmax or "nonlinear" as the book does).
        update["rubric"] = [
            [*_spellings(translated), *_spellings(english)]
            for translated, english in zip(text.rubric, item.rubric, strict=True)
        ]
    return item.model_copy(update=update)


# --- the per-judge check tables and the whole document -----------------------------------------


@functools.cache
def check_table_models() -> dict[str, type[CheckTable]]:
    """One ``[[checks]]`` model per judge, whose ``params`` is that judge's parameters model."""
    from grader.judges import JUDGE_PARAMS  # the judges import grader.spec; import them late

    models: dict[str, type[CheckTable]] = {}
    for judge, params_model in JUDGE_PARAMS.items():
        try:
            default: Any = Field(default_factory=params_model)
            params_model()
        except ValidationError:  # the judge has parameters without defaults: the table is required
            default = ...
        models[judge] = create_model(
            f"{''.join(part.title() for part in judge.split('_'))}Check",
            __base__=CheckTable,
            __doc__=f'A [[checks]] table with judge = "{judge}".',
            judge=(Literal[judge], ...),
            params=(params_model, default),
        )
    return models


def _judge_of(value: Any) -> str | None:
    if isinstance(value, Mapping):
        judge = value.get("judge")
        return str(judge) if judge is not None else None
    return getattr(value, "judge", None)


def _kind_of(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("kind", "model"))
    return str(getattr(value, "kind", "model"))


@functools.cache
def exercise_document() -> TypeAdapter[Any]:
    """The validator of a whole exercise.toml (a model exercise or a quiz, by ``kind``)."""
    checks = [Annotated[model, Tag(judge)] for judge, model in check_table_models().items()]
    # Union[...] of a computed tuple: the `X | Y` spelling cannot take one.
    any_check = Annotated[Union.__getitem__(tuple(checks)), Discriminator(_judge_of)]  # type: ignore[valid-type]
    model_exercise = create_model(
        "ModelExercise",
        __base__=ModelExercise,
        __doc__=ModelExercise.__doc__,
        checks=(list[any_check], Field(min_length=1)),  # type: ignore[valid-type]
    )
    document = Annotated[
        Union[Annotated[model_exercise, Tag("model")], Annotated[QuizExercise, Tag("quiz")]],  # noqa: UP007
        Discriminator(_kind_of),
    ]
    return TypeAdapter(document)


def exercise_schema() -> dict[str, Any]:
    """The JSON Schema of exercise.toml, generated from the models."""
    schema = exercise_document().json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "exercise.toml",
        "description": 'An exercise of the grader: a model exercise (kind = "model", the default) or a '
        'quiz (kind = "quiz"). Generated from grader/spec_models.py by `grade spec schema`; do not edit.',
        **schema,
    }


# --- errors that say where, what and what instead -----------------------------------------------


def describe_validation_error(error: ValidationError, document: Mapping[str, Any], source: str = "") -> list[str]:
    """One line per problem: ``key.path (line N): what was found; what is allowed``. ``source``,
    the file's text, gives the line numbers where a key can be found in it."""
    return [_describe(detail, document, source) for detail in error.errors(include_url=False)]


def _describe(detail: Any, document: Mapping[str, Any], source: str = "") -> str:
    loc = tuple(detail["loc"])
    kind = detail["type"]
    path, where, owner = _walk(loc, document)
    key_path = path
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key_path = (*path, {"checks": "judge", "items": "type"}.get(str(path[-2]) if len(path) >= 2 else "", "kind"))
    line = _line_of(key_path, source) if kind != "missing" else None
    where = _with_line(where, line)
    ctx = detail.get("ctx") or {}
    found = detail.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_keys(loc[:-1])
        return f"{where}: unknown key '{key}'{_did_you_mean(key, allowed)}. Allowed here: {', '.join(allowed) or 'nothing'}."
    if kind == "missing":
        return f"{where}: missing; this key is required here."
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = {"checks": "judge", "items": "type"}.get(str(path[-2]) if len(path) >= 2 else "", "kind")
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        tag = ctx.get("tag") if kind == "union_tag_invalid" else None
        label = _with_line(_label(_dotted((*path, key)), owner), line)
        if tag is None:
            return f"{label}: missing; write one of {', '.join(allowed)}."
        what = "a judge" if key == "judge" else f"an allowed {key}"
        return f"{label}: found {tag!r}, which is not {what}{_did_you_mean(str(tag), allowed)}. Allowed: {', '.join(allowed)}."
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return f"{where}: found {found!r}{_did_you_mean(str(found), allowed)}. Allowed: {', '.join(allowed)}."
    if kind == "value_error":
        return f"{where}: {ctx.get('error', detail['msg'])!s}."
    message = detail["msg"]
    message = message[:1].lower() + message[1:]
    return f"{where}: found {_shown(found)}; {message}."


def _walk(loc: tuple[Any, ...], document: Any) -> tuple[tuple[Any, ...], str, Any]:
    """The key path in the file (pydantic's union tags dropped); it as text, with the id of the
    check or quiz item it runs through; and that check or item."""
    path: list[Any] = []
    node: Any = document
    owner: Any = None  # the [[checks]] or [[items]] table the path runs through
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            if path and path[-1] in ("checks", "items") and isinstance(node, Mapping):
                owner = node
        elif not last:
            continue  # a union tag that pydantic adds to the location, not a key of the file
        path.append(part)
    return tuple(path), _label(_dotted(tuple(path)), owner), owner


def _with_line(label: str, line: int | None) -> str:
    if line is None:
        return label
    return f"{label[:-1]}, line {line})" if label.endswith(")") else f"{label} (line {line})"


def _line_of(path: tuple[Any, ...], source: str) -> int | None:
    """The line of ``source`` that writes the last key of ``path`` (``key = ...`` or a table
    header ending in it), searched in the ``[[array]]`` element the path runs through; None
    when it cannot be told."""
    if not source or not any(isinstance(part, str) for part in path):
        return None
    lines = source.splitlines()
    start, end = 0, len(lines)
    for index, part in enumerate(path[:-1]):
        if isinstance(part, int) and index > 0 and isinstance(path[index - 1], str):
            header = re.compile(rf"^\s*\[\[\s*{re.escape(str(path[index - 1]))}\s*\]\]")
            starts = [number for number, text in enumerate(lines) if header.match(text)]
            if part >= len(starts):
                return None
            start = starts[part]
            following = [number for number in starts if number > start]
            end = following[0] if following else len(lines)
            break
    # Within that, the deepest [table] the path runs through (``[files.test_images]`` for
    # files.test_images.md5), up to the next table header: each table has its own ``md5 =``.
    tables = [part for part in path[:-1] if isinstance(part, str)]
    for depth in range(len(tables), 0, -1):
        header = re.compile(rf"^\s*\[(?!\[)\s*{re.escape('.'.join(tables[:depth]))}\s*\]")
        found = next((number for number in range(start, end) if header.match(lines[number])), None)
        if found is not None:
            start = found
            end = next((n for n in range(found + 1, end) if re.match(r"^\s*\[", lines[n])), end)
            break
    # The key itself, else the nearest enclosing key written on a line of its own (a value inside
    # an inline table or array, ``exactly = [{ layer = "Dens" }]``, is on that key's line).
    for part in reversed(path):
        if not isinstance(part, str):
            continue
        key = re.escape(part)
        pattern = re.compile(rf"^\s*(?:{key}\s*=|\[[^\]]*\b{key}\s*\])")
        for number in range(start, end):
            if pattern.match(lines[number]):
                return number + 1
    return None


def _table_line(source: str, array: str, index: int, table: str) -> int | None:
    """The line of the ``[table]`` header inside the ``index``-th ``[[array]]`` element, or None."""
    lines = source.splitlines()
    element = re.compile(rf"^\s*\[\[\s*{re.escape(array)}\s*\]\]")
    header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]")
    seen = -1
    for number, text in enumerate(lines):
        if element.match(text):
            seen += 1
        elif seen == index and header.match(text):
            return number + 1
        elif seen > index:
            break
    return None


def _dotted(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _label(dotted: str, owner: Any) -> str:
    """The key path, with the id of the check or quiz item it runs through."""
    if isinstance(owner, Mapping) and isinstance(owner.get("id"), str):
        return f'{dotted} (id = "{owner["id"]}")'
    return dotted


def _shown(value: Any) -> str:
    text = repr(value)
    kind = type(value).__name__
    names = {"str": "a string", "int": "an integer", "float": "a number", "bool": "a boolean",
             "list": "an array", "dict": "a table"}  # fmt: skip
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} ({names.get(kind, kind)})"


def _did_you_mean(word: str, allowed: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the model at ``loc`` (pydantic's location, union tags included) accepts."""
    annotation: Any = exercise_document()._type  # noqa: SLF001  the adapter's own type
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    model = _model_of(annotation)
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _strip(annotation: Any) -> Any:
    """Annotated[...] and Optional[...] around a type, removed."""
    while True:
        if typing.get_origin(annotation) is Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if typing.get_origin(annotation) in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def _step(annotation: Any, part: Any) -> Any:
    annotation = _strip(annotation)
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        for option in typing.get_args(annotation):
            tags = [m.tag for m in getattr(option, "__metadata__", ()) if isinstance(m, Tag)]
            if part in tags:
                return option
            model = _model_of(option)
            literal = model.model_fields.get("type") or model.model_fields.get("judge") if model else None
            if literal is not None and part in typing.get_args(literal.annotation):
                return option
        return None
    if origin is list and isinstance(part, int):
        return typing.get_args(annotation)[0]
    if origin is dict:
        return typing.get_args(annotation)[1]
    model = _model_of(annotation)
    if model is not None and isinstance(part, str) and part in model.model_fields:
        return model.model_fields[part].annotation
    return None


def _model_of(annotation: Any) -> type[BaseModel] | None:
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None
