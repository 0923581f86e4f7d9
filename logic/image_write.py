"""Creating and changing images (Glance v2 semantics): create, JSON-patch update, delete, (de)activate, tags.

Every function checks first and changes nothing on a bad request. The image count
is charged to the owner's quota (``cyclades.image``) when created and given back
when deleted; the data's bytes are bounded at upload (:mod:`logic.image_data`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from logic import images as registry
from logic import quotas
from logic.enums import QuotaResource
from logic.errors import ConflictError, InvalidInput, NotFoundError, PolicyError
from logic.identity import AuthContext
from logic.image_stores import StoreInUse, get_store
from logic.models import Image, Project

log = logging.getLogger(__name__)

DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
VISIBILITIES = tuple(v.value for v in Image.Visibility)
READ_ONLY = frozenset(
    {"id", "status", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "created_at",
     "updated_at", "self", "file", "schema", "direct_url", "locations", "location", "deleted", "deleted_at"}
)  # fmt: skip
# Glance's reserved names: not settable as custom properties.
RESERVED = frozenset({"owner", "os_glance_importing_to_stores", "os_glance_failed_import", "members"})
CORE_WRITABLE = ("name", "visibility", "protected", "os_hidden", "container_format", "disk_format", "min_disk", "min_ram", "tags")
MAX_TAGS = 128
MAX_PROPERTY_LENGTH = 65535


def _require_write(ctx: AuthContext) -> None:
    if not ctx.can_write:
        raise PolicyError("Policy doesn't allow this operation: the reader role may only read.")


def _int(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"Invalid value for {field}: {value!r}. It must be a non-negative integer.")
    if value > 2**31 - 1:
        raise InvalidInput(f"Invalid value for {field}: {value!r} is too large.")
    return value


class TooManyTags(InvalidInput):
    """More tags than an image may have."""

    def __init__(self, limit: int):
        super().__init__(f"Maximum number of tags ({limit}) exceeded.")


def _tags(value: Any) -> list[str]:
    if not isinstance(value, list) or any(not isinstance(t, str) or not t or len(t) > 255 for t in value):
        raise InvalidInput("Invalid tags: a list of strings of 1-255 characters is required.")
    tags = list(dict.fromkeys(value))
    if len(tags) > MAX_TAGS:
        raise TooManyTags(MAX_TAGS)
    return tags


def _set_core(ctx: AuthContext, image: Image, field: str, value: Any) -> None:
    """Validate and set one writable core attribute."""
    if field == "name":
        if value is not None and (not isinstance(value, str) or len(value) > 255):
            raise InvalidInput("Invalid name: at most 255 characters.")
        image.name = value or ""
    elif field == "visibility":
        if value not in VISIBILITIES:
            raise InvalidInput(f"Invalid visibility value: {value!r}. It must be one of {', '.join(VISIBILITIES)}.")
        if value == Image.Visibility.PUBLIC and not ctx.is_admin:
            raise PolicyError("Policy doesn't allow this operation: only administrators may publicize images.")
        image.visibility = value
    elif field in ("protected", "os_hidden"):
        if not isinstance(value, bool):
            raise InvalidInput(f"Invalid value for {field}: {value!r}. It must be a boolean.")
        if field == "protected":
            image.protected = value
        else:
            image.properties = {**image.properties, "os_hidden": value}
    elif field in ("disk_format", "container_format"):
        allowed = DISK_FORMATS if field == "disk_format" else CONTAINER_FORMATS
        if value is not None and value not in allowed:
            raise InvalidInput(f"Invalid value for {field}: {value!r}. It must be one of {', '.join(allowed)}.")
        if not image._state.adding and image.status != "queued" and getattr(image, field) != value:
            raise PolicyError(f"Attribute {field} can be only replaced for a queued image.")
        setattr(image, field, value)
    elif field in ("min_disk", "min_ram"):
        setattr(image, field, _int(field, value))
    elif field == "tags":
        image.tags = _tags(value)


def _set_property(key: str, value: Any, props: dict) -> None:
    if not isinstance(key, str) or not key or len(key) > 255:
        raise InvalidInput(f"Invalid property name {key!r}: 1-255 characters.")
    if key in RESERVED or key.startswith("os_glance"):
        raise PolicyError(f"Attribute '{key}' is reserved.")
    if not isinstance(value, str):
        raise InvalidInput(f"Invalid value for property {key!r}: {value!r} is not a string.")
    if len(value) > MAX_PROPERTY_LENGTH:
        raise InvalidInput(f"Invalid value for property {key!r}: too long.")
    props[key] = value


def create(ctx: AuthContext, body: Mapping[str, Any]) -> Image:
    """``POST /v2/images``: a ``queued`` image owned by the caller's project (no data yet)."""
    _require_write(ctx)
    if not isinstance(body, Mapping):
        raise InvalidInput("The request body must be a JSON object.")
    if ctx.project is None:
        raise PolicyError("A project-scoped token is needed to create images.")
    image = Image(
        owner=ctx.project,
        visibility=Image.Visibility.SHARED,
        status="queued",
        disk_format=None,
        container_format=None,
        name="",
        ganeti_os=settings.CYCLADES["IMAGE_GANETI_OS"],
        properties={},
        tags=[],
    )
    props: dict[str, str] = {}
    for key, value in body.items():
        if key == "id":
            parsed = _uuid(value)
            image.id = parsed
        elif key in READ_ONLY:
            raise PolicyError(f"Attribute '{key}' is read-only.")
        elif key == "owner":
            if value not in (None, str(ctx.project.pk)) and not ctx.is_admin:
                raise PolicyError("You are not permitted to create images owned by another project.")
            if value is not None and value != str(ctx.project.pk):
                owner = Project.objects.filter(pk=value).first()
                if owner is None:
                    raise InvalidInput(f"Invalid owner {value!r}: no such project.")
                image.owner = owner
        elif key in CORE_WRITABLE:
            _set_core(ctx, image, key, value)
        else:
            _set_property(key, value, props)
    image.properties = {**image.properties, **props}
    with transaction.atomic():
        if Image.objects.filter(pk=image.id).exists():
            raise ConflictError(f"An image with identifier {image.id} already exists")
        commission = quotas.charge(image.owner, ctx.user, {QuotaResource.IMAGES: 1}, reason=f"create image {image.id}")
        try:
            with transaction.atomic():
                image.save(force_insert=True)
        except IntegrityError:
            raise ConflictError(f"An image with identifier {image.id} already exists") from None
        quotas.accept(commission)
    return image


def _uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput(f"Invalid id {value!r}: it must be a UUID.") from None


# ------------------------------------------------------------------------------ update
PATCH_OPS = ("add", "replace", "remove")


def _parse_patch(ops: Any) -> list[tuple[str, str, Any]]:
    """Glance's JSON-patch subset: a list of ``{op, path, value}``; paths are ``/<attribute>``."""
    if not isinstance(ops, list):
        raise InvalidInput("Request body must be a JSON array of operation objects.")
    out = []
    for op in ops:
        if isinstance(op, dict) and "op" not in op:
            # Glance's older v2.0 patch form: {"replace": "/name", "value": ...}
            named = [k for k in PATCH_OPS if k in op]
            if len(named) == 1:
                op = {"op": named[0], "path": op[named[0]], **({"value": op["value"]} if "value" in op else {})}
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise InvalidInput("Operation objects must contain 'op' and 'path'.")
        name, path = op["op"], op["path"]
        if name not in PATCH_OPS:
            raise InvalidInput(f"Invalid operation: {name!r}. Supported: {', '.join(PATCH_OPS)}.")
        if not isinstance(path, str) or not path.startswith("/") or path.count("/") != 1 or len(path) < 2:
            raise InvalidInput(f"Invalid JSON pointer for this resource: {path!r}")
        if name != "remove" and "value" not in op:
            raise InvalidInput(f"Operation {name} requires a 'value'.")
        out.append((name, path[1:].replace("~1", "/").replace("~0", "~"), op.get("value")))
    return out


def update(ctx: AuthContext, image_id: object, ops: Any) -> Image:
    """``PATCH /v2/images/{id}`` (JSON patch): all operations apply, or none."""
    _require_write(ctx)
    patch = _parse_patch(ops)
    with transaction.atomic():
        image = registry.owned(ctx, image_id)
        image = Image.objects.select_for_update().get(pk=image.pk)
        props = dict(image.properties or {})
        for name, attr, value in patch:
            if attr in READ_ONLY or attr == "owner":
                raise PolicyError(f"Attribute '{attr}' is read-only.")
            if attr in CORE_WRITABLE:
                if name == "remove":
                    raise PolicyError(f"Attribute '{attr}' cannot be removed.")
                _set_core(ctx, image, attr, value)
            elif attr in RESERVED or attr.startswith("os_glance"):
                raise PolicyError(f"Attribute '{attr}' is reserved.")
            elif name == "remove":
                if attr not in props:
                    raise ConflictError(f"Property {attr} does not exist.")
                del props[attr]
            else:
                if name == "replace" and attr not in props:
                    raise ConflictError(f"Property {attr} does not exist.")
                _set_property(attr, value, props)
        image.properties = {k: v for k, v in image.properties.items() if k == "os_hidden"} | {
            k: v for k, v in props.items() if k != "os_hidden"
        }
        image.save()
    return image


# ------------------------------------------------------------------- delete and status
def delete(ctx: AuthContext, image_id: object) -> None:
    """``DELETE /v2/images/{id}``: 403 when protected, 409 while servers' clones use the data."""
    _require_write(ctx)
    delete_row(registry.owned(ctx, image_id))


def delete_row(image: Image) -> None:
    """Delete an image the caller may delete (data, then the row's status; the quota given back)."""
    with transaction.atomic():
        image = Image.objects.select_for_update().get(pk=image.pk)
        if image.status == "deleted":
            return
        if image.protected:
            raise PolicyError(f"Image {image.pk} is protected and cannot be deleted.")
        if image.location:
            try:
                get_store(image.store).delete(image.location)
            except StoreInUse as exc:
                raise ConflictError(f"Image {image.pk} could not be deleted because it is in use: {exc}") from None
        image.status = "deleted"
        image.location = ""
        image.save(update_fields=["status", "location", "updated_at"])
        if image.owner_id is not None:
            commission = quotas.charge(image.owner_id, None, {QuotaResource.IMAGES: -1}, reason=f"delete image {image.pk}")
            quotas.accept(commission)
    log.info("image %s deleted", image.pk)


def deactivate(ctx: AuthContext, image_id: object) -> None:
    """Make an active image's data unavailable (no downloads, no boots) until reactivated."""
    _set_status(ctx, image_id, "deactivated", allowed_from=("active", "deactivated"))


def reactivate(ctx: AuthContext, image_id: object) -> None:
    _set_status(ctx, image_id, "active", allowed_from=("active", "deactivated"))


def _set_status(ctx: AuthContext, image_id: object, status: str, *, allowed_from: tuple[str, ...]) -> None:
    _require_write(ctx)
    with transaction.atomic():
        image = registry.owned(ctx, image_id)
        image = Image.objects.select_for_update().get(pk=image.pk)
        if image.status not in allowed_from:
            verb = "deactivate" if status == "deactivated" else "reactivate"
            raise PolicyError(f"Not allowed to {verb} image in status '{image.status}'")
        if image.status != status:
            image.status = status
            image.save(update_fields=["status", "updated_at"])


def add_tag(ctx: AuthContext, image_id: object, tag: str) -> None:
    _require_write(ctx)
    with transaction.atomic():
        image = Image.objects.select_for_update().get(pk=registry.owned(ctx, image_id).pk)
        image.tags = _tags([*(image.tags or []), tag])
        image.save(update_fields=["tags", "updated_at"])


def remove_tag(ctx: AuthContext, image_id: object, tag: str) -> None:
    _require_write(ctx)
    with transaction.atomic():
        image = Image.objects.select_for_update().get(pk=registry.owned(ctx, image_id).pk)
        if tag not in (image.tags or []):
            raise NotFoundError(f"Tag {tag} not found.")
        image.tags = [t for t in image.tags if t != tag]
        image.save(update_fields=["tags", "updated_at"])
