"""The unmodified ``openstack`` CLI end to end against the whole stack on the real Ganeti sandbox.

The stack (:mod:`tests.tempest.stack`: gunicorn API, eventd, dispatcher, PostgreSQL,
RabbitMQ) is started once for the module. Every command is the real CLI in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(1200)]

OPENSTACK = str(Path(sys.executable).parent / "openstack")


@pytest.fixture(scope="module")
def stack(core_loop):
    """The session's running loop (tests/fixtures_loop.py), shared with the other end-to-end tests."""
    return core_loop


@pytest.fixture(scope="module")
def cli(stack):
    """``cli(*args)``: run ``openstack <args>`` as the demo1 member; JSON output parsed when asked for."""
    env = {"PATH": os.environ["PATH"], "HOME": str(stack.workdir), **stack.os_env("demo1", "demo1")}

    def run(*args: str, check: bool = True, timeout: float = 300):
        proc = subprocess.run([OPENSTACK, *args], env=env, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        if "-f" in args and args[args.index("-f") + 1] == "json" and proc.returncode == 0:
            return json.loads(proc.stdout)
        return proc

    return run


def test_flavor_image_keypair_and_limits_commands(cli, stack):
    flavors = cli("flavor", "list", "-f", "json")
    assert {f["Name"] for f in flavors} >= {"m1.tiny", "m1.small"}
    assert next(f for f in flavors if f["Name"] == "m1.tiny")["ID"] == "1"

    images = cli("image", "list", "-f", "json")
    assert {i["ID"] for i in images} == set(stack.facts["images"])
    shown = cli("image", "show", "cirros-noop", "-f", "json")  # name lookup: 404 by id, then ?name=
    assert shown["id"] == stack.facts["images"][0]

    created = cli("keypair", "create", "kp1")  # the CLI generates the key and prints the private half
    assert "PRIVATE KEY" in created.stdout
    listed = cli("keypair", "list", "-f", "json")
    assert [k["Name"] for k in listed] == ["kp1"]
    assert listed[0]["Fingerprint"] == cli("keypair", "show", "kp1", "-f", "json")["fingerprint"]
    cli("keypair", "delete", "kp1")
    assert cli("keypair", "list", "-f", "json") == []

    limits = {row["Name"]: row["Value"] for row in cli("limits", "show", "--absolute", "-f", "json")}
    # the SDK renames Nova's keys (maxTotalInstances -> instances, totalInstancesUsed -> instances_used)
    assert limits["instances"] == 10 and limits["instances_used"] == 0
    assert limits["keypairs"] == 100 and limits["server_meta"] == 128


def test_server_lifecycle(cli):
    name = f"cli{os.getpid()}"
    # the CLI negotiates the highest version both sides know (2.100): an FQDN hostname (2.94), a pinned
    # zone (2.96) and scheduler hints (2.100) come back in its view of the server
    server = cli("server", "create", "--image", "cirros-noop", "--flavor", "m1.tiny", "--network", "private", "--wait",
                 "--hostname", f"{name}.example.org", "--availability-zone", "nova", "--hint", "target_cell=cell1",
                 name, "-f", "json", timeout=600)  # fmt: skip
    assert server["status"] == "ACTIVE"
    server_id = server["id"]
    try:
        listed = cli("server", "list", "-f", "json")
        row = next(s for s in listed if s["ID"] == server_id)
        assert row["Status"] == "ACTIVE" and row["Name"] == name and "private" in row["Networks"]  # {"private": [ip]}
        # the CLI shows the image's name only when the server's image.id is spelled as Glance spells it
        assert row["Image"] == "cirros-noop", row
        shown = cli("server", "show", name, "-f", "json")
        assert shown["id"] == server_id and flavor_name(shown) == "m1.tiny"
        assert shown["OS-EXT-SRV-ATTR:hostname"] == f"{name}.example.org" and shown["pinned_availability_zone"] == "nova"
        assert shown["scheduler_hints"] == {"target_cell": "cell1"}
        cli("server", "set", "--hostname", f"{name}-renamed", name)
        assert cli("server", "show", server_id, "-f", "json")["OS-EXT-SRV-ATTR:hostname"] == f"{name}-renamed"

        cli("server", "stop", name)
        wait_status(cli, server_id, "SHUTOFF")
        cli("server", "start", name)
        wait_status(cli, server_id, "ACTIVE")
        cli("server", "reboot", "--wait", name, timeout=600)
        assert cli("server", "show", server_id, "-f", "json")["status"] == "ACTIVE"

        cli("server", "resize", "--flavor", "m1.small", "--wait", name, timeout=600)
        assert cli("server", "show", server_id, "-f", "json")["status"] == "VERIFY_RESIZE"
        cli("server", "resize", "confirm", name)
        wait_status(cli, server_id, "ACTIVE")
        assert flavor_name(cli("server", "show", server_id, "-f", "json")) == "m1.small"
    finally:
        cli("server", "delete", "--wait", server_id, timeout=600)
    assert cli("server", "show", server_id, check=False).returncode != 0
    assert server_id not in [s["ID"] for s in cli("server", "list", "-f", "json")]


def flavor_name(shown: dict) -> str:
    """From 2.47 the CLI shows the embedded flavor (a dict with original_name), before "name (id)"."""
    flavor = shown["flavor"]
    return flavor["original_name"] if isinstance(flavor, dict) else flavor.split(" ")[0]


def wait_status(cli, server_id: str, status: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        seen = cli("server", "show", server_id, "-f", "json")["status"]
        if seen == status:
            return
        time.sleep(1)
    raise AssertionError(f"server {server_id} still {seen}, not {status}, after {timeout}s")
