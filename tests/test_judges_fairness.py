"""Fair verdicts for honest code an outside tester found judged unfairly, on evidence by hand.

* A model that scales its own pixels (``Rescaling(1/255)``, ``Normalization``) and is trained on
  raw 0-255 pixels gets the scaling credit and no advice to divide by 255 anywhere; fed images
  already divided by 255, it scales them twice, and the hint says so.
* A label out of range names the dataset's highest label, not the first TensorFlow met.
* A loss that "fell" only to chance level (a linear output read as probabilities) is not a
  training that worked, and the hints point at the output layer and the loss.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from grader.evidence import ArrayInfo, EvaluationEvidence, Evidence, FitCall, LayerInfo, ModelInfo
from grader.judges.diagnose import diagnose_exception
from grader.judges.scaling import model_scaling_layer, scaling_layer_of
from grader.render.report import render_html, render_markdown, report_context
from grader.result import CheckResult, GradeResult, ResultDetails
from tests.test_judges import (
    EX4,
    FASHION,
    compile_config,
    dense,
    exc,
    flatten,
    input_layer,
    judge,
    make_evidence,
    mnist_data,
    model_info,
)

# keras.layers.Rescaling(1.0 / 255) as layer.get_config() records it (Keras 3.15, captured from
# an outside tester's graded model).
RESCALING_CONFIG = {
    "name": "rescaling",
    "trainable": True,
    "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None},
    "scale": 0.00392156862745098,
    "offset": 0.0,
}


def rescaling(scale: Any = 0.00392156862745098, offset: Any = 0.0) -> LayerInfo:
    config = {**RESCALING_CONFIG, "scale": scale, "offset": offset}
    return LayerInfo(name="rescaling", class_name="Rescaling", params=0, output_shape=[28, 28], config=config)


def normalization(**config: Any) -> LayerInfo:
    return LayerInfo(
        name="normalization",
        class_name="Normalization",
        params=3,
        output_shape=[28, 28],
        config={"name": "normalization", "axis": [-1], "mean": None, "variance": None, "invert": False, **config},
    )


def self_scaling_model(first: LayerInfo | None = None) -> ModelInfo:
    """b03's model: Input -> Rescaling(1/255) -> Flatten -> Dense(128, relu) -> Dense(10, softmax)."""
    layers = [first or rescaling(), flatten(), dense(128, "relu"), dense(10, "softmax", inputs=128, name="dense_1")]
    return model_info(layers)


def raw_fit(n: int = 60000) -> FitCall:
    return FitCall(x_shape=[n, 28, 28], x_dtype="uint8", x_min=0.0, x_max=255.0, y_shape=[n], epochs=5)


def unit_fit(n: int = 60000) -> FitCall:
    return FitCall(x_shape=[n, 28, 28], x_dtype="float32", x_min=0.0, x_max=1.0, y_shape=[n], epochs=5)


RAW_EVALUATION = {"input_scaling": "raw", "probe_accuracy": {"unit": 0.10, "raw": 0.97}}


def certificate_evidence(model: ModelInfo, fit: FitCall, accuracy: float = 0.9748, **evaluation: Any) -> Evidence:
    """A solution_model() run (b03): the trusted evaluation measured ``model`` from the file."""
    figures = {**RAW_EVALUATION, **evaluation}
    trusted = EvaluationEvidence(
        status="ok", test_accuracy=accuracy, n_test=10000, n_train=1000, model=copy.deepcopy(model), **figures
    )
    evidence = make_evidence(EX4, model=model, functions={}, data=None, evaluation=trusted)
    evidence.sandbox.graded_as = "certificate"
    assert evidence.sandbox.train is not None
    evidence.sandbox.train.fit_calls = [fit]
    return evidence


def saved_model_evidence(model: ModelInfo, unit: float, raw: float) -> Evidence:
    """A .keras file handed in (b19): no run, only the trusted evaluation's probe."""
    scaling = "raw" if raw > unit + 0.05 else "unit"
    trusted = EvaluationEvidence(
        status="ok",
        test_accuracy=max(unit, raw),
        n_test=10000,
        n_train=1000,
        input_scaling=scaling,
        probe_accuracy={"unit": unit, "raw": raw},
        model=copy.deepcopy(model),
    )
    evidence = make_evidence(EX4, model=model, functions={}, data=None, train=None, evaluation=trusted)
    evidence.sandbox.graded_as = "saved_model"
    return evidence


NO_DIVIDING = ("divide", "255.0", "/ 255")


def assert_no_advice_to_divide(*texts: str) -> None:
    for text in texts:
        assert not any(word in text for word in NO_DIVIDING), text


# --- recognising the layer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layers, shown",
    [
        ([rescaling()], "Rescaling(1/255)"),
        ([input_layer([28, 28]), rescaling()], "Rescaling(1/255)"),
        ([rescaling(1 / 127.5, -1.0)], "Rescaling(0.00784314, offset=-1)"),
        ([rescaling([1 / 255, 1 / 255, 1 / 255], 0.0)], "Rescaling(1/255)"),
        ([normalization()], "Normalization()"),
        ([normalization(mean=33.3, variance=6172.0)], "Normalization()"),
        # After Flatten (or a data-augmentation layer) it still scales the pixels.
        ([flatten(), rescaling()], "Rescaling(1/255)"),
    ],
)
def test_scaling_layers_are_recognised(layers: list[LayerInfo], shown: str) -> None:
    found = scaling_layer_of([*layers, dense(10, "softmax")])
    assert found is not None and found.shown == shown


@pytest.mark.parametrize(
    "layers",
    [
        [rescaling(1.0)],  # a no-op: the pixels stay 0-255
        [rescaling(1 / 25.5)],  # 0-10: not a unit scale
        [dense(64, "relu"), rescaling()],  # scales features, not pixels
        [normalization(mean=0.0, variance=1.0)],  # leaves 0-255 as it is
        [rescaling("1/255")],  # not a number Keras wrote
        [flatten(), dense(10, "softmax")],
    ],
)
def test_other_layers_are_not_taken_for_scaling(layers: list[LayerInfo]) -> None:
    assert scaling_layer_of(layers) is None


def test_a_nested_preprocessing_model_is_searched() -> None:
    inner = {
        "class_name": "Sequential",
        "params": 0,
        "config": {"layers": [{"class_name": "RandomFlip", "config": {}}, {"class_name": "Rescaling", "config": RESCALING_CONFIG}]},
    }  # fmt: skip
    found = scaling_layer_of([inner, {"class_name": "Flatten", "config": {}}, {"class_name": "Dense", "params": 7850}])
    assert found is not None and found.shown == "Rescaling(1/255)"
    assert model_scaling_layer(None) is None


# --- the scaling credit -----------------------------------------------------------------------------


def test_certificate_model_that_rescales_raw_pixels_gets_the_scaling_credit() -> None:
    """b03 (and quick mode q1, which runs the same judge on the trusted model facts)."""
    evidence = certificate_evidence(self_scaling_model(), raw_fit())
    verdict = judge("load_data", evidence, EX4)
    assert verdict.status == "passed" and verdict.fraction == 1.0, verdict
    assert "scales them itself with its Rescaling(1/255) layer" in verdict.message
    assert_no_advice_to_divide(verdict.message, verdict.hint)


def test_certificate_model_with_normalization_gets_the_scaling_credit() -> None:
    evidence = certificate_evidence(self_scaling_model(normalization()), raw_fit())
    verdict = judge("load_data", evidence, EX4)
    assert verdict.status == "passed" and "Normalization()" in verdict.message


def test_without_a_scaling_layer_raw_pixels_still_fail() -> None:
    evidence = certificate_evidence(model_info(), raw_fit())
    verdict = judge("load_data", evidence, EX4)
    assert verdict.status == "failed" and "Divide the images by 255.0" in verdict.hint


def test_scaling_twice_gets_its_own_hint() -> None:
    evidence = certificate_evidence(self_scaling_model(), unit_fit(), input_scaling="unit")
    verdict = judge("load_data", evidence, EX4)
    assert verdict.status == "failed" and verdict.fraction == 0.5
    assert "scales them again" in verdict.message and "Scale the pixels once" in verdict.hint
    # A Normalization layer adapts to what it is given: [0, 1] images are fine for it.
    adapted = certificate_evidence(self_scaling_model(normalization()), unit_fit(), input_scaling="unit")
    assert judge("load_data", adapted, EX4).status == "passed"


@pytest.mark.parametrize(
    "unit, raw, status, fragment",
    [
        (0.10, 0.97, "passed", "scales the pixels itself with its Rescaling(1/255) layer"),  # b19
        (0.95, 0.96, "passed", "scales the pixels itself"),
        (0.96, 0.11, "failed", "scales them again"),  # trained on images divided before the layer
        (0.11, 0.10, "skipped", "looks untrained"),
    ],
)
def test_saved_model_that_rescales(unit: float, raw: float, status: str, fragment: str) -> None:
    verdict = judge("load_data", saved_model_evidence(self_scaling_model(), unit, raw), EX4)
    assert verdict.status == status and fragment in verdict.message, verdict.message
    if status != "failed":
        assert_no_advice_to_divide(verdict.message, verdict.hint)


def module_evidence(model: ModelInfo, images: ArrayInfo, fit: FitCall) -> Evidence:
    data = mnist_data(train_images=images, test_images=ArrayInfo(shape=[10000, *images.shape[1:]], dtype=images.dtype,
                                                                  min=images.min, max=images.max))  # fmt: skip
    evidence = make_evidence(EX4, model=model, data=data)
    assert evidence.sandbox.train is not None
    evidence.sandbox.train.fit_calls = [fit]
    return evidence


def test_module_load_data_may_return_raw_pixels_for_a_model_that_scales_them() -> None:
    raw = ArrayInfo(shape=[50000, 28, 28], dtype="uint8", min=0.0, max=255.0)
    verdict = judge("load_data", module_evidence(self_scaling_model(), raw, raw_fit(50000)), EX4)
    assert verdict.status == "passed" and verdict.fraction == 1.0, verdict
    assert "the model scales the pixels itself with its Rescaling(1/255) layer" in verdict.message
    # The same data for a model without the layer: the dtype and scaling criteria fail.
    plain = judge("load_data", module_evidence(model_info(), raw, raw_fit(50000)), EX4)
    assert plain.status == "failed" and plain.fraction == pytest.approx(3 / 5)


def test_module_load_data_scaled_and_rescaled_loses_the_scaling_criterion() -> None:
    unit = ArrayInfo(shape=[50000, 28, 28], dtype="float32", min=0.0, max=1.0)
    verdict = judge("load_data", module_evidence(self_scaling_model(), unit, unit_fit(50000)), EX4)
    assert verdict.status == "failed" and verdict.fraction == pytest.approx(4 / 5)
    assert "divides them again" in verdict.message and "scale the pixels once" in verdict.hint.lower()


# --- test accuracy ----------------------------------------------------------------------------------


def test_test_accuracy_of_a_self_scaling_model_gives_no_advice_to_divide() -> None:
    evidence = certificate_evidence(self_scaling_model(), raw_fit())
    verdict = judge("test_accuracy", evidence, EX4)
    assert verdict.status == "passed"
    assert "which its Rescaling(1/255) layer scales itself" in verdict.message
    assert "clearly better on them" not in verdict.message
    low = judge("test_accuracy", certificate_evidence(self_scaling_model(), raw_fit(), accuracy=0.80), EX4)
    assert low.status == "failed"
    assert_no_advice_to_divide(low.message, low.hint)
    assert "scaled to [0, 1]" not in low.hint


def test_test_accuracy_hint_for_scaling_twice() -> None:
    evidence = certificate_evidence(self_scaling_model(), unit_fit(), accuracy=0.80, input_scaling="unit")
    verdict = judge("test_accuracy", evidence, EX4)
    assert "scales them again" in verdict.hint and "Scale the pixels once" in verdict.hint


def test_raw_pixels_without_a_scaling_layer_still_get_the_hint() -> None:
    verdict = judge("test_accuracy", certificate_evidence(model_info(), raw_fit(), accuracy=0.62), EX4)
    assert "divide the images by 255.0" in verdict.hint


def grade_result(evidence: Evidence) -> GradeResult:
    from dataclasses import asdict

    model = evidence.evaluation.model
    details = ResultDetails(model=asdict(model) if model else None, evaluation=asdict(evidence.evaluation))
    check = CheckResult(id="test_accuracy", name="Test accuracy", status="passed", score=1, max_score=1, message="")
    return GradeResult(exercise="exercise4", submission="b03.py", passed=True, score=1, max_score=1, pass_mark=0.5,
                       seed=42, grader_version="test", elapsed_s=1.0, checks=[check], details=details)  # fmt: skip


def test_report_says_the_model_scales_its_pixels() -> None:
    context = report_context(grade_result(certificate_evidence(self_scaling_model(), raw_fit())))
    for text in (render_markdown(context, {}), render_html(context, {})):
        assert "scales the pixels itself with its Rescaling(1/255) layer" in text
        assert "dividing by 255" not in text
    plain = report_context(grade_result(certificate_evidence(model_info(), raw_fit())))
    assert "dividing by 255" in render_markdown(plain, {})


# --- the labels' real maximum -----------------------------------------------------------------------


def test_label_out_of_range_names_the_datasets_highest_label() -> None:
    """f06: TensorFlow met label 8 first; MNIST's labels go up to 9."""
    error = exc("InvalidArgumentError", "Received a label value of 8 which is outside the valid range of [0, 5).")
    diagnosis = diagnose_exception(error, "train", None, EX4)
    assert diagnosis is not None and "the labels go up to 9" in diagnosis.hint and "up to 8" not in diagnosis.hint
    wrong = exc("InvalidArgumentError", "Received a label value of 10 which is outside the valid range of [0, 10).")
    diagnosis = diagnose_exception(wrong, "train", None, EX4)
    assert diagnosis is not None and "the labels go up to 10" in diagnosis.hint


# --- a loss that ends at chance level ---------------------------------------------------------------

# f04: Dense(10) with no activation, sparse_categorical_crossentropy without from_logits (MNIST).
F04_HISTORY = {"loss": [2.3641, 2.3110, 2.3050, 2.3030, 2.3022], "accuracy": [0.21, 0.23, 0.24, 0.245, 0.2482]}


def linear_output_evidence(spec: Any = EX4, **compile_kwargs: Any) -> Evidence:
    layers = [flatten(), dense(128, "relu"), dense(10, "linear", inputs=128, name="dense_1")]
    model = model_info(layers, compile_config=compile_config(**compile_kwargs))
    evidence = make_evidence(spec, model=model, history=copy.deepcopy(F04_HISTORY))
    evidence.evaluation.test_accuracy = 0.2435
    return evidence


def test_a_loss_that_ends_at_chance_level_did_not_train_well() -> None:
    verdict = judge("training", linear_output_evidence(), EX4)
    assert verdict.status == "failed" and verdict.fraction == 0.5
    assert "chance level" in verdict.message and f"ln 10 = {math.log(10):.4f}" in verdict.message
    assert "output layer and the loss" in verdict.hint and "softmax" in verdict.hint


def test_chance_level_hint_without_an_output_problem() -> None:
    """A correct model that stays at chance (a tiny learning rate, say) gets the general hint."""
    evidence = make_evidence(EX4, history=copy.deepcopy(F04_HISTORY))
    verdict = judge("training", evidence, EX4)
    assert verdict.status == "failed" and "learning rate" in verdict.hint


def test_a_loss_that_falls_well_below_chance_level_passes() -> None:
    history = {"loss": [2.2, 1.1, 0.6, 0.4, 0.3], "accuracy": [0.3, 0.7, 0.85, 0.9, 0.92]}
    assert judge("training", make_evidence(EX4, history=history), EX4).status == "passed"
    assert judge("training", make_evidence(FASHION), FASHION).status == "passed"


def test_low_test_accuracy_points_at_the_failing_output_and_loss_checks() -> None:
    verdict = judge("test_accuracy", linear_output_evidence(), EX4)
    assert verdict.status == "failed"
    assert "output layer and the loss" in verdict.hint and "more epochs" not in verdict.hint
