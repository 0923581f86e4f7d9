"""THE state-transition function: how Ganeti's reports change a server.

Every change of a server's ``operstate``, NICs or flavor that comes from Ganeti
goes through :func:`apply_event`: messages from eventd and the hooks (through
the dispatcher) and the synthetic events of reconciliation alike. The message
contract is ``notes/events-contract.md``; :func:`parse_event` checks it.

Why applying events in any order, any number of times, gives the same result:
the fields an event writes fall into groups, and each group remembers the event
time it reflects. An event only writes a group when it is strictly newer than
that group's time (last writer wins by Ganeti's own timestamps):

* state (``operstate``, ``deleted``, ``fault``, ``launched_at`` ...) and
  ``backendtime``: written by finished opcodes that decide the state (success of
  create/startup/shutdown/reboot/remove, a create that failed, an "instance not
  found" error). Errors of other opcodes and running jobs do not move it, so a
  late error can never hide a success. DESTROYED is final: nothing but another
  destroy event touches a destroyed server.
* job status (``backend_job_id``, ``backend_opcode``, ``backend_jobstatus``,
  ``backend_logmsg``) and ``backend_eventtime``: every opcode event, ordered by
  (event time, job id, status rank).
* NICs (``nics_synced_at``) and flavor (``flavor_synced_at``): any event that
  carries what Ganeti reports about them.

The pending task is cleared, and the action-log row finished, when the event of
the task's job says the job ended; both are idempotent. The task's job is known
by its id, or, when the API has not recorded that id yet (it records it after
Ganeti accepted the job, and the job may end first), by the API request id that
the RAPI client put in the job's reason trail.

:func:`apply_events` applies a batch of events in one transaction (the
dispatcher; :func:`apply_event` is a batch of one): row locks are taken in
server-id order and the quota work of the whole batch is done at its end, so
concurrent dispatchers lock in one order; the rows are read once and written
once per batch (:mod:`logic.event_rows`), so a batch costs a constant number of
statements whatever its size.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from logic import event_rows, volume_events
from logic.enums import JobStatus, OpCode, OperState, ServerTask
from logic.event_messages import (
    ALL_TYPES,
    FINISHED,
    HEARTBEAT,
    OP_STATUS,
    SNAPSHOT,
    STATUS_RANK,
    Event,
    error_message,
    is_instance_not_found,
    parse_event,
    server_id_for,
    to_us,
)
from logic.networks import NicNetworks
from logic.neutron import server_ports
from logic.server_quotas import JobEnd, settle_server_jobs

log = logging.getLogger(__name__)

# What a successful opcode means for the server's operstate.
SUCCESS_STATE = {
    OpCode.INSTANCE_CREATE: OperState.STARTED,
    OpCode.INSTANCE_STARTUP: OperState.STARTED,
    OpCode.INSTANCE_REBOOT: OperState.STARTED,
    OpCode.INSTANCE_SHUTDOWN: OperState.STOPPED,
    OpCode.INSTANCE_REMOVE: OperState.DESTROYED,
}


@dataclass(frozen=True)
class Outcome:
    """What :func:`apply_event` did.

    ``status``: ``applied`` (something changed), ``stale`` (older than or equal to
    what the row reflects: duplicates and reordering), ``ignored`` (not about one
    of our servers), ``heartbeat`` (recorded).
    """

    status: str
    server_id: int | None = None
    changes: tuple[str, ...] = ()
    reason: str = ""

    @property
    def applied(self) -> bool:
        return self.status == "applied"


def apply_event(body: dict | Event, *, allowed_types: frozenset[str] = ALL_TYPES) -> Outcome:
    """Apply one event to the database in its own transaction; the one way Ganeti changes a server.

    ``body`` is a message as in the contract (or an already parsed :class:`Event`).
    Raises :class:`InvalidEvent` for a message that breaks the contract, and lets
    database errors through (the caller retries: nothing was committed).
    """
    event = body if isinstance(body, Event) else parse_event(body, allowed_types=allowed_types)
    return apply_events([event])[0]


def apply_events(events: Sequence[Event]) -> list[Outcome]:
    """Apply several parsed events in ONE transaction (a dispatcher's batch); their outcomes, in order.

    Event by event, the same result as applying each alone, in order. What makes
    it cheap (:mod:`logic.event_rows`): the server rows of the whole batch are
    locked and read in one statement, in server-id order, so concurrent
    dispatchers (and the API) never wait on each other in opposite orders; the
    rules change the Python copies (events of one server keep their order;
    events of different servers touch different rows); the changed fields are
    written back at the end, one UPDATE per set of changed fields; then the
    quota settlements of the batch, in (project, user) order; heartbeats come
    last. Any error rolls the whole batch back and propagates.
    """
    outcomes: list[Outcome | None] = [None] * len(events)
    ours: dict[int, int] = {}  # event index -> server id, for the events about one of our servers
    for i, event in enumerate(events):
        if event.type == HEARTBEAT:
            continue
        server_id = server_id_for(event.instance)
        if server_id is None:
            log.debug("event %s: instance %r is not ours", event.id, event.instance)
            outcomes[i] = Outcome("ignored", reason="not one of our instances")
        elif event.operation and not event.operation.startswith("OP_INSTANCE_"):
            outcomes[i] = Outcome("ignored", server_id, reason=f"{event.operation} is not an instance opcode")
        else:
            ours[i] = server_id
    with transaction.atomic():
        batch = _Batch.load(events, ours)
        for i in sorted(ours, key=lambda i: (ours[i], i)):
            outcomes[i] = batch.apply(events[i], ours[i])
        batch.finish()
        volume_events.apply([events[i] for i in sorted(ours)])  # the volume jobs among them (logic.volume_events)
        _snapshot_exports(events)
        for i, event in enumerate(events):
            if event.type == HEARTBEAT:
                outcomes[i] = _record_heartbeat(event)
    return outcomes  # type: ignore[return-value]


def _snapshot_exports(events: Sequence[Event]) -> None:
    """The ends of snapshot export jobs (OP_BACKUP_EXPORT) drop snapshot images left without data."""
    exports = [e for e in events if e.operation == OpCode.BACKUP_EXPORT and e.job_finished]
    if exports:
        from logic import image_snapshot  # late: it reaches into the server rules

        image_snapshot.apply_export_events(exports)


def _progress_only(event: Event) -> bool:
    """An opcode status that only moves the job-status group (queued/waiting/running, nothing reported)."""
    return event.type == OP_STATUS and not event.job_finished and event.nics is None and event.beparams is None


def _may_change_nics(event: Event) -> bool:
    """Reports NICs, or may destroy the server (which releases them)."""
    if event.nics is not None or event.type == SNAPSHOT:
        return True
    return event.job_finished and (event.operation == OpCode.INSTANCE_REMOVE or event.status != JobStatus.SUCCESS)


class _Batch:
    """The server rows of a batch of events: locked and read at its start, written back at its end."""

    def __init__(self, servers: dict[int, Any], open_actions: set[tuple], nics: dict[int, list[dict]]):
        self.servers = servers
        self.open_actions = open_actions
        self.nics = nics  # server id -> its NICs as the batch leaves them (read for servers whose events may change them)
        self.networks = NicNetworks()
        self.changed: dict[int, tuple[Any, set[str]]] = {}
        self.replaced_nics: set[int] = set()
        self.settlements: dict[int, list[JobEnd]] = {}
        self.finished_actions: list[event_rows.ActionEnd] = []
        self.destroyed: set[int] = set()  # servers whose ports go (logic.neutron.server_ports.release)

    @classmethod
    def load(cls, events: Sequence[Event], ours: dict[int, int]) -> _Batch:
        """Lock and read the rows, and only what the events will read: flavors (all but progress
        events) and open action-log rows (finished jobs)."""
        servers = event_rows.lock_and_load(sorted(set(ours.values())))
        full = {sid for i, sid in ours.items() if not _progress_only(events[i])}
        event_rows.load_flavors(servers[sid] for sid in sorted(full) if sid in servers)
        ending = {sid for i, sid in ours.items() if events[i].type == OP_STATUS and events[i].job_finished}
        actions = event_rows.unfinished_actions(sorted(ending & servers.keys()))
        nics = {sid for i, sid in ours.items() if _may_change_nics(events[i])}
        return cls(servers, actions, event_rows.nics_of(sorted(nics & servers.keys())))

    def apply(self, event: Event, server_id: int) -> Outcome:
        server = self.servers.get(server_id)
        if server is None:
            return Outcome("ignored", server_id, reason="no such server")
        if server.backend_id is not None and server.cluster_name != event.cluster:
            log.warning(
                "event %s from cluster %s about %s, which lives on %s",
                event.id,
                event.cluster,
                event.instance,
                server.cluster_name,
            )
            return Outcome("ignored", server_id, reason=f"server lives on cluster {server.cluster_name}")
        changes = _Transition(server, event, self).run()
        if not changes:
            return Outcome("stale", server_id, reason="nothing newer than what the server reflects")
        log.info("event %s applied to server %s: %s", event.id, server_id, ", ".join(changes))
        return Outcome("applied", server_id, tuple(changes))

    def changed_fields(self, server, names: set[str]) -> None:
        self.changed.setdefault(server.pk, (server, set()))[1].update(names)

    def nics_of(self, server) -> list[dict]:
        if server.pk not in self.nics:  # not expected: the servers of all but progress events were read
            self.nics.update(event_rows.nics_of([server.pk]))
        return self.nics[server.pk]

    def replace_nics(self, server, nics: list[dict]) -> None:
        self.nics[server.pk] = nics
        self.replaced_nics.add(server.pk)

    def settle(self, server, settlement: JobEnd) -> None:
        self.settlements.setdefault(server.pk, []).append(settlement)

    def finish(self) -> None:
        """Write the changed rows, their NICs and finished actions, then settle the quotas with the rows as the batch left them."""
        event_rows.write_changes(self.changed)
        event_rows.replace_nics({pk: self.nics[pk] for pk in sorted(self.replaced_nics)})
        event_rows.finish_actions(self.finished_actions)
        if self.destroyed:
            server_ports.release(sorted(self.destroyed))
        if not self.settlements:
            return
        items = [(self.servers[pk], jobs) for pk, jobs in self.settlements.items()]
        event_rows.load_flavors(server for server, _ in items)  # a resize restored the old flavor id
        settle_server_jobs(items)


class _Transition:
    """The changes one event makes to one locked server row."""

    def __init__(self, server, event: Event, batch: _Batch):
        self.server = server
        self.event = event
        self.batch = batch
        self.changes: list[str] = []
        self.dirty: set[str] = set()

    def set(self, name: str, value: Any) -> None:
        if getattr(self.server, name) != value:
            setattr(self.server, name, value)
            self.dirty.add(name)

    def run(self) -> list[str]:
        ev = self.event
        destroyed = self.server.operstate == OperState.DESTROYED
        if ev.type == OP_STATUS:
            self._job_status()
            self._finish_task()
            self._state_from_opcode()
        elif ev.type == SNAPSHOT:
            self._state_from_snapshot()
        if not destroyed and self.server.operstate != OperState.DESTROYED:
            self._sync_nics()
            self._sync_flavor()
        if self.dirty:
            self.batch.changed_fields(self.server, self.dirty)
        self._settle_quota()
        return self.changes

    # -- quotas: settle the job's charge; count what Ganeti did outside the API (logic.server_quotas)
    def _settle_quota(self) -> None:
        ev = self.event
        if ev.type == OP_STATUS and ev.job_finished:
            ended = ev.status if ev.status in (JobStatus.ERROR, JobStatus.CANCELED) else (ev.job_status or ev.status)
            self.batch.settle(self.server, JobEnd(ev.job_id, ev.operation, ended, ev.request_ids))
        elif ev.type != OP_STATUS and self.dirty & {"operstate", "flavor", "deleted"}:
            self.batch.settle(self.server, JobEnd(None, None, None))

    # -- job status group
    def _job_status(self) -> None:
        ev, s = self.event, self.server
        mine = (ev.time_us, ev.job_id, STATUS_RANK[ev.status])
        if s.backend_eventtime is not None:
            theirs = (to_us(s.backend_eventtime), s.backend_job_id or 0, STATUS_RANK.get(s.backend_jobstatus, -1))
            if mine <= theirs:
                return
        for name, value in (
            ("backend_eventtime", ev.event_time),
            ("backend_job_id", ev.job_id),
            ("backend_opcode", ev.operation),
            ("backend_jobstatus", ev.status),
            ("backend_logmsg", (ev.logmsg or error_message(ev.result)) if ev.status == JobStatus.ERROR else ev.logmsg),
            # an operator's (or the watcher's) reboot in progress shows as REBOOT/HARD_REBOOT (logic.server_status)
            ("backend_reboot_type", reboot_type(ev) if ev.operation == OpCode.INSTANCE_REBOOT else None),
        ):
            self.set(name, value)
        self.changes.append(f"job {ev.job_id} {ev.operation} {ev.status}")

    # -- pending task and action log
    def _is_task_job(self) -> bool:
        """Is the event's job the one of the server's pending task?

        By the recorded job id; before the API recorded it (the job can end
        first), by the API request id in the job's reason trail.
        """
        ev, s = self.event, self.server
        if s.task is None:
            return False
        if s.task_job_id is not None:
            return s.task_job_id == ev.job_id
        return bool(s.task_request_id) and s.task_request_id in ev.request_ids

    def _finish_task(self) -> None:
        ev, s = self.event, self.server
        if not ev.job_finished:
            return
        by_request = None  # the request whose job id the API has not recorded yet
        if self._is_task_job():
            if s.task_job_id is None:
                by_request = s.task_request_id
                self.changes.append(f"job {ev.job_id} matched to request {by_request}")
            self.changes.append(f"task {s.task} done")
            self._finish_resize()
            self.set("task", None)
            self.set("task_job_id", None)
            self.set("task_request_id", None)
        ok = ev.status == JobStatus.SUCCESS and (ev.job_status or ev.status) == JobStatus.SUCCESS
        mine = {
            (sid, job, rid)
            for sid, job, rid in self.batch.open_actions
            if sid == s.pk and (job == ev.job_id or (by_request and job is None and rid == by_request))
        }
        if not mine:
            return  # the batch read the unfinished actions of its servers: none is (still) open for this job
        self.batch.open_actions -= mine  # the first event of the batch to end the job finishes its rows
        self.batch.finished_actions.append(
            event_rows.ActionEnd(
                server_id=s.pk,
                job_id=ev.job_id,
                request_id=by_request,
                finish_time=ev.event_time,
                result="Success" if ok else "Error",
                message=None if ok else (error_message(ev.result) or ev.status),
            )
        )
        self.changes.append("action finished")

    # -- resize (owned by the compute API's servers rules; kept apart from the rest on purpose)
    def _finish_resize(self) -> None:
        """A resize job ended: on success the server waits in VERIFY_RESIZE for confirm/revert;
        on failure (or cancel) it keeps its old flavor, as if the resize had never been asked."""
        ev, s = self.event, self.server
        if s.task != ServerTask.RESIZE:
            return
        ok = ev.status == JobStatus.SUCCESS and (ev.job_status or ev.status) == JobStatus.SUCCESS
        if ok:
            self.set("awaiting_resize_confirm", True)
            self.changes.append("resize awaits confirmation")
        elif s.old_flavor_id is not None:
            self.set("flavor_id", s.old_flavor_id)
            self.set("old_flavor_id", None)
            self.set("awaiting_resize_confirm", False)
            self.changes.append("resize failed: old flavor restored")

    # -- state group
    def _state_newer(self) -> bool:
        s = self.server
        return s.backendtime is None or self.event.time_us > to_us(s.backendtime)

    def _state_from_opcode(self) -> None:
        ev, s = self.event, self.server
        if ev.status not in FINISHED:
            return
        target: str | None = None
        fault: dict | None = None
        if ev.status == JobStatus.SUCCESS:
            target = SUCCESS_STATE.get(ev.operation)
            if ev.operation == OpCode.INSTANCE_CREATE:
                self._launched()  # a fact, whatever the state events around it say
        elif is_instance_not_found(ev):
            target = OperState.DESTROYED
        elif ev.operation == OpCode.INSTANCE_CREATE:
            target = OperState.ERROR
            message = error_message(ev.result) or f"creation {ev.status}"
            fault = {"code": 500, "message": message[:1000], "created": ev.event_time.isoformat(), "job_id": ev.job_id}
        if target is None or not self._state_newer():
            return
        if s.operstate == OperState.DESTROYED and target != OperState.DESTROYED:
            return  # a finished remove is final
        self._enter_state(target, fault)

    def _launched(self) -> None:
        ev, s = self.event, self.server
        if s.launched_at is None or ev.event_time < s.launched_at:
            self.set("launched_at", ev.event_time)
            self.changes.append("launched")
        self.set("build_percentage", 100)

    def _state_from_snapshot(self) -> None:
        ev, s = self.event, self.server
        target = {"up": OperState.STARTED, "down": OperState.STOPPED, "absent": OperState.DESTROYED}[ev.oper_state]
        if not self._state_newer() or s.operstate == OperState.DESTROYED:
            return
        if target == s.operstate:
            return
        self._enter_state(target, None)

    def _enter_state(self, target: str, fault: dict | None) -> None:
        ev, s = self.event, self.server
        if s.operstate != target:
            self.changes.append(f"{s.operstate} -> {target}")
        self.set("operstate", target)
        self.set("backendtime", ev.event_time)
        if target == OperState.ERROR:
            self.set("fault", fault)
        elif s.fault is not None:
            self.set("fault", None)
        if target == OperState.DESTROYED:
            self.set("deleted", True)
            self.set("terminated_at", ev.event_time)
            self.set("task", None)
            self.set("task_job_id", None)
            # What Ganeti reports of its NICs as of now is "none": NIC reports older than the
            # destroy change nothing, in whatever order they come (order independence).
            if s.nics_synced_at is None or ev.event_time > s.nics_synced_at:
                self.set("nics_synced_at", ev.event_time)
            self._release_resources()
        if not self.changes:
            self.changes.append(f"state time {ev.event_time.isoformat()}")

    def _release_resources(self) -> None:
        """A destroyed server holds no NICs (and so no IPs): its ports are deleted or unbound."""
        self.batch.destroyed.add(self.server.pk)
        released = len(self.batch.nics_of(self.server))
        if released:
            self.batch.replace_nics(self.server, [])
            self.changes.append(f"released {released} NIC(s)")

    # -- NICs
    def _sync_nics(self) -> None:
        ev, s = self.event, self.server
        if ev.nics is None or ev.status not in (None, JobStatus.SUCCESS):
            return
        if s.nics_synced_at is not None and ev.time_us <= to_us(s.nics_synced_at):
            return
        wanted = [_nic_fields(n, i, self.batch.networks) for i, n in enumerate(ev.nics)]
        self.set("nics_synced_at", ev.event_time)
        if sorted(self.batch.nics_of(s), key=lambda n: n["index"]) == sorted(wanted, key=lambda n: n["index"]):
            return
        self.batch.replace_nics(s, wanted)
        self.changes.append(f"NICs {[(n['mac'], n['ipv4'] or n['ipv6']) for n in wanted]}")

    # -- flavor
    def _sync_flavor(self) -> None:
        ev, s = self.event, self.server
        if not ev.beparams or ev.status not in (None, JobStatus.SUCCESS):
            return
        if s.flavor_synced_at is not None and ev.time_us <= to_us(s.flavor_synced_at):
            return
        vcpus, ram = ev.beparams.get("vcpus"), ev.beparams.get("maxmem", ev.beparams.get("memory"))
        if type(vcpus) is not int or type(ram) is not int:
            return
        self.set("flavor_synced_at", ev.event_time)
        if s.flavor.vcpus == vcpus and s.flavor.ram == ram:
            return
        flavor = matching_flavor(s.flavor, vcpus, ram)
        if flavor is None:
            log.warning("server %s: Ganeti reports %d vCPU / %d MiB; no flavor matches", s.pk, vcpus, ram)
            return
        self.changes.append(f"flavor {s.flavor.name} -> {flavor.name}")
        s.flavor = flavor
        self.dirty.add("flavor")


def reboot_type(event: Event) -> str:
    """``soft`` or ``hard`` (Ganeti's RAPI reboots hard unless told otherwise)."""
    return "soft" if event.job_fields.get("reboot_type") == "soft" else "hard"


def matching_flavor(current, vcpus: int, ram: int):
    """The flavor with ``vcpus``/``ram`` and the same disk and disk template as ``current``."""
    from logic.models import Flavor

    candidates = Flavor.objects.filter(vcpus=vcpus, ram=ram, disk=current.disk, disk_template=current.disk_template)
    return candidates.order_by("disabled", "id").first()


def _nic_fields(nic: dict, position: int, networks: NicNetworks) -> dict:
    ip = nic.get("ip") or None
    index = nic.get("index")
    # A NIC on a Ganeti network is named after the API network behind it (addresses are keyed by it);
    # a NIC on a bridge/link only, after the API network defined by that link and mode.
    network = networks.for_nic(nic)
    return {
        "index": index if type(index) is int else position,
        "mac": str(nic.get("mac") or ""),
        "ipv4": ip if ip and ":" not in ip else None,
        "ipv6": ip if ip and ":" in ip else None,
        "network_name": network.name if network else str(nic.get("network") or "public"),
        "network_id": str(network.pk) if network else None,
        "link": str(nic.get("link") or ""),
        "mode": str(nic.get("mode") or ""),
    }


def _record_heartbeat(event: Event) -> Outcome:
    """Keep each cluster's newest heartbeat (older ones, e.g. redelivered, change nothing)."""
    from logic.models import ClusterHeartbeat

    raw = event.raw
    values = {
        "host": str(raw.get("host", "")),
        "is_master": bool(raw.get("is_master", True)),
        "event_time": event.event_time,
        "received_at": timezone.now(),
        "spool_depth": raw.get("spool_depth") if type(raw.get("spool_depth")) is int else 0,
        "published": raw.get("published") if type(raw.get("published")) is int else 0,
    }
    with transaction.atomic(savepoint=False):
        row = ClusterHeartbeat.objects.select_for_update().filter(cluster=event.cluster).first()
        if row is None:
            ClusterHeartbeat.objects.create(cluster=event.cluster, **values)
        elif event.event_time > row.event_time:
            ClusterHeartbeat.objects.filter(pk=row.pk).update(**values)
        else:
            return Outcome("stale", reason="older heartbeat")
    return Outcome("heartbeat", reason=f"{event.cluster} alive ({values['host']})")
