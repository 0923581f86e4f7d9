"""The console in the embedded (all-in-one) mode: the proxy and a test VNC server on one asyncio loop.

The simulated Ganeti master has no real guests, so every running instance's console
is the test VNC server (:mod:`vncauthproxy.testvnc`); the proxy in front of it is the
real one, so the API, the noVNC page and VNC clients behave as in production.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading

from vncauthproxy.config import ProxyConfig
from vncauthproxy.server import Proxy
from vncauthproxy.testvnc import TestVncServer


def console_environment(data_dir: str) -> None:
    """Default proxy settings of the embedded mode (a generated secret kept in the data dir)."""
    path = os.path.join(data_dir, "vncauthproxy_secret")
    if not os.path.exists(path):
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    with open(path) as handle:
        os.environ.setdefault("CYCLADES_VNCAUTHPROXY_SECRET", handle.read().strip())


class EmbeddedConsole:
    """``start()`` runs the proxy and the stand-in guest on a thread's loop; ``stop()`` ends both."""

    def __init__(self, config: ProxyConfig) -> None:
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.proxy = Proxy(config)
        self.guest = TestVncServer("127.0.0.1", 0)
        self._thread = threading.Thread(target=self.loop.run_forever, name="vncauthproxy", daemon=True)

    def start(self) -> EmbeddedConsole:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.proxy.start(), self.loop).result(10)
        asyncio.run_coroutine_threadsafe(self.guest.start(), self.loop).result(10)
        return self

    def stop(self) -> None:
        for coro in (self.proxy.stop(), self.guest.stop()):
            asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
