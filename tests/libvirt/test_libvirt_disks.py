"""Disks of servers on libvirt backends: RBD clones on the real Ceph sandbox and a cloud-init config
drive, rendered into the domain (libvirt's test driver here; tests/libvirt/test_libvirt_qemu.py boots
a real QEMU guest from such a clone), removed at delete."""

from __future__ import annotations

import base64
import os
import uuid

import pytest
import yaml
from django.conf import settings
from lxml import etree

from logic import config_drive
from logic.drivers.libvirt import ceph
from logic.image_stores import get_store
from logic.models import Image, Server
from tests import services
from tests.factories import FlavorFactory
from tests.libvirt.test_libvirt_backend import MV21, action, create, member, status

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ceph, pytest.mark.django_db]

__all__ = ["member"]  # the fixture, shared with test_libvirt_backend

DATA = os.urandom(2 * 1024 * 1024 + 17)


@pytest.fixture
def ceph_settings(monkeypatch):
    for key, value in {
        "IMAGE_STORE": "rbd",
        "IMAGE_RBD_CONF": services.CEPH_CONF,
        "IMAGE_RBD_USER": services.CEPH_USER,
        "IMAGE_RBD_POOL": services.CEPH_POOL,
        "GANETI_PREFIX": f"lvd{os.getpid()}",
    }.items():
        monkeypatch.setitem(settings.CYCLADES, key, value)


@pytest.fixture
def make_rbd_image(db, ceph_settings):
    """``make_rbd_image(data)``: an image in the rbd store (image-<id> with its protected snapshot), removed afterwards."""
    made = []

    def make(data: bytes = DATA, name: str = "rbd-debian") -> Image:
        image_id = str(uuid.uuid4())
        location = get_store("rbd").write(image_id, iter([data]))
        made.append(location)
        return Image.objects.create(id=image_id, name=name, size=len(data), store="rbd", location=location, ganeti_os="noop")

    yield make
    import rbd

    with ceph.store(ceph.rbd_config()).ioctx() as ioctx:  # disks a failed test left behind (this run's prefix)
        for name in rbd.RBD().list(ioctx):
            if name.startswith(settings.CYCLADES["GANETI_PREFIX"] + "-"):
                rbd.RBD().remove(ioctx, name)
    for location in made:
        get_store("rbd").delete(location)


@pytest.fixture
def rbd_image(make_rbd_image):
    return make_rbd_image()


def rbd_names(prefix: str) -> list[str]:
    import rbd

    with ceph.store(ceph.rbd_config()).ioctx() as ioctx:
        return sorted(n for n in rbd.RBD().list(ioctx) if n.startswith(prefix))


def test_rbd_root_disk_and_config_drive_from_create_to_delete(member, rbd_image, lv_backend, test_host, dispatch_all, settings):
    import rbd

    flavor = FlavorFactory(name="lv.rbd", vcpus=1, ram=128, disk=1, disk_template="rbd")
    user_data = b"#cloud-config\nruncmd: [echo hi]\n"
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGn3nFOvV7QBVn6KgkUYd2ZBUfY9lfTTqbNI2FpAqvrB test@cyclades"
    kp = member.post("/compute/v2.1/os-keypairs", {"keypair": {"name": "k1", "public_key": key}}, format="json")
    assert kp.status_code in (200, 201), kp.content
    body = {
        "server": {
            "name": "web.1",
            "key_name": "k1",
            "flavorRef": str(flavor.pk),
            "imageRef": str(rbd_image.id),
            "user_data": base64.b64encode(user_data).decode(),
            "metadata": {"role": "web"},
        }
    }
    resp = member.post("/compute/v2.1/servers", body, format="json", **MV21)
    assert resp.status_code == 202, resp.content
    server_id = int(resp.json()["server"]["id"])
    dispatch_all()
    server = Server.objects.get(pk=server_id)
    assert status(member, server_id) == "ACTIVE", (server.fault, server.backend_logmsg)
    name = server.ganeti_name
    assert rbd_names(name) == [f"{name}-config", f"{name}-disk0"]

    cfg = ceph.rbd_config()
    with ceph.store(cfg).ioctx() as ioctx:
        with rbd.Image(ioctx, f"{name}-disk0", read_only=True) as disk:
            assert disk.size() == 1 << 30  # grown to the flavor's 1 GiB
            assert disk.parent_info()[:3] == (services.CEPH_POOL, f"image-{rbd_image.id}", "snap")
            assert disk.read(0, 4096) == DATA[:4096]  # copy-on-write: the image's data
        with rbd.Image(ioctx, f"{name}-config", read_only=True) as drive:
            iso = drive.read(0, drive.size())
    label, files = config_drive.read_iso(iso)
    assert label == "cidata" and files["user-data"] == user_data
    meta = yaml.safe_load(files["meta-data"])
    assert meta == {"instance-id": name, "local-hostname": "web-1", "public-keys": [key]}

    root = etree.fromstring(test_host.lookupByName(name).XMLDesc(0))
    disks = root.findall("devices/disk")
    assert [(d.get("type"), d.get("device")) for d in disks] == [("network", "disk"), ("network", "cdrom")]
    source = disks[0].find("source")
    assert (source.get("protocol"), source.get("name")) == ("rbd", f"{services.CEPH_POOL}/{name}-disk0")
    assert [(h.get("name"), h.get("port")) for h in source.findall("host")] == [("127.0.0.1", "6789")]
    assert disks[1].find("readonly") is not None and disks[1].find("target").get("dev") == "sda"

    action(member, server_id, {"os-stop": None})
    dispatch_all()
    assert status(member, server_id) == "SHUTOFF"
    assert member.delete(f"/compute/v2.1/servers/{server_id}", **MV21).status_code == 204
    dispatch_all()
    assert member.get(f"/compute/v2.1/servers/{server_id}", **MV21).status_code == 404
    assert rbd_names(name) == []  # clone and config drive removed; the image can be deleted again
    assert get_store("rbd").exists(rbd_image.location)


def test_a_flavor_disk_template_the_image_store_cannot_serve_is_a_clear_error(
    member, lv_backend, test_host, dispatch_all, ceph_settings
):
    """An image without RBD data cannot give an rbd disk: the server is ERROR with the reason, nothing is made."""
    flavor = FlavorFactory(name="lv.rbd2", vcpus=1, ram=128, disk=1, disk_template="rbd")
    image = Image.objects.create(name="file-img", size=10, store="file", location="file:///nowhere/x", ganeti_os="noop")
    server_id = create(member, flavor, image)
    server = Server.objects.get(pk=server_id)
    assert status(member, server_id) == "ERROR"
    assert "rbd store" in server.fault["message"]
    assert rbd_names(server.ganeti_name) == []
    assert not [d.name() for d in test_host.listAllDomains() if d.name() == server.ganeti_name]


def test_monitors_and_key_come_from_the_ceph_configuration(ceph_settings, tmp_path):
    cfg = ceph.rbd_config()
    assert ceph.monitors(cfg) == [("127.0.0.1", 6789)]
    assert base64.b64decode(ceph.client_key(cfg))  # the sandbox user's real key
    conf = tmp_path / "ceph.conf"
    conf.write_text("[global]\n\tmon host = 10.0.0.1, v1:10.0.0.2:6790 [v2:10.0.0.3:3300,v1:10.0.0.3:6789]\n")
    other = ceph.RbdConfig(conffile=str(conf), user="nobody", pool="p")
    assert ceph.monitors(other) == [("10.0.0.1", 6789), ("10.0.0.2", 6790), ("10.0.0.3", 6789)]
    with pytest.raises(Exception, match="no keyring with a key for client.nobody"):
        ceph.client_key(other)


def test_rebuild_makes_the_disks_again_from_the_new_image(member, make_rbd_image, lv_backend, test_host, dispatch_all):
    import rbd

    first, second = make_rbd_image(DATA, "first"), make_rbd_image(b"second image".ljust(1 << 20, b"\0"), "second")
    flavor = FlavorFactory(name="lv.rbd3", vcpus=1, ram=128, disk=1, disk_template="rbd")
    server_id = create(member, flavor, first)
    dispatch_all()
    assert status(member, server_id) == "ACTIVE"
    name = Server.objects.get(pk=server_id).ganeti_name

    def parent() -> str:
        with ceph.store(ceph.rbd_config()).ioctx() as ioctx, rbd.Image(ioctx, f"{name}-disk0", read_only=True) as disk:
            return disk.parent_info()[1]

    assert parent() == f"image-{first.id}"
    action(member, server_id, {"rebuild": {"imageRef": str(second.id), "name": "renamed"}})
    dispatch_all()
    server = Server.objects.get(pk=server_id)
    assert status(member, server_id) == "ACTIVE" and server.task is None, server.backend_logmsg
    assert parent() == f"image-{second.id}" and str(server.image_id) == second.id
    with ceph.store(ceph.rbd_config()).ioctx() as ioctx, rbd.Image(ioctx, f"{name}-config", read_only=True) as drive:
        _, files = config_drive.read_iso(drive.read(0, drive.size()))
    assert "local-hostname: renamed" in files["meta-data"].decode()  # the config drive is made again too

    action(member, server_id, {"os-stop": None})
    dispatch_all()
    action(member, server_id, {"rebuild": {"imageRef": str(first.id)}})
    dispatch_all()
    assert status(member, server_id) == "SHUTOFF" and parent() == f"image-{first.id}"  # a stopped server stays stopped
    assert member.delete(f"/compute/v2.1/servers/{server_id}").status_code == 204
    dispatch_all()
    assert rbd_names(name) == []
