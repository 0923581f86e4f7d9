"""Compute version discovery and microversion negotiation, over HTTP."""

from __future__ import annotations

import pytest

from api.compute.base import MAX_VERSION

pytestmark = pytest.mark.django_db

MV = {"HTTP_X_OPENSTACK_NOVA_API_VERSION": "2.1"}


def test_version_list_names_v2_0_first_and_every_self_link_answers(client):
    resp = client.get("/compute/")
    assert resp.status_code == 200
    versions = resp.json()["versions"]
    assert [v["id"] for v in versions] == ["v2.0", "v2.1"]
    nova = versions[1]
    assert nova["status"] == "CURRENT" and nova["version"] == str(MAX_VERSION) and nova["min_version"] == "2.1"
    assert versions[0]["version"] == "" and versions[0]["min_version"] == ""
    for v in versions:
        assert set(v) == {"id", "status", "version", "min_version", "updated", "links"}
        href = v["links"][0]["href"]
        assert href.startswith("http://testserver/compute/")
        follow = client.get(href.removeprefix("http://testserver"))
        assert follow.status_code == 200, href
        assert follow.json()["version"]["id"] == v["id"]
        assert follow.json()["version"]["media-types"][0]["base"] == "application/json"


@pytest.mark.parametrize("path", ["/compute", "/compute/v2.1", "/compute/v2.1/", "/compute/v2", "/compute/v2/", "/compute/v2.0/"])
def test_version_documents_answer_without_a_token(client, path):
    resp = client.get(path)
    assert resp.status_code == 200
    assert "versions" in resp.json() or "version" in resp.json()


def test_microversion_headers_are_echoed_and_vary_is_set(client):
    resp = client.get("/compute/v2.1/", **MV)
    assert resp["X-OpenStack-Nova-API-Version"] == "2.1"
    assert resp["OpenStack-API-Version"] == "compute 2.1"
    assert "OpenStack-API-Version" in resp["Vary"] and "X-OpenStack-Nova-API-Version" in resp["Vary"]
    resp = client.get("/compute/v2.1/", HTTP_OPENSTACK_API_VERSION="compute 2.1")
    assert resp["OpenStack-API-Version"] == "compute 2.1"


def test_latest_resolves_to_the_maximum(client):
    resp = client.get("/compute/v2.1/", HTTP_OPENSTACK_API_VERSION="compute latest")
    assert resp["X-OpenStack-Nova-API-Version"] == str(MAX_VERSION)
    assert resp["OpenStack-API-Version"] == f"compute {MAX_VERSION}"


def test_another_services_version_is_ignored(client):
    resp = client.get("/compute/v2.1/", HTTP_OPENSTACK_API_VERSION="image 2.9")
    assert resp.status_code == 200 and resp["X-OpenStack-Nova-API-Version"] == "2.1"


@pytest.mark.parametrize("value", ["2.999", "1.1", "3.0"])
def test_out_of_range_microversion_is_406(client, value):
    resp = client.get("/compute/v2.1/", HTTP_X_OPENSTACK_NOVA_API_VERSION=value)
    assert resp.status_code == 406
    assert resp.json()["notAcceptable"]["code"] == 406


def test_malformed_microversion_is_400(client):
    resp = client.get("/compute/v2.1/", HTTP_X_OPENSTACK_NOVA_API_VERSION="two")
    assert resp.status_code == 400
    assert "badRequest" in resp.json()


def test_synnefo_personality_has_no_microversion_headers(client):
    resp = client.get("/compute/v2.0/", HTTP_X_OPENSTACK_NOVA_API_VERSION="2.999")
    assert resp.status_code == 200
    assert "X-OpenStack-Nova-API-Version" not in resp
