"""The control client the API uses to ask the proxy for a forwarding (blocking, stdlib only)."""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any


class ProxyUnavailable(Exception):
    """The proxy's control socket cannot be reached or answered nonsense."""


class ProxyRefused(Exception):
    """The proxy refused the request; the message is its reason."""


def request_forwarding(
    host: str,
    port: int,
    *,
    control_host: str,
    control_port: int,
    secret: str,
    guest_password: str | None = None,
    ttl: float | None = None,
    label: str = "",
    timeout: float = 5.0,
    tls_ca: str | None = None,
) -> dict[str, Any]:
    """Ask for a one-shot forwarding to ``host:port``; returns id, port, password, token, expires_in."""
    request: dict[str, Any] = {"secret": secret, "op": "forward", "host": host, "port": port, "label": label}
    if guest_password:
        request["guest_password"] = guest_password
    if ttl is not None:
        request["ttl"] = ttl
    return _call(request, control_host, control_port, timeout, tls_ca)


def status(*, control_host: str, control_port: int, secret: str, timeout: float = 5.0, tls_ca: str | None = None) -> dict:
    """The proxy's pending forwardings and active sessions."""
    return _call({"secret": secret, "op": "status"}, control_host, control_port, timeout, tls_ca)


def _call(request: dict, host: str, port: int, timeout: float, tls_ca: str | None) -> dict[str, Any]:
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
        if tls_ca:
            context = ssl.create_default_context(cafile=tls_ca)
            context.check_hostname = False
            sock = context.wrap_socket(sock)
        with sock, sock.makefile("rwb") as stream:
            stream.write(json.dumps(request).encode() + b"\n")
            stream.flush()
            line = stream.readline(65536)
    except (OSError, ssl.SSLError) as exc:
        raise ProxyUnavailable(f"VNC proxy control socket {host}:{port}: {exc}") from exc
    try:
        answer = json.loads(line)
    except ValueError as exc:
        raise ProxyUnavailable(f"VNC proxy answered {line[:80]!r}") from exc
    if not isinstance(answer, dict):
        raise ProxyUnavailable(f"VNC proxy answered {line[:80]!r}")
    if not answer.get("ok"):
        raise ProxyRefused(str(answer.get("error", "refused")))
    return answer
