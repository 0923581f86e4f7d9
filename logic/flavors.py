"""Flavors: who sees which, filters and pagination as Nova does them, admin create/delete/access.

A flavor's API id is its integer primary key rendered as a string ("1"), so that
ids from the URL that are not integers (``/flavors/m1.tiny``, a client's name
lookup) are simply not found. Deleting a flavor that servers still use only
disables it (the rows keep pointing at it); an unused flavor is removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.management.color import no_style
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet

from logic.booleans import nova_boolean
from logic.errors import ConflictError, InvalidInput, NotFoundError, PolicyError
from logic.identity import AuthContext
from logic.models import Flavor, Project, Server

MAX_INT = 2147483647  # Nova's (and PostgreSQL integer's) upper bound for sizes
MAX_LIMIT = 1000

# Nova's sort keys -> our fields (ties broken by id).
SORT_KEYS = {
    "flavorid": "id",
    "id": "id",
    "name": "name",
    "memory_mb": "ram",
    "vcpus": "vcpus",
    "root_gb": "disk",
    "ephemeral_gb": "ephemeral",
    "swap": "swap",
    "rxtx_factor": "rxtx_factor",
    "description": "description",
    "is_public": "is_public",
    "disabled": "disabled",
}

_NAME = re.compile(r"^(?! )[^\x00-\x1f\x7f]+(?<! )$")


def parse_id(flavor_id: object) -> int | None:
    """The primary key an API flavor id names, or None if it cannot name one."""
    text = str(flavor_id)
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def _visible(ctx: AuthContext) -> QuerySet[Flavor]:
    flavors = Flavor.objects.filter(disabled=False)
    if ctx.is_admin:
        return flavors
    return flavors.filter(Q(is_public=True) | Q(projects=ctx.project)).distinct()


def parse_is_public(value: str | None) -> bool | None:
    """Nova's ``is_public`` filter: absent → public only; ``none`` → all; else a strict boolean."""
    if value is None:
        return True
    text = value.strip().lower()
    if text == "none":
        return None
    if text in {"1", "t", "true", "on", "y", "yes"}:
        return True
    if text in {"0", "f", "false", "off", "n", "no"}:
        return False
    raise InvalidInput(f"Invalid is_public filter [{value}]")


def _int_param(name: str, value: str | None, *, minimum: int = 0) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"Invalid {name} filter [{value}]") from None
    if number < minimum or number > MAX_INT:
        raise InvalidInput(f"Invalid {name} filter [{value}]: must be between {minimum} and {MAX_INT}")
    return number


@dataclass
class FlavorPage:
    """One page of a flavor list; ``more`` says a next link is due."""

    flavors: list[Flavor]
    more: bool
    limit: int | None


def list_flavors(
    ctx: AuthContext,
    *,
    is_public: str | None = None,
    min_disk: str | None = None,
    min_ram: str | None = None,
    limit: str | None = None,
    marker: str | None = None,
    sort_key: str | None = None,
    sort_dir: str | None = None,
) -> FlavorPage:
    """The flavors the caller may use, filtered, sorted and paged like Nova's list.

    Non-admins see public flavors and the private ones their project was given;
    ``is_public`` only narrows an admin's view (as in Nova).
    """
    flavors = _visible(ctx)
    if ctx.is_admin:
        public = parse_is_public(is_public)
        if public is not None:
            flavors = flavors.filter(is_public=public)
    elif is_public is not None:
        parse_is_public(is_public)  # still reject garbage
    if (disk := _int_param("minDisk", min_disk)) is not None:
        flavors = flavors.filter(disk__gte=disk)
    if (ram := _int_param("minRam", min_ram)) is not None:
        flavors = flavors.filter(ram__gte=ram)
    key = SORT_KEYS.get(sort_key or "flavorid")
    if key is None:
        raise InvalidInput(f"Invalid sort_key {sort_key!r}: use one of {', '.join(sorted(SORT_KEYS))}")
    direction = (sort_dir or "asc").lower()
    if direction not in {"asc", "desc"}:
        raise InvalidInput(f"Invalid sort_dir {sort_dir!r}: use asc or desc")
    prefix = "-" if direction == "desc" else ""
    ordered = list(flavors.order_by(f"{prefix}{key}", f"{prefix}id"))
    page_limit = _int_param("limit", limit)
    if marker is not None:
        position = next((i for i, f in enumerate(ordered) if str(f.id) == str(marker)), None)
        if position is None:
            raise InvalidInput(f"marker [{marker}] not found")
        ordered = ordered[position + 1 :]
    size = min(page_limit if page_limit is not None else MAX_LIMIT, MAX_LIMIT)
    return FlavorPage(flavors=ordered[:size], more=len(ordered) > size, limit=size)


def get_flavor(ctx: AuthContext, flavor_id: object) -> Flavor:
    """A flavor the caller may see, by API id; NotFoundError otherwise (names too)."""
    pk = parse_id(flavor_id)
    flavor = _visible(ctx).filter(pk=pk).first() if pk is not None else None
    if flavor is None:
        raise NotFoundError(f"Flavor {flavor_id} could not be found.")
    return flavor


def _require_admin(ctx: AuthContext) -> None:
    if not ctx.is_admin:
        raise PolicyError("Policy doesn't allow this operation: flavors are managed by administrators.")


def _size(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"Invalid input for field/attribute {name}: {value!r} is not an integer.")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int):
        raise InvalidInput(f"Invalid input for field/attribute {name}: {value!r} is not an integer.")
    if not minimum <= value <= MAX_INT:
        raise InvalidInput(f"Invalid input for field/attribute {name}: must be between {minimum} and {MAX_INT}.")
    return value


def create_flavor(
    ctx: AuthContext,
    *,
    name: object,
    ram: object,
    vcpus: object,
    disk: object,
    flavor_id: object = None,
    ephemeral: object = 0,
    swap: object = 0,
    rxtx_factor: object = 1.0,
    is_public: object = True,
    description: object = None,
    disk_template: str | None = None,
) -> Flavor:
    """Create a flavor (admin). ``flavor_id`` may be given as an integer string, or omitted."""
    _require_admin(ctx)
    if not isinstance(name, str) or not 1 <= len(name) <= 255 or not _NAME.match(name):
        raise InvalidInput("Invalid input for field/attribute name: 1-255 printable characters without leading/trailing spaces.")
    fields = {
        "name": name,
        "ram": _size("ram", ram, minimum=1),
        "vcpus": _size("vcpus", vcpus, minimum=1),
        "disk": _size("disk", disk, minimum=0),
        "ephemeral": _size("OS-FLV-EXT-DATA:ephemeral", ephemeral if ephemeral is not None else 0, minimum=0),
        "swap": _size("swap", swap if swap not in (None, "") else 0, minimum=0),
    }
    if isinstance(rxtx_factor, bool) or not isinstance(rxtx_factor, int | float) or not 0 < rxtx_factor <= 3.4e38:
        raise InvalidInput("Invalid input for field/attribute rxtx_factor: a number greater than 0.")
    public = nova_boolean(is_public)
    if public is None:
        raise InvalidInput("Invalid input for field/attribute os-flavor-access:is_public: a boolean.")
    is_public = public
    if description is not None and (not isinstance(description, str) or len(description) > 65535):
        raise InvalidInput("Invalid input for field/attribute description: a string of at most 65535 characters.")
    pk = None
    if flavor_id not in (None, "", "auto"):
        pk = parse_id(flavor_id)
        if pk is None or pk == 0:
            raise InvalidInput(f"Invalid flavor id {flavor_id!r}: flavor ids are positive integers in this cloud.")
    if Flavor.objects.filter(name=name).exists():
        raise ConflictError(f"Flavor with name {name} already exists.")
    if pk is not None and Flavor.objects.filter(pk=pk).exists():
        raise ConflictError(f"Flavor with ID {pk} already exists.")
    extra = {"disk_template": disk_template} if disk_template else {}
    try:
        with transaction.atomic():
            flavor = Flavor.objects.create(
                pk=pk, rxtx_factor=float(rxtx_factor), is_public=is_public, description=description, **fields, **extra
            )
            if pk is not None:
                _resync_id_sequence()
    except IntegrityError:
        raise ConflictError(f"Flavor with name {name} or ID {flavor_id} already exists.") from None
    return flavor


def _resync_id_sequence() -> None:
    """After inserting an explicit id, move the id sequence past it (PostgreSQL; SQLite does it itself)."""
    statements = connection.ops.sequence_reset_sql(no_style(), [Flavor])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def update_description(ctx: AuthContext, flavor_id: object, description: object) -> Flavor:
    """Change a flavor's description (admin, microversion 2.55)."""
    _require_admin(ctx)
    if description is not None and (not isinstance(description, str) or len(description) > 65535):
        raise InvalidInput("Invalid input for field/attribute description: a string of at most 65535 characters.")
    flavor = get_flavor(ctx, flavor_id)
    flavor.description = description
    flavor.save(update_fields=["description"])
    return flavor


def delete_flavor(ctx: AuthContext, flavor_id: object) -> None:
    """Remove a flavor (admin); one still referenced by servers is disabled instead."""
    _require_admin(ctx)
    flavor = get_flavor(ctx, flavor_id)
    if Server.objects.filter(Q(flavor=flavor) | Q(old_flavor=flavor)).exists():
        flavor.disabled = True
        flavor.save(update_fields=["disabled"])
    else:
        flavor.delete()


# ------------------------------------------------------------------ flavor access
def _private_flavor(ctx: AuthContext, flavor_id: object) -> Flavor:
    flavor = get_flavor(ctx, flavor_id)
    if flavor.is_public:
        raise NotFoundError("Access list not available for public flavors.")
    return flavor


def access_list(ctx: AuthContext, flavor_id: object) -> list[str]:
    """Project ids that may use a private flavor (admin)."""
    _require_admin(ctx)
    flavor = _private_flavor(ctx, flavor_id)
    return list(flavor.projects.order_by("id").values_list("id", flat=True))


def add_access(ctx: AuthContext, flavor_id: object, project_id: object, *, public_conflicts: bool = True) -> list[str]:
    """Give a project access to a flavor; returns the flavor's project list.

    A public flavor conflicts (Nova from microversion 2.7); with ``public_conflicts``
    off (Nova below 2.7) the project is recorded all the same, which changes nothing
    while the flavor stays public.
    """
    _require_admin(ctx)
    flavor = get_flavor(ctx, flavor_id)
    if flavor.is_public and public_conflicts:
        raise ConflictError("Can not add access to a public flavor.")
    project = _project(project_id)
    if flavor.projects.filter(pk=project.pk).exists():
        raise ConflictError(f"Flavor access already exists for flavor {flavor.pk} and project {project.pk} combination.")
    flavor.projects.add(project)
    return list(flavor.projects.order_by("id").values_list("id", flat=True))


def remove_access(ctx: AuthContext, flavor_id: object, project_id: object) -> list[str]:
    _require_admin(ctx)
    flavor = _private_flavor(ctx, flavor_id)
    project = Project.objects.filter(pk=str(project_id)).first()
    if project is None or not flavor.projects.filter(pk=project.pk).exists():
        raise NotFoundError(f"Flavor access not found for {flavor.pk} / {project_id} combination.")
    flavor.projects.remove(project)
    return access_list(ctx, flavor_id)


def _project(project_id: object) -> Project:
    if not isinstance(project_id, str) or not project_id:
        raise InvalidInput("Invalid input for field/attribute tenant: a project id is required.")
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise InvalidInput(f"Project ID {project_id} is not a valid project.")
    return project
