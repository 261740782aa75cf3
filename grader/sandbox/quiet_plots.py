"""A matplotlib backend for learner code in the sandbox: plots are drawn off-screen, never shown.

The chapter's scripts and notebooks plot sample images and training curves and call
``plt.show()``. While grading there is no screen: the child selects this backend
(``MPLBACKEND=module://grader.sandbox.quiet_plots``), which renders like Agg and makes
``plt.show()`` close the figures instead of warning that Agg cannot show them. Closing them is
what Jupyter's inline backend does after each cell, so a loop of plots does not pile up figures.

Importing this module imports matplotlib, so only matplotlib itself imports it, when the
learner's code first uses pyplot.
"""

from __future__ import annotations

from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas  # noqa: F401 - the backend's canvas


def show(*args: Any, **kwargs: Any) -> None:
    """``plt.show()``: nothing to show while grading; close the figures as Jupyter would."""
    import matplotlib.pyplot as plt

    plt.close("all")
