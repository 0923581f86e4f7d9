"""RBD volumes over HTTP against the real Ceph sandbox (no Ganeti needed): the image follows the API,
snapshots are RBD snapshots, sources clone or copy, and every refusal is a 4xx that changes nothing
(neither rows nor RBD images)."""

from __future__ import annotations

import pytest
from django.conf import settings

from logic import volume_rbd
from logic.models import Volume, VolumeSnapshot, VolumeType
from tests import services

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]

V3 = "/volume/v3"
GIB = 1 << 30


@pytest.fixture(autouse=True)
def ceph(monkeypatch):
    monkeypatch.setitem(settings.CYCLADES, "VOLUME_RBD_CONF", services.CEPH_CONF)
    monkeypatch.setitem(settings.CYCLADES, "VOLUME_RBD_USER", services.CEPH_USER)
    monkeypatch.setitem(settings.CYCLADES, "VOLUME_RBD_POOL", services.CEPH_POOL)
    yield
    for volume in Volume.objects.filter(volume_type__disk_template="ext"):  # what a failing test left
        for snap in volume_rbd.snapshots(volume.ganeti_name):
            volume_rbd.remove_snapshot(volume.ganeti_name, snap)
        volume_rbd.remove(volume.ganeti_name)


@pytest.fixture
def rbd_type(db):
    return VolumeType.objects.create(name="rbd", disk_template="ext")


def create(client, **fields):
    resp = client.post(f"{V3}/volumes", {"volume": {"size": 1, "volume_type": "rbd", **fields}}, format="json")
    assert resp.status_code == 202, resp.content
    return resp.json()["volume"]


def ours() -> set[str]:
    import rbd

    prefix = f"{settings.CYCLADES['GANETI_PREFIX']}-vol-"
    with volume_rbd._ioctx() as ioctx:
        return {n for n in rbd.RBD().list(ioctx) if n.startswith(prefix)}


def image_of(volume: dict) -> str:
    return f"{settings.CYCLADES['GANETI_PREFIX']}-vol-{volume['id']}"


def test_volume_is_an_rbd_image_that_follows_the_api(member, rbd_type):
    vol = create(member, size=2)
    assert vol["status"] == "available" and volume_rbd.size(image_of(vol)) == 2 * GIB
    assert member.post(f"{V3}/volumes/{vol['id']}/action", {"os-extend": {"new_size": 3}}, format="json").status_code == 202
    assert volume_rbd.size(image_of(vol)) == 3 * GIB
    shrink = member.post(f"{V3}/volumes/{vol['id']}/action", {"os-extend": {"new_size": 1}}, format="json")
    assert shrink.status_code == 400 and volume_rbd.size(image_of(vol)) == 3 * GIB
    assert member.delete(f"{V3}/volumes/{vol['id']}").status_code == 202
    assert volume_rbd.size(image_of(vol)) is None and ours() == set()


def test_snapshots_clones_copies_and_their_refusals(member, other, rbd_type, settings):
    settings.CYCLADES = {**settings.CYCLADES, "QUOTA_VOLUME_SNAPSHOTS": 1}
    vol = create(member)
    resp = member.post(f"{V3}/snapshots", {"snapshot": {"volume_id": vol["id"], "name": "s1", "metadata": {"a": "b"}}},
                       format="json")  # fmt: skip
    assert resp.status_code == 202, resp.content
    snap = resp.json()["snapshot"]
    assert volume_rbd.snapshots(image_of(vol)) == [f"snap-{snap['id']}"]
    shown = member.get(f"{V3}/snapshots/{snap['id']}").json()["snapshot"]
    assert shown["os-extended-snapshot-attributes:progress"] == "100%" and shown["metadata"] == {"a": "b"}
    assert member.get(f"{V3}/limits").json()["limits"]["absolute"]["totalSnapshotsUsed"] == 1

    before = (Volume.objects.count(), VolumeSnapshot.objects.count(), ours())
    refusals = [
        (member.post(f"{V3}/snapshots", {"snapshot": {"volume_id": vol["id"]}}, format="json"), 413),  # quota 1
        (member.post(f"{V3}/snapshots", {"snapshot": {"name": "x"}}, format="json"), 404),  # no volume_id
        (other.post(f"{V3}/snapshots", {"snapshot": {"volume_id": vol["id"]}}, format="json"), 404),
        (other.get(f"{V3}/snapshots/{snap['id']}"), 404),
        (other.post(f"{V3}/volumes", {"volume": {"snapshot_id": snap["id"], "volume_type": "rbd"}}, format="json"), 404),
        (
            member.post(
                f"{V3}/volumes", {"volume": {"size": 1, "snapshot_id": snap["id"], "source_volid": vol["id"]}}, format="json"
            ),
            400,
        ),  # fmt: skip
        (member.delete(f"{V3}/volumes/{vol['id']}"), 400),  # it has a snapshot
        (member.get(f"{V3}/snapshots", {"sort_key": "nope"}), 400),
        (member.get(f"{V3}/snapshots", {"marker": vol["id"]}), 404),
    ]
    for resp, code in refusals:
        assert resp.status_code == code, (resp.status_code, resp.content)
    assert (Volume.objects.count(), VolumeSnapshot.objects.count(), ours()) == before

    clone = create(member, snapshot_id=snap["id"], size=2)
    assert clone["snapshot_id"] == snap["id"] and volume_rbd.size(image_of(clone)) == 2 * GIB
    copy = create(member, source_volid=vol["id"])
    assert copy["source_volid"] == vol["id"] and volume_rbd.size(image_of(copy)) == GIB
    # a file volume has no storage to copy from, and a smaller clone is refused
    plain = member.post(f"{V3}/volumes", {"volume": {"size": 1}}, format="json").json()["volume"]
    refused = member.post(f"{V3}/volumes", {"volume": {"source_volid": plain["id"]}}, format="json")
    assert refused.status_code == 400 and "RBD" in refused.json()["badRequest"]["message"]
    no_snap = member.post(f"{V3}/snapshots", {"snapshot": {"volume_id": plain["id"]}}, format="json")
    assert no_snap.status_code == 400 and "'file' disk template, which has no snapshots" in no_snap.content.decode()

    assert member.delete(f"{V3}/snapshots/{snap['id']}").status_code == 202
    assert volume_rbd.snapshots(image_of(vol)) == [] and volume_rbd.size(image_of(clone)) == 2 * GIB  # flattened
    assert member.get(f"{V3}/limits").json()["limits"]["absolute"]["totalSnapshotsUsed"] == 0
    for v in (clone, copy, vol, plain):
        assert member.delete(f"{V3}/volumes/{v['id']}").status_code == 202
    assert ours() == set()
