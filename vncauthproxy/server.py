"""The proxy daemon: control socket, one listener per pending forwarding, the web port, the sweep.

Everything runs on one asyncio loop. ``Proxy.start()`` binds; ``Proxy.stop()``
closes every listener and session. The all-in-one runner and the tests use it
in-process; ``cyclades-vncauthproxy`` runs it alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl

from vncauthproxy import control, web
from vncauthproxy.config import ProxyConfig
from vncauthproxy.forwardings import Forwarding, ForwardingError, Registry
from vncauthproxy.rfb import ClientHandshake
from vncauthproxy.sessions import SessionRecord, SessionRunner, default_authenticate
from vncauthproxy.streams import TcpStream, WebSocketStream

log = logging.getLogger("vncauthproxy")


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)


class Proxy:
    """The VNC authentication proxy."""

    def __init__(self, config: ProxyConfig) -> None:
        if not config.secret:
            raise ValueError("the control secret is empty")
        self.config = config
        self.registry = Registry(config.ports, max_pending=config.max_pending, max_failures=config.max_failures)
        self.sessions = SessionRunner(config, self.registry)
        self._servers: list[asyncio.base_events.Server] = []
        self._tasks: set[asyncio.Task] = set()
        self._sweeper: asyncio.Task | None = None
        self.control_port = config.control_port
        self.web_port = config.web_port

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        cfg = self.config
        tls = None
        if cfg.control_cert:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(cfg.control_cert, cfg.control_key or None)
        srv = await asyncio.start_server(self._control_client, cfg.control_host, cfg.control_port, ssl=tls)
        self.control_port = srv.sockets[0].getsockname()[1]
        self._servers.append(srv)
        if cfg.web_port >= 0:
            web_srv = await asyncio.start_server(self._web_client, cfg.listen_host, cfg.web_port)
            self.web_port = web_srv.sockets[0].getsockname()[1]
            self._servers.append(web_srv)
        self._sweeper = asyncio.create_task(self._sweep())
        log.info(
            "vncauthproxy listening: control %s:%s, web %s:%s, ports %s-%s",
            cfg.control_host,
            self.control_port,
            cfg.listen_host,
            self.web_port,
            cfg.ports.start,
            cfg.ports.stop - 1,
        )

    async def stop(self) -> None:
        if self._sweeper:
            self._sweeper.cancel()
        for srv in self._servers:
            srv.close()
        for fwd in list(self.registry._by_id.values()):
            self.registry.remove(fwd)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for srv in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(srv.wait_closed(), 1)
        self._servers.clear()

    async def serve_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    def _track(self) -> None:
        """Remember the connection's task so that stop() can cancel it."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.config.sweep_interval)
            for fwd in self.registry.sweep():
                log.debug("forwarding %s expired unused", fwd.id)

    # ------------------------------------------------------------------ forwardings
    async def forward(self, host: str, port: int, guest_password: str | None, ttl: float, label: str = "") -> Forwarding:
        """Create a forwarding and open its port (a port busy on this host is skipped)."""
        fwd = self.registry.create(host, port, guest_password, ttl, label)
        busy: set[int] = set()
        while True:
            try:
                srv = await asyncio.start_server(
                    lambda r, w, f=fwd: self._rfb_client(f, r, w), self.config.listen_host, fwd.listen_port
                )
                break
            except OSError:
                busy.add(fwd.listen_port)
                try:
                    self.registry.move(fwd, busy | self.registry.ports_in_use())
                except ForwardingError:
                    self.registry.remove(fwd)
                    raise
        fwd.on_close.append(srv.close)
        return fwd

    # ------------------------------------------------------------------ connections
    async def _control_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._track()
        try:
            while True:
                try:
                    line = await asyncio.wait_for(reader.readline(), self.config.idle_timeout)
                except (TimeoutError, ValueError, ConnectionError):
                    return
                if not line:
                    return
                try:
                    request = control.decode(line)
                    if not control.check_secret(request.get("secret"), self.config.secret):
                        writer.write(control.encode({"ok": False, "error": "wrong secret"}))
                        await writer.drain()
                        log.warning("control request with a wrong secret from %s", _peer(writer))
                        return
                    answer = await self._control(request)
                except (control.ControlError, ForwardingError) as exc:
                    answer = {"ok": False, "error": str(exc)}
                except OSError as exc:
                    answer = {"ok": False, "error": f"cannot listen: {exc}"}
                writer.write(control.encode(answer))
                await writer.drain()
        finally:
            writer.close()

    async def _control(self, request: dict) -> dict:
        op = request.get("op")
        if op == "forward":
            args = control.parse_forward(request, self.config.forward_ttl, self.config.max_ttl)
            fwd = await self.forward(**args)
            return {
                "ok": True,
                "id": fwd.id,
                "port": fwd.listen_port,
                "password": fwd.password,
                "token": fwd.token,
                "expires_in": args["ttl"],
            }
        if op == "status":
            return {"ok": True, "pending": len(self.registry), "sessions": self.sessions.active}
        raise control.ControlError(f"unknown op {op!r}")

    async def _rfb_client(self, fwd: Forwarding, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._track()
        record = SessionRecord(via="rfb", client=_peer(writer))
        if self.sessions.full() or not fwd.alive(self.registry.clock()):
            record.forwarding = fwd.id
            record.outcome = "too many sessions" if self.sessions.full() else "forwarding already used or expired"
            writer.close()
            record.emit()
            return
        await self.sessions.run(TcpStream(reader, writer), record, fwd, default_authenticate(self.registry, fwd))

    async def _web_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._track()
        try:
            request = await asyncio.wait_for(web.read_request(reader), self.config.handshake_timeout)
        except (TimeoutError, ConnectionError):
            writer.close()
            return
        if request is None:
            writer.close()
            return
        if not request.is_websocket:
            try:
                await web.serve_static(writer, request, self.config.web_dir, self.config.novnc_dir())
            except ConnectionError:
                pass
            finally:
                writer.close()
            return
        await self._websocket(request, reader, writer)

    async def _websocket(self, request: web.Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        record = SessionRecord(via="websocket", client=_peer(writer))
        token = request.token()
        fwd = self.registry.by_token(token) if token else None
        if fwd is None or self.sessions.full() or not self.registry.consume(fwd):
            record.outcome = "too many sessions" if fwd is not None and self.sessions.full() else "unknown or used token"
            with contextlib.suppress(ConnectionError):
                await web.respond(writer, 403, "Forbidden", b"")
            writer.close()
            record.emit()
            return
        stream = WebSocketStream(reader, writer)
        try:
            await stream.accept(request.headers)
        except Exception as exc:  # websockify raises bare Exception for a bad upgrade request
            record.forwarding, record.outcome = fwd.id, f"bad WebSocket request: {exc}"
            with contextlib.suppress(ConnectionError):
                await web.respond(writer, 400, "Bad Request", str(exc).encode())
            writer.close()
            record.emit()
            return

        async def authenticate(handshake: ClientHandshake) -> Forwarding:
            await handshake.accept(None)  # the one-time token was the authentication
            return fwd

        await self.sessions.run(stream, record, fwd, authenticate)
