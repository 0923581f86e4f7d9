"""Nova's request booleans (``parameter_types.boolean``): JSON true/false or one of its strings."""

from __future__ import annotations

_TRUE = frozenset({"True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes"})
_FALSE = frozenset({"False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"})


def nova_boolean(value: object) -> bool | None:
    """``value`` as a boolean the way Nova's schema reads it, or None when it is not one."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
    return None
