"""The unmodified ``openstack`` CLI (and raw HTTP through gunicorn) against the image API of the running stack.

Uses the session's core loop (:mod:`tests.fixtures_loop`): the API under gunicorn on
PostgreSQL, with the default file store in the stack's data directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(900)]

OPENSTACK = str(Path(sys.executable).parent / "openstack")


@pytest.fixture(scope="module")
def cli(core_loop):
    """``cli(*args, user=...)``: ``openstack <args>`` as demo1 (or ``user``); JSON parsed for ``-f json``."""

    def run(*args: str, user: str = "demo1", check: bool = True):
        env = {"PATH": os.environ["PATH"], "HOME": str(core_loop.workdir), **core_loop.os_env(user, user)}
        proc = subprocess.run([OPENSTACK, *args], env=env, capture_output=True, text=True, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        if "-f" in args and args[args.index("-f") + 1] == "json" and proc.returncode == 0:
            return json.loads(proc.stdout)
        return proc

    return run


@pytest.fixture(scope="module")
def image_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("img") / "disk.raw"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    return path


def test_create_list_show_save_set_delete(cli, image_file, tmp_path, core_loop):
    data = image_file.read_bytes()
    name = f"cli-img-{os.getpid()}"
    created = cli("image", "create", "--file", str(image_file), "--disk-format", "raw", "--container-format", "bare",
                  "--min-disk", "1", name, "-f", "json")  # fmt: skip
    assert created["status"] == "active" and created["size"] == len(data)
    assert created["checksum"] == hashlib.md5(data).hexdigest()
    assert created["properties"]["os_hash_value"] == hashlib.sha512(data).hexdigest()
    stored = core_loop.workdir / "data" / "images" / created["id"]
    assert stored.read_bytes() == data

    assert name in [i["Name"] for i in cli("image", "list", "-f", "json")]
    assert cli("image", "show", name, "-f", "json")["id"] == created["id"]

    out = tmp_path / "saved.raw"
    cli("image", "save", "--file", str(out), name)  # the SDK checks the sha512 while downloading
    assert out.read_bytes() == data

    cli("image", "set", "--property", "os_distro=debian", "--tag", "blue", "--min-ram", "64", "--name", name + "-b", name)
    shown = cli("image", "show", name + "-b", "-f", "json")
    assert shown["properties"]["os_distro"] == "debian" and shown["tags"] == ["blue"] and shown["min_ram"] == 64

    cli("image", "set", "--protected", name + "-b")
    refused = cli("image", "delete", name + "-b", check=False)
    assert refused.returncode != 0 and "protected" in refused.stderr
    cli("image", "set", "--unprotected", name + "-b")
    cli("image", "delete", name + "-b")
    assert name + "-b" not in [i["Name"] for i in cli("image", "list", "-f", "json")]
    assert not stored.exists()


def test_share_with_another_project(cli, image_file, core_loop):
    alt = next(a for a in core_loop.facts["accounts"] if a["username"] == "alt1")
    alt_project = cli("token", "issue", "-f", "json", user=alt["username"])["project_id"]
    image = cli("image", "create", "--file", str(image_file), "--disk-format", "raw", "--shared", f"sh-{os.getpid()}",
                "-f", "json")  # fmt: skip
    cli("image", "add", "project", image["id"], alt_project)
    assert cli("image", "member", "list", image["id"], "-f", "json")[0]["Status"] == "pending"
    assert image["id"] not in [i["ID"] for i in cli("image", "list", "-f", "json", user="alt1")]
    cli("image", "set", "--accept", image["id"], user="alt1")
    assert image["id"] in [i["ID"] for i in cli("image", "list", "-f", "json", user="alt1")]
    cli("image", "remove", "project", image["id"], alt_project)
    assert image["id"] not in [i["ID"] for i in cli("image", "list", "-f", "json", user="alt1")]
    cli("image", "delete", image["id"])


def test_bad_input_through_the_cli(cli, image_file, core_loop):
    before = cli("image", "list", "-f", "json")
    image = cli("image", "create", "--file", str(image_file), "--disk-format", "raw", f"once-{os.getpid()}", "-f", "json")
    # A second upload to an active image: 409, data unchanged.
    client = _http(core_loop)
    resp = client.put(f"{core_loop.url}/image/v2/images/{image['id']}/file", data=b"other",
                      headers={"Content-Type": "application/octet-stream"}, timeout=30)  # fmt: skip
    assert resp.status_code == 409
    assert client.get(f"{core_loop.url}/image/v2/images/{image['id']}", timeout=30).json()["checksum"] == image["checksum"]
    # Another project's private image: 404 for show and download.
    cli("image", "set", "--private", image["id"])
    alt = _http(core_loop, "alt1")
    assert alt.get(f"{core_loop.url}/image/v2/images/{image['id']}/file", timeout=30).status_code == 404
    resp = client.post(f"{core_loop.url}/image/v2/images", json={"name": "x", "disk_format": "floppy"}, timeout=30)
    assert resp.status_code == 400
    cli("image", "delete", image["id"])
    assert [i["ID"] for i in cli("image", "list", "-f", "json")] == [i["ID"] for i in before]


def _http(core_loop, username: str = "demo1") -> requests.Session:
    resp = requests.post(
        f"{core_loop.auth_url}/v3/auth/tokens",
        json={"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": username, "domain": {"name": "Default"}, "password": core_loop.facts["password"]}}},
            "scope": {"project": {"name": username, "domain": {"name": "Default"}}}}},
        timeout=30,
    )  # fmt: skip
    resp.raise_for_status()
    session = requests.Session()
    session.headers["X-Auth-Token"] = resp.headers["X-Subject-Token"]
    return session


def test_chunked_upload_and_range_through_gunicorn(core_loop):
    client = _http(core_loop)
    base = f"{core_loop.url}/image/v2/images"
    image = client.post(base, json={"name": "chunked", "disk_format": "raw", "container_format": "bare"}, timeout=30).json()
    pieces = [os.urandom(100_000) for _ in range(7)]
    resp = client.put(f"{base}/{image['id']}/file", data=iter(pieces), headers={"Content-Type": "application/octet-stream"},
                      timeout=60)  # a generator body: Transfer-Encoding: chunked  # fmt: skip
    assert resp.status_code == 204, resp.text
    data = b"".join(pieces)
    shown = client.get(f"{base}/{image['id']}", timeout=30).json()
    assert shown["size"] == len(data) and shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    part = client.get(f"{base}/{image['id']}/file", headers={"Range": "bytes=123456-234566"}, timeout=30)
    assert part.status_code == 206 and part.content == data[123456:234567]
    client.delete(f"{base}/{image['id']}", timeout=30)


def test_upload_cut_off_mid_stream_leaves_nothing(core_loop):
    client = _http(core_loop)
    base = f"{core_loop.url}/image/v2/images"
    image = client.post(base, json={"name": "cut", "disk_format": "raw", "container_format": "bare"}, timeout=30).json()
    url = urlsplit(core_loop.url)
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        head = (f"PUT /image/v2/images/{image['id']}/file HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"X-Auth-Token: {client.headers['X-Auth-Token']}\r\nContent-Type: application/octet-stream\r\n"
                f"Content-Length: {50 * 1024 * 1024}\r\n\r\n")  # fmt: skip
        sock.sendall(head.encode())
        for _ in range(20):
            sock.sendall(os.urandom(256 * 1024))  # 5 MiB of the announced 50
        assert _wait_status(client, f"{base}/{image['id']}", "saving")["status"] == "saving"  # it was streaming
    store = core_loop.workdir / "data" / "images"
    shown = _wait_status(client, f"{base}/{image['id']}", "queued")
    assert shown["status"] == "queued" and shown["size"] is None and shown["checksum"] is None
    assert not list(store.glob(f"{image['id']}*"))
    client.delete(f"{base}/{image['id']}", timeout=30)


def _wait_status(client: requests.Session, url: str, status: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        shown = client.get(url, timeout=30).json()
        if shown["status"] == status or time.monotonic() > deadline:
            return shown
        time.sleep(0.2)
