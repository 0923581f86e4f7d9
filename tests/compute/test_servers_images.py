"""Which images a server may boot from: Glance's visibility (members too), active only, min_disk/min_ram."""

from __future__ import annotations

import pytest

from logic.models import ImageMember, Server
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db


def create(client, flavor, image):
    body = {"server": {"name": "vm1", "flavorRef": str(flavor.pk), "imageRef": str(image.pk)}}
    return client.post("/compute/v2.1/servers", body, format="json")


def test_a_shared_image_boots_for_members_only(member, other, jobs, backend, flavor):
    image = ImageFactory(visibility="shared", owner=other.project)
    resp = create(member, flavor, image)
    assert resp.status_code == 400 and "could not be found" in resp.json()["badRequest"]["message"]
    ImageMember.objects.create(image=image, member=member.project.pk, status="accepted")
    assert create(member, flavor, image).status_code == 202
    assert jobs.names() == ["create_server"]


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"status": "deactivated"}, "not active"),
        ({"status": "queued"}, "not active"),
        ({"min_ram": 4096}, "memory is too small"),
        ({"min_disk": 50}, "disk is too small"),
    ],
)
def test_images_that_cannot_boot_are_400_and_nothing_is_written(member, jobs, backend, flavor, fields, words):
    image = ImageFactory(**fields)
    resp = create(member, flavor, image)
    assert resp.status_code == 400 and words in resp.json()["badRequest"]["message"]
    assert not Server.objects.exists() and jobs.names() == []
