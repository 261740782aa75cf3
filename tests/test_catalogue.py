"""Every entry of the mistakes catalogue (``docs/mistakes.md``) is detected, with its message.

The catalogue is parsed; each numbered entry has a proof below, registered under the entry's
title, that builds the evidence of that mistake and checks what the judges say: the check that
catches it, its status and points, and the words of the message and hint the page quotes. The
Keras facts come from ``tests/test_judges.py`` (captured from Keras 3.15). Mistakes the sandbox
stops are proved through the runner's own reading of a dead child's evidence
(``grader.sandbox.runner.read_evidence``); ``tests/test_corpus.py`` makes the same mistakes in
real runs, and ``tests/test_isolation.py`` measures the limits.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from test_judges import (
    EX4,
    FASHION,
    SCCE_LOGITS,
    adam,
    compile_config,
    dense,
    flatten,
    layer,
    make_evidence,
    model_info,
    ok,
    raised,
)

from grader.evidence import (
    EvaluationEvidence,
    Evidence,
    ExceptionInfo,
    FitCall,
    FunctionInfo,
    ModelInfo,
    RunInfo,
    SandboxEvidence,
    StepResult,
    TrainInfo,
    to_json,
)
from grader.judges import JUDGES, Verdict
from grader.sandbox.limits import SandboxLimits
from grader.sandbox.runner import SandboxPlan, read_evidence
from grader.scoring import score_evidence

CATALOGUE_PATH = Path(__file__).resolve().parents[1] / "docs" / "mistakes.md"
ENTRY = re.compile(r"^(\d+)\. \*\*(.+?)\*\*", re.MULTILINE)
CATALOGUE: list[tuple[int, str]] = [
    (int(n), title) for n, title in ENTRY.findall(CATALOGUE_PATH.read_text(encoding="utf-8"))
]

PROOFS: dict[str, Callable[[], None]] = {}


def proves(title: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(proof: Callable[[], None]) -> Callable[[], None]:
        PROOFS[title] = proof
        return proof

    return register


def verdict(check_id: str, evidence: Evidence, spec=FASHION) -> Verdict:
    check = next(c for c in spec.checks if c.id == check_id)
    return JUDGES[check.judge](evidence, dict(check.params), spec)


def said(v: Verdict) -> str:
    return f"{v.message}\n{v.hint}"


def trained(history: dict[str, list[float]], test_accuracy: float, **evaluation: object) -> Evidence:
    fields = dict(status="ok", test_accuracy=test_accuracy, n_test=10000, input_scaling="unit")
    fields.update(evaluation)  # type: ignore[arg-type]
    return make_evidence(history=history, evaluation=EvaluationEvidence(**fields))  # type: ignore[arg-type]


def after_dead_child(
    tmp_path: Path, steps: dict[str, StepResult], run: RunInfo, limits: SandboxLimits | None = None
) -> Evidence:
    """Evidence as the runner reads it back from a child that died or was stopped mid-step."""
    path = tmp_path / "evidence.json"
    recorded = make_evidence(steps=steps, trained=None, train=None, evaluation=EvaluationEvidence(status="not_run"))
    path.write_text(json.dumps(to_json(recorded.sandbox)), encoding="utf-8")
    limits = limits or SandboxLimits(timeout_s=600, memory_bytes=4 * 1024**3)
    run.limits = limits.describe()
    plan = SandboxPlan(submission=Path("fashion_mnist.py"), functions={}, seed=42)
    sandbox = read_evidence(path, plan, run, limits, scratch_work=tmp_path / "work")
    return Evidence(sandbox=sandbox, evaluation=EvaluationEvidence(status="not_run", error="train() failed"))


def in_train(
    tmp_path: Path, limit: str | None, *, exception: ExceptionInfo | None = None, returncode: int = -9
) -> Evidence:
    steps = {"import": ok("import"), "build_model": ok("build_model")}
    steps["train"] = (
        StepResult("train", "exception", exception=exception) if exception else StepResult("train", "started")
    )
    return after_dead_child(tmp_path, steps, RunInfo(returncode=returncode, limit_hit=limit, isolation="bwrap"))


# --- the catalogue as a whole ------------------------------------------------------------------


def test_the_catalogue_is_numbered_and_long_enough() -> None:
    numbers = [n for n, _ in CATALOGUE]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(CATALOGUE) >= 15


def test_every_entry_has_a_proof() -> None:
    titles = {title for _, title in CATALOGUE}
    assert titles - set(PROOFS) == set(), "entries without a proof"
    assert set(PROOFS) - titles == set(), "proofs of entries the catalogue no longer has"


@pytest.mark.parametrize("title", [title for _, title in CATALOGUE], ids=[f"{n:02d}" for n, _ in CATALOGUE])
def test_entry(title: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # proofs that need files write them here
    PROOFS[title]()


# --- mistakes that stop the code ---------------------------------------------------------------


@proves("Activation name in the wrong case")
def _() -> None:
    e = make_evidence(
        steps={
            "import": ok("import"),
            "build_model": raised(
                "build_model", "ValueError", "Could not interpret activation function identifier: softMax", line=16
            ),
        },
        model=None,
        trained=None,
        train=None,
    )
    v = verdict("model_built", e)
    assert v.status == "error" and v.fraction == 0
    assert (
        v.message
        == "build_model() raised ValueError at fashion_mnist.py, line 16: Could not interpret activation function identifier: softMax"
    )
    assert v.hint == 'Keras names are case-sensitive: write activation="softmax" instead of "softMax".'
    assert (
        verdict("output_layer", e).message
        == "Not checked, because build_model() raised ValueError (fashion_mnist.py, line 16)."
    )


@proves("Typographic quotes")
def _() -> None:
    for quote in "‘«‹“":
        exc = raised(
            "import",
            "SyntaxError",
            f"invalid character '{quote}' (U+{ord(quote):04X})",
            line=22,
            code=f"model.compile(optimizer={quote}adam)",
        )
        e = make_evidence(steps={"import": exc}, functions={}, model=None, trained=None, train=None)
        v = verdict("functions_present", e)
        assert v.status == "error" and v.message.startswith(
            "Your file could not be run: SyntaxError at fashion_mnist.py, line 22"
        )
        assert f"Line 22 contains the typographic quote {quote}" in v.hint and "plain quote" in v.hint


@proves("`categorical_crossentropy` with integer labels")
def _() -> None:
    model = model_info(compile_config=compile_config(loss="categorical_crossentropy"))
    message = "Arguments `target` and `output` must have the same rank (ndim). Received: target.shape=(32,), output.shape=(32, 10)"
    steps = {
        "import": ok("import"),
        "build_model": ok("build_model"),
        "train": raised("train", "ValueError", message, line=27),
    }
    e = make_evidence(
        model=model,
        steps=steps,
        train=TrainInfo(
            returned_type="NoneType",
            is_history=False,
            fit_calls=[FitCall(x_shape=[60000, 28, 28], y_shape=[60000], epochs=5)],
        ),
    )
    v = verdict("training", e)
    assert v.status == "error" and 'use loss="sparse_categorical_crossentropy"' in v.hint
    assert verdict("loss", e).status == "failed" and verdict("loss", e).fraction == 0


@proves("`sparse_categorical_crossentropy` with one-hot labels")
def _() -> None:
    message = "Argument `output` must have rank (ndim) `target.ndim - 1`. Received: target.shape=(32, 10), output.shape=(32, 10)"
    steps = {"import": ok("import"), "build_model": ok("build_model"), "train": raised("train", "ValueError", message)}
    e = make_evidence(
        steps=steps,
        train=TrainInfo(
            returned_type="NoneType",
            is_history=False,
            fit_calls=[FitCall(x_shape=[60000, 28, 28], y_shape=[60000, 10], epochs=5)],
        ),
    )
    assert 'use loss="categorical_crossentropy", or keep integer labels' in verdict("training", e).hint
    assert verdict("loss", e).status == "failed"


@proves("`binary_crossentropy` for 10 classes")
def _() -> None:
    v = verdict("loss", make_evidence(model=model_info(compile_config=compile_config(loss="binary_crossentropy"))))
    assert v.status == "failed" and v.fraction == 0
    assert v.message == "The loss is binary_crossentropy, which is for two classes, not 10."


@proves("Missing `Flatten`")
def _() -> None:
    layers = [dense(64, "relu", inputs=28), dense(10, "softmax", inputs=64, name="dense_1")]
    layers[0].output_shape, layers[1].output_shape = [28, 64], [28, 10]
    e = make_evidence(model=model_info(layers=layers, output_shape=[28, 10]))
    v = verdict("output_layer", e)
    assert v.status == "failed" and v.fraction == 0
    assert v.message == "The model outputs shape (28, 10) for each image, not (10,)."
    assert "Flatten" in v.hint


@proves("Input shape that does not fit the images")
def _() -> None:
    v = verdict("input_shape", make_evidence(model=model_info(input_shape=[32, 32])))
    assert v.status == "failed" and v.message.startswith("The model takes inputs of shape (32, 32)")
    assert "keras.Input(shape=(28, 28))" in v.hint


@proves("Forgetting to compile")
def _() -> None:
    never = model_info(compiled=False, compile_config={})
    e = make_evidence(model=never, trained=copy.deepcopy(never))
    v = verdict("compiled", e)
    assert v.status == "failed" and v.message == "The model is never compiled, so Keras cannot train it."
    assert "model.compile(" in v.hint
    assert verdict("loss", e).message == "Not checked: the model is never compiled (see the compile check)."


@proves("Output units other than 10")
def _() -> None:
    layers = [flatten(), dense(64, "relu"), dense(5, "softmax", inputs=64, name="dense_1")]
    v = verdict("output_layer", make_evidence(model=model_info(layers=layers, output_shape=[5])))
    assert v.status == "failed" and v.fraction == 0.5
    assert "it has 5 units, but there are 10 classes" in v.message


@proves("Metrics passed positionally")
def _() -> None:
    e = make_evidence(model=model_info(compile_config=compile_config(metrics=None, loss_weights=["accuracy"])))
    v = verdict("accuracy_metric", e)
    assert v.status == "failed" and "loss_weights" in said(v) and "metrics=" in v.hint


@proves("Unknown loss, optimizer or metric names")
def _() -> None:
    steps = {
        "import": ok("import"),
        "build_model": raised("build_model", "ValueError", "Could not interpret loss identifier: sparse_crossentropy"),
    }
    v = verdict("model_built", make_evidence(steps=steps, model=None, trained=None, train=None))
    assert 'did you mean "sparse_categorical_crossentropy"?' in v.hint


@proves("The untouched stub")
def _() -> None:
    stub = raised("build_model", "NotImplementedError", "build_model() is not written yet", line=30)
    e = make_evidence(
        steps={"import": ok("import"), "build_model": stub},
        model=None,
        trained=None,
        train=None,
        evaluation=EvaluationEvidence(status="not_run"),
    )
    assert "build_model() still raises NotImplementedError" in verdict("functions_present", e).message
    assert verdict("model_built", e).message.startswith("build_model() is not written yet")
    assert score_evidence(FASHION, e)[1] == 0


@proves("Missing function or wrong parameters")
def _() -> None:
    functions = {
        "build_model": FunctionInfo("build_model", present=True, callable=True),
        "train": FunctionInfo("train", present=True, callable=True, parameters=["model"], required_parameters=1),
    }
    v = verdict("functions_present", make_evidence(functions=functions))
    assert v.status == "failed"
    assert "train(model) cannot be called as train(model, train_images, train_labels)" in v.message


@proves("`build_model()` returns None (or not a Keras model)")
def _() -> None:
    e = make_evidence(
        model=ModelInfo(returned_type="builtins.NoneType", is_keras_model=False), trained=None, train=None
    )
    v = verdict("model_built", e)
    assert v.message == "build_model() returned None instead of a Keras model."
    assert v.hint == "End build_model() with `return model`."


@proves("Missing imports and typos in names")
def _() -> None:
    steps = {"import": ok("import"), "build_model": raised("build_model", "NameError", "name 'tf' is not defined")}
    v = verdict("model_built", make_evidence(steps=steps, model=None, trained=None, train=None))
    assert "import tensorflow as tf" in v.hint


@proves("Runs that never end or end the process")
def _() -> None:
    tmp = Path.cwd()
    timed_out = in_train(tmp, "time")
    v = verdict("training", timed_out)
    assert v.status == "error"
    assert (
        v.message
        == "train() did not finish: the time limit of 600 s was reached (an endless loop, or training too long?)."
    )
    assert "train for fewer epochs" in v.hint
    steps = {
        "import": ok("import"),
        "build_model": ok("build_model"),
        "train": raised("train", "SystemExit", "the code called sys.exit(0)"),
    }
    exited = make_evidence(steps=steps, trained=None, train=None, evaluation=EvaluationEvidence(status="not_run"))
    assert "return from the function instead" in verdict("training", exited).hint
    for e in (timed_out, exited):
        assert not score_evidence(FASHION, e)[2]


# --- mistakes that train, but wrongly ----------------------------------------------------------


@proves("Sigmoid or linear output for 10 classes")
def _() -> None:
    layers = [flatten(), dense(64, "relu"), dense(10, "sigmoid", inputs=64, name="dense_1")]
    v = verdict("output_layer", make_evidence(model=model_info(layers=layers)))
    assert v.fraction == 0.5 and "sigmoid scores each class independently" in v.message
    layers = [flatten(), dense(64, "relu"), dense(10, "linear", inputs=64, name="dense_1")]
    v = verdict("output_layer", make_evidence(model=model_info(layers=layers)))
    assert v.fraction == 0.5 and "logits" in v.message


@proves("Softmax output with `from_logits=True`")
def _() -> None:
    v = verdict("loss", make_evidence(model=model_info(compile_config=compile_config(loss=SCCE_LOGITS))))
    assert v.status == "failed" and v.fraction == 0.5
    assert "logits" in v.message and "softmax" in v.message


@proves("No accuracy metric, or the wrong one")
def _() -> None:
    v = verdict("accuracy_metric", make_evidence(model=model_info(compile_config=compile_config(metrics=[]))))
    assert v.status == "failed" and v.fraction == 0


@proves("Pixels not scaled to [0, 1]")
def _() -> None:
    e = trained(
        {"accuracy": [0.70, 0.72], "loss": [1.2, 1.1]},
        0.71,
        input_scaling="raw",
        probe_accuracy={"unit": 0.1, "raw": 0.72},
    )
    v = verdict("test_accuracy", e)
    assert v.status == "failed" and "tested on raw 0-255 pixels" in v.message
    assert "divide the images by 255.0" in v.hint


@proves("Learning rate so high the loss diverges")
def _() -> None:
    model = model_info(compile_config=compile_config(optimizer=adam(5.0)))
    e = make_evidence(model=model, history={"accuracy": [0.10, 0.097], "loss": [117.0, 2.76]})
    assert "learned nothing" in verdict("training", e).message
    optimizer = verdict("optimizer", e)
    assert optimizer.fraction == 0.5 and "5000 times its default" in optimizer.message
    nan = make_evidence(history={"accuracy": [0.1, 0.1], "loss": [float("nan"), float("nan")]})
    assert "the training loss became nan at epoch 1" in verdict("training", nan).message


@proves("Too few epochs while accuracy is still rising")
def _() -> None:
    e = trained({"accuracy": [0.70, 0.78, 0.82], "loss": [0.9, 0.6, 0.5]}, 0.80)
    assert "Training accuracy was still rising at the last epoch (0.7800 -> 0.8200)" in verdict("test_accuracy", e).hint
    one_epoch = TrainInfo(
        returned_type="History",
        is_history=True,
        history={"accuracy": [0.8], "loss": [0.5]},
        epochs_run=1,
        fit_calls=[FitCall(x_shape=[60000, 28, 28], epochs=1)],
    )
    single = make_evidence(train=one_epoch)
    v = verdict("training", single)
    assert v.fraction == 0.5 and "a single epoch cannot show the loss falling" in v.message


@proves("Large train/test gap (overfitting)")
def _() -> None:
    e = trained({"accuracy": [0.95, 0.985], "loss": [0.2, 0.05]}, 0.84)
    v = verdict("test_accuracy", e)
    assert "Training accuracy 0.9850 against test accuracy 0.8400" in v.hint and "overfitting" in v.hint


@proves("A model far over the parameter budget")
def _() -> None:
    layers = [flatten(), dense(25_000, "relu"), dense(10, "softmax", inputs=25_000, name="dense_1")]
    e = make_evidence(EX4, model=model_info(layers=layers))
    v = verdict("hidden_layers", e, EX4)
    assert v.fraction == 0.5 and "over the budget of 2,000,000" in v.message


@proves("Not the chapter's architecture")
def _() -> None:
    layers = [flatten(), dense(128, "relu"), dense(10, "softmax", inputs=128, name="dense_1")]
    v = verdict("hidden_layers", make_evidence(model=model_info(layers=layers)))
    assert v.status == "failed" and v.fraction == 0.5
    cnn = [layer("Conv2D", [26, 26, 32], filters=32, kernel_size=[3, 3], activation="relu"),
           flatten(), dense(64, "relu", inputs=21632), dense(10, "softmax", inputs=64, name="dense_1")]  # fmt: skip
    v = verdict("hidden_layers", make_evidence(model=model_info(layers=cnn)))
    assert v.status == "failed" and v.fraction == 0.0 and "Dense(64, relu)" in v.message


@proves("`train()` does not return the History")
def _() -> None:
    train = TrainInfo(
        returned_type="builtins.NoneType",
        is_history=False,
        fit_calls=[FitCall(x_shape=[60000, 28, 28], y_shape=[60000], epochs=5)],
    )
    v = verdict("training", make_evidence(train=train))
    assert v.fraction == 0.5 and "returned None instead of the History that fit() returns" in v.message


@proves("A model the grader cannot load safely")
def _() -> None:
    error = "the model contains a Lambda layer (arbitrary code), which the grader does not load for safety; use built-in layers such as Rescaling or Flatten instead"
    e = make_evidence(evaluation=EvaluationEvidence(status="error", error=error))
    v = verdict("test_accuracy", e)
    assert v.status == "error" and "Lambda layer" in v.message
    assert not score_evidence(FASHION, e)[2]


# --- mistakes the sandbox stops or catches ---------------------------------------------------------


def assert_unfair(e: Evidence, *fragments: str) -> None:
    """The Fair run check fails, saying ``fragments``; the run does not pass."""
    v = verdict("integrity", e)
    assert v.status == "failed", said(v)
    for fragment in fragments:
        assert fragment in said(v), said(v)
    assert not score_evidence(FASHION, e)[2]


@proves("Using too much memory")
def _() -> None:
    e = in_train(Path.cwd(), "memory")
    v = verdict("training", e)
    assert v.message == (
        "train() did not finish: it used more than 4 GB of memory, the grader's memory limit "
        "(a very large model, batch or array?)."
    )
    assert "Use less memory" in v.hint or "smaller model or batch_size" in v.hint
    assert_unfair(e, "Your code was stopped by the grader's memory limit", "Use less memory")
    refused = in_train(Path.cwd(), None, exception=ExceptionInfo("MemoryError", ""), returncode=0)
    assert refused.sandbox.run.limit_hit == "memory"
    assert_unfair(refused, "the allocation was refused (MemoryError)")


@proves("Printing too much")
def _() -> None:
    e = in_train(Path.cwd(), "output")
    v = verdict("training", e)
    assert "it printed more than 32 MB, the grader's output limit" in v.message
    assert v.hint.startswith("Print less")
    assert_unfair(e, "stopped by the grader's output limit")


@proves("Starting processes")
def _() -> None:
    e = in_train(Path.cwd(), "processes")
    v = verdict("training", e)
    assert "it started more than 16 processes, the grader's process limit" in v.message
    assert v.hint.startswith("Don't start processes")
    assert_unfair(e, "stopped by the grader's process limit")


@proves("Writing large files")
def _() -> None:
    e = in_train(Path.cwd(), None, exception=ExceptionInfo("OSError", "[Errno 27] File too large"), returncode=0)
    assert e.sandbox.run.limit_hit == "file_size"
    assert verdict("training", e).hint.startswith("Write fewer and smaller files")
    assert_unfair(e, "it wrote a file larger than the limit of 512 MB")


@proves("Downloading data or weights")
def _() -> None:
    e = in_train(
        Path.cwd(), None, exception=ExceptionInfo("OSError", "[Errno 101] Network is unreachable"), returncode=0
    )
    v = verdict("training", e)
    assert "Network is unreachable" in v.message and "without a network" in v.hint
    served = ExceptionInfo(
        "DatasetNotServedError",
        "The grader serves only mnist and fashion_mnist offline; keras.datasets.cifar10 is not available while grading, so load one of those instead.",
    )
    steps = {
        "import": ok("import"),
        "load_data": StepResult("load_data", "exception", exception=served),
        "build_model": ok("build_model"),
    }
    e4 = make_evidence(
        EX4, steps=steps, data=None, trained=None, train=None, evaluation=EvaluationEvidence(status="not_run")
    )
    assert "serves only mnist and fashion_mnist" in verdict("load_data", e4, EX4).message


@proves("Writing outside the working folder")
def _() -> None:
    e = in_train(
        Path.cwd(), None, exception=ExceptionInfo("OSError", "[Errno 30] Read-only file system: '/usr/x'"), returncode=0
    )
    assert "only in its working folder" in verdict("training", e).hint


@proves("Training on the test split")
def _() -> None:
    e = make_evidence()
    assert e.sandbox.train is not None
    e.sandbox.train.fit_calls[0].x_fingerprint = "0123456789abcdef"
    e.evaluation.test_fingerprint = "0123456789abcdef"
    accuracy = verdict("test_accuracy", e)
    assert accuracy.status == "failed" and accuracy.fraction == 0
    assert accuracy.message.startswith("Not counted: the model was trained on the test split's images")
    assert_unfair(e, "trained the model on the test split's images")
    e.evaluation.test_fingerprint = "fedcba9876543210"  # another split: counted as usual
    assert verdict("test_accuracy", e).status == "passed"


@proves("Replacing Keras' `evaluate` or `predict`")
def _() -> None:
    e = make_evidence()
    e.sandbox.tampering = ["line 18: replaces tf.keras.Model.evaluate"]
    assert_unfair(e, "Your code changes how Keras measures a model (line 18: replaces tf.keras.Model.evaluate)")
    assert score_evidence(FASHION, e)[1] == 100  # the work itself still counts


@proves("A file Python cannot read")
def _() -> None:
    from grader.adapters import SubmissionFormatError, plan_submission

    latin1 = ExceptionInfo(
        "SyntaxError", "(unicode error) 'utf-8' codec can't decode byte 0xe9 in position 1: invalid continuation byte"
    )
    e = after_dead_child(
        Path.cwd(), {"import": StepResult("import", "exception", exception=latin1)}, RunInfo(returncode=0)
    )
    v = verdict("functions_present", e)
    assert "utf-8" in v.message and v.hint.startswith("Save the file as UTF-8")
    binary = Path("binary.py")
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)))
    with pytest.raises(SubmissionFormatError, match="is a binary file"):
        plan_submission(FASHION, binary)
    empty = make_evidence(
        functions={f.name: FunctionInfo(f.name, present=False) for f in FASHION.functions},
        steps={"import": ok("import")},
        model=None,
        trained=None,
        train=None,
    )
    assert verdict("functions_present", empty).message == "build_model() is not defined; train() is not defined."


# --- old TensorFlow and Keras code (messages as TensorFlow 2.21 / Keras 3.15 raise them; the
# same messages are produced for real in tests/test_hints_fit.py) ------------------------------


def in_build(type_: str, message: str, spec=FASHION, code: str = "") -> Evidence:
    steps = {"import": ok("import"), "build_model": raised("build_model", type_, message, code=code)}
    return make_evidence(
        spec, steps=steps, model=None, trained=None, train=None, evaluation=EvaluationEvidence(status="not_run")
    )


def in_train_step(type_: str, message: str, code: str = "", spec=FASHION) -> Evidence:
    steps = {
        "import": ok("import"),
        "build_model": ok("build_model"),
        "train": raised("train", type_, message, code=code),
    }
    if spec is EX4:
        steps["load_data"] = ok("load_data")
    return make_evidence(spec, steps=steps, trained=None, train=None, evaluation=EvaluationEvidence(status="not_run"))


@proves("TensorFlow 1 code")
def _() -> None:
    steps = {"import": raised("import", "ModuleNotFoundError", "No module named 'tensorflow.examples'", line=3)}
    e = make_evidence(EX4, steps=steps, functions={}, model=None, trained=None, train=None, data=None)
    v = verdict("functions_present", e, EX4)
    assert v.status == "error" and "ModuleNotFoundError" in v.message
    assert "This is TensorFlow 1 code" in v.hint and "tf.keras.datasets.mnist.load_data()" in v.hint
    assert "spelling" not in v.hint
    v = verdict("model_built", in_build("AttributeError", "module 'tensorflow' has no attribute 'placeholder'"))
    assert "tf.placeholder was removed in TensorFlow 2" in v.hint and "Session" in v.hint
    v = verdict("model_built", in_build("RuntimeError", "tf.placeholder() is not compatible with eager execution."))
    assert "tf.compat.v1" in v.hint


@proves("`lr=` instead of `learning_rate=`")
def _() -> None:
    v = verdict("model_built", in_build("ValueError", "Argument(s) not recognized: {'lr': 0.001}"))
    assert v.status == "error" and "Argument(s) not recognized" in v.message
    assert "write Adam(learning_rate=0.001)" in v.hint


@proves("Model methods Keras 3 removed")
def _() -> None:
    v = verdict("training", in_train_step("AttributeError", "'Sequential' object has no attribute 'predict_classes'"))
    assert "np.argmax(model.predict(images), axis=1)" in v.hint
    v = verdict("training", in_train_step("AttributeError", "'Functional' object has no attribute 'fit_generator'"))
    assert "model.fit(generator" in v.hint


@proves("Checkpoint and model file names")
def _() -> None:
    message = (
        "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must end in "
        "`.weights.h5` (Keras weights format). Received: filepath=training_1/cp.ckpt"
    )
    v = verdict("training", in_train_step("ValueError", message, spec=EX4), EX4)
    assert v.status == "error"
    assert 'ModelCheckpoint("training_1/cp.weights.h5", save_weights_only=True)' in v.hint
    assert "build_model() yourself" not in v.hint and "train() yourself" not in v.hint


@proves("Keras 2 imports")
def _() -> None:
    v = verdict(
        "model_built",
        in_build("ImportError", "cannot import name 'np_utils' from 'keras.utils' (keras/utils/__init__.py)"),
    )
    assert "from tensorflow.keras.utils import to_categorical" in v.hint
    v = verdict(
        "model_built", in_build("ModuleNotFoundError", "No module named 'tensorflow.keras.layers.experimental'")
    )
    assert "keras.layers.Rescaling(1 / 255)" in v.hint


@proves("`logs['acc']` in a callback")
def _() -> None:
    e = in_train_step(
        "TypeError", "'>' not supported between instances of 'NoneType' and 'float'", code="if logs.get('acc') > 0.99:"
    )
    v = verdict("training", e)
    assert "'acc'" in v.hint and "logs.get('accuracy')" in v.hint
    v = verdict("training", in_train_step("KeyError", "'acc'", code='if(logs["acc"] > 0.99):'))
    assert "logs['acc'] does not exist" in v.hint


@proves("A loss that compares labels and outputs value by value")
def _() -> None:
    model = model_info(compile_config=compile_config(loss="mse"))
    steps = {
        "import": ok("import"),
        "build_model": ok("build_model"),
        "train": raised("train", "InvalidArgumentError", "Incompatible shapes: [32] vs. [32,10]"),
    }
    e = make_evidence(
        model=model, steps=steps, trained=None, train=None, evaluation=EvaluationEvidence(status="not_run")
    )
    v = verdict("training", e)
    assert v.message.endswith("Incompatible shapes: [32] vs. [32,10]")
    assert "loss mean_squared_error compares them value by value" in v.hint
    assert 'loss="sparse_categorical_crossentropy"' in v.hint


@proves("Errors that come from where the grader runs the code")
def _() -> None:
    v = verdict("model_built", in_build("ModuleNotFoundError", "No module named 'google.colab'"))
    assert v.hint.startswith("This happens only where the grader runs your code")
    v = verdict("training", in_train_step("FileNotFoundError", "[Errno 2] No such file or directory: 'mnist.npz'"))
    assert "empty working folder" in v.hint and '"mnist.npz"' in v.hint
    v = verdict("model_built", in_build("ModuleNotFoundError", "No module named 'sklearn'"))
    assert "installed on your computer" in v.hint


@proves("`input_dim=` on the first Dense layer")
def _() -> None:
    layers = [dense(64, "relu", inputs=784), dense(10, "softmax", inputs=64, name="dense_1")]
    e = make_evidence(model=model_info(layers=layers, input_shape=[784]))
    assert verdict("input_shape", e).status == "passed"
    assert verdict("output_layer", e).status == "passed"


def test_a_silent_or_killed_child_never_passes(tmp_path: Path) -> None:
    """Whatever was lost, no check that needed it gives points, and the run does not pass."""
    for run in (
        RunInfo(returncode=-9),
        RunInfo(returncode=0),
        RunInfo(returncode=-9, limit_hit="memory"),
        RunInfo(returncode=137, isolation="bwrap"),
    ):
        for spec in (FASHION, EX4):
            path = tmp_path / "evidence.json"
            path.write_text("", encoding="utf-8")  # nothing recorded, or garbage
            plan = SandboxPlan(submission=Path(spec.stub), functions={}, seed=42)
            sandbox = read_evidence(path, plan, run, SandboxLimits())
            checks, score, passed = score_evidence(spec, Evidence(sandbox=sandbox))
            assert not passed and score == 0, [(c.id, c.status, c.score) for c in checks]
            assert all(c.status in ("error", "failed", "skipped") for c in checks if c.max_score), [
                (c.id, c.status) for c in checks
            ]
    # The same with a forged evidence file that claims success but carries no run facts.
    forged = SandboxEvidence(submission="fashion_mnist.py", seed=42, steps={"import": StepResult("import", "ok")})
    path.write_text(json.dumps(to_json(forged)), encoding="utf-8")
    sandbox = read_evidence(
        path,
        SandboxPlan(submission=Path("fashion_mnist.py"), functions={}, seed=42),
        RunInfo(returncode=0),
        SandboxLimits(),
    )
    assert not score_evidence(FASHION, Evidence(sandbox=sandbox))[2]
