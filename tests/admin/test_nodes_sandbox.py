"""Node inventory and node roles against the real Ganeti sandbox (compared with ``gnt-node list``)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from logic.admin import nodes
from logic.rapi import JobFailed
from tests.fixtures_ganeti import create_instance

pytestmark = [pytest.mark.postgres, pytest.mark.ganeti, pytest.mark.django_db, pytest.mark.usefixtures("ganeti_reset")]

ADMIN = "/admin/v1"
FIELDS = "name,role,group,mtotal,mfree,dtotal,dfree,ctotal,pinst_cnt,sinst_cnt"


def gnt_node_list() -> dict[str, dict]:
    """``gnt-node list`` itself (MiB units), by node name."""
    if not shutil.which("gnt-node"):
        pytest.skip("gnt-node is not installed here")
    out = subprocess.run(
        ["gnt-node", "list", "--no-headers", "--units=m", "--separator=|", "-o", FIELDS],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    rows = {}
    for line in out.strip().splitlines():
        name, role, group, *numbers = line.split("|")
        mtotal, mfree, dtotal, dfree, ctotal, pinst, sinst = (int(float(n)) for n in numbers)
        rows[name] = {
            "role": role,
            "group": group,
            "mtotal": mtotal,
            "mfree": mfree,
            "dtotal": dtotal,
            "dfree": dfree,
            "ctotal": ctotal,
            "pinst": pinst,
            "sinst": sinst,
        }
    return rows


def test_inventory_matches_gnt_node_list(admin, sandbox_backend, rapi, wait_job, ganeti_prefix):
    wait_job(create_instance(rapi, f"{ganeti_prefix}-900001"))
    for _ in range(5):  # other sessions create and remove instances on the shared sandbox: read both at a quiet moment
        resp = admin.get(f"{ADMIN}/nodes")
        assert resp.status_code == 200, resp.content
        body = resp.json()
        listed = gnt_node_list()
        got = {n["name"]: n for n in body["nodes"]}
        if all(got.get(name, {}).get("instance_count") == row["pinst"] for name, row in listed.items()):
            break
    assert body["unreachable"] == {}
    assert set(got) == set(listed)
    for name, want in listed.items():
        node = got[name]
        assert node["backend"] == sandbox_backend.name
        assert node["role"] == nodes.ROLES[want["role"]]
        assert node["group"] == want["group"]
        assert node["cpu_total"] == want["ctotal"]
        assert node["mem_total"] == want["mtotal"]
        assert node["disk_total"] == want["dtotal"]
        assert node["instance_count"] == want["pinst"] == len(node["primary_instances"])
        assert len(node["secondary_instances"]) == want["sinst"]
        # free figures move with other sessions' instances on the shared sandbox: same order of magnitude
        assert abs(node["mem_free"] - want["mfree"]) <= 2048
        assert abs(node["disk_free"] - want["dfree"]) <= 4096
    assert f"{ganeti_prefix}-900001" in got[next(iter(listed))]["primary_instances"]
    master = next(n for n in body["nodes"] if n["role"] == "master")
    assert admin.get(f"{ADMIN}/nodes?role=master").json()["nodes"][0]["name"] == master["name"]
    one = admin.get(f"{ADMIN}/nodes/{sandbox_backend.name}/{master['name']}").json()["node"]
    assert one["name"] == master["name"] and one["cpu_total"] == master["cpu_total"]
    assert admin.get(f"{ADMIN}/nodes/{sandbox_backend.name}/no-such-node").status_code == 404


def test_node_filter_on_servers_reads_placement_from_ganeti(admin, sandbox_backend, rapi, wait_job, ganeti_prefix):
    from logic.enums import OperState
    from tests.factories import ServerFactory

    server = ServerFactory(backend=sandbox_backend, operstate=OperState.STARTED)
    elsewhere = ServerFactory(backend=sandbox_backend, operstate=OperState.STARTED)
    wait_job(create_instance(rapi, f"{ganeti_prefix}-{server.pk}"))
    node = gnt_node_list()
    master = next(name for name, row in node.items() if row["role"] == "M")
    ids = [r["id"] for r in admin.get(f"{ADMIN}/servers?node={master}").json()["results"]]
    assert server.pk in ids and elsewhere.pk not in ids
    assert admin.get(f"{ADMIN}/servers?node=no-such-node").json()["count"] == 0


def test_node_tags_are_ours_and_feed_the_inventory(admin, sandbox_backend):
    master = next(iter(gnt_node_list()))
    url = f"{ADMIN}/nodes/{sandbox_backend.name}/{master}/tags"
    assert admin.put(url, {"tags": ["hypervisor", "storage"]}, format="json").json()["tags"] == ["hypervisor", "storage"]
    assert admin.get(f"{ADMIN}/nodes?tag=storage").json()["nodes"][0]["tags"] == ["hypervisor", "storage"]
    bad = admin.put(url, {"tags": ["Bad Tag!"]}, format="json")
    assert bad.status_code == 400 and "Invalid tag" in bad.json()["badRequest"]["message"]
    assert admin.get(f"{ADMIN}/nodes/{sandbox_backend.name}/{master}").json()["node"]["tags"] == ["hypervisor", "storage"]
    assert admin.put(f"{ADMIN}/nodes/{sandbox_backend.name}/nope/tags", {"tags": []}, format="json").status_code == 404


def test_role_change_is_a_ganeti_job(admin, sandbox_backend, wait_job):
    """Draining the sandbox's only node would break every other session's tests: ask Ganeti to make the
    master "regular", which Ganeti refuses inside the job — proof the request became a real job."""
    master = next(name for name, row in gnt_node_list().items() if row["role"] == "M")
    bad = admin.post(f"{ADMIN}/nodes/{sandbox_backend.name}/{master}/role", {"role": "sleeping"}, format="json")
    assert bad.status_code == 400
    resp = admin.post(f"{ADMIN}/nodes/{sandbox_backend.name}/{master}/role", {"role": "regular"}, format="json")
    assert resp.status_code == 202, resp.content
    job_id = resp.json()["job_id"]
    with pytest.raises(JobFailed) as failed:
        wait_job(job_id)
    assert "master" in str(failed.value).lower()
    assert gnt_node_list()[master]["role"] == "M"
