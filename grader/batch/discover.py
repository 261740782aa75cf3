"""Find a class's submissions in a folder: one student per file, or one student per folder.

    submissions/
      alice.py            -> student "alice"
      bob.ipynb           -> student "bob"
      carol.keras         -> student "carol"
      dave/               -> student "dave": the file inside named like the exercise's stub
        fashion_mnist.py     (or the only file of a kind the grader reads)
        notes.txt

The student id is the file's name without its suffix, or the folder's name. A student whose
submission cannot be picked (an empty folder, two candidates, two entries with the same id)
is still listed, with the ``problem`` in words: the batch turns it into an error row rather
than silently dropping a student from the gradebook.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.spec import ExerciseSpec

# The submission styles the pipeline reads: modules and scripts, notebooks, saved models; a quiz
# is answered in a TOML file.
MODEL_SUFFIXES = (".py", ".ipynb", ".keras", ".h5")
QUIZ_SUFFIXES = (".toml",)

# Folders that archives, editors and Jupyter leave behind; never a student's submission.
IGNORED_DIRS = {"__pycache__", "__MACOSX", ".ipynb_checkpoints", ".git", ".venv", "node_modules"}


@dataclass(frozen=True)
class Student:
    id: str
    submission: Path | None  # the file to grade, or None when there is a problem
    problem: str = ""  # why no file could be picked, for the gradebook's error row


@dataclass(frozen=True)
class Discovery:
    students: list[Student]
    ignored: list[Path]  # top-level files that are no submission (README.md, .DS_Store, ...)


def accepted_suffixes(spec: ExerciseSpec) -> tuple[str, ...]:
    return QUIZ_SUFFIXES if spec.kind == "quiz" else MODEL_SUFFIXES


def discover_students(folder: Path, spec: ExerciseSpec) -> Discovery:
    """Every student in ``folder``, sorted by id."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder: give the folder that holds one file or folder per student.")
    suffixes = accepted_suffixes(spec)
    entries: dict[str, list[Path]] = {}
    ignored: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in IGNORED_DIRS:
            continue
        if entry.is_dir():
            entries.setdefault(entry.name, []).append(entry)
        elif entry.suffix.lower() in suffixes:
            entries.setdefault(entry.stem, []).append(entry)
        else:
            ignored.append(entry)

    students = []
    for student_id, paths in sorted(entries.items()):
        if len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            students.append(Student(student_id, None, f"{student_id} has {len(paths)} submissions ({names}); keep one."))
        elif paths[0].is_dir():
            path, problem = pick_submission_file(paths[0], spec)
            students.append(Student(student_id, path, problem))
        else:
            students.append(Student(student_id, paths[0]))
    return Discovery(students=students, ignored=ignored)


def pick_submission_file(folder: Path, spec: ExerciseSpec) -> tuple[Path | None, str]:
    """The submission inside one student's folder, or None and why.

    Preference: a file named exactly like the stub (``fashion_mnist.py``), then the stub's name
    with another accepted suffix (``fashion_mnist.ipynb``), then the single candidate. Shallower
    files win at each step, so a copy of the stub in a sub-folder does not make a folder ambiguous.
    """
    candidates = sorted(
        (p for p in folder.rglob("*") if p.is_file() and _is_candidate(p, folder, spec)),
        key=lambda p: (len(p.relative_to(folder).parts), str(p)),
    )
    stub = Path(spec.stub)
    for matches in (
        [p for p in candidates if p.name == stub.name],
        [p for p in candidates if p.stem == stub.stem],
        candidates,
    ):
        if not matches:
            continue
        shallowest = [p for p in matches if len(p.parts) == len(matches[0].parts)]
        if len(shallowest) == 1:
            return shallowest[0], ""
        names = ", ".join(str(p.relative_to(folder)) for p in shallowest)
        return None, f"{folder.name}/ holds several possible submissions ({names}); name the one to grade {spec.stub}."
    kinds = ", ".join(accepted_suffixes(spec))
    return None, f"{folder.name}/ holds no submission file ({kinds}); expected {spec.stub}."


def _is_candidate(path: Path, root: Path, spec: ExerciseSpec) -> bool:
    parts = path.relative_to(root).parts
    if any(part.startswith(".") or part in IGNORED_DIRS for part in parts):
        return False
    return path.suffix.lower() in accepted_suffixes(spec)
