"""What turns a graded result into the grade a student gets: the exercise's scale, the late
policy and the instructor's overrides. Pure functions, applied on every run (so a re-run with a
changed override or due date needs no regrading).

    final points = override total, or
                   scaled(check points, with overridden checks) - late penalty   (never below 0)

**Scale.** A style whose checks cannot all apply (a saved model: no training to judge) is scored
out of fewer points; its total is scaled to the exercise's points (``grader.scoring.on_exercise_scale``)
and the grade says so. Skipped checks are never counted as failures.

**Late policy** (``--due DATETIME --late-penalty RULE``). RULE is comma-separated:

    10%/day                 10 % of the exercise's points per started day late
    5/hour                  5 points per started hour late
    10%/day,max=50%         ... at most 50 % of the points
    10%/day,grace=15m       ... counted from 15 minutes after the due time
    (units: hour, day, week; durations: 30m, 2h, 1d, 1w)

The submission time comes from the LMS layout or the file's modification time.

**Overrides** (``OUT/overrides.toml``, written by the instructor, never by the grader)::

    [students."alice"]
    comment = "Checked by hand: the model is fine, the file name was wrong."
    total = 95                  # the final score, out of the exercise's points
    waive_late = true           # no late penalty for this student
    [students."alice".checks]
    training = 10               # points for one check (0 .. its points)
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from grader.errors import UsageError
from grader.messages import interface as msg
from grader.result import GradeResult
from grader.spec import ExerciseSpec

OVERRIDES_FILE = "overrides.toml"
OVERRIDES_TEMPLATE = msg.OVERRIDES_TEMPLATE  # written in the instructor's language (msg.overrides_template)

_UNITS = {"hour": 3600.0, "day": 86400.0, "week": 604800.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|hour|hours|d|day|days|w|week|weeks)\s*$")
_DURATION_SECONDS = {"m": 60, "min": 60, "h": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400,
                     "days": 86400, "w": 604800, "week": 604800, "weeks": 604800}  # fmt: skip


@dataclass(frozen=True)
class LatePolicy:
    due: datetime
    per_period: float  # penalty per started period
    percent: bool  # per_period is a percentage of the exercise's points (else points)
    period_s: float
    cap: float | None = None  # at most this much (same unit as per_period)
    cap_percent: bool = True
    grace_s: float = 0.0
    rule: str = ""

    def penalty(self, late_s: float, max_points: float) -> float:
        """Points taken off for a submission ``late_s`` seconds after the due time."""
        late_s -= self.grace_s
        if late_s <= 0:
            return 0.0
        periods = math.ceil(late_s / self.period_s)
        points = periods * (self.per_period * max_points / 100 if self.percent else self.per_period)
        if self.cap is not None:
            points = min(points, self.cap * max_points / 100 if self.cap_percent else self.cap)
        return round(points, 2)


def parse_due(text: str) -> datetime:
    """An ISO date-time (``2026-03-01T23:59``, ``2026-03-01 23:59+01:00``); without a zone, the
    machine's local time zone."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--due {text!r} is not a date and time: write it like 2026-03-01T23:59 (optionally +01:00)."
        ) from None
    if value.tzinfo is None:
        value = value.astimezone()  # the local zone, as the instructor reads their clock
    return value


def _duration(text: str) -> float:
    match = _DURATION.match(text)
    if not match:
        raise UsageError(f"{text!r} is not a duration: write e.g. 30m, 2h, 1d or 1w.")
    return float(match[1]) * _DURATION_SECONDS[match[2]]


def parse_late_rule(rule: str, due: datetime) -> LatePolicy:
    parts = [p.strip() for p in rule.split(",") if p.strip()]
    head = re.match(r"^(\d+(?:\.\d+)?)\s*(%?)\s*/\s*(hour|day|week)$", parts[0] if parts else "")
    if head is None:
        raise UsageError(
            f"--late-penalty {rule!r}: start with a rate such as 10%/day or 5/hour "
            "(then optionally ,max=50% and ,grace=15m)."
        )
    cap: float | None = None
    cap_percent = True
    grace = 0.0
    for part in parts[1:]:
        key, _, value = part.partition("=")
        key = key.strip().lower()
        if key in ("max", "cap"):
            cap_percent = value.strip().endswith("%")
            try:
                cap = float(value.strip().rstrip("%"))
            except ValueError:
                raise UsageError(f"--late-penalty: {part!r} needs a number, e.g. max=50%.") from None
        elif key == "grace":
            grace = _duration(value)
        else:
            raise UsageError(f"--late-penalty: unknown part {part!r}; known: max=..., grace=...")
    return LatePolicy(due, float(head[1]), head[2] == "%", _UNITS[head[3]], cap, cap_percent, grace, rule)


# --- overrides ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    comment: str = ""
    total: float | None = None
    checks: dict[str, float] = field(default_factory=dict)
    waive_late: bool = False


def ensure_overrides_file(out_dir: Path) -> Path:
    """Write the commented template once, so instructors find where overrides go; an existing
    file is never touched."""
    path = Path(out_dir) / OVERRIDES_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x", encoding="utf-8") as handle:  # "x": never replaces a file
                handle.write(msg.overrides_template())
        except FileExistsError:
            pass
    return path


def load_overrides(path: Path, spec: ExerciseSpec) -> dict[str, Override]:
    if not Path(path).is_file():
        return {}
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(
            f"Cannot read {path}: {exc}. Fix the file (it is yours; the grader never rewrites it)."
        ) from None
    students = raw.get("students", {})
    if not isinstance(students, dict):
        raise UsageError(f'{path}: write one [students."ID"] table per student.')
    points = {check.id: check.points for check in spec.checks}
    overrides: dict[str, Override] = {}
    for student_id, body in students.items():
        where = f'{path}, [students."{student_id}"]'
        if not isinstance(body, dict):
            raise UsageError(f"{where} must be a table.")
        unknown = set(body) - {"comment", "total", "checks", "waive_late"}
        if unknown:
            raise UsageError(
                f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: comment, total, checks, waive_late."
            )
        total = body.get("total")
        if total is not None and (not isinstance(total, (int, float)) or not 0 <= total <= spec.max_score):
            raise UsageError(f"{where}: total must be a number from 0 to {spec.max_score:g}.")
        checks = body.get("checks", {})
        if not isinstance(checks, dict):
            raise UsageError(f"{where}: checks must be a table of check id = points.")
        for check_id, value in checks.items():
            if check_id not in points:
                raise UsageError(f"{where}: {spec.id} has no check '{check_id}'; its checks: {', '.join(points)}.")
            if not isinstance(value, (int, float)) or not 0 <= value <= points[check_id]:
                raise UsageError(f"{where}: checks.{check_id} must be from 0 to {points[check_id]:g} points.")
        overrides[str(student_id)] = Override(
            comment=str(body.get("comment", "")), total=float(total) if total is not None else None,
            checks={k: float(v) for k, v in checks.items()}, waive_late=bool(body.get("waive_late", False)),
        )  # fmt: skip
    return overrides


# --- the final grade ---------------------------------------------------------------------------


@dataclass
class FinalGrade:
    """The grade a student gets, out of the exercise's points; None where nobody could grade."""

    points: float | None
    max_points: float
    passed: bool | None
    raw_points: float | None = None  # as graded, out of raw_max
    raw_max: float | None = None
    scaled: bool = False
    submitted_at: str | None = None  # ISO, UTC
    late_s: float | None = None  # seconds after the due time (None: no due date or no time)
    late_penalty: float = 0.0
    override_comment: str = ""
    adjustments: list[str] = field(default_factory=list)  # sentences for the student's report

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def final_grade(
    result: GradeResult | None,
    spec: ExerciseSpec,
    *,
    graded: bool,
    submitted_at: datetime | None = None,
    late_by_lms: bool = False,
    policy: LatePolicy | None = None,
    override: Override | None = None,
) -> FinalGrade:
    from grader.scoring import on_exercise_scale, required_check_ids

    exercise_max = spec.max_score
    when = submitted_at.astimezone(UTC).isoformat(timespec="seconds") if submitted_at else None
    grade = FinalGrade(None, exercise_max, None, submitted_at=when)
    if policy is not None and submitted_at is not None:
        grade.late_s = max(0.0, (submitted_at - policy.due).total_seconds())
    if override is not None:
        grade.override_comment = override.comment
    if not graded or result is None:
        if override is not None and override.total is not None:
            grade.points, grade.passed = override.total, override.total >= spec.pass_mark
            grade.adjustments.append(_override_sentence(override, exercise_max))
        return grade

    checks = {c.id: c for c in result.checks}
    check_points = {c.id: c.score for c in result.checks}
    raw_max = result.max_score
    changed: list[str] = []
    if override is not None:
        for check_id, value in override.checks.items():
            if check_id in check_points and check_points[check_id] != value:
                changed.append(f"{checks[check_id].name}: {value:g} points instead of {check_points[check_id]:g}")
                # A check that did not count for this style counts when the instructor scores it.
                if checks[check_id].max_score == 0:
                    raw_max += next(c.points for c in spec.checks if c.id == check_id)
                check_points[check_id] = value
    raw = round(sum(check_points.values()), 2)
    grade.raw_points, grade.raw_max = raw, raw_max
    points, grade.scaled = on_exercise_scale(raw, raw_max, exercise_max)
    if grade.scaled:
        grade.adjustments.append(
            f"Scaled to the exercise's points: {raw:g} of the {raw_max:g} points that apply to a "
            f"{result.style.replace('_', ' ')} submission is {points:g} / {exercise_max:g}."
        )
    passed = result.passed
    if changed:
        required = required_check_ids(spec)
        full = {c.id: c.points for c in spec.checks}
        required_failed = any(
            cid in required and (checks[cid].status in ("failed", "error")) and check_points[cid] < full[cid]
            for cid in checks
        )
        passed = points >= spec.pass_mark and not required_failed
        grade.adjustments.append(
            "Instructor's adjustment: "
            + "; ".join(changed)
            + (f" ({override.comment})" if override and override.comment else "")
            + "."
        )
    if policy is not None and grade.late_s and not (override and override.waive_late):
        penalty = min(points, policy.penalty(grade.late_s, exercise_max))
        if penalty > 0:
            grade.late_penalty = penalty
            points = round(points - penalty, 2)
            passed = passed and points >= spec.pass_mark
            grade.adjustments.append(
                f"Late: handed in {_duration_text(grade.late_s)} after the due time; "
                f"{penalty:g} points off ({policy.rule})."
            )
    elif late_by_lms and policy is None:
        grade.adjustments.append(
            "The LMS marked this submission late; no late policy was given, so no points were taken off."
        )
    if override is not None and override.total is not None:
        points = override.total
        passed = points >= spec.pass_mark
        grade.adjustments.append(_override_sentence(override, exercise_max))
    elif override is not None and override.comment and not changed:
        grade.adjustments.append(f"Instructor's comment: {override.comment}")
    grade.points, grade.passed = points, passed
    return grade


def _override_sentence(override: Override, exercise_max: float) -> str:
    text = f"Instructor's adjustment: the score was set to {override.total:g} / {exercise_max:g}"
    return text + (f" ({override.comment})." if override.comment else ".")


def _duration_text(seconds: float) -> str:
    delta = timedelta(seconds=round(seconds))
    days, rest = delta.days, delta.seconds
    hours, minutes = rest // 3600, rest % 3600 // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{max(1, minutes)} min"
