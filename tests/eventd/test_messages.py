"""Messages built from the real sample job files: status sequences, event times, fields."""

from __future__ import annotations

import json

import pytest

from eventd import jobfile, messages
from tests.eventd.conftest import CLUSTER, SAMPLES, sample_versions


def replay(job_id: int, lookup=None) -> list[dict]:
    """The messages eventd would publish reading every version of a sample job in turn."""
    published: list[str] | None = None
    out = []
    for path in sample_versions(job_id):
        job = jobfile.read(path)
        changed = messages.changed_ops(job, published)
        out.extend(body for _, _, body in messages.op_envelopes(CLUSTER, job, changed, lookup))
        published = [op.status for op in job.ops]
    return out


START = ["queued", "waiting", "running"]


@pytest.mark.parametrize(
    ("job_id", "operation", "target", "final", "times"),
    [
        (2, "OP_INSTANCE_CREATE", "smoke-1", "success",
         [[1795211571, 543977], [1795211571, 697719], [1795211571, 704015], [1795211572, 542520]]),
        (3, "OP_INSTANCE_SHUTDOWN", "smoke-1", "success",
         [[1795211572, 844022], [1795211572, 989010], [1795211573, 1662], [1795211573, 127267]]),
        (4, "OP_INSTANCE_STARTUP", "smoke-1", "success",
         [[1795211573, 386998], [1795211573, 557187], [1795211573, 564313], [1795211573, 811844]]),
        (5, "OP_INSTANCE_REBOOT", "smoke-1", "success",
         [[1795211574, 176862], [1795211574, 344533], [1795211574, 359418], [1795211574, 677101]]),
        (6, "OP_INSTANCE_REMOVE", "smoke-1", "success",
         [[1795211575, 248640], [1795211575, 427679], [1795211575, 436083], [1795211575, 753304]]),
        (7, "OP_NETWORK_ADD", "snf-net-1", "success",
         [[1795211576, 299716], [1795211576, 443890], [1795211576, 458786], [1795211576, 605265]]),
        (8, "OP_NETWORK_CONNECT", "snf-net-1", "success",
         [[1795211576, 647731], [1795211576, 828324], [1795211576, 835528], [1795211576, 918582]]),
        (9, "OP_INSTANCE_CREATE", None, "success",
         [[1795211577, 32565], [1795211577, 187293], [1795211577, 193601], [1795211577, 716448]]),
        (10, "OP_INSTANCE_SHUTDOWN", None, "success",
         [[1795211577, 931278], [1795211578, 85313], [1795211578, 93691], [1795211578, 214566]]),
        (19, "OP_INSTANCE_REBOOT", "snf-1", "error",
         [[1795211589, 979661], [1795211590, 107591], [1795211590, 115380], [1795211590, 198994]]),
    ],
)  # fmt: skip
def test_one_message_per_status_change(job_id, operation, target, final, times):
    bodies = replay(job_id)
    assert [b["status"] for b in bodies] == [*START, final]
    assert [b["job_status"] for b in bodies] == [*START, final]
    assert [b["event_time"] for b in bodies] == times
    assert times == sorted(times)
    assert [b["id"] for b in bodies] == [f"{CLUSTER}:{job_id}:0:{s}" for s in [*START, final]]
    for body in bodies:
        assert body["type"] == "ganeti-op-status"
        assert (body["cluster"], body["job_id"], body["op_index"], body["operation"]) == (CLUSTER, job_id, 0, operation)
        if target is not None:
            assert target in (body["instance"], body["network"])
        json.dumps(body)  # serialisable as is


def test_create_carries_job_fields_reason_and_last_log_line():
    success = replay(2)[-1]
    assert success["job_fields"]["nics"] == [{"mode": "bridged", "link": "br-gnt"}]
    assert success["job_fields"]["beparams"] == {"maxmem": 256, "minmem": 256, "vcpus": 1}
    assert success["job_fields"]["disks"] == []
    assert success["job_fields"]["disk_template"] == "diskless"
    assert success["job_fields"]["os_type"] == "noop"
    assert success["logmsg"] == "* starting instance..."
    assert success["result"] == ["node1.ganeti.test"]
    assert success["reason"][0][0] == "gnt:library:rlib2:instances"
    assert "instance_nics" not in success  # no lookup given


def test_running_message_has_the_log_line_present_at_that_time():
    running = replay(2)[2]
    assert running["status"] == "running" and running["logmsg"] == ""


def test_failed_reboot_carries_ganetis_error():
    error = replay(19)[-1]
    assert error["result"][0] == "HooksAbort"
    assert error["job_fields"]["reboot_type"] == "hard"


def test_network_fields():
    add = replay(7)[-1]
    assert add["network"] == "snf-net-1" and add["instance"] is None
    assert add["job_fields"]["subnet"] == "10.0.1.0/24"
    assert add["job_fields"]["gateway"] == "10.0.1.1"
    connect = replay(8)[-1]
    assert connect["job_fields"]["group_name"] == "default"
    assert connect["job_fields"]["network_link"] == "br-gnt"


def test_live_fields_are_attached_on_success_of_create_only_when_looked_up():
    instance = json.loads((SAMPLES / "instance-after-create.json").read_text())
    asked = []

    def lookup(name):
        asked.append(name)
        return instance

    bodies = replay(9, lookup)
    assert len(asked) == 1  # only for the success message
    success = bodies[-1]
    assert success["instance_nics"] == [
        {
            "index": 0,
            "name": "nic-0",
            "uuid": "a7944ce8-a17e-479d-9c5f-b8acf1debefe",
            "mac": "aa:00:01:ff:55:a7",
            "ip": "10.0.1.2",
            "network": "snf-net-1",
            "network_uuid": "5943b38c-4303-46a4-9ea5-8089d25b1228",
            "mode": "bridged",
            "link": "br-gnt",
            "vlan": None,
        }
    ]
    assert success["instance_disks"] == []
    assert success["instance_beparams"]["maxmem"] == 512
    assert all("instance_nics" not in b for b in bodies[:-1])


def test_no_live_query_for_shutdown_remove_or_errors():
    asked = []
    for job_id in (3, 6, 19):
        replay(job_id, lambda name: asked.append(name))
    assert asked == []


def test_a_failed_lookup_leaves_the_live_fields_out():
    success = replay(4, lambda name: None)[-1]
    assert success["status"] == "success" and "instance_nics" not in success


def test_skipped_statuses_are_not_invented():
    """eventd down while the job ran: one message with the status the file shows now."""
    job = jobfile.read(sample_versions(2)[-1])
    bodies = [b for _, _, b in messages.op_envelopes(CLUSTER, job, messages.changed_ops(job, None))]
    assert [b["status"] for b in bodies] == ["success"]


def multi_op_job(statuses, *, end=None):
    ops = []
    for i, status in enumerate(statuses):
        ts = {"start_timestamp": [100 + i, 0], "exec_timestamp": [100 + i, 5]} if status not in ("queued",) else {}
        if status in ("success",):
            ts["end_timestamp"] = [100 + i, 9]
        ops.append({"input": {"OP_ID": "OP_INSTANCE_STARTUP", "instance_name": f"i{i}"}, "status": status, **ts})
    return jobfile.parse(
        json.dumps({"id": 40, "ops": ops, "received_timestamp": [99, 0], "start_timestamp": [100, 0], "end_timestamp": end})
    )


def test_multi_opcode_job_only_changed_opcodes_and_error_fallback_time():
    job = multi_op_job(["success", "error", "error"], end=[105, 1])
    changed = messages.changed_ops(job, ["success", "running", "queued"])
    assert [op.index for op in changed] == [1, 2]
    bodies = [b for _, _, b in messages.op_envelopes(CLUSTER, job, changed)]
    # opcode 2 never ran: its error time is the job's end
    assert [(b["op_index"], b["status"], b["event_time"], b["job_status"]) for b in bodies] == [
        (1, "error", [105, 1], "error"),
        (2, "error", [105, 1], "error"),
    ]


def test_heartbeat_message():
    body = messages.heartbeat_message(
        CLUSTER, "node1", is_master=True, now_ns=1_700_000_000_123_456_789, started_ns=1_699_999_000_000_000_000,
        spool_depth=3, published=7,
    )  # fmt: skip
    assert body["id"] == f"{CLUSTER}:heartbeat:node1:1700000000123"
    assert body["event_time"] == [1700000000, 123456]
    assert (body["type"], body["is_master"], body["spool_depth"], body["published"]) == ("heartbeat", True, 3, 7)
