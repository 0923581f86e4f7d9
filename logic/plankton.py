"""The Synnefo Plankton image view (Glance v1 style, what kamaki 0.16's ``image`` commands speak) over the registry.

Same images, same rules as Glance v2 (:mod:`logic.images`, :mod:`logic.image_write`);
only the shapes differ: metadata travels in ``X-Image-Meta-*`` headers (values
URL-quoted, as kamaki sends and reads them), ``is_public`` stands for the visibility,
properties are lower-case with ``_``.

``register`` (``POST /images/``) names the data by a Pithos location
``pithos://<user>/<container>/<path>``. There is no Pithos here: the location is looked
up as ``<container>/<path>`` in ``IMAGE_IMPORT_DIR`` with the admin import's rules
(:mod:`logic.image_import`), so only administrators register, and only files of that
directory; anything else is refused and nothing is created.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

from django.db import transaction

from logic import image_import, image_members, image_write
from logic import images as registry
from logic.errors import InvalidInput, PolicyError
from logic.identity import AuthContext
from logic.models import Image, ImageMember

LIST_FIELDS = ("id", "name", "status", "disk_format", "container_format", "size")
FILTERS = ("name", "container_format", "disk_format", "status", "size_min", "size_max")
SORT_KEYS = {"id", "name", "status", "size", "disk_format", "container_format", "created_at", "updated_at"}
_PITHOS = re.compile(r"^pithos://(?P<user>[^/]+)/(?P<container>[^/]+)/(?P<path>.+)$")
META = "x-image-meta-"
PROPERTY = "x-image-meta-property-"


def _time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def detail(image: Image) -> dict[str, Any]:
    """A Plankton image (``/images/detail`` and HEAD's headers)."""
    return {
        "id": str(image.pk),
        "name": image.name,
        "status": image.status,
        "disk_format": image.disk_format or "",
        "container_format": image.container_format or "",
        "size": image.size or 0,
        "checksum": image.checksum or "",
        "location": f"/image/v2/images/{image.pk}/file" if image.location else "",
        "is_public": image.visibility in (Image.Visibility.PUBLIC, Image.Visibility.COMMUNITY),
        "owner": image.owner_id or "",
        "created_at": _time(image.created_at),
        "updated_at": _time(image.updated_at),
        "deleted_at": _time(image.updated_at) if image.status == "deleted" else "",
        "properties": {
            str(k).lower().replace("-", "_"): v if isinstance(v, str) else str(v)
            for k, v in (image.properties or {}).items()
            if k != "os_hidden"
        },
    }


def summary(image: Image) -> dict[str, Any]:
    full = detail(image)
    return {k: full[k] for k in LIST_FIELDS}


def headers(image: Image) -> dict[str, str]:
    """``X-Image-Meta-*`` headers of an image (values quoted: headers are Latin-1)."""
    out = {}
    for key, value in detail(image).items():
        if key == "properties":
            for name, prop in value.items():
                out[f"X-Image-Meta-Property-{name.replace('_', '-').title()}"] = quote(prop)
        else:
            out[f"X-Image-Meta-{key.replace('_', '-').title()}"] = quote(str(value))
    return out


def list_images(ctx: AuthContext, params: Mapping[str, str]) -> list[Image]:
    """Every visible image (no paging: kamaki pages itself), Plankton's filters and sort_key/sort_dir."""
    glance = {k: params[k] for k in FILTERS if params.get(k)}
    sort_key = params.get("sort_key") or "created_at"
    if sort_key not in SORT_KEYS:
        raise InvalidInput(f"Invalid sort_key {sort_key!r}: one of {', '.join(sorted(SORT_KEYS))}.")
    glance |= {"sort_key": sort_key, "sort_dir": params.get("sort_dir") or "desc", "limit": str(registry.MAX_LIMIT)}
    return registry.list_images(ctx, glance).images


def parse_headers(raw: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str] | None]:
    """(core metadata, properties or None when no property header was sent) from request headers."""
    core: dict[str, str] = {}
    props: dict[str, str] = {}
    for key, value in raw.items():
        lower = key.lower()
        if lower.startswith(PROPERTY):
            props[lower[len(PROPERTY) :].replace("-", "_")] = unquote(value)
        elif lower.startswith(META):
            core[lower[len(META) :].replace("-", "_")] = unquote(value)
    return core, (props if props else None)


def _is_public(value: str) -> str:
    if value.lower() not in ("true", "false", "1", "0"):
        raise InvalidInput(f"Invalid X-Image-Meta-Is-Public {value!r}: True or False.")
    return "public" if value.lower() in ("true", "1") else "private"


def update(ctx: AuthContext, image_id: object, core: Mapping[str, str], props: Mapping[str, str] | None) -> Image:
    """``PUT /images/{id}``: the given metadata; the properties are replaced when any is given. All or nothing."""
    ops: list[dict[str, Any]] = []
    for key, value in core.items():
        if key == "name":
            ops.append({"op": "replace", "path": "/name", "value": value})
        elif key in ("disk_format", "container_format"):
            ops.append({"op": "replace", "path": f"/{key}", "value": value})
        elif key == "is_public":
            ops.append({"op": "replace", "path": "/visibility", "value": _is_public(value)})
        elif key == "owner":
            if value != registry.get(ctx, image_id).owner_id:
                raise PolicyError("The owner of an image cannot be changed.")
        elif key == "status":
            raise PolicyError("The status of an image cannot be set.")
        elif key in ("id", "size", "checksum", "location", "created_at", "updated_at", "deleted_at"):
            raise PolicyError(f"Attribute {key} is read-only.")
        else:
            raise InvalidInput(f"Unknown image attribute X-Image-Meta-{key}.")
    if props is not None:
        current = registry.get(ctx, image_id).properties or {}
        for key in current:
            if key not in props and key != "os_hidden":
                ops.append({"op": "remove", "path": f"/{key}"})
        for key, value in props.items():
            ops.append({"op": "add", "path": f"/{key}", "value": value})
    if not ops:
        return registry.get(ctx, image_id)
    return image_write.update(ctx, image_id, ops)


def register(ctx: AuthContext, core: Mapping[str, str], props: Mapping[str, str] | None) -> Image:
    """``POST /images/``: a new image whose data is the file its Pithos location names in IMAGE_IMPORT_DIR (admins)."""
    name, location = core.get("name"), core.get("location")
    if not name:
        raise InvalidInput("X-Image-Meta-Name is required.")
    match = _PITHOS.match(location or "")
    if match is None:
        raise InvalidInput(f"Invalid X-Image-Meta-Location {location!r}: pithos://<user>/<container>/<path> is required.")
    if not ctx.is_admin:
        raise PolicyError("Registering an image file is for administrators (files of IMAGE_IMPORT_DIR); upload with Glance v2.")
    root = image_import.import_dir()
    if root is None:
        raise PolicyError("Registering image files is disabled: IMAGE_IMPORT_DIR is not set.")
    if match["user"] != str(ctx.user.pk):
        raise PolicyError("The location must be in your own account.")
    path = str(root / unquote(match["container"]) / unquote(match["path"]))
    os.close(image_import.open_local(path)[0])  # refuse a bad location before creating anything
    body: dict[str, Any] = {"name": name, "disk_format": core.get("disk_format") or "raw"}
    body["container_format"] = core.get("container_format") or "bare"
    if "is_public" in core:
        body["visibility"] = _is_public(core["is_public"])
    body |= dict(props or {})
    for key in core:
        if key not in ("name", "location", "disk_format", "container_format", "is_public", "checksum", "size", "owner", "store"):
            raise InvalidInput(f"Unknown image attribute X-Image-Meta-{key}.")
    with transaction.atomic():
        image = image_write.create(ctx, body)
    try:
        image = image_import.import_file(image, path)
        if core.get("checksum") and core["checksum"].lower() != image.checksum:
            raise InvalidInput(f"The file's MD5 {image.checksum} is not X-Image-Meta-Checksum {core['checksum']}.")
        if core.get("size") and core["size"] != str(image.size):
            raise InvalidInput(f"The file has {image.size} bytes, not X-Image-Meta-Size {core['size']}.")
    except BaseException:
        image_write.delete(ctx, image.pk)
        raise
    return image


# ------------------------------------------------------------------------------ members
def members(ctx: AuthContext, image_id: object) -> list[str]:
    image = registry.get(ctx, image_id)
    if image.visibility != Image.Visibility.SHARED:
        return []
    return [m.member for m in image_members.list_members(ctx, image_id)]


def _make_shared(ctx: AuthContext, image_id: object) -> None:
    """Plankton images have members whatever their visibility; Glance v2 wants them ``shared``."""
    image = registry.owned(ctx, image_id)
    if image.visibility == Image.Visibility.PRIVATE:
        image_write.update(ctx, image_id, [{"op": "replace", "path": "/visibility", "value": "shared"}])


def add_member(ctx: AuthContext, image_id: object, member: str) -> None:
    with transaction.atomic():
        _make_shared(ctx, image_id)
        if member not in members(ctx, image_id):
            image_members.add_member(ctx, image_id, member)


def remove_member(ctx: AuthContext, image_id: object, member: str) -> None:
    image_members.remove_member(ctx, image_id, member)


def set_members(ctx: AuthContext, image_id: object, body: Any) -> None:
    """``PUT /images/{id}/members`` ``{"memberships": [{"member_id": ...}]}``: exactly these members."""
    entries = body.get("memberships") if isinstance(body, dict) else None
    if not isinstance(entries, list) or any(not isinstance(e, dict) or not isinstance(e.get("member_id"), str) for e in entries):
        raise InvalidInput('The body must be {"memberships": [{"member_id": ...}, ...]}.')
    wanted = list(dict.fromkeys(e["member_id"] for e in entries))
    with transaction.atomic():
        _make_shared(ctx, image_id)
        current = members(ctx, image_id)
        for member in current:
            if member not in wanted:
                image_members.remove_member(ctx, image_id, member)
        for member in wanted:
            if member not in current:
                image_members.add_member(ctx, image_id, member)


def shared_by(ctx: AuthContext, owner: str) -> list[Image]:
    """``GET /shared-images/{owner}``: the images ``owner`` shares with the caller's project."""
    if ctx.project is None:
        return []
    mine = ImageMember.objects.filter(member=str(ctx.project.pk)).values("image_id")
    return list(registry.visible(ctx).filter(owner_id=owner, visibility=Image.Visibility.SHARED, pk__in=mine))
