"""Fixtures of the browser tests: Chromium through Playwright, and the product in embedded mode."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import services
from tests.ui import browser as b

BIN = Path(sys.executable).parent


def _require_chromium() -> None:
    if not b.CHROMIUM.exists():
        services.missing("Chromium", f"{b.CHROMIUM} is not installed (scripts/test.sh installs Debian's chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        services.missing("Playwright", "the playwright package is not installed (requirements-test.txt)")


@pytest.fixture(scope="session")
def chromium():
    """One Chromium for the session; each test opens its own context (no shared storage)."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = b.launch(pw)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    pg = context.new_page()
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.set_default_timeout(20_000)
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Embedded:
    """``cyclades-allinone`` as a child process, as ``scripts/run.sh`` starts it."""

    url: str
    data_dir: Path
    proc: subprocess.Popen
    lines: list[str]
    creds: dict

    def token(self, username: str, password: str, project: str) -> str:
        import requests

        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": username, "domain": {"id": "default"}, "password": password}},
                },
                "scope": {"project": {"name": project, "domain": {"id": "default"}}},
            }
        }
        r = requests.post(f"{self.url}/identity/v3/auth/tokens", json=body, timeout=10)
        assert r.status_code == 201, r.text
        return r.headers["X-Subject-Token"]


@pytest.fixture(scope="session")
def embedded(tmp_path_factory):
    """The whole product in embedded mode (simulated Ganeti at five times its speed)."""
    _require_chromium()
    data_dir = tmp_path_factory.mktemp("embedded") / "var"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CYCLADES_", "DJANGO_"))}
    proc = subprocess.Popen(
        [str(BIN / "cyclades-allinone"), "--data-dir", str(data_dir), "--port", str(port), "--time-scale", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    threading.Thread(target=lambda: [lines.append(line.rstrip("\n")) for line in proc.stdout], daemon=True).start()
    deadline = time.monotonic() + 120
    while not any("Cyclades is running at" in line for line in lines):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("cyclades-allinone did not start:\n" + "\n".join(lines), pytrace=False)
        time.sleep(0.1)
    creds = json.loads((data_dir / "demo-credentials.json").read_text())
    yield Embedded(url=f"http://127.0.0.1:{port}", data_dir=data_dir, proc=proc, lines=lines, creds=creds)
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
