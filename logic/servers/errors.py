"""The errors server rules raise; the API maps each to an OpenStack fault."""

from __future__ import annotations

from logic.errors import ConflictError, InvalidInput, LogicError, NotFoundError


class Invalid(InvalidInput):
    """Bad input (400)."""


class Missing(NotFoundError):
    """No such server (or not visible to the caller) (404)."""


class Conflict(ConflictError):
    """Not possible in the server's current state or with its pending task (409)."""


class NotSupported(LogicError):
    """A known request this cloud does not implement (501)."""
