"""Reconciliation: compare the DB with what each backend reports, repair through events.

A Ganeti cluster answers through its RAPI; a libvirt host through
:class:`logic.drivers.libvirt.reconcile_source.LibvirtInstances`, which lists its domains
in the same shape: the comparison and the repairs below are the same for both.

One bulk RAPI listing per cluster (``GET /2/instances?bulk=1``) against one DB
query per cluster. What it finds:

* ``stale``: the DB has a live server, Ganeti has no instance (and no job of ours
  is creating it);
* ``orphan``: Ganeti has an instance with our prefix that no live server owns.
  Reported; removed only when the operator asks (``remove_orphans``), and then only
  an instance that carries this cloud's ``<prefix>:server:<id>`` tag, whose server
  row is gone or deleted, and that is older than the grace period. An instance whose
  server lives on another backend is never removed (a move in progress, or a row to fix);
* ``state`` / ``nics`` / ``flavor``: the DB disagrees with Ganeti's running state,
  NICs (MAC, IP, and the network they are on), or vCPUs/memory;
* ``stuck_task``: the API's task waits for a job that has finished, or for a job
  Ganeti does not know (archived or lost).

Every repair is an event through :func:`logic.events.apply_event`: a finished
job's real status rebuilt from ``GET /2/jobs/N``, or a synthetic snapshot of what
Ganeti reports now (type ``ganeti-instance-snapshot``), timed at the listing.
Because events only win when newer, a job that finished after the listing is
never overwritten by the repair.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone

from logic.enums import JobStatus, OpCode, OperState, ServerTask
from logic.event_messages import OP_STATUS, SNAPSHOT, server_id_for, timestamp_pair
from logic.events import apply_event
from logic.networks import NicNetworks

log = logging.getLogger(__name__)

# The opcode a pending task waits for, and the Ganeti state that means it took effect.
TASK_OPCODE = {
    ServerTask.BUILD: OpCode.INSTANCE_CREATE,
    ServerTask.START: OpCode.INSTANCE_STARTUP,
    ServerTask.STOP: OpCode.INSTANCE_SHUTDOWN,
    ServerTask.REBOOT_SOFT: OpCode.INSTANCE_REBOOT,
    ServerTask.REBOOT_HARD: OpCode.INSTANCE_REBOOT,
    ServerTask.RESIZE: OpCode.INSTANCE_SET_PARAMS,
    ServerTask.REVERT_RESIZE: OpCode.INSTANCE_SET_PARAMS,
    ServerTask.REBUILD: OpCode.INSTANCE_REINSTALL,
    ServerTask.DESTROY: OpCode.INSTANCE_REMOVE,
    ServerTask.RENAME: OpCode.INSTANCE_RENAME,
}
TASK_GOAL = {
    ServerTask.BUILD: "exists",
    ServerTask.START: "up",
    ServerTask.STOP: "down",
    ServerTask.REBOOT_SOFT: "up",
    ServerTask.REBOOT_HARD: "up",
    ServerTask.DESTROY: "absent",
}
KINDS = ("stale", "orphan", "state", "nics", "flavor", "stuck_task")


class InstanceSource(Protocol):
    """What reconciliation needs from a cluster (:class:`logic.rapi.RapiClient` has it)."""

    def list_instances(self) -> list[dict]: ...

    def get_job(self, job_id: int) -> dict: ...

    def remove_instance(self, name: str, *, reason: str | None = None) -> int: ...


@dataclass
class Finding:
    kind: str
    instance: str
    server_id: int | None
    detail: str
    fixed: bool = False


@dataclass
class Report:
    backend: str
    servers: int = 0
    instances: int = 0
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def count(self, kind: str) -> int:
        return sum(1 for f in self.findings if f.kind == kind)

    def fixed(self, kind: str) -> int:
        return sum(1 for f in self.findings if f.kind == kind and f.fixed)


# ------------------------------------------------------------------------ what Ganeti says
def ganeti_state(instance: dict) -> str:
    """``up`` or ``down``: whether the instance really runs (``oper_state``), whatever its admin state."""
    return "up" if instance.get("oper_state") else "down"


def ganeti_nics(instance: dict) -> list[dict]:
    macs = instance.get("nic.macs") or []
    ips = instance.get("nic.ips") or []
    names = instance.get("nic.networks.names") or []
    networks = instance.get("nic.networks") or []
    links = instance.get("nic.links") or []
    modes = instance.get("nic.modes") or []
    network_ids = instance.get("nic.network_ids") or []  # a libvirt host's listing names the API networks

    def at(values: list, i: int) -> Any:
        return values[i] if i < len(values) else None

    return [
        {
            "index": i,
            "mac": mac,
            "ip": at(ips, i),
            "network": at(names, i) or at(networks, i),
            "link": at(links, i),
            "mode": at(modes, i),
            "network_id": at(network_ids, i),
        }
        for i, mac in enumerate(macs)
    ]


NicKey = tuple[int, str, str | None, str | None]


def _nic_key(nics: list[NicKey]) -> list[NicKey]:
    """(index, MAC, IP, API network id) of each NIC, in a comparable form."""
    return sorted((i, (mac or "").lower(), ip or None, network_id or None) for i, mac, ip, network_id in nics)


def ganeti_beparams(instance: dict) -> dict:
    be = instance.get("beparams") or {}
    return {"vcpus": be.get("vcpus"), "maxmem": be.get("maxmem", be.get("memory"))}


# ------------------------------------------------------------------------ events reconciliation feeds
def snapshot_event(cluster: str, name: str, at: datetime, instance: dict | None) -> dict:
    body: dict[str, Any] = {
        "type": SNAPSHOT,
        "id": f"{cluster}:reconcile:{name}:{timestamp_pair(at)[0]}.{timestamp_pair(at)[1]}",
        "cluster": cluster,
        "instance": name,
        "event_time": timestamp_pair(at),
        "oper_state": "absent" if instance is None else ganeti_state(instance),
        "source": "reconcile",
    }
    if instance is not None:
        body["nics"] = ganeti_nics(instance)
        body["beparams"] = ganeti_beparams(instance)
    return body


def job_events(cluster: str, name: str, job: dict) -> list[dict]:
    """The finished statuses of a job (``GET /2/jobs/N``) as contract messages, one per opcode of ``name``.

    The RAPI gives one end time per job, not per opcode; opcode ``i`` of ``n`` is
    dated ``n - 1 - i`` microseconds before it, so that the transition path sees the
    opcodes in their order (a rebuild's startup after its shutdown) and the last at
    the job's own end.
    """
    out = []
    end = job.get("end_ts") or job.get("received_ts")
    end_us = int(end[0]) * 1_000_000 + int(end[1])
    statuses = job.get("opstatus") or []
    ops = job.get("ops") or []
    for index, op in enumerate(ops):
        if not isinstance(op, dict) or op.get("instance_name") != name or index >= len(statuses):
            continue
        status = statuses[index]
        results = job.get("opresult") or []
        logs = (job.get("oplog") or [])[index] if index < len(job.get("oplog") or []) else []
        out.append(
            {
                "type": OP_STATUS,
                "id": f"{cluster}:{job['id']}:{index}:{status}",
                "cluster": cluster,
                "job_id": int(job["id"]),
                "op_index": index,
                "operation": op.get("OP_ID"),
                "instance": name,
                "status": status,
                "job_status": job.get("status"),
                "event_time": list(divmod(end_us - (len(ops) - 1 - index), 1_000_000)),
                "logmsg": logs[-1][3] if logs else "",
                "result": results[index] if index < len(results) else None,
                "job_fields": {k: op[k] for k in ("beparams", "nics", "reboot_type") if k in op},
                "source": "reconcile",
            }
        )
    return out


def settle_ended_job(server, job_id: int) -> bool:
    """Apply the end of ``server``'s task job again, now that its id is recorded; True if it had ended.

    For a job whose events carry no request id (Ganeti's reinstall takes no reason
    trail) that ended before the API recorded its id: its end passed unmatched and
    the task would wait for the next reconcile. Ganeti's own record of the job is
    replayed through the transition path, as a reconcile would. A job still running
    ends later and matches by id; an unreachable Ganeti leaves it to reconcile.
    """
    from logic.backends import client_for
    from logic.rapi import RapiError

    try:
        with client_for(server.backend) as client:
            job = client.get_job(job_id)
    except RapiError as exc:
        log.warning("job %s of server %s ended before its id was recorded; Ganeti: %s", job_id, server.pk, exc)
        return False
    if job.get("status") not in JobStatus.finished():
        return False
    for body in job_events(server.backend.name, server.ganeti_name, job):
        apply_event(body)
    return True


def unknown_job_event(cluster: str, server, at: datetime, instance: dict | None) -> dict:
    """A synthetic end of a job Ganeti does not know: success if Ganeti shows the task's goal, else error."""
    goal = TASK_GOAL.get(server.task)
    now_state = "absent" if instance is None else ganeti_state(instance)
    reached = goal is not None and (goal == now_state or (goal == "exists" and instance is not None))
    status = JobStatus.SUCCESS if reached else JobStatus.ERROR
    return {
        "type": OP_STATUS,
        "id": f"{cluster}:{server.task_job_id}:0:{status}:reconcile",
        "cluster": cluster,
        "job_id": server.task_job_id,
        "op_index": 0,
        "operation": TASK_OPCODE.get(server.task, OpCode.INSTANCE_SET_PARAMS),
        "instance": server.ganeti_name,
        "status": status,
        "job_status": status,
        "event_time": timestamp_pair(at),
        "logmsg": "",
        "result": None
        if reached
        else [
            "ReconcileError",
            [f"job {server.task_job_id} is unknown to Ganeti (archived or lost); the action did not take effect"],
        ],
        "source": "reconcile",
    }


# ------------------------------------------------------------------------ the comparison
def reconcile_backend(
    backend,
    client: InstanceSource,
    *,
    fix: bool = False,
    remove_orphans: bool = False,
    progress: Callable[[int], None] | None = None,
    now: Callable[[], datetime] = timezone.now,
) -> Report:
    """Compare one backend's servers with its Ganeti cluster; with ``fix``, repair through events;
    with ``remove_orphans``, submit a remove job for each orphan that is provably ours (see the module doc)."""
    from logic.models import Server
    from logic.rapi import RapiError, RapiNotFound

    started = time.monotonic()
    report = Report(backend=backend.name)
    cluster = backend.name
    listed_at = now()
    instances = {i["name"]: i for i in client.list_instances() if server_id_for(i.get("name")) is not None}
    report.instances = len(instances)
    servers = list(
        Server.objects.filter(backend=backend, deleted=False)
        .exclude(operstate=OperState.DESTROYED)
        .select_related("flavor")
        .prefetch_related("nics")
        .order_by("id")
    )
    report.servers = len(servers)
    grace = timedelta(seconds=settings.CYCLADES["RECONCILE_GRACE"])
    networks = NicNetworks()

    def found(kind: str, server, name: str, detail: str, events: list[dict]) -> None:
        finding = Finding(kind, name, server.pk if server is not None else None, detail)
        report.findings.append(finding)
        if fix and events:
            for body in events:
                apply_event(body)
            finding.fixed = True
            if server is not None:
                server.refresh_from_db()  # later comparisons see the repaired row

    for done, server in enumerate(servers, 1):
        name = server.ganeti_name
        instance = instances.pop(name, None)
        in_flight = False
        stuck_before = len(report.findings)
        if server.task is not None and server.task_job_id is not None:
            try:
                job = client.get_job(server.task_job_id)
            except RapiNotFound:
                event = unknown_job_event(cluster, server, listed_at, instance)
                found(
                    "stuck_task",
                    server,
                    name,
                    f"task {server.task} waits for job {server.task_job_id}, unknown to Ganeti",
                    [event],
                )
            except RapiError as exc:
                in_flight = True  # cannot tell: judge nothing about this server now
                log.warning("reconcile %s: job %s of %s: %s", cluster, server.task_job_id, name, exc)
            else:
                if job.get("status") in JobStatus.finished():
                    events = job_events(cluster, name, job)
                    found(
                        "stuck_task",
                        server,
                        name,
                        f"task {server.task} waits for job {server.task_job_id}, which ended {job['status']}",
                        events,
                    )
                else:
                    in_flight = True
        recent = max(filter(None, (server.created_at, server.backendtime, server.backend_eventtime))) > listed_at - grace
        stuck_unfixed = len(report.findings) > stuck_before and not report.findings[-1].fixed
        if in_flight or (server.task == ServerTask.BUILD and instance is None and recent):
            pass  # Ganeti is working on it (or the create job was only just submitted)
        elif stuck_unfixed:
            pass  # the job's own result decides first; the next run compares what is left
        elif instance is None:
            if not recent:
                found(
                    "stale",
                    server,
                    name,
                    f"{server.operstate} in the DB, no instance in Ganeti",
                    [snapshot_event(cluster, name, listed_at, None)],
                )
        else:
            _compare(server, name, instance, listed_at, cluster, found, networks)
        if progress is not None:
            progress(done)

    if instances:
        rows = dict(Server.objects.filter(pk__in=[server_id_for(n) for n in instances]).values_list("id", "deleted"))
        for name, instance in sorted(instances.items()):
            sid = server_id_for(name)
            why = (
                "no server in the DB"
                if sid not in rows
                else "its server is deleted"
                if rows[sid]
                else "its server is on another backend"
            )
            finding = Finding("orphan", name, sid if sid in rows else None, f"instance {ganeti_state(instance)}: {why}")
            report.findings.append(finding)
            if remove_orphans:
                _remove_orphan(client, finding, instance, server_gone=sid not in rows or rows[sid], old=listed_at - grace)
    report.seconds = time.monotonic() - started
    return report


def _remove_orphan(client: InstanceSource, finding: Finding, instance: dict, *, server_gone: bool, old: datetime) -> None:
    """Submit the removal of an orphan if it is provably this cloud's and abandoned; say why not otherwise."""
    from logic.rapi import RapiError

    sid = server_id_for(finding.instance)
    tag = f"{settings.CYCLADES['GANETI_PREFIX']}:server:{sid}"
    created = instance.get("ctime")
    if not server_gone:
        finding.detail += "; not removed: its server is live on another backend"
    elif tag not in (instance.get("tags") or []):
        finding.detail += f"; not removed: no {tag} tag (not created by this cloud)"
    elif created is None:
        finding.detail += "; not removed: the backend keeps no creation time (the grace period cannot be checked)"
    elif not isinstance(created, int | float) or datetime.fromtimestamp(created, tz=old.tzinfo) > old:
        finding.detail += "; not removed: created within the grace period"
    else:
        try:
            job_id = client.remove_instance(finding.instance, reason="reconcile-servers --remove-orphans")
        except RapiError as exc:
            finding.detail += f"; remove refused: {exc}"
            log.warning("reconcile: removing orphan %s: %s", finding.instance, exc)
            return
        finding.detail += f"; remove job {job_id} submitted"
        finding.fixed = True
        log.info("reconcile: orphan %s: remove job %s", finding.instance, job_id)


def _compare(server, name: str, instance: dict, at: datetime, cluster: str, found, networks: NicNetworks) -> None:
    """State, NICs and flavor of one server against its instance; one snapshot event repairs all three."""
    differences: list[tuple[str, str]] = []
    state = ganeti_state(instance)
    expected = {"up": OperState.STARTED, "down": OperState.STOPPED}[state]
    if server.operstate != expected:
        differences.append(("state", f"{server.operstate} in the DB, Ganeti: {instance.get('status')} ({state})"))
    db_nics = _nic_key([(n.index, n.mac, n.ipv4 or n.ipv6, n.network_id) for n in server.nics.all()])
    live_nics = _nic_key([(n["index"], n["mac"], n["ip"], networks.id_for(n)) for n in ganeti_nics(instance)])
    if db_nics != live_nics:
        differences.append(("nics", f"DB {db_nics} != Ganeti {live_nics}"))
    be = ganeti_beparams(instance)
    if be["vcpus"] is not None and (server.flavor.vcpus, server.flavor.ram) != (be["vcpus"], be["maxmem"]):
        differences.append(
            (
                "flavor",
                f"{server.flavor.name} ({server.flavor.vcpus} vCPU, {server.flavor.ram} MiB), Ganeti: {be['vcpus']} vCPU, {be['maxmem']} MiB",
            )
        )
    if not differences:
        return
    event = [snapshot_event(cluster, name, at, instance)]
    for kind, detail in differences:
        found(kind, server, name, detail, event)
        event = []  # one repair event for all of this server's differences


def source_for(backend, client_for: Callable[[Any], InstanceSource]) -> InstanceSource:
    """The backend's listing: its Ganeti RAPI client, or a libvirt host's domains in the same shape."""
    if getattr(backend, "kind", "ganeti") == "libvirt":
        from logic.drivers.libvirt.reconcile_source import LibvirtInstances

        return LibvirtInstances(backend)
    return client_for(backend)


def reconcile_all(
    backends,
    client_for: Callable[[Any], InstanceSource],
    *,
    fix: bool = False,
    remove_orphans: bool = False,
    progress_factory: Callable[[str, int], Callable[[int], None]] | None = None,
) -> list[Report]:
    """:func:`reconcile_backend` for each backend; a cluster that cannot be reached is reported, not fatal."""
    from logic.models import Server
    from logic.rapi import RapiError

    reports = []
    for backend in backends:
        if backend.offline:
            reports.append(Report(backend=backend.name, error="offline: skipped"))
            continue
        progress = None
        if progress_factory is not None:
            progress = progress_factory(backend.name, Server.objects.filter(backend=backend, deleted=False).count())
        try:
            reports.append(
                reconcile_backend(
                    backend, source_for(backend, client_for), fix=fix, remove_orphans=remove_orphans, progress=progress
                )
            )
        except RapiError as exc:
            reports.append(Report(backend=backend.name, error=str(exc)))
    return reports
