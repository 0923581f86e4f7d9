"""The Ceph RBD image store on the real Ceph sandbox, through the Glance API.

Uses the sandbox's restricted user (``client.sandbox``, ``profile rbd`` on the pool): the
store needs no more than that. Each image is its own RBD image (``image-<uuid>``), so
concurrent runs do not meet.
"""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from django.conf import settings

from logic.image_stores import get_store
from logic.image_stores.rbd import parse_location
from logic.models import Image
from tests import services

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]

DATA = os.urandom(3 * 1024 * 1024 + 5)


@pytest.fixture(autouse=True)
def rbd_store(monkeypatch):
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_STORE", "rbd")
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_RBD_CONF", services.CEPH_CONF)
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_RBD_USER", services.CEPH_USER)
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_RBD_POOL", services.CEPH_POOL)
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_CHUNK_SIZE", 1 << 20)
    return get_store("rbd")


def rbd_images(store, image_id: str) -> list[str]:
    import rbd

    with store.ioctx() as ioctx:
        return sorted(n for n in rbd.RBD().list(ioctx) if image_id in n)


def create(client) -> str:
    body = {"name": "rbd-img", "disk_format": "raw", "container_format": "bare"}
    resp = client.post("/image/v2/images", body, format="json")
    assert resp.status_code == 201
    return resp.json()["id"]


def put(client, image_id: str, data: bytes = DATA, **extra):
    return client.put(f"/image/v2/images/{image_id}/file", data, content_type="application/octet-stream", **extra)


def test_upload_snapshot_download_clone_and_delete(member, rbd_store):
    import rbd

    image_id = create(member)
    assert put(member, image_id).status_code == 204
    image = Image.objects.get(pk=image_id)
    assert image.store == "rbd" and image.checksum == hashlib.md5(DATA).hexdigest()
    assert image.os_hash_value == hashlib.sha512(DATA).hexdigest()
    pool, name, snap = parse_location(image.location)
    assert (pool, name, snap) == (services.CEPH_POOL, f"image-{image_id}", "snap")
    with rbd_store.ioctx() as ioctx, rbd.Image(ioctx, name, snapshot=snap, read_only=True) as rimg:
        assert rimg.size() == len(DATA) and rimg.read(0, len(DATA)) == DATA
        assert rimg.is_protected_snap(snap)
    got = member.get(f"/image/v2/images/{image_id}/file")
    assert b"".join(got.streaming_content) == DATA
    part = member.get(f"/image/v2/images/{image_id}/file", HTTP_RANGE="bytes=1048570-1048585")
    assert part.status_code == 206 and b"".join(part.streaming_content) == DATA[1048570:1048586]

    # A server's disk: a copy-on-write clone of the protected snapshot.
    clone = f"disk-{image_id}"
    rbd_store.clone(image.location, clone)
    try:
        with rbd_store.ioctx() as ioctx, rbd.Image(ioctx, clone) as disk:
            assert disk.read(0, 4096) == DATA[:4096] and disk.parent_info()[1] == name
        resp = member.delete(f"/image/v2/images/{image_id}")
        assert resp.status_code == 409 and "in use" in resp.json()["conflictingRequest"]["message"]
        assert Image.objects.get(pk=image_id).status == "active" and rbd_images(rbd_store, image_id) == [clone, name]
    finally:
        rbd_store.remove_volume(clone)
    assert member.delete(f"/image/v2/images/{image_id}").status_code == 204
    assert rbd_images(rbd_store, image_id) == []


def test_interrupted_upload_leaves_no_rbd_image(member, rbd_store):
    image_id = create(member)
    body = io.BytesIO(DATA[: 2 * 1024 * 1024])
    resp = member.generic("PUT", f"/image/v2/images/{image_id}/file", b"", content_type="application/octet-stream",
                          CONTENT_LENGTH=str(len(DATA)), **{"wsgi.input": body})  # fmt: skip
    assert resp.status_code == 400
    image = Image.objects.get(pk=image_id)
    assert image.status == "queued" and image.location == "" and image.size is None
    assert rbd_images(rbd_store, image_id) == []
    assert put(member, image_id).status_code == 204  # a retry works
    member.delete(f"/image/v2/images/{image_id}")


def test_over_the_byte_quota_mid_stream_leaves_no_rbd_image(member, rbd_store, monkeypatch):
    monkeypatch.setitem(settings.CYCLADES, "QUOTA_IMAGE_BYTES", 1024 * 1024)
    image_id = create(member)
    chunked = io.BytesIO(DATA)  # no length announced: the limit is found while streaming
    resp = member.generic("PUT", f"/image/v2/images/{image_id}/file", b"", content_type="application/octet-stream",
                          HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": chunked})  # fmt: skip
    assert resp.status_code == 413
    assert Image.objects.get(pk=image_id).status == "queued"
    assert rbd_images(rbd_store, image_id) == []
