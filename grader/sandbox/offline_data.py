"""Dataset loaders that work offline inside the sandbox, without the official test split.

Learner code loads data the way the study guide teaches::

    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.fashion_mnist.load_data()
    ds = tfds.load("mnist", split="train", as_supervised=True)

Inside the sandboxed child process those calls must work without a network and must never
touch the official test split: the grader scores the saved model on it afterwards, in its own
process. So the child calls ``install_offline_loaders`` before running learner code, and from
then on the loaders answer from the grader's *served* folders (``grader.datasets.served_dir``),
which hold only the training split:

* ``x_train, y_train`` are the whole training split (60,000 images for the real sets);
* ``x_test, y_test`` are ``holdout`` (10,000 for the real sets) images drawn from that training
  split: its last 10,000, so they are also part of ``x_train``.

Shapes, dtypes *and sizes* are exactly Keras's (60,000 + 10,000), because real code writes sizes
by hand (``x_train.reshape(60000, 784)``, ``assert x_train.shape == (60000, 28, 28)``). The
price: a learner's own ``model.evaluate(x_test, y_test)`` inside the grader measures accuracy on
images the model trained on, so it reads higher than at home; the grader's score comes from
the official test split, measured afterwards by trusted code.

How every alias is covered. In Keras 3, ``tf.keras.datasets.mnist``, ``keras.datasets.mnist``
and ``keras._tf_keras.keras.datasets.mnist`` are thin modules that each do
``from keras.src.datasets.mnist import load_data``. Replacing ``load_data`` in
``keras.src.datasets.<name>`` right after that module executes means every alias imported later
picks up our loader; aliases already imported are patched by scanning ``sys.modules``. The same
"patch on import" hook handles ``tensorflow_datasets``: its ``load`` and ``builder`` are wrapped
only when learner code imports it, so a submission that never uses TFDS never pays the import.

This module imports only the standard library, numpy and the dataset registry
(``grader.datasets``) at import time; TensorFlow Datasets is imported by ``prepare_tfds``
(trusted grader code) and by learner code itself.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import json
import os
import re
import shutil
import sys
import tempfile
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.datasets import DATASETS

# The datasets whose Keras and TFDS loaders the grader serves: the built-in registry entries
# that Keras ships a loader for. (A course's own dataset reaches learner code only as the
# training split the grader passes to train().)
SERVABLE: tuple[str, ...] = tuple(name for name, info in DATASETS.items() if info.keras_loader)

# The offline "test" split is as large as the official one (the registry's test split size),
# so code that writes sizes by hand works as at home.
DEFAULT_HOLDOUT = max(DATASETS[name].test_size for name in SERVABLE)

# Every dataset Keras ships a loader for: the ones we do not serve get a clear error instead of
# a download attempt that would fail, slowly and obscurely, without a network.
KERAS_DATASETS: tuple[str, ...] = (
    "mnist",
    "fashion_mnist",
    "cifar10",
    "cifar100",
    "imdb",
    "reuters",
    "boston_housing",
    "california_housing",
)
# Where those loaders are defined: Keras 3, and the legacy tf_keras package if a learner has it.
_KERAS_SOURCE_PACKAGES: tuple[str, ...] = ("keras.src.datasets", "tf_keras.src.datasets")

_TFDS_MARKER = "grader-tfds.json"  # written last into a finished TFDS copy


class DatasetNotServedError(RuntimeError):
    """Learner code asked for a dataset the grader does not provide while grading.

    Its text (English, for the learner's own ``print(e)``) comes from ``grader.messages.sandbox``;
    the child records ``sandbox_code`` and ``sandbox_facts`` instead, and the grader says them in
    the learner's language."""

    def __init__(self, code: str, **facts: Any) -> None:
        from grader.messages import sandbox as say_sandbox

        super().__init__(say_sandbox.dataset_not_served(code, facts))
        self.sandbox_code, self.sandbox_facts = code, facts


# --- Served data ------------------------------------------------------------------------------


def holdout_size(n_train: int, holdout: int = DEFAULT_HOLDOUT) -> int:
    """How many training images are also served as the offline "test" split.

    ``holdout`` for the real sets (10,000 of 60,000); at most a sixth of the training split,
    the real sets' proportion, so tiny test datasets get a test split of the usual proportion.
    """
    if holdout < 0:
        raise ValueError(f"holdout must be >= 0, not {holdout}")
    return min(holdout, n_train // 6)


def load_served(
    served_dir: Path, holdout: int = DEFAULT_HOLDOUT
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``((x_train, y_train), (x_test, y_test))`` from a served folder, shaped like Keras's:
    the whole training split, and its last ``holdout_size`` images as the "test" split.

    Arrays are fresh, writable uint8 copies on every call (like Keras's), so a learner who
    modifies them in place cannot change what the next call returns (the test arrays are
    copies of their own, not views into the training arrays).
    """
    served_dir = Path(served_dir)
    images = np.load(served_dir / "train_images.npy")
    labels = np.load(served_dir / "train_labels.npy")
    cut = len(labels) - holdout_size(len(labels), holdout)
    return (images, labels), (images[cut:].copy(), labels[cut:].copy())


def _served_meta(served_dir: Path) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((Path(served_dir) / "meta.json").read_text(encoding="utf-8"))
    return meta


# The layout of the TFDS copies, in their folder names: copies built before the served splits
# became full-size (train 50,000 + test 10,000) have no suffix and are never reused.
TFDS_LAYOUT = "full"


def tfds_folder_name(name: str, checksum: str, holdout: int = DEFAULT_HOLDOUT) -> str:
    """Folder (under the TFDS root) of the TFDS copy of one served dataset and holdout."""
    suffix = "" if holdout == DEFAULT_HOLDOUT else f"-holdout{holdout}"
    return f"{name}-{checksum}-{TFDS_LAYOUT}{suffix}"


# --- Preparing TFDS copies (trusted grader code, outside the sandbox) ------------------------


def prepare_tfds(name: str, served_dir: Path, out_dir: Path, holdout: int = DEFAULT_HOLDOUT) -> Path:
    """Build a real TFDS data_dir for ``name`` from the served train/holdout split.

    The registered TFDS builder (``tfds.builder("mnist")``) does the work, so its features,
    DatasetInfo and TFRecord files are exactly what ``tfds.load`` expects. Only its source
    changes: instead of downloading the four IDX files, its split generators read IDX files we
    write from the served arrays, with ``train`` = the whole training split and
    ``test`` = its last ``holdout`` images. (Overriding ``_split_generators`` on the builder instance is simpler
    and sturdier than faking its download manager: nothing is fetched, nothing checksummed
    against the official URLs.)

    Splits: ``train`` is the whole training split and ``test`` its last ``holdout`` images, the
    sizes ``tfds.load`` gives at home (60,000 and 10,000), never the official test split.

    Returns ``out_dir``, usable as ``tfds.load(name, data_dir=out_dir)``. Does nothing when
    ``out_dir`` is already prepared; otherwise builds in a temporary folder and renames it, so a
    half-built copy is never used. Takes about 15-20 s for a real dataset, once.
    """
    out_dir = Path(out_dir)
    if (out_dir / _TFDS_MARKER).is_file():
        return out_dir
    if name not in SERVABLE:
        raise ValueError(f"prepare_tfds serves only {', '.join(SERVABLE)}, not {name!r}")

    from grader.datasets import write_idx  # grader code: fine here, this runs outside the sandbox

    (x_train, y_train), (x_holdout, y_holdout) = load_served(served_dir, holdout)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".tmp-{out_dir.name}-"))
    try:
        # Plain (not gzipped) IDX files: the builder's _generate_examples reads raw bytes.
        idx = {
            "train": (write_idx(work / "idx" / "train-images", x_train),
                      write_idx(work / "idx" / "train-labels", y_train), len(y_train)),
            "test": (write_idx(work / "idx" / "test-images", x_holdout),
                     write_idx(work / "idx" / "test-labels", y_holdout), len(y_holdout)),
        }  # fmt: skip
        data_dir = work / "data"
        _build_tfds(name, data_dir, work / "downloads", idx)
        meta = _served_meta(served_dir)
        marker = {
            "name": name,
            "checksum": meta["checksum"],
            "holdout": holdout,
            "splits": {split: count for split, (_, _, count) in idx.items()},
        }
        (data_dir / _TFDS_MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
        _readable_by_all(data_dir)  # the sandbox's user ("nobody" when the grader is root) reads it
        try:
            os.rename(data_dir, out_dir)
        except OSError:
            if not (out_dir / _TFDS_MARKER).is_file():  # not "another run finished first"
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out_dir


def _readable_by_all(folder: Path) -> None:
    """Folders 0755 and files 0644 below ``folder``, whatever the umask: the copy holds only
    the training split, and learner code reads it as another user when the grader is root."""
    for root, _folders, files in os.walk(folder):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)


def _build_tfds(name: str, data_dir: Path, download_dir: Path, idx: dict[str, tuple[Path, Path, int]]) -> None:
    """Run the registered TFDS builder for ``name`` on local IDX files into ``data_dir``."""
    import tensorflow_datasets as tfds

    # A new builder makes an (empty, GCS being off) temporary folder for dataset metadata and
    # never removes it: made inside download_dir, it goes with the preparation's work folder.
    download_dir.mkdir(parents=True, exist_ok=True)
    system_tempdir, tempfile.tempdir = tempfile.tempdir, str(download_dir)
    try:
        builder = tfds.builder(name, data_dir=str(data_dir))
    finally:
        tempfile.tempdir = system_tempdir

    def split_generators(dl_manager: Any) -> dict[str, Any]:
        # The dict form of _split_generators (split name -> example generator) is TFDS's
        # documented API; _generate_examples is the builder's own IDX reader.
        return {
            split: builder._generate_examples(num_examples=count, data_path=str(images), label_path=str(labels))
            for split, (images, labels, count) in idx.items()
        }

    builder._split_generators = split_generators
    tfds.disable_progress_bar()
    # TFDS announces its work on stdout; the grader's stdout belongs to its renderers.
    with contextlib.redirect_stdout(sys.stderr):
        builder.download_and_prepare(
            download_dir=str(download_dir),
            download_config=tfds.download.DownloadConfig(try_download_gcs=False),
        )


# --- Installing the loaders (inside the sandbox) ----------------------------------------------


@dataclass(frozen=True)
class _Config:
    served: dict[str, Path]
    holdout: int
    tfds_dir: Path | None


_config: _Config | None = None


def install_offline_loaders(
    served: dict[str, Path], holdout: int = DEFAULT_HOLDOUT, tfds_dir: Path | None = None
) -> None:
    """Make Keras's and TFDS's dataset loaders answer from the served folders, offline.

    ``served`` maps dataset name to its ``grader.datasets.served_dir``; ``tfds_dir`` is the
    root of the prepared TFDS copies (``grader.datasets.tfds_root()``), or None when TFDS is not
    offered. Call it in the sandboxed child before learner code runs; calling it again replaces
    the configuration. Cheap: it imports neither Keras nor TFDS.

        >>> install_offline_loaders({"mnist": served_dir("mnist")}, tfds_dir=tfds_root())
        >>> (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        >>> x_train.shape, x_test.shape
        ((60000, 28, 28), (10000, 28, 28))
    """
    global _config
    unknown = sorted(set(served) - set(SERVABLE))
    if unknown:
        raise ValueError(f"install_offline_loaders can serve {', '.join(SERVABLE)}, not {unknown}")
    holdout_size(0, holdout)  # validates holdout
    _config = _Config(
        served={name: Path(path) for name, path in served.items()},
        holdout=holdout,
        tfds_dir=Path(tfds_dir) if tfds_dir is not None else None,
    )
    patches: dict[str, Callable[[types.ModuleType], None]] = {
        f"{package}.{dataset}": _keras_patcher(dataset)
        for package in _KERAS_SOURCE_PACKAGES
        for dataset in KERAS_DATASETS
    }
    patches["tensorflow_datasets"] = _patch_tfds
    _PATCH_ON_IMPORT.patches.update(patches)
    if _PATCH_ON_IMPORT not in sys.meta_path:
        sys.meta_path.insert(0, _PATCH_ON_IMPORT)
    # Modules imported before we were installed are patched now; the rest when they load.
    for module_name, patch in patches.items():
        module = sys.modules.get(module_name)
        if module is not None:
            patch(module)


def _require_config() -> _Config:
    if _config is None:
        raise RuntimeError("install_offline_loaders() has not been called in this process")
    return _config


def _not_served(loader: str, name: str) -> DatasetNotServedError:
    """``loader`` ("keras" or "tfds") asked for ``name``, which this run does not serve."""
    served = [served for served in SERVABLE if served in _require_config().served]
    return DatasetNotServedError("dataset_not_served", loader=loader, name=name, offered=served)


def _served_keras_data(dataset: str) -> Any:
    config = _require_config()
    if dataset not in config.served:
        raise _not_served("keras", dataset)
    return load_served(config.served[dataset], config.holdout)


def _keras_patcher(dataset: str) -> Callable[[types.ModuleType], None]:
    """A patch that replaces ``load_data`` in one ``keras.src.datasets.<dataset>`` module."""

    def patch(module: types.ModuleType) -> None:
        original = vars(module).get("load_data")
        if original is None or getattr(original, "_grader_offline", False):
            return

        def load_data(*args: Any, **kwargs: Any) -> Any:
            # Same call shapes as Keras's (mnist's ``path=`` argument is accepted and unused).
            return _served_keras_data(dataset)

        load_data.__name__ = load_data.__qualname__ = "load_data"
        load_data.__module__ = module.__name__
        load_data.__doc__ = (
            f"Loads {dataset} from the grader's local copy (offline). x_test/y_test are a "
            "held-out part of the training split; the official test split is the grader's."
        )
        load_data._grader_offline = True  # type: ignore[attr-defined]
        _replace_everywhere({"load_data": (original, load_data)})

    return patch


def _replace_everywhere(replacements: dict[str, tuple[Any, Any]]) -> None:
    """Set ``attr = new`` in every loaded module whose ``attr`` is ``original`` (the aliases)."""
    for module in list(sys.modules.values()):
        try:
            namespace = vars(module)  # not getattr: lazy modules would import on attribute access
        except TypeError:
            continue
        for attr, (original, new) in replacements.items():
            if namespace.get(attr) is original:
                setattr(module, attr, new)


# --- TFDS -------------------------------------------------------------------------------------


def _tfds_base_name(name: Any) -> str:
    """``"mnist"`` from ``"mnist"``, ``"mnist:3.0.1"``, ``"mnist/config:3.*.*"``."""
    return re.split(r"[:/]", str(name), maxsplit=1)[0].strip()


def _tfds_data_dir(name: Any) -> str:
    """The prepared TFDS data_dir for a learner's ``tfds.load(name)``, or a clear error."""
    config = _require_config()
    base = _tfds_base_name(name)
    if base not in config.served:
        raise _not_served("tfds", str(name))
    checksum = _served_meta(config.served[base])["checksum"]
    folder = None
    if config.tfds_dir is not None:
        folder = config.tfds_dir / tfds_folder_name(base, checksum, config.holdout)
    if folder is None or not (folder / _TFDS_MARKER).is_file():
        raise DatasetNotServedError("no_tfds_copy", name=base)
    return str(folder)


def _patch_tfds(module: types.ModuleType) -> None:
    """Wrap ``tfds.load`` and ``tfds.builder`` (and their aliases) to read the served copies."""
    load_module = sys.modules.get("tensorflow_datasets.core.load")
    if load_module is None:
        return  # not a TFDS we know; learner code then fails on its own, offline
    original_load, original_builder = load_module.load, load_module.builder
    if getattr(original_load, "_grader_offline", False):
        return

    def load(*args: Any, **kwargs: Any) -> Any:
        name = args[0] if args else kwargs.get("name")
        kwargs["data_dir"] = _tfds_data_dir(name)
        kwargs["download"] = False  # the copy is complete; never reach for the network
        kwargs["try_gcs"] = False
        if kwargs.get("builder_kwargs"):
            kwargs["builder_kwargs"] = {k: v for k, v in kwargs["builder_kwargs"].items() if k != "data_dir"}
        return original_load(*args, **kwargs)

    def builder(*args: Any, **kwargs: Any) -> Any:
        name = args[0] if args else kwargs.get("name")
        kwargs["data_dir"] = _tfds_data_dir(name)
        kwargs["try_gcs"] = False
        return original_builder(*args, **kwargs)

    for wrapper, original in ((load, original_load), (builder, original_builder)):
        wrapper.__name__ = wrapper.__qualname__ = original.__name__
        wrapper.__doc__ = original.__doc__
        wrapper.__module__ = original.__module__
        wrapper._grader_offline = True  # type: ignore[attr-defined]
    # tfds.load calls the module-level ``builder`` itself; replacing that too is harmless
    # because the wrapper only re-asserts the same data_dir.
    _replace_everywhere({"load": (original_load, load), "builder": (original_builder, builder)})


# --- Patch on import --------------------------------------------------------------------------


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """A meta path finder that runs a patch right after chosen modules execute.

    It finds each module's real spec with the other finders and wraps only the loader's
    ``exec_module`` (loaders are per module, so nothing else is affected); the module object,
    its ``__loader__`` type and its resources stay as they were.
    """

    def __init__(self) -> None:
        self.patches: dict[str, Callable[[types.ModuleType], None]] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        patch = self.patches.get(fullname)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        execute = loader.exec_module

        def exec_module(module: types.ModuleType) -> None:
            execute(module)
            patch(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


_PATCH_ON_IMPORT = _PatchOnImport()
