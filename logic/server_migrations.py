"""Nova's ``os-migrations`` over what this cloud records: resizes (admin only).

Every ``resize`` in the action log is a migration of type ``resize`` (Ganeti resizes in
place, on the instance's own node). Its status follows Nova's words: ``migrating`` while
the job runs, ``finished`` once it ended and awaits confirmation, ``confirmed`` /
``reverted`` after confirmResize / revertResize, ``error`` when it failed. The flavors
are the ones the usage history recorded before and after the resize (null when it holds
none). Moves between Ganeti nodes (live migration, failover) are operator actions that
Ganeti runs (``/admin/v1/servers/<id>/migrate``, ``gnt-instance migrate``): they are not
in the action log, so they are not listed. Nodes and hosts are null (the resize does not
move the instance; which node it is on is Ganeti's).

Filters: ``instance_uuid``, ``status``, ``migration_type`` (2.23), ``host`` and
``source_compute`` (nothing matches a host: see above); 2.59 ``limit``, ``marker`` (a
migration uuid), ``changes-since``, newest first, uuids; 2.66 ``changes-before``; 2.80
``user_id`` and ``project_id`` filters and fields.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from logic.errors import InvalidInput, PolicyError
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import ServerAction, ServerStateRecord
from logic.servers.listing import parse_changes_since

#: the namespace of migration uuids (derived from the action's id, so stable)
NAMESPACE = uuid.UUID("0b6a2f0e-8f55-4f4b-9d0a-5c1e3cf1a3b7")
RESIZE = "resize"
MAX_LIMIT = 1000


def require_admin(ctx: AuthContext) -> None:
    if not ctx.is_admin:
        raise PolicyError("Policy doesn't allow os_compute_api:os-migrations:index to be performed.")


@dataclass
class Migration:
    id: int
    uuid: str
    server_id: int
    status: str
    migration_type: str
    old_flavor_id: int | None
    new_flavor_id: int | None
    created_at: datetime
    updated_at: datetime | None
    user_id: str
    project_id: str


def migration_uuid(action_id: int) -> str:
    return str(uuid.uuid5(NAMESPACE, str(action_id)))


def _status(action: ServerAction, later: list[ServerAction]) -> str:
    if action.result == "Error":
        return "error"
    for follow in later:
        if follow.action == "confirmResize":
            return "confirmed"
        if follow.action == "revertResize":
            return "reverted"
        if follow.action == RESIZE:
            break
    return "finished" if action.finish_time else "migrating"


def _flavors(action: ServerAction) -> tuple[int | None, int | None]:
    records = ServerStateRecord.objects.filter(server_id=action.server_id)
    before = records.filter(at__lt=action.start_time).order_by("-at", "-id").values_list("flavor_id", flat=True).first()
    after = None
    if action.finish_time:
        changed = records.filter(at__gte=action.start_time).order_by("at", "id")
        if before is not None:
            changed = changed.exclude(flavor_id=before)
        after = changed.values_list("flavor_id", flat=True).first()
    return before, after


def _of(action: ServerAction, later: list[ServerAction]) -> Migration:
    old, new = _flavors(action)
    return Migration(
        id=action.pk,
        uuid=migration_uuid(action.pk),
        server_id=action.server_id,
        status=_status(action, later),
        migration_type=RESIZE,
        old_flavor_id=old,
        new_flavor_id=new,
        created_at=action.start_time,
        updated_at=action.finish_time,
        user_id=action.user_id,
        project_id=action.project_id,
    )


@dataclass
class Query:
    """The filters of a list call; which ones count depends on the microversion (the view decides)."""

    instance_uuid: str | None = None
    status: str | None = None
    migration_type: str | None = None
    host: str | None = None
    changes_since: str | None = None
    changes_before: str | None = None
    user_id: str | None = None
    project_id: str | None = None
    limit: str | None = None
    marker: str | None = None


def listing(ctx: AuthContext, query: Query) -> tuple[list[Migration], bool]:
    """The migrations matching ``query``, newest first; and whether a next page exists."""
    require_admin(ctx)
    actions = ServerAction.objects.filter(action=RESIZE)
    if query.host is not None:
        return [], False
    if query.migration_type is not None and query.migration_type != RESIZE:
        return [], False
    if query.instance_uuid is not None:
        if not query.instance_uuid.isdigit():
            return [], False
        actions = actions.filter(server_id=int(query.instance_uuid))
    if query.user_id is not None:
        actions = actions.filter(user_id=query.user_id)
    if query.project_id is not None:
        actions = actions.filter(project_id=query.project_id)
    actions = list(actions.order_by("-start_time", "-id"))
    if query.changes_since is not None:
        since = parse_changes_since(query.changes_since)
        actions = [a for a in actions if (a.finish_time or a.start_time) >= since]
    if query.changes_before is not None:
        before = parse_changes_since(query.changes_before)
        actions = [a for a in actions if (a.finish_time or a.start_time) <= before]
    if query.marker is not None:
        if parse_uuid(query.marker) is None:
            raise InvalidInput(f"Marker {query.marker} could not be found.")
        index = next((i for i, a in enumerate(actions) if migration_uuid(a.pk) == str(parse_uuid(query.marker))), None)
        if index is None:
            raise InvalidInput(f"Marker {query.marker} could not be found.")
        actions = actions[index + 1 :]
    later = _later_actions({a.server_id for a in actions})
    migrations = [_of(a, [x for x in later.get(a.server_id, []) if (x.start_time, x.pk) > (a.start_time, a.pk)]) for a in actions]
    if query.status is not None:
        migrations = [m for m in migrations if m.status == query.status]
    size = MAX_LIMIT
    if query.limit is not None:
        if not query.limit.isdigit():
            raise InvalidInput(f"Invalid limit {query.limit!r}: it must be a non-negative integer.")
        size = min(int(query.limit), MAX_LIMIT)
    return migrations[:size], len(migrations) > size


def _later_actions(server_ids: set[int]) -> dict[int, list[ServerAction]]:
    """The resize-related actions of those servers, oldest first."""
    found: dict[int, list[ServerAction]] = {}
    rows = ServerAction.objects.filter(server_id__in=server_ids, action__in=[RESIZE, "confirmResize", "revertResize"])
    for row in rows.order_by("start_time", "id"):
        found.setdefault(row.server_id, []).append(row)
    return found
