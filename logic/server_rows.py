"""Servers as plain rows for rendering: tuples from one query, no model instances.

Listing 1,000 servers through model instances and ``prefetch_related`` costs
hundreds of milliseconds in the ORM alone (instances, related managers, UUID
objects). Responses only read columns, so :func:`load` fetches exactly those as
tuples (``values_list``) and builds small slotted :class:`ServerRow` objects that
the renderers in ``api/compute/server_render.py`` read like a ``Server``.

On PostgreSQL each row also carries its NICs and metadata, aggregated as JSON by
correlated subqueries: one round trip per page or per server (a show is mostly
round trips). Elsewhere (SQLite in the embedded mode) the NICs and metadata of
the page come in one query each. Either way the number of queries is constant,
whatever the number of servers.

UUID columns are cast to their canonical text (with dashes, :mod:`logic.uuid_text`) in
SQL: the renderers want strings, and the database converts them far faster than Python
builds ``uuid.UUID`` objects.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from django.conf import settings
from django.db import connections
from django.db.models import QuerySet, TextField
from django.db.models.expressions import RawSQL

from logic.models import Server, ServerMetadata, ServerNIC, ServerTag
from logic.neutron import port_facts
from logic.uuid_text import UUIDText

# Server columns a response reads, in ServerRow's field order (image_id and the NIC ids are cast).
_SERVER_COLUMNS = (
    "id",
    "name",
    "description",
    "project_id",
    "user_id",
    "backend_id",
    "flavor_id",
    "key_name",
    "access_ipv4",
    "access_ipv6",
    "locked",
    "awaiting_resize_confirm",
    "operstate",
    "task",
    "build_percentage",
    "fault",
    "created_at",
    "updated_at",
    "launched_at",
    "terminated_at",
    "deleted",
    "backend_opcode",
    "backend_jobstatus",
    "backend_reboot_type",
    "locked_reason",
    "hostname",
    "pinned_availability_zone",
    "scheduler_hints",
)
_NIC_COLUMNS = ("server_id", "index", "network_name", "network_id", "mac", "ipv4", "ipv6")


@dataclass(slots=True)
class NicRow:
    """A NIC as responses show it (``id`` is the Neutron port id, as text)."""

    index: int
    network_name: str
    network_id: str | None
    mac: str
    ipv4: str | None
    ipv6: str | None
    id: str
    floating: list[str] | None = None  # floating IPs associated with the NIC's port
    port_ipv6: list[str] | None = None  # the port's IPv6 addresses (SLAAC ones are ours, Ganeti has no record)


@dataclass(slots=True)
class ServerRow:
    """The columns of a :class:`logic.models.Server` a response reads, plus its NICs and metadata."""

    pk: int
    name: str
    description: str | None
    project_id: str
    user_id: str
    backend_id: int | None
    flavor_id: int
    key_name: str | None
    access_ipv4: str
    access_ipv6: str
    locked: bool
    awaiting_resize_confirm: bool
    operstate: str
    task: str | None
    build_percentage: int
    fault: dict | None
    created_at: datetime
    updated_at: datetime
    launched_at: datetime | None
    terminated_at: datetime | None
    deleted: bool
    backend_opcode: str | None  # the last job Ganeti reported (an operator's reboot shows as REBOOT)
    backend_jobstatus: str | None
    backend_reboot_type: str | None
    locked_reason: str | None  # 2.73
    hostname: str | None  # 2.90: the hostname asked for (None: the instance name)
    pinned_availability_zone: str | None  # 2.96
    scheduler_hints: dict | None  # 2.100: os:scheduler_hints as the create gave them
    image_id: str | None
    nics: list[NicRow] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)  # loaded only when asked for (``with_tags``)
    security_groups: list[str] | None = None  # names of its ports' groups; None: no ports (NICs only)

    @property
    def id(self) -> int:
        return self.pk


@dataclass(frozen=True, slots=True)
class AdminFacts:
    """What only admins see of a server (Nova's extended server attributes and host status)."""

    instance_name: str
    host: str | None
    host_status: str
    reservation_id: str | None
    launch_index: int
    user_data: str | None


def host_status(backend_name: str | None, offline: bool, drained: bool) -> str:
    """Nova's ``host_status`` of a server on a backend: '' unplaced, DOWN offline, MAINTENANCE drained, else UP."""
    if backend_name is None:
        return ""
    if offline:
        return "DOWN"
    return "MAINTENANCE" if drained else "UP"


def instance_name(server_id: int) -> str:
    """The Ganeti instance name of a server (what the OS scripts name the guest)."""
    return f"{settings.CYCLADES['GANETI_PREFIX']}-{server_id}"


def admin_facts(server_ids: list[int]) -> dict[int, AdminFacts]:
    """The admin-only facts of these servers, by id (one query, only run for admins)."""
    prefix = settings.CYCLADES["GANETI_PREFIX"]
    rows = Server.objects.filter(pk__in=server_ids).values_list(
        "id", "reservation_id", "launch_index", "user_data", "backend__name", "backend__offline", "backend__drained"
    )
    return {
        pk: AdminFacts(
            instance_name=f"{prefix}-{pk}",
            host=backend,
            host_status=host_status(backend, bool(offline), bool(drained)),
            reservation_id=reservation,
            launch_index=index,
            user_data=user_data,
        )
        for pk, reservation, index, user_data, backend, offline, drained in rows
    }


def load(qs: QuerySet[Server], *, limit: int | None = None, with_tags: bool = False) -> list[ServerRow]:
    """The servers of ``qs`` (filtered and ordered by the caller; at most ``limit``) as rows, in order.

    ``with_tags``: also the servers' tags (bodies show them from microversion 2.26).
    """
    values = qs.annotate(image_ref=UUIDText("image_id"))
    if joined_supported(qs.db):
        return _load_joined(values, limit, with_tags)
    values = values.values_list(*_SERVER_COLUMNS, "image_ref")
    if limit is not None:
        values = values[:limit]
    rows = [ServerRow(*columns) for columns in values]
    if not rows:
        return rows
    by_id = {row.pk: row for row in rows}
    ids = list(by_id)
    nics = (
        ServerNIC.objects.filter(server_id__in=ids)
        .order_by("server_id", "index")
        .annotate(port_id=UUIDText("id"))
        .values_list(*_NIC_COLUMNS, "port_id")
    )
    for server_id, *columns in nics:
        by_id[server_id].nics.append(NicRow(*columns))
    port_facts.attach(by_id)
    metadata: dict[int, dict[str, str]] = defaultdict(dict)
    for server_id, key, value in ServerMetadata.objects.filter(server_id__in=ids).values_list("server_id", "key", "value"):
        metadata[server_id][key] = value
    for server_id, items in metadata.items():
        by_id[server_id].metadata = items
    if with_tags:
        for server_id, tag in ServerTag.objects.filter(server_id__in=ids).order_by("tag").values_list("server_id", "tag"):
            by_id[server_id].tags.append(tag)
    return rows


def joined_supported(alias: str) -> bool:
    """Whether the database aggregates JSON the way :func:`_load_joined` needs (PostgreSQL)."""
    return connections[alias].vendor == "postgresql"


def _tags_aggregate() -> str:
    server = f'"{Server._meta.db_table}"."id"'
    return f'(SELECT json_agg(t."tag" ORDER BY t."tag")::text FROM "{ServerTag._meta.db_table}" t WHERE t."server_id" = {server})'


def _aggregates() -> tuple[str, str]:
    server = f'"{Server._meta.db_table}"."id"'
    nics = (
        'SELECT json_agg(json_build_array(n."index", n."network_name", n."network_id", n."mac", '
        f'host(n."ipv4"), host(n."ipv6"), {port_facts.NIC_PORT_SQL}) ORDER BY n."index")::text '
        f'FROM "{ServerNIC._meta.db_table}" n {port_facts.NIC_JOIN_SQL} WHERE n."server_id" = {server}'
    )
    metadata = (
        'SELECT json_object_agg(m."key", m."value" ORDER BY m."id")::text '
        f'FROM "{ServerMetadata._meta.db_table}" m WHERE m."server_id" = {server}'
    )
    return f"({nics})", f"({metadata})"


def _load_joined(values: QuerySet[Server], limit: int | None, with_tags: bool = False) -> list[ServerRow]:
    """PostgreSQL: one query; each server's NICs and metadata come aggregated as JSON in its row.

    One round trip instead of three matters most for a single server (show), where
    the round trips are most of the cost.
    """
    nics_sql, metadata_sql = _aggregates()
    tags_sql = _tags_aggregate() if with_tags else "NULL"
    values = values.annotate(
        nics_json=RawSQL(nics_sql, (), output_field=TextField()),
        metadata_json=RawSQL(metadata_sql, (), output_field=TextField()),
        tags_json=RawSQL(tags_sql, (), output_field=TextField()),
        groups_json=RawSQL(port_facts.groups_sql(f'"{Server._meta.db_table}"."id"'), (), output_field=TextField()),
    ).values_list(*_SERVER_COLUMNS, "image_ref", "nics_json", "metadata_json", "tags_json", "groups_json")
    if limit is not None:
        values = values[:limit]
    rows = []
    for *columns, nics, metadata, tags, groups in values:
        row = ServerRow(*columns)
        if groups:
            row.security_groups = orjson.loads(groups)
        if nics:
            row.nics = [NicRow(*nic) for nic in orjson.loads(nics)]
        if metadata:
            row.metadata = orjson.loads(metadata)
        if tags:
            row.tags = orjson.loads(tags)
        rows.append(row)
    return rows


def load_one(qs: QuerySet[Server], server_id: int, *, with_tags: bool = False) -> ServerRow | None:
    """One server of ``qs`` as a row, or None."""
    rows = load(qs.filter(pk=server_id), with_tags=with_tags)
    return rows[0] if rows else None
