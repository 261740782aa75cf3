"""What a judge returns, and the signature every judge has.

A judge is a pure function ``judge(evidence, params, spec) -> Verdict``: it reads the facts a
grading run collected and decides one check. It imports no TensorFlow and has no side effects,
so it can be unit-tested with evidence written by hand. ``grader.scoring`` turns a verdict into
points (``fraction`` of the check's points) and a ``CheckResult``.

Each judge declares the parameters it takes from its check's ``[checks.params]`` table as a
``JudgeParams`` model in its own module, with the defaults there; ``grader.judges.JUDGE_PARAMS``
names them, and ``grader.spec`` validates every exercise.toml against them when it loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # grader.spec imports the judges' parameter models, so only for type hints here
    from grader.evidence import Evidence
    from grader.spec import ExerciseSpec

VerdictStatus = Literal["passed", "failed", "error", "skipped"]


@dataclass(frozen=True)
class Verdict:
    """One check's outcome, before it is weighted by the check's points.

    ``status``: "passed" (fraction 1), "failed" (the learner's work is wrong or incomplete; a
    fraction between 0 and 1 gives partial credit), "error" (the check could not be made because
    something broke: the learner's code raised, the run was killed; always 0) or "skipped" (not
    applicable; 0 as well, so a skipped check never hands out points).
    ``message`` says what was found, ``hint`` how to fix it; both are read by the learner, in
    their language: judges take every sentence from ``grader.messages.judges`` (never English
    written inline), filling in the facts (the learner's names, Keras' own text) as they are.
    """

    status: VerdictStatus
    fraction: float
    message: str
    hint: str = ""

    @classmethod
    def passed(cls, message: str) -> Verdict:
        return cls("passed", 1.0, message)

    @classmethod
    def failed(cls, message: str, hint: str = "", fraction: float = 0.0) -> Verdict:
        return cls("failed", max(0.0, min(1.0, fraction)), message, hint)

    @classmethod
    def error(cls, message: str, hint: str = "") -> Verdict:
        return cls("error", 0.0, message, hint)

    @classmethod
    def skipped(cls, message: str) -> Verdict:
        return cls("skipped", 0.0, message)

    @classmethod
    def graded(cls, fraction: float, message: str, hint: str = "") -> Verdict:
        """Passed at full credit, otherwise failed with partial credit ``fraction``."""
        if fraction >= 1.0:
            return cls.passed(message)
        return cls.failed(message, hint, fraction)


class JudgeParams(BaseModel):
    """The parameters one judge takes from ``[checks.params]``: a subclass per judge, declared
    beside it, whose fields (with their defaults) are everything the judge reads.

    Unknown keys are refused (a typo must not silently fall back to a default), and values are
    taken as TOML gives them: no string is turned into a number.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @classmethod
    def of(cls, params: Mapping[str, Any] | JudgeParams) -> Self:
        """``params`` as this model: the check's table (a mapping) validated, or the model itself."""
        if isinstance(params, cls):
            return params
        return cls.model_validate(dict(params))


# A pair of numbers written as a two-element TOML array (``[0.02, 0.7]``); strict mode would
# otherwise accept only a Python tuple, which TOML cannot write.
NumberPair = Annotated[tuple[float, float], Field(strict=False)]
# A shape written as a TOML array of sizes: ``[28, 28]``, ``[784]``.
Shape = list[Annotated[int, Field(gt=0)]]


class NoParams(JudgeParams):
    """For a judge that takes no parameters: any key in ``[checks.params]`` is a mistake."""


Judge = Callable[["Evidence", dict[str, Any], "ExerciseSpec"], Verdict]
