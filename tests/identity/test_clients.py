"""Unmodified OpenStack clients log in against the running server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from logic import identity

pytestmark = pytest.mark.postgres

OPENSTACK_CLI = Path(sys.executable).parent / "openstack"


def run_openstack(env_vars: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    cli = str(OPENSTACK_CLI) if OPENSTACK_CLI.exists() else shutil.which("openstack")
    assert cli, "the openstack CLI (python-openstackclient) is not installed"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(env_vars)
    env["HOME"] = os.environ.get("HOME", "/tmp")
    return subprocess.run([cli, *args], env=env, capture_output=True, text=True, timeout=120)


def test_sdk_password_authorize(live_identity):
    conn = live_identity.connect(live_identity.member)
    token = conn.authorize()
    ctx = identity.authenticate(token)
    assert ctx.user == live_identity.member.user
    assert ctx.project == live_identity.project
    assert ctx.can_write
    # The catalog the SDK read points at this server.
    assert conn.session.get_endpoint(service_type="compute", interface="public") == live_identity.url + "/compute/v2.1"
    assert conn.session.get_endpoint(service_type="image", interface="public") == live_identity.url + "/image"
    assert conn.current_project_id == live_identity.project.id
    assert conn.current_user_id == live_identity.member.user.id


def test_sdk_token_authorize(live_identity):
    import openstack

    conn = openstack.connect(
        auth_type="token",
        auth_url=live_identity.auth_url,
        token=live_identity.member.token,
        project_name="demo",
        project_domain_name="Default",
        load_yaml_config=False,
        load_envvars=False,
    )
    token = conn.authorize()
    assert token != live_identity.member.token
    ctx = identity.authenticate(token)
    assert ctx.user == live_identity.member.user and ctx.project == live_identity.project
    assert sorted(ctx.token.methods) == ["password", "token"]


def test_keystoneauth_discovery_from_unversioned_url(live_identity):
    from keystoneauth1 import discover, session
    from keystoneauth1.identity import generic

    sess = session.Session()
    disc = discover.get_discovery(sess, live_identity.auth_url)
    versions = {tuple(v["version"]) for v in disc.version_data()}
    assert (3, 14) in versions and (2, 0) in versions
    assert disc.url_for((3, 0)) == live_identity.url + "/identity/v3/"

    auth = generic.Password(
        auth_url=live_identity.auth_url,
        username="demo-reader",
        password=live_identity.reader.password,
        project_name="demo",
        user_domain_name="Default",
        project_domain_name="Default",
    )
    sess = session.Session(auth=auth)
    assert sess.get_token()
    assert auth.get_access(sess).role_names == ["reader"]
    assert sess.get_endpoint(service_type="network", interface="public") == live_identity.url + "/network"
    # a service is in the catalog only once its API answers: the volume API does now
    assert sess.get_endpoint(service_type="volume", interface="public") == live_identity.url + "/volume/v3"


@pytest.mark.slow
@pytest.mark.parametrize("auth_path", ["/identity", "/identity/", "/identity/v3"])
def test_openstack_token_issue(live_identity, auth_path):
    env = live_identity.os_env(live_identity.member) | {"OS_AUTH_URL": live_identity.url + auth_path}
    result = run_openstack(env, "token", "issue", "-f", "json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["project_id"] == live_identity.project.id
    assert shown["user_id"] == live_identity.member.user.id
    assert identity.authenticate(shown["id"]).user == live_identity.member.user


@pytest.mark.slow
def test_openstack_project_list(live_identity):
    result = run_openstack(live_identity.os_env(live_identity.member), "project", "list", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert [(p["ID"], p["Name"]) for p in json.loads(result.stdout)] == [(live_identity.project.id, "demo")]

    result = run_openstack(live_identity.os_env(live_identity.admin), "project", "list", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert sorted(p["Name"] for p in json.loads(result.stdout)) == ["demo", "other"]

    result = run_openstack(live_identity.os_env(live_identity.member), "project", "list", "--my-projects", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert [p["Name"] for p in json.loads(result.stdout)] == ["demo"]


def test_openstack_cli_wrong_password_fails_cleanly(live_identity):
    env = live_identity.os_env(live_identity.member) | {"OS_PASSWORD": "wrong"}
    result = run_openstack(env, "token", "issue")
    assert result.returncode != 0
    assert "401" in result.stderr or "authentication" in result.stderr.lower()


def test_version_documents(live_identity):
    for path in ("/identity", "/identity/"):
        r = requests.get(live_identity.url + path, timeout=10)
        assert r.status_code == 300
        values = r.json()["versions"]["values"]
        assert [v["id"] for v in values] == ["v3.14", "v2.0"]
        assert values[0]["links"][0]["href"] == live_identity.url + "/identity/v3/"
    for path in ("/identity/v3", "/identity/v3/"):
        r = requests.get(live_identity.url + path, timeout=10)
        assert r.status_code == 200
        assert r.json()["version"]["media-types"][0]["type"] == "application/vnd.openstack.identity-v3+json"


def test_sdk_with_a_long_lived_api_token(live_identity):
    """A Synnefo-style API token (cyclades-manage token-issue) logs the SDK in through the token method."""
    import openstack

    from logic import accounts

    api_token, _ = accounts.issue_api_token(live_identity.member.user, live_identity.project)
    conn = openstack.connect(
        auth_type="v3token",
        auth_url=live_identity.auth_url + "/v3",
        token=api_token,
        project_id=live_identity.project.id,
        load_yaml_config=False,
        load_envvars=False,
    )
    session_token = conn.authorize()
    row = identity.authenticate(session_token).token
    assert row.kind == "session" and row.expires_at is not None  # a session token, with the normal lifetime
