"""``os-hypervisors`` and ``os-services`` over the real Ganeti sandbox's nodes (PostgreSQL, RAPI)."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from logic import allocator
from logic.models import ComputeNode
from tests.factories import FlavorFactory, ServerFactory
from tests.fixtures_ganeti import create_instance

pytestmark = [pytest.mark.postgres, pytest.mark.ganeti, pytest.mark.usefixtures("ganeti_reset")]

V21 = "/compute/v2.1"


def mv(version: str) -> dict:
    return {"HTTP_OPENSTACK_API_VERSION": f"compute {version}"}


@pytest.fixture
def node(rapi):
    return rapi.list_nodes(bulk=True)[0]


def test_hypervisors_are_the_ganeti_nodes_with_their_figures(admin, sandbox_backend, node, rapi):
    listed = admin.get(f"{V21}/os-hypervisors", **mv("2.1")).json()["hypervisors"]
    mine = [h for h in listed if h["hypervisor_hostname"] == node["name"]]
    assert len(mine) == 1 and isinstance(mine[0]["id"], int)
    assert mine[0]["state"] == "up" and mine[0]["status"] == "enabled"
    detail = admin.get(f"{V21}/os-hypervisors/{mine[0]['id']}", **mv("2.1")).json()["hypervisor"]
    fresh = rapi.get_node(node["name"])
    assert detail["memory_mb"] == fresh["mtotal"]
    assert detail["local_gb"] == fresh["dtotal"] // 1024
    assert detail["vcpus"] == fresh["ctotal"]
    assert detail["host_ip"] == fresh["pip"]
    assert detail["hypervisor_type"] == sandbox_backend.hypervisor
    assert detail["hypervisor_version"] == 3000002 or detail["hypervisor_version"] > 2_000_000
    assert isinstance(detail["cpu_info"], str)  # a JSON string before 2.28
    assert detail["service"] == {"host": node["name"], "id": mine[0]["id"], "disabled_reason": None}
    assert isinstance(admin.get(f"{V21}/os-hypervisors/{mine[0]['id']}", **mv("2.28")).json()["hypervisor"]["cpu_info"], dict)
    stats = admin.get(f"{V21}/os-hypervisors/statistics").json()["hypervisor_statistics"]
    assert stats["count"] == 1 and stats["memory_mb"] == fresh["mtotal"]


def test_servers_per_node_and_search(admin, sandbox_backend, node, rapi, wait_job):
    server = ServerFactory(backend=sandbox_backend, name="on-node")
    wait_job(create_instance(rapi, server.ganeti_name))
    found = admin.get(f"{V21}/os-hypervisors/{node['name'][:5]}/servers", **mv("2.1")).json()["hypervisors"]
    assert {"uuid": str(server.pk), "name": "on-node"} in found[0]["servers"]
    assert (
        admin.get(f"{V21}/os-hypervisors/{node['name']}/search").json()["hypervisors"][0]["hypervisor_hostname"] == node["name"]
    )
    assert admin.get(f"{V21}/os-hypervisors/no-such-node/search").status_code == 404
    detail = admin.get(f"{V21}/os-hypervisors/detail", **mv("2.1")).json()["hypervisors"][0]
    assert detail["running_vms"] >= 1 and detail["vcpus_used"] >= 1
    # 2.53: uuid ids, with_servers, the pattern on the list; /search and /servers are gone
    listed = admin.get(f"{V21}/os-hypervisors?with_servers=true", **mv("2.53")).json()["hypervisors"]
    assert listed[0]["id"] == node["uuid"]
    assert {"uuid": str(server.pk), "name": "on-node"} in listed[0]["servers"]
    shown = admin.get(f"{V21}/os-hypervisors/{node['uuid']}?with_servers=1", **mv("2.53")).json()["hypervisor"]
    assert shown["service"]["id"] == str(ComputeNode.objects.get(uuid=node["uuid"]).service_uuid)
    assert len(shown["servers"]) >= 1
    pattern = admin.get(f"{V21}/os-hypervisors?hypervisor_hostname_pattern={node['name']}", **mv("2.53"))
    assert [h["id"] for h in pattern.json()["hypervisors"]] == [node["uuid"]]
    assert admin.get(f"{V21}/os-hypervisors/{node['name']}/search", **mv("2.53")).status_code == 404
    assert admin.get(f"{V21}/os-hypervisors?with_servers=maybe", **mv("2.53")).status_code == 400


def test_hypervisor_ids_errors_and_policy(admin, member, sandbox_backend, node):
    hyper = admin.get(f"{V21}/os-hypervisors").json()["hypervisors"][0]
    assert admin.get(f"{V21}/os-hypervisors/{uuid.uuid4()}", **mv("2.1")).status_code == 404
    assert admin.get(f"{V21}/os-hypervisors/{uuid.uuid4()}", **mv("2.53")).status_code == 404
    assert admin.get(f"{V21}/os-hypervisors/{hyper['id']}", **mv("2.53")).status_code == 400  # not a uuid
    assert admin.get(f"{V21}/os-hypervisors/{hyper['id']}/uptime").status_code == 501  # Ganeti does not report it
    assert admin.get(f"{V21}/os-hypervisors/{uuid.uuid4()}/uptime").status_code == 404
    for path in ("", "/detail", "/statistics", f"/{hyper['id']}", f"/{hyper['id']}/uptime", f"/{node['name']}/search"):
        resp = member.get(f"{V21}/os-hypervisors{path}")
        assert resp.status_code == 403, path
        assert "os-hypervisors" in resp.json()["forbidden"]["message"]
    # paging from 2.33
    page = admin.get(f"{V21}/os-hypervisors?limit=1", **mv("2.33")).json()
    assert len(page["hypervisors"]) == 1 and page["hypervisors_links"][0]["rel"] == "next"
    assert admin.get(f"{V21}/os-hypervisors?marker=999999", **mv("2.33")).status_code == 400
    assert admin.get(f"{V21}/os-hypervisors?limit=x", **mv("2.33")).status_code == 400


def test_hypervisors_at_2_88_drop_the_figures(admin, sandbox_backend, node):
    shown = admin.get(f"{V21}/os-hypervisors/{node['uuid']}", **mv("2.88")).json()["hypervisor"]
    assert shown["uptime"] is None and "memory_mb" not in shown and "cpu_info" not in shown
    assert admin.get(f"{V21}/os-hypervisors/statistics", **mv("2.88")).status_code == 404
    assert admin.get(f"{V21}/os-hypervisors/{node['uuid']}/uptime", **mv("2.88")).status_code == 404


def test_services_list_filters_and_policy(admin, member, sandbox_backend, node):
    services = admin.get(f"{V21}/os-services", **mv("2.1")).json()["services"]
    mine = [s for s in services if s["host"] == node["name"]]
    assert len(mine) == 1
    assert mine[0]["binary"] == "nova-compute" and mine[0]["zone"] == "nova" and mine[0]["state"] == "up"
    assert "forced_down" not in mine[0]
    assert admin.get(f"{V21}/os-services", **mv("2.11")).json()["services"][0]["forced_down"] is False
    assert admin.get(f"{V21}/os-services?binary=nova-compute&host={node['name']}").json()["services"][0]["host"] == node["name"]
    assert admin.get(f"{V21}/os-services?binary=xxx&host={node['name']}").json()["services"] == []
    assert admin.get(f"{V21}/os-services?binary=nova-compute&host=xxx").json()["services"] == []
    assert len(admin.get(f"{V21}/os-services?xxx=1", **mv("2.53")).json()["services"]) == len(services)
    assert member.get(f"{V21}/os-services").status_code == 403
    assert (
        member.put(f"{V21}/os-services/disable", {"host": node["name"], "binary": "nova-compute"}, format="json").status_code
        == 403
    )


def test_services_at_2_75_refuse_unknown_parameters(admin, sandbox_backend):
    assert admin.get(f"{V21}/os-services?xxx=1", **mv("2.75")).status_code == 400


def _allocate(flavor, project):
    with transaction.atomic():
        return allocator.allocate(flavor=flavor, project=project)


def test_disabling_the_service_takes_the_node_out_of_placement(admin, sandbox_backend, node):
    flavor = FlavorFactory(ram=128, vcpus=1, disk=0, disk_template="diskless")
    project = admin.project
    body = {"host": node["name"], "binary": "nova-compute"}
    answer = admin.put(f"{V21}/os-services/disable", body, format="json", **mv("2.1"))
    assert answer.status_code == 200
    assert answer.json()["service"] == {"host": node["name"], "binary": "nova-compute", "status": "disabled"}
    with pytest.raises(allocator.NoBackendAvailable):
        _allocate(flavor, project)
    shown = admin.get(f"{V21}/os-hypervisors/detail").json()["hypervisors"][0]
    assert shown["status"] == "disabled"
    reason = admin.put(f"{V21}/os-services/disable-log-reason", {**body, "disabled_reason": "maint"}, format="json")
    assert reason.json()["service"]["disabled_reason"] == "maint"
    assert admin.put(f"{V21}/os-services/enable", body, format="json").json()["service"]["status"] == "enabled"
    assert _allocate(flavor, project) == sandbox_backend
    # force-down from 2.11 only
    assert (
        admin.put(f"{V21}/os-services/force-down", {**body, "forced_down": True}, format="json", **mv("2.10")).status_code == 404
    )
    down = admin.put(f"{V21}/os-services/force-down", {**body, "forced_down": True}, format="json", **mv("2.11"))
    assert down.json()["service"] == {"host": node["name"], "binary": "nova-compute", "forced_down": True}
    assert admin.get(f"{V21}/os-services", **mv("2.11")).json()["services"][0]["state"] == "down"
    with pytest.raises(allocator.NoBackendAvailable):
        _allocate(flavor, project)
    assert (
        admin.put(f"{V21}/os-services/force-down", {**body, "forced_down": "no"}, format="json", **mv("2.11")).status_code == 400
    )
    assert ComputeNode.objects.get(name=node["name"], backend=sandbox_backend).forced_down is True
    unknown = admin.put(f"{V21}/os-services/enable", {"host": "xxx", "binary": "nova-compute"}, format="json")
    assert unknown.status_code == 404


def test_services_by_uuid_from_2_53(admin, sandbox_backend, node):
    service = admin.get(f"{V21}/os-services", **mv("2.53")).json()["services"][0]
    row = ComputeNode.objects.get(service_uuid=service["id"])
    done = admin.put(
        f"{V21}/os-services/{service['id']}", {"status": "disabled", "disabled_reason": "x"}, format="json", **mv("2.53")
    )
    assert done.status_code == 200
    assert done.json()["service"]["status"] == "disabled" and done.json()["service"]["id"] == service["id"]
    row.refresh_from_db()
    assert row.disabled and row.disabled_reason == "x"
    bad = admin.put(
        f"{V21}/os-services/{service['id']}", {"status": "enabled", "disabled_reason": "x"}, format="json", **mv("2.53")
    )
    assert bad.status_code == 400
    row.refresh_from_db()
    assert row.disabled  # nothing changed
    assert admin.put(f"{V21}/os-services/{uuid.uuid4()}", {"status": "enabled"}, format="json", **mv("2.53")).status_code == 404
    assert admin.put(f"{V21}/os-services/disable", {"status": "enabled"}, format="json", **mv("2.53")).status_code == 400
    back = admin.put(
        f"{V21}/os-services/{service['id']}", {"status": "enabled", "forced_down": False}, format="json", **mv("2.53")
    )
    assert back.json()["service"]["status"] == "enabled" and back.json()["service"]["disabled_reason"] is None
    # a node still in the cluster cannot be deleted
    assert admin.delete(f"{V21}/os-services/{service['id']}", **mv("2.53")).status_code == 409
    assert ComputeNode.objects.filter(pk=row.pk).exists()
