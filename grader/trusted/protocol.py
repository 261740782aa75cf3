"""What the grader and its evaluation process (``grader.trusted.worker``) say to each other.

Two messages, both JSON:

* ``EvaluationRequest``: one line the grader writes on the process's request pipe when the
  sandbox is done (``to_line()``; the process reads it with ``from_line()``). The line ``{}``
  (``NOTHING_TO_EVALUATE``) means there is no model: the process exits without a result.
* the answer, which the process writes into ``result.json`` in its scratch folder: either
  ``ModelMeasured`` (the model's facts, and its predictions unless the request asked for facts
  only) or ``EvaluationError`` (a code and the facts of its sentence). ``read_answer()`` turns
  the file's JSON back into one of them, or None when it is malformed.

The grader does not trust the file more than it must: the process loaded a learner's model, so
``from_json`` checks every field's type and refuses the whole answer when one is wrong. Whether
the predictions have the right length and name existing classes is checked by the grader, which
knows both (``grader.evaluation``).

Plain Python only (and ``grader.safe_text``, which is plain Python too): the process imports this
module before TensorFlow, and the grader's own process never imports TensorFlow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal, TypeAlias, TypeGuard

from grader.safe_text import without_surrogates

NOTHING_TO_EVALUATE = "{}\n"
DEFAULT_SECONDS = 120  # the process's alarm when a request names no time limit

Scaling = Literal["unit", "raw"]  # pixels / 255, or pixels as the dataset stores them (0..255)
SCALINGS: tuple[Scaling, ...] = ("unit", "raw")


@dataclass(frozen=True)
class EvaluationRequest:
    """Which model to measure and how (the grader fills it from the dataset's registry entry,
    ``grader.datasets``)."""

    model: str  # a file name in the process's working folder: "model.keras"
    image_shape: tuple[int, ...]  # one image as the dataset's arrays hold it: (28, 28)
    classes: int  # the model must have one output per class
    seconds: int = DEFAULT_SECONDS  # the process's alarm, from the moment it reads the request
    threads: int | None = None  # TensorFlow's threads; None: TensorFlow's choice
    facts_only: bool = False  # quick mode (grader.quick): the model's facts, no predictions

    def to_line(self) -> str:
        """The request as one JSON line (``facts_only`` is written only when set)."""
        data: dict[str, Any] = {
            "model": self.model,
            "seconds": self.seconds,
            "threads": self.threads,
            "image_shape": list(self.image_shape),
            "classes": self.classes,
        }
        if self.facts_only:
            data["facts_only"] = True
        return json.dumps(data) + "\n"

    @classmethod
    def from_line(cls, text: str) -> EvaluationRequest | None:
        """The request on ``text``; None when there is nothing to evaluate: an empty line,
        ``{}``, or a line that is not a request (then nothing is loaded rather than a guess)."""
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError:
            return None
        if not isinstance(data, dict) or not data.get("model"):
            return None
        model = data["model"]
        seconds = data.get("seconds", DEFAULT_SECONDS)
        threads = data.get("threads")
        image_shape = data.get("image_shape")
        classes = data.get("classes")
        facts_only = data.get("facts_only", False)
        # Only a file name: the process opens it in its own working folder, nowhere else.
        if not isinstance(model, str) or PurePosixPath(model).name != model or model in (".", ".."):
            return None
        if not (_is_int(seconds) and (threads is None or _is_int(threads)) and _is_int(classes) and classes > 0):
            return None
        if not (isinstance(image_shape, list) and image_shape and all(_is_int(d) and d > 0 for d in image_shape)):
            return None
        if not isinstance(facts_only, bool):
            return None
        return cls(
            model=model,
            image_shape=tuple(image_shape),
            classes=classes,
            seconds=seconds,
            threads=threads,
            facts_only=facts_only,
        )


@dataclass(frozen=True)
class EvaluationError:
    """The process could not load or test the model (``grader.trusted.worker.EvaluationFailed``,
    or an exception it did not expect: code "crashed"). The grader says it in words with
    ``grader.messages.sandbox.evaluation_problem(code, facts)``."""

    code: str  # "lambda_layer", "wrong_outputs", "crashed", ...
    facts: dict[str, Any] = field(default_factory=dict)  # what fills the sentence: counts, shapes, Keras' text
    # "memory" when the kernel refused the memory the process needed (its data limit) before
    # the grader's watchdog saw it grow: the grader reports the memory limit, not the error.
    limit: Literal["memory"] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": "error", "code": self.code, "facts": self.facts, "limit": self.limit}

    @classmethod
    def from_json(cls, data: object) -> EvaluationError | None:
        if not isinstance(data, dict) or data.get("status") != "error":
            return None
        code, facts, limit = data.get("code"), data.get("facts", {}), data.get("limit")
        if not isinstance(code, str) or not _is_fact_dict(facts) or limit not in (None, "memory"):
            return None
        return cls(code=code, facts=facts, limit=limit)


@dataclass(frozen=True)
class Predictions:
    """What the model predicted (not measured in quick mode). Each prediction is the index of the
    class with the highest score; the labels stay with the grader."""

    input_scaling: Scaling  # the scaling the model was trained for: the better one on the probe
    probe_accuracy: dict[str, float]  # scaling -> accuracy on a sample of training images
    outputs_are_probabilities: bool  # every output row is >= 0 and sums to 1 (softmax)
    train_predicted: list[int]  # for the training sample the grader chose, in its order
    test_predicted: list[int]  # for the test images, in their order
    predict_seconds: float


@dataclass(frozen=True)
class ModelMeasured:
    """The model loaded: its facts, and its predictions unless the request asked for facts only."""

    # grader.evidence.ModelInfo as JSON (grader.evidence.to_json). The grader turns it into a
    # ModelInfo itself, with the compile settings it reads from the file (grader.evaluation).
    facts: dict[str, Any]
    weights_digest: str | None  # grader.trusted.weights; None when the weights could not be read
    input_shape_used: list[int]  # the per-image shape the images were reshaped to
    load_seconds: float
    predictions: Predictions | None = None  # None: facts only (quick mode)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": "ok",
            "facts": self.facts,
            "weights_digest": self.weights_digest,
            "input_shape_used": list(self.input_shape_used),
            "load_seconds": self.load_seconds,
        }
        if self.predictions is not None:
            made = self.predictions
            data.update(
                input_scaling=made.input_scaling,
                probe_accuracy=made.probe_accuracy,
                outputs_are_probabilities=made.outputs_are_probabilities,
                train_predicted=made.train_predicted,
                test_predicted=made.test_predicted,
                predict_seconds=made.predict_seconds,
            )
        return data

    @classmethod
    def from_json(cls, data: object) -> ModelMeasured | None:
        if not isinstance(data, dict) or data.get("status") != "ok":
            return None
        facts, digest = data.get("facts"), data.get("weights_digest")
        shape, load_seconds = data.get("input_shape_used"), data.get("load_seconds")
        if not (_is_fact_dict(facts) and (digest is None or isinstance(digest, str))):
            return None
        if not (_is_int_list(shape) and _is_number(load_seconds)):
            return None
        predictions: Predictions | None = None
        if "test_predicted" in data or "train_predicted" in data:
            predictions = _predictions_from_json(data)
            if predictions is None:
                return None
        return cls(
            facts=facts,
            weights_digest=digest,
            input_shape_used=shape,
            load_seconds=float(load_seconds),
            predictions=predictions,
        )


EvaluationAnswer: TypeAlias = ModelMeasured | EvaluationError


def read_answer(data: object) -> EvaluationAnswer | None:
    """The answer in ``result.json`` (parsed JSON), or None when it is not a well-formed one.

    The process measured a learner's model: a layer name or Keras' text in it may hold a lone
    surrogate (a JSON escape such as ``"\\udcff"``), which becomes U+FFFD here, where it is read.
    """
    data = without_surrogates(data)
    if isinstance(data, dict) and data.get("status") == "ok":
        return ModelMeasured.from_json(data)
    return EvaluationError.from_json(data)


def _predictions_from_json(data: dict[str, Any]) -> Predictions | None:
    scaling, probe = data.get("input_scaling"), data.get("probe_accuracy")
    probabilities, seconds = data.get("outputs_are_probabilities"), data.get("predict_seconds")
    train, test = data.get("train_predicted"), data.get("test_predicted")
    if scaling not in SCALINGS or not isinstance(probabilities, bool) or not _is_number(seconds):
        return None
    if not (isinstance(probe, dict) and all(isinstance(k, str) and _is_number(v) for k, v in probe.items())):
        return None
    if not (_is_int_list(train) and _is_int_list(test)):
        return None
    return Predictions(
        input_scaling=scaling,
        probe_accuracy={k: float(v) for k, v in probe.items()},
        outputs_are_probabilities=probabilities,
        train_predicted=train,
        test_predicted=test,
        predict_seconds=float(seconds),
    )


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int_list(value: object) -> TypeGuard[list[int]]:
    return isinstance(value, list) and all(_is_int(v) for v in value)


def _is_fact_dict(value: object) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict) and all(isinstance(k, str) for k in value)
