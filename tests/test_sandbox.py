"""The sandbox and the whole pipeline on tiny synthetic data (real TensorFlow, tiny sets).

Each test runs learner code in a real child process, so each costs a few seconds (TensorFlow's
import in the child); the data are the tiny IDX files of the ``tiny_data_dir`` fixture.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.pipeline import GradeOptions, grade_submission
from grader.result import GradeResult
from grader.spec import load_exercise

CHAPTER_MODEL = """
import tensorflow as tf


def build_model():
    model = tf.keras.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(64, activation="{activation}"),
        tf.keras.layers.Dense(10, activation="{output}"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
{train_body}
"""

GOOD_TRAIN = "    return model.fit(train_images, train_labels, epochs=30, verbose=0)"


def write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def chapter_submission(tmp_path: Path, *, activation: str = "relu", output: str = "softmax", train_body: str = GOOD_TRAIN) -> Path:
    source = CHAPTER_MODEL.format(activation=activation, output=output, train_body=train_body)
    return write(tmp_path, "fashion_mnist.py", source)


def grade(path: Path, exercise: str = "fashion_mnist", **options) -> GradeResult:
    return grade_submission(load_exercise(exercise), path, GradeOptions(**options))


def check(result: GradeResult, check_id: str):
    return next(c for c in result.checks if c.id == check_id)


def failed_text(result: GradeResult) -> str:
    """Every message and hint of the checks that did not pass, for assertions on wording."""
    return "\n".join(f"{c.message} {c.hint}" for c in result.checks if c.status != "passed")


def test_working_tiny_model_passes(tiny_data_dir: Path, tmp_path: Path) -> None:
    result = grade(chapter_submission(tmp_path))
    assert result.passed, failed_text(result)
    assert result.score == result.max_score
    assert result.metrics["test_accuracy"] >= 0.85
    assert result.metrics["epochs"] == 30
    assert result.seed == 42
    assert result.details["model"]["total_params"] == 50_890


def test_stub_fails_naming_not_implemented(tiny_data_dir: Path) -> None:
    spec = load_exercise("fashion_mnist")
    result = grade_submission(spec, spec.stub_path)
    assert not result.passed
    assert result.score == 0
    assert "NotImplementedError" in failed_text(result)


def test_exception_in_train_reports_learner_line(tiny_data_dir: Path, tmp_path: Path) -> None:
    body = "    data = train_images * 2\n    raise RuntimeError('my own bug')\n"
    path = chapter_submission(tmp_path, train_body=body)
    result = grade(path)
    assert not result.passed
    error = result.details["errors"][0]
    assert error["step"] == "train" and error["type"] == "RuntimeError"
    line = path.read_text().splitlines().index("    raise RuntimeError('my own bug')") + 1
    assert error["frames"][-1]["line"] == line
    assert f"line {line}" in failed_text(result)
    assert result.metrics["test_accuracy"] is None


def test_timeout_is_reported_as_one(tiny_data_dir: Path, tmp_path: Path) -> None:
    path = chapter_submission(tmp_path, train_body="    while True:\n        pass\n")
    result = grade(path, timeout_s=12)
    assert not result.passed
    assert result.details["limit_hit"] == "time"
    assert "time limit" in failed_text(result)
    # The model was built before the loop: its checks still count, the training ones cannot.
    assert check(result, "output_layer").status == "passed"


def test_wrong_case_activation_says_write_softmax(tiny_data_dir: Path, tmp_path: Path) -> None:
    result = grade(chapter_submission(tmp_path, output="softMax"))
    assert not result.passed
    assert '"softmax"' in failed_text(result)


def test_sys_exit_in_train_does_not_end_grading(tiny_data_dir: Path, tmp_path: Path) -> None:
    result = grade(chapter_submission(tmp_path, train_body="    import sys\n    sys.exit(3)\n"))
    assert not result.passed
    assert "sys.exit(3)" in failed_text(result)


def test_os_exit_in_train_is_a_failure_not_a_crash(tiny_data_dir: Path, tmp_path: Path) -> None:
    result = grade(chapter_submission(tmp_path, train_body="    import os\n    os._exit(0)\n"))
    assert not result.passed
    assert result.metrics["test_accuracy"] is None
    assert "train() did not finish" in failed_text(result)


def test_output_is_bounded(tiny_data_dir: Path, tmp_path: Path) -> None:
    body = "    for _ in range(200_000):\n        print('x' * 100)\n" + GOOD_TRAIN + "\n"
    result = grade(chapter_submission(tmp_path, train_body=body))
    assert len(result.details["output"]) <= 64 * 1024
    assert result.details["output_truncated_bytes"] > 19_000_000
    assert result.passed, failed_text(result)


def test_exercise4_functions_with_keras_loader(tiny_data_dir: Path, tmp_path: Path) -> None:
    """exercise4: the learner loads MNIST with tf.keras.datasets, served offline by the grader."""
    source = """
        import tensorflow as tf


        def load_data():
            (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
            return (x_train / 255.0, y_train), (x_test / 255.0, y_test)


        def build_model():
            model = tf.keras.Sequential([
                tf.keras.Input(shape=(28, 28)),
                tf.keras.layers.Flatten(),
                tf.keras.layers.Dense(128, activation="relu"),
                tf.keras.layers.Dense(10, activation="softmax"),
            ])
            model.compile(optimizer=tf.keras.optimizers.Adam(),
                          loss=tf.keras.losses.SparseCategoricalCrossentropy(),
                          metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])
            return model


        def train(model, train_images, train_labels):
            return model.fit(train_images, train_labels, epochs=30, verbose=0)
    """
    result = grade(write(tmp_path, "exercise4.py", source), exercise="exercise4")
    assert result.passed, failed_text(result)
    assert result.score == result.max_score
