"""``openstack server image create`` on the real Ganeti sandbox: the server's disk becomes a new image.

The whole stack (gunicorn API, eventd, dispatcher) with our OS definition installed.
A server is booted from an uploaded image (flavor 1: a 1 GiB ``file`` disk); the
unmodified CLI snapshots it; Ganeti's backup export runs our ``export`` script, which
streams the disk to the API with a one-time upload grant. The new image's bytes are
compared with the instance's disk file, and a server booted from the snapshot gets
them on its own disk.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from tests.image.test_image_deploy_e2e import FILE_STORAGE, QUEUE, cli, installed, upload  # noqa: F401 - fixtures

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(1500)]


def disk_file(instance: str) -> Path:
    files = [p for p in (FILE_STORAGE / instance).iterdir() if p.is_file()]
    assert len(files) == 1, files
    return files[0]


def hashes(path: Path) -> tuple[str, str, int]:
    md5, sha = hashlib.md5(), hashlib.sha512()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            md5.update(chunk)
            sha.update(chunk)
            size += len(chunk)
    return md5.hexdigest(), sha.hexdigest(), size


def wait_active(run, server_id: str) -> dict:
    deadline = time.monotonic() + 300
    while (shown := run("server", "show", server_id, "-f", "json"))["status"] != "ACTIVE" or shown.get("OS-EXT-STS:task_state"):
        assert shown["status"] not in ("ERROR", "DELETED") and time.monotonic() < deadline, shown["status"]
        time.sleep(1)
    return shown


def test_server_image_create_takes_the_disk_into_a_new_image(cli, installed, tmp_path):  # noqa: F811
    base, data = upload(cli, tmp_path, f"snap-base-{time.time_ns()}", 2 * 1024 * 1024 + 5)
    server = cli("server", "create", "--image", base["id"], "--flavor", "1", "--network", "private", "--wait",
                 f"snap{time.time_ns() % 10**8}", "-f", "json")  # fmt: skip
    instance = f"{installed.facts['prefix']}-{server['id']}"
    servers = [server["id"]]
    images = [base["id"]]
    try:
        name = f"snap-of-{server['id']}"
        snap = cli("--os-compute-api-version", "2.45", "server", "image", "create", "--name", name, "--wait", server["id"],
                   "-f", "json")  # fmt: skip
        images.append(snap["id"])
        assert snap["status"] == "active", snap
        shown = cli("image", "show", snap["id"], "-f", "json")
        md5, sha, size = hashes(disk_file(instance))
        assert shown["size"] == size == 1024**3
        assert shown["checksum"] == md5
        assert shown["properties"]["os_hash_algo"] == "sha512" and shown["properties"]["os_hash_value"] == sha
        assert shown["properties"]["image_type"] == "snapshot" and shown["properties"]["instance_uuid"] == server["id"]
        assert shown["visibility"] == "private" and shown["min_disk"] == 1
        stored = installed.workdir / "data" / "images" / snap["id"]
        assert hashes(stored)[1] == sha
        with open(stored, "rb") as f:
            assert f.read(len(data)) == data  # the base image's bytes, as deployed, are the snapshot's start
        assert wait_active(cli, server["id"])["status"] == "ACTIVE"  # the export restarted the instance

        # the upload grant was one-time: spent, it is a 409 (the export script then makes a plain backup)
        jobs = [json.loads(p.read_text()) for p in QUEUE.glob("job-*") if instance in p.read_text()]
        ops = [op["input"] for job in jobs for op in job["ops"]]
        assert any(op["OP_ID"] == "OP_BACKUP_EXPORT" for op in ops)
        grant = next(op["osparams"]["img_upload"] for op in ops if "img_upload" in op.get("osparams", {}))
        import hmac

        key = Path("/etc/cyclades/image-fetch.key").read_text().strip()
        signed = hmac.new(key.encode(), grant.encode(), hashlib.sha256).hexdigest()
        import requests

        url = f"{installed.url}/image/upload/{grant}"
        assert requests.head(url, headers={"X-Cyclades-Grant-Signature": signed}, timeout=30).status_code == 409
        assert requests.head(url, headers={"X-Cyclades-Grant-Signature": "0" * 64}, timeout=30).status_code == 403
        again = requests.put(url, data=b"x", timeout=30, headers={"X-Cyclades-Grant-Signature": signed})
        assert again.status_code == 409
        assert cli("image", "show", snap["id"], "-f", "json")["checksum"] == md5

        # a server booted from the snapshot gets its bytes
        clone = cli("server", "create", "--image", snap["id"], "--flavor", "1", "--network", "private", "--wait",
                    f"clone{time.time_ns() % 10**8}", "-f", "json")  # fmt: skip
        servers.append(clone["id"])
        assert clone["status"] == "ACTIVE"
        assert hashes(disk_file(f"{installed.facts['prefix']}-{clone['id']}"))[1] == sha
    finally:
        for sid in servers:
            cli("server", "delete", "--wait", sid, check=False)
        for image in images:
            cli("image", "delete", image, check=False)


def test_a_server_of_another_os_definition_is_snapshotted_through_ours(cli, installed):  # noqa: F811
    """A server deployed by the registered ``noop`` image: the snapshot switches it to our OS definition first."""
    server = cli("server", "create", "--image", installed.facts["images"][0], "--flavor", "1", "--network", "private",
                 "--wait", f"snapnoop{time.time_ns() % 10**8}", "-f", "json")  # fmt: skip
    instance = f"{installed.facts['prefix']}-{server['id']}"
    image = None
    try:
        cli("server", "stop", server["id"])
        deadline = time.monotonic() + 120
        while cli("server", "show", server["id"], "-f", "json")["status"] != "SHUTOFF":
            assert time.monotonic() < deadline
            time.sleep(1)
        image = cli("server", "image", "create", "--name", f"noop-snap-{server['id']}", "--wait", server["id"], "-f", "json")
        assert image["status"] == "active"
        md5, sha, size = hashes(disk_file(instance))
        assert (image["checksum"], image["size"]) == (md5, size)
        assert cli("server", "show", server["id"], "-f", "json")["status"] == "SHUTOFF"  # a stopped server stays stopped
    finally:
        cli("server", "delete", "--wait", server["id"], check=False)
        if image:
            cli("image", "delete", image["id"], check=False)
