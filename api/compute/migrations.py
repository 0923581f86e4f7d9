"""``GET /os-migrations`` (admin only; rules and what is listed in :mod:`logic.server_migrations`).

Microversions: 2.23 ``migration_type`` (and ``links`` for live migrations in progress:
none here); 2.59 ``uuid``, newest first, ``limit`` / ``marker`` / ``changes-since`` and
``migrations_links``; 2.66 ``changes-before``; 2.80 ``user_id`` / ``project_id`` filters
and fields.
"""

from __future__ import annotations

from urllib.parse import urlencode

from rest_framework.response import Response

from api.compute.base import ComputeView
from logic import server_migrations as rules


def _time(value) -> str | None:
    return value.replace(tzinfo=None).isoformat() if value else None


class MigrationList(ComputeView):
    def render(self, migration: rules.Migration) -> dict:
        body = {
            "id": migration.id,
            "status": migration.status,
            "instance_uuid": str(migration.server_id),
            "source_node": None,
            "source_compute": None,
            "dest_node": None,
            "dest_compute": None,
            "dest_host": None,
            "old_instance_type_id": migration.old_flavor_id,
            "new_instance_type_id": migration.new_flavor_id,
            "created_at": _time(migration.created_at),
            "updated_at": _time(migration.updated_at),
        }
        if self.mv("2.23"):
            body["migration_type"] = migration.migration_type
        if self.mv("2.59"):
            body["uuid"] = migration.uuid
        if self.mv("2.80"):
            body.update(user_id=migration.user_id, project_id=migration.project_id)
        return body

    def get(self, request):
        rules.require_admin(request.auth)
        params = request.query_params
        query = rules.Query(
            instance_uuid=params.get("instance_uuid"),
            status=params.get("status"),
            migration_type=params.get("migration_type") if self.mv("2.23") else None,
            host=params.get("host") or params.get("source_compute"),
        )
        if self.mv("2.59"):
            query.changes_since, query.limit, query.marker = (
                params.get("changes-since"),
                params.get("limit"),
                params.get("marker"),
            )
        if self.mv("2.66"):
            query.changes_before = params.get("changes-before")
        if self.mv("2.80"):
            query.user_id, query.project_id = params.get("user_id"), params.get("project_id")
        migrations, more = rules.listing(request.auth, query)
        body: dict = {"migrations": [self.render(m) for m in migrations]}
        if more and migrations and self.mv("2.59"):
            link = {k: v for k, v in params.items() if k != "marker"}
            link["marker"] = migrations[-1].uuid
            body["migrations_links"] = [{"rel": "next", "href": f"{self.link('os-migrations')}?{urlencode(link)}"}]
        return Response(body)
