"""One console session: authenticate the client, reach the guest, relay, log one line.

The client is authenticated before the guest is contacted, so a client without
the password (or token) never reaches a guest. Timeouts: the whole handshake
(a client that connects and says nothing is dropped), no traffic either way
(idle), and the session's total length.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from vncauthproxy.config import ProxyConfig
from vncauthproxy.forwardings import Forwarding, Registry
from vncauthproxy.rfb import AuthFailed, ClientHandshake, HandshakeError, connect_guest
from vncauthproxy.streams import ByteStream, TcpStream

log = logging.getLogger("vncauthproxy")


@dataclass
class SessionRecord:
    """What the session's log line says."""

    via: str
    client: str
    forwarding: str = ""
    label: str = ""
    guest: str = ""
    rfb_version: str = ""
    outcome: str = "closed"
    started: float = field(default_factory=time.monotonic)
    to_client: int = 0
    to_guest: int = 0

    def emit(self) -> None:
        log.info(
            "console session %s: %s",
            self.forwarding or "-",
            self.outcome,
            extra={
                "event": "vnc-session",
                "via": self.via,
                "client": self.client,
                "forwarding": self.forwarding,
                "label": self.label,
                "guest": self.guest,
                "rfb_version": self.rfb_version,
                "outcome": self.outcome,
                "duration": round(time.monotonic() - self.started, 3),
                "bytes_to_client": self.to_client,
                "bytes_to_guest": self.to_guest,
            },
        )


class SessionRunner:
    """Runs sessions for the proxy: handshake, guest connection, relay, with the configured limits."""

    def __init__(self, config: ProxyConfig, registry: Registry) -> None:
        self.config = config
        self.registry = registry
        self.active = 0

    def full(self) -> bool:
        return self.active >= self.config.max_sessions

    async def run(
        self,
        client: ByteStream,
        record: SessionRecord,
        fwd: Forwarding | None,
        authenticate: Callable[[ClientHandshake], Awaitable[Forwarding | None]],
    ) -> None:
        """Run one session; ``authenticate`` does the client's security step and returns the forwarding it won."""
        self.active += 1
        guest: TcpStream | None = None
        try:
            if fwd is not None:
                record.forwarding, record.label = fwd.id, fwd.label
            handshake = ClientHandshake(client)
            try:
                async with asyncio.timeout(self.config.handshake_timeout):
                    won = await authenticate(handshake)
                    record.rfb_version = "{}.{}".format(*handshake.version)
                    if won is None:
                        record.outcome = "forwarding already used or expired"
                        await handshake.refuse(record.outcome)
                        return
                    record.forwarding, record.label = won.id, won.label
                    record.guest = f"{won.host}:{won.port}"
                    guest = await self._open_guest(won)
                    if guest is None:
                        record.outcome = "guest unreachable"
                        await handshake.refuse("the console cannot be reached")
                        return
                    await handshake.succeed()
            except TimeoutError:
                record.outcome = "handshake timeout"
                return
            except AuthFailed:
                record.outcome = "wrong password"
                return
            except (HandshakeError, ConnectionError, OSError) as exc:
                record.outcome = f"handshake failed: {exc}"
                return
            record.outcome = await self._relay(client, guest, record)
        finally:
            self.active -= 1
            client.close()
            if guest is not None:
                guest.close()
            record.emit()

    async def _open_guest(self, fwd: Forwarding) -> TcpStream | None:
        try:
            async with asyncio.timeout(self.config.connect_timeout):
                reader, writer = await asyncio.open_connection(fwd.host, fwd.port)
                stream = TcpStream(reader, writer)
                try:
                    await connect_guest(stream, fwd.guest_password)
                except BaseException:
                    stream.close()
                    raise
                return stream
        except (TimeoutError, OSError, ConnectionError, HandshakeError) as exc:
            log.warning("guest %s:%s of forwarding %s: %s", fwd.host, fwd.port, fwd.id, exc or type(exc).__name__)
            return None

    async def _relay(self, client: ByteStream, guest: ByteStream, record: SessionRecord) -> str:
        last = [time.monotonic()]

        async def copy(src: ByteStream, dst: ByteStream, to_client: bool) -> str:
            while True:
                data = await src.read()
                if not data:
                    return "closed by " + ("guest" if to_client else "client")
                last[0] = time.monotonic()
                if to_client:
                    record.to_client += len(data)
                else:
                    record.to_guest += len(data)
                await dst.write(data)

        async def watchdog() -> str:
            deadline = record.started + self.config.session_timeout
            while True:
                now = time.monotonic()
                if now >= deadline:
                    return "session timeout"
                if now - last[0] >= self.config.idle_timeout:
                    return "idle timeout"
                await asyncio.sleep(min(deadline - now, self.config.idle_timeout - (now - last[0]), 1.0))

        tasks = [
            asyncio.create_task(copy(guest, client, True)),
            asyncio.create_task(copy(client, guest, False)),
            asyncio.create_task(watchdog()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        task = done.pop()
        if task.exception() is not None:
            return f"connection error: {task.exception()}"
        return task.result()


def default_authenticate(registry: Registry, fwd: Forwarding) -> Callable[[ClientHandshake], Awaitable[Forwarding | None]]:
    """Plain RFB: VNC authentication against the forwarding's password, then it is consumed."""

    async def authenticate(handshake: ClientHandshake) -> Forwarding | None:
        try:
            await handshake.accept(fwd.password)
        except AuthFailed:
            registry.failed(fwd)
            raise
        return fwd if registry.consume(fwd) else None

    return authenticate
