"""The control protocol: JSON lines, each request carrying the shared secret.

Request ``{"secret": S, "op": "forward", "host": H, "port": P, "guest_password": G?,
"ttl": seconds?, "label": text?}`` -> ``{"ok": true, "id", "port", "password",
"token", "expires_in"}``; ``{"secret": S, "op": "status"}`` -> counts. Errors are
``{"ok": false, "error": "..."}``; a wrong secret also closes the connection.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

MAX_LINE = 8192


class ControlError(Exception):
    """A control request that cannot be carried out; the message goes back to the caller."""


def check_secret(given: object, secret: str) -> bool:
    return isinstance(given, str) and bool(secret) and hmac.compare_digest(given.encode(), secret.encode())


def parse_forward(request: dict[str, Any], default_ttl: float, max_ttl: float) -> dict[str, Any]:
    """Validate a ``forward`` request; returns host, port, guest_password, ttl, label."""
    host, port = request.get("host"), request.get("port")
    if not isinstance(host, str) or not host or len(host) > 255:
        raise ControlError("host must be a host name or address")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ControlError("port must be an integer 1-65535")
    guest_password = request.get("guest_password")
    if guest_password is not None and not isinstance(guest_password, str):
        raise ControlError("guest_password must be a string")
    ttl = request.get("ttl", default_ttl)
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not 0 < ttl <= max_ttl:
        raise ControlError(f"ttl must be a number of seconds, at most {max_ttl:g}")
    label = request.get("label", "")
    if not isinstance(label, str):
        raise ControlError("label must be a string")
    return {"host": host, "port": port, "guest_password": guest_password or None, "ttl": float(ttl), "label": label[:200]}


def decode(line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ControlError(f"not JSON: {exc}") from exc
    if not isinstance(request, dict):
        raise ControlError("a request is a JSON object")
    return request


def encode(answer: dict[str, Any]) -> bytes:
    return json.dumps(answer).encode() + b"\n"
