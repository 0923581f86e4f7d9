"""Nova's ``os-simple-tenant-usage`` view of the usage records (what ``openstack usage list/show`` reads).

Same numbers as the billing export (:mod:`logic.usage.records`), in Nova's names:
``total_vcpus_usage`` is vCPU-hours while running, ``total_memory_mb_usage`` MiB-hours
while running, ``total_local_gb_usage`` GiB-hours while the disk exists, ``hours`` /
``total_hours`` the hours a server existed (running or stopped) in the period.
Nova counts every existing hour for CPU and RAM too; this cloud bills running time.
"""

from __future__ import annotations

from datetime import datetime

from logic.enums import OperState
from logic.errors import PolicyError
from logic.identity import AuthContext
from logic.usage import records

#: Nova's vm_state names for the server_usages ``state``.
NOVA_STATE = {
    OperState.BUILD: "building",
    OperState.STARTED: "active",
    OperState.STOPPED: "stopped",
    OperState.ERROR: "error",
    OperState.DESTROYED: "terminated",
}


def _time(moment: datetime | None) -> str | None:
    return moment.replace(tzinfo=None).isoformat() if moment else None


def _server(usage: records.ServerUsage, stop: datetime) -> dict:
    ended = usage.ended_at
    started = usage.started_at
    return {
        "instance_id": str(usage.server_id),
        "name": usage.name,
        "tenant_id": usage.project_id,
        "flavor": usage.flavor,
        "vcpus": usage.vcpus,
        "memory_mb": usage.ram,
        "local_gb": usage.disk,
        "hours": round(usage.existing_hours, 6),
        "started_at": _time(started),
        "ended_at": _time(ended),
        "state": NOVA_STATE.get(usage.state, usage.state.lower()),
        "uptime": int(((ended or stop) - started).total_seconds()) if started else 0,
    }


def _tenant(project: records.ProjectUsage, start: datetime, stop: datetime, *, detailed: bool) -> dict:
    body = {
        "tenant_id": project.project_id,
        "total_local_gb_usage": round(project.total("disk_gib_hours"), 6),
        "total_vcpus_usage": round(project.total("vcpu_hours"), 6),
        "total_memory_mb_usage": round(project.total("ram_mib_hours"), 6),
        "total_hours": round(project.total("existing_hours"), 6),
        "start": _time(start),
        "stop": _time(stop),
    }
    if detailed:
        body["server_usages"] = [_server(s, stop) for s in project.servers]
    return body


def tenant_usages(ctx: AuthContext, start_text: object, end_text: object, *, detailed: bool) -> list[dict]:
    """Every project's usage (admin only, as in Nova)."""
    if not ctx.is_admin:
        raise PolicyError("Policy doesn't allow os_compute_api:os-simple-tenant-usage:list to be performed.")
    start, end = records.parse_period(start_text, end_text)
    return [_tenant(p, start, end, detailed=detailed) for p in records.compute(start, end)]


def tenant_usage(ctx: AuthContext, project_id: str, start_text: object, end_text: object) -> dict:
    """One project's usage with its servers; ``{}`` when it used nothing (Nova's answer)."""
    if not ctx.is_admin and project_id != getattr(ctx.project, "pk", None):
        raise PolicyError("Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.")
    start, end = records.parse_period(start_text, end_text)
    found = records.compute(start, end, projects=[project_id])
    return _tenant(found[0], start, end, detailed=True) if found else {}
