"""State transitions per opcode and status, from messages built from the real sample job files."""

from __future__ import annotations

import copy

import pytest

from logic.enums import JobStatus, OpCode, OperState, ServerTask
from logic.event_messages import InvalidEvent, parse_event
from logic.events import apply_event
from logic.models import ClusterHeartbeat, Server, ServerAction
from logic.server_status import server_status
from tests.factories import FlavorFactory
from tests.pipeline.jobevents import CLUSTER, SAMPLE_NIC, job_messages

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def feed(messages):
    return [apply_event(m) for m in messages]


def reload(server) -> Server:
    return Server.objects.get(pk=server.pk)


def test_create_success_starts_the_server_with_ganetis_nics(make_server):
    server = make_server(task=ServerTask.BUILD, task_job=9)
    messages = job_messages(9, instance=server.ganeti_name)
    running = [m for m in messages if m["status"] != "success"]
    feed(running)
    s = reload(server)
    assert (s.operstate, s.backend_jobstatus, server_status(s)) == (OperState.BUILD, "running", "BUILD")

    outcome = apply_event(messages[-1])
    assert outcome.applied
    s = reload(server)
    assert (s.operstate, server_status(s), s.task, s.task_job_id) == (OperState.STARTED, "ACTIVE", None, None)
    assert s.launched_at is not None and s.build_percentage == 100
    assert s.backend_logmsg == "* starting instance..."
    nic = s.nics.get()
    assert (nic.mac, nic.ipv4, nic.network_name, nic.link) == (SAMPLE_NIC["mac"], "10.0.1.2", "snf-net-1", "br-gnt")
    action = ServerAction.objects.get(server=s, job_id=9)
    assert action.result == "Success" and action.finish_time == s.backendtime


def test_shutdown_startup_reboot_remove_follow_the_opcodes(make_server):
    server = make_server(task=ServerTask.BUILD, task_job=2)
    feed(job_messages(2, instance=server.ganeti_name))
    assert reload(server).operstate == OperState.STARTED
    feed(job_messages(3, instance=server.ganeti_name))
    assert server_status(reload(server)) == "SHUTOFF"
    feed(job_messages(4, instance=server.ganeti_name))
    assert server_status(reload(server)) == "ACTIVE"

    reboot = job_messages(5, instance=server.ganeti_name)
    feed(reboot[:-1])  # queued, waiting, running: an operator's reboot (no task of ours)
    s = reload(server)
    assert (server_status(s), s.task, s.backend_reboot_type) == ("HARD_REBOOT", None, "hard")
    feed(reboot[-1:])
    s = reload(server)
    assert (server_status(s), s.task) == ("ACTIVE", None)

    assert s.nics.count() == 1
    feed(job_messages(6, instance=server.ganeti_name))
    s = reload(server)
    assert (s.operstate, s.deleted, server_status(s), s.nics.count()) == (OperState.DESTROYED, True, "DELETED", 0)
    assert s.terminated_at == s.backendtime


def test_soft_reboot_in_progress_shows_reboot(make_server):
    server = make_server(task=None, operstate=OperState.STARTED)
    running = [m for m in job_messages(5, instance=server.ganeti_name) if m["status"] == "running"][0]
    running["job_fields"]["reboot_type"] = "soft"
    apply_event(running)
    assert server_status(reload(server)) == "REBOOT"


def test_api_task_is_kept_until_its_job_ends_and_the_action_is_finished(make_server):
    server = make_server(task=ServerTask.STOP, task_job=3, operstate=OperState.STARTED)
    messages = job_messages(3, instance=server.ganeti_name)
    feed(messages[:-1])
    s = reload(server)
    assert (s.task, s.task_job_id, s.operstate) == (ServerTask.STOP, 3, OperState.STARTED)
    feed(messages[-1:])
    s = reload(server)
    assert (s.task, s.operstate) == (None, OperState.STOPPED)
    assert ServerAction.objects.get(server=s).result == "Success"


def test_failed_reboot_clears_the_task_records_the_error_and_keeps_the_state(make_server):
    server = make_server(task=ServerTask.BUILD, task_job=9)
    feed(job_messages(9, instance=server.ganeti_name))
    feed(job_messages(10, instance=server.ganeti_name))
    Server.objects.filter(pk=server.pk).update(task=ServerTask.REBOOT_HARD, task_job_id=19)
    ServerAction.objects.create(server=server, action="reboot", request_id="r", user_id="u", project_id="p", job_id=19)
    feed(job_messages(19, instance=server.ganeti_name))
    s = reload(server)
    assert (s.operstate, s.task, s.backend_jobstatus) == (OperState.STOPPED, None, JobStatus.ERROR)
    assert "HooksAbort" in s.backend_logmsg and "refusing" in s.backend_logmsg
    action = ServerAction.objects.get(server=s, job_id=19)
    assert action.result == "Error" and "refusing" in action.message
    assert s.fault is None


def _failed(message: dict, result, *, operation: str | None = None) -> dict:
    failed = copy.deepcopy(message)
    failed.update(status="error", job_status="error", result=result, id=message["id"].replace("success", "error"))
    failed.pop("instance_nics", None)
    failed.pop("instance_beparams", None)
    if operation:
        failed["operation"] = operation
    return failed


def test_create_error_puts_the_server_in_error_with_the_fault(make_server):
    server = make_server(task=ServerTask.BUILD, task_job=2)
    messages = job_messages(2, instance=server.ganeti_name)
    feed(messages[:-1])
    apply_event(_failed(messages[-1], ["OpPrereqError", ["Not enough memory on node1", "insufficient_resources"]]))
    s = reload(server)
    assert (s.operstate, server_status(s), s.task) == (OperState.ERROR, "ERROR", None)
    assert "Not enough memory" in s.fault["message"] and s.fault["code"] == 500
    assert ServerAction.objects.get(server=s).result == "Error"


def test_instance_not_found_error_destroys_the_server(make_server):
    server = make_server(task=ServerTask.STOP, task_job=3, operstate=OperState.STARTED)
    ServerFactoryNIC = server.nics.model
    ServerFactoryNIC.objects.create(server=server, index=0, mac="aa:00:00:00:00:01", ipv4="10.0.0.9")
    last = job_messages(3, instance=server.ganeti_name)[-1]
    apply_event(_failed(last, ["OpPrereqError", [f"Instance '{server.ganeti_name}' not known", "unknown_entity"]]))
    s = reload(server)
    assert (s.operstate, s.deleted, s.task, s.nics.count()) == (OperState.DESTROYED, True, None, 0)


def test_other_errors_about_other_names_do_not_destroy(make_server):
    server = make_server(task=None, operstate=OperState.STARTED)
    last = job_messages(3, instance=server.ganeti_name)[-1]
    apply_event(_failed(last, ["OpPrereqError", ["Network 'foo' not known", "unknown_entity"]]))
    assert reload(server).operstate == OperState.STARTED


def test_a_late_error_never_overwrites_a_finished_remove(make_server):
    server = make_server(task=None, operstate=OperState.STARTED)
    feed(job_messages(6, instance=server.ganeti_name))
    later = job_messages(4, instance=server.ganeti_name)[-1]
    later["event_time"] = [later["event_time"][0] + 100, 0]
    late_error = _failed(later, ["OpExecError", ["Could not start instance"]])
    apply_event(late_error)
    late_success = copy.deepcopy(later)  # even a (bogus) later start cannot resurrect it
    apply_event(late_success)
    s = reload(server)
    assert (s.operstate, s.deleted, s.nics.count()) == (OperState.DESTROYED, True, 0)


def test_duplicates_and_older_events_change_nothing(make_server):
    server = make_server(task=ServerTask.BUILD, task_job=2)
    create = job_messages(2, instance=server.ganeti_name)
    shutdown = job_messages(3, instance=server.ganeti_name)
    feed(create + shutdown)
    before = reload(server)
    outcomes = feed(create + shutdown)
    assert {o.status for o in outcomes} == {"stale"}
    after = reload(server)
    assert (after.operstate, after.backendtime, after.updated_at) == (OperState.STOPPED, before.backendtime, before.updated_at)


def test_events_for_names_that_are_not_ours_are_ignored(make_server):
    server = make_server(task=None)
    for name in ("smoke-1", "snf-1x", f"{server.ganeti_name}0x", None):
        msg = job_messages(3, instance=name)[-1]
        assert apply_event(msg).status == "ignored"
    msg = job_messages(3, instance=server.ganeti_name, cluster="other.cluster")[-1]
    assert apply_event(msg).status == "ignored"
    assert reload(server).operstate == OperState.BUILD


def test_flavor_follows_beparams_when_a_flavor_matches(make_server, flavor):
    bigger = FlavorFactory(vcpus=2, ram=512, disk=flavor.disk)
    server = make_server(task=None, operstate=OperState.STOPPED)
    msg = copy.deepcopy(job_messages(4, instance=server.ganeti_name)[-1])
    msg.update(operation=OpCode.INSTANCE_SET_PARAMS, job_fields={"beparams": {"vcpus": 2, "maxmem": 512}})
    msg["instance_beparams"] = {"vcpus": 2, "maxmem": 512, "minmem": 512}
    apply_event(msg)
    s = reload(server)
    assert (s.flavor_id, s.operstate) == (bigger.pk, OperState.STOPPED)
    msg2 = copy.deepcopy(msg)
    msg2["event_time"][0] += 1
    msg2["instance_beparams"] = {"vcpus": 3, "maxmem": 999}
    apply_event(msg2)
    assert reload(server).flavor_id == bigger.pk  # no flavor matches: left as is (reconcile reports it)


def test_hook_reports_sync_nics(make_server):
    server = make_server(task=None, operstate=OperState.STARTED)
    hook = {
        "type": "ganeti-hook",
        "id": f"{CLUSTER}:hook:instance-add:{server.ganeti_name}:1",
        "cluster": CLUSTER,
        "hook": "instance-add",
        "phase": "post",
        "operation": "OP_INSTANCE_CREATE",
        "status": "success",
        "instance": server.ganeti_name,
        "event_time": [1795211577, 700000],
        "nics": [dict(SAMPLE_NIC, ip="10.0.1.7", mac="aa:00:01:00:00:07")],
        "beparams": {"vcpus": 1, "maxmem": 256},
    }
    assert apply_event(hook).applied
    nic = reload(server).nics.get()
    assert (nic.ipv4, nic.mac) == ("10.0.1.7", "aa:00:01:00:00:07")


def test_heartbeats_keep_the_newest_per_cluster(db):
    beat = {
        "type": "heartbeat",
        "id": "c:heartbeat:node1:2",
        "cluster": "c",
        "host": "node1",
        "is_master": True,
        "event_time": [1795211600, 0],
        "spool_depth": 3,
        "published": 10,
    }
    assert apply_event(beat).status == "heartbeat"
    older = dict(beat, id="c:heartbeat:node1:1", event_time=[1795211500, 0], published=5)
    assert apply_event(older).status == "stale"
    row = ClusterHeartbeat.objects.get(cluster="c")
    assert (row.host, row.spool_depth, row.published) == ("node1", 3, 10)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": "bogus"}, "unknown message type"),
        ({"event_time": "yesterday"}, "event_time"),
        ({"event_time": [1, 2, 3]}, "event_time"),
        ({"job_id": "12"}, "job_id"),
        ({"status": "cancelled"}, "status"),
        ({"cluster": ""}, "cluster"),
        ({"operation": None}, "operation"),
        ({"instance_nics": "eth0"}, "instance_nics"),
    ],
)
def test_messages_that_break_the_contract_are_refused(change, reason):
    msg = dict(job_messages(2, instance="x-1")[-1], **change)
    with pytest.raises(InvalidEvent, match=reason):
        parse_event(msg)


def test_snapshots_are_not_accepted_from_the_bus():
    snap = {
        "type": "ganeti-instance-snapshot",
        "id": "x",
        "cluster": "c",
        "event_time": [1, 0],
        "instance": "a-1",
        "oper_state": "up",
    }
    with pytest.raises(InvalidEvent, match="unknown message type"):
        parse_event(snap)
    assert parse_event(snap, allowed_types=frozenset({"ganeti-instance-snapshot"})).oper_state == "up"
