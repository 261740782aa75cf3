"""The sandboxed child: the only process in which learner code runs.

Started by ``grader.sandbox.runner`` as ``python -m grader.sandbox.child PLAN.json``. It imports
the learner's module, calls the functions the exercise names, and records *facts* as
``SandboxEvidence`` (written atomically after every step, so whatever happened before a crash or
a kill survives). It judges nothing and prints nothing of its own: learner output is the only
thing on stdout/stderr, and progress events go to a separate pipe.

The test split is never here: the training split comes from the served folder that holds only
it, and the dataset loaders a learner calls are served from the same folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from grader.evidence import (
    ArrayInfo,
    DataInfo,
    ExceptionInfo,
    FitCall,
    Frame,
    FunctionInfo,
    LayerInfo,
    ModelInfo,
    SandboxEvidence,
    StepResult,
    TrainInfo,
    to_json,
)

MAX_MESSAGE_CHARS = 2000


class ChildSession:
    """One run of one submission, driven by the plan the parent wrote."""

    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.submission = Path(plan["submission"])
        self.display_name = plan.get("display_name", self.submission.name)
        self.evidence_path = Path(plan["evidence_path"])
        self.evidence = SandboxEvidence(
            submission=self.display_name, seed=int(plan["seed"]), style=plan.get("style", "module")
        )
        self.progress = _open_progress(plan.get("progress_fd"))
        self.keras: Any = None
        self.module: Any = None

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
                exception=describe_exception(exc, self.submission, self.display_name),
            )
            self.save()
            return False, None
        self.evidence.steps[name] = StepResult(name=name, status="ok", seconds=time.perf_counter() - started)
        self.save()
        return True, value

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> None:
        self.save()
        self.emit("stage", stage="tensorflow")
        self.prepare_tensorflow()
        ok, module = self.run_step("import", self.import_submission)
        if not ok:
            return
        self.module = module
        self.record_functions()

        train_x = train_y = None
        if "load_data" in self.plan["functions"]:
            ok, data = self.call_learner("load_data")
            if not ok:
                return
            self.evidence.data = describe_data(data)
            self.save()
            if self.evidence.data.structure_ok:
                (train_x, train_y), _ = data
        if self.plan.get("train_data", "grader") == "grader":
            train_x, train_y = self.grader_training_split()

        ok, model = self.call_learner("build_model")
        if not ok:
            return
        self.evidence.model = describe_model(model, self.keras)
        self.save()
        if not self.evidence.model.is_keras_model or "train" not in self.plan["functions"]:
            self.save_model(model)
            return
        if train_x is None:
            return  # load_data returned something unusable: its check says what

        self.watch_fit()
        train_started = time.perf_counter()
        ok, history = self.call_learner("train", model, train_x, train_y)
        self.evidence.train = describe_training(history, self.fit_calls, time.perf_counter() - train_started)
        self.evidence.trained_model = describe_model(model, self.keras)
        self.save()
        if ok:
            self.save_model(model)

    def prepare_tensorflow(self) -> None:
        """Quiet logs, fixed seeds, thread counts, and the offline dataset loaders, before any
        learner code runs."""
        import random

        import numpy as np

        seed = int(self.plan["seed"])
        random.seed(seed)
        np.random.seed(seed)
        import tensorflow as tf

        threads = self.plan.get("threads")
        if threads:
            # Batch grading runs several children at once: each gets its share of the cores so
            # they don't oversubscribe the machine.
            tf.config.threading.set_intra_op_parallelism_threads(int(threads))
            tf.config.threading.set_inter_op_parallelism_threads(max(1, int(threads) // 2))
        import keras

        keras.utils.set_random_seed(seed)
        self.keras = keras
        served = {name: Path(path) for name, path in self.plan.get("served", {}).items()}
        if served:
            from grader.sandbox.offline_data import install_offline_loaders

            tfds_dir = self.plan.get("tfds_dir")
            install_offline_loaders(served, tfds_dir=Path(tfds_dir) if tfds_dir else None)

    def import_submission(self) -> Any:
        module_name = self.submission.stem if self.submission.stem.isidentifier() else "submission"
        spec = importlib.util.spec_from_file_location(module_name, self.submission)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {self.display_name}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        sys.argv = [self.display_name]
        spec.loader.exec_module(module)
        return module

    def record_functions(self) -> None:
        for name in self.plan["functions"]:
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

        served = Path(self.plan["served"][self.plan["dataset"]])
        images = np.load(served / "train_images.npy").astype("float32") / 255.0
        labels = np.load(served / "train_labels.npy").astype("int64")
        return images, labels

    def watch_fit(self) -> None:
        """Wrap ``keras.Model.fit`` to observe what the learner trains on and to stream
        per-epoch progress to the parent as each epoch ends."""
        keras = self.keras
        original_fit = keras.Model.fit
        session = self
        self.fit_calls: list[FitCall] = []

        class _ProgressCallback(keras.callbacks.Callback):
            def __init__(self, epochs: int) -> None:
                super().__init__()
                self.epochs = epochs

            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                session.emit("epoch", epoch=epoch + 1, epochs=self.epochs, logs=_floats(logs or {}))

        def observed_fit(model: Any, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
            epochs = kwargs.get("epochs", args[1] if len(args) > 1 else 1)
            call = describe_fit_call(x, y, epochs, kwargs)
            session.fit_calls.append(call)
            session.emit("fit", epochs=call.epochs, samples=(call.x_shape or [None])[0])
            callbacks = list(kwargs.pop("callbacks", None) or [])
            callbacks.append(_ProgressCallback(int(epochs) if isinstance(epochs, int) else 0))
            return original_fit(model, x, y, *args, callbacks=callbacks, **kwargs)

        keras.Model.fit = observed_fit

    def save_model(self, model: Any) -> None:
        if self.keras is None or not isinstance(model, self.keras.Model):
            return
        path = Path(self.plan["model_path"])
        try:
            model.save(path)
            self.evidence.model_file = path.name
        except Exception as exc:  # noqa: BLE001 - e.g. custom layers that cannot be serialised
            self.evidence.model_save_error = f"{type(exc).__name__}: {str(exc)[:MAX_MESSAGE_CHARS]}"
        self.save()


# --- describing what we saw (facts only) -------------------------------------------------------


def describe_exception(exc: BaseException, submission: Path, display_name: str) -> ExceptionInfo:
    """The exception as the learner needs it: their own frames, their file name."""
    submission_str = str(submission)
    frames = [
        Frame(file=display_name, line=fs.lineno or 0, function=fs.name, code=(fs.line or "").strip())
        for fs in traceback.extract_tb(exc.__traceback__)
        if fs.filename == submission_str
    ]
    if isinstance(exc, SyntaxError) and exc.filename == submission_str:
        frames.append(Frame(file=display_name, line=exc.lineno or 0, function="<module>", code=(exc.text or "").strip()))
    message = str(exc) if not isinstance(exc, SyntaxError) else (exc.msg or str(exc))
    if isinstance(exc, SystemExit):
        message = f"the code called sys.exit({exc.code!r})"
    message = message[:MAX_MESSAGE_CHARS]
    lines = ["Traceback (your code only):"]
    for frame in frames:
        lines.append(f'  File "{frame.file}", line {frame.line}, in {frame.function}')
        if frame.code:
            lines.append(f"    {frame.code}")
    lines.append(f"{type(exc).__name__}: {message}")
    return ExceptionInfo(type=type(exc).__name__, message=message, frames=frames, traceback="\n".join(lines))


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
    """``load_data()`` must return ``((train_images, train_labels), (test_images, test_labels))``."""
    names = (("train_images", "train_labels"), ("test_images", "test_labels"))
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        return DataInfo(structure_ok=False, description=_shape_of(data))
    arrays: dict[str, ArrayInfo] = {}
    for pair, pair_names in zip(data, names):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            return DataInfo(structure_ok=False, description=_shape_of(data))
        for value, name in zip(pair, pair_names):
            info = describe_array(value)
            if info is None:
                return DataInfo(structure_ok=False, description=f"{name} is a {type(value).__name__}, not an array")
            arrays[name] = info
    return DataInfo(structure_ok=True, arrays=arrays)


def describe_model(obj: Any, keras: Any) -> ModelInfo:
    returned_type = f"{type(obj).__module__}.{type(obj).__qualname__}"
    if keras is None or not isinstance(obj, keras.Model):
        return ModelInfo(returned_type=returned_type, is_keras_model=False)
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
    return LayerInfo(name=layer.name, class_name=type(layer).__name__, params=params, output_shape=output_shape, config=config)


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


def image_fingerprint(images: Any) -> str | None:
    """A hash of the first images as 0-255 integers, whatever scaling or shape the learner used.
    The grader computes the same for the test split to notice training on it."""
    import numpy as np

    try:
        sample = np.asarray(images[:8], dtype="float64").reshape(8, -1)
    except Exception:  # noqa: BLE001
        return None
    if sample.size and sample.max() <= 1.0:
        sample = sample * 255.0
    return hashlib.sha1(np.rint(sample).astype("uint8").tobytes()).hexdigest()[:16]


def describe_training(history: Any, fit_calls: list[FitCall], seconds: float) -> TrainInfo:
    is_history = type(history).__name__ == "History" and hasattr(history, "history")
    values: dict[str, list[float]] = {}
    if is_history:
        for key, series in dict(history.history).items():
            try:
                values[str(key)] = [float(v) for v in series]
            except (TypeError, ValueError):
                continue
    epochs_run = max((len(v) for v in values.values()), default=0)
    returned_type = f"{type(history).__module__}.{type(history).__qualname__}"
    return TrainInfo(
        returned_type=returned_type, is_history=is_history, history=values,
        epochs_run=epochs_run, fit_calls=list(fit_calls), seconds=seconds,
    )


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


def _shape_of(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"a {type(value).__name__}"


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
    plan = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    session = ChildSession(plan)
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
