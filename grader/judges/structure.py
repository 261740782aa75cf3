"""Judges of the submission's shape: the functions it defines and the data ``load_data()`` returns."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from grader.evidence import ArrayInfo, Evidence
from grader.judges.base import JudgeParams, Shape, Verdict
from grader.judges.causes import RUN, exception_cause, find_cause, model_cause
from grader.judges.diagnose import RAW_PIXELS_HINT
from grader.judges.vocabulary import shape_text
from grader.spec import ExerciseSpec, FunctionSpec


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
        return Verdict.skipped("A saved model has no functions to check.")
    cause = find_cause(evidence, spec, "import")
    if cause is not None:
        return cause.full_verdict()
    if sandbox.graded_as != "module":
        return _ran_to_the_end(evidence, spec)
    if not spec.functions:
        return Verdict.skipped("This exercise asks for no functions.")
    problems: list[str] = []
    notes: list[str] = []
    for function in spec.functions:
        info = sandbox.functions.get(function.name)
        if info is None:
            return Verdict.error(f"The run did not record whether {function.name}() is defined.")
        if not info.present:
            problems.append(f"{function.name}() is not defined")
            continue
        if not info.callable:
            problems.append(f"{function.name} is not a function")
            continue
        expected = len(function.parameters)
        takes_enough = len(info.parameters) >= expected or info.accepts_varargs
        if not takes_enough or info.required_parameters > expected:
            problems.append(
                f"{function.name}({', '.join(info.parameters)}) cannot be called as {_call(function)}"
            )
            continue
        step = sandbox.steps.get(function.name)
        if step is not None and step.exception is not None and step.exception.type == "NotImplementedError":
            problems.append(f"{function.name}() still raises NotImplementedError (the stub's placeholder)")
            continue
        written = info.parameters[:expected]
        if not info.accepts_varargs and written != list(function.parameters):
            notes.append(f"{function.name}({', '.join(written)}) names its parameters differently from {_call(function)}, which is fine")
    if problems:
        return Verdict.failed(
            "; ".join(problems) + ".",
            "Define each function the exercise asks for, with these parameters, and replace every "
            "`raise NotImplementedError` with your code: "
            + ", ".join(_call(f) for f in spec.functions)
            + ".",
        )
    message = "Defined and implemented: " + ", ".join(_call(f) for f in spec.functions) + "."
    if notes:
        message += " (" + "; ".join(notes) + ".)"
    return Verdict.passed(message)


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
        what = "is not defined" if not function.present else "is not a function"
        return Verdict.failed(
            f"{function.name}() {what} in {sandbox.submission}.",
            f"Define `def {function.name}():` that loads the data, builds, compiles and trains the model "
            "and ends with `return model`.",
        )
    cause = find_cause(evidence, spec, "train") or model_cause(evidence, spec)
    if cause is not None:
        return cause.verdict(RUN)  # full when the run itself raised (grader.judges.causes.RUN)
    finish = sandbox.steps.get("finish")
    if finish is not None and finish.exception is not None:
        late = exception_cause("finish", finish.exception, evidence, spec)
        after = "" if finish.exception.type == "ModelNotFound" else " This was after training, so the trained model was still graded."
        sentence = late.message if late.message.endswith((".", "?", "!")) or not after else late.message + "."
        return Verdict.failed(sentence + after, late.hint)
    source = sandbox.model_source or "the model"
    return Verdict.passed(f"The code ran to the end; {source} is a Keras model.")


def _call(function: FunctionSpec) -> str:
    return f"{function.name}({', '.join(function.parameters)})"


class LoadDataParams(JudgeParams):
    """``[checks.params]`` of ``judge = "load_data"``."""

    image_shapes: list[Shape] = Field(
        default=[[28, 28], [28, 28, 1], [784]], min_length=1, description="Accepted shapes of one image."
    )
    classes: int = Field(default=10, gt=1, description="Labels must be integers 0..classes-1 (or one-hot of this width).")


def judge_load_data(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """``load_data()`` returns ``((train_images, train_labels), (test_images, test_labels))``
    of 28x28 images as floats in [0, 1] and integer (or one-hot) labels.

    Five criteria, equal shares of the points: image shapes, float dtype, [0, 1] scaling,
    labels, and consistent counts. Wrong structure (no two pairs of arrays) scores 0.

    params: ``image_shapes`` accepted per-image shapes (default (28, 28), (28, 28, 1), (784,)),
    ``classes`` (default 10).

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
        return Verdict.error("The run did not record what load_data() returned.")
    if not data.structure_ok:
        returned = data.description or "something else"
        return Verdict.failed(
            f"load_data() returned {returned}; the exercise asks for "
            "((train_images, train_labels), (test_images, test_labels)) of NumPy arrays.",
            "Return the two pairs as NumPy arrays: `return (train_images, train_labels), (test_images, "
            "test_labels)`. With tensorflow_datasets, load with batch_size=-1 and convert with "
            "tfds.as_numpy(...), or use tf.keras.datasets.mnist.load_data().",
        )
    settings = LoadDataParams.of(params)
    image_shapes = [list(s) for s in settings.image_shapes]
    classes = settings.classes
    arrays = data.arrays
    names = ("train_images", "train_labels", "test_images", "test_labels")
    if any(name not in arrays for name in names):
        return Verdict.error("The run did not record all four arrays load_data() returned.")

    problems: list[tuple[str, str]] = []  # (what is wrong, how to fix it)
    passed = 0

    bad_shapes = [n for n in ("train_images", "test_images") if arrays[n].shape[1:] not in image_shapes]
    if bad_shapes:
        shown = ", ".join(f"{n} {shape_text(arrays[n].shape)}" for n in bad_shapes)
        allowed = " or ".join("(N, " + shape_text(s)[1:] for s in image_shapes)
        problems.append((f"image shape {shown} is not one of {allowed}", "keep each image 28x28"))
    else:
        passed += 1

    not_float = [n for n in ("train_images", "test_images") if not _is_float(arrays[n])]
    if not_float:
        shown = ", ".join(f"{n} is {arrays[n].dtype}" for n in not_float)
        problems.append((shown, "convert the images to floats, e.g. images.astype(\"float32\") / 255.0"))
    else:
        passed += 1

    unscaled = [n for n in ("train_images", "test_images") if not _in_unit_range(arrays[n])]
    if unscaled:
        shown = ", ".join(f"{n} ranges {_range(arrays[n])}" for n in unscaled)
        problems.append((f"pixels are not scaled to [0, 1] ({shown})", "divide the images by 255.0"))
    else:
        passed += 1

    bad_labels = [n for n in ("train_labels", "test_labels") if _label_problem(arrays[n], classes)]
    if bad_labels:
        shown = "; ".join(f"{n}: {_label_problem(arrays[n], classes)}" for n in bad_labels)
        problems.append((shown, f"return the labels as integers 0-{classes - 1}, shape (N,)"))
    else:
        passed += 1

    mismatched = [
        f"{images} has {arrays[images].shape[0]} images but {labels} has {arrays[labels].shape[0]} labels"
        for images, labels in (("train_images", "train_labels"), ("test_images", "test_labels"))
        if arrays[images].shape[:1] != arrays[labels].shape[:1] or arrays[images].shape[0] == 0
    ]
    if mismatched:
        problems.append(("; ".join(mismatched), "return each split's images and labels together, unshuffled against each other"))
    else:
        passed += 1

    counts = f"{arrays['train_images'].shape[0]:,} training and {arrays['test_images'].shape[0]:,} test images"
    if not problems:
        images = arrays["train_images"]
        labels = "one-hot" if _encoding(arrays["train_labels"]) == "one_hot" else "integer"
        return Verdict.passed(
            f"load_data() returned {counts} of shape {shape_text(images.shape[1:])}, "
            f"{images.dtype} in [0, 1], with {labels} labels."
        )
    message = f"load_data() returned {counts}, but: " + "; ".join(p for p, _ in problems) + "."
    hint = "; ".join(fix for _, fix in problems)
    return Verdict.failed(message, hint[:1].upper() + hint[1:] + ".", passed / 5)


def _is_float(array: ArrayInfo) -> bool:
    return array.dtype.startswith(("float", "bfloat"))


def _in_unit_range(array: ArrayInfo) -> bool:
    if array.min is None or array.max is None:
        return False
    return array.min >= -1e-6 and array.max <= 1.0 + 1e-6


def _range(array: ArrayInfo) -> str:
    if array.min is None or array.max is None:
        return "unknown"
    return f"{array.min:g} to {array.max:g}"


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
            return f"{array.dtype} values instead of integers"
        if array.min is not None and array.max is not None and (array.min < 0 or array.max > classes - 1):
            return f"values {array.min:g} to {array.max:g} instead of 0 to {classes - 1}"
        return ""
    return f"shape {shape_text(shape)} instead of (N,) or (N, {classes})"


def _trained_on_unit_pixels(evidence: Evidence, spec: ExerciseSpec) -> Verdict:
    """Whether the model was trained on pixels in [0, 1]: from what ``model.fit`` received when
    the run recorded it, else from the trusted evaluator's probe of the model (a saved model)."""
    train = evidence.sandbox.train
    calls = [call for call in (train.fit_calls if train else []) if call.x_min is not None and call.x_max is not None]
    if calls:
        call = calls[-1]
        assert call.x_min is not None and call.x_max is not None
        seen = f"model.fit() received pixels from {call.x_min:g} to {call.x_max:g}"
        if call.x_min >= -1e-6 and call.x_max <= 1.0 + 1e-6:
            return Verdict.passed(f"{seen}: scaled to [0, 1].")
        return Verdict.failed(f"{seen}: not scaled to [0, 1].", "Divide the images by 255.0 before training.")
    evaluation = evidence.evaluation
    if evaluation.input_scaling == "unit":
        return Verdict.passed("The model works on pixels scaled to [0, 1], so it was trained on them.")
    if evaluation.input_scaling == "raw":
        return Verdict.failed("The model works best on raw 0-255 pixels, so it was trained on unscaled images.", RAW_PIXELS_HINT)
    cause = find_cause(evidence, spec, "train")
    if cause is not None:
        return cause.brief_verdict()
    return Verdict.error("Could not tell how the training images were scaled: the model was not tested.")
