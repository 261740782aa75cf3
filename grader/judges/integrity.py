"""Judges of a fair run: the learner's code stayed within the sandbox's limits, did not train on
the test split and did not tamper with how models are measured.

These are about the run, not the learner's model, so they carry no points of their own: the
exercise's ``integrity`` check is worth 0 points and ``required``, so a run that broke a limit or
played unfair never passes, and ``counted_only_if_untouched`` makes the test accuracy worth
nothing when the model saw the test images while training. Everything is read from evidence:

* ``RunInfo.limit_hit``: which limit of ``grader.sandbox.limits`` ended the run;
* ``FitCall.x_fingerprint`` against ``EvaluationEvidence.test_fingerprint``: the first images the
  learner trained on are the test split's first images (only possible without bubblewrap, which
  hides the test split altogether);
* ``SandboxEvidence.tampering``: code replacing ``Model.evaluate``/``predict``/... (found in the
  source by the runner). The grader tests the saved model with its own code, so this changes
  nothing in the score; it is reported because it can only be meant to mislead;
* ``EvaluationEvidence.refused``: the saved model was refused before loading (too large, two
  inputs, a pathological graph) or stopped by the evaluation's limits;
* ``EvaluationEvidence.test_accuracy`` against ``train_accuracy``, both measured by the trusted
  evaluation: an honest model does about as well or better on the images it trained on, so one
  that does clearly better on the public test split (by more than ``memorised_margin``) was
  trained on it somewhere, e.g. at home, its weights set inside train();
* ``SandboxEvidence.saved_weights`` against ``EvaluationEvidence.weights_digest``: the model scored
  must be the model ``model.fit`` left, saved by the grader's code (not a ``save()`` the model's
  class overrides). These digests come from the learner's process, so this check stops the
  simple ways (set_weights after fit, a throw-away model's fit, an overridden save); the
  memorisation check above does not depend on them;
* ``TrainInfo.history_edited`` and ``SavedWeights.changed_by_fit`` / ``fit_optimizer`` /
  ``fit_logged`` against ``EvaluationEvidence``: what the fits did while they ran (the grader's
  callback and digests in the child) must explain the returned History, the model's skill and
  the compile settings the saved file carries (``training_record_problem``).
"""

from __future__ import annotations

import math
from functools import wraps
from itertools import pairwise
from typing import Any

from pydantic import Field

from grader.datasets import dataset_info
from grader.evidence import Evidence
from grader.judges.base import Judge, JudgeParams, Verdict
from grader.judges.diagnose import dataset_of
from grader.judges.vocabulary import canonical_metrics, canonical_optimizer, training_accuracy
from grader.messages import _
from grader.messages import judges as messages
from grader.messages import sandbox as sandbox_messages
from grader.spec import ExerciseSpec

# The hints of a run that was not fair (English message ids: translate with ``_``).
TEST_SPLIT_HINT = messages.TEST_SPLIT_HINT
TAMPERING_HINT = messages.TAMPERING_HINT
MEMORISED_HINT = messages.MEMORISED_HINT
WEIGHTS_HINT = messages.WEIGHTS_HINT
SAVE_HINT = messages.SAVE_HINT


class IntegrityParams(JudgeParams):
    """``[checks.params]`` of ``judge = "integrity"``."""

    memorised_margin: float = Field(
        default=0.03,
        ge=0,
        le=1,
        description="Test accuracy above the accuracy on training images by more than this means the "
        "model was trained on the (public) test split.",
    )
    retrain_margin: float = Field(
        default=0.03,
        ge=0,
        le=1,
        description="With --retrain: a test accuracy above the grader's reproduction's by more than this fails.",
    )
    max_params: int | None = Field(
        default=None,
        gt=0,
        description="The most parameters a saved model's architecture may ask for: a larger one is "
        "refused before loading (read by grader.pipeline for the trusted evaluation).",
    )


def memorised_gap(evidence: Evidence) -> float | None:
    """Test accuracy minus accuracy on training images, both trusted; None when not measured."""
    evaluation = evidence.evaluation
    if evaluation.test_accuracy is None or evaluation.train_accuracy is None:
        return None
    return evaluation.test_accuracy - evaluation.train_accuracy


def looks_memorised(evidence: Evidence, margin: float) -> bool:
    """The test accuracy exceeds the accuracy on training images by more than ``margin`` plus
    three standard errors of the difference (sampling noise: about 0.015 for 10,000 images each
    at 0.85, but 0.2 and more for the tiny sets of a test run), so an honest model is never
    accused because its samples were small."""
    gap = memorised_gap(evidence)
    evaluation = evidence.evaluation
    if gap is None or not evaluation.n_test or not evaluation.n_train:
        return False
    p_test, p_train = evaluation.test_accuracy or 0.0, evaluation.train_accuracy or 0.0
    noise = math.sqrt(p_test * (1 - p_test) / evaluation.n_test + p_train * (1 - p_train) / evaluation.n_train)
    return gap > margin + 3 * noise


def weights_problem(evidence: Evidence, spec: ExerciseSpec) -> str:
    """Why the model scored is not the model ``model.fit`` left, or ""."""
    sandbox, evaluation = evidence.sandbox, evidence.evaluation
    record = sandbox.saved_weights
    if record is not None and record.save_overridden:
        return messages.save_overridden(record.save_overridden)
    if sandbox.graded_as == "saved_model" or evaluation.status != "ok":
        return ""
    if record is None:
        # No digests to compare (a record the run could forge is no proof either way); the History
        # against the grader's own figure still tells.
        return history_shortfall(evidence, chance_level(spec))
    if not record.fitted:
        if record.fit_calls_on_other_models:
            return _(messages.FIT_TRAINED_ANOTHER_MODEL)
        # No model.fit at all: a custom training loop (GradientTape) trains without one, so there
        # is no digest to compare; the training check says fit was not called, and the
        # train-versus-test gap still applies.
        return ""
    if (
        evaluation.weights_digest is not None
        and record.after_fit is not None
        and evaluation.weights_digest != record.after_fit
    ):
        return _(messages.WEIGHTS_CHANGED)
    if record.replaced_when_fit_ended:
        return _(messages.WEIGHTS_REPLACED_AS_FIT_ENDED)
    return history_shortfall(evidence, chance_level(spec))


# A model whose fits changed none of its weights, and that still does this much better than
# chance on training images (the grader's own measurement), got its weights elsewhere: frozen
# layers with weights set by hand (computed in closed form, say) around a fit that learns nothing.
# A learner who froze the layers by mistake has a model near chance, and the training check says
# the loss did not fall.
FROZEN_FIT_MARGIN = 0.3


def training_record_problem(evidence: Evidence, chance: float) -> tuple[str, str] | None:
    """The returned History, or the saved model's compile settings, disagree with what the
    model's fits did while they ran (grader.sandbox.child: the grader's callback and digests):
    ``(message, hint)``, or None.

    These records come from the learner's process too, but editing a History or the compile
    settings after training is the simple way to forge a fact the judges score; doing so now
    means also defeating the grader's own recording, which the source check looks for.
    """
    sandbox, evaluation = evidence.sandbox, evidence.evaluation
    train = sandbox.train
    if train is not None and train.history_edited:
        return (
            messages.history_edited(_history_summary(train.claimed_history), _history_summary(train.history)),
            _(messages.HISTORY_EDITED_HINT),
        )
    record = sandbox.saved_weights
    if record is None or not record.fitted or sandbox.graded_as == "saved_model":
        return None
    measured = learned_without_fit(evidence, chance)
    if measured is not None:
        return messages.fit_changed_nothing(measured), _(messages.FIT_CHANGED_NOTHING_HINT)
    model = evaluation.model
    if model is None:
        return None
    saved = canonical_optimizer(model.compile_config)
    used = record.fit_optimizer
    if saved is not None and used and used != "LossScaleOptimizer" and saved.name != used.lower():
        return messages.optimizer_not_the_trained_one(saved.written, used), _(messages.COMPILE_SETTINGS_HINT)
    saved_rate, used_rate = fixed_learning_rate(model.compile_config), record.fit_learning_rate
    if saved_rate is not None and used_rate is not None and not math.isclose(saved_rate, used_rate, rel_tol=1e-3):
        return messages.learning_rate_not_the_trained_one(saved_rate, used_rate), _(messages.COMPILE_SETTINGS_HINT)
    claimed = canonical_metrics(model.compile_config)
    computed = [key for key in record.fit_logged if key not in NOT_METRICS and not key.startswith("val_")]
    if claimed and record.fit_logged and not computed:
        return (
            messages.metrics_not_logged(messages.listing([m.written for m in claimed]), ", ".join(record.fit_logged)),
            _(messages.COMPILE_SETTINGS_HINT),
        )
    return None


def learned_without_fit(evidence: Evidence, chance: float) -> float | None:
    """The grader's accuracy on training images of a model whose fits changed none of its
    weights, or moved them by less than ``MIN_WEIGHT_CHANGE`` of their size, when that accuracy
    is clearly above chance (``FROZEN_FIT_MARGIN``); else None."""
    sandbox, measured = evidence.sandbox, evidence.evaluation.train_accuracy
    record = sandbox.saved_weights
    if record is None or not record.fitted or sandbox.graded_as == "saved_model":
        return None
    barely_moved = record.largest_weight_change is not None and record.largest_weight_change < MIN_WEIGHT_CHANGE
    if record.changed_by_fit is not False and not barely_moved:
        return None
    return measured if measured is not None and measured >= chance + FROZEN_FIT_MARGIN else None


# An epoch of training from a fresh start moves the weights by about their own size (the
# reference's first epoch: more than once their size); even an epoch at Adam's smallest sensible
# rate moves them by more than a hundredth. Fits none of whose epochs moved them by a thousandth
# (a learning rate of 1e-9 around weights set by hand, or set by a callback between epochs)
# learned nothing.
MIN_WEIGHT_CHANGE = 1e-3


def fixed_learning_rate(compile_config: dict[str, Any]) -> float | None:
    """The saved optimizer's learning rate when it is a plain number (not a schedule, whose
    rate changes as training goes on), else None."""
    raw = compile_config.get("optimizer")
    if isinstance(raw, dict) and raw.get("class_name") == "LossScaleOptimizer":
        raw = (raw.get("config") or {}).get("inner_optimizer", raw)
    config = raw.get("config") if isinstance(raw, dict) else None
    rate = config.get("learning_rate") if isinstance(config, dict) else None
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate):
        return None
    return float(rate)


# What an epoch logs besides the compiled metrics: the loss, and what callbacks add.
NOT_METRICS = frozenset({"loss", "learning_rate", "lr"})


def _history_summary(history: dict[str, list[float]]) -> str:
    """``loss 0.4100 -> 0.1221 over 3 epochs`` (the first key with figures if there is no loss)."""
    key = "loss" if history.get("loss") else next((k for k, v in history.items() if v), "")
    series = history.get(key) or []
    if not series:
        return "-"
    return messages.history_series(key, series[0], series[-1], len(series))


# How far the grader's own accuracy on training images may lie above the most that the History
# says training could have reached (``history_ceiling``): room for sampling, and for the end of
# an epoch that learned faster than the previous one. (The reference solutions measure within
# 0.01 of their last epoch's History, well below the ceiling.) An outside tester's model whose weights a callback replaced at on_train_end (fit
# on 64 images: History 0.36, the model scored 0.92 on training images) is far past this.
HISTORY_SHORTFALL = 0.15

# Layers that act only while training (``training=True``): the History's accuracy is measured
# with them on, the grader's with them off, so a model that has them does better in the
# grader's measurement than during fit. Dropout at rate r silences a share r of its inputs; the
# other layers' strength is not a share, so they get ``TRAINING_ONLY_DEFAULT``. The allowance is
# capped so that a model trained elsewhere (about 0.97 on MNIST) still cannot pass behind a
# throw-away fit whose History stays near 0.35 (or rose from 0.2 to 0.36 over two epochs),
# whatever dropout its file declares.
TRAINING_ONLY_LAYERS = frozenset(
    {
        "Dropout",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "SpatialDropout3D",
        "GaussianDropout",
        "AlphaDropout",
        "GaussianNoise",
        "RandomFlip",
        "RandomRotation",
        "RandomZoom",
        "RandomTranslation",
        "RandomContrast",
        "RandomBrightness",
        "RandomCrop",
    }
)
TRAINING_ONLY_DEFAULT = 0.15
TRAINING_ONLY_CAP = 0.2


def training_only_allowance(evidence: Evidence) -> float:
    """How much better than during fit the model may do in inference, because of its layers
    that act only while training (Dropout and its kin, noise, data augmentation)."""
    model = evidence.graded_model
    if model is None:
        return 0.0
    allowance = 0.0
    for layer in model.layers:
        if layer.class_name not in TRAINING_ONLY_LAYERS:
            continue
        rate = layer.config.get("rate")
        share = float(rate) if isinstance(rate, (int, float)) and math.isfinite(rate) else TRAINING_ONLY_DEFAULT
        allowance = max(allowance, share)
    return min(max(allowance, 0.0), TRAINING_ONLY_CAP)


def history_ceiling(recorded: list[float], chance: float) -> float:
    """The most the model left at the end of any epoch can reach on training images, judged by
    the History alone (before margins).

    Keras' training accuracy is an average over the epoch, taken while the model learns, so the
    model at the end of an epoch does better than that average: by about as much as the average
    rose over the previous epoch, if it kept learning at that pace. Before the first epoch the
    model guesses (``chance``: one over the number of classes), which is the pace a single epoch
    is judged by. With several epochs every epoch but the first counts, not only the last, since
    a callback (EarlyStopping(restore_best_weights=True)) may bring an earlier epoch's weights
    back; the first is left out then because the next epoch's average, which starts from the
    model it left, says more about that model than the pace from chance does."""
    if not recorded:
        return 0.0
    if len(recorded) == 1:
        return recorded[0] + max(0.0, recorded[0] - chance)
    return max(now + max(0.0, now - before) for before, now in pairwise(recorded))


def history_shortfall(evidence: Evidence, chance: float) -> str:
    """Why the model scored cannot be what its ``model.fit`` trained, judged by the History: it
    does far better on training images than training could have got it (``history_ceiling``,
    plus ``HISTORY_SHORTFALL``, the layers that act only in training, and sampling noise). ""
    when it can't be told (no History accuracy, no trusted figure). Weights set inside fit (a
    callback's on_train_end) leave the digests equal, but not this."""
    measured = evidence.evaluation.train_accuracy
    train = evidence.sandbox.train
    if measured is None or train is None or evidence.sandbox.graded_as == "saved_model":
        return ""
    recorded = [float(a) for a in training_accuracy(train.history) if isinstance(a, (int, float)) and math.isfinite(a)]
    if not recorded:
        return ""
    n = evidence.evaluation.n_train or 0
    noise = 3 * math.sqrt(measured * (1 - measured) / n) if n else 0.0
    reachable = history_ceiling(recorded, chance)
    if measured <= reachable + HISTORY_SHORTFALL + training_only_allowance(evidence) + noise:
        return ""
    return messages.history_shortfall(measured, recorded[-1], min(reachable, 1.0))


def chance_level(spec: ExerciseSpec) -> float:
    """The accuracy of guessing: one over the number of classes of the exercise's dataset."""
    return 1.0 / max(1, dataset_of(spec).num_classes)


def reproduction_problem(evidence: Evidence, margin: float) -> str:
    """With ``--retrain``: why the submission's test accuracy is not believable, or ""."""
    evaluation = evidence.evaluation
    reproduction = evaluation.reproduction
    if reproduction is None or reproduction.status != "ok" or reproduction.test_accuracy is None:
        return ""
    if evaluation.test_accuracy is None or evaluation.test_accuracy - reproduction.test_accuracy <= margin:
        return ""
    return messages.not_reproduced(
        evaluation.test_accuracy, reproduction.epochs, reproduction.batch_size, reproduction.test_accuracy, margin
    )


def trained_on_test_split(evidence: Evidence) -> bool:
    """A ``model.fit`` call got the test split's images (same fingerprint of the first images)."""
    expected = evidence.evaluation.test_fingerprint
    train = evidence.sandbox.train
    if not expected or train is None:
        return False
    return any(call.x_fingerprint == expected for call in train.fit_calls)


def judge_integrity(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
    """The run was fair: no limit of the sandbox ended it, the model was not trained on the test
    split, and the code does not replace Keras' measuring methods.

    Worth 0 points and meant to be ``required``: it never adds points, it stops a pass.
    """
    sandbox = evidence.sandbox
    run = sandbox.run
    settings = IntegrityParams.of(params)
    if run.limit_hit:
        return Verdict.failed(_limit_message(evidence), sandbox_messages.limit_hint(run.limit_hit))
    if not sandbox.steps:
        return Verdict.error(_(messages.NO_RECORD_OF_CODE), _(messages.CHECK_IT_STARTS_HINT))
    refused = evidence.evaluation.refused
    if refused:
        image = dataset_info(spec.dataset or "").shape_text  # the exercise's images: "28x28"
        return Verdict.failed(messages.model_refused(messages.clause(refused)), messages.refused_hint(image))
    if looks_memorised(evidence, settings.memorised_margin):
        evaluation = evidence.evaluation
        return Verdict.failed(
            messages.memorised(evaluation.test_accuracy or 0.0, evaluation.train_accuracy or 0.0, evaluation.n_train),
            _(MEMORISED_HINT),
        )
    unreproduced = reproduction_problem(evidence, settings.retrain_margin)
    if unreproduced:
        return Verdict.failed(unreproduced, _(MEMORISED_HINT))
    problem = weights_problem(evidence, spec)
    if problem:
        hint = (
            SAVE_HINT if sandbox.saved_weights is not None and sandbox.saved_weights.save_overridden else WEIGHTS_HINT
        )
        return Verdict.failed(messages.not_the_trained_model(problem), _(hint))
    if trained_on_test_split(evidence):
        return Verdict.failed(_(messages.TRAINED_ON_TEST_SPLIT), _(TEST_SPLIT_HINT))
    recorded = training_record_problem(evidence, chance_level(spec))
    if recorded:
        return Verdict.failed(*recorded)
    if sandbox.tampering:
        places = messages.clauses(sandbox.tampering[:5])
        return Verdict.failed(messages.tampering(places), _(TAMPERING_HINT))
    return Verdict.passed(messages.fair_run(run.isolation))


def _limit_message(evidence: Evidence) -> str:
    """What the limit was and what the code did, in the learner's terms."""
    run = evidence.sandbox.run
    limit = run.limit_hit or ""
    refused = [
        step.exception
        for step in evidence.sandbox.steps.values()
        if step.exception is not None and step.exception.type in ("MemoryError", "OSError", "ResourceExhaustedError")
    ]
    return sandbox_messages.limit_message(
        limit,
        run.limits,
        peak_memory=run.peak_memory_bytes,
        peak_processes=run.peak_processes,
        # The kernel refused one allocation (RLIMIT_DATA) before the watchdog saw it grow.
        allocation_refused=bool(refused) and run.peak_memory_bytes <= run.limits.get("memory_bytes", float("inf")),
        # A write past the file-size limit failed.
        write_refused=any("File too large" in exc.message or "Errno 27" in exc.message for exc in refused),
    )


def integrity_settings(spec: ExerciseSpec) -> IntegrityParams:
    """The parameters of the exercise's integrity check (defaults when it has none)."""
    for check in spec.checks:
        if check.judge == "integrity":
            return IntegrityParams.of(dict(check.params))
    return IntegrityParams()


def counted_only_if_untouched(judge: Judge) -> Judge:
    """``judge``, except that it fails with no points when the model was trained on the test
    split (found on disk, or memorised), or is not the model ``model.fit`` left: its test
    accuracy then measures nothing. (The integrity check says the same.)"""

    @wraps(judge)
    def guarded(evidence: Evidence, params: dict[str, Any], spec: ExerciseSpec) -> Verdict:
        if trained_on_test_split(evidence):
            return Verdict.failed(_(messages.NOT_COUNTED_TEST_SPLIT), _(TEST_SPLIT_HINT))
        if looks_memorised(evidence, integrity_settings(spec).memorised_margin):
            evaluation = evidence.evaluation
            return Verdict.failed(
                messages.not_counted_memorised(evaluation.test_accuracy or 0.0, evaluation.train_accuracy or 0.0),
                _(MEMORISED_HINT),
            )
        problem = weights_problem(evidence, spec)
        if problem:
            return Verdict.failed(messages.not_counted_weights(problem), _(WEIGHTS_HINT))
        if reproduction_problem(evidence, integrity_settings(spec).retrain_margin):
            return Verdict.failed(_(messages.NOT_COUNTED_REPRODUCTION), _(MEMORISED_HINT))
        if learned_without_fit(evidence, chance_level(spec)) is not None:
            return Verdict.failed(_(messages.NOT_COUNTED_NOT_TRAINED), _(messages.FIT_CHANGED_NOTHING_HINT))
        return judge(evidence, params, spec)

    return guarded
