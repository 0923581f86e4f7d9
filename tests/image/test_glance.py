"""Glance v2 (read-only) over HTTP: versions, list filters/sorting/paging, show, visibility, schemas."""

from __future__ import annotations

import uuid

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from logic.models import Image
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db


def names(resp) -> list[str]:
    return [i["name"] for i in resp.json()["images"]]


def test_versions_document_is_300_without_a_token():
    resp = APIClient().get("/image")
    assert resp.status_code == 300
    assert resp.json()["versions"][0]["id"] == "v2.9"
    assert resp.json()["versions"][0]["links"][0]["href"] == "http://testserver/image/v2/"
    assert APIClient().get("/image/versions").status_code == 200


def test_image_object_has_the_fields_clients_read(member):
    image = ImageFactory(name="debian-12", size=2048, min_disk=1, properties={"os": "debian", "users": "root"})
    body = member.get(f"/image/v2/images/{image.pk}").json()
    for key in (
        "id",
        "name",
        "status",
        "visibility",
        "size",
        "container_format",
        "disk_format",
        "min_disk",
        "min_ram",
        "owner",
        "created_at",
        "updated_at",
        "protected",
        "tags",
        "self",
        "file",
        "schema",
    ):
        assert key in body, key
    assert body["status"] == "active" and body["os"] == "debian" and body["users"] == "root"
    assert body["self"] == f"/v2/images/{image.pk}"


def test_names_and_unknown_ids_are_404(member):
    ImageFactory(name="debian-12")
    assert member.get("/image/v2/images/debian-12").status_code == 404
    assert member.get(f"/image/v2/images/{uuid.uuid4()}").status_code == 404


def test_filters_name_id_in_and_status(member):
    a, b, _ = ImageFactory(name="a"), ImageFactory(name="b"), ImageFactory(name="c")
    assert names(member.get("/image/v2/images", {"name": "b"})) == ["b"]
    resp = member.get("/image/v2/images", {"id": f"in:{a.pk},{b.pk}", "sort": "name:asc"})
    assert names(resp) == ["a", "b"]
    ImageFactory(name="q", status="queued")
    assert names(member.get("/image/v2/images", {"status": "queued"})) == ["q"]
    assert member.get("/image/v2/images", {"status": "bogus"}).status_code == 400


def test_default_sort_is_newest_first_and_paging_has_next(member):
    for n in range(5):
        ImageFactory(name=f"img{n}")
    first = member.get("/image/v2/images", {"limit": 2})
    assert names(first) == ["img4", "img3"]
    nxt = first.json()["next"]
    assert nxt.startswith("/v2/images?")
    second = member.get("/image" + nxt)
    assert names(second) == ["img2", "img1"]
    assert "next" not in member.get("/image/v2/images", {"limit": 10}).json()
    assert member.get("/image/v2/images", {"marker": str(uuid.uuid4())}).status_code == 400
    assert member.get("/image/v2/images", {"limit": "-1"}).status_code == 400
    assert names(member.get("/image/v2/images", {"sort_key": "name", "sort_dir": "asc"}))[:2] == ["img0", "img1"]
    assert member.get("/image/v2/images", {"sort_key": "password"}).status_code == 400


def test_visibility(member, other, admin):
    ImageFactory(name="pub")
    ImageFactory(name="mine", visibility="private", owner=member.project)
    ImageFactory(name="theirs", visibility="private", owner=other.project)
    ImageFactory(name="comm", visibility="community", owner=other.project)
    assert sorted(names(member.get("/image/v2/images"))) == ["mine", "pub"]
    assert sorted(names(member.get("/image/v2/images", {"visibility": "community"}))) == ["comm"]
    assert sorted(names(member.get("/image/v2/images", {"visibility": "private"}))) == ["mine"]
    theirs = Image.objects.get(name="theirs")
    assert member.get(f"/image/v2/images/{theirs.pk}").status_code == 404
    assert sorted(names(admin.get("/image/v2/images"))) == ["comm", "mine", "pub", "theirs"]
    assert member.get("/image/v2/images", {"visibility": "nope"}).status_code == 400


def test_token_required():
    assert APIClient().get("/image/v2/images").status_code == 401


def test_schemas(member):
    assert member.get("/image/v2/schemas/image").json()["name"] == "image"
    assert member.get("/image/v2/schemas/images").json()["name"] == "images"
    assert member.get("/image/v2/schemas/nope").status_code == 404


def test_image_register_command(db, capsys):
    call_command(
        "image-register",
        "--name",
        "debian-12",
        "--os",
        "snf-image+default",
        "--osparam",
        "img_id=debian",
        "--property",
        "os=debian",
        "--min-disk",
        "1",
    )
    image_id = capsys.readouterr().out.strip()
    image = Image.objects.get(pk=image_id)
    assert image.ganeti_os == "snf-image+default" and image.ganeti_osparams == {"img_id": "debian"}
    assert image.properties == {"os": "debian"} and image.min_disk == 1 and image.visibility == "public"
    call_command("image-register", "--name", "debian-12", "--os", "noop", "--if-missing")
    assert capsys.readouterr().out.strip() == image_id
    with pytest.raises(CommandError, match="KEY=VALUE"):
        call_command("image-register", "--name", "x", "--os", "noop", "--osparam", "novalue")
    with pytest.raises(CommandError, match="owner"):
        call_command("image-register", "--name", "x", "--os", "noop", "--visibility", "private")
    fixed = str(uuid.uuid4())
    call_command("image-register", "--name", "fixed", "--os", "noop", "--id", fixed)
    assert capsys.readouterr().out.strip() == fixed
