"""The report's figures as PNG bytes: training curves, confusion heat map, test-image grid.

Each function takes plain data (lists, arrays) from a finished result and returns PNG bytes, or
``None`` when there is nothing to draw. They follow the chapter's figures (5.13 training curves,
5.14 the "predicted (true)" grid).

Determinism matters: the same result must give the same bytes, so a report can be diffed and
cached. Hence the Agg canvas on a bare ``Figure`` (no pyplot global state, safe in threads),
matplotlib's default style whatever the user's matplotlibrc says, a fixed DPI, and no
``Software`` metadata (PNG text chunks are the only place a version or date could creep in).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # never open a window, never need a display

import matplotlib.style
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from grader.messages import DEFAULT_LANGUAGE, current_language
from grader.messages import interface as msg

DPI = 100
RIGHT = "#1a7f37"  # GitHub's green and red: readable on white, distinct in greyscale print
WRONG = "#cf222e"
TRAIN_COLOUR = "#0969da"
VALIDATION_COLOUR = "#bc4c00"


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _default_style() -> Any:
    # The learner's or instructor's matplotlibrc must not change what a report looks like.
    # Chinese labels need a font with Chinese glyphs: matplotlib falls back to it, glyph by
    # glyph, for what DejaVu Sans lacks (English figures stay byte for byte as they were).
    style: dict[str, Any] = {}
    family = _cjk_family() if current_language() != DEFAULT_LANGUAGE else None
    if family:
        style["font.family"] = ["DejaVu Sans", family]
    return matplotlib.style.context(["default", style])


CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Noto Sans CJK JP")
"""Fonts with the Chinese glyphs, best first (Debian's fonts-noto-cjk gives the first)."""


@functools.cache
def _cjk_family() -> str | None:
    """The first of CJK_FAMILIES matplotlib can use; None when none is installed (the figure is
    then drawn anyway, with boxes for the Chinese characters, and matplotlib warns)."""
    from matplotlib import font_manager

    def known() -> set[str]:
        return {font.name for font in font_manager.fontManager.ttflist}

    if not set(CJK_FAMILIES) & known():
        # Installed after matplotlib cached its font list: add the files it has not seen.
        for path in font_manager.findSystemFonts():
            if "CJK" in path or "WenQuanYi" in path or "SourceHan" in path:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
    return next((family for family in CJK_FAMILIES if family in known()), None)


def metric_keys(history: Mapping[str, Sequence[float]]) -> tuple[str | None, str | None]:
    """The accuracy and loss series names of a Keras history, e.g. ("accuracy", "loss").

    Learners name metrics differently ("accuracy", "acc", "sparse_categorical_accuracy"), so
    the accuracy series is the first training (non-``val_``) key that mentions "acc".
    """
    train_keys = [key for key in history if not key.startswith("val_") and history[key]]
    accuracy = next((key for key in train_keys if "acc" in key), None)
    loss = "loss" if "loss" in train_keys else None
    return accuracy, loss


def training_curve(history: Mapping[str, Sequence[float]], key: str, title: str) -> bytes | None:
    """One metric per epoch (figure 5.13), with its ``val_`` series when the learner used
    validation data. One plot per metric, so a phone can stack them."""
    series = [
        (label, colour, [_finite_or_nan(v) for v in history.get(name) or []])
        for name, label, colour in (
            (key, msg.figure_training(), TRAIN_COLOUR),
            (f"val_{key}", msg.figure_validation(), VALIDATION_COLOUR),
        )
    ]
    if not series[0][2]:
        return None
    with _default_style():
        fig = Figure(figsize=(4.8, 3.3), layout="constrained")
        ax = fig.add_subplot()
        for label, colour, values in series:
            if values:
                # Markers keep a one-epoch run visible (a line needs two points).
                ax.plot(range(1, len(values) + 1), values, marker="o", markersize=3, color=colour, label=label)
        ax.set_title(title)
        ax.set_xlabel(msg.figure_epoch())
        # Matplotlib's default locator, told that epochs are whole numbers.
        ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=True))
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize="small")
        return _png(fig)


def _finite_or_nan(value: object) -> float:
    """A diverged loss is NaN or infinite; matplotlib leaves a gap for NaN but cannot scale an
    axis to infinity, so infinity becomes a gap too (the history table shows the value)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return float("nan")
    return number if np.isfinite(number) else float("nan")


def confusion_heatmap(confusion: Sequence[Sequence[int]], class_names: Sequence[str]) -> bytes | None:
    """Counts of (true class, predicted class); the diagonal holds the right answers."""
    matrix = np.asarray(confusion, dtype=int)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.size == 0:
        return None
    n = matrix.shape[0]
    names = list(class_names)[:n] + [str(i) for i in range(len(class_names), n)]
    with _default_style():
        size = max(4.5, 0.55 * n + 2.2)
        fig = Figure(figsize=(size, size * 0.84), layout="constrained")
        ax = fig.add_subplot()
        image = ax.imshow(matrix, cmap="Blues", vmin=0)
        fig.colorbar(image, ax=ax, shrink=0.8, label=msg.figure_test_images())
        ax.set_xticks(range(n), names, rotation=45, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(n), names)
        ax.set_xlabel(msg.figure_predicted_class())
        ax.set_ylabel(msg.figure_true_class())
        threshold = matrix.max() / 2 if matrix.max() else 1
        fontsize = 8 if n <= 10 else 6
        for true in range(n):
            for predicted in range(n):
                value = int(matrix[true, predicted])
                if value:
                    colour = "white" if value > threshold else "black"
                    ax.text(predicted, true, str(value), ha="center", va="center", color=colour, fontsize=fontsize)
        return _png(fig)


def prediction_grid(
    images: Sequence[np.ndarray],
    samples: Sequence[Mapping[str, int]],
    class_names: Sequence[str],
    *,
    columns: int = 4,
) -> bytes | None:
    """The chapter's figure 5.14: test images titled "predicted (true)", green when right,
    red when wrong. A tick or cross goes with the colour so it also reads in greyscale print."""
    if not samples or len(images) != len(samples):
        return None
    rows = -(-len(samples) // columns)

    def name(label: object) -> str:
        if isinstance(label, int) and 0 <= label < len(class_names):
            return class_names[label]
        return str(label)

    with _default_style():
        # Fixed margins rather than constrained layout: sixteen small axes made the automatic
        # layout the slowest part of a report, and a grid needs no negotiation.
        fig = Figure(figsize=(1.75 * columns, 2.0 * rows))
        fig.subplots_adjust(left=0.02, right=0.98, bottom=0.01, top=1 - 0.42 / (2.0 * rows), wspace=0.12, hspace=0.42)
        for position, (image, sample) in enumerate(zip(images, samples, strict=True), start=1):
            ax = fig.add_subplot(rows, columns, position)
            ax.imshow(np.asarray(image), cmap="binary", interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            right = sample.get("predicted") == sample.get("true")
            mark = "\u2713" if right else "\u2717"
            ax.set_title(
                f"{mark} {name(sample.get('predicted'))}\n({name(sample.get('true'))})",
                color=RIGHT if right else WRONG,
                fontsize=9,
            )
        return _png(fig)
