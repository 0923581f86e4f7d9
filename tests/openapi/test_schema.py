"""The OpenAPI schema at /api/openapi.json: JSON, every API's paths, the token scheme, request bodies."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        resp = APIClient().get("/api/openapi.json")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return resp.json()


def test_every_service_is_described(schema):
    paths = set(schema["paths"])
    for expected in (
        "/compute/v2.1/flavors/detail/",
        "/compute/v2.1/os-keypairs/{name}/",
        "/compute/v2.1/limits/",
        "/compute/v2.0/images/{image_id}/",
        "/image/v2/images/",
        "/network/v2.0/{collection}/",  # networks, subnets, ports, security groups, floating IPs
        "/identity/v3/auth/tokens",
    ):
        assert any(p.rstrip("/") == expected.rstrip("/") for p in paths), expected


def test_token_scheme_bodies_and_microversion_headers(schema):
    assert schema["components"]["securitySchemes"]["token"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Token",
        "description": schema["components"]["securitySchemes"]["token"]["description"],
    }
    post = next(
        op
        for p, ops in schema["paths"].items()
        if p.startswith("/compute/v2.1/os-keypairs")
        for m, op in ops.items()
        if m == "post"
    )
    assert post["requestBody"]["content"]["application/json"]["schema"]["type"] == "object"
    assert {"OpenStack-API-Version", "X-OpenStack-Nova-API-Version"} <= {p["name"] for p in post["parameters"]}
