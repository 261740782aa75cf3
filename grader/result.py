"""The finished result of grading one submission: what every renderer formats.

``GradeResult.to_json()`` is the stable, documented JSON shape (``grade ... --json FILE``):

    exercise, submission, style, passed, score, max_score, pass_mark, seed, grader_version,
    elapsed_s, isolation, metrics {test_accuracy, train_seconds, ...},
    checks [{id, name, status, score, max_score, message, hint}], details {...}

``details`` carries the evidence the reports draw (model layers, history, per-class figures,
confusion matrix, captured output); its keys may grow, the top-level keys above do not change.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

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
    passed: bool
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

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["checks"] = [check.to_json() for check in self.checks]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GradeResult:
        fields = dict(data)
        fields["checks"] = [CheckResult(**check) for check in data["checks"]]
        return cls(**fields)

    def write_json(self, path: Path) -> None:
        """Write atomically, so a reader never sees half a result."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2, default=str) + "\n", encoding="utf-8")
        tmp.replace(path)
