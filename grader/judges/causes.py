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

from dataclasses import dataclass

from grader.evidence import Evidence, ExceptionInfo
from grader.judges.base import Verdict
from grader.judges.diagnose import clean_message, diagnose_exception
from grader.judges.vocabulary import sentence_case, short_type
from grader.messages import _
from grader.messages import judges as messages
from grader.messages import sandbox as sandbox_messages
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
        return Verdict.error(messages.not_checked_because(self.brief))


def _location(exc: ExceptionInfo) -> str:
    """``"exercise4.py, line 12"`` for the innermost frame of the learner's own file."""
    if not exc.frames:
        return ""
    frame = exc.frames[-1]
    return messages.location(frame.file, frame.line)


def step_label(evidence: Evidence, step: str) -> str:
    """How the learner knows a step: ``"build_model()"``, or the sandbox's label for styles
    where it is not a function of theirs (``"your script"``, ``"solution_model()"``), said in
    the current language from what the child recorded (``run_by``) when it can be."""
    recorded = evidence.sandbox.steps.get(step)
    if recorded is not None and recorded.run_by:
        return sandbox_messages.run_label(recorded.run_by)
    return (recorded.label if recorded is not None else "") or f"{step}()"


def model_source(evidence: Evidence) -> str:
    """Where the graded model came from, as a noun phrase ("the model solution_model()
    returned"), in the current language when the child recorded its code; "" for a module's
    build_model(), which needs no such phrase."""
    origin = evidence.sandbox.model_origin
    if origin is not None and origin.code:
        return sandbox_messages.model_source(origin.code, origin.facts)
    return evidence.sandbox.model_source


def exception_cause(step: str, exc: ExceptionInfo, evidence: Evidence, spec: ExerciseSpec) -> Cause:
    """Describe an exception from learner code as the learner needs it.

    The hint is the diagnosis of a known mistake when there is one, else the fix the sandbox
    already knew (``ExceptionInfo.hint``), else a general way to find the error.
    """
    diagnosis = diagnose_exception(exc, step, evidence, spec)
    hint = diagnosis.hint if diagnosis else (exc.hint or _default_hint(step, evidence))
    name = step_label(evidence, step)
    location = _location(exc)
    # The run's own failures; "no model to grade" is the model check's finding, not the run's.
    run_failed = (
        evidence.sandbox.graded_as in RUN_STYLES and step in ("build_model", "train") and exc.type != "ModelNotFound"
    )
    owner = RUN if run_failed else ""
    text = clean_message(exc.message)
    if not text and exc.frames and exc.frames[-1].code:
        # `assert x.shape == (60000, 28, 28)` raises an AssertionError with no message: the
        # line itself says what failed.
        text = f"`{exc.frames[-1].code}`"
    if exc.type in RUNNER_EXCEPTIONS:
        # "train() did not finish: ..." keeps the function's name as written.
        sentence = sentence_case(text)
        return Cause(step, messages.full_stop(sentence), messages.clause(text), hint, owner)
    if step == "import":
        message = messages.file_not_run(exc.type, text, location)
        brief = messages.file_not_run_brief(exc.type, location)
    elif exc.type == "NotImplementedError":
        # The stub's own message only repeats this, so it is left out.
        message = messages.not_written_yet(name, location)
        brief = messages.not_written_yet_brief(name)
    else:
        message = messages.function_raised(name, exc.type, text, location)
        brief = messages.function_raised_brief(name, exc.type, location)
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
        return _(messages.NOTEBOOK_TRACEBACK_HINT)
    if graded_as == "script":
        return messages.script_traceback(sandbox.submission)
    if graded_as == "saved_model":
        return _(messages.SAVED_MODEL_LOAD_HINT)
    if step == "import":
        return _(messages.IMPORT_TRACEBACK_HINT)
    if graded_as == "certificate":
        label = step_label(evidence, step)
        return messages.call_traceback(label if label.endswith("()") else "solution_model()")
    return messages.call_traceback(f"{step}()")


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
                message = messages.does_not_define(sandbox.submission, step_name)
                return Cause(
                    step_name, message, messages.does_not_define_brief(step_name), _define_hint(spec, step_name)
                )
            if not function.callable:
                message = messages.not_a_function(sandbox.submission, step_name)
                return Cause(
                    step_name, message, messages.not_a_function_brief(step_name), _define_hint(spec, step_name)
                )
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
    return step == needs == "build_model" and sandbox.graded_as in RUN_STYLES and evidence.graded_model is not None


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
    return messages.define_function(name, params)


def _not_run_cause(evidence: Evidence, step: str) -> Cause:
    """A step that never ran (or never finished) without raising: say what stopped it."""
    sandbox = evidence.sandbox
    run = sandbox.run
    if step == "train":
        unusable = _not_a_keras_model(evidence)
        if unusable is not None:
            return unusable
    if step == "train" and sandbox.data is not None and not sandbox.data.structure_ok:
        return Cause("load_data", _(messages.LOAD_DATA_STRUCTURE), _(messages.LOAD_DATA_STRUCTURE_BRIEF))
    # Before what the run stopped: the import of the file (None), or a step the learner knows.
    before = None if step == "import" else step_label(evidence, step)
    if run.limit_hit:
        message = messages.stopped_by_limit(run.limit_hit, before)
        brief = messages.stopped_by_limit_brief(run.limit_hit)
        return Cause(step, message, brief, _(TIME_LIMIT_OR_MEMORY_HINT))
    if run.returncode not in (None, 0):
        message = messages.ended_unexpectedly(run.returncode, before)
        return Cause(step, message, messages.ended_unexpectedly_brief(run.returncode))
    name = step_label(evidence, step)
    return Cause(step, messages.step_not_run(name), messages.step_not_run_brief(name))


TIME_LIMIT_OR_MEMORY_HINT = messages.TIME_LIMIT_OR_MEMORY_HINT


def model_cause(evidence: Evidence, spec: ExerciseSpec) -> Cause | None:
    """Why there is no Keras model to inspect, or None when there is one."""
    if evidence.facts_are_trusted:
        return None  # the trusted evaluation loaded the model: there is one, whatever the run says
    cause = find_cause(evidence, spec, "build_model")
    if cause is not None:
        return cause
    if evidence.sandbox.final_model is None:
        who = step_label(evidence, "build_model")
        return Cause("build_model", _sentence_case(messages.left_no_model(who)), _(messages.NO_MODEL_BRIEF))
    return _not_a_keras_model(evidence)


def _not_a_keras_model(evidence: Evidence) -> Cause | None:
    """The cause when the learner's code handed over something that is not a Keras model."""
    model = evidence.sandbox.final_model
    if model is not None and not model.is_keras_model:
        returned = short_type(model.returned_type)
        source = model_source(evidence)
        if source:  # scripts, notebooks, solution_model(): "the model in your script's variable `model`"
            return Cause(
                "build_model",
                messages.source_not_a_model(sentence_case(source), returned),
                _(messages.NO_KERAS_MODEL_BRIEF),
                _(messages.SOURCE_NOT_A_MODEL_HINT),
            )
        hint = messages.RETURN_MODEL_HINT if returned == "None" else messages.RETURN_KERAS_MODEL_HINT
        return Cause(
            "build_model",
            messages.returned_not_a_model(returned),
            _(messages.NOT_A_KERAS_MODEL_BRIEF),
            _(hint),
        )
    return None
