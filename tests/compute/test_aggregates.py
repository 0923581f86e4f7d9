"""``os-aggregates`` over the real Ganeti sandbox's nodes as hosts (PostgreSQL, RAPI)."""

from __future__ import annotations

import uuid

import pytest

from logic.models import Aggregate, ComputeNode

pytestmark = [pytest.mark.postgres, pytest.mark.ganeti]

URL = "/compute/v2.1/os-aggregates"


def v(version: str) -> dict:
    return {"HTTP_OPENSTACK_API_VERSION": f"compute {version}"}


@pytest.fixture
def host(sandbox_backend, rapi) -> str:
    return rapi.list_nodes()[0]


def create(client, name="agg", **extra):
    return client.post(URL, {"aggregate": {"name": name, **extra}}, format="json")


def act(client, agg_id, action, spec):
    return client.post(f"{URL}/{agg_id}/action", {action: spec}, format="json")


def test_create_show_update_delete(admin):
    made = create(admin, availability_zone="az1")
    assert made.status_code == 200
    body = made.json()["aggregate"]
    assert set(body) == {"id", "name", "availability_zone", "created_at", "updated_at", "deleted", "deleted_at"}
    assert body["updated_at"] is None and body["availability_zone"] == "az1"
    shown = admin.get(f"{URL}/{body['id']}", **v("2.41")).json()["aggregate"]
    assert shown["hosts"] == [] and shown["metadata"] == {"availability_zone": "az1"}
    assert uuid.UUID(shown["uuid"]) == Aggregate.objects.get(pk=body["id"]).uuid
    assert create(admin).status_code == 409  # the name is taken
    assert create(admin, name="").status_code == 400
    assert create(admin, name="x" * 256).status_code == 400
    updated = admin.put(f"{URL}/{body['id']}", {"aggregate": {"name": "renamed", "availability_zone": None}}, format="json")
    assert updated.json()["aggregate"]["name"] == "renamed" and updated.json()["aggregate"]["updated_at"] is not None
    assert updated.json()["aggregate"]["metadata"] == {}
    assert admin.get(URL).json()["aggregates"][0]["name"] == "renamed"
    assert admin.delete(f"{URL}/{body['id']}").status_code == 200
    assert admin.get(f"{URL}/{body['id']}").status_code == 404
    assert admin.delete(f"{URL}/999999").status_code == 404


def test_hosts_are_the_ganeti_nodes(admin, host):
    agg = create(admin).json()["aggregate"]
    added = act(admin, agg["id"], "add_host", {"host": host})
    assert added.status_code == 200 and added.json()["aggregate"]["hosts"] == [host]
    assert act(admin, agg["id"], "add_host", {"host": host}).status_code == 409
    assert act(admin, agg["id"], "add_host", {"host": "no-such-node"}).status_code == 404
    assert admin.delete(f"{URL}/{agg['id']}").status_code == 400  # still has a host
    # a host is in one zone only
    act(admin, agg["id"], "set_metadata", {"metadata": {"availability_zone": "az1", "ssd": "true"}})
    other = create(admin, name="other", availability_zone="az2").json()["aggregate"]
    assert act(admin, other["id"], "add_host", {"host": host}).status_code == 400
    assert list(ComputeNode.objects.get(name=host).aggregates.values_list("name", flat=True)) == ["agg"]
    meta = act(admin, agg["id"], "set_metadata", {"metadata": {"ssd": None}}).json()["aggregate"]
    assert meta["metadata"] == {"availability_zone": "az1"} and meta["availability_zone"] == "az1"
    assert act(admin, agg["id"], "remove_host", {"host": "no-such-node"}).status_code == 404
    assert act(admin, agg["id"], "remove_host", {"host": host}).json()["aggregate"]["hosts"] == []
    assert act(admin, agg["id"], "bogus", {}).status_code == 400


def test_everything_is_admin_only(admin, member, host):
    agg = create(admin).json()["aggregate"]
    assert create(member, name="mine").status_code == 403
    assert member.get(URL).status_code == 403
    assert member.get(f"{URL}/{agg['id']}").status_code == 403
    assert member.delete(f"{URL}/{agg['id']}").status_code == 403
    assert member.delete(f"{URL}/999999").status_code == 403  # the policy before the lookup
    assert act(member, agg["id"], "add_host", {"host": host}).status_code == 403
    assert Aggregate.objects.count() == 1 and not Aggregate.objects.get().hosts.exists()
