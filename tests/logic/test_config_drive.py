"""cloud-init config drives (logic/config_drive.py): the ISO's label and files, read back with
pycdlib and checked with util-linux's blkid (an independent ISO 9660 reader)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from logic import config_drive
from logic.errors import InvalidInput

CONTENT = config_drive.DriveContent(
    instance_id="cyc-7",
    hostname="web-1",
    name="web.1",
    public_keys=["ssh-ed25519 AAAAC3Nza k1@example", "ssh-rsa AAAAB3Nza k2@example"],
    user_data=b"#cloud-config\npackages: [htop]\n",
    meta={"role": "web"},
)


def blkid(tmp_path, data: bytes) -> str:
    path = tmp_path / "drive.iso"
    path.write_bytes(data)
    return subprocess.run([shutil.which("blkid") or "/sbin/blkid", str(path)], capture_output=True, text=True, check=True).stdout


def test_nocloud_drive(tmp_path):
    iso = config_drive.build_iso(CONTENT, "nocloud")
    label, files = config_drive.read_iso(iso)
    assert label == "cidata" and set(files) == {"meta-data", "user-data"}
    meta = yaml.safe_load(files["meta-data"])
    assert meta == {"instance-id": "cyc-7", "local-hostname": "web-1", "public-keys": list(CONTENT.public_keys)}
    assert files["user-data"] == CONTENT.user_data
    assert 'LABEL="cidata"' in blkid(tmp_path, iso) and 'TYPE="iso9660"' in blkid(tmp_path, iso)


def test_openstack_configdrive(tmp_path):
    iso = config_drive.build_iso(CONTENT, "configdrive")
    label, files = config_drive.read_iso(iso)
    assert label == "config-2"
    meta = json.loads(files["openstack/latest/meta_data.json"])
    assert meta["uuid"] == "cyc-7" and meta["hostname"] == "web-1" and meta["name"] == "web.1"
    assert sorted(meta["public_keys"].values()) == sorted(CONTENT.public_keys) and meta["meta"] == {"role": "web"}
    assert files["openstack/latest/user_data"] == CONTENT.user_data
    assert 'LABEL="config-2"' in blkid(tmp_path, iso)


def test_no_user_data_and_no_keys():
    bare = config_drive.DriveContent(instance_id="cyc-8", hostname="h")
    _, files = config_drive.read_iso(config_drive.build_iso(bare, "nocloud"))
    assert files["user-data"] == b"" and yaml.safe_load(files["meta-data"]) == {"instance-id": "cyc-8", "local-hostname": "h"}
    _, files = config_drive.read_iso(config_drive.build_iso(bare, "configdrive"))
    assert set(files) == {"openstack/latest/meta_data.json"}


def test_helpers_and_bad_input():
    assert config_drive.hostname_for("Web Server #1", "x") == "web-server--1"
    assert config_drive.hostname_for("ελληνικά", "cyc-9") == "cyc-9"
    assert config_drive.decode_user_data("aGk=") == b"hi" and config_drive.decode_user_data(None) is None
    with pytest.raises(InvalidInput, match="not valid base64"):
        config_drive.decode_user_data("not base64!")
    with pytest.raises(InvalidInput, match="unknown config drive kind"):
        config_drive.build_iso(CONTENT, "vfat")
