"""Resize through the event pipeline: the resize job's end decides VERIFY_RESIZE or the old flavor.

The API writes the intent (task RESIZE, new flavor, old_flavor kept) and submits the
Ganeti modify; the state-transition function (logic.events) applies the job's
outcome. Messages follow the event contract, as eventd publishes them.
"""

from __future__ import annotations

import itertools

import pytest
from django.conf import settings

from logic import events
from logic.enums import OperState
from logic.models import Server, ServerAction
from tests.compute.test_servers_api import set_state

pytestmark = pytest.mark.django_db

_ids = itertools.count(1)
_clock = itertools.count(1_700_000_000)


def op_event(server: Server, job_id: int, status: str, *, result=None, beparams=None) -> dict:
    """An ``OP_INSTANCE_SET_PARAMS`` status message of ``job_id`` (one opcode: the job ends with it)."""
    return {
        "type": "ganeti-op-status",
        "id": f"t-{next(_ids)}",
        "cluster": server.backend.name,
        "instance": f"{settings.CYCLADES['GANETI_PREFIX']}-{server.pk}",
        "operation": "OP_INSTANCE_SET_PARAMS",
        "status": status,
        "job_status": status,
        "job_id": job_id,
        "op_index": 0,
        "event_time": [next(_clock), 0],
        "logmsg": "",
        "result": result,
        "job_fields": {"beparams": beparams} if beparams else {},
    }


def resize(member, server, flavor) -> int:
    resp = member.post(f"/compute/v2.1/servers/{server.pk}/action", {"resize": {"flavorRef": str(flavor.pk)}}, format="json")
    assert resp.status_code == 202, resp.content
    server.refresh_from_db()
    return server.task_job_id


def shown(member, server) -> dict:
    return member.get(f"/compute/v2.1/servers/{server.pk}").json()["server"]


def test_a_successful_resize_job_waits_for_confirmation_then_confirm_keeps_the_new_flavor(
    member, server, jobs, flavor, flavor_alt
):
    set_state(server, OperState.STARTED)
    job_id = resize(member, server, flavor_alt)
    assert shown(member, server)["status"] == "RESIZE"
    events.apply_event(op_event(server, job_id, "running"))
    assert shown(member, server)["status"] == "RESIZE"  # only the end of the job decides

    outcome = events.apply_event(op_event(server, job_id, "success", beparams={"vcpus": 2, "maxmem": 256, "minmem": 256}))
    assert "resize awaits confirmation" in outcome.changes
    body = shown(member, server)
    assert body["status"] == "VERIFY_RESIZE" and body["OS-EXT-STS:vm_state"] == "resized"
    assert body["flavor"]["id"] == str(flavor_alt.pk)
    # a duplicate of the last message changes nothing
    assert events.apply_event(op_event(server, job_id, "success")).status in ("stale", "applied")
    assert shown(member, server)["status"] == "VERIFY_RESIZE"

    resp = member.post(f"/compute/v2.1/servers/{server.pk}/action", {"confirmResize": None}, format="json")
    assert resp.status_code == 204, resp.content
    body = shown(member, server)
    assert body["status"] == "ACTIVE" and body["flavor"]["id"] == str(flavor_alt.pk)
    # the resize job's success arriving again (redelivery) does not bring VERIFY_RESIZE back
    events.apply_event(op_event(server, job_id, "success"))
    assert shown(member, server)["status"] == "ACTIVE"
    server.refresh_from_db()
    assert (server.awaiting_resize_confirm, server.old_flavor_id) == (False, None)


@pytest.mark.parametrize("status", ["error", "canceled"])
def test_a_failed_resize_job_restores_the_old_flavor(member, server, jobs, flavor, flavor_alt, status):
    set_state(server, OperState.STARTED)
    job_id = resize(member, server, flavor_alt)
    server.refresh_from_db()
    assert (server.flavor_id, server.old_flavor_id) == (flavor_alt.pk, flavor.pk)

    result = ["OpPrereqError", ["Not enough memory on node", "insufficient_resources"]] if status == "error" else None
    outcome = events.apply_event(op_event(server, job_id, status, result=result))
    assert "resize failed: old flavor restored" in outcome.changes
    server.refresh_from_db()
    assert (server.flavor_id, server.old_flavor_id, server.awaiting_resize_confirm, server.task) == (flavor.pk, None, False, None)
    body = shown(member, server)
    assert body["status"] == "ACTIVE" and body["flavor"]["id"] == str(flavor.pk)
    action = ServerAction.objects.get(server=server, action="resize")
    assert action.result == "Error" and action.finish_time is not None
    # confirm/revert have nothing to act on
    for name in ("confirmResize", "revertResize"):
        resp = member.post(f"/compute/v2.1/servers/{server.pk}/action", {name: None}, format="json")
        assert resp.status_code == 409


def test_other_jobs_ending_do_not_touch_resize_state(member, server, jobs, flavor, flavor_alt):
    set_state(server, OperState.STARTED)
    job_id = resize(member, server, flavor_alt)
    # an unrelated (operator's) job of the same instance fails: the pending resize is unaffected
    events.apply_event(op_event(server, job_id + 50, "error", result=["OpExecError", ["boom"]]))
    server.refresh_from_db()
    assert (server.flavor_id, server.old_flavor_id, server.awaiting_resize_confirm) == (flavor_alt.pk, flavor.pk, False)
    assert shown(member, server)["status"] == "RESIZE"
