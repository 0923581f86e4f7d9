"""The admin server list as plain rows: one ``values()`` query, no model instances.

Building five model instances per row (server, project, user, backend, flavor) was
three quarters of a 10,000-row page (benchmarks/admin_api.py); reading the columns
as tuples and shaping them here gives the same output as
:class:`api.admin.serializers.ServerSerializer` (a test holds them equal).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from api.admin.serializers import _iso
from logic.server_status import derive_status

COLUMNS = (
    "id",
    "name",
    "operstate",
    "task",
    "task_job_id",
    "deleted",
    "awaiting_resize_confirm",
    "backend_reboot_type",
    "suspension__reason",
    "suspension__id",
    "project_id",
    "project__name",
    "user_id",
    "user__name",
    "backend__name",
    "flavor__name",
    "flavor__vcpus",
    "flavor__ram",
    "flavor__disk",
    "locked",
    "backend_job_id",
    "backend_opcode",
    "backend_jobstatus",
    "backendtime",
    "created_at",
    "updated_at",
    "launched_at",
    "terminated_at",
)


def rows(queryset: QuerySet) -> QuerySet:
    """``queryset`` of servers as tuples of :data:`COLUMNS` (page it, then :func:`render` each)."""
    return queryset.values_list(*COLUMNS)


def render(values: tuple, prefix: str | None = None) -> dict:
    v = dict(zip(COLUMNS, values, strict=True))
    prefix = prefix or settings.CYCLADES["GANETI_PREFIX"]
    status = derive_status(
        v["operstate"],
        v["task"],
        deleted=v["deleted"],
        awaiting_resize_confirm=v["awaiting_resize_confirm"],
        backend_opcode=v["backend_opcode"],
        backend_jobstatus=v["backend_jobstatus"],
        backend_reboot_type=v["backend_reboot_type"],
    )
    return {
        "id": v["id"],
        "name": v["name"],
        "status": status,
        "operstate": v["operstate"],
        "task": v["task"],
        "task_job_id": v["task_job_id"],
        "suspended": v["suspension__id"] is not None,
        "suspension_reason": v["suspension__reason"],
        "project": v["project_id"],
        "project_name": v["project__name"],
        "user": v["user_id"],
        "user_name": v["user__name"],
        "backend": v["backend__name"],
        "ganeti_instance": f"{prefix}-{v['id']}",
        "flavor": v["flavor__name"],
        "vcpus": v["flavor__vcpus"],
        "ram": v["flavor__ram"],
        "disk": v["flavor__disk"],
        "locked": v["locked"],
        "backend_job_id": v["backend_job_id"],
        "backend_opcode": v["backend_opcode"],
        "backend_jobstatus": v["backend_jobstatus"],
        "backendtime": _iso(v["backendtime"]),
        "created_at": _iso(v["created_at"]),
        "updated_at": _iso(v["updated_at"]),
        "launched_at": _iso(v["launched_at"]),
        "terminated_at": _iso(v["terminated_at"]),
        "deleted": v["deleted"],
    }
