"""grader.sandbox.offline_data: Keras and TFDS loaders served offline, without the test split.

Installing the loaders changes the process's import machinery, so everything that installs
them runs in a child process, as in the sandbox. Each child sees only copies of the served
folders, and its grader cache is empty: it cannot have read the official test split.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import datasets
from grader.sandbox import offline_data
from grader.sandbox.offline_data import holdout_size, load_served

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NAMES = ("mnist", "fashion_mnist")


def run_child(code: str, env_extra: dict[str, str], timeout: float = 180) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; it prints one JSON line last, which is returned."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(env_extra, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(PROJECT_ROOT))
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def sandbox_view(tiny_data_dir: Path, tmp_path: Path) -> dict[str, Any]:
    """Copies of the served folders, an empty grader cache and the expected train/holdout split."""
    view = tmp_path / "sandbox-view"
    served: dict[str, str] = {}
    expected: dict[str, dict[str, int]] = {}
    for name in NAMES:
        folder = datasets.served_dir(name)
        served[name] = str(shutil.copytree(folder, view / folder.name))
        (x_train, _y_train), (x_test, y_test) = load_served(folder)
        expected[name] = {
            "n_train": len(x_train),
            "n_test": len(x_test),
            "train_sum": int(x_train.sum()),
            "test_sum": int(x_test.sum()),
            "test_labels_sum": int(y_test.sum()),
        }
    empty_cache = tmp_path / "child-cache"
    empty_cache.mkdir()
    return {"served": served, "expected": expected, "env": {"GRADER_CACHE_DIR": str(empty_cache)}}


# --- Pure helpers (no loaders installed in this process) --------------------------------------


def test_holdout_size() -> None:
    assert holdout_size(60_000) == 10_000
    assert holdout_size(60_000, holdout=5_000) == 5_000
    assert holdout_size(200) == 33  # a sixth at most, so tiny data keeps most images for training
    assert holdout_size(200, holdout=0) == 0
    with pytest.raises(ValueError):
        holdout_size(200, holdout=-1)


def test_load_served_is_shaped_like_keras(tiny_data_dir: Path) -> None:
    """The whole training split as "train", its last images as "test": the sizes real code
    writes by hand (60,000 and 10,000 for the real sets), never the official test split."""
    data = datasets.load_dataset("mnist")
    (x_train, y_train), (x_test, y_test) = load_served(datasets.served_dir("mnist"))
    assert x_train.shape == (200, 28, 28) and y_train.shape == (200,)
    assert x_test.shape == (33, 28, 28) and y_test.shape == (33,)
    assert x_train.dtype == y_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train, data.train_images)
    np.testing.assert_array_equal(y_train, data.train_labels)
    np.testing.assert_array_equal(x_test, data.train_images[-33:])  # drawn from the training split
    np.testing.assert_array_equal(y_test, data.train_labels[-33:])
    assert not np.array_equal(x_test, data.test_images[:33])
    # Writable fresh copies, like Keras's: mutating one result does not change the next, and
    # the "test" arrays are not views into the training arrays.
    x_train[:] = 0
    assert x_test.any()
    (again, _), _ = load_served(datasets.served_dir("mnist"))
    assert again.any()


def test_install_refuses_datasets_it_cannot_serve() -> None:
    with pytest.raises(ValueError, match="cifar10"):
        offline_data.install_offline_loaders({"cifar10": Path("nowhere")})


def test_tfds_folder_name() -> None:
    # The layout is in the name: copies built with the older 50,000-image train split are not reused.
    assert offline_data.tfds_folder_name("mnist", "abc") == "mnist-abc-full"
    assert offline_data.tfds_folder_name("mnist", "abc", holdout=500) == "mnist-abc-full-holdout500"


# --- Keras, in a child process ------------------------------------------------------------------

KERAS_CHILD = """
    import json, sys
    from pathlib import Path
    served = {served!r}
    if {import_keras_first!r}:
        import keras  # the path where Keras's modules already exist when we install
    from grader.sandbox.offline_data import DatasetNotServedError, install_offline_loaders
    install_offline_loaders({{k: Path(v) for k, v in served.items()}})

    import keras
    import keras.src.datasets.mnist
    import tensorflow as tf
    from keras.datasets import fashion_mnist, mnist
    from tensorflow.keras.datasets import mnist as tf_mnist
    import keras._tf_keras.keras.datasets.fashion_mnist as tf_keras_fashion

    def describe(result):
        (x_train, y_train), (x_test, y_test) = result
        return {{
            "shapes": [list(a.shape) for a in (x_train, y_train, x_test, y_test)],
            "dtypes": sorted({{str(a.dtype) for a in (x_train, y_train, x_test, y_test)}}),
            "n_train": len(x_train), "n_test": len(x_test),
            "train_sum": int(x_train.sum()), "test_sum": int(x_test.sum()),
            "test_labels_sum": int(y_test.sum()),
        }}

    out = {{
        "mnist": [describe(f()) for f in (mnist.load_data, tf.keras.datasets.mnist.load_data,
                                           tf_mnist.load_data, keras.src.datasets.mnist.load_data)],
        "fashion_mnist": [describe(f()) for f in (fashion_mnist.load_data,
                                                   tf.keras.datasets.fashion_mnist.load_data,
                                                   tf_keras_fashion.load_data)],
        "mnist_path_argument": describe(mnist.load_data(path="mnist.npz"))["n_train"],
    }}
    try:
        keras.datasets.cifar10.load_data()
    except DatasetNotServedError as exc:
        out["cifar10"] = str(exc)
    out["tfds_imported"] = "tensorflow_datasets" in sys.modules
    print(json.dumps(out))
"""


@pytest.mark.parametrize("import_keras_first", [False, True], ids=["hook", "keras-imported-first"])
def test_keras_loaders_serve_the_train_holdout_split(sandbox_view: dict[str, Any], import_keras_first: bool) -> None:
    code = KERAS_CHILD.format(served=sandbox_view["served"], import_keras_first=import_keras_first)
    out = run_child(code, sandbox_view["env"])
    for name in NAMES:
        expected = sandbox_view["expected"][name]
        for seen in out[name]:
            assert seen["shapes"] == [[200, 28, 28], [200], [33, 28, 28], [33]]
            assert seen["dtypes"] == ["uint8"]
            assert {k: seen[k] for k in expected} == expected
    assert out["mnist_path_argument"] == 200
    assert out["cifar10"].startswith("The grader serves only mnist and fashion_mnist offline;")
    assert out["tfds_imported"] is False  # TFDS is patched lazily: never imported unless used


# --- TFDS, in child processes -------------------------------------------------------------------

TFDS_CHILD = """
    import json
    from pathlib import Path
    import numpy as np
    from grader.sandbox.offline_data import DatasetNotServedError, install_offline_loaders
    served = {{k: Path(v) for k, v in {served!r}.items()}}
    install_offline_loaders(served, tfds_dir=Path({tfds_root!r}))
    import tensorflow_datasets as tfds

    out = {{}}
    for name in served:
        (x, y), info = tfds.load(name, split="train", as_supervised=True, batch_size=-1, with_info=True)
        test = tfds.load(name + ":3.*.*", split="test", batch_size=-1)
        out[name] = {{
            "n_train": int(x.shape[0]), "n_test": int(test["image"].shape[0]),
            "train_sum": int(np.asarray(x, dtype=np.int64).sum()),
            "test_sum": int(np.asarray(test["image"], dtype=np.int64).sum()),
            "test_labels_sum": int(np.asarray(test["label"]).sum()),
            "image_shape": list(x.shape[1:]),
            "class_names": info.features["label"].names,
            "splits": {{k: v.num_examples for k, v in info.splits.items()}},
        }}
    # Every split spelling learners use gives the sizes of the real dataset's splits.
    def count(split):
        return int(tfds.load("mnist", split=split, batch_size=-1)["label"].shape[0])
    out["spellings"] = {{
        "train[:10%]": count("train[:10%]"), "train+test": count("train+test"),
        "Split.TEST": count(tfds.Split.TEST), "test[50%:]": count("test[50%:]"),
        "list": [int(d["label"].shape[0]) for d in tfds.load("mnist", split=["train", "test"], batch_size=-1)],
    }}
    builder = tfds.builder("mnist")
    builder.download_and_prepare()  # a no-op on the served copy
    out["builder_count"] = sum(1 for _ in builder.as_dataset(split="test"))
    try:
        tfds.load("cifar10", split="train")
    except DatasetNotServedError as exc:
        out["cifar10"] = str(exc)
    install_offline_loaders(served)  # no TFDS copies offered
    try:
        tfds.load("mnist")
    except DatasetNotServedError as exc:
        out["no_copy"] = str(exc)
    print(json.dumps(out))
"""


@pytest.mark.slow
def test_tfds_load_serves_the_train_holdout_split(sandbox_view: dict[str, Any], tiny_data_dir: Path) -> None:
    # Trusted side: prepare the TFDS copies (what `grade data prepare` does), in a child so this
    # test process never imports TensorFlow.
    prepared = run_child(
        "import json\nfrom grader import datasets\n"
        "print(json.dumps({n: str(datasets.tfds_dir(n)) for n in ('mnist', 'fashion_mnist')}))",
        {"GRADER_CACHE_DIR": str(datasets.cache_dir()), "GRADER_DATA_DIR": str(tiny_data_dir)},
    )
    tfds_root = Path(prepared["mnist"]).parent
    for folder in map(Path, prepared.values()):
        assert (folder / "grader-tfds.json").is_file()
    assert not list(tfds_root.glob(".tmp-*"))  # built atomically, nothing left behind

    code = TFDS_CHILD.format(served=sandbox_view["served"], tfds_root=str(tfds_root))
    out = run_child(code, sandbox_view["env"])
    for name in NAMES:
        expected = sandbox_view["expected"][name]
        seen = out[name]
        # TFDS stores examples shuffled, so compare order-free sums, not arrays.
        assert {k: seen[k] for k in expected} == expected
        assert seen["image_shape"] == [28, 28, 1]
        assert seen["splits"] == {"train": 200, "test": 33}
        assert seen["class_names"] == list(datasets.DATASETS[name].class_names)
    assert out["builder_count"] == 33
    assert out["spellings"] == {
        "train[:10%]": 20,
        "train+test": 233,
        "Split.TEST": 33,
        "test[50%:]": 17,
        "list": [200, 33],
    }
    assert out["cifar10"].startswith("The grader serves only mnist and fashion_mnist offline;")
    assert out["no_copy"].startswith("The grader has no TFDS copy of mnist")
