"""A UUID column as its canonical text in SQL (``c6070776-1669-46cf-b9c0-42803817e67c``).

Glance, Neutron and the compute images API spell UUIDs with dashes, and clients
match ids as strings, so every body must too. PostgreSQL's ``uuid::text`` is that
spelling already; SQLite (the embedded mode) stores Django's UUIDs as 32 hex digits,
so the dashes are put in by the query there.
"""

from __future__ import annotations

from django.db.models import CharField, Func


class UUIDText(Func):
    """``UUIDText("image_id")``: the column's UUID in its canonical text form (NULL stays NULL)."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="(%(expressions)s)::text", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Stored as 32 lower-case hex digits: 8-4-4-4-12 (concatenation with NULL is NULL).
        # The expression appears five times: meant for a column, which has no parameters.
        parts = " || '-' || ".join(f"substr(%(expressions)s, {start}, {length})" for start, length in _GROUPS)
        return super().as_sql(compiler, connection, template=f"({parts})", **extra_context)


_GROUPS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
