"""The messages eventd publishes (the event contract, /work/notes/events-contract.md).

Routing keys: ``ganeti.<cluster>.op`` for opcode status changes,
``ganeti.<cluster>.hook`` for hook reports, ``ganeti.<cluster>.heartbeat``.
Every body is a JSON object with ``type``, ``id`` (unique per event: the dedup key,
also the AMQP ``message_id``) and ``cluster``. ``event_time`` is ``[seconds,
microseconds]`` taken from Ganeti's own timestamps.

``ganeti-op-status`` (one per opcode per status change)::

    {"type": "ganeti-op-status",
     "id": "<cluster>:<job_id>:<op_index>:<status>",
     "cluster": "cluster.ganeti.test", "job_id": 12, "op_index": 0,
     "operation": "OP_INSTANCE_CREATE",
     "instance": "snf-42" | null,          # input instance_name
     "network": "snf-net-3" | null,        # input network_name
     "status": "running",                  # the opcode's status
     "job_status": "running",              # the job's status, derived like Ganeti does
     "event_time": [s, us],
     "logmsg": "last log line or ''",
     "result": <the opcode's result as in the job file; errors are [class, [args...]]>,
     "job_fields": {...},                  # only the keys the opcode's input has (below)
     "reason": [[source, reason, timestamp_ns], ...],
     # only on success of CREATE / STARTUP / SET_PARAMS / REBOOT, when Ganeti could be asked:
     "instance_nics": [{"index", "name", "uuid", "mac", "ip", "network", "network_name", "mode", "link", "vlan"}],
     "instance_disks": [{"index", "size", "template", "name", "uuid"}],
     "instance_beparams": {...}}

Refinements of the contract (documented here, reported to the dispatcher side):

- ``event_time``: a finished opcode uses its end_timestamp, falling back to the
  job's end_timestamp (Ganeti marks the opcodes after a failed one as error
  without timestamps of their own); a running one its exec_timestamp; a waiting
  one its start_timestamp; otherwise the job's received_timestamp. A message
  whose job carries no usable timestamp at all is not built (the file is broken).
- ``job_fields`` also carries, when present in the input: ``start``, ``tags``,
  ``mode``, ``pnode``, ``hypervisor``, ``shutdown_timeout``, ``ignore_secondaries``,
  ``force``; and for network opcodes ``subnet`` (input ``network``), ``gateway``,
  ``network6``, ``gateway6``, ``mac_prefix``, ``add_reserved_ips``,
  ``remove_reserved_ips``, ``group_name``, ``network_mode``, ``network_link``,
  ``network_vlan``. For OP_INSTANCE_SET_PARAMS, ``nics``/``disks`` are Ganeti's
  modification lists ``[[action, index_or_name, params], ...]`` as submitted.
- ``instance_nics[].network`` is the network's name when Ganeti knows it, else its
  uuid, else null; ``network_uuid`` and ``vlan`` are given too.
- ``instance_status`` in hook messages is normalised: Ganeti's ``True``/``False``
  (create hooks) become ``up``/``down``.
- The heartbeat's ``seq`` part of the id is milliseconds since the epoch (unique and
  increasing across restarts); the body also has ``started`` (eventd's start
  time) and ``state`` ("master" | "standby").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bus import topology
from eventd.jobfile import CANCELED, ERROR, FINISHED, RUNNING, SUCCESS, WAITING, Job, OpCode, Timestamp

OP_STATUS = "ganeti-op-status"
HOOK = "ganeti-hook"
HEARTBEAT = "heartbeat"

KIND_OP = "op"
KIND_HOOK = "hook"
KIND_HEARTBEAT = "heartbeat"

# Opcodes whose success makes eventd ask Ganeti for the instance's live NICs/disks/beparams.
LIVE_QUERY_OPS = frozenset({"OP_INSTANCE_CREATE", "OP_INSTANCE_STARTUP", "OP_INSTANCE_SET_PARAMS", "OP_INSTANCE_REBOOT"})

# Input key -> job_fields key (identity except the network's subnet).
JOB_FIELDS: dict[str, str] = {
    key: key
    for key in (
        "nics",
        "disks",
        "beparams",
        "hvparams",
        "osparams",
        "os_type",
        "new_name",
        "reboot_type",
        "disk_template",
        "start",
        "tags",
        "mode",
        "pnode",
        "hypervisor",
        "shutdown_timeout",
        "ignore_secondaries",
        "force",
        "gateway",
        "network6",
        "gateway6",
        "mac_prefix",
        "add_reserved_ips",
        "remove_reserved_ips",
        "group_name",
        "network_mode",
        "network_link",
        "network_vlan",
    )
}
JOB_FIELDS["network"] = "subnet"

Envelope = tuple[str, str, dict[str, Any]]  # (routing key, message id, body)


def routing_key(cluster: str, kind: str) -> str:
    return topology.routing_key(cluster, kind)


def op_event_time(job: Job, op: OpCode) -> Timestamp | None:
    """When this opcode reached its current status, by Ganeti's clocks (see module doc)."""
    if op.status in FINISHED:
        candidates = (op.end_timestamp, job.end_timestamp, op.exec_timestamp, op.start_timestamp)
    elif op.status == RUNNING:
        candidates = (op.exec_timestamp, op.start_timestamp, job.start_timestamp)
    elif op.status == WAITING:
        candidates = (op.start_timestamp, job.start_timestamp)
    else:  # queued, canceling
        candidates = ()
    for ts in (*candidates, job.received_timestamp):
        if ts is not None:
            return ts
    return None


def job_fields(op_input: Mapping[str, Any]) -> dict[str, Any]:
    """The opcode input fields the dispatcher cares about (only those present)."""
    return {out: op_input[key] for key, out in JOB_FIELDS.items() if key in op_input and op_input[key] is not None}


def op_message_id(cluster: str, job_id: int, op_index: int, status: str) -> str:
    return f"{cluster}:{job_id}:{op_index}:{status}"


def op_status_message(cluster: str, job: Job, op: OpCode, live: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The ``ganeti-op-status`` body for ``op`` in its current status (None: no timestamp at all)."""
    event_time = op_event_time(job, op)
    if event_time is None:
        return None
    reason = op.input.get("reason")
    body: dict[str, Any] = {
        "type": OP_STATUS,
        "id": op_message_id(cluster, job.id, op.index, op.status),
        "cluster": cluster,
        "job_id": job.id,
        "op_index": op.index,
        "operation": op.op_id,
        "instance": op.instance,
        "network": op.network,
        "status": op.status,
        "job_status": job.status,
        "event_time": list(event_time),
        "logmsg": op.last_log_message,
        "result": op.result,
        "job_fields": job_fields(op.input),
        "reason": reason if isinstance(reason, list) else [],
    }
    if live:
        body.update(live)
    return body


def wants_live_query(op: OpCode) -> bool:
    """True when the opcode just succeeded and the instance's live NICs/disks should be attached."""
    return op.status == SUCCESS and op.op_id in LIVE_QUERY_OPS and op.instance is not None


def changed_ops(job: Job, published: list[str] | None) -> list[OpCode]:
    """The opcodes whose status differs from what was published for them (all, if nothing was)."""
    published = published or []
    return [op for op in job.ops if op.index >= len(published) or published[op.index] != op.status]


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _at(values: list, index: int) -> Any:
    return values[index] if index < len(values) else None


def live_fields(instance: Mapping[str, Any]) -> dict[str, Any]:
    """``instance_nics``/``instance_disks``/``instance_beparams`` from RAPI's ``GET /2/instances/<name>``.

    RAPI lists each NIC/disk attribute as a parallel list (``nic.macs``, ``nic.ips``...).
    """
    macs = _list(instance.get("nic.macs"))
    ips = _list(instance.get("nic.ips"))
    names = _list(instance.get("nic.names"))
    uuids = _list(instance.get("nic.uuids"))
    modes = _list(instance.get("nic.modes"))
    links = _list(instance.get("nic.links"))
    vlans = _list(instance.get("nic.vlans"))
    networks = _list(instance.get("nic.networks"))
    network_names = _list(instance.get("nic.networks.names"))
    nics = []
    for i in range(len(macs)):
        network_uuid = _at(networks, i)
        nics.append(
            {
                "index": i,
                "name": _at(names, i),
                "uuid": _at(uuids, i),
                "mac": macs[i],
                "ip": _at(ips, i) or None,
                "network": _at(network_names, i) or network_uuid or None,
                "network_uuid": network_uuid or None,
                "mode": _at(modes, i),
                "link": _at(links, i),
                "vlan": _at(vlans, i) or None,
            }
        )
    sizes = _list(instance.get("disk.sizes"))
    disk_names = _list(instance.get("disk.names"))
    disk_uuids = _list(instance.get("disk.uuids"))
    template = instance.get("disk_template")
    disks = [
        {"index": i, "size": size, "template": template, "name": _at(disk_names, i), "uuid": _at(disk_uuids, i)}
        for i, size in enumerate(sizes)
    ]
    beparams = instance.get("beparams")
    return {
        "instance_nics": nics,
        "instance_disks": disks,
        "instance_beparams": dict(beparams) if isinstance(beparams, Mapping) else {},
    }


def op_envelopes(cluster: str, job: Job, ops: list[OpCode], lookup=None) -> list[Envelope]:
    """(routing key, id, body) for each opcode in ``ops``; ``lookup(instance) -> RAPI dict or None``."""
    out: list[Envelope] = []
    key = routing_key(cluster, KIND_OP)
    for op in ops:
        live = None
        if lookup is not None and wants_live_query(op):
            info = lookup(op.instance)
            live = live_fields(info) if info else None
        body = op_status_message(cluster, job, op, live)
        if body is not None:
            out.append((key, body["id"], body))
    return out


def heartbeat_message(
    cluster: str, host: str, *, is_master: bool, now_ns: int, started_ns: int, spool_depth: int, published: int
) -> dict[str, Any]:
    seq = now_ns // 1_000_000
    return {
        "type": HEARTBEAT,
        "id": f"{cluster}:heartbeat:{host}:{seq}",
        "cluster": cluster,
        "host": host,
        "is_master": is_master,
        "state": "master" if is_master else "standby",
        "event_time": [now_ns // 1_000_000_000, (now_ns // 1000) % 1_000_000],
        "started": [started_ns // 1_000_000_000, (started_ns // 1000) % 1_000_000],
        "spool_depth": spool_depth,
        "published": published,
    }


__all__ = [
    "CANCELED",
    "ERROR",
    "HEARTBEAT",
    "HOOK",
    "OP_STATUS",
    "SUCCESS",
    "changed_ops",
    "heartbeat_message",
    "job_fields",
    "live_fields",
    "op_envelopes",
    "op_event_time",
    "op_status_message",
    "routing_key",
]
