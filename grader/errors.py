"""Errors a user can cause. The CLI turns each into one line and exit code 2.

Anything that is *not* a ``GraderError`` is a grader bug and keeps its traceback.
"""


class GraderError(Exception):
    """Base class: ``str(error)`` is a complete, user-facing sentence."""

    exit_code = 2


class UsageError(GraderError):
    """Bad command-line usage: unknown exercise, bad option value."""


class SubmissionNotFoundError(GraderError):
    """The submission file does not exist or cannot be read."""


class DataMissingError(GraderError):
    """A dataset could not be found (or verified) anywhere the grader looks."""


class SpecError(GraderError):
    """An exercise.toml is malformed."""
