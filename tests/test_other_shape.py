"""An exercise on a dataset that is not MNIST-shaped, graded end to end with no engine change.

A course describes its own dataset as data (``<course>/datasets/<name>.toml``, read by
``grader.datasets`` into a registry entry like the built-in ones) and writes an exercise on it
(``exercises/<id>/exercise.toml``, a stub, a reference solution) in its own folder. Here the
dataset is tiny and synthetic, 32x32 RGB images in 5 classes (CIFAR's image shape), written by
the test: class ``c`` is a block of colour ``c`` at a position of its own, on dim noise, so a
small network learns it in a few epochs. The real command (``python -m grader --course DIR``)
grades it in the sandbox (bubblewrap when it works here); the judges, the trusted evaluation
and the served training split take every size from the registry entry.

The first three tests are unit tests (the description format, loading and verifying the course's
files); the three gradings are integration tests, each a real `grade` run on a few hundred images
(20-50 s each on this 2-core machine while others ran; most of it TensorFlow starting).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from grader.datasets import DatasetInfo, idx_bytes, read_dataset_file, write_idx
from grader.errors import DataMissingError, SpecError

REPO = Path(__file__).resolve().parents[1]
DATASET = "colour_blocks"
EXERCISE = "colour_blocks"
HEIGHT, WIDTH, CHANNELS = 32, 32, 3
CLASSES = ("red", "green", "blue", "yellow", "cyan")
COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255]], dtype=np.uint8)
N_TRAIN, N_TEST = 500, 150
FILE_NAMES = {
    "train_images": "train-images-idx4-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "test-images-idx4-ubyte",
    "test_labels": "test-labels-idx1-ubyte",
}


def colour_blocks(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (n, 32, 32, 3) uint8 with balanced labels 0-4: a 10x8 block of class
    ``c``'s colour at column 2 + 6c, at a row drawn per image, on dim noise."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(CLASSES)).astype(np.uint8)
    images = rng.integers(0, 50, size=(n, HEIGHT, WIDTH, CHANNELS), dtype=np.uint8)
    for index, label in enumerate(labels):
        row, col = int(rng.integers(0, HEIGHT - 10)), 2 + 6 * int(label)
        images[index, row : row + 10, col : col + 8] = COLOURS[label]
    return images, labels


def describe_dataset(arrays: dict[str, np.ndarray]) -> str:
    """The dataset's description as a course writes it, with the md5 and sha256 of each file."""
    tables = []
    for role, array in arrays.items():
        data = idx_bytes(array)
        tables.append(
            f'[files.{role}]\nname = "{FILE_NAMES[role]}"\n'
            f'md5 = "{hashlib.md5(data).hexdigest()}"\nsha256 = "{hashlib.sha256(data).hexdigest()}"\n'
        )
    names = ", ".join(f'"{name}"' for name in CLASSES)
    return (
        'title = "Colour blocks"\n'
        f"image_shape = [{HEIGHT}, {WIDTH}]\nchannels = {CHANNELS}\nclass_names = [{names}]\n"
        'format = "idx"\nhow_to_get = "the course publishes its files beside this description"\n'
        f"[splits]\ntrain = {N_TRAIN}\ntest = {N_TEST}\n\n" + "\n".join(tables)
    )


SPEC = """\
id = "colour_blocks"
title = "Colour blocks"
summary = "A small classifier for 32x32 colour images in 5 classes"
kind = "model"
stub = "colour_blocks.py"
dataset = "colour_blocks"
train_data = "grader"
seed = 7
timeout_s = 300
pass_mark = 80

[functions.build_model]
parameters = []
[functions.train]
parameters = ["model", "train_images", "train_labels"]

[[checks]]
id = "functions_present"
name = "build_model() and train() defined and implemented"
judge = "functions_present"
points = 5

[[checks]]
id = "model_built"
name = "build_model() returns a Keras model"
judge = "model_built"
points = 5

[[checks]]
id = "compiled"
name = "The model comes back compiled"
judge = "compiled"
points = 5

[[checks]]
id = "input_shape"
name = "Input fits the dataset's images"
judge = "input_shape"
points = 10

[[checks]]
id = "hidden_layers"
name = "At least one hidden layer"
judge = "hidden_layers"
points = 10
[checks.params]
min_hidden = 1
max_params = 500_000

[[checks]]
id = "output_layer"
name = "Output layer: one unit per class, softmax"
judge = "output_layer"
points = 10

[[checks]]
id = "loss"
name = "Loss: cross-entropy"
judge = "loss"
points = 10
[checks.params]
accepted = ["sparse_categorical_crossentropy"]

[[checks]]
id = "optimizer"
name = "Optimizer"
judge = "optimizer"
points = 5
[checks.params]
accepted = []

[[checks]]
id = "accuracy_metric"
name = "Accuracy reported while training"
judge = "accuracy_metric"
points = 5

[[checks]]
id = "training"
name = "train() fits the model and returns its History"
judge = "training"
points = 10

[[checks]]
id = "test_accuracy"
name = "Test accuracy"
judge = "test_accuracy"
points = 25
required = true
[checks.params]
threshold = 0.9

[[checks]]
id = "integrity"
name = "A fair run"
judge = "integrity"
points = 0
required = true
"""

STUB = '''\
"""Colour blocks: classify 32x32 colour images into 5 classes."""


def build_model():
    raise NotImplementedError("build_model() is not written yet")


def train(model, train_images, train_labels):
    raise NotImplementedError("train() is not written yet")
'''

SOLUTION = """\
import tensorflow as tf


def build_model():
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(32, 32, 3)),
        tf.keras.layers.Conv2D(8, 3, activation="relu"),
        tf.keras.layers.MaxPooling2D(4),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(32, activation="relu"),
        tf.keras.layers.Dense(OUTPUTS, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
    return model.fit(train_images, train_labels, epochs=8, batch_size=32, verbose=0)
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_course(tmp_path_factory.mktemp("other-shape-course"))


def write_course(root: Path) -> Path:
    """A course folder: the dataset (description and files), the exercise, its stub and its
    reference solution, all written as a course author would."""
    train, test = colour_blocks(N_TRAIN, seed=1), colour_blocks(N_TEST, seed=2)
    arrays = {"train_images": train[0], "train_labels": train[1], "test_images": test[0], "test_labels": test[1]}
    data = root / "datasets" / DATASET
    for role, array in arrays.items():
        write_idx(data / f"{FILE_NAMES[role]}.gz", array)
    (root / "datasets" / f"{DATASET}.toml").write_text(describe_dataset(arrays), encoding="utf-8")
    exercise = root / "exercises" / EXERCISE
    exercise.mkdir(parents=True)
    (exercise / "exercise.toml").write_text(SPEC, encoding="utf-8")
    (exercise / "README.md").write_text("# Colour blocks\n\nClassify 32x32 colour images into 5 classes.\n")
    (exercise / "colour_blocks.py").write_text(STUB, encoding="utf-8")
    solutions = root / "solutions" / EXERCISE
    solutions.mkdir(parents=True)
    (solutions / "colour_blocks.py").write_text(SOLUTION.replace("OUTPUTS", "5"), encoding="utf-8")
    return root


def grade(course: Path, submission: Path, tmp_path: Path) -> tuple[int, dict, str]:
    """``grade colour_blocks SUBMISSION --course COURSE`` as a learner's shell runs it, with a
    cache of its own and no downloads."""
    out = tmp_path / "result.json"
    env = {
        **os.environ,
        "GRADER_CACHE_DIR": str(tmp_path / "cache"),
        "GRADER_OFFLINE": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    env.pop("GRADER_DATA_DIR", None)
    env.pop("GRADER_COURSE_DIR", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            EXERCISE,
            str(submission),
            "--course",
            str(course),
            "--quiet",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    result = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    return done.returncode, result, done.stdout + done.stderr


def checks(result: dict) -> dict[str, dict]:
    return {check["id"]: check for check in result["checks"]}


@pytest.mark.unit
def test_a_course_describes_its_dataset_as_data(course: Path, tmp_path: Path) -> None:
    info = read_dataset_file(course / "datasets" / f"{DATASET}.toml")
    assert isinstance(info, DatasetInfo)
    assert info.array_shape == (32, 32, 3) and info.num_classes == 5
    assert info.input_shapes == [[32, 32, 3], [3072]]
    assert info.shape_text == "32x32x3" and (info.train_size, info.test_size) == (N_TRAIN, N_TEST)
    # A typo is refused with the key, what was found and the closest allowed name.
    typo = tmp_path / "typo.toml"
    typo.write_text(describe_dataset({}).replace("channels", "chanels"), encoding="utf-8")
    with pytest.raises(SpecError, match=r"unknown key 'chanels' \(did you mean 'channels'\?\)"):
        read_dataset_file(typo)


@pytest.fixture
def course_env(course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The course in use (GRADER_COURSE_DIR), a grader cache of the test's own, no downloads."""
    from grader import datasets

    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GRADER_OFFLINE", "1")
    monkeypatch.setenv("GRADER_COURSE_DIR", str(course))
    monkeypatch.delenv("GRADER_DATA_DIR", raising=False)
    datasets.clear_memo()
    yield course
    datasets.clear_memo()


@pytest.mark.unit
def test_a_course_dataset_loads_verified_from_its_course_folder(course_env: Path) -> None:
    from grader import datasets

    assert datasets.dataset_names() == ["mnist", "fashion_mnist", DATASET]
    data = datasets.load_dataset(DATASET)
    assert data.train_images.shape == (N_TRAIN, 32, 32, 3) and data.test_labels.shape == (N_TEST,)
    assert data.official and data.class_names == CLASSES
    assert data.source == f"{course_env / 'datasets' / DATASET} (course folder)"
    # The served training split carries what the sandbox's loaders need without the registry.
    meta = json.loads((datasets.served_dir(DATASET) / "meta.json").read_text(encoding="utf-8"))
    assert meta["image_shape"] == [32, 32, 3] and meta["holdout"] == N_TEST
    # The checksum table (what an install script verifies downloads with) is the description's.
    table = datasets.checksum_table(DATASET).splitlines()
    assert [line.split("  ")[1] for line in table] == list(FILE_NAMES.values())
    for line in table:
        digest, name = line.split("  ")
        assert (
            hashlib.sha256(gzip.decompress((course_env / "datasets" / DATASET / f"{name}.gz").read_bytes())).hexdigest()
            == digest
        )


@pytest.mark.unit
def test_course_files_that_differ_from_the_description_are_refused(
    course_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grader import datasets

    copy = tmp_path / "course-copy"
    shutil.copytree(course_env, copy)
    write_idx(copy / "datasets" / DATASET / f"{FILE_NAMES['train_labels']}.gz", colour_blocks(N_TRAIN, seed=9)[1])
    monkeypatch.setenv("GRADER_COURSE_DIR", str(copy))
    with pytest.raises(
        DataMissingError, match=r"train-labels-idx1-ubyte has md5 \w+ but the official Colour blocks has"
    ):
        datasets.load_dataset(DATASET)


@pytest.mark.unit
def test_split_sizes_are_checked_against_the_files(
    course_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[splits] train = 501 with 500 images in the (checksum-matching) files is refused."""
    from grader import datasets

    copy = tmp_path / "course-copy"
    shutil.copytree(course_env, copy)
    description = copy / "datasets" / f"{DATASET}.toml"
    text = description.read_text(encoding="utf-8")
    description.write_text(text.replace(f"train = {N_TRAIN}", f"train = {N_TRAIN + 1}"), encoding="utf-8")
    monkeypatch.setenv("GRADER_COURSE_DIR", str(copy))
    datasets.clear_memo()
    with pytest.raises(
        DataMissingError,
        match=rf"its train files hold {N_TRAIN} images but {DATASET}.toml says \[splits\] train = {N_TRAIN + 1}",
    ):
        datasets.load_dataset(DATASET)


@pytest.mark.unit
def test_a_dataset_description_error_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text(describe_dataset({}).replace(f"test = {N_TEST}", f'test = "{N_TEST}"'), encoding="utf-8")
    line = 1 + path.read_text(encoding="utf-8").splitlines().index(f'test = "{N_TEST}"')
    with pytest.raises(SpecError, match=rf"splits.test \(line {line}\): found '{N_TEST}'"):
        read_dataset_file(path)
    # Each [files.<role>] table has an md5: the line is the one in the table the error names.
    lines = describe_dataset(dict.fromkeys(FILE_NAMES, np.zeros((1, 1), np.uint8))).splitlines()
    third = [number for number, text in enumerate(lines) if text.startswith("md5 = ")][2]
    lines[third] = 'md5 = "not-a-checksum"'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SpecError, match=rf"files.test_images.md5 \(line {third + 1}\): found 'not-a-checksum'"):
        read_dataset_file(path)


@pytest.mark.unit
def test_one_broken_course_file_hides_nothing_else(
    course_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A broken dataset description or exercise.toml is reported, the others still listed, and
    the command exits non-zero; an unknown dataset name gets a "did you mean" and its line."""
    from grader.cli import main

    copy = tmp_path / "course-copy"
    shutil.copytree(course_env, copy)
    (copy / "datasets" / "broken.toml").write_text('title = "Broken"\n', encoding="utf-8")
    monkeypatch.setenv("GRADER_COURSE_DIR", str(copy))
    assert main(["data", "status"]) == 2
    out = capfd.readouterr().out
    for name in ("mnist", "fashion_mnist", DATASET, "broken"):
        assert any(line.startswith(name + " ") for line in out.splitlines()), out
    assert "broken.toml has" in " ".join(out.split())

    second = copy / "exercises" / "second"
    shutil.copytree(copy / "exercises" / EXERCISE, second)
    spec = (second / "exercise.toml").read_text(encoding="utf-8")
    (second / "exercise.toml").write_text(
        spec.replace('id = "colour_blocks"', 'id = "second"').replace("pass_mark = 80", "pas_mark = 80"),
        encoding="utf-8",
    )
    assert main(["list"]) == 2
    captured = capfd.readouterr()
    assert EXERCISE in captured.out
    assert "unknown key 'pas_mark' (did you mean 'pass_mark'?)" in " ".join(captured.err.split())

    (second / "exercise.toml").write_text(
        spec.replace('id = "colour_blocks"', 'id = "second"').replace(
            f'dataset = "{DATASET}"', 'dataset = "colour_block"'
        ),
        encoding="utf-8",
    )
    line = 1 + spec.splitlines().index(f'dataset = "{DATASET}"')
    assert main(["validate", "second", "--spec-only"]) == 2
    shown = " ".join(capfd.readouterr().out.split())
    assert (
        f"dataset = 'colour_block' (line {line}): not a dataset the grader knows (did you mean '{DATASET}'?)" in shown
    )


@pytest.mark.integration
def test_the_reference_solution_passes(course: Path, tmp_path: Path) -> None:
    code, result, output = grade(course, course / "solutions" / EXERCISE / "colour_blocks.py", tmp_path)
    assert code == 0, output
    assert result["passed"] is True and result["score"] == result["max_score"], output
    assert result["isolation"] == ("bwrap" if _bwrap_works() else "process")
    found = checks(result)
    assert "(32, 32, 3)" in found["input_shape"]["message"]
    assert result["metrics"]["test_accuracy"] >= 0.9
    # The trusted evaluation scored all of the course's test split, in its 5 classes, fed as
    # the model declares its input; the report names the course's classes.
    evaluation = result["details"]["evaluation"]
    assert evaluation["n_test"] == N_TEST and evaluation["input_shape_used"] == [32, 32, 3]
    assert [row["name"] for row in evaluation["per_class"]] == list(CLASSES)
    report = (tmp_path / "grade-reports" / EXERCISE / "report.html").read_text(encoding="utf-8")
    assert "cyan" in report


@pytest.mark.integration
def test_a_model_for_another_dataset_fails_naming_the_images_and_classes(course: Path, tmp_path: Path) -> None:
    """10 outputs and an MNIST input: the checks fail with messages naming 32x32x3 and 5 classes."""
    wrong = tmp_path / "colour_blocks.py"
    wrong.write_text(
        SOLUTION.replace("OUTPUTS", "10")
        .replace("tf.keras.Input(shape=(32, 32, 3)),", "tf.keras.Input(shape=(32, 32)),")
        .replace('tf.keras.layers.Conv2D(8, 3, activation="relu"),\n', "")
        .replace("tf.keras.layers.MaxPooling2D(4),\n", ""),
        encoding="utf-8",
    )
    code, result, output = grade(course, wrong, tmp_path)
    assert code == 1, output
    assert result["passed"] is False
    found = checks(result)
    text = json.dumps(result["checks"])
    assert found["input_shape"]["status"] == "failed"
    assert "32x32x3 images need one of (32, 32, 3), (3072,)" in found["input_shape"]["message"]
    assert "keras.Input(shape=(32, 32, 3))" in found["input_shape"]["hint"]
    assert found["output_layer"]["status"] == "failed"
    assert "Dense(5" in found["output_layer"]["message"] + found["output_layer"]["hint"], text
    assert "28" not in text and "784" not in text, text


@pytest.mark.integration
def test_ten_outputs_are_refused_by_the_trusted_evaluation(course: Path, tmp_path: Path) -> None:
    """A model that takes the images but has 10 outputs: the evaluation says a 5-class
    classifier needs one output per class."""
    wrong = tmp_path / "colour_blocks.py"
    wrong.write_text(SOLUTION.replace("OUTPUTS", "10"), encoding="utf-8")
    code, result, output = grade(course, wrong, tmp_path)
    assert code == 1, output
    found = checks(result)
    assert found["input_shape"]["status"] == "passed"
    assert found["output_layer"]["status"] == "failed"
    assert "it has 10 units, but there are 5 classes" in found["output_layer"]["message"], found["output_layer"]
    assert "5-class classifier" in json.dumps(result), output


def _bwrap_works() -> bool:
    from grader.sandbox.isolation import bwrap_problem

    return bwrap_problem() is None
