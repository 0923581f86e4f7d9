"""Nova's ``os-simple-tenant-usage`` view of the usage records (what ``openstack usage list/show`` reads).

Same numbers as the billing export (:mod:`logic.usage.records`), in Nova's names:
``total_vcpus_usage`` is vCPU-hours while running, ``total_memory_mb_usage`` MiB-hours
while running, ``total_local_gb_usage`` GiB-hours while the disk exists, ``hours`` /
``total_hours`` the hours a server existed (running or stopped) in the period.
Nova counts every existing hour for CPU and RAM too; this cloud bills running time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from logic.enums import OperState
from logic.errors import InvalidInput, PolicyError
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


@dataclass
class Paging:
    """Microversion 2.40: pages over the servers (``limit``, ``marker`` = the last server id seen)."""

    limit: object = None
    marker: object = None


@dataclass
class Answer:
    usages: list[dict]
    next_marker: str | None  # the marker of the next page when this one is full


def _page(projects: list[records.ProjectUsage], paging: Paging | None) -> tuple[list[records.ProjectUsage], str | None]:
    """The servers of one page (ordered by server id), regrouped by project; totals are the page's, as in Nova."""
    if paging is None or (paging.limit is None and paging.marker is None):
        return projects, None
    servers = sorted((s for p in projects for s in p.servers), key=lambda s: s.server_id)
    if paging.marker is not None:
        marker = str(paging.marker)
        index = next((i for i, s in enumerate(servers) if str(s.server_id) == marker), None)
        if index is None:
            raise InvalidInput(f"marker [{marker}] not found")
        servers = servers[index + 1 :]
    size = None
    if paging.limit is not None:
        text = str(paging.limit)
        if not text.isdigit():
            raise InvalidInput(f"Invalid input for query parameters limit. Value: {text}. It must be a non-negative integer.")
        size = int(text)
        servers = servers[:size]
    grouped: dict[str, records.ProjectUsage] = {}
    for usage in servers:
        grouped.setdefault(usage.project_id, records.ProjectUsage(usage.project_id)).servers.append(usage)
    full = size is not None and size > 0 and len(servers) == size
    return sorted(grouped.values(), key=lambda p: p.project_id), str(servers[-1].server_id) if full else None


def tenant_usages(
    ctx: AuthContext, start_text: object, end_text: object, *, detailed: bool, paging: Paging | None = None
) -> Answer:
    """Every project's usage (admin only, as in Nova)."""
    if not ctx.is_admin:
        raise PolicyError("Policy doesn't allow os_compute_api:os-simple-tenant-usage:list to be performed.")
    start, end = records.parse_period(start_text, end_text)
    projects, marker = _page(records.compute(start, end), paging)
    return Answer([_tenant(p, start, end, detailed=detailed) for p in projects], marker)


def tenant_usage(
    ctx: AuthContext, project_id: str, start_text: object, end_text: object, *, paging: Paging | None = None
) -> Answer:
    """One project's usage with its servers; ``{}`` when it used nothing (Nova's answer)."""
    if not ctx.is_admin and project_id != getattr(ctx.project, "pk", None):
        raise PolicyError("Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.")
    start, end = records.parse_period(start_text, end_text)
    found, marker = _page(records.compute(start, end, projects=[project_id]), paging)
    return Answer([_tenant(found[0], start, end, detailed=True)] if found else [{}], marker)
