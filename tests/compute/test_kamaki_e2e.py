"""The real kamaki 0.16 (Synnefo's own client, Python 2.7) end to end against the v2.0 Synnefo
flavour of the compute API, on the whole stack and the real Ganeti sandbox.

kamaki authenticates with a v2.0 token (``/identity/v2.0``), picks the compute endpoint of the
v2.0 catalog, and drives servers with Synnefo's verbs: ``create -w`` reads ``status`` from the
create answer, ``shutdown``/``start`` are Synnefo actions, and ``delete -w`` waits until the
server shows DELETED (a 404 would fail it).
"""

from __future__ import annotations

import os
import re

import pytest

from tests import services
from tests.identity.test_v2_kamaki import KAMAKI_DIR, PYTHON2, run_kamaki

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def kamaki(core_loop, loop_client, tmp_path_factory):
    """``kamaki(*args)``: the real kamaki as demo1, with a v2.0 token of demo1's project."""
    if not (os.path.isfile(os.path.join(KAMAKI_DIR, "bin", "kamaki")) and os.path.isfile(PYTHON2)):
        services.missing("kamaki 0.16 (Python 2.7)", f"no {KAMAKI_DIR}/bin/kamaki or no {PYTHON2}; run scripts/kamaki.sh")
    token = loop_client("demo1").http.headers["X-Auth-Token"]
    home = tmp_path_factory.mktemp("kamaki")

    def run(*args: str, ok: bool = True):
        result = run_kamaki(home, core_loop.url + "/identity/v2.0", token, *args)
        if ok:
            assert result.returncode == 0, f"kamaki {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result

    return run


def proxy_status(stack) -> dict:
    """The stack's console proxy's status, over its control socket with the stack's secret."""
    from pathlib import Path

    from vncauthproxy.client import status

    env = stack.env
    return status(
        control_host=env["CYCLADES_VNCAUTHPROXY_CONTROL_HOST"],
        control_port=int(env["CYCLADES_VNCAUTHPROXY_CONTROL_PORT"]),
        secret=Path(env["CYCLADES_VNCAUTHPROXY_SECRET_FILE"]).read_text().strip(),
    )


def test_kamaki_flavor_and_server_lifecycle(kamaki, core_loop, loop_client):
    flavors = kamaki("flavor", "list").stdout
    assert "m1.tiny" in flavors

    image = core_loop.facts["images"][0]
    name = f"kamaki{os.getpid()}"
    created = kamaki("server", "create", "--name", name, "--flavor-id", "1", "--image-id", image, "-w").stdout
    match = re.search(r"^id:\s*(\d+)\s*$", created, re.MULTILINE)
    assert match, created
    server_id = match.group(1)
    client = loop_client("demo1")
    try:
        assert client.wait_status(server_id, "ACTIVE")["name"] == name

        listed = kamaki("server", "list").stdout
        assert server_id in listed and name in listed
        info = kamaki("server", "info", server_id).stdout
        assert re.search(r"^status:\s*ACTIVE\s*$", info, re.MULTILINE), info

        kamaki("server", "reboot", server_id, "-w")
        assert client.wait_status(server_id, "ACTIVE")["id"] == server_id
        # Synnefo's console action reaches Ganeti (the stack runs the real console proxy); the fake
        # hypervisor has no VNC, Ganeti says so, and kamaki shows that 409 and fails
        console = kamaki("server", "console", server_id, ok=False)
        shown = console.stdout + console.stderr
        assert console.returncode != 0, shown
        assert "409" in shown and "Console not available for fake hypervisor" in shown, shown
        print(f"kamaki server console (fake hypervisor): exit {console.returncode}\n{shown}")
        proxy = proxy_status(core_loop)  # the stack's real cyclades-vncauthproxy: up, and asked for nothing
        assert proxy == {"ok": True, "pending": 0, "sessions": 0}, proxy

        kamaki("server", "shutdown", server_id, "-w")
        assert client.wait_status(server_id, "SHUTOFF")["id"] == server_id
        assert re.search(r"^status:\s*STOPPED\s*$", kamaki("server", "info", server_id).stdout, re.MULTILINE)

        kamaki("server", "start", server_id, "-w")
        assert client.wait_status(server_id, "ACTIVE")["id"] == server_id

        kamaki("server", "delete", server_id, "-w")
        assert client.server(server_id).status_code == 404  # v2.1 is strict: gone
        server_id = None
    finally:
        if server_id is not None:
            client.delete(f"/compute/v2.1/servers/{server_id}")
