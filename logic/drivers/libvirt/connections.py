"""One libvirt connection per URI in a process, and libvirt's default event loop in a thread.

A connection is shared by the driver and the lifecycle listener of the same
process: with ``test:///default`` the host's state lives in the connection, so
both must see the same one. The event loop implementation must be registered
before the first connection is opened, so :func:`connection` always does it.
"""

from __future__ import annotations

import logging
import threading

import libvirt

log = logging.getLogger(__name__)

_lock = threading.Lock()
_connections: dict[str, libvirt.virConnect] = {}
_loop: threading.Thread | None = None


class LibvirtUnavailable(Exception):
    """The host cannot be reached (its URI, libvirt's reason)."""


def _quiet(_ctx, _err) -> None:
    """libvirt prints every error on stderr by default; they are raised as exceptions anyway."""


def _run_loop() -> None:
    while True:
        try:
            libvirt.virEventRunDefaultImpl()
        except libvirt.libvirtError as exc:  # keep the loop alive: one bad callback must not stop events
            log.warning("libvirt event loop: %s", exc)


def ensure_event_loop() -> None:
    """Register libvirt's default event implementation and run it in a daemon thread (once)."""
    global _loop
    if _loop is not None:
        return
    libvirt.registerErrorHandler(_quiet, None)
    libvirt.virEventRegisterDefaultImpl()
    _loop = threading.Thread(target=_run_loop, name="libvirt-events", daemon=True)
    _loop.start()


def connection(uri: str) -> libvirt.virConnect:
    """The process's open connection to ``uri`` (opened at first use, reopened if it died)."""
    with _lock:
        ensure_event_loop()
        conn = _connections.get(uri)
        if conn is not None:
            try:
                if conn.isAlive():
                    return conn
            except libvirt.libvirtError:
                pass
        try:
            conn = libvirt.open(uri)
        except libvirt.libvirtError as exc:
            raise LibvirtUnavailable(f"cannot connect to {uri}: {exc.get_error_message()}") from exc
        _connections[uri] = conn
        return conn


def forget(uri: str) -> None:
    """Close and drop the connection to ``uri`` (tests: a fresh ``test:///default`` host)."""
    with _lock:
        conn = _connections.pop(uri, None)
    if conn is not None:
        try:
            conn.close()
        except libvirt.libvirtError:
            pass
