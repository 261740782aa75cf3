"""What happened to the learner's run, in words: the sandbox's codes and facts made sentences.

The sandbox child (``grader.sandbox.child``) runs learner code and records *codes and facts*
only (``grader.evidence.Finding``: ``{"code": "no_model", "facts": {"kind": "script", ...}}``;
an exception's type, frames and Keras' own text). The parent side (``grader.sandbox.runner``)
turns them into sentences here, in the current language, and so do the limit checks and the
trusted evaluation. Nothing else in the sandbox writes a sentence a learner reads.

Keras' and Python's own exception text is a fact: it is shown as they wrote it, never
translated; only the explanation around it comes from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grader.messages import N_, _, say, say_n

# --- small pieces ---------------------------------------------------------------------------------

GiB = 1024**3
MiB = 1024**2


def number(value: float, spec: str = "g") -> str:
    """``1805.0`` -> ``"1805"``: a number as the messages show it (``format(value, spec)``)."""
    return format(value, spec)


def size_text(count: float) -> str:
    """``4294967296`` -> ``"4 GB"`` (binary units, as the limits are set)."""
    for unit, size in (("GB", GiB), ("MB", MiB), ("KB", 1024)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return say("{count} bytes", count=number(count))


_KINDS = {"script": N_("script"), "notebook": N_("notebook")}


def kind_noun(kind: str) -> str:
    """ "script" or "notebook" (how the learner handed in their code), in words."""
    return _(_KINDS.get(kind, "script"))


def type_phrase(type_name: str) -> str:
    """What a value was, from its type's name: ``"None"``, ``"a dict"``."""
    if type_name in ("", "NoneType"):
        return "None"
    return say("a {type}", type=type_name)


def _fact(facts: Mapping[str, Any], name: str, default: str = "") -> str:
    """A fact as text (the record is a claim of the learner's process: never trusted to be a str)."""
    value = facts.get(name, default) if isinstance(facts, Mapping) else default
    return str(value)[:300] if value is not None else default


def _list(facts: Mapping[str, Any], name: str) -> list[Any]:
    value = facts.get(name) if isinstance(facts, Mapping) else None
    return value if isinstance(value, list) else []


def _count(facts: Mapping[str, Any], name: str) -> int:
    value = facts.get(name, 0) if isinstance(facts, Mapping) else 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# --- what ran: step labels and where the graded model came from -----------------------------------

RUN_BY = ("script", "notebook", "saved_model")
"""What ran besides a function call ``"name()"``: ``StepResult.run_by``."""


def run_label(run_by: str) -> str:
    """How the learner knows what ran: "your script", "loading the saved model", "solution_model()"."""
    if run_by == "script":
        return _("your script")
    if run_by == "notebook":
        return _("your notebook")
    if run_by == "saved_model":
        return _("loading the saved model")
    return run_by  # a function call, "solution_model()": a name, not a sentence


def step_label(step: str, run_by: str = "") -> str:
    """The label for step ``step``: what ran, or the exercise function ``step()``, or the file."""
    if run_by:
        return run_label(run_by)
    return _("your file") if step == "import" else f"{step}()"


MODEL_ORIGINS = ("in_training", "returned", "fit_in_function", "variable", "left_in", "fit_in_kind", "saved_file")
"""Where the graded model came from: ``SandboxEvidence.model_origin.code``."""


def model_source(code: str, facts: Mapping[str, Any]) -> str:
    """Where the graded model came from, as a noun phrase: "the model solution_model() returned"."""
    function, kind, variable = _fact(facts, "function"), kind_noun(_fact(facts, "kind")), _fact(facts, "variable")
    if code == "in_training":
        return _("the model model.fit was training")
    if code == "returned":
        return say("the model {function}() returned", function=function)
    if code == "fit_in_function":
        return say("the model model.fit trained in {function}()", function=function)
    if code == "variable":
        return say("the model in your {kind}'s variable `{variable}`", kind=kind, variable=variable)
    if code == "left_in":
        return say("the model your {kind} left in `{variable}`", kind=kind, variable=variable)
    if code == "fit_in_kind":
        return say("the model model.fit trained in your {kind}", kind=kind)
    if code == "saved_file":
        return say("the model in {file}", file=_fact(facts, "file"))
    return ""


# --- problems the child found itself (no model to grade, a file that does not load) --------------

SAVED_MODEL_HINT = N_(
    'Save the trained model with model.save("model.keras") (or model.save("model.h5")) and grade '
    "that file; build it from Keras' built-in layers so it loads anywhere."
)

PROBLEMS = (
    "no_function",
    "returned_no_model",
    "returned_other_model",
    "several_models",
    "several_fitted",
    "no_model",
    "model_not_loaded",
)
"""The codes of the problems the child records on a step (``ExceptionInfo.code``, type
``ModelNotFound``)."""


def load_failure(facts: Mapping[str, Any]) -> str:
    """Why Keras could not load a model file: Keras' own words, or the grader's refusal of a
    Lambda layer."""
    if facts.get("lambda_layer") is True:
        return _(
            "it contains a Lambda layer (arbitrary code), which the grader does not load; use built-in "
            "layers such as Rescaling"
        )
    return f"{_fact(facts, 'exception')}: {_fact(facts, 'detail')}"


def problem(code: str, facts: Mapping[str, Any]) -> tuple[str, str]:
    """``(message, hint)`` for a problem the child recorded as ``code`` with ``facts``."""
    function, variable = _fact(facts, "function"), _fact(facts, "variable")
    kind = kind_noun(_fact(facts, "kind"))
    return_hint = say(
        "End {function}() with `return model`: whoever calls it gets the trained model.", function=function
    )
    fix = say("Keep the model to grade in a variable named `{variable}`", variable=variable)
    if code == "no_function":
        message = (
            "{file} defines no {function}() to call ({function} is not a function)"
            if facts.get("defined") is True
            else "{file} defines no {function}() to call ({function} is not defined)"
        )
        return (
            say(message, file=_fact(facts, "file"), function=function),
            say(
                "Define `def {function}():` that loads the data, builds, compiles and trains the model, "
                "and ends with `return model`.",
                function=function,
            ),
        )
    if code == "returned_no_model":
        returned = type_phrase(_fact(facts, "returned_type"))
        return (
            say(
                "{function}() returned {returned} instead of a trained Keras model",
                function=function,
                returned=returned,
            ),
            return_hint,
        )
    if code == "returned_other_model":
        returned = type_phrase(_fact(facts, "returned_type"))
        return (
            say(
                "{function}() returned {returned} instead of the trained model; the model model.fit "
                "trained was graded instead",
                function=function,
                returned=returned,
            ),
            return_hint,
        )
    if code == "several_models":
        names = _list(facts, "names")
        shown = ", ".join(f"`{str(name)[:60]}`" for name in names[:10])
        message = (
            "your {kind} leaves {count} compiled Keras models ({shown}) and no variable `{variable}`, "
            "so the grader cannot tell which one to grade"
            if facts.get("compiled") is True
            else "your {kind} leaves {count} Keras models ({shown}) and no variable `{variable}`, "
            "so the grader cannot tell which one to grade"
        )
        first = str(names[0])[:60] if names else "model"
        return (
            say(message, kind=kind, count=_count(facts, "count"), shown=shown, variable=variable),
            say("{fix}, e.g. `{variable} = {first}` at the end.", fix=fix, variable=variable, first=first),
        )
    if code == "several_fitted":
        return (
            say(
                "your {kind} trains {count} models inside functions and keeps none in a variable "
                "`{variable}`, so the grader cannot tell which one to grade",
                kind=kind,
                count=_count(facts, "count"),
                variable=variable,
            ),
            say("{fix} at the top level of the {kind}.", fix=fix, kind=kind),
        )
    if code == "no_model":
        holds = _fact(facts, "holds")
        if holds:
            message = say(
                "no Keras model was found after your {kind} ran: no variable `{variable}` holds one "
                "(`{variable}` holds {holds}), and model.fit was never called",
                kind=kind,
                variable=variable,
                holds=type_phrase(holds),
            )
        else:
            message = say(
                "no Keras model was found after your {kind} ran: no variable `{variable}` holds one, "
                "and model.fit was never called",
                kind=kind,
                variable=variable,
            )
        return message, say(
            "{fix}: `{variable} = keras.Sequential([...])`, then compile and fit it.", fix=fix, variable=variable
        )
    if code == "model_not_loaded":
        return (
            say(
                "{file} could not be loaded as a Keras model: {failure}",
                file=_fact(facts, "file"),
                failure=load_failure(facts),
            ),
            _(SAVED_MODEL_HINT),
        )
    return say("the run recorded a problem the grader does not know ({code})", code=str(code)[:60]), ""


def compile_settings_note(file: str, facts: Mapping[str, Any]) -> str:
    """The note for a saved model Keras loaded without its compile settings."""
    return say(
        "{file} was loaded without its compile settings, which Keras could not restore: {failure}",
        file=file,
        failure=load_failure(facts),
    )


def sys_exit_message(exit_code: str) -> str:
    """The message of a learner's ``sys.exit(...)`` (``exit_code`` as Python repr()s it)."""
    return say("the code called sys.exit({exit_code})", exit_code=exit_code)


def traceback_header() -> str:
    return _("Traceback (your code only):")


def data_description(returned_type: str, items: int | None, bad_item: str = "", bad_item_type: str = "") -> str:
    """What ``load_data()`` returned instead of ``((x, y), (x, y))``."""
    if bad_item:
        return say("{name} is a {type}, not an array", name=bad_item, type=bad_item_type)
    if items is not None:
        return say("a {type} of {count} items", type=returned_type, count=items)
    return type_phrase(returned_type)


# --- limits: the one place their sentences live -----------------------------------------------------

LIMIT_HINTS: dict[str, str] = {
    "time": N_(
        "Make the run fit in the time limit: train for fewer epochs, use a smaller model or a "
        "larger batch_size, and make sure no loop runs forever."
    ),
    "cpu": N_(
        "Make the run use less computing time: train for fewer epochs or a smaller model, and "
        "make sure no loop runs forever."
    ),
    "memory": N_(
        "Use less memory: a smaller model or batch_size, and no extra copies of the dataset "
        "(each float64 copy of the training images takes hundreds of megabytes)."
    ),
    "output": N_(
        "Print less: no print() inside loops over images or batches; use verbose=2 in fit() for one line per epoch."
    ),
    "processes": N_(
        "Don't start processes from your code (os.fork, multiprocessing, subprocess): train in "
        "the process the grader runs."
    ),
    "file_size": N_(
        "Write fewer and smaller files: the grader saves your model itself, and your code needs to write nothing else."
    ),
}
"""For the learner: how to stay within each limit (English ids; ``limit_hint`` translates)."""


def limit_hint(limit: str | None) -> str:
    """How to stay within ``limit``; "" for no limit or one the grader does not know."""
    hint = LIMIT_HINTS.get(limit or "")
    return _(hint) if hint else ""


def limit_name(limit: str) -> str:
    """The limit's name in a sentence: "memory", "CPU time", "file size", "process"."""
    names = {
        "time": N_("time"),
        "cpu": N_("CPU time"),
        "memory": N_("memory"),
        "output": N_("output"),
        "processes": N_("process"),
        "file_size": N_("file size"),
    }
    return _(names[limit]) if limit in names else limit


_LIMIT_KEYS = {
    "time": "time_s",
    "cpu": "cpu_s",
    "memory": "memory_bytes",
    "output": "output_bytes",
    "processes": "processes",
    "file_size": "disk_bytes",
}


def limit_phrase(limit: str, limits: Mapping[str, float]) -> str:
    """What a limit is, with its value, as a phrase: "more than 4 GB of memory". ``limits`` is
    ``SandboxLimits.describe()`` (``RunInfo.limits``); a missing value is left out."""
    value = limits.get(_LIMIT_KEYS.get(limit, ""))
    if limit == "time":
        return say("more than {seconds} s", seconds=number(value)) if value else _("too long")
    if limit == "cpu":
        return say("more than {seconds} s of CPU time", seconds=number(value)) if value else _("too much CPU time")
    if limit == "memory":
        return say("more than {size} of memory", size=size_text(value)) if value else _("too much memory")
    if limit == "output":
        return (
            say("more than {size} of printed output", size=size_text(value)) if value else _("too much printed output")
        )
    if limit == "processes":
        return say("more than {count} processes", count=number(value)) if value else _("too many processes")
    if limit == "file_size":
        if not value:
            return _("files that were too large")
        per_file = limits.get("file_bytes")
        if per_file:
            return say(
                "more than {size} of files (or one file over {file_size})",
                size=size_text(value),
                file_size=size_text(per_file),
            )
        return say("more than {size} of files", size=size_text(value))
    return say("the {limit} limit", limit=limit)


def limit_message(
    limit: str,
    limits: Mapping[str, float],
    *,
    peak_memory: int = 0,
    peak_processes: int = 0,
    allocation_refused: bool = False,
    write_refused: bool = False,
) -> str:
    """What the limit was and what the code did, for the integrity check: the sentence a learner
    reads when a limit stopped their run. ``allocation_refused``: the kernel refused one allocation
    (MemoryError) before the watchdog saw the memory grow; ``write_refused``: a write past the
    file-size limit failed ("File too large")."""
    if limit == "memory" and allocation_refused:
        allowed = limits.get("memory_bytes")
        if allowed:
            return say(
                "Your code hit the grader's memory limit: it asked for more memory at once than the grader "
                "allows ({size}), and the allocation was refused (MemoryError).",
                size=size_text(allowed),
            )
        return _(
            "Your code hit the grader's memory limit: it asked for more memory at once than the grader "
            "allows, and the allocation was refused (MemoryError)."
        )
    if limit == "file_size" and write_refused:
        per_file = limits.get("file_bytes")
        if per_file:
            return say(
                "Your code hit the grader's file size limit: it wrote a file larger than the limit of "
                "{size}, and the write was refused.",
                size=size_text(per_file),
            )
        return _(
            "Your code hit the grader's file size limit: it wrote a file larger than the limit, and the write was refused."
        )
    # What it reached, when that says more than the limit itself (the watchdog samples ten
    # times a second, so a fast-growing run is caught somewhat past the limit).
    used = ""
    if limit == "memory" and peak_memory > 1.1 * limits.get("memory_bytes", float("inf")):
        used = say(" (it reached {size})", size=size_text(peak_memory))
    elif limit == "processes" and peak_processes:
        used = say(" (it had {count} when it was stopped)", count=peak_processes)
    return say(
        "Your code was stopped by the grader's {name} limit: it used {what}{used}.",
        name=limit_name(limit),
        what=limit_phrase(limit, limits),
        used=used,
    )


def _signal_name(number: int) -> str:
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return say("signal {number}", number=number)


def death_reason(limit_hit: str | None, returncode: int | None, isolation: str, limits: Mapping[str, float]) -> str:
    """Why the child ended before it finished: the limit that stopped it, or how it died.
    ``limits`` is ``SandboxLimits.describe()``."""
    if limit_hit == "time":
        return say(
            "the time limit of {seconds} s was reached (an endless loop, or training too long?)",
            seconds=number(limits.get("time_s", 0)),
        )
    if limit_hit == "cpu":
        return say(
            "it used more than {seconds} s of CPU time, the grader's CPU time limit (an endless loop, or training too long?)",
            seconds=number(limits.get("cpu_s", 0)),
        )
    if limit_hit == "memory":
        return say(
            "it used more than {size} of memory, the grader's memory limit (a very large model, batch or array?)",
            size=size_text(limits.get("memory_bytes", 0)),
        )
    if limit_hit == "output":
        return say(
            "it printed more than {size}, the grader's output limit (printing in a loop?)",
            size=size_text(limits.get("output_bytes", 0)),
        )
    if limit_hit == "processes":
        return say(
            "it started more than {count} processes, the grader's process limit (a fork bomb, or multiprocessing?)",
            count=number(limits.get("processes", 0)),
        )
    if limit_hit == "file_size":
        return say(
            "it wrote more than {size} of files (or one larger than {file_size}), the grader's file size limit",
            size=size_text(limits.get("disk_bytes", 0)),
            file_size=size_text(limits.get("file_bytes", 0)),
        )
    if returncode is not None and returncode < 0:
        # The wrapper between the grader and the child died, not the child: in process
        # isolation that is the guard, which only learner code signals.
        name = _signal_name(-returncode)
        if isolation == "process":
            return say(
                "the process running it was killed by {signal} (did your code kill its parent process?)", signal=name
            )
        return say("the sandbox was killed by {signal}", signal=name)
    if returncode is not None and returncode > 128:
        return say("the process was killed by {signal}", signal=_signal_name(returncode - 128))
    return say("the process exited with code {code} (os._exit or a crash inside TensorFlow?)", code=returncode)


def death_hint(returncode: int | None, isolation: str) -> str:
    """The fix for a run that ended without a limit, when the way it ended says more than the
    judges' general hint for a process that died."""
    import signal

    if returncode is not None and returncode < 0 and isolation == "process":
        return _(
            "Don't signal other processes (os.kill, os.killpg): your code runs under a supervising "
            "process, and killing it ends your own run."
        )
    crashes = (signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGABRT)
    if returncode is not None and returncode - 128 in crashes:
        return _(
            "The process crashed inside native code (TensorFlow, NumPy or a C extension): look for "
            "ctypes, unusual dtypes or array shapes in the code that ran last, and retry with the "
            "chapter's layers."
        )
    return ""


def did_not_finish(who: str, reason: str) -> str:
    return say("{who} did not finish: {reason}", who=who, reason=reason)


def could_not_run(reason: str) -> str:
    return say("the submission could not be run: {reason}", reason=reason)


def memory_refused() -> str:
    """Python's MemoryError says nothing; "memory limit" also selects the judges' hint."""
    return _("the memory it asked for was refused: more than the grader's memory limit allows")


# Exceptions the sandbox itself causes (recognised by the runner from their text) and the fix.
SANDBOX_CAUSE_HINTS = {
    "network": N_(
        "The grader runs your code without a network: load the data with the chapter's loader "
        "(tf.keras.datasets.fashion_mnist.load_data() or mnist.load_data()), which works offline."
    ),
    "read_only": N_(
        "Your code may write files only in its working folder (and /tmp): use relative paths such "
        'as "checkpoint.keras", or no files at all.'
    ),
    "encoding": N_(
        'Save the file as UTF-8 (your editor\'s "Encoding: UTF-8"): it holds a byte that is not '
        "UTF-8, usually an accented letter saved as Latin-1 or Windows-1252."
    ),
}


def sandbox_cause_hint(cause: str) -> str:
    return _(SANDBOX_CAUSE_HINTS[cause])


# --- the record of the run and the files read back from the sandbox ---------------------------------


def record_unreadable(reason: str) -> str:
    return say("the grader's record of the run could not be read: {reason}", reason=reason)


def record_unreadable_hint() -> str:
    return _(
        "Leave the files outside your working folder alone: the grader keeps its record of "
        "the run there, and without it nothing your code did can be counted."
    )


def record_too_deep(file: str, depth: int) -> str:
    """Why a JSON record from the sandbox is refused (``grader.sandbox.scratch.RecordTooDeepError``)."""
    return say("{file} nests lists or dictionaries more than {depth} levels deep", file=file, depth=depth)


def record_too_deep_hint() -> str:
    return _(
        "Keep what the grader reads from your run plain: the model's compile settings and the "
        "History that train() returns hold numbers, strings and short lists, not values nested "
        "hundreds of levels deep."
    )


def scratch_file_problem(code: str, file: str, max_bytes: int = 0) -> str:
    """Why a file read back from the sandbox is refused (``ScratchFileError``)."""
    if code == "symlink":
        return say("{file} is not a regular file (a symbolic link)", file=file)
    if code == "not_regular":
        return say("{file} is not a regular file (was it replaced?)", file=file)
    return say("{file} is larger than {size}", file=file, size=size_text(max_bytes))


def model_file_problem(code: str, detail: str = "", unpacked_bytes: int = 0) -> str:
    """Why the saved model may not go to the trusted evaluator."""
    if code == "not_saved":
        return _("the trained model was not saved")
    if code == "refused":
        return say("model.keras in the scratch folder cannot be tested: {reason}", reason=detail)
    if code == "not_keras":
        return _("model.keras in the scratch folder is not a saved Keras model (was it replaced?)")
    return say(
        "the saved model unpacks to {size} GB, too large to test", size=number(round(unpacked_bytes / GiB, 1), ".1f")
    )


def ignored_record_parts(problems: list[str]) -> str:
    """The note for a record the grader partly refused (``validate_sandbox_evidence``)."""
    shown = "; ".join(problems[:5])
    if len(problems) > 5:
        shown += say("; and {count} more", count=len(problems) - 5)
    return say("The grader ignored parts of the run's record that it does not accept: {shown}.", shown=shown)


def unknown_field(path: str) -> str:
    return say("unknown field {path}", path=path)


def notes_not_written(count: int) -> str:
    return say_n("{count} note the grader did not write", "{count} notes the grader did not write", count)


# --- tampering and how the run was isolated ---------------------------------------------------------


def tampering(code: str, **facts: object) -> str:
    """One thing learner code did to mislead the grader's measurements, as the report lists it."""
    if code == "replaces":
        return say("replaces {target}", target=facts.get("target", ""))
    if code == "imports_grader":
        return _("imports the grader's own code")
    if code == "forged_progress":
        return say_n(
            "wrote {count} line into the grader's progress channel that was not the grader's own events (not shown)",
            "wrote {count} lines into the grader's progress channel that were not the grader's own events (not shown)",
            int(facts.get("count", 0) or 0),  # type: ignore[call-overload]
        )
    if code == "replaced_record":
        return say("replaced the grader's record of the run ({reason})", reason=facts.get("reason", ""))
    return str(code)


def at_line(where: str, line: int, what: str) -> str:
    """``"cell 3, line 12: replaces Model.evaluate"`` (``where`` is "" or "cell N, ")."""
    return say("{where}line {line}: {what}", where=where, line=line, what=what)


def cell_prefix(number: object) -> str:
    return say("cell {number}, ", number=number)


def enforcement(isolation: str, cgroup: bool, user: str | None) -> list[str]:
    """What kept a run's limits and isolation, as short phrases for the result."""
    said = [
        _("memory and tasks: the kernel (a cgroup v2 of the run)")
        if cgroup
        else _("memory and processes: the grader's watchdog (resident memory, memfd files, the sandbox's tmpfs)"),
        _("time, output, files: the grader and the kernel's rlimits"),
        say("learner code ran as {user}", user=user)
        if user is not None
        else _("learner code ran as the grader's user"),
    ]
    if isolation == "process" and user is not None:
        said.append(_("process isolation: own PID, mount and IPC namespaces; data folders hidden; network shared"))
    return said


def process_isolation_note(problem: str) -> str:
    """The note on a result graded without bubblewrap."""
    return say(
        "Your code ran with process isolation only, because {problem}: the grader's limits applied, "
        "but not its file-system and network isolation.",
        problem=problem,
    )


def sandbox_setup_failed(reason: str) -> str:
    """The limits wrapper could not build the sandbox (no namespaces, no user to drop to)."""
    return say(
        "The sandbox could not be set up here: {reason}. "
        "Run the grader as an ordinary user, or where bubblewrap works (--sandbox bwrap).",
        reason=reason,
    )


# --- why the trusted evaluation had no model to test (grader.pipeline) ------------------------------


def no_model_because_failed(who: str) -> str:
    return say("{who} failed, so there was no trained model to test", who=who)


def model_not_saved(error: str) -> str:
    """``error``: Keras' exception while saving, or why the saved file was refused."""
    return say("the trained model could not be saved: {error}", error=error)


def no_model_came_back() -> str:
    return _("no trained model came back from the run")


# --- the trusted evaluation (grader.evaluation, grader.trusted) -------------------------------------

EVALUATION_PROBLEMS = (
    "load_memory",
    "lambda_layer",
    "custom_object",
    "not_loaded",
    "wrong_outputs",
    "not_finite",
    "several_inputs",
    "no_input_shape",
    "open_input_shape",
    "input_shape_mismatch",
    "several_outputs",
    "no_output_shape",
    "crashed",
)
"""What the trusted evaluation process found wrong with the model (``EvaluationFailed.code``)."""


def evaluation_problem(code: str, facts: Mapping[str, Any]) -> str:
    """Why the trusted evaluation could not load or test the model, from its code and facts.
    Keras' own exception text (``detail``) is shown as Keras wrote it."""
    if code == "load_memory":
        return _("loading it needed more memory than the evaluation allows")
    if code == "lambda_layer":
        return _(
            "the model contains a Lambda layer (arbitrary code), which the grader does not load for "
            "safety; use built-in layers such as Rescaling or Flatten instead"
        )
    if code == "custom_object":
        return _("the model uses a custom layer or object that the grader cannot load; use built-in Keras layers")
    if code == "not_loaded":
        return say(
            "the saved model could not be loaded: {exception}: {detail}",
            exception=_fact(facts, "exception"),
            detail=_fact(facts, "detail"),
        )
    if code == "wrong_outputs":
        return say(
            "the model outputs {outputs} values per image; a {classes}-class classifier needs one output per class",
            outputs=_fact(facts, "outputs"),
            classes=_fact(facts, "classes"),
        )
    if code == "not_finite":
        return _("the model's outputs contain NaN or infinity (did the training loss diverge?)")
    if code == "several_inputs":
        return say("the model takes {count} inputs; it needs one: the image", count=_fact(facts, "count"))
    if code == "no_input_shape":
        return _("the saved model does not declare an input shape")
    if code == "open_input_shape":
        return say(
            "the model's input shape {shape} has open dimensions; declare {image_shape}",
            shape=_fact(facts, "shape"),
            image_shape=_fact(facts, "image_shape"),
        )
    if code == "input_shape_mismatch":
        return say(
            "the model expects inputs of shape {shape}, which do not hold one {image} image (use {image_shape} or ({pixels},))",
            shape=_fact(facts, "shape"),
            image=_fact(facts, "image"),
            image_shape=_fact(facts, "image_shape"),
            pixels=_fact(facts, "pixels"),
        )
    if code == "several_outputs":
        return say("the model gives {count} outputs; it needs one: a score per class", count=_fact(facts, "count"))
    if code == "no_output_shape":
        return _("the saved model does not declare an output shape")
    if code == "crashed":
        return say("{exception} while testing the model", exception=_fact(facts, "exception"))
    return _("the model could not be tested")


def evaluation_limit(limit: str, seconds: float, memory_bytes: float) -> str:
    """The saved model could not be tested within the evaluation's limits."""
    if limit == "time":
        what = say("it took more than {seconds} s to load and test", seconds=number(seconds))
    elif limit == "cpu":
        what = _("it used more CPU time than the evaluation allows")
    elif limit == "memory":
        what = say(
            "loading and testing it needed more than {size} GB of memory",
            size=number(round(memory_bytes / GiB, 1), ".1f"),
        )
    else:
        what = say("the evaluation's {limit} limit stopped it", limit=limit)
    return say("the saved model could not be tested within the grader's limits: {what}", what=what)


def evaluation_crashed(signal_number: int) -> str:
    return say(
        "the saved model could not be tested: {reason}",
        reason=say(
            "the saved model made the grader's evaluation process crash (signal {number})", number=signal_number
        ),
    )


def evaluation_went_wrong(code: str, **facts: object) -> str:
    """The evaluation process itself failed (the grader's problem, not the model's)."""
    if code == "no_answer":
        return _("the evaluation process gave no answer")
    if code == "malformed_predictions":
        return _("the evaluation process returned malformed predictions")
    if code == "could_not_run":
        return say("the evaluation process could not run: {reason}", reason=facts.get("reason", ""))
    if code == "already_used":
        return _("the evaluation process was already used")
    if code == "did_not_run":
        return _("the evaluation process did not run")
    if code == "no_result":
        return say("the evaluation process ended without a result (exit code {code})", code=facts.get("exit_code", ""))
    return _("malformed result")


def not_measured_in_quick_mode() -> str:
    return _("not measured in quick mode")


def reproduction_problem(code: str, why: str = "") -> str:
    """``grade --retrain``: why the grader's own training of the architecture gave no figure."""
    if code == "not_measured":
        return _("the submitted model was not measured, so there is nothing to reproduce")
    if code == "not_trained":
        return say("the reproduction could not be trained: {why}", why=why)
    return say("the reproduction could not be tested: {why}", why=why)


def reproduction_stopped(limit: str | None, last_line: str, returncode: int | None) -> str:
    """How the retraining process ended: a limit, its last line of output (Python's or Keras'
    own words), or its exit code."""
    if limit:
        return say("the {limit} limit was reached", limit=limit_name(limit))
    return last_line or say("exit code {code}", code=returncode)


# Why the grader refuses to load a saved model before loading it (grader.trusted.archive): the
# facts are numbers already formatted as shown ("1,130,400,650") and Keras class names.
MODEL_REFUSALS: dict[str, str] = {
    "not_saved": N_("the trained model was not saved"),
    "not_regular": N_("the saved model is not a regular file"),
    "archive_too_large": N_("the saved model is {size} MB, larger than the {limit} MB the grader tests"),
    "unpacks_too_large": N_("the saved model unpacks to {size} MB, more than the grader tests"),
    "no_config": N_("the saved model holds no config.json: it is not a Keras 3 .keras file"),
    "config_too_large": N_(
        "the saved model's architecture (config.json) is {size} MB of JSON, more than {limit} MB: "
        "a model for this exercise needs a few kilobytes (was one layer applied thousands of times?)"
    ),
    "not_zip": N_("the saved model is not a readable .keras file (a zip archive)"),
    "config_grew": N_("the saved model's config.json is larger than its archive says"),
    "config_not_json": N_("the saved model's config.json is not valid JSON"),
    "config_too_deep": N_("the saved model's config.json nests lists or dictionaries more than {depth} levels deep"),
    "config_not_model": N_("the saved model's config.json does not describe a model"),
    "not_a_model": N_("the saved file holds a {name}, not a Keras Sequential or functional model"),
    "nameless": N_("the saved file holds a nameless object, not a Keras Sequential or functional model"),
    "too_deep": N_("the saved model nests models too deeply to be tested"),
    "inputs_outputs": N_(
        "the model has {inputs} inputs and {outputs} outputs; this exercise's model takes one input "
        "(an image) and gives one output (one score per class)"
    ),
    "too_many_params": N_(
        "the model's architecture asks for {params} parameters, more than the {limit} the grader loads "
        "for this exercise (a layer with far too many units?)"
    ),
    "too_many_layers": N_("the model has more than {limit} layers, more than the grader tests"),
    "too_many_nodes": N_(
        "the model's graph applies its layers more than {limit} times (one layer used over and over?), "
        "more than the grader tests"
    ),
    "no_layers": N_("the saved model's config has no layers"),
    "no_layer_list": N_("the saved model's config has no list of layers"),
    "not_a_layer": N_("the saved model's config lists something that is not a layer"),
    "negative_units": N_("a {kind} layer of the model asks for {units} units"),
}


def model_refused(code: str, **facts: object) -> str:
    """Why the saved model is refused before loading (``grader.trusted.archive.ModelRefused``)."""
    return say(MODEL_REFUSALS[code], **facts)


# --- the datasets served inside the sandbox (grader.sandbox.offline_data) ---------------------------

DATASET_CODES = ("dataset_not_served", "no_tfds_copy")
"""Codes of ``DatasetNotServedError``, which the child records on the exception."""


def dataset_not_served(code: str, facts: Mapping[str, Any]) -> str:
    """Learner code asked for a dataset the grader does not serve while grading."""
    name = _fact(facts, "name")
    if code == "no_tfds_copy":
        return say(
            "The grader has no TFDS copy of {name} for this run; use keras.datasets.{name}.load_data() "
            "instead, or ask your instructor to run `python -m grader.datasets prepare`.",
            name=name,
        )
    offered = _list(facts, "offered")
    shown = (
        say("{first} and {second}", first=", ".join(map(str, offered[:-1])), second=offered[-1])
        if len(offered) > 1
        else ""
    )
    shown = shown or (str(offered[0]) if offered else _("no datasets"))
    what = say("TFDS dataset {name}", name=repr(name)) if facts.get("loader") == "tfds" else f"keras.datasets.{name}"
    return say(
        "The grader serves only {offered} offline; {what} is not available while grading, so load one of those instead.",
        offered=shown,
        what=what,
    )


# --- isolation (grader.sandbox.isolation) -----------------------------------------------------------


def bwrap_problem(code: str, **facts: object) -> str:
    """Why bubblewrap cannot isolate learner code here (a clause: "bubblewrap is not installed ...")."""
    if code == "not_linux":
        return say("bubblewrap needs Linux (this is {platform})", platform=facts.get("platform", ""))
    if code == "not_installed":
        return _("bubblewrap is not installed (Debian: apt-get install bubblewrap)")
    if code == "not_started":
        return say("bubblewrap could not be started ({reason})", reason=facts.get("reason", ""))
    reason = facts.get("reason") or say("exit code {code}", code=facts.get("exit_code", ""))
    return say("bubblewrap does not work here ({reason})", reason=reason)


def isolation_problem(code: str, **facts: object) -> str:
    """The sandbox cannot isolate learner code as asked: one sentence with the fix."""
    if code == "no_nobody":
        return _(
            "The grader runs as root and never runs learner code as root, but this system has no "
            "user 'nobody' to run it as: create one (useradd --system nobody) or run the grader as "
            "an ordinary user."
        )
    if code == "unknown":
        return say("Unknown sandbox '{requested}': use bwrap or process.", requested=facts.get("requested", ""))
    if code == "bwrap_asked":
        return say(
            "--sandbox bwrap was asked for, but {problem}. Use --sandbox process to grade without it.",
            problem=facts.get("problem", ""),
        )
    return say(
        "{command} needs bubblewrap to isolate learner code, but {problem}: install it "
        "(Debian: apt-get install bubblewrap), or pass --sandbox process to grade with process "
        "isolation only (learner code then runs as an unprivileged user, with the grader's limits "
        "but without its file-system and network isolation).",
        command=facts.get("command", ""),
        problem=facts.get("problem", ""),
    )


# --- reading submissions (grader.adapters) -----------------------------------------------------------


def file_size_text(count: int) -> str:
    """``"1.5 MB"``, ``"300 KB"``: a submission's size."""
    return f"{count / MiB:.3g} MB" if count >= MiB else f"{count / 1024:.3g} KB"


def submission_problem(code: str, **facts: object) -> str:
    """A submission the grader cannot take as it is: one sentence with the fix."""
    file = facts.get("file", "")
    if code == "not_regular":
        return say("{file} is not a regular file (a pipe, device or socket): hand in the file itself.", file=file)
    if code == "too_large":
        kind = facts.get("kind")
        size, cap = facts.get("size", ""), facts.get("cap", "")
        if kind == "python":
            return say(
                "{file} is {size}, more than the {cap} the grader reads for a Python file: a solution needs "
                "a few kilobytes of code; remove generated or pasted data (load the dataset with the "
                "chapter's loader instead).",
                file=file,
                size=size,
                cap=cap,
            )
        if kind == "notebook":
            return say(
                "{file} is {size}, more than the {cap} the grader reads for a notebook: clear the notebook's "
                "outputs (Jupyter: Edit > Clear All Outputs) and save it again.",
                file=file,
                size=size,
                cap=cap,
            )
        if kind == "saved_model":
            return say(
                "{file} is {size}, more than the {cap} the grader reads for a saved model: save a smaller model.",
                file=file,
                size=size,
                cap=cap,
            )
        return say(
            "{file} is {size}, more than the {cap} the grader reads for a submission: save a smaller model.",
            file=file,
            size=size,
            cap=cap,
        )
    if code == "too_much_code":
        return say(
            "{file} holds {size} of code, more than the {cap} the grader reads: a solution needs a few "
            "kilobytes of code; remove generated or pasted data (load the dataset with the chapter's "
            "loader instead).",
            file=file,
            size=facts.get("size", ""),
            cap=facts.get("cap", ""),
        )
    if code == "unknown_style":
        return say(
            "Unknown style '{style}': use one of {styles}.",
            style=facts.get("style", ""),
            styles=facts.get("styles", ""),
        )
    if code == "not_a_saved_model":
        return say(
            "{file} is not a saved Keras model (a .keras or .h5 file): save one with "
            'model.save("model.keras"), or grade the code without --style saved_model.',
            file=file,
        )
    if code == "model_not_code":
        return say(
            "{file} is a saved model, not code, so it cannot be graded as a {style}: "
            "grade it without --style (or with --style saved_model).",
            file=file,
            style=facts.get("style", ""),
        )
    if code == "not_a_notebook":
        return say("{file} is not a Jupyter notebook (.ipynb): grade it without --style notebook.", file=file)
    if code == "binary":
        return say(
            "{file} is a binary file, not Python code, a notebook or a saved model (.py, .ipynb, .keras or .h5).",
            file=file,
        )
    if code == "unreadable_notebook":
        return say(
            "{file} cannot be read as a Jupyter notebook ({reason}): open it in Jupyter and save it "
            "again, or export it as a .py script (File > Download as > Python).",
            file=file,
            reason=facts.get("reason", ""),
        )
    return str(code)


def graded_as_forced(style: str, detected: str) -> str:
    """The note for ``--style`` that differs from what the code looks like."""
    return say(
        "Graded as a {style} because --style {style} was given (it looks like a {detected}).",
        style=style,
        detected=detected,
    )


def notebook_line_note(cell: int, line: int, what: str) -> str:
    return say("Cell {cell}, line {line}: {what}", cell=cell, line=line, what=what)


def notebook_line_skipped(code: str, **facts: object) -> str:
    """What the grader did with one IPython line of a notebook cell (``text``: the line, quoted)."""
    text, magic = facts.get("text", ""), facts.get("magic", "")
    if code == "without_cell_magic":
        return say("ran the cell without its {text} cell magic", text=text)
    if code == "whole_cell":
        return say("skipped the whole cell: {text} holds no Python to run", text=text)
    if code == "shell":
        return say("skipped the shell command {text} (nothing is installed or run while grading)", text=text)
    if code == "without_magic":
        return say("ran {text} without its %{magic} magic", text=text, magic=magic)
    if code == "magic":
        return say("skipped the IPython magic {text}", text=text)
    if code == "captured":
        return say("skipped {text} (IPython shell or magic output cannot be captured while grading)", text=text)
    return say("skipped the IPython help request {text}", text=text)


# --- the submission file itself (grader.pipeline) ---------------------------------------------------


def submission_file_problem(code: str, **facts: object) -> str:
    path = facts.get("path", "")
    if code == "not_found":
        return say("Submission file not found: {path}", path=path)
    if code == "savedmodel_folder":
        return say(
            "{path} is a TensorFlow SavedModel folder, which Keras 3 cannot load as a model: "
            'save the model with model.save("model.keras") and grade that file.',
            path=path,
        )
    if code == "folder":
        return say("{path} is a folder; give the path of your solution file.", path=path)
    return say("Cannot read submission {path}: {reason}.", path=path, reason=facts.get("reason", ""))


def quiz_style_given(exercise: str) -> str:
    return say("{exercise} is a quiz, graded from its answers file: --style is for model exercises.", exercise=exercise)
