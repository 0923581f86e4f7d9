"""``os-simple-tenant-usage`` paging (microversion 2.40) over usage the event pipeline recorded (PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from logic.enums import OpCode, ServerTask
from tests.admin.events import CLUSTER, dispatch, op_event
from tests.factories import BackendFactory, FlavorFactory, ServerFactory

pytestmark = [pytest.mark.postgres]

H = timedelta(hours=1)
URL = "/compute/v2.1/os-simple-tenant-usage"


@pytest.fixture
def period(member, other):
    """Two servers of ``member``'s project and one of ``other``'s, each running 2 h; the query of a period around them."""
    base = (timezone.now() - 30 * H).replace(minute=0, second=0, microsecond=0)
    backend = BackendFactory(name=CLUSTER)
    flavor = FlavorFactory(vcpus=1, ram=256, disk=1)
    servers = []
    for index, client in enumerate((member, member, other)):
        server = ServerFactory(
            backend=backend, flavor=flavor, project=client.project, user=client.user_obj, task=ServerTask.BUILD, task_job_id=1
        )
        name = server.ganeti_name
        dispatch(
            op_event(name, OpCode.INSTANCE_CREATE, 10 * index + 1, base, beparams={"vcpus": 1, "maxmem": 256, "minmem": 256})
        )
        dispatch(op_event(name, OpCode.INSTANCE_REMOVE, 10 * index + 2, base + 2 * H))
        servers.append(server)
    query = {"start": base.replace(tzinfo=None).isoformat(), "end": (base + 10 * H).replace(tzinfo=None).isoformat()}
    return servers, query


def v(version: str) -> dict:
    return {"HTTP_OPENSTACK_API_VERSION": f"compute {version}"}


def test_list_pages_over_servers_from_2_40(admin, period):
    servers, query = period
    first = admin.get(URL, {**query, "detailed": "1", "limit": "2"}, **v("2.40")).json()
    assert sum(len(u["server_usages"]) for u in first["tenant_usages"]) == 2
    assert first["tenant_usages"][0]["total_hours"] == pytest.approx(4)  # the page's servers only
    link = first["tenant_usages_links"][0]
    assert link["rel"] == "next" and f"marker={servers[1].pk}" in link["href"]
    rest = admin.get(URL, {**query, "detailed": "1", "limit": "2", "marker": str(servers[1].pk)}, **v("2.40")).json()
    assert [s["instance_id"] for u in rest["tenant_usages"] for s in u["server_usages"]] == [str(servers[2].pk)]
    assert "tenant_usages_links" not in rest
    assert admin.get(URL, {**query, "marker": "999999"}, **v("2.40")).status_code == 400
    assert admin.get(URL, {**query, "limit": "x"}, **v("2.40")).status_code == 400
    # before 2.40 the parameters mean nothing
    old = admin.get(URL, {**query, "limit": "1"}, **v("2.39")).json()
    assert len(old["tenant_usages"]) == 2 and "tenant_usages_links" not in old


def test_show_pages_over_the_projects_servers(member, period):
    servers, query = period
    url = f"{URL}/{member.project.pk}"
    page = member.get(url, {**query, "limit": "1"}, **v("2.40")).json()
    assert [s["instance_id"] for s in page["tenant_usage"]["server_usages"]] == [str(servers[0].pk)]
    assert f"marker={servers[0].pk}" in page["tenant_usage_links"][0]["href"]
    last = member.get(url, {**query, "limit": "1", "marker": str(servers[0].pk)}, **v("2.40")).json()
    assert [s["instance_id"] for s in last["tenant_usage"]["server_usages"]] == [str(servers[1].pk)]
    assert member.get(url, {**query, "marker": str(servers[2].pk)}, **v("2.40")).status_code == 400  # not this project's


def test_an_empty_project_id_is_a_404(admin, period):
    _, query = period
    assert admin.get(f"{URL}/", query).status_code == 404
    assert admin.get(URL, query).status_code == 200
