"""Judges of the submission's shape: the functions it defines and the data ``load_data()`` returns."""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field

from grader.datasets import dataset_info
from grader.evidence import ArrayInfo, Evidence
from grader.judges.base import JudgeParams, Shape, Verdict
from grader.judges.causes import RUN, exception_cause, find_cause, model_cause, model_source
from grader.judges.diagnose import RAW_PIXELS_HINT
from grader.judges.scaling import ScalingLayer, fit_received_unit_pixels, scales_own_input
from grader.judges.vocabulary import shape_text
from grader.messages import _
from grader.messages import judges as messages
from grader.spec import ExerciseSpec, FunctionSpec
from grader.trusted.worker import PROBE_IMAGES


def judge_functions_present(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """Every function the exercise names is defined, takes the parameters the grader passes, and
    is implemented.

    "Implemented" matters: a stub defines every function with the right parameters but each one
    raises NotImplementedError, and a stub must score 0. A function that raised
    NotImplementedError when the grader called it is therefore counted as not there yet. The
    check is all-or-nothing: it is worth little, and half a set of functions cannot be graded.

    Parameter *names* may differ from the exercise's (the grader passes arguments by position);
    extra parameters are fine when they have defaults.

    Submissions in other styles (``SandboxEvidence.graded_as``, see ``grader.adapters``) define
    no such functions: a script or ``solution_model()`` must instead run to the end and leave a
    Keras model, and a saved model has no code at all (skipped).
    """
    sandbox = evidence.sandbox
    if sandbox.graded_as == "saved_model":
        return Verdict.skipped(_(messages.SAVED_MODEL_NO_FUNCTIONS))
    cause = find_cause(evidence, spec, "import")
    if cause is not None:
        return cause.full_verdict()
    if sandbox.graded_as != "module":
        return _ran_to_the_end(evidence, spec)
    if not spec.functions:
        return Verdict.skipped(_(messages.NO_FUNCTIONS_ASKED))
    problems: list[str] = []
    notes: list[str] = []
    for function in spec.functions:
        info = sandbox.functions.get(function.name)
        if info is None:
            return Verdict.error(messages.not_recorded_defined(function.name))
        if not info.present:
            problems.append(messages.does_not_define_brief(function.name))
            continue
        if not info.callable:
            problems.append(messages.not_a_function_brief(function.name))
            continue
        expected = len(function.parameters)
        takes_enough = len(info.parameters) >= expected or info.accepts_varargs
        if not takes_enough or info.required_parameters > expected:
            problems.append(
                messages.cannot_be_called_as(f"{function.name}({', '.join(info.parameters)})", _call(function))
            )
            continue
        step = sandbox.steps.get(function.name)
        if step is not None and step.exception is not None and step.exception.type == "NotImplementedError":
            problems.append(messages.still_raises_not_implemented(function.name))
            continue
        written = info.parameters[:expected]
        if not info.accepts_varargs and written != list(function.parameters):
            notes.append(messages.named_differently(f"{function.name}({', '.join(written)})", _call(function)))
    calls = messages.listing([_call(f) for f in spec.functions])
    if problems:
        return Verdict.failed(messages.problems_sentence(problems), messages.define_each_function(calls))
    return Verdict.passed(messages.defined_and_implemented(calls, notes))


def _ran_to_the_end(evidence: Evidence, spec: ExerciseSpec) -> Verdict:
    """For scripts and ``solution_model()``: the code ran through training and left a model.

    The sandbox records such a run in phases (``build_model``, ``train``, ``finish``: the code
    after the last ``model.fit``). A failure in the first two belongs to the model and training
    checks (brief here); one in ``finish`` is this check's own: the model was trained and is
    graded, but the code does not run to the end (or ``solution_model()`` does not return it).
    """
    sandbox = evidence.sandbox
    function = next(iter(sandbox.functions.values()), None) if sandbox.graded_as == "certificate" else None
    if function is not None and not (function.present and function.callable):
        if not function.present:
            message = messages.entry_not_defined(function.name, sandbox.submission)
        else:
            message = messages.entry_not_a_function(function.name, sandbox.submission)
        return Verdict.failed(message, messages.define_solution_function(function.name))
    cause = find_cause(evidence, spec, "train") or model_cause(evidence, spec)
    if cause is not None:
        return cause.verdict(RUN)  # full when the run itself raised (grader.judges.causes.RUN)
    finish = sandbox.steps.get("finish")
    if finish is not None and finish.exception is not None:
        late = exception_cause("finish", finish.exception, evidence, spec)
        if finish.exception.type == "ModelNotFound":  # no model came back: nothing was graded
            return Verdict.failed(late.message, late.hint)
        return Verdict.failed(messages.failed_after_training(messages.full_stop(late.message)), late.hint)
    return Verdict.passed(messages.ran_to_the_end(model_source(evidence) or None))


def _call(function: FunctionSpec) -> str:
    return f"{function.name}({', '.join(function.parameters)})"


class LoadDataParams(JudgeParams):
    """``[checks.params]`` of ``judge = "load_data"``."""

    image_shapes: list[Shape] | None = Field(
        default=None,
        min_length=1,
        description="Accepted shapes of one image. Default: the shapes that hold one image of the exercise's "
        "dataset (grader.datasets), e.g. (28, 28), (28, 28, 1), (784,).",
    )
    classes: int | None = Field(
        default=None,
        gt=1,
        description="Labels must be integers 0..classes-1 (or one-hot of this width). Default: the dataset's classes.",
    )


def judge_load_data(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """``load_data()`` returns ``((train_images, train_labels), (test_images, test_labels))``
    of the dataset's images as floats in [0, 1] and integer (or one-hot) labels.

    Five criteria, equal shares of the points: image shapes, float dtype, [0, 1] scaling,
    labels, and consistent counts. Wrong structure (no two pairs of arrays) scores 0.

    params: ``image_shapes`` accepted per-image shapes and ``classes``; both default to what the
    exercise's dataset's registry entry says (for MNIST (28, 28), (28, 28, 1), (784,) and 10).

    Submissions in other styles have no ``load_data()``; for them the check is whether the model
    was trained on images scaled to [0, 1] (see ``_trained_on_unit_pixels``).
    """
    if evidence.sandbox.graded_as != "module":
        return _trained_on_unit_pixels(evidence, spec)
    cause = find_cause(evidence, spec, "load_data")
    if cause is not None:
        return cause.verdict("load_data")
    data = evidence.sandbox.data
    if data is None:
        return Verdict.error(_(messages.LOAD_DATA_NOT_RECORDED))
    if not data.structure_ok:
        returned = data.description or _(messages.SOMETHING_ELSE)
        return Verdict.failed(messages.load_data_structure(returned), _(messages.LOAD_DATA_STRUCTURE_HINT))
    settings = LoadDataParams.of(params)
    info = dataset_info(spec.dataset or "")
    image_shapes = [list(s) for s in (settings.image_shapes or info.input_shapes)]
    classes = settings.classes or info.num_classes
    arrays = data.arrays
    names = ("train_images", "train_labels", "test_images", "test_labels")
    if any(name not in arrays for name in names):
        return Verdict.error(_(messages.LOAD_DATA_ARRAYS_NOT_RECORDED))

    problems: list[tuple[str, str]] = []  # (what is wrong, how to fix it)
    passed = 0
    # A model that scales its own pixels (Rescaling(1/255), Normalization) is meant to get raw
    # 0-255 images, of any dtype Keras converts; images it gets already in [0, 1] it scales twice.
    scaler = scales_own_input(evidence)

    bad_shapes = [n for n in ("train_images", "test_images") if arrays[n].shape[1:] not in image_shapes]
    if bad_shapes:
        shown = messages.listing([messages.array_shape(n, shape_text(arrays[n].shape)) for n in bad_shapes])
        # One array of N images: (N, 28, 28), (N, 784).
        allowed = messages.alternatives(["(" + ", ".join(["N", *map(str, s)]) + ")" for s in image_shapes])
        problems.append((messages.image_shape_problem(shown, allowed), messages.keep_images_size(info.shape_text)))
    else:
        passed += 1

    not_float = [n for n in ("train_images", "test_images") if not _is_float(arrays[n])]
    if not_float and scaler is None:
        shown = messages.listing([messages.array_dtype(n, arrays[n].dtype) for n in not_float])
        problems.append((shown, _(messages.CONVERT_TO_FLOAT)))
    else:
        passed += 1

    unscaled = [n for n in ("train_images", "test_images") if not _in_unit_range(arrays[n])]
    # (Double scaling needs model.fit to have got them in [0, 1] too: train() may undo it.)
    if scaler is not None and scaler.divides and not unscaled and fit_received_unit_pixels(evidence) is not False:
        problems.append((messages.scaled_twice_problem(scaler.shown), _(messages.SCALE_ONCE)))
    elif unscaled and scaler is None:
        shown = messages.listing([messages.array_range(n, arrays[n].min, arrays[n].max) for n in unscaled])
        # Integer images already got the fix that divides by 255.0 (CONVERT_TO_FLOAT): once is enough.
        problems.append((messages.not_scaled(shown), "" if not_float else _(messages.DIVIDE_BY_255)))
    else:
        passed += 1

    bad_labels = [n for n in ("train_labels", "test_labels") if _label_problem(arrays[n], classes)]
    if bad_labels:
        shown = messages.clauses([messages.labels_problem(n, _label_problem(arrays[n], classes)) for n in bad_labels])
        problems.append((shown, messages.return_integer_labels(classes - 1)))
    else:
        passed += 1

    mismatched = [
        messages.counts_mismatch(images, arrays[images].shape[0], labels, arrays[labels].shape[0])
        for images, labels in (("train_images", "train_labels"), ("test_images", "test_labels"))
        if arrays[images].shape[:1] != arrays[labels].shape[:1] or arrays[images].shape[0] == 0
    ]
    if mismatched:
        problems.append((messages.clauses(mismatched), _(messages.KEEP_SPLITS_TOGETHER)))
    else:
        passed += 1

    counts = messages.load_data_counts(arrays["train_images"].shape[0], arrays["test_images"].shape[0])
    if not problems:
        images = arrays["train_images"]
        one_hot = _encoding(arrays["train_labels"]) == "one_hot"
        if scaler is not None and any(not _in_unit_range(arrays[n]) for n in ("train_images", "test_images")):
            return Verdict.passed(
                messages.load_data_passed_model_scales(
                    counts, shape_text(images.shape[1:]), images.dtype, scaler.shown, one_hot
                )
            )
        return Verdict.passed(messages.load_data_passed(counts, shape_text(images.shape[1:]), images.dtype, one_hot))
    message = messages.load_data_failed(counts, [problem for problem, _fix in problems])
    return Verdict.failed(message, messages.fixes([fix for _problem, fix in problems if fix]), passed / 5)


def _is_float(array: ArrayInfo) -> bool:
    return array.dtype.startswith(("float", "bfloat"))


def _in_unit_range(array: ArrayInfo) -> bool:
    if array.min is None or array.max is None:
        return False
    return array.min >= -1e-6 and array.max <= 1.0 + 1e-6


def _encoding(array: ArrayInfo) -> str:
    return "one_hot" if len(array.shape) == 2 and array.shape[1] > 1 else "integer"


def _label_problem(array: ArrayInfo, classes: int) -> str:
    """What is wrong with a label array, or "" when it is fine.

    Integer labels (N,) - or (N, 1) - with values 0..classes-1, or one-hot (N, classes).
    """
    shape = array.shape
    if len(shape) == 2 and shape[1] == classes:
        return ""  # one-hot: Keras' categorical losses take these
    if len(shape) == 1 or (len(shape) == 2 and shape[1] == 1):
        if not array.dtype.startswith(("int", "uint")):
            return messages.label_dtype_problem(array.dtype)
        if array.min is not None and array.max is not None and (array.min < 0 or array.max > classes - 1):
            return messages.label_values_problem(array.min, array.max, classes - 1)
        return ""
    return messages.label_shape_problem(shape_text(shape), classes)


def _trained_on_unit_pixels(evidence: Evidence, spec: ExerciseSpec) -> Verdict:
    """Whether the model was trained on pixels in [0, 1]: from what ``model.fit`` received when
    the run recorded it, else from the trusted evaluator's probe of the model (a saved model).

    A model that scales its own pixels (``grader.judges.scaling``) is rightly trained on raw
    0-255 pixels: full credit. Given images already in [0, 1], its Rescaling layer scales them a
    second time: half the points (the images were divided, but the model undoes the benefit)."""
    scaler = scales_own_input(evidence)
    train = evidence.sandbox.train
    calls = [call for call in (train.fit_calls if train else []) if call.x_min is not None and call.x_max is not None]
    if calls:
        call = calls[-1]
        assert call.x_min is not None and call.x_max is not None
        in_unit_range = call.x_min >= -1e-6 and call.x_max <= 1.0 + 1e-6
        if scaler is not None and scaler.divides and in_unit_range:
            return Verdict.failed(messages.scaled_twice(scaler.shown), _(messages.SCALE_ONCE_HINT), 0.5)
        if scaler is not None and not in_unit_range:
            return Verdict.passed(messages.fit_pixels_scaled_by_model(call.x_min, call.x_max, scaler.shown))
        if in_unit_range:
            return Verdict.passed(messages.fit_pixels_scaled(call.x_min, call.x_max))
        return Verdict.failed(
            messages.fit_pixels_not_scaled(call.x_min, call.x_max), _(messages.DIVIDE_BEFORE_TRAINING_HINT)
        )
    evaluation = evidence.evaluation
    unit, raw = evaluation.probe_accuracy.get("unit"), evaluation.probe_accuracy.get("raw")
    if evaluation.input_scaling in ("unit", "raw") and unit is not None and raw is not None:
        classes = dataset_info(spec.dataset or "").num_classes
        return _scaling_from_probe(unit, raw, evaluation.n_train, classes, scaler)
    cause = find_cause(evidence, spec, "train")
    if cause is not None:
        return cause.brief_verdict()
    if evaluation.status == "not_run" and evaluation.model is not None:
        # Quick mode (grader.quick): the trusted process read the model's facts but tested nothing.
        return Verdict.skipped(_(messages.SCALING_NOT_MEASURED_QUICK))
    return Verdict.error(_(messages.SCALING_UNKNOWN))


# How much better one scaling must do than the other (and than guessing) before the model's
# accuracy says which pixels it was trained on; the trusted evaluator keeps raw pixels for the
# test only when they beat [0, 1] by as much (grader.trusted.worker).
SCALING_MARGIN = 0.05


def _scaling_from_probe(
    unit: float, raw: float, n_train: int, classes: int, scaler: ScalingLayer | None = None
) -> Verdict:
    """A saved model's scaling, read from its accuracy on a sample of training images under
    both scalings: passed when it does clearly better than guessing on [0, 1] pixels and raw
    pixels do not clearly win (a model that scales its input itself, or an easy dataset, does as
    well under both: the learner is not to blame), failed when raw pixels clearly win, and
    skipped (no points) when it does no better than guessing under either: a model that was
    never trained shows nothing about its scaling.

    A model with its own scaling layer (``scaler``) is meant for raw pixels: passed when it does
    clearly better than guessing on them; a Rescaling model that clearly prefers [0, 1] pixels was
    trained on images divided before its layer divided them again (half the points)."""
    chance = 1.0 / max(1, classes)
    sample = min(PROBE_IMAGES, n_train) if n_train else PROBE_IMAGES

    def clearly_above(high: float, low: float, low_is_measured: bool = True) -> bool:
        spread = high * (1 - high) + (low * (1 - low) if low_is_measured else 0.0)
        return high - low > max(SCALING_MARGIN, 3 * math.sqrt(spread / sample))

    if scaler is not None:
        if scaler.divides and clearly_above(unit, chance, low_is_measured=False) and clearly_above(unit, raw):
            return Verdict.failed(messages.scaled_twice(scaler.shown), _(messages.SCALE_ONCE_HINT), 0.5)
        if clearly_above(raw, chance, low_is_measured=False) or clearly_above(unit, chance, low_is_measured=False):
            return Verdict.passed(messages.model_scales_pixels(scaler.shown))
        return Verdict.skipped(messages.scaling_untrained_self(unit, raw, chance, scaler.shown))
    if clearly_above(unit, chance, low_is_measured=False) and clearly_above(unit, raw):
        return Verdict.passed(_(messages.WORKS_ON_UNIT_PIXELS))
    if clearly_above(raw, chance, low_is_measured=False) and clearly_above(raw, unit):
        return Verdict.failed(_(messages.WORKS_ON_RAW_PIXELS), _(RAW_PIXELS_HINT))
    if clearly_above(unit, chance, low_is_measured=False):
        return Verdict.passed(messages.scaling_either_way(unit, raw))
    return Verdict.skipped(messages.scaling_untrained(unit, raw, chance))
