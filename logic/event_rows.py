"""The server rows a batch of events reads and writes, in a constant number of statements.

The dispatcher's latency is mostly round trips to PostgreSQL (benchmarks/pipeline.py,
py-spy: most of its wall time waiting in ``cursor.execute``). So a batch of events,
whatever its size, takes its server rows in one statement (locked, in id order,
with each server's cluster name), reads only what its events need (flavors, open
action-log rows), and writes each row's changed fields back at the end, one UPDATE
for all the rows that changed the same fields, and the finished action-log rows in
one more. The rules themselves
(``logic.events``) work on the Python copies in between.

On other databases (SQLite in the all-in-one mode) the same functions use the ORM.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from logic.models import Backend, Flavor, Server, ServerAction, ServerNIC

#: The NIC fields the rules compare with what Ganeti reports.
NIC_FIELDS = ("index", "mac", "ipv4", "ipv6", "network_name", "network_id", "link", "mode")


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def lock_and_load(ids: list[int]) -> dict[int, Server]:
    """Lock the servers ``ids`` (FOR UPDATE, in id order: the order every batch takes them in) and read them.

    Each server carries ``cluster_name``, its backend's name (None without a backend).
    Plain SQL on PostgreSQL: building the ORM's query cost more than running it.
    """
    if not ids:
        return {}
    if not _postgres():
        rows = Server.objects.select_for_update().select_related("backend").filter(pk__in=ids).order_by("pk")
        servers = list(rows)
        for server in servers:
            server.cluster_name = server.backend.name if server.backend_id is not None else None
        return {s.pk: s for s in servers}
    servers = _fetch(
        Server,
        f"LEFT JOIN {Backend._meta.db_table} b ON b.id = t.backend_id WHERE t.id = ANY(%s) ORDER BY t.id FOR UPDATE OF t",
        [ids],
        extra="b.name",
    )
    for server, cluster_name in servers:
        server.cluster_name = cluster_name
    return {server.pk: server for server, _ in servers}


def load_flavors(servers: Iterable[Server]) -> None:
    """Attach their flavor to ``servers`` that lack it, read in one statement."""
    missing = [s for s in servers if s.flavor_id is not None and not Server.flavor.is_cached(s)]
    keys = sorted({s.flavor_id for s in missing})
    if not keys:
        return
    if _postgres():
        flavors = {flavor.pk: flavor for flavor, _ in _fetch(Flavor, "WHERE t.id = ANY(%s)", [keys])}
    else:
        flavors = Flavor.objects.in_bulk(keys)
    for server in missing:
        server.flavor = flavors[server.flavor_id]


def unfinished_actions(ids: list[int]) -> set[tuple]:
    """The (server id, job id, request id) of the unfinished action-log rows of servers ``ids``."""
    if not ids:
        return set()
    if not _postgres():
        rows = ServerAction.objects.filter(server_id__in=ids, finish_time__isnull=True)
        return set(rows.values_list("server_id", "job_id", "request_id"))
    sql = (
        f"SELECT server_id, job_id, request_id FROM {ServerAction._meta.db_table} "
        "WHERE server_id = ANY(%s) AND finish_time IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids])
        return set(cursor.fetchall())


@dataclass(frozen=True)
class ActionEnd:
    """A job's end, to be written on the server's unfinished action-log rows of that job (by job id,
    or by ``request_id`` on rows whose job id the API has not recorded yet)."""

    server_id: int
    job_id: int
    request_id: str | None
    finish_time: datetime
    result: str
    message: str | None


def finish_actions(ends: list[ActionEnd]) -> None:
    """Mark the action-log rows of ``ends`` finished: one UPDATE for all of them on PostgreSQL."""
    if not ends:
        return
    if not _postgres():
        for end in ends:
            mine = Q(job_id=end.job_id)
            if end.request_id:
                mine |= Q(job_id__isnull=True, request_id=end.request_id)
            ServerAction.objects.filter(mine, server_id=end.server_id, finish_time__isnull=True).update(
                job_id=end.job_id, finish_time=end.finish_time, result=end.result, message=end.message
            )
        return
    row = "(%s::bigint, %s::bigint, %s::varchar, %s::timestamptz, %s::varchar, %s::text)"
    params: list[Any] = []
    for end in ends:
        params += [end.server_id, end.job_id, end.request_id, end.finish_time, end.result, end.message]
    sql = (
        f"UPDATE {ServerAction._meta.db_table} AS a SET job_id = v.job_id, finish_time = v.finish_time, "
        f"result = v.result, message = v.message FROM (VALUES {', '.join([row] * len(ends))}) "
        "AS v(server_id, job_id, request_id, finish_time, result, message) "
        "WHERE a.server_id = v.server_id AND a.finish_time IS NULL "
        "AND (a.job_id = v.job_id OR (a.job_id IS NULL AND a.request_id = v.request_id))"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def nics_of(ids: list[int]) -> dict[int, list[dict]]:
    """The NICs of servers ``ids`` (as :data:`NIC_FIELDS` dicts), in one statement; every id has a list."""
    found: dict[int, list[dict]] = {pk: [] for pk in ids}
    if ids:
        for nic in ServerNIC.objects.filter(server_id__in=ids).order_by("server_id", "index").values("server_id", *NIC_FIELDS):
            found[nic.pop("server_id")].append(nic)
    return found


def replace_nics(nics: dict[int, list[dict]]) -> None:
    """Replace the NICs of the servers in ``nics`` with theirs: one DELETE and one INSERT for all."""
    if not nics:
        return
    ServerNIC.objects.filter(server_id__in=list(nics)).delete()
    ServerNIC.objects.bulk_create([ServerNIC(server_id=pk, **nic) for pk, listed in nics.items() for nic in listed])


def write_changes(changed: dict[int, tuple[Server, set[str]]]) -> None:
    """Write each server's changed fields (by name) and ``updated_at`` (now): one UPDATE per set of names."""
    if not changed:
        return
    now = timezone.now()
    groups: dict[tuple[str, ...], list[Server]] = {}
    for server, names in changed.values():
        server.updated_at = now
        groups.setdefault(tuple(sorted(names | {"updated_at"})), []).append(server)
    for names, servers in groups.items():
        _update(servers, names)
    from logic.usage import history

    history.record_changes(changed.values())


def _update(servers: list[Server], names: tuple[str, ...]) -> None:
    """The fields ``names`` of ``servers``, values prepared by the fields themselves, in one statement."""
    fields = [Server._meta.get_field(name) for name in names]
    with connection.cursor() as cursor:
        if not _postgres():
            quote = connection.ops.quote_name
            assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
            for server in servers:
                values = [f.get_db_prep_save(getattr(server, f.attname), connection) for f in fields]
                cursor.execute(f"UPDATE {quote(Server._meta.db_table)} SET {assignments} WHERE id = %s", [*values, server.pk])
            return
        head, row, tail = _update_sql(names)
        params: list = []
        for server in servers:
            params.append(server.pk)
            params += [f.get_db_prep_save(getattr(server, f.attname), connection) for f in fields]
        cursor.execute(f"{head}{', '.join([row] * len(servers))}{tail}", params)


@functools.cache
def _update_sql(names: tuple[str, ...]) -> tuple[str, str, str]:
    """``UPDATE ... FROM (VALUES ...)`` for the fields ``names``: its head, one row, its tail.

    Each value is cast to its column's type without the modifier (``varchar``, not
    ``varchar(64)``): an explicit cast to ``varchar(64)`` silently truncates a
    longer value, where the assignment to the column refuses it.
    """
    meta = Server._meta
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(f"%s::{re.sub(r'[(].*[)]', '', f.cast_db_type(connection))}" for f in [meta.pk, *fields]) + ")"
    columns = ", ".join(quote(f.column) for f in fields)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields)
    return f"UPDATE {quote(meta.db_table)} AS s SET {assignments} FROM (VALUES ", row, f") AS v(id, {columns}) WHERE s.id = v.id"


def _fetch(model, tail: str, params: list, *, extra: str = "NULL") -> list[tuple[Any, Any]]:
    """Instances of ``model`` from ``SELECT <its columns>, <extra> FROM <its table> t <tail>``, each with
    its ``extra`` value: what ``Model.objects.raw()`` does, without the cost of resolving the columns
    again for every query (a dispatcher runs this query for every batch)."""
    columns, names, converters = _plan(model)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}, {extra} FROM {model._meta.db_table} t {tail}", params)
        rows = cursor.fetchall()
    out = []
    for row in rows:
        values = list(row[:-1])
        for index, convert, expression in converters:
            values[index] = convert(values[index], expression, connection)
        out.append((model.from_db(connection.alias, names, values), row[-1]))
    return out


@functools.cache
def _plan(model) -> tuple[str, list[str], list[tuple[int, Callable, Any]]]:
    """The model's concrete columns (as ``t.<column>``), their attribute names, and the converters of the
    fields that read their database value (JSON fields; PostgreSQL's backend itself adds none)."""
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col("t")
        converters += [(index, convert, column) for convert in column.get_db_converters(connection)]
    return ", ".join(f"t.{quote(f.column)}" for f in fields), [f.attname for f in fields], converters
