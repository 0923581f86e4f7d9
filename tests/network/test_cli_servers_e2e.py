"""The unmodified ``openstack`` CLI: networks and ports on servers, end to end on the real Ganeti sandbox.

After each step the cluster (RAPI: what ``gnt-network info`` and ``gnt-instance info``
show) has the network, the NIC's MAC, IP and network, and the API shows what Ganeti reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from logic.neutron import ipam
from tests.fixtures_ganeti import sandbox_client
from tests.services import ganeti_env

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(1500)]

OPENSTACK = str(Path(sys.executable).parent / "openstack")


@pytest.fixture(scope="module")
def stack(core_loop):
    return core_loop


def _runner(stack, username: str, project: str):
    env = {"PATH": os.environ["PATH"], "HOME": str(stack.workdir), **stack.os_env(username, project)}

    def run(*args: str, check: bool = True, timeout: float = 300):
        proc = subprocess.run([OPENSTACK, *args], env=env, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        if "-f" in args and args[args.index("-f") + 1] == "json" and proc.returncode == 0:
            return json.loads(proc.stdout)
        return proc

    return run


@pytest.fixture(scope="module")
def cli(stack):
    return _runner(stack, "demo1", "demo1")


@pytest.fixture(scope="module")
def admin_cli(stack):
    return _runner(stack, stack.facts["admin"]["username"], stack.facts["admin"]["project_name"])


@pytest.fixture(scope="module")
def rapi():
    client = sandbox_client(ganeti_env())
    yield client
    client.close()


def until(what, check, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(1)


def test_server_with_nics_floating_ip_security_groups_and_interfaces(cli, admin_cli, rapi, stack):
    prefix = stack.env["CYCLADES_GANETI_PREFIX"]
    tag = f"e{os.getpid()}"
    net = cli("network", "create", f"{tag}-net", "-f", "json")
    v4 = cli("subnet", "create", "--network", net["id"], "--subnet-range", "10.91.0.0/24", f"{tag}-v4", "-f", "json")
    v6 = cli("subnet", "create", "--network", net["id"], "--ip-version", "6", "--ipv6-address-mode", "slaac",
             "--ipv6-ra-mode", "slaac", "--subnet-range", "2001:db8:91::/64", f"{tag}-v6", "-f", "json")  # fmt: skip
    assert v4["gateway_ip"] == "10.91.0.1"
    port = cli("port", "create", "--network", net["id"], "--fixed-ip", "ip-address=10.91.0.50", f"{tag}-port", "-f", "json")

    server = cli("server", "create", "--image", "cirros-noop", "--flavor", "m1.tiny", "--wait",
                 "--nic", f"net-id={net['id']},v4-fixed-ip=10.91.0.20", "--nic", f"port-id={port['id']}",
                 f"{tag}-vm", "-f", "json", timeout=600)  # fmt: skip
    assert server["status"] == "ACTIVE"
    sid = server["id"]
    ganeti_net = f"{prefix}-net-{net['id']}"
    try:
        # the cluster: the network exists and is connected; the instance has both NICs with our MACs and IPs
        info = rapi.get_network(ganeti_net)
        assert info["network"] == "10.91.0.0/24" and info["group_list"]
        ports = {p["ID"]: p for p in cli("port", "list", "--server", sid, "-f", "json")}
        assert len(ports) == 2 and port["id"] in ports
        instance = rapi.get_instance(f"{prefix}-{sid}")
        made = next(p for pid, p in ports.items() if pid != port["id"])
        assert instance["nic.macs"] == [made["MAC Address"], port["mac_address"]]
        assert instance["nic.ips"] == ["10.91.0.20", "10.91.0.50"]
        assert instance["nic.networks.names"] == [ganeti_net, ganeti_net]
        # the API: addresses as Ganeti reported them, plus the SLAAC addresses we computed
        addresses = cli("server", "show", sid, "-f", "json")["addresses"]
        shown = addresses[f"{tag}-net"] if isinstance(addresses, dict) else addresses
        for expected in ("10.91.0.20", "10.91.0.50", ipam.eui64(v6["cidr"], port["mac_address"])):
            assert expected in json.dumps(shown)
        assert cli("port", "show", port["id"], "-f", "json")["status"] == "ACTIVE"

        # a floating IP from the external network, associated and disassociated through the server commands
        admin_cli("network", "create", "--external", f"{tag}-public")
        admin_cli("subnet", "create", "--network", f"{tag}-public", "--subnet-range", "203.0.113.0/24", f"{tag}-public-v4")
        fip = cli("floating", "ip", "create", f"{tag}-public", "-f", "json")["floating_ip_address"]
        cli("server", "add", "floating", "ip", "--fixed-ip-address", "10.91.0.20", sid, fip)
        assert cli("floating", "ip", "show", fip, "-f", "json")["fixed_ip_address"] == "10.91.0.20"
        assert fip in json.dumps(cli("server", "show", sid, "-f", "json")["addresses"])
        cli("server", "remove", "floating", "ip", sid, fip)
        assert cli("floating", "ip", "show", fip, "-f", "json")["port_id"] is None
        cli("floating", "ip", "delete", fip)

        # security groups: removing the only one leaves none (issue 12), adding it back works
        cli("server", "remove", "security", "group", sid, "default")
        assert (
            "security_groups" not in cli("server", "show", sid, "-f", "json")
            or not cli("server", "show", sid, "-f", "json")["security_groups"]
        )
        cli("server", "add", "security", "group", sid, "default")
        assert "default" in json.dumps(cli("server", "show", sid, "-f", "json")["security_groups"])

        # interface attach (a new port on the network) and detach (the user's port)
        cli("server", "add", "network", sid, net["id"])
        until("the third NIC in Ganeti", lambda: len(rapi.get_instance(f"{prefix}-{sid}")["nic.macs"]) == 3)
        until(
            "three ports ACTIVE",
            lambda: [p["Status"] for p in cli("port", "list", "--server", sid, "-f", "json")] == ["ACTIVE"] * 3,
        )
        cli("server", "remove", "port", sid, port["id"])
        until("the NIC gone from Ganeti", lambda: port["mac_address"] not in rapi.get_instance(f"{prefix}-{sid}")["nic.macs"])
        assert cli("port", "show", port["id"], "-f", "json")["device_id"] == ""
    finally:
        cli("server", "delete", "--wait", sid, timeout=600)
    # the ports the server made went with it; the user's port stays, free
    assert cli("port", "list", "--network", net["id"], "-f", "json") == [] or [
        p["ID"] for p in cli("port", "list", "--network", net["id"], "-f", "json")
    ] == [port["id"]]
    cli("port", "delete", port["id"], check=False)
    cli("network", "delete", net["id"])
    until("the Ganeti network removed", lambda: ganeti_net not in rapi.list_networks())
