"""Listing volumes as Cinder does: filters, ``sort``/``sort_key``/``sort_dir``, ``limit``/``marker``.

Paging is keyset paging on (sort key, id): the page after a marker starts right after
the marker's row in that order, so a page costs one indexed query whatever the offset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from logic.enums import VolumeStatus
from logic.errors import InvalidInput
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import Volume

DEFAULT_LIMIT = 1000
MAX_LIMIT = 1000

#: Cinder's sort keys and the column each orders by.
SORT_KEYS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "id",
    "name": "name",
    "display_name": "name",
    "size": "size",
    "status": "status",
    "bootable": "bootable",
    "availability_zone": "availability_zone",
}


@dataclass(frozen=True)
class VolumePage:
    volumes: list[Volume]
    more: bool
    limit: int
    count: int | None


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"true", "1", "yes", "on", "t", "y"}:
        return True
    if lowered in {"false", "0", "no", "off", "f", "n"}:
        return False
    raise InvalidInput(f"Invalid value {value!r} for {name}: expected true or false.")


def _metadata(value: str) -> dict[str, str]:
    """``metadata={"k": "v"}`` as the SDK sends it (a JSON or Python-literal dict)."""
    try:
        parsed = json.loads(value.replace("'", '"'))
    except ValueError:
        raise InvalidInput(f"Invalid metadata filter {value!r}: expected a JSON object.") from None
    if not isinstance(parsed, dict):
        raise InvalidInput(f"Invalid metadata filter {value!r}: expected a JSON object.")
    return {str(k): str(v) for k, v in parsed.items()}


def _sort(params) -> tuple[str, str]:
    """One (column, direction) from ``sort=key:dir`` or ``sort_key``/``sort_dir``; default newest first."""
    sort, key, direction = params.get("sort"), params.get("sort_key"), params.get("sort_dir")
    if sort and (key or direction):
        raise InvalidInput(
            "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter."
        )
    if sort:
        first = sort.split(",")[0]
        key, _, direction = first.partition(":")
    key = (key or "created_at").strip()
    direction = (direction or "desc").strip().lower()
    if key not in SORT_KEYS:
        raise InvalidInput(f"Invalid sort key {key!r}: use one of {', '.join(sorted(SORT_KEYS))}.")
    if direction not in {"asc", "desc"}:
        raise InvalidInput(f"Invalid sort direction {direction!r}: use asc or desc.")
    return SORT_KEYS[key], direction


def _limit(params) -> int:
    raw = params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise InvalidInput(f"Invalid limit {raw!r}: it must be a non-negative integer.") from None
    if limit < 0:
        raise InvalidInput(f"Invalid limit {raw!r}: it must be a non-negative integer.")
    return min(limit, MAX_LIMIT)


def _after(volumes: QuerySet, marker: Volume, column: str, direction: str) -> QuerySet:
    value = getattr(marker, column)
    op = "gt" if direction == "asc" else "lt"
    if value is None:  # NULLs sort last ascending (PostgreSQL), first descending
        nulls = Q(**{f"{column}__isnull": True})
        same = nulls & Q(**{f"id__{op}": marker.id})
        return volumes.filter(same) if direction == "asc" else volumes.filter(same | Q(**{f"{column}__isnull": False}))
    later = Q(**{f"{column}__{op}": value}) | (Q(**{column: value}) & Q(**{f"id__{op}": marker.id}))
    if direction == "asc":
        later |= Q(**{f"{column}__isnull": True})
    return volumes.filter(later)


def filtered(ctx: AuthContext, volumes: QuerySet, params) -> QuerySet:
    """``volumes`` narrowed by Cinder's list filters; unknown filters are ignored as Cinder does."""
    if ctx.is_admin and (owner := params.get("project_id")):
        volumes = volumes.filter(project_id=owner)
    if (name := params.get("name")) is not None:
        volumes = volumes.filter(name=name)
    if (status := params.get("status")) is not None:
        if status not in VolumeStatus.values:
            return volumes.none()
        volumes = volumes.filter(status=status)
    if (bootable := params.get("bootable")) is not None:
        volumes = volumes.filter(bootable=_bool("bootable", bootable))
    if (zone := params.get("availability_zone")) is not None:
        volumes = volumes.filter(availability_zone=zone)
    if (size := params.get("size")) is not None:
        try:
            volumes = volumes.filter(size=int(size))
        except ValueError:
            raise InvalidInput(f"Invalid size filter {size!r}: expected an integer.") from None
    if (meta := params.get("metadata")) is not None:
        for key, value in _metadata(meta).items():
            volumes = volumes.filter(metadata__contains={key: value})
    return volumes


def page(ctx: AuthContext, volumes: QuerySet, params, *, with_count: bool = False) -> VolumePage:
    """One page of ``volumes`` (already filtered) in the requested order."""
    column, direction = _sort(params)
    limit = _limit(params)
    count = volumes.count() if with_count else None
    prefix = "-" if direction == "desc" else ""
    ordered = volumes.order_by(f"{prefix}{column}", f"{prefix}id")
    if (raw := params.get("marker")) is not None:
        marker_id = parse_uuid(raw)
        marker = volumes.filter(pk=marker_id).first() if marker_id else None
        if marker is None:
            raise InvalidInput(f"Invalid marker: volume {raw} could not be found.")
        ordered = _after(ordered, marker, column, direction)
    rows = list(ordered.select_related("volume_type", "server")[:limit])
    # Cinder links a next page whenever a page is full, even when it turns out empty
    return VolumePage(volumes=rows, more=limit > 0 and len(rows) == limit, limit=limit, count=count)
