"""The model exercises' specs, stubs and reference solutions agree with each other and the judges.

Source files are parsed with ``ast``, never imported: importing them would import TensorFlow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader.judges import JUDGES
from grader.scoring import required_check_ids
from grader.spec import ExerciseSpec, list_exercises, load_exercise

MODEL_EXERCISES = ["fashion_mnist", "exercise4"]

# The params each judge reads (see the judges' docstrings): a typo in exercise.toml would
# otherwise be silently ignored and the judge would use its default.
JUDGE_PARAMS = {
    "functions_present": set(),
    "load_data": {"image_shapes", "classes"},
    "model_built": set(),
    "compiled": {"compiled_in_train"},
    "input_shape": {"accepted"},
    "hidden_layers": {"exactly", "min_hidden", "max_params"},
    "output_layer": {"units", "activation", "allow_logits"},
    "loss": {"accepted", "partial"},
    "optimizer": {"accepted"},
    "accuracy_metric": {"accepted"},
    "training": set(),
    "test_accuracy": {"threshold", "partial", "overfit_gap", "min_gain"},
    "integrity": set(),
}


@pytest.fixture(params=MODEL_EXERCISES)
def spec(request: pytest.FixtureRequest) -> ExerciseSpec:
    return load_exercise(request.param)


def top_level_functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def raises_not_implemented(function: ast.FunctionDef) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id == "NotImplementedError":
                return True
    return False


def test_model_exercises_are_listed() -> None:
    listed = {s.id for s in list_exercises() if s.kind == "model"}
    assert set(MODEL_EXERCISES) <= listed


def test_points_sum_to_100_and_pass_mark_is_reachable(spec: ExerciseSpec) -> None:
    assert spec.max_score == 100
    assert 0 < spec.pass_mark <= spec.max_score
    assert all(check.points >= 0 for check in spec.checks)


def test_every_check_names_a_known_judge_with_known_params(spec: ExerciseSpec) -> None:
    for check in spec.checks:
        assert check.judge in JUDGES, f"{spec.id}: check {check.id} names unknown judge {check.judge}"
        unknown = set(check.params) - JUDGE_PARAMS[check.judge]
        assert not unknown, f"{spec.id}: check {check.id} has unknown params {unknown}"


def test_judge_params_table_covers_every_judge() -> None:
    assert set(JUDGE_PARAMS) == set(JUDGES)


def test_the_accuracy_check_is_required(spec: ExerciseSpec) -> None:
    required = required_check_ids(spec)
    assert required <= {c.id for c in spec.checks}
    accuracy = next(c for c in spec.checks if c.judge == "test_accuracy")
    assert accuracy.id in required
    threshold = accuracy.params["threshold"]
    assert 0.5 < threshold < 1
    bands = accuracy.params.get("partial", [])
    assert all(0 < below < threshold and 0 < share < 1 for below, share in bands)
    assert [share for _, share in sorted(bands)] == sorted((share for _, share in bands), reverse=True)


def test_run_settings(spec: ExerciseSpec) -> None:
    assert spec.kind == "model"
    assert spec.seed == 42
    assert 60 <= spec.timeout_s <= 1800
    assert spec.train_data in ("grader", "load_data")
    if spec.train_data == "load_data":
        assert spec.function("load_data") is not None
    assert spec.function("build_model") is not None
    assert spec.function("train") is not None


@pytest.mark.parametrize("which", ["stub", "solution"])
def test_files_define_the_spec_functions(spec: ExerciseSpec, which: str) -> None:
    path = spec.stub_path if which == "stub" else spec.solution_path
    assert path.is_file(), path
    functions = top_level_functions(path)
    for wanted in spec.functions:
        assert wanted.name in functions, f"{path} lacks {wanted.name}()"
        args = functions[wanted.name].args
        assert [a.arg for a in args.args] == list(wanted.parameters), f"{path}: {wanted.name}() parameters"
        assert ast.get_docstring(functions[wanted.name]), f"{path}: {wanted.name}() has no docstring"
    assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), f"{path} has no module docstring"


def test_stub_functions_raise_not_implemented(spec: ExerciseSpec) -> None:
    functions = top_level_functions(spec.stub_path)
    for wanted in spec.functions:
        assert raises_not_implemented(functions[wanted.name]), f"stub {wanted.name}() must raise NotImplementedError"
    assert "TODO" in spec.stub_path.read_text(encoding="utf-8")


def test_solution_functions_are_implemented(spec: ExerciseSpec) -> None:
    functions = top_level_functions(spec.solution_path)
    for wanted in spec.functions:
        assert not raises_not_implemented(functions[wanted.name])


def test_readme_states_the_numbers_the_spec_uses(spec: ExerciseSpec) -> None:
    readme = (spec.directory / "README.md").read_text(encoding="utf-8")
    accuracy = next(c for c in spec.checks if c.judge == "test_accuracy")
    assert f"{accuracy.params['threshold']:g}" in readme
    assert f"{spec.pass_mark:g}" in readme
    assert f"time limit {spec.timeout_s:g} s" in readme
    for check in spec.checks:
        if "max_params" in check.params:
            assert f"{int(check.params['max_params']):,}" in readme


def test_readme_points_table_matches_the_checks(spec: ExerciseSpec) -> None:
    """The README's table of checks lists every check's points, in the spec's order."""
    readme = (spec.directory / "README.md").read_text(encoding="utf-8")
    points = [
        float(line.rsplit("|", 2)[1])
        for line in readme.splitlines()
        if line.startswith("|") and line.rstrip().endswith("|") and line.rsplit("|", 2)[1].strip().isdigit()
    ]
    assert points == [check.points for check in spec.checks]


def test_exercise4_solution_loads_mnist_with_keras() -> None:
    spec = load_exercise("exercise4")
    source = spec.solution_path.read_text(encoding="utf-8")
    assert "tf.keras.datasets.mnist.load_data()" in source
    assert "255" in source


def test_mistakes_catalogue_names_real_tests() -> None:
    """docs/mistakes.md lists at least 15 mistakes, and every test it cites as proof exists."""
    import re

    root = Path(__file__).resolve().parents[1]
    catalogue = (root / "docs" / "mistakes.md").read_text(encoding="utf-8")
    entries = re.findall(r"^\d+\. \*\*", catalogue, flags=re.MULTILINE)
    assert len(entries) >= 15
    sources = {name: (root / "tests" / name).read_text(encoding="utf-8") for name in ("test_judges.py", "test_scoring.py")}
    cited = re.findall(r"`(?:(test_\w+\.py)::)?(test_[a-z0-9_]+)(\*?)`", catalogue)
    assert len(cited) >= 15
    for module, test, wildcard in cited:
        haystack = sources[module] if module else sources["test_judges.py"]
        pattern = rf"def {test}" + ("" if wildcard else r"\(")
        assert re.search(pattern, haystack), f"docs/mistakes.md cites {module or 'test_judges.py'}::{test}, which does not exist"
