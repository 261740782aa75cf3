"""Evidence: the plain, JSON-able facts a grading run collects.

Two producers fill it in, and neither interprets what it records:

* the sandbox child (``grader.sandbox.child``) runs learner code and records what it saw:
  which functions exist, what they returned, the model's layers and compile config as Keras
  serialises them, the training history, exceptions with the learner's own frames;
* the trusted evaluator (``grader.evaluation``) scores the saved model on the test split.

Judges (``grader.judges``) read evidence and decide. They import no TensorFlow, so every judge
can be tested with evidence written by hand.
"""

from __future__ import annotations

import dataclasses
import hashlib
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from grader.safe_text import without_surrogates

# "started" exists only while a step runs: the runner turns a step left "started" by a dead
# child into "exception" with the reason (time limit, crash), so judges never see it.
StepStatus = Literal["ok", "exception", "not_run", "started"]


@dataclass
class Frame:
    """One frame of a traceback that lies in the learner's own file."""

    file: str
    line: int
    function: str
    code: str = ""


@dataclass
class Finding:
    """A code and the facts that fill its sentence: how the sandbox child says what it found
    (``grader.messages.sandbox`` holds the sentences; the parent side turns one into words)."""

    code: str  # e.g. "no_model", "returned" (grader.messages.sandbox.PROBLEMS, MODEL_ORIGINS)
    facts: dict[str, Any] = field(default_factory=dict)  # names, counts, types, Keras' own text


@dataclass
class ExceptionInfo:
    type: str  # e.g. "ValueError"
    message: str  # Python's or Keras' own text (a fact); for a ``code``, the sentence made of it
    frames: list[Frame] = field(default_factory=list)  # learner frames only, outermost first
    traceback: str = ""  # formatted: the learner's frames and the final line
    # A fix the sandbox already knows, for problems it found itself rather than learner code
    # raised (e.g. which variable to put the model in); judges use it when no diagnosis fits.
    hint: str = ""
    # The child's problems (type "ModelNotFound") and ``sys.exit()`` are recorded as a code with
    # facts; the parent side fills ``message``, ``hint`` and ``traceback`` from them.
    code: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """``"exercise4.py, line 12, in build_model"`` for the innermost learner frame."""
        if not self.frames:
            return ""
        frame = self.frames[-1]
        return f"{frame.file}, line {frame.line}, in {frame.function}"


@dataclass
class FunctionInfo:
    name: str
    present: bool
    callable: bool = False
    parameters: list[str] = field(default_factory=list)  # names, in order
    required_parameters: int = 0  # parameters without a default (excluding *args/**kwargs)
    accepts_varargs: bool = False


@dataclass
class LayerInfo:
    name: str
    class_name: str  # "Dense", "Flatten", "Conv2D", "InputLayer", ...
    params: int
    output_shape: list[int | None] | None = None
    config: dict[str, Any] = field(default_factory=dict)  # layer.get_config(), JSON-able


@dataclass
class ModelInfo:
    """What ``build_model()`` (or training) left us: facts about one object."""

    returned_type: str  # "keras.src.models.sequential.Sequential", "NoneType", ...
    is_keras_model: bool
    built: bool = False
    compiled: bool = False
    input_shape: list[int | None] | None = None  # without the batch axis
    output_shape: list[int | None] | None = None  # without the batch axis
    layers: list[LayerInfo] = field(default_factory=list)
    total_params: int | None = None
    # model.get_compile_config() as Keras serialises it: strings stay strings, objects
    # become {"class_name": ..., "config": {...}} dicts. Judges interpret it.
    compile_config: dict[str, Any] = field(default_factory=dict)
    summary: str = ""  # model.summary() text, for reports


@dataclass
class ArrayInfo:
    shape: list[int]
    dtype: str
    min: float | None = None
    max: float | None = None


@dataclass
class DataInfo:
    """What ``load_data()`` returned."""

    structure_ok: bool  # ((x, y), (x, y)) of array-likes
    description: str = ""  # what it was instead, in words: filled by the parent from the facts below
    arrays: dict[str, ArrayInfo] = field(default_factory=dict)  # train_images, train_labels, ...
    # What it was instead (facts, recorded by the child): its type, its length when a sequence,
    # and the first item that is not an array ("train_images") with that item's type.
    returned_type: str = ""
    items: int | None = None
    bad_item: str = ""
    bad_item_type: str = ""


@dataclass
class FitCall:
    """One call of ``model.fit`` that the learner made, observed from inside Keras."""

    x_shape: list[int] | None = None
    x_dtype: str | None = None
    x_min: float | None = None
    x_max: float | None = None
    y_shape: list[int] | None = None
    epochs: int | None = None
    validation: bool = False
    x_fingerprint: str | None = None  # hash of a sample of x: detects training on the test split
    batch_size: int | None = None  # as given (None: Keras' default of 32); reproduced by --retrain
    # Each epoch's logs as the grader's callback saw them when the epoch ended (key -> figures).
    logged: dict[str, list[float]] = field(default_factory=dict)
    # The most one of its epochs' training steps moved the weights, relative to their size
    # (grader.sandbox.child relative_change), and the optimizer's learning rate when it ended.
    weight_change: float | None = None
    learning_rate: float | None = None
    # It ended with weights that none of its epochs ended with (set by a callback's on_train_end).
    replaced_at_end: bool = False


@dataclass
class TrainInfo:
    returned_type: str
    is_history: bool
    # The returned History's figures as its fit logged them (FitCall.logged), else as returned.
    history: dict[str, list[float]] = field(default_factory=dict)
    epochs_run: int = 0
    fit_calls: list[FitCall] = field(default_factory=list)
    seconds: float = 0.0
    # The returned History holds figures no fit logged (edited after training, or made by
    # hand): those figures, for the integrity check's message.
    history_edited: bool = False
    claimed_history: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class StepResult:
    """One call into learner code (import, load_data, build_model, train)."""

    name: str
    status: StepStatus
    seconds: float = 0.0
    exception: ExceptionInfo | None = None
    # How the learner knows what ran, when it is not the function ``<name>()``: scripts,
    # notebooks and solution_model() run build and training in one go, so their "build_model"
    # and "train" steps are the phases of that run ("your script", "solution_model()"). The child
    # records what ran as ``run_by`` ("script", "notebook", "saved_model" or "name()"); the parent
    # turns it into the label (grader.messages.sandbox.run_label).
    label: str = ""
    run_by: str = ""


@dataclass
class RunInfo:
    """How the child process ended, as the parent saw it."""

    returncode: int | None = None
    limit_hit: str | None = None  # "time", "memory", "output", ... when a limit ended the child
    wall_seconds: float = 0.0
    output: str = ""  # captured stdout+stderr, bounded
    output_truncated_bytes: int = 0
    isolation: str = "process"
    # The limits the run had (grader.sandbox.limits.SandboxLimits.describe: time_s, cpu_s,
    # memory_bytes, file_bytes, disk_bytes, processes, output_bytes) and the most it used.
    limits: dict[str, float] = field(default_factory=dict)
    peak_memory_bytes: int = 0  # resident memory of all its processes together
    peak_processes: int = 0
    # What kept the limits and whom the code ran as (grader.sandbox.runner.enforcement): e.g.
    # "memory and tasks: the kernel (a cgroup v2 of the run)", "learner code ran as nobody".
    enforced_by: list[str] = field(default_factory=list)


@dataclass
class SavedWeights:
    """How the child saved the graded model, and the digest of its weights at two moments
    (``grader.trusted.weights``): the trusted evaluator compares them with the digest of the
    file it loads, so the model scored is the model ``model.fit`` left."""

    after_fit: str | None = None  # right after the graded model's last model.fit returned
    at_save: str | None = None  # when the child saved it
    fitted: bool = False  # model.fit trained the graded model in this run
    fit_calls_on_other_models: int = 0  # fits of models that are not the graded one
    save_overridden: str = ""  # the model's class replaces save() (or a saving method): its name
    # What the graded model's fits did, seen while they ran (grader.sandbox.child.FitRecord):
    changed_by_fit: bool | None = None  # some fit changed its weights (None: unknown)
    # The optimizer class its last fit trained with, and the keys its fits logged; empty when it
    # was compiled again after fitting (the file's settings then are not the training's).
    fit_optimizer: str = ""
    fit_logged: list[str] = field(default_factory=list)
    fit_learning_rate: float | None = None  # as its last fit ended
    replaced_when_fit_ended: bool = False  # its last fit ended with weights no epoch ended with
    largest_weight_change: float | None = None  # the most one of its fits moved its weights


@dataclass
class SandboxEvidence:
    submission: str  # file name as the learner knows it
    seed: int
    style: str = "module"  # module, certificate, script, notebook or saved_model (grader.adapters)
    # How the submission was graded: a notebook is graded like a module, a certificate-style
    # module or a script, depending on its code; for the other styles it equals ``style``.
    graded_as: str = "module"
    # Where the graded model came from, as a noun phrase for messages: "the model
    # solution_model() returned", "the model in your script's variable `model`", ... The child
    # records it as ``model_origin`` (a code and facts); the parent writes the phrase.
    model_source: str = ""
    model_origin: Finding | None = None
    steps: dict[str, StepResult] = field(default_factory=dict)  # by step name, in run order
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    data: DataInfo | None = None
    model: ModelInfo | None = None  # right after build_model()
    trained_model: ModelInfo | None = None  # after train(): built, so shapes are known
    train: TrainInfo | None = None
    model_file: str | None = None  # .keras file the child saved, relative to the scratch dir
    saved_weights: SavedWeights | None = None  # claims, checked against the trusted evaluation
    model_save_error: str | None = None
    # A saved model Keras loaded without its compile settings: why (facts for
    # grader.messages.sandbox.load_failure); the parent adds the note that says so.
    compile_settings_lost: dict[str, Any] | None = None
    run: RunInfo = field(default_factory=RunInfo)
    notes: list[str] = field(default_factory=list)  # e.g. skipped notebook magics
    # Code that replaces what Keras or the grader use to measure a model (``Model.evaluate =``,
    # ``setattr(keras.Model, "predict", ...)``), found in the source by the runner: one entry
    # per place, "line 12: replaces Model.evaluate".
    tampering: list[str] = field(default_factory=list)

    def step(self, name: str) -> StepResult:
        return self.steps.get(name) or StepResult(name=name, status="not_run")

    @property
    def final_model(self) -> ModelInfo | None:
        """The best description of the learner's model: after training when we have it."""
        if self.trained_model is not None and self.trained_model.is_keras_model:
            return self.trained_model
        return self.model


@dataclass
class ClassFigures:
    label: int
    name: str
    support: int
    precision: float
    recall: float


@dataclass
class Reproduction:
    """``grade --retrain``: the submitted architecture rebuilt from its config (fresh weights),
    compiled with the file's compile settings, trained by the grader on the served training data
    with the run's (bounded) fit arguments, and tested like the submission."""

    status: Literal["ok", "error"]
    error: str = ""
    test_accuracy: float | None = None
    epochs: int = 0
    batch_size: int = 0
    seconds: float = 0.0


@dataclass
class EvaluationEvidence:
    status: Literal["ok", "error", "not_run"]
    error: str = ""  # why it could not evaluate, in the learner's terms
    test_accuracy: float | None = None
    n_test: int = 0
    input_shape_used: list[int] | None = None
    input_scaling: str | None = None  # "unit" (pixels / 255) or "raw" (0..255)
    probe_accuracy: dict[str, float] = field(default_factory=dict)  # scaling -> accuracy on train sample
    outputs_are_probabilities: bool | None = None
    per_class: list[ClassFigures] = field(default_factory=list)
    confusion: list[list[int]] = field(default_factory=list)  # [true][predicted]
    sample_predictions: list[dict[str, int]] = field(default_factory=list)  # {index, predicted, true}
    seconds: float = 0.0
    # image_fingerprint() of the test images: a FitCall.x_fingerprint equal
    # to it means the model was trained on the test split.
    test_fingerprint: str | None = None
    # Measured by the trusted evaluation process (grader.trusted) from the model file it scored:
    # the facts the model judges read, the accuracy on a sample of training images (a model
    # that does clearly better on the public test split was trained on it), the weights' digest.
    model: ModelInfo | None = None
    train_accuracy: float | None = None
    n_train: int = 0
    weights_digest: str | None = None
    # Why the saved model was refused before loading (too large, two inputs, a pathological
    # graph), or the limit that stopped the evaluation process: a failed integrity check.
    refused: str = ""
    # The class of a saved model that is a subclass of keras.Model ("DigitNet"): not tested,
    # because loading it would run the learner's call(), but no sign of an unfair run (``refused``
    # stays empty; the judges explain the limitation instead of failing the fair-run check).
    custom_model_class: str = ""
    limit_hit: str | None = None
    # --retrain: the same architecture and recipe trained again by the grader, and tested.
    reproduction: Reproduction | None = None


@dataclass
class Evidence:
    sandbox: SandboxEvidence
    evaluation: EvaluationEvidence = field(default_factory=lambda: EvaluationEvidence(status="not_run"))

    @property
    def graded_model(self) -> ModelInfo | None:
        """Facts about the model being graded, for the architecture and compile checks.

        Measured by trusted code from the model file that was scored, whenever there is one.
        Only when no model came back (the run failed before it had a trained model, so it
        cannot pass) do the checks fall back on what the run recorded, for their feedback.
        """
        if self.evaluation.model is not None:
            return self.evaluation.model
        return self.sandbox.final_model

    @property
    def facts_are_trusted(self) -> bool:
        return self.evaluation.model is not None


def image_fingerprint(images: Any) -> str | None:
    """A hash of the first images as 0-255 integers, whatever scaling or shape the learner used.

    The sandbox records it for what the learner trained on (``FitCall.x_fingerprint``) and the
    trusted evaluator for the test split (``EvaluationEvidence.test_fingerprint``): equal
    fingerprints mean the model was trained on the test split."""
    import numpy as np

    try:
        sample = np.asarray(images[:8], dtype="float64").reshape(8, -1)
    except Exception:  # noqa: BLE001
        return None
    if sample.size and sample.max() <= 1.0:
        sample = sample * 255.0
    return hashlib.sha1(np.rint(sample).astype("uint8").tobytes()).hexdigest()[:16]


# --- JSON round trip -----------------------------------------------------------------------


def to_json(obj: Any) -> Any:
    """Dataclasses to plain dicts (JSON-able)."""
    return dataclasses.asdict(obj)


def from_json(cls: type, data: Any) -> Any:
    """Plain dicts back to the dataclass ``cls``; unknown keys are ignored so old files load."""
    return _convert(cls, data)


def _convert(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if arg is type(None):
                continue
            return _convert(arg, value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        kwargs = {f.name: _convert(hints[f.name], value[f.name]) for f in dataclasses.fields(tp) if f.name in value}
        return tp(**kwargs)
    if origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        return [_convert(item, v) for v in value]
    if origin is dict:
        _, item = typing.get_args(tp) or (Any, Any)
        return {k: _convert(item, v) for k, v in value.items()}
    return value


# --- validating what the learner's process wrote ------------------------------------------------

# Bounds of a sane record: the chapter's run writes a few kilobytes.
MAX_TEXT_CHARS = 20_000
MAX_LIST_ITEMS = 10_000
MAX_DICT_ITEMS = 2_000
MAX_DEPTH = 40


def validate_sandbox_evidence(
    evidence: SandboxEvidence, *, trusted_notes: list[str] | None = None, raw: Any = None
) -> list[str]:
    """Check the sandbox's record in place: every field has its declared type and a bounded
    size, or it is reset to its default; keys the record does not define (in ``raw``, the JSON
    as read) are dropped. Returns the problems found, which are also added to the notes.

    The learner's process wrote this record, so it is a claim: nothing in it speaks with the
    grader's voice. Notes are kept only when the grader can vouch for them (``trusted_notes``:
    the adapter's and the isolation's, which the grader wrote into the plan itself, and the
    child's own note about a saved model's compile settings); others are dropped.
    """
    from grader.messages import sandbox as say_sandbox

    problems: list[str] = []
    _check_dataclass(evidence, "", problems, 0, skip=("run", "notes", "tampering"))
    if raw is not None:
        problems.extend(say_sandbox.unknown_field(path) for path in _unknown_keys(SandboxEvidence, raw, ""))
    allowed = set(trusted_notes or [])
    if evidence.compile_settings_lost is not None:
        # Written by the parent (grader.sandbox.runner) from the child's facts.
        allowed.add(say_sandbox.compile_settings_note(evidence.submission, evidence.compile_settings_lost))
    kept: list[str] = []
    dropped = 0
    for note in evidence.notes if isinstance(evidence.notes, list) else []:
        if isinstance(note, str) and note in allowed:
            kept.append(note)
        else:
            dropped += 1
    if dropped:
        problems.append(say_sandbox.notes_not_written(dropped))
    evidence.notes = kept
    if problems:
        evidence.notes.append(say_sandbox.ignored_record_parts(problems))
    return problems


def _check_dataclass(obj: Any, path: str, problems: list[str], depth: int, skip: tuple[str, ...] = ()) -> None:
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        if f.name in skip:
            continue
        where = f"{path}.{f.name}" if path else f.name
        value = getattr(obj, f.name)
        fixed, ok = _check_value(hints[f.name], value, where, problems, depth + 1)
        if not ok:
            problems.append(f"{where} ({type(value).__name__})")
            if f.default is not dataclasses.MISSING:
                fixed = f.default
            elif f.default_factory is not dataclasses.MISSING:
                fixed = f.default_factory()
            else:
                fixed = value if isinstance(value, str) else ""
        setattr(obj, f.name, fixed)


def _check_value(tp: Any, value: Any, path: str, problems: list[str], depth: int) -> tuple[Any, bool]:
    """``(value, True)`` when ``value`` fits ``tp`` (strings cut to size), else ``(value, False)``."""
    if depth > MAX_DEPTH:
        return value, False
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None:
            return None, type(None) in args
        for arg in args:
            if arg is type(None):
                continue
            fixed, ok = _check_value(arg, value, path, problems, depth)
            if ok:
                return fixed, True
        return value, False
    if origin is Literal:
        return value, value in typing.get_args(tp)
    if tp is Any:
        # Layer and compile configs: JSON escapes such as "\udcff" arrive as lone surrogates.
        return (without_surrogates(value), True) if _json_like(value, depth) else (value, False)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, tp):
            return value, False
        _check_dataclass(value, path, problems, depth)
        return value, True
    if origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        if not isinstance(value, list) or len(value) > MAX_LIST_ITEMS:
            return value, False
        checked = [_check_value(item, v, path, problems, depth + 1) for v in value]
        return [v for v, _ in checked], all(ok for _, ok in checked)
    if origin is dict:
        _, item = typing.get_args(tp) or (Any, Any)
        if not isinstance(value, dict) or len(value) > MAX_DICT_ITEMS or not all(isinstance(k, str) for k in value):
            return value, False
        entries = {
            without_surrogates(k[:200]): _check_value(item, v, path, problems, depth + 1) for k, v in value.items()
        }
        return {k: v for k, (v, _) in entries.items()}, all(ok for _, ok in entries.values())
    if tp is str:
        # A lone surrogate (learner text no UTF-8 file can hold) becomes U+FFFD here, where it is read.
        return (without_surrogates(value[:MAX_TEXT_CHARS]), True) if isinstance(value, str) else (value, False)
    if tp is bool:
        return value, isinstance(value, bool)
    if tp is int:
        return value, isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return (
            (float(value), True) if isinstance(value, (int, float)) and not isinstance(value, bool) else (value, False)
        )
    return value, True


def _json_like(value: Any, depth: int) -> bool:
    """Plain JSON data of bounded depth and size (layer configs, compile configs)."""
    if depth > MAX_DEPTH:
        return False
    if value is None or isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, str):
        return len(value) <= MAX_TEXT_CHARS
    if isinstance(value, list):
        return len(value) <= MAX_LIST_ITEMS and all(_json_like(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return (
            len(value) <= MAX_DICT_ITEMS
            and all(isinstance(k, str) for k in value)
            and all(_json_like(v, depth + 1) for v in value.values())
        )
    return False


def _unknown_keys(tp: Any, raw: Any, path: str) -> list[str]:
    """Keys of ``raw`` (JSON) that the dataclass ``tp`` and its nested dataclasses do not define."""
    found: list[str] = []
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if dataclasses.is_dataclass(arg) or typing.get_origin(arg) in (list, dict):
                return _unknown_keys(arg, raw, path)
        return found
    if dataclasses.is_dataclass(tp) and isinstance(raw, dict):
        hints = typing.get_type_hints(tp)
        for key, value in raw.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in hints:
                found.append(where[:100])
            else:
                found.extend(_unknown_keys(hints[key], value, where))
    elif origin is list and isinstance(raw, list):
        (item,) = typing.get_args(tp) or (Any,)
        for value in raw[:MAX_LIST_ITEMS]:
            found.extend(_unknown_keys(item, value, f"{path}[]"))
    elif origin is dict and isinstance(raw, dict):
        _, item = typing.get_args(tp) or (Any, Any)
        for key, value in list(raw.items())[:MAX_DICT_ITEMS]:
            found.extend(_unknown_keys(item, value, f"{path}.{key}"))
    return found[:50]
