"""The compute API's actions charge through logic.servers, and the job ends settle them:
create, stop, start, resize (+ confirm), delete over HTTP, job ends through apply_event."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from logic.enums import OpCode, QuotaResource, Role
from logic.models import Server
from tests.factories import BackendFactory, FlavorFactory, ImageFactory, member_token
from tests.quotas.flow import CLUSTER, figures, finish

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

R = QuotaResource


@pytest.fixture
def api():
    BackendFactory(name=CLUSTER)
    token, user, project = member_token(Role.MEMBER)
    client = APIClient()
    client.credentials(HTTP_X_AUTH_TOKEN=token, HTTP_X_OPENSTACK_NOVA_API_VERSION="2.1")
    client.project, client.user_obj = project, user
    return client


def job_of(server: Server) -> int:
    server.refresh_from_db()
    assert server.task_job_id is not None
    return server.task_job_id


def action(api, server, body) -> None:
    resp = api.post(f"/compute/v2.1/servers/{server.pk}/action", body, format="json")
    assert resp.status_code == 202, resp.json()


def test_lifecycle_over_the_api(api, fake_jobs):
    small = FlavorFactory(vcpus=1, ram=256, disk=2)
    big = FlavorFactory(vcpus=2, ram=512, disk=2)
    body = {"server": {"name": "vm", "flavorRef": str(small.pk), "imageRef": str(ImageFactory().pk)}}
    resp = api.post("/compute/v2.1/servers", body, format="json")
    assert resp.status_code == 202
    server = Server.objects.get(pk=int(resp.json()["server"]["id"]))
    assert figures(api.project)[R.SERVERS] == (0, 1, 0)
    finish(server, OpCode.INSTANCE_CREATE, "success", job_of(server))
    assert figures(api.project)[R.CPU] == (1, 0, 0)

    action(api, server, {"os-stop": None})
    finish(server, OpCode.INSTANCE_SHUTDOWN, "success", job_of(server))
    assert R.CPU not in figures(api.project) and figures(api.project)[R.TOTAL_CPU] == (1, 0, 0)

    action(api, server, {"os-start": None})
    assert figures(api.project)[R.CPU] == (0, 1, 0)
    finish(server, OpCode.INSTANCE_STARTUP, "success", job_of(server))
    assert figures(api.project)[R.CPU] == (1, 0, 0)

    action(api, server, {"resize": {"flavorRef": str(big.pk)}})
    assert figures(api.project)[R.TOTAL_RAM] == (256, 256, 0)
    finish(server, OpCode.INSTANCE_SET_PARAMS, "success", job_of(server), beparams={"vcpus": 2, "maxmem": 512, "minmem": 512})
    assert figures(api.project)[R.TOTAL_RAM] == (512, 0, 0)
    assert figures(api.project)[R.CPU] == (2, 0, 0)

    resp = api.delete(f"/compute/v2.1/servers/{server.pk}")
    assert resp.status_code == 204
    finish(server, OpCode.INSTANCE_REMOVE, "success", job_of(server))
    assert figures(api.project) == {}


def test_start_over_the_running_quota_is_403_and_changes_nothing(api, fake_jobs):
    from logic import quotas

    flavor = FlavorFactory(vcpus=2, ram=256, disk=1)
    resp = api.post(
        "/compute/v2.1/servers",
        {"server": {"name": "vm", "flavorRef": str(flavor.pk), "imageRef": str(ImageFactory().pk)}},
        format="json",
    )
    server = Server.objects.get(pk=int(resp.json()["server"]["id"]))
    finish(server, OpCode.INSTANCE_CREATE, "success", job_of(server))
    action(api, server, {"os-stop": None})
    finish(server, OpCode.INSTANCE_SHUTDOWN, "success", job_of(server))
    quotas.set_limits(api.project, {R.CPU: 1})
    resp = api.post(f"/compute/v2.1/servers/{server.pk}/action", {"os-start": None}, format="json")
    assert resp.status_code == 403
    assert (
        "Quota exceeded for cores of running servers: Requested 2, but already used 0 of 1" in resp.json()["forbidden"]["message"]
    )
    server.refresh_from_db()
    assert server.task is None
    assert fake_jobs.count("start_server") == 0
