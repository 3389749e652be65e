"""Errors a user can cause.

Everything raised as :class:`H2OGPTError` is shown in the notebook as one line, never as a
traceback: the message alone must tell the user what to change.
"""

from __future__ import annotations


class H2OGPTError(Exception):
    """A mistake the user can fix (bad option, unknown model, missing file)."""


class InvalidOptionError(H2OGPTError, ValueError):
    """A generation or load option is out of range or of the wrong type."""


class UnknownModelError(H2OGPTError, LookupError):
    """A model name that resolves to nothing on this machine."""


class ModelNotLoadedError(H2OGPTError, LookupError):
    """An alias that the model manager does not hold."""


class BackendUnavailableError(H2OGPTError, ImportError):
    """The engine a model needs is not installed in this environment."""


class UnknownCollectionError(H2OGPTError, LookupError):
    """A document collection name that holds nothing yet."""
