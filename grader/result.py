"""The finished result of grading one submission: what every renderer formats.

``GradeResult.to_json()`` is the stable, documented JSON shape (``grade ... --json FILE``):

    exercise, submission, style, passed, score, max_score, pass_mark, seed, grader_version,
    elapsed_s, isolation, mode, metrics {test_accuracy, train_seconds, ...},
    checks [{id, name, status, score, max_score, message, hint}], details {...}

``mode`` is "full", or "quick" for a ``grade --quick`` preview: ``passed`` is then null (a
preview has no verdict) and the checks that need the full training are "skipped".

``details`` carries the evidence the reports draw (model layers, history, per-class figures,
confusion matrix, captured output); its keys may grow, the top-level keys above do not change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.atomic import write_json_atomically

Status = Literal["passed", "failed", "error", "skipped"]
STATUSES: tuple[Status, ...] = ("passed", "failed", "error", "skipped")


@dataclass
class CheckResult:
    """One check as a learner reads it."""

    id: str
    name: str
    status: Status
    score: float
    max_score: float
    message: str
    hint: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GradeResult:
    exercise: str
    submission: str
    passed: bool | None  # None: a quick-mode preview, which has no verdict (grader.quick)
    score: float
    max_score: float
    pass_mark: float
    seed: int | None
    grader_version: str
    elapsed_s: float
    checks: list[CheckResult]
    metrics: dict[str, Any] = field(default_factory=dict)
    style: str = "module"
    isolation: str = "process"
    details: dict[str, Any] = field(default_factory=dict)
    # "full", or "quick": a preview from a trial fit, test accuracy not measured (grader.quick).
    mode: str = "full"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["checks"] = [check.to_json() for check in self.checks]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GradeResult:
        """Read a result back; keys a newer grader added are ignored, so old code reads new JSON."""
        known = {f.name for f in dataclasses.fields(cls)}
        check_keys = {f.name for f in dataclasses.fields(CheckResult)}
        fields = {key: value for key, value in data.items() if key in known}
        fields["checks"] = [
            CheckResult(**{key: value for key, value in check.items() if key in check_keys}) for check in data["checks"]
        ]
        return cls(**fields)

    def write_json(self, path: Path) -> None:
        """Write atomically, so a reader never sees half a result."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomically(path, self.to_json())
