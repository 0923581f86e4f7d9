"""The query every authenticated API request runs: a token with its user, project and role.

Building this query with the ORM (select_related + a role subquery) cost more CPU
than running it, on every request. Its SQL only depends on the models, so it is
built once per database vendor from the models' metadata (a field added to a
model is picked up automatically) and the rows are turned into model instances
with ``Model.from_db`` after the backend's and the fields' value converters, as
the ORM itself does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Field, Model

from logic.models import Membership, Project, Token, User


@dataclass(frozen=True)
class _Part:
    """One model's columns in the result row, with each column's value converters."""

    model: type[Model]
    fields: tuple[Field, ...]
    attnames: tuple[str, ...]
    start: int
    converters: tuple[tuple[int, Any, tuple], ...]  # (offset, column expression, converters) where there are any


@dataclass(frozen=True)
class _Compiled:
    sql: str
    parts: tuple[_Part, ...]
    role_index: int


@functools.cache
def _compile(vendor: str, alias_name: str) -> _Compiled:
    connection = connections[alias_name]
    qn = connection.ops.quote_name
    parts: list[_Part] = []
    columns: list[str] = []
    for model, alias in ((Token, "t"), (User, "u"), (Project, "p")):
        fields = tuple(model._meta.concrete_fields)
        converters = []
        for offset, field in enumerate(fields):
            col = field.get_col(alias)
            found = tuple(connection.ops.get_db_converters(col) + col.get_db_converters(connection))
            if found:
                converters.append((offset, col, found))
        parts.append(_Part(model, fields, tuple(f.attname for f in fields), len(columns), tuple(converters)))
        columns += [f"{alias}.{qn(f.column)}" for f in fields]
    token_user = qn(Token._meta.get_field("user").column)
    token_project = qn(Token._meta.get_field("project").column)
    member = Membership._meta
    role = (
        f"(SELECT m.{qn(member.get_field('role').column)} FROM {qn(member.db_table)} m"
        f" WHERE m.{qn(member.get_field('user').column)} = t.{token_user}"
        f" AND m.{qn(member.get_field('project').column)} = t.{token_project} LIMIT 1)"
    )
    sql = (
        f"SELECT {', '.join(columns)}, {role}"
        f" FROM {qn(Token._meta.db_table)} t"
        f" INNER JOIN {qn(User._meta.db_table)} u ON u.{qn(User._meta.pk.column)} = t.{token_user}"
        f" LEFT OUTER JOIN {qn(Project._meta.db_table)} p ON p.{qn(Project._meta.pk.column)} = t.{token_project}"
        f" WHERE t.{qn(Token._meta.pk.column)} = %s"
    )
    return _Compiled(sql=sql, parts=tuple(parts), role_index=len(columns))


def _instance(part: _Part, row: tuple, connection) -> Model:
    values = list(row[part.start : part.start + len(part.fields)])
    for offset, col, converters in part.converters:
        value = values[offset]
        if value is not None:
            for convert in converters:
                value = convert(value, col, connection)
            values[offset] = value
    return part.model.from_db(connection.alias, part.attnames, values)


def load_token(token_digest: str, using: str = "default") -> tuple[Token, str | None] | None:
    """(token with ``user`` and ``project`` loaded, the user's role in the project) or None if unknown."""
    connection = connections[using]
    compiled = _compile(connection.vendor, using)
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, [token_digest])
        row = cursor.fetchone()
    if row is None:
        return None
    token_part, user_part, project_part = compiled.parts
    token = _instance(token_part, row, connection)
    user = _instance(user_part, row, connection)
    has_project = row[project_part.start + project_part.fields.index(Project._meta.pk)] is not None
    project = _instance(project_part, row, connection) if has_project else None
    Token._meta.get_field("user").set_cached_value(token, user)
    Token._meta.get_field("project").set_cached_value(token, project)
    return token, row[compiled.role_index]
