"""The admin compute APIs' bodies against tempest's own response schemas, at every version boundary.

Hypervisors and services over the real sandbox's nodes; server groups, migrations, aggregates
and tenant usage over PostgreSQL. Versions above the advertised maximum are served here
(the later versions' shapes are implemented ahead of it).
"""

from __future__ import annotations

import pytest

from logic.models import ServerAction
from tests.compute import tempest_schemas
from tests.factories import ServerFactory

pytestmark = [pytest.mark.postgres]

V21 = "/compute/v2.1"


def at(version: str) -> dict:
    return {"HTTP_OPENSTACK_API_VERSION": f"compute {version}"}


@pytest.mark.ganeti
@pytest.mark.parametrize("version", ["2.1", "2.28", "2.33", "2.53"])
def test_hypervisors(admin, sandbox_backend, version):
    check = tempest_schemas.validate
    listed = admin.get(f"{V21}/os-hypervisors", **at(version))
    check(listed, "hypervisors", "list_search_hypervisors", version)
    check(admin.get(f"{V21}/os-hypervisors/detail", **at(version)), "hypervisors", "list_hypervisors_detail", version)
    first = listed.json()["hypervisors"][0]
    check(admin.get(f"{V21}/os-hypervisors/{first['id']}", **at(version)), "hypervisors", "get_hypervisor", version)
    check(admin.get(f"{V21}/os-hypervisors/statistics", **at(version)), "hypervisors", "get_hypervisor_statistics", version)
    if version != "2.53":
        name = first["hypervisor_hostname"]
        check(admin.get(f"{V21}/os-hypervisors/{name}/servers", **at(version)), "hypervisors", "get_hypervisors_servers", version)
    else:
        paged = admin.get(f"{V21}/os-hypervisors/detail?limit=1&with_servers=true", **at(version))
        check(paged, "hypervisors", "list_hypervisors_detail", version)


@pytest.mark.ganeti
@pytest.mark.parametrize("version", ["2.1", "2.11", "2.53"])
def test_services(admin, sandbox_backend, version):
    listed = admin.get(f"{V21}/os-services", **at(version))
    tempest_schemas.validate(listed, "services", "list_services", version)
    service = listed.json()["services"][0]
    if version == "2.53":
        done = admin.put(f"{V21}/os-services/{service['id']}", {"status": "disabled"}, format="json", **at(version))
        tempest_schemas.validate(done, "services", "update_service", version)
        return
    body = {"host": service["host"], "binary": "nova-compute"}
    off = admin.put(f"{V21}/os-services/disable-log-reason", {**body, "disabled_reason": "r"}, format="json", **at(version))
    tempest_schemas.validate(off, "services", "disable_log_reason", version)
    on = admin.put(f"{V21}/os-services/enable", body, format="json", **at(version))
    tempest_schemas.validate(on, "services", "enable_disable_service", version)
    if version == "2.11":
        down = admin.put(f"{V21}/os-services/force-down", {**body, "forced_down": False}, format="json", **at(version))
        tempest_schemas.validate(down, "services", "update_forced_down", version)


@pytest.mark.parametrize("version", ["2.1", "2.13", "2.64"])
def test_server_groups(member, version):
    spec = (
        {"name": "g", "policy": "anti-affinity", "rules": {"max_server_per_host": 3}}
        if version == "2.64"
        else {"name": "g", "policies": ["affinity"]}
    )
    made = member.post(f"{V21}/os-server-groups", {"server_group": spec}, format="json", **at(version))
    tempest_schemas.validate(made, "server_groups", "create_show_server_group", version)
    group = made.json()["server_group"]["id"]
    tempest_schemas.validate(
        member.get(f"{V21}/os-server-groups/{group}", **at(version)), "server_groups", "create_show_server_group", version
    )
    tempest_schemas.validate(member.get(f"{V21}/os-server-groups", **at(version)), "server_groups", "list_server_groups", version)
    tempest_schemas.validate(
        member.delete(f"{V21}/os-server-groups/{group}", **at(version)), "server_groups", "delete_server_group", version
    )


@pytest.mark.parametrize("version", ["2.1", "2.23", "2.59", "2.80"])
def test_migrations(admin, version):
    server = ServerFactory()
    ServerAction.objects.create(
        server=server, action="resize", request_id="req-1", user_id=server.user_id, project_id=server.project_id
    )
    listed = admin.get(f"{V21}/os-migrations", **at(version))
    assert len(listed.json()["migrations"]) == 1
    tempest_schemas.validate(listed, "migrations", "list_migrations", version)


@pytest.mark.ganeti
@pytest.mark.parametrize("version", ["2.1", "2.41"])
def test_aggregates(admin, sandbox_backend, rapi, version):
    made = admin.post(
        f"{V21}/os-aggregates", {"aggregate": {"name": f"a{version}", "availability_zone": "z"}}, format="json", **at(version)
    )
    tempest_schemas.validate(made, "aggregates", "create_aggregate", version)
    agg = made.json()["aggregate"]["id"]
    host = rapi.list_nodes()[0]
    added = admin.post(f"{V21}/os-aggregates/{agg}/action", {"add_host": {"host": host}}, format="json", **at(version))
    tempest_schemas.validate(added, "aggregates", "aggregate_add_remove_host", version)
    meta = admin.post(
        f"{V21}/os-aggregates/{agg}/action", {"set_metadata": {"metadata": {"k": "v"}}}, format="json", **at(version)
    )
    tempest_schemas.validate(meta, "aggregates", "aggregate_set_metadata", version)
    updated = admin.put(f"{V21}/os-aggregates/{agg}", {"aggregate": {"name": f"b{version}"}}, format="json", **at(version))
    tempest_schemas.validate(updated, "aggregates", "update_aggregate", version)
    tempest_schemas.validate(admin.get(f"{V21}/os-aggregates", **at(version)), "aggregates", "list_aggregates", version)
    tempest_schemas.validate(admin.get(f"{V21}/os-aggregates/{agg}", **at(version)), "aggregates", "get_aggregate", version)
    admin.post(f"{V21}/os-aggregates/{agg}/action", {"remove_host": {"host": host}}, format="json", **at(version))
    tempest_schemas.validate(admin.delete(f"{V21}/os-aggregates/{agg}", **at(version)), "aggregates", "delete_aggregate", version)
