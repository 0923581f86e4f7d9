"""Quota charges of server actions, and their settlement when the Ganeti job ends.

The API side (``logic.servers``) calls one ``charge_*`` function inside the
transaction that writes the action's intent, and :func:`logic.quotas.bind_job`
where it records the job id. The event side (``logic.events``) calls
:func:`settle_server_jobs` in the transaction that applies a batch of job ends,
after the server rows have been updated:

- the pending commission of that job (matched by job id, or when the job id
  was not recorded yet by the API request id in the job's reason trail, or by
  the action) is accepted on success, released on error or
  cancel; a commission that is no longer pending is left alone, so a redelivered
  event counts nothing twice;
- when no commission of the server is pending any more, what the server holds
  (:func:`footprint`) is compared with what its accepted commissions charged,
  and any difference is charged, forced. This is how jobs an operator ran with
  the Ganeti CLI are counted, so usage always equals what exists.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from logic import quotas
from logic.enums import CommissionState, JobStatus, OpCode, OperState, QuotaResource, ServerTask
from logic.models import Commission, Flavor, QuotaHolding, Server

log = logging.getLogger(__name__)

#: The resources a server holds.
SERVER_RESOURCES = (
    QuotaResource.SERVERS,
    QuotaResource.TOTAL_CPU,
    QuotaResource.CPU,
    QuotaResource.TOTAL_RAM,
    QuotaResource.RAM,
    QuotaResource.DISK,
)

#: The server actions whose commission a job of this opcode settles.
ACTIONS_BY_OPCODE: dict[str, set[str]] = {
    OpCode.INSTANCE_CREATE: {ServerTask.BUILD},
    OpCode.INSTANCE_REMOVE: {ServerTask.DESTROY},
    OpCode.INSTANCE_STARTUP: {ServerTask.START},
    OpCode.INSTANCE_SHUTDOWN: {ServerTask.STOP},
    OpCode.INSTANCE_SET_PARAMS: {ServerTask.RESIZE, ServerTask.REVERT_RESIZE},
    OpCode.INSTANCE_REBOOT: {ServerTask.REBOOT_SOFT, ServerTask.REBOOT_HARD},
}


def flavor_usage(flavor: Flavor, *, running: bool) -> dict[str, int]:
    """What one server of ``flavor`` holds; the running counters only if it runs."""
    held = {
        QuotaResource.SERVERS: 1,
        QuotaResource.TOTAL_CPU: flavor.vcpus,
        QuotaResource.TOTAL_RAM: flavor.ram,
        QuotaResource.DISK: flavor.disk + flavor.ephemeral,
    }
    if running:
        held[QuotaResource.CPU] = flavor.vcpus
        held[QuotaResource.RAM] = flavor.ram
    return quotas.clean_deltas(held)


def footprint(server: Server) -> dict[str, int]:
    """What the server holds as its row says now (after the last applied event).

    Nothing while it is being built or after it is gone, nor in ERROR when it
    was never built (a failed create); the totals when it exists; the running
    counters too when it runs.
    """
    if server.deleted or server.operstate in (OperState.DESTROYED, OperState.BUILD):
        return {}
    if server.operstate == OperState.ERROR and server.launched_at is None:
        return {}
    return flavor_usage(server.flavor, running=server.operstate == OperState.STARTED)


def charged(server: Server) -> dict[str, int]:
    """The sum of the server's accepted commissions: what the counters hold for it."""
    rows = Commission.objects.filter(server=server, state=CommissionState.ACCEPTED).values_list("deltas", flat=True)
    return quotas.add_deltas(*rows)


def _negate(deltas: Mapping[str, int]) -> dict[str, int]:
    return {r: -a for r, a in deltas.items() if a}


def _charge(server: Server, deltas: Mapping[str, int], action: str, request_id: str, *, force: bool = False):
    return quotas.charge(
        server.project_id,
        server.user_id,
        deltas,
        reason=f"{action.lower()} server {server.pk}",
        force=force,
        server=server,
        action=action,
        request_id=request_id or "",
    )


# --------------------------------------------------------------------------- the API side


def charge_create(server: Server, *, request_id: str = "") -> Commission | None:
    """A new server (saved, in BUILD): it will hold its flavor, running. Raises QuotaExceeded."""
    return _charge(server, flavor_usage(server.flavor, running=True), ServerTask.BUILD, request_id)


def charge_start(server: Server, *, request_id: str = "") -> Commission | None:
    """Starting moves only the running counters."""
    return _charge(server, _running_part(server.flavor), ServerTask.START, request_id)


def charge_stop(server: Server, *, request_id: str = "") -> Commission | None:
    """Stopping frees the running counters (when the job succeeds)."""
    return _charge(server, _negate(_running_part(server.flavor)), ServerTask.STOP, request_id)


def charge_resize(
    server: Server, old_flavor: Flavor, new_flavor: Flavor, *, request_id: str = "", action: str = ServerTask.RESIZE
):
    """Resizing moves the differences (running ones too when the server runs). Raises QuotaExceeded."""
    running = server.operstate == OperState.STARTED
    deltas = quotas.add_deltas(flavor_usage(new_flavor, running=running), _negate(flavor_usage(old_flavor, running=running)))
    return _charge(server, deltas, action, request_id)


def charge_delete(server: Server, *, request_id: str = "") -> Commission | None:
    """Deleting frees everything the server holds (when the job succeeds). Never refused."""
    return _charge(server, _negate(charged(server)), ServerTask.DESTROY, request_id, force=True)


def _running_part(flavor: Flavor) -> dict[str, int]:
    return quotas.clean_deltas({QuotaResource.CPU: flavor.vcpus, QuotaResource.RAM: flavor.ram})


# --------------------------------------------------------------------------- the event side


@dataclass(frozen=True)
class JobEnd:
    """How a job of a server ended (``opcode`` None: no job, only a true-up is wanted)."""

    job_id: int | None
    opcode: str | None
    status: str | None
    request_ids: frozenset[str] = frozenset()


def settle_server_jobs(ends: Sequence[tuple[Server, Sequence[JobEnd]]]) -> None:
    """Settle the commissions of finished jobs, then true up the servers with nothing left pending.

    Call in the dispatcher's transaction, after the events were applied to the
    (locked) server rows; harmless to call twice for the same events. A
    :class:`JobEnd` with no opcode (a reconciliation snapshot) asks only for the
    true-up. The cost is a constant number of statements whatever the number of
    servers and jobs: one read of the pending commissions (locked), one lock per
    (project, user) scope, taken in scope order before any counter moves, one
    write of the counters the settlements move, one state update per outcome, one
    read of the ledger, and per drifted scope one counter write and one insert.
    A server's true-up uses its row as it is now: several jobs of one server
    settled together are trued up once, to the newest state.
    """
    if not quotas.enabled() or not ends:
        return
    ends = sorted(ends, key=lambda item: (str(item[0].project_id), str(item[0].user_id), item[0].pk))
    pending = _pending_commissions([s.pk for s, _ in ends])
    outcomes: list[tuple[Commission, str]] = []
    settled: list[tuple[Server, str]] = []
    for server, jobs in ends:
        left = pending.get(server.pk, [])
        done = [job for job in jobs if job.opcode is None or job.status in JobStatus.finished()]
        for job in done:
            for commission in _matching(left, job):
                outcome = CommissionState.ACCEPTED if job.status == JobStatus.SUCCESS else CommissionState.RELEASED
                outcomes.append((commission, outcome))
                left.remove(commission)
        if not left and done:
            last = done[-1]
            why = f"ganeti job {last.job_id} {last.opcode} {last.status}" if last.opcode else "state reported by Ganeti"
            settled.append((server, why))
    scopes = sorted({(c.project_id, c.user_id) for c, _ in outcomes} | {(s.project_id, s.user_id) for s, _ in settled}, key=str)
    locked = {scope: _lock_scope(*scope) for scope in scopes}
    _settle_many(outcomes, locked)
    _true_up_many(settled, locked)


def _pending_commissions(server_ids: list[int]) -> dict[int, list[Commission]]:
    """The servers' pending commissions, locked, oldest first, by server id."""
    if connection.vendor == "postgresql":  # plain SQL: the ORM's query building cost more than the query
        rows = Commission.objects.raw(
            f"SELECT * FROM {Commission._meta.db_table} WHERE server_id = ANY(%s) AND state = %s ORDER BY id FOR UPDATE",
            [server_ids, CommissionState.PENDING],
        )
    else:
        rows = (
            Commission.objects.select_for_update().filter(server_id__in=server_ids, state=CommissionState.PENDING).order_by("id")
        )
    pending: dict[int, list[Commission]] = {}
    for c in rows:
        pending.setdefault(c.server_id, []).append(c)
    return pending


def _settle_many(outcomes: list[tuple[Commission, str]], locked: Mapping[tuple, dict]) -> None:
    """:func:`logic.quotas.accept` / :func:`~logic.quotas.release` of pending commissions that this
    transaction holds locked, with the counter rows of their scopes locked too: the counters written
    in one statement, the commissions marked in one statement per outcome."""
    if not outcomes:
        return
    changed: dict[int, QuotaHolding] = {}
    for commission, outcome in outcomes:
        # A server's commissions move only SERVER_RESOURCES (every charge above is built from them),
        # which are the rows _lock_scope locked.
        for row in quotas.settle_counters(locked[(commission.project_id, commission.user_id)], commission, outcome):
            changed[row.pk] = row
    quotas._save(changed.values())
    now = timezone.now()
    for outcome in (CommissionState.ACCEPTED, CommissionState.RELEASED):
        ids = [c.pk for c, o in outcomes if o == outcome]
        if ids:
            Commission.objects.filter(pk__in=ids).update(state=outcome, resolved_at=now)
    for commission, outcome in outcomes:
        commission.state, commission.resolved_at = outcome, now


def _matching(pending: list[Commission], job: JobEnd) -> list[Commission]:
    """The pending commissions ``job`` settles: by job id, else by request id, else by action."""
    if job.opcode is None:
        return []
    matched = [c for c in pending if job.job_id is not None and c.job_id == job.job_id]
    if not matched and job.request_ids:
        matched = [c for c in pending if c.job_id is None and c.request_id and c.request_id in job.request_ids][:1]
    if not matched:
        actions = ACTIONS_BY_OPCODE.get(job.opcode, set())
        matched = [c for c in pending if c.job_id is None and c.action in actions][:1]
    return matched


def _true_up_many(settled: list[tuple[Server, str]], locked: Mapping[tuple, dict]) -> None:
    """:func:`true_up` of several servers (with the reason of each), whose scopes' rows are locked: one ledger read."""
    if not settled:
        return
    servers = [s for s, _ in settled]
    reasons = {s.pk: why for s, why in settled}
    ledger: dict[int, list[Mapping[str, int]]] = {}
    ids = [s.pk for s in servers]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT server_id, deltas FROM {Commission._meta.db_table} WHERE server_id = ANY(%s) AND state = %s",
                [ids, CommissionState.ACCEPTED],
            )
            rows = cursor.fetchall()
    else:
        rows = Commission.objects.filter(server_id__in=ids, state=CommissionState.ACCEPTED).values_list("server_id", "deltas")
    for server_id, deltas in rows:
        ledger.setdefault(server_id, []).append(json.loads(deltas) if isinstance(deltas, str | bytes) else deltas)
    drifts: dict[tuple, list[tuple[Server, dict[str, int]]]] = {}
    for server in servers:
        drift = quotas.add_deltas(footprint(server), _negate(quotas.add_deltas(*ledger.get(server.pk, []))))
        if drift:
            drifts.setdefault((server.project_id, server.user_id), []).append((server, drift))
    for (project_id, user_id), items in drifts.items():
        _apply_forced_many(project_id, user_id, items, reasons, locked[(project_id, user_id)])


def _lock_scope(project_id: str, user_id: str | None) -> dict[tuple[str | None, str], QuotaHolding]:
    """:func:`logic.quotas.lock_scope` for the server resources in one plain statement; the locked rows."""
    if connection.vendor != "postgresql":
        quotas.lock_scope(project_id, user_id, SERVER_RESOURCES)
        return quotas._lock_holdings(project_id, user_id, SERVER_RESOURCES)
    quotas.ensure_holdings(project_id, user_id)
    rows = {
        (h.user_id, h.resource): h
        for h in QuotaHolding.objects.raw(
            f"SELECT * FROM {QuotaHolding._meta.db_table} WHERE project_id = %s AND (user_id IS NULL OR user_id = %s) "
            "AND resource = ANY(%s) ORDER BY id FOR UPDATE",
            [project_id, user_id, list(SERVER_RESOURCES)],
        )
    }
    if len(rows) < len(SERVER_RESOURCES) * len({None, user_id}):  # rows the cache believed in are gone: the careful path
        quotas.lock_scope(project_id, user_id, SERVER_RESOURCES)
        return quotas._lock_holdings(project_id, user_id, SERVER_RESOURCES)
    return rows


def _apply_forced_many(
    project_id: str,
    user_id: str | None,
    items: list[tuple[Server, dict[str, int]]],
    reasons: Mapping[int, str],
    rows: Mapping[tuple[str | None, str], QuotaHolding],
) -> None:
    """What :func:`logic.quotas.apply_forced` does for each server, for all of them at once:
    the counters (already locked) moved in one write, one accepted forced SYNC commission per server."""
    total = quotas.add_deltas(*(drift for _, drift in items))
    changed = []
    for resource, amount in total.items():
        for scope in {None, user_id}:
            rows[(scope, resource)].committed += amount
            changed.append(rows[(scope, resource)])
    quotas._save(changed)
    now = timezone.now()
    Commission.objects.bulk_create(
        [
            Commission(
                project_id=project_id,
                user_id=user_id,
                deltas=drift,
                reason=f"{reasons[server.pk]} (true-up)"[:255],
                forced=True,
                server=server,
                action="SYNC",
                state=CommissionState.ACCEPTED,
                resolved_at=now,
            )
            for server, drift in items
        ]
    )
    for server, drift in items:
        log.info("quota true-up", extra={"server": server.pk, "deltas": drift, "reason": reasons[server.pk]})


def bind_job(server: Server, task: str, job_id: int | None) -> None:
    """Record the job id on the server's pending commission of ``task`` (where the API records it)."""
    if job_id is None or not quotas.enabled():
        return
    Commission.objects.filter(server=server, action=task, state=CommissionState.PENDING, job_id__isnull=True).update(
        job_id=job_id
    )


def release_unsubmitted(server: Server, task: str) -> None:
    """The job of ``task`` could not be submitted: release its charge (in the caller's transaction)."""
    if not quotas.enabled():
        return
    for commission in Commission.objects.select_for_update().filter(
        server=server, action=task, state=CommissionState.PENDING, job_id__isnull=True
    ):
        quotas.release(commission)


def release_all(server: Server) -> None:
    """A server row goes away without a job (never built): release what is pending, charge back the rest."""
    if not quotas.enabled():
        return
    for commission in Commission.objects.select_for_update().filter(server=server, state=CommissionState.PENDING):
        quotas.release(commission)
    quotas.apply_forced(
        server.project_id, server.user_id, _negate(charged(server)), reason="server deleted without a Ganeti job", server=server
    )


def true_up(server: Server, *, reason: str) -> Commission | None:
    """Charge (forced, accepted) the difference between what the server holds and what was charged.

    The holding rows are locked before the ledger is read, so a concurrent
    reconciliation of the project cannot correct the same difference too.
    """
    if not quotas.enabled():
        return None
    quotas.lock_scope(server.project_id, server.user_id, SERVER_RESOURCES)
    drift = quotas.add_deltas(footprint(server), _negate(charged(server)))
    if not drift:
        return None
    log.info("quota true-up", extra={"server": server.pk, "deltas": drift, "reason": reason})
    return quotas.apply_forced(server.project_id, server.user_id, drift, reason=f"{reason} (true-up)", server=server)
