"""Server group placement on the real Ganeti sandbox: the node chosen is the instance's primary node."""

from __future__ import annotations

import pytest

from logic.models import Server, ServerGroupMember
from tests.factories import FlavorFactory, ImageFactory

pytestmark = [pytest.mark.postgres, pytest.mark.ganeti, pytest.mark.usefixtures("ganeti_reset")]

V21 = "/compute/v2.1"
MV = {"HTTP_OPENSTACK_API_VERSION": "compute 2.37"}


def boot(member, flavor, image, group_id: str):
    body = {
        "server": {"name": "grouped", "flavorRef": str(flavor.pk), "imageRef": str(image.id), "networks": "none"},
        "os:scheduler_hints": {"group": group_id},
    }
    resp = member.post(f"{V21}/servers", body, format="json", **MV)
    assert resp.status_code == 202, resp.content
    return Server.objects.get(pk=int(resp.json()["server"]["id"]))


def group(member, policy: str) -> str:
    made = member.post(f"{V21}/os-server-groups", {"server_group": {"name": policy, "policies": [policy]}}, format="json")
    return made.json()["server_group"]["id"]


def test_members_are_created_on_the_node_placement_chose(member, sandbox_backend, rapi, wait_job):
    flavor = FlavorFactory(ram=128, vcpus=1, disk=0, disk_template="diskless")
    image = ImageFactory(ganeti_os="noop")
    together = group(member, "affinity")
    first = boot(member, flavor, image, together)
    wait_job(Server.objects.get(pk=first.pk).task_job_id)
    node = rapi.get_instance(first.ganeti_name)["pnode"]
    assert ServerGroupMember.objects.get(server=first).node == node
    second = boot(member, flavor, image, together)
    wait_job(Server.objects.get(pk=second.pk).task_job_id)
    assert rapi.get_instance(second.ganeti_name)["pnode"] == node
    # anti-affinity: one member per node, then no valid host
    nodes = rapi.list_nodes()
    apart = group(member, "anti-affinity")
    spread = [boot(member, flavor, image, apart) for _ in nodes]
    for server in spread:
        wait_job(Server.objects.get(pk=server.pk).task_job_id)
    assert sorted(rapi.get_instance(s.ganeti_name)["pnode"] for s in spread) == sorted(nodes)
    refused = Server.objects.get(pk=boot(member, flavor, image, apart).pk)
    assert refused.operstate == "ERROR" and refused.task_job_id is None
    assert "anti-affinity" in refused.fault["message"]
    members = member.get(f"{V21}/os-server-groups/{apart}").json()["server_group"]["members"]
    assert members == [str(s.pk) for s in [*spread, refused]]  # Nova keeps the failed member too
