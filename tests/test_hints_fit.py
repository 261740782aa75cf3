"""Hints that fit the style and the cause.

* Old TensorFlow 1 / Keras 2 code meeting TensorFlow 2 / Keras 3: each diagnosis is checked
  against the exception the installed TensorFlow really raises (the snippets below run once per
  session, in this process, on a few random images; nothing is trained for long), so a change
  of wording in a new release shows up here rather than as a generic hint.
* TensorFlow's runtime errors: the sandbox keeps the line that says what went wrong (it used to
  be cut off behind 'Graph execution error:') and the traceback lists the learner's frames only.
* The fallback hint names only what the file has: build_model() for a module, solution_model()
  for a certificate file, the script, the notebook's cells, the saved model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_judges import EX4, FASHION, make_evidence, ok, raised

from grader.evidence import ExceptionInfo, Frame, StepResult
from grader.judges.causes import exception_cause
from grader.judges.diagnose import clean_message, diagnose_exception
from grader.sandbox.child import bound_message, describe_exception, tensorflow_root_cause

HERE = Path(__file__)


# --- the real exceptions ------------------------------------------------------------------------


def _snippets() -> dict[str, Callable[[], Any]]:
    import keras
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    images, labels = rng.random((64, 28, 28), dtype=np.float32), rng.integers(0, 10, 64)

    def model() -> Any:
        return keras.Sequential(
            [keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
        )

    def fit(loss: str = "sparse_categorical_crossentropy", n: int = 64, callbacks: list[Any] | None = None) -> None:
        m = model()
        m.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
        m.fit(images[:n], labels[:n], epochs=1, verbose=0, callbacks=callbacks or [])

    class StopWithGet(keras.callbacks.Callback):  # the Coursera-style callback, as TensorFlow 1 wrote it
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if logs.get("acc") > 0.99:
                self.model.stop_training = True

    class StopWithIndex(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if logs["acc"] > 0.99:
                self.model.stop_training = True

    def run(code: str) -> Callable[[], None]:
        return lambda: exec(code, {})

    return {
        "input_data": run("from tensorflow.examples.tutorials.mnist import input_data"),
        "placeholder": lambda: tf.placeholder(tf.float32, [None, 784]),
        "session": lambda: tf.Session(),
        "tf.train optimizer": lambda: tf.train.AdamOptimizer(0.001),
        "compat.v1 placeholder": lambda: tf.compat.v1.placeholder(tf.float32, [None, 784]),
        "lr=": lambda: keras.optimizers.Adam(lr=0.001),
        "predict_classes": lambda: model().predict_classes(images),
        "fit_generator": lambda: model().fit_generator(iter([(images, labels)])),
        "checkpoint weights": lambda: keras.callbacks.ModelCheckpoint("training_1/cp.ckpt", save_weights_only=True),
        "checkpoint model": lambda: keras.callbacks.ModelCheckpoint("best_model"),
        "save to a folder": lambda: model().save("saved_model/my_model"),
        "experimental import": run("from tensorflow.keras.layers.experimental import preprocessing"),
        "experimental attribute": lambda: tf.keras.layers.experimental.preprocessing.Rescaling(1 / 255),
        "np_utils": run("from keras.utils import np_utils"),
        "np_utils to_categorical": run("from keras.utils.np_utils import to_categorical"),
        "logs.get('acc')": lambda: fit(callbacks=[StopWithGet()]),
        "logs['acc']": lambda: fit(callbacks=[StopWithIndex()]),
        "mse, full batches": lambda: fit(loss="mse"),
        "mse, a partial batch": lambda: fit(loss="mse", n=40),
        "google.colab": run("from google.colab import drive"),
        "a file from home": lambda: np.load("mnist.npz"),
    }


@pytest.fixture(scope="session")
def raised_by_keras(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ExceptionInfo]:
    """Each snippet's exception, described by the sandbox's own describe_exception()."""
    import os

    caught: dict[str, ExceptionInfo] = {}
    cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("snippets"))  # checkpoints and saves land here, if any
    try:
        for name, snippet in _snippets().items():
            try:
                snippet()
            except BaseException as exc:  # noqa: BLE001 - whatever TensorFlow raises
                caught[name] = describe_exception(exc, HERE, HERE.name)
    finally:
        os.chdir(cwd)
    return caught


# (snippet, diagnosis key, words the hint must contain)
OLD_CODE = [
    ("input_data", "tensorflow-1", ["TensorFlow 1 code", "tf.keras.datasets.mnist.load_data()"]),
    ("placeholder", "tensorflow-1", ["TensorFlow 1 code", "tf.placeholder", "Session"]),
    ("session", "tensorflow-1", ["TensorFlow 1 code", "tf.Session"]),
    ("tf.train optimizer", "tensorflow-1", ["tf.train.AdamOptimizer"]),
    ("compat.v1 placeholder", "tensorflow-1", ["tf.compat.v1", "Keras model"]),
    ("lr=", "keras-2-lr", ["learning_rate=0.001", "lr="]),
    ("predict_classes", "keras-2-api", ["predict_classes", "np.argmax(model.predict(images), axis=1)"]),
    ("fit_generator", "keras-2-api", ["fit_generator", "model.fit(generator"]),
    (
        "checkpoint weights",
        "keras-3-file-names",
        ['ModelCheckpoint("training_1/cp.weights.h5", save_weights_only=True)'],
    ),
    ("checkpoint model", "keras-3-file-names", ['ModelCheckpoint("best_model.keras")']),
    ("save to a folder", "keras-3-file-names", ['model.save("saved_model/my_model.keras")']),
    ("experimental import", "keras-2-imports", ["keras.layers.Rescaling(1 / 255)"]),
    ("experimental attribute", "keras-2-imports", ["keras.layers.Rescaling(1 / 255)"]),
    ("np_utils", "keras-2-imports", ["np_utils", "from tensorflow.keras.utils import to_categorical"]),
    ("np_utils to_categorical", "keras-2-imports", ["to_categorical(labels, 10)"]),
    ("logs.get('acc')", "logs-acc", ["'acc'", "'accuracy'", "logs.get('accuracy')"]),
    ("logs['acc']", "logs-acc", ["'acc'", "'accuracy'"]),
    (
        "mse, full batches",
        "labels-against-outputs",
        ["one class number per image", 'loss="sparse_categorical_crossentropy"'],
    ),
    ("mse, a partial batch", "labels-against-outputs", ["10 values per image"]),
    ("google.colab", "grader-environment", ["only where the grader runs your code", "Colab"]),
    ("a file from home", "grader-environment", ['"mnist.npz"', "empty working folder"]),
]


@pytest.mark.parametrize(("snippet", "key", "words"), OLD_CODE, ids=[case[0] for case in OLD_CODE])
def test_old_code_gets_the_diagnosis_of_its_real_exception(
    raised_by_keras: dict[str, ExceptionInfo], snippet: str, key: str, words: list[str]
) -> None:
    exc = raised_by_keras[snippet]
    diagnosis = diagnose_exception(exc, "build_model", None, EX4)
    assert diagnosis is not None and diagnosis.key == key, (exc.type, exc.message)
    for word in words:
        assert word in diagnosis.hint, (word, diagnosis.hint)
    assert "spelling" not in diagnosis.hint  # tensorflow.examples used to get "check its spelling"


def test_input_data_names_the_exercise_dataset(raised_by_keras: dict[str, ExceptionInfo]) -> None:
    diagnosis = diagnose_exception(raised_by_keras["input_data"], "import", None, FASHION)
    assert diagnosis is not None and "tf.keras.datasets.fashion_mnist.load_data()" in diagnosis.hint


def test_tensorflow_graph_error_keeps_its_root_cause_and_learner_frames_only(
    raised_by_keras: dict[str, ExceptionInfo],
) -> None:
    """MSE on integer labels against 10 softmax outputs. With a partial last batch TensorFlow
    raises InvalidArgumentError 'Graph execution error:' followed by two dozen Keras frames and
    then the cause; the report used to show the frames, cut off before the cause."""
    exc = raised_by_keras["mse, a partial batch"]
    assert exc.type == "InvalidArgumentError"
    assert exc.message == "Incompatible shapes: [32] vs. [32,10]"
    assert "site-packages" not in exc.traceback and "grader" not in exc.traceback
    assert exc.traceback.splitlines()[-1] == "InvalidArgumentError: Incompatible shapes: [32] vs. [32,10]"
    assert all(frame.file == HERE.name for frame in exc.frames) and exc.frames
    full = raised_by_keras["mse, full batches"]
    assert full.message.startswith("Dimensions must be equal, but are 32 and 10") and "[32], [32,10]" in full.message


def test_tensorflow_root_cause_and_bounded_messages() -> None:
    trace = "\n".join(f'  File "/site-packages/keras/src/x{i}.py", line {i}, in f\n' for i in range(40))
    message = (
        "Graph execution error:\n\nDetected at node compile_loss/x defined at (most recent call last):\n"
        f"{trace}\nReceived a label value of 9 which is outside the valid range of [0, 5).  Label values: 9 1 3 5\n"
        "\t [[{{node compile_loss/x}}]] [Op:__inference_multi_step_on_iterator_3705]"
    )
    assert len(message) > 2000  # the old cut at 2,000 characters lost the cause
    assert tensorflow_root_cause(message) == "Received a label value of 9 which is outside the valid range of [0, 5)."
    assert tensorflow_root_cause("Could not interpret activation function identifier: softMax") is None
    assert clean_message(message).startswith("Received a label value of 9")  # older evidence, too
    long = "start " + "x" * 5000 + " the end"
    bounded = bound_message(long)
    assert len(bounded) <= 2000 and bounded.startswith("start ") and bounded.endswith(" the end")


# --- hints that name only what the file has --------------------------------------------------------

UNKNOWN = ("ZeroDivisionError", "division by zero")  # an error no diagnosis knows


def evidence_in_style(style: str, graded_as: str, step: str, label: str = "") -> Any:
    step_result = raised(step, *UNKNOWN, line=7, code="x = 1 / 0")
    step_result.label = label
    steps = {"import": ok("import"), "load_data": ok("load_data"), "build_model": ok("build_model"), step: step_result}
    e = make_evidence(EX4, steps=steps, trained=None, train=None)
    e.sandbox.style, e.sandbox.graded_as = style, graded_as
    return e


@pytest.mark.parametrize(
    ("style", "graded_as", "step", "label", "expected"),
    [
        ("module", "module", "build_model", "", "Call build_model() yourself"),
        ("module", "module", "train", "", "Call train() yourself"),
        ("certificate", "certificate", "train", "solution_model()", "Call solution_model() yourself"),
        ("script", "script", "train", "your script", "Run your script with `python exercise4.py`"),
        ("notebook", "script", "build_model", "your notebook", "run all its cells in order"),
        ("notebook", "module", "train", "", "run all its cells in order"),
        ("saved_model", "saved_model", "build_model", "loading the saved model", "keras.models.load_model"),
    ],
)
def test_the_fallback_hint_fits_the_style(style: str, graded_as: str, step: str, label: str, expected: str) -> None:
    e = evidence_in_style(style, graded_as, step, label)
    cause = exception_cause(step, e.sandbox.steps[step].exception, e, EX4)
    assert expected in cause.hint
    if graded_as != "module":
        assert "build_model()" not in cause.hint and "train()" not in cause.hint


def test_an_assertion_without_a_message_shows_its_line() -> None:
    """`assert x_train.shape == (60000, 28, 28)` failing said only "AssertionError at line 10: "."""
    step = raised("load_data", "AssertionError", "", line=10, code="assert x_train.shape == (60000, 28, 28)")
    e = make_evidence(EX4, steps={"import": ok("import"), "load_data": step})
    cause = exception_cause("load_data", step.exception, e, EX4)
    assert cause.message.endswith(
        "AssertionError at fashion_mnist.py, line 10: `assert x_train.shape == (60000, 28, 28)`"
    )


def test_not_compiled_hint_fits_a_script() -> None:
    exc = ExceptionInfo(
        "ValueError", "You must call `compile()` before using the model.", [Frame("x.py", 3, "<module>")]
    )
    module = diagnose_exception(exc, "train", make_evidence(FASHION), FASHION)
    script = make_evidence(FASHION)
    script.sandbox.style = script.sandbox.graded_as = "script"
    in_script = diagnose_exception(exc, "train", script, FASHION)
    assert module is not None and "build_model()" in module.hint
    assert in_script is not None and "build_model()" not in in_script.hint and "before model.fit" in in_script.hint


def test_the_raw_pixels_hint_does_not_claim_the_chapter_scales(tmp_path: Path) -> None:
    """The book's chapter-5 notebook never divides by 255 (and stays below the bar)."""
    from test_reports import SyntheticDataset, model_result

    from grader.judges.diagnose import RAW_PIXELS_HINT
    from grader.render.report import render_reports

    assert "255.0" in RAW_PIXELS_HINT and "chapter" not in RAW_PIXELS_HINT
    result = model_result()
    result.details["evaluation"]["input_scaling"] = "raw"
    files = render_reports(result, tmp_path, dataset=SyntheticDataset())
    for kind in ("html", "md"):
        text = files[kind].read_text(encoding="utf-8")
        assert "raw 0–255 pixel values" in text and "the chapter scales" not in text


def test_skipped_notebook_magics_show_in_the_terminal() -> None:
    import io

    from rich.console import Console
    from test_reports import model_result

    from grader.render.terminal import render_terminal

    notes = [f"Cell {n}, line 1: skipped the IPython magic `%matplotlib inline`" for n in range(1, 8)]
    notes[0] = "Cell 1, line 1: skipped the IPython magic `%tensorflow_version 2.x`"
    console = Console(file=io.StringIO(), width=200, color_system=None)
    render_terminal(model_result(details={"notes": notes}), console)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "%tensorflow_version 2.x" in shown and "and 2 more (see the report)" in shown


def test_a_step_with_a_runner_exception_is_untouched() -> None:
    """Sandbox findings keep their own sentence and hint (no diagnosis of old code fires)."""
    exc = ExceptionInfo("ModelNotFound", "your script left no Keras model", hint="Put it in `model`.")
    e = make_evidence(
        EX4, steps={"import": ok("import"), "build_model": StepResult("build_model", "exception", exception=exc)}
    )
    cause = exception_cause("build_model", exc, e, EX4)
    assert cause.hint == "Put it in `model`."
