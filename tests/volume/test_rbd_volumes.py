"""Volumes and server disks on the real Ceph sandbox, through Ganeti's ext template and our cyclades-rbd provider.

The unmodified ``openstack`` CLI against the running stack (tests/fixtures_loop.py); after each
step ``rbd`` (the Ceph CLI) and ``gnt-instance info`` must show what the API claims: the volume is
a real RBD image of its size, attached it is an ext disk of the instance served from a loop device
(librbd through qemu-storage-daemon: no kernel rbd), detached the image lives on, snapshots are
real RBD snapshots, volumes from snapshots are clones and delete removes the image.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pytest

from tests.volume.test_cli_volumes import cli, gnt_disk_names, wait_volume  # noqa: F401 (cli is a fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(900)]

GIB = 1 << 30


def rbd(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["rbd", "--conf", "/etc/ceph/ceph.conf", *args], capture_output=True, text=True, timeout=60,
                          check=check)  # fmt: skip


def rbd_info(name: str) -> dict | None:
    proc = rbd("info", "--format", "json", f"rbd/{name}", check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def gnt_info(instance: str) -> str:
    return subprocess.run(["gnt-ns", "gnt-instance", "info", instance], capture_output=True, text=True, timeout=60,
                          check=True).stdout  # fmt: skip


def wait_server_status(cli, server_id: str, status: str, timeout: float = 180) -> None:  # noqa: F811
    deadline = time.monotonic() + timeout
    while cli("server", "show", server_id, "-f", "json")["status"] != status:
        assert time.monotonic() < deadline, f"server {server_id} not {status}"
        time.sleep(1)


def test_rbd_volume_lifecycle_on_ceph_and_ganeti(cli, core_loop):  # noqa: F811
    prefix, flavor = core_loop.facts["prefix"], core_loop.facts["rbd_flavor"]
    name = f"rbd{os.getpid()}"
    server = cli("server", "create", "--image", "cirros-noop", "--flavor", flavor, "--network", "private", "--wait",
                 name, "-f", "json")  # fmt: skip
    instance = f"{prefix}-{server['id']}"
    made: list[str] = []
    try:
        # the server's own disk is an RBD image Ganeti created through the provider
        info = gnt_info(instance)
        assert "disk/0: ext" in info and "cyclades-rbd" in info and re.search(r"on primary: /dev/loop\d+", info)
        root = re.search(r"logical_id: \['cyclades-rbd', '([^']+)'\]", info).group(1)
        assert rbd_info(root)["size"] == GIB

        volume = cli("volume", "create", "--size", "1", "--type", "rbd", f"{name}-v", "-f", "json")
        made.append(volume["id"])
        image = f"{prefix}-vol-{volume['id']}"
        assert volume["status"] == "available" and volume["type"] == "rbd"
        assert rbd_info(image)["size"] == GIB  # a real RBD image before any attach

        cli("server", "add", "volume", server["id"], volume["id"])
        shown = wait_volume(cli, volume["id"], "in-use")
        assert shown["attachments"][0]["server_id"] == server["id"]
        assert gnt_disk_names(instance) == ["None", image]
        assert gnt_info(instance).count("disk/1: ext") == 1

        # a snapshot of the volume is a real (protected) RBD snapshot; in-use needs --force as in Cinder
        refused = cli("volume", "snapshot", "create", "--volume", volume["id"], f"{name}-s0", check=False)
        assert refused.returncode != 0
        snap = cli("volume", "snapshot", "create", "--volume", volume["id"], "--force", f"{name}-s", "-f", "json")
        assert snap["status"] == "available" and snap["size"] == 1
        snaps = json.loads(rbd("snap", "ls", "--format", "json", f"rbd/{image}").stdout)
        assert [s["name"] for s in snaps] == [f"snap-{snap['id']}"]
        listed = cli("volume", "snapshot", "list", "-f", "json")
        assert snap["id"] in {s["ID"] for s in listed}
        assert cli("volume", "snapshot", "show", snap["id"], "-f", "json")["volume_id"] == volume["id"]

        # a volume from the snapshot is a copy-on-write clone of it; one from the volume a full copy
        clone = cli("volume", "create", "--snapshot", snap["id"], "--type", "rbd", f"{name}-c", "-f", "json")
        made.append(clone["id"])
        assert clone["size"] == 1 and clone["snapshot_id"] == snap["id"]
        parent = rbd_info(f"{prefix}-vol-{clone['id']}")["parent"]
        assert (parent["image"], parent["snapshot"]) == (image, f"snap-{snap['id']}")
        copy = cli("volume", "create", "--source", volume["id"], "--size", "2", f"{name}-k", "-f", "json")
        made.append(copy["id"])
        assert copy["source_volid"] == volume["id"] and rbd_info(f"{prefix}-vol-{copy['id']}")["size"] == 2 * GIB

        # the volume with snapshots cannot go; detaching keeps the image, outside Ganeti
        cli("server", "stop", server["id"])
        wait_server_status(cli, server["id"], "SHUTOFF")
        cli("server", "remove", "volume", server["id"], volume["id"])
        wait_volume(cli, volume["id"], "available")
        assert gnt_disk_names(instance) == ["None"] and rbd_info(image)["size"] == GIB

        cli("volume", "set", "--size", "2", volume["id"])
        assert cli("volume", "show", volume["id"], "-f", "json")["size"] == 2 and rbd_info(image)["size"] == 2 * GIB
        busy = cli("volume", "delete", volume["id"], check=False)
        assert busy.returncode != 0 and rbd_info(image) is not None

        # deleting the snapshot flattens its clone first; then the volume and its image go
        cli("volume", "snapshot", "delete", snap["id"])
        assert rbd_info(f"{prefix}-vol-{clone['id']}").get("parent") is None
        assert json.loads(rbd("snap", "ls", "--format", "json", f"rbd/{image}").stdout) == []
        cli("volume", "delete", volume["id"])
        made.remove(volume["id"])
        assert rbd_info(image) is None
    finally:
        for volume_id in made:
            cli("volume", "delete", volume_id, check=False)
        cli("server", "delete", "--wait", server["id"], check=False)
    assert rbd_info(root) is None  # Ganeti removed the server's disk with the instance
    for volume_id in made:
        assert rbd_info(f"{prefix}-vol-{volume_id}") is None
