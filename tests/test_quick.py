"""Quick mode (``grade EXERCISE --quick``, ``grader.quick``): a preview from a trial fit.

Unit tests (milliseconds): the trial fit's arguments, the preview's scoring, its wording.
Real runs on the tiny synthetic datasets (a TensorFlow start in the child each, about 5 s):
the catalogue of mistakes (``docs/mistakes.md``) in quick mode, a representative set that
covers every kind of mistake that does not depend on the full training, and the CLI's exit code.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from test_judges import FASHION, make_evidence

from grader.cli import EXIT_PREVIEW, main
from grader.evidence import EvaluationEvidence, FitCall
from grader.pipeline import GradeOptions, grade_submission
from grader.quick import NOT_MEASURED, QuickTrial
from grader.render.terminal import render_terminal
from grader.result import GradeResult
from grader.sandbox.child import _first_samples, trial_fit_arguments
from grader.scoring import score_evidence
from grader.spec import load_exercise

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "docs" / "mistakes.md"

# --- the trial fit's arguments (no TensorFlow) -------------------------------------------------


class _Array:
    """Just enough of an array: a shape and slicing, recording the slice taken."""

    def __init__(self, n: int) -> None:
        self.shape = (n, 28, 28)

    def __getitem__(self, index: slice) -> _Array:
        return _Array(len(range(*index.indices(self.shape[0]))))


def _keras_fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
               validation_split=0.0, validation_data=None, shuffle=True, class_weight=None, sample_weight=None,
               initial_epoch=0, steps_per_epoch=None, validation_steps=None, validation_batch_size=None,
               validation_freq=1):  # fmt: skip
    """Keras 3's Model.fit signature (keras/src/backend/tensorflow/trainer.py)."""


def test_trial_fit_slices_arrays_and_runs_one_epoch() -> None:
    quick = QuickTrial(samples=512, epochs=1).to_plan()
    arguments = trial_fit_arguments(
        _keras_fit,
        object(),
        _Array(60000),
        _Array(60000),
        (),
        {"epochs": 5, "validation_data": (_Array(10000), _Array(10000))},
        quick,
    )
    assert arguments["x"].shape[0] == 512 and arguments["y"].shape[0] == 512
    assert [part.shape[0] for part in arguments["validation_data"]] == [512, 512]
    assert arguments["epochs"] == 1
    assert "steps_per_epoch" not in arguments or arguments["steps_per_epoch"] is None


def test_trial_fit_binds_positional_arguments_and_keeps_initial_epoch() -> None:
    # fit(x, y, 64, 10) passes batch_size and epochs by position.
    arguments = trial_fit_arguments(
        _keras_fit, object(), _Array(1000), _Array(1000), (64, 10), {"initial_epoch": 3}, {"samples": 100}
    )
    assert arguments["batch_size"] == 64 and arguments["epochs"] == 4 and arguments["x"].shape[0] == 100


def test_trial_fit_limits_steps_when_data_cannot_be_sliced() -> None:
    dataset = object()  # a tf.data.Dataset or a generator: no shape
    arguments = trial_fit_arguments(
        _keras_fit, object(), dataset, None, (), {"epochs": 5, "steps_per_epoch": 1000}, {"samples": 512}
    )
    assert arguments["x"] is dataset and arguments["steps_per_epoch"] == 16 and arguments["epochs"] == 1
    assert arguments["validation_steps"] == 16


def test_first_samples_of_dicts_lists_and_non_arrays() -> None:
    assert _first_samples({"a": _Array(9), "b": _Array(9)}, 4)["a"].shape[0] == 4
    assert [p.shape[0] for p in _first_samples([_Array(9), _Array(9)], 2)] == [2, 2]
    assert _first_samples(None, 4) is None and _first_samples(7, 4) is None and _first_samples("text", 4) is None


# --- scoring a preview (hand-made evidence) ----------------------------------------------------


def _statuses(evidence: Any, spec: Any = FASHION) -> dict[str, tuple[str, float, str]]:
    checks, _, passed = score_evidence(spec, evidence, "quick")
    assert passed is None  # a preview has no verdict
    return {c.id: (c.status, c.score, c.message) for c in checks}


def test_preview_skips_test_accuracy_and_the_loss_curve() -> None:
    trial = {"loss": [2.3], "accuracy": [0.11]}  # one epoch on a slice: says nothing
    evidence = make_evidence(history=trial, evaluation=EvaluationEvidence(status="not_run", error="not measured"))
    statuses = _statuses(evidence)
    assert statuses["test_accuracy"][0] == "skipped" and statuses["test_accuracy"][2].startswith(NOT_MEASURED)
    assert statuses["training"][0] == "skipped" and "trial fit" in statuses["training"][2]
    # The architecture, compile and functions checks are judged as in a full grading.
    for check_id in ("functions_present", "model_built", "compiled", "input_shape", "hidden_layers",
                     "output_layer", "loss", "optimizer", "accuracy_metric", "integrity"):  # fmt: skip
        assert statuses[check_id][0] == "passed", (check_id, statuses[check_id])


def test_preview_does_not_blame_the_learning_rate_for_a_trial_history() -> None:
    """A trial History that ends at chance must not cost the optimizer half its points."""
    evidence = make_evidence(history={"loss": [2.31, 2.35], "accuracy": [0.1, 0.1]})
    assert _statuses(evidence)["optimizer"][0] == "passed"


def test_preview_keeps_what_the_trial_fit_showed() -> None:
    # train() called fit but returned None: a mistake the trial shows, kept as the judge says.
    evidence = make_evidence(train="default")
    assert evidence.sandbox.train is not None
    evidence.sandbox.train.is_history = False
    evidence.sandbox.train.returned_type = "builtins.NoneType"
    evidence.sandbox.train.fit_calls = [FitCall(epochs=5)]
    status, score, message = _statuses(evidence)["training"]
    assert status == "failed" and score == 5.0 and "returned None" in message


def test_full_mode_is_unchanged() -> None:
    _checks, score, passed = score_evidence(
        FASHION,
        make_evidence(
            evaluation=EvaluationEvidence(status="ok", test_accuracy=0.87, n_test=10000, input_scaling="unit")
        ),
    )
    assert passed is True and score == 100


def test_terminal_says_preview_not_passed() -> None:
    checks, score, _ = score_evidence(FASHION, make_evidence(), "quick")
    result = GradeResult(exercise="fashion_mnist", submission="f.py", passed=None, score=score, max_score=100,
                         pass_mark=80, seed=42, grader_version="0", elapsed_s=4.0, checks=checks, mode="quick")  # fmt: skip
    console = Console(record=True, width=200)
    render_terminal(result, console)
    text = console.export_text()
    assert "PREVIEW" in text and "not measured" in text and "PASSED" not in text
    assert "Points so far: 60 of the 60 that quick mode can check (100 in all)" in text
    assert result.to_json()["mode"] == "quick" and result.to_json()["passed"] is None


def test_full_goes_only_with_watch(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fashion_mnist", "x.py", "--full"]) == 2


# --- the catalogue of mistakes in quick mode (real runs, tiny data) -----------------------------

FASHION_SOURCE = """
import tensorflow as tf
from tensorflow import keras


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
    return model.fit(train_images, train_labels, epochs=5, verbose=0)
"""


def variant(*replacements: tuple[str, str], source: str = FASHION_SOURCE) -> str:
    for old, new in replacements:
        assert old in source, old
        source = source.replace(old, new)
    return source


CHAPTER_LAYERS = """        keras.Input(shape=(28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),"""
COMPILE = 'model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])'
FIT = "return model.fit(train_images, train_labels, epochs=5, verbose=0)"
EX4_SOURCE = (ROOT / "solutions" / "exercise4" / "exercise4.py").read_text(encoding="utf-8")

# (catalogue entries proved, exercise, source, {check id: (status, fragment of message + hint)})
CASES: list[tuple[tuple[int, ...], str, str, dict[str, tuple[str, str]]]] = [
    ((1,), "fashion_mnist", variant(('activation="softmax"', 'activation="softMax"')),
     {"model_built": ("error", 'activation="softmax"')}),
    ((2,), "fashion_mnist", variant(('optimizer="adam"', "optimizer=\u2018adam\u2019")),
     {"functions_present": ("error", "typographic quote")}),
    ((3, 5), "fashion_mnist", variant(("sparse_categorical_crossentropy", "categorical_crossentropy")),
     {"training": ("error", "sparse_categorical_crossentropy"), "loss": ("failed", "")}),
    ((4,), "fashion_mnist", variant((FIT, "return model.fit(train_images, keras.utils.to_categorical(train_labels, 10), epochs=5)")),
     {"training": ("error", "categorical_crossentropy"), "loss": ("failed", "")}),
    ((6,), "fashion_mnist", variant(("        keras.layers.Flatten(),\n", "")),
     {"output_layer": ("failed", "(28, 10)")}),
    ((7,), "fashion_mnist", variant(("keras.Input(shape=(28, 28))", "keras.Input(shape=(784,))")),
     {"training": ("error", "784")}),
    ((8,), "fashion_mnist", variant((COMPILE, "")),
     {"compiled": ("failed", "compile"), "training": ("error", "compile")}),
    ((9,), "fashion_mnist", variant(("Dense(10, activation", "Dense(5, activation")),
     {"output_layer": ("failed", "5 units"), "training": ("error", "")}),
    ((10,), "fashion_mnist", variant((COMPILE, 'model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])')),
     {"accuracy_metric": ("failed", "loss_weights")}),
    # Keras 3 accepts an unknown loss name at compile() and refuses it at the first fit: the trial fit meets it.
    ((11,), "fashion_mnist", variant(('loss="sparse_categorical_crossentropy"', 'loss="sparse_crossentropy"')),
     {"training": ("error", "sparse_categorical_crossentropy")}),
    ((12,), "fashion_mnist", (ROOT / "exercises" / "fashion_mnist" / "fashion_mnist.py").read_text(encoding="utf-8"),
     {"functions_present": ("failed", "NotImplementedError")}),
    ((13, 14), "fashion_mnist", variant(("    return model\n", "    model\n"), ("def train(model, train_images, train_labels)", "def train(model)")),
     {"model_built": ("error", "return model"), "functions_present": ("failed", "train(model, train_images, train_labels)")}),
    ((15,), "fashion_mnist", variant(("import tensorflow as tf\nfrom tensorflow import keras\n", "")),
     {"model_built": ("error", "import")}),
    ((16,), "fashion_mnist", variant((FIT, "import sys\n    sys.exit(1)")),
     {"training": ("error", "sys.exit")}),
    # Mistakes that train, but wrongly, and can be told without training: one file, three checks.
    ((17, 25, 26), "fashion_mnist",
     variant(('Dense(10, activation="softmax")', 'Dense(10, activation="sigmoid")'), ("Dense(64,", "Dense(128,"),
             (FIT, "model.fit(train_images, train_labels, epochs=5, verbose=0)")),
     {"output_layer": ("failed", "sigmoid"), "hidden_layers": ("failed", "128"), "training": ("failed", "returned None")}),
    # keras.metrics.Accuracy() compares labels and outputs value by value: its check fails, and
    # with integer labels against 10 outputs Keras 3 raises in the first batch.
    ((19,), "fashion_mnist", variant(('metrics=["accuracy"]', "metrics=[keras.metrics.Accuracy()]")),
     {"accuracy_metric": ("failed", "Accuracy"), "training": ("error", "")}),
    # A callback error (TensorFlow 1's logs key) and replacing Keras' evaluate: caught in the trial fit and the scan.
    ((18, 35), "fashion_mnist",
     variant(('loss="sparse_categorical_crossentropy"', "loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)"),
             ("def train(", "tf.keras.Model.evaluate = lambda *a, **k: [0.0, 1.0]\n\n\ndef train(")),
     {"loss": ("failed", "from_logits"), "integrity": ("failed", "evaluate")}),
    # The trusted process reads the model's facts in quick mode too, and refuses a Lambda layer.
    ((27,), "fashion_mnist", variant(("        keras.layers.Flatten(),\n", "        keras.layers.Lambda(lambda x: x * 1.0),\n        keras.layers.Flatten(),\n")),
     {"test_accuracy": ("error", "Lambda layer")}),
    # Code written for TensorFlow 1 or Keras 2 stops at once; quick mode meets it as a full grading does.
    ((37,), "fashion_mnist", variant(("from tensorflow import keras\n", "from tensorflow import keras\nfrom tensorflow.examples.tutorials.mnist import input_data\n")),
     {"functions_present": ("error", "TensorFlow 1")}),
    ((38,), "fashion_mnist", variant(('optimizer="adam"', "optimizer=keras.optimizers.Adam(lr=0.001)")),
     {"model_built": ("error", "learning_rate")}),
    ((39,), "fashion_mnist", variant((FIT, "history = model.fit(train_images, train_labels, epochs=5, verbose=0)\n    model.predict_classes(train_images[:5])\n    return history")),
     {"training": ("error", "argmax")}),
    # input_dim= (Keras 2) is accepted, and the tutorial's checkpoint name is refused in the trial fit.
    ((40, 45), "fashion_mnist",
     variant((CHAPTER_LAYERS, '''        keras.layers.Dense(64, activation="relu", input_dim=784),
        keras.layers.Dense(10, activation="softmax"),'''),
             (FIT, '''checkpoint = keras.callbacks.ModelCheckpoint("training_1/cp.ckpt", save_weights_only=True)
    return model.fit(train_images.reshape(-1, 784), train_labels, epochs=5, callbacks=[checkpoint])''')),
     {"input_shape": ("passed", "(784,)"), "training": ("error", ".weights.h5")}),
    ((41,), "fashion_mnist", variant(("from tensorflow import keras\n", "from tensorflow import keras\nfrom keras.utils import np_utils\n")),
     {"functions_present": ("error", "to_categorical")}),
    ((43,), "fashion_mnist", variant(('loss="sparse_categorical_crossentropy"', 'loss="mse"')),
     {"training": ("error", "sparse_categorical_crossentropy")}),
    ((44,), "fashion_mnist", variant(("from tensorflow import keras\n", "from tensorflow import keras\nfrom google.colab import drive\n")),
     {"functions_present": ("error", "Colab")}),
    ((20, 24), "exercise4",
     variant(('train_images.astype("float32") / 255.0', 'train_images.astype("float32")'), ("Dense(128,", "Dense(3000,"), source=EX4_SOURCE),
     {"load_data": ("failed", "255"), "hidden_layers": ("failed", "2,000,000")}),
]  # fmt: skip

CALLBACK_ERROR_ENTRY = 42  # `logs.get("acc")` in a callback: met when the trial fit ends its epoch
CALLBACK_ERROR = variant(
    (
        FIT,
        """class StopAt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs.get("acc") > 0.9:
                self.model.stop_training = True
    return model.fit(train_images, train_labels, epochs=5, verbose=0, callbacks=[StopAt()])""",
    )
)

# Catalogue entries quick mode cannot catch, and why (each is caught by a full grading).
NOT_IN_QUICK_MODE = {
    21: "a diverging loss shows only over real training: a trial fit's few steps on a slice say nothing about it",
    22: "'too few epochs' is read from the History and the test accuracy of the full training",
    23: "overfitting is the gap between training and test accuracy: no test accuracy in quick mode",
}
# The sandbox's limits and walls (entries 28-34, 36) are the same sandbox in both modes (proved by
# tests/test_corpus.py and tests/test_isolation.py); a run that needs the full training to reach a
# limit (memory grown epoch by epoch) reaches it only in a full grading.
SAME_SANDBOX = {28, 29, 30, 31, 32, 33, 34, 36}


def test_every_catalogue_entry_has_a_quick_mode_answer() -> None:
    numbers = {int(n) for n in re.findall(r"^(\d+)\. \*\*", CATALOGUE.read_text(encoding="utf-8"), re.MULTILINE)}
    covered = {n for entries, *_ in CASES for n in entries} | {CALLBACK_ERROR_ENTRY}
    assert numbers == covered | set(NOT_IN_QUICK_MODE) | SAME_SANDBOX, (
        "a new catalogue entry: add a quick-mode case or say why not"
    )
    assert not covered & set(NOT_IN_QUICK_MODE)


def _grade_quick(tmp_path: Path, exercise: str, source: str, name: str | None = None) -> GradeResult:
    spec = load_exercise(exercise)
    path = tmp_path / (name or spec.stub)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return grade_submission(spec, path, GradeOptions(quick=True, data_dir=None))


# Catalogue entries graded in the slow lane only (CI runs it; each is a grading with two TensorFlow
# starts): the default lane keeps a case for every check quick mode reports on, with the same
# kind of failure (an exception while building, at import, in the trial fit; a judged setting).
SLOW_ENTRIES = {
    (4,): "3,5: labels that do not fit the loss, met in the trial fit",
    (43,): "3,5: labels that do not fit the loss, met in the trial fit",
    (7,): "6: a shape error in the trial fit",
    (9,): "6 and 17,25,26: the output layer judged",
    (11,): "8: a compile setting the trial fit trips on",
    (13, 14): "2 and 12: the functions checked",
    (15,): "1: build_model() raises",
    (16,): "the same sandbox and limits as a full grading (test_corpus.py, test_sandbox.py)",
    (19,): "10: the metrics judged",
    (37,): "2: an exception at import",
    (38,): "1: build_model() raises",
    (39,): "43: an exception in the trial fit",
    (41,): "2: an exception at import",
    (44,): "2: an exception at import",
}
SAMPLED_CASES = [
    pytest.param(*case, marks=[pytest.mark.slow] if case[0] in SLOW_ENTRIES else [], id=",".join(map(str, case[0])))
    for case in CASES
]


def test_the_slow_entries_are_catalogue_cases() -> None:
    assert set(SLOW_ENTRIES) <= {case[0] for case in CASES}


@pytest.mark.parametrize(("entries", "exercise", "source", "expected"), SAMPLED_CASES)
def test_catalogue_mistake_caught_in_quick_mode(
    tiny_data_dir: Path,
    tmp_path: Path,
    entries: tuple[int, ...],
    exercise: str,
    source: str,
    expected: dict[str, tuple[str, str]],
) -> None:
    result = _grade_quick(tmp_path, exercise, source)
    assert result.mode == "quick" and result.passed is None
    by_id = {c.id: c for c in result.checks}
    assert by_id["test_accuracy"].status == ("error" if 27 in entries else "skipped")
    for check_id, (status, fragment) in expected.items():
        check = by_id[check_id]
        said = f"{check.message}\n{check.hint}"
        assert check.status == status, (check_id, check.status, said)
        assert fragment in said, (check_id, fragment, said)


def test_callback_error_is_met_in_the_trial_fit(tiny_data_dir: Path, tmp_path: Path) -> None:
    result = _grade_quick(tmp_path, "fashion_mnist", CALLBACK_ERROR)
    training = next(c for c in result.checks if c.id == "training")
    assert training.status == "error" and "NoneType" in training.message, training
    assert "logs.get('accuracy')" in training.hint, training  # the catalogue's hint for TensorFlow 1's key


def test_quick_cli_on_a_good_model_is_a_preview(tiny_data_dir: Path, tmp_path: Path) -> None:
    """Through the command line: exit 3, JSON mode "quick", one trial epoch though 5 are asked
    for, no report written, and the same sandbox (isolation recorded) as a full grading."""
    path = tmp_path / "fashion_mnist.py"
    path.write_text(FASHION_SOURCE, encoding="utf-8")
    out = tmp_path / "result.json"
    completed = subprocess.run(
        [sys.executable, "-m", "grader", "fashion_mnist", str(path), "--quick", "--quiet", "--json", str(out)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert completed.returncode == EXIT_PREVIEW, completed.stderr
    assert "PREVIEW" in completed.stdout and "Traceback" not in completed.stderr
    data = json.loads(out.read_text())
    assert data["mode"] == "quick" and data["passed"] is None and data["metrics"]["test_accuracy"] is None
    assert data["metrics"]["epochs"] == 1 and data["details"]["fit_calls"][0]["epochs"] == 5
    statuses = {c["id"]: c["status"] for c in data["checks"]}
    assert statuses["test_accuracy"] == statuses["training"] == "skipped"
    assert all(
        status == "passed" for check_id, status in statuses.items() if check_id not in ("test_accuracy", "training")
    )
    assert not (tmp_path / "grade-reports").exists()
