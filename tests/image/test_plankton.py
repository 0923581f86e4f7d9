"""The Plankton view (``/image/v1.0``) and Astakos' user catalogs over HTTP: shapes, headers, bad input.

The real kamaki drives the same endpoints in test_kamaki_image_e2e.py.
"""

from __future__ import annotations

import hashlib
import os
from urllib.parse import quote

import pytest
from django.conf import settings

from logic.models import Image

pytestmark = pytest.mark.django_db
DATA = os.urandom(40_000)


@pytest.fixture(autouse=True)
def store(monkeypatch, tmp_path):
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_FILE_DIR", str(tmp_path / "store"))
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_STORE", "file")
    (tmp_path / "import" / "images").mkdir(parents=True)
    (tmp_path / "import" / "images" / "disk.raw").write_bytes(DATA)
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_IMPORT_DIR", str(tmp_path / "import"))


def uploaded(client, **props) -> str:
    body = {"name": "débian", "disk_format": "raw", "container_format": "bare", **props}
    image_id = client.post("/image/v2/images", body, format="json").json()["id"]
    resp = client.generic("PUT", f"/image/v2/images/{image_id}/file", DATA, content_type="application/octet-stream")
    assert resp.status_code == 204
    return image_id


def test_list_detail_and_head(member, other):
    image_id = uploaded(member, osfamily="linux")
    listed = member.get("/image/v1.0/images/").json()
    assert {"id": image_id, "name": "débian", "status": "active", "disk_format": "raw", "container_format": "bare",
            "size": len(DATA)} in listed  # fmt: skip
    (full,) = [i for i in member.get("/image/v1.0/images/detail").json() if i["id"] == image_id]
    assert full["checksum"] == hashlib.md5(DATA).hexdigest() and full["properties"] == {"osfamily": "linux"}
    assert full["is_public"] is False and full["owner"] == member.project.pk
    head = member.head(f"/image/v1.0/images/{image_id}")
    assert head.status_code == 200 and head["X-Image-Meta-Name"] == quote("débian")
    assert head["X-Image-Meta-Property-Osfamily"] == "linux" and head["X-Image-Meta-Size"] == str(len(DATA))
    assert image_id not in [i["id"] for i in other.get("/image/v1.0/images/").json()]
    assert other.head(f"/image/v1.0/images/{image_id}").status_code == 404
    assert member.get("/image/v1.0/images/?sort_key=bogus").status_code == 400


def test_put_changes_metadata_from_headers_and_refuses_read_only_ones(member, reader):
    image_id = uploaded(member, osfamily="linux", users="root")
    url = f"/image/v1.0/images/{image_id}"
    resp = member.put(url, HTTP_X_IMAGE_META_NAME=quote("ubuntu ü"), HTTP_X_IMAGE_META_PROPERTY_OSFAMILY="bsd")
    assert resp.status_code == 200, resp.content
    image = Image.objects.get(pk=image_id)
    assert image.name == "ubuntu ü" and image.properties == {"osfamily": "bsd"}  # the properties sent replace them
    for header, status in (("HTTP_X_IMAGE_META_STATUS", 403), ("HTTP_X_IMAGE_META_SIZE", 403),
                           ("HTTP_X_IMAGE_META_IS_PUBLIC", 400), ("HTTP_X_IMAGE_META_BOGUS", 400)):  # fmt: skip
        assert member.put(url, **{header: "x", "HTTP_X_IMAGE_META_NAME": "changed"}).status_code == status
    assert member.put(url, HTTP_X_IMAGE_META_IS_PUBLIC="True").status_code == 403  # publicizing: admins
    assert reader.put(url, HTTP_X_IMAGE_META_NAME="r").status_code == 403
    assert Image.objects.get(pk=image_id).name == "ubuntu ü"


def test_members_and_shared_images(member, other):
    image_id = uploaded(member)
    url = f"/image/v1.0/images/{image_id}/members"
    assert member.get(url).json() == {"members": []}
    assert member.put(f"{url}/{other.project.pk}").status_code == 204
    assert Image.objects.get(pk=image_id).visibility == "shared"
    assert member.get(url).json() == {"members": [{"member_id": other.project.pk, "can_share": False}]}
    shared = other.get(f"/image/v1.0/shared-images/{member.project.pk}").json()["shared_images"]
    assert shared == [{"image_id": image_id, "can_share": False}]  # Plankton has no accept step
    assert member.get(f"/image/v1.0/shared-images/{other.project.pk}").json()["shared_images"] == []
    assert member.put(url, {"memberships": []}, format="json").status_code == 204
    assert member.get(url).json() == {"members": []}
    assert member.put(url, {"memberships": "x"}, format="json").status_code == 400


def test_register_is_for_admins_and_files_of_the_import_directory(admin, member):
    user = admin.user_obj.pk
    headers = {"HTTP_X_IMAGE_META_NAME": "reg", "HTTP_X_IMAGE_META_LOCATION": f"pithos://{user}/images/disk.raw",
               "HTTP_X_IMAGE_META_PROPERTY_OSFAMILY": "linux"}  # fmt: skip
    before = Image.objects.count()
    assert member.post("/image/v1.0/images/", **headers).status_code == 403
    for location, status in ((f"pithos://{user}/images/../../etc/passwd", 400), (f"pithos://{user}/images/none", 400),
                             ("http://example.org/disk", 400), ("pithos://someone-else/images/disk.raw", 403)):  # fmt: skip
        assert admin.post("/image/v1.0/images/", **{**headers, "HTTP_X_IMAGE_META_LOCATION": location}).status_code == status
    bad_sum = admin.post("/image/v1.0/images/", **headers, HTTP_X_IMAGE_META_CHECKSUM="0" * 32)
    assert bad_sum.status_code == 400
    assert Image.objects.exclude(status="deleted").count() == before
    resp = admin.post("/image/v1.0/images/", **headers)
    assert resp.status_code == 200, resp.content
    image = Image.objects.get(pk=resp["X-Image-Meta-Id"])
    assert image.status == "active" and image.checksum == hashlib.md5(DATA).hexdigest()
    assert image.properties == {"osfamily": "linux"}
    assert admin.delete(f"/image/v1.0/images/{image.pk}").status_code == 204
    assert Image.objects.get(pk=image.pk).status == "deleted"


def test_user_catalogs_name_users_and_projects(member):
    body = {"uuids": [member.user_obj.pk, member.project.pk, "nobody"], "displaynames": [member.user_obj.name]}
    got = member.post("/identity/account/v1.0/user_catalogs", body, format="json").json()
    assert got["uuid_catalog"] == {member.user_obj.pk: member.user_obj.name, member.project.pk: member.project.name}
    assert got["displayname_catalog"] == {member.user_obj.name: member.user_obj.pk}
    assert member.post("/identity/account/v1.0/user_catalogs", {"uuids": "x"}, format="json").status_code == 400
    from rest_framework.test import APIClient

    assert APIClient().post("/identity/account/v1.0/user_catalogs", body, format="json").status_code == 401
