"""Refusals: the right 401/403 in the right envelope, never a 500, nothing created."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from logic import identity
from logic.models import Membership, Project, Token, User
from tests.identity.helpers import assert_keystone_error, login, password_body, token_body

pytestmark = pytest.mark.postgres


@pytest.fixture
def counts():
    """Rows of every identity table, to show a refusal changed nothing."""

    def snapshot():
        return {m.__name__: m.objects.count() for m in (Token, User, Project, Membership)}

    return snapshot


def test_wrong_password_and_unknown_user_look_the_same(live_identity, counts):
    before = counts()
    wrong = assert_keystone_error(login(live_identity.url, password_body("demo", "not-the-password")), 401)
    unknown = assert_keystone_error(login(live_identity.url, password_body("nobody", "whatever")), 401)
    assert wrong == unknown
    r = login(live_identity.url, password_body("demo", "x"))
    assert r.headers["WWW-Authenticate"].startswith("Keystone uri=")
    assert "X-Subject-Token" not in r.headers
    assert counts() == before


def test_disabled_user(live_identity, counts):
    member = live_identity.member
    User.objects.filter(pk=member.user.pk).update(enabled=False)
    before = counts()
    assert "disabled" in assert_keystone_error(login(live_identity.url, password_body("demo", member.password)), 401)
    assert_keystone_error(login(live_identity.url, token_body(member.token)), 401)
    r = requests.get(live_identity.url + "/identity/v3/auth/projects", headers=member.headers, timeout=10)
    assert_keystone_error(r, 401)
    assert counts() == before


def test_expired_token(live_identity, counts):
    member = live_identity.member
    Token.objects.filter(digest=identity.digest(member.token)).update(expires_at=timezone.now() - timedelta(seconds=1))
    before = counts()
    assert "expired" in assert_keystone_error(login(live_identity.url, token_body(member.token)), 401)
    r = requests.get(live_identity.url + "/identity/v3/auth/projects", headers=member.headers, timeout=10)
    assert "expired" in assert_keystone_error(r, 401)
    r = requests.post(live_identity.url + "/identity/v2.0/tokens", json={"auth": {"token": {"id": member.token}}}, timeout=10)
    assert_keystone_error(r, 401)
    assert counts() == before


def test_revoked_token(live_identity, counts):
    member = live_identity.member
    identity.revoke(member.token)
    before = counts()
    assert "revoked" in assert_keystone_error(login(live_identity.url, token_body(member.token)), 401)
    r = requests.get(live_identity.url + "/identity/v3/auth/projects", headers=member.headers, timeout=10)
    assert_keystone_error(r, 401)
    assert counts() == before


def test_scoping_to_another_project(live_identity, counts):
    member, other = live_identity.member, live_identity.other_project
    before = counts()
    assert_keystone_error(login(live_identity.url, token_body(member.token, other.id)), 401)
    assert_keystone_error(login(live_identity.url, password_body("demo", member.password, project="other")), 401)
    assert_keystone_error(login(live_identity.url, password_body("demo", member.password, project="no-such")), 401)
    Project.objects.filter(pk=live_identity.project.pk).update(enabled=False)
    assert_keystone_error(login(live_identity.url, password_body("demo", member.password)), 401)
    assert counts() == before


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        [],
        {},
        {"auth": {}},
        {"auth": {"identity": {"methods": "password"}}},
        {"auth": {"identity": {"methods": ["password"]}}},
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo"}}}}},
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "password": 5}}}}},
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {"password": "x"}}}}},
        {"auth": {"identity": {"methods": ["token"], "token": {}}}},
        {"auth": {"identity": {"methods": ["token"], "token": {"id": "t"}}, "scope": {"domain": {"id": "default"}}}},
        {"auth": {"identity": {"methods": ["token"], "token": {"id": "t"}}, "scope": {"project": {"domain": {"id": "x"}}}}},
    ],
)
def test_malformed_login_is_a_400(live_identity, counts, body):
    before = counts()
    if isinstance(body, str):
        r = requests.post(
            live_identity.url + "/identity/v3/auth/tokens", data=body, headers={"Content-Type": "application/json"}, timeout=10
        )
    else:
        r = login(live_identity.url, body)
    assert_keystone_error(r, 400)
    assert counts() == before


def test_unsupported_method_is_a_401(live_identity):
    body = {"auth": {"identity": {"methods": ["totp"], "totp": {}}}}
    assert_keystone_error(login(live_identity.url, body), 401)


@pytest.mark.urls("tests.identity.probe_urls")
def test_roles_through_api_auth(live_identity):
    """What every other API gets from api.auth: reader reads only, member writes, admin acts everywhere."""
    probe = live_identity.url + "/probe"
    reader, member, admin, other = live_identity.reader, live_identity.member, live_identity.admin, live_identity.other

    assert requests.get(probe, headers=reader.headers, timeout=10).json() == {"project": live_identity.project.id}
    r = requests.post(probe, headers=reader.headers, json={}, timeout=10)
    assert r.status_code == 403 and r.json()["forbidden"]["code"] == 403
    assert requests.post(probe, headers=member.headers, json={}, timeout=10).status_code == 201
    r = requests.delete(probe, headers=member.headers, timeout=10)
    assert r.status_code == 403 and set(r.json()) == {"forbidden"}
    assert requests.delete(probe, headers=admin.headers, timeout=10).status_code == 204
    assert requests.get(probe, headers=other.headers, timeout=10).json() == {"project": live_identity.other_project.id}

    r = requests.get(probe, timeout=10)
    assert r.status_code == 401 and r.json()["unauthorized"]["code"] == 401
    r = requests.get(probe, headers={"X-Auth-Token": "garbage"}, timeout=10)
    assert r.status_code == 401 and set(r.json()) == {"unauthorized"}

    # An unscoped token holds no role in any project: it may not read.
    unscoped = login(live_identity.url, password_body("demo", member.password, project=None)).headers["X-Subject-Token"]
    r = requests.get(probe, headers={"X-Auth-Token": unscoped}, timeout=10)
    assert r.status_code == 403

    # Removing the membership takes effect on the next request, with the same token.
    Membership.objects.filter(user=member.user).delete()
    assert requests.get(probe, headers=member.headers, timeout=10).status_code == 403
