"""A server of a ``file`` flavor on the REAL libvirtd (qemu:///system): its root disk a qcow2 volume backed
by the image's file in the file store, its config drive an ISO volume uploaded through libvirt, both in
a directory storage pool of this test's own; QEMU boots the test guest with them; delete removes them.
In-process: the API through Django's test client, the dispatcher's handler applying the messages."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import libvirt
import pytest
from django.conf import settings

from logic import config_drive
from logic.drivers.libvirt import connections
from logic.drivers.libvirt.backends import add_libvirt_backend
from logic.enums import Role
from logic.image_stores import get_store
from logic.models import Image, Server
from tests import services
from tests.factories import FlavorFactory, token_client
from tests.libvirt.test_libvirt_backend import status
from tests.libvirt.test_libvirt_qemu_e2e import GUEST_DIR, TEMPLATE, URI, libvirt_problem, virsh

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def member(db):
    return token_client(Role.MEMBER, headers={"HTTP_X_OPENSTACK_NOVA_API_VERSION": "2.37"})  # networks "none"


@pytest.fixture
def real_host(tmp_path, bus_settings):
    if problem := libvirt_problem():
        services.missing("libvirtd", problem)
    pool = f"cyc-test-{os.getpid()}"
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "flavor-lv.qfile.xml").write_text(TEMPLATE.replace("GUEST", str(GUEST_DIR)))
    settings.CYCLADES = {
        **settings.CYCLADES,
        "GANETI_PREFIX": f"lvf{os.getpid()}",
        "IMAGE_STORE": "file",
        "IMAGE_FILE_DIR": str(tmp_path / "images"),
        "LIBVIRT_STORAGE_POOL": pool,
        "LIBVIRT_DISK_DIR": str(tmp_path / "pool"),
        "LIBVIRT_TEMPLATE_DIR": str(templates),
        "GANETI_SHUTDOWN_TIMEOUT": 5,
    }
    conn = connections.connection(URI)
    yield conn
    prefix = settings.CYCLADES["GANETI_PREFIX"] + "-"
    for dom in conn.listAllDomains():
        if dom.name().startswith(prefix):
            if dom.isActive():
                dom.destroy()
            dom.undefine()
    try:
        found = conn.storagePoolLookupByName(pool)
    except libvirt.libvirtError:
        return
    for volume in found.listAllVolumes():
        volume.delete(0)
    if found.isActive():
        found.destroy()
    found.undefine()


@pytest.fixture
def qemu_backend(db, real_host):
    return add_libvirt_backend(uri=URI, name=f"qemu-{os.getpid()}.test")


@pytest.fixture
def qemu_dispatch(qemu_backend, amqp_bus):
    """The listener on the real host and the dispatcher's handler (as tests/libvirt/conftest.py's dispatch_all)."""
    from bus import topology
    from dispatcher.handler import handle
    from logic.drivers.libvirt import messages
    from logic.drivers.libvirt.lifecycle import LifecycleListener

    lst = LifecycleListener(qemu_backend.name, URI, publish=lambda m: messages.publish(m, bus=amqp_bus))
    lst.start()

    def run(wait: float = 0.5) -> None:
        lst.publish_pending(timeout=wait)
        while (message := amqp_bus.get(topology.EVENTS_QUEUE)) is not None:
            handle(message)
            amqp_bus.ack(message)

    yield run
    lst.stop()


def test_qcow2_disk_and_config_drive_on_a_real_host(member, qemu_backend, qemu_dispatch, tmp_path):
    data = b"cyclades raw image\n".ljust(1 << 20, b"\0")
    image_id = str(uuid.uuid4())
    location = get_store("file").write(image_id, iter([data]))
    Image.objects.create(id=image_id, name="raw", size=len(data), store="file", location=location, ganeti_os="noop")
    flavor = FlavorFactory(name="lv.qfile", vcpus=1, ram=128, disk=1, disk_template="file")
    body = {"server": {"name": "qf1", "flavorRef": str(flavor.pk), "imageRef": image_id, "networks": "none"}}
    resp = member.post("/compute/v2.1/servers", body, format="json")
    assert resp.status_code == 202, resp.content
    server_id = int(resp.json()["server"]["id"])
    qemu_dispatch()
    server = Server.objects.get(pk=server_id)
    assert status(member, server_id) == "ACTIVE", (server.fault, server.backend_logmsg)
    name = server.ganeti_name
    assert virsh("domstate", name).strip() == "running"

    pool_dir = Path(settings.CYCLADES["LIBVIRT_DISK_DIR"])
    disk, drive = pool_dir / f"{name}-disk0.qcow2", pool_dir / f"{name}-config.iso"
    info = json.loads(
        subprocess.run(["qemu-img", "info", "-U", "--output=json", str(disk)], capture_output=True, text=True, check=True).stdout
    )
    assert (info["format"], info["virtual-size"]) == ("qcow2", 1 << 30)
    assert info["backing-filename"] == location.removeprefix("file://") and info.get("backing-filename-format") == "raw"
    label, files = config_drive.read_iso(drive.read_bytes())
    assert label == "cidata" and f"instance-id: {name}" in files["meta-data"].decode()
    assert "Capacity:       1073741824" in virsh("domblkinfo", name, "vda")  # QEMU has the overlay open
    assert f"sda      {drive.name}" in virsh("domblklist", name)  # the cdrom: the pool volume

    assert member.delete(f"/compute/v2.1/servers/{server_id}").status_code == 204
    qemu_dispatch()
    assert member.get(f"/compute/v2.1/servers/{server_id}").status_code == 404
    assert name not in virsh("list", "--all", "--name")
    assert not disk.exists() and not drive.exists()
    assert Path(location.removeprefix("file://")).read_bytes() == data  # the image itself is untouched
