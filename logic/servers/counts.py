"""Nova's multiple create: ``min_count``/``max_count`` and ``return_reservation_id`` of a create body.

Nova's schema takes a count as a JSON integer or a string of digits, at least 1;
anything else (``2.5``, ``"2.5"``, ``"a"``, ``true``, ``0``) is a 400 before anything
is created. ``return_reservation_id`` is Nova's boolean (``true``, ``"True"``,
``"yes"``, ``"1"``, ... :mod:`logic.booleans`): when true, the create answers only the reservation id
its servers share.
"""

from __future__ import annotations

import re

from logic.booleans import nova_boolean
from logic.servers.errors import Invalid

_DIGITS = re.compile(r"[0-9]+")


def _count(spec: dict, key: str, default: int) -> int:
    if key not in spec:
        return default
    value = spec[key]
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and _DIGITS.fullmatch(value))):
        raise Invalid(f"Invalid input for field/attribute {key}. Value: {value!r}. {value!r} is not an integer.")
    number = int(value)
    if number < 1:
        raise Invalid(f"Invalid input for field/attribute {key}. Value: {value!r}. It must be at least 1.")
    return number


def counts(spec: dict) -> tuple[int, int]:
    """``(min_count, max_count)`` of a create body; max defaults to min, min to 1."""
    low = _count(spec, "min_count", 1)
    high = _count(spec, "max_count", low)
    if low > high:
        raise Invalid("min_count must be <= max_count.")
    return low, high


def return_reservation_id(spec: dict) -> bool:
    """Whether the create answers ``{"reservation_id": ...}`` instead of the server."""
    value = spec.get("return_reservation_id", False)
    flag = nova_boolean(value)
    if flag is not None:
        return flag
    raise Invalid(f"Invalid input for field/attribute return_reservation_id. Value: {value!r}. It must be a boolean.")
