"""Volume snapshots (Cinder v3 ``/snapshots``): real RBD snapshots on the ``ext`` template.

A snapshot is the protected RBD snapshot ``snap-<id>`` of its volume's image, taken at
once (librbd, no Ganeti job: RBD snapshots are crash-consistent even while the volume is
attached). The other templates have no snapshots: 400 naming the template, nothing
changed. Snapshots are charged to the ``snapshots`` quota; deleting one flattens the
volumes cloned from it first, so it never breaks them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from logic import quotas, volume_rbd, volumes
from logic.enums import QuotaResource, VolumeStatus
from logic.errors import InvalidInput, NotFoundError
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import Volume, VolumeSnapshot

log = logging.getLogger(__name__)

#: Volume statuses a snapshot may be taken in (``force`` allows in-use, as Cinder).
SNAPSHOTTABLE = {VolumeStatus.AVAILABLE}


def visible(ctx: AuthContext, *, all_projects: bool = False):
    rows = VolumeSnapshot.objects.filter(deleted=False).select_related("volume")
    if all_projects and ctx.is_admin:
        return rows
    return rows.filter(project=ctx.project)


def get(ctx: AuthContext, snapshot_id: object) -> VolumeSnapshot:
    pk = parse_uuid(snapshot_id)
    row = visible(ctx, all_projects=True).filter(pk=pk).first() if pk else None
    if row is None or (row.project_id != getattr(ctx.project, "pk", None) and not ctx.is_admin):
        raise NotFoundError(f"Snapshot {snapshot_id} could not be found.")
    return row


def _force(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false", "1", "0", "yes", "no"}:
        return value.lower() in {"true", "1", "yes"}
    if value is None:
        return False
    raise InvalidInput(f"Invalid value for force: {value!r} is not a boolean.")


def create(ctx: AuthContext, body: Mapping, *, request_id: str = "") -> VolumeSnapshot:
    """Snapshot a volume of the caller (RBD snapshot at once), charged to the snapshots quota."""
    volumes.require_write(ctx)
    if not isinstance(body, Mapping):
        raise InvalidInput("Invalid input for field/attribute snapshot: it must be an object.")
    if not body.get("volume_id"):  # Cinder answers 404 here (the volume None is not found)
        raise NotFoundError("Volume None could not be found: 'volume_id' is required.")
    name = volumes._text("name", body.get("name", body.get("display_name")))
    description = volumes._text("description", body.get("description", body.get("display_description")))
    metadata = volumes.parse_metadata(body.get("metadata"))
    force = _force(body.get("force"))
    volume = volumes.get(ctx, body["volume_id"])
    template = volume.volume_type.disk_template
    if not volume_rbd.is_rbd(template):
        raise InvalidInput(
            f"Invalid volume: volume {volume.id} is of type {volume.volume_type.name}, on Ganeti's {template!r} disk "
            "template, which has no snapshots (volumes of an 'ext' type, on RBD, have)."
        )
    with transaction.atomic():
        row = Volume.objects.select_for_update().get(pk=volume.pk)
        allowed = SNAPSHOTTABLE | ({VolumeStatus.IN_USE} if force else set())
        if row.status not in allowed or row.task:
            raise InvalidInput(
                f"Invalid volume: Volume {row.id} status must be available{' or in-use' if force else ''} to take a "
                f"snapshot (it is {row.status}{'' if force else '; force=true allows in-use'})."
            )
        snapshot = VolumeSnapshot.objects.create(
            volume=row,
            project_id=row.project_id,
            user=ctx.user,
            name=name,
            description=description,
            size=row.size,
            metadata=metadata,
        )
        commission = quotas.charge(
            row.project_id,
            ctx.user.pk,
            {QuotaResource.VOLUME_SNAPSHOTS: 1},
            reason=f"snapshot {snapshot.id} of volume {row.id}",
            action="VOLUME",
            request_id=request_id,
        )
        volume_rbd.snapshot(row.ganeti_name, volume_rbd.snap_name(snapshot.id))  # a failure rolls all back
        quotas.accept(commission)
    log.info("snapshot %s of volume %s taken", snapshot.id, row.id)
    return snapshot


def update(ctx: AuthContext, snapshot: VolumeSnapshot, body: Mapping) -> VolumeSnapshot:
    volumes.require_write(ctx)
    if not isinstance(body, Mapping) or not {"name", "description", "display_name", "display_description"} & set(body):
        raise InvalidInput("Invalid input: nothing to update (name or description).")
    for key, alias in (("name", "display_name"), ("description", "display_description")):
        if key in body or alias in body:
            setattr(snapshot, key, volumes._text(key, body.get(key, body.get(alias))))
    snapshot.save(update_fields=["name", "description", "updated_at"])
    return snapshot


def set_metadata(ctx: AuthContext, snapshot: VolumeSnapshot, metadata: object, *, replace: bool) -> dict[str, str]:
    volumes.require_write(ctx)
    new = volumes.parse_metadata(metadata)
    snapshot.metadata = new if replace else {**snapshot.metadata, **new}
    snapshot.save(update_fields=["metadata", "updated_at"])
    return snapshot.metadata


def delete(ctx: AuthContext, snapshot: VolumeSnapshot, *, request_id: str = "") -> None:
    """Remove the RBD snapshot (clones of it are flattened first) and free the quota."""
    volumes.require_write(ctx)
    with transaction.atomic():
        row = VolumeSnapshot.objects.select_for_update().select_related("volume").get(pk=snapshot.pk)
        if row.deleted:
            raise NotFoundError(f"Snapshot {row.id} could not be found.")
        commission = quotas.charge(
            row.project_id,
            row.user_id,
            {QuotaResource.VOLUME_SNAPSHOTS: -1},
            reason=f"delete snapshot {row.id}",
            action="VOLUME",
            request_id=request_id,
            force=True,
        )
        volume_rbd.remove_snapshot(row.volume.ganeti_name, volume_rbd.snap_name(row.id))
        quotas.accept(commission)
        row.deleted, row.deleted_at, row.status = True, timezone.now(), "deleted"
        row.save(update_fields=["deleted", "deleted_at", "status", "updated_at"])
    log.info("snapshot %s deleted", row.id)


def count(ctx: AuthContext) -> int:
    if ctx.project is None:
        return 0
    return VolumeSnapshot.objects.filter(project=ctx.project, deleted=False).count()


#: The sort keys a snapshot list accepts (Cinder's, of the columns snapshots have).
SNAPSHOT_SORT = {"created_at", "updated_at", "id", "name", "display_name", "size", "status"}


def listing(ctx: AuthContext, params) -> list[VolumeSnapshot]:
    """Cinder's snapshot list: filters (name, status, volume_id), sort, limit, marker (404 when unknown), offset."""
    from logic import volume_list

    everyone = ctx.is_admin and volume_list._bool("all_tenants", params.get("all_tenants", "false"))
    rows = visible(ctx, all_projects=everyone)
    for key in ("name", "status", "volume_id"):
        if params.get(key):
            rows = rows.filter(**{key: params[key]})
    key = params.get("sort_key") or (params.get("sort") or "").split(",")[0].split(":")[0]
    if key and key not in SNAPSHOT_SORT:
        raise InvalidInput(f"Invalid sort key {key!r}: use one of {', '.join(sorted(SNAPSHOT_SORT))}.")
    column, direction = volume_list._sort(params)
    limit = volume_list._limit(params)
    prefix = "-" if direction == "desc" else ""
    ordered = rows.order_by(f"{prefix}{column}", f"{prefix}id")
    if (raw := params.get("marker")) is not None:
        marker_id = parse_uuid(raw)
        marker = rows.filter(pk=marker_id).first() if marker_id else None
        if marker is None:
            raise NotFoundError(f"Marker snapshot {raw} could not be found.")
        ordered = volume_list._after(ordered, marker, column, direction)
    offset = params.get("offset")
    if offset is not None:
        if not str(offset).isdigit():
            raise InvalidInput(f"Invalid offset {offset!r}: it must be a non-negative integer.")
        ordered = ordered[int(offset) :]
    return list(ordered[:limit])
