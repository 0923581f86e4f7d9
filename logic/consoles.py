"""VNC consoles: a one-shot forwarding through the VNC authentication proxy, for an ACTIVE server.

The guest's VNC endpoint comes from Ganeti (:func:`logic.ganeti_jobs.console_info`:
the primary node and ``network_port`` where Ganeti's console call is broken for
kvm); the proxy (``cyclades-vncauthproxy``) is asked over its control socket for a
forwarding with a generated password and a one-time token. Nothing is written to
the database: the forwarding lives in the proxy until used or expired.

Three answers are built from one forwarding: the Nova console URL (the noVNC page
with the token), and the Synnefo ``console`` action's host, port and password.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.conf import settings

from logic.errors import ConflictError, InvalidInput, LogicError
from logic.identity import AuthContext
from logic.server_status import server_status

log = logging.getLogger(__name__)

NOVA_TYPES = {"novnc"}
SYNNEFO_TYPES = ("vnc", "vnc-ws", "vnc-wss")


class ConsoleUnavailable(LogicError):
    """The console service cannot be reached or is not configured (503)."""


class NotActive(ConflictError):
    """The server is not ACTIVE (409)."""


@dataclass(frozen=True)
class Console:
    """A forwarding the proxy made for one client."""

    host: str
    port: int
    password: str
    token: str
    url: str


def _setting(name: str):
    return settings.CYCLADES[name]


def _secret() -> str:
    secret = _setting("VNCAUTHPROXY_SECRET") or ""
    path = _setting("VNCAUTHPROXY_SECRET_FILE")
    if not secret and path:
        try:
            secret = Path(path).read_text().strip()
        except OSError as exc:
            raise ConsoleUnavailable(f"The console service is not configured ({exc.strerror}).") from exc
    if not secret:
        raise ConsoleUnavailable("The console service is not configured on this cloud.")
    return secret


def _guest_password() -> str | None:
    path = _setting("CONSOLE_GUEST_PASSWORD_FILE")
    if not path:
        return None
    try:
        return Path(path).read_text().splitlines()[0].strip() or None
    except (OSError, IndexError) as exc:
        raise ConsoleUnavailable("The guests' VNC password cannot be read.") from exc


def public_host() -> str:
    """Where VNC clients reach the proxy's ports."""
    return _setting("CONSOLE_PUBLIC_HOST") or urlsplit(_setting("PUBLIC_URL")).hostname or "127.0.0.1"


def page_url(token: str) -> str:
    """The noVNC page with the one-time token."""
    base = _setting("CONSOLE_URL") or f"http://{public_host()}:{_setting('VNCAUTHPROXY_WEB_PORT')}/vnc.html"
    return f"{base}{'&' if '?' in base else '?'}{urlencode({'token': token})}"


def open_console(ctx: AuthContext, raw_id: str) -> Console:
    """A one-shot console forwarding for the caller's ACTIVE server (404 unseen, 409 not ACTIVE, 503 no proxy)."""
    from logic import servers as server_rules
    from logic.drivers import driver_for
    from logic.rapi import RapiError
    from vncauthproxy.client import ProxyRefused, ProxyUnavailable, request_forwarding

    server = server_rules.get_server(ctx, raw_id)
    status = server_status(server)
    if status != "ACTIVE":
        raise NotActive(f"Cannot get a console of server {server.pk} while it is {status}: it must be ACTIVE.")
    secret = _secret()
    try:
        info = driver_for(server).console_info(server)  # logic.ganeti_jobs unless a libvirt backend
    except RapiError as exc:
        raise ConsoleUnavailable(f"The console of server {server.pk} cannot be located now.") from exc
    if info.get("kind") != "vnc" or not info.get("host") or not info.get("port"):
        raise ConsoleUnavailable(f"Server {server.pk} has no VNC console (its hypervisor offers {info.get('kind')!r}).")
    try:
        answer = request_forwarding(
            str(info["host"]),
            int(info["port"]),
            control_host=_setting("VNCAUTHPROXY_CONTROL_HOST"),
            control_port=_setting("VNCAUTHPROXY_CONTROL_PORT"),
            secret=secret,
            guest_password=_guest_password(),
            ttl=_setting("VNCAUTHPROXY_FORWARD_TTL"),
            label=f"server {server.pk} user {ctx.user.pk}",
            tls_ca=_setting("VNCAUTHPROXY_CONTROL_CERT") or None,
        )
    except (ProxyUnavailable, ProxyRefused) as exc:
        log.warning("console of server %s: %s", server.pk, exc)
        raise ConsoleUnavailable("The console service is unavailable; try again later.") from exc
    log.info("console forwarding %s for server %s", answer["id"], server.pk)
    return Console(
        host=public_host(),
        port=int(answer["port"]),
        password=answer["password"],
        token=answer["token"],
        url=page_url(answer["token"]),
    )


def nova_console(ctx: AuthContext, raw_id: str, protocol: str, kind: str) -> dict:
    """``remote_console`` body (2.6+): ``{"protocol": "vnc", "type": "novnc", "url": ...}``."""
    if protocol != "vnc" or kind not in NOVA_TYPES:
        raise InvalidInput(f"Unsupported console: protocol {protocol!r} type {kind!r}; this cloud offers vnc/novnc.")
    return {"protocol": "vnc", "type": kind, "url": open_console(ctx, raw_id).url}


def legacy_vnc_console(ctx: AuthContext, raw_id: str, kind: object) -> dict:
    """``os-getVNCConsole`` body (before 2.6): ``{"type": "novnc", "url": ...}``."""
    if kind not in NOVA_TYPES:
        raise InvalidInput(f"Unsupported VNC console type {kind!r}; this cloud offers novnc.")
    return {"type": kind, "url": open_console(ctx, raw_id).url}


def synnefo_console(ctx: AuthContext, raw_id: str, kind: object) -> dict:
    """Synnefo's ``console`` action: ``{"type": "vnc", "host", "port", "password"}`` as kamaki prints it."""
    if kind not in SYNNEFO_TYPES:
        raise InvalidInput(f"Console type must be one of {', '.join(SYNNEFO_TYPES)}.")
    console = open_console(ctx, raw_id)
    return {"type": kind, "host": console.host, "port": console.port, "password": console.password}
