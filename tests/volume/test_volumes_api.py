"""Cinder v3 volumes over HTTP: create, list/detail with filters and paging, show, update, extend,
delete, reset-status, metadata, quotas and /limits; bad input is a 4xx that changes nothing."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from logic import quotas
from logic.enums import QuotaResource
from logic.models import Volume

pytestmark = pytest.mark.django_db

V3 = "/volume/v3"


def create(client, size=1, **fields):
    resp = client.post(f"{V3}/volumes", {"volume": {"size": size, **fields}}, format="json")
    assert resp.status_code == 202, resp.content
    return resp.json()["volume"]


def used(project) -> tuple[int, int]:
    figures = quotas.usage(project)
    return figures[QuotaResource.VOLUMES].in_use, figures[QuotaResource.VOLUME_GB].in_use


def test_version_documents_advertise_what_is_served():
    root = APIClient().get("/volume/")
    assert root.status_code == 300
    v3 = APIClient().get(f"{V3}/").json()["versions"][0]
    assert (v3["id"], v3["min_version"], v3["version"]) == ("v3.0", "3.0", "3.0")
    assert v3["links"][-1]["href"] == "http://testserver/volume/v3/"


def test_create_show_list_and_quota_charge(member):
    body = create(member, 2, name="data", description="d", metadata={"k": "v"})
    assert body["status"] == "available" and body["size"] == 2 and body["name"] == "data"
    assert body["volume_type"] == "__DEFAULT__" and body["bootable"] == "false" and body["attachments"] == []
    assert body["metadata"] == {"k": "v"} and "os-vol-tenant-attr:tenant_id" not in body  # as Cinder's create
    resp = member.get(f"{V3}/volumes/{body['id']}")
    assert resp.json()["volume"]["os-vol-tenant-attr:tenant_id"] == member.project.pk
    assert "os-vol-host-attr:host" not in resp.json()["volume"]
    assert resp.status_code == 200 and resp["OpenStack-API-Version"] == "volume 3.0"
    assert resp.json()["volume"]["id"] == body["id"]
    summary = member.get(f"{V3}/volumes").json()["volumes"]
    assert summary == [{"id": body["id"], "name": "data", "links": summary[0]["links"]}]
    assert used(member.project) == (1, 2)
    # the classic URL form with the project id, and its refusal for another project
    assert member.get(f"{V3}/{member.project.pk}/volumes/{body['id']}").status_code == 200
    assert member.get(f"{V3}/{uuid.uuid4().hex}/volumes").status_code == 400


def test_detail_filters_sorting_and_paging(member):
    ids = [create(member, size, name=f"v{size}", metadata={"tier": "gold" if size % 2 else "silver"})["id"]
           for size in (1, 2, 3, 4, 5)]  # fmt: skip
    detail = member.get(f"{V3}/volumes/detail").json()["volumes"]
    assert [v["id"] for v in detail] == ids[::-1]  # newest first
    assert [v["name"] for v in member.get(f"{V3}/volumes/detail", {"name": "v3"}).json()["volumes"]] == ["v3"]
    gold = member.get(f"{V3}/volumes/detail", {"metadata": '{"tier": "gold"}'}).json()["volumes"]
    assert sorted(v["size"] for v in gold) == [1, 3, 5]
    assert member.get(f"{V3}/volumes/detail", {"status": "in-use"}).json()["volumes"] == []
    seen, params = [], {"limit": 2, "sort": "size:asc"}
    while True:
        page = member.get(f"{V3}/volumes/detail", params).json()
        seen += [v["size"] for v in page["volumes"]]
        if "volumes_links" not in page:
            assert len(page["volumes"]) < 2  # a full page always links the next one (Cinder), even an empty one
            break
        params = {"limit": 2, "sort": "size:asc", "marker": page["volumes"][-1]["id"]}
    assert seen == [1, 2, 3, 4, 5]
    assert member.get(f"{V3}/volumes", {"marker": str(uuid.uuid4())}).status_code == 400
    assert member.get(f"{V3}/volumes", {"sort_key": "nope"}).status_code == 400
    assert member.get(f"{V3}/volumes", {"limit": "-1"}).status_code == 400


def test_update_metadata_and_extend(member):
    vol = create(member, 1, name="a")
    url = f"{V3}/volumes/{vol['id']}"
    resp = member.put(url, {"volume": {"name": "b", "description": "new"}}, format="json")
    assert resp.status_code == 200 and resp.json()["volume"]["name"] == "b"
    assert member.post(f"{url}/metadata", {"metadata": {"x": "1"}}, format="json").json() == {"metadata": {"x": "1"}}
    assert member.post(f"{url}/metadata", {"metadata": {"y": "2"}}, format="json").json()["metadata"] == {"x": "1", "y": "2"}
    assert member.delete(f"{url}/metadata/x").status_code == 200
    assert member.delete(f"{url}/metadata/x").status_code == 404
    assert member.post(f"{url}/action", {"os-extend": {"new_size": 3}}, format="json").status_code == 202
    assert member.get(url).json()["volume"]["size"] == 3 and used(member.project) == (1, 3)


def test_bad_input_is_a_4xx_that_changes_nothing(member, other):
    vol = create(member, 2)
    url = f"{V3}/volumes/{vol['id']}"
    before = Volume.objects.get(pk=vol["id"])
    for body in ({"volume": {"size": 0}}, {"volume": {"size": "x"}}, {"volume": {}}, {"nope": 1},
                 {"volume": {"size": 1, "snapshot_id": str(uuid.uuid4())}}, {"volume": {"size": 1, "volume_type": "nope"}},
                 {"volume": {"size": 1, "availability_zone": "elsewhere"}},
                 {"volume": {"size": 1, "metadata": {"k": 1}}}):  # fmt: skip
        resp = member.post(f"{V3}/volumes", body, format="json")
        assert resp.status_code in (400, 404), (body, resp.content)
        assert set(resp.json()) <= {"badRequest", "itemNotFound"}
    shrink = member.post(f"{url}/action", {"os-extend": {"new_size": 1}}, format="json")
    assert shrink.status_code == 400 and "greater than current size" in shrink.json()["badRequest"]["message"]
    assert member.post(f"{url}/action", {"os-reset_status": {"status": "error"}}, format="json").status_code == 403
    assert member.post(f"{url}/action", {"os-frobnicate": {}}, format="json").status_code == 400
    # another project's volume does not exist for them
    assert other.get(url).status_code == 404
    assert other.delete(url).status_code == 404
    assert other.post(f"{url}/action", {"os-extend": {"new_size": 5}}, format="json").status_code == 404
    after = Volume.objects.get(pk=vol["id"])
    assert (after.size, after.status, after.deleted) == (before.size, before.status, False)
    assert Volume.objects.count() == 1 and used(member.project) == (1, 2)


def test_reader_may_only_read(member, reader):
    vol = create(member)
    assert reader.get(f"{V3}/volumes/{vol['id']}").status_code == 200
    assert reader.post(f"{V3}/volumes", {"volume": {"size": 1}}, format="json").status_code == 403
    assert reader.delete(f"{V3}/volumes/{vol['id']}").status_code == 403


def test_quota_refusal_is_413_and_limits_show_usage(member, settings):
    settings.CYCLADES = {**settings.CYCLADES, "QUOTA_VOLUMES": 2, "QUOTA_VOLUME_GB": 5}
    create(member, 2)
    too_big = member.post(f"{V3}/volumes", {"volume": {"size": 4}}, format="json")
    assert too_big.status_code == 413 and "gigabytes quota" in too_big.json()["overLimit"]["message"]
    create(member, 3)
    too_many = member.post(f"{V3}/volumes", {"volume": {"size": 0 + 1}}, format="json")
    assert too_many.status_code == 413 and "'volumes'" in too_many.json()["overLimit"]["message"]
    absolute = member.get(f"{V3}/limits").json()["limits"]["absolute"]
    assert (absolute["maxTotalVolumes"], absolute["totalVolumesUsed"]) == (2, 2)
    assert (absolute["maxTotalVolumeGigabytes"], absolute["totalGigabytesUsed"]) == (5, 5)
    assert Volume.objects.count() == 2
    quota = member.get(f"{V3}/os-quota-sets/{member.project.pk}", {"usage": "true"}).json()["quota_set"]
    assert quota["volumes"] == {"limit": 2, "in_use": 2, "reserved": 0, "allocated": 0}


def test_delete_frees_quota_and_attached_volumes_are_refused(member, admin):
    vol = create(member, 2)
    url = f"{V3}/volumes/{vol['id']}"
    reset = admin.post(url + "/action", {"os-reset_status": {"status": "in-use", "attach_status": "attached"}}, format="json")
    assert reset.status_code == 202
    refused = member.delete(url)
    assert refused.status_code == 400 and "attached" in refused.json()["badRequest"]["message"]
    assert used(member.project) == (1, 2)
    admin.post(url + "/action", {"os-reset_status": {"status": "available", "attach_status": "detached"}}, format="json")
    assert member.delete(url).status_code == 202
    assert member.get(url).status_code == 404 and used(member.project) == (0, 0)
    assert admin.post(url + "/action", {"os-reset_status": {"status": "bogus"}}, format="json").status_code == 404


def test_admin_sees_every_project_with_all_tenants(member, other, admin):
    create(member)
    create(other)
    assert len(admin.get(f"{V3}/volumes/detail", {"all_tenants": "1"}).json()["volumes"]) == 2
    assert len(member.get(f"{V3}/volumes/detail", {"all_tenants": "1"}).json()["volumes"]) == 1
    shown = admin.get(f"{V3}/volumes/detail", {"all_tenants": "1"}).json()["volumes"][0]
    assert "os-vol-host-attr:host" in shown


def test_volume_types_map_to_disk_templates(member, admin):
    resp = admin.post(f"{V3}/types", {"volume_type": {"name": "fast", "extra_specs": {"disk_template": "plain"}}},
                      format="json")  # fmt: skip
    assert resp.status_code == 200 and resp.json()["volume_type"]["extra_specs"] == {"disk_template": "plain"}
    bad = admin.post(f"{V3}/types", {"volume_type": {"name": "x", "extra_specs": {"disk_template": "floppy"}}}, format="json")
    assert bad.status_code == 400
    assert member.post(f"{V3}/types", {"volume_type": {"name": "mine"}}, format="json").status_code == 403
    names = {t["name"] for t in member.get(f"{V3}/types").json()["volume_types"]}
    assert names == {"__DEFAULT__", "fast"}
    vol = create(member, 1, volume_type="fast")
    assert vol["volume_type"] == "fast" and Volume.objects.get(pk=vol["id"]).volume_type.disk_template == "plain"
    type_id = resp.json()["volume_type"]["id"]
    in_use = admin.post(f"{V3}/types/{type_id}/extra_specs", {"extra_specs": {"disk_template": "drbd"}}, format="json")
    assert in_use.status_code == 400
    assert admin.delete(f"{V3}/types/{type_id}").status_code == 400


def test_snapshots_are_refused_with_the_template_named(member):
    vol = create(member)
    assert member.get(f"{V3}/snapshots/detail").json() == {"snapshots": []}
    resp = member.post(f"{V3}/snapshots", {"snapshot": {"volume_id": vol["id"]}}, format="json")
    assert resp.status_code == 400 and "'file' disk template, which has no snapshots" in resp.json()["badRequest"]["message"]
    assert member.post(f"{V3}/snapshots", {"snapshot": {"volume_id": str(uuid.uuid4())}}, format="json").status_code == 404
    from_snapshot = member.post(f"{V3}/volumes", {"volume": {"size": 1, "snapshot_id": str(uuid.uuid4())}}, format="json")
    assert from_snapshot.status_code == 404 and "Snapshot" in from_snapshot.json()["itemNotFound"]["message"]
    # another volume as the source: 404 when it does not exist, 400 (not supported yet) when it does
    missing = member.post(f"{V3}/volumes", {"volume": {"size": 1, "source_volid": str(uuid.uuid4())}}, format="json")
    assert missing.status_code == 404
    clone = member.post(f"{V3}/volumes", {"volume": {"size": 1, "source_volid": vol["id"]}}, format="json")
    assert clone.status_code == 400 and Volume.objects.count() == 1


def test_reserve_unreserve_and_urls_without_an_id(member):
    vol = create(member)
    url = f"{V3}/volumes/{vol['id']}/action"
    assert member.post(url, {"os-reserve": {}}, format="json").status_code == 202
    assert member.get(f"{V3}/volumes/{vol['id']}").json()["volume"]["status"] == "reserved"
    assert member.post(url, {"os-reserve": {}}, format="json").status_code == 400
    assert member.post(url, {"os-unreserve": {}}, format="json").status_code == 202
    assert member.get(f"{V3}/volumes/{vol['id']}").json()["volume"]["status"] == "available"
    for method in (member.get, member.delete, member.put):
        assert method(f"{V3}/volumes/").status_code == 404
