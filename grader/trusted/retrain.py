"""``--retrain`` (for exams): train the submitted architecture again, from scratch, and compare.

A model trained on the test split somewhere else, or with weights from anywhere, can score far
better on the test split than its architecture and recipe can reach on the training data. So the
grader rebuilds the model from its saved config (no weights), compiles it with the compile
settings the file carries, trains it on the served training data with the fit arguments the run
recorded (validated and bounded: they are the run's claims) in a sandboxed process, and has the
trusted evaluation test the reproduction. A submission that beats its reproduction on the test
split by clearly more than seeds explain fails the integrity check.

This module is both sides: ``retrain_plan`` (the grader: what to train) and ``main`` (the
process in the sandbox: ``python -m grader.trusted.retrain PLAN.json``). No learner code runs in
that process: the config is loaded in Keras' safe mode, like the evaluation's.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_EPOCHS = 50  # a recipe of more epochs is reproduced with 50
DEFAULT_EPOCHS = 5
DEFAULT_BATCH = 32
MAX_BATCH = 4096


@dataclass
class FitRecipe:
    """The fit arguments to reproduce, bounded."""

    epochs: int
    batch_size: int
    labels: str  # "integer" or "one_hot"
    scale: float  # 1/255 ("unit") or 1 ("raw"): the pixel scaling the model was trained for


def fit_recipe(fit_calls: list[Any], input_scaling: str | None, one_hot: bool) -> FitRecipe:
    """The recipe from the run's recorded fit calls: all their epochs together (a learner may fit
    one epoch at a time in a loop) and the last batch size, each bounded; defaults where the
    record says nothing usable."""
    epochs = 0
    batch = None
    for call in fit_calls:
        value = getattr(call, "epochs", None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            epochs += value
        size = getattr(call, "batch_size", None)
        if isinstance(size, int) and not isinstance(size, bool) and size > 0:
            batch = size
    return FitRecipe(
        epochs=min(max(epochs, 1) if epochs else DEFAULT_EPOCHS, MAX_EPOCHS),
        batch_size=min(batch or DEFAULT_BATCH, MAX_BATCH),
        labels="one_hot" if one_hot else "integer",
        scale=1.0 if input_scaling == "raw" else 1.0 / 255.0,
    )


def main(argv: list[str]) -> int:
    plan = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    if plan.get("threads"):
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(int(plan["threads"]))
        tf.config.threading.set_inter_op_parallelism_threads(max(1, int(plan["threads"]) // 2))
    keras.utils.set_random_seed(int(plan["seed"]))
    work = Path.cwd()
    with zipfile.ZipFile(work / "model.keras") as archive:
        config = json.loads(archive.read("config.json"))
    compile_config = config.pop("compile_config", None) or {}
    aliases = {"softmax_v2": keras.activations.softmax, "log_softmax_v2": keras.activations.log_softmax}
    with keras.saving.custom_object_scope(aliases):
        model = keras.saving.deserialize_keras_object(config, safe_mode=True)  # fresh weights
        model.compile_from_config(compile_config)
    served = Path(plan["served"])
    images = np.load(served / "train_images.npy", mmap_mode="r")
    labels = np.load(served / "train_labels.npy").astype("int64")
    shape = tuple(int(d) for d in plan["input_shape"])
    x = (np.asarray(images, dtype="float32") * float(plan["scale"])).reshape((len(images), *shape))
    y = keras.utils.to_categorical(labels, int(plan["classes"])) if plan["labels"] == "one_hot" else labels
    model.fit(x, y, epochs=int(plan["epochs"]), batch_size=int(plan["batch_size"]), verbose=0)
    keras.saving.save_model(model, work / "reproduction.keras")
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
