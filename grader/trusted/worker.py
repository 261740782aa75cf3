"""The evaluation process: loads the saved model and predicts, under the sandbox's limits.

Started by ``grader.evaluation.TrustedEvaluator`` as ``python -m grader.trusted.worker FD``
inside the sandbox machinery (bubblewrap when available: no network, no dataset folders), in a
scratch folder that holds the test images and a sample of training images with their labels,
never the test labels. It imports TensorFlow at once (the sandbox is training meanwhile), then
waits for one request line on file descriptor ``FD``: a ``grader.trusted.protocol.EvaluationRequest``
(the model's file name, the time limit, the threads, what one image is and how many classes:
from the dataset's registry entry, ``grader.datasets``), or ``{}``: nothing to evaluate, exit.

From then on an alarm limits it to the request's ``seconds`` (the default action of SIGALRM ends
the process, even inside TensorFlow's native code). It loads the model in Keras' safe mode (no
arbitrary code), records the model's facts (layers, parameters, input and output shapes, compile
settings as the file carries them), the digest of its weights, and predictions: the training
sample under both pixel scalings (to tell which one the model was trained for) and the test
images under the chosen one. It writes its answer into ``result.json`` and exits: a
``protocol.ModelMeasured`` (facts only when the request says ``facts_only``) or a
``protocol.EvaluationError`` (a code and its facts), as ``to_json()`` writes them.

Learner code never runs here: safe mode refuses Lambda layers and custom classes.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Literal

from grader.trusted.protocol import EvaluationError, EvaluationRequest, ModelMeasured, Predictions, Scaling

BATCH = 1000
PROBE_IMAGES = 2000  # training images tried under both scalings
RESULT = "result.json"

# TensorFlow functions that Keras serialises under TensorFlow's names (``tf.nn.softmax`` is
# "softmax_v2") and cannot find again; mapped to Keras' own, which compute the same.
TF_FUNCTION_ALIASES = {"softmax_v2": "softmax", "log_softmax_v2": "log_softmax"}


class EvaluationFailed(Exception):
    """The model could not be loaded or fed the images: a code and its facts, which the grader
    says in words (``grader.messages.sandbox.evaluation_problem``; ``str()`` is the English).
    ``limit``: "memory" when the kernel refused the memory it needed (the process's data limit)."""

    def __init__(self, code: str, limit: Literal["memory"] | None = None, **facts: Any) -> None:
        from grader.messages import sandbox as say_sandbox

        super().__init__(say_sandbox.evaluation_problem(code, facts))
        self.code, self.facts, self.limit = code, facts, limit


def main(argv: list[str]) -> int:
    request_fd = int(argv[1])
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    import keras  # while the sandbox trains

    with os.fdopen(request_fd, "r", encoding="utf-8") as channel:
        line = channel.readline(64 * 1024)
    request = EvaluationRequest.from_line(line)
    if request is None:  # no model came back (or the line is not a request): nothing to load
        return 0
    signal.alarm(max(1, request.seconds))  # default action: the process ends, wherever it is
    if request.threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(request.threads)
        tf.config.threading.set_inter_op_parallelism_threads(max(1, request.threads // 2))
    work = Path.cwd()
    result: ModelMeasured | EvaluationError
    try:
        result = evaluate(keras, work / request.model, work, request)
    except EvaluationFailed as exc:
        result = EvaluationError(code=exc.code, facts=exc.facts, limit=exc.limit)
    except (MemoryError, Exception) as exc:  # noqa: BLE001 - e.g. a model too large to predict with
        memory = isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError"
        result = EvaluationError(
            code="crashed", facts={"exception": type(exc).__name__}, limit="memory" if memory else None
        )
    tmp = work / (RESULT + ".tmp")
    tmp.write_text(json.dumps(result.to_json()), encoding="utf-8")
    tmp.replace(work / RESULT)
    return 0


def load_model(keras: Any, path: Path) -> Any:
    aliases = {name: getattr(keras.activations, target) for name, target in TF_FUNCTION_ALIASES.items()}
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True, custom_objects=aliases)
    except Exception as exc:  # noqa: BLE001 - every load failure is the model's, not ours
        if isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError":
            raise EvaluationFailed("load_memory", limit="memory") from None
        raise load_failure(exc) from None


def evaluate(keras: Any, path: Path, work: Path, request: EvaluationRequest) -> ModelMeasured:
    import numpy as np

    from grader.evidence import to_json
    from grader.sandbox.child import describe_model
    from grader.trusted.weights import weights_digest

    started = time.perf_counter()
    model = load_model(keras, path)
    loaded = time.perf_counter()
    # Loaded without compiling (Keras builds no loss or metric objects here): the grader reads
    # the compile settings from the file's config.json itself.
    facts = describe_model(model, keras)
    input_shape = declared_input_shape(model, request.image_shape)
    classes = request.classes
    outputs = output_units(model)
    if outputs != classes:
        raise EvaluationFailed("wrong_outputs", outputs=outputs, classes=classes)

    measured = ModelMeasured(
        facts=to_json(facts),
        weights_digest=weights_digest(model),
        input_shape_used=[int(d) for d in input_shape],
        load_seconds=loaded - started,
    )
    if request.facts_only:
        # Quick mode (grader.quick): the model's facts, no predictions; its test accuracy is not
        # measured, and the test images are not even read.
        return measured

    def predict(images: Any, scale: float) -> Any:
        scores = []
        for start in range(0, len(images), BATCH):
            x = np.asarray(images[start : start + BATCH], dtype="float32").reshape((-1, *input_shape)) * scale
            scores.append(np.asarray(model(x, training=False)).reshape(len(x), -1))
        return np.concatenate(scores) if scores else np.zeros((0, classes))

    train_images = np.load(work / "train_images.npy", mmap_mode="r")
    train_labels = np.load(work / "train_labels.npy")
    test_images = np.load(work / "test_images.npy", mmap_mode="r")
    # Which scaling was the model trained for? Training labels are not secret: try both on a
    # sample and keep the better.
    probe = min(PROBE_IMAGES, len(train_images))
    scalings: dict[Scaling, float] = {"unit": 1.0 / 255.0, "raw": 1.0}
    probe_scores = {name: predict(train_images[:probe], scale) for name, scale in scalings.items()}
    probe_accuracy: dict[str, float] = {
        name: float(np.mean(scores.argmax(1) == train_labels[:probe])) if probe else 0.0
        for name, scores in probe_scores.items()
    }
    chosen: Scaling = "raw" if probe_accuracy["raw"] > probe_accuracy["unit"] + 0.05 else "unit"
    rest = predict(train_images[probe:], scalings[chosen])
    train_scores = np.concatenate([probe_scores[chosen], rest]) if len(rest) else probe_scores[chosen]
    test_scores = predict(test_images, scalings[chosen])
    if not (np.all(np.isfinite(test_scores)) and np.all(np.isfinite(train_scores))):
        raise EvaluationFailed("not_finite")
    predictions = Predictions(
        input_scaling=chosen,
        probe_accuracy=probe_accuracy,
        outputs_are_probabilities=bool(
            np.all(test_scores >= -1e-6) and np.allclose(test_scores.sum(axis=1), 1.0, atol=1e-3)
        ),
        train_predicted=[int(v) for v in train_scores.argmax(axis=1)],
        test_predicted=[int(v) for v in test_scores.argmax(axis=1)],
        predict_seconds=time.perf_counter() - loaded,
    )
    return dataclasses.replace(measured, predictions=predictions)


def declared_input_shape(model: Any, image_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The per-image input shape the model declares, which must hold one image of
    ``image_shape`` (the dataset's): for 28x28 images (28, 28), (28, 28, 1), (784,), ..."""
    pixels = math.prod(image_shape)
    image = "x".join(str(d) for d in image_shape)
    try:
        inputs = model.inputs
        if len(inputs) != 1:
            raise EvaluationFailed("several_inputs", count=len(inputs))
        shape = list(inputs[0].shape[1:])
    except EvaluationFailed:
        raise
    except Exception:  # noqa: BLE001
        raise EvaluationFailed("no_input_shape") from None
    known = [d for d in shape if d is not None]
    missing = [i for i, d in enumerate(shape) if d is None]
    if len(missing) == 1 and known and pixels % math.prod(known) == 0:
        shape[missing[0]] = pixels // math.prod(known)
    elif missing:
        raise EvaluationFailed("open_input_shape", shape=str(tuple(shape)), image_shape=str(image_shape))
    if math.prod(shape) != pixels:
        raise EvaluationFailed(
            "input_shape_mismatch", shape=str(tuple(shape)), image=image, image_shape=str(image_shape), pixels=pixels
        )
    return tuple(int(d) for d in shape)


def output_units(model: Any) -> int:
    try:
        outputs = model.outputs
        if len(outputs) != 1:
            raise EvaluationFailed("several_outputs", count=len(outputs))
        return int(outputs[0].shape[-1])
    except EvaluationFailed:
        raise
    except Exception:  # noqa: BLE001
        raise EvaluationFailed("no_output_shape") from None


def load_failure(exc: Exception) -> EvaluationFailed:
    """Why Keras could not load the model, as a code: a Lambda layer (refused in safe mode), a
    custom object, or Keras' own exception and the first line of its text (verbatim)."""
    text = str(exc)
    if "Lambda" in text or "safe_mode" in text:
        return EvaluationFailed("lambda_layer")
    if "custom" in text.lower() or "Could not locate" in text:
        return EvaluationFailed("custom_object")
    first = text.strip().splitlines()[0] if text.strip() else ""
    return EvaluationFailed("not_loaded", exception=type(exc).__name__, detail=first[:300])


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip TensorFlow's slow teardown
