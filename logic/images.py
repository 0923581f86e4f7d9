"""The image registry, read side (Glance v2 semantics) and registration by operators.

Visibility: ``public`` and ``community`` images are visible to every project;
``private`` ones to their owner; ``shared`` ones to their owner and to the projects
it was shared with (:mod:`logic.image_members`; in listings only once the member
accepted, like Glance); administrators see everything. Ids are UUIDs: anything else (a name in a
client's name-or-id lookup) is simply not found.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from logic.errors import InvalidInput, NotFoundError, PolicyError
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import Image, ImageMember, Project

DEFAULT_LIMIT = 25
MAX_LIMIT = 1000
SORT_KEYS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "name": "name",
    "id": "id",
    "status": "status",
    "size": "size",
    "disk_format": "disk_format",
    "container_format": "container_format",
    "visibility": "visibility",
    "min_disk": "min_disk",
    "min_ram": "min_ram",
}
VISIBILITIES = {v.value for v in Image.Visibility} | {"all"}
# The query parameters of GET /v2/images that are not custom property filters.
LIST_PARAMS = frozenset(
    {"visibility", "member_status", "name", "id", "status", "disk_format", "container_format", "owner", "protected",
     "size_min", "size_max", "sort_key", "sort_dir", "sort", "tag", "marker", "limit", "os_hidden", "created_at",
     "updated_at"}
)  # fmt: skip
STATUSES = {"queued", "saving", "uploading", "importing", "active", "killed", "deleted", "pending_delete", "deactivated"}


def visible(ctx: AuthContext) -> QuerySet[Image]:
    """Images the caller may see (deleted ones never)."""
    images = Image.objects.exclude(status="deleted")
    if ctx.is_admin:
        return images
    shared_with_all = Q(visibility__in=[Image.Visibility.PUBLIC, Image.Visibility.COMMUNITY])
    return images.filter(shared_with_all | Q(owner=ctx.project) | _shared_with(ctx))


def _shared_with(ctx: AuthContext, statuses: list[str] | None = None) -> Q:
    """``shared`` images whose members include the caller's project (with one of ``statuses``)."""
    if ctx.project is None:
        return Q(pk__in=[])
    members = ImageMember.objects.filter(member=str(ctx.project.pk))
    if statuses is not None:
        members = members.filter(status__in=statuses)
    return Q(visibility=Image.Visibility.SHARED, pk__in=members.values("image_id"))


def owned(ctx: AuthContext, image_id: object) -> Image:
    """A visible image the caller may change (its owner, or an admin): else 404 or 403."""
    image = get(ctx, image_id)
    if not ctx.is_admin and (ctx.project is None or image.owner_id != ctx.project.pk):
        raise PolicyError("You are not permitted to modify this image: it belongs to another project.")
    return image


def get(ctx: AuthContext, image_id: object) -> Image:
    """A visible image by id; NotFoundError for unknown ids and for names."""
    pk = parse_uuid(image_id)
    image = visible(ctx).filter(pk=pk).first() if pk is not None else None
    if image is None:
        raise NotFoundError(f"No image found with ID {image_id}")
    return image


@dataclass
class ImagePage:
    images: list[Image]
    more: bool
    limit: int


def _sort(sort_key: str | None, sort_dir: str | None, sort: str | None) -> list[str]:
    """Order-by fields from Glance's ``sort_key``/``sort_dir`` or ``sort=key:dir,...``; id breaks ties."""
    pairs: list[tuple[str, str]] = []
    if sort:
        if sort_key or sort_dir:
            raise InvalidInput("The 'sort' parameter cannot be combined with 'sort_key' or 'sort_dir'.")
        for item in sort.split(","):
            key, _, direction = item.strip().partition(":")
            pairs.append((key, direction or "asc"))
    else:
        keys = [k for k in (sort_key or "created_at").split(",") if k]
        directions = [d for d in (sort_dir or "desc").split(",") if d]
        pairs = [(k, directions[min(i, len(directions) - 1)]) for i, k in enumerate(keys)]
    fields = []
    for key, direction in pairs:
        if key not in SORT_KEYS:
            raise InvalidInput(f"Invalid sort key: {key}. It should be one of: {', '.join(sorted(SORT_KEYS))}.")
        if direction not in {"asc", "desc"}:
            raise InvalidInput(f"Invalid sort direction: {direction}. It must be 'asc' or 'desc'.")
        fields.append(("-" if direction == "desc" else "") + SORT_KEYS[key])
    last = fields[-1] if fields else "-created_at"
    if not any(f.lstrip("-") == "id" for f in fields):
        fields.append(("-" if last.startswith("-") else "") + "id")
    return fields


def _in_list(value: str) -> list[str]:
    """Glance's ``in:a,b,c`` operator (or a single value)."""
    if value.startswith("in:"):
        return [v.strip().strip('"') for v in value[3:].split(",") if v.strip()]
    return [value]


def list_images(
    ctx: AuthContext,
    params: dict[str, str],
    *,
    min_disk: int | None = None,
    min_ram: int | None = None,
    changed_since: datetime | None = None,
) -> ImagePage:
    """A page of visible images filtered like Glance v2's ``GET /v2/images``.

    The keyword filters are the Nova image proxy's (``minDisk``, ``minRam``, ``changes-since``).
    """
    images = visible(ctx)
    if min_disk is not None:
        images = images.filter(min_disk__gte=min_disk)
    if min_ram is not None:
        images = images.filter(min_ram__gte=min_ram)
    if changed_since is not None:
        images = images.filter(updated_at__gte=changed_since)
    visibility = params.get("visibility")
    if visibility is not None:
        if visibility not in VISIBILITIES:
            raise InvalidInput(f"Invalid visibility value: {visibility}")
        if visibility != "all":
            images = images.filter(visibility=visibility)
    elif not ctx.is_admin:
        # Glance's default listing leaves community images of other projects out.
        images = images.exclude(Q(visibility=Image.Visibility.COMMUNITY) & ~Q(owner=ctx.project))
    if not ctx.is_admin:
        member_status = params.get("member_status", "accepted")
        if member_status not in {"accepted", "pending", "rejected", "all"}:
            raise InvalidInput(f"Invalid member_status value: {member_status}")
        statuses = None if member_status == "all" else [member_status]
        others_shared = Q(visibility=Image.Visibility.SHARED) & ~Q(owner=ctx.project)
        images = images.exclude(others_shared & ~_shared_with(ctx, statuses))
    if (name := params.get("name")) is not None:
        images = images.filter(name__in=_in_list(name))
    if (ids := params.get("id")) is not None:
        images = images.filter(pk__in=[u for u in (parse_uuid(v) for v in _in_list(ids)) if u is not None])
    if (status := params.get("status")) is not None:
        wanted = _in_list(status)
        if any(s not in STATUSES for s in wanted):
            raise InvalidInput(f"Invalid status value: {status}")
        images = images.filter(status__in=wanted)
    for field in ("disk_format", "container_format"):
        if (value := params.get(field)) is not None:
            images = images.filter(**{f"{field}__in": _in_list(value)})
    if (owner := params.get("owner")) is not None:
        images = images.filter(owner_id__in=_in_list(owner))
    if (protected := params.get("protected")) is not None:
        if protected not in {"true", "false"}:
            raise InvalidInput(f"Invalid value for 'protected': {protected}. It must be 'true' or 'false'.")
        images = images.filter(protected=protected == "true")
    for bound, lookup in (("size_min", "size__gte"), ("size_max", "size__lte")):
        if (value := params.get(bound)) is not None:
            try:
                images = images.filter(**{lookup: int(value)})
            except ValueError:
                raise InvalidInput(f"Invalid value for {bound}: {value}") from None
    order = _sort(params.get("sort_key"), params.get("sort_dir"), params.get("sort"))
    ordered = list(images.select_related("owner").order_by(*order))
    if (tag := params.get("tag")) is not None:
        ordered = [i for i in ordered if tag in (i.tags or [])]
    wanted_props = {k: v for k, v in params.items() if k not in LIST_PARAMS}  # Glance: any other name is a property
    if wanted_props:
        ordered = [i for i in ordered if all((i.properties or {}).get(k) == v for k, v in wanted_props.items())]
    if (marker := params.get("marker")) is not None:
        position = next((n for n, i in enumerate(ordered) if str(i.pk) == marker), None)
        if position is None:
            raise InvalidInput(f"Invalid marker. Image {marker} could not be found.")
        ordered = ordered[position + 1 :]
    limit = DEFAULT_LIMIT
    if (raw := params.get("limit")) is not None:
        try:
            limit = int(raw)
        except ValueError:
            raise InvalidInput(f"Invalid limit: {raw}. It must be a non-negative integer.") from None
        if limit < 0:
            raise InvalidInput("Limit param must be positive")
    limit = min(limit, MAX_LIMIT)
    return ImagePage(images=ordered[:limit], more=len(ordered) > limit, limit=limit)


def register(
    *,
    name: str,
    ganeti_os: str,
    osparams: dict | None = None,
    visibility: str = Image.Visibility.PUBLIC,
    owner: Project | None = None,
    disk_format: str = "raw",
    container_format: str = "bare",
    size: int | None = None,
    min_disk: int = 0,
    min_ram: int = 0,
    properties: dict | None = None,
    image_id: uuid.UUID | None = None,
) -> Image:
    """Register an image that Ganeti deploys with ``ganeti_os`` (an operator action; no upload)."""
    if not name or len(name) > 255:
        raise InvalidInput("An image name of 1-255 characters is required.")
    if not ganeti_os:
        raise InvalidInput("The Ganeti OS definition (e.g. noop, snf-image+default) is required.")
    if visibility not in {v.value for v in Image.Visibility}:
        raise InvalidInput(f"Invalid visibility {visibility!r}.")
    if visibility != Image.Visibility.PUBLIC and owner is None:
        raise InvalidInput(f"A {visibility} image needs an owner project.")
    for label, number in (("size", size), ("min_disk", min_disk), ("min_ram", min_ram)):
        if number is not None and number < 0:
            raise InvalidInput(f"{label} must not be negative.")
    if image_id is not None and Image.objects.filter(pk=image_id).exists():
        raise InvalidInput(f"An image with id {image_id} already exists.")
    return Image.objects.create(
        **({"id": image_id} if image_id else {}),
        name=name,
        ganeti_os=ganeti_os,
        ganeti_osparams=osparams or {},
        visibility=visibility,
        owner=owner,
        disk_format=disk_format,
        container_format=container_format,
        size=size,
        min_disk=min_disk,
        min_ram=min_ram,
        properties=properties or {},
        status="active",
    )
