"""Snapshot images without a Ganeti job: the upload grant, the failures that drop the image, createImage's bad input.

The success path through Ganeti's export is test_snapshot_e2e.py (real sandbox). Here
the upload endpoint is driven over HTTP like a node would, and the export job's end is
fed as a parsed event, as the dispatcher does.
"""

from __future__ import annotations

import hashlib
import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from logic import events, image_deploy, image_snapshot, image_write
from logic.enums import QuotaResource, Role
from logic.event_messages import parse_event
from logic.identity import AuthContext
from logic.models import Image, ImageFetchGrant, QuotaHolding, Server
from tests.factories import BackendFactory, FlavorFactory, ServerFactory, token_client

pytestmark = pytest.mark.django_db
DATA = os.urandom(200_000)
MV245 = {"HTTP_X_OPENSTACK_NOVA_API_VERSION": "2.45"}


@pytest.fixture(autouse=True)
def store(monkeypatch, tmp_path):
    key = tmp_path / "fetch.key"
    image_deploy.ensure_key_file(key)
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_FETCH_KEY_FILE", str(key))
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_FILE_DIR", str(tmp_path / "store"))
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_STORE", "file")
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_CHUNK_SIZE", 65536)
    return tmp_path / "store"


@pytest.fixture
def member():
    return token_client(Role.MEMBER, headers=MV245)


def images_used(project) -> int:
    row = QuotaHolding.objects.filter(project=project, user=None, resource=QuotaResource.IMAGES).first()
    return (row.committed + row.pending_up - row.pending_down) if row else 0


def queued(member) -> Image:
    ctx = AuthContext(user=member.user_obj, project=member.project, roles=[Role.MEMBER])
    return image_write.create(ctx, {"name": "snap", "disk_format": "raw", "container_format": "bare"})


def put(grant: str, data: bytes, *, signature: str | None = None, length: int | None = None):
    headers = {"HTTP_X_CYCLADES_GRANT_SIGNATURE": signature if signature is not None else image_deploy.sign(grant)}
    return APIClient().generic("PUT", f"/image/upload/{grant}", data, content_type="application/octet-stream",
                               **headers, **({"CONTENT_LENGTH": str(length)} if length is not None else {}))  # fmt: skip


def test_an_upload_grant_fills_the_image_once_with_hashes(member, store):
    image = queued(member)
    grant, _ = image_snapshot.issue_upload_grant(image)
    head = APIClient().head(f"/image/upload/{grant}", HTTP_X_CYCLADES_GRANT_SIGNATURE=image_deploy.sign(grant))
    assert head.status_code == 204  # the export script asks first; asking uses nothing up
    assert put(grant, DATA, signature="0" * 64).status_code == 403  # a bad signature does not use the grant up
    assert Image.objects.get(pk=image.pk).status == "queued"
    resp = put(grant, DATA)
    assert resp.status_code == 200, resp.content
    image.refresh_from_db()
    assert image.status == "active" and image.size == len(DATA)
    assert image.checksum == hashlib.md5(DATA).hexdigest() and image.os_hash_value == hashlib.sha512(DATA).hexdigest()
    assert (store / str(image.pk)).read_bytes() == DATA
    assert put(grant, b"other").status_code == 409  # one-time
    assert APIClient().head(f"/image/upload/{grant}", HTTP_X_CYCLADES_GRANT_SIGNATURE=image_deploy.sign(grant)).status_code == 409
    assert (store / str(image.pk)).read_bytes() == DATA


def test_fetch_and_upload_grants_are_not_interchangeable(member):
    image = queued(member)
    upload, _ = image_snapshot.issue_upload_grant(image)
    with pytest.raises(image_deploy.PolicyError):
        image_deploy.redeem(upload, image_deploy.sign(upload))
    assert put(upload, DATA).status_code == 200
    fetch = image_deploy.deploy_osparams(Image.objects.get(pk=image.pk), purpose="create of x")["img_grant"]
    assert put(fetch, DATA).status_code == 409


def test_a_cut_off_upload_drops_the_image_its_bytes_and_its_quota(member, store):
    before = images_used(member.project)
    image = queued(member)
    assert images_used(member.project) == before + 1
    grant, _ = image_snapshot.issue_upload_grant(image)
    from logic.image_data import IncompleteUpload

    with pytest.raises(IncompleteUpload):
        image_snapshot.receive(grant, image_deploy.sign(grant), iter([DATA[:1000]]), len(DATA))
    image.refresh_from_db()
    assert image.status == "deleted" and not image.location
    assert not store.exists() or list(store.iterdir()) == []
    assert images_used(member.project) == before
    assert member.get(f"/image/v2/images/{image.pk}").status_code == 404


def _export_end(cluster: str, job_id: int, status: str) -> dict:
    return {
        "type": "ganeti-op-status", "id": f"{cluster}-{job_id}-1", "cluster": cluster, "instance": "snf-1",
        "operation": "OP_BACKUP_EXPORT", "status": status, "job_status": status, "job_id": job_id, "op_index": 0,
        "event_time": [1700000000, 0], "logmsg": "", "result": None,
    }  # fmt: skip


def test_an_export_job_that_ends_without_data_drops_the_image(member):
    before = images_used(member.project)
    failed, done = queued(member), queued(member)
    for image, job in ((failed, 41), (done, 42)):
        _, row = image_snapshot.issue_upload_grant(image)
        ImageFetchGrant.objects.filter(pk=row.pk).update(purpose=image_snapshot.export_purpose("c1", job))
    grant_done = ImageFetchGrant.objects.get(image=done)
    Image.objects.filter(pk=done.pk).update(status="active")  # its upload had arrived
    events.apply_event(_export_end("c2", 41, "error"))  # another cluster's job 41: the dispatcher's one path
    assert Image.objects.get(pk=failed.pk).status == "queued"
    events.apply_events([parse_event(_export_end("c1", 41, "error")), parse_event(_export_end("c1", 42, "success"))])
    assert Image.objects.get(pk=failed.pk).status == "deleted"
    assert Image.objects.get(pk=done.pk).status == "active" and grant_done.image_id == done.pk
    assert images_used(member.project) == before + 1


def _server(member, **kw) -> Server:
    flavor = kw.pop("flavor", None) or FlavorFactory(disk=1, disk_template="file")
    kw.setdefault("operstate", "STARTED")
    return ServerFactory(user=member.user_obj, project=member.project, flavor=flavor, backend=BackendFactory(rapi_port=1), **kw)


def action(member, server, body):
    return member.post(f"/compute/v2.1/servers/{server.pk}/action", body, format="json")


@pytest.mark.parametrize(
    "body,status",
    [
        ({"createImage": {}}, 400),
        ({"createImage": {"name": ""}}, 400),
        ({"createImage": {"name": "x" * 256}}, 400),
        ({"createImage": {"name": "ok", "metadata": {"k": 1}}}, 400),
        ({"createImage": {"name": "ok", "metadata": {"k" * 256: "v"}}}, 400),
        ({"createBackup": {"name": "b", "backup_type": "daily"}}, 400),
        ({"createBackup": {"name": "b", "backup_type": "daily", "rotation": -1}}, 400),
    ],
)
def test_bad_create_image_input_changes_nothing(member, body, status):
    server = _server(member)
    before = (Image.objects.count(), images_used(member.project))
    resp = action(member, server, body)
    assert resp.status_code == status, resp.content
    assert "badRequest" in resp.json()
    assert (Image.objects.count(), images_used(member.project)) == before


def test_create_image_conflicts_change_nothing(member):
    diskless = _server(member, flavor=FlavorFactory(disk=0, disk_template="diskless"))
    building = _server(member, operstate="BUILD")
    before = (Image.objects.count(), images_used(member.project))
    for server in (diskless, building):
        resp = action(member, server, {"createImage": {"name": "snap"}})
        assert resp.status_code == 409, resp.content
    assert action(member, diskless, {"createImage": {"name": "snap"}}).json()["conflictingRequest"]
    resp = member.post("/compute/v2.1/servers/999999/action", {"createImage": {"name": "snap"}}, format="json")
    assert resp.status_code == 404
    assert (Image.objects.count(), images_used(member.project)) == before


def test_a_submission_that_fails_leaves_no_image_and_the_quota_as_before(member):
    server = _server(member)  # its backend's RAPI (port 1) refuses connections
    before = images_used(member.project)
    resp = action(member, server, {"createImage": {"name": "snap"}})
    assert resp.status_code == 409 and "could not be submitted" in resp.json()["conflictingRequest"]["message"]
    assert list(Image.objects.filter(name="snap").values_list("status", flat=True)) == ["deleted"]
    assert images_used(member.project) == before
    assert member.get("/image/v2/images?name=snap").json()["images"] == []


def test_a_complete_backup_rotates_the_older_ones(member, store):
    before = images_used(member.project)
    backups = []
    for n in range(3):
        image = queued(member)
        Image.objects.filter(pk=image.pk).update(
            properties={"instance_uuid": "7", "image_type": "backup", "backup_type": "daily"}
        )
        grant, _ = image_snapshot.issue_upload_grant(image, rotation=2)
        other = queued(member)  # another server's backup of the same type is not rotated
        Image.objects.filter(pk=other.pk).update(
            properties={"instance_uuid": "8", "image_type": "backup", "backup_type": "daily"}
        )
        image_snapshot.receive(grant, image_deploy.sign(grant), iter([DATA]), len(DATA))
        backups.append(image.pk)
        statuses = [Image.objects.get(pk=pk).status for pk in backups]
        assert statuses == (["active"] * (n + 1) if n < 2 else ["deleted", "active", "active"])
    assert not (store / str(backups[0])).exists() and (store / str(backups[2])).exists()
    assert images_used(member.project) == before + 2 + 3  # two backups of server 7 and three queued others
