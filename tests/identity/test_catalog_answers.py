"""Every service the catalog lists answers at its URL: clients use whatever the catalog names."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from logic import catalog
from tests.factories import token_client


@pytest.fixture
def member(db):
    return token_client()


def _path(url: str) -> str:
    return urlsplit(url).path


def test_every_v3_catalog_endpoint_answers_its_version_document(member):
    for svc in catalog.v3_catalog():
        (endpoint,) = svc["endpoints"]
        resp = member.get(_path(endpoint["url"]), HTTP_ACCEPT="application/json")
        assert resp.status_code in (200, 300), (svc["type"], endpoint["url"], resp.status_code)
        assert resp.json(), svc["type"]


def test_every_v2_catalog_endpoint_answers(member):
    for entry in catalog.v2_catalog():
        if entry["type"] == "account":
            continue  # astakosclient's entry: looked up by name, never called by these clients
        (endpoint,) = entry["endpoints"]
        resp = member.get(_path(endpoint["publicURL"]), HTTP_ACCEPT="application/json")
        assert resp.status_code in (200, 300), (entry["type"], endpoint["publicURL"], resp.status_code)


def test_volume_is_listed_now_that_its_api_answers(member):
    assert "volume" in {svc["type"] for svc in catalog.v3_catalog()}
    assert "volume" in {entry["type"] for entry in catalog.v2_catalog()}
    assert member.get("/volume/v3", HTTP_ACCEPT="application/json").status_code in (200, 300)
