"""Quick mode (``grade EXERCISE --quick``): a preview in seconds, not a grade.

A quick grading is an ordinary grading with one flag in the sandbox plan: the same adapters, the
same sandbox and the same judges. What differs:

* **in the sandbox** (``grader.sandbox.child``): every ``model.fit`` the learner's code calls is a
  *trial fit*: the learner's own arguments and callbacks, on the first ``QuickTrial.samples``
  samples, for ``QuickTrial.epochs`` epoch. That is enough to meet the errors that stop a run
  (shapes, dtypes, loss against labels, callbacks), in well under a second of training;
* **no test-split evaluation**: a model trained on a slice has no test accuracy worth measuring;
* **the trusted process reads only the model's facts** (``TrustedEvaluator.evaluate(facts_only=
  True)``): architecture and compile settings are measured from the saved model as in a full
  grading, and a model it refuses to load is reported as in a full grading;
* **scoring** (``preview_verdict``): a check that needs the full training (``NEEDS_FULL_TRAINING``)
  is ``skipped`` with "Not measured in quick mode"; the training check keeps what the trial fit
  showed (an error, no History returned) but does not judge the loss curve of a trial; the other
  judges see the run without its trial History, so nothing is concluded from 16 steps;
* **no verdict**: ``GradeResult.passed`` is None, ``mode`` is "quick", and ``grade`` exits with
  ``grader.cli.EXIT_PREVIEW`` (3), never 0 or 1.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from grader.judges.base import Verdict
from grader.judges.causes import find_cause
from grader.judges.diagnose import never_fitted
from grader.messages import interface as msg

if TYPE_CHECKING:
    from grader.evidence import Evidence
    from grader.spec import CheckSpec, ExerciseSpec

# The English start of a skipped check's message (tests look for it); shown translated.
NOT_MEASURED = msg.NOT_MEASURED

# Judges whose verdict needs the fully trained model: skipped in quick mode.
NEEDS_FULL_TRAINING = frozenset({"test_accuracy"})
# Judges that read how training went: in quick mode they report what the trial fit showed
# (it raised; the History was not returned) and leave the loss curve to a full grading.
TRIAL_FIT_JUDGES = frozenset({"training"})


@dataclass(frozen=True)
class QuickTrial:
    """How big the trial fit is: enough steps to surface errors, too few to learn anything."""

    samples: int = 512  # 16 batches of Keras' default 32
    epochs: int = 1

    def to_plan(self) -> dict[str, Any]:
        """The sandbox plan's ``quick`` field (``grader.sandbox.runner.SandboxPlan.quick``)."""
        return {"samples": self.samples, "epochs": self.epochs}


def preview_verdict(check: CheckSpec, spec: ExerciseSpec, evidence: Evidence) -> Verdict:
    """The verdict of ``check`` in quick mode (``grader.scoring`` calls it instead of the judge)."""
    from grader.scoring import run_judge  # scoring calls this module: imported when used

    if check.judge in NEEDS_FULL_TRAINING:
        if evidence.evaluation.status == "error":
            # The trusted process could not even read the model (a Lambda layer, a model too big
            # to load): that needs no training to tell, and the judge says why.
            return run_judge(check, spec, evidence)
        if never_fitted(evidence) and find_cause(evidence, spec, "train") is None:
            # The code ran to the end without model.fit (a custom training loop): no trial slice.
            return Verdict.skipped(msg.quick_no_test_accuracy_without_fit())
        return Verdict.skipped(msg.quick_no_test_accuracy())
    if check.judge in TRIAL_FIT_JUDGES:
        verdict = run_judge(check, spec, evidence)
        if verdict.status in ("error", "skipped") or not trial_fit_completed(evidence):
            return verdict  # what the trial showed: an exception, no fit, no History returned
        return Verdict.skipped(msg.not_measured_because(trial_fit_summary(evidence)))
    return run_judge(check, spec, without_trial_history(evidence))


def trial_fit_completed(evidence: Evidence) -> bool:
    """The trial fit ran and (for the module style) train() returned its History."""
    train = evidence.sandbox.train
    if train is None or not train.fit_calls:
        return False
    if evidence.sandbox.graded_as == "module":
        return train.is_history
    return True


def trial_fit_summary(evidence: Evidence) -> str:
    """What the trial fit showed, for the training check's message."""
    train = evidence.sandbox.train
    assert train is not None
    asked = train.fit_calls[-1].epochs
    losses = train.history.get("loss") or []
    return msg.trial_fit_summary(
        module=evidence.sandbox.graded_as == "module",
        asked_epochs=asked if isinstance(asked, int) and asked > 0 else None,
        last_loss=f"{losses[-1]:.4f}" if losses and isinstance(losses[-1], float) else None,
    )


def without_trial_history(evidence: Evidence) -> Evidence:
    """``evidence`` without the trial fit's History: a loss curve of a few steps on a slice says
    nothing about divergence or learning, so no judge may conclude anything from it."""
    train = evidence.sandbox.train
    if train is None or not train.history:
        return evidence
    sandbox = dataclasses.replace(evidence.sandbox, train=dataclasses.replace(train, history={}))
    return dataclasses.replace(evidence, sandbox=sandbox)
