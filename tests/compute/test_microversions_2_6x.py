"""Microversions 2.59-2.79 over HTTP, on both sides of each version, bodies against tempest's schemas.

2.59, 2.64, 2.65, 2.68, 2.76-2.78 change APIs not served (migrations, server groups, live
migration, external events, unshelve, topology); 2.60 is multiattach (no multiattach
volumes here); 2.61's and 2.75's flavor shapes are in test_flavors.py; the body keys of
2.63, 2.71, 2.73 and 2.75 per version are in test_microversions.py.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from logic.enums import OperState, Role, VolumeStatus
from logic.models import Server, Volume, VolumeType
from tests.compute import tempest_schemas
from tests.compute.test_microversions import at
from tests.factories import UserFactory, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(member):
    return token_client(Role.ADMIN, user=UserFactory(is_admin=True), project=member.project)


@pytest.fixture
def active(server):
    Server.objects.filter(pk=server.pk).update(operstate=OperState.STARTED, task=None, launched_at=timezone.now())
    return server


def create_body(flavor, image, **extra) -> dict:
    return {"server": {"name": "n", "flavorRef": str(flavor.pk), "imageRef": str(image.id), "networks": "none", **extra}}


# ----------------------------------------------------------------------------- 2.62 / 2.84: where events ran, their details
def test_action_events_say_where_they_ran_from_2_62_and_their_details_from_2_84(member, admin, active, backend):
    request_id = active.actions.get().request_id
    active.actions.update(finish_time=timezone.now(), result="Error", message="No valid host")
    url = f"/compute/v2.1/servers/{active.pk}/os-instance-actions/{request_id}"
    for version in ("2.61", "2.62", "2.84"):
        for client in (member, admin):
            resp = client.get(url, **at(version))
            tempest_schemas.validate(resp, "servers", "show_instance_action", version)
            (event,) = resp.json()["instanceAction"]["events"]
            assert ("hostId" in event) is (version != "2.61")
            assert ("host" in event) is (version != "2.61" and client is admin)
            assert ("details" in event) is (version == "2.84")
    (event,) = admin.get(url, **at("2.84")).json()["instanceAction"]["events"]
    assert event["host"] == backend.name and len(event["hostId"]) == 56 and event["details"] == "No valid host"


# ----------------------------------------------------------------------------- 2.63 trusted image certificates
def test_trusted_image_certificates_are_refused_and_change_nothing(member, active, jobs, backend, flavor, image):
    before = Server.objects.count()
    body = create_body(flavor, image, trusted_image_certificates=["cert-1"])
    assert member.post("/compute/v2.1/servers", body, format="json", **at("2.62")).status_code == 400
    resp = member.post("/compute/v2.1/servers", body, format="json", **at("2.63"))
    assert resp.status_code == 400 and b"signature" in resp.content
    bad = create_body(flavor, image, trusted_image_certificates=["a", "a"])
    assert member.post("/compute/v2.1/servers", bad, format="json", **at("2.63")).status_code == 400
    assert Server.objects.count() == before
    rebuild = {"rebuild": {"imageRef": str(image.id), "trusted_image_certificates": ["cert-1"]}}
    assert member.post(f"/compute/v2.1/servers/{active.pk}/action", rebuild, format="json", **at("2.63")).status_code == 400
    active.refresh_from_db()
    assert active.task is None
    # null asks for nothing: accepted, and bodies say null
    resp = member.post("/compute/v2.1/servers", create_body(flavor, image, trusted_image_certificates=None), format="json",
                       **at("2.63"))  # fmt: skip
    assert resp.status_code == 202
    shown = member.get(f"/compute/v2.1/servers/{resp.json()['server']['id']}", **at("2.63"))
    assert shown.json()["server"]["trusted_image_certificates"] is None


# ----------------------------------------------------------------------------- 2.66 changes-before
def test_changes_before_filters_servers_and_the_action_log_from_2_66(member, active):
    old = timezone.now() - timezone.timedelta(days=2)
    Server.objects.filter(pk=active.pk).update(updated_at=old)
    active.actions.update(start_time=old)
    cutoff = (old + timezone.timedelta(days=1)).isoformat()
    earlier = (old - timezone.timedelta(days=1)).isoformat()
    listed = member.get("/compute/v2.1/servers", {"changes-before": earlier}, **at("2.65")).json()["servers"]
    assert [s["id"] for s in listed] == [str(active.pk)]  # ignored before 2.66
    assert member.get("/compute/v2.1/servers", {"changes-before": earlier}, **at("2.66")).json()["servers"] == []
    listed = member.get("/compute/v2.1/servers", {"changes-before": cutoff}, **at("2.66")).json()["servers"]
    assert [s["id"] for s in listed] == [str(active.pk)]
    both = {"changes-since": cutoff, "changes-before": earlier}
    assert member.get("/compute/v2.1/servers", both, **at("2.66")).status_code == 400
    url = f"/compute/v2.1/servers/{active.pk}/os-instance-actions"
    assert len(member.get(url, {"changes-before": earlier}, **at("2.65")).json()["instanceActions"]) == 1
    resp = member.get(url, {"changes-before": earlier}, **at("2.66"))
    assert resp.json()["instanceActions"] == []
    tempest_schemas.validate(resp, "servers", "list_instance_actions", "2.66")
    assert len(member.get(url, {"changes-before": cutoff}, **at("2.66")).json()["instanceActions"]) == 1
    assert member.get(url, both, **at("2.66")).status_code == 400


# ----------------------------------------------------------------------------- 2.67 volume_type in block devices
def test_a_block_device_volume_type_needs_2_67(member, jobs, backend, flavor, image):
    devices = [{"source_type": "image", "uuid": str(image.id), "boot_index": 0, "destination_type": "local", "volume_type": "x"}]
    body = create_body(flavor, image, block_device_mapping_v2=devices)
    resp = member.post("/compute/v2.1/servers", body, format="json", **at("2.66"))
    assert resp.status_code == 400 and b"2.67" in resp.content
    assert member.post("/compute/v2.1/servers", body, format="json", **at("2.67")).status_code == 202


# ----------------------------------------------------------------------------- 2.70 / 2.79 / 2.89 volume attachments
@pytest.mark.parametrize("version", ["2.69", "2.70", "2.79", "2.88", "2.89", "2.100"])
def test_volume_attachment_shapes(member, active, attached, version):
    base = f"/compute/v2.1/servers/{active.pk}/os-volume_attachments"
    listed = member.get(base, **at(version))
    tempest_schemas.validate(listed, "servers", "list_volume_attachments", version)
    shown = member.get(f"{base}/{attached.id}", **at(version))
    tempest_schemas.validate(shown, "servers", "show_volume_attachment", version)
    body = shown.json()["volumeAttachment"]
    assert listed.json()["volumeAttachments"] == [body]
    minor = int(version.split(".")[1])
    expected = {"serverId", "volumeId", "device"} | ({"id"} if minor < 89 else {"attachment_id", "bdm_uuid"})
    expected |= ({"tag"} if minor >= 70 else set()) | ({"delete_on_termination"} if minor >= 79 else set())
    assert set(body) == expected
    if minor >= 70:
        assert body["tag"] is None
    if minor >= 89:  # stable ids
        assert member.get(f"{base}/{attached.id}", **at(version)).json()["volumeAttachment"] == body


def test_delete_on_termination_is_set_on_attach_from_2_79(member, active, monkeypatch):
    from logic import volume_jobs

    monkeypatch.setattr(volume_jobs, "attach", lambda volume, server, **kw: 77)
    Server.objects.filter(pk=active.pk).update(operstate=OperState.STOPPED)
    kind = VolumeType.objects.create(name="file", disk_template="file")
    active.flavor.disk_template = "file"
    active.flavor.save()
    volume = Volume.objects.create(project=member.project, user=member.user_obj, size=1, volume_type=kind,
                                   status=VolumeStatus.AVAILABLE)  # fmt: skip
    url = f"/compute/v2.1/servers/{active.pk}/os-volume_attachments"
    spec = {"volumeAttachment": {"volumeId": str(volume.id), "delete_on_termination": True}}
    assert member.post(url, spec, format="json", **at("2.78")).status_code == 400
    volume.refresh_from_db()
    assert volume.server_id is None
    resp = member.post(url, spec, format="json", **at("2.79"))
    assert resp.status_code == 200, resp.content
    tempest_schemas.validate(resp, "servers", "attach_volume", "2.79")
    assert resp.json()["volumeAttachment"]["delete_on_termination"] is True
    volume.refresh_from_db()
    assert volume.delete_on_termination and volume.attachment_id is not None


# ----------------------------------------------------------------------------- 2.70 interface tags
def test_interface_attachments_show_a_null_tag_from_2_70(member, active, monkeypatch):
    from logic.neutron import interfaces

    entry = {"port_state": "ACTIVE", "fixed_ips": [], "port_id": "5f0b4e0c-5b1e-4c52-9a39-0c0d6c1f2b89",
             "net_id": "6f0b4e0c-5b1e-4c52-9a39-0c0d6c1f2b89", "mac_addr": "aa:00:00:00:00:01"}  # fmt: skip
    monkeypatch.setattr(interfaces, "listing", lambda server: [dict(entry)])
    url = f"/compute/v2.1/servers/{active.pk}/os-interface"
    assert "tag" not in member.get(url, **at("2.69")).json()["interfaceAttachments"][0]
    resp = member.get(url, **at("2.70"))
    assert resp.json()["interfaceAttachments"][0]["tag"] is None
    tempest_schemas.validate(resp, "interfaces", "list_interfaces", "2.70")


# ----------------------------------------------------------------------------- 2.73 lock reason
def test_the_lock_reason_is_shown_and_filtered_from_2_73(member, active, server):
    url = f"/compute/v2.1/servers/{active.pk}/action"
    assert member.post(url, {"lock": {"locked_reason": "maintenance"}}, format="json", **at("2.73")).status_code == 202
    shown = member.get(f"/compute/v2.1/servers/{active.pk}", **at("2.73"))
    tempest_schemas.validate(shown, "servers", "get_server", "2.73")
    assert shown.json()["server"]["locked"] is True and shown.json()["server"]["locked_reason"] == "maintenance"
    assert "locked_reason" not in member.get(f"/compute/v2.1/servers/{active.pk}", **at("2.72")).json()["server"]
    assert [s["id"] for s in member.get("/compute/v2.1/servers", {"locked": "true"}, **at("2.73")).json()["servers"]] == [
        str(active.pk)
    ]
    assert member.get("/compute/v2.1/servers", {"locked": "false"}, **at("2.73")).json()["servers"] == []
    assert len(member.get("/compute/v2.1/servers", {"locked": "false"}, **at("2.72")).json()["servers"]) == 1  # ignored
    assert member.post(url, {"unlock": None}, format="json", **at("2.73")).status_code == 202
    assert member.get(f"/compute/v2.1/servers/{active.pk}", **at("2.73")).json()["server"]["locked_reason"] is None


def test_a_lock_reason_before_2_73_is_not_recorded(member, active):
    url = f"/compute/v2.1/servers/{active.pk}/action"
    assert member.post(url, {"lock": {"locked_reason": "x"}}, format="json", **at("2.72")).status_code == 202
    active.refresh_from_db()
    assert active.locked and active.locked_reason is None


# ----------------------------------------------------------------------------- 2.74 requested destination
def test_host_on_create_is_for_admins_and_must_name_a_cluster(member, admin, jobs, backend, flavor, image):
    before = Server.objects.count()
    body = create_body(flavor, image, host=backend.name)
    assert admin.post("/compute/v2.1/servers", body, format="json", **at("2.73")).status_code == 400
    assert member.post("/compute/v2.1/servers", body, format="json", **at("2.74")).status_code == 403
    unknown = create_body(flavor, image, host="no-such-cluster")
    assert admin.post("/compute/v2.1/servers", unknown, format="json", **at("2.74")).status_code == 400
    synnefo = {"server": {"name": "n", "flavorRef": str(flavor.pk), "imageRef": str(image.id), "host": backend.name}}
    assert member.post("/compute/v2.0/servers", synnefo, format="json").status_code == 403  # the rule is the logic's
    mismatch = create_body(flavor, image, host=backend.name, hypervisor_hostname="other")
    assert admin.post("/compute/v2.1/servers", mismatch, format="json", **at("2.74")).status_code == 400
    assert Server.objects.count() == before
    resp = admin.post("/compute/v2.1/servers", body, format="json", **at("2.74"))
    assert resp.status_code == 202, resp.content
    assert Server.objects.get(pk=resp.json()["server"]["id"]).backend_id == backend.pk
    node = create_body(flavor, image, hypervisor_hostname=backend.name)
    resp = admin.post("/compute/v2.1/servers", node, format="json", **at("2.74"))
    assert resp.status_code == 202 and Server.objects.get(pk=resp.json()["server"]["id"]).backend_id == backend.pk


# ----------------------------------------------------------------------------- 2.75 unknown list parameters
def test_unknown_list_parameters_are_400_from_2_75(member, active):
    for path in ("servers", "servers/detail"):
        assert member.get(f"/compute/v2.1/{path}", {"bogus": "1"}, **at("2.74")).status_code == 200
        resp = member.get(f"/compute/v2.1/{path}", {"bogus": "1"}, **at("2.75"))
        assert resp.status_code == 400 and b"bogus" in resp.content
        assert member.get(f"/compute/v2.1/{path}", {"name": "vm", "sort_key": "created_at"}, **at("2.75")).status_code == 200
