"""Neutron's error kinds: each a :mod:`logic.errors` class (for the HTTP status) with Neutron's ``type``."""

from __future__ import annotations

from logic.errors import ConflictError, InvalidInput, NotFoundError, PolicyError


class NeutronNotFound(NotFoundError):
    """404 with Neutron's type, e.g. ``NetworkNotFound``."""

    def __init__(self, kind: str, ident: object):
        super().__init__(f"{_words(kind)} {ident} could not be found.")
        self.neutron_type = f"{kind}NotFound"


class NeutronConflict(ConflictError):
    """409 with Neutron's type, e.g. ``NetworkInUse``."""

    def __init__(self, neutron_type: str, message: str):
        super().__init__(message)
        self.neutron_type = neutron_type


class NeutronBadRequest(InvalidInput):
    """400 ``InvalidInput`` (or a more precise type)."""

    def __init__(self, message: str, neutron_type: str = "InvalidInput"):
        super().__init__(message)
        self.neutron_type = neutron_type


class NeutronForbidden(PolicyError):
    """403 ``PolicyNotAuthorized``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.neutron_type = "PolicyNotAuthorized"


def invalid(attribute: str, reason: str) -> NeutronBadRequest:
    """Neutron's wording for a bad attribute value."""
    return NeutronBadRequest(f"Invalid input for {attribute}. Reason: {reason}.")


def invalid_operation(reason: str) -> NeutronBadRequest:
    return NeutronBadRequest(f"Invalid input for operation: {reason}.")


def _words(kind: str) -> str:
    """``SecurityGroup`` -> ``Security group``, ``FloatingIP`` -> ``Floating IP``."""
    out = []
    for i, ch in enumerate(kind):
        if ch.isupper() and i and not kind[i - 1].isupper():
            out.append(" ")
        out.append(ch)
    text = "".join(out)
    return text[0] + " ".join(w if w.isupper() else w.lower() for w in text.split(" "))[1:]
