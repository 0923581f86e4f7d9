"""Microversions 2.80-2.100 over HTTP, on both sides of each version, bodies against tempest's schemas.

2.80-2.82, 2.87, 2.88, 2.91, 2.93, 2.95, 2.97 and 2.99 change APIs not served (migrations,
aggregates, external events, rescue, hypervisors, unshelve, volume-backed rebuild,
evacuate, shares, spice); 2.92's key pairs are in test_keypairs.py; 2.89's attachments
in test_microversions_2_6x.py.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from logic.enums import OperState, Role
from logic.models import Flavor, Image, Keypair, Server
from tests.compute import tempest_schemas
from tests.compute.test_microversions import at
from tests.compute.test_microversions_2_6x import create_body
from tests.factories import UserFactory, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(member):
    return token_client(Role.ADMIN, user=UserFactory(is_admin=True), project=member.project)


@pytest.fixture
def active(server):
    Server.objects.filter(pk=server.pk).update(operstate=OperState.STARTED, task=None, launched_at=timezone.now())
    return server


def created(client, flavor, image, version, **extra):
    return client.post("/compute/v2.1/servers", create_body(flavor, image, **extra), format="json", **at(version))


def show(client, server_id, version) -> dict:
    resp = client.get(f"/compute/v2.1/servers/{server_id}", **at(version))
    tempest_schemas.validate(resp, "servers", "get_server", version)
    return resp.json()["server"]


# ----------------------------------------------------------------------------- 2.83 filters for everyone
def test_members_filter_by_key_name_and_states_from_2_83(member, active):
    Keypair.objects.create(user=member.user_obj, name="kp", public_key="ssh-ed25519 AAAA x", fingerprint="f")
    Server.objects.filter(pk=active.pk).update(key_name="kp")
    ids = lambda params, version: [s["id"] for s in member.get("/compute/v2.1/servers", params, **at(version)).json()["servers"]]  # noqa: E731
    assert ids({"key_name": "other"}, "2.82") == [str(active.pk)]  # admin-only before: dropped
    assert ids({"key_name": "other"}, "2.83") == []
    assert ids({"key_name": "kp"}, "2.83") == [str(active.pk)]
    assert ids({"vm_state": "active"}, "2.83") == [str(active.pk)]
    assert ids({"vm_state": "stopped"}, "2.83") == []
    assert ids({"power_state": "1"}, "2.83") == [str(active.pk)]
    assert ids({"availability_zone": "elsewhere"}, "2.83") == []
    assert ids({"user_id": member.user_obj.pk}, "2.83") == [str(active.pk)]
    assert ids({"task_state": "rebooting"}, "2.83") == []


# ----------------------------------------------------------------------------- 2.85 attachment update
def test_delete_on_termination_is_updated_in_place_from_2_85(member, active, attached):
    url = f"/compute/v2.1/servers/{active.pk}/os-volume_attachments/{attached.id}"
    spec = {"volumeAttachment": {"volumeId": str(attached.id), "delete_on_termination": True}}
    assert member.put(url, spec, format="json", **at("2.84")).status_code == 400
    attached.refresh_from_db()
    assert attached.delete_on_termination is False
    assert member.put(url, spec, format="json", **at("2.85")).status_code == 202
    attached.refresh_from_db()
    assert attached.delete_on_termination is True
    swap = {"volumeAttachment": {"volumeId": "5f0b4e0c-5b1e-4c52-9a39-0c0d6c1f2b89"}}
    assert member.put(url, swap, format="json", **at("2.85")).status_code == 501
    bad = {"volumeAttachment": {"volumeId": str(attached.id), "delete_on_termination": "yes"}}
    assert member.put(url, bad, format="json", **at("2.85")).status_code == 400
    attached.refresh_from_db()
    assert attached.delete_on_termination is True


# ----------------------------------------------------------------------------- 2.86 extra spec validation
@pytest.mark.parametrize(
    ("specs", "valid"),
    [
        ({"hw:cpu_policy": "shared", "foo:bar": "baz"}, True),  # tempest's FlavorMetadataValidation
        ({"hw:numa_nodes": "2", "hw:numa_cpus.0": "0-1", "hw:mem_page_size": "2MB"}, True),
        ({"resources:VCPU": "2", "trait:HW_CPU_X86_AVX2": "required", "hide_hypervisor_id": "true"}, True),
        ({"aggregate_instance_extra_specs:ssd": "true", "capabilities:cpu_arch": "x86_64"}, True),
        ({"hw:cpu_policy": "sometimes"}, False),
        ({"hw:no_such_thing": "1"}, False),
        ({"hw:numa_nodes": "0"}, False),
        ({"trait:CUSTOM_X": "maybe"}, False),
        ({"resources:VCPU": "-1"}, False),
        ({"group_policy": "spread"}, False),
    ],
)
def test_known_extra_specs_are_validated_from_2_86(admin, flavor, specs, valid):
    url = f"/compute/v2.1/flavors/{flavor.pk}/os-extra_specs"
    assert admin.post(url, {"extra_specs": specs}, format="json", **at("2.85")).status_code == 200  # not checked before
    Flavor.objects.filter(pk=flavor.pk).update(extra_specs={})
    resp = admin.post(url, {"extra_specs": specs}, format="json", **at("2.86"))
    assert resp.status_code == (200 if valid else 400), resp.content
    assert Flavor.objects.get(pk=flavor.pk).extra_specs == (specs if valid else {})
    key, value = next(iter(specs.items()))
    one = admin.put(f"{url}/{key}", {key: value}, format="json", **at("2.86"))
    assert one.status_code == (200 if valid else 400)


# ----------------------------------------------------------------------------- 2.90 / 2.94 hostname
def test_hostname_on_create_update_and_rebuild_from_2_90(member, jobs, backend, flavor, image):
    assert created(member, flavor, image, "2.89", hostname="web1").status_code == 400
    resp = created(member, flavor, image, "2.90", hostname="web1")
    assert resp.status_code == 202, resp.content
    sid = resp.json()["server"]["id"]
    assert show(member, sid, "2.90")["OS-EXT-SRV-ATTR:hostname"] == "web1"
    assert "OS-EXT-SRV-ATTR:hostname" not in show(member, sid, "2.89")  # members see it from 2.90
    url = f"/compute/v2.1/servers/{sid}"
    assert member.put(url, {"server": {"hostname": "web2"}}, format="json", **at("2.89")).status_code == 400
    resp = member.put(url, {"server": {"hostname": "web2"}}, format="json", **at("2.90"))
    assert resp.status_code == 200 and resp.json()["server"]["OS-EXT-SRV-ATTR:hostname"] == "web2"
    tempest_schemas.validate(resp, "servers", "update_server", "2.90")
    Server.objects.filter(pk=sid).update(operstate=OperState.STARTED, task=None)
    rebuild = {"rebuild": {"imageRef": str(image.id), "hostname": "web3"}}
    resp = member.post(f"{url}/action", rebuild, format="json", **at("2.90"))
    assert resp.status_code == 202 and resp.json()["server"]["OS-EXT-SRV-ATTR:hostname"] == "web3"
    tempest_schemas.validate(resp, "servers", "rebuild_server_with_admin_pass", "2.90")
    assert Server.objects.get(pk=sid).hostname == "web3"


def test_a_server_without_a_hostname_shows_its_instance_name(member, active):
    assert show(member, active.pk, "2.90")["OS-EXT-SRV-ATTR:hostname"].endswith(f"-{active.pk}")


@pytest.mark.parametrize(
    ("hostname", "version", "ok"),
    [
        ("a.example.com", "2.90", False),  # dots need 2.94
        ("x" * 64, "2.90", False),
        ("x" * 63, "2.90", True),
        ("-web", "2.90", False),
        ("web_1", "2.90", True),
        ("we b", "2.90", False),
        ("", "2.90", False),
        ("x" * 52 + "-guest-test.domaintest.com", "2.94", True),  # tempest's ServersV294TestFqdnHostnames
        ("a.example.com", "2.94", True),
        ("a." * 127 + "bc", "2.94", False),  # 256 characters
        ("x" * 64 + ".example.com", "2.94", False),  # a label over 63
        ("a..b", "2.94", False),
        ("a.example.com.", "2.94", False),
    ],
)
def test_hostname_rules(member, jobs, backend, flavor, image, hostname, version, ok):
    before = Server.objects.count()
    resp = created(member, flavor, image, version, hostname=hostname)
    assert resp.status_code == (202 if ok else 400), resp.content
    assert Server.objects.count() == before + (1 if ok else 0)
    if ok:
        assert show(member, resp.json()["server"]["id"], version)["OS-EXT-SRV-ATTR:hostname"] == hostname


def test_a_hostname_cannot_be_given_to_several_servers(member, jobs, backend, flavor, image):
    before = Server.objects.count()
    assert created(member, flavor, image, "2.90", hostname="web", min_count=2).status_code == 400
    assert Server.objects.count() == before


def test_a_bad_hostname_on_update_and_rebuild_changes_nothing(member, active, image):
    url = f"/compute/v2.1/servers/{active.pk}"
    assert member.put(url, {"server": {"hostname": "a.b"}}, format="json", **at("2.93")).status_code == 400
    assert member.put(url, {"server": {"hostname": "a..b"}}, format="json", **at("2.94")).status_code == 400
    rebuild = {"rebuild": {"imageRef": str(image.id), "hostname": "x" * 64}}
    assert member.post(f"{url}/action", rebuild, format="json", **at("2.93")).status_code == 400
    active.refresh_from_db()
    assert active.hostname is None and active.task is None


# ----------------------------------------------------------------------------- 2.96 pinned availability zone
def test_the_zone_asked_for_is_pinned_from_2_96(member, jobs, backend, flavor, image):
    pinned = created(member, flavor, image, "2.96", availability_zone="nova").json()["server"]["id"]
    unpinned = created(member, flavor, image, "2.96").json()["server"]["id"]
    assert show(member, pinned, "2.96")["pinned_availability_zone"] == "nova"
    assert show(member, unpinned, "2.96")["pinned_availability_zone"] is None
    assert "pinned_availability_zone" not in show(member, pinned, "2.95")
    detail = member.get("/compute/v2.1/servers/detail", **at("2.96"))
    tempest_schemas.validate(detail, "servers", "list_servers_detail", "2.96")
    before = Server.objects.count()
    assert created(member, flavor, image, "2.96", availability_zone="elsewhere").status_code == 400
    assert Server.objects.count() == before


# ----------------------------------------------------------------------------- 2.98 image properties
def test_servers_show_their_image_properties_from_2_98(member, active):
    Image.objects.filter(pk=active.image_id).update(properties={"os_distro": "debian", "hw_disk_bus": "virtio", "n": 3})
    assert "properties" not in show(member, active.pk, "2.97")["image"]
    image = show(member, active.pk, "2.98")["image"]
    assert image["properties"] == {"os_distro": "debian", "hw_disk_bus": "virtio", "n": "3"}
    detail = member.get("/compute/v2.1/servers/detail", **at("2.98"))
    tempest_schemas.validate(detail, "servers", "list_servers_detail", "2.98")
    assert detail.json()["servers"][0]["image"]["properties"] == image["properties"]


# ----------------------------------------------------------------------------- 2.100 scheduler hints
def test_servers_show_their_scheduler_hints_from_2_100(member, jobs, backend, flavor, image):
    body = create_body(flavor, image)
    body["os:scheduler_hints"] = {"same_host": [], "query": '[">=", "$free_ram_mb", 1024]'}
    resp = member.post("/compute/v2.1/servers", body, format="json", **at("2.100"))
    assert resp.status_code == 202, resp.content
    sid = resp.json()["server"]["id"]
    assert show(member, sid, "2.100")["scheduler_hints"] == body["os:scheduler_hints"]
    assert "scheduler_hints" not in show(member, sid, "2.99")
    plain = created(member, flavor, image, "2.100").json()["server"]["id"]
    assert show(member, plain, "2.100")["scheduler_hints"] == {}
    bad = create_body(flavor, image)
    bad["os:scheduler_hints"] = "near"
    assert member.post("/compute/v2.1/servers", bad, format="json", **at("2.100")).status_code == 400
