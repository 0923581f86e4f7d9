"""/limits, /extensions and os-availability-zone over HTTP."""

from __future__ import annotations

import pytest

from logic import quotas
from logic.enums import QuotaResource
from logic.models import Keypair
from tests.factories import FlavorFactory, ServerFactory

pytestmark = pytest.mark.django_db

V21 = "/compute/v2.1"


def test_limits_show_quota_defaults_and_usage_from_the_quota_counters(member, settings):
    """Usage is what quota enforcement counts: accepted and pending charges, nothing else."""
    from django.db import transaction

    settings.CYCLADES = {**settings.CYCLADES, "QUOTA_INSTANCES": 7, "QUOTA_CORES": 9, "QUOTA_RAM": 4096, "QUOTA_KEY_PAIRS": 3}
    big = FlavorFactory(vcpus=2, ram=1024)
    ServerFactory(project=member.project, user=member.user_obj, flavor=big)  # a row nobody charged: not counted
    two_servers = {QuotaResource.SERVERS: 2, QuotaResource.TOTAL_CPU: 4, QuotaResource.TOTAL_RAM: 2048}
    with transaction.atomic():
        quotas.accept(quotas.charge(member.project, member.user_obj, two_servers, reason="two servers"))
        quotas.charge(member.project, member.user_obj, {QuotaResource.SERVERS: 1}, reason="a create in flight")
    Keypair.objects.create(user=member.user_obj, name="k", public_key="ssh-rsa AAAA", fingerprint="x")
    resp = member.get(f"{V21}/limits")
    assert resp.status_code == 200
    limits = resp.json()["limits"]
    assert limits["rate"] == []
    absolute = limits["absolute"]
    assert absolute["maxTotalInstances"] == 7 and absolute["totalInstancesUsed"] == 3
    assert absolute["maxTotalCores"] == 9 and absolute["totalCoresUsed"] == 4
    assert absolute["maxTotalRAMSize"] == 4096 and absolute["totalRAMUsed"] == 2048
    assert absolute["maxTotalKeypairs"] == 3
    assert absolute["maxServerMeta"] == 128
    assert {"maxPersonality", "maxTotalFloatingIps", "maxSecurityGroups"} <= set(absolute)


def test_limits_usage_counted_from_servers_when_quotas_are_off(member, settings):
    settings.CYCLADES = {**settings.CYCLADES, "QUOTA_ENABLED": False}
    big = FlavorFactory(vcpus=2, ram=1024)
    ServerFactory(project=member.project, user=member.user_obj, flavor=big)
    ServerFactory(project=member.project, user=member.user_obj, flavor=big)
    ServerFactory(project=member.project, user=member.user_obj, flavor=big, deleted=True)  # not counted
    ServerFactory(flavor=big)  # another project's
    absolute = member.get(f"{V21}/limits").json()["limits"]["absolute"]
    assert absolute["totalInstancesUsed"] == 2 and absolute["totalCoresUsed"] == 4 and absolute["totalRAMUsed"] == 2048


def test_limits_follow_project_quota_overrides(member):
    from django.db import transaction

    with transaction.atomic():
        quotas.set_limits(member.project, {QuotaResource.SERVERS: 3})
    assert member.get(f"{V21}/limits").json()["limits"]["absolute"]["maxTotalInstances"] == 3


def test_limits_shape_by_microversion(member):
    at_236 = member.get(f"{V21}/limits", HTTP_OPENSTACK_API_VERSION="compute 2.36").json()["limits"]["absolute"]
    assert "maxTotalFloatingIps" not in at_236 and "maxSecurityGroups" not in at_236 and "maxPersonality" in at_236
    at_257 = member.get(f"{V21}/limits", HTTP_OPENSTACK_API_VERSION="compute 2.57").json()["limits"]["absolute"]
    assert "maxPersonality" not in at_257 and "maxPersonalitySize" not in at_257


def test_reader_may_read_limits(reader):
    assert reader.get(f"{V21}/limits").status_code == 200


def test_extensions(member):
    listed = member.get(f"{V21}/extensions").json()["extensions"]
    aliases = {e["alias"] for e in listed}
    assert {"os-keypairs", "os-flavor-access", "os-availability-zone"} <= aliases
    one = member.get(f"{V21}/extensions/os-keypairs").json()["extension"]
    assert one["name"] == "Keypairs" and set(one) == {"alias", "name", "namespace", "description", "updated", "links"}
    assert member.get(f"{V21}/extensions/os-nope").status_code == 404


def test_extensions_are_novas_fixed_list(member):
    """Nova answers one fixed legacy list, sorted by alias (tempest looks for Hosts and os-consoles)."""
    listed = member.get(f"{V21}/extensions").json()["extensions"]
    assert [e["alias"] for e in listed] == sorted(e["alias"] for e in listed)
    assert len(listed) == 100 and "Hosts" in {e["name"] for e in listed}
    consoles = member.get(f"{V21}/extensions/os-consoles").json()["extension"]
    assert consoles["alias"] == "os-consoles" and consoles["namespace"] == "http://docs.openstack.org/compute/ext/fake_xml"


def test_availability_zone(member):
    body = member.get(f"{V21}/os-availability-zone").json()
    assert body == {"availabilityZoneInfo": [{"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}]}
    assert member.get(f"{V21}/os-availability-zone/detail").status_code == 403


def test_availability_zone_detail_for_admin_lists_backends(backend):
    from rest_framework.test import APIClient

    from logic.enums import Role
    from tests.factories import UserFactory, member_token

    token, _, _ = member_token(Role.ADMIN, user=UserFactory(is_admin=True))
    admin = APIClient()
    admin.credentials(HTTP_X_AUTH_TOKEN=token)
    hosts = admin.get(f"{V21}/os-availability-zone/detail").json()["availabilityZoneInfo"][0]["hosts"]
    assert hosts[backend.name]["nova-compute"]["available"] is True


def test_volume_limits_for_the_cli(member, settings):
    settings.CYCLADES = {**settings.CYCLADES, "QUOTA_VOLUMES": 4, "QUOTA_VOLUME_GB": 40}
    body = member.get("/volume/v3/limits").json()["limits"]
    assert body["absolute"]["maxTotalVolumes"] == 4 and body["absolute"]["maxTotalVolumeGigabytes"] == 40
    assert body["absolute"]["totalVolumesUsed"] == 0 and body["rate"] == []


@pytest.mark.parametrize("raw", ["²", "١٢", "1²"])
def test_unicode_digits_in_a_server_id_are_404_not_500(member, raw):
    # str.isdigit() accepts superscripts and other scripts' digits that int() refuses (found by schemathesis)
    assert member.get(f"{V21}/servers/{raw}").status_code == 404
    assert member.get(f"/compute/v2.0/servers/{raw}/metadata").status_code == 404


def test_metadata_over_the_limit_is_a_quota_error_403(member):
    server = ServerFactory(project=member.project, user=member.user_obj)
    items = {f"k{i}": "v" for i in range(129)}
    resp = member.put(f"{V21}/servers/{server.pk}/metadata", {"metadata": items}, format="json")
    assert resp.status_code == 403 and "metadata_items" in resp.json()["forbidden"]["message"]
    assert server.metadata.count() == 0


@pytest.mark.parametrize("action", ["forceDelete", "restore"])
def test_soft_delete_actions_404_for_a_missing_server_409_otherwise(member, action):
    """As Nova with soft delete off: no server is ever SOFT_DELETED, so restore/forceDelete conflict."""
    assert member.post(f"{V21}/servers/999999/action", {action: None}, format="json").status_code == 404
    server = ServerFactory(project=member.project, user=member.user_obj)
    resp = member.post(f"{V21}/servers/{server.pk}/action", {action: None}, format="json")
    assert resp.status_code == 409 and "soft-deleted" in resp.json()["conflictingRequest"]["message"]
