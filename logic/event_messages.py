"""The event message contract (``notes/events-contract.md``): types, parsing, naming.

:func:`parse_event` turns a bus message into an :class:`Event`, or raises
:class:`InvalidEvent` saying what is wrong; the transition function
(:mod:`logic.events`) only ever sees validated events.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from logic.enums import JobStatus, OpCode

log = logging.getLogger(__name__)


OP_STATUS = "ganeti-op-status"
HOOK = "ganeti-hook"
HEARTBEAT = "heartbeat"
# Produced only by reconciliation (never accepted from the bus): what Ganeti reports now.
SNAPSHOT = "ganeti-instance-snapshot"

BUS_TYPES = frozenset({OP_STATUS, HOOK, HEARTBEAT})
ALL_TYPES = BUS_TYPES | {SNAPSHOT}

STATUS_RANK = {
    JobStatus.QUEUED: 0,
    JobStatus.WAITING: 1,
    JobStatus.RUNNING: 2,
    JobStatus.CANCELING: 3,
    JobStatus.SUCCESS: 4,
    JobStatus.ERROR: 4,
    JobStatus.CANCELED: 4,
}
FINISHED = frozenset(JobStatus.finished())
#: Every job status (``JobStatus.values`` builds a new list at each call: this is read for every event).
JOB_STATUSES = frozenset(JobStatus.values)


# Opcodes whose success reports the instance's configuration (beparams in its input).
BEPARAMS_INPUT_OPS = frozenset({OpCode.INSTANCE_CREATE, OpCode.INSTANCE_SET_PARAMS})

#: Source of the user's part of Ganeti's reason trail (the RAPI ``reason`` parameter,
#: where :mod:`logic.rapi` writes ``"<reason> <request id>"``).
USER_REASON_SOURCE = "gnt:user"
_REQUEST_ID = re.compile(r"^req-[0-9a-f-]{36}$")

NOT_FOUND_ECODE = "unknown_entity"
_NOT_FOUND_TEXT = re.compile(r"not known|does not exist|not found|unknown instance", re.IGNORECASE)


class InvalidEvent(ValueError):
    """The message does not follow the contract; the reason says what is wrong."""


@dataclass(frozen=True)
class Event:
    """A validated event (the parts of the message the transition function reads)."""

    type: str
    id: str
    cluster: str
    event_time: datetime
    instance: str | None = None
    operation: str | None = None
    status: str | None = None
    job_status: str | None = None
    job_id: int = 0
    op_index: int = 0
    logmsg: str = ""
    result: Any = None
    job_fields: dict = field(default_factory=dict)
    nics: list[dict] | None = None
    beparams: dict | None = None
    oper_state: str | None = None  # snapshots: "up" | "down" | "absent"
    request_ids: frozenset[str] = frozenset()  # API request ids in the job's reason trail
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def time_us(self) -> int:
        return to_us(self.event_time)

    @property
    def job_finished(self) -> bool:
        """The whole job ended (an op error or cancel ends it whatever job_status says)."""
        if self.status in (JobStatus.ERROR, JobStatus.CANCELED):
            return True
        return (self.job_status or self.status) in FINISHED


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch (exact; float seconds would lose microseconds)."""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def event_datetime(value: Any) -> datetime:
    """``[seconds, microseconds]`` (Ganeti's timestamps) as an aware UTC datetime."""
    if not (isinstance(value, list | tuple) and len(value) == 2 and all(type(v) is int for v in value)):
        raise InvalidEvent(f"event_time must be [seconds, microseconds] integers, got {value!r}")
    seconds, micros = value
    if not 0 <= micros < 1_000_000 or seconds < 0:
        raise InvalidEvent(f"event_time out of range: {value!r}")
    try:
        return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidEvent(f"event_time out of range: {value!r}") from exc


def timestamp_pair(moment: datetime) -> list[int]:
    """The inverse of :func:`event_datetime`."""
    us = to_us(moment)
    return [us // 1_000_000, us % 1_000_000]


def _required_str(body: dict, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"missing or empty string field {key!r}")
    return value


def _optional_str(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidEvent(f"field {key!r} must be a string or null, got {type(value).__name__}")
    return value or None


def _optional_list_of_dicts(body: dict, key: str) -> list[dict] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidEvent(f"field {key!r} must be a list of objects")
    return value


def _optional_dict(body: dict, key: str) -> dict | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidEvent(f"field {key!r} must be an object")
    return value


def _status(body: dict, key: str, *, required: bool) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if value not in JOB_STATUSES:
        raise InvalidEvent(f"field {key!r} must be one of {', '.join(JobStatus.values)}, got {value!r}")
    return value


def parse_event(body: Any, *, allowed_types: frozenset[str] = BUS_TYPES) -> Event:
    """Check ``body`` against the message contract; raise :class:`InvalidEvent` with the reason."""
    if not isinstance(body, dict):
        raise InvalidEvent(f"message body must be a JSON object, got {type(body).__name__}")
    kind = body.get("type")
    if kind not in allowed_types:
        raise InvalidEvent(f"unknown message type {kind!r}")
    common = {
        "type": kind,
        "id": _required_str(body, "id"),
        "cluster": _required_str(body, "cluster"),
        "event_time": event_datetime(body.get("event_time")),
        "raw": body,
    }
    if kind == HEARTBEAT:
        _required_str(body, "host")
        return Event(**common)
    if kind == OP_STATUS:
        job_id, op_index = body.get("job_id"), body.get("op_index", 0)
        if type(job_id) is not int or job_id < 0:
            raise InvalidEvent(f"job_id must be a non-negative integer, got {job_id!r}")
        if type(op_index) is not int or op_index < 0:
            raise InvalidEvent(f"op_index must be a non-negative integer, got {op_index!r}")
        logmsg = body.get("logmsg") or ""
        if not isinstance(logmsg, str):
            raise InvalidEvent("logmsg must be a string")
        job_fields = _optional_dict(body, "job_fields") or {}
        return Event(
            **common,
            instance=_optional_str(body, "instance"),
            operation=_required_str(body, "operation"),
            status=_status(body, "status", required=True),
            job_status=_status(body, "job_status", required=False),
            job_id=job_id,
            op_index=op_index,
            logmsg=logmsg,
            result=body.get("result"),
            job_fields=job_fields,
            nics=_optional_list_of_dicts(body, "instance_nics"),
            beparams=_optional_dict(body, "instance_beparams") or _input_beparams(body, job_fields),
            request_ids=request_ids_in(body.get("reason")),
        )
    if kind == HOOK:
        return Event(
            **common,
            instance=_optional_str(body, "instance"),
            operation=_optional_str(body, "operation"),
            status=_status(body, "status", required=False) or JobStatus.SUCCESS,
            nics=_optional_list_of_dicts(body, "nics"),
            beparams=_optional_dict(body, "beparams"),
        )
    # SNAPSHOT (reconciliation)
    oper_state = body.get("oper_state")
    if oper_state not in ("up", "down", "absent"):
        raise InvalidEvent(f"oper_state must be up, down or absent, got {oper_state!r}")
    return Event(
        **common,
        instance=_required_str(body, "instance"),
        oper_state=oper_state,
        nics=_optional_list_of_dicts(body, "nics"),
        beparams=_optional_dict(body, "beparams"),
    )


def request_ids_in(reason: Any) -> frozenset[str]:
    """The API request ids in Ganeti's reason trail ``[[source, text, timestamp], ...]``.

    The RAPI client sends ``reason=<text> <request id>``; Ganeti records it as a
    ``gnt:user`` entry. Anything else in the trail (Ganeti's own entries, a
    malformed trail) contributes nothing: the trail is informative, never a
    reason to refuse the event.
    """
    if not isinstance(reason, list):
        return frozenset()
    found = set()
    for entry in reason:
        if isinstance(entry, list | tuple) and len(entry) >= 2 and entry[0] == USER_REASON_SOURCE and isinstance(entry[1], str):
            found.update(word for word in entry[1].split() if _REQUEST_ID.match(word))
    return frozenset(found)


def _input_beparams(body: dict, job_fields: dict) -> dict | None:
    """The beparams an opcode's input set, which are the instance's once it succeeded."""
    if body.get("status") == JobStatus.SUCCESS and body.get("operation") in BEPARAMS_INPUT_OPS:
        beparams = job_fields.get("beparams")
        return beparams if isinstance(beparams, dict) and beparams else None
    return None


def server_id_for(instance: str | None) -> int | None:
    """The server id of a Ganeti instance named ``<GANETI_PREFIX>-<id>``; None if not ours."""
    if not instance:
        return None
    prefix = settings.CYCLADES["GANETI_PREFIX"] + "-"
    if not instance.startswith(prefix):
        return None
    rest = instance[len(prefix) :]
    if not rest.isdigit() or (len(rest) > 1 and rest[0] == "0"):
        return None
    return int(rest)


def error_message(result: Any) -> str:
    """A readable message from Ganeti's error result ``[class, [args...]]``."""
    if isinstance(result, list) and len(result) == 2 and isinstance(result[0], str):
        cls, args = result
        parts = [str(a) for a in _flatten(args) if a not in (None, "")]
        return f"{cls}: {'; '.join(parts)}" if parts else cls
    if result in (None, ""):
        return ""
    return str(result)


def _flatten(value: Any):
    if isinstance(value, list | tuple):
        for v in value:
            yield from _flatten(v)
    else:
        yield value


def is_instance_not_found(event: Event) -> bool:
    """A failed opcode whose error says the instance does not exist (any more)."""
    if event.status != JobStatus.ERROR or not event.instance:
        return False
    result = event.result
    if not (isinstance(result, list) and len(result) == 2 and isinstance(result[1], list)):
        return False
    args = result[1]
    ecode = args[-1] if args and isinstance(args[-1], str) else None
    text = " ".join(str(a) for a in _flatten(args))
    return event.instance in text and (ecode == NOT_FOUND_ECODE or bool(_NOT_FOUND_TEXT.search(text)))
