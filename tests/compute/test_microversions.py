"""Every microversion step the compute API advertises, over HTTP (shapes and behaviours).

Each step is checked on both sides of its version: the key sets against this
module's own rules (Nova's API reference), and whole bodies against tempest's own
response schemas when tempest is installed (:mod:`tests.compute.tempest_schemas`).
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from api.compute import base
from logic.enums import OperState, Role
from logic.models import Backend, Network, Server, ServerNIC
from tests.compute import tempest_schemas
from tests.factories import UserFactory, token_client

pytestmark = pytest.mark.django_db

# Nova's admin-only extended server attributes: shown from 2.1, the rest from 2.3.
EXT_21 = {"OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:instance_name", "OS-EXT-SRV-ATTR:hypervisor_hostname"}
EXT_23 = {
    "OS-EXT-SRV-ATTR:reservation_id",
    "OS-EXT-SRV-ATTR:launch_index",
    "OS-EXT-SRV-ATTR:kernel_id",
    "OS-EXT-SRV-ATTR:ramdisk_id",
    "OS-EXT-SRV-ATTR:hostname",
    "OS-EXT-SRV-ATTR:root_device_name",
    "OS-EXT-SRV-ATTR:user_data",
}
# What a 2.1 show/detail body of an ACTIVE server holds for a member (update/rebuild: COMMON_21).
COMMON_21 = {
    "id", "name", "status", "tenant_id", "user_id", "metadata", "hostId", "image", "flavor", "created",
    "updated", "addresses", "accessIPv4", "accessIPv6", "links", "OS-DCF:diskConfig", "progress",
}  # fmt: skip
DETAIL_21 = COMMON_21 | {
    "key_name", "security_groups", "config_drive", "OS-EXT-AZ:availability_zone", "OS-SRV-USG:launched_at",
    "OS-SRV-USG:terminated_at", "OS-EXT-STS:task_state", "OS-EXT-STS:vm_state", "OS-EXT-STS:power_state",
    "os-extended-volumes:volumes_attached",
}  # fmt: skip


def at(version: str) -> dict:
    return {"HTTP_OPENSTACK_API_VERSION": f"compute {version}"}


def expected_common(version: str) -> set[str]:
    minor = int(version.split(".")[1])
    keys = set(COMMON_21)
    if minor >= 9:
        keys.add("locked")
    if minor >= 19:
        keys.add("description")
    if minor >= 26:
        keys.add("tags")
    if minor >= 63:
        keys.add("trusted_image_certificates")
    if minor >= 73:
        keys.add("locked_reason")
    if minor >= 96:
        keys.add("pinned_availability_zone")
    if minor >= 100:
        keys.add("scheduler_hints")
    return keys


def expected_single(version: str) -> set[str]:
    """What one server's answer (show, update, rebuild) adds to a list entry: 2.71's server groups."""
    return {"server_groups"} if int(version.split(".")[1]) >= 71 else set()


def expected_detail(version: str, *, admin: bool) -> set[str]:
    minor = int(version.split(".")[1])
    keys = expected_common(version) | DETAIL_21
    if admin:
        keys |= EXT_21
        if minor >= 3:
            keys |= EXT_23
        if minor >= 16:
            keys.add("host_status")
    if minor >= 90:
        keys.add("OS-EXT-SRV-ATTR:hostname")  # everyone's from 2.90
    return keys


@pytest.fixture
def admin(member):
    """An admin in the member's project (sees the same servers, plus the admin-only attributes)."""
    return token_client(Role.ADMIN, user=UserFactory(is_admin=True), project=member.project)


@pytest.fixture
def active(server):
    ServerNIC.objects.create(server=server, index=0, network_name="private", mac="aa:00:00:11:22:33", ipv4="10.0.0.5")
    Server.objects.filter(pk=server.pk).update(operstate=OperState.STARTED, task=None, launched_at=timezone.now())
    return server


ALL_STEPS = [
    "2.1", "2.2", "2.3", "2.8", "2.9", "2.15", "2.16", "2.18", "2.19", "2.20", "2.21", "2.25", "2.26", "2.39",
    "2.42", "2.46", "2.47", "2.51", "2.52", "2.54", "2.57", "2.58", "2.61", "2.63", "2.71", "2.73", "2.75", "2.89",
    "2.90", "2.96", "2.98", "2.100",
]  # fmt: skip


def test_the_advertised_maximum_is_2_100(client):
    assert str(base.MAX_VERSION) == "2.100"
    nova = client.get("/compute/").json()["versions"][1]
    assert nova["version"] == "2.100"
    assert client.get("/compute/v2.1/", **at("2.100")).status_code == 200
    assert client.get("/compute/v2.1/", **at("2.101")).status_code == 406


# ----------------------------------------------------------------------------- server bodies per version
@pytest.mark.parametrize("version", ALL_STEPS)
@pytest.mark.parametrize("who", ["member", "admin"])
def test_show_and_detail_hold_exactly_the_keys_of_the_version(request, active, version, who):
    client = request.getfixturevalue(who)
    show = client.get(f"/compute/v2.1/servers/{active.pk}", **at(version))
    assert show.status_code == 200
    assert show["X-OpenStack-Nova-API-Version"] == version
    assert set(show.json()["server"]) == expected_detail(version, admin=who == "admin") | expected_single(version)
    tempest_schemas.validate(show, "servers", "get_server", version)
    detail = client.get("/compute/v2.1/servers/detail", **at(version))
    assert [set(s) for s in detail.json()["servers"]] == [expected_detail(version, admin=who == "admin")]
    tempest_schemas.validate(detail, "servers", "list_servers_detail", version)
    tempest_schemas.validate(client.get("/compute/v2.1/servers", **at(version)), "servers", "list_servers", version)


def expected_answer(version: str, *, admin: bool = False) -> set[str]:
    """An update's answer: the common fields, and from 2.75 the whole server as show has it."""
    if int(version.split(".")[1]) >= 75:
        return expected_detail(version, admin=admin) | expected_single(version)
    return expected_common(version) | expected_single(version)


@pytest.mark.parametrize("version", ALL_STEPS)
@pytest.mark.parametrize("who", ["member", "admin"])
def test_update_answers_the_fields_of_the_version(request, active, version, who):
    client = request.getfixturevalue(who)
    resp = client.put(f"/compute/v2.1/servers/{active.pk}", {"server": {"name": "renamed"}}, format="json", **at(version))
    assert resp.status_code == 200, resp.content
    assert set(resp.json()["server"]) == expected_answer(version, admin=who == "admin")
    tempest_schemas.validate(resp, "servers", "update_server", version)


REBUILD_STEPS = ["2.1", "2.9", "2.19", "2.21", "2.26", "2.47", "2.54", "2.57", "2.63", "2.71", "2.73", "2.75", "2.90",
                 "2.96", "2.98", "2.100"]  # fmt: skip


@pytest.mark.parametrize("version", REBUILD_STEPS)
@pytest.mark.parametrize("who", ["member", "admin"])
def test_rebuild_answers_the_fields_of_the_version(request, active, image_alt, version, who):
    client = request.getfixturevalue(who)
    resp = client.post(
        f"/compute/v2.1/servers/{active.pk}/action", {"rebuild": {"imageRef": str(image_alt.id)}}, format="json", **at(version)
    )
    assert resp.status_code == 202, resp.content
    minor = int(version.split(".")[1])
    added = ({"key_name"} if minor >= 54 else set()) | ({"user_data"} if minor >= 57 else set())
    expected = expected_answer(version, admin=who == "admin") | {"adminPass"} | added
    if minor >= 57:
        expected.discard("OS-EXT-SRV-ATTR:user_data")  # 2.75's whole server says user_data instead
    assert set(resp.json()["server"]) == expected
    tempest_schemas.validate(resp, "servers", "rebuild_server_with_admin_pass", version)


# ----------------------------------------------------------------------------- 2.3: the admins' extended attributes
def test_extended_attributes_say_where_and_how_the_server_was_made(admin, member, jobs, backend, flavor, image):
    body = {
        "server": {
            "name": "pair",
            "flavorRef": str(flavor.pk),
            "imageRef": str(image.id),
            "min_count": 2,
            "user_data": "IyEvYmluL3NoCg==",
        }
    }
    assert member.post("/compute/v2.1/servers", body, format="json").status_code == 202
    servers = admin.get("/compute/v2.1/servers/detail", **at("2.3")).json()["servers"]
    assert sorted(s["OS-EXT-SRV-ATTR:launch_index"] for s in servers) == [0, 1]
    first = servers[0]
    assert {s["OS-EXT-SRV-ATTR:reservation_id"] for s in servers} == {first["OS-EXT-SRV-ATTR:reservation_id"]}
    assert first["OS-EXT-SRV-ATTR:reservation_id"].startswith("r-")
    prefix = Server.objects.get(pk=int(first["id"])).ganeti_name.rsplit("-", 1)[0]
    assert first["OS-EXT-SRV-ATTR:instance_name"] == f"{prefix}-{first['id']}" == first["OS-EXT-SRV-ATTR:hostname"]
    assert first["OS-EXT-SRV-ATTR:host"] == backend.name == first["OS-EXT-SRV-ATTR:hypervisor_hostname"]
    assert first["OS-EXT-SRV-ATTR:user_data"] == "IyEvYmluL3NoCg=="
    at21 = admin.get(f"/compute/v2.1/servers/{first['id']}", **at("2.2")).json()["server"]
    assert set(at21) >= EXT_21 and not EXT_23 & set(at21)
    mine = member.get(f"/compute/v2.1/servers/{first['id']}", **at("2.21")).json()["server"]
    assert not any(key.startswith("OS-EXT-SRV-ATTR:") for key in mine) and "host_status" not in mine


def test_admin_detail_costs_one_query_more_whatever_the_page(
    admin, member, jobs, backend, flavor, image, django_assert_max_num_queries
):
    body = {"server": {"name": "many", "flavorRef": str(flavor.pk), "imageRef": str(image.id), "min_count": 5}}
    assert member.post("/compute/v2.1/servers", body, format="json").status_code == 202
    with django_assert_max_num_queries(8) as captured:
        assert len(admin.get("/compute/v2.1/servers/detail", **at("2.21")).json()["servers"]) == 5
    few = len(captured.captured_queries)
    assert member.post("/compute/v2.1/servers", body, format="json").status_code == 202
    with django_assert_max_num_queries(few) as captured:
        assert len(admin.get("/compute/v2.1/servers/detail", **at("2.21")).json()["servers"]) == 10


# ----------------------------------------------------------------------------- 2.5: ip6 filter for everyone
def test_non_admins_filter_by_ipv6_from_2_5(member, active):
    ServerNIC.objects.filter(server=active).update(ipv6="2001:db8::5")
    other = ServerNIC.objects.get(server=active)
    assert other.ipv6 == "2001:db8::5"
    miss = {"ip6": "2001:db8::99"}
    # below 2.5 a non-admin's ip6 is ignored (every server is listed), from 2.5 it filters
    assert len(member.get("/compute/v2.1/servers", miss, **at("2.4")).json()["servers"]) == 1
    assert member.get("/compute/v2.1/servers", miss, **at("2.5")).json()["servers"] == []
    hit = member.get("/compute/v2.1/servers", {"ip6": "2001:db8::5"}, **at("2.5")).json()["servers"]
    assert [s["id"] for s in hit] == [str(active.pk)]


def test_admins_filter_by_ipv6_at_2_1(admin, active):
    ServerNIC.objects.filter(server=active).update(ipv6="2001:db8::5")
    assert admin.get("/compute/v2.1/servers", {"ip6": "2001:db8::99"}, **at("2.1")).json()["servers"] == []


def test_the_locked_filter_waits_for_2_73(member, active):
    # locked=true matches nothing here, but below 2.73 Nova ignores the filter
    assert len(member.get("/compute/v2.1/servers", {"locked": "true"}, **at("2.21")).json()["servers"]) == 1


# ----------------------------------------------------------------------------- 2.6: remote consoles
def test_console_actions_give_way_to_remote_consoles_at_2_6(member, active):
    url = f"/compute/v2.1/servers/{active.pk}"
    vnc = {"os-getVNCConsole": {"type": "novnc"}}
    console = {"remote_console": {"protocol": "vnc", "type": "novnc"}}
    # no console proxy is configured in these tests: 503 (tests/console/ run a real one)
    assert member.post(f"{url}/action", vnc, format="json", **at("2.5")).status_code == 503
    assert member.post(f"{url}/remote-consoles", console, format="json", **at("2.5")).status_code == 404
    assert member.post(f"{url}/action", vnc, format="json", **at("2.6")).status_code == 404
    resp = member.post(f"{url}/remote-consoles", console, format="json", **at("2.6"))
    assert resp.status_code == 503 and "console service" in resp.json()["serviceUnavailable"]["message"]
    assert member.post("/compute/v2.1/servers/999999/remote-consoles", console, format="json", **at("2.6")).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"remote_console": {"protocol": "vnc"}},
        {"remote_console": {"protocol": "vnc", "type": "spice-html5"}},
        {"remote_console": {"protocol": ["vnc"], "type": "novnc"}},
        {"remote_console": {"protocol": "mks", "type": "webmks"}},  # mks from 2.8
        {"remote_console": {"protocol": "vnc", "type": "novnc", "extra": 1}},
    ],
)
def test_bad_remote_console_requests_are_400(member, active, body):
    resp = member.post(f"/compute/v2.1/servers/{active.pk}/remote-consoles", body, format="json", **at("2.6"))
    assert resp.status_code == 400, resp.content


# ----------------------------------------------------------------------------- 2.9 locked, 2.73 lock reason
def test_locked_shows_from_2_9_and_the_reason_is_not_read_before_2_73(member, active):
    url = f"/compute/v2.1/servers/{active.pk}"
    assert member.post(f"{url}/action", {"lock": {"locked_reason": "hands off"}}, format="json", **at("2.21")).status_code == 202
    active.refresh_from_db()
    assert active.locked and active.locked_reason is None
    assert "locked" not in member.get(url, **at("2.8")).json()["server"]
    assert member.get(url, **at("2.9")).json()["server"]["locked"] is True
    member.post(f"{url}/action", {"unlock": None}, format="json", **at("2.9"))
    assert member.get(url, **at("2.9")).json()["server"]["locked"] is False


# ----------------------------------------------------------------------------- 2.16 host_status
@pytest.mark.parametrize(
    ("offline", "drained", "status"), [(False, False, "UP"), (False, True, "MAINTENANCE"), (True, False, "DOWN")]
)
def test_host_status_follows_the_backend_for_admins_from_2_16(admin, active, offline, drained, status):
    Backend.objects.filter(pk=active.backend_id).update(offline=offline, drained=drained)
    url = f"/compute/v2.1/servers/{active.pk}"
    assert "host_status" not in admin.get(url, **at("2.15")).json()["server"]
    assert admin.get(url, **at("2.16")).json()["server"]["host_status"] == status


def test_host_status_is_empty_for_an_unplaced_server(admin, active):
    Server.objects.filter(pk=active.pk).update(backend=None)
    assert admin.get(f"/compute/v2.1/servers/{active.pk}", **at("2.16")).json()["server"]["host_status"] == ""


# ----------------------------------------------------------------------------- 2.17 trigger_crash_dump
def test_trigger_crash_dump_from_2_17_is_refused_as_unsupported(member, active):
    url = f"/compute/v2.1/servers/{active.pk}/action"
    before = member.post(url, {"trigger_crash_dump": None}, format="json", **at("2.16"))
    assert before.status_code == 400 and "Unsupported action" in before.json()["badRequest"]["message"]
    resp = member.post(url, {"trigger_crash_dump": None}, format="json", **at("2.17"))
    assert resp.status_code == 400 and "crash dump" in resp.json()["badRequest"]["message"]
    missing = member.post("/compute/v2.1/servers/999999/action", {"trigger_crash_dump": None}, format="json", **at("2.17"))
    assert missing.status_code == 404


# ----------------------------------------------------------------------------- 2.19 description
def test_description_is_a_request_field_from_2_19(member, active, jobs, backend, flavor, image, image_alt):
    url = f"/compute/v2.1/servers/{active.pk}"
    change = {"server": {"description": "web front"}}
    assert member.put(url, change, format="json", **at("2.18")).status_code == 400
    assert member.put(url, change, format="json", **at("2.19")).json()["server"]["description"] == "web front"
    assert member.get(url, **at("2.19")).json()["server"]["description"] == "web front"
    assert "description" not in member.get(url, **at("2.18")).json()["server"]
    create = {"server": {"name": "d", "flavorRef": str(flavor.pk), "imageRef": str(image.id), "description": "x"}}
    assert member.post("/compute/v2.1/servers", create, format="json", **at("2.18")).status_code == 400
    made = member.post("/compute/v2.1/servers", create, format="json", **at("2.19"))
    assert made.status_code == 202
    assert Server.objects.get(pk=int(made.json()["server"]["id"])).description == "x"
    rebuild = {"rebuild": {"imageRef": str(image_alt.id), "description": None}}
    assert member.post(f"{url}/action", rebuild, format="json", **at("2.18")).status_code == 400
    resp = member.post(f"{url}/action", rebuild, format="json", **at("2.19"))
    assert resp.status_code == 202 and resp.json()["server"]["description"] is None
    active.refresh_from_db()
    assert active.description is None


# ----------------------------------------------------------------------------- 2.21 deleted servers' action log
def test_the_action_log_of_a_deleted_server_answers_from_2_21(member, reader, active):
    request_id = member.delete(f"/compute/v2.1/servers/{active.pk}")["X-Openstack-Request-Id"]
    Server.objects.filter(pk=active.pk).update(deleted=True, terminated_at=timezone.now() - timezone.timedelta(days=30))
    url = f"/compute/v2.1/servers/{active.pk}/os-instance-actions"
    assert reader.get(url, **at("2.20")).status_code == 404
    listing = reader.get(url, **at("2.21"))
    assert sorted(a["action"] for a in listing.json()["instanceActions"]) == ["create", "delete"]
    tempest_schemas.validate(listing, "servers", "list_instance_actions", "2.21")
    one = reader.get(f"{url}/{request_id}", **at("2.21"))
    assert one.json()["instanceAction"]["action"] == "delete"
    tempest_schemas.validate(one, "servers", "show_instance_action", "2.21")
    # the server itself stays gone, and so does another project's log
    assert reader.get(f"/compute/v2.1/servers/{active.pk}", **at("2.21")).status_code == 404
    stranger = token_client(Role.MEMBER)
    assert stranger.get(url, **at("2.21")).status_code == 404


# ----------------------------------------------------------------------------- 2.2 / 2.10 keypairs (tempest's schemas)
@pytest.mark.parametrize("version", ["2.1", "2.2", "2.10", "2.26"])
def test_keypair_bodies_match_tempests_schemas(member, version):
    name = "k" + version.replace(".", "-")
    created = member.post("/compute/v2.1/os-keypairs", {"keypair": {"name": name}}, format="json", **at(version))
    tempest_schemas.validate(created, "keypairs", "create_keypair", version)
    tempest_schemas.validate(member.get("/compute/v2.1/os-keypairs", **at(version)), "keypairs", "list_keypairs", version)
    shown = member.get(f"/compute/v2.1/os-keypairs/{name}", **at(version))
    tempest_schemas.validate(shown, "keypairs", "get_keypair", version)
    deleted = member.delete(f"/compute/v2.1/os-keypairs/{name}", **at(version))
    tempest_schemas.validate(deleted, "keypairs", "delete_keypair", version)


@pytest.mark.parametrize("version", ["2.1", "2.21", "2.26"])
def test_other_views_match_tempests_schemas_at_every_version(member, version, flavor):
    def check(path, module, name):
        tempest_schemas.validate(member.get(f"/compute/v2.1/{path}", **at(version)), module, name, version)

    check("flavors", "flavors", "list_flavors")
    check("flavors/detail", "flavors", "list_flavors_details")
    check(f"flavors/{flavor.pk}", "flavors", "create_update_get_flavor_details")
    check("limits", "limits", "get_limit")
    check("os-availability-zone", "availability_zone", "list_availability_zone_list")
    check("extensions", "extensions", "list_extensions")
    check(f"os-quota-sets/{member.project.pk}", "quotas", "get_quota_set")
    check(f"os-quota-sets/{member.project.pk}/defaults", "quotas", "get_quota_set")
    check(f"os-quota-sets/{member.project.pk}/detail", "quotas", "get_quota_set_details")


# ----------------------------------------------------------------------------- 2.26 tags
def test_tags_api_answers_from_2_26(member, reader, active):
    url = f"/compute/v2.1/servers/{active.pk}/tags"
    assert member.get(url, **at("2.25")).status_code == 404
    listing = reader.get(url, **at("2.26"))
    assert listing.json() == {"tags": []}
    tempest_schemas.validate(listing, "servers", "list_tags", "2.26")
    replaced = member.put(url, {"tags": ["web", "prod", "web"]}, format="json", **at("2.26"))
    assert replaced.json() == {"tags": ["prod", "web"]}
    tempest_schemas.validate(replaced, "servers", "update_all_tags", "2.26")
    added = member.put(f"{url}/db", **at("2.26"))
    assert added.status_code == 201 and added["Location"].endswith(f"/servers/{active.pk}/tags/db")
    assert member.put(f"{url}/db", **at("2.26")).status_code == 204
    assert reader.get(f"{url}/db", **at("2.26")).status_code == 204
    assert reader.get(f"{url}/nope", **at("2.26")).status_code == 404
    assert reader.put(f"{url}/x", **at("2.26")).status_code == 403
    assert member.delete(f"{url}/db", **at("2.26")).status_code == 204
    assert member.delete(f"{url}/db", **at("2.26")).status_code == 404
    assert member.get(url, **at("2.26")).json() == {"tags": ["prod", "web"]}
    assert member.delete(url, **at("2.26")).status_code == 204
    assert member.get(url, **at("2.26")).json() == {"tags": []}
    assert token_client(Role.MEMBER).get(url, **at("2.26")).status_code == 404


@pytest.mark.parametrize(
    "body", [{"tags": "web"}, {"tags": ["a/b"]}, {"tags": ["a,b"]}, {"tags": [""]}, {"tags": ["x" * 61]}, {"tags": [1]},
             {"tags": [f"t{i}" for i in range(51)]}, {"other": []}]
)  # fmt: skip
def test_bad_tag_lists_are_400_and_change_nothing(member, active, body):
    url = f"/compute/v2.1/servers/{active.pk}/tags"
    member.put(url, {"tags": ["keep"]}, format="json", **at("2.26"))
    assert member.put(url, body, format="json", **at("2.26")).status_code == 400
    assert member.get(url, **at("2.26")).json() == {"tags": ["keep"]}


def test_the_fifty_first_tag_is_refused(member, active):
    url = f"/compute/v2.1/servers/{active.pk}/tags"
    member.put(url, {"tags": [f"t{i}" for i in range(50)]}, format="json", **at("2.26"))
    assert member.put(f"{url}/one-more", **at("2.26")).status_code == 400
    assert member.put(f"{url}/t7", **at("2.26")).status_code == 204


def test_tags_change_only_while_running_or_stopped(member, server):
    url = f"/compute/v2.1/servers/{server.pk}/tags"
    resp = member.put(f"{url}/early", **at("2.26"))  # still building
    assert resp.status_code == 409
    assert member.get(url, **at("2.26")).json() == {"tags": []}


def test_tags_show_in_server_bodies_from_2_26(member, active, image_alt):
    member.put(f"/compute/v2.1/servers/{active.pk}/tags", {"tags": ["b", "a"]}, format="json", **at("2.26"))
    url = f"/compute/v2.1/servers/{active.pk}"
    assert "tags" not in member.get(url, **at("2.25")).json()["server"]
    show = member.get(url, **at("2.26"))
    assert show.json()["server"]["tags"] == ["a", "b"]
    tempest_schemas.validate(show, "servers", "get_server", "2.26")
    detail = member.get("/compute/v2.1/servers/detail", **at("2.26"))
    assert detail.json()["servers"][0]["tags"] == ["a", "b"]
    tempest_schemas.validate(detail, "servers", "list_servers_detail", "2.26")
    assert "tags" not in member.get("/compute/v2.1/servers", **at("2.26")).json()["servers"][0]
    update = member.put(url, {"server": {"name": "t"}}, format="json", **at("2.26"))
    assert update.json()["server"]["tags"] == ["a", "b"]
    tempest_schemas.validate(update, "servers", "update_server", "2.26")
    rebuild = member.post(f"{url}/action", {"rebuild": {"imageRef": str(image_alt.id)}}, format="json", **at("2.26"))
    assert rebuild.json()["server"]["tags"] == ["a", "b"]
    tempest_schemas.validate(rebuild, "servers", "rebuild_server_with_admin_pass", "2.26")


def test_tag_filters_from_2_26(member, jobs, backend, flavor, image):
    body = {"server": {"name": "t", "flavorRef": str(flavor.pk), "imageRef": str(image.id), "min_count": 4}}
    assert member.post("/compute/v2.1/servers", body, format="json").status_code == 202
    ids = sorted(Server.objects.filter(project=member.project).values_list("pk", flat=True))
    Server.objects.filter(pk__in=ids).update(operstate=OperState.STARTED, task=None)
    tagging = {ids[0]: ["a", "b"], ids[1]: ["a"], ids[2]: ["b", "c"], ids[3]: []}
    for pk, tags in tagging.items():
        member.put(f"/compute/v2.1/servers/{pk}/tags", {"tags": tags}, format="json", **at("2.26"))

    def listed(query, version="2.26"):
        servers = member.get("/compute/v2.1/servers", query, **at(version)).json()["servers"]
        return sorted(int(s["id"]) for s in servers)

    assert listed({"tags": "a,b"}) == [ids[0]]
    assert listed({"tags-any": "a,c"}) == ids[:3]
    assert listed({"not-tags": "a,b"}) == ids[1:]
    assert listed({"not-tags-any": "a"}) == [ids[2], ids[3]]
    assert listed({"tags": "b", "not-tags-any": "c"}) == [ids[0]]
    assert listed({"tags": "a,b"}, "2.25") == ids  # not a filter before 2.26


# ----------------------------------------------------------------------------- 2.32 / 2.37: create's networks
def create_at(client, version, flavor, image, **fields):
    body = {"server": {"name": "n", "flavorRef": str(flavor.pk), "imageRef": str(image.id), **fields}}
    return client.post("/compute/v2.1/servers", body, format="json", **at(version))


def test_networks_are_required_from_2_37_with_auto_and_none(member, jobs, backend, flavor, image):
    assert create_at(member, "2.36", flavor, image).status_code == 202  # the default network
    assert create_at(member, "2.36", flavor, image, networks="none").status_code == 400
    assert create_at(member, "2.36", flavor, image, networks="auto").status_code == 400
    missing = create_at(member, "2.37", flavor, image)
    assert missing.status_code == 400 and "networks" in missing.json()["badRequest"]["message"]
    assert create_at(member, "2.37", flavor, image, networks="none").status_code == 202
    assert create_at(member, "2.37", flavor, image, networks="auto").status_code == 202
    assert [c[2]["nics"] for c in jobs.calls][-1] != []  # auto: one NIC on the default network
    assert [c[2]["nics"] for c in jobs.calls][-2] == []  # none: no NIC


@pytest.mark.parametrize(
    ("version", "allowed"), [("2.31", False), ("2.32", True), ("2.36", True), ("2.37", False), ("2.41", False), ("2.42", True)]
)
def test_network_device_tags_follow_the_version(member, jobs, backend, flavor, image, version, allowed):
    net = Network.objects.create(name="tagged", project=member.project)
    resp = create_at(member, version, flavor, image, networks=[{"uuid": str(net.pk), "tag": "nic1"}])
    assert resp.status_code == (202 if allowed else 400), resp.content


@pytest.mark.parametrize(
    ("version", "allowed"), [("2.31", False), ("2.32", True), ("2.33", False), ("2.41", False), ("2.42", True), ("2.47", True)]
)
def test_block_device_tags_follow_the_version(member, jobs, backend, flavor, image, version, allowed):
    bdm = [{"uuid": str(image.id), "boot_index": 0, "source_type": "image", "destination_type": "local", "tag": "root"}]
    extra = {"networks": "auto"} if base.Microversion.parse(version) >= base.Microversion(2, 37) else {}
    resp = create_at(member, version, flavor, image, block_device_mapping_v2=bdm, **extra)
    assert resp.status_code == (202 if allowed else 400), resp.content


# ----------------------------------------------------------------------------- 2.36 quota sets, 2.39 limits
NETWORK_QUOTA_KEYS = {"fixed_ips", "floating_ips", "security_group_rules", "security_groups"}


@pytest.mark.parametrize("version", ["2.35", "2.36", "2.39"])
def test_quota_sets_lose_the_network_keys_at_2_36(member, version):
    project = member.project.pk
    shown = member.get(f"/compute/v2.1/os-quota-sets/{project}", **at(version))
    defaults = member.get(f"/compute/v2.1/os-quota-sets/{project}/defaults", **at(version))
    detail = member.get(f"/compute/v2.1/os-quota-sets/{project}/detail", **at(version))
    for resp in (shown, defaults, detail):
        keys = set(resp.json()["quota_set"])
        assert (keys >= NETWORK_QUOTA_KEYS) == (version == "2.35")
        assert not NETWORK_QUOTA_KEYS & keys or version == "2.35"
    tempest_schemas.validate(shown, "quotas", "get_quota_set", version)
    tempest_schemas.validate(defaults, "quotas", "get_quota_set", version)
    tempest_schemas.validate(detail, "quotas", "get_quota_set_details", version)


def test_quota_update_refuses_network_keys_from_2_36(member):
    admin = token_client(Role.ADMIN, user=UserFactory(is_admin=True))
    url = f"/compute/v2.1/os-quota-sets/{member.project.pk}"
    refused = admin.put(url, {"quota_set": {"floating_ips": 3}}, format="json", **at("2.36"))
    assert refused.status_code == 400
    assert member.get(url, **at("2.35")).json()["quota_set"]["floating_ips"] != 3
    done = admin.put(url, {"quota_set": {"floating_ips": 3}}, format="json", **at("2.35"))
    assert done.status_code == 200 and done.json()["quota_set"]["floating_ips"] == 3
    tempest_schemas.validate(done, "quotas", "update_quota_set", "2.35")
    updated = admin.put(url, {"quota_set": {"instances": 7}}, format="json", **at("2.36"))
    assert updated.json()["quota_set"]["instances"] == 7 and not NETWORK_QUOTA_KEYS & set(updated.json()["quota_set"])
    tempest_schemas.validate(updated, "quotas", "update_quota_set", "2.36")


@pytest.mark.parametrize("version", ["2.35", "2.36", "2.38", "2.39"])
def test_limits_per_version(member, version):
    resp = member.get("/compute/v2.1/limits", **at(version))
    absolute = resp.json()["limits"]["absolute"]
    assert ("maxTotalFloatingIps" in absolute) == (version == "2.35")
    assert ("maxImageMeta" in absolute) == (version < "2.39")
    tempest_schemas.validate(resp, "limits", "get_limit", version)


# ----------------------------------------------------------------------------- 2.38 status filter
def test_an_unknown_status_filter_is_400_from_2_38(member, active):
    assert member.get("/compute/v2.1/servers", {"status": "bogus"}, **at("2.37")).json() == {"servers": []}
    assert member.get("/compute/v2.1/servers", {"status": "bogus"}, **at("2.38")).status_code == 400
    assert member.get("/compute/v2.1/servers/detail", {"status": "bogus"}, **at("2.38")).status_code == 400
    # a real status this cloud never reaches is still an empty list
    assert member.get("/compute/v2.1/servers", {"status": "PAUSED"}, **at("2.38")).json() == {"servers": []}
    assert len(member.get("/compute/v2.1/servers", {"status": "active"}, **at("2.38")).json()["servers"]) == 1


# ----------------------------------------------------------------------------- 2.36: the image proxy is gone
def test_the_image_proxy_is_gone_from_2_36(member, image):
    assert member.get(f"/compute/v2.1/images/{image.id}", **at("2.35")).status_code == 200
    assert member.get(f"/compute/v2.1/images/{image.id}", **at("2.36")).status_code == 404
    assert member.get("/compute/v2.1/images", **at("2.39")).status_code == 404
