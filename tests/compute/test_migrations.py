"""``os-migrations``: the resizes of the action log, by microversion (PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from logic.models import ServerAction, ServerStateRecord
from tests.factories import FlavorFactory, ServerFactory

pytestmark = [pytest.mark.postgres]

URL = "/compute/v2.1/os-migrations"
H = timedelta(hours=1)


def v(version: str) -> dict:
    return {"HTTP_OPENSTACK_API_VERSION": f"compute {version}"}


def _action(server, name, at, *, finished=True, result="Success"):
    row = ServerAction.objects.create(
        server=server,
        action=name,
        request_id=f"req-{name}-{at.timestamp()}",
        user_id=server.user_id,
        project_id=server.project_id,
        finish_time=at + H / 60 if finished else None,
        result=result if finished else None,
    )
    ServerAction.objects.filter(pk=row.pk).update(start_time=at)
    row.refresh_from_db()
    return row


def _record(server, flavor, at):
    ServerStateRecord.objects.create(
        server=server, project_id=server.project_id, user_id=server.user_id, at=at, operstate="STARTED",
        flavor_id=flavor.pk, vcpus=flavor.vcpus, ram=flavor.ram, disk=flavor.disk,
    )  # fmt: skip


@pytest.fixture
def resized(db):
    """A server resized small → big and confirmed, then resized again (still running); another reverted; one failed."""
    t0 = timezone.now() - 10 * H
    small, big = FlavorFactory(), FlavorFactory()
    server = ServerFactory(flavor=small)
    _record(server, small, t0)
    first = _action(server, "resize", t0 + H)
    _record(server, big, t0 + H + H / 120)
    _action(server, "confirmResize", t0 + 2 * H)
    running = _action(server, "resize", t0 + 3 * H, finished=False)
    other = ServerFactory(flavor=small)
    reverted = _action(other, "resize", t0 + 4 * H)
    _action(other, "revertResize", t0 + 5 * H)
    failed = _action(ServerFactory(), "resize", t0 + 6 * H, result="Error")
    return {
        "server": server,
        "first": first,
        "running": running,
        "reverted": reverted,
        "failed": failed,
        "small": small,
        "big": big,
    }


def test_resizes_are_listed_with_their_status_and_flavors(admin, resized):
    body = admin.get(URL, **v("2.1")).json()["migrations"]
    by_id = {m["id"]: m for m in body}
    first = by_id[resized["first"].pk]
    assert first["status"] == "confirmed" and first["instance_uuid"] == str(resized["server"].pk)
    assert (first["old_instance_type_id"], first["new_instance_type_id"]) == (resized["small"].pk, resized["big"].pk)
    assert by_id[resized["running"].pk]["status"] == "migrating"
    assert by_id[resized["reverted"].pk]["status"] == "reverted"
    assert by_id[resized["failed"].pk]["status"] == "error"
    assert "migration_type" not in first and "uuid" not in first
    assert set(first) == {
        "id", "status", "instance_uuid", "source_node", "source_compute", "dest_node", "dest_compute", "dest_host",
        "old_instance_type_id", "new_instance_type_id", "created_at", "updated_at",
    }  # fmt: skip
    typed = admin.get(URL, {"migration_type": "resize"}, **v("2.23")).json()["migrations"]
    assert len(typed) == 4 and typed[0]["migration_type"] == "resize"
    assert admin.get(URL, {"migration_type": "live-migration"}, **v("2.23")).json()["migrations"] == []
    assert [m["id"] for m in admin.get(URL, {"status": "error"}).json()["migrations"]] == [resized["failed"].pk]
    only = admin.get(URL, {"instance_uuid": str(resized["server"].pk)}).json()["migrations"]
    assert {m["id"] for m in only} == {resized["first"].pk, resized["running"].pk}
    assert admin.get(URL, {"host": "node1"}).json()["migrations"] == []  # resizes do not move: no hosts


def test_non_admins_are_refused(member, resized):
    assert member.get(URL).status_code == 403


def test_paging_from_2_59_and_owner_fields_from_2_80(admin, resized):
    page = admin.get(URL, {"limit": "2"}, **v("2.59")).json()
    assert [m["id"] for m in page["migrations"]] == [resized["failed"].pk, resized["reverted"].pk]  # newest first
    marker = page["migrations"][-1]["uuid"]
    assert f"marker={marker}" in page["migrations_links"][0]["href"]
    rest = admin.get(URL, {"limit": "2", "marker": marker}, **v("2.59")).json()
    assert [m["id"] for m in rest["migrations"]] == [resized["running"].pk, resized["first"].pk]
    assert "migrations_links" not in rest
    assert admin.get(URL, {"marker": "not-a-uuid"}, **v("2.59")).status_code == 400
    since = (resized["failed"].start_time - H / 2).isoformat()
    assert [m["id"] for m in admin.get(URL, {"changes-since": since}, **v("2.59")).json()["migrations"]] == [resized["failed"].pk]
    before = (resized["first"].finish_time + H / 2).isoformat()
    assert [m["id"] for m in admin.get(URL, {"changes-before": before}, **v("2.66")).json()["migrations"]] == [
        resized["first"].pk
    ]
    owned = admin.get(URL, {"project_id": resized["server"].project_id}, **v("2.80")).json()["migrations"]
    assert {m["id"] for m in owned} == {resized["first"].pk, resized["running"].pk}
    assert owned[0]["user_id"] == resized["server"].user_id
