"""The one exception hierarchy of rnnkit: every error a user can cause derives from RnnkitError.

A message says what was expected, what was received, and the fix when one is known. The CLI
prints an RnnkitError as one red line and exits with status 2.
"""

from __future__ import annotations


class RnnkitError(Exception):
    """Base class of every error rnnkit raises on purpose."""


class ConfigError(RnnkitError, ValueError):
    """A configuration value or key is invalid."""


class ShapeError(RnnkitError, ValueError):
    """A tensor has the wrong rank, size, dtype or contents for the call it was passed to."""


class VocabError(RnnkitError, KeyError):
    """A token or id is not in the vocabulary, or a vocabulary file is invalid."""

    def __str__(self) -> str:  # KeyError would repr() the message; keep it readable
        return str(self.args[0]) if self.args else ""


class DataError(RnnkitError, ValueError):
    """Input data (text, file, dataset) is empty, malformed or unusable."""


class CheckpointError(RnnkitError):
    """A checkpoint is missing, corrupt, foreign, or does not match the config."""


class LostProcessError(RnnkitError, RuntimeError):
    """Another process of a distributed run died or stopped answering, so this one stops too."""


class TrainingDiverged(RnnkitError):  # noqa: N818  (the name states what happened)
    """The loss or a gradient became NaN or inf; the last good checkpoint is kept."""


__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "RnnkitError",
    "ShapeError",
    "TrainingDiverged",
    "VocabError",
]
