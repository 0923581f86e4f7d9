"""Reconciling quota counters with what exists (``cyclades-manage reconcile-quotas``).

Two comparisons per project, in one transaction that holds the project's
commission and holding locks (so live charges wait, and see the result):

1. every server with no pending commission: what it holds now
   (:func:`logic.server_quotas.footprint`) against what its accepted
   commissions charged. A difference is repaired with a forced, accepted
   commission, so the ledger stays the history of every change;
2. every counter (project and per user) against the commissions: ``committed``
   is the sum of accepted deltas, ``pending_up``/``pending_down`` the sums of
   pending ones. A difference (a counter corrupted or edited by hand) is
   repaired by writing the recomputed value.

Pending commissions older than ``stale_after`` whose server has no action
waiting (the job ended, and its event was lost) are reported; with ``fix`` they
are released, and the server's charge is then trued up in step 1.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from logic import quotas, server_quotas
from logic.enums import CommissionState
from logic.models import Commission, Project, QuotaHolding, Server


@dataclass(frozen=True)
class Difference:
    """One thing that did not match. ``what``: ``server <id>``, ``commission <serial>`` or a counter name."""

    project_id: str
    user_id: str | None
    resource: str
    what: str
    recorded: int
    expected: int

    @property
    def delta(self) -> int:
        return self.expected - self.recorded


def reconcile(
    project_ids: list[str] | None = None, *, fix: bool = False, stale_after: timedelta = timedelta(hours=1)
) -> list[Difference]:
    """Compare (and with ``fix`` repair) the quota counters of the given projects (all when None)."""
    if project_ids is None:
        project_ids = list(Project.objects.order_by("id").values_list("id", flat=True))
    found: list[Difference] = []
    for project_id in project_ids:
        with transaction.atomic():
            found.extend(_reconcile_project(project_id, fix=fix, stale_after=stale_after))
            if not fix:
                transaction.set_rollback(True)  # a report changes nothing, not even missing rows
    return found


def _reconcile_project(project_id: str, *, fix: bool, stale_after: timedelta) -> list[Difference]:
    found: list[Difference] = []
    pending = list(
        Commission.objects.select_for_update(of=("self",))
        .filter(project_id=project_id, state=CommissionState.PENDING)
        .select_related("server")
        .order_by("id")
    )
    quotas.lock_scope(project_id, None)
    for c in _stale(pending, stale_after):
        for resource, amount in quotas.clean_deltas(c.deltas).items():
            found.append(Difference(project_id, c.user_id, resource, f"commission {c.pk} ({c.reason})", amount, 0))
        if fix:
            quotas.release(c)
            pending.remove(c)

    busy = {c.server_id for c in pending if c.server_id is not None}
    for server in _servers(project_id):
        if server.pk in busy:
            continue
        held, charged = server_quotas.footprint(server), server_quotas.charged(server)
        for resource in sorted(set(held) | set(charged)):
            if held.get(resource, 0) != charged.get(resource, 0):
                found.append(
                    Difference(
                        project_id,
                        server.user_id,
                        resource,
                        f"server {server.pk}",
                        charged.get(resource, 0),
                        held.get(resource, 0),
                    )
                )
        if fix:
            server_quotas.true_up(server, reason="reconcile-quotas")

    found.extend(_counters(project_id, fix=fix))
    return found


def _stale(pending: list[Commission], stale_after: timedelta) -> list[Commission]:
    cutoff = timezone.now() - stale_after
    return [c for c in pending if c.created_at < cutoff and (c.server is None or c.server.task is None or c.server.deleted)]


def _servers(project_id: str):
    """Servers that exist, and deleted ones that still have charges."""
    with_charges = Commission.objects.filter(project_id=project_id, state=CommissionState.ACCEPTED, server__isnull=False)
    ids = set(Server.objects.filter(project_id=project_id, deleted=False).values_list("id", flat=True))
    ids |= set(with_charges.values_list("server_id", flat=True).distinct())
    return Server.objects.filter(id__in=ids).select_related("flavor").order_by("id")


def _counters(project_id: str, *, fix: bool) -> list[Difference]:
    """Counters against the sums of the ledger."""
    expected: dict[tuple[str | None, str], dict[str, int]] = defaultdict(
        lambda: {"committed": 0, "pending_up": 0, "pending_down": 0}
    )
    users: set[str] = set()
    rows = Commission.objects.filter(project_id=project_id).exclude(state=CommissionState.RELEASED)
    for user_id, state, deltas in rows.values_list("user_id", "state", "deltas").iterator():
        if user_id:
            users.add(user_id)
        for resource, amount in deltas.items():
            for scope in {None, user_id}:
                figures = expected[(scope, resource)]
                if state == CommissionState.ACCEPTED:
                    figures["committed"] += amount
                elif amount > 0:
                    figures["pending_up"] += amount
                else:
                    figures["pending_down"] -= amount
    for user_id in sorted(users):
        quotas.lock_scope(project_id, user_id)
    found: list[Difference] = []
    changed: list[QuotaHolding] = []
    for row in QuotaHolding.objects.filter(project_id=project_id).order_by("id"):
        want = expected.get((row.user_id, row.resource), {"committed": 0, "pending_up": 0, "pending_down": 0})
        wrong = False
        for name, value in want.items():
            if getattr(row, name) != value:
                found.append(Difference(project_id, row.user_id, row.resource, name, getattr(row, name), value))
                setattr(row, name, value)
                wrong = True
        if wrong:
            changed.append(row)
    if fix and changed:
        QuotaHolding.objects.bulk_update(changed, ["committed", "pending_up", "pending_down"])
    return found
