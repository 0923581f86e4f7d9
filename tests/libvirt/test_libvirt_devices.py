"""NIC and volume attach/detach on a libvirt backend (libvirt's test driver), through the compute API.

The test driver has no device hotplug (``virDomainAttachDeviceFlags`` is not supported there), so
the driver rewrites the persistent definition (the device appears at the next start, as on Ganeti
without hotplug); the real host's hotplug is in test_libvirt_qemu_devices.py. The driver's
``OP_INSTANCE_SET_PARAMS`` messages go over the real RabbitMQ and are applied by the dispatcher's
handler: the NICs (with the ports' addresses) and the volumes' states follow.
"""

from __future__ import annotations

import libvirt
import pytest
from django.conf import settings
from lxml import etree

from logic import reconcile
from logic.models import Port, Server, ServerNIC, Volume, VolumeType
from tests import services
from tests.factories import FlavorFactory
from tests.libvirt.test_libvirt_backend import MV21, create, member, status
from tests.libvirt.test_libvirt_disks import ceph_settings, make_rbd_image, rbd_image

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.django_db]

__all__ = ["ceph_settings", "make_rbd_image", "member", "rbd_image"]  # fixtures shared with the other modules

V2 = "/network/v2.0"
V3 = "/volume/v3"


def persistent(conn, server_id: int) -> etree._Element:
    name = Server.objects.get(pk=server_id).ganeti_name
    return etree.fromstring(conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))


def network(member, name: str, cidr: str) -> str:
    net = member.post(f"{V2}/networks", {"network": {"name": name}}, format="json").json()["network"]
    resp = member.post(f"{V2}/subnets", {"subnet": {"network_id": net["id"], "cidr": cidr, "ip_version": 4}}, format="json")
    assert resp.status_code == 201, resp.content
    return net["id"]


@pytest.fixture
def flavor(db):
    return FlavorFactory(name="lv.tiny", vcpus=1, ram=128, disk=0, disk_template="diskless")


def test_interface_attach_and_detach_follow_the_domain_and_the_addresses(member, flavor, lv_backend, test_host, dispatch_all):
    from tests.factories import ImageFactory

    first, second = network(member, "lvn1", "10.71.0.0/29"), network(member, "lvn2", "10.72.0.0/29")
    body = {"server": {"name": "lv1", "flavorRef": str(flavor.pk), "imageRef": str(ImageFactory().id),
                       "networks": [{"uuid": first}]}}  # fmt: skip
    resp = member.post("/compute/v2.1/servers", body, format="json")
    assert resp.status_code == 202, resp.content
    server_id = int(resp.json()["server"]["id"])
    dispatch_all()
    assert status(member, server_id) == "ACTIVE"
    link = settings.CYCLADES["NETWORK_LINK"]
    (created,) = persistent(test_host, server_id).findall("devices/interface")
    assert created.get("type") == "bridge" and created.find("source").get("bridge") == link
    addresses = member.get(f"/compute/v2.1/servers/{server_id}").json()["server"]["addresses"]
    assert [a["addr"] for a in addresses["lvn1"]] and list(addresses) == ["lvn1"]  # named by the API network

    url = f"/compute/v2.1/servers/{server_id}/os-interface"
    attach = {"interfaceAttachment": {"net_id": second, "fixed_ips": [{"ip_address": "10.72.0.5"}]}}
    resp = member.post(url, attach, format="json")
    assert resp.status_code == 200, resp.content
    port_id, mac = resp.json()["interfaceAttachment"]["port_id"], resp.json()["interfaceAttachment"]["mac_addr"]
    interfaces = persistent(test_host, server_id).findall("devices/interface")
    assert [el.find("mac").get("address") for el in interfaces][1] == mac  # at the end, the port's MAC
    dispatch_all()
    addresses = member.get(f"/compute/v2.1/servers/{server_id}").json()["server"]["addresses"]
    assert [(a["addr"], a["OS-EXT-IPS-MAC:mac_addr"]) for a in addresses["lvn2"]] == [("10.72.0.5", mac)]
    assert len(addresses["lvn1"]) == 1
    shown = member.get(f"{url}/{port_id}").json()["interfaceAttachment"]
    assert shown["port_state"] == "ACTIVE" and shown["fixed_ips"][0]["ip_address"] == "10.72.0.5"
    assert sorted(ServerNIC.objects.filter(server_id=server_id).values_list("index", flat=True)) == [0, 1]
    (report,) = reconcile.reconcile_all([lv_backend], client_for=None, fix=False)
    assert report.error is None and report.findings == []  # the host's listing names the same networks

    # bad input keeps its 4xx and changes nothing
    assert member.post(url, {"interfaceAttachment": {"net_id": second, "port_id": port_id}}, format="json").status_code == 400
    assert member.delete(f"{url}/00000000-0000-0000-0000-000000000000").status_code == 404
    assert len(persistent(test_host, server_id).findall("devices/interface")) == 2

    assert member.delete(f"{url}/{port_id}").status_code == 202
    interfaces = persistent(test_host, server_id).findall("devices/interface")
    assert [el.find("mac").get("address") for el in interfaces] == [created.find("mac").get("address")]
    dispatch_all()
    addresses = member.get(f"/compute/v2.1/servers/{server_id}").json()["server"]["addresses"]
    assert list(addresses) == ["lvn1"]
    assert not Port.objects.filter(pk=port_id).exists()  # made by the attach: deleted with it
    assert member.delete(f"/compute/v2.1/servers/{server_id}").status_code == 204
    dispatch_all()


@pytest.fixture
def rbd_volumes(monkeypatch, ceph_settings):
    for key, value in {"VOLUME_RBD_CONF": services.CEPH_CONF, "VOLUME_RBD_USER": services.CEPH_USER,
                       "VOLUME_RBD_POOL": services.CEPH_POOL}.items():  # fmt: skip
        monkeypatch.setitem(settings.CYCLADES, key, value)
    VolumeType.objects.create(name="rbd", disk_template="ext")
    VolumeType.objects.create(name="local", disk_template="plain")
    yield
    from logic import volume_rbd

    for volume in Volume.objects.all():
        volume_rbd.remove(volume.ganeti_name)


@pytest.mark.ceph
def test_volume_attach_and_detach_on_a_libvirt_server(member, rbd_image, rbd_volumes, lv_backend, test_host, dispatch_all):
    flavor = FlavorFactory(name="lv.rbd", vcpus=1, ram=128, disk=1, disk_template="rbd")
    server_id = create(member, flavor, rbd_image)
    dispatch_all()
    assert status(member, server_id) == "ACTIVE"
    vol = member.post(f"{V3}/volumes", {"volume": {"size": 1, "volume_type": "rbd"}}, format="json").json()["volume"]["id"]
    url = f"/compute/v2.1/servers/{server_id}/os-volume_attachments"

    # a volume a libvirt host cannot attach (not RBD): 400, nothing changed
    plain = member.post(f"{V3}/volumes", {"volume": {"size": 1, "volume_type": "local"}}, format="json").json()["volume"]["id"]
    refused = member.post(url, {"volumeAttachment": {"volumeId": plain}}, format="json", **MV21)
    assert refused.status_code == 400 and "RBD" in refused.content.decode()
    assert Volume.objects.get(pk=plain).status == "available"

    resp = member.post(url, {"volumeAttachment": {"volumeId": vol}}, format="json", **MV21)
    assert resp.status_code == 200, resp.content
    assert resp.json()["volumeAttachment"]["device"] == "/dev/vdb"
    name = f"{services.CEPH_POOL}/{settings.CYCLADES['GANETI_PREFIX']}-vol-{vol}"
    (disk,) = [d for d in persistent(test_host, server_id).findall("devices/disk") if d.find("target").get("dev") == "vdb"]
    assert disk.find("source").get("protocol") == "rbd" and disk.find("source").get("name") == name
    dispatch_all()
    shown = member.get(f"{V3}/volumes/{vol}").json()["volume"]
    assert shown["status"] == "in-use" and shown["attachments"][0]["server_id"] == str(server_id)
    assert [a["volumeId"] for a in member.get(url, **MV21).json()["volumeAttachments"]] == [vol]

    # a libvirt host takes a disk off a running domain too
    assert member.delete(f"{url}/{vol}", **MV21).status_code == 202
    assert all(d.find("target").get("dev") != "vdb" for d in persistent(test_host, server_id).findall("devices/disk"))
    dispatch_all()
    shown = member.get(f"{V3}/volumes/{vol}").json()["volume"]
    assert shown["status"] == "available" and shown["attachments"] == []
    assert member.get(url, **MV21).json()["volumeAttachments"] == []

    # the disk went from the definition behind our back: the detach fails, the volume is in error, still attached
    assert member.post(url, {"volumeAttachment": {"volumeId": vol}}, format="json", **MV21).status_code == 200
    dispatch_all()
    assert Volume.objects.get(pk=vol).status == "in-use"
    root = persistent(test_host, server_id)
    for el in root.findall("devices/disk"):
        if el.find("target").get("dev") == "vdb":
            el.getparent().remove(el)
    test_host.defineXML(etree.tostring(root, encoding="unicode"))  # what an operator's `virsh detach-disk --config` does
    assert member.delete(f"{url}/{vol}", **MV21).status_code == 202
    dispatch_all()
    failed = Volume.objects.get(pk=vol)
    assert failed.status == "error" and failed.server_id == server_id and "has no disk of volume" in failed.fault["message"]
    assert member.delete(f"/compute/v2.1/servers/{server_id}").status_code == 204
    dispatch_all()
    gone = Volume.objects.get(pk=vol)  # the RBD image outlives the domain: available again
    assert (gone.status, gone.server_id, gone.deleted) == ("available", None, False)
