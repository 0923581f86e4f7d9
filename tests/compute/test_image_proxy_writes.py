"""The Nova image proxy's writes over HTTP: delete, metadata (replace, merge, items), and the server/type filters."""

from __future__ import annotations

import pytest

from logic.models import Image
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def own(member):
    return ImageFactory(name="mine", owner=member.project, visibility="private", properties={"os": "debian", "users": "root"})


def test_metadata_replace_merge_and_items(member, own):
    url = f"/compute/v2.1/images/{own.pk}/metadata"
    assert member.post(url, {"metadata": {"users": "admin", "extra": "1"}}, format="json").json() == {
        "metadata": {"os": "debian", "users": "admin", "extra": "1"}
    }
    assert member.put(url, {"metadata": {"only": "this"}}, format="json").json() == {"metadata": {"only": "this"}}
    assert member.get(f"{url}/only").json() == {"meta": {"only": "this"}}
    assert member.put(f"{url}/k", {"meta": {"k": "v"}}, format="json").json() == {"meta": {"k": "v"}}
    assert member.put(f"{url}/k", {"meta": {"other": "v"}}, format="json").status_code == 400
    assert member.put(url, {"metadata": {"k": 1}}, format="json").status_code == 400
    assert member.delete(f"{url}/only").status_code == 204
    assert member.get(f"{url}/only").status_code == 404
    assert member.delete(f"{url}/only").status_code == 404
    assert Image.objects.get(pk=own.pk).properties == {"k": "v"}


def test_others_cannot_write_and_delete_is_204(member, other, own):
    url = f"/compute/v2.1/images/{own.pk}"
    assert other.put(f"{url}/metadata", {"metadata": {}}, format="json").status_code == 404
    assert other.delete(url).status_code == 404
    assert member.delete("/compute/v2.1/images/").status_code == 404
    assert member.delete(url).status_code == 204
    assert Image.objects.get(pk=own.pk).status == "deleted"
    assert member.get(url).status_code == 404


def test_snapshots_by_server_and_type(member):
    base = ImageFactory(name="base")
    snap = ImageFactory(name="snap", properties={"instance_uuid": "12", "image_type": "snapshot"})
    backup = ImageFactory(name="backup", properties={"instance_uuid": "13", "image_type": "backup"})

    def names(**params):
        return {i["name"] for i in member.get("/compute/v2.1/images/detail", params).json()["images"]}

    assert names(server="12") == {"snap"}
    assert names(server="http://h/compute/v2.1/servers/13") == {"backup"}
    assert names(type="snapshot") == {"snap"} and names(type="backup") == {"backup"}
    assert names() == {"base", "snap", "backup"} and base and snap and backup
