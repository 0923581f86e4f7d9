"""Glance v2 writes over HTTP: create, upload/download (hashes, Range), patch, delete, status, tags, members, quotas."""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from logic.models import Image
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db

PATCH = "application/openstack-images-v2.1-json-patch"
DATA = os.urandom(300_000)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch, tmp_path):
    """A private file store and small chunks, so streaming goes through many chunks."""
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_FILE_DIR", str(tmp_path / "store"))
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_CHUNK_SIZE", 65536)
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_STORE", "file")
    return tmp_path / "store"


def create(client, **body):
    resp = client.post("/image/v2/images", {"name": "img", "disk_format": "raw", "container_format": "bare", **body},
                       format="json")  # fmt: skip
    assert resp.status_code == 201, resp.content
    return resp.json()


def put(client, image_id, data: bytes = DATA):
    return client.put(f"/image/v2/images/{image_id}/file", data, content_type="application/octet-stream")


def read(resp) -> bytes:
    return b"".join(resp.streaming_content)


def test_create_upload_download_with_hashes(member, small_chunks):
    body = create(member, min_disk=1, tags=["a"], os_distro="debian")
    assert body["status"] == "queued" and body["visibility"] == "shared" and body["owner"] == member.project.pk
    assert body["os_distro"] == "debian" and body["tags"] == ["a"] and body["size"] is None
    assert put(member, body["id"]).status_code == 204
    shown = member.get(f"/image/v2/images/{body['id']}").json()
    assert shown["status"] == "active" and shown["size"] == len(DATA)
    assert shown["checksum"] == hashlib.md5(DATA).hexdigest()
    assert shown["os_hash_algo"] == "sha512" and shown["os_hash_value"] == hashlib.sha512(DATA).hexdigest()
    assert (small_chunks / body["id"]).read_bytes() == DATA and not list(small_chunks.glob("*.part"))
    got = member.get(f"/image/v2/images/{body['id']}/file")
    assert got.status_code == 200 and got["Content-MD5"] == shown["checksum"] and read(got) == DATA
    assert int(got["Content-Length"]) == len(DATA)


def test_range_downloads(member):
    image_id = create(member)["id"]
    put(member, image_id)
    url = f"/image/v2/images/{image_id}/file"
    part = member.get(url, HTTP_RANGE="bytes=10-99")
    assert part.status_code == 206 and read(part) == DATA[10:100]
    assert part["Content-Range"] == f"bytes 10-99/{len(DATA)}" and "Content-MD5" not in part
    assert read(member.get(url, HTTP_RANGE="bytes=-5")) == DATA[-5:]
    assert read(member.get(url, HTTP_RANGE="bytes=299990-")) == DATA[299990:]
    assert member.get(url, HTTP_RANGE=f"bytes={len(DATA)}-").status_code == 416
    assert member.get(url, HTTP_RANGE="pages=1-2").status_code == 400


def test_queued_image_download_is_204_and_second_upload_409(member):
    image_id = create(member)["id"]
    assert member.get(f"/image/v2/images/{image_id}/file").status_code == 204
    put(member, image_id)
    before = Image.objects.get(pk=image_id)
    again = put(member, image_id, b"other bytes")
    assert again.status_code == 409
    after = Image.objects.get(pk=image_id)
    assert (after.checksum, after.size, after.status) == (before.checksum, before.size, "active")


def test_interrupted_upload_leaves_image_queued_and_no_bytes(member, small_chunks):
    image_id = create(member)["id"]
    url = f"/image/v2/images/{image_id}/file"
    # The client announced more than it sent: the body ended early (a dropped connection).
    body = io.BytesIO(DATA[:1000])
    resp = member.generic("PUT", url, b"", content_type="application/octet-stream", CONTENT_LENGTH="5000", **{"wsgi.input": body})
    assert resp.status_code == 400
    image = Image.objects.get(pk=image_id)
    assert image.status == "queued" and image.size is None and image.location == ""
    assert not list(small_chunks.glob("*"))
    assert put(member, image_id).status_code == 204  # a retry works


def test_bad_create_input_changes_nothing(member):
    count = Image.objects.count()
    bad = [
        {"disk_format": "floppy"},
        {"container_format": "box"},
        {"min_disk": -1},
        {"min_ram": "lots"},
        {"visibility": "everyone"},
        {"tags": "notalist"},
        {"custom": 5},
        {"id": "not-a-uuid"},
    ]
    for body in bad:
        resp = member.post("/image/v2/images", {"name": "x", **body}, format="json")
        assert resp.status_code == 400, (body, resp.content)
    for body in ({"status": "active"}, {"size": 5}, {"checksum": "x"}, {"visibility": "public"}):
        resp = member.post("/image/v2/images", {"name": "x", **body}, format="json")
        assert resp.status_code == 403, (body, resp.content)
    assert Image.objects.count() == count
    fixed = str(uuid.uuid4())
    create(member, id=fixed)
    assert member.post("/image/v2/images", {"id": fixed}, format="json").status_code == 409


def test_reader_may_not_write(member, reader):
    assert reader.post("/image/v2/images", {"name": "x"}, format="json").status_code == 403
    image_id = create(member)["id"]
    assert put(reader, image_id).status_code == 403
    assert Image.objects.get(pk=image_id).status == "queued"


def test_json_patch(member):
    image = create(member, foo="1")
    url = f"/image/v2/images/{image['id']}"
    ops = [
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "add", "path": "/bar", "value": "2"},
        {"op": "remove", "path": "/foo"},
        {"op": "replace", "path": "/min_ram", "value": 256},
        {"op": "replace", "path": "/tags", "value": ["x", "y"]},
        {"op": "replace", "path": "/protected", "value": True},
    ]
    body = member.patch(url, json.dumps(ops), content_type=PATCH).json()
    assert body["name"] == "renamed" and body["bar"] == "2" and "foo" not in body
    assert body["min_ram"] == 256 and body["tags"] == ["x", "y"] and body["protected"] is True
    for op, status in [
        ({"op": "replace", "path": "/status", "value": "active"}, 403),
        ({"op": "replace", "path": "/min_disk", "value": -3}, 400),
        ({"op": "remove", "path": "/nothere"}, 409),
        ({"op": "move", "path": "/name", "value": "z"}, 400),
        ({"op": "replace", "path": "/a/b", "value": "z"}, 400),
    ]:
        resp = member.patch(url, json.dumps([{"op": "replace", "path": "/name", "value": "changed"}, op]), content_type=PATCH)
        assert resp.status_code == status, (op, resp.content)
    assert member.get(url).json()["name"] == "renamed"  # nothing of a refused patch applied
    assert member.patch(url, ops, format="json").status_code == 415  # plain JSON is not a patch


def test_disk_format_fixed_once_active(member):
    image_id = create(member)["id"]
    put(member, image_id)
    op = [{"op": "replace", "path": "/disk_format", "value": "qcow2"}]
    assert member.patch(f"/image/v2/images/{image_id}", json.dumps(op), content_type=PATCH).status_code == 403


def test_delete_protected_and_data_removed(member, small_chunks):
    image = create(member, protected=True)
    put(member, image["id"])
    url = f"/image/v2/images/{image['id']}"
    assert member.delete(url).status_code == 403
    assert (small_chunks / image["id"]).exists()
    member.patch(url, json.dumps([{"op": "replace", "path": "/protected", "value": False}]), content_type=PATCH)
    assert member.delete(url).status_code == 204
    assert member.get(url).status_code == 404 and not (small_chunks / image["id"]).exists()


def test_other_project_cannot_see_download_or_change(member, other):
    image = create(member, visibility="private")
    put(member, image["id"])
    url = f"/image/v2/images/{image['id']}"
    assert other.get(url).status_code == 404
    assert other.get(url + "/file").status_code == 404
    assert other.delete(url).status_code == 404
    public = ImageFactory(name="pub")
    assert other.delete(f"/image/v2/images/{public.pk}").status_code == 403


def test_deactivate_and_reactivate(member, other, admin):
    image_id = create(member)["id"]
    url = f"/image/v2/images/{image_id}"
    assert member.post(url + "/actions/deactivate").status_code == 403  # queued: nothing to deactivate
    put(member, image_id)
    assert member.post(url + "/actions/deactivate").status_code == 204
    assert member.get(url).json()["status"] == "deactivated"
    assert member.get(url + "/file").status_code == 403
    assert admin.get(url + "/file").status_code == 200
    assert member.post(url + "/actions/reactivate").status_code == 204
    assert read(member.get(url + "/file")) == DATA


def test_tags(member):
    image_id = create(member)["id"]
    url = f"/image/v2/images/{image_id}/tags"
    assert member.put(f"{url}/blue").status_code == 204
    assert member.put(f"{url}/blue").status_code == 204
    assert member.get(f"/image/v2/images/{image_id}").json()["tags"] == ["blue"]
    assert member.get("/image/v2/images", {"tag": "blue"}).json()["images"][0]["id"] == image_id
    assert member.delete(f"{url}/blue").status_code == 204
    assert member.delete(f"{url}/blue").status_code == 404


def test_members_share_accept_and_list(member, other):
    image_id = create(member)["id"]  # shared by default
    url = f"/image/v2/images/{image_id}/members"
    them = other.project.pk
    assert other.get(f"/image/v2/images/{image_id}").status_code == 404
    added = member.post(url, {"member": them}, format="json")
    assert added.status_code == 200 and added.json()["status"] == "pending"
    assert member.post(url, {"member": them}, format="json").status_code == 409
    assert other.get(f"/image/v2/images/{image_id}").status_code == 200  # visible by id while pending
    assert image_id not in [i["id"] for i in other.get("/image/v2/images").json()["images"]]
    pending = other.get("/image/v2/images", {"member_status": "pending"}).json()["images"]
    assert image_id in [i["id"] for i in pending]
    assert member.put(f"{url}/{them}", {"status": "accepted"}, format="json").status_code == 403  # owner can't accept
    assert other.put(f"{url}/{them}", {"status": "maybe"}, format="json").status_code == 400
    assert other.put(f"{url}/{them}", {"status": "accepted"}, format="json").json()["status"] == "accepted"
    assert image_id in [i["id"] for i in other.get("/image/v2/images").json()["images"]]
    assert [m["member_id"] for m in member.get(url).json()["members"]] == [them]
    assert member.delete(f"{url}/{them}").status_code == 204
    assert other.get(f"/image/v2/images/{image_id}").status_code == 404
    private = create(member, visibility="private")["id"]
    assert member.post(f"/image/v2/images/{private}/members", {"member": them}, format="json").status_code == 403


def test_image_count_quota(member, monkeypatch):
    monkeypatch.setitem(settings.CYCLADES, "QUOTA_IMAGES", 2)
    first = create(member)["id"]
    create(member)
    resp = member.post("/image/v2/images", {"name": "third"}, format="json")
    assert resp.status_code == 413
    assert Image.objects.filter(owner=member.project).count() == 2
    member.delete(f"/image/v2/images/{first}")
    create(member)


def test_byte_quota(member, monkeypatch, small_chunks):
    monkeypatch.setitem(settings.CYCLADES, "QUOTA_IMAGE_BYTES", len(DATA) + 100)
    first = create(member)["id"]
    assert put(member, first).status_code == 204
    second = create(member)["id"]
    resp = put(member, second, b"x" * 200)
    assert resp.status_code == 413
    image = Image.objects.get(pk=second)
    assert image.status == "queued" and image.size is None
    assert sorted(p.name for p in Path(small_chunks).iterdir()) == [first]


def test_glance_v20_patch_form_and_empty_id(member):
    image_id = create(member)["id"]
    ops = [{"replace": "/name", "value": "old-style"}, {"add": "/color", "value": "red"}]
    resp = member.patch(
        f"/image/v2/images/{image_id}", json.dumps(ops), content_type="application/openstack-images-v2.0-json-patch"
    )
    assert resp.status_code == 200 and resp.json()["name"] == "old-style" and resp.json()["color"] == "red"
    reserved = [{"replace": "/os_glance_foo", "value": "x"}]
    assert member.patch(f"/image/v2/images/{image_id}", json.dumps(reserved), content_type=PATCH).status_code == 403
    assert member.get("/image/v2/images/").status_code == 404
    assert member.delete("/image/v2/images/").status_code == 404


def test_no_import_methods(member):
    assert member.get("/image/v2/info/import").json()["import-methods"]["value"] == []
