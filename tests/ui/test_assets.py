"""The UI's page and static files over HTTP (no browser): headers, caching, what is reachable."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from ui import assets


@pytest.fixture
def client() -> Client:
    return Client()


def test_page_names_versioned_assets_and_a_strict_content_security_policy(client):
    r = client.get("/")
    assert r.status_code == 200
    html = r.content.decode()
    policy = r["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert r["Cache-Control"] == "no-cache"
    scripts = re.findall(r'<script src="/ui/static/([^"?]+)\?v=([0-9a-f]{12})"', html)
    names = [name for name, _ in scripts]
    assert names[0] == "vendor/jquery.min.js" and names[-1] == "js/app.js"
    for name, digest in scripts:
        assert assets.assets()[name].digest == digest
    assert "<script>" not in html  # no inline script: the configuration is JSON data
    assert 'type="application/json"' in html
    assert client.get("/ui").status_code == 200  # the catalog's SNF:uiURL


def test_jquery_is_the_pinned_release_from_npm():
    body = assets.assets()["vendor/jquery.min.js"].body[:200].decode()
    assert "jQuery v3.7.1" in body


def test_static_files_are_cached_by_hash_and_revalidated_by_etag(client):
    digest = assets.assets()["js/api.js"].digest
    r = client.get(f"/ui/static/js/api.js?v={digest}")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/javascript")
    assert "immutable" in r["Cache-Control"]
    assert r["X-Content-Type-Options"] == "nosniff"
    again = client.get("/ui/static/js/api.js", headers={"If-None-Match": r["ETag"]})
    assert again.status_code == 304
    assert again["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("name", ["js/missing.js", "../views.py", "..%2Fviews.py", "vendor/.built-x", "/etc/passwd"])
def test_only_files_of_the_static_folder_are_served(client, name):
    assert client.get(f"/ui/static/{name}").status_code == 404


def test_writes_are_refused(client):
    assert client.post("/ui/static/js/api.js").status_code == 405
    assert client.post("/").status_code == 405


def test_every_string_key_used_by_the_scripts_exists():
    """English strings live in strings.js; a key used elsewhere but missing there would show as a key."""
    files = assets.assets()
    strings = files["js/strings.js"].body.decode()
    defined = set(re.findall(r'^\s*"([\w.]+)":', strings, re.M))
    prefixes = {key.split(".")[0] for key in defined}
    used = set()
    for name, asset in files.items():
        if name.startswith("js/") and name != "js/strings.js":
            literals = re.findall(r'"([a-z]+\.[A-Za-z0-9]+)"', asset.body.decode())
            used |= {key for key in literals if key.split(".")[0] in prefixes}
    assert used, "no t() calls found"
    assert sorted(used - defined) == []
