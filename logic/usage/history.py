"""The state history: one :class:`~logic.models.ServerStateRecord` per applied change of state or size.

The event pipeline writes each batch's changed server rows through
:func:`logic.event_rows.write_changes`, which hands them here: a server whose
``operstate`` changed, whose flavor changed, or whose job ended (its task was
cleared: a resize or its revert took effect) gets one record with its state and
size as the batch left it. One INSERT per batch, whatever its size.

The time of a record is the event time of what it reflects: the state change
(``backendtime``) when the state changed, else the job status (``backend_eventtime``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from logic.models import Server, ServerStateRecord

#: Fields whose change starts a new entry in the history.
TRACKED = frozenset({"operstate", "flavor", "flavor_id", "task", "awaiting_resize_confirm"})


def _when(server: Server, names: set[str]):
    if "operstate" in names and server.backendtime is not None:
        return server.backendtime
    return server.backend_eventtime or server.backendtime or timezone.now()


def record_changes(changed: Iterable[tuple[Server, set[str]]]) -> int:
    """Record the servers among ``changed`` whose tracked fields changed; returns how many records."""
    from logic import event_rows

    picked = [(server, names) for server, names in changed if names & TRACKED]
    if not picked:
        return 0
    event_rows.load_flavors(server for server, _ in picked)
    rows = [
        ServerStateRecord(
            server_id=server.pk,
            project_id=server.project_id,
            user_id=server.user_id,
            at=_when(server, names),
            operstate=server.operstate,
            flavor_id=server.flavor_id,
            vcpus=server.flavor.vcpus,
            ram=server.flavor.ram,
            disk=server.flavor.disk,
        )
        for server, names in picked
    ]
    ServerStateRecord.objects.bulk_create(rows)
    return len(rows)
