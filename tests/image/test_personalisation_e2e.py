"""Hostname, SSH key and root password of a server booted from an uploaded image on the real Ganeti sandbox.

The whole stack (gunicorn API, eventd, dispatcher), the unmodified ``openstack`` CLI and our
OS definition ``cyclades-image``: the create script fetches the image and then, with a second
one-time grant, the server's personalisation, and writes the cloud-init NoCloud seed,
/etc/hostname and root's authorized_keys into the image's ext4 root filesystem with debugfs.
The test reads them back out of the instance's disk file (debugfs, no mount), checks the
password hash against the adminPass the API answered, and that neither Ganeti's instance
configuration, its job files nor its OS logs hold the password, its hash or the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml

from logic.personalisation import verify_password
from tests.image.test_image_deploy_e2e import FILE_STORAGE, QUEUE, cli, installed  # noqa: F401 (fixtures)
from tests.image.test_personalisation import MIB, cat, debugfs_w, partitioned, run

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(1200)]

SEED = "/var/lib/cloud/seed/nocloud"
OS_LOGS = Path("/var/log/ganeti/os")


def keypair(cli, tmp_path: Path, name: str) -> str:  # noqa: F811
    key = tmp_path / name
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@test", "-f", str(key))
    public = (tmp_path / f"{name}.pub").read_text().strip()
    cli("keypair", "create", "--public-key", str(key) + ".pub", name, "-f", "json")
    return public


def disk_file(instance: str) -> Path:
    files = [p for p in (FILE_STORAGE / instance).iterdir() if p.is_file()]
    assert len(files) == 1, files
    return files[0]


def seed_of(target: str) -> tuple[dict, dict, bytes, bytes]:
    meta = yaml.safe_load(cat(target, f"{SEED}/meta-data"))
    user = cat(target, f"{SEED}/user-data")
    assert user.startswith(b"#cloud-config\n")
    return meta, yaml.safe_load(user), cat(target, "/etc/hostname"), cat(target, "/root/.ssh/authorized_keys")


def root_hash(config: dict) -> str:
    (entry,) = config["chpasswd"]["users"]
    assert entry["name"] == "root" and entry["type"] == "HASH" and entry["password"].startswith("$6$")
    return entry["password"]


def ganeti_records(instance: str) -> str:
    """What Ganeti keeps about the instance: its configuration as gnt-instance shows it, its job files, its OS logs."""
    info = subprocess.run(["gnt-ns", "gnt-instance", "info", instance], capture_output=True, text=True, timeout=60, check=True)
    jobs = [p.read_text() for p in QUEUE.glob("job-*") if instance in p.read_text()]
    logs = [p.read_text(errors="replace") for p in OS_LOGS.glob(f"*{instance}*")] if OS_LOGS.is_dir() else []
    assert jobs and info.stdout
    return "\n".join([info.stdout, *jobs, *logs])


def create_grant(instance: str) -> str:
    """The personalisation grant id of the instance's create job (Ganeti's job file)."""
    for text in (p.read_text() for p in QUEUE.glob("job-*")):
        if instance in text and "img_personal" in text:
            for op in json.loads(text)["ops"]:
                params = op["input"].get("osparams") or {}
                if op["input"].get("OP_ID") == "OP_INSTANCE_CREATE" and "img_personal" in params:
                    return params["img_personal"]
    raise AssertionError(f"no create job of {instance} with a personalisation grant")


def test_create_and_rebuild_set_hostname_key_and_password(cli, installed, tmp_path):  # noqa: F811
    pid = os.getpid()
    part = tmp_path / "part.raw"
    offset = partitioned(part)  # an MBR disk with one ext4 root filesystem at 1 MiB
    bare = tmp_path / "bare.raw"
    run("mkfs.ext4", "-q", "-F", str(bare), "24M")  # a bare ext4 filesystem
    debugfs_w(str(bare), "mkdir /etc\n")
    images = [cli("image", "create", "--file", str(p), "--disk-format", "raw", f"pers-{p.stem}-{pid}", "-f", "json")
              for p in (part, bare)]  # fmt: skip
    key1, key2 = keypair(cli, tmp_path, f"k1-{pid}"), keypair(cli, tmp_path, f"k2-{pid}")
    name = f"Pers{pid}"
    server = cli("server", "create", "--image", images[0]["id"], "--flavor", "1", "--network", "private",
                 "--key-name", f"k1-{pid}", "--wait", name, "-f", "json")  # fmt: skip
    assert server["status"] == "ACTIVE"
    password = server["adminPass"]
    instance = f"{installed.facts['prefix']}-{server['id']}"
    try:
        disk = disk_file(instance)
        target = f"{disk}?offset={offset}"
        meta, config, hostname, keys = seed_of(target)
        assert meta["local-hostname"] == f"pers{pid}" and meta["instance-id"] == instance and meta["uuid"] == server["id"]
        assert meta["public-keys"] == [key1] and config["ssh_authorized_keys"] == [key1]
        assert hostname == f"pers{pid}\n".encode() and keys == f"{key1}\n".encode()
        first_hash = root_hash(config)
        assert verify_password(password, first_hash) and not verify_password(password + "x", first_hash)
        fsck = subprocess.run(["e2fsck", "-fn", target], capture_output=True, text=True)
        assert fsck.returncode == 0, fsck.stdout

        # Ganeti holds the grant ids only: not the password, its hash or the key.
        records = ganeti_records(instance)
        assert "img_personal" in records
        for secret in (password, first_hash, key1.split()[1]):
            assert secret not in records

        # The personalisation grant was used by the deployment: a second fetch is refused.
        grant = create_grant(instance)
        fetch_key = Path("/etc/cyclades/image-fetch.key").read_text().strip()
        signed = hmac.new(fetch_key.encode(), grant.encode(), hashlib.sha256).hexdigest()
        again = requests.get(f"{installed.url}/image/personalise/{grant}", headers={"X-Cyclades-Grant-Signature": signed},
                             timeout=30)  # fmt: skip
        assert again.status_code == 403 and "already used" in again.text

        # Rebuild onto the bare filesystem image with the other key and a given password (2.54: key_name).
        cli("--os-compute-api-version", "2.57", "server", "rebuild", "--image", images[1]["id"], "--key-name", f"k2-{pid}",
            "--password", f"Rebuilt-{pid}", "--wait", server["id"], "-f", "json")  # fmt: skip
        deadline = time.monotonic() + 180
        while (shown := cli("server", "show", server["id"], "-f", "json"))["status"] != "ACTIVE":
            assert shown["status"] == "REBUILD" and time.monotonic() < deadline, shown["status"]
            time.sleep(1)
        with open(disk, "rb") as f:
            assert hashlib.sha512(f.read(MIB)).digest() != hashlib.sha512(part.read_bytes()[:MIB]).digest()
        meta, config, hostname, keys = seed_of(str(disk))
        assert meta["public-keys"] == [key2] and keys == f"{key2}\n".encode() and hostname == f"pers{pid}\n".encode()
        second_hash = root_hash(config)
        assert verify_password(f"Rebuilt-{pid}", second_hash) and second_hash != first_hash
        records = ganeti_records(instance)
        for secret in (f"Rebuilt-{pid}", second_hash, key2.split()[1], first_hash):
            assert secret not in records
    finally:
        cli("server", "delete", "--wait", server["id"])
        for image in images:
            cli("image", "delete", image["id"])
        for key in (f"k1-{pid}", f"k2-{pid}"):
            cli("keypair", "delete", key)
