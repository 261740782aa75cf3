"""Adapters: every way a learner writes a solution, turned into one plan for the sandbox.

A learner hands in one file. ``plan_submission`` tells from the file which *style* it is and
returns a ``SubmissionPlan``: what the sandboxed child must run to end up with a trained model
and the facts about it. The judges and the trusted evaluation are the same for every style.

Styles, and how each is recognised (``--style`` forces one):

=============  ================================================================================
style          recognised by
=============  ================================================================================
saved_model    a ``.keras``, ``.h5`` or ``.hdf5`` file (or any file that starts like a zip
               archive or an HDF5 file): the architecture, compile settings and weights of a
               trained model. Nothing of the learner's runs except Keras loading it (in the
               sandbox: a legacy ``.h5`` can carry code).
notebook       a ``.ipynb`` file (read with nbformat). Its code cells run in order, with IPython
               magics and shell lines skipped; the code is then graded like one of the three
               Python styles below (``graded_as``).
module         Python that defines every function the exercise names (``build_model()``,
               ``train()``, ...): the grader calls them.
certificate    otherwise, Python that defines ``solution_model()``: it loads the data itself,
               builds, compiles, trains and returns the model.
script         otherwise, Python with top-level code that runs (calls, loops): it runs top to
               bottom and the model is taken from its variables.
module         otherwise (definitions only, some of the exercise's functions missing): graded
               as a module, so the missing functions are named.
=============  ================================================================================

Per-style grading rules (what full marks mean, which variable holds a script's model, what a
check is called for that style) come from the exercise's ``[styles.<graded_as>]`` tables, over
the defaults below; ``spec_for_style`` applies them. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import os
import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import GraderError, SpecError, UsageError
from grader.messages import sandbox as say_sandbox
from grader.messages.interface import style_check_name
from grader.sandbox.plan import CodeCell, StyleInstructions
from grader.spec import ExerciseSpec
from grader.spec_models import StyleTable

STYLES: tuple[str, ...] = ("module", "certificate", "script", "notebook", "saved_model")
# How a submission is graded; a notebook is graded as one of the first three.
GRADED_AS: tuple[str, ...] = ("module", "certificate", "script", "saved_model")

SAVED_MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
NOTEBOOK_SUFFIXES = (".ipynb",)
PYTHON_SUFFIXES = (".py",)

_ZIP_MAGIC = b"PK\x03\x04"  # a .keras file is a zip archive
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"  # a legacy .h5 model


class SubmissionFormatError(GraderError):
    """The submission cannot be read as the style it claims (or was forced) to be."""


# --- size caps: checked before a byte is parsed ---------------------------------------------------
#
# The grader parses code (``ast``) and notebooks (JSON) in its own process before any limit
# applies, and parsing costs far more memory than the text (measured: a 5 MB file of ``a=1``
# lines took 3 GB and over a minute in ``ast.parse``). A learner's solution is a few kilobytes;
# the caps leave room for long, commented notebooks and the largest model the sandbox can save.
MAX_CODE_BYTES = 256 * 1024  # a .py file, or a notebook's code cells together (about 6,000 lines)
MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024  # a .ipynb, outputs and embedded plots included
MAX_MODEL_BYTES = 512 * 1024 * 1024  # a .keras/.h5 file: the sandbox's largest file


class SubmissionTooLargeError(SubmissionFormatError):
    """The submission is larger than the grader reads."""


_size_text = say_sandbox.file_size_text


def check_submission_size(path: Path) -> int:
    """Refuse a submission that is not a regular file or is over its kind's cap, before it is
    opened or parsed; return its size. A FIFO or device in place of a file would block the
    grader on open, so the type is checked on ``stat`` first."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise SubmissionFormatError(say_sandbox.submission_problem("not_regular", file=path.name))
    suffix = path.suffix.lower()
    if suffix in SAVED_MODEL_SUFFIXES:
        cap, kind = MAX_MODEL_BYTES, "saved_model"
    elif suffix in NOTEBOOK_SUFFIXES:
        cap, kind = MAX_NOTEBOOK_BYTES, "notebook"
    elif suffix in PYTHON_SUFFIXES:
        cap, kind = MAX_CODE_BYTES, "python"
    else:  # recognised by content later: the most generous cap of the kinds it could be
        cap, kind = MAX_MODEL_BYTES, "submission"
    if info.st_size > cap:
        raise SubmissionTooLargeError(
            say_sandbox.submission_problem(
                "too_large", file=path.name, kind=kind, size=_size_text(info.st_size), cap=_size_text(cap)
            )
        )
    return info.st_size


def check_code_size(sources: list[str], name: str) -> None:
    """A notebook's code cells (or a file recognised as Python) together within
    ``MAX_CODE_BYTES``, before ``ast`` parses them."""
    total = sum(len(source.encode("utf-8", errors="replace")) for source in sources)
    if total > MAX_CODE_BYTES:
        raise SubmissionTooLargeError(
            say_sandbox.submission_problem(
                "too_much_code", file=name, size=_size_text(total), cap=_size_text(MAX_CODE_BYTES)
            )
        )


# --- per-style rules -------------------------------------------------------------------------

# Check names that fit a style better than the exercise's module-style wording, by judge name.
# An exercise overrides them by check id in [styles.<graded_as>.names].
DEFAULT_CHECK_NAMES: dict[str, dict[str, str]] = {
    "certificate": {
        "functions_present": "solution_model() defined and returns the trained model",
        "model_built": "solution_model() builds a Keras model",
        "compiled": "The model is compiled",
        "training": "model.fit trains the model",
        "load_data": "The model was trained on images scaled to [0, 1]",
    },
    "script": {
        "functions_present": "The code runs to the end and leaves its model",
        "model_built": "The code builds a Keras model",
        "compiled": "The model is compiled",
        "training": "model.fit trains the model",
        "load_data": "The model was trained on images scaled to [0, 1]",
    },
    "saved_model": {
        "functions_present": "Functions (a saved model has none)",
        "model_built": "The file holds a Keras model",
        "compiled": "The model was saved compiled",
        "training": "Training (a saved model keeps no record of it)",
        "load_data": "The model was trained on images scaled to [0, 1]",
    },
}

# Checks that cannot apply to a style, by judge name, when the exercise does not say: a saved
# model runs no code, so it has no functions and no training run to judge.
DEFAULT_NOT_COUNTED: dict[str, tuple[str, ...]] = {"saved_model": ("functions_present", "training")}


@dataclass(frozen=True)
class StyleRules:
    """How one style is graded, from ``[styles.<graded_as>]`` over the defaults."""

    graded_as: str
    model_variable: str = "model"  # where a script or notebook leaves the model to grade
    function: str = "solution_model"  # what a certificate-style module defines
    not_counted: tuple[str, ...] = ()  # check ids that are skipped and leave the total
    pass_mark: float | None = None  # None: the exercise's, scaled to what is left
    names: dict[str, str] = field(default_factory=dict)  # check id -> name for this style


def style_rules(spec: ExerciseSpec, graded_as: str) -> StyleRules:
    """The rules for ``graded_as`` in ``spec`` (``[styles.<graded_as>]``, typed and checked when
    the spec was loaded) over the defaults."""
    table = spec.styles.get(graded_as) or StyleTable()
    check_ids = {check.id for check in spec.checks}
    by_judge = {check.judge: check.id for check in spec.checks}
    default_names = {
        by_judge[judge]: name for judge, name in DEFAULT_CHECK_NAMES.get(graded_as, {}).items() if judge in by_judge
    }
    names = {**default_names, **table.names}
    if table.not_counted is not None:
        not_counted = tuple(table.not_counted)
    else:
        not_counted = tuple(by_judge[j] for j in DEFAULT_NOT_COUNTED.get(graded_as, ()) if j in by_judge)
    for check_id in (*not_counted, *names):
        if check_id not in check_ids:
            raise SpecError(f"Exercise {spec.id}: [styles.{graded_as}] names a check '{check_id}' it does not have.")
    return StyleRules(
        graded_as=graded_as,
        model_variable=table.model_variable or "model",
        function=table.function or "solution_model",
        not_counted=not_counted,
        pass_mark=table.pass_mark,
        names=names,
    )


def spec_for_style(spec: ExerciseSpec, graded_as: str) -> ExerciseSpec:
    """The exercise as this style is scored: checks renamed for the style, checks that cannot
    apply worth 0 points (their judges report them ``skipped``) and the style's pass mark.

    Without an explicit ``pass_mark`` the exercise's is scaled to the points that are left, so
    the same share of the points passes in every style.
    """
    if spec.kind != "model" or graded_as == "module":
        return spec
    rules = style_rules(spec, graded_as)
    checks = tuple(
        dataclasses.replace(
            check,
            name=style_check_name(rules.names[check.id]) if check.id in rules.names else check.name,
            points=0.0 if check.id in rules.not_counted else check.points,
        )
        for check in spec.checks
    )
    remaining = sum(check.points for check in checks)
    pass_mark = rules.pass_mark
    if pass_mark is None:
        scaled = spec.max_score and remaining != spec.max_score
        pass_mark = float(math.ceil(spec.pass_mark * remaining / spec.max_score)) if scaled else spec.pass_mark
    return dataclasses.replace(spec, checks=checks, pass_mark=pass_mark)


# --- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotebookCell:
    number: int  # 1-based among the code cells: the In [n] Jupyter shows after "Run All"
    source: str  # Python: skipped magic and shell lines became `pass`, so line numbers hold


@dataclass(frozen=True)
class SubmissionPlan:
    """What the sandbox does with one submission."""

    style: str  # what the learner handed in (shown in every result)
    graded_as: str  # module, certificate, script or saved_model
    rules: StyleRules
    cells: tuple[NotebookCell, ...] = ()  # a notebook's code, in order
    notes: tuple[str, ...] = ()  # for the learner: skipped notebook lines, a forced style
    loads_tfds: bool = False  # the code uses tensorflow_datasets: serve a TFDS copy

    def child_instructions(self) -> StyleInstructions:
        """How the sandbox child runs this style (``SandboxPlan.adapter``)."""
        return StyleInstructions(
            graded_as=self.graded_as,
            model_variable=self.rules.model_variable,
            function=self.rules.function,
            cells=[CodeCell(number=c.number, source=c.source) for c in self.cells],
            notes=list(self.notes),
        )


def plan_submission(spec: ExerciseSpec, path: Path, forced: str | None = None) -> SubmissionPlan:
    """Recognise the style of the submission at ``path`` (or check a forced one) and plan it."""
    if forced is not None and forced not in STYLES:
        raise UsageError(say_sandbox.submission_problem("unknown_style", style=forced, styles=", ".join(STYLES)))
    kind = file_kind(path)
    notes: list[str] = []
    if forced == "saved_model" and kind != "model_file":
        raise SubmissionFormatError(say_sandbox.submission_problem("not_a_saved_model", file=path.name))
    if kind == "model_file":
        if forced not in (None, "saved_model"):
            raise SubmissionFormatError(say_sandbox.submission_problem("model_not_code", file=path.name, style=forced))
        return SubmissionPlan("saved_model", "saved_model", style_rules(spec, "saved_model"))

    cells: tuple[NotebookCell, ...] = ()
    if kind == "notebook":
        cells, skipped = read_notebook(path)
        notes.extend(skipped)
        sources = [cell.source for cell in cells]
    else:
        if forced == "notebook":
            raise SubmissionFormatError(say_sandbox.submission_problem("not_a_notebook", file=path.name))
        sources = [read_python(path)]
    check_code_size(sources, path.name)
    detected = detect_code_style(sources, [f.name for f in spec.functions])
    if forced in ("module", "certificate", "script"):
        graded_as = forced
        if forced != detected:
            notes.append(say_sandbox.graded_as_forced(forced, detected))
    else:
        graded_as = detected
    style = "notebook" if kind == "notebook" and forced in (None, "notebook") else graded_as
    return SubmissionPlan(
        style=style,
        graded_as=graded_as,
        rules=style_rules(spec, graded_as),
        cells=cells,
        notes=tuple(notes),
        loads_tfds=any(_USES_TFDS.search(source) for source in sources),
    )


_USES_TFDS = re.compile(r"\btensorflow_datasets\b|\btfds\.")


def file_kind(path: Path) -> str:
    """``"model_file"``, ``"notebook"`` or ``"python"``: by suffix, else by the first bytes."""
    suffix = path.suffix.lower()
    if suffix in SAVED_MODEL_SUFFIXES:
        return "model_file"
    if suffix in NOTEBOOK_SUFFIXES:
        return "notebook"
    try:
        with path.open("rb") as stream:
            head = stream.read(64 * 1024)
    except OSError:
        head = b""
    if head.startswith((_ZIP_MAGIC, _HDF5_MAGIC)):
        return "model_file"
    # A notebook saved without its suffix is JSON with a "cells" list near the top.
    if suffix not in PYTHON_SUFFIXES and head.lstrip().startswith(b"{") and b'"cells"' in head:
        return "notebook"
    return "python"


def read_python(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise SubmissionFormatError(say_sandbox.submission_problem("binary", file=path.name))
    return data.decode("utf-8", errors="replace")


# --- recognising the code styles -------------------------------------------------------------


def detect_code_style(sources: list[str], exercise_functions: list[str]) -> str:
    """``"module"``, ``"certificate"`` or ``"script"`` for Python code (a file, or a notebook's
    cells in order), by the rules in this module's docstring."""
    defined, runs_code = _top_level_facts(sources)
    if exercise_functions and all(name in defined for name in exercise_functions):
        return "module"
    if "solution_model" in defined:
        return "certificate"
    if runs_code:
        return "script"
    return "module"


def _top_level_facts(sources: list[str]) -> tuple[set[str], bool]:
    """(names of top-level functions, whether any top-level statement runs code)."""
    defined: set[str] = set()
    runs_code = False
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            # The sandbox reports the syntax error with its line; recognise the style from the
            # text so the report speaks about the right functions.
            defined |= set(re.findall(r"^def\s+(\w+)\s*\(", source, re.MULTILINE))
            runs_code |= bool(re.search(r"^[A-Za-z_][\w.]*\s*(?:\(|=[^=]*\()", source, re.MULTILINE))
            continue
        for statement in tree.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defined.add(statement.name)
            elif _runs_code(statement):
                runs_code = True
    return defined, runs_code


def _runs_code(statement: ast.stmt) -> bool:
    """Whether a top-level statement does work when the file runs, beyond defining things:
    a call anywhere in it, or a loop. Imports, classes, docstrings and constants do not."""
    if isinstance(statement, (ast.Import, ast.ImportFrom, ast.ClassDef)):
        return False
    if isinstance(statement, (ast.For, ast.AsyncFor, ast.While)):
        return True
    return any(isinstance(node, ast.Call) for node in ast.walk(statement))


# --- notebooks -------------------------------------------------------------------------------

# Cell magics whose body is Python: the body runs (once, untimed); any other cell magic
# (%%bash, %%writefile, %%html, ...) holds no Python and its cell is skipped.
PYTHON_CELL_MAGICS = ("time", "timeit", "capture", "prun")
# Line magics that run the statement after them: the statement runs, untimed.
PYTHON_LINE_MAGICS = ("time", "timeit", "prun")

_HELP_LINE = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")


def read_notebook(path: Path) -> tuple[tuple[NotebookCell, ...], list[str]]:
    """The code cells of a notebook as Python, and one note per skipped line or cell."""
    import nbformat

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat warns about missing cell ids and the like
            notebook = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any reason it cannot be read is the file's
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise SubmissionFormatError(
            say_sandbox.submission_problem("unreadable_notebook", file=path.name, reason=reason)
        ) from None
    # Before any cell is turned into Python (line by line): the code's size is bounded first.
    check_code_size(
        [str(cell.get("source", "")) for cell in notebook.get("cells", []) if cell.get("cell_type") == "code"],
        path.name,
    )
    cells: list[NotebookCell] = []
    notes: list[str] = []
    number = 0
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        number += 1
        source, skipped = python_of_cell(_encodable(str(cell.get("source", ""))))
        cells.append(NotebookCell(number=number, source=source))
        notes.extend(say_sandbox.notebook_line_note(number, line, what) for line, what in skipped)
    return tuple(cells), notes


def _encodable(text: str) -> str:
    """``text`` with lone surrogates written as escapes (``\\ud800``). JSON may carry them, but no
    UTF-8 file, parser or terminal accepts them; inside a string literal the escape means the same
    character, anywhere else it is a syntax error reported in the learner's cell."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def python_of_cell(source: str) -> tuple[str, list[tuple[int, str]]]:
    """A code cell as Python, and ``(line, what was skipped)`` for each IPython line.

    Magic and shell lines become ``pass`` at their own indentation, so every other line keeps
    its number (a traceback's "cell 5, line 3" is the line the learner sees). A cell that is
    already valid Python is left alone, so text inside strings is never touched.
    """
    try:
        ast.parse(source)
        return source, []
    except SyntaxError:
        pass
    lines = source.split("\n")
    skipped: list[tuple[int, str]] = []
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].strip()
        name = magic[2:].split()[0] if len(magic) > 2 else ""
        if name in PYTHON_CELL_MAGICS:
            lines[first] = ""
            skipped.append((first + 1, say_sandbox.notebook_line_skipped("without_cell_magic", text=_quote(magic))))
        else:
            skipped.append((first + 1, say_sandbox.notebook_line_skipped("whole_cell", text=_quote(magic))))
            return "\n".join("" for _ in lines), skipped
    continued = False
    for index, line in enumerate(lines):
        if continued:  # the rest of a magic or shell line continued with a backslash
            continued = line.rstrip().endswith("\\")
            lines[index] = ""
            continue
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        replacement, what = _python_of_line(stripped)
        if what is None:
            continue
        lines[index] = indent + replacement
        skipped.append((index + 1, what))
        continued = line.rstrip().endswith("\\")
    return "\n".join(lines), skipped


def _python_of_line(stripped: str) -> tuple[str, str | None]:
    """(Python for one line, what was done) for a magic, shell or help line; (line, None) else."""
    if stripped.startswith("!"):
        return "pass", say_sandbox.notebook_line_skipped("shell", text=_quote(stripped))
    if stripped.startswith("%") and not stripped.startswith("%%"):
        name, _, rest = stripped[1:].partition(" ")
        if name in PYTHON_LINE_MAGICS and rest.strip():
            return rest.strip(), say_sandbox.notebook_line_skipped(
                "without_magic", text=_quote(rest.strip()), magic=name
            )
        return "pass", say_sandbox.notebook_line_skipped("magic", text=_quote(stripped))
    assignment = re.match(r"^([\w\s,.\[\]()]+?)\s*=\s*([!%].*)$", stripped)
    if assignment:
        target, value = assignment.groups()
        name, _, rest = value[1:].partition(" ")
        if value.startswith("%") and name in PYTHON_LINE_MAGICS and rest.strip():
            return f"{target} = {rest.strip()}", say_sandbox.notebook_line_skipped(
                "without_magic", text=_quote(stripped), magic=name
            )
        return "pass", say_sandbox.notebook_line_skipped("captured", text=_quote(stripped))
    if _HELP_LINE.match(stripped):
        return "pass", say_sandbox.notebook_line_skipped("help", text=_quote(stripped))
    return stripped, None


def _quote(text: str, limit: int = 80) -> str:
    text = text.strip()
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"`{text}`"
