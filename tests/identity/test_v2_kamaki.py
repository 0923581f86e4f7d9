"""Keystone v2.0 / Astakos tokens as kamaki 0.16 + astakosclient 0.19 send and read them (HTTP level).

kamaki is Python 2 only, so its requests are reproduced here: every kamaki command
first POSTs ``{"auth": {"token": {"id": T}}}`` to ``<cloud.url>/tokens`` and then
reads ``access.token``, ``access.user`` and picks services from
``access.serviceCatalog`` by type (exactly one endpoint each), appending its
default version to a publicURL that has none; astakosclient additionally needs
the entry named ``astakos_account`` with a ``v1.0`` endpoint.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import requests

from logic import identity
from logic.models import Token
from tests import services
from tests.identity.helpers import assert_keystone_error

pytestmark = pytest.mark.postgres

# kamaki/clients: the version a client appends when the publicURL has none.
KAMAKI_DEFAULT_VERSION = {"compute": "v2.0", "network": "v2.0", "image": "v1.0", "identity": "v2.0"}


def v2_tokens(live, body=None, **kwargs) -> requests.Response:
    return requests.post(live.url + "/identity/v2.0/tokens", json=body, timeout=10, **kwargs)


def kamaki_service_url(catalog: list[dict], service_type: str) -> str:
    """What kamaki computes for a service type (one entry, one endpoint, version appended if missing)."""
    (entry,) = [e for e in catalog if e["type"] == service_type]
    (endpoint,) = entry["endpoints"]
    url = endpoint["publicURL"]
    if not re.search(r"/v\d+(\.\d+)?$", url):
        url = url.rstrip("/") + "/" + KAMAKI_DEFAULT_VERSION[service_type]
    return url


def assert_astakos_account_entry(catalog: list[dict]) -> None:
    """astakosclient ``_fill_endpoints``: the entry NAMED astakos_account with a v1.0 endpoint."""
    (entry,) = [e for e in catalog if e["name"] == "astakos_account"]
    assert entry["type"] == "account"
    (endpoint,) = [ep for ep in entry["endpoints"] if ep["versionId"] == "v1.0"]
    assert endpoint["publicURL"] and endpoint["SNF:uiURL"]


def test_kamaki_token_request(live_identity):
    member = live_identity.member
    r = v2_tokens(live_identity, {"auth": {"token": {"id": member.token}}})
    assert r.status_code == 200, r.text
    access = r.json()["access"]
    assert access["token"]["id"] == member.token
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", access["token"]["expires"])
    assert access["token"]["tenant"] == {"id": live_identity.project.id, "name": "demo"}
    user = access["user"]
    assert user["id"] == member.user.id and user["name"] == "demo"
    assert [role["name"] for role in user["roles"]] == ["member", "reader"]
    assert user["roles_links"] == []
    assert user["projects"] == [live_identity.project.id]

    catalog = access["serviceCatalog"]
    assert_astakos_account_entry(catalog)
    for entry in catalog:
        assert entry["endpoints_links"] == []
        for endpoint in entry["endpoints"]:
            assert {"region", "versionId", "publicURL", "SNF:uiURL"} <= set(endpoint)
    base = live_identity.url
    assert kamaki_service_url(catalog, "compute") == base + "/compute/v2.0"
    assert kamaki_service_url(catalog, "network") == base + "/network/v2.0"
    assert kamaki_service_url(catalog, "image") == base + "/image/v1.0"
    assert kamaki_service_url(catalog, "identity") == base + "/identity/v2.0"
    # The same token comes back: nothing new was issued.
    assert Token.objects.count() == 4


def test_astakos_password_credentials_with_user_id_and_token(live_identity):
    member = live_identity.member
    body = {"auth": {"passwordCredentials": {"username": member.user.id, "password": member.token}}}
    r = v2_tokens(live_identity, body)
    assert r.status_code == 200, r.text
    assert r.json()["access"]["token"]["id"] == member.token


def test_keystone_v2_password_credentials_with_tenant(live_identity):
    member = live_identity.member
    body = {"auth": {"passwordCredentials": {"username": "demo", "password": member.password}, "tenantName": "demo"}}
    r = v2_tokens(live_identity, body)
    assert r.status_code == 200, r.text
    access = r.json()["access"]
    assert access["token"]["id"] != member.token
    assert access["token"]["tenant"]["id"] == live_identity.project.id
    assert identity.authenticate(access["token"]["id"]).project == live_identity.project


def test_token_with_another_tenant_issues_a_scoped_token(live_identity):
    admin = live_identity.admin
    body = {"auth": {"token": {"id": admin.token}, "tenantId": live_identity.other_project.id}}
    r = v2_tokens(live_identity, body)
    assert r.status_code == 200, r.text
    token = r.json()["access"]["token"]
    assert token["id"] != admin.token and token["tenant"]["id"] == live_identity.other_project.id


def test_empty_request_returns_the_public_catalog(live_identity):
    r = requests.post(live_identity.url + "/identity/v2.0/tokens", timeout=10)
    assert r.status_code == 200, r.text
    access = r.json()["access"]
    assert set(access) == {"serviceCatalog"}
    assert_astakos_account_entry(access["serviceCatalog"])


def test_v2_errors_use_the_keystone_envelope(live_identity):
    assert_keystone_error(v2_tokens(live_identity, {"auth": {"token": {"id": "not-a-token"}}}), 401)
    body = {"auth": {"passwordCredentials": {"username": "demo", "password": "wrong"}}}
    assert_keystone_error(v2_tokens(live_identity, body), 401)
    body = {"auth": {"token": {"id": live_identity.member.token}, "tenantId": live_identity.other_project.id}}
    assert_keystone_error(v2_tokens(live_identity, body), 401)
    assert_keystone_error(v2_tokens(live_identity, {"auth": {"apiKeyCredentials": {}}}), 400)
    assert_keystone_error(v2_tokens(live_identity, {"auth": {"token": {"id": 7}}}), 400)
    assert_keystone_error(v2_tokens(live_identity, {"auth": "token"}), 400)
    assert Token.objects.count() == 4


def test_v2_version_document(live_identity):
    for path in ("/identity/v2.0", "/identity/v2.0/"):
        r = requests.get(live_identity.url + path, timeout=10)
        assert r.status_code == 200 and r.json()["version"]["id"] == "v2.0"


# The real kamaki (Python 2.7 only): scripts/kamaki.sh installs it (pip install --target
# var/kamaki-py2 kamaki==0.16 astakosclient==0.19 with a CPython 2.7). Elsewhere: the directory in
# CYCLADES_TEST_KAMAKI_DIR, the interpreter in CYCLADES_TEST_PYTHON2. Skipped locally without
# them, a failure in CI (CYCLADES_REQUIRE_SERVICES=1).
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KAMAKI_DIR = os.environ.get("CYCLADES_TEST_KAMAKI_DIR", os.path.join(ROOT, "var", "kamaki-py2"))
PYTHON2 = os.environ.get("CYCLADES_TEST_PYTHON2", os.path.expanduser("~/.pyenv/versions/2.7.18/bin/python"))


def run_kamaki(tmp_path, url: str, token: str, *args: str) -> subprocess.CompletedProcess:
    config = tmp_path / "kamakirc"
    config.write_text(f'[global]\ndefault_cloud = dev\n\n[cloud "dev"]\nurl = {url}\ntoken = {token}\n')
    env = {"PYTHONPATH": KAMAKI_DIR, "HOME": str(tmp_path), "PATH": os.environ.get("PATH", "")}
    command = [PYTHON2, os.path.join(KAMAKI_DIR, "bin", "kamaki"), "-c", str(config), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_real_kamaki_user_info(live_identity, tmp_path):
    if not (os.path.isfile(os.path.join(KAMAKI_DIR, "bin", "kamaki")) and os.path.isfile(PYTHON2)):
        services.missing("kamaki 0.16 (Python 2.7)", f"no {KAMAKI_DIR}/bin/kamaki or no {PYTHON2}; run scripts/kamaki.sh")
    member = live_identity.member
    result = run_kamaki(tmp_path, live_identity.url + "/identity/v2.0", member.token, "user", "info")
    assert result.returncode == 0, result.stdout + result.stderr
    assert member.user.id in result.stdout and "demo" in result.stdout

    result = run_kamaki(tmp_path, live_identity.url + "/identity/v2.0", "not-a-token", "user", "info")
    assert result.returncode != 0
