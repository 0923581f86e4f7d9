"""Attach/detach over HTTP with the Ganeti jobs recorded, and job ends applied as Ganeti events.

The real Ganeti path (jobs, eventd, dispatcher) is exercised in test_ganeti_volumes.py; here the
state machine: attaching -> in-use -> detaching -> available, failures to error with the reason,
refusals that change nothing.
"""

from __future__ import annotations

import itertools

import pytest
from django.db import transaction
from django.utils import timezone

from logic import quotas, volume_events, volume_jobs
from logic.enums import OperState, QuotaResource
from logic.event_messages import Event
from logic.models import Volume
from tests.factories import BackendFactory, FlavorFactory, ServerFactory

pytestmark = pytest.mark.django_db

V3 = "/volume/v3"
MV = {"HTTP_X_OPENSTACK_NOVA_API_VERSION": "2.1"}


class Jobs:
    def __init__(self, monkeypatch):
        self.calls, self.ids, self.fail = [], itertools.count(500), None
        for name in ("attach", "detach", "remove"):
            monkeypatch.setattr(volume_jobs, name, self._recorder(name))

    def _recorder(self, name):
        def record(volume, server, **kw):
            if self.fail:
                raise self.fail
            job_id = next(self.ids)
            self.calls.append((name, str(volume.id), server.pk, job_id, kw))
            return job_id

        return record


@pytest.fixture
def jobs(monkeypatch):
    return Jobs(monkeypatch)


@pytest.fixture
def server(member):
    backend = BackendFactory(name="cluster.example.org")
    flavor = FlavorFactory(disk_template="file")
    return ServerFactory(project=member.project, user=member.user_obj, flavor=flavor, backend=backend,
                         operstate=OperState.STOPPED)  # fmt: skip


def end(job_id: int, status: str = "success", result=None, cluster: str = "cluster.example.org"):
    event = Event(type="ganeti-op-status", id=f"e{job_id}{status}", cluster=cluster, event_time=timezone.now(),
                  instance="x", operation="OP_INSTANCE_SET_PARAMS", status=status, job_status=status, job_id=job_id,
                  result=result)  # fmt: skip
    with transaction.atomic():
        return volume_events.apply([event])


def volume(member, size=1):
    return member.post(f"{V3}/volumes", {"volume": {"size": size}}, format="json").json()["volume"]["id"]


def attach(member, server, vol_id):
    return member.post(f"/compute/v2.1/servers/{server.pk}/os-volume_attachments",
                       {"volumeAttachment": {"volumeId": vol_id}}, format="json", **MV)  # fmt: skip


def status(member, vol_id) -> tuple[str, list]:
    body = member.get(f"{V3}/volumes/{vol_id}").json()["volume"]
    return body["status"], body["attachments"]


def test_attach_then_detach_follow_the_job_events(member, server, jobs):
    vol = volume(member)
    resp = attach(member, server, vol)
    assert resp.status_code == 200, resp.content
    assert resp.json()["volumeAttachment"] == {"id": vol, "serverId": str(server.pk), "volumeId": vol, "device": "/dev/vdb"}
    assert status(member, vol) == ("attaching", [])
    name, _, _, job_id, _ = jobs.calls[-1]
    assert name == "attach"
    assert end(job_id + 1000) == []  # another job's end changes nothing
    assert end(job_id, cluster="other.example.org") == []
    assert end(job_id) == [vol]
    assert end(job_id) == []  # a duplicate is harmless
    state, attached = status(member, vol)
    assert state == "in-use" and attached[0]["server_id"] == str(server.pk) and attached[0]["device"] == "/dev/vdb"
    listed = member.get(f"/compute/v2.1/servers/{server.pk}/os-volume_attachments", **MV).json()["volumeAttachments"]
    assert [a["volumeId"] for a in listed] == [vol]

    # attaching an in-use volume, deleting an attached one: refused, nothing changed
    assert attach(member, server, vol).status_code == 400
    assert member.delete(f"{V3}/volumes/{vol}").status_code == 400
    assert len(jobs.calls) == 1

    # without hotplug a disk comes off a stopped server only
    server.operstate = OperState.STARTED
    server.save()
    running = member.delete(f"/compute/v2.1/servers/{server.pk}/os-volume_attachments/{vol}", **MV)
    assert running.status_code == 409 and "stop the server" in running.json()["conflictingRequest"]["message"]
    assert status(member, vol)[0] == "in-use" and len(jobs.calls) == 1
    server.operstate = OperState.STOPPED
    server.save()

    assert member.delete(f"/compute/v2.1/servers/{server.pk}/os-volume_attachments/{vol}", **MV).status_code == 202
    assert status(member, vol)[0] == "detaching"
    end(jobs.calls[-1][3])
    assert status(member, vol) == ("available", [])
    assert Volume.objects.get(pk=vol).has_disk
    # detaching a volume that is not attached
    assert member.delete(f"/compute/v2.1/servers/{server.pk}/os-volume_attachments/{vol}", **MV).status_code == 404


def test_a_failed_job_leaves_error_with_the_reason(member, server, jobs):
    vol = volume(member)
    attach(member, server, vol)
    end(jobs.calls[-1][3], "error", ["OpExecError", ["Disk add failed: no space"]])
    body = member.get(f"{V3}/volumes/{vol}").json()["volume"]
    assert body["status"] == "error" and body["attachments"] == []
    row = Volume.objects.get(pk=vol)
    assert "no space" in row.fault["message"] and row.task is None and row.server_id is None and not row.has_disk


def test_a_failed_submission_is_error_not_attaching(member, server, jobs):
    vol = volume(member)
    jobs.fail = RuntimeError("RAPI unreachable")
    assert attach(member, server, vol).status_code == 200
    row = Volume.objects.get(pk=vol)
    assert row.status == "error" and "RAPI unreachable" in row.fault["message"]


def test_refusals_change_nothing(member, other, server, jobs):
    vol = volume(member)
    theirs = other.post(f"{V3}/volumes", {"volume": {"size": 1}}, format="json").json()["volume"]["id"]
    assert attach(member, server, theirs).status_code == 404  # another project's volume
    assert attach(other, server, vol).status_code == 404  # another project's server
    diskless = ServerFactory(project=member.project, user=member.user_obj, backend=server.backend, operstate=OperState.STARTED)
    assert attach(member, diskless, vol).status_code == 409
    building = ServerFactory(project=member.project, user=member.user_obj, flavor=server.flavor, backend=server.backend)
    assert attach(member, building, vol).status_code == 409
    sharedfile = ServerFactory(project=member.project, user=member.user_obj, flavor=FlavorFactory(disk_template="sharedfile"),
                               backend=server.backend, operstate=OperState.STOPPED)  # fmt: skip
    mismatch = attach(member, sharedfile, vol)  # a file volume on a sharedfile instance
    assert mismatch.status_code == 400 and "own template" in mismatch.json()["badRequest"]["message"]
    assert jobs.calls == [] and Volume.objects.get(pk=vol).status == "available"


def test_deleting_a_held_disk_is_a_job_and_frees_quota_when_it_ends(member, server, jobs):
    vol = volume(member, 3)
    attach(member, server, vol)
    end(jobs.calls[-1][3])
    member.delete(f"/compute/v2.1/servers/{server.pk}/os-volume_attachments/{vol}", **MV)
    end(jobs.calls[-1][3])
    assert member.delete(f"{V3}/volumes/{vol}").status_code == 202
    name, _, through, job_id, kw = jobs.calls[-1]
    assert (name, through, kw) == ("remove", server.pk, {"attached": False})
    assert status(member, vol)[0] == "deleting"
    figures = quotas.usage(member.project)
    assert figures[QuotaResource.VOLUMES].in_use == 1  # freed only when the job succeeds
    end(job_id)
    assert member.get(f"{V3}/volumes/{vol}").status_code == 404
    figures = quotas.usage(member.project)
    assert (figures[QuotaResource.VOLUMES].in_use, figures[QuotaResource.VOLUME_GB].in_use) == (0, 0)


def test_deleting_a_server_detaches_its_volumes_first(member, server, jobs, monkeypatch):
    from logic.servers import volumes as server_volumes

    chains = []
    monkeypatch.setattr(server_volumes, "destroy_keeping", lambda srv, keep: chains.append([str(v.id) for v in keep]) or 900)
    keep, gone = volume(member, 1), volume(member, 2)
    for vol in (keep, gone):
        attach(member, server, vol)
        end(jobs.calls[-1][3])
    Volume.objects.filter(pk=gone).update(delete_on_termination=True)
    assert member.delete(f"/compute/v2.1/servers/{server.pk}", **MV).status_code == 204
    assert chains == [[keep]]
    assert status(member, keep)[0] == "detaching" and status(member, gone)[0] == "in-use"
    row = Volume.objects.get(pk=keep)
    # the detach job's end matches by the request id in its reason, before its id is recorded
    event = Event(type="ganeti-op-status", id="d", cluster="cluster.example.org", event_time=timezone.now(),
                  instance=server.ganeti_name, operation="OP_INSTANCE_SET_PARAMS", status="success",
                  job_status="success", job_id=901, request_ids=frozenset({row.task_request_id}))  # fmt: skip
    removed = Event(type="ganeti-op-status", id="r", cluster="cluster.example.org", event_time=timezone.now(),
                    instance=server.ganeti_name, operation="OP_INSTANCE_REMOVE", status="success",
                    job_status="success", job_id=900)  # fmt: skip
    with transaction.atomic():
        volume_events.apply([event, removed])
    assert status(member, keep) == ("available", [])
    assert member.get(f"{V3}/volumes/{gone}").status_code == 404
    figures = quotas.usage(member.project)
    assert (figures[QuotaResource.VOLUMES].in_use, figures[QuotaResource.VOLUME_GB].in_use) == (1, 1)


def test_a_server_is_not_deleted_while_a_volume_is_between_states(member, server, jobs):
    vol = volume(member)
    attach(member, server, vol)  # attaching: its job has not ended
    resp = member.delete(f"/compute/v2.1/servers/{server.pk}", **MV)
    assert resp.status_code == 409 and status(member, vol)[0] == "attaching"
    server.refresh_from_db()
    assert server.task is None and not server.deleted
