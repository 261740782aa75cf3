"""The digest of a model's weights: the same bytes give the same digest in the sandbox (right
after ``model.fit`` returns) and in the evaluation process (after loading the saved file).

Only the model's own variables count (not the optimizer's), in the order Keras lists them,
which saving and loading keep. Values are hashed as little-endian float32 with their shapes, so
a model whose weights were replaced after training (``set_weights``, ``load_weights``, another
model's file) gives another digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np


def digest_arrays(arrays: Iterable[Any]) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        values = np.ascontiguousarray(np.asarray(array), dtype="<f4")
        digest.update(repr(tuple(values.shape)).encode())
        digest.update(values.tobytes())
    return digest.hexdigest()[:32]


def weights_digest(model: Any, weights_of: Callable[[Any], Any] | None = None) -> str | None:
    """The digest of ``model``'s variables, or None when they cannot be read.

    ``weights_of(model)`` returns the variables; the sandbox passes Keras' own ``Layer.weights``
    getter, taken before learner code ran, so a model class that overrides ``weights`` cannot
    choose what is hashed.
    """
    try:
        variables = list(weights_of(model) if weights_of is not None else model.weights)
        return digest_arrays(np.asarray(variable) for variable in variables)
    except Exception:  # noqa: BLE001 - a model that cannot be read has no digest
        return None
