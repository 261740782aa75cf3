"""Submission styles: modules, certificate-style modules, scripts, notebooks and saved models.

Three layers, cheapest first:

* style detection, notebook reading and per-style scoring rules: pure Python, milliseconds;
* the whole pipeline on the tiny synthetic data of ``tiny_data_dir`` (a child process and
  TensorFlow each, a few seconds per grading): the same correct solution in every style gets
  the same verdict, and scripts and notebooks that go wrong say so clearly;
* ``slow``: the chapter-style script and notebook, as printed, on the real datasets.

The fixture submissions live in ``tests/styles/`` (see its README).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from grader.adapters import (
    SubmissionFormatError,
    detect_code_style,
    plan_submission,
    python_of_cell,
    spec_for_style,
    style_rules,
)
from grader.errors import SpecError, UsageError
from grader.pipeline import GradeOptions, grade_submission
from grader.result import GradeResult
from grader.spec import ExerciseSpec, list_exercises, load_exercise, spec_from_document

REPO = Path(__file__).resolve().parents[1]
STYLES_DIR = Path(__file__).resolve().parent / "styles"
MODEL_EXERCISES = ("fashion_mnist", "exercise4")


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return path


def write_notebook(folder: Path, name: str, cells: list[str]) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# A notebook")] + [
        nbformat.v4.new_code_cell(textwrap.dedent(source).strip()) for source in cells
    ]
    path = folder / name
    nbformat.write(notebook, str(path))
    return path


# --- style detection (no TensorFlow) ---------------------------------------------------------

FUNCTIONS = ["build_model", "train"]


@pytest.mark.parametrize(
    ("source", "style"),
    [
        ("import tensorflow as tf\ndef build_model():\n    pass\ndef train(m, x, y):\n    pass\n", "module"),
        # A module with its own test run at the bottom is still a module.
        ("def build_model():\n    pass\ndef train(m, x, y):\n    pass\nmodel = build_model()\n", "module"),
        (
            "import tensorflow as tf\ndef solution_model():\n    return None\nif __name__ == '__main__':\n    solution_model()\n",
            "certificate",
        ),
        ("import tensorflow as tf\nmodel = tf.keras.Sequential()\nmodel.fit(x, y)\n", "script"),
        # A helper named like an exercise function does not make a script a module.
        ("def build_model():\n    pass\nmodel = build_model()\nmodel.fit(x, y, epochs=5)\n", "script"),
        ("for i in range(3):\n    pass\n", "script"),
        # Definitions only, train() missing: a module, so the report names what is missing.
        ('"""Doc."""\nimport tensorflow as tf\nEPOCHS = 5\ndef build_model():\n    pass\n', "module"),
        ("", "module"),
        # A syntax error does not hide the style.
        ("def build_model(:\n    pass\ndef train(m, x, y):\n    pass\n", "module"),
        ("import tensorflow as tf\nmodel = tf.keras.Sequential([\nmodel.fit(x, y)\n", "script"),
    ],
)
def test_detects_code_style(source: str, style: str) -> None:
    assert detect_code_style([source], FUNCTIONS) == style


def test_detects_every_fixture_and_the_reference_solutions() -> None:
    for exercise in MODEL_EXERCISES:
        spec = load_exercise(exercise)
        assert plan_submission(spec, spec.solution_path).style == "module"
        assert plan_submission(spec, spec.stub_path).style == "module"
        folder = STYLES_DIR / exercise
        assert plan_submission(spec, folder / "certificate.py").style == "certificate"
        assert plan_submission(spec, folder / "chapter_script.py").style == "script"
        notebook = plan_submission(spec, folder / "chapter_notebook.ipynb")
        assert (notebook.style, notebook.graded_as) == ("notebook", "script")


def test_certificate_using_tfds_gets_a_tfds_copy() -> None:
    spec = load_exercise("exercise4")
    assert plan_submission(spec, STYLES_DIR / "exercise4" / "certificate.py").loads_tfds
    assert not plan_submission(spec, STYLES_DIR / "exercise4" / "chapter_script.py").loads_tfds


def test_saved_models_by_suffix_and_by_content(tmp_path: Path) -> None:
    spec = load_exercise("fashion_mnist")
    for name, head in (("m.keras", b"PK\x03\x04"), ("m.h5", b"\x89HDF\r\n\x1a\n"), ("m.hdf5", b"x")):
        (tmp_path / name).write_bytes(head + b"\x00" * 64)
        assert plan_submission(spec, tmp_path / name).style == "saved_model"
    # No telling suffix: the first bytes say it (a .keras file is a zip archive).
    (tmp_path / "model").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    assert plan_submission(spec, tmp_path / "model").style == "saved_model"


def test_notebook_defining_the_functions_is_graded_as_a_module(tmp_path: Path) -> None:
    spec = load_exercise("fashion_mnist")
    source = spec.solution_path.read_text()
    path = write_notebook(tmp_path, "solution.ipynb", ["%matplotlib inline", source])
    plan = plan_submission(spec, path)
    assert (plan.style, plan.graded_as) == ("notebook", "module")


def test_forced_styles(tmp_path: Path) -> None:
    spec = load_exercise("fashion_mnist")
    script = STYLES_DIR / "fashion_mnist" / "chapter_script.py"
    assert plan_submission(spec, spec.solution_path, forced="script").graded_as == "script"
    forced = plan_submission(spec, script, forced="module")
    assert forced.style == "module" and "looks like a script" in forced.notes[0]
    notebook = STYLES_DIR / "fashion_mnist" / "chapter_notebook.ipynb"
    assert plan_submission(spec, notebook, forced="notebook").style == "notebook"
    # A notebook forced to another code style is run from its cells, graded as asked.
    assert plan_submission(spec, notebook, forced="script").cells

    (tmp_path / "m.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(SubmissionFormatError, match="saved model, not code"):
        plan_submission(spec, tmp_path / "m.h5", forced="script")
    with pytest.raises(SubmissionFormatError, match="not a saved Keras model"):
        plan_submission(spec, script, forced="saved_model")
    with pytest.raises(SubmissionFormatError, match="not a Jupyter notebook"):
        plan_submission(spec, script, forced="notebook")
    with pytest.raises(UsageError, match="Unknown style"):
        plan_submission(spec, script, forced="jupyter")


def test_unreadable_notebook_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [', encoding="utf-8")
    with pytest.raises(SubmissionFormatError, match=r"cannot be read as a Jupyter notebook.*save it again"):
        plan_submission(load_exercise("fashion_mnist"), path)


# --- notebook cells as Python ------------------------------------------------------------------


def test_valid_python_cells_are_left_alone() -> None:
    source = 'text = """\n!not a shell line\n%not a magic\n"""\nprint(text)'
    assert python_of_cell(source) == (source, [])


def test_magics_and_shell_lines_become_pass_and_keep_line_numbers() -> None:
    source = "!pip install tensorflow \\\n    matplotlib\n%matplotlib inline\nimport numpy as np\nfor i in range(2):\n    !echo $i\nnp.zeros?\nfiles = !ls\nx = 1"
    python, skipped = python_of_cell(source)
    lines = python.split("\n")
    assert len(lines) == len(source.split("\n"))
    assert lines[0] == "pass" and lines[1] == "" and lines[2] == "pass"
    assert lines[3] == "import numpy as np" and lines[5] == "    pass" and lines[8] == "x = 1"
    compile(python, "<cell>", "exec")
    assert [line for line, _ in skipped] == [1, 3, 6, 7, 8]
    assert "pip install" in skipped[0][1] and "nothing is installed" in skipped[0][1]


def test_timing_magics_run_their_code() -> None:
    python, skipped = python_of_cell("%%time\nhistory = model.fit(x, y)")
    assert python == "\nhistory = model.fit(x, y)" and "%%time" in skipped[0][1]
    python, _ = python_of_cell("%time history = model.fit(x, y)")
    assert python == "history = model.fit(x, y)"
    python, _ = python_of_cell("    %timeit f()")
    assert python == "    f()"


def test_other_cell_magics_skip_the_cell() -> None:
    python, skipped = python_of_cell("%%bash\npip install tensorflow\nls -l")
    assert python.strip() == "" and python.count("\n") == 2
    assert "holds no Python" in skipped[0][1]


def test_chapter_notebook_lists_what_it_skipped() -> None:
    plan = plan_submission(load_exercise("fashion_mnist"), STYLES_DIR / "fashion_mnist" / "chapter_notebook.ipynb")
    assert plan.notes == (
        "Cell 1, line 1: skipped the shell command `!pip install tensorflow matplotlib` (nothing is installed or run while grading)",
        "Cell 2, line 1: skipped the IPython magic `%matplotlib inline`",
        "Cell 11, line 1: ran the cell without its `%%time` cell magic",
    )
    assert [cell.number for cell in plan.cells] == list(range(1, 15))  # code cells only


# --- what full marks mean for each style --------------------------------------------------------


@pytest.mark.parametrize("exercise", MODEL_EXERCISES)
def test_saved_model_full_marks_leave_out_code_only_checks(exercise: str) -> None:
    spec = spec_for_style(load_exercise(exercise), "saved_model")
    worthless_anyway = {c.id for c in load_exercise(exercise).checks if c.points == 0}  # integrity
    not_counted = {c.id for c in spec.checks if c.points == 0} - worthless_anyway
    assert not_counted == {"functions_present", "training"}
    assert spec.max_score == 85 and spec.pass_mark == 68


@pytest.mark.parametrize("exercise", MODEL_EXERCISES)
def test_code_styles_keep_every_point_and_rename_checks(exercise: str) -> None:
    base = load_exercise(exercise)
    for graded_as in ("certificate", "script"):
        spec = spec_for_style(base, graded_as)
        assert (spec.max_score, spec.pass_mark) == (base.max_score, base.pass_mark)
        names = {c.id: c.name for c in spec.checks}
        assert "build_model()" not in names["functions_present"]
    assert spec_for_style(base, "module") is base


def test_every_exercise_style_table_is_valid() -> None:
    for spec in list_exercises():
        if spec.kind != "model":
            continue
        assert style_rules(spec, "script").model_variable == "model"
        assert style_rules(spec, "certificate").function == "solution_model"


def test_bad_style_tables_are_spec_errors() -> None:
    base = load_exercise("fashion_mnist")

    def with_styles(styles: dict) -> ExerciseSpec:
        """The spec validated again, as at load time, with these [styles] tables."""
        return spec_from_document({**base.raw, "styles": styles}, base.directory / "exercise.toml")

    with pytest.raises(SpecError, match="unknown key 'jupyter'"):
        style_rules(with_styles({"jupyter": {}}), "script")
    with pytest.raises(SpecError, match="check 'nope'"):
        style_rules(with_styles({"saved_model": {"not_counted": ["nope"]}}), "saved_model")
    # Without an explicit pass mark, the exercise's is scaled to the points left.
    scaled = spec_for_style(with_styles({"saved_model": {"not_counted": ["training"]}}), "saved_model")
    assert (scaled.max_score, scaled.pass_mark) == (90, 72)


# --- the whole pipeline on tiny data -------------------------------------------------------------

# The tiny sets (200 training images) need more epochs than the chapter's 5 to learn.
TINY_EPOCHS = "epochs=30"


def tiny_copy(path: Path, folder: Path, name: str | None = None) -> Path:
    """A copy of a fixture that trains long enough on the tiny data."""
    target = folder / (name or path.name)
    text = path.read_text(encoding="utf-8")
    assert "epochs=5" in text, path
    target.write_text(text.replace("epochs=5", TINY_EPOCHS), encoding="utf-8")
    return target


def grade(path: Path, exercise: str, **options) -> GradeResult:
    return grade_submission(load_exercise(exercise), path, GradeOptions(**options))


def failed_text(result: GradeResult) -> str:
    return "\n".join(f"[{c.id}] {c.status}: {c.message} {c.hint}" for c in result.checks if c.status != "passed")


def check(result: GradeResult, check_id: str):
    return next(c for c in result.checks if c.id == check_id)


SAVE_MODELS = """
import sys
import keras
from grader.datasets import load_dataset

dataset, epochs, *paths = sys.argv[1:]
data = load_dataset(dataset)
keras.utils.set_random_seed(1)
model = keras.Sequential([
    keras.Input(shape=(28, 28)),
    keras.layers.Flatten(),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(data.train_images / 255.0, data.train_labels, epochs=int(epochs), verbose=0)
for path in paths:
    model.save(path)
"""


def save_trained_models(dataset: str, epochs: int, *paths: Path) -> None:
    """Train the chapter's model with Keras in another process and save it to ``paths``
    (``.keras`` and/or legacy ``.h5``), as a learner would before handing in the file."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    completed = subprocess.run(
        [sys.executable, "-c", SAVE_MODELS, dataset, str(epochs), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]


EVERY_STYLE = ("module", "certificate", "script", "notebook", "saved_model")
# Each grading starts TensorFlow twice (about 15 s a style on two busy cores). The default lane
# grades every style once, the five shared between the two exercises (a saved model in each, in
# its two file formats); the slow lane grades the whole matrix.
STYLE_CASES = [
    pytest.param("fashion_mnist", "model.keras", ("module", "certificate", "saved_model"), id="fashion_mnist-model.keras"),
    pytest.param("exercise4", "model.h5", ("script", "notebook", "saved_model"), id="exercise4-model.h5"),
    pytest.param("fashion_mnist", "model.keras", EVERY_STYLE, id="fashion_mnist-every-style", marks=pytest.mark.slow),
    pytest.param("exercise4", "model.h5", EVERY_STYLE, id="exercise4-every-style", marks=pytest.mark.slow),
]  # fmt: skip


@pytest.mark.parametrize(("exercise", "model_file", "styles"), STYLE_CASES)
def test_same_solution_gets_the_same_verdict_in_every_style(
    tiny_data_dir: Path, tmp_path: Path, exercise: str, model_file: str, styles: tuple[str, ...]
) -> None:
    spec = load_exercise(exercise)
    folder = STYLES_DIR / exercise
    sources = {
        "module": lambda: tiny_copy(spec.solution_path, tmp_path),
        "certificate": lambda: tiny_copy(folder / "certificate.py", tmp_path),
        "script": lambda: tiny_copy(folder / "chapter_script.py", tmp_path),
        "notebook": lambda: tiny_copy(folder / "chapter_notebook.ipynb", tmp_path),
        "saved_model": lambda: tmp_path / model_file,
    }
    submissions = {style: sources[style]() for style in styles}
    if "saved_model" in submissions:
        save_trained_models(spec.dataset, 30, submissions["saved_model"])
    results = {style: grade(path, exercise) for style, path in submissions.items()}
    for style, result in results.items():
        assert result.style == style
        assert result.passed, f"{style}:\n{failed_text(result)}"
        assert result.score == result.max_score, f"{style}:\n{failed_text(result)}"
        assert result.metrics["input_scaling"] == "unit"
    assert {r.max_score for s, r in results.items() if s != "saved_model"} == {100}
    saved = results["saved_model"]
    assert saved.max_score == 85
    assert {c.id: c.status for c in saved.checks if c.status != "passed"} == {
        "functions_present": "skipped",
        "training": "skipped",
    }
    if "notebook" in results:
        assert results["notebook"].details["graded_as"] == "script"
        assert any("%matplotlib inline" in note for note in results["notebook"].details["notes"])
    # Scripts and certificate style: training evidence comes from observing model.fit.
    for style in {"certificate", "script", "notebook"} & set(results):
        assert results[style].metrics["epochs"] == 30, style
        assert results[style].details["history"]["loss"], style


def test_notebook_with_pip_and_magics_runs_and_errors_name_the_cell(tiny_data_dir: Path, tmp_path: Path) -> None:
    cells = [
        "!pip install tensorflow matplotlib",
        """
        %matplotlib inline
        import matplotlib.pyplot as plt
        from tensorflow import keras
        """,
        """
        (train_images, train_labels), _ = keras.datasets.fashion_mnist.load_data()
        for i in range(25):
            plt.figure()
            plt.imshow(train_images[i])
            plt.show()
        """,
        """
        model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                                  keras.layers.Dense(64, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(train_images / 255.0, train_labels, epochs=3, verbose=0)
        """,
        # The study material's way to plot a History: pandas is there for learner code.
        "import pandas as pd\npd.DataFrame(history.history).plot()",
        """
        print("trained")
        plt.plot(modle.history.history["loss"])
        """,
    ]
    result = grade(write_notebook(tmp_path, "analysis.ipynb", cells), "fashion_mnist")
    assert result.style == "notebook"
    notes = "\n".join(result.details["notes"])
    assert "Cell 1, line 1: skipped the shell command `!pip install tensorflow matplotlib`" in notes
    assert "Cell 2, line 1: skipped the IPython magic `%matplotlib inline`" in notes
    # The plots did not stop the run, and the model was trained and tested...
    assert result.metrics["test_accuracy"] is not None
    assert "More than 20 figures" not in result.details["output"]
    # ...but the typo after training is reported in the learner's terms: cell and line.
    error = result.details["errors"][0]
    assert error["type"] == "NameError"
    assert error["frames"][-1]["file"] == "analysis.ipynb, cell 6" and error["frames"][-1]["line"] == 2
    assert "analysis.ipynb, cell 6, line 2" in error["traceback"]
    ran = check(result, "functions_present")
    assert ran.status != "passed" and "cell 6, line 2" in ran.message


def test_notebook_defining_functions_names_cells_in_its_tracebacks(tiny_data_dir: Path, tmp_path: Path) -> None:
    """A notebook graded as a module: the error raised inside build_model() (cell 2), called
    from a later cell (cell 3), is shown with both cells' own line numbers."""
    source = load_exercise("fashion_mnist").solution_path.read_text()
    broken = source.replace('activation="relu"', 'activation="rellu"')
    line = next(i for i, text in enumerate(broken.splitlines(), start=1) if '"rellu"' in text)
    path = write_notebook(tmp_path, "functions.ipynb", ["%matplotlib inline", broken, "model = build_model()"])
    result = grade(path, "fashion_mnist")
    assert (result.style, result.details["graded_as"]) == ("notebook", "module")
    frames = result.details["errors"][0]["frames"]
    assert [(f["file"], f["line"]) for f in frames] == [
        ("functions.ipynb, cell 3", 1),
        ("functions.ipynb, cell 2", line),
    ]
    present = check(result, "functions_present")
    assert f"functions.ipynb, cell 2, line {line}" in present.message
    assert 'did you mean "relu"' in present.hint


def test_script_with_two_models_says_which_variable_to_use(tiny_data_dir: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "two.py",
        """
        from tensorflow import keras

        (x, y), _ = keras.datasets.fashion_mnist.load_data()


        def make(units):
            m = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                                  keras.layers.Dense(units, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
            m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            return m


        small = make(32)
        big = make(64)
        small.fit(x / 255.0, y, epochs=1, verbose=0)
        big.fit(x / 255.0, y, epochs=1, verbose=0)
    """,
    )
    result = grade(path, "fashion_mnist")
    assert result.style == "script" and not result.passed
    built = check(result, "model_built")
    assert built.status == "error"
    assert "2 compiled Keras models (`small`, `big`)" in built.message
    assert "`model = small`" in built.hint
    assert result.metrics["test_accuracy"] is None
    assert result.details["errors"] == []  # not an exception of the learner's code


def test_script_without_a_model_says_so(tiny_data_dir: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "explore.py",
        """
        from tensorflow import keras
        import matplotlib.pyplot as plt

        (x, y), _ = keras.datasets.fashion_mnist.load_data()
        print(x.shape, y[:10])
        plt.imshow(x[0])
        plt.show()
        model = "not yet"
    """,
    )
    result = grade(path, "fashion_mnist")
    assert result.style == "script" and result.score == 0
    built = check(result, "model_built")
    assert "No Keras model was found after your script ran" in built.message
    assert "`model` holds a str" in built.message
    assert "model = keras.Sequential" in built.hint


def test_script_that_raises_before_training_names_its_line(tiny_data_dir: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "typo.py",
        """
        from tensorflow import keras

        (x, y), _ = keras.datasets.fashion_mnist.load_data()
        model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                                  keras.layers.Dense(64, activation="relu"),
                                  keras.layers.Dense(10, activation="softMax")])
    """,
    )
    result = grade(path, "fashion_mnist")
    assert not result.passed
    text = failed_text(result)
    assert "typo.py, line 6" in text and '"softmax"' in text
    assert result.details["errors"][0]["step"] == "build_model"


def test_script_killed_while_training_keeps_its_model_checks(tiny_data_dir: Path, tmp_path: Path) -> None:
    """The time limit ends a script in the middle of model.fit: the evidence recorded so far
    survives, so the architecture is still judged and the training check says what happened."""
    path = write(
        tmp_path,
        "endless.py",
        """
        import time

        from tensorflow import keras

        (x, y), _ = keras.datasets.fashion_mnist.load_data()


        class Forever(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                while True:  # asleep, not spinning: the CPU stays free for other tests
                    time.sleep(1)


        model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                                  keras.layers.Dense(64, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x / 255.0, y, epochs=5, callbacks=[Forever()], verbose=0)
    """,
    )
    result = grade(path, "fashion_mnist", timeout_s=25)
    assert result.details["limit_hit"] == "time" and not result.passed
    assert check(result, "hidden_layers").status == "passed"
    assert check(result, "output_layer").status == "passed"
    training = check(result, "training")
    assert training.status == "error" and "your script did not finish: the time limit" in training.message.lower()


def test_certificate_returning_nothing_is_graded_and_told(tiny_data_dir: Path, tmp_path: Path) -> None:
    source = (STYLES_DIR / "fashion_mnist" / "certificate.py").read_text().replace("    return model\n", "")
    path = tiny_copy(write(tmp_path, "draft.py", source), tmp_path, "certificate.py")
    result = grade(path, "fashion_mnist")
    assert result.style == "certificate"
    assert result.metrics["test_accuracy"] is not None  # the model fit trained is still tested
    assert check(result, "output_layer").status == "passed"
    contract = check(result, "functions_present")
    assert contract.status != "passed" and "returned None" in contract.message
    assert "return model" in contract.hint


def test_saved_model_with_a_lambda_layer_is_refused_in_the_sandbox(tiny_data_dir: Path, tmp_path: Path) -> None:
    """Loading a legacy .h5 can run a Lambda layer's code: the grader loads learner model files
    only inside the sandbox, in safe mode, and says why it refuses one."""
    path = tmp_path / "lambda.h5"
    code = (
        "import keras, sys\n"
        "m = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Lambda(lambda t: t * 2),"
        " keras.layers.Flatten(), keras.layers.Dense(10, activation='softmax')])\n"
        "m.save(sys.argv[1])\n"
    )
    completed = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = grade(path, "fashion_mnist")
    assert result.style == "saved_model" and not result.passed
    built = check(result, "model_built")
    assert built.status == "error" and "Lambda" in built.message


# --- the chapter's code on the real data ---------------------------------------------------------


@pytest.mark.slow
def test_chapter_script_as_printed_passes_on_real_fashion_mnist(tmp_path: Path) -> None:
    result = grade(STYLES_DIR / "fashion_mnist" / "chapter_script.py", "fashion_mnist")
    assert result.style == "script"
    assert result.passed, failed_text(result)
    assert result.score == result.max_score == 100
    assert result.metrics["epochs"] == 5


@pytest.mark.slow
def test_chapter_notebook_as_printed_passes_on_real_mnist(tmp_path: Path) -> None:
    result = grade(STYLES_DIR / "exercise4" / "chapter_notebook.ipynb", "exercise4")
    assert (result.style, result.details["graded_as"]) == ("notebook", "script")
    assert result.passed, failed_text(result)
    assert result.score == result.max_score == 100
    assert any("!pip install" in note for note in result.details["notes"])


@pytest.mark.slow
def test_saved_h5_model_passes_on_real_mnist(tmp_path: Path) -> None:
    path = tmp_path / "mymodel.h5"
    save_trained_models("mnist", 5, path)
    result = grade(path, "exercise4")
    assert result.style == "saved_model"
    assert result.passed, failed_text(result)
    assert (result.score, result.max_score) == (85, 85)
