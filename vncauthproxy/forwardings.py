"""One-shot forwardings: what the API asked for, until a client uses it or it expires.

A forwarding points at a guest's VNC server (host, port, optional guest password)
and is reachable two ways until first used: on its own port of the port range with
a generated VNC password (plain RFB clients), or on the web port with its one-time
token (noVNC). The first client that authenticates consumes it; wrong passwords
count, and too many of them revoke it. Expired forwardings are removed by a
periodic sweep (and refused on sight).
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field

PASSWORD_ALPHABET = string.ascii_letters + string.digits
PASSWORD_LENGTH = 8  # VNC authentication uses at most 8 characters


class ForwardingError(Exception):
    """A forwarding cannot be created (limits, no free port); the message says why."""


@dataclass
class Forwarding:
    """A pending one-shot forwarding to a guest's VNC server."""

    id: str
    host: str
    port: int
    guest_password: str | None
    password: str
    token: str
    listen_port: int
    created: float
    expires: float
    label: str = ""
    failures: int = 0
    consumed: bool = False
    on_close: list[Callable[[], None]] = field(default_factory=list)

    def alive(self, now: float) -> bool:
        return not self.consumed and now < self.expires


def _password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


class Registry:
    """The pending forwardings, by id, by listening port and by token."""

    def __init__(
        self,
        ports: range,
        *,
        max_pending: int,
        max_failures: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ports = ports
        self.max_pending = max_pending
        self.max_failures = max_failures
        self.clock = clock
        self._by_id: dict[str, Forwarding] = {}
        self._by_port: dict[int, Forwarding] = {}
        self._by_token: dict[str, Forwarding] = {}
        self._next_port = ports.start

    def __len__(self) -> int:
        return len(self._by_id)

    def ports_in_use(self) -> set[int]:
        return set(self._by_port)

    def create(self, host: str, port: int, guest_password: str | None, ttl: float, label: str = "") -> Forwarding:
        """A new forwarding on a free port of the range (raises ForwardingError when full)."""
        self.sweep()
        if len(self._by_id) >= self.max_pending:
            raise ForwardingError(f"too many pending forwardings ({self.max_pending})")
        listen_port = self._free_port()
        now = self.clock()
        fwd = Forwarding(
            id=secrets.token_hex(8),
            host=host,
            port=port,
            guest_password=guest_password,
            password=_password(),
            token=secrets.token_urlsafe(24),
            listen_port=listen_port,
            created=now,
            expires=now + ttl,
            label=label,
        )
        self._by_id[fwd.id] = fwd
        self._by_port[listen_port] = fwd
        self._by_token[fwd.token] = fwd
        return fwd

    def _free_port(self, taken: set[int] | None = None) -> int:
        taken = taken or set()
        span = len(self.ports)
        for i in range(span):
            candidate = self.ports.start + (self._next_port - self.ports.start + i) % span
            if candidate not in self._by_port and candidate not in taken:
                self._next_port = candidate + 1 if candidate + 1 < self.ports.stop else self.ports.start
                return candidate
        raise ForwardingError(f"no free port in {self.ports.start}-{self.ports.stop - 1}")

    def move(self, fwd: Forwarding, taken: set[int]) -> int:
        """Give ``fwd`` another port (its first was busy on this host); returns it."""
        del self._by_port[fwd.listen_port]
        fwd.listen_port = self._free_port(taken)
        self._by_port[fwd.listen_port] = fwd
        return fwd.listen_port

    def by_port(self, port: int) -> Forwarding | None:
        fwd = self._by_port.get(port)
        return fwd if fwd is not None and fwd.alive(self.clock()) else None

    def by_token(self, token: str) -> Forwarding | None:
        fwd = self._by_token.get(token)
        return fwd if fwd is not None and fwd.alive(self.clock()) else None

    def consume(self, fwd: Forwarding) -> bool:
        """Mark ``fwd`` used (False when another client was first or it expired); it is removed."""
        if not fwd.alive(self.clock()):
            return False
        fwd.consumed = True
        self.remove(fwd)
        return True

    def failed(self, fwd: Forwarding) -> None:
        """Count a wrong password; too many revoke the forwarding."""
        fwd.failures += 1
        if fwd.failures >= self.max_failures:
            fwd.consumed = True
            self.remove(fwd)

    def remove(self, fwd: Forwarding) -> None:
        if self._by_id.pop(fwd.id, None) is None:
            return
        self._by_port.pop(fwd.listen_port, None)
        self._by_token.pop(fwd.token, None)
        for callback in fwd.on_close:
            callback()
        fwd.on_close.clear()

    def sweep(self) -> list[Forwarding]:
        """Remove the expired forwardings; returns them."""
        now = self.clock()
        expired = [f for f in self._by_id.values() if not f.alive(now)]
        for fwd in expired:
            self.remove(fwd)
        return expired
