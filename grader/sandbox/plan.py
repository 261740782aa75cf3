"""The child's plan: what the grader tells the sandboxed child to do, as one typed record.

The parent (``grader.sandbox.runner``) writes it as ``plan.json`` in the scratch folder and the
child (``grader.sandbox.child``) reads it back. It goes through the same JSON round trip as the
evidence that comes back (``grader.evidence.to_json`` / ``from_json``): one mechanism for both
directions of the boundary.

Everything here is an instruction or a fact (paths, names, numbers); the only text is the
adapter's notes, which the grader wrote and the child hands back unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from grader.evidence import from_json, to_json


@dataclass
class CodeCell:
    """One code cell of a notebook, numbered as the learner sees it (``In [5]``: 5)."""

    number: int
    source: str


@dataclass
class StyleInstructions:
    """How to run the submission's style (``grader.adapters.SubmissionPlan.child_instructions``)."""

    graded_as: str = "module"  # module, certificate, script or saved_model
    model_variable: str = "model"  # scripts and notebooks: the variable that holds the model
    function: str | None = None  # certificate style: the function that loads, builds and trains
    cells: list[CodeCell] = field(default_factory=list)  # a notebook's code cells, in order
    notes: list[str] = field(default_factory=list)  # the adapter's notes for the result


@dataclass
class TrialFit:
    """Quick mode (``grade --quick``): every ``model.fit`` trains on the first ``samples`` samples
    for ``epochs`` epochs."""

    samples: int = 512
    epochs: int = 1


@dataclass
class ChildPlan:
    """Everything the child needs, and nothing it must not see (no test split, no verdicts)."""

    submission: str  # the copy in the scratch folder
    display_name: str  # the file name as the learner knows it
    functions: dict[str, list[str]]  # the exercise's functions: name -> parameter names
    seed: int
    evidence_path: str  # where the child writes its record (SandboxEvidence), after every step
    model_path: str  # where it saves the graded model (.keras)
    dataset: str | None = None
    served: dict[str, str] = field(default_factory=dict)  # dataset -> folder with the training split only
    tfds_dir: str | None = None
    train_data: str = "grader"  # "grader": the grader hands over the training split; "load_data": the learner's
    style: str = "module"
    adapter: StyleInstructions = field(default_factory=StyleInstructions)
    threads: int | None = None
    quick: TrialFit | None = None
    progress_fd: int | None = None  # the pipe the child streams progress events to

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(to_json(self)), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> ChildPlan:
        plan: ChildPlan = from_json(cls, json.loads(path.read_text(encoding="utf-8")))
        return plan
