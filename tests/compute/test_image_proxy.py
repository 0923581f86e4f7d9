"""The Nova image proxy (/compute/v2.x/images) over HTTP, and the flavor-create command."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from logic.models import Flavor
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db


def test_list_detail_show_and_metadata(member):
    image = ImageFactory(name="debian-12", min_disk=1, min_ram=128, size=10, properties={"os": "debian", "users": "root"})
    ImageFactory(name="queued", status="queued")
    listed = member.get("/compute/v2.1/images").json()["images"]
    assert {i["name"] for i in listed} == {"debian-12", "queued"}
    assert set(listed[0]) == {"id", "name", "links"}
    shown = member.get(f"/compute/v2.1/images/{image.pk}").json()["image"]
    assert shown["status"] == "ACTIVE" and shown["minDisk"] == 1 and shown["minRam"] == 128 and shown["progress"] == 100
    assert shown["metadata"] == {"os": "debian", "users": "root"} and shown["OS-EXT-IMG-SIZE:size"] == 10
    assert shown["created"].endswith("Z")
    assert [link["rel"] for link in shown["links"]] == ["self", "bookmark", "alternate"]
    assert member.get(f"/compute/v2.1/images/{image.pk}/metadata").json() == {"metadata": {"os": "debian", "users": "root"}}
    detail = member.get("/compute/v2.1/images/detail", {"status": "SAVING"}).json()["images"]
    assert [i["name"] for i in detail] == ["queued"] and detail[0]["status"] == "SAVING"
    assert [i["name"] for i in member.get("/compute/v2.1/images/detail", {"minDisk": 1}).json()["images"]] == ["debian-12"]
    assert member.get("/compute/v2.1/images/detail", {"minRam": "lots"}).status_code == 400
    assert member.get("/compute/v2.1/images/detail", {"changes-since": "yesterday"}).status_code == 400


def test_kamaki_path_and_404s(member):
    image = ImageFactory(name="debian-12")
    assert member.get(f"/compute/v2.0/images/{image.pk}").json()["image"]["id"] == str(image.pk)
    assert member.get("/compute/v2.0/images/debian-12").status_code == 404


def test_gone_from_2_36(member):
    image = ImageFactory()
    resp = member.get(f"/compute/v2.1/images/{image.pk}", HTTP_OPENSTACK_API_VERSION="compute 2.36")
    assert resp.status_code == 404


def test_flavor_create_command(db, capsys):
    call_command(
        "flavor-create",
        "--name",
        "m1.tiny",
        "--vcpus",
        "1",
        "--ram",
        "128",
        "--disk",
        "1",
        "--id",
        "1",
        "--disk-template",
        "file",
    )
    assert capsys.readouterr().out.strip() == "1"
    flavor = Flavor.objects.get(pk=1)
    assert flavor.disk_template == "file" and flavor.is_public
    call_command("flavor-create", "--name", "m1.tiny", "--vcpus", "1", "--ram", "128", "--disk", "1", "--if-missing")
    assert capsys.readouterr().out.strip() == "1"
    with pytest.raises(CommandError, match="already exists"):
        call_command("flavor-create", "--name", "m1.tiny", "--vcpus", "1", "--ram", "128", "--disk", "1")
    with pytest.raises(CommandError, match="ram"):
        call_command("flavor-create", "--name", "bad", "--vcpus", "1", "--ram", "0", "--disk", "1")
