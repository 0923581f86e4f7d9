"""Errors the business rules raise; the API layer renders each as an OpenStack fault.

``logic`` never imports from ``api``: views (or the DRF exception handler, see
:func:`api.faults.as_fault`) translate these to HTTP statuses.
"""

from __future__ import annotations


class LogicError(Exception):
    """Base of every rule violation; ``str(exc)`` is a message a person can act on."""


class NotFoundError(LogicError):
    """The object does not exist or the caller may not see it (404)."""


class InvalidInput(LogicError):
    """The request is malformed or a value is out of range (400)."""


class ConflictError(LogicError):
    """The request conflicts with the current state (409)."""


class PolicyError(LogicError):
    """The caller is not allowed to do this (403)."""


class OverQuotaError(LogicError):
    """A quota or limit would be exceeded (403 in Nova for quotas; 413 for some limits)."""


class TooLarge(OverQuotaError):
    """A body or a total would pass a size limit (413)."""


class RangeNotSatisfiable(InvalidInput):
    """A Range header asks for bytes the data does not have (416)."""

    def __init__(self, message: str, size: int):
        super().__init__(message)
        self.size = size
