"""Reading Ganeti job files (``<queue>/job-<id>``): JSON written by Ganeti via rename.

A job file holds the job id, the received/start/end timestamps of the job and,
for every opcode, its input (``OP_ID`` and the parameters), status, result, log
lines and start/exec/end timestamps. Timestamps are ``[seconds, microseconds]``.
The job's own status is not stored: Ganeti derives it from the opcodes, and so do
we (:func:`job_status`).

Parsing is defensive: a file that is empty, truncated, not JSON or not shaped
like a job raises :class:`JobFileError` (the caller logs and waits for the next
rewrite); a file that vanished (archived between the event and the read)
yields ``None`` from :func:`read`.

Statuses are spelled here rather than imported from ``logic.enums`` because
eventd runs without Django on the Ganeti master; the values are Ganeti's own.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

QUEUED = "queued"
WAITING = "waiting"
RUNNING = "running"
CANCELING = "canceling"
CANCELED = "canceled"
SUCCESS = "success"
ERROR = "error"
OP_STATUSES = frozenset({QUEUED, WAITING, RUNNING, CANCELING, CANCELED, SUCCESS, ERROR})
FINISHED = frozenset({SUCCESS, ERROR, CANCELED})

JOB_FILE_RE = re.compile(r"^job-(\d+)$")

Timestamp = tuple[int, int]


class JobFileError(ValueError):
    """The file is not a (complete) Ganeti job file."""


@dataclass(frozen=True)
class OpCode:
    """One opcode of a job, as the job file shows it now."""

    index: int
    op_id: str
    status: str
    input: dict[str, Any]
    result: Any
    log: list[Any]
    start_timestamp: Timestamp | None
    exec_timestamp: Timestamp | None
    end_timestamp: Timestamp | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def instance(self) -> str | None:
        name = self.input.get("instance_name")
        return name if isinstance(name, str) and name else None

    @property
    def network(self) -> str | None:
        name = self.input.get("network_name")
        return name if isinstance(name, str) and name else None

    @property
    def last_log_message(self) -> str:
        """The text of the opcode's last log line ('' when there is none)."""
        if not self.log:
            return ""
        entry = self.log[-1]
        # [serial, [s, us], type, message]; a message may be structured (not a str).
        message = entry[3] if isinstance(entry, list | tuple) and len(entry) >= 4 else entry
        return message if isinstance(message, str) else json.dumps(message, sort_keys=True, default=str)


@dataclass(frozen=True)
class Job:
    """A parsed job file."""

    id: int
    ops: list[OpCode]
    received_timestamp: Timestamp | None
    start_timestamp: Timestamp | None
    end_timestamp: Timestamp | None
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def status(self) -> str:
        return job_status([op.status for op in self.ops])

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


def job_status(op_statuses: list[str]) -> str:
    """The whole job's status from its opcodes' statuses, the way Ganeti derives it.

    All opcodes succeeded → success; the first error/canceling/canceled opcode
    decides; otherwise running beats waiting beats queued.
    """
    if op_statuses and all(s == SUCCESS for s in op_statuses):
        return SUCCESS
    status = QUEUED
    for s in op_statuses:
        if s in (ERROR, CANCELING, CANCELED):
            return s
        if s == RUNNING:
            status = RUNNING
        elif s == WAITING and status == QUEUED:
            status = WAITING
    return status


def job_id_from_name(name: str) -> int | None:
    """``job-12`` → 12; anything else (temporary files, ``lock``, ``serial``) → None."""
    match = JOB_FILE_RE.match(name)
    return int(match.group(1)) if match else None


def _timestamp(value: Any, what: str) -> Timestamp | None:
    if value is None:
        return None
    if isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return (value[0], value[1])
    raise JobFileError(f"{what}: expected [seconds, microseconds], got {value!r}")


def _opcode(index: int, raw: Any) -> OpCode:
    if not isinstance(raw, dict):
        raise JobFileError(f"opcode {index}: expected an object")
    op_input = raw.get("input")
    if not isinstance(op_input, dict):
        raise JobFileError(f"opcode {index}: no input")
    op_id = op_input.get("OP_ID")
    if not isinstance(op_id, str) or not op_id:
        raise JobFileError(f"opcode {index}: no OP_ID")
    status = raw.get("status")
    if status not in OP_STATUSES:
        raise JobFileError(f"opcode {index}: unknown status {status!r}")
    log = raw.get("log")
    log = [] if log is None else log
    if not isinstance(log, list):
        raise JobFileError(f"opcode {index}: log is not a list")
    return OpCode(
        index=index,
        op_id=op_id,
        status=status,
        input=op_input,
        result=raw.get("result"),
        log=log,
        start_timestamp=_timestamp(raw.get("start_timestamp"), f"opcode {index} start_timestamp"),
        exec_timestamp=_timestamp(raw.get("exec_timestamp"), f"opcode {index} exec_timestamp"),
        end_timestamp=_timestamp(raw.get("end_timestamp"), f"opcode {index} end_timestamp"),
    )


def parse(data: bytes | str) -> Job:
    """Parse a job file's content or raise :class:`JobFileError` saying what is wrong."""
    if not data or not data.strip():
        raise JobFileError("empty file")
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise JobFileError(f"not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise JobFileError("not a JSON object")
    job_id = raw.get("id")
    if isinstance(job_id, str) and job_id.isdigit():  # older Ganeti spelled ids as strings
        job_id = int(job_id)
    if not isinstance(job_id, int) or isinstance(job_id, bool) or job_id < 0:
        raise JobFileError(f"bad job id {job_id!r}")
    ops = raw.get("ops")
    if not isinstance(ops, list) or not ops:
        raise JobFileError("no opcodes")
    return Job(
        id=job_id,
        ops=[_opcode(i, op) for i, op in enumerate(ops)],
        received_timestamp=_timestamp(raw.get("received_timestamp"), "received_timestamp"),
        start_timestamp=_timestamp(raw.get("start_timestamp"), "start_timestamp"),
        end_timestamp=_timestamp(raw.get("end_timestamp"), "end_timestamp"),
        raw=raw,
    )


def read(path: str | os.PathLike) -> Job | None:
    """Read and parse a job file; None when it no longer exists (archived meanwhile)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    job = parse(data)
    expected = job_id_from_name(os.path.basename(os.fspath(path)))
    if expected is not None and expected != job.id:
        raise JobFileError(f"file {os.path.basename(os.fspath(path))} holds job {job.id}")
    return job
