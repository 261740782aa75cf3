"""Trusted evaluation, the grader's side: measure the saved model in a bounded process of its own.

The grader never loads a learner's model in its own process. ``TrustedEvaluator`` starts the
evaluation process (``grader.trusted.worker``) under the sandbox machinery when the learner's
code starts training (``grader.pipeline``), so TensorFlow is imported there while the sandbox trains, with the test images and a sample of
training images (with their labels: not secret) in its scratch folder, never the test labels.
When the sandbox is done:

1. the saved ``.keras`` file is checked as plain JSON before anything loads it
   (``grader.trusted.archive``: size, one input and one output, a bounded graph, the parameters
   its config asks for against the exercise's limit); a refused file is a failed integrity check
   with the reason, and the evaluation process is not even given it;
2. the file is handed to the evaluation process, which loads it in safe mode within a time and a
   memory limit and returns the model's facts (layers, parameters, shapes, the digest of its
   weights) and its predictions;
3. here, with the labels only this process holds, the predictions become test accuracy, the
   accuracy on training images, per-class figures and the confusion matrix. The compile
   settings are read here from the file's ``config.json``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.datasets import Dataset
from grader.evidence import ClassFigures, EvaluationEvidence, ModelInfo, Reproduction, from_json, image_fingerprint
from grader.messages import sandbox as say_sandbox
from grader.sandbox.scratch import load_record, remove_tree
from grader.trusted.archive import ArchiveFacts, ModelRefused, check_archive
from grader.trusted.protocol import (
    NOTHING_TO_EVALUATE,
    EvaluationAnswer,
    EvaluationError,
    EvaluationRequest,
    ModelMeasured,
    read_answer,
)

MiB = 1024 * 1024
GiB = 1024 * MiB
# Bounds of the evaluation process. Measured on 2 cores: the chapter's model loads and predicts
# 20,000 images in about 1 s, with TensorFlow resident at about 0.6 GB; a small CNN in a few
# seconds. The limits leave room for any model within the exercises' parameter budgets.
EVALUATION_SECONDS = 180  # from the moment the model is handed over
EVALUATION_MEMORY = 3 * GiB  # resident, the whole process tree
START_SECONDS = 120  # for TensorFlow's import, when the process had no time to start before
MAX_RESULT_BYTES = 16 * MiB


class TrustedEvaluator:
    """``warm_up()`` when the sandbox starts training, ``evaluate(model_path)`` when it is done.

    ``isolation``: as the sandbox's ("auto", "bwrap", "process"). ``max_params``: the most
    parameters a saved model's config may ask for (the exercise's limit; None: no limit but the
    memory limit). ``wait_s``: how long the process may wait for the model (the sandbox's time
    limit): it is idle meanwhile.
    """

    def __init__(
        self,
        dataset: Dataset,
        *,
        isolation: str = "auto",
        threads: int | None = None,
        max_params: int | None = None,
        wait_s: float = 900.0,
        seconds: float = EVALUATION_SECONDS,
        memory_bytes: int | None = None,
        hidden: list[Path] | None = None,
    ) -> None:
        self.dataset = dataset
        self.isolation = isolation
        self.threads = threads
        self.max_params = max_params
        self.wait_s = wait_s
        self.seconds = seconds
        if memory_bytes is None:
            from grader.sandbox.limits import default_memory_bytes

            memory_bytes = min(EVALUATION_MEMORY, default_memory_bytes())  # never over half the machine
        self.memory_bytes = memory_bytes
        self.hidden = hidden or []
        # As many training images as the test split holds, so the two accuracies compare
        # with the same sampling noise (grader.judges.integrity).
        self.train_indices = training_sample(len(dataset.train_labels), len(dataset.test_labels))
        self._process: _WorkerProcess | None = None

    def warm_up(self) -> threading.Thread:
        """Start the evaluation process (it imports TensorFlow and waits); returns its thread."""
        if self._process is None:
            self._process = _WorkerProcess(self)
            self._process.start()
        return self._process.thread

    def close(self) -> None:
        """Stop the evaluation process if it is still waiting, and remove its scratch folder."""
        if self._process is not None:
            self._process.finish(None)
            self._process.cleanup()
            self._process = None

    def evaluate(
        self, model_path: Path | None, *, seed: int, why_missing: str = "", facts_only: bool = False
    ) -> EvaluationEvidence:
        """Measure the model. ``facts_only`` (quick mode, ``grader.quick``): only its facts
        (layers, shapes, compile settings), no predictions: status "not_run", no test accuracy."""
        started = time.perf_counter()
        try:
            result = self._evaluate(model_path, seed, why_missing, facts_only)
        finally:
            self.close()
        # To notice a model trained on the test split (grader.judges.integrity).
        result.test_fingerprint = image_fingerprint(self.dataset.test_images)
        result.seconds = time.perf_counter() - started
        return result

    def _evaluate(
        self, model_path: Path | None, seed: int, why_missing: str, facts_only: bool = False
    ) -> EvaluationEvidence:
        if model_path is None:
            return EvaluationEvidence(status="not_run", error=why_missing or say_sandbox.no_model_came_back())
        try:
            archive = check_archive(model_path, max_params=self.max_params)
        except ModelRefused as exc:
            reason = str(exc)
            if exc.custom_class:
                # A subclass of keras.Model: untestable here, not a sign of an unfair run.
                return EvaluationEvidence(status="error", error=reason, custom_model_class=exc.custom_class)
            return EvaluationEvidence(status="error", error=reason, refused=reason)
        self.warm_up()
        process = self._process
        assert process is not None
        answer = process.finish(model_path, facts_only=facts_only)
        if answer.limit_hit is not None:
            reason = say_sandbox.evaluation_limit(answer.limit_hit, self.seconds, self.memory_bytes)
            return EvaluationEvidence(status="error", error=reason, refused=reason, limit_hit=answer.limit_hit)
        if answer.crashed is not None:
            reason = say_sandbox.evaluation_crashed(answer.crashed)
            return EvaluationEvidence(status="error", error=reason, refused=reason)
        if answer.result is None:
            return EvaluationEvidence(
                status="error", error=answer.problem or say_sandbox.evaluation_went_wrong("no_answer")
            )
        result = answer.result
        if isinstance(result, EvaluationError):
            if result.limit == "memory":
                # The kernel refused an allocation (the process's data limit) before the watchdog saw it.
                reason = say_sandbox.evaluation_limit("memory", self.seconds, self.memory_bytes)
                return EvaluationEvidence(status="error", error=reason, refused=reason, limit_hit="memory")
            # The grader's own process found it (grader.trusted.worker.EvaluationFailed): a code and facts.
            problem = say_sandbox.evaluation_problem(result.code, result.facts)
            return EvaluationEvidence(status="error", error=problem[:500])
        if facts_only:
            return EvaluationEvidence(
                status="not_run",
                error=say_sandbox.not_measured_in_quick_mode(),
                input_shape_used=list(result.input_shape_used),
                model=_model_facts(result.facts, archive),
                weights_digest=result.weights_digest,
            )
        return self._measure(result, archive, seed)

    def _measure(self, result: ModelMeasured, archive: ArchiveFacts, seed: int) -> EvaluationEvidence:
        """Accuracy and per-class figures from the predictions, with the labels only we hold."""
        test_y = np.asarray(self.dataset.test_labels).astype(int)
        train_y = np.asarray(self.dataset.train_labels)[self.train_indices].astype(int)
        classes = len(self.dataset.class_names)
        made = result.predictions  # None: the process answered as for quick mode
        test_predicted = _predictions(made.test_predicted, len(test_y), classes) if made is not None else None
        train_predicted = _predictions(made.train_predicted, len(train_y), classes) if made is not None else None
        if made is None or test_predicted is None or train_predicted is None:
            return EvaluationEvidence(status="error", error=say_sandbox.evaluation_went_wrong("malformed_predictions"))
        return EvaluationEvidence(
            status="ok",
            test_accuracy=float(np.mean(test_predicted == test_y)),
            n_test=len(test_y),
            input_shape_used=list(result.input_shape_used),
            input_scaling=made.input_scaling,
            probe_accuracy=dict(made.probe_accuracy),
            outputs_are_probabilities=made.outputs_are_probabilities,
            **class_figures(test_y, test_predicted, self.dataset.class_names),
            sample_predictions=sample_predictions(test_y, test_predicted, seed),
            model=_model_facts(result.facts, archive),
            train_accuracy=float(np.mean(train_predicted == train_y)),
            n_train=len(train_y),
            weights_digest=result.weights_digest,
        )


def training_sample(n_train: int, size: int) -> np.ndarray:
    """Indices of the training images measured beside the test split: evenly spread over the
    whole training split (every one of them is served to the sandbox as training data)."""
    if n_train <= size:
        return np.arange(n_train)
    return np.linspace(0, n_train - 1, size).astype(int)


def _predictions(value: list[int], length: int, classes: int) -> np.ndarray | None:
    """The predicted classes as an array, or None unless there is one per image and each names
    one of the ``classes`` (only the grader knows how many images it asked about)."""
    if len(value) != length:
        return None
    array = np.asarray(value)
    if array.dtype.kind not in "iu" or (length and (array.min() < 0 or array.max() >= classes)):
        return None
    return array.astype(int)


def _model_facts(facts: dict[str, Any], archive: ArchiveFacts) -> ModelInfo | None:
    """The facts the evaluation process measured, with the compile settings from the file."""
    try:
        model = from_json(ModelInfo, facts)
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
    if not isinstance(model, ModelInfo):
        return None
    model.compile_config = archive.compile_config
    model.compiled = bool(archive.compile_config.get("optimizer") or archive.compile_config.get("loss"))
    return model


@dataclass
class _Answer:
    result: EvaluationAnswer | None = None
    limit_hit: str | None = None
    problem: str = ""
    crashed: int | None = None  # the signal that killed the process while it ran the learner's model


class _WorkerProcess:
    """One evaluation process: its scratch folder, the thread that runs it within the sandbox's
    limits, and the pipe it receives the model on."""

    def __init__(self, evaluator: TrustedEvaluator) -> None:
        self.evaluator = evaluator
        self.scratch = Path(tempfile.mkdtemp(prefix="grade-eval-"))
        self.work = self.scratch / "work"
        for folder in (self.work, self.scratch / "home", self.scratch / "tmp"):
            folder.mkdir()
        dataset = evaluator.dataset
        # What the process may see: images, and training labels; never the test labels.
        np.save(self.work / "test_images.npy", np.asarray(dataset.test_images))
        np.save(self.work / "train_images.npy", np.asarray(dataset.train_images)[evaluator.train_indices])
        np.save(self.work / "train_labels.npy", np.asarray(dataset.train_labels)[evaluator.train_indices])
        self.request_r, self.request_w = os.pipe()
        self.thread = threading.Thread(target=self._run, daemon=True, name="trusted-evaluation")
        self.raw: Any = None
        self.error: str = ""
        self.sent = False

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        from grader.sandbox.isolation import choose_isolation
        from grader.sandbox.limits import SandboxLimits
        from grader.sandbox.runner import hidden_data_locations, run_command

        evaluator = self.evaluator
        try:
            choice = choose_isolation(evaluator.isolation)
            limits = SandboxLimits(
                timeout_s=evaluator.wait_s + START_SECONDS + evaluator.seconds,
                memory_bytes=evaluator.memory_bytes,
                file_bytes=64 * MiB,
                disk_bytes=2 * GiB,
            )
            env = _environment(self.scratch)
            command = [_python(), "-m", "grader.trusted.worker", str(self.request_r)]
            self.raw = run_command(
                command,
                scratch=self.scratch,
                limits=limits,
                isolation=choice.kind,
                env=env,
                hidden=hidden_data_locations(evaluator.hidden),
                pass_fds=(self.request_r,),
            )
        except Exception as exc:  # noqa: BLE001 - reported as the evaluation's problem
            self.error = say_sandbox.evaluation_went_wrong("could_not_run", reason=f"{type(exc).__name__}: {exc}")
        finally:
            with contextlib.suppress(OSError):
                os.close(self.request_r)

    def finish(self, model_path: Path | None, *, facts_only: bool = False) -> _Answer:
        """Hand over the model (None: nothing to evaluate) and wait for the answer.
        ``facts_only``: the model's facts without predictions (quick mode)."""
        if self.sent:
            return _Answer(problem=say_sandbox.evaluation_went_wrong("already_used"))
        self.sent = True
        line = NOTHING_TO_EVALUATE
        if model_path is not None:
            shutil.copyfile(model_path, self.work / "model.keras")
            info = self.evaluator.dataset.info  # what one image is, and how many classes
            line = EvaluationRequest(
                model="model.keras",
                image_shape=info.array_shape,
                classes=info.num_classes,
                seconds=int(self.evaluator.seconds),
                threads=self.evaluator.threads,
                facts_only=facts_only,
            ).to_line()
        with contextlib.suppress(OSError):
            os.write(self.request_w, line.encode())
        with contextlib.suppress(OSError):
            os.close(self.request_w)
        if model_path is None:
            return _Answer()
        # The process's own alarm ends it after `seconds`; the sandbox's time limit is the backstop.
        self.thread.join(timeout=self.evaluator.seconds + START_SECONDS + 30)
        if self.thread.is_alive():
            return _Answer(limit_hit="time")
        if self.raw is None:
            return _Answer(problem=self.error or say_sandbox.evaluation_went_wrong("did_not_run"))
        limit = self.raw.limit_hit
        if limit is None and self.raw.returncode in (-14, 128 + 14):  # SIGALRM: its own time limit
            limit = "time"
        if limit is not None:
            return _Answer(limit_hit=limit)
        try:
            data = load_record(_read_regular_file(self.work / "result.json", MAX_RESULT_BYTES), file="result.json")
        except (OSError, ValueError):  # also RecordTooDeepError: values nested too deep to read
            code = self.raw.returncode
            signal_number = -code if code < 0 else code - 128 if code > 128 else 0
            if signal_number:
                # Killed by a signal while loading or running the learner's model (an outside
                # tester's UpSampling2D x12 model made TensorFlow segfault): the model is refused,
                # like one over the limits. Neither TensorFlow's log nor the grader's paths are
                # the learner's business, so the message names only what happened.
                return _Answer(crashed=signal_number)
            return _Answer(problem=say_sandbox.evaluation_went_wrong("no_result", exit_code=code))
        # Checked field by field (grader.trusted.protocol): the process fed images to the learner's
        # model, so the grader believes no more of its answer than it can check.
        result = read_answer(data)
        if result is None:
            return _Answer(problem=say_sandbox.evaluation_went_wrong("malformed_result"))
        return _Answer(result=result)

    def cleanup(self) -> None:
        if self.thread.is_alive():
            self.thread.join(timeout=10)
        remove_tree(self.scratch)  # the learner's model ran there: any tree it left goes too


def _python() -> str:
    import sys

    return sys.executable


def _environment(scratch: Path) -> dict[str, str]:
    from grader.sandbox.runner import PACKAGE_ROOT

    keep = ("PATH", "LANG", "LC_ALL", "LD_LIBRARY_PATH", "OMP_NUM_THREADS", "KERAS_BACKEND")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    home = scratch / "home"
    env.update(
        PYTHONPATH=str(PACKAGE_ROOT),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        CUDA_VISIBLE_DEVICES="",
        MPLBACKEND="Agg",
        HOME=str(home),
        TMPDIR=str(scratch / "tmp"),
        XDG_CACHE_HOME=str(home / ".cache"),
    )
    return env


def _read_regular_file(path: Path, max_bytes: int) -> bytes:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ValueError(f"{path.name} is not a regular file")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"{path.name} is larger than {max_bytes} bytes")
    return data


def class_figures(truth: np.ndarray, predicted: np.ndarray, class_names: tuple[str, ...]) -> dict[str, Any]:
    n = len(class_names)
    confusion = np.zeros((n, n), dtype=int)
    np.add.at(confusion, (truth, np.clip(predicted, 0, n - 1)), 1)
    per_class = []
    for label in range(n):
        support = int(confusion[label].sum())
        predicted_as = int(confusion[:, label].sum())
        hits = int(confusion[label, label])
        per_class.append(
            ClassFigures(
                label=label,
                name=class_names[label],
                support=support,
                precision=hits / predicted_as if predicted_as else 0.0,
                recall=hits / support if support else 0.0,
            )
        )
    return {"per_class": per_class, "confusion": confusion.tolist()}


def sample_predictions(truth: np.ndarray, predicted: np.ndarray, seed: int, count: int = 16) -> list[dict[str, int]]:
    """Test images for the report's grid, chosen reproducibly from the seed."""
    rng = np.random.default_rng(seed)
    indices = sorted(rng.choice(len(truth), size=min(count, len(truth)), replace=False).tolist())
    return [{"index": int(i), "predicted": int(predicted[i]), "true": int(truth[i])} for i in indices]


# --- --retrain: the grader trains the submitted architecture again -----------------------------


def reproduce(
    dataset: Dataset,
    model_path: Path,
    served: Path,
    evaluation: EvaluationEvidence,
    fit_calls: list[Any],
    *,
    seed: int,
    isolation: str = "auto",
    threads: int | None = None,
    timeout_s: float = 900.0,
    max_params: int | None = None,
    hidden: list[Path] | None = None,
) -> Reproduction:
    """Train the architecture of ``model_path`` from scratch in the sandbox (grader.trusted.retrain)
    and test the result with the trusted evaluation. ``served``: the training split's folder."""
    from grader.sandbox.isolation import choose_isolation
    from grader.sandbox.limits import SandboxLimits
    from grader.sandbox.runner import hidden_data_locations, run_command
    from grader.trusted.retrain import fit_recipe

    started = time.perf_counter()
    model = evaluation.model
    if model is None or not evaluation.input_shape_used:
        return Reproduction(status="error", error=say_sandbox.reproduction_problem("not_measured"))
    from grader.judges.vocabulary import canonical_loss

    loss = canonical_loss(model.compile_config)
    recipe = fit_recipe(
        fit_calls, evaluation.input_scaling, one_hot=loss is not None and loss.name == "categorical_crossentropy"
    )
    scratch = Path(tempfile.mkdtemp(prefix="grade-retrain-"))
    try:
        work = scratch / "work"
        for folder in (work, scratch / "home", scratch / "tmp"):
            folder.mkdir()
        shutil.copyfile(model_path, work / "model.keras")
        plan = {
            "seed": seed, "served": str(served), "input_shape": evaluation.input_shape_used,
            "scale": recipe.scale, "labels": recipe.labels, "classes": len(dataset.class_names),
            "epochs": recipe.epochs, "batch_size": recipe.batch_size, "threads": threads,
        }  # fmt: skip
        (work / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
        raw = run_command(
            [_python(), "-m", "grader.trusted.retrain", str(work / "plan.json")],
            scratch=scratch,
            limits=SandboxLimits(timeout_s=timeout_s),
            isolation=choose_isolation(isolation).kind,
            env=_environment(scratch),
            readable=[served],
            hidden=hidden_data_locations(hidden or []),
        )
        result = work / "reproduction.keras"
        if raw.limit_hit is not None or raw.returncode != 0 or not result.is_file():
            output = raw.output.decode("utf-8", errors="replace").strip().splitlines()
            why = say_sandbox.reproduction_stopped(raw.limit_hit, output[-1][:300] if output else "", raw.returncode)
            return Reproduction(
                status="error",
                error=say_sandbox.reproduction_problem("not_trained", why=why),
                epochs=recipe.epochs,
                batch_size=recipe.batch_size,
                seconds=time.perf_counter() - started,
            )
        evaluator = TrustedEvaluator(
            dataset, isolation=isolation, threads=threads, max_params=max_params, wait_s=0, hidden=hidden
        )
        tested = evaluator.evaluate(result, seed=seed)
        if tested.status != "ok" or tested.test_accuracy is None:
            return Reproduction(
                status="error",
                error=say_sandbox.reproduction_problem("not_tested", why=tested.error),
                epochs=recipe.epochs,
                batch_size=recipe.batch_size,
                seconds=time.perf_counter() - started,
            )
        return Reproduction(
            status="ok",
            test_accuracy=tested.test_accuracy,
            epochs=recipe.epochs,
            batch_size=recipe.batch_size,
            seconds=time.perf_counter() - started,
        )
    finally:
        remove_tree(scratch)  # the learner's model was trained there (grader.sandbox.scratch)
