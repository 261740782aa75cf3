"""Shared pytest fixtures. Each group below belongs to one part of the grader; add yours as a
new group rather than changing another group's fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

# =============================================================================================
# Data fixtures (grader.datasets): tiny synthetic datasets and an isolated grader cache.
#
#   isolated_grader_cache  a fresh GRADER_CACHE_DIR; GRADER_OFFLINE=1 (no Keras download);
#                          in-process dataset memo cleared before and after.
#   tiny_data_dir          a folder with tiny "mnist/" and "fashion_mnist/" datasets (200 train,
#                          50 test images each, one bright block per class: learnable in a few
#                          epochs), each with a checksums.json manifest. GRADER_DATA_DIR points
#                          at it, so the grader finds it in this process and in subprocesses;
#                          pass it as --data-dir too. Loads as official=False.
#   write_tiny_dataset     the function that writes one such dataset (for variants).
# =============================================================================================

TINY_TRAIN = 200
TINY_TEST = 50


def tiny_arrays(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 28x28 uint8 images with balanced labels 0-9: class ``c`` is a bright 6x5 block at
    a position of its own (two rows of five) on dim noise, so even a Dense network learns it."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    images = rng.integers(0, 60, size=(n, 28, 28), dtype=np.uint8)
    for index, label in enumerate(labels):
        row, col = 3 + 13 * (label // 5), 1 + 5 * (label % 5)
        images[index, row : row + 6, col : col + 5] = rng.integers(200, 256, size=(6, 5), dtype=np.uint8)
    return images, labels


def write_tiny_dataset(
    folder: Path,
    name: str,
    n_train: int = TINY_TRAIN,
    n_test: int = TINY_TEST,
    seed: int = 0,
    gz: bool = True,
    manifest: bool = True,
) -> Path:
    """Write the four IDX files of a tiny ``name`` dataset into ``folder`` (plus checksums.json)."""
    from grader.datasets import IDX_FILE_NAMES, write_checksums_manifest, write_idx

    train = tiny_arrays(n_train, seed)
    test = tiny_arrays(n_test, seed + 1)
    arrays = {"train_images": train[0], "train_labels": train[1],
              "test_images": test[0], "test_labels": test[1]}  # fmt: skip
    suffix = ".gz" if gz else ""
    for role, array in arrays.items():
        write_idx(folder / f"{IDX_FILE_NAMES[role]}{suffix}", array)
    if manifest:
        write_checksums_manifest(folder, name, note="tiny synthetic test data")
    return folder


@pytest.fixture
def isolated_grader_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh grader cache (GRADER_CACHE_DIR); no downloads; the dataset memo starts empty."""
    from grader import datasets

    cache = tmp_path / "grader-cache"
    monkeypatch.setenv("GRADER_CACHE_DIR", str(cache))
    monkeypatch.setenv("GRADER_OFFLINE", "1")
    monkeypatch.delenv("GRADER_DATA_DIR", raising=False)
    datasets.clear_memo()
    yield cache
    datasets.clear_memo()


@pytest.fixture
def tiny_data_dir(tmp_path: Path, isolated_grader_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Tiny mnist (plain IDX) and fashion_mnist (gzipped) datasets; GRADER_DATA_DIR is set."""
    root = tmp_path / "tiny-data"
    write_tiny_dataset(root / "mnist", "mnist", seed=0, gz=False)
    write_tiny_dataset(root / "fashion_mnist", "fashion_mnist", seed=100, gz=True)
    monkeypatch.setenv("GRADER_DATA_DIR", str(root))
    return root


@pytest.fixture(name="write_tiny_dataset")
def write_tiny_dataset_fixture() -> Callable[..., Path]:
    """``write_tiny_dataset(folder, name, n_train=200, n_test=50, seed=0, gz=True, manifest=True)``."""
    return write_tiny_dataset


# ============================================ end of data fixtures ==========================


# =============================================================================================
# Real-world corpus fixtures (tests/realworld/, tests/test_realworld.py).
#
#   realworld_saved_model  make(maker, out_name) -> Path: runs a maker script of
#                          tests/realworld/makers/ (Keras 2-era style code that trains on the
#                          REAL training split and saves a .h5 or .keras file) with the installed
#                          Keras, once per session per file, and returns the saved model's path.
#                          No model binaries are committed.
# =============================================================================================


@pytest.fixture(scope="session")
def realworld_saved_model(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path, str], Path]:
    """``make(maker, out_name)``: the model file ``maker`` trains and saves, made once a session."""
    import os
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("realworld-saved-models")
    repo = Path(__file__).resolve().parents[1]
    made: dict[str, Path] = {}

    def make(maker: Path, out_name: str) -> Path:
        if out_name in made:
            return made[out_name]
        out = folder / out_name
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH", "")]))
        done = subprocess.run(
            [sys.executable, str(maker), str(out)], capture_output=True, text=True, timeout=900, env=env, cwd=folder
        )
        assert done.returncode == 0 and out.is_file(), f"{maker.name} could not make {out_name}:\n{done.stderr[-3000:]}"
        made[out_name] = out
        return out

    return make


# ====================================== end of real-world corpus fixtures ===================


# =============================================================================================
# Report robustness fixtures (grader.render): model facts captured from real Keras objects.
#
#   real_model_facts   session-scoped: {"style name": model facts dict, ...} for small models
#                      built in the many ways learners write them (tf.nn functions, loss
#                      functions and objects, legacy .h5 reloads, nested and multi-output
#                      models, CNNs, input_dim=, schedules, custom losses, unbuilt and
#                      uncompiled models), each serialised the way the grader does: the
#                      sandbox's describe_model() on the live model, and again on the model the
#                      trusted evaluator loads back from .keras (and from .h5 where Keras can).
#                      Imports TensorFlow (a few seconds, once per session); nothing is trained.
# =============================================================================================


def _real_keras_models() -> dict[str, object]:
    import keras
    import tensorflow as tf
    from keras import layers

    def chapter(**dense: object) -> object:
        return keras.Sequential(
            [keras.Input((28, 28)), layers.Flatten(), layers.Dense(64, **dense), layers.Dense(10, activation="softmax")]
        )

    def compiled(model: object, **settings: object) -> object:
        defaults = {"optimizer": "adam", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
        model.compile(**{**defaults, **settings})  # type: ignore[attr-defined]
        return model

    def my_loss(y_true: object, y_pred: object) -> object:  # a learner's own loss function
        return keras.losses.sparse_categorical_crossentropy(y_true, y_pred)

    inputs = keras.Input((28, 28))
    hidden = layers.Dense(64, activation="relu")(layers.Flatten()(inputs))
    functional = keras.Model(inputs, layers.Dense(10, activation="softmax")(hidden))
    two_heads = keras.Model(inputs, {"digit": layers.Dense(10, activation="softmax", name="digit")(hidden),
                                     "odd": layers.Dense(1, activation="sigmoid", name="odd")(hidden)})  # fmt: skip
    inner = keras.Sequential([layers.Flatten(), layers.Dense(64, activation="relu")], name="features")
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=100, decay_rate=0.9)
    return {
        "strings": compiled(chapter(activation="relu")),
        "tf.nn functions": compiled(
            keras.Sequential(
                [
                    keras.Input((28, 28)),
                    layers.Flatten(),
                    layers.Dense(64, activation=tf.nn.relu),
                    layers.Dense(10, activation=tf.nn.softmax),
                ]
            ),
            loss=tf.losses.sparse_categorical_crossentropy,
            metrics=["acc"],
        ),
        "keras functions and objects": compiled(
            chapter(activation=keras.activations.relu),
            optimizer=keras.optimizers.Adam(learning_rate=0.002),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
            metrics=[keras.metrics.SparseCategoricalAccuracy(), keras.metrics.sparse_categorical_accuracy],
        ),
        "activation layers": compiled(
            keras.Sequential(
                [
                    keras.Input((784,)),
                    layers.Dense(64),
                    layers.ReLU(),
                    layers.Dense(32),
                    layers.LeakyReLU(),
                    layers.Dense(10),
                    layers.Activation("softmax"),
                ]
            )
        ),
        "logits": compiled(
            chapter(activation="relu"), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        ),
        "schedule and sgd": compiled(
            chapter(activation="tanh"), optimizer=keras.optimizers.SGD(learning_rate=schedule, momentum=0.9)
        ),
        "custom loss function": compiled(chapter(activation="relu"), loss=my_loss, weighted_metrics=["accuracy"]),
        "input_dim": compiled(
            keras.Sequential(
                [layers.Dense(64, activation="relu", input_dim=784), layers.Dense(10, activation="softmax")]
            )
        ),
        "functional": compiled(functional, optimizer="rmsprop"),
        "multi-output": compiled(
            two_heads,
            loss={"digit": "sparse_categorical_crossentropy", "odd": keras.losses.BinaryCrossentropy()},
            metrics={"digit": ["accuracy"], "odd": [keras.metrics.BinaryAccuracy()]},
        ),
        "nested model": compiled(
            keras.Sequential([keras.Input((28, 28)), inner, layers.Dense(10, activation="softmax")])
        ),
        "cnn": compiled(
            keras.Sequential(
                [
                    keras.Input((28, 28, 1)),
                    layers.Conv2D(8, 3, activation="relu"),
                    layers.MaxPooling2D(),
                    layers.BatchNormalization(),
                    layers.Flatten(),
                    layers.Dropout(0.2),
                    layers.Dense(10, activation="softmax"),
                ]
            )
        ),
        "uncompiled": chapter(activation="relu"),
        "unbuilt": keras.Sequential([layers.Flatten(), layers.Dense(10, activation="softmax")]),
    }


@pytest.fixture(scope="session")
def real_model_facts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    import keras

    from grader.evidence import to_json
    from grader.sandbox.child import describe_model

    folder = tmp_path_factory.mktemp("real-models")
    facts: dict[str, dict] = {}
    for name, model in _real_keras_models().items():
        facts[name] = to_json(describe_model(model, keras))
        built = getattr(model, "built", False)
        # The trusted evaluator's view: the model saved as .keras and loaded back without compiling.
        if built:
            try:
                from grader.trusted.worker import load_model

                path = folder / f"{len(facts)}.keras"
                keras.saving.save_model(model, path)
                facts[f"{name} (reloaded from .keras)"] = to_json(describe_model(load_model(keras, path), keras))
            except Exception:  # noqa: BLE001 - a model Keras cannot save or load back (custom loss)
                pass
        # A legacy .h5, as Keras 2-era code saves it and Keras 3 loads it (compiled when it can).
        if built and name in ("strings", "keras functions and objects", "activation layers", "cnn", "input_dim"):
            path = folder / f"{len(facts)}.h5"
            model.save(path)  # type: ignore[attr-defined]
            facts[f"{name} (legacy .h5)"] = to_json(describe_model(keras.models.load_model(path), keras))
    return facts


# ===================================== end of report robustness fixtures ====================


# =============================================================================================
# Test lanes and shared real-data runs (see README, "Running the tests").
#
# Every test lands in one lane, given here by one hook, so a new test needs no marker of its own
# as long as it uses the fixtures below or lives in a module listed here:
#
#   unit         no TensorFlow process: judges, specs, scoring, quizzes, renderers, the CLI's
#                plumbing. `make test-unit` (pytest -m unit): under a minute.
#   integration  the rest of the default lane: learner code in a real sandbox (tiny datasets),
#                the corpora, isolation and limits, the shared reference gradings on the real
#                data, and tests too long for the unit lane.
#   slow         more training on the real data, or a lane re-run with other settings:
#                `make test-slow`. `make test` runs everything else, in parallel.
#
# A test is `slow` when marked so or listed in SLOW_TESTS; else `integration` when marked so,
# listed in INTEGRATION_TESTS, when its module is in INTEGRATION_MODULES or when it uses a
# fixture in INTEGRATION_FIXTURES; else `unit`. A `unit` test whose child processes use CPU
# seconds (TensorFlow starting somewhere) gets a warning naming it, so a misfiled test shows up.
#
# Parallel runs (pytest-xdist, `--dist loadgroup`): tests in one XDIST_GROUPS group run in one
# worker, one after another: the limits tests (they measure time and memory), and every test
# that trains on the real data (each such run takes both cores; two at once only slow each other;
# slow tests on the tiny data only are not grouped).
#
#   reference_grading   grade(exercise) -> RealGrading: the exercise's reference solution
#                       graded by the real CLI on the real data, with its JSON and reports;
#                       once per session, shared by every test that asks.
# =============================================================================================

SLOW_TESTS = (
    # The real-world corpus: each of its ~30 files trains on the real data.
    "test_realworld.py::test_realworld_case",
    # `grade validate` on the real data (a bad variant trains fully, ~100 s): the default lane
    # keeps one real-data end-to-end grading per exercise (test_end_to_end.py) and validates
    # on tiny data (the rest of test_validate.py).
    "test_validate.py::test_validate_shipped_model_exercises_on_real_data",
    # Long waits or many processes, each with a cheaper default-lane counterpart:
    # kill -9 of a batch and its resume (test_an_interrupted_regrade_resumes, and the worker
    # folders test); a whole-disk search for the test split (the hidden-locations and
    # reads_test_split corpus tests); a real Dask cluster (the Dask batch with no workers left);
    # a script killed mid-training (the time-limit tests); the .keras style of fashion_mnist
    # (the saved-model class in test_batch.py grades a .keras, exercise 4's style test an .h5).
    "test_batch.py::test_batch_killed_midway_resumes_without_regrading",
    "test_isolation.py::test_a_search_of_the_whole_disk_finds_no_test_split",
    "test_batch.py::test_dask_executor_on_a_local_cluster",
    "test_styles.py::test_script_killed_while_training_keeps_its_model_checks",
    "test_styles.py::test_same_solution_gets_the_same_verdict_in_every_style[fashion_mnist-model.keras]",
    # The semester's round trip with real gradings (a trained saved model among them): the default
    # lane keeps the Canvas and Moodle round trips with synthetic results (roster, late policy,
    # override, exports) and grades saved models in test_styles.py.
    "test_batch.py::test_lms_classes_with_a_saved_model_graded_end_to_end",
    # Another dataset's refusals (ten outputs for five classes; a model for 28x28 images): the
    # default lane keeps its reference solution passing end to end, and the trusted evaluation's
    # shape checks are unit-tested in test_trusted.py.
    "test_other_shape.py::test_ten_outputs_are_refused_by_the_trusted_evaluation",
    "test_other_shape.py::test_a_model_for_another_dataset_fails_naming_the_images_and_classes",
    # The loaders served when Keras was imported before the hook: the default lane keeps the hook's case.
    "test_offline_data.py::test_keras_loaders_serve_the_train_holdout_split[keras-imported-first]",
)
INTEGRATION_TESTS = (
    # Start Chromium without the `browser` fixture (so no fixture tells): seconds, not milliseconds.
    "test_i18n.py::test_the_glyph_check_fails_without_a_cjk_font",
)
INTEGRATION_MODULES = {
    "test_batch.py", "test_browser.py", "test_corpus.py", "test_end_to_end.py", "test_gradescope.py",
    "test_isolation.py", "test_offline_data.py", "test_realworld.py", "test_sandbox.py",
    "test_validate.py", "test_watch.py",
    "test_report_robustness.py",  # no TensorFlow process, but minutes of generated reports
}  # fmt: skip
INTEGRATION_FIXTURES = {
    "tiny_data_dir", "corpus_run", "reference_grading", "realworld_saved_model", "browser",
    "real_model_facts", "raised_by_keras",  # import TensorFlow in the test process
}  # fmt: skip
XDIST_GROUPS = {
    # module -> group: all of its tests in one worker
    "test_isolation.py": "limits",
}
REAL_DATA_GROUP = "real-data"  # slow tests, and users of reference_grading / realworld_saved_model
# Slow tests that train on nothing but the tiny data (these fixtures) or on nothing at all (these
# modules) run in parallel like the default lane's: only the real-data ones need the cores.
TINY_DATA_FIXTURES = {"tiny_data_dir", "corpus_run"}
SLOW_WITHOUT_REAL_DATA_MODULES = {"test_report_robustness.py"}
UNIT_CHILD_CPU_WARNING_S = 8.0  # a sandboxed grading takes more (two TensorFlow starts); a CLI run of a quiz less


def _lane(item: pytest.Item) -> str:
    module = item.path.name
    fixtures = set(getattr(item, "fixturenames", ()))
    if item.get_closest_marker("slow") or any(f"{module}::{item.name}".startswith(t) for t in SLOW_TESTS):
        return "slow"
    if (
        item.get_closest_marker("integration")
        or module in INTEGRATION_MODULES
        or fixtures & INTEGRATION_FIXTURES
        or any(f"{module}::{item.name}".startswith(t) for t in INTEGRATION_TESTS)
    ):
        return "integration"
    return "unit"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        lane = _lane(item)
        if not item.get_closest_marker(lane):
            item.add_marker(getattr(pytest.mark, lane))
        group = XDIST_GROUPS.get(item.path.name)
        fixtures = set(getattr(item, "fixturenames", ()))
        trains_on_real_data = not (fixtures & TINY_DATA_FIXTURES or item.path.name in SLOW_WITHOUT_REAL_DATA_MODULES)
        if (lane == "slow" and trains_on_real_data) or fixtures & {"reference_grading", "realworld_saved_model"}:
            group = REAL_DATA_GROUP
        if group and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Warn about a `unit` test that starts TensorFlow, here or in a child process."""
    import resource
    import sys

    had_tensorflow = "tensorflow" in sys.modules
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    yield
    if not item.get_closest_marker("unit"):
        return
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    problem = ""
    if used > UNIT_CHILD_CPU_WARNING_S:
        problem = f"its child processes used {used:.1f} CPU seconds"
    elif not had_tensorflow and "tensorflow" in sys.modules:
        problem = "it imported TensorFlow into the test process"
    if problem:
        import warnings

        warnings.warn(
            f"{item.nodeid} is in the unit lane but {problem}: list its module in INTEGRATION_MODULES "
            "or the fixture in INTEGRATION_FIXTURES (tests/conftest.py), or mark it integration.",
            pytest.PytestWarning,
            stacklevel=1,
        )


@dataclass(frozen=True)
class RealGrading:
    """One run of ``python -m grader EXERCISE FILE --json ... --report ...`` on the real data."""

    exercise: str
    submission: Path
    exit_code: int
    result: dict  # the JSON result ({} when none was written)
    output: str  # stdout and stderr
    report_dir: Path
    seconds: float


def grade_with_cli(exercise: str, submission: Path, out: Path, *extra: str, timeout: float = 900) -> RealGrading:
    """Grade ``submission`` through the CLI as a learner does, from this source tree."""
    import json
    import os
    import subprocess
    import sys
    import time

    repo = Path(__file__).resolve().parents[1]
    out.mkdir(parents=True, exist_ok=True)
    json_path, report_dir = out / f"{exercise}-{submission.stem}.json", out / "report"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))}
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "grader", exercise, str(submission), "--quiet", "--json", str(json_path),
         "--report", str(report_dir), *extra],
        capture_output=True, text=True, timeout=timeout, cwd=out, env=env,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    result = json.loads(json_path.read_text(encoding="utf-8")) if json_path.exists() else {}
    return RealGrading(
        exercise, submission, completed.returncode, result, completed.stdout + completed.stderr, report_dir, seconds
    )


@pytest.fixture(scope="session")
def reference_grading(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], RealGrading]:
    """``grade(exercise)``: the reference solution graded on the real data, once a session."""
    from grader.spec import load_exercise

    done: dict[str, RealGrading] = {}

    def grade(exercise: str) -> RealGrading:
        if exercise not in done:
            spec = load_exercise(exercise)
            if not spec.solution_path.is_file():
                pytest.fail(f"the reference solution {spec.solution_path} is missing")
            done[exercise] = grade_with_cli(
                exercise, spec.solution_path, tmp_path_factory.mktemp(f"reference-{exercise}")
            )
        return done[exercise]

    return grade


# ================================== end of test lanes and shared real-data runs =============


# =============================================================================================
# Batch fixtures (grader.batch, tests/test_batch.py).
#
#   tiny_saved_model   a .keras file: the chapter's model (Flatten -> Dense(64, relu) ->
#                      Dense(10, softmax), Adam, sparse categorical cross-entropy) trained on
#                      the tiny fashion_mnist training images of ``tiny_data_dir``; made once a
#                      session in a subprocess (TensorFlow stays out of the test process).
# =============================================================================================


@pytest.fixture(scope="session")
def tiny_saved_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("tiny-saved-model")
    images, labels = tiny_arrays(TINY_TRAIN, 100)  # the training split tiny_data_dir writes for fashion_mnist
    np.save(folder / "images.npy", images)
    np.save(folder / "labels.npy", labels)
    maker = folder / "make_model.py"
    maker.write_text(
        "import sys, numpy as np, keras\n"
        "keras.utils.set_random_seed(0)\n"
        "x = np.load(sys.argv[1]) / 255.0\n"
        "y = np.load(sys.argv[2])\n"
        "model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),\n"
        "    keras.layers.Dense(64, activation='relu'), keras.layers.Dense(10, activation='softmax')])\n"
        "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
        "model.fit(x, y, epochs=30, verbose=0)\n"
        "model.save(sys.argv[3])\n"
    )
    out = folder / "model.keras"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, str(maker), str(folder / "images.npy"), str(folder / "labels.npy"), str(out)],
        capture_output=True, text=True, timeout=600, env=env, cwd=folder,
    )  # fmt: skip
    assert done.returncode == 0 and out.is_file(), done.stderr[-3000:]
    return out


# ============================================ end of batch fixtures =========================
