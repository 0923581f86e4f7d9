"""Cinder v3 (microversion 3.0) bodies: volumes, attachments, volume types."""

from __future__ import annotations

from logic import volume_types
from logic.identity import AuthContext
from logic.models import Volume, VolumeSnapshot, VolumeType


def utc(value) -> str | None:
    """Cinder's timestamp format (microseconds, no zone)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


def attachments(volume: Volume) -> list[dict]:
    """The attachment list: one entry while the volume is attached to a server."""
    if volume.server_id is None or volume.attach_status != "attached":
        return []
    attachment = str(volume.attachment_id) if volume.attachment_id else str(volume.id)
    return [
        {
            "id": attachment,
            "attachment_id": attachment,
            "volume_id": str(volume.id),
            "server_id": str(volume.server_id),
            "host_name": None,
            "device": volume.device,
            "attached_at": utc(volume.attached_at),
        }
    ]


def volume_summary(volume: Volume, links: list[dict]) -> dict:
    return {"id": str(volume.id), "name": volume.name, "links": links}


def volume_detail(volume: Volume, links: list[dict], ctx: AuthContext, *, extended: bool = True) -> dict:
    """A volume's detail. ``extended`` (show and detail lists, not create/update answers, as in
    Cinder) adds the extension attributes: the owner, and for admins the host and migration state."""
    body = {
        "id": str(volume.id),
        "name": volume.name,
        "description": volume.description,
        "status": volume.status,
        "size": volume.size,
        "availability_zone": volume.availability_zone,
        "created_at": utc(volume.created_at),
        "updated_at": utc(volume.updated_at),
        "attachments": attachments(volume),
        "volume_type": volume.volume_type.name,
        "snapshot_id": str(volume.snapshot_id) if volume.snapshot_id else None,
        "source_volid": str(volume.source_volid) if volume.source_volid else None,
        "metadata": volume.metadata,
        "links": links,
        "user_id": volume.user_id,
        "bootable": "true" if volume.bootable else "false",
        "encrypted": False,
        "replication_status": None,
        "consistencygroup_id": None,
        "multiattach": False,
    }
    if not extended:
        return body
    body["os-vol-tenant-attr:tenant_id"] = volume.project_id
    if ctx.is_admin:
        # Cinder's host@backend#pool
        host = f"{volume.backend.name}@ganeti#{volume.volume_type.disk_template}" if volume.backend_id else None
        body["os-vol-host-attr:host"] = host
        body["os-vol-mig-status-attr:migstat"] = None
        body["os-vol-mig-status-attr:name_id"] = None
    return body


def volume_type(vtype: VolumeType) -> dict:
    """A type; its extra specs (the disk template among them) are not sensitive, so everyone sees them."""
    return {
        "id": str(vtype.id),
        "name": vtype.name,
        "description": vtype.description,
        "is_public": vtype.is_public,
        "os-volume-type-access:is_public": vtype.is_public,
        "extra_specs": volume_types.specs(vtype),
        "qos_specs_id": None,
    }


def snapshot(row: VolumeSnapshot, *, detail: bool = True) -> dict:
    """A snapshot (Cinder 3.0): the summary and detail bodies are the same but for the project attribute."""
    body = {
        "id": str(row.id),
        "name": row.name,
        "description": row.description,
        "status": row.status,
        "size": row.size,
        "volume_id": str(row.volume_id),
        "metadata": row.metadata,
        "created_at": utc(row.created_at),
        "updated_at": utc(row.updated_at),
    }
    if detail:
        body["os-extended-snapshot-attributes:project_id"] = row.project_id
        body["os-extended-snapshot-attributes:progress"] = "100%"
    return body
