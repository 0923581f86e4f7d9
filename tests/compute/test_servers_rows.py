"""The read path of server responses: rows (logic.server_rows), constant queries, the orjson renderer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from api.compute import server_render
from api.renderers import FastJSONRenderer
from logic import server_rows
from logic.enums import OperState
from logic.models import Server, ServerMetadata, ServerNIC, ServerTag
from tests.factories import FlavorFactory, ImageFactory

pytestmark = pytest.mark.django_db


def make_servers(project, user, count: int, *, start: int = 0) -> list[Server]:
    flavor = FlavorFactory()
    image = ImageFactory()
    servers = []
    for i in range(start, start + count):
        server = Server.objects.create(
            name=f"vm{i}",
            user=user,
            project=project,
            flavor=flavor,
            image=image if i % 3 else None,
            operstate=OperState.STARTED if i % 2 else OperState.STOPPED,
            fault={"code": 500, "message": "boom"} if i % 5 == 0 else None,
            launched_at=datetime(2024, 5, 1, 12, 0, i % 60, 123456, tzinfo=UTC) if i % 2 else None,
        )
        if i % 4:  # some servers have no NICs at all
            ServerNIC.objects.create(
                server=server, index=1, network_name="net-b", mac="AA:00:00:00:00:02", ipv6=f"2001:db8::{i + 1:x}"
            )
            ServerNIC.objects.create(
                server=server, index=0, network_name="private", network_id="n-1", mac="aa:00:00:00:00:01", ipv4=f"10.0.0.{i + 1}"
            )
        for key in ("b", "a", "ü")[: i % 4]:
            ServerMetadata.objects.create(server=server, key=key, value=f"{key}-{i}")
        for tag in ("web", "db", "ü-tag")[: i % 3]:
            ServerTag.objects.create(server=server, tag=tag)
        servers.append(server)
    return servers


@pytest.fixture
def populated(member):
    return make_servers(member.project, member.user_obj, 12)


def test_joined_and_generic_loading_give_the_same_rows(populated, monkeypatch):
    qs = Server.objects.filter(project=populated[0].project).order_by("-created_at", "-id")
    assert server_rows.joined_supported(qs.db), "the suite runs on PostgreSQL"
    joined = server_rows.load(qs)
    joined_tagged = server_rows.load(qs, with_tags=True)
    monkeypatch.setattr(server_rows, "joined_supported", lambda alias: False)
    generic = server_rows.load(qs)
    assert joined == generic
    assert joined_tagged == server_rows.load(qs, with_tags=True)
    assert all(r.tags == [] for r in joined)  # tags only when asked for
    assert {r.pk: r.tags for r in joined_tagged} == {s.pk: sorted(s.tags.values_list("tag", flat=True)) for s in populated}
    assert any(r.tags for r in joined_tagged)
    assert [r.pk for r in joined] == [s.pk for s in sorted(populated, key=lambda s: (s.created_at, s.pk), reverse=True)]
    # what the rows hold matches the models
    by_id = {r.pk: r for r in joined}
    for server in populated:
        row = by_id[server.pk]
        assert row.image_id == (str(server.image_id) if server.image_id else None)
        assert [(n.index, n.network_name, n.mac, n.ipv4, n.ipv6) for n in row.nics] == [
            (n.index, n.network_name, n.mac, n.ipv4, n.ipv6) for n in server.nics.order_by("index")
        ]
        assert [n.id for n in row.nics] == [str(n.pk) for n in server.nics.order_by("index")]
        assert row.metadata == dict(server.metadata.values_list("key", "value"))
        assert row.fault == server.fault and row.launched_at == server.launched_at


def test_load_honours_the_limit_and_an_empty_queryset(populated):
    qs = Server.objects.filter(project=populated[0].project).order_by("id")
    assert [r.pk for r in server_rows.load(qs, limit=5)] == [s.pk for s in populated[:5]]
    assert server_rows.load(qs.none()) == []
    assert server_rows.load_one(qs, -1) is None


def detail_queries(client) -> tuple[int, list]:
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get("/compute/v2.1/servers/detail")
    assert resp.status_code == 200
    return len(ctx.captured_queries), resp.json()["servers"]


def test_detail_queries_do_not_grow_with_the_number_of_servers(member):
    make_servers(member.project, member.user_obj, 2)
    few, servers = detail_queries(member)
    assert len(servers) == 2
    make_servers(member.project, member.user_obj, 40, start=2)
    many, servers = detail_queries(member)
    assert len(servers) == 42
    assert few == many
    with CaptureQueriesContext(connection) as ctx:
        assert member.get(f"/compute/v2.1/servers/{servers[0]['id']}").status_code == 200
    assert len(ctx.captured_queries) == few  # token check + one query, like the page


def test_detail_renders_nics_metadata_and_times_from_rows(member):
    (server,) = make_servers(member.project, member.user_obj, 1, start=1)
    body = member.get("/compute/v2.1/servers/detail").json()["servers"][0]
    assert body["addresses"] == {
        "private": [
            {"version": 4, "addr": "10.0.0.2", "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": "aa:00:00:00:00:01"}
        ],
        "net-b": [
            {"version": 6, "addr": "2001:db8::2", "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": "aa:00:00:00:00:02"}
        ],
    }
    assert body["metadata"] == {"b": "b-1"}
    assert body["OS-SRV-USG:launched_at"] == "2024-05-01T12:00:01.123456"
    assert body["created"] == server.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["image"]["id"] == str(server.image_id)


def test_time_formats_convert_other_zones_to_utc():
    athens = timezone(timedelta(hours=3))
    moment = datetime(2024, 5, 1, 15, 4, 5, 6, tzinfo=athens)
    assert server_render.iso(moment) == "2024-05-01T12:04:05Z"
    assert server_render.iso_usec(moment) == "2024-05-01T12:04:05.000006"
    assert server_render.iso(None) is None and server_render.iso_usec(None) is None


@pytest.mark.parametrize(
    "data",
    [
        {"servers": [{"name": "ünïcode ☃", "n": 1, "f": 1.5, "none": None, "ok": True}]},
        {"when": datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC), "amount": Decimal("1.25")},
        {1: "non-string key"},
        {"big": 1 << 70},
    ],
)
def test_fast_renderer_writes_what_drf_writes(data):
    fast = FastJSONRenderer().render(data, "application/json", {})
    assert json.loads(fast) == json.loads(JSONRenderer().render(data, "application/json", {}))


def test_fast_renderer_keeps_drf_behaviour_for_none_and_indent():
    assert FastJSONRenderer().render(None) == b""
    indented = FastJSONRenderer().render({"a": 1}, "application/json; indent=2", {})
    assert indented == b'{\n  "a": 1\n}'
