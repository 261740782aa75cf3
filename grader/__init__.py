"""The exercise grader: grades image-classification exercises of a TensorFlow study guide.

The pipeline runs one way (see ``grader.pipeline``):
submission -> adapter -> sandboxed run -> evidence -> judges -> score -> renderers.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # IPython is there only in a notebook's kernel
    from IPython.core.interactiveshell import InteractiveShell

__version__ = "0.1.0"


def load_ipython_extension(ipython: "InteractiveShell") -> None:
    """``%load_ext grader`` in Jupyter or Colab: adds the ``%grade`` magic
    (``grader.notebook_magic``). Imports nothing heavy: grading runs in a subprocess."""
    from grader.notebook_magic import load_ipython_extension as load

    load(ipython)
