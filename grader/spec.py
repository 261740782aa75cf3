"""Exercise specs: ``exercises/<id>/exercise.toml`` read into dataclasses.

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
    hint = "..."                # optional: replaces the judge's default hint
    [checks.params]             # optional: handed to the judge
    units = 10
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import SpecError, UsageError


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
    params: dict[str, Any] = field(default_factory=dict)


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
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def max_score(self) -> float:
        if self.kind == "quiz":  # a quiz scores its [[items]]; free-text items carry no points
            return float(sum(float(item.get("points", 0)) for item in self.raw.get("items", [])))
        return float(sum(check.points for check in self.checks))

    @property
    def stub_path(self) -> Path:
        return self.directory / self.stub

    @property
    def solution_path(self) -> Path:
        return solutions_root() / self.id / self.stub

    def function(self, name: str) -> FunctionSpec | None:
        return next((f for f in self.functions if f.name == name), None)


def _bundled(name: str) -> Path:
    """A top-level folder of the project: from the source tree, or inside an installed wheel."""
    package_dir = Path(__file__).resolve().parent
    source_tree = package_dir.parent / name
    if source_tree.is_dir():
        return source_tree
    return package_dir / "_bundled" / name


def exercises_root() -> Path:
    return Path(os.environ.get("GRADER_EXERCISES_DIR") or _bundled("exercises"))


def solutions_root() -> Path:
    return Path(os.environ.get("GRADER_SOLUTIONS_DIR") or _bundled("solutions"))


def templates_root() -> Path:
    return _bundled("templates")


def list_exercises() -> list[ExerciseSpec]:
    root = exercises_root()
    specs = [load_spec_file(p) for p in sorted(root.glob("*/exercise.toml"))]
    return sorted(specs, key=lambda s: s.id)


def load_exercise(exercise_id: str) -> ExerciseSpec:
    path = exercises_root() / exercise_id / "exercise.toml"
    if not path.is_file():
        known = ", ".join(s.id for s in list_exercises()) or "none"
        raise UsageError(f"Unknown exercise '{exercise_id}'. Known exercises: {known} (see `grade list`).")
    return load_spec_file(path)


def load_spec_file(path: Path) -> ExerciseSpec:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"Cannot read exercise spec {path}: {exc}") from None
    try:
        functions = tuple(
            FunctionSpec(name=name, parameters=tuple(body.get("parameters", ())))
            for name, body in raw.get("functions", {}).items()
        )
        checks = tuple(
            CheckSpec(
                id=c["id"],
                name=c["name"],
                judge=c.get("judge", c["id"]),
                points=float(c["points"]),
                hint=c.get("hint", ""),
                params=dict(c.get("params", {})),
            )
            for c in raw.get("checks", [])
        )
        spec = ExerciseSpec(
            id=raw["id"],
            title=raw["title"],
            summary=raw.get("summary", ""),
            kind=raw.get("kind", "model"),
            stub=raw["stub"],
            directory=path.parent,
            dataset=raw.get("dataset"),
            train_data=raw.get("train_data", "grader"),
            seed=int(raw.get("seed", 42)),
            timeout_s=float(raw.get("timeout_s", 900)),
            pass_mark=float(raw["pass_mark"]),
            functions=functions,
            checks=checks,
            raw=raw,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError(f"Exercise spec {path} is missing or has a bad value for {exc}.") from None
    if spec.id != path.parent.name:
        raise SpecError(f"Exercise spec {path} says id = '{spec.id}' but lives in folder '{path.parent.name}'.")
    ids = [c.id for c in checks]
    if len(ids) != len(set(ids)):
        raise SpecError(f"Exercise spec {path} has two checks with the same id.")
    return spec
