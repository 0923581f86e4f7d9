"""An uploaded image deployed onto a real Ganeti instance's disk by our OS definition, and rebuilt.

The whole stack (gunicorn API, eventd, dispatcher) on the real Ganeti sandbox; flavor 1
has a 1 GiB ``file`` disk. ``cyclades-image`` (conf/ganeti-os) is installed with
``cyclades-manage ganeti-os-install``; the instance's OS script fetches the image with a
one-time grant from the API (on the root side of the sandbox's veth) and writes it onto
the disk. The test reads the disk file and compares it with the image.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(1200)]

BIN = Path(sys.executable).parent
FILE_STORAGE = Path("/srv/ganeti/file-storage")
QUEUE = Path("/var/lib/ganeti/queue")


@pytest.fixture(scope="module")
def installed(core_loop):
    proc = subprocess.run([str(BIN / "cyclades-manage"), "ganeti-os-install"], env=core_loop.env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return core_loop


@pytest.fixture(scope="module")
def cli(installed):
    env = {"PATH": os.environ["PATH"], "HOME": str(installed.workdir), **installed.os_env("demo1", "demo1")}

    def run(*args: str, check: bool = True):
        proc = subprocess.run([str(BIN / "openstack"), *args], env=env, capture_output=True, text=True, timeout=600)
        if check and proc.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return _json(proc.stdout) if "-f" in args and proc.returncode == 0 else proc

    return run


def _json(text: str):
    """The JSON document of the output (``--wait`` prints progress lines before it)."""
    starts = [i for i, line in enumerate(text.splitlines()) if line.startswith(("{", "["))]
    return json.loads("\n".join(text.splitlines()[starts[0] :]))


def upload(cli, tmp_path: Path, name: str, size: int) -> tuple[dict, bytes]:
    data = os.urandom(size)
    path = tmp_path / f"{name}.raw"
    path.write_bytes(data)
    return cli("image", "create", "--file", str(path), "--disk-format", "raw", name, "-f", "json"), data


def disk_bytes(instance: str, length: int) -> bytes:
    """The first ``length`` bytes of the instance's (only) file disk."""
    files = [p for p in (FILE_STORAGE / instance).iterdir() if p.is_file()]
    assert len(files) == 1, files
    with open(files[0], "rb") as f:
        return f.read(length)


def test_boot_writes_the_image_and_rebuild_writes_the_new_one(cli, installed, tmp_path):
    first, data1 = upload(cli, tmp_path, f"deploy-a-{os.getpid()}", 3 * 1024 * 1024 + 11)
    second, data2 = upload(cli, tmp_path, f"deploy-b-{os.getpid()}", 2 * 1024 * 1024 + 7)
    name = f"dep{os.getpid()}"
    server = cli("server", "create", "--image", first["id"], "--flavor", "1", "--network", "private", "--wait", name,
                 "-f", "json")  # fmt: skip
    assert server["status"] == "ACTIVE"
    instance = f"{installed.facts['prefix']}-{server['id']}"
    try:
        on_disk = disk_bytes(instance, len(data1))
        assert hashlib.sha512(on_disk).hexdigest() == first["properties"]["os_hash_value"]
        assert on_disk == data1

        # What Ganeti stored and logged for the instance: the grant id, but neither the key nor a signature.
        key = Path("/etc/cyclades/image-fetch.key").read_text().strip()
        jobs = [p.read_text() for p in QUEUE.glob("job-*") if instance in p.read_text()]
        assert jobs and any("img_grant" in j for j in jobs)
        assert not any(key in j for j in jobs)
        grant = next(json.loads(j) for j in jobs if "img_grant" in j)["ops"][0]["input"]["osparams"]["img_grant"]
        from_node = requests.get(f"{installed.env['CYCLADES_IMAGE_FETCH_URL']}/image/fetch/{grant}", timeout=30)
        assert from_node.status_code == 403  # no signature
        import hmac

        signed = hmac.new(key.encode(), grant.encode(), hashlib.sha256).hexdigest()
        again = requests.get(f"{installed.url}/image/fetch/{grant}", headers={"X-Cyclades-Grant-Signature": signed}, timeout=30)
        assert again.status_code == 403  # used up by the deployment

        cli("server", "rebuild", "--image", second["id"], "--wait", server["id"], "-f", "json")
        deadline = time.monotonic() + 180  # the CLI prints the server as the rebuild answer left it
        while (shown := cli("server", "show", server["id"], "-f", "json"))["status"] != "ACTIVE":
            assert shown["status"] == "REBUILD" and time.monotonic() < deadline, shown["status"]
            time.sleep(1)
        assert shown["image"].endswith(f"({second['id']})") or second["id"] in str(shown["image"])
        assert disk_bytes(instance, len(data2)) == data2
    finally:
        cli("server", "delete", "--wait", server["id"])
        for image in (first, second):
            cli("image", "delete", image["id"])


def test_deactivated_image_cannot_boot(cli, installed, tmp_path):
    image, _ = upload(cli, tmp_path, f"deact-{os.getpid()}", 1024 * 1024)
    cli("image", "set", "--deactivate", image["id"])
    before = cli("server", "list", "-f", "json")
    refused = cli("server", "create", "--image", image["id"], "--flavor", "1", "--network", "private", "nope", check=False)
    assert refused.returncode != 0 and "400" in refused.stderr
    assert cli("server", "list", "-f", "json") == before
    cli("image", "set", "--activate", image["id"])
    cli("image", "delete", image["id"])
