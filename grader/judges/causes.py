"""The first real cause: why a piece of evidence a judge needs is missing.

The sandbox calls the learner's code in steps: ``import``, then ``load_data`` (when the exercise
has it) and ``build_model``, then ``train``, which needs both. When one breaks, the steps that
depend on it have nothing to work on. DESIGN.md's lesson from existing graders: show the learner
the *first* real cause, in their own terms, once - not a cascade of follow-on errors. So:

* the check that owns the broken step (``functions_present`` for the import, ``model_built`` for
  ``build_model``, ...) reports the full cause with a hint (``Cause.full_verdict``);
* every check downstream of it says briefly that it could not run, and why
  (``Cause.brief_verdict``), without repeating the hint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.evidence import Evidence, ExceptionInfo
from grader.judges.base import Verdict
from grader.judges.diagnose import clean_message, diagnose_exception
from grader.judges.vocabulary import sentence_case, short_type
from grader.spec import ExerciseSpec

# What each step needs to have worked before it can run. build_model() does not need the data,
# so the sandbox still builds the model when load_data() fails, and the model checks still run.
NEEDS = {
    "import": (),
    "load_data": ("import",),
    "build_model": ("import",),
    "train": ("import", "load_data", "build_model"),
}

# Exceptions the sandbox runner writes itself when the child process did not end normally, and
# the child's own findings ("ModelNotFound": no model to grade, a model file that does not load);
# their message is already a sentence ("train() did not finish: the time limit ... was reached").
RUNNER_EXCEPTIONS = ("TimeLimitExceeded", "ProcessDied", "ModelNotFound")

# The check that a script or solution_model() runs to the end (``functions_present``) owns the
# failures of that run: it comes first in the fix order, so the learner reads the error and its
# hint there, and the model and training checks after it say only "Not checked, because ...".
# A module's build_model() and train() are separate calls, owned by their own checks.
RUN = "run"
RUN_STYLES = ("script", "certificate")

# Steps a style never runs (SandboxEvidence.graded_as, see grader.adapters): a saved model is
# loaded, not imported or trained, so their absence leaves nothing missing.
STEPS_NOT_RUN = {"saved_model": ("import", "load_data", "train")}


@dataclass(frozen=True)
class Cause:
    """Why a step produced nothing usable."""

    step: str  # the step that broke: "import", "load_data", "build_model", "train"
    message: str  # the full sentence, for the check that owns the step
    brief: str  # a short clause, for downstream checks: "build_model() raised ValueError (x.py, line 9)"
    hint: str = ""
    # The step whose check shows this cause in full, when not ``step`` itself: RUN for a script
    # or solution_model(), whose build and training are phases of one run of the learner's code.
    owner: str = ""

    def verdict(self, owner_step: str) -> Verdict:
        """The verdict for a check that owns ``owner_step``: full if the cause is its own."""
        return self.full_verdict() if owner_step == (self.owner or self.step) else self.brief_verdict()

    def full_verdict(self) -> Verdict:
        return Verdict.error(self.message, self.hint)

    def brief_verdict(self) -> Verdict:
        return Verdict.error(f"Not checked, because {self.brief}.")


def _location(exc: ExceptionInfo) -> str:
    """``"exercise4.py, line 12"`` for the innermost frame of the learner's own file."""
    if not exc.frames:
        return ""
    frame = exc.frames[-1]
    return f"{frame.file}, line {frame.line}"


def step_label(evidence: Evidence, step: str) -> str:
    """How the learner knows a step: ``"build_model()"``, or the sandbox's label for styles
    where it is not a function of theirs (``"your script"``, ``"solution_model()"``)."""
    recorded = evidence.sandbox.steps.get(step)
    return (recorded.label if recorded is not None else "") or f"{step}()"


def exception_cause(step: str, exc: ExceptionInfo, evidence: Evidence, spec: ExerciseSpec) -> Cause:
    """Describe an exception from learner code as the learner needs it.

    The hint is the diagnosis of a known mistake when there is one, else the fix the sandbox
    already knew (``ExceptionInfo.hint``), else a general way to find the error.
    """
    diagnosis = diagnose_exception(exc, step, evidence, spec)
    hint = diagnosis.hint if diagnosis else (exc.hint or _default_hint(step, evidence))
    name = step_label(evidence, step)
    location = _location(exc)
    at = f" at {location}" if location else ""
    in_parens = f" ({location})" if location else ""
    # The run's own failures; "no model to grade" is the model check's finding, not the run's.
    run_failed = evidence.sandbox.graded_as in RUN_STYLES and step in ("build_model", "train") and exc.type != "ModelNotFound"
    owner = RUN if run_failed else ""
    text = clean_message(exc.message)
    if not text and exc.frames and exc.frames[-1].code:
        # `assert x.shape == (60000, 28, 28)` raises an AssertionError with no message: the
        # line itself says what failed.
        text = f"`{exc.frames[-1].code}`"
    if exc.type in RUNNER_EXCEPTIONS:
        # "train() did not finish: ..." keeps the function's name as written.
        sentence = sentence_case(text)
        brief = text.rstrip(".")
        return Cause(step, sentence if sentence.endswith(".") else sentence + ".", brief, hint, owner)
    if step == "import":
        message = f"Your file could not be run: {exc.type}{at}: {text}"
        brief = f"the file could not be run ({exc.type}{at})"
    elif exc.type == "NotImplementedError":
        # The stub's own message only repeats this, so it is left out.
        message = f"{name} is not written yet: it still raises NotImplementedError{at}."
        brief = f"{name} is not written yet"
    else:
        message = f"{name} raised {exc.type}{at}: {text}"
        brief = f"{name} raised {exc.type}{in_parens}"
    return Cause(step, _sentence_case(message), brief, hint, owner)


def _sentence_case(message: str) -> str:
    """A sentence starts with a capital, unless it starts with code (``build_model()``)."""
    return sentence_case(message)


def _default_hint(step: str, evidence: Evidence) -> str:
    """How to see the whole error, in the terms of the submission's style: only a module has
    build_model() and train() to call; a script is run, a notebook's cells are run in order,
    a certificate file has solution_model(), and a saved model is loaded."""
    sandbox = evidence.sandbox
    graded_as, style = sandbox.graded_as, sandbox.style
    if style == "notebook":
        return (
            "Restart your notebook's kernel and run all its cells in order (Restart & Run All): the "
            "same error shows with its full traceback; fix the cell and line it names."
        )
    if graded_as == "script":
        return f"Run your script with `python {sandbox.submission}` to see the full traceback, and fix the line it names."
    if graded_as == "saved_model":
        return (
            "Load the file yourself with keras.models.load_model(...) to see the full error; save the "
            'model again with model.save("model.keras") if it does not load.'
        )
    if step == "import":
        return "Run your file with `python` to see the error, fix the line it names, and grade again."
    if graded_as == "certificate":
        label = step_label(evidence, step)
        call = label if label.endswith("()") else "solution_model()"
        return f"Call {call} yourself (in a notebook or a script) to see the full traceback, and fix the line it names."
    return f"Call {step}() yourself (in a notebook or a script) to see the full traceback, and fix the line it names."


def find_cause(evidence: Evidence, spec: ExerciseSpec, needs: str) -> Cause | None:
    """The first reason the result of step ``needs`` is missing, or None when it is there.

    Walks, in run order, the steps ``needs`` depends on and then ``needs`` itself; a step the
    exercise does not use (no ``load_data`` in fashion_mnist) is skipped.
    """
    sandbox = evidence.sandbox
    not_run = STEPS_NOT_RUN.get(sandbox.graded_as, ())
    for step_name in (*NEEDS[needs], needs):
        if step_name in not_run:
            continue
        function = sandbox.functions.get(step_name)
        if step_name != "import" and spec.function(step_name) is not None and function is not None:
            if not function.present:
                message = f"{sandbox.submission} does not define {step_name}()."
                return Cause(step_name, message, f"{step_name}() is not defined", _define_hint(spec, step_name))
            if not function.callable:
                message = f"{step_name} in {sandbox.submission} is not a function."
                return Cause(step_name, message, f"{step_name} is not a function", _define_hint(spec, step_name))
        step = sandbox.steps.get(step_name)
        if step is not None and step.status == "exception" and step.exception is not None:
            if _model_outlived_the_error(evidence, step_name, needs):
                continue
            return exception_cause(step_name, step.exception, evidence, spec)
        if step is not None and step.status == "ok":
            continue
        if step is not None:
            # "not_run", or "started": in flight when the child died (the runner normally
            # rewrites those as exceptions).
            return _not_run_cause(evidence, step_name)
        if _produced(evidence, step_name):
            continue  # no record of the call, but its result is there (e.g. a saved-model run)
        if step_name == needs or (step_name == "import" and not sandbox.steps):
            return _not_run_cause(evidence, step_name)
        # Otherwise: a step this exercise does not run (no load_data in fashion_mnist).
    return None


def _model_outlived_the_error(evidence: Evidence, step: str, needs: str) -> bool:
    """A script (or notebook, or solution_model()) built its model and then raised, e.g. at
    `compile(optimizer=Adam(lr=...))` or `model.fit_generator(...)`: the model it left is judged
    as it is (architecture; compile settings, if any), so the learner hears what was already
    right. The run's error still fails the first check, and training waits for a fit."""
    sandbox = evidence.sandbox
    return (
        step == needs == "build_model"
        and sandbox.graded_as in RUN_STYLES
        and evidence.graded_model is not None
    )


def _produced(evidence: Evidence, step: str) -> bool:
    """Whether the evidence holds what ``step`` would have produced, whatever ran to produce it."""
    sandbox = evidence.sandbox
    return {
        "import": bool(sandbox.functions) or sandbox.model is not None,
        "load_data": sandbox.data is not None,
        "build_model": sandbox.model is not None,
        "train": sandbox.train is not None,
    }[step]


def _define_hint(spec: ExerciseSpec, name: str) -> str:
    function = spec.function(name)
    params = ", ".join(function.parameters) if function else ""
    return f"Define the function `def {name}({params}):` at the top level of your file."


def _not_run_cause(evidence: Evidence, step: str) -> Cause:
    """A step that never ran (or never finished) without raising: say what stopped it."""
    sandbox = evidence.sandbox
    run = sandbox.run
    if step == "train":
        unusable = _not_a_keras_model(evidence)
        if unusable is not None:
            return unusable
    if step == "train" and sandbox.data is not None and not sandbox.data.structure_ok:
        return Cause(
            "load_data",
            "load_data() did not return ((train_images, train_labels), (test_images, test_labels)).",
            "load_data() did not return usable data",
        )
    what = "your file was imported" if step == "import" else f"{step_label(evidence, step)} finished"
    if run.limit_hit:
        message = f"The run was stopped by the {run.limit_hit} limit before {what}."
        return Cause(step, message, f"the run hit the {run.limit_hit} limit", TIME_LIMIT_OR_MEMORY_HINT)
    if run.returncode not in (None, 0):
        message = f"The run ended unexpectedly (exit code {run.returncode}) before {what}."
        return Cause(step, message, f"the run ended unexpectedly (exit code {run.returncode})")
    name = step_label(evidence, step)
    return Cause(step, f"{name} was not run, so there is nothing to check.", f"{name} was not run")


TIME_LIMIT_OR_MEMORY_HINT = (
    "Keep the run within the exercise's limits: fewer epochs or a smaller model, no endless loops."
)


def model_cause(evidence: Evidence, spec: ExerciseSpec) -> Cause | None:
    """Why there is no Keras model to inspect, or None when there is one."""
    if evidence.facts_are_trusted:
        return None  # the trusted evaluation loaded the model: there is one, whatever the run says
    cause = find_cause(evidence, spec, "build_model")
    if cause is not None:
        return cause
    if evidence.sandbox.final_model is None:
        who = step_label(evidence, "build_model")
        return Cause("build_model", _sentence_case(f"{who} left no model to inspect."), "there is no model to inspect")
    return _not_a_keras_model(evidence)


def _not_a_keras_model(evidence: Evidence) -> Cause | None:
    """The cause when the learner's code handed over something that is not a Keras model."""
    model = evidence.sandbox.final_model
    if model is not None and not model.is_keras_model:
        returned = short_type(model.returned_type)
        source = evidence.sandbox.model_source
        if source:  # scripts, notebooks, solution_model(): "the model in your script's variable `model`"
            return Cause(
                "build_model",
                f"{source[:1].upper()}{source[1:]} is {returned}, not a Keras model.",
                "there is no Keras model to inspect",
                "Make sure it is the keras.Model you built and trained (keras.Sequential or keras.Model).",
            )
        hint = "End build_model() with `return model`." if returned == "None" else (
            "build_model() must return the keras.Model it builds (keras.Sequential or keras.Model)."
        )
        return Cause(
            "build_model",
            f"build_model() returned {returned} instead of a Keras model.",
            "build_model() did not return a Keras model",
            hint,
        )
    return None
