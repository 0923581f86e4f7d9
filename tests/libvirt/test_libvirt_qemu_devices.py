"""NIC and volume hotplug on a REAL QEMU (TCG) guest under this machine's libvirtd, with the unmodified
``openstack`` CLI (``server add/remove network``, ``server add/remove port``, ``server add/remove
volume``) against the whole stack (:mod:`tests.libvirt.test_libvirt_qemu_e2e`'s ``lv_stack``).

The guest runs while its devices change: the driver attaches/detaches with ``VIR_DOMAIN_AFFECT_LIVE``
too, so ``virsh dumpxml`` (the live definition) shows the new ``<interface>`` (the port's MAC on the
network's bridge, a bridge this test makes on the host) and the RBD volume's network disk, and after
the detach they are gone (the guest's kernel answers the ACPI unplug); the API's addresses and
attachments follow through the events.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
from lxml import etree

from tests.libvirt.test_libvirt_qemu_e2e import BIN, OPENSTACK, client, lv_stack, virsh

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.ceph, pytest.mark.slow]

__all__ = ["client", "lv_stack"]  # the module's stack, as in test_libvirt_qemu_e2e

BRIDGE = f"cyvn{os.getpid() % 100000}"


@pytest.fixture
def bridge():
    subprocess.run(["ip", "link", "add", "name", BRIDGE, "type", "bridge"], check=True)
    subprocess.run(["ip", "link", "set", BRIDGE, "up"], check=True)
    yield BRIDGE
    subprocess.run(["ip", "link", "del", BRIDGE], check=False)


def live(domain: str) -> etree._Element:
    return etree.fromstring(virsh("dumpxml", domain).encode())


def macs(domain: str) -> list[str]:
    return [el.find("mac").get("address") for el in live(domain).findall("devices/interface")]


def wait(what: str, check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"not {what} after {timeout:.0f}s"
        time.sleep(0.25)
    return found


def test_nics_and_a_volume_come_and_go_on_a_running_guest(lv_stack, client, bridge):
    stack, facts = lv_stack
    env = {"PATH": os.environ["PATH"], "HOME": str(stack.workdir), **stack.os_env("demo1", "demo1")}

    def cli(*args: str):
        proc = subprocess.run([OPENSTACK, *args], env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"openstack {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
        return json.loads(proc.stdout) if "json" in args else proc

    manage = [str(BIN / "cyclades-manage")]
    from tests.tempest import stack as stackmod

    net_id = stackmod._run(stack, "network-create", [*manage, "network-create", "--name", f"lvnet-{BRIDGE}",
                                                    "--project", "demo1", "--link", bridge]).strip()  # fmt: skip
    cli("subnet", "create", "--network", net_id, "--subnet-range", "10.73.0.0/28", f"lvsub-{BRIDGE}")
    server = cli("server", "create", "--image", facts["image"], "--flavor", "lv.qemu", "--nic", "none", "--wait",
                 f"lvdev{os.getpid()}", "-f", "json")  # fmt: skip
    sid, domain = server["id"], f"{stack.facts['prefix']}-{server['id']}"
    assert server["status"] == "ACTIVE" and macs(domain) == []
    timings = {}
    try:
        # server add network: a new port, hotplugged on the bridge with its MAC; its address in the API
        t0 = time.monotonic()
        cli("server", "add", "network", sid, net_id)
        (iface,) = live(domain).findall("devices/interface")
        assert iface.get("type") == "bridge" and iface.find("source").get("bridge") == bridge
        mac = iface.find("mac").get("address")
        port = wait("ACTIVE", lambda: next((p for p in cli("port", "list", "--server", sid, "-f", "json")
                                            if p["Status"] == "ACTIVE"), None))  # fmt: skip
        assert port["MAC Address"] == mac
        addresses = wait("addressed", lambda: client.server(sid).json()["server"]["addresses"].get(f"lvnet-{BRIDGE}"))
        assert addresses[0]["addr"] == port["Fixed IP Addresses"][0]["ip_address"] and addresses[0]["addr"].startswith("10.73.0.")
        timings["add network"] = time.monotonic() - t0
        assert virsh("domiflist", domain).count(mac) == 1

        # server add port / remove port: a port the user made
        made = cli("port", "create", "--network", net_id, f"lvport-{BRIDGE}", "-f", "json")
        t0 = time.monotonic()
        cli("server", "add", "port", sid, made["id"])
        assert macs(domain) == [mac, made["mac_address"]]
        wait("two addresses", lambda: len(client.server(sid).json()["server"]["addresses"].get(f"lvnet-{BRIDGE}", [])) == 2)
        timings["add port"] = time.monotonic() - t0
        t0 = time.monotonic()
        cli("server", "remove", "port", sid, made["id"])
        wait("unplugged", lambda: macs(domain) == [mac], timeout=30)
        wait("one address", lambda: len(client.server(sid).json()["server"]["addresses"].get(f"lvnet-{BRIDGE}", [])) == 1)
        timings["remove port"] = time.monotonic() - t0
        assert cli("port", "show", made["id"], "-f", "json")["device_id"] == ""  # the user's port lives on

        # server remove network: every NIC on it goes
        t0 = time.monotonic()
        cli("server", "remove", "network", sid, net_id)
        wait("unplugged", lambda: macs(domain) == [], timeout=30)
        wait("no address", lambda: not client.server(sid).json()["server"]["addresses"])
        timings["remove network"] = time.monotonic() - t0
        assert "<interface" not in virsh("dumpxml", "--inactive", domain)

        # server add volume / remove volume: the RBD image as a live network disk, then gone
        vol = cli("volume", "create", "--size", "1", "--type", facts.get("rbd_volume_type", "rbd"), f"lvvol-{BRIDGE}",
                  "-f", "json")  # fmt: skip
        wait("available", lambda: cli("volume", "show", vol["id"], "-f", "json")["status"] == "available")
        t0 = time.monotonic()
        cli("server", "add", "volume", sid, vol["id"])
        wait("in-use", lambda: cli("volume", "show", vol["id"], "-f", "json")["status"] == "in-use")
        timings["add volume"] = time.monotonic() - t0
        (disk,) = [d for d in live(domain).findall("devices/disk") if d.find("target").get("dev") == "vdb"]
        assert disk.find("source").get("protocol") == "rbd" and disk.find("source").get("name").endswith(f"-vol-{vol['id']}")
        assert "<secret type='ceph' usage='cyclades client." in virsh("dumpxml", domain)
        assert "Capacity:       1073741824" in virsh("domblkinfo", domain, "vdb")  # QEMU opened it through librbd
        attached = client.get(f"/compute/v2.1/servers/{sid}/os-volume_attachments").json()["volumeAttachments"]
        assert [(a["volumeId"], a["device"]) for a in attached] == [(vol["id"], "/dev/vdb")]
        t0 = time.monotonic()
        cli("server", "remove", "volume", sid, vol["id"])
        wait("available", lambda: cli("volume", "show", vol["id"], "-f", "json")["status"] == "available")
        wait("unplugged", lambda: "vdb" not in virsh("domblklist", domain), timeout=30)
        timings["remove volume"] = time.monotonic() - t0
        assert client.get(f"/compute/v2.1/servers/{sid}/os-volume_attachments").json()["volumeAttachments"] == []
        assert client.server(sid).json()["server"]["status"] == "ACTIVE"
        assert virsh("domstate", domain).strip() == "running"
        cli("volume", "delete", vol["id"])
        cli("port", "delete", made["id"])
        print("\nlibvirt hotplug on a running TCG guest: " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
    finally:
        cli("server", "delete", "--wait", sid)
