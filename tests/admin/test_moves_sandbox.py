"""Migrate and failover requests become real Ganeti jobs (the sandbox has one node, so Ganeti refuses
the move inside the job, with its reason)."""

from __future__ import annotations

import pytest

from logic.enums import OperState
from logic.rapi import JobFailed
from tests.factories import ServerFactory
from tests.fixtures_ganeti import create_instance

pytestmark = [pytest.mark.postgres, pytest.mark.ganeti, pytest.mark.django_db, pytest.mark.usefixtures("ganeti_reset")]


@pytest.fixture
def placed(sandbox_backend, rapi, wait_job):
    server = ServerFactory(backend=sandbox_backend, operstate=OperState.STARTED)
    wait_job(create_instance(rapi, server.ganeti_name))
    return server


@pytest.mark.parametrize("move", ["migrate", "failover"])
def test_a_move_is_a_ganeti_job_with_its_outcome(admin, member, placed, rapi, wait_job, move):
    assert member.post(f"/admin/v1/servers/{placed.pk}/{move}").status_code == 403
    resp = admin.post(f"/admin/v1/servers/{placed.pk}/{move}", {}, format="json")
    assert resp.status_code == 202, resp.content
    job_id = resp.json()["job_id"]
    job = rapi.get_job(job_id)
    assert job["ops"][0]["OP_ID"] == f"OP_INSTANCE_{move.upper()}"
    assert job["ops"][0]["instance_name"] == placed.ganeti_name
    with pytest.raises(JobFailed) as failed:
        wait_job(job_id)
    # one node: nowhere to go, Ganeti says so from inside the job
    assert failed.value.error_type == "OpPrereqError" and "node" in str(failed.value).lower()


def test_moves_refuse_bad_input_and_servers_not_built(admin, placed):
    assert admin.post(f"/admin/v1/servers/{placed.pk}/migrate", {"live": "maybe"}, format="json").status_code == 400
    building = ServerFactory(backend=placed.backend, operstate=OperState.BUILD)
    resp = admin.post(f"/admin/v1/servers/{building.pk}/migrate", {}, format="json")
    assert resp.status_code == 409 and "not built" in resp.json()["conflictingRequest"]["message"]
