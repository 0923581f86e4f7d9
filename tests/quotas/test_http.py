"""Quotas through the HTTP API of the running server: 200 really concurrent creates, 403 bodies.

The API server (a threaded WSGI server in the test process, see conftest; one
database connection per request thread) is hit by many client threads at once;
Ganeti job submission is replaced by a recorder, since this is about the API's
transaction, not about Ganeti (the job end is covered in test_server_lifecycle).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from logic import quotas
from logic.enums import CommissionState, QuotaResource, Role
from logic.models import Commission, Server
from tests.factories import BackendFactory, FlavorFactory, ImageFactory, member_token

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CLIENTS = 40
REQUESTS = 200
LIMIT = 50


@pytest.fixture
def cloud(transactional_db):
    backend = BackendFactory(name="quota-http.example.org")
    token, user, project = member_token(Role.MEMBER)
    return {
        "backend": backend,
        "token": token,
        "user": user,
        "project": project,
        "flavor": FlavorFactory(vcpus=1, ram=128, disk=1),
        "image": ImageFactory(),
    }


def create_body(cloud, name: str) -> dict:
    return {"server": {"name": name, "flavorRef": str(cloud["flavor"].pk), "imageRef": str(cloud["image"].pk)}}


def headers(token: str) -> dict:
    return {"X-Auth-Token": token, "X-OpenStack-Nova-API-Version": "2.1"}


def test_200_concurrent_creates_against_a_quota_of_50(api_server, cloud, fake_jobs):
    quotas.set_limits(cloud["project"], {QuotaResource.SERVERS: LIMIT, QuotaResource.TOTAL_CPU: -1, QuotaResource.CPU: -1})
    url = f"{api_server}/compute/v2.1/servers"
    start = threading.Barrier(CLIENTS)
    local = threading.local()

    def create(i: int) -> requests.Response:
        if i < CLIENTS:
            start.wait(timeout=60)
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        return session.post(url, json=create_body(cloud, f"vm-{i}"), headers=headers(cloud["token"]), timeout=120)

    with ThreadPoolExecutor(CLIENTS) as pool:
        responses = list(pool.map(create, range(REQUESTS)))

    codes = [r.status_code for r in responses]
    assert codes.count(202) == LIMIT, {c: codes.count(c) for c in set(codes)}
    assert codes.count(403) == REQUESTS - LIMIT
    refusal = next(r for r in responses if r.status_code == 403).json()
    assert refusal == {
        "forbidden": {
            "code": 403,
            "message": f"Quota exceeded for instances: Requested 1, but already used {LIMIT} of {LIMIT} instances",
        }
    }
    project = cloud["project"]
    assert quotas.usage(project)[QuotaResource.SERVERS].in_use == LIMIT
    assert Server.objects.filter(project=project).count() == LIMIT  # a refused create wrote nothing
    assert Commission.objects.filter(project=project, state=CommissionState.PENDING, job_id__isnull=False).count() == LIMIT
    assert fake_jobs.count("create_server") == LIMIT

    limits = requests.get(f"{api_server}/compute/v2.1/limits", headers=headers(cloud["token"]), timeout=30).json()
    assert limits["limits"]["absolute"]["maxTotalInstances"] == LIMIT
    assert limits["limits"]["absolute"]["totalInstancesUsed"] == LIMIT


def test_over_the_core_quota_names_cores(api_server, cloud, fake_jobs):
    quotas.set_limits(cloud["project"], {QuotaResource.TOTAL_CPU: 0})
    resp = requests.post(
        f"{api_server}/compute/v2.1/servers", json=create_body(cloud, "vm"), headers=headers(cloud["token"]), timeout=30
    )
    assert resp.status_code == 403
    assert resp.json()["forbidden"]["message"] == "Quota exceeded for cores: Requested 1, but already used 0 of 0 cores"
    assert not Server.objects.filter(project=cloud["project"]).exists()
    assert fake_jobs == []
