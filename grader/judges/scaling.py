"""A model that scales its own input: ``Rescaling(1 / 255)`` or ``Normalization`` at its start.

The chapter scales the pixels in the data (``images / 255.0``); Keras also lets the model do it
with a preprocessing layer (``docs/mistakes.md`` recommends ``Rescaling(1 / 255)`` to learners
whose model meets raw pixels). Such a model is trained on raw 0-255 pixels on purpose, works best
on them, and must get the scaling credit with no advice to divide by 255 (that would scale twice).
Fed images already divided by 255, it scales them twice: the opposite mistake.

Everything here is pure: layer facts in (``LayerInfo`` from the evidence, or the same facts as
plain mappings for the report), a description of the scaling layer out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grader.evidence import Evidence, LayerInfo, ModelInfo

# Layers that may come before the scaling layer without computing anything from the pixels.
_PASS_THROUGH = frozenset(
    {
        "InputLayer", "Flatten", "Reshape", "Permute", "Resizing", "CenterCrop", "Cropping2D",
        "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomCrop",
        "RandomContrast", "RandomBrightness", "Dropout", "GaussianNoise",
    }
)  # fmt: skip
# Nested models whose own layers are searched (a preprocessing Sequential at the model's start).
_MODELS = frozenset({"Sequential", "Functional", "Model"})
# What a normalising layer may map 0..255 onto: about [0, 1] or [-1, 1].
_LOWEST, _HIGHEST, _NARROWEST = -1.5, 1.5, 0.5


@dataclass(frozen=True)
class ScalingLayer:
    """The layer by which a model scales its own pixels."""

    class_name: str  # "Rescaling" or "Normalization"
    shown: str  # as a learner would write it: "Rescaling(scale=0.00392157)", "Normalization()"

    @property
    def divides(self) -> bool:
        """A fixed rescaling: images already divided by 255 are scaled a second time. (A
        ``Normalization`` layer adapts to whatever data it was adapted on.)"""
        return self.class_name == "Rescaling"


def _numbers(value: Any) -> list[float] | None:
    """A number, or a list of numbers (one per channel), as floats; None when it is neither."""
    values = value if isinstance(value, (list, tuple)) else [value]
    if not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return None
    floats = [float(v) for v in values]
    return floats if all(math.isfinite(v) for v in floats) else None


def _maps_pixels_to_unit_scale(lows: list[float], highs: list[float]) -> bool:
    """0..255 lands in about [0, 1] or [-1, 1] (every channel)."""
    for low, high in zip(lows, highs, strict=True):
        low, high = min(low, high), max(low, high)
        if low < _LOWEST or high > _HIGHEST or high - low < _NARROWEST:
            return False
    return True


def _pair(a: list[float], b: list[float]) -> tuple[list[float], list[float]]:
    """Two per-channel lists of the same length (a single number repeats)."""
    n = max(len(a), len(b))
    return (a * n if len(a) == 1 else a), (b * n if len(b) == 1 else b)


def _rescaling(config: Mapping[str, Any]) -> ScalingLayer | None:
    scale = _numbers(config.get("scale"))
    offset = _numbers(config.get("offset", 0.0))
    if scale is None or offset is None:
        return None
    scale, offset = _pair(scale, offset)
    if len(scale) != len(offset):
        return None
    highs = [255.0 * s + o for s, o in zip(scale, offset, strict=True)]
    if not _maps_pixels_to_unit_scale(offset, highs):
        return None
    shown = _fraction(scale[0]) if len(set(scale)) == 1 else str([round(s, 6) for s in scale])
    if any(offset):
        shown += f", offset={offset[0]:g}" if len(set(offset)) == 1 else f", offset={offset}"
    return ScalingLayer("Rescaling", f"Rescaling({shown})")


def _fraction(scale: float) -> str:
    """``1/255`` for 0.00392156862745098, as the learner wrote it; else the number."""
    divisor = 1.0 / scale if scale else 0.0
    if divisor and abs(divisor - round(divisor)) < 1e-3 * abs(divisor):
        return f"1/{round(divisor)}"
    return f"{scale:.6g}"


def _normalization(config: Mapping[str, Any]) -> ScalingLayer | None:
    """A Normalization layer: adapted to the data (its mean and variance are weights, not in the
    config) it normalises whatever it was adapted on; given a mean and variance, they must bring
    0..255 to a unit scale."""
    mean, variance = config.get("mean"), config.get("variance")
    if mean is None and variance is None:
        return ScalingLayer("Normalization", "Normalization()")
    means, variances = _numbers(mean), _numbers(variance)
    if means is None or variances is None or any(v <= 0 for v in variances):
        return None
    means, variances = _pair(means, variances)
    if len(means) != len(variances):
        return None
    lows = [(0.0 - m) / math.sqrt(v) for m, v in zip(means, variances, strict=True)]
    highs = [(255.0 - m) / math.sqrt(v) for m, v in zip(means, variances, strict=True)]
    # Standardised pixels spread wider than [-1, 1] (about -0.5 to 3 for MNIST): any spread of a
    # few units counts.
    if all(low >= -10 and high <= 10 and high - low >= _NARROWEST for low, high in zip(lows, highs, strict=True)):
        return ScalingLayer("Normalization", "Normalization()")
    return None


def _facts(layer: LayerInfo | Mapping[str, Any]) -> tuple[str, Mapping[str, Any], int]:
    """(class name, config, parameter count) of a layer recorded either way."""
    if isinstance(layer, LayerInfo):
        return layer.class_name, layer.config or {}, layer.params
    config = layer.get("config")
    params = layer.get("params", 0)
    return (
        str(layer.get("class_name") or ""),
        config if isinstance(config, Mapping) else {},
        params if isinstance(params, int) else 0,
    )


def scaling_layer_of(layers: Sequence[LayerInfo | Mapping[str, Any]], depth: int = 0) -> ScalingLayer | None:
    """The layer that scales the model's input pixels, if one comes before any layer that
    computes with weights (a Rescaling after a Dense layer scales features, not pixels)."""
    for layer in layers:
        class_name, config, params = _facts(layer)
        if class_name == "Rescaling":
            return _rescaling(config)
        if class_name == "Normalization":
            return _normalization(config)
        if class_name in _MODELS and depth < 3:
            inner = config.get("layers")
            if not isinstance(inner, list):
                return None
            found = scaling_layer_of([entry for entry in inner if isinstance(entry, Mapping)], depth + 1)
            if found is not None:
                return found
            if params > 0 or any(_computes(entry) for entry in inner if isinstance(entry, Mapping)):
                return None
            continue
        if class_name not in _PASS_THROUGH:
            return None
    return None


def _computes(entry: Mapping[str, Any]) -> bool:
    class_name, _config, params = _facts(entry)
    return params > 0 or class_name not in (_PASS_THROUGH | _MODELS)


def model_scaling_layer(model: ModelInfo | None) -> ScalingLayer | None:
    """The layer by which ``model`` scales its own pixels, or None."""
    if model is None:
        return None
    return scaling_layer_of(model.layers)


def scales_own_input(evidence: Evidence) -> ScalingLayer | None:
    """The graded model's own scaling layer (measured by the trusted evaluation when it ran)."""
    return model_scaling_layer(evidence.graded_model)


def fit_received_unit_pixels(evidence: Evidence) -> bool | None:
    """Whether the last recorded ``model.fit`` got pixels in [0, 1] (None: not recorded)."""
    train = evidence.sandbox.train
    calls = [c for c in (train.fit_calls if train else []) if c.x_min is not None and c.x_max is not None]
    if not calls:
        return None
    low, high = calls[-1].x_min, calls[-1].x_max
    assert low is not None and high is not None
    return low >= -1e-6 and high <= 1.0 + 1e-6


def scaled_twice(evidence: Evidence) -> ScalingLayer | None:
    """The model's Rescaling layer when ``model.fit`` was given images already in [0, 1]: the
    model divides them a second time and sees pixels of at most 1/255."""
    layer = scales_own_input(evidence)
    if layer is None or not layer.divides:
        return None
    return layer if fit_received_unit_pixels(evidence) else None


__all__ = [
    "ScalingLayer",
    "fit_received_unit_pixels",
    "model_scaling_layer",
    "scaled_twice",
    "scales_own_input",
    "scaling_layer_of",
]
