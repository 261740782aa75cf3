"""Grade one submission, one way through the pipeline:

    submission -> adapter -> sandboxed run -> evidence -> trusted evaluation -> judges -> score -> GradeResult

The adapter (``grader.adapters``) recognises the submission's style (module, certificate-style
module, script, notebook, saved model) and says how the sandbox runs it and how it is scored.

Nothing here prints: progress goes to the ``on_progress`` callback and the finished
``GradeResult`` goes to the renderers.
"""

from __future__ import annotations

import importlib.metadata
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader import __version__
from grader.errors import SubmissionNotFoundError, UsageError
from grader.evidence import Evidence, SandboxEvidence, to_json
from grader.messages import sandbox as say_sandbox
from grader.quick import QuickTrial
from grader.result import GradeResult, ResultDetails
from grader.sandbox.plan import TrialFit
from grader.sandbox.runner import ProgressCallback, SandboxLimits, SandboxPlan, run_in_sandbox
from grader.sandbox.scratch import remove_tree
from grader.spec import ExerciseSpec


@dataclass
class GradeOptions:
    data_dir: Path | None = None
    seed: int | None = None  # None: the exercise's default
    timeout_s: float | None = None  # None: the exercise's limit
    threads: int | None = None  # TensorFlow threads for the child (batch grading divides cores)
    on_progress: ProgressCallback | None = None
    style: str | None = None  # None: recognised from the file (grader.adapters.STYLES)
    sandbox: str = "auto"  # "auto", "bwrap" or "process" (grader.sandbox.isolation)
    quick: bool = False  # a preview: trial fit, no test accuracy, no verdict (grader.quick)
    # For exams: the grader trains the submitted architecture again and compares (grader.trusted.retrain).
    retrain: bool = False


def grade_submission(spec: ExerciseSpec, submission: Path, options: GradeOptions | None = None) -> GradeResult:
    options = options or GradeOptions()
    started = time.monotonic()
    submission = check_submission_file(submission)
    if spec.kind == "quiz":
        if options.style is not None:
            raise UsageError(say_sandbox.quiz_style_given(spec.id))
        from grader.quiz import grade_quiz

        return grade_quiz(spec, submission, started=started)

    from grader.adapters import plan_submission, spec_for_style
    from grader.datasets import load_dataset
    from grader.evaluation import TrustedEvaluator

    # Before any data or TensorFlow: a file that cannot be read as its style stops here.
    submission_plan = plan_submission(spec, submission, forced=options.style)

    notify = options.on_progress or (lambda event: None)
    seed = spec.seed if options.seed is None else options.seed
    # Data first: with no data there is nothing to grade, so fail before running learner code.
    notify({"event": "stage", "stage": "data"})
    dataset = load_dataset(spec.model_dataset, options.data_dir)
    served, tfds_root = serve_datasets(spec, options.data_dir, tfds=_needs_tfds(spec, submission_plan))
    limits = SandboxLimits(timeout_s=options.timeout_s or spec.timeout_s)
    hidden = [options.data_dir] if options.data_dir else []  # where the test split came from
    # The trusted evaluation runs in a bounded process of its own (grader.trusted), which imports
    # TensorFlow while the sandbox trains.
    evaluator = TrustedEvaluator(
        dataset,
        isolation=options.sandbox,
        threads=options.threads,
        max_params=evaluation_param_limit(spec),
        wait_s=limits.timeout_s + 60,
        hidden=hidden,
    )
    # Started once the learner's code trains (see _EvaluationStarter); at once when there is no
    # training for its start to overlap: a saved model, and quick mode (it reads the model's facts).
    starter = _EvaluationStarter(evaluator, options.on_progress)
    if options.quick or submission_plan.style == "saved_model":
        starter.start()

    plan = SandboxPlan(
        submission=submission,
        functions={f.name: list(f.parameters) for f in spec.functions},
        seed=seed,
        dataset=spec.dataset,
        served=served,
        tfds_dir=tfds_root,
        train_data=spec.train_data,
        style=submission_plan.style,
        adapter=submission_plan.child_instructions(),
        threads=options.threads,
        quick=_trial_fit(QuickTrial()) if options.quick else None,
    )
    try:
        outcome = run_in_sandbox(
            plan, limits, on_progress=starter.on_progress, isolation=options.sandbox, hidden=hidden
        )
    except BaseException:
        starter.stop()
        evaluator.close()
        raise
    starter.stop()
    try:
        check_sandbox_evidence(outcome.evidence, plan, outcome.scratch / "evidence.json", options.sandbox)
        notify({"event": "stage", "stage": "model_facts" if options.quick else "evaluate"})
        # Quick mode (grader.quick): a model trained on a trial slice has no test accuracy worth
        # measuring; the trusted process reads only its facts (architecture, compile settings).
        evaluation = evaluator.evaluate(
            outcome.model_path, seed=seed, why_missing=_why_no_model(outcome.evidence), facts_only=options.quick
        )
        if options.retrain and not options.quick and evaluation.status == "ok" and outcome.model_path is not None:
            from grader.evaluation import reproduce

            notify({"event": "stage", "stage": "retrain"})
            evaluation.reproduction = reproduce(
                dataset, outcome.model_path, served[spec.model_dataset], evaluation,
                outcome.evidence.train.fit_calls if outcome.evidence.train else [],
                seed=seed, isolation=options.sandbox, threads=options.threads, timeout_s=limits.timeout_s,
                max_params=evaluation_param_limit(spec), hidden=hidden,
            )  # fmt: skip
    finally:
        evaluator.close()
        remove_tree(outcome.scratch)  # learner code wrote there: any depth (grader.sandbox.scratch)
    evidence = Evidence(sandbox=outcome.evidence, evaluation=evaluation)
    # Scored as this style is: e.g. a saved model's training check is skipped and not counted.
    scored_spec = spec_for_style(spec, submission_plan.graded_as)
    mode = "quick" if options.quick else "full"
    return build_result(scored_spec, submission, evidence, seed, time.monotonic() - started, mode=mode)


def evaluation_param_limit(spec: ExerciseSpec) -> int | None:
    """The most parameters a saved model may ask for before the grader refuses to load it: the
    ``max_params`` of the exercise's integrity check (see exercise.toml)."""
    for check in spec.checks:
        if check.judge == "integrity":
            value = dict(check.params).get("max_params")
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    return None


def check_sandbox_evidence(evidence: SandboxEvidence, plan: SandboxPlan, record: Path, isolation: str) -> None:
    """Validate what the learner's process wrote (``grader.evidence.validate_sandbox_evidence``)
    and keep only the notes the grader itself can vouch for: the adapter's (written into the
    plan by the grader) and the isolation's."""
    from grader.evidence import validate_sandbox_evidence
    from grader.sandbox.isolation import choose_isolation
    from grader.sandbox.runner import MAX_EVIDENCE_BYTES, _read_scratch_file
    from grader.sandbox.scratch import load_record

    trusted = list(plan.adapter.notes)
    try:
        trusted.append(choose_isolation(isolation).note)
    except Exception:  # noqa: BLE001 - the sandbox already ran with it; no note then
        pass
    try:
        raw = load_record(_read_scratch_file(record, MAX_EVIDENCE_BYTES), file=record.name)
    except (OSError, ValueError):  # RecordTooDeepError is a ValueError
        raw = None  # nothing readable: the runner already said so in the steps
    validate_sandbox_evidence(evidence, trusted_notes=[note for note in trusted if note], raw=raw)


def _trial_fit(trial: QuickTrial) -> TrialFit:
    """Quick mode's trial fit, as the child's plan carries it."""
    return TrialFit(samples=trial.samples, epochs=trial.epochs)


def _needs_tfds(spec: ExerciseSpec, submission_plan: Any) -> bool:
    """A TFDS copy is prepared (seconds, once) only when learner code may call tfds.load:
    the exercise's load_data() for modules, or code that uses tensorflow_datasets."""
    if submission_plan.graded_as == "module":
        return spec.function("load_data") is not None
    return bool(submission_plan.loads_tfds)


def serve_datasets(
    spec: ExerciseSpec, data_dir: Path | None, tfds: bool | None = None
) -> tuple[dict[str, Path], Path | None]:
    """The training splits the sandbox may see, and the TFDS copies when the learner loads data.

    The exercise's own dataset must be there (``load_dataset`` already raised if not); others
    are served when present, since a learner's script may load either. ``tfds``: whether to
    prepare a TFDS copy (None: when the exercise has a load_data() function).
    """
    from grader.datasets import DATASETS, dataset_info, served_dir, tfds_dir, tfds_root
    from grader.errors import DataMissingError

    served: dict[str, Path] = {}
    # The built-in datasets (a script may load either through Keras) and the exercise's own,
    # which a course may describe (grader.datasets: <course>/datasets/<name>.toml).
    for name in dict.fromkeys([*DATASETS, spec.dataset or ""]):
        try:
            served[name] = served_dir(name, data_dir)
        except DataMissingError:
            if name == spec.dataset:
                raise
    if tfds is None:
        tfds = spec.function("load_data") is not None
    if not tfds or not dataset_info(spec.model_dataset).keras_loader:  # TFDS builds the built-in datasets only
        return served, None  # the grader hands over the data, or the code never uses TFDS
    tfds_dir(spec.model_dataset, data_dir)  # prepared once (seconds), then cached
    return served, tfds_root()


def build_result(
    spec: ExerciseSpec, submission: Path, evidence: Evidence, seed: int, elapsed_s: float, mode: str = "full"
) -> GradeResult:
    from grader.scoring import score_evidence

    checks, score, passed = score_evidence(spec, evidence, mode)
    sandbox, evaluation = evidence.sandbox, evidence.evaluation
    model = evidence.graded_model  # measured by the trusted evaluation when there is a model
    metrics: dict[str, Any] = {
        "test_accuracy": evaluation.test_accuracy,
        "train_accuracy": evaluation.train_accuracy,  # trusted, on a sample of training images
        "train_seconds": round(sandbox.train.seconds, 2) if sandbox.train else None,
        "epochs": sandbox.train.epochs_run if sandbox.train else None,
        "total_params": model.total_params if model else None,
        "input_scaling": evaluation.input_scaling,
        "sandbox_seconds": round(sandbox.run.wall_seconds, 2),
        "evaluation_seconds": round(evaluation.seconds, 2),
    }
    return GradeResult(
        exercise=spec.id,
        submission=str(submission),
        passed=passed,
        score=score,
        max_score=spec.max_score,
        pass_mark=spec.pass_mark,
        seed=seed,
        grader_version=__version__,
        elapsed_s=round(elapsed_s, 2),
        checks=checks,
        metrics=metrics,
        style=sandbox.style,
        isolation=sandbox.run.isolation,
        details=_details(evidence, spec),
        mode=mode,
    )


def _details(evidence: Evidence, spec: ExerciseSpec) -> ResultDetails:
    """The evidence a report draws: JSON-able, bounded."""
    sandbox, evaluation = evidence.sandbox, evidence.evaluation
    model = evidence.graded_model  # measured by the trusted evaluation when there is a model
    errors = [
        {"step": step.name, **to_json(step.exception)}
        for step in sandbox.steps.values()
        # "ModelNotFound" is the grader's finding, not an exception the learner's code raised;
        # the checks say it.
        if step.exception is not None and step.exception.type != "ModelNotFound"
    ]
    return {
        "graded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tensorflow_version": _package_version("tensorflow"),
        "keras_version": _package_version("keras"),
        "dataset": spec.dataset,
        "model": to_json(model) if model else None,
        # "evaluation" (measured by the grader from the scored file) or "run" (reported by the
        # learner's process: only when no model came back to measure).
        "model_facts_from": "evaluation" if evidence.facts_are_trusted else "run",
        "history": sandbox.train.history if sandbox.train else {},
        "fit_calls": [to_json(c) for c in sandbox.train.fit_calls] if sandbox.train else [],
        "evaluation": to_json(evaluation),
        "errors": errors,
        "output": sandbox.run.output,
        "output_truncated_bytes": sandbox.run.output_truncated_bytes,
        "limit_hit": sandbox.run.limit_hit,
        "limits_enforced_by": sandbox.run.enforced_by,  # cgroup or watchdog, and the sandbox's user
        "notes": sandbox.notes,
        "graded_as": sandbox.graded_as,
        "model_source": sandbox.model_source,
    }


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


class _EvaluationStarter:
    """Starts the trusted evaluation process when the sandbox announces the step that trains
    (``train``, a certificate's ``solution_model``, a script or notebook run), so that its
    TensorFlow import overlaps the training, and a submission that fails before (a syntax error,
    an exception at import or in ``build_model``: the commonest mistakes) leaves nothing to
    evaluate and costs one TensorFlow start, not two. A model with no such announcement (a run
    that sent no progress) still gets its evaluation: ``TrustedEvaluator.evaluate`` starts it."""

    STAGES_BEFORE_TRAINING = frozenset({"tensorflow", "import", "load_data", "build_model"})

    def __init__(self, evaluator: Any, forward: ProgressCallback | None) -> None:
        self.evaluator, self.forward = evaluator, forward
        self.lock = threading.Lock()  # progress arrives on the sandbox's reader thread
        self.open = True

    def start(self) -> None:
        with self.lock:
            if self.open:
                self.evaluator.warm_up()

    def stop(self) -> None:
        """The sandbox is done: a late progress event starts nothing (``evaluate`` may)."""
        with self.lock:
            self.open = False

    def on_progress(self, event: dict[str, Any]) -> None:
        if event.get("event") == "stage" and event.get("stage") not in self.STAGES_BEFORE_TRAINING:
            self.start()
        if self.forward is not None:
            self.forward(event)


def _why_no_model(evidence: SandboxEvidence) -> str:
    for step in evidence.steps.values():
        if step.status == "exception" and step.exception is not None:
            if step.exception.type == "ModelNotFound":
                return step.exception.message
            return say_sandbox.no_model_because_failed(step.label or f"{step.name}()")
    if evidence.model_save_error:
        return say_sandbox.model_not_saved(evidence.model_save_error)
    return say_sandbox.no_model_came_back()


def check_submission_file(path: Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise SubmissionNotFoundError(say_sandbox.submission_file_problem("not_found", path=path))
    if path.is_dir():
        if (path / "saved_model.pb").is_file():
            raise SubmissionNotFoundError(say_sandbox.submission_file_problem("savedmodel_folder", path=path))
        raise SubmissionNotFoundError(say_sandbox.submission_file_problem("folder", path=path))
    from grader.adapters import check_submission_size

    check_submission_size(path)  # a regular file within its size cap, before it is opened or parsed
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise SubmissionNotFoundError(
            say_sandbox.submission_file_problem("unreadable", path=path, reason=exc.strerror)
        ) from None
    return path.resolve()
