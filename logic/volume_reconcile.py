"""``reconcile-volumes``: compare volumes with the disks Ganeti reports, and repair drift.

One bulk RAPI listing per cluster (``disk.names`` of every instance) tells which volume
disk (``<prefix>-vol-<id>``) is attached to which instance. Findings:

* ``attachment``: the database says attached to one server, Ganeti to another or to none
  (an operator's ``gnt-instance modify --disk``); fixed to what Ganeti says.
* ``stuck``: a task (attaching, detaching) older than ``RECONCILE_GRACE`` whose job end was
  lost; fixed to what Ganeti shows (attached: in-use; not attached: available after a
  detach, error after an attach).
* ``orphan``: a disk named like one of our volumes that no live volume owns (only reported).

Repairs go through :func:`logic.volume_events.observe`, the volumes' transition path.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from logic import volume_events
from logic.event_messages import server_id_for
from logic.models import Backend, Volume


@dataclass
class Finding:
    kind: str
    volume: str
    detail: str
    fixed: bool = False


@dataclass
class Report:
    backend: str
    volumes: int = 0
    findings: list[Finding] = field(default_factory=list)
    error: str = ""


def attached_in_ganeti(instances: list[dict]) -> dict[str, int | None]:
    """Volume id -> the server id of the instance its disk is attached to (None: not one of our servers)."""
    marker = f"{settings.CYCLADES['GANETI_PREFIX']}-vol-"
    found: dict[str, int | None] = {}
    for instance in instances:
        for name in instance.get("disk.names") or []:
            if isinstance(name, str) and name.startswith(marker):
                found[name[len(marker) :]] = server_id_for(instance.get("name"))
    return found


def reconcile_backend(backend: Backend, client, *, fix: bool) -> Report:
    report = Report(backend.name)
    try:
        instances = client.list_instances()
    except Exception as exc:  # a cluster that cannot be read is reported, the others still reconciled
        report.error = str(exc)
        return report
    ganeti = attached_in_ganeti(instances)
    grace = timedelta(seconds=float(settings.CYCLADES.get("RECONCILE_GRACE", 60)))
    now = timezone.now()
    volumes = Volume.objects.filter(deleted=False, backend=backend).order_by("id")
    report.volumes = volumes.count()
    known = set()
    for volume in volumes.iterator():
        key = str(volume.id)
        known.add(key)
        on = ganeti.get(key)
        if volume.task:
            if volume.updated_at < now - grace:
                _found(report, "stuck", volume, f"{volume.task} since {volume.updated_at:%Y-%m-%d %H:%M:%S}", on, fix)
            continue
        db_server = volume.server_id if volume.attach_status == "attached" else None
        if db_server != on:
            _found(report, "attachment", volume, f"database: server {db_server}, Ganeti: server {on}", on, fix)
    for key in sorted(set(ganeti) - known):
        try:
            owned = Volume.objects.filter(pk=uuid.UUID(key), deleted=False).exists()
        except ValueError:
            owned = False
        if not owned:
            report.findings.append(Finding("orphan", key, f"disk attached to server {ganeti[key]} has no live volume"))
    return report


def _found(report: Report, kind: str, volume: Volume, detail: str, on: int | None, fix: bool) -> None:
    finding = Finding(kind, str(volume.id), detail)
    if fix:
        with transaction.atomic():
            finding.fixed = volume_events.observe(volume.pk, on, reason=f"reconcile-volumes: {kind} ({detail})")
    report.findings.append(finding)


def reconcile_all(backends, client_for, *, fix: bool) -> list[Report]:
    reports = []
    for backend in backends:
        with client_for(backend) as client:
            reports.append(reconcile_backend(backend, client, fix=fix))
    return reports
