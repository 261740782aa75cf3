"""The sandboxed child: the only process in which learner code runs.

Started by ``grader.sandbox.runner`` as ``python -m grader.sandbox.child PLAN.json``. It runs
the submission the way its style asks (``grader.adapters`` plans it; ``ChildPlan.adapter``):

* module: import it and call the functions the exercise names;
* certificate: import it and call ``solution_model()``, which loads, builds and trains;
* script (a .py, or a notebook's cells): run it top to bottom, then take its model;
* saved_model: load the model file (here, because a legacy .h5 can carry code).

It records *facts* as ``SandboxEvidence`` (written atomically after every step, so whatever
happened before a crash or a kill survives): codes and facts only, never a sentence (the parent
puts them into words with ``grader.messages.sandbox``). It judges nothing and prints nothing of its own:
learner output is the only thing on stdout/stderr, and progress events go to a separate pipe.

The test split is never here: the training split comes from the served folder that holds only
it, and the dataset loaders a learner calls are served from the same folder.
"""

from __future__ import annotations

import builtins
import importlib.util
import inspect
import json
import linecache
import math
import os
import re
import sys
import time
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.evidence import (
    ArrayInfo,
    DataInfo,
    ExceptionInfo,
    Finding,
    FitCall,
    Frame,
    FunctionInfo,
    LayerInfo,
    ModelInfo,
    SandboxEvidence,
    SavedWeights,
    StepResult,
    TrainInfo,
    image_fingerprint,
    to_json,
)
from grader.sandbox.plan import ChildPlan, TrialFit

MAX_MESSAGE_CHARS = 2000
# Bounds of what one fit's logs add to the record (the chapter's run: 2 keys, 5 epochs).
MAX_LOGGED_KEYS = 32
MAX_LOGGED_EPOCHS = 1000

# The exception type the child records for problems it finds itself (no model to grade, a
# model file that does not load), with a code and facts (grader.messages.sandbox.PROBLEMS).
MODEL_NOT_FOUND = "ModelNotFound"


class ChildSession:
    """One run of one submission, driven by the plan the parent wrote."""

    def __init__(self, plan: ChildPlan) -> None:
        self.plan = plan
        self.submission = Path(plan.submission)
        self.display_name = plan.display_name or self.submission.name
        self.evidence_path = Path(plan.evidence_path)
        self.adapter = plan.adapter
        self.graded_as = self.adapter.graded_as
        self.evidence = SandboxEvidence(
            submission=self.display_name,
            seed=plan.seed,
            style=plan.style,
            graded_as=self.graded_as,
            notes=list(self.adapter.notes),  # the grader's own notes, handed back unchanged
        )
        self.progress = _open_progress(plan.progress_fd)
        self.keras: Any = None
        self.module: Any = None
        # Quick mode (``grade --quick``): every fit is a trial fit.
        self.quick = plan.quick
        # Code file names as Python knows them -> how the learner knows them (a notebook's
        # cells are compiled one by one, so a traceback can say "cell 5, line 3").
        self.sources: dict[str, str] = {str(self.submission): self.display_name}
        # What model.fit saw (filled by watch_fit).
        self.fit_calls: list[FitCall] = []
        self.fitted_models: list[Any] = []
        # id(model) -> (model, digest of its weights right after its last fit returned).
        self.fit_digests: dict[int, tuple[Any, str | None]] = {}
        # id(model) -> what its fits did, as the grader's own callback and digests saw it while
        # they ran (FitRecord): the saved file and the returned History are checked against it.
        self.fit_records: dict[int, FitRecord] = {}
        # id(History) -> (the History, index of the fit call that returned it in fit_calls).
        self.fit_histories: dict[int, tuple[Any, int]] = {}
        # Keras' own saving function, weights getter and Model.save, taken before learner code
        # runs (prepare_tensorflow): the grader saves and hashes the model with these, so a
        # model class or a patch that replaces them cannot choose what is saved.
        self.keras_save_model: Any = None
        self.keras_weights_of: Any = None
        self.keras_model_save: Any = None
        self.last_history: Any = None
        self.fit_seconds = 0.0
        self.fit_failure: BaseException | None = None
        # Scripts and solution_model() build and train in one call; its phases are recorded as
        # the steps "build_model" (until the first fit), "train" (inside fit) and "finish"
        # (after the last fit), so evidence says where it stopped. None: not in such a call.
        # ``run_by`` says what ran (StepResult.run_by: "script", "notebook", "saved_model",
        # "solution_model()"); "" for the module style, whose functions are steps of their own.
        self.phase: str | None = None
        self.run_by = ""
        self.phase_started = 0.0

    # --- recording -------------------------------------------------------------------------

    def save(self) -> None:
        """Atomically rewrite the evidence file: a kill between steps loses nothing recorded."""
        tmp = self.evidence_path.with_name(self.evidence_path.name + ".tmp")
        tmp.write_text(json.dumps(to_json(self.evidence), default=_json_default), encoding="utf-8")
        tmp.replace(self.evidence_path)

    def emit(self, event: str, **fields: Any) -> None:
        if self.progress is None:
            return
        try:
            self.progress.write(json.dumps({"event": event, **fields}, default=_json_default) + "\n")
            self.progress.flush()
        except (OSError, ValueError):
            self.progress = None  # the parent stopped listening; carry on without progress

    def run_step(self, name: str, func: Any, *args: Any) -> tuple[bool, Any]:
        """Call learner code, recording how it ended. Catches *everything* the learner raises,
        including ``SystemExit``: a learner's ``sys.exit()`` must not end the grading."""
        self.emit("stage", stage=name)
        # "started" marks the step in flight: if the process dies now, the parent knows where.
        self.evidence.steps[name] = StepResult(name=name, status="started")
        self.save()
        started = time.perf_counter()
        try:
            value = func(*args)
        except BaseException as exc:  # noqa: BLE001 - learner code may raise anything
            self.evidence.steps[name] = StepResult(
                name=name,
                status="exception",
                seconds=time.perf_counter() - started,
                exception=self.describe(exc),
            )
            self.save()
            return False, None
        self.evidence.steps[name] = StepResult(name=name, status="ok", seconds=time.perf_counter() - started)
        self.save()
        return True, value

    def describe(self, exc: BaseException) -> ExceptionInfo:
        return describe_exception(exc, self.submission, self.display_name, self.sources)

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> None:
        self.save()
        self.emit("stage", stage="tensorflow")
        self.prepare_tensorflow()
        run_style = {
            "certificate": self.run_certificate,
            "script": self.run_script,
            "saved_model": self.run_saved_model,
        }.get(self.graded_as, self.run_module)
        run_style()

    def run_module(self) -> None:
        """Import the submission (or run a notebook's cells) and call the exercise's functions."""
        ok, module = self.run_step("import", self.import_submission)
        if not ok:
            return
        self.module = module
        self.record_functions()

        train_x = train_y = None
        if "load_data" in self.plan.functions:
            # A failing load_data() stops training but not build_model(): a learner who
            # writes the model first still gets feedback on it.
            ok, data = self.call_learner("load_data")
            if ok:
                self.evidence.data = describe_data(data)
                self.save()
                if self.evidence.data.structure_ok:
                    (train_x, train_y), _ = data
        if self.plan.train_data == "grader":
            train_x, train_y = self.grader_training_split()

        ok, model = self.call_learner("build_model")
        if not ok:
            return
        self.evidence.model = describe_model(model, self.keras)
        self.save()
        if not self.evidence.model.is_keras_model or "train" not in self.plan.functions:
            self.save_model(model)
            return
        if train_x is None:
            return  # load_data returned something unusable: its check says what

        self.watch_fit()
        train_started = time.perf_counter()
        ok, history = self.call_learner("train", model, train_x, train_y)
        self.evidence.train = describe_training(
            history, self.fit_calls, time.perf_counter() - train_started, self.fit_histories
        )
        self.evidence.trained_model = describe_model(model, self.keras)
        self.save()
        if ok:
            self.save_model(model)

    def prepare_tensorflow(self) -> None:
        """Quiet logs, fixed seeds, thread counts, and the offline dataset loaders, before any
        learner code runs."""
        import random

        import numpy as np

        seed = self.plan.seed
        random.seed(seed)
        np.random.seed(seed)
        import tensorflow as tf

        threads = self.plan.threads
        if threads:
            # Batch grading runs several children at once: each gets its share of the cores so
            # they don't oversubscribe the machine.
            tf.config.threading.set_intra_op_parallelism_threads(int(threads))
            tf.config.threading.set_inter_op_parallelism_threads(max(1, int(threads) // 2))
        import keras

        keras.utils.set_random_seed(seed)
        self.keras = keras
        self.keras_save_model = keras.saving.save_model
        self.keras_weights_of = keras.layers.Layer.weights.fget
        self.keras_model_save = keras.Model.save
        quiet_plots()
        from grader.sandbox.offline_data import SERVABLE, install_offline_loaders

        # Keras's and TFDS's loaders exist for the built-in datasets only; a course's own
        # dataset reaches learner code as the training split the grader passes to train().
        served = {name: Path(path) for name, path in self.plan.served.items() if name in SERVABLE}
        if served:
            tfds_dir = self.plan.tfds_dir
            install_offline_loaders(served, tfds_dir=Path(tfds_dir) if tfds_dir else None)

    def import_submission(self) -> Any:
        module_name = self.submission.stem if self.submission.stem.isidentifier() else "submission"
        if self.adapter.cells:
            # A notebook: its cells run in order in one namespace, as after "Run All".
            module = types.ModuleType(module_name)
            module.__dict__.update(notebook_globals())
            sys.modules[module_name] = module
            sys.argv = [self.display_name]
            for code in self.compile_code():
                exec(code, module.__dict__)  # noqa: S102 - learner code, in the sandbox
            return module
        spec = importlib.util.spec_from_file_location(module_name, self.submission)
        if spec is None or spec.loader is None:
            raise ImportError(self.display_name, path=str(self.submission))  # Python found no loader for it
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        sys.argv = [self.display_name]
        spec.loader.exec_module(module)
        return module

    def record_functions(self) -> None:
        for name in self.plan.functions:
            self.evidence.functions[name] = describe_function(name, getattr(self.module, name, None))
        self.save()

    def call_learner(self, name: str, *args: Any) -> tuple[bool, Any]:
        func = getattr(self.module, name, None)
        if not callable(func):
            return False, None  # functions_present reports it; nothing to run
        return self.run_step(name, func, *args)

    def grader_training_split(self) -> tuple[Any, Any]:
        """The training split as the exercise promises it: float32 in [0, 1], integer labels."""
        import numpy as np

        served = Path(self.plan.served[str(self.plan.dataset)])
        quick = self.plan.quick
        if quick:
            # Quick mode fits only the first images: the rest keep the promised shape and dtype
            # (code may write sizes by hand) but stay zero pages, so converting 60,000 images,
            # most of a second, is not paid for a preview.
            raw = np.load(served / "train_images.npy", mmap_mode="r")
            images = np.zeros(raw.shape, dtype="float32")
            head = quick.samples
            images[:head] = raw[:head].astype("float32") / 255.0
        else:
            images = np.load(served / "train_images.npy").astype("float32") / 255.0
        labels = np.load(served / "train_labels.npy").astype("int64")
        return images, labels

    def watch_fit(self) -> None:
        """Wrap ``keras.Model.fit`` to observe what the learner trains on and to stream
        per-epoch progress to the parent as each epoch ends."""
        keras = self.keras
        original_fit = keras.Model.fit
        session = self
        callback_base: Any = keras.callbacks.Callback  # Keras is untyped (Any) to mypy

        class _ProgressCallback(callback_base):
            # Last in the learner's callbacks, just before Keras' own History: it sees the logs
            # the History records, as each epoch ends (what train() returns later is a claim).
            def __init__(self, epochs: int, call: FitCall | None = None) -> None:
                super().__init__()
                self.epochs = epochs
                self.call = call
                # The weights' digest as each epoch ended: training ends with one of them (the
                # last, or the best one EarlyStopping(restore_best_weights=True) puts back).
                self.epoch_digests: set[str] = set()

            def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
                # After the learner's own callbacks' on_epoch_begin: what the epoch's training
                # steps change is measured from here (weights a callback sets between epochs are
                # not learned by them). weight_values never raises: a recorder must not break
                # the learner's training.
                if self.call is not None:
                    self.epoch_start = weight_values(self.model, session.keras_weights_of)

            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                values = _floats(logs or {})
                if self.call is not None:
                    log_epoch(self.call, values)
                    from grader.trusted.weights import digest_arrays

                    # One read of the weights serves both the change and the digest.
                    after = weight_values(self.model, session.keras_weights_of)
                    try:
                        moved = relative_change(getattr(self, "epoch_start", None), after)
                        if moved is not None:
                            self.call.weight_change = max(self.call.weight_change or 0.0, moved)
                        if after is not None:
                            self.epoch_digests.add(digest_arrays(after))
                    except Exception:  # noqa: BLE001 - unknown, never the learner's error
                        pass
                session.emit("epoch", epoch=epoch + 1, epochs=self.epochs, logs=values)

            def on_train_end(self, logs: dict | None = None) -> None:
                if self.call is None:
                    return
                self.call.learning_rate = learning_rate_of(self.model)
                # Weights no epoch ended with were set as training ended (a callback's
                # on_train_end, which runs before this one): not learned in fit's epochs.
                final = session.digest_of(self.model)
                self.call.replaced_at_end = (
                    bool(self.epoch_digests) and final is not None and final not in self.epoch_digests
                )

        def observed_fit(model: Any, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
            epochs = kwargs.get("epochs", args[1] if len(args) > 1 else 1)
            call = describe_fit_call(x, y, epochs, kwargs)
            batch_size = kwargs.get("batch_size", args[0] if args else None)
            call.batch_size = batch_size if isinstance(batch_size, int) and not isinstance(batch_size, bool) else None
            session.fit_calls.append(call)
            if not any(seen is model for seen in session.fitted_models):
                session.fitted_models.append(model)
            session.emit("fit", epochs=call.epochs, samples=call.x_shape[0] if call.x_shape else None)
            callbacks = list(kwargs.pop("callbacks", None) or [])
            callbacks.append(_ProgressCallback(int(epochs) if isinstance(epochs, int) else 0, call))
            weights_before = session.digest_of(model)
            session.note_model_in_training(model)
            session.enter_phase("train")
            started = time.perf_counter()
            try:
                if session.quick:
                    # Quick mode: the same fit, the learner's own arguments and callbacks, on a
                    # small slice for one epoch: enough to meet shape, dtype, loss/label and
                    # callback errors. What was asked for is recorded above.
                    arguments = trial_fit_arguments(original_fit, model, x, y, args, kwargs, session.quick)
                    # Progress counts the trial's epochs, not the ones asked for.
                    arguments["callbacks"] = [*callbacks[:-1], _ProgressCallback(session.quick.epochs, call)]
                    history = original_fit(model, **arguments)
                else:
                    history = original_fit(model, x, y, *args, callbacks=callbacks, **kwargs)
            except BaseException as exc:
                # Recorded when the exception has climbed to the learner's line (run_phased).
                session.fit_failure = exc
                raise
            finally:
                session.fit_seconds += time.perf_counter() - started
            # Scripts rarely keep the History fit returns: keep it for them.
            session.last_history = history
            session.fit_histories[id(history)] = (history, len(session.fit_calls) - 1)
            weights_after = session.note_fit_digest(model)
            session.note_fit_record(
                model, call, changed=None if weights_before is None else weights_after != weights_before
            )
            session.enter_phase("finish")
            return history

        original_compile = keras.Model.compile

        def observed_compile(model: Any, *args: Any, **kwargs: Any) -> Any:
            # Compiled again after training (to evaluate with other metrics, say): the settings
            # the file carries are no longer those fit trained with, and that is no forgery.
            record = session.fit_records.get(id(model))
            if record is not None and record.model is model:
                record.compiled_after_fit = True
            return original_compile(model, *args, **kwargs)

        keras.Model.compile = observed_compile

        keras.Model.fit = observed_fit
        if session.quick:
            # A script's own evaluate()/predict() on 10,000 images measures nothing in a
            # preview: they run on the same small slice.
            for name in ("evaluate", "predict"):
                setattr(keras.Model, name, _on_a_slice(getattr(keras.Model, name), session.quick.samples))

    # --- certificate style, scripts and notebooks -------------------------------------------

    def run_certificate(self) -> None:
        """Import the module and call ``solution_model()``: it loads, builds and trains."""
        ok, module = self.run_step("import", self.import_submission)
        if not ok:
            return
        self.module = module
        name = self.adapter.function or "solution_model"
        func = getattr(module, name, None)
        self.evidence.functions[name] = describe_function(name, func)
        self.save()
        if not callable(func):
            self.record_no_model(
                Finding("no_function", {"file": self.display_name, "function": name, "defined": func is not None})
            )
            return
        self.watch_fit()
        ok, returned = self.run_phased(f"{name}()", func)
        if self.is_model(returned):
            self.conclude(returned, Finding("returned", {"function": name}))
            return
        # Not handed back (it returned something else, or raised after training): grade the
        # one model model.fit trained, if there is one, and say what was wrong.
        fallback = self.fitted_models[0] if len(self.fitted_models) == 1 else None
        returned_type = type(returned).__name__
        if fallback is None:
            self.conclude(None, Finding("returned_no_model", {"function": name, "returned_type": returned_type}))
            return
        if ok:
            self.record_step_problem(
                "finish", Finding("returned_other_model", {"function": name, "returned_type": returned_type})
            )
        self.conclude(fallback, Finding("fit_in_function", {"function": name}))

    def run_script(self) -> None:
        """Run a script (or a notebook's cells) top to bottom, then take the model it leaves."""
        kind = "notebook" if self.adapter.cells else "script"
        ok, codes = self.run_step("import", self.compile_code)
        if not ok:
            return
        namespace: dict[str, Any] = (
            notebook_globals()
            if kind == "notebook"
            else {
                "__name__": "__main__",
                "__file__": str(self.submission),
                "__builtins__": builtins,
            }
        )
        sys.argv = [self.display_name]
        self.watch_fit()

        def run_all() -> None:
            for code in codes:
                exec(code, namespace)  # noqa: S102 - learner code, in the sandbox

        self.run_phased(kind, run_all)
        model, finding = choose_script_model(
            namespace, self.adapter.model_variable, self.fitted_models, self.keras, kind
        )
        self.conclude(model, finding)

    def compile_code(self) -> list[Any]:
        """The submission's code objects: the file, or each notebook cell under a name of its
        own. All are compiled before any runs, so a syntax error stops the run at once."""
        cells = self.adapter.cells
        if not cells:
            text = self.submission.read_text(encoding="utf-8", errors="replace")
            return [compile(text, str(self.submission), "exec")]
        codes = []
        for cell in cells:
            filename = f"<{self.display_name} cell {cell.number}>"
            source = cell.source
            # How a traceback names the cell: "analysis.ipynb, cell 5" (names and numbers only).
            self.sources[filename] = f"{self.display_name}, cell {cell.number}"
            # Tracebacks read source lines through linecache; a cell has no file to read.
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            codes.append(compile(source, filename, "exec"))
        return codes

    def run_phased(self, run_by: str, func: Any) -> tuple[bool, Any]:
        """Call learner code that builds and trains in one go (a script, solution_model()),
        recording its phases as steps: "build_model" until the first model.fit, "train" while
        fitting, "finish" after the last fit. An exception is recorded on the phase it ended.
        Catches everything the learner raises; a script's ``sys.exit(0)`` is a normal end."""
        # The progress stage is a code the parent words in the learner's language
        # (runner.PROGRESS_STAGES, grader.messages.interface.STAGE_TEXT); "name()" is shown as it is.
        self.emit("stage", stage=run_by)
        self.run_by = run_by
        self.enter_phase("build_model")
        try:
            value = func()
        except SystemExit as exc:
            if exc.code in (None, 0) and self.graded_as == "script":
                self.enter_phase(None)
                return True, None
            self.enter_phase(None, self.describe(exc))
            return False, None
        except BaseException as exc:  # noqa: BLE001 - learner code may raise anything
            # If model.fit raised, the phase in flight is still "train": the failure is its.
            self.enter_phase(None, self.describe(exc))
            return False, None
        self.enter_phase(None)
        return True, value

    def enter_phase(self, name: str | None, exception: ExceptionInfo | None = None) -> None:
        """End the phase in flight (ok, or with ``exception``) and start ``name`` (None: none).

        A phase that already ended with an exception keeps it: a later fit after a failed one
        (the learner caught the error) does not hide the failure.
        """
        if self.run_by == "":
            return  # the module style: train() is a step of its own
        now = time.perf_counter()
        if self.phase is not None:
            if exception is None and self.phase == "train" and self.fit_failure is not None:
                exception = self.describe(self.fit_failure)  # the learner caught fit's error
            self.fit_failure = None
            previous = self.evidence.steps.get(self.phase)
            seconds = now - self.phase_started + (previous.seconds if previous else 0.0)
            if previous is not None and previous.status == "exception":
                previous.seconds = seconds
            else:
                self.evidence.steps[self.phase] = StepResult(
                    name=self.phase,
                    status="exception" if exception else "ok",
                    seconds=seconds,
                    exception=exception,
                    run_by=self.run_by,
                )
        self.phase, self.phase_started = name, now
        if name is not None:
            previous = self.evidence.steps.get(name)
            if previous is None or previous.status == "ok":
                # "started" marks the phase in flight, for the parent if the child dies now.
                self.evidence.steps[name] = StepResult(
                    name=name, status="started", seconds=previous.seconds if previous else 0.0, run_by=self.run_by
                )
        self.save()

    def note_model_in_training(self, model: Any) -> None:
        """Describe the first model a script or solution_model() trains, as it starts training:
        if the run is killed or fit fails, the model checks still have a model to judge (as
        build_model()'s model for the module style). The model chosen at the end replaces it."""
        if self.run_by and self.evidence.model is None:
            self.evidence.model = describe_model(model, self.keras)
            self.evidence.model_origin = Finding("in_training")

    def record_step_problem(self, step: str, problem: Finding) -> None:
        """A problem the grader found (not an exception the learner's code raised), as a code
        and facts (grader.messages.sandbox.PROBLEMS); the parent says it in words."""
        self.evidence.steps[step] = StepResult(
            name=step,
            status="exception",
            seconds=self.evidence.steps[step].seconds if step in self.evidence.steps else 0.0,
            exception=ExceptionInfo(type=MODEL_NOT_FOUND, message="", code=problem.code, facts=problem.facts),
            run_by=self.run_by,
        )
        self.save()

    def record_no_model(self, problem: Finding) -> None:
        """No model to grade: said on the "build_model" step, unless the learner's code had
        already failed before training, which is then the first real cause."""
        for step in ("build_model", "train"):
            current = self.evidence.steps.get(step)
            if current is not None and current.status == "exception":
                return
        self.record_step_problem("build_model", problem)

    def conclude(self, model: Any, finding: Finding) -> None:
        """Record the model that will be graded and where it came from (``finding``: a
        ``MODEL_ORIGINS`` code), or, with no model, why there is none (a ``PROBLEMS`` code).

        A model is handed to the trusted evaluator only if the learner's code got through
        building and training, as for the module style: a run that failed before its model was
        trained has no test accuracy to earn.
        """
        if model is None:
            # No model to grade: nothing noted while training stands in for one.
            self.evidence.model, self.evidence.model_origin = None, None
            self.record_no_model(finding)
            return
        self.evidence.model_origin = finding
        info = describe_model(model, self.keras)
        self.evidence.model = info
        self.evidence.trained_model = info
        self.evidence.train = describe_training(self.last_history, self.fit_calls, self.fit_seconds, self.fit_histories)
        self.save()
        failed = any(
            self.evidence.steps.get(step) is not None and self.evidence.steps[step].status == "exception"
            for step in ("build_model", "train")
        )
        if not failed:
            self.save_model(model)

    def is_model(self, value: Any) -> bool:
        return self.keras is not None and isinstance(value, self.keras.Model)

    # --- saved models ------------------------------------------------------------------------

    def run_saved_model(self) -> None:
        """Load the learner's model file. Here, not in the grader: a legacy .h5 file can carry
        code (a Lambda layer's bytecode), and this is the process that may run it. The model
        is saved again as .keras, which the trusted evaluator loads in safe mode."""
        self.run_by = "saved_model"
        self.emit("stage", stage="saved_model")  # "Running keras.saving.load_model()"
        self.evidence.steps["build_model"] = StepResult(name="build_model", status="started", run_by=self.run_by)
        self.save()
        started = time.perf_counter()
        model, failure = load_learner_model(self.keras, self.submission)
        if model is None:
            self.record_step_problem("build_model", Finding("model_not_loaded", {"file": self.display_name, **failure}))
            return
        if failure:
            self.evidence.compile_settings_lost = failure
        self.evidence.steps["build_model"] = StepResult(
            name="build_model", status="ok", seconds=time.perf_counter() - started, run_by=self.run_by
        )
        self.evidence.model_origin = Finding("saved_file", {"file": self.display_name})
        info = describe_model(model, self.keras)
        self.evidence.model = info
        self.evidence.trained_model = info
        self.save()
        self.save_model(model)

    def note_fit_digest(self, model: Any) -> str | None:
        """The digest of ``model``'s weights as ``model.fit`` left them (grader.trusted.weights):
        the trusted evaluator compares it with the file it scores."""
        digest = self.digest_of(model)
        self.fit_digests[id(model)] = (model, digest)
        return digest

    def digest_of(self, model: Any) -> str | None:
        from grader.trusted.weights import weights_digest

        return weights_digest(model, self.keras_weights_of)

    def note_fit_record(self, model: Any, call: FitCall, *, changed: bool | None) -> None:
        """What this fit of ``model`` did: whether it changed the weights, the optimizer it
        trained with, the metrics it logged."""
        record = self.fit_records.get(id(model))
        if record is None or record.model is not model:
            record = self.fit_records[id(model)] = FitRecord(model)
        if changed is not None:  # None: a digest could not be taken; says nothing either way
            record.changed = bool(record.changed) or changed
        record.optimizer = optimizer_class_name(model)
        record.learning_rate = call.learning_rate
        record.replaced_at_end = call.replaced_at_end  # as its last fit ended
        record.logged_keys.update(call.logged)
        if call.weight_change is not None:
            record.largest_change = max(record.largest_change or 0.0, call.weight_change)
        record.compiled_after_fit = False

    def save_model(self, model: Any) -> None:
        """Save the graded model as .keras with Keras' own saving function, never the model's
        (overridable) ``save()``, and record the digest of its weights now and after its last fit."""
        if self.keras is None or not isinstance(model, self.keras.Model):
            return
        from grader.trusted.weights import weights_digest

        path = Path(self.plan.model_path)
        fitted = self.fit_digests.get(id(model))
        fit_record = self.fit_records.get(id(model))
        fit_record = fit_record if fit_record is not None and fit_record.model is model else None
        record = SavedWeights(
            after_fit=fitted[1] if fitted is not None and fitted[0] is model else None,
            fitted=fitted is not None and fitted[0] is model,
            fit_calls_on_other_models=sum(1 for other, _ in self.fit_digests.values() if other is not model),
            save_overridden=_overridden_save(model, self.keras_model_save),
        )
        if fit_record is not None:
            record.changed_by_fit = fit_record.changed
            record.largest_weight_change = fit_record.largest_change
            record.replaced_when_fit_ended = fit_record.replaced_at_end
            if not fit_record.compiled_after_fit:
                record.fit_optimizer = fit_record.optimizer
                record.fit_learning_rate = fit_record.learning_rate
                record.fit_logged = sorted(fit_record.logged_keys)[:MAX_LOGGED_KEYS]
        restore_optimizer_config(model)
        try:
            self.keras_save_model(model, path)
            self.evidence.model_file = path.name
        except Exception as exc:  # noqa: BLE001 - e.g. custom layers that cannot be serialised
            self.evidence.model_save_error = f"{type(exc).__name__}: {str(exc)[:MAX_MESSAGE_CHARS]}"
        record.at_save = weights_digest(model, self.keras_weights_of)
        self.evidence.saved_weights = record
        self.save()


# --- describing what we saw (facts only) -------------------------------------------------------


def describe_exception(
    exc: BaseException, submission: Path, display_name: str, sources: dict[str, str] | None = None
) -> ExceptionInfo:
    """The exception as the learner needs it: their own frames, their file name.

    ``sources`` maps the file names Python compiled the learner's code under to the names the
    learner knows (a notebook cell: ``"analysis.ipynb, cell 5"``); by default, the submission.
    """
    sources = sources or {str(submission): display_name}
    frames = [
        Frame(file=sources[fs.filename], line=fs.lineno or 0, function=fs.name, code=(fs.line or "").strip())
        for fs in traceback.extract_tb(exc.__traceback__)
        if fs.filename in sources
    ]
    if isinstance(exc, SyntaxError) and exc.filename in sources:
        frames.append(
            Frame(file=sources[exc.filename], line=exc.lineno or 0, function="<module>", code=(exc.text or "").strip())
        )
    if isinstance(exc, SystemExit):
        # No text of its own: the parent says "the code called sys.exit(3)" from the code.
        info = ExceptionInfo(
            type="SystemExit", message="", frames=frames, code="sys_exit", facts={"exit_code": repr(exc.code)}
        )
    else:
        message = str(exc) if not isinstance(exc, SyntaxError) else (exc.msg or str(exc))
        info = ExceptionInfo(
            type=type(exc).__name__, message=bound_message(tensorflow_root_cause(message) or message), frames=frames
        )
        facts = getattr(exc, "sandbox_facts", None)
        if type(exc).__name__ == "DatasetNotServedError" and isinstance(facts, dict):
            # The offline loaders' own refusal (grader.sandbox.offline_data): its code and facts.
            info.code, info.facts = str(getattr(exc, "sandbox_code", "")), dict(facts)
    # The learner's frames and Python's final line (facts); the parent adds its heading.
    lines = []
    for frame in frames:
        # A notebook cell is no file to open: "analysis.ipynb, cell 5, line 3".
        where = f'File "{frame.file}"' if frame.file == display_name else frame.file
        lines.append(f"  {where}, line {frame.line}, in {frame.function}")
        if frame.code:
            lines.append(f"    {frame.code}")
    lines.append(f"{info.type}: {info.message}")
    info.traceback = "\n".join(lines)
    return info


# TensorFlow's runtime errors (InvalidArgumentError, ...) put the cause last: "Graph execution
# error:", then "Detected at node ... defined at (most recent call last):" and one "File ..."
# line per frame of Keras and the grader (two dozen), then the one line that says what went
# wrong, then "[[{{node ...}}]] [Op:...]". Measured with TensorFlow 2.21, e.g. for MSE on integer
# labels against 10 softmax outputs: "Incompatible shapes: [32] vs. [32,10]".
_TF_FRAMING = ("Graph execution error", "Detected at node", "Detected unsupported operations", "File ", "[[", "[Op:")


def tensorflow_root_cause(message: str) -> str | None:
    """The line of a TensorFlow runtime error that says what went wrong, or None when
    ``message`` is not one. The label list TensorFlow appends ("Label values: 8 1 3 ...") goes."""
    if "Graph execution error" not in message and "defined at (most recent call last)" not in message:
        return None
    for line in message.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(_TF_FRAMING):
            return re.sub(r"\s+Label values:.*$", "", stripped)
    return None


def bound_message(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """At most ``limit`` characters, keeping the start and the end: Keras states the cause at the
    start of a message, TensorFlow and many libraries at its end."""
    if len(message) <= limit:
        return message
    tail, marker = limit // 4, " [...] "
    return f"{message[: limit - tail - len(marker)]}{marker}{message[-tail:]}"


def describe_function(name: str, func: Any) -> FunctionInfo:
    if func is None:
        return FunctionInfo(name=name, present=False)
    if not callable(func):
        return FunctionInfo(name=name, present=True, callable=False)
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return FunctionInfo(name=name, present=True, callable=True, accepts_varargs=True)
    params = list(signature.parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return FunctionInfo(
        name=name,
        present=True,
        callable=True,
        parameters=[p.name for p in params if p.kind in positional],
        required_parameters=sum(1 for p in params if p.kind in positional and p.default is p.empty),
        accepts_varargs=any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params),
    )


def describe_array(value: Any) -> ArrayInfo | None:
    import numpy as np

    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - a tf.data.Dataset or other non-array
        return None
    if array.dtype == object or array.ndim == 0:
        return None
    numeric = array.size > 0 and np.issubdtype(array.dtype, np.number)
    return ArrayInfo(
        shape=[int(d) for d in array.shape],
        dtype=str(array.dtype),
        min=float(array.min()) if numeric else None,
        max=float(array.max()) if numeric else None,
    )


def describe_data(data: Any) -> DataInfo:
    """``load_data()`` must return ``((train_images, train_labels), (test_images, test_labels))``;
    when it does not, what it returned instead (its type and length, or the item that is not an
    array)."""
    names = (("train_images", "train_labels"), ("test_images", "test_labels"))
    items = len(data) if isinstance(data, (tuple, list)) else None
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        return DataInfo(structure_ok=False, returned_type=type(data).__name__, items=items)
    arrays: dict[str, ArrayInfo] = {}
    for pair, pair_names in zip(data, names, strict=False):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            return DataInfo(structure_ok=False, returned_type=type(data).__name__, items=items)
        for value, name in zip(pair, pair_names, strict=False):
            info = describe_array(value)
            if info is None:
                return DataInfo(structure_ok=False, bad_item=name, bad_item_type=type(value).__name__)
            arrays[name] = info
    return DataInfo(structure_ok=True, arrays=arrays)


def restore_optimizer_config(model: Any) -> None:
    """Put the optimizer back into the model's compile config when Keras took it out.

    Saving a model as legacy ``.h5`` (``model.save("x.h5")``) pops ``"optimizer"`` from the
    config that ``get_compile_config()`` and the ``.keras`` file are made from, though the model
    keeps its optimizer: a script ending with that save would otherwise look never compiled
    with one.
    """
    config = getattr(getattr(model, "_compile_config", None), "config", None)
    optimizer = getattr(model, "optimizer", None)
    if isinstance(config, dict) and optimizer is not None and config.get("optimizer") is None:
        config["optimizer"] = optimizer


def _overridden_save(model: Any, keras_save: Any) -> str:
    """``"MyModel.save"`` when the model's class (or a patch) replaced Keras' ``Model.save``,
    else ""."""
    if keras_save is None:
        return ""
    method = getattr(type(model), "save", None)
    if method is keras_save:
        return ""
    owner = next((cls.__name__ for cls in type(model).__mro__ if "save" in vars(cls)), type(model).__name__)
    return f"{owner}.save"


def describe_model(obj: Any, keras: Any) -> ModelInfo:
    returned_type = f"{type(obj).__module__}.{type(obj).__qualname__}"
    if keras is None or not isinstance(obj, keras.Model):
        return ModelInfo(returned_type=returned_type, is_keras_model=False)
    restore_optimizer_config(obj)
    info = ModelInfo(returned_type=returned_type, is_keras_model=True, built=bool(obj.built))
    info.compiled = bool(getattr(obj, "compiled", False)) and getattr(obj, "optimizer", None) is not None
    info.input_shape = _tensor_shape(getattr(obj, "inputs", None))
    info.output_shape = _tensor_shape(getattr(obj, "outputs", None))
    info.layers = [describe_layer(layer, keras) for layer in _leaf_layers(obj, keras)]
    if obj.built:
        try:
            info.total_params = int(obj.count_params())
        except Exception:  # noqa: BLE001 - partially built models
            info.total_params = None
        info.summary = _summary_text(obj)
    if info.compiled:
        try:
            info.compile_config = _jsonable(obj.get_compile_config() or {})
        except Exception as exc:  # noqa: BLE001 - unserialisable custom loss
            info.compile_config = {"error": f"{type(exc).__name__}: {exc}"}
    return info


def describe_layer(layer: Any, keras: Any) -> LayerInfo:
    try:
        config = _jsonable(layer.get_config())
    except Exception:  # noqa: BLE001 - custom layers without get_config
        config = {}
    try:
        params = int(layer.count_params()) if layer.built else 0
    except Exception:  # noqa: BLE001
        params = 0
    output_shape = None
    try:
        output_shape = [None if d is None else int(d) for d in layer.output.shape[1:]]
    except Exception:  # noqa: BLE001 - unbuilt layers have no output yet
        pass
    return LayerInfo(
        name=layer.name, class_name=type(layer).__name__, params=params, output_shape=output_shape, config=config
    )


def describe_fit_call(x: Any, y: Any, epochs: Any, kwargs: dict[str, Any]) -> FitCall:
    call = FitCall(epochs=int(epochs) if isinstance(epochs, int) else None)
    call.validation = kwargs.get("validation_data") is not None or bool(kwargs.get("validation_split"))
    x_info, y_info = describe_array(x), describe_array(y)
    if x_info is not None:
        call.x_shape, call.x_dtype, call.x_min, call.x_max = x_info.shape, x_info.dtype, x_info.min, x_info.max
        call.x_fingerprint = image_fingerprint(x)
    if y_info is not None:
        call.y_shape = y_info.shape
    return call


@dataclass
class FitRecord:
    """What the fits of one model did, seen from inside Keras while they ran."""

    model: Any
    changed: bool | None = None  # some fit changed its weights (None: no digest to tell)
    optimizer: str = ""  # the class of the optimizer its last fit trained with
    learning_rate: float | None = None  # the optimizer's learning rate as its last fit ended
    largest_change: float | None = None  # the most one epoch of its fits moved its weights
    replaced_at_end: bool = False  # its last fit ended with weights none of its epochs ended with
    logged_keys: set[str] = field(default_factory=set)  # what its fits' epochs logged
    compiled_after_fit: bool = False  # compiled again since its last fit


def log_epoch(call: FitCall, values: dict[str, float]) -> None:
    """Add one epoch's logs, as the grader's callback saw them, to ``call.logged``."""
    for key, value in values.items():
        series = call.logged.get(key)
        if series is None:
            if len(call.logged) >= MAX_LOGGED_KEYS:
                continue
            series = call.logged[key] = []
        if len(series) < MAX_LOGGED_EPOCHS:
            series.append(value)


def weight_values(model: Any, weights_of: Any) -> list[Any] | None:
    """Copies of ``model``'s weights (Keras' own getter, see ``keras_weights_of``), or None."""
    import numpy as np

    try:
        variables = list(weights_of(model) if weights_of is not None else model.weights)
        return [np.array(variable, copy=True) for variable in variables]
    except Exception:  # noqa: BLE001 - a model whose weights cannot be read says nothing here
        return None


def relative_change(before: list[Any] | None, after: list[Any] | None) -> float | None:
    """How far training moved the weights, as a share of their size: the norm of the change
    over the norm of the weights before (measured per epoch: over 1 for the chapter's first epoch
    from a fresh start, and far above a thousandth for every epoch of ordinary training). None
    when either side is unknown or the model changed shape."""
    import numpy as np

    if not before or after is None or len(before) != len(after):
        return None
    if any(a.shape != b.shape for a, b in zip(before, after, strict=True)):
        return None
    wide = np.float64
    moved = math.sqrt(
        sum(float(np.sum((a.astype(wide) - b.astype(wide)) ** 2)) for a, b in zip(after, before, strict=True))
    )
    size = math.sqrt(sum(float(np.sum(b.astype(wide) ** 2)) for b in before))
    if not math.isfinite(moved) or not math.isfinite(size):
        return None
    return moved / size if size > 0 else (math.inf if moved > 0 else 0.0)


def learning_rate_of(model: Any) -> float | None:
    """The learning rate ``model``'s optimizer holds now (a schedule's current value), or None."""
    import numpy as np

    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    if type(optimizer).__name__ == "LossScaleOptimizer":
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
    try:
        rate = float(np.asarray(optimizer.learning_rate))
    except Exception:  # noqa: BLE001 - a rate that is not a number
        return None
    return rate if math.isfinite(rate) else None


def optimizer_class_name(model: Any) -> str:
    """The class of the optimizer ``model`` trains with ("Adam"); the inner one of a mixed
    precision wrapper; "" when there is none."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return ""
    if type(optimizer).__name__ == "LossScaleOptimizer":
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
    return type(optimizer).__name__


def describe_training(
    history: Any, fit_calls: list[FitCall], seconds: float, fit_histories: dict[int, tuple[Any, int]] | None = None
) -> TrainInfo:
    """What train() (or a script) returned, judged on what its fits logged while they ran.

    The History a fit returns can be edited before train() returns it (``history.history =
    {...}``, a callback's ``on_train_end``), and a History can be made by hand. The figures the
    judges read are the ones the grader's callback saw as each epoch ended; a returned History
    whose figures none of the fits logged is recorded as edited (``history_edited``).
    """
    is_history = type(history).__name__ == "History" and hasattr(history, "history")
    claimed: dict[str, list[float]] = {}
    if is_history:
        try:
            items = list(dict(history.history).items())
        except (TypeError, ValueError):
            items = []
        for key, series in items[:MAX_LOGGED_KEYS]:
            try:
                claimed[str(key)] = [float(v) for v in list(series)[:MAX_LOGGED_EPOCHS]]
            except (TypeError, ValueError):
                continue
    values, edited = claimed, False
    if is_history and fit_calls:
        from_fit = (fit_histories or {}).get(id(history))
        own = fit_calls[from_fit[1]] if from_fit is not None and from_fit[0] is history else None
        edited = bool(claimed) and not history_explained(claimed, fit_calls)
        # Its figures are what fits logged (one fit's, or several joined): as returned. Edited,
        # or without a loss: what the fit that returned it logged.
        if own is not None and own.logged and (edited or not claimed.get("loss")):
            values = own.logged
    epochs_run = max((len(v) for v in values.values()), default=0)
    returned_type = f"{type(history).__module__}.{type(history).__qualname__}"
    return TrainInfo(
        returned_type=returned_type,
        is_history=is_history,
        history=values,
        epochs_run=epochs_run,
        fit_calls=list(fit_calls),
        seconds=seconds,
        history_edited=edited,
        claimed_history=claimed if edited else {},
    )


def history_explained(claimed: dict[str, list[float]], fit_calls: list[FitCall]) -> bool:
    """The figures of ``claimed`` are what some fit logged: one fit's, or those of several fits
    in a row put together (learners join the Histories of a training in stages). Keys that no
    fit logged (added after training) and keys left out do not count; a figure that differs does."""
    logs = [call.logged for call in fit_calls if call.logged]
    if not logs:
        return True  # nothing was seen to compare with (the learner's own callbacks argument)
    for first in range(len(logs)):
        joined: dict[str, list[float]] = {}
        for logged in logs[first:]:
            for key, series in logged.items():
                joined.setdefault(key, []).extend(series)
            if _same_figures(claimed, joined):
                return True
    return False


def _same_figures(claimed: dict[str, list[float]], logged: dict[str, list[float]]) -> bool:
    shared = [key for key in logged if key in claimed]
    return bool(shared) and all(
        len(claimed[key]) == len(logged[key])
        and all(math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-7) for a, b in zip(claimed[key], logged[key], strict=True))
        for key in shared
    )


# --- choosing and loading the model ------------------------------------------------------------


def choose_script_model(
    namespace: dict[str, Any], variable: str, fitted: list[Any], keras: Any, kind: str = "script"
) -> tuple[Any, Finding]:
    """The model a script or notebook leaves to grade, and where it came from (a
    ``MODEL_ORIGINS`` code); or None and the problem (a ``PROBLEMS`` code).

    In order: the variable the exercise names (``model``); else the one compiled Keras model
    among the script's variables (the only model, if none is compiled); else the one model
    ``model.fit`` trained (e.g. inside a ``main()`` function). Two candidates or none is a
    problem the learner fixes by naming the model ``variable``.
    """
    facts: dict[str, Any] = {"kind": kind, "variable": variable}
    named = namespace.get(variable)
    if isinstance(named, keras.Model):
        return named, Finding("variable", facts)
    models: dict[int, tuple[Any, list[str]]] = {}
    for name, value in namespace.items():
        if not name.startswith("_") and isinstance(value, keras.Model):
            models.setdefault(id(value), (value, []))[1].append(name)
    compiled = [(m, names) for m, names in models.values() if _is_compiled(m)]
    candidates = compiled or list(models.values())
    if len(candidates) == 1:
        model, names = candidates[0]
        return model, Finding("left_in", {**facts, "variable": names[0]})
    if len(candidates) > 1:
        names = [names[0] for _, names in candidates]
        return None, Finding(
            "several_models", {**facts, "count": len(candidates), "names": names, "compiled": bool(compiled)}
        )
    if len(fitted) == 1:
        return fitted[0], Finding("fit_in_kind", facts)
    if len(fitted) > 1:
        return None, Finding("several_fitted", {**facts, "count": len(fitted)})
    holds = type(named).__name__ if variable in namespace else ""
    return None, Finding("no_model", {**facts, "holds": holds})


def load_learner_model(keras: Any, path: Path) -> tuple[Any, dict[str, Any]]:
    """``(model, {})``; or ``(model, why its compile settings were lost)``; or ``(None, why it
    could not be loaded)``: facts for ``grader.messages.sandbox.load_failure``.

    Safe mode stays on even here: a Lambda layer is refused, as the trusted evaluator would
    refuse it. A model whose compile settings cannot be restored (a custom loss) is loaded
    without them, and the parent notes it.
    """
    # Keras 3 writes `activation=tf.nn.softmax` into a legacy .h5 under TensorFlow's own function
    # name, "softmax_v2", which it then cannot read back; these are Keras' own functions.
    tf_function_names = {
        "softmax_v2": keras.activations.softmax,
        "log_softmax_v2": keras.activations.log_softmax,
    }
    try:
        return keras.saving.load_model(path, compile=True, safe_mode=True, custom_objects=tf_function_names), {}
    except Exception as first:  # noqa: BLE001 - every load failure is the file's
        try:
            model = keras.saving.load_model(path, compile=False, safe_mode=True, custom_objects=tf_function_names)
        except Exception:  # noqa: BLE001
            return None, load_failure_facts(first)
        return model, load_failure_facts(first)


def load_failure_facts(exc: Exception) -> dict[str, Any]:
    """Why Keras refused a model file: its exception and the first line of its text (verbatim),
    and whether it was a Lambda layer that safe mode refuses."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    lambda_layer = "Lambda" in str(exc) or "safe_mode" in str(exc)
    return {"exception": type(exc).__name__, "detail": text[:300], "lambda_layer": lambda_layer}


QUIET_PLOTS_BACKEND = "module://grader.sandbox.quiet_plots"


def quiet_plots() -> None:
    """Plots render off-screen and plt.show() closes them (see ``quiet_plots``). Importing
    TensorFlow already imports pyplot, so its backend is switched; otherwise matplotlib reads
    the variable when the learner's code first imports it."""
    os.environ["MPLBACKEND"] = QUIET_PLOTS_BACKEND
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        try:
            pyplot.switch_backend(QUIET_PLOTS_BACKEND)
        except Exception:  # noqa: BLE001 - plots are the learner's business; Agg still works
            pass


def notebook_globals() -> dict[str, Any]:
    """What a notebook's code finds in a Jupyter kernel beyond builtins, within reason."""

    def display(*objects: Any, **kwargs: Any) -> None:
        for obj in objects:
            print(repr(obj))

    return {"__name__": "__main__", "__builtins__": builtins, "display": display}


def _is_compiled(model: Any) -> bool:
    return bool(getattr(model, "compiled", False)) and getattr(model, "optimizer", None) is not None


# --- quick mode: a trial fit ------------------------------------------------------------------


def trial_fit_arguments(
    fit: Any,
    model: Any,
    x: Any,
    y: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    quick: TrialFit | dict[str, int],
) -> dict[str, Any]:
    """The learner's ``fit`` arguments, cut down to a trial: the first ``quick.samples``
    samples (arrays, tensors, and validation data alike) for ``quick.epochs`` epochs. Data
    that cannot be sliced (a ``tf.data.Dataset``, a generator) is limited by steps instead.
    Arguments are bound by name first, so positional ones (``fit(x, y, 32, 5)``) are cut too.
    """
    if isinstance(quick, dict):  # as QuickTrial.to_plan() writes it
        quick = TrialFit(samples=int(quick["samples"]), epochs=int(quick.get("epochs", 1)))
    samples, epochs = quick.samples, quick.epochs
    try:
        bound = inspect.signature(fit).bind(model, x, y, *args, **kwargs)
        arguments = dict(bound.arguments)
    except TypeError:
        arguments = {"x": x, "y": y, **kwargs}  # fit itself will say what is wrong
    arguments.pop("self", None)
    arguments.update(arguments.pop("kwargs", {}) or {})
    sliceable = _first_samples(arguments.get("x"), samples) is not None
    for name in ("x", "y", "sample_weight"):
        cut = _first_samples(arguments.get(name), samples)
        if cut is not None:
            arguments[name] = cut
    validation = arguments.get("validation_data")
    if isinstance(validation, (tuple, list)):
        arguments["validation_data"] = tuple(
            cut if (cut := _first_samples(part, samples)) is not None else part for part in validation
        )
    arguments["epochs"] = int(arguments.get("initial_epoch") or 0) + epochs
    if not sliceable:
        steps = max(1, samples // 32)
        for name in ("steps_per_epoch", "validation_steps"):
            given = arguments.get(name)
            arguments[name] = min(int(given), steps) if isinstance(given, int) and given > 0 else steps
    return arguments


def _first_samples(value: Any, n: int) -> Any:
    """``value``'s first ``n`` samples, or None when it is not an array-like of samples."""
    if isinstance(value, dict):
        parts = {key: _first_samples(part, n) for key, part in value.items()}
        return parts if parts and all(part is not None for part in parts.values()) else None
    if isinstance(value, (list, tuple)) and value and all(hasattr(part, "shape") for part in value):
        pieces = [_first_samples(part, n) for part in value]
        return type(value)(pieces) if all(piece is not None for piece in pieces) else None
    shape = getattr(value, "shape", None)
    if shape is None or not hasattr(value, "__getitem__"):
        return None
    try:
        if len(shape) == 0:
            return None
        return value[:n]
    except Exception:  # noqa: BLE001 - not sliceable after all (a symbolic tensor, ...)
        return None


def _on_a_slice(method: Any, n: int) -> Any:
    """``method`` (``Model.evaluate``/``predict``) run on the first ``n`` samples in quick mode."""

    def on_a_slice(model: Any, x: Any = None, *args: Any, **kwargs: Any) -> Any:
        cut = _first_samples(x, n)
        if cut is not None:
            x = cut
            if args and _first_samples(args[0], n) is not None:
                args = (_first_samples(args[0], n), *args[1:])
            if _first_samples(kwargs.get("y"), n) is not None:
                kwargs["y"] = _first_samples(kwargs["y"], n)
        return method(model, x, *args, **kwargs)

    return on_a_slice


# --- small helpers -----------------------------------------------------------------------------


def _leaf_layers(model: Any, keras: Any) -> list[Any]:
    """Layers in order, with nested models (a Sequential inside a functional model) opened up."""
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            layers.extend(_leaf_layers(layer, keras))
        else:
            layers.append(layer)
    return layers


def _tensor_shape(tensors: Any) -> list[int | None] | None:
    try:
        return [None if d is None else int(d) for d in tensors[0].shape[1:]]
    except Exception:  # noqa: BLE001 - unbuilt models have no inputs yet
        return None


def _summary_text(model: Any) -> str:
    lines: list[str] = []
    try:
        model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line), line_length=90)
    except Exception:  # noqa: BLE001
        return ""
    return "\n".join(lines)


def _floats(logs: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in logs.items():
        try:
            out[str(key)] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def _json_default(value: Any) -> Any:
    try:
        return value.item()  # numpy scalars
    except AttributeError:
        return str(value)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=_json_default))


def _open_progress(fd: Any) -> Any:
    if fd is None:
        return None
    try:
        return os.fdopen(int(fd), "w", buffering=1, encoding="utf-8")
    except OSError:
        return None


def main(argv: list[str]) -> int:
    session = ChildSession(ChildPlan.read(Path(argv[1])))
    try:
        session.run()
    finally:
        session.save()
        session.emit("done")
    # Skip interpreter teardown: TensorFlow's can take seconds and learner threads may hang it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
