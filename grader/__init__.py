"""The exercise grader: grades image-classification exercises of a TensorFlow study guide.

The pipeline runs one way (see ``grader.pipeline``):
submission -> adapter -> sandboxed run -> evidence -> judges -> score -> renderers.
"""

__version__ = "0.1.0"


def load_ipython_extension(ipython):  # type: ignore[no-untyped-def]
    """``%load_ext grader`` in Jupyter or Colab: adds the ``%grade`` magic
    (``grader.notebook_magic``). Imports nothing heavy: grading runs in a subprocess."""
    from grader.notebook_magic import load_ipython_extension as load

    load(ipython)
