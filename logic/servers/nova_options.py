"""Server options of Nova's later microversions: hostname (2.90/2.94), the requested destination
(2.74), availability zone pinning (2.96), scheduler hints (2.100), trusted certificates (2.63).

What the API layer admits depends on the negotiated microversion (it refuses a field
too new for it); these rules validate the values and say what a server records.
None of them reaches Ganeti: the hostname is for the guest's metadata (the Ganeti OS
scripts name the guest after the instance), the hints are recorded as given.
"""

from __future__ import annotations

import re

from logic.errors import PolicyError
from logic.identity import AuthContext
from logic.models import Backend
from logic.servers.errors import Invalid

ZONE = "nova"  # the one availability zone (api/compute/availability_zones.py)

# Nova's hostname: letters, digits, '-', '_' and '.'; starts and ends with a letter or a digit.
_HOSTNAME = re.compile(r"[a-zA-Z0-9]+[a-zA-Z0-9._-]*[a-zA-Z0-9]+|[a-zA-Z0-9]")
_LABEL = re.compile(r"[a-zA-Z0-9]([a-zA-Z0-9_-]*[a-zA-Z0-9])?")


def validate_hostname(value: object, *, fqdn: bool) -> str:
    """A hostname as Nova takes it: one label of up to 63 characters (2.90), an FQDN of up to 255 (2.94)."""
    limit = 255 if fqdn else 63
    if not isinstance(value, str) or not 1 <= len(value) <= limit or not _HOSTNAME.fullmatch(value):
        raise Invalid(
            f"Invalid input for field/attribute hostname: {value!r} is not a valid "
            + ("FQDN (up to 255 characters: letters, digits, '-', '_', '.')." if fqdn else "hostname (up to 63 characters: letters, digits, '-', '_'; no dots before microversion 2.94).")
        )  # fmt: skip
    labels = value.split(".")
    if not fqdn and len(labels) > 1:
        raise Invalid(f"Invalid input for field/attribute hostname: {value!r}: a hostname has no dots before microversion 2.94.")
    if any(len(label) > 63 or not _LABEL.fullmatch(label) for label in labels):
        raise Invalid(f"Invalid input for field/attribute hostname: {value!r}: every label is 1-63 letters, digits, '-' or '_'.")
    return value


def validate_availability_zone(value: object) -> str | None:
    """The zone a create asks for (then pinned, 2.96): this cloud has one, ``nova``; others are a 400."""
    if value is None:
        return None
    if not isinstance(value, str) or value.split(":", 1)[0] != ZONE:
        raise Invalid(f"The requested availability zone is not available: {value!r} (the only zone is {ZONE!r}).")
    return ZONE


def validate_scheduler_hints(value: object) -> dict:
    """``os:scheduler_hints`` as given (an object; Nova's schema lets any key through), recorded for 2.100."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid("Invalid input for field/attribute os:scheduler_hints: it must be an object.")
    return value


def validate_trusted_certificates(value: object) -> None:
    """``trusted_image_certificates`` (2.63): a list of 1-50 unique ids; certificates cannot be honoured here.

    Nova verifies the image's signature against them before booting; a Ganeti OS
    definition writes the image itself and has no signature verification, so a create
    or rebuild that asks for it is refused rather than booted unverified.
    """
    if value is None:
        return
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= 50
        or not all(isinstance(v, str) and v for v in value)
        or len(set(value)) != len(value)
    ):
        raise Invalid("Invalid input for field/attribute trusted_image_certificates: a list of 1-50 unique, non-empty ids.")
    raise Invalid(
        "Image signature certificate validation is not supported by this cloud: "
        "Ganeti OS definitions do not verify image signatures (trusted_image_certificates)."
    )


def requested_host(ctx: AuthContext, host: object, node: object) -> str | None:
    """The Ganeti cluster an admin asked for (2.74 ``host``/``hypervisor_hostname``: one cluster is both).

    403 for anyone else (Nova's default policy); 400 when it names no backend, or when the
    two name different ones.
    """
    names = [n for n in (host, node) if n is not None]
    if not names:
        return None
    if not ctx.is_admin:
        raise PolicyError("Policy doesn't allow compute:servers:create:requested_destination to be performed.")
    for name in names:
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise Invalid("Invalid input for field/attribute host/hypervisor_hostname: a string of 1-255 characters.")
    if len(set(names)) > 1:
        raise Invalid(f"Compute host {host} with node {node} could not be found: a Ganeti cluster is its own only node.")
    if not Backend.objects.filter(name=names[0]).exists():
        raise Invalid(f"Compute host {names[0]} could not be found.")
    return names[0]
