"""Exercise specs validate themselves, and the shipped specs, stubs and reference solutions agree
with each other and the judges.

Source files are parsed with ``ast``, never imported: importing them would import TensorFlow.
"""

from __future__ import annotations

import ast
import json
import shutil
import time
import tomllib
from pathlib import Path

import pytest

from grader.cli import main
from grader.errors import GraderError, SpecError
from grader.judges import JUDGE_PARAMS, JUDGES
from grader.judges.accuracy import AccuracyParams
from grader.scoring import required_check_ids
from grader.spec import ExerciseSpec, exercises_root, list_exercises, load_exercise, load_spec_file, spec_from_document
from grader.spec_models import exercise_schema

MODEL_EXERCISES = ["fashion_mnist", "exercise4"]
ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "docs" / "exercise.schema.json"


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
        JUDGE_PARAMS[check.judge].of(check.params)  # raises on an unknown key or a bad value


def test_every_judge_declares_its_params() -> None:
    assert set(JUDGE_PARAMS) == set(JUDGES)


def test_the_accuracy_check_is_required(spec: ExerciseSpec) -> None:
    required = required_check_ids(spec)
    assert required <= {c.id for c in spec.checks}
    accuracy = next(c for c in spec.checks if c.judge == "test_accuracy")
    assert accuracy.id in required
    settings = AccuracyParams.of(accuracy.params)
    threshold = settings.threshold
    assert 0.5 < threshold < 1
    bands = settings.partial
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
    cited = re.findall(r"`(?:(test_\w+\.py)::)?(test_[a-z0-9_]+)(\*?)`", catalogue)
    assert len(cited) >= 15
    for module, test, wildcard in cited:
        source = root / "tests" / (module or "test_judges.py")
        assert source.is_file(), f"docs/mistakes.md cites {module}, which does not exist"
        haystack = source.read_text(encoding="utf-8")
        pattern = rf"def {test}" + ("" if wildcard else r"\(")
        assert re.search(pattern, haystack), (
            f"docs/mistakes.md cites {module or 'test_judges.py'}::{test}, which does not exist"
        )


# --- specs that validate themselves -------------------------------------------------------------


def _copy_exercise4(tmp_path: Path, edit) -> Path:
    """A copy of exercise 4's folder whose exercise.toml went through edit(text) -> text."""
    folder = tmp_path / "exercises" / "exercise4"
    shutil.copytree(exercises_root() / "exercise4", folder)
    path = folder / "exercise.toml"
    text = path.read_text(encoding="utf-8")
    changed = edit(text)
    assert changed != text, "the edit changed nothing"
    path.write_text(changed, encoding="utf-8")
    return path


TYPOS = {
    # Each once silently changed grades: the threshold fell back to a default inside the judge,
    # the accuracy check stopped being required, every learner got "internal grader error".
    # {line}: the line of the typo, counted in the copy.
    "threshold": (
        ("threshold = 0.95", "treshold = 0.95"),
        "checks[11].params.treshold (id = \"test_accuracy\", line {line}): unknown key 'treshold' (did you mean 'threshold'?). "
        "Allowed here: threshold, partial, overfit_gap, min_gain.",
    ),
    "required": (
        ("required = true           # a model below", "requierd = true           # a model below"),
        "checks[11].requierd (id = \"test_accuracy\", line {line}): unknown key 'requierd' (did you mean 'required'?). "
        "Allowed here: id, name, judge, points, required, hint",
    ),
    "judge": (
        ('judge = "optimizer"', 'judge = "optimiser"'),
        "checks[8].judge (id = \"optimizer\", line {line}): found 'optimiser', which is not a judge (did you mean 'optimizer'?). "
        "Allowed: functions_present, load_data,",
    ),
}


@pytest.mark.parametrize("typo", sorted(TYPOS))
def test_a_typo_in_exercise4_is_refused_at_load(tmp_path: Path, typo: str) -> None:
    (old, new), expected = TYPOS[typo]
    path = _copy_exercise4(tmp_path, lambda text: text.replace(old, new, 1))
    line = 1 + next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines()) if new in text)
    with pytest.raises(SpecError) as caught:
        load_spec_file(path)
    message = str(caught.value)
    assert message.startswith(f"Exercise spec {path} has ")  # the file
    assert expected.format(line=line) in message  # the key path and line, what was found, what is allowed
    assert isinstance(caught.value, GraderError) and caught.value.exit_code == 2


def test_the_three_typos_together_exit_2_from_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd) -> None:
    def all_three(text: str) -> str:
        for (old, new), _ in TYPOS.values():
            text = text.replace(old, new, 1)
        return text

    path = _copy_exercise4(tmp_path, all_three)
    monkeypatch.setenv("GRADER_EXERCISES_DIR", str(path.parents[1]))
    assert main(["list"]) == 2
    error = " ".join(capfd.readouterr().err.split())  # the CLI's errors go to a copy of descriptor 2
    assert "has 4 problems" in error  # the three typos, and the threshold that is now missing
    assert 'checks[11].params.threshold (id = "test_accuracy"): missing' in error
    assert main(["validate", "--spec-only"]) == 2
    assert "unknown key 'treshold'" in " ".join(capfd.readouterr().out.split())


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(kind="quizz"), "kind: found 'quizz', which is not an allowed kind (did you mean 'quiz'?)"),
        (
            lambda d: d.update(train_data="loaddata"),
            "train_data: found 'loaddata' (did you mean 'load_data'?). Allowed: grader, load_data.",
        ),
        (
            lambda d: d["checks"][0].update(points="5"),
            "checks[0].points (id = \"functions_present\"): found '5' (a string)",
        ),
        (
            lambda d: d["checks"][5]["params"].update(max_param=10),
            "unknown key 'max_param' (did you mean 'max_params'?)",
        ),
        (
            lambda d: d["checks"][1]["params"].update(classes=True),
            'checks[1].params.classes (id = "load_data"): found True (a boolean)',
        ),
        (
            lambda d: d["styles"].update(jupyter={}),
            "styles.jupyter: unknown key 'jupyter'. Allowed here: module, certificate, script, saved_model.",
        ),
        (
            lambda d: d["styles"]["saved_model"].update(not_counted=["trainning"]),
            "names a check 'trainning' this exercise does not have (did you mean 'training'?)",
        ),
        (
            lambda d: d["functions"]["train"].update(params=[]),
            "functions.train.params: unknown key 'params' (did you mean 'parameters'?)",
        ),
        (lambda d: d["checks"].append(dict(d["checks"][0])), "two [[checks]] have the id 'functions_present'"),
        (lambda d: d.update(pass_mark=101), "pass_mark = 101 is more than the 100 points the checks carry"),
        (lambda d: d["checks"][0].pop("judge"), 'checks[0].judge (id = "functions_present"): missing; write one of'),
        (lambda d: d.pop("dataset"), "dataset: missing"),
    ],
)
def test_spec_mistakes_say_where_what_and_what_instead(change, expected: str) -> None:
    spec = load_exercise("exercise4")
    document = json.loads(json.dumps(spec.raw))
    change(document)
    with pytest.raises(SpecError) as caught:
        spec_from_document(document, spec.directory / "exercise.toml")
    assert expected in str(caught.value)


def test_a_quiz_item_with_an_unknown_key_is_refused() -> None:
    spec = load_exercise("exercise1")
    document = json.loads(json.dumps(spec.raw))
    document["items"][0]["answr"] = "b"
    with pytest.raises(
        SpecError, match=r"items\[0\]\.answr \(id = \"nonlinearity\"\): unknown key 'answr' \(did you mean 'answer'\?\)"
    ):
        spec_from_document(document, spec.directory / "exercise.toml")


def test_judge_defaults_live_in_the_params_models() -> None:
    """A judge reads its defaults from its declared model, and the accuracy bar has none."""
    with pytest.raises(Exception, match="threshold"):
        AccuracyParams.of({})
    assert AccuracyParams.of({"threshold": 0.9}).overfit_gap == 0.05
    for judge, model in JUDGE_PARAMS.items():
        for name, field in model.model_fields.items():
            assert field.description, f"{judge}: parameter {name} has no description (it goes into the schema)"


def test_the_published_json_schema_is_up_to_date() -> None:
    """docs/exercise.schema.json is what `grade spec schema` generates from the models."""
    assert SCHEMA.is_file(), "run: grade spec schema --out docs/exercise.schema.json"
    published = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert published == exercise_schema(), "stale: run `grade spec schema --out docs/exercise.schema.json`"


def test_the_schema_accepts_the_shipped_specs_and_knows_every_judge() -> None:
    text = SCHEMA.read_text(encoding="utf-8")
    for judge in JUDGES:
        assert f'"const": "{judge}"' in text
    jsonschema = pytest.importorskip("jsonschema")
    for path in sorted(exercises_root().glob("*/exercise.toml")):
        jsonschema.validate(tomllib.loads(path.read_text(encoding="utf-8")), json.loads(text))


def test_grade_spec_schema_writes_the_schema(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    assert main(["spec", "schema", "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == exercise_schema()


def test_validate_spec_only_checks_every_file_in_seconds(capsys) -> None:
    started = time.monotonic()
    assert main(["validate", "--spec-only"]) == 0
    elapsed = time.monotonic() - started
    out = " ".join(capsys.readouterr().out.split())
    for spec in list_exercises():
        assert f"{spec.id}: exercise.toml" in out
        assert f"{spec.id}: reference {spec.stub}" in out
        assert f"{spec.id}: stub {spec.stub}" in out
    assert "bad softmax_typo.py" in out
    assert elapsed < 15, f"--spec-only took {elapsed:.1f} s"


def test_validate_spec_only_finds_a_missing_function_and_a_syntax_error(tmp_path: Path, monkeypatch, capsys) -> None:
    exercises, solutions = tmp_path / "exercises", tmp_path / "solutions"
    shutil.copytree(exercises_root() / "fashion_mnist", exercises / "fashion_mnist")
    reference = solutions / "fashion_mnist" / "fashion_mnist.py"
    reference.parent.mkdir(parents=True)
    reference.write_text(
        '"""A reference that forgot train()."""\ndef build_model():\n    return None\n', encoding="utf-8"
    )
    stub = exercises / "fashion_mnist" / "fashion_mnist.py"
    stub.write_text(stub.read_text(encoding="utf-8") + "\ndef broken(:\n", encoding="utf-8")
    monkeypatch.setenv("GRADER_EXERCISES_DIR", str(exercises))
    monkeypatch.setenv("GRADER_SOLUTIONS_DIR", str(solutions))
    assert main(["validate", "--spec-only"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "reference fashion_mnist.py (fashion_mnist.py: defines no train()." in out
    assert "stub fashion_mnist.py (fashion_mnist.py, line 48: invalid syntax.)" in out


# --- names and ranges in [checks.params] ----------------------------------------------------------
# A misspelt loss or layer once passed validation, failed the course's own reference and told
# learners to use a loss Keras does not have. Names are checked against Keras' vocabulary (in
# every spelling Keras accepts), numbers against their domain.

NAME_AND_RANGE_MISTAKES = [
    (
        lambda d: d["checks"][7]["params"].update(accepted=["sparse_categorical_crosentropy"]),
        "checks[7].params.accepted[0] (id = \"loss\"): found 'sparse_categorical_crosentropy', which is not "
        "a loss Keras knows (did you mean 'sparse_categorical_crossentropy'?)",
    ),
    (
        lambda d: d["checks"][8]["params"].update(accepted=["adamm"]),
        "found 'adamm', which is not an optimizer Keras knows (did you mean 'adam'?)",
    ),
    (
        lambda d: d["checks"][9].update(params={"accepted": ["acuracy"]}),
        "found 'acuracy', which is not a metric Keras knows (did you mean 'accuracy'?)",
    ),
    (
        lambda d: d["checks"][6]["params"].update(activation="sofmax"),
        "checks[6].params.activation (id = \"output_layer\"): found 'sofmax', which is not an activation "
        "Keras knows (did you mean 'softmax'?)",
    ),
    (
        lambda d: d["checks"][5]["params"].update(exactly=[{"layer": "Dens", "units": 64, "activation": "relu"}]),
        "checks[5].params.exactly[0].layer (id = \"hidden_layers\"): found 'Dens', which is not a layer class "
        "Keras knows (did you mean 'Dense'?)",
    ),
    (
        lambda d: d["checks"][5]["params"].update(exactly=[{"layer": "Dense", "units": 64, "activation": "rellu"}]),
        "found 'rellu', which is not an activation Keras knows (did you mean 'relu'?)",
    ),
    (
        lambda d: d["checks"][5]["params"].update(required_layers=[{"layer": "Dropout", "rate": [0.5, 0.2]}]),
        'required_layers[0].rate (id = "hidden_layers"): found [0.5, 0.2]: a range is written [lowest, highest]',
    ),
    (
        lambda d: d["checks"][5]["params"].update(required_layers=[{"layer": "Dropout", "rate": [0.2, 5]}]),
        "found [0.2, 5]: both numbers must be from 0 to 1",
    ),
    (
        lambda d: d["checks"][7]["params"].update(partial={"categorical_crossentropy": 1.5}),
        'checks[7].params.partial.categorical_crossentropy (id = "loss"): found 1.5 (a number); input should '
        "be less than or equal to 1",
    ),
    (
        lambda d: d["checks"][7]["params"].update(partial={"categorical_crosentropy": 0.5}),
        "found 'categorical_crosentropy', which is not a loss Keras knows (did you mean 'categorical_crossentropy'?)",
    ),
    (
        lambda d: d["checks"][11]["params"].update(partial=[[0.02, 7]]),
        'checks[11].params.partial[0] (id = "test_accuracy"): found [0.02, 7]: both numbers must be from 0 to 1',
    ),
    (lambda d: d["checks"][11]["params"].update(min_gain=5), "input should be less than or equal to 1"),
    (lambda d: d["checks"][11]["params"].update(overfit_gap=2.0), "input should be less than or equal to 1"),
]


@pytest.mark.parametrize(("change", "expected"), NAME_AND_RANGE_MISTAKES)
def test_names_and_ranges_in_params_are_checked(change, expected: str) -> None:
    spec = load_exercise("exercise4")
    document = json.loads(json.dumps(spec.raw))
    change(document)
    with pytest.raises(SpecError) as caught:
        spec_from_document(document, spec.directory / "exercise.toml")
    assert expected in " ".join(str(caught.value).split())


@pytest.mark.parametrize(
    ("judge", "params", "canonical"),
    [
        ("loss", {"accepted": ["SparseCategoricalCrossentropy"]}, {"accepted": ["sparse_categorical_crossentropy"]}),
        ("loss", {"accepted": ["BCE", "KLDivergence"]}, {"accepted": ["binary_crossentropy", "kl_divergence"]}),
        ("loss", {"partial": {"CategoricalCrossentropy": 0.5}}, {"partial": {"categorical_crossentropy": 0.5}}),
        ("optimizer", {"accepted": ["Adam", "RMSprop", "SGD"]}, {"accepted": ["adam", "rmsprop", "sgd"]}),
        ("accuracy_metric", {"accepted": ["acc", "SparseCategoricalAccuracy"]},
         {"accepted": ["accuracy", "sparse_categorical_accuracy"]}),
        ("output_layer", {"activation": "softmax_v2"}, {"activation": "softmax"}),
        ("hidden_layers", {"exactly": [{"layer": "Convolution2D", "units": 32, "activation": "ReLU"}]},
         {"exactly": [{"layer": "Conv2D", "units": 32, "activation": "relu"}]}),
        ("hidden_layers", {"required_layers": [{"layer": "MaxPool2D"}, {"layer": "Dropout", "rate": [0.2, 0.2]}]},
         {"required_layers": [{"layer": "MaxPooling2D"}, {"layer": "Dropout", "rate": [0.2, 0.2]}]}),
    ],
)  # fmt: skip
def test_every_keras_spelling_is_accepted_and_canonicalised(judge: str, params: dict, canonical: dict) -> None:
    """The judges compare canonical names; the spec may spell them as Keras accepts them."""
    dumped = JUDGE_PARAMS[judge].of(params).model_dump(mode="json", exclude_unset=True)
    assert dumped == canonical
