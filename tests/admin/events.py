"""Contract messages with chosen event times, applied through the dispatcher's batch function."""

from __future__ import annotations

import json
from datetime import datetime

from bus import Message, topology
from dispatcher.batch import handle_batch
from logic.event_messages import timestamp_pair

CLUSTER = "cluster.ganeti.test"


def op_event(instance: str, operation: str, job_id: int, at: datetime, *, beparams: dict | None = None) -> dict:
    """A successful one-opcode job's end, as eventd publishes it."""
    body = {
        "type": "ganeti-op-status",
        "id": f"{CLUSTER}:{job_id}:0:success",
        "cluster": CLUSTER,
        "job_id": job_id,
        "op_index": 0,
        "operation": operation,
        "instance": instance,
        "status": "success",
        "job_status": "success",
        "event_time": timestamp_pair(at),
        "logmsg": "",
        "result": None,
        "job_fields": {},
        "reason": [],
    }
    if beparams is not None:
        body["instance_beparams"] = beparams
    return body


def dispatch(*bodies: dict) -> None:
    """Apply the messages as one dispatcher batch (each must commit)."""
    batch = [
        Message(json.dumps(b).encode(), "ganeti.c.op", topology.EVENTS_QUEUE, i, False, b["id"]) for i, b in enumerate(bodies)
    ]
    assert handle_batch(batch) == [None] * len(batch)
