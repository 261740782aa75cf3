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
from grader.messages import interface as msg
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
    graded: int  # students whose submission this check judged (skipped ones not counted)
    mean_score: float
    skipped: int = 0  # students for whom it did not apply

    @property
    def rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0

    @property
    def scored(self) -> bool:
        # A check of 0 points (the integrity check) is still judged automatically, pass or fail;
        # only a check that never judged anyone (a quiz's free-text item) has no rate to show.
        return self.graded > 0


@dataclass
class Mistake:
    check_id: str
    check_name: str
    message: str  # the first student's message, as an example
    hint: str
    students: list[str] = field(default_factory=list)


@dataclass
class StudentRow:
    """One row of the "Every student" table."""

    id: str
    status: str
    score: float | None  # the final grade, out of the exercise's points
    accuracy: float | None
    integrity: str  # the integrity check's verdict, judged automatically
    seconds: float | None
    note: str
    flags: list[str]


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
    missing: int
    scaled: int  # students whose style is scored out of fewer points, scaled to max_score
    mean_score: float | None
    median_score: float | None
    histogram: list[HistogramBin]
    checks: list[CheckRate]
    mistakes: list[Mistake]
    slowest: list[StudentRecord]
    records: list[StudentRecord]
    report_links: dict[str, str]  # student id -> relative link to their report
    rows: list[StudentRow] = field(default_factory=list)
    similar: list[Any] = field(default_factory=list)  # grader.batch.similarity.SimilarPair, instructor only
    unmatched: list[str] = field(default_factory=list)
    integrity_failed: list[str] = field(default_factory=list)
    similarity_rule: str = ""

    @property
    def pass_rate(self) -> float:
        return self.passed / self.students if self.students else 0.0


def summary_context(
    records: list[StudentRecord],
    spec: ExerciseSpec,
    out_dir: Path | None = None,
    *,
    similar: list[Any] | None = None,
    unmatched: list[str] | None = None,
) -> SummaryContext:
    from grader.batch.gradebook import note
    from grader.batch.similarity import MIN_SHINGLES, NEAR_IDENTICAL, SHINGLE

    records = sorted(records, key=lambda r: r.id)
    graded = [r for r in records if r.graded]
    # Final grades, out of the exercise's points for every style (a saved model's 85/85 is 100).
    scores = [r.points for r in graded if r.points is not None]
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
        missing=sum(r.status == "missing" for r in records),
        scaled=sum(bool(r.final and r.final.scaled) for r in graded),
        mean_score=statistics.fmean(scores) if scores else None,
        median_score=statistics.median(scores) if scores else None,
        histogram=score_histogram(scores, spec.max_score),
        checks=check_rates(graded, spec),
        mistakes=common_mistakes(graded),
        slowest=sorted(graded, key=lambda r: (-r.result.elapsed_s, r.id))[:SLOWEST],
        records=records,
        report_links=links,
        rows=[
            StudentRow(
                id=r.id,
                status=r.status,
                score=r.points,
                accuracy=(r.result.metrics or {}).get("test_accuracy") if r.graded else None,
                integrity=r.integrity if r.graded else "",
                seconds=r.result.elapsed_s if r.graded else None,
                note=note(r),
                flags=list(r.flags),
            )
            for r in records
        ],
        similar=list(similar or []),
        unmatched=list(unmatched or []),
        integrity_failed=[r.id for r in graded if r.integrity == "failed"],
        similarity_rule=msg.similarity_rule(SHINGLE, f"{NEAR_IDENTICAL:.2f}", MIN_SHINGLES),
    )


def score_histogram(scores: list[float], max_score: float, bins: int = HISTOGRAM_BINS) -> list[HistogramBin]:
    """Bins of equal width in percent of the maximum; a full score falls in the last bin."""
    counts = [0] * bins
    for score in scores:
        share = score / max_score if max_score else 0.0
        counts[min(bins - 1, max(0, int(share * bins)))] += 1
    width = 100 / bins
    return [
        HistogramBin(
            label=f"{i * width:g}–{(i + 1) * width:g} %", count=count, share=count / len(scores) if scores else 0.0
        )
        for i, count in enumerate(counts)
    ]


def check_rates(graded: list[StudentRecord], spec: ExerciseSpec) -> list[CheckRate]:
    order = {cid: i for i, cid in enumerate(spec_check_ids(spec))}
    found: dict[str, list[Any]] = {}
    for record in graded:
        for check in record.result.checks:
            found.setdefault(check.id, []).append(check)
    rates = []
    points = {check.id: check.points for check in spec.checks}
    for cid, checks in found.items():
        # A skipped check is not a failure: it is left out of the check's counts (a saved model
        # has no training to judge; "training 6/9" for a class with three saved models was wrong).
        judged = [c for c in checks if c.status != "skipped"]
        rates.append(
            CheckRate(
                id=cid,
                name=checks[0].name,
                max_score=points.get(cid, checks[0].max_score),
                passed=sum(c.status == "passed" for c in judged),
                graded=len(judged),
                mean_score=statistics.fmean(c.score for c in judged) if judged else 0.0,
                skipped=len(checks) - len(judged),
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
        extensions=["jinja2.ext.i18n"],
    )
    from grader.render.report import install_html_gettext

    install_html_gettext(env)  # the template's _("...") sentences: the interface catalogue
    env.filters["points"] = lambda value: f"{value:g}" if value is not None else "–"
    env.filters["percent"] = lambda value: f"{100 * value:.0f} %"
    env.filters["seconds"] = lambda value: f"{value:.1f} s" if value is not None else "–"
    return env


def render_summary(context: SummaryContext) -> str:
    return _environment().get_template("summary.html.j2").render(s=context)


def write_summary(
    out_dir: Path,
    records: list[StudentRecord],
    spec: ExerciseSpec,
    *,
    similar: list[Any] | None = None,
    unmatched: list[str] | None = None,
) -> Path:
    path = Path(out_dir) / "summary.html"
    context = summary_context(records, spec, out_dir, similar=similar, unmatched=unmatched)
    write_text_atomically(path, render_summary(context))
    return path
