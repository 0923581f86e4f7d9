"""Microversions 2.40-2.47 over HTTP: what changes in the APIs this cloud serves.

2.40 (simple tenant usage), 2.41 (aggregates) and 2.43 (os-hosts) change APIs that are not
served; 2.45 changes createImage's answer; 2.42's device tags are in test_microversions.py.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from logic.enums import OperState, Role
from logic.models import Server, ServerAction, ServerNIC
from tests.compute import tempest_schemas
from tests.compute.test_microversions import at
from tests.factories import UserFactory, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(member):
    """An admin in the member's project."""
    return token_client(Role.ADMIN, user=UserFactory(is_admin=True), project=member.project)


@pytest.fixture
def active(server):
    ServerNIC.objects.create(server=server, index=0, network_name="private", mac="aa:00:00:11:22:33", ipv4="10.0.0.5")
    Server.objects.filter(pk=server.pk).update(operstate=OperState.STARTED, task=None, launched_at=timezone.now())
    return server


PROXY_ACTIONS = {
    "addFixedIp": {"networkId": "x"},
    "removeFixedIp": {"address": "10.0.0.5"},
    "addFloatingIp": {"address": "192.0.2.10"},
    "removeFloatingIp": {"address": "192.0.2.10"},
}


@pytest.mark.parametrize("name", sorted(PROXY_ACTIONS))
def test_network_proxy_actions_are_404_from_2_44(member, active, jobs, name):
    url = f"/compute/v2.1/servers/{active.pk}/action"
    before = member.post(url, {name: PROXY_ACTIONS[name]}, format="json", **at("2.43"))
    if "Floating" in name:  # Nova's floating IP proxy (logic.neutron.nova_floating): no such address here
        assert before.status_code == 404 and "192.0.2.10" in before.json()["itemNotFound"]["message"]
    else:
        assert before.status_code == 501 and "network API" in before.json()["notImplemented"]["message"]
    gone = member.post(url, {name: PROXY_ACTIONS[name]}, format="json", **at("2.44"))
    assert gone.status_code == 404 and "2.44" in gone.json()["itemNotFound"]["message"]
    assert jobs.calls == [jobs.calls[0]]  # only the create's job: nothing was submitted


@pytest.mark.parametrize("version", ["2.44", "2.45", "2.47"])
def test_create_image_and_backup_answer_the_image_id_from_2_45(member, active, jobs, version, tmp_path, settings):
    from logic import image_deploy
    from logic.models import Image

    settings.CYCLADES = {**settings.CYCLADES, "IMAGE_FETCH_KEY_FILE": str(tmp_path / "key")}
    image_deploy.ensure_key_file(tmp_path / "key")
    url = f"/compute/v2.1/servers/{active.pk}/action"
    for body in ({"createImage": {"name": "snap"}}, {"createBackup": {"name": "b", "backup_type": "daily", "rotation": 1}}):
        resp = member.post(url, body, format="json", **at(version))
        assert resp.status_code == 202, resp.content
        image = Image.objects.filter(status="queued").get()
        if version == "2.44":
            assert resp["Location"].endswith(f"/images/{image.pk}") and not resp.content
        else:
            assert resp.json() == {"image_id": str(image.pk)} and "Location" not in resp
        Image.objects.filter(pk=image.pk).update(status="active")  # as if its upload had arrived
    assert Image.objects.get(name="b").properties["backup_type"] == "daily"


def test_the_request_id_headers_at_2_46(member, active):
    resp = member.get(f"/compute/v2.1/servers/{active.pk}", **at("2.46"))
    assert resp["X-OpenStack-Request-ID"].startswith("req-")
    assert resp["X-Compute-Request-ID"] == resp["X-OpenStack-Request-ID"]


def test_the_flavor_is_embedded_from_2_47(member, active, flavor):
    flavor.extra_specs = {"hw:cpu_policy": "shared"}
    flavor.save()
    url = f"/compute/v2.1/servers/{active.pk}"
    older = member.get(url, **at("2.46")).json()["server"]["flavor"]
    assert older["id"] == str(flavor.pk) and older["links"]
    embedded = {
        "vcpus": 1, "ram": 128, "disk": 1, "ephemeral": 0, "swap": 0, "original_name": "m1.tiny",
        "extra_specs": {"hw:cpu_policy": "shared"},
    }  # fmt: skip
    shown = member.get(url, **at("2.47"))
    assert shown.json()["server"]["flavor"] == embedded
    tempest_schemas.validate(shown, "servers", "get_server", "2.47")
    listed = member.get("/compute/v2.1/servers/detail", **at("2.47")).json()["servers"]
    assert [s["flavor"] for s in listed] == [embedded]
    updated = member.put(url, {"server": {"name": "renamed"}}, format="json", **at("2.47"))
    assert updated.json()["server"]["flavor"] == embedded
    # the Synnefo flavour has no microversions: its flavor stays a reference
    assert member.get(f"/compute/v2.0/servers/{active.pk}").json()["server"]["flavor"]["id"] == str(flavor.pk)


def test_the_embedded_flavor_follows_a_resize(member, active, flavor, flavor_alt):
    Server.objects.filter(pk=active.pk).update(flavor=flavor_alt)
    body = member.get(f"/compute/v2.1/servers/{active.pk}", **at("2.47")).json()["server"]
    assert body["flavor"]["original_name"] == "m1.small" and body["flavor"]["ram"] == 256


def test_detail_pages_embed_flavors_in_a_constant_number_of_queries(
    member, jobs, backend, flavor, image, django_assert_max_num_queries
):
    body = {
        "server": {"name": "many", "flavorRef": str(flavor.pk), "imageRef": str(image.id), "min_count": 3, "networks": "auto"}
    }
    assert member.post("/compute/v2.1/servers", body, format="json", **at("2.46")).status_code == 202
    with django_assert_max_num_queries(20) as captured:
        member.get("/compute/v2.1/servers/detail", **at("2.47"))
    few = len(captured.captured_queries)
    assert member.post("/compute/v2.1/servers", body, format="json", **at("2.46")).status_code == 202
    with django_assert_max_num_queries(few):
        assert len(member.get("/compute/v2.1/servers/detail", **at("2.47")).json()["servers"]) == 6


def test_action_events_are_the_admins_before_2_51(member, active, admin_client):
    rid = member.get(f"/compute/v2.1/servers/{active.pk}/os-instance-actions").json()["instanceActions"][0]["request_id"]
    ServerAction.objects.filter(request_id=rid).update(finish_time=timezone.now(), result="Success")
    url = f"/compute/v2.1/servers/{active.pk}/os-instance-actions/{rid}"
    for version in ("2.1", "2.50"):
        shown = member.get(url, **at(version))
        assert "events" not in shown.json()["instanceAction"]
        tempest_schemas.validate(shown, "servers", "show_instance_action", version)
        as_admin = admin_client.get(url, **at(version)).json()["instanceAction"]
        assert as_admin["events"][0]["traceback"] is None
    shown = member.get(url, **at("2.51"))
    (event,) = shown.json()["instanceAction"]["events"]
    assert event["result"] == "Success" and "traceback" not in event
    tempest_schemas.validate(shown, "servers", "show_instance_action", "2.51")
    assert "traceback" in admin_client.get(url, **at("2.51")).json()["instanceAction"]["events"][0]


# ----------------------------------------------------------------------------- 2.52: tags on create
def create_at(client, version, flavor, image, **fields):
    body = {"server": {"name": "t", "flavorRef": str(flavor.pk), "imageRef": str(image.id), "networks": "auto", **fields}}
    return client.post("/compute/v2.1/servers", body, format="json", **at(version))


def test_tags_on_create_from_2_52(member, jobs, backend, flavor, image):
    refused = create_at(member, "2.51", flavor, image, tags=["a"])
    assert refused.status_code == 400 and Server.objects.count() == 0
    created = create_at(member, "2.52", flavor, image, tags=["web", "prod", "web"])
    assert created.status_code == 202, created.content
    server_id = created.json()["server"]["id"]
    assert member.get(f"/compute/v2.1/servers/{server_id}", **at("2.52")).json()["server"]["tags"] == ["prod", "web"]
    assert [s["id"] for s in member.get("/compute/v2.1/servers?tags=web", **at("2.52")).json()["servers"]] == [server_id]


@pytest.mark.parametrize("tags", ["web", [""], ["a/b"], ["x" * 61], [f"t{n}" for n in range(51)], [1]])
def test_bad_tags_on_create_are_400_and_create_nothing(member, jobs, backend, flavor, image, tags):
    resp = create_at(member, "2.52", flavor, image, tags=tags)
    assert resp.status_code == 400 and Server.objects.count() == 0 and jobs.calls == []
