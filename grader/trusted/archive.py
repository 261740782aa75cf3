"""Checks of a saved ``.keras`` file made before it is loaded: plain JSON, no TensorFlow.

Keras builds a model from the ``config.json`` inside the ``.keras`` zip, allocating every weight
its layers ask for, before any weight is read. A crafted config can therefore exhaust or hang the
process that loads it: a layer asking for ``Dense(1_440_000)`` allocates gigabytes, and a 1 MB
file can apply one ``Dense`` layer a million times (the graph unpacks to hundreds of megabytes
of JSON and takes days to trace). The evaluation process has its own limits as a backstop; these
checks refuse such files first, with a sentence that says why, so they cost nothing.

What is checked, in order: the file is a zip whose members unpack to a bounded size; its
``config.json`` is bounded and parses; the model has one input and one output; the graph has a
bounded number of layers and of layer applications; the parameters the config asks for (computed
from each layer's config and the input shape Keras recorded for it) are within the exercise's
limit.
"""

from __future__ import annotations

import math
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.messages.sandbox import model_refused as refused
from grader.messages.sandbox import number
from grader.safe_text import without_surrogates
from grader.sandbox.scratch import MAX_RECORD_DEPTH, RecordTooDeepError, load_record

MiB = 1024 * 1024
MAX_ARCHIVE_BYTES = 1024 * MiB  # the .keras file itself (the sandbox's largest file is 512 MiB)
MAX_UNPACKED_BYTES = 2048 * MiB  # all members unpacked: a crafted archive cannot fill a disk
MAX_CONFIG_BYTES = 4 * MiB  # config.json: the chapter's model has 5 KB, a deep CNN 100 KB
MAX_LAYERS = 500  # every layer, nested models opened up
MAX_NODES = 2000  # layer applications in functional graphs (a layer used n times counts n)
MAX_CONFIG_DEPTH = MAX_RECORD_DEPTH  # nesting of lists and objects; the chapter's model has 8
# Layers whose parameter count the estimate knows. Others count 0 here (they are built from
# known pieces or hold few weights); the evaluation's memory limit bounds them instead.
MODEL_CLASSES = ("Sequential", "Functional", "Model")


class ModelRefused(Exception):
    """The saved model must not be loaded; the message says why, for the learner.

    ``custom_class``: set when the file holds a subclass of ``keras.Model`` (its class name).
    Such a model is not hostile, only untestable (loading it would run the learner's
    ``call()``); every other refusal is about a file too big or too strange to load safely.
    """

    def __init__(self, message: str, *, custom_class: str = "") -> None:
        super().__init__(message)
        self.custom_class = custom_class


@dataclass
class ArchiveFacts:
    """What the config says, read without loading the model."""

    class_name: str
    layers: int
    nodes: int
    inputs: int
    outputs: int
    estimated_params: int
    config_bytes: int
    compile_config: dict[str, Any] = field(default_factory=dict)


def check_archive(path: Path, *, max_params: int | None) -> ArchiveFacts:
    """Read and check ``path`` (a ``.keras`` zip). Raises ``ModelRefused`` with the reason."""
    try:
        info = os.lstat(path)
    except OSError:
        raise ModelRefused(refused("not_saved")) from None
    if not stat.S_ISREG(info.st_mode):
        raise ModelRefused(refused("not_regular"))
    if info.st_size > MAX_ARCHIVE_BYTES:
        raise ModelRefused(
            refused(
                "archive_too_large",
                size=number(info.st_size / MiB, ",.0f"),
                limit=number(MAX_ARCHIVE_BYTES // MiB, ","),
            )
        )
    try:
        with zipfile.ZipFile(path) as archive:
            members = {member.filename: member for member in archive.infolist()}
            unpacked = sum(member.file_size for member in members.values())
            if unpacked > MAX_UNPACKED_BYTES:
                raise ModelRefused(refused("unpacks_too_large", size=number(unpacked / MiB, ",.0f")))
            member = members.get("config.json")
            if member is None:
                raise ModelRefused(refused("no_config"))
            if member.file_size > MAX_CONFIG_BYTES:
                raise ModelRefused(
                    refused(
                        "config_too_large",
                        size=number(member.file_size / MiB, ",.1f"),
                        limit=MAX_CONFIG_BYTES // MiB,
                    )
                )
            with archive.open(member) as handle:
                raw = handle.read(MAX_CONFIG_BYTES + 1)
    except ModelRefused:
        raise
    except (OSError, zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
        raise ModelRefused(refused("not_zip")) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ModelRefused(refused("config_grew"))
    try:
        # Depth-checked: a list nested 3,000 deep in a compile config parses into nothing the
        # checks below (or the evaluation's report) could walk without RecursionError.
        config = load_record(raw, file="config.json", max_depth=MAX_CONFIG_DEPTH)
    except RecordTooDeepError:
        raise ModelRefused(refused("config_too_deep", depth=MAX_CONFIG_DEPTH)) from None
    except (ValueError, RecursionError):
        raise ModelRefused(refused("config_not_json")) from None
    if not isinstance(config, dict):
        raise ModelRefused(refused("config_not_model"))
    # Learner text (layer names, compile settings): a JSON escape such as "\udcff" decodes to a
    # lone surrogate, which no UTF-8 report can hold; U+FFFD from here on.
    config = without_surrogates(config)
    facts = check_config(config, max_params=max_params)
    facts.config_bytes = len(raw)
    return facts


def check_config(config: dict[str, Any], *, max_params: int | None) -> ArchiveFacts:
    """Check a model's serialised config (``{"class_name": ..., "config": {...}}``)."""
    class_name = str(config.get("class_name", ""))
    if class_name not in MODEL_CLASSES:
        if class_name:
            # A class from the learner's own module (not keras.*): a subclass of keras.Model.
            own_class = not str(config.get("module") or "").startswith("keras")
            raise ModelRefused(refused("not_a_model", name=class_name), custom_class=class_name if own_class else "")
        raise ModelRefused(refused("nameless"))
    counter = _Counter()
    try:
        inputs, outputs = _walk_model(config, counter, depth=0)
    except RecursionError:
        raise ModelRefused(refused("too_deep")) from None
    if inputs != 1 or outputs != 1:
        raise ModelRefused(
            refused(
                "inputs_outputs",
                inputs=inputs,
                outputs=outputs,
            )
        )
    if max_params is not None and counter.params > max_params:
        raise ModelRefused(
            refused(
                "too_many_params",
                params=number(counter.params, ","),
                limit=number(max_params, ","),
            )
        )
    compile_config = config.get("compile_config")
    return ArchiveFacts(
        class_name=class_name,
        layers=counter.layers,
        nodes=counter.nodes,
        inputs=inputs,
        outputs=outputs,
        estimated_params=counter.params,
        config_bytes=0,
        compile_config=compile_config if isinstance(compile_config, dict) else {},
    )


@dataclass
class _Counter:
    layers: int = 0
    nodes: int = 0
    params: int = 0

    def add_layer(self) -> None:
        self.layers += 1
        if self.layers > MAX_LAYERS:
            raise ModelRefused(refused("too_many_layers", limit=MAX_LAYERS))

    def add_nodes(self, count: int) -> None:
        self.nodes += count
        if self.nodes > MAX_NODES:
            raise ModelRefused(
                refused(
                    "too_many_nodes",
                    limit=number(MAX_NODES, ","),
                )
            )


def _walk_model(model: dict[str, Any], counter: _Counter, depth: int) -> tuple[int, int]:
    """Count layers, nodes and parameters of one (possibly nested) model: ``(inputs, outputs)``."""
    if depth > 20:
        raise ModelRefused(refused("too_deep"))
    body = model.get("config")
    if not isinstance(body, dict):
        raise ModelRefused(refused("no_layers"))
    layers = body.get("layers")
    if not isinstance(layers, list):
        raise ModelRefused(refused("no_layer_list"))
    previous_units: int | None = None
    for layer in layers:
        if not isinstance(layer, dict):
            raise ModelRefused(refused("not_a_layer"))
        nodes = layer.get("inbound_nodes")
        if isinstance(nodes, list):
            counter.add_nodes(len(nodes))
        if str(layer.get("class_name")) in MODEL_CLASSES:
            _walk_model(layer, counter, depth + 1)
            previous_units = None
            continue
        counter.add_layer()
        params, units = _layer_params(layer, previous_units)
        counter.params += params
        if units is not None:
            previous_units = units
    if model.get("class_name") == "Sequential":
        return 1, 1
    return _count_ports(body.get("input_layers")), _count_ports(body.get("output_layers"))


def _count_ports(value: Any) -> int:
    """``["input_layer", 0, 0]`` is one port; ``[["a", 0, 0], ["b", 0, 0]]`` two; a dict of them
    (named inputs) as many as it has entries."""
    if isinstance(value, dict):
        return sum(_count_ports(v) for v in value.values())
    if isinstance(value, list):
        if value and isinstance(value[0], str):
            return 1
        return sum(_count_ports(v) for v in value)
    return 0


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return default


def _layer_params(layer: dict[str, Any], previous_units: int | None) -> tuple[int, int | None]:
    """``(parameters, output size)`` the layer's config asks for, from the input shape Keras
    recorded when it built the layer (``build_config``), else the previous layer's units."""
    config: dict[str, Any] = layer["config"] if isinstance(layer.get("config"), dict) else {}
    build: dict[str, Any] = layer["build_config"] if isinstance(layer.get("build_config"), dict) else {}
    shape = build.get("input_shape")
    last = _int(shape[-1], 0) if isinstance(shape, list) and shape else 0
    if not last and previous_units:
        last = previous_units
    kind = str(layer.get("class_name"))
    bias = 1 if config.get("use_bias", True) else 0
    if "units" in config:
        units = _int(config.get("units"))
        if units < 0:
            raise ModelRefused(refused("negative_units", kind=kind, units=units))
        inputs = max(last, 1)
        if kind in ("LSTM", "GRU", "SimpleRNN"):
            gates = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}[kind]
            return gates * (units * (inputs + units) + units), units
        return units * (inputs + bias), units
    if "filters" in config:
        filters = _int(config.get("filters"))
        size = config.get("kernel_size")
        kernel = math.prod(_int(k, 1) for k in size) if isinstance(size, list) else max(_int(size, 1), 1) ** 2
        channels = max(last, 1)
        return filters * (kernel * channels + bias), None
    if kind == "Embedding":
        return _int(config.get("input_dim")) * _int(config.get("output_dim")), None
    if kind in ("BatchNormalization", "LayerNormalization"):
        return 4 * max(last, 1), None
    return 0, None
