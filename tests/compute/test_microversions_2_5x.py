"""Microversions 2.52-2.58 over HTTP (2.52's tags on create are in test_microversions_2_4x.py).

2.53 (services and hypervisors by uuid) and 2.56 (migrate to a host) change APIs that
are not served; 2.55's flavor descriptions are in test_flavors.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from logic.enums import OperState
from logic.models import Keypair, Server, ServerAction
from tests.compute import tempest_schemas
from tests.compute.test_microversions import at

pytestmark = pytest.mark.django_db

PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMrEqGmdEd5u2dBCm2cGiQxtYyfb0gWe02IzuR6Iq8ly kp@example"


@pytest.fixture
def active(server):
    Server.objects.filter(pk=server.pk).update(operstate=OperState.STARTED, task=None, launched_at=timezone.now())
    return server


def rebuild(client, server, version, **extra):
    body = {"rebuild": {"imageRef": str(server.image_id), **extra}}
    return client.post(f"/compute/v2.1/servers/{server.pk}/action", body, format="json", **at(version))


def imported_key(client, name: str) -> Keypair:
    resp = client.post("/compute/v2.1/os-keypairs", {"keypair": {"name": name, "public_key": PUBLIC_KEY}}, format="json")
    assert resp.status_code in (200, 201), resp.content
    return Keypair.objects.get(name=name)


# ----------------------------------------------------------------------------- 2.54 key pair on rebuild
def test_rebuild_sets_and_unsets_the_key_pair_from_2_54(member, active, jobs):
    key = imported_key(member, "kp1")
    assert rebuild(member, active, "2.53", key_name="kp1").status_code == 400
    resp = rebuild(member, active, "2.54", key_name="kp1")
    assert resp.status_code == 202 and resp.json()["server"]["key_name"] == "kp1"
    tempest_schemas.validate(resp, "servers", "rebuild_server_with_admin_pass", "2.54")
    active.refresh_from_db()
    assert (active.key_name, active.key_data) == ("kp1", key.public_key)
    Server.objects.filter(pk=active.pk).update(task=None)
    resp = rebuild(member, active, "2.54", key_name=None)
    assert resp.status_code == 202 and resp.json()["server"]["key_name"] is None
    active.refresh_from_db()
    assert (active.key_name, active.key_data) == (None, None)


def test_rebuild_with_an_unknown_key_pair_is_400_and_changes_nothing(member, active, jobs):
    calls = len(jobs.calls)
    assert rebuild(member, active, "2.54", key_name="nope").status_code == 400
    active.refresh_from_db()
    assert active.task is None and len(jobs.calls) == calls


# ----------------------------------------------------------------------------- 2.57 personality gone, user data on rebuild
PERSONALITY = [{"path": "/etc/motd", "contents": "aGk="}]


def test_personality_is_refused_from_2_57(member, active, jobs, backend, flavor, image):
    body = {"server": {"name": "p", "flavorRef": str(flavor.pk), "imageRef": str(image.id), "networks": "auto"}}
    body["server"]["personality"] = PERSONALITY
    before = Server.objects.count()
    assert member.post("/compute/v2.1/servers", body, format="json", **at("2.57")).status_code == 400
    assert Server.objects.count() == before
    assert rebuild(member, active, "2.57", personality=PERSONALITY).status_code == 400


def test_rebuild_replaces_the_user_data_from_2_57(member, active, jobs):
    assert rebuild(member, active, "2.56", user_data="I2Nsb3Vk").status_code == 400
    assert rebuild(member, active, "2.57", user_data="I2Nsb3Vk").status_code == 202
    active.refresh_from_db()
    assert active.user_data == "I2Nsb3Vk"
    Server.objects.filter(pk=active.pk).update(task=None)
    assert rebuild(member, active, "2.57", user_data=None).status_code == 202
    active.refresh_from_db()
    assert active.user_data is None
    Server.objects.filter(pk=active.pk).update(task=None)
    assert rebuild(member, active, "2.57", user_data=12).status_code == 400


@pytest.mark.parametrize("version", ["2.56", "2.57"])
def test_limits_and_quota_sets_lose_the_injected_file_keys_at_2_57(member, version):
    gone = version == "2.57"
    limits = member.get("/compute/v2.1/limits", **at(version))
    absolute = limits.json()["limits"]["absolute"]
    assert ("maxPersonality" in absolute) is not gone and ("maxPersonalitySize" in absolute) is not gone
    tempest_schemas.validate(limits, "limits", "get_limit", version)
    project = member.project.pk
    for suffix, schema in (("", "get_quota_set"), ("/defaults", "get_quota_set"), ("/detail", "get_quota_set_details")):
        resp = member.get(f"/compute/v2.1/os-quota-sets/{project}{suffix}", **at(version))
        keys = set(resp.json()["quota_set"])
        assert ("injected_files" in keys) is not gone and ("injected_file_path_bytes" in keys) is not gone
        tempest_schemas.validate(resp, "quotas", schema, version)


# ----------------------------------------------------------------------------- os-server-password
def test_server_password_is_empty_and_clearing_it_is_204(member, reader, active, other):
    url = f"/compute/v2.1/servers/{active.pk}/os-server-password"
    shown = reader.get(url)
    assert shown.status_code == 200 and shown.json() == {"password": ""}
    assert reader.delete(url).status_code == 403
    assert member.delete(url).status_code == 204
    assert other.get(url).status_code == 404
    assert member.get("/compute/v2.1/servers/999999/os-server-password").status_code == 404


# ----------------------------------------------------------------------------- 2.58 action log paging
@pytest.fixture
def logged(member, active):
    """Five actions in the log of ``active`` (the create, then four lock/unlock), oldest first."""
    for body in ({"lock": None}, {"unlock": None}, {"lock": None}, {"unlock": None}):
        assert member.post(f"/compute/v2.1/servers/{active.pk}/action", body, format="json").status_code == 202
    return [a.request_id for a in reversed(active.actions.all())]


def test_the_action_log_pages_from_2_58(member, active, logged):
    url = f"/compute/v2.1/servers/{active.pk}/os-instance-actions"
    old = member.get(url, {"limit": 2}, **at("2.57")).json()
    assert len(old["instanceActions"]) == 5 and "updated_at" not in old["instanceActions"][0] and "links" not in old
    first = member.get(url, {"limit": 2}, **at("2.58"))
    tempest_schemas.validate(first, "servers", "list_instance_actions", "2.58")
    body = first.json()
    newest_first = list(reversed(logged))
    assert [a["request_id"] for a in body["instanceActions"]] == newest_first[:2]
    assert all(a["updated_at"] for a in body["instanceActions"])
    (link,) = body["links"]
    assert link["rel"] == "next" and f"marker={newest_first[1]}" in link["href"]
    rest = member.get(url, {"limit": 10, "marker": newest_first[1]}, **at("2.58")).json()
    assert [a["request_id"] for a in rest["instanceActions"]] == newest_first[2:] and "links" not in rest
    shown = member.get(f"{url}/{logged[0]}", **at("2.58"))
    tempest_schemas.validate(shown, "servers", "show_instance_action", "2.58")
    assert shown.json()["instanceAction"]["updated_at"]


def test_the_action_log_filters_by_changes_since_from_2_58(member, active, logged):
    url = f"/compute/v2.1/servers/{active.pk}/os-instance-actions"
    ServerAction.objects.filter(request_id=logged[0]).update(start_time=timezone.now() - timedelta(days=2), finish_time=None)
    since = (timezone.now() - timedelta(days=1)).isoformat()
    listed = member.get(url, {"changes-since": since}, **at("2.58")).json()["instanceActions"]
    assert logged[0] not in [a["request_id"] for a in listed] and len(listed) == 4


@pytest.mark.parametrize("params", [{"marker": "req-unknown"}, {"limit": "x"}, {"limit": -1}, {"changes-since": "yesterday"}])
def test_bad_action_log_queries_are_400_from_2_58(member, active, params):
    assert member.get(f"/compute/v2.1/servers/{active.pk}/os-instance-actions", params, **at("2.58")).status_code == 400
