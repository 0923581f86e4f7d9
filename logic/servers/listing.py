"""Listing servers: status and changes-since filters, query parameters and paging."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from logic import server_rows, server_status
from logic.enums import JobStatus, OpCode, OperState, ServerTask
from logic.models import Server, ServerNIC
from logic.servers.errors import Invalid
from logic.servers.validation import DELETED_VISIBLE_FOR, ref_id

STATUS_NAMES = set(server_status.STATUSES) | {"STOPPED"}
_JOB_IN_PROGRESS = [JobStatus.QUEUED, JobStatus.WAITING, JobStatus.RUNNING, JobStatus.CANCELING]
_TRANSITION_TASKS = [
    ServerTask.REBOOT_SOFT,
    ServerTask.REBOOT_HARD,
    ServerTask.RESIZE,
    ServerTask.REVERT_RESIZE,
    ServerTask.REBUILD,
]


def status_q(status: str) -> Q | None:
    """A filter matching exactly the servers :func:`server_status.server_status` calls ``status``.

    None for an unknown status (the list is then empty, as Nova does below 2.38).
    """
    status = status.upper()
    not_deleted = Q(deleted=False) & ~Q(operstate=OperState.DESTROYED)
    idle = ~Q(task__in=_TRANSITION_TASKS) | Q(task__isnull=True)
    live = Q(operstate__in=[OperState.STARTED, OperState.STOPPED])
    # a reboot Ganeti runs that the API did not ask for (an operator's, the watcher's)
    operator_reboot = Q(task__isnull=True, backend_opcode=OpCode.INSTANCE_REBOOT, backend_jobstatus__in=_JOB_IN_PROGRESS)
    soft_reboot = Q(backend_reboot_type="soft")
    steady = not_deleted & idle & ~operator_reboot & Q(awaiting_resize_confirm=False)
    by_task = {
        "REBOOT": Q(task=ServerTask.REBOOT_SOFT) | (operator_reboot & soft_reboot),
        "HARD_REBOOT": Q(task=ServerTask.REBOOT_HARD) | (operator_reboot & ~soft_reboot),
        "RESIZE": Q(task__in=[ServerTask.RESIZE, ServerTask.REVERT_RESIZE]),
        "REBUILD": Q(task=ServerTask.REBUILD),
    }
    if status == "ACTIVE":
        return steady & Q(operstate=OperState.STARTED)
    if status in ("SHUTOFF", "STOPPED"):
        return steady & Q(operstate=OperState.STOPPED)
    if status == "BUILD":
        return not_deleted & Q(operstate=OperState.BUILD)
    if status == "ERROR":
        return not_deleted & Q(operstate=OperState.ERROR)
    if status == "DELETED":
        return Q(deleted=True) | Q(operstate=OperState.DESTROYED)
    if status == "VERIFY_RESIZE":
        return not_deleted & live & idle & ~operator_reboot & Q(awaiting_resize_confirm=True)
    if status in by_task:
        return not_deleted & live & by_task[status]
    return None


def parse_changes_since(value: str) -> datetime:
    parsed = None
    try:
        parsed = parse_datetime(value.replace(" ", "+"))
    except ValueError:
        parsed = None
    if parsed is None:
        raise Invalid(f"Invalid changes-since value {value!r}: expected an ISO 8601 date and time.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def filter_servers(qs: QuerySet[Server], params, *, include_deleted_recent: bool = False) -> QuerySet[Server] | None:
    """Apply the list filters in ``params`` (a QueryDict); None when nothing can match."""
    since = params.get("changes-since") or params.get("changes_since")
    if since:
        qs = qs.filter(updated_at__gte=parse_changes_since(since))
    elif include_deleted_recent:
        qs = qs.filter(Q(deleted=False) | Q(terminated_at__gte=timezone.now() - DELETED_VISIBLE_FOR))
    else:
        qs = qs.filter(deleted=False)
    if name := params.get("name"):
        try:
            re.compile(name)
        except re.error:
            raise Invalid(f"Invalid name filter {name!r}: not a valid regular expression.") from None
        qs = qs.filter(name__regex=name)
    statuses = params.getlist("status") if hasattr(params, "getlist") else [params["status"]] if "status" in params else []
    if statuses:
        combined = Q()
        matched = False
        for status in statuses:
            q = status_q(status)
            if q is not None:
                combined |= q
                matched = True
        if not matched:
            return None
        qs = qs.filter(combined)
    if image := params.get("image"):
        image_id = ref_id(image)
        try:
            qs = qs.filter(image_id=uuid.UUID(image_id))
        except ValueError:
            return None
    if flavor := params.get("flavor"):
        flavor_id = ref_id(flavor)
        if not flavor_id.isdigit():
            return None
        qs = qs.filter(flavor_id=int(flavor_id))
    for param, column in (("ip", "ipv4"), ("ip6", "ipv6")):
        if pattern := params.get(param):
            try:
                re.compile(pattern)
            except re.error:
                raise Invalid(f"Invalid {param} filter {pattern!r}: not a valid regular expression.") from None
            qs = qs.filter(pk__in=ServerNIC.objects.filter(**{f"{column}__regex": pattern}).values("server_id"))
    if (locked := params.get("locked")) is not None and locked.lower() in ("true", "false", "1", "0"):
        qs = qs.filter(locked=locked.lower() in ("true", "1"))
    return _state_filters(qs, params)


# vm_state / power_state / task_state filters (Nova's names) over this cloud's columns
_VM_STATES = {
    "building": Q(operstate=OperState.BUILD),
    "active": Q(operstate=OperState.STARTED, awaiting_resize_confirm=False),
    "stopped": Q(operstate=OperState.STOPPED, awaiting_resize_confirm=False),
    "resized": Q(awaiting_resize_confirm=True),
    "error": Q(operstate=OperState.ERROR),
    "deleted": Q(deleted=True) | Q(operstate=OperState.DESTROYED),
}
_SHUT_DOWN = [OperState.STOPPED, OperState.ERROR, OperState.DESTROYED]
_POWER_STATES = {"0": ~Q(operstate__in=[OperState.STARTED, *_SHUT_DOWN]), "1": Q(operstate=OperState.STARTED),
                 "4": Q(operstate__in=_SHUT_DOWN)}  # fmt: skip


def _state_filters(qs: QuerySet[Server], params) -> QuerySet[Server] | None:
    """``changes-before`` (2.66) and the filters Nova opened to everyone in 2.83 (key_name, user_id,
    availability_zone, vm_state, power_state, task_state); the API drops the ones a caller may not use."""
    if before := params.get("changes-before"):
        since = params.get("changes-since")
        limit = parse_changes_since(before)
        if since and parse_changes_since(since) > limit:
            raise Invalid("The value of changes-since must be less than or equal to changes-before.")
        qs = qs.filter(updated_at__lte=limit)
    if key_name := params.get("key_name"):
        qs = qs.filter(key_name=key_name)
    if user_id := params.get("user_id"):
        qs = qs.filter(user_id=user_id)
    if (zone := params.get("availability_zone")) is not None and zone != "nova":
        return None  # one zone: every server is in "nova"
    for name, table in (("vm_state", _VM_STATES), ("power_state", _POWER_STATES)):
        if values := params.getlist(name) if hasattr(params, "getlist") else []:
            matched = [table[v.lower()] for v in values if v.lower() in table]
            if not matched:
                return None
            combined = Q()
            for q in matched:
                combined |= q
            qs = qs.filter(combined)
    if values := params.getlist("task_state") if hasattr(params, "getlist") else []:
        tasks = [t for t in ServerTask.values if server_status.task_state(t) in values]
        if not tasks:
            return None
        qs = qs.filter(task__in=tasks)
    return qs


def parse_limit(params, max_limit: int) -> int:
    raw = params.get("limit")
    if raw is None:
        return max_limit
    try:
        limit = int(raw)
    except ValueError:
        raise Invalid(f"Invalid limit {raw!r}: it must be a non-negative integer.") from None
    if limit < 0:
        raise Invalid(f"Invalid limit {raw!r}: it must be a non-negative integer.")
    return min(limit, max_limit)


def paginate(
    qs: QuerySet[Server], params, max_limit: int, *, with_tags: bool = False
) -> tuple[list[server_rows.ServerRow], bool]:
    """Newest first (Nova's order), ``limit``/``marker``; returns (page as rows, whether more exist)."""
    limit = parse_limit(params, max_limit)
    qs = qs.order_by("-created_at", "-id")
    if marker := params.get("marker"):
        anchor = (
            Server.objects.filter(pk=int(marker) if marker.isdigit() and len(marker) < 18 else -1)
            .values("created_at", "id")
            .first()
        )
        if anchor is None:
            raise Invalid(f"marker [{marker}] not found")
        qs = qs.filter(Q(created_at__lt=anchor["created_at"]) | Q(created_at=anchor["created_at"], id__lt=anchor["id"]))
    if limit == 0:
        return [], False
    page = server_rows.load(qs, limit=limit + 1, with_tags=with_tags)
    return page[:limit], len(page) > limit
