"""Feedback that fits what the learner's code did (an outside tester's honest submissions).

* A subclass of keras.Model (TensorFlow's "quickstart for experts" DigitNet) cannot be tested,
  because the trusted evaluation never runs a learner's call(); that is a limitation of the
  grader, not an unfair run: the fair-run check passes, the test accuracy check says so plainly
  and shows the same layers in keras.Sequential, and the model's description does not claim
  0 parameters for weights that did not exist yet.
* A custom GradientTape loop (no compile(), no fit()) that trained the model: the messages say
  it was trained another way and that the exercise asks for compile() and fit(), never that it
  was untrained or that a compiled loss expects probabilities. In quick mode nothing was
  shortened and nothing was tested, and the messages say that.
* A layer named with Chinese characters: TensorFlow's scope-name error gets its own hint,
  naming the layer name and the characters allowed (checked against the real exception once).

Pure tests on evidence written by hand (``test_judges.make_evidence``), except the one marked
integration, which imports TensorFlow in this process to raise the real scope-name error.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from test_judges import EX4, dense, flatten, judge, make_evidence, model_info

from grader.evidence import EvaluationEvidence, Evidence, ExceptionInfo, Frame, LayerInfo, StepResult, TrainInfo
from grader.judges.diagnose import diagnose_exception
from grader.scoring import score_evidence
from grader.trusted.archive import ModelRefused, check_config

# What the sandbox recorded of the DigitNet (Flatten, Dense(128, relu), Dense(10, softmax)):
# right after build_model() its layers hold no weights yet (model.build() on a subclass without
# a build() method creates none), after train() they do.
SUBCLASS_TYPE = "b02_subclassed.DigitNet"
REFUSAL = "the saved file holds a DigitNet, not a Keras Sequential or functional model"


def _digitnet(built: bool) -> object:
    layers = [flatten(), dense(128, "relu", name="dense"), dense(10, "softmax", inputs=128, name="dense_1")]
    if not built:
        for layer in layers:
            layer.params = 0
            layer.output_shape = None
    return model_info(
        layers,
        returned_type=SUBCLASS_TYPE,
        input_shape=None,
        output_shape=None,
        total_params=101770 if built else 0,
    )


def subclass_evidence() -> Evidence:
    evidence = make_evidence(
        EX4,
        model=_digitnet(built=False),  # type: ignore[arg-type]
        trained=_digitnet(built=True),  # type: ignore[arg-type]
        evaluation=EvaluationEvidence(status="error", error=REFUSAL, custom_model_class="DigitNet"),
    )
    assert evidence.sandbox.train is not None
    evidence.sandbox.train.fit_calls[0].x_shape = [60000, 28, 28]
    return evidence


def _checks(evidence: Evidence, mode: str = "full") -> dict[str, tuple[str, str, str]]:
    checks, _total, _passed = score_evidence(EX4, evidence, mode)
    return {check.id: (check.status, check.message, check.hint) for check in checks}


# --- a subclass of keras.Model -------------------------------------------------------------------


def test_the_archive_tells_a_subclass_from_a_hostile_file() -> None:
    with pytest.raises(ModelRefused) as subclass:
        check_config({"module": None, "class_name": "DigitNet", "config": {}}, max_params=None)
    assert subclass.value.custom_class == "DigitNet"
    # A built-in Keras class that is not a model (a layer saved as the file) is no subclass.
    with pytest.raises(ModelRefused) as layer:
        check_config({"module": "keras.layers", "class_name": "Dense", "config": {}}, max_params=None)
    assert layer.value.custom_class == ""
    two_inputs = {
        "class_name": "Functional",
        "config": {"layers": [], "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["c", 0, 0]]},
    }
    with pytest.raises(ModelRefused) as hostile:
        check_config(two_inputs, max_params=None)
    assert hostile.value.custom_class == ""


def test_a_subclass_is_not_accused_and_is_shown_how_to_rebuild_it() -> None:
    checks = _checks(subclass_evidence())
    assert checks["integrity"][0] == "passed", checks["integrity"]
    status, message, hint = checks["test_accuracy"]
    assert status == "failed"
    assert "DigitNet is a subclass of keras.Model" in message
    assert "keras.Sequential or the functional API" in message
    assert "fair-run" not in message
    assert (
        'keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"), '
        'keras.layers.Dense(10, activation="softmax")])' in hint
    )
    _checks_list, _total, passed = score_evidence(EX4, subclass_evidence())
    assert passed is False  # untested, so it cannot pass; but not for an unfair run


def test_a_subclass_in_quick_mode_says_the_same() -> None:
    checks = _checks(subclass_evidence(), "quick")
    assert checks["integrity"][0] == "passed"
    assert checks["test_accuracy"][0] == "failed" and "subclass of keras.Model" in checks["test_accuracy"][1]


def test_a_hostile_refusal_still_fails_the_fair_run_check() -> None:
    reason = "the model has 2 inputs and 1 outputs"
    evidence = make_evidence(EX4, evaluation=EvaluationEvidence(status="error", error=reason, refused=reason))
    assert judge("integrity", evidence, EX4).status == "failed"


def test_model_built_does_not_claim_zero_parameters_before_the_weights_exist() -> None:
    verdict = judge("model_built", subclass_evidence(), EX4)
    assert verdict.status == "passed"
    assert "0 parameters" not in verdict.message and "DigitNet model with 3 layers" in verdict.message
    # A built model keeps its count.
    assert "101,770 parameters" in judge("model_built", make_evidence(EX4, model=_digitnet(built=True)), EX4).message  # type: ignore[arg-type]


# --- a custom GradientTape loop -------------------------------------------------------------------


def tape_evidence(train_accuracy: float | None, *, graded_as: str = "script") -> Evidence:
    """The tester's script: Sequential with a linear output, trained by a GradientTape loop."""
    layers = [flatten(), dense(128, "relu", name="dense"), dense(10, "linear", inputs=128, name="dense_1")]
    model = model_info(layers, compiled=False, compile_config={}, input_shape=[28, 28, 1])
    if train_accuracy is None:  # quick mode: the trusted process read the facts, tested nothing
        evaluation = EvaluationEvidence(status="not_run", error="not measured in quick mode", model=model)
    else:
        evaluation = EvaluationEvidence(
            status="ok",
            test_accuracy=0.9763,
            n_test=10000,
            input_shape_used=[28, 28, 1],
            input_scaling="unit",
            probe_accuracy={"unit": 0.98, "raw": 0.98},
            model=copy.deepcopy(model),
            train_accuracy=train_accuracy,
            n_train=2000,
        )
    steps = {"import": StepResult(name="import", status="ok", seconds=1.0)}
    train = TrainInfo(returned_type="", is_history=False, history={}, epochs_run=0, fit_calls=[], seconds=0.0)
    evidence = make_evidence(EX4, model=model, steps=steps, train=train, evaluation=evaluation, data=None)
    evidence.sandbox.graded_as = graded_as
    evidence.sandbox.style = graded_as
    return evidence


def test_a_custom_loop_is_said_to_be_trained_another_way() -> None:
    checks = _checks(tape_evidence(0.991))
    status, message, hint = checks["compiled"]
    assert status == "failed" and "trained another way" in message and "custom training loop" in message
    assert "cannot train" not in message and "model.fit(" in hint
    status, message, _hint = checks["training"]
    assert status == "failed" and "trained another way" in message and "0.99" in message
    assert "never trained" not in message
    status, message, _hint = checks["output_layer"]
    assert status == "failed" and "logits" in message and "the loss expects" not in message


def test_an_untrained_model_without_fit_is_still_called_untrained() -> None:
    message = _checks(tape_evidence(0.1))["training"][1]
    assert "never trained" in message


def test_a_module_whose_train_loops_itself() -> None:
    evidence = tape_evidence(0.97, graded_as="module")
    assert evidence.sandbox.train is not None
    evidence.sandbox.train.returned_type = "builtins.NoneType"
    verdict = judge("training", evidence, EX4)
    assert "train() returned None and never called model.fit()" in verdict.message
    assert "trained another way" in verdict.message and "not trained" not in verdict.message


def test_quick_mode_without_fit_claims_no_trial_slice() -> None:
    checks = _checks(tape_evidence(None), "quick")
    status, message, _hint = checks["test_accuracy"]
    assert status == "skipped" and "trial slice" not in message and "model.fit()" in message
    status, message, _hint = checks["training"]
    assert status == "failed" and "never trained" not in message and "does not call model.fit()" in message
    assert checks["compiled"][0] == "failed" and "cannot train" not in checks["compiled"][1]
    assert checks["load_data"][0] == "skipped", checks["load_data"]


# --- a layer name TensorFlow refuses --------------------------------------------------------------

SCOPE_ERROR = (
    "'隐藏层' is not a valid scope name. A scope name has to match the following pattern: ^[A-Za-z0-9_.\\\\/>-]*$"
)


def _named(layer: LayerInfo, name: str) -> LayerInfo:
    layer.name = name
    layer.config["name"] = name
    return layer


def test_a_chinese_layer_name_gets_its_own_hint() -> None:
    layers = [flatten(), _named(dense(128, "relu"), "隐藏层"), _named(dense(10, "softmax", inputs=128), "输出层")]
    evidence = make_evidence(EX4, model=model_info(layers))
    exc = ExceptionInfo(
        type="ValueError",
        message=SCOPE_ERROR,
        frames=[Frame(file="b15.py", line=26, function="train", code="历史 = model.fit(...)")],
    )
    diagnosis = diagnose_exception(exc, "train", evidence, EX4)
    assert diagnosis is not None and diagnosis.key == "layer-scope-name"
    for words in ("'隐藏层'", "'输出层'", "ASCII letters, digits and _ . / > -", 'name="隐藏层"', 'name="hidden"'):
        assert words in diagnosis.hint, (words, diagnosis.hint)
    # The training check shows it instead of the generic "call train() yourself".
    evidence.sandbox.steps["train"] = StepResult(name="train", status="exception", exception=exc)
    verdict = judge("training", evidence, EX4)
    assert verdict.status == "error" and "ASCII" in verdict.hint


@pytest.mark.integration
def test_the_scope_name_hint_fits_the_real_exception(tmp_path: Path) -> None:
    """TensorFlow's own error for a Chinese layer name, as the sandbox describes it."""
    import keras
    import numpy as np

    from grader.sandbox.child import describe_exception

    model = keras.Sequential(
        [keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax", name="输出层")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    try:
        model.fit(np.zeros((8, 28, 28), "float32"), np.zeros(8, "int64"), epochs=1, verbose=0)
    except Exception as exc:  # noqa: BLE001 - whatever TensorFlow raises
        caught = describe_exception(exc, Path(__file__), Path(__file__).name)
    else:
        pytest.skip("this TensorFlow accepts non-ASCII layer names")
    diagnosis = diagnose_exception(caught, "train", None, EX4)
    assert diagnosis is not None and diagnosis.key == "layer-scope-name", caught.message
    assert "'输出层'" in diagnosis.hint and 'name="输出层"' in diagnosis.hint
