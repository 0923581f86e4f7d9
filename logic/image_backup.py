"""``createBackup``: a snapshot labelled as a backup, with Nova's rotation of the server's older backups.

As in Nova, the rotation runs when the new backup is complete (its upload committed,
:func:`rotate`): of the server's active backups of that ``backup_type``, the newest
``rotation`` stay (the new one among them) and the older ones are deleted. The
rotation travels with the backup's upload grant (:mod:`logic.image_snapshot`), not in
the image's properties.
"""

from __future__ import annotations

import logging
from typing import Any

from logic import image_snapshot, image_write
from logic.errors import LogicError
from logic.identity import AuthContext
from logic.models import Image
from logic.servers.errors import Invalid

log = logging.getLogger(__name__)


def create_backup(ctx: AuthContext, raw_id: str, args: dict[str, Any], *, request_id: str) -> Image:
    """A snapshot with ``image_type=backup`` and ``backup_type``; rotated once it is complete."""
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
    return image_snapshot.create_image(
        ctx,
        raw_id,
        args.get("name"),
        {**metadata, "backup_type": backup_type},
        request_id=request_id,
        kind="backup",
        rotation=rotation,
    )


def rotate(image: Image, rotation: int) -> list[str]:
    """Delete the server's active backups of the image's type beyond the newest ``rotation``; their ids."""
    props = image.properties or {}
    backups = Image.objects.filter(
        properties__instance_uuid=props.get("instance_uuid"),
        properties__image_type="backup",
        properties__backup_type=props.get("backup_type"),
        status="active",
    ).order_by("-created_at", "-pk")
    deleted = []
    for old in list(backups)[rotation:]:
        try:
            image_write.delete_row(old)
        except LogicError as exc:  # protected or in use: it stays, and says why
            log.warning("backup rotation of server %s: image %s kept: %s", props.get("instance_uuid"), old.pk, exc)
            continue
        deleted.append(str(old.pk))
    log.info("backup rotation of server %s (%s, keep %d): deleted %s", props.get("instance_uuid"), props.get("backup_type"),
             rotation, deleted or "none")  # fmt: skip
    return deleted
