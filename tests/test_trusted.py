"""Trusted evaluation and trusted facts (grader.trusted, grader.evaluation, the integrity judge).

Unit tests first (no TensorFlow, milliseconds): the archive checks on hand-made configs, the
judges on hand-made trusted facts, the validation of the sandbox's record. Then integration
tests on the tiny synthetic datasets (a TensorFlow process each), and the memorised test split
on the real data (slow).
"""

from __future__ import annotations

import copy
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
    SandboxEvidence,
    SavedWeights,
    validate_sandbox_evidence,
)
from grader.judges.vocabulary import canonical_activation, canonical_loss, canonical_metrics
from grader.trusted.archive import ModelRefused, check_archive, check_config

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
