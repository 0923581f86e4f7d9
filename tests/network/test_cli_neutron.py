"""The unmodified ``openstack`` CLI drives the Neutron API: networks, subnets (v4, v6 SLAAC), ports,
security group rules and floating IPs, then the deletes; each step checked through the API."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from logic.neutron import ipam

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(600)]

OPENSTACK = str(Path(sys.executable).parent / "openstack")


@pytest.fixture
def cli(live_identity, tmp_path):
    def for_account(account):
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **live_identity.os_env(account)}

        def run(*args: str, check: bool = True):
            proc = subprocess.run([OPENSTACK, *args], env=env, capture_output=True, text=True, timeout=120)
            if check and proc.returncode != 0:
                raise AssertionError(f"openstack {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
            if proc.returncode == 0 and "-f" in args and args[args.index("-f") + 1] == "json":
                return json.loads(proc.stdout)
            return proc

        return run

    return for_account


def test_network_subnet_port_security_and_floating_ip_commands(cli, live_identity):
    admin, user = cli(live_identity.admin), cli(live_identity.member)
    public = admin("network", "create", "--external", "public", "-f", "json")
    assert public["router:external"] is True
    admin("subnet", "create", "--network", "public", "--subnet-range", "203.0.113.0/24", "public-v4")

    net = user("network", "create", "net1", "-f", "json")
    assert net["status"] == "ACTIVE" and net["project_id"] == live_identity.project.pk
    v4 = user("subnet", "create", "--network", "net1", "--subnet-range", "10.50.0.0/24", "--dns-nameserver", "9.9.9.9",
              "--allocation-pool", "start=10.50.0.10,end=10.50.0.99", "sub4", "-f", "json")  # fmt: skip
    assert v4["gateway_ip"] == "10.50.0.1" and v4["dns_nameservers"] == ["9.9.9.9"]
    v6 = user("subnet", "create", "--network", "net1", "--ip-version", "6", "--ipv6-address-mode", "slaac",
              "--ipv6-ra-mode", "slaac", "--subnet-range", "2001:db8:50::/64", "sub6", "-f", "json")  # fmt: skip
    assert v6["ipv6_address_mode"] == "slaac"
    assert {s["Name"] for s in user("subnet", "list", "--network", "net1", "-f", "json")} == {"sub4", "sub6"}

    port = user("port", "create", "--network", "net1", "--fixed-ip", "subnet=sub4,ip-address=10.50.0.20", "p1", "-f", "json")
    addresses = {ip["subnet_id"]: ip["ip_address"] for ip in port["fixed_ips"]}
    assert addresses[v4["id"]] == "10.50.0.20"
    assert addresses[v6["id"]] == ipam.eui64("2001:db8:50::/64", port["mac_address"])
    assert user("port", "show", "p1", "-f", "json")["id"] == port["id"]
    taken = user("port", "create", "--network", "net1", "--fixed-ip", "ip-address=10.50.0.20", "p2", check=False)
    assert taken.returncode != 0 and "already allocated" in taken.stderr

    groups = user("security", "group", "list", "-f", "json")
    assert [g["Name"] for g in groups] == ["default"]
    rule = user("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "default", "-f", "json")
    assert (rule["port_range_min"], rule["port_range_max"], rule["remote_ip_prefix"]) == (22, 22, "0.0.0.0/0")
    rules = user("security", "group", "rule", "list", "default", "-f", "json")
    assert rule["id"] in [r["ID"] for r in rules] and len(rules) == 5

    fip = user("floating", "ip", "create", "public", "-f", "json")
    address = fip["floating_ip_address"]
    assert address.startswith("203.0.113.") and fip["port_id"] is None
    user("floating", "ip", "set", "--port", "p1", address)
    shown = user("floating", "ip", "show", address, "-f", "json")
    assert shown["port_id"] == port["id"] and shown["fixed_ip_address"] == "10.50.0.20" and shown["status"] == "ACTIVE"
    user("floating", "ip", "unset", "--port", address)
    assert user("floating", "ip", "show", address, "-f", "json")["port_id"] is None

    in_use = user("network", "delete", "net1", check=False)
    assert in_use.returncode != 0
    user("floating", "ip", "delete", address)
    user("security", "group", "rule", "delete", rule["id"])
    user("port", "delete", "p1")
    user("subnet", "delete", "sub6")
    user("network", "delete", "net1")  # the remaining subnet goes with it
    assert [n["Name"] for n in user("network", "list", "-f", "json")] == ["public"]
    assert user("floating", "ip", "list", "-f", "json") == []
