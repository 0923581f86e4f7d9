"""Volume rules (Cinder v3): create, read, update, extend, delete, reset the status.

Every change is checked here before anything is written: a bad request raises
(InvalidInput 400, NotFoundError 404, ConflictError 409, QuotaExceeded) and changes
nothing. Quotas (volumes, gigabytes) go through the commission mechanism of
:mod:`logic.quotas`, in the same transaction as the change.

A blank volume that was never attached has no Ganeti storage (Ganeti creates disks only
inside an instance; see :mod:`logic.models.volumes`), so creating, extending and deleting
it needs no Ganeti job: the change is final at once and its commission is accepted in the
same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from logic import quotas, volume_rbd, volume_sources, volume_types
from logic.enums import QuotaResource, VolumeAttachStatus, VolumeStatus
from logic.errors import ConflictError, InvalidInput, NotFoundError, PolicyError
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import Volume, VolumeSnapshot

log = logging.getLogger(__name__)

METADATA_MAX_ITEMS = 128
#: Statuses from which a volume may be deleted (Cinder's list, without the ones we never enter).
DELETABLE = {VolumeStatus.AVAILABLE, VolumeStatus.ERROR, VolumeStatus.ERROR_EXTENDING, VolumeStatus.ERROR_DELETING}


def max_size() -> int:
    return int(settings.CYCLADES.get("VOLUME_MAX_SIZE", 1024))


# --------------------------------------------------------------------------- reading


def visible(ctx: AuthContext, *, all_projects: bool = False):
    """Live volumes of the caller's project (every project's for an admin asking for all)."""
    volumes = Volume.objects.filter(deleted=False)
    if all_projects and ctx.is_admin:
        return volumes
    return volumes.filter(project=ctx.project)


def get(ctx: AuthContext, volume_id: object) -> Volume:
    """A live volume of the caller's project (any project's for an admin); 404 otherwise, names too."""
    pk = parse_uuid(volume_id)
    volume = visible(ctx, all_projects=True).filter(pk=pk).select_related("volume_type", "server").first() if pk else None
    if volume is None or (volume.project_id != getattr(ctx.project, "pk", None) and not ctx.is_admin):
        raise NotFoundError(f"Volume {volume_id} could not be found.")
    return volume


# --------------------------------------------------------------------------- validation


def _text(field: str, value: object, *, limit: int = 255) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"Invalid input for field/attribute {field}: {value!r} is not a string.")
    if len(value) > limit:
        raise InvalidInput(f"Invalid input for field/attribute {field}: longer than {limit} characters.")
    return value


def parse_size(value: object, *, field: str = "size") -> int:
    """A size in GiB: a positive integer (or its decimal string, as Cinder accepts) up to VOLUME_MAX_SIZE."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"Invalid input for field/attribute {field}: {value!r} is not a valid integer.")
    if value < 1:
        raise InvalidInput(f"Invalid input for field/attribute {field}: it must be greater than or equal to 1 (got {value}).")
    if value > max_size():
        raise InvalidInput(f"Invalid input for field/attribute {field}: it must be at most {max_size()} GiB (got {value}).")
    return value


def parse_metadata(value: object) -> dict[str, str]:
    """Metadata: an object of at most 128 string keys (1-255 chars) to string values (<= 255 chars)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput("Invalid input for field/attribute metadata: it must be an object.")
    if len(value) > METADATA_MAX_ITEMS:
        raise InvalidInput(f"Invalid metadata: at most {METADATA_MAX_ITEMS} items are allowed.")
    out = {}
    for key, item in value.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 255:
            raise InvalidInput(f"Invalid metadata key {key!r}: it must be a string of 1 to 255 characters.")
        if not isinstance(item, str) or len(item) > 255:
            raise InvalidInput(f"Invalid metadata value for {key!r}: it must be a string of at most 255 characters.")
        out[key] = item
    return out


def _refuse_unsupported(body: Mapping) -> None:
    """Features a volume cannot have: a clear 400 instead of silently ignoring them."""
    for key, what in (
        ("backup_id", "from a backup"),
        ("consistencygroup_id", "in a consistency group"),
        ("group_id", "in a group"),
    ):
        if body.get(key):
            raise InvalidInput(f"Creating a volume {what} ({key}) is not supported by this cloud.")
    if body.get("multiattach") not in (None, False, "false", "False"):
        raise InvalidInput("Multiattach volumes are not supported.")


def require_write(ctx: AuthContext) -> None:
    if not ctx.can_write:
        raise PolicyError("Policy doesn't allow this operation: the reader role may only read.")


def _settle_now(volume: Volume, deltas: Mapping[str, int], reason: str, *, request_id: str, force: bool = False) -> None:
    """Charge ``deltas`` and accept at once: the change is final in this transaction (no Ganeti job)."""
    commission = quotas.charge(
        volume.project_id, volume.user_id, deltas, reason=reason, force=force, action="VOLUME", request_id=request_id
    )
    quotas.accept(commission)


# --------------------------------------------------------------------------- changing


def create(ctx: AuthContext, body: Mapping, *, request_id: str = "") -> Volume:
    """A new blank volume in the caller's project, charged to its quota (volumes, gigabytes)."""
    require_write(ctx)
    if ctx.project is None:
        raise InvalidInput("A project-scoped token is needed to create a volume.")
    _refuse_unsupported(body)
    source = volume_sources.parse(ctx, body)
    size = parse_size(body.get("size") if body.get("size") is not None or source is None else source.size)
    name = _text("name", body.get("name", body.get("display_name")))
    description = _text("description", body.get("description", body.get("display_description")))
    metadata = parse_metadata(body.get("metadata"))
    zone = body.get("availability_zone") or "nova"
    if zone != "nova":
        raise InvalidInput(f"Invalid input received: Availability zone '{zone}' is invalid.")
    type_ref = body.get("volume_type")
    vtype = (
        volume_types.get(ctx, str(type_ref))
        if type_ref
        else (source.vtype if source and source.vtype else volume_types.default())
    )
    if source is not None:
        source.check(vtype, size)
    with transaction.atomic():
        volume = Volume.objects.create(
            project=ctx.project,
            user=ctx.user,
            name=name,
            description=description,
            size=size,
            volume_type=vtype,
            metadata=metadata,
            availability_zone=zone,
            status=VolumeStatus.AVAILABLE,
            **(source.fields() if source else {}),
        )
        _settle_now(
            volume,
            {QuotaResource.VOLUMES: 1, QuotaResource.VOLUME_GB: size},
            f"create volume {volume.id}",
            request_id=request_id,
        )
        if volume_rbd.is_rbd(vtype.disk_template):
            volume_sources.make_image(volume, source)  # the RBD image; a Ceph failure rolls the volume back
    log.info("volume created", extra={"volume": str(volume.id), "size": size, "type": vtype.name})
    return volume


def update(ctx: AuthContext, volume: Volume, body: Mapping) -> Volume:
    """Change name, description and (replacing it) metadata."""
    require_write(ctx)
    if not isinstance(body, Mapping):
        raise InvalidInput("The volume body must be an object.")
    known = {"name", "description", "display_name", "display_description", "metadata"}
    if not known & set(body):
        raise InvalidInput("Invalid input: nothing to update (name, description or metadata).")
    fields = []
    for key, alias in (("name", "display_name"), ("description", "display_description")):
        if key in body or alias in body:
            setattr(volume, key, _text(key, body.get(key, body.get(alias))))
            fields.append(key)
    if "metadata" in body:
        volume.metadata = parse_metadata(body["metadata"])
        fields.append("metadata")
    volume.save(update_fields=[*fields, "updated_at"])
    return volume


def set_metadata(ctx: AuthContext, volume: Volume, metadata: object, *, replace: bool) -> dict[str, str]:
    """Merge (POST) or replace (PUT) the metadata; returns the new metadata."""
    require_write(ctx)
    new = parse_metadata(metadata)
    with transaction.atomic():
        row = Volume.objects.select_for_update().get(pk=volume.pk)
        merged = new if replace else {**row.metadata, **new}
        if len(merged) > METADATA_MAX_ITEMS:
            raise InvalidInput(f"Invalid metadata: at most {METADATA_MAX_ITEMS} items are allowed.")
        row.metadata = merged
        row.save(update_fields=["metadata", "updated_at"])
    volume.metadata = merged
    return merged


def delete_metadata_key(ctx: AuthContext, volume: Volume, key: str) -> None:
    """Remove one metadata key; 404 when the volume has no such key."""
    require_write(ctx)
    with transaction.atomic():
        row = Volume.objects.select_for_update().get(pk=volume.pk)
        if key not in row.metadata:
            raise NotFoundError(f"Volume {volume.id} has no metadata with key {key}.")
        row.metadata = {k: v for k, v in row.metadata.items() if k != key}
        row.save(update_fields=["metadata", "updated_at"])


def _locked(volume: Volume) -> Volume:
    return Volume.objects.select_for_update().select_related("volume_type").get(pk=volume.pk)


def extend(ctx: AuthContext, volume: Volume, new_size: object, *, request_id: str = "") -> Volume:
    """Grow an available volume to ``new_size`` GiB (charged to the gigabytes quota)."""
    require_write(ctx)
    size = parse_size(new_size, field="new_size")
    with transaction.atomic():
        row = _locked(volume)
        if row.status != VolumeStatus.AVAILABLE:
            raise InvalidInput(f"Invalid volume: Volume status must be available to extend (it is {row.status}).")
        if size <= row.size:
            raise InvalidInput(f"Invalid input received: New size for extend must be greater than current size. "
                               f"(current: {row.size}, extended: {size}).")  # fmt: skip
        if row.has_disk:
            raise ConflictError("Extending a volume whose Ganeti disk is detached is not supported yet.")
        _settle_now(row, {QuotaResource.VOLUME_GB: size - row.size}, f"extend volume {row.id}", request_id=request_id)
        if volume_rbd.is_rbd(row.volume_type.disk_template):
            volume_rbd.resize(row.ganeti_name, size)
        row.size = size
        row.save(update_fields=["size", "updated_at"])
    return row


def check_deletable(row: Volume) -> None:
    """InvalidInput unless the (locked) volume may be deleted: not attached, in a deletable status."""
    if row.status not in DELETABLE or row.attach_status != VolumeAttachStatus.DETACHED or row.server_id or row.task:
        raise InvalidInput(
            "Invalid volume: Volume status must be available or error or error_extending, and must not be "
            f"attached (it is {row.status}, {row.attach_status})."
        )


def delete(ctx: AuthContext, volume: Volume, *, request_id: str = "") -> None:
    """Delete a volume that is not attached; its quota is freed.

    A volume Ganeti holds no disk for goes at once; one whose detached disk Ganeti keeps
    is removed by a job (:func:`logic.volume_attach.delete_held`).
    """
    require_write(ctx)
    with transaction.atomic():
        row = _locked(volume)
        check_deletable(row)
        if not row.has_disk:
            rbd = volume_rbd.is_rbd(row.volume_type.disk_template)
            if rbd and (n := row.snapshots.filter(deleted=False).count()):
                raise InvalidInput(f"Invalid volume: Volume {row.id} still has {n} dependent snapshots.")
            _settle_now(
                row,
                {QuotaResource.VOLUMES: -1, QuotaResource.VOLUME_GB: -row.size},
                f"delete volume {row.id}",
                request_id=request_id,
            )
            row.status, row.deleted, row.deleted_at = VolumeStatus.DELETING, True, timezone.now()
            row.save(update_fields=["status", "deleted", "deleted_at", "updated_at"])
            if rbd:
                volume_rbd.remove(row.ganeti_name)  # a Ceph failure rolls the deletion back
            log.info("volume deleted", extra={"volume": str(row.id)})
            return
    from logic import volume_attach

    volume_attach.delete_held(ctx, row, request_id=request_id)


def reserve(ctx: AuthContext, volume: Volume, *, reserve: bool) -> Volume:
    """``os-reserve`` (available -> reserved) and ``os-unreserve`` (reserved -> available)."""
    require_write(ctx)
    source, target = (
        (VolumeStatus.AVAILABLE, VolumeStatus.RESERVED) if reserve else (VolumeStatus.RESERVED, VolumeStatus.AVAILABLE)
    )
    with transaction.atomic():
        row = _locked(volume)
        if row.status != source or row.task:
            if not reserve:
                return row  # Cinder: unreserving a volume that is not reserved changes nothing
            raise InvalidInput(f"Invalid volume: Volume status must be available to reserve (it is {row.status}).")
        row.status = target
        row.save(update_fields=["status", "updated_at"])
    return row


def reset_status(ctx: AuthContext, volume: Volume, body: Mapping) -> Volume:
    """``os-reset_status`` (admin): set status and/or attach_status as given, nothing else."""
    if not ctx.is_admin:
        raise PolicyError("Policy doesn't allow volume_extension:volume_admin_actions:reset_status to be performed.")
    if not isinstance(body, Mapping) or not ({"status", "attach_status", "migration_status"} & set(body)):
        raise InvalidInput("Must specify 'status', 'attach_status' or 'migration_status' for update.")
    status, attach = body.get("status"), body.get("attach_status")
    if status is not None and (not isinstance(status, str) or status.lower() not in VolumeStatus.values):
        raise InvalidInput(f"Must specify a valid status (got {status!r}).")
    if attach is not None and (not isinstance(attach, str) or attach.lower() not in VolumeAttachStatus.values):
        raise InvalidInput(f"Must specify a valid attach status (got {attach!r}).")
    if body.get("migration_status") is not None:
        raise InvalidInput("Volume migration is not supported: migration_status cannot be set.")
    with transaction.atomic():
        row = _locked(volume)
        if status is not None:
            row.status = status.lower()
        if attach is not None:
            row.attach_status = attach.lower()
        row.save(update_fields=["status", "attach_status", "updated_at"])
    log.warning("volume status reset by an admin", extra={"volume": str(row.id), "status": row.status})
    return row


def usage(ctx: AuthContext) -> dict[str, int]:
    """What the caller's project uses: volumes, gigabytes, snapshots (quota counters when quotas are on)."""
    if ctx.project is None:
        return {"volumes": 0, "gigabytes": 0, "snapshots": 0}
    if quotas.enabled():
        counters = quotas.usage(ctx.project)
        return {
            "volumes": counters[QuotaResource.VOLUMES].in_use,
            "gigabytes": counters[QuotaResource.VOLUME_GB].in_use,
            "snapshots": counters[QuotaResource.VOLUME_SNAPSHOTS].in_use,
        }
    live = Volume.objects.filter(project=ctx.project, deleted=False)
    snaps = VolumeSnapshot.objects.filter(project=ctx.project, deleted=False).count()
    return {"volumes": live.count(), "gigabytes": sum(live.values_list("size", flat=True)), "snapshots": snaps}
