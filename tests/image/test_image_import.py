"""Admins import image data from files in IMAGE_IMPORT_DIR: Glance's import (method local-path) and ``cyclades-manage image-import``.

Paths outside the directory, symlinks that lead out of it, URLs, relative paths and
non-files are refused with a 4xx (or a command error) and change nothing.
"""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from logic.models import Image
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
DATA = os.urandom(150_000)


@pytest.fixture(autouse=True)
def dirs(monkeypatch, tmp_path):
    """An import directory with a file, a nested file, a symlink inside and one leading out; a private store."""
    inside, outside = tmp_path / "import", tmp_path / "outside"
    (inside / "nested").mkdir(parents=True)
    outside.mkdir()
    (inside / "disk.raw").write_bytes(DATA)
    (inside / "nested" / "other.raw").write_bytes(DATA[:1000])
    (outside / "secret.raw").write_bytes(b"not yours")
    (inside / "link-in.raw").symlink_to(inside / "disk.raw")
    (inside / "link-out.raw").symlink_to(outside / "secret.raw")
    (inside / "dir-out").symlink_to(outside)
    (tmp_path / "import-evil").mkdir()  # shares the import dir's name as a prefix
    (tmp_path / "import-evil" / "x.raw").write_bytes(b"prefix trick")
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_IMPORT_DIR", str(inside))
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_FILE_DIR", str(tmp_path / "store"))
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_STORE", "file")
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_CHUNK_SIZE", 65536)
    return inside, outside, tmp_path / "store"


def create(client) -> str:
    resp = client.post("/image/v2/images", {"name": "imp", "disk_format": "raw", "container_format": "bare"}, format="json")
    assert resp.status_code == 201, resp.content
    return resp.json()["id"]


def do_import(client, image_id: str, path, name: str = "local-path"):
    return client.post(f"/image/v2/images/{image_id}/import", {"method": {"name": name, "path": path}}, format="json")


@pytest.mark.parametrize("target", ["disk.raw", "link-in.raw"])
def test_an_admin_imports_a_file_inside_the_directory(admin, dirs, target):
    inside, _, store = dirs
    image_id = create(admin)
    resp = do_import(admin, image_id, str(inside / target))
    assert resp.status_code == 202, resp.content
    shown = admin.get(f"/image/v2/images/{image_id}").json()
    assert shown["status"] == "active" and shown["size"] == len(DATA)
    assert shown["checksum"] == hashlib.md5(DATA).hexdigest() and shown["os_hash_value"] == hashlib.sha512(DATA).hexdigest()
    assert (store / image_id).read_bytes() == DATA
    assert do_import(admin, image_id, str(inside / target)).status_code == 409  # no second import into an active image


def bad_paths(inside, outside):
    return [
        str(outside / "secret.raw"),  # outside
        str(inside / "link-out.raw"),  # a symlink inside that leads out
        str(inside / "dir-out" / "secret.raw"),  # through a symlinked directory
        str(inside / ".." / "outside" / "secret.raw"),  # traversal
        str(inside.parent / "import-evil" / "x.raw"),  # a sibling sharing the prefix
        "nested/other.raw",  # relative
        f"file://{inside / 'disk.raw'}",  # a URL, even to an allowed file
        "http://198.51.100.1/disk.raw",
        str(inside / "nested"),  # a directory
        str(inside / "missing.raw"),
        str(inside),
        "",
    ]


def test_paths_outside_the_directory_urls_and_non_files_are_400_and_change_nothing(admin, dirs):
    inside, outside, store = dirs
    image_id = create(admin)
    for path in bad_paths(inside, outside):
        resp = do_import(admin, image_id, path)
        assert resp.status_code == 400, (path, resp.content)
        assert "badRequest" in resp.json() or "message" in resp.content.decode()
        assert Image.objects.get(pk=image_id).status == "queued"
    assert not store.exists() or list(store.iterdir()) == []


def test_only_admins_import_and_only_the_local_path_method(member, admin, dirs):
    inside, _, _ = dirs
    image_id = create(member)
    assert do_import(member, image_id, str(inside / "disk.raw")).status_code == 403
    assert do_import(admin, image_id, "http://example.org/x", name="web-download").status_code == 400
    assert do_import(admin, image_id, str(inside / "disk.raw"), name="glance-direct").status_code == 400
    assert admin.post(f"/image/v2/images/{image_id}/import", {}, format="json").status_code == 400
    assert Image.objects.get(pk=image_id).status == "queued"
    assert member.get("/image/v2/info/import").json()["import-methods"]["value"] == []
    assert admin.get("/image/v2/info/import").json()["import-methods"]["value"] == ["local-path"]


def test_no_import_directory_means_no_local_imports(admin, dirs, monkeypatch):
    inside, _, _ = dirs
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_IMPORT_DIR", "")
    image_id = create(admin)
    assert do_import(admin, image_id, str(inside / "disk.raw")).status_code == 403
    assert admin.get("/image/v2/info/import").json()["import-methods"]["value"] == []


def test_the_command_imports_and_refuses_bad_paths_creating_nothing(dirs, admin):
    inside, outside, store = dirs
    UserFactory(is_admin=True)
    out = io.StringIO()
    call_command("image-import", "--path", str(inside / "disk.raw"), "--name", "imported", "--owner", admin.project.pk,
                 "--visibility", "private", stdout=out)  # fmt: skip
    image = Image.objects.get(pk=out.getvalue().strip())
    assert image.status == "active" and image.name == "imported" and image.owner_id == admin.project.pk
    assert image.os_hash_value == hashlib.sha512(DATA).hexdigest() and (store / str(image.pk)).read_bytes() == DATA
    assert image.ganeti_os == settings.CYCLADES["IMAGE_GANETI_OS"]
    before = Image.objects.count()
    for path in bad_paths(inside, outside):
        with pytest.raises(CommandError):
            call_command("image-import", "--path", path, "--name", "bad", "--owner", admin.project.pk, stdout=io.StringIO())
    assert Image.objects.count() == before
