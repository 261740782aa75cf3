"""Trusted evaluation: the grader's own code scores the learner's saved model on the test split.

Learner code never runs here. The model comes back from the sandbox as a ``.keras`` file and is
loaded with Keras' safe mode (no arbitrary code such as ``Lambda`` layers); the test images are
fed in the shape the model declares; the argmax of the outputs (probabilities or logits alike) is
compared with the labels, which only this process has.

TensorFlow is imported lazily: ``TrustedEvaluator.warm_up()`` lets the pipeline import it in a
background thread while the sandbox trains, so evaluation adds well under a second at the end.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from grader.datasets import Dataset
from grader.evidence import ClassFigures, EvaluationEvidence, image_fingerprint

PROBE_IMAGES = 2000  # training images used to tell which pixel scaling the model was trained for
BATCH = 1000


class TrustedEvaluator:
    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._keras: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> threading.Thread:
        """Start importing Keras in the background; returns the thread."""
        thread = threading.Thread(target=self._import_keras, daemon=True)
        thread.start()
        return thread

    def _import_keras(self) -> Any:
        with self._lock:
            if self._keras is None:
                with native_stderr_silenced():
                    import keras

                self._keras = keras
            return self._keras

    def evaluate(self, model_path: Path | None, *, seed: int, why_missing: str = "") -> EvaluationEvidence:
        started = time.perf_counter()
        if model_path is None:
            result = EvaluationEvidence(status="not_run", error=why_missing or "no trained model came back from the run")
        else:
            try:
                with native_stderr_silenced():  # TensorFlow logs CUDA probing on first use
                    result = self._evaluate(model_path, seed)
            except UnloadableModelError as exc:
                result = EvaluationEvidence(status="error", error=str(exc))
        # To notice a model trained on the test split (grader.judges.integrity).
        result.test_fingerprint = image_fingerprint(self.dataset.test_images)
        result.seconds = time.perf_counter() - started
        return result

    def _evaluate(self, model_path: Path, seed: int) -> EvaluationEvidence:
        keras = self._import_keras()
        try:
            model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
        except Exception as exc:  # noqa: BLE001 - every load failure is the model's, not ours
            raise UnloadableModelError(_explain_load_failure(exc)) from None

        input_shape = _declared_input_shape(model)
        n_outputs = _output_units(model)
        if n_outputs != len(self.dataset.class_names):
            raise UnloadableModelError(
                f"the model outputs {n_outputs} values per image; a {len(self.dataset.class_names)}-class "
                "classifier needs one output per class"
            )

        def predict(images: np.ndarray, scale: float) -> np.ndarray:
            x = images.reshape((len(images), *input_shape)).astype("float32") * scale
            outputs = [np.asarray(model(x[i : i + BATCH], training=False)) for i in range(0, len(x), BATCH)]
            return np.concatenate(outputs).reshape(len(images), -1)

        # Which scaling was the model trained for? Training images' labels are not secret, so
        # try both on a sample of them and use the better one for the test split.
        probe_x = np.asarray(self.dataset.train_images[:PROBE_IMAGES])
        probe_y = np.asarray(self.dataset.train_labels[:PROBE_IMAGES])
        scalings = {"unit": 1.0 / 255.0, "raw": 1.0}
        probe = {name: float(np.mean(predict(probe_x, s).argmax(1) == probe_y)) for name, s in scalings.items()}
        chosen = "raw" if probe["raw"] > probe["unit"] + 0.05 else "unit"

        test_x = np.asarray(self.dataset.test_images)
        test_y = np.asarray(self.dataset.test_labels).astype(int)
        outputs = predict(test_x, scalings[chosen])
        if not np.all(np.isfinite(outputs)):
            raise UnloadableModelError("the model's outputs contain NaN or infinity (did the training loss diverge?)")
        predicted = outputs.argmax(axis=1)
        return EvaluationEvidence(
            status="ok",
            test_accuracy=float(np.mean(predicted == test_y)),
            n_test=len(test_y),
            input_shape_used=[int(d) for d in input_shape],
            input_scaling=chosen,
            probe_accuracy=probe,
            outputs_are_probabilities=bool(
                np.all(outputs >= -1e-6) and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3)
            ),
            **class_figures(test_y, predicted, self.dataset.class_names),
            sample_predictions=sample_predictions(test_y, predicted, seed),
        )


_silence_lock = threading.Lock()
_silence_depth = 0
_saved_stderr_fd: int | None = None


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Silence file descriptor 2 while TensorFlow's C++ runtime starts: it logs start-up lines
    (CUDA probing, CPU features) before any log level applies. The CLI writes its own messages
    through a duplicate of the original descriptor, so they still show.

    Descriptor 2 belongs to the whole process and the warm-up thread may silence it while the
    main thread evaluates, so silencing is counted: the first to enter redirects, the last to
    leave restores.
    """
    global _silence_depth, _saved_stderr_fd
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _silence_lock:
        if _silence_depth == 0:
            try:
                _saved_stderr_fd = os.dup(2)
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                os.close(devnull)
            except OSError:
                _saved_stderr_fd = None
        _silence_depth += 1
    try:
        yield
    finally:
        with _silence_lock:
            _silence_depth -= 1
            if _silence_depth == 0 and _saved_stderr_fd is not None:
                os.dup2(_saved_stderr_fd, 2)
                os.close(_saved_stderr_fd)
                _saved_stderr_fd = None


class UnloadableModelError(Exception):
    """The model could not be loaded or fed the test images; the message says why."""


def class_figures(truth: np.ndarray, predicted: np.ndarray, class_names: tuple[str, ...]) -> dict[str, Any]:
    n = len(class_names)
    confusion = np.zeros((n, n), dtype=int)
    np.add.at(confusion, (truth, np.clip(predicted, 0, n - 1)), 1)
    per_class = []
    for label in range(n):
        support = int(confusion[label].sum())
        predicted_as = int(confusion[:, label].sum())
        hits = int(confusion[label, label])
        per_class.append(
            ClassFigures(
                label=label,
                name=class_names[label],
                support=support,
                precision=hits / predicted_as if predicted_as else 0.0,
                recall=hits / support if support else 0.0,
            )
        )
    return {"per_class": per_class, "confusion": confusion.tolist()}


def sample_predictions(truth: np.ndarray, predicted: np.ndarray, seed: int, count: int = 16) -> list[dict[str, int]]:
    """Test images for the report's grid, chosen reproducibly from the seed."""
    rng = np.random.default_rng(seed)
    indices = sorted(rng.choice(len(truth), size=min(count, len(truth)), replace=False).tolist())
    return [{"index": int(i), "predicted": int(predicted[i]), "true": int(truth[i])} for i in indices]


def _declared_input_shape(model: Any) -> tuple[int, ...]:
    """The per-image input shape the model declares: (28, 28), (28, 28, 1), (784,), ..."""
    try:
        shape = list(model.inputs[0].shape[1:])
    except Exception:  # noqa: BLE001
        raise UnloadableModelError("the saved model does not declare an input shape") from None
    known = [d for d in shape if d is not None]
    missing = [i for i, d in enumerate(shape) if d is None]
    if len(missing) == 1 and known and 784 % math.prod(known) == 0:
        shape[missing[0]] = 784 // math.prod(known)
    elif missing:
        raise UnloadableModelError(f"the model's input shape {tuple(shape)} has open dimensions; declare (28, 28)")
    if math.prod(shape) != 784:
        raise UnloadableModelError(
            f"the model expects inputs of shape {tuple(shape)}, which do not hold one 28x28 image "
            "(use (28, 28), (28, 28, 1) or (784,))"
        )
    return tuple(int(d) for d in shape)


def _output_units(model: Any) -> int:
    try:
        return int(model.outputs[0].shape[-1])
    except Exception:  # noqa: BLE001
        raise UnloadableModelError("the saved model does not declare an output shape") from None


def _explain_load_failure(exc: Exception) -> str:
    text = str(exc)
    if "Lambda" in text or "safe_mode" in text:
        return (
            "the model contains a Lambda layer (arbitrary code), which the grader does not load for "
            "safety; use built-in layers such as Rescaling or Flatten instead"
        )
    if "custom" in text.lower() or "Could not locate class" in text:
        return "the model uses a custom layer or object that the grader cannot load; use built-in Keras layers"
    return f"the saved model could not be loaded: {type(exc).__name__}: {text[:300]}"
