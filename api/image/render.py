"""Image JSON: the Glance v2 object, and the Nova image-proxy object built from the same row."""

from __future__ import annotations

from logic.models import Image

# Glance image statuses -> Nova image-proxy statuses.
NOVA_STATUS = {
    "active": "ACTIVE",
    "queued": "SAVING",
    "saving": "SAVING",
    "uploading": "SAVING",
    "importing": "SAVING",
    "killed": "ERROR",
    "deleted": "DELETED",
    "pending_delete": "DELETED",
}

# Glance's own fields: a property with one of these names is not rendered over them.
CORE_FIELDS = frozenset(
    {
        "id",
        "name",
        "status",
        "visibility",
        "protected",
        "os_hidden",
        "tags",
        "container_format",
        "disk_format",
        "min_disk",
        "min_ram",
        "size",
        "virtual_size",
        "checksum",
        "os_hash_algo",
        "os_hash_value",
        "owner",
        "created_at",
        "updated_at",
        "self",
        "file",
        "schema",
        "locations",
        "direct_url",
    }
)


def utc(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def glance_image(image: Image) -> dict:
    """The Glance v2 image object (custom properties are top-level string keys, as in Glance)."""
    body = {
        "id": str(image.pk),
        "name": image.name or None,
        "status": image.status,
        "visibility": image.visibility,
        "protected": image.protected,
        "os_hidden": bool((image.properties or {}).get("os_hidden", False)),
        "tags": list(image.tags or []),
        "container_format": image.container_format,
        "disk_format": image.disk_format,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "size": image.size,
        "virtual_size": None,
        "checksum": image.checksum,
        "os_hash_algo": image.os_hash_algo,
        "os_hash_value": image.os_hash_value,
        "owner": image.owner_id,
        "created_at": utc(image.created_at),
        "updated_at": utc(image.updated_at),
        "self": f"/v2/images/{image.pk}",
        "file": f"/v2/images/{image.pk}/file",
        "schema": "/v2/schemas/image",
    }
    for key, value in (image.properties or {}).items():
        if key not in CORE_FIELDS:
            body[str(key)] = value if isinstance(value, str) else str(value)
    return body
