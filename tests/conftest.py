"""Shared pytest fixtures. Each group below belongs to one part of the grader; add yours as a
new group rather than changing another group's fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

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
