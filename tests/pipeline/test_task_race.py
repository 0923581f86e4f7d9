"""The job can end before the API records its id: the task is matched by the request id.

The API commits the server's task (task, task_request_id), then submits the
Ganeti job, then records task_job_id. If the job's success event is applied in
between, the event must still clear the task: the RAPI client puts the request
id into Ganeti's reason trail (``reason=<text> <request id>``, recorded by Ganeti
as a ``gnt:user`` entry), and eventd forwards the trail in every op-status event.
"""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from bus import Message, topology
from dispatcher.batch import handle_batch
from logic import server_quotas
from logic.enums import CommissionState, OperState, ServerTask
from logic.event_messages import request_ids_in
from logic.events import apply_event
from logic.models import Commission, Server, ServerAction
from tests.pipeline.jobevents import job_messages

REQUEST = "req-2b4c1f4e-8d43-4a43-9c55-2f7e3d1b0a11"
OTHER_REQUEST = "req-99999999-8d43-4a43-9c55-2f7e3d1b0a11"
STARTUP_JOB = 4  # samples/job-queue/job-4.*: OP_INSTANCE_STARTUP


def trail(request_id: str | None, job_id: int) -> list:
    """Ganeti's reason trail of a job submitted through the RAPI (the shape the sandbox records)."""
    entries = [["gnt:user", f"start server {request_id}", 1795211573385061000]] if request_id else []
    return entries + [
        ["gnt:library:rlib2:instances_name_startup", "", 1795211573385061120],
        ["gnt:opcode:instance_startup", f"job={job_id};index=0", 1795211573386998000],
    ]


def startup_events(server: Server, job_id: int, request_id: str | None) -> list[dict]:
    messages = job_messages(STARTUP_JOB, instance=server.ganeti_name, job_id=job_id)
    for m in messages:
        m["reason"] = trail(request_id, job_id)
    return messages


def apply_alone(messages: list[dict]) -> None:
    for m in messages:
        apply_event(m)


def apply_as_batch(messages: list[dict]) -> None:
    batch = [
        Message(json.dumps(m).encode(), "ganeti.c.op", topology.EVENTS_QUEUE, i, False, m["id"]) for i, m in enumerate(messages)
    ]
    assert handle_batch(batch) == [None] * len(batch)


@pytest.fixture
def start_requested(make_server):
    """A stopped server whose start the API committed (task, request id, charge, action log) but whose job id is not recorded yet."""
    server = make_server(task=ServerTask.START, task_job=None, task_request_id=REQUEST, operstate=OperState.STOPPED)
    ServerAction.objects.create(server=server, action="start", request_id=REQUEST, user_id="u", project_id="p")
    with transaction.atomic():
        server_quotas.charge_start(server, request_id=REQUEST)
    return server


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("apply", [apply_alone, apply_as_batch], ids=["alone", "batch"])
def test_the_job_ends_before_its_id_is_recorded_and_still_clears_the_task(start_requested, apply):
    server = start_requested
    apply(startup_events(server, 77, REQUEST))

    row = Server.objects.get(pk=server.pk)
    assert (row.operstate, row.task, row.task_job_id, row.task_request_id) == (OperState.STARTED, None, None, None)
    action = ServerAction.objects.get(server=server, request_id=REQUEST)
    assert (action.job_id, action.result) == (77, "Success") and action.finish_time is not None
    commission = Commission.objects.get(server=server, action=ServerTask.START)
    assert commission.state == CommissionState.ACCEPTED

    # Then the API records the job id, as logic.servers.submit.submit_job does: conditionally, on the task it wrote.
    recorded = Server.objects.filter(pk=server.pk, task=ServerTask.START, task_request_id=REQUEST).update(task_job_id=77)
    assert recorded == 0
    assert Server.objects.get(pk=server.pk).task is None


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("request_id", [None, OTHER_REQUEST], ids=["operator-job", "another-request"])
def test_another_job_ending_meanwhile_leaves_the_task_pending(start_requested, request_id):
    server = start_requested
    apply_alone(startup_events(server, 76, request_id))  # e.g. an operator's gnt-instance startup

    row = Server.objects.get(pk=server.pk)
    assert (row.operstate, row.task, row.task_request_id) == (OperState.STARTED, ServerTask.START, REQUEST)
    assert ServerAction.objects.get(server=server, request_id=REQUEST).finish_time is None

    # the API records the job id of its own job; that job's end then clears the task as usual
    assert Server.objects.filter(pk=server.pk, task=ServerTask.START, task_request_id=REQUEST).update(task_job_id=77) == 1
    ServerAction.objects.filter(server=server, request_id=REQUEST).update(job_id=77)
    apply_alone(startup_events(server, 77, REQUEST))
    assert Server.objects.get(pk=server.pk).task is None
    assert ServerAction.objects.get(server=server, request_id=REQUEST).result == "Success"


def test_request_ids_are_read_only_from_the_users_part_of_the_trail():
    assert request_ids_in(trail(REQUEST, 5)) == {REQUEST}
    assert request_ids_in([["gnt:user", f"{REQUEST} {OTHER_REQUEST}", 1]]) == {REQUEST, OTHER_REQUEST}
    # Ganeti's own entries, other sources, malformed trails: nothing, and no error
    assert request_ids_in([["gnt:opcode:instance_startup", REQUEST, 1]]) == set()
    assert request_ids_in([["gnt:user", "req-not-a-uuid", 1]]) == set()
    for broken in (None, "text", [None], [["gnt:user"]], [["gnt:user", 5, 1]]):
        assert request_ids_in(broken) == set()


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_api_does_not_bring_back_a_task_whose_job_already_ended(start_requested):
    """logic.servers records the job id only while its task is still pending on that request."""
    from logic.servers.submit import submit_job

    server = start_requested

    def submit_and_finish_at_once() -> int:
        apply_alone(startup_events(server, 78, REQUEST))  # the events win the race
        return 78

    assert submit_job(server, ServerTask.START, REQUEST, submit_and_finish_at_once) == 78
    row = Server.objects.get(pk=server.pk)
    assert (row.operstate, row.task, row.task_job_id) == (OperState.STARTED, None, None)
    assert server.task_job_id is None
    action = ServerAction.objects.get(server=server, request_id=REQUEST)
    assert (action.job_id, action.result) == (78, "Success")


def reinstall_job(job_id: int, name: str, end: list[int]) -> dict:
    """Ganeti's record of a finished rebuild: shutdown, reinstall, startup (the RAPI gives it no reason trail)."""
    from tests.pipeline.fakecluster import job

    record = job(job_id, "OP_INSTANCE_SHUTDOWN", name, "success", end)
    record["ops"] = [
        {"OP_ID": op, "instance_name": name} for op in ("OP_INSTANCE_SHUTDOWN", "OP_INSTANCE_REINSTALL", "OP_INSTANCE_STARTUP")
    ]
    record.update(opstatus=["success"] * 3, opresult=[None] * 3, oplog=[[], [], []])
    return record


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("ended", [True, False], ids=["job-ended", "job-still-running"])
def test_a_job_without_request_ids_that_ends_first_is_settled_when_its_id_is_recorded(make_server, monkeypatch, ended):
    """A rebuild's job carries no request id: if its events win the race, recording the id settles it from Ganeti's record."""
    import contextlib

    from logic import reconcile
    from logic.event_messages import timestamp_pair
    from logic.servers.submit import submit_job
    from tests.pipeline.fakecluster import FakeCluster

    server = make_server(task=ServerTask.REBUILD, task_job=None, task_request_id=REQUEST, operstate=OperState.STARTED)
    ServerAction.objects.create(server=server, action="rebuild", request_id=REQUEST, user_id="u", project_id="p")
    end = list(timestamp_pair(server.created_at))
    record = reinstall_job(79, server.ganeti_name, end)
    cluster = FakeCluster(jobs={79: record if ended else {**record, "status": "running"}})
    monkeypatch.setattr("logic.backends.client_for", lambda backend: contextlib.nullcontext(cluster))

    def submit_and_finish_at_once() -> int:
        outcomes = [apply_event(body) for body in reconcile.job_events(server.backend.name, server.ganeti_name, record)]
        assert outcomes[0].applied  # the events win the race, unmatched
        assert Server.objects.get(pk=server.pk).task == ServerTask.REBUILD
        return 79

    assert submit_job(server, ServerTask.REBUILD, REQUEST, submit_and_finish_at_once) == 79
    row = Server.objects.get(pk=server.pk)
    action = ServerAction.objects.get(server=server, request_id=REQUEST)
    if ended:
        assert (row.task, row.task_job_id, row.operstate) == (None, None, OperState.STARTED)
        assert (action.job_id, action.result) == (79, "Success") and action.finish_time is not None
    else:  # its end is still to come and will match by the recorded id
        assert (row.task, row.task_job_id) == (ServerTask.REBUILD, 79)
        assert action.finish_time is None
