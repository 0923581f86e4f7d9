"""Keystone v3 tokens over HTTP on the running server: issue, scope, validate, check, revoke, list projects."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests
from django.conf import settings

from logic import identity
from logic.models import Token
from tests.identity.helpers import assert_keystone_error, login, password_body, token_body

pytestmark = pytest.mark.postgres


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


def test_password_login_returns_the_full_keystone_token(live_identity):
    r = login(live_identity.url, password_body("demo", live_identity.member.password))
    assert r.status_code == 201, r.text
    secret = r.headers["X-Subject-Token"]
    token = r.json()["token"]
    assert token["methods"] == ["password"]
    assert token["user"] == {
        "id": live_identity.member.user.id,
        "name": "demo",
        "domain": {"id": "default", "name": "Default"},
        "password_expires_at": None,
    }
    assert token["project"] == {"id": live_identity.project.id, "name": "demo", "domain": {"id": "default", "name": "Default"}}
    assert [role["name"] for role in token["roles"]] == ["member", "reader"]
    assert all(len(role["id"]) == 32 for role in token["roles"])
    assert token["is_domain"] is False
    assert len(token["audit_ids"]) == 1
    lifetime = parse_time(token["expires_at"]) - parse_time(token["issued_at"])
    assert abs(lifetime - timedelta(seconds=settings.CYCLADES["TOKEN_LIFETIME"])) < timedelta(seconds=1)

    by_type = {svc["type"]: svc for svc in token["catalog"]}
    assert set(by_type) == {"identity", "compute", "image", "network", "volume"}
    expected = {
        "identity": "/identity",
        "compute": "/compute/v2.1",
        "image": "/image",
        "network": "/network",
        "volume": "/volume/v3",
    }
    for kind, path in expected.items():
        svc = by_type[kind]
        assert svc["id"] and svc["name"]
        (endpoint,) = svc["endpoints"]
        assert endpoint["url"] == live_identity.url + path
        assert endpoint["interface"] == "public" and endpoint["region_id"] == endpoint["region"] == "RegionOne"
        assert endpoint["id"]
    # The secret is never stored, only its digest.
    assert not Token.objects.filter(digest=secret).exists()
    assert identity.authenticate(secret).project == live_identity.project


def test_ids_in_the_catalog_are_stable(live_identity):
    first = login(live_identity.url, password_body("demo", live_identity.member.password)).json()["token"]["catalog"]
    second = login(live_identity.url, password_body("demo", live_identity.member.password)).json()["token"]["catalog"]
    assert first == second


def test_scope_by_project_id_and_by_user_id(live_identity):
    body = password_body("ignored", live_identity.reader.password, None, by_id=live_identity.reader.user.id)
    body["auth"]["scope"] = {"project": {"id": live_identity.project.id}}
    r = login(live_identity.url, body)
    assert r.status_code == 201, r.text
    assert r.json()["token"]["project"]["id"] == live_identity.project.id
    assert [role["name"] for role in r.json()["token"]["roles"]] == ["reader"]


def test_unscoped_login_has_no_project_roles_or_catalog(live_identity):
    r = login(live_identity.url, password_body("demo", live_identity.member.password, project=None))
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert "project" not in token and "catalog" not in token and "roles" not in token
    ctx = identity.authenticate(r.headers["X-Subject-Token"])
    assert ctx.project is None and not ctx.can_read


def test_nocatalog(live_identity):
    r = requests.post(
        live_identity.url + "/identity/v3/auth/tokens?nocatalog",
        json=password_body("demo", live_identity.member.password),
        timeout=10,
    )
    assert r.status_code == 201 and "catalog" not in r.json()["token"]


def test_admin_can_scope_to_any_project(live_identity):
    r = login(live_identity.url, password_body("cloud-admin", live_identity.admin.password, project="other"))
    assert r.status_code == 201, r.text
    assert [role["name"] for role in r.json()["token"]["roles"]] == ["admin", "member", "reader"]


def test_token_method_rescopes_and_keeps_the_expiry(live_identity):
    unscoped = login(live_identity.url, password_body("demo", live_identity.member.password, project=None))
    parent = unscoped.headers["X-Subject-Token"]
    r = login(live_identity.url, token_body(parent, live_identity.project.id))
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert token["methods"] == ["token", "password"]
    assert token["expires_at"] == unscoped.json()["token"]["expires_at"]
    assert token["project"]["id"] == live_identity.project.id


def test_validate_check_and_revoke(live_identity):
    member = live_identity.member
    subject = login(live_identity.url, password_body("demo", member.password)).headers["X-Subject-Token"]
    url = live_identity.url + "/identity/v3/auth/tokens"
    headers = {"X-Auth-Token": member.token, "X-Subject-Token": subject}

    r = requests.get(url, headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["X-Subject-Token"] == subject
    assert r.json()["token"]["project"]["id"] == live_identity.project.id
    assert requests.head(url, headers=headers, timeout=10).status_code == 200

    assert requests.delete(url, headers=headers, timeout=10).status_code == 204
    assert_keystone_error(requests.get(url, headers=headers, timeout=10), 404)
    assert requests.head(url, headers=headers, timeout=10).status_code == 404
    # The revoked token no longer opens anything.
    r = requests.get(live_identity.url + "/identity/v3/auth/projects", headers={"X-Auth-Token": subject}, timeout=10)
    assert "revoked" in assert_keystone_error(r, 401)


def test_validating_someone_elses_token(live_identity):
    url = live_identity.url + "/identity/v3/auth/tokens"
    other = {"X-Subject-Token": live_identity.other.token}
    r = requests.get(url, headers={"X-Auth-Token": live_identity.member.token, **other}, timeout=10)
    assert_keystone_error(r, 403)
    r = requests.delete(url, headers={"X-Auth-Token": live_identity.member.token, **other}, timeout=10)
    assert_keystone_error(r, 403)
    assert identity.authenticate(live_identity.other.token)  # not revoked
    r = requests.get(url, headers={"X-Auth-Token": live_identity.admin.token, **other}, timeout=10)
    assert r.status_code == 200 and r.json()["token"]["user"]["name"] == "other"


def test_validate_needs_both_tokens(live_identity):
    url = live_identity.url + "/identity/v3/auth/tokens"
    assert_keystone_error(requests.get(url, headers={"X-Subject-Token": live_identity.member.token}, timeout=10), 401)
    assert_keystone_error(requests.get(url, headers={"X-Auth-Token": live_identity.member.token}, timeout=10), 400)


def test_project_listings(live_identity):
    base = live_identity.url + "/identity/v3"
    member, admin = live_identity.member, live_identity.admin
    r = requests.get(base + "/auth/projects", headers=member.headers, timeout=10)
    assert r.status_code == 200
    assert [p["id"] for p in r.json()["projects"]] == [live_identity.project.id]
    assert r.json()["projects"][0]["domain_id"] == "default"

    r = requests.get(f"{base}/users/{member.user.id}/projects", headers=member.headers, timeout=10)
    assert [p["name"] for p in r.json()["projects"]] == ["demo"]
    assert_keystone_error(
        requests.get(f"{base}/users/{live_identity.other.user.id}/projects", headers=member.headers, timeout=10), 403
    )
    r = requests.get(f"{base}/users/{live_identity.other.user.id}/projects", headers=admin.headers, timeout=10)
    assert [p["name"] for p in r.json()["projects"]] == ["other"]
    assert_keystone_error(requests.get(f"{base}/users/nosuchuser/projects", headers=admin.headers, timeout=10), 404)

    assert_keystone_error(
        requests.get(f"{base}/projects/{live_identity.other_project.id}", headers=member.headers, timeout=10), 404
    )
    r = requests.get(f"{base}/projects?name=other", headers=admin.headers, timeout=10)
    assert [p["id"] for p in r.json()["projects"]] == [live_identity.other_project.id]


def test_catalog_follows_public_url(live_identity, monkeypatch):
    monkeypatch.setitem(settings.CYCLADES, "PUBLIC_URL", "https://cloud.example.org/api/")
    monkeypatch.setitem(settings.CYCLADES, "REGION", "athens")
    token = login(live_identity.url, password_body("demo", live_identity.member.password)).json()["token"]
    urls = {svc["type"]: svc["endpoints"][0] for svc in token["catalog"]}
    assert urls["compute"]["url"] == "https://cloud.example.org/api/compute/v2.1"
    assert urls["compute"]["region_id"] == "athens"
    versions = requests.get(live_identity.url + "/identity", timeout=10).json()["versions"]["values"]
    assert versions[0]["links"][0]["href"] == "https://cloud.example.org/api/identity/v3/"
