"""A Ganeti server's personalisation: the API's one-time grant, and the OS definition's injection into a disk image.

The injection runs the real ``personalise.py`` of conf/ganeti-os/cyclades-image with the
real e2fsprogs (``debugfs``) on disk images built with sfdisk and mkfs.ext4 here.
"""

from __future__ import annotations

import base64
import email
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from logic import ganeti_jobs, image_deploy, personalisation
from logic.errors import PolicyError
from logic.models import ImageFetchGrant
from tests.factories import ImageFactory, ServerFactory

OS_DIR = Path(__file__).resolve().parents[2] / "conf" / "ganeti-os" / "cyclades-image"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPersonaliseTestKey0000000000000000000000 test@cyclades"
MIB = 1024 * 1024


def node_module():
    """The OS definition's personalise.py, loaded as the create script does (no bytecode in the OS directory)."""
    spec = importlib.util.spec_from_file_location("cyclades_personalise", OS_DIR / "personalise.py")
    module = importlib.util.module_from_spec(spec)
    dont, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont
    return module


@pytest.fixture
def image(tmp_path, monkeypatch):
    key = tmp_path / "fetch.key"
    image_deploy.ensure_key_file(key)
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_FETCH_KEY_FILE", str(key))
    path = tmp_path / "img"
    path.write_bytes(b"x" * 4096)
    return ImageFactory(ganeti_os="cyclades-image+default", store="file", location=f"file://{path}", size=4096,
                        os_hash_value="abc")  # fmt: skip


# ----------------------------------------------------------------------------- the API side
def test_password_hash_is_sha512_crypt_and_verifies():
    hashed = personalisation.hash_password("s3cret-Pass")
    assert hashed.startswith("$6$") and len(hashed.split("$")[2]) == 16
    assert personalisation.verify_password("s3cret-Pass", hashed)
    assert not personalisation.verify_password("s3cret-pass", hashed)
    assert personalisation.hash_password("s3cret-Pass") != hashed  # salted
    # the same algorithm as openssl's (libxcrypt's) SHA-512 crypt
    salt = hashed.split("$")[2]
    openssl = subprocess.run(["openssl", "passwd", "-6", "-salt", salt, "s3cret-Pass"], capture_output=True, text=True)
    assert openssl.stdout.strip() == hashed


@pytest.mark.django_db
def test_osparams_carry_only_a_grant_id_and_the_files_wait_on_the_grant(image):
    server = ServerFactory(image=image, name="Web Server 1", key_data=KEY, hostname=None)
    server.admin_password_hash = personalisation.hash_password("clear-text-pw")
    params = ganeti_jobs.osparams_for(image, server, "create")
    flat = repr(params)
    assert "clear-text-pw" not in flat and server.admin_password_hash not in flat and "AAAAC3" not in flat
    row = ImageFetchGrant.objects.get(purpose__startswith="personalise:")
    assert (
        row.token_hash == image_deploy.grant_hash(params["img_personal"])
        and row.purpose == f"personalise:create of {server.ganeti_name}"
    )
    assert "clear-text-pw" not in repr(row.payload)
    files = {f["path"]: base64.b64decode(f["data"]) for f in row.payload["files"]}
    assert files["/etc/hostname"] == b"web-server-1\n"
    assert files["/root/.ssh/authorized_keys"] == KEY.encode() + b"\n"
    meta = yaml.safe_load(files["/var/lib/cloud/seed/nocloud/meta-data"])
    assert meta == {"instance-id": server.ganeti_name, "local-hostname": "web-server-1", "hostname": "web-server-1",
                    "public-keys": [KEY], "uuid": str(server.pk)}  # fmt: skip
    user = files["/var/lib/cloud/seed/nocloud/user-data"].decode()
    assert user.startswith("#cloud-config\n")
    config = yaml.safe_load(user)
    assert config["ssh_authorized_keys"] == [KEY] and config["hostname"] == "web-server-1"
    (entry,) = config["chpasswd"]["users"]
    assert (
        entry["name"] == "root"
        and entry["type"] == "HASH"
        and personalisation.verify_password("clear-text-pw", entry["password"])
    )
    modes = {f["path"]: f["mode"] for f in row.payload["files"]}
    assert modes["/var/lib/cloud/seed/nocloud/user-data"] == 0o600 and modes["/root/.ssh/authorized_keys"] == 0o600


@pytest.mark.django_db
def test_hostname_and_user_data_of_the_server(image):
    script = b"#!/bin/sh\necho hi > /tmp/hi\n"
    server = ServerFactory(image=image, name="x", hostname="db1.example.org", user_data=base64.b64encode(script).decode())
    seed = personalisation.seed_for(server, None)
    files = {f["path"]: f["data"] for f in personalisation.files(seed)}
    assert files["/etc/hostname"] == b"db1\n" and "/root/.ssh/authorized_keys" not in files
    message = email.message_from_bytes(files["/var/lib/cloud/seed/nocloud/user-data"])
    parts = [p for p in message.walk() if not p.is_multipart()]
    assert [p.get_content_type() for p in parts] == ["text/cloud-config", "text/plain"]
    ours = yaml.safe_load(parts[0].get_payload(decode=True))
    assert ours == {"hostname": "db1", "fqdn": "db1.example.org", "preserve_hostname": False}  # no password: no chpasswd
    assert parts[1].get_payload(decode=True) == script


@pytest.mark.django_db
def test_a_personalisation_grant_serves_once_signed_and_is_wiped(image, client):
    server = ServerFactory(image=image, key_data=KEY)
    grant = personalisation.osparams(server, image, action="create", password_hash=None)["img_personal"]
    assert client.get(f"/image/personalise/{grant}").status_code == 403
    bad = client.get(f"/image/personalise/{grant}", HTTP_X_CYCLADES_GRANT_SIGNATURE="0" * 64)
    assert bad.status_code == 403
    with pytest.raises(PolicyError):  # not an image fetch grant
        image_deploy.redeem(grant, image_deploy.sign(grant))
    ok = client.get(f"/image/personalise/{grant}", HTTP_X_CYCLADES_GRANT_SIGNATURE=image_deploy.sign(grant))
    assert ok.status_code == 200 and ok["Cache-Control"] == "no-store"
    assert {f["path"] for f in ok.json()["files"]} >= {"/etc/hostname", "/root/.ssh/authorized_keys"}
    assert ImageFetchGrant.objects.get(purpose__startswith="personalise:").payload is None
    again = client.get(f"/image/personalise/{grant}", HTTP_X_CYCLADES_GRANT_SIGNATURE=image_deploy.sign(grant))
    assert again.status_code == 403 and "already used" in again.content.decode()
    image_grant = image_deploy.deploy_osparams(image, purpose="test")["img_grant"]
    wrong = client.get(f"/image/personalise/{image_grant}", HTTP_X_CYCLADES_GRANT_SIGNATURE=image_deploy.sign(image_grant))
    assert wrong.status_code == 403  # an image grant is no personalisation grant


# ----------------------------------------------------------------------------- the node side
def run(*args: str, stdin: str | None = None) -> str:
    proc = subprocess.run(list(args), input=stdin, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def partitioned(path: Path, label: str = "dos", *, etc: bool = True) -> int:
    """A 40 MiB disk with one ext4 partition at 1 MiB (``etc``: with /etc and /root); returns its byte offset."""
    with open(path, "wb") as f:
        f.truncate(40 * MIB)
    run("sfdisk", "-q", str(path), stdin=f"label: {label}\nstart=2048, size=75776, type={'83' if label == 'dos' else 'L'}\n")
    run("mkfs.ext4", "-q", "-F", "-E", f"offset={MIB}", str(path), "37M")
    if etc:
        debugfs_w(f"{path}?offset={MIB}", "mkdir /etc\nmkdir /root\n")
    return MIB


def debugfs_w(target: str, commands: str) -> None:
    subprocess.run(["debugfs", "-w", "-f", "-", target], input=commands, capture_output=True, text=True, check=True)


def cat(target: str, name: str) -> bytes:
    return subprocess.run(["debugfs", "-R", f"cat {name}", target], capture_output=True, check=True).stdout


def stat(target: str, name: str) -> str:
    return subprocess.run(["debugfs", "-R", f"stat {name}", target], capture_output=True, text=True, check=True).stdout


def specs() -> list[dict]:
    seed = personalisation.Seed(
        content=personalisation.config_drive.DriveContent(instance_id="i-1", hostname="node-a", public_keys=[KEY]),
        uuid="1",
        password_hash=personalisation.hash_password("pw"),
    )
    return [{**f, "data": base64.b64encode(f["data"]).decode()} for f in personalisation.files(seed)]


@pytest.mark.parametrize("label", ["dos", "gpt"])
def test_inject_into_a_partition_without_mounting(tmp_path, label):
    disk = tmp_path / "disk.raw"
    offset = partitioned(disk, label)
    target = f"{disk}?offset={offset}"
    debugfs_w(
        target, f"mkdir /root/.ssh\nwrite {_file(tmp_path, b'ssh-rsa OLD old@x' + bytes([10]))} /root/.ssh/authorized_keys\n"
    )
    files = specs()
    assert node_module().inject(str(disk), files)
    want = {f["path"]: base64.b64decode(f["data"]) for f in files}
    for name in ("/var/lib/cloud/seed/nocloud/meta-data", "/var/lib/cloud/seed/nocloud/user-data", "/etc/hostname"):
        assert cat(target, name) == want[name]
    assert cat(target, "/root/.ssh/authorized_keys") == b"ssh-rsa OLD old@x\n" + KEY.encode() + b"\n"  # the image's keys stay
    assert "Mode:  0600" in stat(target, "/root/.ssh/authorized_keys") and "Mode:  0755" in stat(target, "/root/.ssh")
    assert "Mode:  0600" in stat(target, "/var/lib/cloud/seed/nocloud/user-data")
    assert node_module().inject(str(disk), files)  # again (a rebuild onto the same image): replaced, not duplicated
    assert cat(target, "/root/.ssh/authorized_keys") == b"ssh-rsa OLD old@x\n" + KEY.encode() + b"\n"
    fsck = subprocess.run(["e2fsck", "-fn", target], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr


def test_inject_into_a_bare_ext4_filesystem(tmp_path):
    disk = tmp_path / "bare.raw"
    run("mkfs.ext4", "-q", "-F", str(disk), "16M")
    debugfs_w(str(disk), "mkdir /etc\n")
    assert node_module().inject(str(disk), specs())
    assert cat(str(disk), "/etc/hostname") == b"node-a\n"
    assert cat(str(disk), "/root/.ssh/authorized_keys") == KEY.encode() + b"\n"
    assert "Mode:  0700" in stat(str(disk), "/root/.ssh") and "Mode:  0755" in stat(str(disk), "/var/lib/cloud/seed/nocloud")
    fsck = subprocess.run(["e2fsck", "-fn", str(disk)], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout


def test_a_disk_without_an_ext_root_filesystem_is_left_as_it_is(tmp_path, capsys):
    raw = tmp_path / "random.raw"
    raw.write_bytes(os.urandom(2 * MIB))
    before = raw.read_bytes()
    assert node_module().inject(str(raw), specs()) is False
    assert raw.read_bytes() == before
    assert "no ext2/3/4 root filesystem" in capsys.readouterr().err
    data_only = tmp_path / "data.raw"  # an ext4 partition, but no /etc: not a root filesystem
    partitioned(data_only, etc=False)
    before = data_only.read_bytes()
    assert node_module().inject(str(data_only), specs()) is False
    assert data_only.read_bytes() == before


def _file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "old_keys"
    path.write_bytes(data)
    return path


# ----------------------------------------------------------------------------- the create script, against a live API
@pytest.fixture
def os_copy(tmp_path, monkeypatch):
    """The OS definition copied as ganeti-os-install does, with its conf naming a test fetch key."""
    target = tmp_path / "os"
    target.mkdir()
    for item in OS_DIR.iterdir():
        if item.is_file():
            shutil.copy2(item, target / item.name)
    key = tmp_path / "fetch.key"
    image_deploy.ensure_key_file(key)
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_FETCH_KEY_FILE", str(key))
    (target / "cyclades-image.conf").write_text(f"KEY_FILE={key}\nTIMEOUT=30\n")
    return target


def run_create(os_dir: Path, disk: Path, params: dict[str, str]) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"] + ":/usr/sbin:/sbin", "DISK_0_PATH": str(disk), "DISK_0_NAME": "",
           **{f"OSP_{k.upper()}": v for k, v in params.items()}}  # fmt: skip
    return subprocess.run([sys.executable, str(os_dir / "create")], env=env, capture_output=True, text=True, timeout=120)


def test_the_create_script_writes_image_then_personalisation_once(os_copy, tmp_path, live_server, transactional_db, monkeypatch):
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_FETCH_URL", live_server.url)
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_FILE_DIR", str(tmp_path))
    source = tmp_path / "image.raw"
    offset = partitioned(source)
    data = source.read_bytes()
    stored = tmp_path / "store"
    stored.write_bytes(data)
    image = ImageFactory(ganeti_os="cyclades-image+default", store="file", location=f"file://{stored}", size=len(data),
                         os_hash_value=hashlib.sha512(data).hexdigest())  # fmt: skip
    server = ServerFactory(image=image, name="live", key_data=KEY)
    server.admin_password_hash = personalisation.hash_password("pw-live")
    params = ganeti_jobs.osparams_for(image, server, "create")
    disk = tmp_path / "disk0"
    disk.write_bytes(b"\0" * (64 * MIB))
    done = run_create(os_copy, disk, params)
    assert done.returncode == 0, done.stderr
    assert "personalised" in done.stderr and "pw-live" not in done.stderr + done.stdout
    assert server.admin_password_hash not in done.stderr + done.stdout and "AAAAC3" not in done.stderr + done.stdout
    target = f"{disk}?offset={offset}"
    assert cat(target, "/etc/hostname") == b"live\n" and cat(target, "/root/.ssh/authorized_keys") == KEY.encode() + b"\n"
    config = yaml.safe_load(cat(target, f"{personalisation.SEED_DIR}/user-data"))
    assert personalisation.verify_password("pw-live", config["chpasswd"]["users"][0]["password"])
    assert not list(os_copy.glob("__pycache__"))  # nothing written into the OS directory

    # Both grants are spent: running the script again (a replayed job) fetches nothing.
    again = run_create(os_copy, disk, params)
    assert again.returncode == 1 and "fetching image" in again.stderr
    fresh = {**params, **image_deploy.deploy_osparams(image, purpose="test")}
    replay = run_create(os_copy, disk, fresh)
    assert replay.returncode == 1 and "fetching the personalisation failed" in replay.stderr and "403" in replay.stderr


def test_the_create_script_leaves_an_image_without_a_filesystem(os_copy, tmp_path, live_server, transactional_db, monkeypatch):
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_FETCH_URL", live_server.url)
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_FILE_DIR", str(tmp_path))
    data = os.urandom(MIB)
    stored = tmp_path / "store"
    stored.write_bytes(data)
    image = ImageFactory(ganeti_os="cyclades-image+default", store="file", location=f"file://{stored}", size=len(data),
                         os_hash_value=hashlib.sha512(data).hexdigest())  # fmt: skip
    server = ServerFactory(image=image, key_data=KEY)
    disk = tmp_path / "disk0"
    disk.write_bytes(b"\0" * (4 * MIB))
    done = run_create(os_copy, disk, ganeti_jobs.osparams_for(image, server, "create"))
    assert done.returncode == 0, done.stderr
    assert "no ext2/3/4 root filesystem" in done.stderr
    assert disk.read_bytes()[:MIB] == data and disk.read_bytes()[MIB:] == b"\0" * (3 * MIB)
    assert ImageFetchGrant.objects.get(purpose__startswith="personalise:").used_at is not None
