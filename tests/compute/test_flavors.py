"""Flavors over HTTP: visibility, Nova's filters and paging, shapes per microversion, admin management."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from logic.enums import Role
from logic.models import Flavor
from tests.factories import FlavorFactory, ProjectFactory, ServerFactory, UserFactory, member_token

pytestmark = pytest.mark.django_db

V21 = "/compute/v2.1"


@pytest.fixture
def admin(db):
    user = UserFactory(is_admin=True)
    token, user, project = member_token(Role.ADMIN, user=user)
    client = APIClient()
    client.credentials(HTTP_X_AUTH_TOKEN=token, HTTP_X_OPENSTACK_NOVA_API_VERSION="2.1")
    client.project = project
    return client


@pytest.fixture
def sizes(db):
    return [
        FlavorFactory(name="f.small", vcpus=1, ram=512, disk=1),
        FlavorFactory(name="f.medium", vcpus=2, ram=1024, disk=10),
        FlavorFactory(name="f.large", vcpus=4, ram=4096, disk=40),
    ]


def ids(resp) -> list[str]:
    return [f["id"] for f in resp.json()["flavors"]]


def test_list_shows_summaries_with_string_ids_and_links(member, sizes):
    resp = member.get(f"{V21}/flavors")
    assert resp.status_code == 200
    flavors = resp.json()["flavors"]
    assert ids(resp) == [str(f.pk) for f in sizes]
    assert set(flavors[0]) == {"id", "name", "links"}
    assert flavors[0]["links"][0] == {"rel": "self", "href": f"http://testserver/compute/v2.1/flavors/{sizes[0].pk}"}
    assert flavors[0]["links"][1]["href"] == f"http://testserver/compute/flavors/{sizes[0].pk}"


def test_detail_shape_at_2_1(member, sizes):
    flavor = member.get(f"{V21}/flavors/detail").json()["flavors"][1]
    assert flavor == {
        "id": str(sizes[1].pk),
        "name": "f.medium",
        "ram": 1024,
        "vcpus": 2,
        "disk": 10,
        "swap": "",
        "OS-FLV-EXT-DATA:ephemeral": 0,
        "OS-FLV-DISABLED:disabled": False,
        "os-flavor-access:is_public": True,
        "rxtx_factor": 1.0,
        "links": flavor["links"],
    }
    assert member.get(f"{V21}/flavors/{sizes[1].pk}").json()["flavor"] == flavor


def test_shapes_follow_the_microversion(member, sizes):
    at = {"HTTP_OPENSTACK_API_VERSION": "compute 2.55"}
    assert set(member.get(f"{V21}/flavors", **at).json()["flavors"][0]) == {"id", "name", "links", "description"}
    detail = member.get(f"{V21}/flavors/{sizes[0].pk}", **at).json()["flavor"]
    assert "description" in detail and "extra_specs" not in detail
    detail = member.get(f"{V21}/flavors/{sizes[0].pk}", HTTP_OPENSTACK_API_VERSION="compute 2.61").json()["flavor"]
    assert detail["extra_specs"] == {} and detail["swap"] == ""
    detail = member.get(f"{V21}/flavors/{sizes[0].pk}", HTTP_OPENSTACK_API_VERSION="compute 2.75").json()["flavor"]
    assert detail["swap"] == 0


def test_synnefo_personality_adds_snf_fields(member, sizes):
    flavor = member.get(f"/compute/v2.0/flavors/{sizes[0].pk}").json()["flavor"]
    assert flavor["SNF:disk_template"] == "diskless" and flavor["SNF:allow_create"] is True
    assert "SNF:disk_template" not in member.get(f"{V21}/flavors/{sizes[0].pk}").json()["flavor"]


@pytest.mark.parametrize("path", ["flavors", "flavors/detail"])
def test_min_disk_and_min_ram_filters(member, sizes, path):
    assert ids(member.get(f"{V21}/{path}", {"minDisk": 10})) == [str(sizes[1].pk), str(sizes[2].pk)]
    assert ids(member.get(f"{V21}/{path}", {"minRam": 1025})) == [str(sizes[2].pk)]
    assert ids(member.get(f"{V21}/{path}", {"minRam": 1024, "minDisk": 41})) == []


@pytest.mark.parametrize(
    "bad", [{"minRam": "x"}, {"minDisk": "-1"}, {"limit": "abc"}, {"marker": "999999"}, {"sort_key": "nope"}]
)
def test_bad_filters_are_400(member, sizes, bad):
    resp = member.get(f"{V21}/flavors/detail", bad)
    assert resp.status_code == 400
    assert resp.json()["badRequest"]["code"] == 400


def test_limit_marker_and_next_link(member, sizes):
    first = member.get(f"{V21}/flavors", {"limit": 2}).json()
    assert [f["id"] for f in first["flavors"]] == [str(sizes[0].pk), str(sizes[1].pk)]
    href = first["flavors_links"][0]["href"]
    assert first["flavors_links"][0]["rel"] == "next" and f"marker={sizes[1].pk}" in href
    rest = member.get(href.removeprefix("http://testserver")).json()
    assert [f["id"] for f in rest["flavors"]] == [str(sizes[2].pk)]
    assert "flavors_links" not in rest
    after = member.get(f"{V21}/flavors/detail", {"marker": sizes[0].pk}).json()["flavors"]
    assert str(sizes[0].pk) not in [f["id"] for f in after]


def test_sorting(member, sizes):
    assert ids(member.get(f"{V21}/flavors", {"sort_key": "memory_mb", "sort_dir": "desc"})) == [
        str(f.pk) for f in reversed(sizes)
    ]
    assert ids(member.get(f"{V21}/flavors", {"sort_key": "name"})) == [str(sizes[2].pk), str(sizes[1].pk), str(sizes[0].pk)]


def test_names_and_unknown_ids_are_404_so_clients_search_by_name(member, sizes):
    for ref in ("f.small", "999999", "1.5", "%E2%82%AC"):
        resp = member.get(f"{V21}/flavors/{ref}")
        assert resp.status_code == 404, ref
        assert resp.json()["itemNotFound"]["code"] == 404


def test_private_flavors_only_for_projects_given_access(member, other, admin, sizes):
    private = FlavorFactory(name="secret", is_public=False)
    assert str(private.pk) not in ids(member.get(f"{V21}/flavors"))
    assert member.get(f"{V21}/flavors/{private.pk}").status_code == 404
    resp = admin.post(f"{V21}/flavors/{private.pk}/action", {"addTenantAccess": {"tenant": member.project.pk}}, format="json")
    assert resp.status_code == 200
    assert resp.json() == {"flavor_access": [{"flavor_id": str(private.pk), "tenant_id": member.project.pk}]}
    assert str(private.pk) in ids(member.get(f"{V21}/flavors"))
    assert member.get(f"{V21}/flavors/{private.pk}").status_code == 200
    assert str(private.pk) not in ids(other.get(f"{V21}/flavors"))
    again = admin.post(f"{V21}/flavors/{private.pk}/action", {"addTenantAccess": {"tenant": member.project.pk}}, format="json")
    assert again.status_code == 409
    assert admin.get(f"{V21}/flavors/{private.pk}/os-flavor-access").json()["flavor_access"][0]["tenant_id"] == member.project.pk
    resp = admin.post(f"{V21}/flavors/{private.pk}/action", {"removeTenantAccess": {"tenant": member.project.pk}}, format="json")
    assert resp.json() == {"flavor_access": []}
    assert member.get(f"{V21}/flavors/{private.pk}").status_code == 404
    # public flavors have no access list; adding to one conflicts from 2.7 (Nova 2.1 records it)
    assert admin.get(f"{V21}/flavors/{sizes[0].pk}/os-flavor-access").status_code == 404
    add = {"addTenantAccess": {"tenant": member.project.pk}}
    public = admin.post(f"{V21}/flavors/{sizes[0].pk}/action", add, format="json", HTTP_OPENSTACK_API_VERSION="compute 2.7")
    assert public.status_code == 409
    public = admin.post(f"{V21}/flavors/{sizes[0].pk}/action", add, format="json", HTTP_OPENSTACK_API_VERSION="compute 2.6")
    assert public.status_code == 200
    assert public.json() == {"flavor_access": [{"flavor_id": str(sizes[0].pk), "tenant_id": member.project.pk}]}
    assert str(sizes[0].pk) in ids(other.get(f"{V21}/flavors"))  # still public


def test_admin_is_public_filter(admin, sizes):
    private = FlavorFactory(name="hidden", is_public=False)
    assert str(private.pk) not in ids(admin.get(f"{V21}/flavors"))
    assert str(private.pk) in ids(admin.get(f"{V21}/flavors", {"is_public": "None"}))
    assert ids(admin.get(f"{V21}/flavors", {"is_public": "false"})) == [str(private.pk)]
    assert admin.get(f"{V21}/flavors", {"is_public": "maybe"}).status_code == 400


def test_admin_creates_and_deletes(admin, member):
    body = {"flavor": {"name": "c1.custom", "ram": 256, "vcpus": 1, "disk": 2, "id": "4242", "swap": 64}}
    resp = admin.post(f"{V21}/flavors", body, format="json")
    assert resp.status_code == 200, resp.json()
    assert resp.json()["flavor"]["id"] == "4242" and resp.json()["flavor"]["swap"] == 64
    # the id sequence moved past the explicit id: an automatic id does not collide
    auto = admin.post(f"{V21}/flavors", {"flavor": {"name": "c1.auto", "ram": 1, "vcpus": 1, "disk": 0}}, format="json")
    assert auto.status_code == 200 and int(auto.json()["flavor"]["id"]) > 4242
    assert admin.post(f"{V21}/flavors", body, format="json").status_code == 409
    assert member.post(f"{V21}/flavors", body, format="json").status_code == 403
    assert member.delete(f"{V21}/flavors/4242").status_code == 403
    assert admin.delete(f"{V21}/flavors/4242").status_code == 202
    assert not Flavor.objects.filter(pk=4242).exists()
    assert admin.get(f"{V21}/flavors/4242").status_code == 404


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "", "ram": 1, "vcpus": 1, "disk": 0},
        {"name": " x", "ram": 1, "vcpus": 1, "disk": 0},
        {"name": "x", "ram": 0, "vcpus": 1, "disk": 0},
        {"name": "x", "ram": 1, "vcpus": "two", "disk": 0},
        {"name": "x", "ram": 1, "vcpus": 1, "disk": -1},
        {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "id": "not-a-number"},
        {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "rxtx_factor": 0},
        {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "os-flavor-access:is_public": "maybe"},  # "yes" is a Nova boolean
        {"name": "x", "ram": 2**40, "vcpus": 1, "disk": 0},
    ],
)
def test_invalid_create_is_400_and_creates_nothing(admin, spec):
    before = Flavor.objects.count()
    resp = admin.post(f"{V21}/flavors", {"flavor": spec}, format="json")
    assert resp.status_code == 400, resp.json()
    assert Flavor.objects.count() == before


def test_deleting_a_flavor_in_use_disables_it(admin, db):
    server = ServerFactory()
    flavor = server.flavor
    assert admin.delete(f"{V21}/flavors/{flavor.pk}").status_code == 202
    flavor.refresh_from_db()
    assert flavor.disabled
    assert str(flavor.pk) not in ids(admin.get(f"{V21}/flavors", {"is_public": "None"}))


def test_reader_may_list(reader, sizes):
    assert reader.get(f"{V21}/flavors/detail").status_code == 200


def test_description_update_at_2_55(admin, sizes):
    at = {"HTTP_OPENSTACK_API_VERSION": "compute 2.55"}
    resp = admin.put(f"{V21}/flavors/{sizes[0].pk}", {"flavor": {"description": "small one"}}, format="json", **at)
    assert resp.status_code == 200 and resp.json()["flavor"]["description"] == "small one"
    assert admin.put(f"{V21}/flavors/{sizes[0].pk}", {"flavor": {"name": "x"}}, format="json", **at).status_code == 400
    assert admin.put(f"{V21}/flavors/{sizes[0].pk}", {"flavor": {"description": "x"}}, format="json").status_code == 404


def test_extra_specs_read_only(member, db):
    flavor = FlavorFactory(extra_specs={"ganeti:disk_template": "plain"})
    assert member.get(f"{V21}/flavors/{flavor.pk}/os-extra_specs").json() == {"extra_specs": {"ganeti:disk_template": "plain"}}
    assert member.get(f"{V21}/flavors/{flavor.pk}/os-extra_specs/ganeti:disk_template").json() == {
        "ganeti:disk_template": "plain"
    }
    assert member.get(f"{V21}/flavors/{flavor.pk}/os-extra_specs/nope").status_code == 404


def test_without_token_is_401(sizes):
    resp = APIClient().get(f"{V21}/flavors")
    assert resp.status_code == 401


def test_admin_sees_access_for_an_unknown_project_as_400(admin, db):
    private = FlavorFactory(is_public=False)
    resp = admin.post(f"{V21}/flavors/{private.pk}/action", {"addTenantAccess": {"tenant": "nope"}}, format="json")
    assert resp.status_code == 400
    resp = admin.post(
        f"{V21}/flavors/{private.pk}/action", {"removeTenantAccess": {"tenant": ProjectFactory().pk}}, format="json"
    )
    assert resp.status_code == 404
    assert admin.post(f"{V21}/flavors/{private.pk}/action", {"explode": {}}, format="json").status_code == 400
