"""Quotas: provisional charges (commissions) taken in the action's own transaction.

The life of a charge::

    with transaction.atomic():           # the action's transaction
        ... write the intent ...
        commission = quotas.charge(project, user, {"cyclades.vm": 1, ...}, reason="create server 7")
    ... submit the Ganeti job; quotas.bind_job(commission, job_id) ...
    # later, in the dispatcher's transaction that applies the job's end:
    quotas.accept(commission)            # or quotas.release(commission)

``charge`` raises :class:`QuotaExceeded` (rendered as a 403 ``forbidden``) and
changes nothing when a limit would be passed. ``accept`` and ``release`` act only
on a pending commission, so applying the same job end twice is harmless.

Locking: the holding rows a charge touches are locked with ``SELECT ... FOR
UPDATE`` ordered by id, so concurrent charges of one project queue on the same
rows in the same order (exact counters, no deadlocks between charges). Callers
that also lock a server or a commission lock those first.

Server actions use the helpers in :mod:`logic.server_quotas`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from logic.enums import CommissionState, QuotaResource
from logic.errors import InvalidInput, OverQuotaError
from logic.models import Commission, Project, QuotaHolding, User

log = logging.getLogger(__name__)

UNLIMITED = -1

#: The setting that holds each resource's default per-project limit.
DEFAULT_SETTING: dict[str, str] = {
    QuotaResource.SERVERS: "QUOTA_INSTANCES",
    QuotaResource.TOTAL_CPU: "QUOTA_CORES",
    QuotaResource.CPU: "QUOTA_RUNNING_CORES",
    QuotaResource.TOTAL_RAM: "QUOTA_RAM",
    QuotaResource.RAM: "QUOTA_RUNNING_RAM",
    QuotaResource.DISK: "QUOTA_DISK",
    QuotaResource.PRIVATE_NETWORKS: "QUOTA_PRIVATE_NETWORKS",
    QuotaResource.FLOATING_IPS: "QUOTA_FLOATING_IPS",
    QuotaResource.SUBNETS: "QUOTA_SUBNETS",
    QuotaResource.PORTS: "QUOTA_PORTS",
    QuotaResource.SECURITY_GROUPS: "QUOTA_SECURITY_GROUPS",
    QuotaResource.VOLUMES: "QUOTA_VOLUMES",
    QuotaResource.VOLUME_GB: "QUOTA_VOLUME_GB",
    QuotaResource.VOLUME_SNAPSHOTS: "QUOTA_VOLUME_SNAPSHOTS",
    QuotaResource.IMAGES: "QUOTA_IMAGES",
}

#: How a resource is named in messages (Nova's words where Nova has one).
LABEL: dict[str, str] = {
    QuotaResource.SERVERS: "instances",
    QuotaResource.TOTAL_CPU: "cores",
    QuotaResource.CPU: "cores of running servers",
    QuotaResource.TOTAL_RAM: "ram",
    QuotaResource.RAM: "ram of running servers",
    QuotaResource.DISK: "disk_gb",
    QuotaResource.PRIVATE_NETWORKS: "private networks",
    QuotaResource.FLOATING_IPS: "floating_ips",
    QuotaResource.SUBNETS: "subnets",
    QuotaResource.PORTS: "ports",
    QuotaResource.SECURITY_GROUPS: "security_groups",
    QuotaResource.VOLUMES: "volumes",
    QuotaResource.VOLUME_GB: "gigabytes",
    QuotaResource.VOLUME_SNAPSHOTS: "snapshots",
    QuotaResource.IMAGES: "images",
}

RESOURCES: list[str] = [r.value for r in QuotaResource]
_ORDER = {r: i for i, r in enumerate(RESOURCES)}


class QuotaExceeded(OverQuotaError):
    """A charge would pass a limit. Rendered as 403 ``forbidden`` with Nova's wording."""

    def __init__(self, resource: str, limit: int, usage: int, requested: int, *, per_user: bool = False):
        self.resource, self.limit, self.usage, self.requested, self.per_user = resource, limit, usage, requested, per_user
        label = LABEL.get(resource, resource)
        scope = " (your own limit in this project)" if per_user else ""
        super().__init__(f"Quota exceeded for {label}{scope}: Requested {requested}, but already used {usage} of {limit} {label}")


@dataclass(frozen=True)
class Usage:
    """One resource's figures for a project or a user in it."""

    resource: str
    limit: int
    committed: int
    pending_up: int
    pending_down: int

    @property
    def in_use(self) -> int:
        """What counts against the limit (Nova's "used")."""
        return self.committed + self.pending_up


# --------------------------------------------------------------------------- settings


def enabled() -> bool:
    """QUOTA_ENABLED: when off nothing is charged nor refused."""
    return bool(settings.CYCLADES.get("QUOTA_ENABLED", True))


def default_limit(resource: str) -> int:
    return int(settings.CYCLADES.get(DEFAULT_SETTING[resource], UNLIMITED))


def effective_limit(holding_limit: int | None, resource: str, *, per_user: bool) -> int:
    """A row's limit with the default applied: the setting for a project, unlimited for a user."""
    if holding_limit is not None:
        return holding_limit
    return UNLIMITED if per_user else default_limit(resource)


def clean_deltas(deltas: Mapping[str, int]) -> dict[str, int]:
    """Known resources with non-zero integer amounts, in the canonical order."""
    out: dict[str, int] = {}
    for resource, amount in deltas.items():
        if resource not in _ORDER:
            raise ValueError(f"unknown quota resource {resource!r}")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise ValueError(f"quota delta for {resource} must be an integer, got {amount!r}")
        if amount:
            out[resource] = amount
    return dict(sorted(out.items(), key=lambda kv: _ORDER[kv[0]]))


def add_deltas(*many: Mapping[str, int]) -> dict[str, int]:
    """Sum of several delta mappings, zeros dropped."""
    total: dict[str, int] = {}
    for deltas in many:
        for resource, amount in deltas.items():
            total[resource] = total.get(resource, 0) + amount
    return {r: a for r, a in total.items() if a}


# --------------------------------------------------------------------------- holding rows

# (project id, user id or None) pairs whose holding rows are known to be committed.
_known_scopes: set[tuple[str, str | None]] = set()


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("quota charges must be taken inside the action's transaction (transaction.atomic)")


def _pk(obj: Project | User | str | None) -> str | None:
    return obj if obj is None or isinstance(obj, str) else obj.pk


def ensure_holdings(project_id: str, user_id: str | None) -> None:
    """Create the holding rows of a project and of a user in it, if missing.

    Rows are created (all resources at once, project rows first) before any row
    is locked, so two transactions creating them never wait on each other in
    opposite orders.
    """
    scopes = [(project_id, None)] + ([(project_id, user_id)] if user_id else [])
    missing = [s for s in scopes if s not in _known_scopes]
    if not missing:
        return
    QuotaHolding.objects.bulk_create(
        [QuotaHolding(project_id=p, user_id=u, resource=r) for p, u in missing for r in RESOURCES],
        ignore_conflicts=True,
    )

    def remember() -> None:
        _known_scopes.update(missing)

    transaction.on_commit(remember)


def forget_known_holdings() -> None:
    """Drop the cache of existing rows (tests that truncate tables call this)."""
    _known_scopes.clear()


def _lock_holdings(project_id: str, user_id: str | None, resources: Iterable[str]) -> dict[tuple[str | None, str], QuotaHolding]:
    """Lock the rows of ``resources`` for the project and the user, in id order."""
    resources = list(resources)
    if not resources:
        return {}
    scope = Q(user__isnull=True) | Q(user_id=user_id) if user_id else Q(user__isnull=True)
    rows = QuotaHolding.objects.select_for_update().filter(scope, project_id=project_id, resource__in=resources).order_by("id")
    locked = {(h.user_id, h.resource): h for h in rows}
    wanted = {(u, r) for u in {None, user_id} for r in resources}
    if wanted - set(locked):
        # The cache believed in rows that are not there (rolled back or deleted): create them and lock again.
        _known_scopes.discard((project_id, None))
        _known_scopes.discard((project_id, user_id))
        ensure_holdings(project_id, user_id)
        locked = {(h.user_id, h.resource): h for h in rows.all()}
    return locked


def lock_scope(project: Project | str, user: User | str | None, resources: Iterable[str] = RESOURCES) -> None:
    """Lock the holding rows of a project and a user in it (in the current transaction)."""
    _require_transaction()
    project_id, user_id = _pk(project), _pk(user)
    ensure_holdings(project_id, user_id)
    _lock_holdings(project_id, user_id, resources)


def _save(rows: Iterable[QuotaHolding]) -> None:
    """Write the counters of locked rows in one statement.

    On PostgreSQL a plain ``UPDATE ... FROM (VALUES ...)``: Django's
    ``bulk_update`` builds a CASE expression per row and field, which costs more
    Python time than the rest of a charge.
    """
    rows = list(rows)
    if not rows:
        return
    now = timezone.now()
    for row in rows:
        row.updated_at = now
    if connection.vendor != "postgresql":
        QuotaHolding.objects.bulk_update(rows, ["committed", "pending_up", "pending_down", "updated_at"])
        return
    table = connection.ops.quote_name(QuotaHolding._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    params: list[int] = []
    for row in rows:
        params += [row.pk, row.committed, row.pending_up, row.pending_down]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS h SET committed = v.committed, pending_up = v.pending_up, pending_down = v.pending_down, "
            f"updated_at = %s FROM (VALUES {values}) AS v(id, committed, pending_up, pending_down) "
            "WHERE h.id = v.id::bigint",
            [now, *params],
        )


# --------------------------------------------------------------------------- commissions


def charge(
    project: Project | str,
    user: User | str | None,
    deltas: Mapping[str, int],
    *,
    reason: str,
    force: bool = False,
    server=None,
    action: str = "",
    request_id: str = "",
) -> Commission | None:
    """Take a provisional charge in the current transaction; returns the pending commission.

    Positive deltas count against the limits at once; negative ones free the
    resource only when accepted. Raises :class:`QuotaExceeded` (nothing changed)
    when a positive delta would pass the project's or the user's limit, unless
    ``force`` (jobs run outside the API, reconciliation). Returns None when
    quotas are disabled (QUOTA_ENABLED off); :func:`accept`, :func:`release`
    and :func:`bind_job` accept None.
    """
    if not enabled():
        return None
    _require_transaction()
    deltas = clean_deltas(deltas)
    project_id, user_id = _pk(project), _pk(user)
    ensure_holdings(project_id, user_id)
    rows = _lock_holdings(project_id, user_id, deltas)
    if not force:
        _check_limits(rows, user_id, deltas)
    for resource, amount in deltas.items():
        for scope in {None, user_id}:
            row = rows[(scope, resource)]
            if amount > 0:
                row.pending_up += amount
            else:
                row.pending_down -= amount
    _save(rows.values())
    return Commission.objects.create(
        project_id=project_id,
        user_id=user_id,
        deltas=deltas,
        reason=reason[:255],
        forced=force,
        server=server,
        action=action,
        request_id=request_id[:64],
    )


def _check_limits(rows: Mapping[tuple[str | None, str], QuotaHolding], user_id: str | None, deltas: Mapping[str, int]) -> None:
    for resource, amount in deltas.items():
        if amount <= 0:
            continue
        for scope in dict.fromkeys([None, user_id]):
            row = rows[(scope, resource)]
            limit = effective_limit(row.limit, resource, per_user=scope is not None)
            if limit != UNLIMITED and row.in_use + amount > limit:
                raise QuotaExceeded(resource, limit, row.in_use, amount, per_user=scope is not None)


def accept(commission: Commission | None) -> bool:
    """Make a pending commission's deltas final. False (and nothing done) if it was already settled."""
    return _settle(commission, CommissionState.ACCEPTED)


def release(commission: Commission | None) -> bool:
    """Undo a pending commission. False (and nothing done) if it was already settled."""
    return _settle(commission, CommissionState.RELEASED)


def _settle(commission: Commission | None, outcome: str) -> bool:
    if commission is None:
        return False
    _require_transaction()
    row = Commission.objects.select_for_update().get(pk=commission.pk)
    if row.state != CommissionState.PENDING:
        log.debug("commission %s already %s; %s ignored", row.pk, row.state, outcome)
        commission.state = row.state
        return False
    deltas = clean_deltas(row.deltas)
    ensure_holdings(row.project_id, row.user_id)
    holdings = _lock_holdings(row.project_id, row.user_id, deltas)
    _save(settle_counters(holdings, row, outcome))
    row.state, row.resolved_at = outcome, timezone.now()
    row.save(update_fields=["state", "resolved_at"])
    commission.state, commission.resolved_at = row.state, row.resolved_at
    return True


def settle_counters(
    rows: Mapping[tuple[str | None, str], QuotaHolding], commission: Commission, outcome: str
) -> list[QuotaHolding]:
    """Move a pending commission's deltas out of the pending counters of ``rows`` (locked, its project's
    and its user's), into ``committed`` when ``outcome`` is accepted; the rows changed, not yet saved."""
    changed = []
    for resource, amount in clean_deltas(commission.deltas).items():
        for scope in dict.fromkeys([None, commission.user_id]):
            row = rows[(scope, resource)]
            if amount > 0:
                row.pending_up -= amount
            else:
                row.pending_down += amount
            if outcome == CommissionState.ACCEPTED:
                row.committed += amount
            changed.append(row)
    return changed


def bind_job(commission: Commission | None, job_id: int) -> None:
    """Record the Ganeti job whose end settles ``commission`` (call where the job id is recorded)."""
    if commission is None:
        return
    # A commission already settled (its job ended first) keeps what it has.
    if Commission.objects.filter(pk=commission.pk, state=CommissionState.PENDING).update(job_id=job_id):
        commission.job_id = job_id


def apply_forced(
    project: Project | str, user: User | str | None, deltas: Mapping[str, int], *, reason: str, server=None
) -> Commission | None:
    """Charge and accept at once, without limits: usage that already exists (jobs run outside the API)."""
    if not clean_deltas(deltas):
        return None
    commission = charge(project, user, deltas, reason=reason, force=True, server=server, action="SYNC")
    accept(commission)
    return commission


# --------------------------------------------------------------------------- reading and setting limits


def _holdings(project_id: str, user_id: str | None) -> dict[str, QuotaHolding]:
    rows = QuotaHolding.objects.filter(project_id=project_id)
    rows = rows.filter(user_id=user_id) if user_id else rows.filter(user__isnull=True)
    return {h.resource: h for h in rows}


def usage(project: Project | str, user: User | str | None = None) -> dict[str, Usage]:
    """Every resource's limit and usage for a project (or for a user in it). No locks taken."""
    project_id, user_id = _pk(project), _pk(user)
    rows = _holdings(project_id, user_id)
    out: dict[str, Usage] = {}
    for resource in RESOURCES:
        h = rows.get(resource)
        out[resource] = Usage(
            resource=resource,
            limit=effective_limit(h.limit if h else None, resource, per_user=user_id is not None),
            committed=h.committed if h else 0,
            pending_up=h.pending_up if h else 0,
            pending_down=h.pending_down if h else 0,
        )
    return out


def limits(project: Project | str, user: User | str | None = None) -> dict[str, int]:
    """Every resource's effective limit (-1 = unlimited) for a project or a user in it."""
    return {r: u.limit for r, u in usage(project, user).items()}


def overrides(project: Project | str, user: User | str | None = None) -> dict[str, int]:
    """The limits set explicitly (not defaults) for a project or a user in it."""
    return {r: h.limit for r, h in _holdings(_pk(project), _pk(user)).items() if h.limit is not None}


def set_limits(
    project: Project | str, new_limits: Mapping[str, int | None], *, user: User | str | None = None, force: bool = False
) -> dict[str, int]:
    """Set (or with None reset to the default) limits of a project or of a user in it.

    Refuses (InvalidInput, nothing changed) a limit below what is already in use,
    unless ``force``. Returns the effective limits afterwards.
    """
    project_id, user_id = _pk(project), _pk(user)
    for resource, value in new_limits.items():
        if resource not in _ORDER:
            raise InvalidInput(f"Unknown quota resource {resource!r}.")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < UNLIMITED):
            raise InvalidInput(f"Quota limit for {LABEL[resource]} must be an integer, -1 for unlimited; got {value!r}.")
    with transaction.atomic():
        ensure_holdings(project_id, user_id)
        rows = _lock_holdings(project_id, user_id, sorted(new_limits, key=_ORDER.__getitem__))
        changed = []
        for resource, value in new_limits.items():
            row = rows[(user_id, resource)]
            effective = effective_limit(value, resource, per_user=user_id is not None)
            if not force and effective != UNLIMITED and effective < row.in_use:
                raise InvalidInput(
                    f"Quota limit {effective} for {LABEL[resource]} is less than the {row.in_use} already in use "
                    "(use force to set it anyway)."
                )
            row.limit = value
            changed.append(row)
        QuotaHolding.objects.bulk_update(changed, ["limit"])
    log.info("quota limits set", extra={"project": project_id, "user": user_id, "limits": dict(new_limits)})
    return limits(project_id, user_id)
