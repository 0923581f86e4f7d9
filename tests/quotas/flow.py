"""How the API and the event pipeline drive quotas in these tests.

``op_event`` builds the message eventd publishes when an opcode ends (the
contract in notes/events-contract.md); ``act`` does what ``logic.servers`` does
for an action (charge in the intent's transaction, then record the job id);
``finish`` applies a job's end through the one state-transition function.
"""

from __future__ import annotations

import itertools
import time

from django.db import transaction

from logic import quotas, server_quotas
from logic.enums import OpCode, OperState, ServerTask
from logic.events import apply_event
from logic.models import Server

CLUSTER = "quota-cluster.test"
_clock = itertools.count(int(time.time()) * 1000)


def op_event(server, opcode: str, status: str, job_id: int, *, beparams: dict | None = None) -> dict:
    """The message of opcode ``opcode`` of job ``job_id`` on ``server``'s instance ending with ``status``."""
    tick = next(_clock)  # strictly increasing event times, as Ganeti's timestamps of successive jobs
    msg = {
        "type": "ganeti-op-status",
        "id": f"{CLUSTER}:{job_id}:0:{status}",
        "cluster": CLUSTER,
        "job_id": job_id,
        "op_index": 0,
        "operation": opcode,
        "instance": server.ganeti_name,
        "network": None,
        "status": status,
        "job_status": status,
        "event_time": [tick // 1000, (tick % 1000) * 1000],
        "logmsg": "",
        "result": None if status == "success" else ["OpExecError", ["it failed"]],
        "job_fields": {},
    }
    if beparams:
        msg["instance_beparams"] = beparams
    return msg


JOBS = iter(range(1000, 100000))


def figures(project, user=None) -> dict[str, tuple[int, int, int]]:
    """(committed, pending_up, pending_down) of the non-zero resources."""
    out = {}
    for r, u in quotas.usage(project, user).items():
        if u.committed or u.pending_up or u.pending_down:
            out[r] = (u.committed, u.pending_up, u.pending_down)
    return out


def act(server, charge_fn, task, *args) -> int:
    """What logic.servers does: charge in the intent's transaction, then record the job id."""
    job = next(JOBS)
    with transaction.atomic():
        Server.objects.filter(pk=server.pk).update(task=task, task_job_id=None)
        charge_fn(server, *args)
    server_quotas.bind_job(server, task, job)
    Server.objects.filter(pk=server.pk).update(task_job_id=job)
    return job


def finish(server, opcode, status, job, **kw):
    apply_event(op_event(server, opcode, status, job, **kw))
    server.refresh_from_db()


def built(server) -> None:
    job = act(server, server_quotas.charge_create, ServerTask.BUILD)
    finish(server, OpCode.INSTANCE_CREATE, "success", job)
    assert server.operstate == OperState.STARTED
