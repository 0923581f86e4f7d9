"""Usage records: per server and project, vCPU/RAM/disk-hours over a period, from the state history.

Rules (what a bill counts):

* vCPU-hours and RAM-hours accrue while the server runs (``STARTED``);
* disk-hours accrue while its disk exists (``STARTED`` or ``STOPPED``);
* the size is the one in force at each moment (a resize counts from the end of its job);
* an interval is cut at the period's bounds, and at "now" for a period that has not ended.

Each server's history is one entry per change (:mod:`logic.usage.history`); the
state in force at the period's start is the last entry before it. Two queries
whatever the number of servers, then one pass in Python.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from logic.enums import OperState
from logic.errors import InvalidInput
from logic.models import Flavor, Server, ServerStateRecord

RUNNING = {OperState.STARTED}
HAS_DISK = {OperState.STARTED, OperState.STOPPED}
HOUR = 3600.0


@dataclass
class ServerUsage:
    """One server's usage over a period. Hours are floats (rounded to 6 decimals on output)."""

    server_id: int
    name: str
    project_id: str
    user_id: str
    flavor: str
    vcpus: int
    ram: int
    disk: int
    state: str
    started_at: datetime | None = None
    ended_at: datetime | None = None
    running_hours: float = 0.0
    existing_hours: float = 0.0
    vcpu_hours: float = 0.0
    ram_mib_hours: float = 0.0
    disk_gib_hours: float = 0.0

    def as_dict(self) -> dict:
        data = asdict(self)
        for key in ("running_hours", "existing_hours", "vcpu_hours", "ram_mib_hours", "disk_gib_hours"):
            data[key] = round(data[key], 6)
        for key in ("started_at", "ended_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass
class ProjectUsage:
    """A project's usage over a period: the sums of its servers'."""

    project_id: str
    servers: list[ServerUsage] = field(default_factory=list)

    def total(self, name: str) -> float:
        return sum(getattr(s, name) for s in self.servers)


def parse_period(start: object, end: object, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """``(start, end)`` from ISO 8601 texts (a missing end is now); 400-style errors for bad input."""
    from django.utils.dateparse import parse_date, parse_datetime

    def one(value: object, what: str) -> datetime:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str):
            moment = parse_datetime(value.strip())
            if moment is None and (day := parse_date(value.strip())) is not None:
                moment = datetime(day.year, day.month, day.day)
            if moment is None:
                raise InvalidInput(f"Invalid {what} {value!r}: expected an ISO 8601 date or time (2024-01-31T00:00:00).")
        else:
            raise InvalidInput(f"Invalid {what}: expected an ISO 8601 date or time.")
        return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)

    now = now or timezone.now()
    begin = one(start, "start") if start not in (None, "") else now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    finish = one(end, "end") if end not in (None, "") else now
    if finish <= begin:
        raise InvalidInput("The end of the period must be after its start.")
    return begin, finish


def _records(start: datetime, end: datetime, projects: Iterable[str] | None) -> list[ServerStateRecord]:
    """The entries in force during [start, end): the last one before ``start`` of each server, and those inside."""
    base = ServerStateRecord.objects.all()
    if projects is not None:
        base = base.filter(project_id__in=list(projects))
    latest_before = Subquery(
        ServerStateRecord.objects.filter(server=OuterRef("server"), at__lt=start).order_by("-at", "-id").values("id")[:1]
    )
    carried = base.filter(at__lt=start, id=latest_before).exclude(operstate=OperState.DESTROYED)
    inside = base.filter(at__gte=start, at__lt=end)
    return sorted(list(carried) + list(inside), key=lambda r: (r.server_id, r.at, r.id))


def compute(
    start: datetime,
    end: datetime,
    *,
    projects: Iterable[str] | None = None,
    now: datetime | None = None,
    progress: Callable[[int], Callable[[], None]] | None = None,
) -> list[ProjectUsage]:
    """Usage of every server with history in the period, grouped by project (sorted by project id, server id).

    ``progress(total)`` (a progress bar, for commands) returns what to call after each server.
    """
    stop = min(end, now or timezone.now())
    records = _records(start, end, projects)
    ids = sorted({r.server_id for r in records})
    servers = Server.objects.in_bulk(ids)
    flavors = dict(Flavor.objects.filter(pk__in={r.flavor_id for r in records}).values_list("pk", "name"))
    step = progress(len(ids)) if progress else None
    usages: dict[int, ServerUsage] = {}
    for server_id, entries in _by_server(records):
        if step:
            step()
        server = servers.get(server_id)
        if server is None:
            continue
        usage = _server_usage(server, entries, start, stop, flavors)
        if usage.existing_hours > 0 or usage.running_hours > 0:
            usages[server_id] = usage
    projects_out: dict[str, ProjectUsage] = {}
    for usage in usages.values():
        projects_out.setdefault(usage.project_id, ProjectUsage(usage.project_id)).servers.append(usage)
    return [projects_out[k] for k in sorted(projects_out)]


def _by_server(records: list[ServerStateRecord]) -> Iterator[tuple[int, list[ServerStateRecord]]]:
    current: list[ServerStateRecord] = []
    for record in records:
        if current and current[0].server_id != record.server_id:
            yield current[0].server_id, current
            current = []
        current.append(record)
    if current:
        yield current[0].server_id, current


def _server_usage(
    server: Server, entries: list[ServerStateRecord], start: datetime, stop: datetime, flavors: dict[int, str]
) -> ServerUsage:
    last = entries[-1]
    usage = ServerUsage(
        server_id=server.pk,
        name=server.name,
        project_id=server.project_id,
        user_id=server.user_id,
        flavor=flavors.get(last.flavor_id, ""),
        vcpus=last.vcpus,
        ram=last.ram,
        disk=last.disk,
        state=last.operstate,
    )
    for entry, following in zip(entries, [*entries[1:], None], strict=True):
        begin = max(entry.at, start)
        finish = min(following.at if following else stop, stop)
        hours = max(0.0, (finish - begin).total_seconds() / HOUR)
        if hours <= 0:
            continue
        if entry.operstate in HAS_DISK:
            usage.existing_hours += hours
            usage.disk_gib_hours += hours * entry.disk
            usage.started_at = usage.started_at or begin
        if entry.operstate in RUNNING:
            usage.running_hours += hours
            usage.vcpu_hours += hours * entry.vcpus
            usage.ram_mib_hours += hours * entry.ram
    if last.operstate == OperState.DESTROYED and last.at <= stop:
        usage.ended_at = last.at
    return usage


CSV_FIELDS = [
    "project_id",
    "server_id",
    "name",
    "user_id",
    "flavor",
    "vcpus",
    "ram",
    "disk",
    "state",
    "started_at",
    "ended_at",
    "running_hours",
    "existing_hours",
    "vcpu_hours",
    "ram_mib_hours",
    "disk_gib_hours",
]


def as_rows(usages: list[ProjectUsage]) -> list[dict]:
    return [server.as_dict() for project in usages for server in project.servers]


def as_json(usages: list[ProjectUsage], start: datetime, end: datetime) -> dict:
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "projects": [
            {
                "project_id": p.project_id,
                "vcpu_hours": round(p.total("vcpu_hours"), 6),
                "ram_mib_hours": round(p.total("ram_mib_hours"), 6),
                "disk_gib_hours": round(p.total("disk_gib_hours"), 6),
                "running_hours": round(p.total("running_hours"), 6),
                "servers": [s.as_dict() for s in p.servers],
            }
            for p in usages
        ],
    }


def rows_as_csv(rows: Iterable[dict]) -> str:
    """Server usage dicts (:meth:`ServerUsage.as_dict` plus ``project_id``) as CSV with a header line."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def as_csv(usages: list[ProjectUsage]) -> str:
    return rows_as_csv(as_rows(usages))
