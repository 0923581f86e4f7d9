"""``os-server-groups``, their quotas and what placement enforces (PostgreSQL; Ganeti jobs recorded)."""

from __future__ import annotations

import uuid

import pytest

from api.compute import base
from logic.models import ComputeNode, Server, ServerGroup
from tests.factories import token_client

pytestmark = [pytest.mark.postgres]

V21 = "/compute/v2.1"


def mv(version: str) -> dict:
    return {"HTTP_OPENSTACK_API_VERSION": f"compute {version}"}


@pytest.fixture
def nodes(backend):
    """Three open nodes on ``backend`` (the allocator's only backend)."""
    return [ComputeNode.objects.create(backend=backend, name=f"node{i}", uuid=uuid.uuid4()) for i in (1, 2, 3)]


def create_group(client, policy="affinity", version="2.1", **extra):
    body = {
        "name": "g",
        **({"policy": policy} if base.Microversion.parse(version) >= base.Microversion(2, 64) else {"policies": [policy]}),
    }
    body.update(extra)
    return client.post(f"{V21}/os-server-groups", {"server_group": body}, format="json", **mv(version))


def boot(client, flavor, image, group_id, *, count=1):
    body = {
        "server": {"name": "vm", "flavorRef": str(flavor.pk), "imageRef": str(image.id), "min_count": count, "max_count": count},
        "os:scheduler_hints": {"group": group_id},
    }
    return client.post(f"{V21}/servers", body, format="json")


def pnodes(jobs) -> list[str | None]:
    return [call[1][0].pnode for call in jobs.calls if call[0] == "create_server"]


def test_create_show_list_delete_by_version(member, reader, other):
    made = create_group(member, "anti-affinity")
    assert made.status_code == 200
    group = made.json()["server_group"]
    assert set(group) == {"id", "name", "policies", "members", "metadata"} and group["policies"] == ["anti-affinity"]
    assert (
        member.get(f"{V21}/os-server-groups/{group['id']}", **mv("2.13")).json()["server_group"]["project_id"]
        == member.project.pk
    )
    assert reader.get(f"{V21}/os-server-groups").json()["server_groups"] == [group]
    assert other.get(f"{V21}/os-server-groups").json()["server_groups"] == []
    assert other.get(f"{V21}/os-server-groups/{group['id']}").status_code == 404
    assert create_group(reader).status_code == 403
    assert reader.delete(f"{V21}/os-server-groups/{group['id']}").status_code == 403
    assert member.delete(f"{V21}/os-server-groups/{group['id']}").status_code == 204
    assert member.get(f"{V21}/os-server-groups/{group['id']}").status_code == 404
    assert member.get(f"{V21}/os-server-groups/not-a-uuid").status_code == 404


def test_policies_and_rules_are_validated(member):
    assert create_group(member, "soft-affinity", "2.14").status_code == 400  # soft policies from 2.15
    assert create_group(member, "soft-affinity", "2.15").status_code == 200
    assert create_group(member, "bogus").status_code == 400
    bad_list = member.post(
        f"{V21}/os-server-groups", {"server_group": {"name": "g", "policies": ["affinity", "anti-affinity"]}}, format="json"
    )
    assert bad_list.status_code == 400
    assert member.post(f"{V21}/os-server-groups", {"server_group": {"policies": ["affinity"]}}, format="json").status_code == 400
    new = create_group(member, "anti-affinity", "2.64", rules={"max_server_per_host": 2}).json()["server_group"]
    assert set(new) == {"id", "name", "policy", "rules", "members", "project_id", "user_id"}
    assert new["rules"] == {"max_server_per_host": 2}
    assert create_group(member, "affinity", "2.64", rules={"max_server_per_host": 2}).status_code == 400
    assert create_group(member, "anti-affinity", "2.64", rules={"max_server_per_host": 0}).status_code == 400
    assert create_group(member, "anti-affinity", "2.64", policies=["affinity"]).status_code == 400
    assert ServerGroup.objects.filter(project=member.project).count() == 2


def test_quotas_count_groups_and_members(member, jobs, backend, nodes, flavor, image, settings, monkeypatch):
    monkeypatch.setitem(settings.CYCLADES, "QUOTA_SERVER_GROUPS", 1)
    monkeypatch.setitem(settings.CYCLADES, "QUOTA_SERVER_GROUP_MEMBERS", 2)
    group = create_group(member, "affinity").json()["server_group"]
    over = create_group(member)
    assert over.status_code == 403 and "too many server groups" in over.json()["forbidden"]["message"]
    limits = member.get(f"{V21}/limits").json()["limits"]["absolute"]
    assert limits["maxServerGroups"] == 1 and limits["totalServerGroupsUsed"] == 1 and limits["maxServerGroupMembers"] == 2
    assert boot(member, flavor, image, group["id"], count=3).status_code == 403
    assert not Server.objects.filter(project=member.project).exists()  # nothing created
    assert boot(member, flavor, image, group["id"], count=2).status_code == 202
    assert len(member.get(f"{V21}/os-server-groups/{group['id']}").json()["server_group"]["members"]) == 2


def test_affinity_puts_every_member_on_the_first_ones_node(member, jobs, backend, nodes, flavor, image):
    group = create_group(member, "affinity").json()["server_group"]
    assert boot(member, flavor, image, group["id"], count=3).status_code == 202
    placed = pnodes(jobs)
    assert len(placed) == 3 and len(set(placed)) == 1 and placed[0] in {n.name for n in nodes}
    members = member.get(f"{V21}/os-server-groups/{group['id']}").json()["server_group"]["members"]
    assert sorted(members) == sorted(str(s.pk) for s in Server.objects.filter(project=member.project))
    # the members' node disabled: no valid host for the next member
    ComputeNode.objects.filter(name=placed[0]).update(disabled=True)
    boot(member, flavor, image, group["id"])
    failed = Server.objects.filter(project=member.project).order_by("-id").first()
    assert failed.operstate == "ERROR" and "affinity" in failed.fault["message"]


def test_anti_affinity_spreads_over_nodes_until_none_is_left(member, jobs, backend, nodes, flavor, image):
    group = create_group(member, "anti-affinity").json()["server_group"]
    assert boot(member, flavor, image, group["id"], count=3).status_code == 202
    assert sorted(pnodes(jobs)) == ["node1", "node2", "node3"]
    boot(member, flavor, image, group["id"])
    assert Server.objects.filter(project=member.project, operstate="ERROR").count() == 1
    # a deleted member frees its node
    victim = Server.objects.filter(project=member.project, operstate="BUILD").first()
    Server.objects.filter(pk=victim.pk).update(deleted=True)
    boot(member, flavor, image, group["id"])
    assert Server.objects.filter(project=member.project, operstate="ERROR").count() == 1
    assert len(pnodes(jobs)) == 4


def test_max_server_per_host_and_soft_policies(member, jobs, backend, nodes, flavor, image):
    group = create_group(member, "anti-affinity", "2.64", rules={"max_server_per_host": 2}).json()["server_group"]
    boot(member, flavor, image, group["id"], count=6)
    assert sorted(pnodes(jobs)) == ["node1", "node1", "node2", "node2", "node3", "node3"]
    jobs.calls.clear()
    soft = create_group(member, "soft-anti-affinity", "2.64").json()["server_group"]
    boot(member, flavor, image, soft["id"], count=4)
    placed = pnodes(jobs)
    assert sorted(placed[:3]) == ["node1", "node2", "node3"] and placed[3] in {"node1", "node2", "node3"}
    assert Server.objects.filter(project=member.project, operstate="ERROR").count() == 0


def test_a_disabled_service_steers_servers_without_a_group(member, jobs, backend, nodes, flavor, image):
    ComputeNode.objects.filter(name__in=["node1", "node2"]).update(disabled=True)
    body = {"server": {"name": "vm", "flavorRef": str(flavor.pk), "imageRef": str(image.id)}}
    assert member.post(f"{V21}/servers", body, format="json").status_code == 202
    assert pnodes(jobs) == ["node3"]
    ComputeNode.objects.update(disabled=False)
    assert member.post(f"{V21}/servers", body, format="json").status_code == 202
    assert pnodes(jobs)[-1] is None  # every node open: Ganeti chooses


def test_bad_hints_are_400_and_create_nothing(member, other, jobs, backend, flavor, image):
    foreign = create_group(other).json()["server_group"]
    assert boot(member, flavor, image, "not-a-uuid").status_code == 400
    assert boot(member, flavor, image, str(uuid.uuid4())).status_code == 400
    assert boot(member, flavor, image, foreign["id"]).status_code == 400
    assert not Server.objects.filter(project=member.project).exists()


def test_admin_lists_all_projects(member, other, db):
    from logic.enums import Role
    from tests.factories import UserFactory

    admin = token_client(Role.ADMIN, user=UserFactory(is_admin=True))
    create_group(member)
    create_group(other)
    assert len(admin.get(f"{V21}/os-server-groups?all_projects=True").json()["server_groups"]) >= 2
    assert admin.get(f"{V21}/os-server-groups").json()["server_groups"] == []
    assert len(member.get(f"{V21}/os-server-groups?all_projects=True").json()["server_groups"]) == 1
    assert member.get(f"{V21}/os-server-groups?limit=x").status_code == 400
    assert len(admin.get(f"{V21}/os-server-groups?all_projects=1&limit=1&offset=1").json()["server_groups"]) == 1


def test_a_libvirt_backend_is_one_node_with_its_cached_figures(db):
    from logic import compute_nodes
    from logic.enums import Role
    from logic.models import Backend
    from tests.factories import BackendFactory, UserFactory

    host = BackendFactory(
        kind=Backend.Kind.LIBVIRT,
        libvirt_uri="qemu:///system",
        hypervisor="",
        mem_total=4096,
        mem_free=1024,
        cpu_total=4,
        cpu_free=3,
    )
    assert [n.name for n in compute_nodes.known_nodes()] == [host.name]  # recorded without any RAPI call
    admin = token_client(Role.ADMIN, user=UserFactory(is_admin=True))
    [shown] = admin.get(f"{V21}/os-hypervisors/detail").json()["hypervisors"]
    assert shown["hypervisor_hostname"] == host.name and shown["hypervisor_type"] == "QEMU"
    assert (shown["memory_mb"], shown["memory_mb_used"], shown["vcpus"], shown["vcpus_used"]) == (4096, 3072, 4, 1)
