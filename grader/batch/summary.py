"""The class summary page, ``summary.html``: how a class did, and what to teach again.

It shows the score histogram, the pass rate, each check's pass rate, the most common mistakes
with the students who made them, the slowest submissions, and a table of every student linking
to their report. ``summary_context`` computes every figure from the records (pure Python,
tested without a browser); ``templates/summary.html.j2`` only lays it out.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from grader.batch.cache import write_text_atomically
from grader.batch.gradebook import spec_check_ids
from grader.batch.records import StudentRecord
from grader.spec import ExerciseSpec, templates_root

HISTOGRAM_BINS = 10
TOP_MISTAKES = 10
SLOWEST = 5
# Numbers in a message ("accuracy 0.8123 is below 0.85") differ per student; with them masked,
# students who made the same mistake land in the same group.
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass
class HistogramBin:
    label: str  # "90–100 %"
    count: int
    share: float  # of the graded students, 0-1, for the bar's width


@dataclass
class CheckRate:
    id: str
    name: str
    max_score: float
    passed: int
    graded: int
    mean_score: float

    @property
    def rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0

    @property
    def scored(self) -> bool:
        # A quiz's free-text item carries no points and is always "skipped": a pass rate of
        # 0 % would misread it.
        return self.max_score > 0


@dataclass
class Mistake:
    check_id: str
    check_name: str
    message: str  # the first student's message, as an example
    hint: str
    students: list[str] = field(default_factory=list)


@dataclass
class SummaryContext:
    exercise: str
    title: str
    max_score: float
    pass_mark: float
    students: int
    graded: int
    passed: int
    errors: int
    timeouts: int
    mean_score: float | None
    median_score: float | None
    histogram: list[HistogramBin]
    checks: list[CheckRate]
    mistakes: list[Mistake]
    slowest: list[StudentRecord]
    records: list[StudentRecord]
    report_links: dict[str, str]  # student id -> relative link to their report

    @property
    def pass_rate(self) -> float:
        return self.passed / self.students if self.students else 0.0


def summary_context(records: list[StudentRecord], spec: ExerciseSpec, out_dir: Path | None = None) -> SummaryContext:
    records = sorted(records, key=lambda r: r.id)
    graded = [r for r in records if r.graded]
    scores = [r.result.score for r in graded]
    links: dict[str, str] = {}
    if out_dir is not None:
        for record in records:
            if (Path(out_dir) / "students" / record.id / "report.html").is_file():
                links[record.id] = f"students/{record.id}/report.html"
    return SummaryContext(
        exercise=spec.id,
        title=spec.title,
        max_score=spec.max_score,
        pass_mark=spec.pass_mark,
        students=len(records),
        graded=len(graded),
        passed=sum(r.status == "passed" for r in records),
        errors=sum(r.status == "error" for r in records),
        timeouts=sum(r.status == "timeout" for r in records),
        mean_score=statistics.fmean(scores) if scores else None,
        median_score=statistics.median(scores) if scores else None,
        histogram=score_histogram(scores, spec.max_score),
        checks=check_rates(graded, spec),
        mistakes=common_mistakes(graded),
        slowest=sorted(graded, key=lambda r: (-r.result.elapsed_s, r.id))[:SLOWEST],
        records=records,
        report_links=links,
    )


def score_histogram(scores: list[float], max_score: float, bins: int = HISTOGRAM_BINS) -> list[HistogramBin]:
    """Bins of equal width in percent of the maximum; a full score falls in the last bin."""
    counts = [0] * bins
    for score in scores:
        share = score / max_score if max_score else 0.0
        counts[min(bins - 1, max(0, int(share * bins)))] += 1
    width = 100 / bins
    return [
        HistogramBin(label=f"{i * width:g}–{(i + 1) * width:g} %", count=count, share=count / len(scores) if scores else 0.0)
        for i, count in enumerate(counts)
    ]


def check_rates(graded: list[StudentRecord], spec: ExerciseSpec) -> list[CheckRate]:
    order = {cid: i for i, cid in enumerate(spec_check_ids(spec))}
    found: dict[str, list[Any]] = {}
    for record in graded:
        for check in record.result.checks:
            found.setdefault(check.id, []).append(check)
    rates = []
    for cid, checks in found.items():
        rates.append(
            CheckRate(
                id=cid,
                name=checks[0].name,
                max_score=checks[0].max_score,
                passed=sum(c.status == "passed" for c in checks),
                graded=len(checks),
                mean_score=statistics.fmean(c.score for c in checks),
            )
        )
    return sorted(rates, key=lambda rate: order.get(rate.id, len(order)))


def common_mistakes(graded: list[StudentRecord], top: int = TOP_MISTAKES) -> list[Mistake]:
    """What students got wrong, grouped by check and message shape, most frequent first.

    Per student: every failed check, and the first check in error. Checks in error after it are
    almost always its consequences ("Not checked, because build_model() raised ..."); counting
    them would fill the table with one student's single mistake.
    """
    groups: dict[tuple[str, str], Mistake] = {}
    order: list[tuple[str, str]] = []
    for record in graded:
        seen_error = False
        for check in record.result.checks:
            if check.status == "error":
                if seen_error:
                    continue
                seen_error = True
            elif check.status != "failed":
                continue
            key = (check.id, _NUMBER.sub("#", check.message))
            if key not in groups:
                groups[key] = Mistake(check.id, check.name, check.message, check.hint)
                order.append(key)
            groups[key].students.append(record.id)
    # Most students first; among equals, the exercise's order (the earliest stage first).
    ranked = sorted(range(len(order)), key=lambda i: (-len(groups[order[i]].students), i))
    return [groups[order[i]] for i in ranked[:top]]


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_root())),
        autoescape=True,  # student ids, messages and paths are shown as text, never as markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["points"] = lambda value: f"{value:g}" if value is not None else "–"
    env.filters["percent"] = lambda value: f"{100 * value:.0f} %"
    env.filters["seconds"] = lambda value: f"{value:.1f} s" if value is not None else "–"
    return env


def render_summary(context: SummaryContext) -> str:
    return _environment().get_template("summary.html.j2").render(s=context)


def write_summary(out_dir: Path, records: list[StudentRecord], spec: ExerciseSpec) -> Path:
    path = Path(out_dir) / "summary.html"
    write_text_atomically(path, render_summary(summary_context(records, spec, out_dir)))
    return path
