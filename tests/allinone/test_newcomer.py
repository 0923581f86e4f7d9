"""What a newcomer types: the README's run command, then the printed ``openstack`` commands.

The product runs as a subprocess exactly as ``./scripts/run.sh`` starts it (with a
free port and a temporary data directory); the ``openstack`` CLI talks to it with
the clouds.yaml and OS_CLOUD it printed. Nothing is faked: the simulated Ganeti
master writes job files, eventd publishes them, the dispatcher applies them.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "scripts" / "run.sh"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Product:
    """The run command as a child process; its output is collected line by line."""

    def __init__(self, data_dir: Path, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CYCLADES_", "DJANGO_"))}
        self.proc = subprocess.Popen(
            [str(RUN), "--data-dir", str(data_dir), "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if m := re.search(pattern, line):
                    return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} not printed; output:\n{self.output}")

    def cli_environment(self) -> dict[str, str]:
        """The environment after typing the printed ``export`` lines."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
        for name in ("OS_CLIENT_CONFIG_FILE", "OS_CLOUD"):
            env[name] = self.wait_for(rf"export {name}=(\S+)", 5).group(1)
        return env

    def interrupt(self, timeout: float = 30) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


@pytest.fixture
def product(tmp_path):
    started: list[Product] = []

    def start(port: int | None = None) -> Product:
        p = Product(tmp_path / "var", port or free_port())
        started.append(p)
        return p

    yield start
    for p in started:
        if p.proc.poll() is None:
            p.interrupt()


def openstack(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    done = subprocess.run(["openstack", *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"openstack {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def wait_status(env: dict[str, str], server: str, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        seen = openstack(env, "server", "show", server, "-f", "value", "-c", "status").strip()
        if seen == status:
            return
        time.sleep(1)
    raise AssertionError(f"server {server} is {seen}, not {status}, after {timeout} s")


def test_run_command_then_boot_stop_delete_a_server(product):
    first = product()
    first.wait_for(r"Cyclades is running at http://127\.0\.0\.1:\d+", 240)
    env = first.cli_environment()

    created = json.loads(
        openstack(env, "server", "create", "--flavor", "m1.tiny", "--image", "demo-noop", "--wait", "vm1", "-f", "json")
    )
    assert created["status"] == "ACTIVE", created

    openstack(env, "server", "stop", "vm1")
    wait_status(env, "vm1", "SHUTOFF")

    openstack(env, "server", "delete", "--wait", "vm1")
    assert json.loads(openstack(env, "server", "list", "-f", "json")) == []

    assert first.interrupt() == 0, first.output
    assert "Traceback" not in first.output, first.output

    # Second run on the same data directory: same credentials, the data is still there.
    second = product()
    second.wait_for(r"Cyclades is running at", 120)
    assert second.cli_environment() == env
    flavors = json.loads(openstack(env, "flavor", "list", "-f", "json"))
    assert {f["Name"] for f in flavors} >= {"m1.tiny", "m1.small"}
    assert second.interrupt() == 0, second.output
