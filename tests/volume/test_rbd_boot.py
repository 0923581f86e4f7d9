"""Servers on RBD boot from clones of the image, and boot from volume, on the real Ceph and Ganeti sandboxes.

A stack of its own with the rbd image store (``IMAGE_STORE=rbd``): an uploaded image is an RBD
image with a protected snapshot. A server of the ``ext`` flavor gets a copy-on-write clone of
that snapshot as its disk (no byte copy; our OS definition is told so and writes nothing), and
the guest's disk (the loop device Ganeti shows) holds the image's bytes. Boot from volume
(``block_device_mapping_v2`` destination volume, the unmodified CLI's ``--boot-from-volume`` and
``--volume``) boots from an RBD volume; ``delete_on_termination`` decides whether it outlives the server.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import services
from tests.tempest import stack as stackmod
from tests.volume.test_cli_volumes import gnt_disk_names, wait_volume
from tests.volume.test_rbd_volumes import gnt_info, rbd_info

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(900)]

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def rbd_stack():
    if found := stackmod.problems():
        services.missing("the whole stack", "; ".join(found))
    with stackmod.running_stack(extra_env={"CYCLADES_IMAGE_STORE": "rbd"}) as stack:
        if not Path("/srv/ganeti/os/cyclades-image/create").exists():  # installed once per node (shared by tests)
            proc = subprocess.run([str(BIN / "cyclades-manage"), "ganeti-os-install"], env=stack.env,
                                  capture_output=True, text=True, timeout=60)  # fmt: skip
            assert proc.returncode == 0, proc.stderr
        yield stack


@pytest.fixture(scope="module")
def cli(rbd_stack):
    env = {"PATH": os.environ["PATH"], "HOME": str(rbd_stack.workdir), **rbd_stack.os_env("demo1", "demo1")}

    def run(*args: str, check: bool = True):
        proc = subprocess.run([str(BIN / "openstack"), *args], env=env, capture_output=True, text=True, timeout=600)
        if check and proc.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        if "-f" in args and proc.returncode == 0:
            lines = proc.stdout.splitlines()
            start = next(i for i, line in enumerate(lines) if line.startswith(("{", "[")))
            return json.loads("\n".join(lines[start:]))
        return proc

    return run


def root_disk(instance: str) -> tuple[str, str]:
    """(Ganeti's volume name, loop device) of the instance's disk 0."""
    info = gnt_info(instance)
    disk0 = info.split("- disk/0:", 1)[1].split("- disk/1:", 1)[0]
    image = re.search(r"logical_id: \['cyclades-rbd', '([^']+)'\]", disk0).group(1)
    device = re.search(r"on primary: (/dev/loop\d+)", disk0).group(1)
    return image, device


def served_image(device: str) -> str:
    """The RBD image a loop device of the provider serves (its backing file is ``<state>/<pool>.<image>/export``)."""
    back = subprocess.run(["losetup", "-n", "-O", "BACK-FILE", device], capture_output=True, text=True, check=True)
    return Path(back.stdout.strip()).parent.name.split(".", 1)[1]


def read_device(device: str, length: int) -> bytes:
    with open(device, "rb") as f:
        return f.read(length)


def test_rbd_flavor_boots_from_a_clone_and_from_volumes(cli, rbd_stack, tmp_path):
    prefix, flavor = rbd_stack.facts["prefix"], rbd_stack.facts["rbd_flavor"]
    data = os.urandom(2 * 1024 * 1024 + 5)
    path = tmp_path / "img.raw"
    path.write_bytes(data)
    name = f"rb{os.getpid()}"
    image = cli("image", "create", "--file", str(path), "--disk-format", "raw", f"{name}-img", "-f", "json")
    store_image = f"image-{image['id']}"
    assert rbd_info(store_image)["size"] == len(data)
    servers: list[str] = []
    volumes: list[str] = []
    try:
        # 1. the ext flavor's disk is a clone of the image's protected snapshot, holding its bytes
        server = cli("server", "create", "--image", image["id"], "--flavor", flavor, "--network", "private", "--wait",
                     name, "-f", "json")  # fmt: skip
        servers.append(server["id"])
        assert server["status"] == "ACTIVE"
        disk, device = root_disk(f"{prefix}-{server['id']}")
        parent = rbd_info(disk)["parent"]
        assert (parent["image"], parent["snapshot"]) == (store_image, "snap")
        assert read_device(device, len(data)) == data

        # 2. a volume from the image is a clone too
        vol = cli("volume", "create", "--image", image["id"], "--size", "1", "--type", "rbd", f"{name}-vi", "-f", "json")
        volumes.append(vol["id"])
        assert vol["bootable"] in (True, "true") and rbd_info(f"{prefix}-vol-{vol['id']}")["parent"]["image"] == store_image

        # 3. boot from that volume (source volume): disk 0 is the volume's own RBD image
        bfv = cli("server", "create", "--volume", vol["id"], "--flavor", flavor, "--network", "private", "--wait",
                  f"{name}-bv", "-f", "json")  # fmt: skip
        servers.append(bfv["id"])
        assert bfv["status"] == "ACTIVE"
        _, device = root_disk(f"{prefix}-{bfv['id']}")
        disk = f"{prefix}-vol-{vol['id']}"
        assert served_image(device) == disk and gnt_disk_names(f"{prefix}-{bfv['id']}") == [disk]
        assert read_device(device, len(data)) == data
        shown = cli("volume", "show", vol["id"], "-f", "json")
        assert shown["status"] == "in-use" and shown["attachments"][0]["server_id"] == bfv["id"]
        assert cli("volume", "delete", vol["id"], check=False).returncode != 0  # in use: refused
        cli("server", "delete", "--wait", bfv["id"])
        servers.remove(bfv["id"])
        wait_volume(cli, vol["id"], "available")  # delete_on_termination false: the volume outlives the server
        assert rbd_info(f"{prefix}-vol-{vol['id']}") is not None

        # 4. boot from a new volume made from the image (source image, destination volume)
        made = cli("server", "create", "--image", image["id"], "--boot-from-volume", "2", "--flavor", flavor,
                   "--network", "private", "--wait", f"{name}-bi", "-f", "json")  # fmt: skip
        servers.append(made["id"])
        assert made["status"] == "ACTIVE"
        _, device = root_disk(f"{prefix}-{made['id']}")
        disk = served_image(device)
        boot = next(v for v in cli("volume", "list", "-f", "json") if f"{prefix}-vol-{v['ID']}" == disk)
        assert boot["Size"] == 2 and boot["Status"] == "in-use" and rbd_info(disk)["size"] == 2 << 30
        assert read_device(device, len(data)) == data
        volumes.append(boot["ID"])
    finally:
        for server_id in servers:
            cli("server", "delete", "--wait", server_id, check=False)
        for volume_id in volumes:
            if cli("volume", "show", volume_id, check=False).returncode == 0:  # not gone with its server
                wait_volume(cli, volume_id, "available")
                cli("volume", "delete", volume_id)
        cli("image", "delete", image["id"], check=False)
    for volume_id in volumes:
        assert rbd_info(f"{prefix}-vol-{volume_id}") is None
    assert rbd_info(store_image) is None
