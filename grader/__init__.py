"""The exercise grader: grades image-classification exercises of a TensorFlow study guide.

The pipeline runs one way (see ``grader.pipeline``):
submission -> adapter -> sandboxed run -> evidence -> judges -> score -> renderers.
"""

__version__ = "0.1.0"
