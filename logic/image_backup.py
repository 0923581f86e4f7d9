"""``createBackup``: a snapshot labelled as a backup, with Nova's rotation of a server's older backups."""

from __future__ import annotations

import logging
from typing import Any

from logic import image_snapshot, image_write
from logic.identity import AuthContext
from logic.models import Image
from logic.servers.errors import Invalid

log = logging.getLogger(__name__)


def create_backup(ctx: AuthContext, raw_id: str, args: dict[str, Any], *, request_id: str) -> Image:
    """A snapshot with ``image_type=backup`` and ``backup_type``; then only the newest ``rotation`` backups of that
    type of the server remain (the new one counts; older ones are deleted like ``DELETE /v2/images/{id}``)."""
    backup_type, rotation = args.get("backup_type"), args.get("rotation")
    if not isinstance(backup_type, str) or not backup_type or len(backup_type) > 255:
        raise Invalid("createBackup requires a 'backup_type' string (e.g. daily).")
    if isinstance(rotation, str) and rotation.isdigit():
        rotation = int(rotation)
    if isinstance(rotation, bool) or not isinstance(rotation, int) or rotation < 0:
        raise Invalid("createBackup requires 'rotation', a non-negative integer.")
    metadata = args.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise Invalid("Invalid metadata: an object of string keys and values is required.")
    image = image_snapshot.create_image(
        ctx, raw_id, args.get("name"), {**metadata, "backup_type": backup_type}, request_id=request_id, kind="backup"
    )
    backups = Image.objects.filter(
        properties__instance_uuid=image.properties["instance_uuid"],
        properties__image_type="backup",
        properties__backup_type=backup_type,
        status="active",
    ).order_by("-created_at")
    # the new backup is still queued: it counts as the newest one
    for old in list(backups)[max(rotation - 1, 0) :]:
        if not old.protected:
            image_write.delete(ctx, old.pk)
            log.info("backup rotation of server %s: image %s deleted", image.properties["instance_uuid"], old.pk)
    return image
