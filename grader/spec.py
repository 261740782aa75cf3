"""Exercise specs: ``exercises/<id>/exercise.toml``, validated and read into dataclasses.

An exercise is data: which dataset, which functions a submission defines, which checks (judges)
score it with how many points, and the pass mark. Adding an exercise needs no change here.

    id = "fashion_mnist"
    title = "Fashion-MNIST classifier"
    summary = "The chapter's case study: Flatten -> Dense(64, relu) -> Dense(10, softmax)"
    kind = "model"              # "model" (sandboxed training) or "quiz" (answers file)
    stub = "fashion_mnist.py"   # file name of the stub and of the reference solution
    dataset = "fashion_mnist"
    train_data = "grader"       # "grader": the grader passes the training split to train();
                                # "load_data": the learner's load_data() provides it
    seed = 42
    timeout_s = 900
    pass_mark = 80              # points needed to pass

    [functions.build_model]
    parameters = []
    [functions.train]
    parameters = ["model", "train_images", "train_labels"]

    [[checks]]
    id = "output_layer"
    name = "Output layer: 10 units, softmax"
    judge = "output_layer"      # a name in grader.judges.JUDGES
    points = 10
    required = false            # optional: true means no pass unless this check passes
    hint = "..."                # optional: replaces the judge's default hint
    [checks.params]             # the judge's parameters (grader.judges.JUDGE_PARAMS)
    units = 10

Every key is validated when the file is loaded (``grader.spec_models`` holds the format as
pydantic models; ``docs/exercise.schema.json`` is its JSON Schema): an unknown key, a wrong type
or an unknown judge is a ``SpecError`` naming the file, the key path, what was found and what is
allowed, so a typo cannot silently change grades.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from grader.errors import SpecError, UsageError
from grader.messages import current_language
from grader.spec_models import (
    QuizItem,
    StyleTable,
    describe_validation_error,
    exercise_document,
    localised,
    translation_problems,
)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    parameters: tuple[str, ...]


@dataclass(frozen=True)
class CheckSpec:
    id: str
    name: str
    judge: str
    points: float
    hint: str = ""
    # The [checks.params] table as written (validated against the judge's parameters model; the
    # judge fills in its declared defaults).
    params: dict[str, Any] = field(default_factory=dict)
    required: bool = False  # no pass unless this check passes


@dataclass(frozen=True)
class ExerciseSpec:
    id: str
    title: str
    summary: str
    kind: str
    stub: str
    directory: Path
    dataset: str | None
    train_data: str
    seed: int
    timeout_s: float
    pass_mark: float
    functions: tuple[FunctionSpec, ...]
    checks: tuple[CheckSpec, ...]
    styles: dict[str, StyleTable] = field(default_factory=dict)  # [styles.<style>] tables written
    items: tuple[QuizItem, ...] = ()  # a quiz's [[items]]
    # The file as parsed: only to fingerprint the spec (grader.batch.cache); read the fields above.
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def max_score(self) -> float:
        if self.kind == "quiz":  # a quiz scores its [[items]]; free-text items carry no points
            return float(sum(item.points for item in self.items))
        return float(sum(check.points for check in self.checks))

    @property
    def stub_path(self) -> Path:
        return self.directory / self.stub

    @property
    def solution_path(self) -> Path:
        return solutions_root() / self.id / self.stub

    def function(self, name: str) -> FunctionSpec | None:
        return next((f for f in self.functions if f.name == name), None)

    @property
    def model_dataset(self) -> str:
        """The dataset of a model exercise (a quiz has none; the spec models require one for
        every model exercise, so this fails only when a quiz reaches model grading)."""
        if self.dataset is None:
            raise ValueError(f"exercise {self.id!r} is a {self.kind} and has no dataset")
        return self.dataset


def _bundled(name: str) -> Path:
    """A top-level folder of the project: from the source tree, or inside an installed wheel."""
    package_dir = Path(__file__).resolve().parent
    source_tree = package_dir.parent / name
    if source_tree.is_dir():
        return source_tree
    return package_dir / "_bundled" / name


def course_dir() -> Path | None:
    """A course folder holding ``exercises/`` and ``solutions/`` (``--course DIR`` or
    ``GRADER_COURSE_DIR``), or None: then the grader's own exercises, and the reference
    solutions of its source tree (the wheel learners install carries none)."""
    value = os.environ.get("GRADER_COURSE_DIR")
    return Path(value).expanduser() if value else None


def exercises_root() -> Path:
    course = course_dir()
    default = course / "exercises" if course is not None else _bundled("exercises")
    return Path(os.environ.get("GRADER_EXERCISES_DIR") or default)


def solutions_root() -> Path:
    course = course_dir()
    default = course / "solutions" if course is not None else _bundled("solutions")
    return Path(os.environ.get("GRADER_SOLUTIONS_DIR") or default)


def templates_root() -> Path:
    return _bundled("templates")


def list_exercises() -> list[ExerciseSpec]:
    root = exercises_root()
    specs = [load_spec_file(p) for p in sorted(root.glob("*/exercise.toml"))]
    return sorted(specs, key=lambda s: s.id)


def scan_exercises() -> tuple[list[ExerciseSpec], list[SpecError]]:
    """Every exercise whose exercise.toml is valid, and the error of each one that is not: one
    broken file must not hide the exercises that still grade (``grade list``)."""
    specs: list[ExerciseSpec] = []
    problems: list[SpecError] = []
    for path in sorted(exercises_root().glob("*/exercise.toml")):
        try:
            specs.append(load_spec_file(path))
        except SpecError as exc:
            problems.append(exc)
    return sorted(specs, key=lambda s: s.id), problems


def load_exercise(exercise_id: str) -> ExerciseSpec:
    path = exercises_root() / exercise_id / "exercise.toml"
    if not path.is_file():
        from grader.messages import interface as msg

        known = msg.list_separator().join(s.id for s in list_exercises())
        raise UsageError(msg.unknown_exercise(exercise_id, known))
    return load_spec_file(path)


def load_spec_file(path: Path) -> ExerciseSpec:
    """Read and validate one exercise.toml; every problem is a ``SpecError`` saying where."""
    try:
        source = path.read_text(encoding="utf-8")
        document = tomllib.loads(source)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"Cannot read exercise spec {path}: {exc}") from None
    return spec_from_document(document, path, source)


def spec_from_document(document: dict[str, Any], path: Path, source: str = "") -> ExerciseSpec:
    """The spec in ``document`` (a parsed exercise.toml that lives at ``path``, whose text
    ``source`` gives line numbers to the errors), validated."""
    try:
        model = exercise_document().validate_python(document)
    except ValidationError as exc:
        problems = describe_validation_error(exc, document, source)
        noun = "problem" if len(problems) == 1 else "problems"
        raise SpecError(
            f"Exercise spec {path} has {len(problems)} {noun}:\n" + "\n".join(f"  {line}" for line in problems)
        ) from None
    if model.id != path.parent.name:
        raise SpecError(f"Exercise spec {path}: id = '{model.id}' but the file lives in folder '{path.parent.name}'.")
    # Titles, check names, hints and quiz text in the language of the command (`[zh]` tables).
    written, model = model, localised(model, current_language())
    if model.kind == "quiz":
        from grader.quiz import validate_quiz_spec  # grader.quiz imports this module

        quiz = ExerciseSpec(
            id=model.id, title=model.title, summary=model.summary, kind="quiz", stub=model.stub,
            directory=path.parent, dataset=None, train_data="grader", seed=42, timeout_s=900.0,
            pass_mark=model.pass_mark, functions=(), checks=(), items=tuple(model.items), raw=document,
        )  # fmt: skip
        validate_quiz_spec(quiz)  # what types cannot say: answers among the choices, and so on
        translated = translation_problems(written, source)
        if translated:
            noun = "problem" if len(translated) == 1 else "problems"
            raise SpecError(
                f"Exercise spec {path} has {len(translated)} translation {noun}:\n"
                + "\n".join(f"  {line}." for line in translated)
            )
        return quiz
    checks = tuple(
        CheckSpec(
            id=check.id,
            name=check.name,
            judge=check.judge,
            points=check.points,
            hint=check.hint,
            params=check.params.model_dump(mode="json", exclude_unset=True),
            required=check.required,
        )
        for check in model.checks
    )
    return ExerciseSpec(
        id=model.id,
        title=model.title,
        summary=model.summary,
        kind="model",
        stub=model.stub,
        directory=path.parent,
        dataset=model.dataset,
        train_data=model.train_data,
        seed=model.seed,
        timeout_s=model.timeout_s,
        pass_mark=model.pass_mark,
        functions=tuple(FunctionSpec(name, tuple(table.parameters)) for name, table in model.functions.items()),
        checks=checks,
        styles=model.styles.written(),
        raw=document,
    )
