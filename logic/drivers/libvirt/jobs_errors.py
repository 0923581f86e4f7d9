"""Errors of the libvirt driver."""

from logic.errors import InvalidInput


class NotSupported(InvalidInput):
    """An operation the libvirt driver does not do (yet)."""
