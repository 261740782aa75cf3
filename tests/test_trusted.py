"""Trusted evaluation and trusted facts (grader.trusted, grader.evaluation, the integrity judge).

Unit tests first (no TensorFlow, milliseconds): the archive checks on hand-made configs, the
judges on hand-made trusted facts, the validation of the sandbox's record, the request and the
answer between the grader and its evaluation process. Then integration tests on the tiny
synthetic datasets (a TensorFlow process each), and the memorised test split on the real data
(slow).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from test_judges import (
    EX4,
    SGD,
    compile_config,
    dense,
    flatten,
    judge,
    layer,
    make_evidence,
    model_info,
)

from grader.evidence import (
    EvaluationEvidence,
    Evidence,
    FitCall,
    SandboxEvidence,
    SavedWeights,
    validate_sandbox_evidence,
)
from grader.judges.vocabulary import canonical_activation, canonical_loss, canonical_metrics
from grader.trusted.archive import ModelRefused, check_archive, check_config
from grader.trusted.protocol import (
    DEFAULT_SECONDS,
    NOTHING_TO_EVALUATE,
    EvaluationError,
    EvaluationRequest,
    ModelMeasured,
    Predictions,
    read_answer,
)

ROOT = Path(__file__).resolve().parents[1]

# =================================================================================================
# The archive: config.json read as JSON before anything loads it
# =================================================================================================


def dense_config(name: str, units: int, inputs: int | None, activation: str = "linear") -> dict[str, Any]:
    """A Dense layer as Keras 3.15 writes it into config.json (trimmed to the keys that matter)."""
    entry: dict[str, Any] = {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": {"name": name, "units": units, "activation": activation, "use_bias": True},
        "registered_name": None,
    }
    if inputs is not None:
        entry["build_config"] = {"input_shape": [None, inputs]}
    return entry


def chapter_config(**compile_extra: Any) -> dict[str, Any]:
    """The chapter's Sequential model as config.json holds it."""
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": "sequential",
            "layers": [
                {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 28, 28]}},
                {
                    "module": "keras.layers",
                    "class_name": "Flatten",
                    "config": {"name": "flatten"},
                    "build_config": {"input_shape": [None, 28, 28]},
                },
                dense_config("dense", 64, 784, "relu"),
                dense_config("dense_1", 10, 64, "softmax"),
            ],
        },
        "compile_config": compile_config(**compile_extra),
    }


def functional_config(inputs: int = 1, applications: int = 1) -> dict[str, Any]:
    """A functional model; ``applications`` times one Dense(784) applied to its own output."""

    def tensor(layer_name: str, node: int) -> dict[str, Any]:
        return {
            "class_name": "__keras_tensor__",
            "config": {"shape": [None, 784], "keras_history": [layer_name, node, 0]},
        }

    layers: list[dict[str, Any]] = []
    for i in range(inputs):
        layers.append(
            {"class_name": "InputLayer", "name": f"in{i}", "config": {"batch_shape": [None, 784]}, "inbound_nodes": []}
        )
    repeat = dense_config("repeat", 784, 784, "relu")
    repeat["inbound_nodes"] = [{"args": [tensor("repeat" if i else "in0", max(i - 1, 0))]} for i in range(applications)]
    out = dense_config("out", 10, 784, "softmax")
    out["inbound_nodes"] = [{"args": [tensor("repeat", applications - 1)]}]
    layers += [repeat, out]
    ports = [[f"in{i}", 0, 0] for i in range(inputs)]
    return {
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "config": {
            "layers": layers,
            "input_layers": ports[0] if inputs == 1 else ports,
            "output_layers": ["out", 0, 0],
        },
    }


def test_chapter_model_passes_and_its_parameters_are_counted_from_the_config() -> None:
    facts = check_config(chapter_config(), max_params=20_000_000)
    assert facts.estimated_params == 50_890  # what model.count_params() says
    assert (facts.inputs, facts.outputs, facts.layers) == (1, 1, 4)
    assert facts.compile_config["optimizer"]["class_name"] == "Adam"


def test_a_cnn_is_counted_too() -> None:
    config = chapter_config()
    conv = {
        "class_name": "Conv2D",
        "config": {"filters": 32, "kernel_size": [3, 3], "use_bias": True},
        "build_config": {"input_shape": [None, 28, 28, 1]},
    }
    config["config"]["layers"].insert(1, conv)
    # Keras: Conv2D(32, 3) on one channel has 3*3*1*32 + 32 = 320 parameters.
    assert check_config(config, max_params=None).estimated_params == 50_890 + 320


def test_a_giant_layer_is_refused_before_loading() -> None:
    config = chapter_config()
    config["config"]["layers"][2] = dense_config("dense", 1_440_000, 784, "relu")  # 784 x 1.44M + 1.44M, and 650 more
    with pytest.raises(ModelRefused, match="1,130,400,650 parameters, more than the 20,000,000"):
        check_config(config, max_params=20_000_000)


def test_two_inputs_are_refused() -> None:
    with pytest.raises(ModelRefused, match="2 inputs and 1 outputs"):
        check_config(functional_config(inputs=2), max_params=None)
    assert check_config(functional_config(inputs=1), max_params=None).inputs == 1


def test_a_layer_applied_thousands_of_times_is_refused() -> None:
    assert check_config(functional_config(applications=50), max_params=None).nodes == 51
    with pytest.raises(ModelRefused, match="applies its layers more than 2,000 times"):
        check_config(functional_config(applications=5000), max_params=None)


def test_not_a_model_is_refused() -> None:
    with pytest.raises(ModelRefused, match="not a Keras Sequential or functional model"):
        check_config({"class_name": "Dense", "config": {}}, max_params=None)


def write_keras(path: Path, config: Any, members: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", config if isinstance(config, (str, bytes)) else json.dumps(config))
        archive.writestr("metadata.json", "{}")
        for name, data in (members or {}).items():
            archive.writestr(name, data)
    return path


def test_archive_checks(tmp_path: Path) -> None:
    good = write_keras(tmp_path / "good.keras", chapter_config())
    assert check_archive(good, max_params=None).estimated_params == 50_890
    # 5 MB of JSON: bigger than any model for these exercises; read no further.
    big = write_keras(tmp_path / "big.keras", " " * (5 * 1024 * 1024) + json.dumps(chapter_config()))
    with pytest.raises(ModelRefused, match=r"config\.json"):
        check_archive(big, max_params=None)
    not_zip = tmp_path / "text.keras"
    not_zip.write_text("hello")
    with pytest.raises(ModelRefused, match=r"not a readable \.keras file"):
        check_archive(not_zip, max_params=None)
    with pytest.raises(ModelRefused, match=r"no config\.json"):
        _no_config(tmp_path)
    broken = write_keras(tmp_path / "broken.keras", "{not json")
    with pytest.raises(ModelRefused, match="not valid JSON"):
        check_archive(broken, max_params=None)


def _no_config(tmp_path: Path) -> None:
    path = tmp_path / "noconfig.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.weights.h5", b"x")
    check_archive(path, max_params=None)


def test_a_fifo_or_a_link_is_refused_without_opening_it(tmp_path: Path) -> None:
    fifo = tmp_path / "model.keras"
    os.mkfifo(fifo)
    with pytest.raises(ModelRefused, match="not a regular file"):
        check_archive(fifo, max_params=None)  # returns at once: a FIFO is never opened
    link = tmp_path / "link.keras"
    link.symlink_to(write_keras(tmp_path / "real.keras", chapter_config()))
    with pytest.raises(ModelRefused, match="not a regular file"):
        check_archive(link, max_params=None)


# =================================================================================================
# Judges read the trusted facts, not the run's
# =================================================================================================

# What the run claimed (a patched recorder): the chapter's model, Adam.
CLAIMED = model_info()
# What the trusted evaluation measured in the file: tanh hidden layer, logits, SGD.
MEASURED = model_info(
    layers=[flatten(), dense(64, "tanh", name="dense"), dense(10, "linear", inputs=64, name="dense_1")],
    compile_config=compile_config(
        optimizer=SGD,
        loss={"module": "keras.losses", "class_name": "SparseCategoricalCrossentropy", "config": {"from_logits": True}},
    ),
)


def trusted_evidence(measured: Any = MEASURED, **evaluation_fields: Any) -> Evidence:
    evidence = make_evidence(model=copy.deepcopy(CLAIMED))
    evidence.evaluation.model = copy.deepcopy(measured)
    evidence.evaluation.train_accuracy = 0.88
    evidence.evaluation.n_train = 10_000
    for key, value in evaluation_fields.items():
        setattr(evidence.evaluation, key, value)
    return evidence


def test_forged_facts_change_nothing() -> None:
    evidence = trusted_evidence()
    assert evidence.graded_model is evidence.evaluation.model
    assert judge("optimizer", evidence).status == "failed"
    assert "SGD" in judge("optimizer", evidence).message
    assert judge("output_layer", evidence).status == "failed"
    hidden = judge("hidden_layers", evidence)
    assert hidden.status == "failed" and "tanh" in hidden.message
    # Without the trusted facts (no model came back) the run's claims are all there is.
    evidence.evaluation.model = None
    assert judge("optimizer", evidence).status == "passed"


def test_trusted_facts_need_no_model_from_the_run() -> None:
    """A run that claims build_model() returned nothing still has its scored model judged."""
    evidence = trusted_evidence(measured=copy.deepcopy(CLAIMED))
    evidence.sandbox.model = None
    evidence.sandbox.trained_model = None
    assert judge("hidden_layers", evidence).status == "passed"
    assert judge("output_layer", evidence).status == "passed"


def test_fashion_mnist_asks_for_the_chapters_network() -> None:
    cnn = model_info(
        layers=[
            layer("Conv2D", [26, 26, 32], 320, filters=32, kernel_size=[3, 3], activation="relu"),
            flatten(21632),
            dense(64, "relu", inputs=21632),
            dense(10, "softmax", inputs=64, name="out"),
        ]
    )
    verdict = judge("hidden_layers", trusted_evidence(measured=cnn))
    assert verdict.status == "failed" and verdict.fraction == 0.0
    assert "different architecture" in verdict.message and "Dense(64, relu)" in verdict.message
    deeper = model_info(
        layers=[
            flatten(),
            dense(64, "relu"),
            dense(64, "relu", inputs=64, name="d2"),
            dense(10, "softmax", inputs=64, name="out"),
        ]
    )
    assert judge("hidden_layers", trusted_evidence(measured=deeper)).fraction == 0.0
    # The same layer with another size keeps the share for its activation.
    wider = model_info(layers=[flatten(), dense(128, "relu"), dense(10, "softmax", inputs=128, name="out")])
    assert judge("hidden_layers", trusted_evidence(measured=wider)).fraction == 0.5
    # exercise4 welcomes a CNN.
    ex4_cnn = trusted_evidence(measured=cnn)
    assert judge("hidden_layers", ex4_cnn, EX4).status == "passed"


# =================================================================================================
# The integrity check: memorised test split, weights, refused files
# =================================================================================================


def test_a_model_better_on_the_test_split_than_on_training_images_fails() -> None:
    evidence = trusted_evidence(measured=copy.deepcopy(CLAIMED), test_accuracy=0.9216, train_accuracy=0.8394)
    verdict = judge("integrity", evidence)
    assert verdict.status == "failed"
    assert (
        "0.9216" in verdict.message and "0.8394" in verdict.message and "trained on the test split" in verdict.message
    )
    accuracy = judge("test_accuracy", evidence)
    assert accuracy.status == "failed" and accuracy.fraction == 0.0 and "Not counted" in accuracy.message


@pytest.mark.parametrize(
    "test, train, n_test, n_train",
    [
        (0.8647, 0.8905, 10_000, 10_000),
        (0.9750, 0.9880, 10_000, 10_000),
        (0.87, 0.85, 10_000, 10_000),
        (0.34, 0.285, 50, 200),
    ],
)
def test_honest_gaps_pass(test: float, train: float, n_test: int, n_train: int) -> None:
    """Honest models measured here do better on training images; a small excess is noise, and
    on tiny samples a large one can be too."""
    evidence = trusted_evidence(
        measured=copy.deepcopy(CLAIMED), test_accuracy=test, train_accuracy=train, n_test=n_test, n_train=n_train
    )
    assert judge("integrity", evidence).status == "passed"


def saved(**fields: Any) -> SavedWeights:
    values = {"after_fit": "abc", "at_save": "abc", "fitted": True}
    values.update(fields)
    return SavedWeights(**values)


@pytest.mark.parametrize(
    "record, digest, fragment",
    [
        (saved(), "abc", None),
        (saved(after_fit="abc", at_save="def"), "def", "not the ones model.fit left"),
        (saved(save_overridden="Sequential.save"), "abc", "replaces Keras' save() (Sequential.save)"),
        (saved(fitted=False, after_fit=None, fit_calls_on_other_models=1), "abc", "model.fit trained another model"),
        (saved(fitted=False, after_fit=None), "abc", None),  # no fit at all (a GradientTape loop): nothing to compare
        # An outside tester's attack: weights trained elsewhere set in a callback's on_train_end,
        # behind a fit on 1,000 images whose History reaches about 0.9.
        (saved(replaced_when_fit_ended=True), "abc", "were set as model.fit ended"),
        (None, "abc", None),
    ],
)
def test_the_model_scored_is_the_model_fit_left(record: SavedWeights | None, digest: str, fragment: str | None) -> None:
    evidence = trusted_evidence(measured=copy.deepcopy(CLAIMED), weights_digest=digest)
    evidence.sandbox.saved_weights = record
    verdict = judge("integrity", evidence)
    if fragment is None:
        assert verdict.status == "passed", verdict.message
    else:
        assert verdict.status == "failed" and fragment in verdict.message
        assert judge("test_accuracy", evidence).fraction == 0.0


# --- what the fits did, against the returned History and the saved settings -------------------


def test_a_history_edited_after_training_fails_the_integrity_check() -> None:
    """An outside tester's attack: a frozen model's one-epoch fit, then ``h.history = {...}``
    showing three epochs of falling loss. The training check reads what fit logged; the
    integrity check names both."""
    evidence = trusted_evidence(measured=copy.deepcopy(CLAIMED))
    train = evidence.sandbox.train
    train.history = {"loss": [0.1221], "accuracy": [0.9641]}  # what fit logged
    train.epochs_run = 1
    train.fit_calls[0].epochs = 1
    train.claimed_history = {"loss": [0.41, 0.19, 0.1221], "accuracy": [0.885, 0.941, 0.9641]}
    train.history_edited = True
    verdict = judge("integrity", evidence)
    assert verdict.status == "failed"
    assert "loss 0.4100 -> 0.1221 over 3 epochs" in verdict.message
    assert "loss 0.1221 -> 0.1221 over 1 epoch" in verdict.message
    assert "History that model.fit returns" in verdict.hint
    assert judge("training", evidence).status == "failed"  # a single logged epoch


@pytest.mark.parametrize(
    "changed, measured, fails",
    [
        (False, 0.96, True),  # weights set by hand (closed form), layers frozen around the fit
        (False, 0.11, False),  # frozen by mistake: a model near chance; the training check says so
        (True, 0.96, False),
        (None, 0.96, False),  # no digest taken: nothing is known
    ],
)
def test_a_fit_that_changed_no_weight_cannot_explain_a_good_model(
    changed: bool | None, measured: float, fails: bool
) -> None:
    evidence = trusted_evidence(measured=copy.deepcopy(CLAIMED), train_accuracy=measured, test_accuracy=measured - 0.01)
    evidence.sandbox.saved_weights = saved(changed_by_fit=changed)
    evidence.sandbox.train.history = {"loss": [0.12, 0.12], "accuracy": [measured, measured]}
    verdict = judge("integrity", evidence)
    assert (verdict.status == "failed") == fails, verdict.message
    if fails:
        assert "changed none of the model's weights" in verdict.message and f"{measured:.4f}" in verdict.message
        # Not trained by fit: its test accuracy measures nothing the exercise asks for.
        counted = judge("test_accuracy", evidence)
        assert counted.fraction == 0 and "Not counted" in counted.message
    else:
        assert judge("test_accuracy", evidence).status == ("passed" if measured > 0.9 else "failed")


@pytest.mark.parametrize(
    "change, fails",
    [(2e-8, True), (5e-4, True), (0.02, False), (1.7, False), (None, False)],
)
def test_a_fit_that_barely_moved_the_weights_cannot_explain_a_good_model(change: float | None, fails: bool) -> None:
    """An outside tester's attack: weights set by hand, the learning rate set to 1e-9 for the fit
    (the digest changes: the weights moved by about 1e-8 of their size) and back afterwards."""
    evidence = trusted_evidence(measured=copy.deepcopy(CLAIMED), train_accuracy=0.9612, test_accuracy=0.9557)
    evidence.sandbox.saved_weights = saved(changed_by_fit=True, largest_weight_change=change)
    verdict = judge("integrity", evidence)
    assert (verdict.status == "failed") == fails, verdict.message
    if fails:
        assert "less than a thousandth of their size" in verdict.message


@pytest.mark.parametrize(
    "saved_rate, fit_rate, fails",
    [(0.001, 0.001, False), (0.001, 1e-9, True), (0.001, None, False), (0.0010000001, 0.001, False)],
)
def test_a_learning_rate_changed_after_training_is_named(
    saved_rate: float, fit_rate: float | None, fails: bool
) -> None:
    measured = copy.deepcopy(CLAIMED)
    measured.compile_config = compile_config(optimizer={"class_name": "Adam", "config": {"learning_rate": saved_rate}})
    evidence = trusted_evidence(measured=measured)
    evidence.sandbox.saved_weights = saved(changed_by_fit=True, fit_optimizer="Adam", fit_learning_rate=fit_rate)
    verdict = judge("integrity", evidence)
    assert (verdict.status == "failed") == fails, verdict.message
    if fails:
        assert "learning rate 0.001, but model.fit trained with 1e-09" in verdict.message


def test_relative_change_of_the_weights() -> None:
    import numpy as np

    from grader.sandbox.child import relative_change

    before = [np.ones((3, 4), dtype="float32"), np.zeros(4, dtype="float32")]
    assert relative_change(before, [w.copy() for w in before]) == 0.0
    after = [np.full((3, 4), 2.0, dtype="float32"), np.zeros(4, dtype="float32")]
    assert relative_change(before, after) == pytest.approx(1.0)
    assert relative_change([], after) is None  # built during fit: nothing to compare
    assert relative_change(before, after[:1]) is None


@pytest.mark.parametrize(
    "fit_optimizer, fit_logged, fragment",
    [
        ("Adam", ["accuracy", "loss"], None),
        ("SGD", ["accuracy", "loss"], "name the optimizer Adam, but model.fit trained it with SGD"),
        ("Adam", ["loss"], 'list the metrics "accuracy", but model.fit computed none of them'),
        ("Adam", ["loss", "val_loss", "learning_rate"], "computed none of them"),
        ("Adam", ["my_accuracy", "loss"], None),  # a metric named by the learner
        ("", [], None),  # compiled again after fitting: the file's settings are not the training's
        ("LossScaleOptimizer", ["accuracy", "loss"], None),
    ],
)
def test_saved_compile_settings_must_be_the_ones_fit_trained_with(
    fit_optimizer: str, fit_logged: list[str], fragment: str | None
) -> None:
    """An outside tester's attack: compiled with SGD and no metrics, then the compile config
    edited in place so the file says Adam and accuracy."""
    evidence = trusted_evidence(measured=copy.deepcopy(CLAIMED))
    evidence.sandbox.saved_weights = saved(changed_by_fit=True, fit_optimizer=fit_optimizer, fit_logged=fit_logged)
    verdict = judge("integrity", evidence)
    if fragment is None:
        assert verdict.status == "passed", verdict.message
    else:
        assert verdict.status == "failed" and fragment in verdict.message, verdict.message
        assert "Compile the model once" in verdict.hint


@pytest.mark.parametrize("reproduced, passes", [(0.8613, True), (0.8400, True), (0.8000, False)])
def test_retrain_fails_a_model_its_own_recipe_cannot_explain(reproduced: float, passes: bool) -> None:
    """--retrain: the submission (0.8647) against the grader's reproduction of its recipe. Three
    seeds of the chapter's recipe reached 0.8613-0.8678 here; the margin is 0.03."""
    from grader.evidence import Reproduction

    evidence = trusted_evidence(measured=copy.deepcopy(CLAIMED), test_accuracy=0.8647)
    evidence.evaluation.reproduction = Reproduction(status="ok", test_accuracy=reproduced, epochs=5, batch_size=32)
    verdict = judge("integrity", evidence)
    assert (verdict.status == "passed") == passes, verdict.message
    if not passes:
        assert "reaches 0.8000" in verdict.message and "5 epochs, batch size 32" in verdict.message
        assert judge("test_accuracy", evidence).fraction == 0.0
    # A reproduction that could not run accuses nobody.
    evidence.evaluation.reproduction = Reproduction(status="error", error="the reproduction could not be trained")
    assert judge("integrity", evidence).status == "passed"


def test_retrain_recipe_is_bounded() -> None:
    from grader.evidence import FitCall
    from grader.trusted.retrain import fit_recipe

    recipe = fit_recipe([FitCall(epochs=1, batch_size=64)] * 3, "unit", one_hot=False)
    assert (recipe.epochs, recipe.batch_size, recipe.scale) == (3, 64, 1 / 255)
    wild = fit_recipe([FitCall(epochs=10_000, batch_size=10**9)], "raw", one_hot=True)
    assert (wild.epochs, wild.batch_size, wild.scale, wild.labels) == (50, 4096, 1.0, "one_hot")
    assert fit_recipe([], None, one_hot=False).epochs == 5


def test_a_saved_model_has_no_fit_to_compare() -> None:
    evidence = trusted_evidence(measured=copy.deepcopy(CLAIMED), weights_digest="x")
    evidence.sandbox.graded_as = "saved_model"
    evidence.sandbox.saved_weights = saved(fitted=False, after_fit=None)
    assert judge("integrity", evidence).status == "passed"


def test_a_refused_model_fails_the_integrity_check() -> None:
    reason = "the model has 2 inputs and 1 outputs; this exercise's model takes one input"
    evidence = make_evidence(
        evaluation=EvaluationEvidence(status="error", error=f"not tested: {reason}", refused=reason)
    )
    verdict = judge("integrity", evidence)
    assert verdict.status == "failed" and "2 inputs" in verdict.message
    accuracy = judge("test_accuracy", evidence)
    assert (
        accuracy.status == "failed"
        and accuracy.fraction == 0
        and "Not tested: the model has 2 inputs" in accuracy.message
    )


# =================================================================================================
# The sandbox's record is validated, and never speaks with the grader's voice
# =================================================================================================


def test_wrong_types_are_reset_and_reported() -> None:
    evidence = make_evidence()
    sandbox = evidence.sandbox
    sandbox.train.history = {"loss": "falling", "accuracy": [0.9]}  # type: ignore[union-attr,dict-item]
    sandbox.model.total_params = "many"  # type: ignore[union-attr,assignment]
    problems = validate_sandbox_evidence(sandbox)
    assert sandbox.train.history == {}  # type: ignore[union-attr]
    assert sandbox.model.total_params is None  # type: ignore[union-attr]
    assert any("history" in p for p in problems) and any("total_params" in p for p in problems)
    assert sandbox.notes[-1].startswith("The grader ignored parts of the run's record")


def test_unknown_keys_and_forged_notes_are_dropped() -> None:
    sandbox = SandboxEvidence(
        submission="x.py", seed=1, notes=["Skipped 1 shell line", "Full marks were confirmed by hand."]
    )
    raw = {
        "submission": "x.py",
        "seed": 1,
        "verdict": "passed",
        "model": {"returned_type": "x", "is_keras_model": True, "score": 100},
    }
    problems = validate_sandbox_evidence(sandbox, trusted_notes=["Skipped 1 shell line"], raw=raw)
    assert "unknown field verdict" in problems and "unknown field model.score" in problems
    assert "Full marks were confirmed by hand." not in sandbox.notes
    assert sandbox.notes[0] == "Skipped 1 shell line"


def test_a_clean_record_is_left_alone() -> None:
    sandbox = make_evidence().sandbox
    before = copy.deepcopy(sandbox)
    assert validate_sandbox_evidence(sandbox) == []
    assert sandbox == before


# =================================================================================================
# Compile facts however they are written (captured with Keras 3.15)
# =================================================================================================


def test_accuracy_however_it_is_named_or_wrapped() -> None:
    wrapped = {
        "module": "keras.metrics",
        "class_name": "MeanMetricWrapper",
        "config": {
            "name": "acc2",
            "dtype": "float32",
            "fn": {
                "module": "builtins",
                "class_name": "function",
                "config": "sparse_categorical_accuracy",
                "registered_name": "function",
            },
        },
    }
    legacy = {"class_name": "MeanMetricWrapper", "config": {"name": "accuracy", "dtype": "float32"}}
    names = [m.name for m in canonical_metrics({"metrics": [wrapped, [legacy], "acc"]})]
    assert names == ["sparse_categorical_accuracy", "accuracy", "accuracy"]
    evidence = trusted_evidence(measured=model_info(compile_config=compile_config(metrics=[legacy])))
    assert judge("accuracy_metric", evidence).status == "passed"


def test_tf_functions_as_loss_and_activations() -> None:
    tf_loss = {
        "module": "builtins",
        "class_name": "function",
        "config": "sparse_categorical_crossentropy",
        "registered_name": "function",
    }
    assert canonical_loss({"loss": tf_loss}).name == "sparse_categorical_crossentropy"  # type: ignore[union-attr]
    assert canonical_activation({"module": "builtins", "class_name": "function", "config": "softmax_v2"}) == "softmax"
    assert canonical_activation("relu") == "relu"


def test_a_history_that_does_not_describe_the_model_loses_half_the_training_points() -> None:
    evidence = trusted_evidence(measured=copy.deepcopy(CLAIMED), train_accuracy=0.62)
    verdict = judge("training", evidence)
    assert verdict.status == "failed" and verdict.fraction == 0.5
    assert "0.8846" in verdict.message and "0.6200" in verdict.message
    # An honest History a little below the grader's own figure is fine.
    assert (
        judge("training", trusted_evidence(measured=copy.deepcopy(CLAIMED), train_accuracy=0.8905)).status == "passed"
    )


# =================================================================================================
# What the grader and its evaluation process say to each other (grader.trusted.protocol)
# =================================================================================================

REQUEST = EvaluationRequest(model="model.keras", image_shape=(28, 28), classes=10, seconds=180, threads=2)


def measured_answer(**changes: Any) -> dict[str, Any]:
    """A full answer as the evaluation process writes it into result.json, for 3 test and 2
    training images."""
    answer = ModelMeasured(
        facts={"returned_type": "keras.src.models.sequential.Sequential", "is_keras_model": True, "layers": []},
        weights_digest="0" * 32,
        input_shape_used=[28, 28],
        load_seconds=0.5,
        predictions=Predictions(
            input_scaling="unit",
            probe_accuracy={"unit": 0.9, "raw": 0.1},
            outputs_are_probabilities=True,
            train_predicted=[1, 2],
            test_predicted=[0, 9, 3],
            predict_seconds=1.25,
        ),
    ).to_json()
    answer.update(changes)
    return answer


def test_the_request_line_round_trips() -> None:
    line = REQUEST.to_line()
    assert line.endswith("\n") and line.count("\n") == 1
    assert "facts_only" not in json.loads(line)  # written only when set, as before
    assert EvaluationRequest.from_line(line) == REQUEST
    quick = dataclasses.replace(REQUEST, threads=None, facts_only=True, image_shape=(32, 32, 3))
    assert EvaluationRequest.from_line(quick.to_line()) == quick
    # A request naming no time limit gets the process's default.
    assert EvaluationRequest.from_line('{"model": "m.keras", "image_shape": [28, 28], "classes": 10}') == (
        EvaluationRequest(model="m.keras", image_shape=(28, 28), classes=10, seconds=DEFAULT_SECONDS)
    )


@pytest.mark.parametrize("line", ["", "\n", NOTHING_TO_EVALUATE, "{}", "not json\n", "[1, 2]\n", '{"model": ""}\n'])
def test_an_empty_request_means_nothing_to_evaluate(line: str) -> None:
    assert EvaluationRequest.from_line(line) is None


@pytest.mark.parametrize(
    "changes",
    [
        {"model": "../model.keras"},  # only a file name in the process's own folder
        {"model": "models/model.keras"},
        {"model": ".."},
        {"model": 3},
        {"seconds": "180"},
        {"seconds": True},
        {"threads": 2.5},
        {"image_shape": []},
        {"image_shape": [28, 0]},
        {"image_shape": "28x28"},
        {"classes": 0},
        {"classes": None},
        {"facts_only": "yes"},
    ],
)
def test_a_malformed_request_is_refused(changes: dict[str, Any]) -> None:
    data = json.loads(REQUEST.to_line()) | changes
    assert EvaluationRequest.from_line(json.dumps(data)) is None


def test_answers_round_trip_through_result_json() -> None:
    full = measured_answer()
    answer = read_answer(json.loads(json.dumps(full)))
    assert isinstance(answer, ModelMeasured) and answer.to_json() == full
    assert answer.predictions is not None and answer.predictions.test_predicted == [0, 9, 3]
    # Facts only (quick mode): no predictions, and none of their keys in the file.
    quick = dataclasses.replace(answer, predictions=None, weights_digest=None)
    assert "test_predicted" not in quick.to_json()
    assert read_answer(json.loads(json.dumps(quick.to_json()))) == quick
    for error in (
        EvaluationError(code="wrong_outputs", facts={"outputs": 3, "classes": 10}),
        EvaluationError(code="crashed", facts={"exception": "MemoryError"}, limit="memory"),
    ):
        assert read_answer(json.loads(json.dumps(error.to_json()))) == error


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "maybe"},
        {"facts": ["not", "a", "dict"]},
        {"weights_digest": 12},
        {"input_shape_used": [28, "28"]},
        {"load_seconds": "0.5"},
        {"input_scaling": "halved"},
        {"probe_accuracy": {"unit": "0.9"}},
        {"probe_accuracy": [0.9, 0.1]},
        {"outputs_are_probabilities": 1},
        {"predict_seconds": None},
        {"test_predicted": [0, 9, "3"]},
        {"test_predicted": [0, 9, 3.0]},
        {"test_predicted": [0, True, 3]},
        {"train_predicted": "12"},
        {"train_predicted": None},
    ],
)
def test_a_malformed_answer_is_refused(changes: dict[str, Any]) -> None:
    assert read_answer(measured_answer(**changes)) is None


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "ok",
        {"status": "error", "code": None, "facts": {}},
        {"status": "error", "code": "crashed", "facts": "MemoryError"},
        {"status": "error", "code": "crashed", "facts": {}, "limit": "time"},
    ],
)
def test_a_malformed_error_is_refused(data: Any) -> None:
    assert read_answer(data) is None


def test_the_protocol_needs_neither_numpy_nor_tensorflow() -> None:
    """The evaluation process imports it before TensorFlow, and its start-up must stay cheap."""
    import subprocess
    import sys

    code = "import sys, grader.trusted.protocol; print(sorted(m for m in ('numpy', 'tensorflow', 'keras') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr


class _AnsweringProcess:
    """Stands in for the evaluation process: answers ``finish()`` with a given answer."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.thread: Any = None

    def finish(self, model_path: Path | None, *, facts_only: bool = False) -> Any:
        from grader.evaluation import _Answer

        return _Answer(result=self.answer) if model_path is not None else _Answer()

    def cleanup(self) -> None:
        pass


def evaluate_answer(folder: Path, write_tiny_dataset: Any, answer: Any, facts_only: bool = False) -> EvaluationEvidence:
    """What the grader makes of ``answer`` for the chapter's model on a tiny Fashion-MNIST
    (50 test images, a training sample of 50)."""
    from grader.datasets import load_dataset
    from grader.evaluation import TrustedEvaluator

    write_tiny_dataset(folder / "data" / "fashion_mnist", "fashion_mnist", seed=100)
    evaluator = TrustedEvaluator(load_dataset("fashion_mnist", folder / "data"), max_params=None, wait_s=0)
    evaluator._process = _AnsweringProcess(answer)  # type: ignore[assignment]
    return evaluator.evaluate(write_keras(folder / "model.keras", chapter_config()), seed=1, facts_only=facts_only)


def test_the_grader_scores_the_typed_answer(
    tmp_path: Path, write_tiny_dataset: Any, isolated_grader_cache: Path
) -> None:
    import numpy as np

    from grader.datasets import load_dataset
    from grader.evaluation import training_sample

    write_tiny_dataset(tmp_path / "truth" / "fashion_mnist", "fashion_mnist", seed=100)
    dataset = load_dataset("fashion_mnist", tmp_path / "truth")
    test_y = [int(v) for v in np.asarray(dataset.test_labels)]
    train_y = [int(v) for v in np.asarray(dataset.train_labels)[training_sample(len(dataset.train_labels), 50)]]
    wrong = [(label + 1) % 10 for label in train_y]  # every training image wrong
    answer = read_answer(measured_answer(test_predicted=test_y, train_predicted=wrong, input_scaling="raw"))
    result = evaluate_answer(tmp_path, write_tiny_dataset, answer)
    assert result.status == "ok", result.error
    assert (result.test_accuracy, result.n_test, result.train_accuracy, result.n_train) == (1.0, 50, 0.0, 50)
    assert result.input_scaling == "raw" and result.probe_accuracy == {"unit": 0.9, "raw": 0.1}
    assert result.outputs_are_probabilities is True and result.weights_digest == "0" * 32
    assert result.model is not None and result.model.compile_config == compile_config()  # from the file

    # Predictions of the wrong length or naming no class are the grader's problem, found here.
    out_of_range = read_answer(measured_answer(test_predicted=[10] * 50, train_predicted=train_y))
    result = evaluate_answer(tmp_path / "range", write_tiny_dataset, out_of_range)
    assert result.status == "error" and result.error == "the evaluation process returned malformed predictions"


def test_the_grader_says_the_typed_errors(tmp_path: Path, write_tiny_dataset: Any, isolated_grader_cache: Path) -> None:
    problem = evaluate_answer(tmp_path / "a", write_tiny_dataset, EvaluationError("several_inputs", {"count": 2}))
    assert problem.status == "error" and problem.error == "the model takes 2 inputs; it needs one: the image"
    assert not problem.refused and problem.limit_hit is None
    memory = evaluate_answer(tmp_path / "b", write_tiny_dataset, EvaluationError("crashed", {}, limit="memory"))
    assert memory.status == "error" and memory.limit_hit == "memory" and "memory" in memory.refused
    quick = read_answer(measured_answer())
    assert isinstance(quick, ModelMeasured)
    quick = dataclasses.replace(quick, predictions=None)
    facts = evaluate_answer(tmp_path / "c", write_tiny_dataset, quick, facts_only=True)
    assert facts.status == "not_run" and facts.test_accuracy is None
    assert facts.input_shape_used == [28, 28] and facts.weights_digest == "0" * 32 and facts.model is not None
    # A facts-only answer to a request for predictions has nothing to score.
    missing = evaluate_answer(tmp_path / "d", write_tiny_dataset, quick)
    assert missing.status == "error" and missing.error == "the evaluation process returned malformed predictions"


# =================================================================================================
# Integration: the evaluation process on the tiny datasets (TensorFlow starts in a subprocess)
# =================================================================================================


def tiny_dataset(tiny_data_dir: Path) -> Any:
    from grader.datasets import load_dataset

    return load_dataset("fashion_mnist", tiny_data_dir)


def test_a_model_too_big_to_load_is_stopped_by_the_evaluations_memory_limit(
    tiny_data_dir: Path, tmp_path: Path
) -> None:
    """With no parameter limit to refuse it, Dense(1,440,000) reaches the evaluation process,
    which its memory limit stops; the grader's own process never loads it."""
    import resource

    from grader.evaluation import TrustedEvaluator

    config = chapter_config()
    config["config"]["layers"][2] = dense_config("dense", 1_440_000, 784, "relu")
    config["config"]["layers"][3] = dense_config("dense_1", 10, 1_440_000, "softmax")
    path = write_keras(tmp_path / "giant.keras", config)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    evaluator = TrustedEvaluator(
        tiny_dataset(tiny_data_dir), max_params=None, wait_s=0, memory_bytes=1536 * 1024 * 1024
    )
    result = evaluator.evaluate(path, seed=1)
    assert result.status == "error" and result.limit_hit == "memory", result
    assert "needed more than 1.5 GB of memory" in result.refused
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # kB: the grader did not grow


def test_two_inputs_and_giant_configs_never_reach_the_evaluation_process(tiny_data_dir: Path, tmp_path: Path) -> None:
    from grader.evaluation import TrustedEvaluator

    evaluator = TrustedEvaluator(tiny_dataset(tiny_data_dir), max_params=20_000_000, wait_s=0)
    result = evaluator.evaluate(write_keras(tmp_path / "two.keras", functional_config(inputs=2)), seed=1)
    assert result.status == "error" and "2 inputs" in result.refused
    assert evaluator._process is None  # refused before any process was started


@pytest.mark.slow  # trains the tiny model a second time in the sandbox: a TensorFlow start or two
def test_retrain_reproduces_the_reference_on_tiny_data(tiny_data_dir: Path) -> None:
    from grader.pipeline import GradeOptions, grade_submission
    from grader.spec import load_exercise

    result = grade_submission(
        load_exercise("fashion_mnist"), ROOT / "solutions" / "fashion_mnist" / "fashion_mnist.py",
        GradeOptions(data_dir=tiny_data_dir, retrain=True),
    )  # fmt: skip
    reproduction = result.details["evaluation"]["reproduction"]
    assert reproduction["status"] == "ok" and reproduction["epochs"] == 5, reproduction
    assert result.passed and result.score == 100


# =================================================================================================
# The memorised test split, on the real data (slow)
# =================================================================================================


@pytest.mark.slow  # a real-data grading: about a minute on two cores
def test_a_model_trained_on_the_test_split_does_not_pass(tmp_path: Path) -> None:
    """The chapter's model trained at home on the Fashion-MNIST test split (weights embedded in
    the file, set inside train(), a throw-away model's fit for the History): 0.92 on the test
    split, 0.85 on the training images (measured when this test was written: gap +0.073, while
    the reference solution's is -0.028)."""
    import subprocess
    import sys

    from grader.datasets import load_dataset
    from grader.errors import DataMissingError

    try:
        load_dataset("fashion_mnist", None)
    except DataMissingError:
        pytest.skip("the real Fashion-MNIST is not installed (scripts/setup.sh installs it)")
    result_path = tmp_path / "result.json"
    done = subprocess.run(
        [sys.executable, "-m", "grader", "fashion_mnist", str(ROOT / "tests" / "corpus" / "embedded_test_weights.py"),
         "--json", str(result_path), "--no-report", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(result_path.read_text(encoding="utf-8"))
    checks = {check["id"]: check for check in result["checks"]}
    evaluation = result["details"]["evaluation"]
    assert evaluation["test_accuracy"] > 0.9 and evaluation["test_accuracy"] - evaluation["train_accuracy"] > 0.05
    assert checks["integrity"]["status"] == "failed"
    assert "clearly better on the test images" in checks["integrity"]["message"]
    assert checks["test_accuracy"]["score"] == 0


def test_weights_set_inside_fit_are_caught_by_the_history_shortfall() -> None:
    """An outside tester's attack: fit on 64 images (History: 0.36), then a callback's
    on_train_end sets weights trained at home; the digest after fit matches the file, but the
    model reaches 0.92 on training images, which its training never got near."""
    evidence = trusted_evidence(measured=copy.deepcopy(CLAIMED), train_accuracy=0.9174, test_accuracy=0.91)
    evidence.evaluation.n_train = 10_000
    evidence.sandbox.train.history = {"loss": [2.3, 2.02], "accuracy": [0.2, 0.3594]}
    verdict = judge("integrity", evidence)
    assert verdict.status == "failed"
    assert "0.9174" in verdict.message and "0.3594" in verdict.message
    counted = judge("test_accuracy", evidence)
    assert counted.status == "failed" and counted.fraction == 0 and "Not counted" in counted.message
    # An honest History (the reference: 0.8846 against 0.8926 measured) and one a Dropout model
    # leaves (its accuracy during fit 0.08 lower) are fine.
    for history_accuracy in (0.8846, 0.8126):
        evidence.sandbox.train.history = {"loss": [0.5, 0.3], "accuracy": [0.8, history_accuracy]}
        evidence.evaluation.train_accuracy = 0.8926
        evidence.evaluation.test_accuracy = 0.8647
        assert judge("integrity", evidence).status == "passed"


def history_evidence(history_accuracy: list[float], measured: float, layers: list[Any] | None = None) -> Evidence:
    """A run whose History recorded ``history_accuracy`` and whose saved model the grader measured
    at ``measured`` on 10,000 training images (the test accuracy a little lower, as honest models
    do)."""
    model = model_info() if layers is None else model_info(layers=layers)
    evidence = trusted_evidence(measured=model, train_accuracy=measured, test_accuracy=measured - 0.01)
    evidence.evaluation.n_train = 10_000
    evidence.sandbox.train.history = {
        "loss": [2.3 - 0.1 * epoch for epoch in range(len(history_accuracy))],
        "accuracy": history_accuracy,
    }
    return evidence


def test_history_ceiling_allows_for_an_epoch_of_learning() -> None:
    from grader.judges.integrity import history_ceiling

    # One epoch: the model started at chance (0.1), so the end-of-epoch model may be as far
    # above the epoch's average as the average is above chance.
    assert history_ceiling([0.3373], 0.1) == pytest.approx(0.5746)
    # Several epochs: the last epoch's rise (the first epoch's pace from chance no longer
    # counts); a flat History allows no more than its value.
    assert history_ceiling([0.80, 0.85, 0.88], 0.1) == pytest.approx(0.91)
    assert history_ceiling([0.35] * 5, 0.1) == pytest.approx(0.35)
    # An earlier epoch restored (EarlyStopping(restore_best_weights=True)) counts too.
    assert history_ceiling([0.5, 0.8, 0.6], 0.1) == pytest.approx(1.1)


def test_an_honest_under_trained_model_is_not_accused() -> None:
    """An outside tester's model: Dense(8, relu), SGD(0.01), 1 epoch of batch 256 on MNIST. Its
    History's accuracy (0.3373) is the average over an epoch in which it learned fast; the model
    at the end of that epoch reached 0.5034 on training images. That is its own training."""
    evidence = history_evidence([0.3373], 0.5034)
    verdict = judge("integrity", evidence, EX4)
    assert verdict.status == "passed", verdict.message
    counted = judge("test_accuracy", evidence, EX4)
    assert "Not counted" not in counted.message


@pytest.mark.parametrize(
    "history_accuracy",
    [[0.12], [0.33, 0.34, 0.35, 0.35, 0.35], [0.2, 0.3594]],
    ids=["one epoch", "five flat epochs", "callback on_train_end"],
)
def test_a_model_trained_elsewhere_behind_a_throw_away_fit_is_caught(history_accuracy: list[float]) -> None:
    """Weights learned at home (0.97 on training images) swapped in while the History shows a
    throw-away fit; even a file that declares heavy dropout gets no further."""
    for layers in (None, [flatten(), dense(64, "relu"), layer("Dropout", [64], rate=0.9), dense(10, "softmax", 64)]):
        evidence = history_evidence(history_accuracy, 0.97, layers)
        verdict = judge("integrity", evidence, EX4)
        assert verdict.status == "failed", verdict.message
        assert "0.9700" in verdict.message and f"{history_accuracy[-1]:.4f}" in verdict.message
        counted = judge("test_accuracy", evidence, EX4)
        assert counted.fraction == 0 and "Not counted" in counted.message


def test_dropout_leaves_room_between_the_history_and_the_model() -> None:
    """The History measures a Dropout(0.5) model with half its units silenced; the grader
    measures it whole. 0.72 during fit and 0.93 in the grader's hands is honest for such a model,
    and would not be for one without dropout."""
    with_dropout = [flatten(), dense(256, "relu"), layer("Dropout", [256], rate=0.5), dense(10, "softmax", 256)]
    assert judge("integrity", history_evidence([0.70, 0.72], 0.93, with_dropout), EX4).status == "passed"
    assert judge("integrity", history_evidence([0.70, 0.72], 0.93), EX4).status == "failed"


class History:
    """Stands in for keras.callbacks.History: the child recognises it by its class name."""

    def __init__(self, history: dict[str, list[float]]) -> None:
        self.history = history


def test_training_is_judged_on_what_fit_logged_not_on_the_returned_history() -> None:
    from grader.sandbox.child import describe_training

    call = FitCall(epochs=1, logged={"loss": [0.1304], "accuracy": [0.959]})
    returned = History({"loss": [0.1304], "accuracy": [0.959]})
    honest = describe_training(returned, [call], 3.0, {id(returned): (returned, 0)})
    assert not honest.history_edited and honest.history == call.logged and honest.epochs_run == 1

    returned.history = {"loss": [0.41, 0.19, 0.1221], "accuracy": [0.885, 0.941, 0.9641]}
    forged = describe_training(returned, [call], 3.0, {id(returned): (returned, 0)})
    assert forged.history_edited and forged.history == call.logged and forged.epochs_run == 1
    assert forged.claimed_history == returned.history

    made_by_hand = History({"loss": [0.5, 0.2]})
    assert describe_training(made_by_hand, [call], 3.0, {}).history_edited


def test_histories_joined_or_annotated_by_the_learner_are_not_edits() -> None:
    from grader.sandbox.child import describe_training

    first = FitCall(epochs=2, logged={"loss": [0.5, 0.3], "accuracy": [0.85, 0.9]})
    second = FitCall(epochs=1, logged={"loss": [0.25], "accuracy": [0.92]})
    # Training in stages, the Histories joined for a plot; a key added after training; figures
    # as numpy float32 rounds them.
    joined = History({"loss": [0.5, 0.3, 0.25], "accuracy": [0.85, 0.9, 0.92], "note": [1.0]})
    result = describe_training(joined, [first, second], 3.0, {id(joined): (joined, 0)})
    assert not result.history_edited
    rounded = History({"loss": [0.25000001], "accuracy": [0.9200000166893005]})
    assert not describe_training(rounded, [first, second], 3.0, {}).history_edited
    # No epoch was seen (the learner passed a CallbackList of their own): nothing to compare.
    blind = FitCall(epochs=3)
    assert not describe_training(History({"loss": [9.0]}), [blind], 3.0, {}).history_edited


class _Tensor:
    def __init__(self, *shape: int | None) -> None:
        self.shape = shape


class _Model:
    def __init__(self, inputs: list[_Tensor], outputs: list[_Tensor]) -> None:
        self.inputs, self.outputs = inputs, outputs


@pytest.mark.parametrize(
    "declared, image_shape, expected",
    [
        ((None, 28, 28), (28, 28), (28, 28)),
        ((None, 784), (28, 28), (784,)),
        ((None, 28, 28, 1), (28, 28), (28, 28, 1)),
        ((None, 32, 32, 3), (32, 32, 3), (32, 32, 3)),
        ((None, None, 28), (28, 28), (28, 28)),  # one open dimension is filled in
        ((None, 28, 28), (32, 32, 3), "input_shape_mismatch"),  # a model for another dataset
        ((None, None, None), (28, 28), "open_input_shape"),
    ],
)
def test_the_evaluation_feeds_images_in_the_shape_the_model_declares(
    declared: tuple[int | None, ...], image_shape: tuple[int, ...], expected: Any
) -> None:
    from grader.trusted.worker import EvaluationFailed, declared_input_shape

    model = _Model([_Tensor(*declared)], [_Tensor(None, 10)])
    if isinstance(expected, tuple):
        assert declared_input_shape(model, image_shape) == expected
    else:
        with pytest.raises(EvaluationFailed) as refused:
            declared_input_shape(model, image_shape)
        assert refused.value.code == expected


def test_the_evaluation_refuses_outputs_that_are_not_one_score_per_class() -> None:
    from grader.trusted.worker import EvaluationFailed, declared_input_shape, output_units

    assert (
        output_units(_Model([_Tensor(None, 784)], [_Tensor(None, 5)])) == 5
    )  # compared with the classes by evaluate()
    with pytest.raises(EvaluationFailed) as refused:
        output_units(_Model([_Tensor(None, 784)], [_Tensor(None, 10), _Tensor(None, 10)]))
    assert refused.value.code == "several_outputs"
    with pytest.raises(EvaluationFailed) as refused:
        declared_input_shape(_Model([_Tensor(None, 784), _Tensor(None, 784)], [_Tensor(None, 10)]), (28, 28))
    assert refused.value.code == "several_inputs"
