"""The admin API over HTTP (Django test client, real PostgreSQL): admin only, filters, formats, quotas."""

from __future__ import annotations

import msgpack
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logic.enums import OperState, QuotaResource
from logic.models import ServerSuspension
from tests.factories import BackendFactory, ServerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ADMIN = "/admin/v1"
ENDPOINTS = [
    "/",
    "/servers",
    "/servers/1",
    "/backends",
    "/backends/1",
    "/nodes",
    "/nodes/c1/n1",
    "/flavors",
    "/users",
    "/projects",
    "/projects/x/quotas",
    "/usage",
]
WRITES = [
    ("post", "/servers/1/suspend"),
    ("post", "/servers/1/unsuspend"),
    ("post", "/backends/1/drain"),
    ("post", "/backends/1/offline"),
    ("post", "/nodes/c1/n1/role"),
    ("put", "/nodes/c1/n1/tags"),
    ("put", "/projects/x/quotas"),
]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_member_reader_and_anonymous_are_refused_everywhere(member, reader, path):
    from rest_framework.test import APIClient

    for client in (member, reader):
        resp = client.get(ADMIN + path)
        assert resp.status_code == 403, (path, resp.content)
        assert resp.json()["forbidden"]["message"].endswith("cloud administrators only.")
    assert APIClient().get(ADMIN + path).status_code == 401


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_member_cannot_write_either(member, method, path):
    resp = getattr(member, method)(ADMIN + path, {"reason": "x", "role": "drained", "tags": []}, format="json")
    assert resp.status_code == 403


def _servers(n: int, **kw):
    return [ServerFactory(**kw) for _ in range(n)]


def test_servers_across_projects_with_filters(admin, member, other):
    b1, b2 = BackendFactory(name="c1.example.org"), BackendFactory(name="c2.example.org")
    mine = _servers(2, project=member.project, user=member.user_obj, backend=b1, operstate=OperState.STARTED)
    theirs = _servers(3, project=other.project, user=other.user_obj, backend=b2, operstate=OperState.STOPPED)
    ServerFactory(project=other.project, user=other.user_obj, backend=b2, deleted=True, operstate=OperState.DESTROYED)
    body = admin.get(f"{ADMIN}/servers").json()
    assert body["count"] == 5
    assert {r["id"] for r in body["results"]} == {s.pk for s in mine + theirs}
    assert {r["id"] for r in admin.get(f"{ADMIN}/servers?backend=c1.example.org").json()["results"]} == {s.pk for s in mine}
    assert admin.get(f"{ADMIN}/servers?backend={b2.pk}").json()["count"] == 3
    assert admin.get(f"{ADMIN}/servers?state=stopped").json()["count"] == 3
    assert admin.get(f"{ADMIN}/servers?state=ACTIVE").json()["count"] == 2
    assert admin.get(f"{ADMIN}/servers?user={other.user_obj.name}").json()["count"] == 3
    assert admin.get(f"{ADMIN}/servers?project={member.project.pk}").json()["count"] == 2
    assert admin.get(f"{ADMIN}/servers?deleted=true").json()["count"] == 1
    row = admin.get(f"{ADMIN}/servers/{mine[0].pk}").json()
    assert row["backend"] == "c1.example.org" and row["status"] == "ACTIVE" and row["user_name"] == member.user_obj.name
    assert row["suspended"] is False


def test_unknown_server_is_an_openstack_404(admin):
    resp = admin.get(f"{ADMIN}/servers/999999")
    assert resp.status_code == 404 and "itemNotFound" in resp.json()


def test_msgpack_and_html_formats(admin, member):
    _servers(3, project=member.project, user=member.user_obj)
    as_json = admin.get(f"{ADMIN}/servers").json()
    resp = admin.get(f"{ADMIN}/servers", HTTP_ACCEPT="application/msgpack")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/msgpack"
    assert msgpack.unpackb(resp.content) == as_json
    html = admin.get(f"{ADMIN}/servers", HTTP_ACCEPT="text/html")
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
    assert b"Server List" in html.content and b"&quot;count&quot;: 3" in html.content


def test_html_view_reads_the_token_cookie_but_writes_need_the_header(admin):
    from rest_framework.test import APIClient

    token = admin._credentials["HTTP_X_AUTH_TOKEN"]
    browser = APIClient()
    browser.cookies["X-Auth-Token"] = token
    assert browser.get(f"{ADMIN}/servers", HTTP_ACCEPT="text/html").status_code == 200
    backend = BackendFactory()
    assert browser.post(f"{ADMIN}/backends/{backend.pk}/drain").status_code == 401


def test_server_list_queries_do_not_grow_with_the_servers(admin, member, other):
    backend = BackendFactory()

    def queries(n_more: int) -> int:
        _servers(n_more, project=member.project, user=member.user_obj, backend=backend)
        ServerSuspension.objects.create(
            server=ServerFactory(project=other.project, user=other.user_obj), reason="x", suspended_by="a"
        )
        with CaptureQueriesContext(connection) as ctx:
            assert admin.get(f"{ADMIN}/servers?limit=1000").status_code == 200
        return len(ctx.captured_queries)

    assert queries(2) == queries(40)


def test_backend_drain_offline_and_capacity(admin, member):
    backend = BackendFactory(name="c9.example.org")
    _servers(2, project=member.project, user=member.user_obj, backend=backend)
    row = admin.get(f"{ADMIN}/backends/{backend.pk}").json()
    assert row["server_count"] == 2 and row["usable"] is True and row["mem_free"] == backend.mem_free
    assert "rapi_password_encrypted" not in row
    assert admin.post(f"{ADMIN}/backends/{backend.pk}/drain").json()["drained"] is True
    assert admin.get(f"{ADMIN}/backends?drained=true").json()["count"] == 1
    assert admin.post(f"{ADMIN}/backends/{backend.pk}/undrain").json()["usable"] is True
    assert admin.post(f"{ADMIN}/backends/{backend.pk}/offline").json()["offline"] is True
    assert admin.post(f"{ADMIN}/backends/{backend.pk}/online").json()["offline"] is False


def test_users_projects_flavors(admin, member, other):
    users = admin.get(f"{ADMIN}/users?project={member.project.pk}").json()["results"]
    assert [u["id"] for u in users] == [member.user_obj.pk]
    assert users[0]["memberships"][0]["role"] == "member"
    projects = admin.get(f"{ADMIN}/projects?user={other.user_obj.pk}").json()["results"]
    assert [p["id"] for p in projects] == [other.project.pk]
    assert admin.get(f"{ADMIN}/flavors").status_code == 200


def test_quotas_read_and_set_and_bad_input_changes_nothing(admin, member):
    url = f"{ADMIN}/projects/{member.project.pk}/quotas"
    before = admin.get(url).json()["quotas"][QuotaResource.SERVERS]
    resp = admin.put(url, {"limits": {QuotaResource.SERVERS: 7}}, format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["quotas"][QuotaResource.SERVERS]["limit"] == 7
    bad = admin.put(url, {"limits": {"cyclades.nonsense": 3, QuotaResource.SERVERS: 2}}, format="json")
    assert bad.status_code == 400 and "Unknown quota resource" in bad.json()["badRequest"]["message"]
    assert admin.get(url).json()["quotas"][QuotaResource.SERVERS]["limit"] == 7
    assert admin.put(url, {"limits": {QuotaResource.SERVERS: "many"}}, format="json").status_code == 400
    assert before["in_use"] == 0


def test_suspend_needs_a_reason_and_changes_nothing_without(admin, member):
    server = ServerFactory(project=member.project, user=member.user_obj, operstate=OperState.STOPPED)
    resp = admin.post(f"{ADMIN}/servers/{server.pk}/suspend", {}, format="json")
    assert resp.status_code == 400 and "reason" in resp.json()["badRequest"]["message"]
    assert not ServerSuspension.objects.exists()
    resp = admin.post(f"{ADMIN}/servers/{server.pk}/suspend", {"reason": "spam"}, format="json")
    assert resp.status_code == 202 and resp.json()["suspended"] is True and resp.json()["stop_submitted"] is False
    assert admin.post(f"{ADMIN}/servers/{server.pk}/suspend", {"reason": "again"}, format="json").status_code == 409
    assert admin.get(f"{ADMIN}/servers?suspended=true").json()["count"] == 1
    assert admin.post(f"{ADMIN}/servers/{server.pk}/unsuspend").json()["suspended"] is False
    assert admin.post(f"{ADMIN}/servers/{server.pk}/unsuspend").status_code == 409


def test_admin_api_is_in_the_openapi_schema(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/admin/v1/servers", "/admin/v1/servers/{id}/suspend", "/admin/v1/nodes", "/admin/v1/usage"):
        assert any(p.rstrip("/") == path for p in paths), path


def test_the_hand_written_server_row_matches_the_declared_fields(admin, member):
    from rest_framework import serializers

    from api.admin.serializers import ServerSerializer

    server = ServerFactory(project=member.project, user=member.user_obj, backend=BackendFactory(), launched_at=timezone_now())
    ServerSuspension.objects.create(server=server, reason="abuse", suspended_by="a")
    row = ServerSerializer(server).data
    generic = serializers.ModelSerializer.to_representation(ServerSerializer(), server)
    assert row == dict(generic)
    assert list(row) == ServerSerializer.Meta.fields
    listed = admin.get(f"{ADMIN}/servers?suspended=true").json()["results"]
    assert listed == [admin.get(f"{ADMIN}/servers/{server.pk}").json()]


def timezone_now():
    from django.utils import timezone

    return timezone.now()
