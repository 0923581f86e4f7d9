"""Multiple create as Nova does it: counts validated before anything is written, reservation ids."""

from __future__ import annotations

import pytest

from logic.models import Server


def create(member, flavor, image, **extra):
    body = {"server": {"name": "many", "flavorRef": str(flavor.pk), "imageRef": str(image.id), **extra}}
    return member.post("/compute/v2.1/servers", body, format="json")


@pytest.mark.parametrize(
    "extra",
    [
        {"min_count": "a"},
        {"max_count": "a"},
        {"min_count": 2.5},
        {"max_count": 2.5},
        {"max_count": "2.5"},
        {"min_count": True},
        {"min_count": 0},
        {"max_count": 0},
        {"min_count": -1},
        {"max_count": "-1"},
        {"min_count": ""},
        {"max_count": None},
        {"min_count": [2]},
        {"min_count": {"n": 2}},
        {"min_count": 3, "max_count": 2},
        {"return_reservation_id": "maybe"},
        {"return_reservation_id": 2},
    ],
)
def test_invalid_counts_are_400_and_create_nothing(member, jobs, backend, flavor, image, extra):
    resp = create(member, flavor, image, **extra)
    assert resp.status_code == 400, (extra, resp.content)
    assert "badRequest" in resp.json()
    assert Server.objects.count() == 0 and jobs.calls == []


def test_counts_as_strings_of_digits_are_integers(member, jobs, backend, flavor, image):
    assert create(member, flavor, image, min_count="2", max_count="3").status_code == 202
    assert Server.objects.count() == 3 and jobs.names() == ["create_server"] * 3


@pytest.mark.parametrize("flag", [True, "True", "yes", "1"])
def test_return_reservation_id_answers_only_the_reservation_id(member, jobs, backend, flavor, image, flag):
    resp = create(member, flavor, image, min_count=2, return_reservation_id=flag)
    assert resp.status_code == 202
    body = resp.json()
    assert set(body) == {"reservation_id"} and body["reservation_id"].startswith("r-")
    servers = Server.objects.all()
    assert len(servers) == 2 and {s.reservation_id for s in servers} == {body["reservation_id"]}


@pytest.mark.parametrize("flag", [False, "false", "no", "0"])
def test_return_reservation_id_false_answers_the_server(member, jobs, backend, flavor, image, flag):
    resp = create(member, flavor, image, return_reservation_id=flag)
    assert resp.status_code == 202 and "server" in resp.json()
