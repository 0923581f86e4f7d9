"""Console fixtures: a real vncauthproxy (on its own asyncio loop in a thread) and test VNC servers.

* ``proxy``: a running :class:`vncauthproxy.server.Proxy` on free ports of 127.0.0.1
  (short timeouts so that timeouts can be tested), with ``forward(...)`` to ask for a
  forwarding over the real control socket, ``call(coro)`` to run on its loop, and
  ``guest`` (a :class:`vncauthproxy.testvnc.TestVncServer` with password ``gpw``).
* ``proxy_settings``: the product's settings pointed at that proxy (for API tests).
* ``vncdo(port, password, out)``: the real vncdotool CLI capturing a screen.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from vncauthproxy.client import request_forwarding
from vncauthproxy.config import ProxyConfig
from vncauthproxy.server import Proxy
from vncauthproxy.testvnc import TestVncServer

SECRET = "console-test-secret-" + "x" * 20
VNCDO = str(Path(sys.executable).parent / "vncdo")


def free_port_range(size: int = 20) -> range:
    """A run of ``size`` ports that are free now (from an ephemeral-looking base, per process)."""
    base = 20000 + (os.getpid() * 37) % 30000
    for start in range(base, base + 5000, size):
        ok = True
        for port in range(start, start + size):
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return range(start, start + size)
    raise RuntimeError("no free port range")


class RunningProxy:
    """A proxy on its own event loop thread."""

    def __init__(self, **overrides) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="vncauthproxy", daemon=True)
        self.thread.start()
        options = {
            "secret": SECRET,
            "control_port": 0,
            "web_port": 0,
            "ports": free_port_range(),
            "handshake_timeout": 1.5,
            "sweep_interval": 0.2,
        }
        options.update(overrides)
        self.config = ProxyConfig(**options)
        self.proxy = Proxy(self.config)
        self.guest = TestVncServer(password="gpw")
        self.call(self.proxy.start())
        self.call(self.guest.start())

    def call(self, coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def control_port(self) -> int:
        return self.proxy.control_port

    @property
    def web_port(self) -> int:
        return self.proxy.web_port

    def forward(self, host: str = "127.0.0.1", port: int | None = None, guest_password: str | None = "gpw", **kw) -> dict:
        return request_forwarding(
            host,
            port or self.guest.port,
            control_host="127.0.0.1",
            control_port=self.control_port,
            secret=SECRET,
            guest_password=guest_password,
            **kw,
        )

    def close(self) -> None:
        self.call(self.proxy.stop())
        self.call(self.guest.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def proxy():
    running = RunningProxy()
    yield running
    running.close()


@pytest.fixture
def proxy_settings(proxy, settings):
    """The product's settings pointed at ``proxy`` (and its guest password)."""
    cyc = dict(settings.CYCLADES)
    cyc.update(
        VNCAUTHPROXY_SECRET=SECRET,
        VNCAUTHPROXY_CONTROL_HOST="127.0.0.1",
        VNCAUTHPROXY_CONTROL_PORT=proxy.control_port,
        VNCAUTHPROXY_WEB_PORT=proxy.web_port,
        CONSOLE_PUBLIC_HOST="127.0.0.1",
        CONSOLE_URL=f"http://127.0.0.1:{proxy.web_port}/vnc.html",
    )
    settings.CYCLADES = cyc
    return cyc


def vncdo(port: int, password: str | None, out: Path, timeout: float = 30) -> subprocess.CompletedProcess:
    """``vncdo -s 127.0.0.1::PORT [-p PASS] capture OUT`` (the real vncdotool client)."""
    args = [VNCDO, "-s", f"127.0.0.1::{port}"]
    if password is not None:
        args += ["-p", password]
    return subprocess.run([*args, "capture", str(out)], capture_output=True, text=True, timeout=timeout)
