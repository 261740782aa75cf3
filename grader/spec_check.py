"""``grade validate --spec-only``: check a course's exercises without training anything.

In seconds, for every exercise folder: the spec loads (every key validated, see
``grader.spec_models``); a model exercise names a dataset the grader knows; the stub, the
reference solution and each known-bad variant the manifest lists exist and parse (Python with
``ast``, notebooks cell by cell); the stub and the reference define every function the spec names
with its parameters, and the reference implements them. A quiz is graded for real (a quiz runs no
learner code): its reference answers must earn full marks and its stub must not pass.

What it cannot tell: whether the reference trains to the threshold. That is ``grade validate``.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass
from pathlib import Path

from grader.errors import DataMissingError, GraderError
from grader.messages import interface as msg
from grader.spec import ExerciseSpec, exercises_root, load_spec_file
from grader.spec_models import _line_of


@dataclass(frozen=True)
class Finding:
    """One file checked: ``ok``, or what is wrong with it."""

    exercise: str
    subject: str  # what was checked: "exercise.toml", "reference exercise4.py", ...
    ok: bool
    message: str


def check_exercises(exercise_ids: list[str] | None = None) -> list[Finding]:
    """The findings for ``exercise_ids`` (default: every folder with an exercise.toml)."""
    root = exercises_root()
    if exercise_ids:
        paths = [root / exercise_id / "exercise.toml" for exercise_id in exercise_ids]
    else:
        paths = sorted(root.glob("*/exercise.toml"))
    findings: list[Finding] = []
    for path in paths:
        exercise = path.parent.name
        if not path.is_file():
            findings.append(Finding(exercise, "exercise.toml", False, f"{path} does not exist."))
            continue
        try:
            spec = load_spec_file(path)
        except GraderError as exc:
            findings.append(Finding(exercise, "exercise.toml", False, str(exc)))
            continue
        findings.append(_check_spec(spec))
        findings.extend(_check_files(spec))
    return findings


def _check_spec(spec: ExerciseSpec) -> Finding:
    if spec.kind == "model":
        from grader.datasets import dataset_info, dataset_names

        try:
            dataset_info(spec.dataset or "")  # built in, or described by the course's datasets/<name>.toml
        except GraderError as exc:  # unknown, or a course's description that is not valid
            known = dataset_names()
            if isinstance(exc, DataMissingError):
                close = difflib.get_close_matches(spec.dataset or "", known, n=1, cutoff=0.6)
                guess = f" (did you mean '{close[0]}'?)" if close else ""
                why = f"not a dataset the grader knows{guess}. Known: {', '.join(known)}."
            else:
                why = str(exc)
            return Finding(spec.id, "exercise.toml", False, f"dataset = '{spec.dataset}'{_dataset_line(spec)}: {why}")
    count = len(spec.checks) if spec.kind == "model" else len(spec.items)
    valid = msg.spec_valid(spec.kind, count, f"{spec.max_score:g}", f"{spec.pass_mark:g}")
    return Finding(spec.id, "exercise.toml", True, valid)


def _dataset_line(spec: ExerciseSpec) -> str:
    """`` (line N)``: where exercise.toml names its dataset; empty when it cannot be told."""
    try:
        source = (spec.directory / "exercise.toml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    line = _line_of(("dataset",), source)
    return f" (line {line})" if line else ""


def _check_files(spec: ExerciseSpec) -> list[Finding]:
    from grader.validate import judge_case, plan_cases

    try:
        cases = plan_cases(spec)
    except GraderError as exc:  # an unreadable bad/manifest.toml
        return [Finding(spec.id, "bad/manifest.toml", False, str(exc))]
    findings = []
    for case in cases:
        subject = f"{case.kind} {case.path.name}"
        if case.problem:
            findings.append(Finding(spec.id, subject, False, case.problem))
            continue
        try:
            if spec.kind == "quiz":
                from grader.quiz import grade_quiz

                outcome = judge_case(case, grade_quiz(spec, case.path))
                findings.append(Finding(spec.id, subject, outcome.ok, outcome.message))
                continue
            message = _check_source(spec, case.path, case.kind)
        except GraderError as exc:
            findings.append(Finding(spec.id, subject, False, str(exc)))
            continue
        defined = ", ".join(f"{function.name}()" for function in spec.functions)
        fine = msg.file_parses(defined if case.kind != "bad" else "")
        findings.append(Finding(spec.id, subject, not message, message or fine))
    return findings


def _check_source(spec: ExerciseSpec, path: Path, kind: str) -> str:
    """What is wrong with a stub, reference or bad variant, statically; "" when nothing."""
    from grader.adapters import file_kind, read_notebook, read_python

    if file_kind(path) == "model_file":
        return "" if path.stat().st_size > 0 else f"{path.name} is empty."
    sources = [cell.source for cell in read_notebook(path)[0]] if file_kind(path) == "notebook" else [read_python(path)]
    trees = []
    for number, source in enumerate(sources, start=1):
        try:
            trees.append(ast.parse(source, filename=str(path)))
        except SyntaxError as exc:
            where = f"cell {number}, line {exc.lineno}" if len(sources) > 1 else f"line {exc.lineno}"
            return f"{path.name}, {where}: {exc.msg}."
    if kind == "bad":
        return ""  # a known-bad variant may lack anything; the manifest says what it gets wrong
    functions = {node.name: node for tree in trees for node in tree.body if isinstance(node, ast.FunctionDef)}
    problems = []
    for wanted in spec.functions:
        found = functions.get(wanted.name)
        if found is None:
            problems.append(f"defines no {wanted.name}()")
            continue
        parameters = [argument.arg for argument in found.args.args]
        if parameters != list(wanted.parameters):
            problems.append(f"{wanted.name}({', '.join(parameters)}) should take ({', '.join(wanted.parameters)})")
        if kind == "reference" and _raises_not_implemented(found):
            problems.append(f"{wanted.name}() still raises NotImplementedError")
    return f"{path.name}: " + "; ".join(problems) + "." if problems else ""


def _raises_not_implemented(function: ast.FunctionDef) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id == "NotImplementedError":
                return True
    return False
