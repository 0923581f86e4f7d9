"""cloud-init config drives: an ISO 9660 image (pycdlib) with a server's hostname, SSH keys and user data.

Two layouts cloud-init reads from a cdrom, chosen by ``kind``:

* ``nocloud`` (volume label ``cidata``): ``meta-data`` (YAML: ``instance-id``,
  ``local-hostname``, ``public-keys``) and ``user-data``;
* ``configdrive`` (volume label ``config-2``, OpenStack's): ``openstack/latest/meta_data.json``
  (``uuid``, ``hostname``, ``name``, ``public_keys``, ``meta``) and ``openstack/latest/user_data``.

No driver-specific code: the libvirt driver attaches the result as a cdrom, and a
Ganeti OS definition could write the same bytes. The ISO has Rock Ridge and Joliet
names (what Linux shows) beside the plain ISO 9660 8.3 ones.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from dataclasses import dataclass, field

import pycdlib
import yaml

from logic.errors import InvalidInput

KINDS = ("nocloud", "configdrive")
LABELS = {"nocloud": "cidata", "configdrive": "config-2"}


@dataclass(frozen=True)
class DriveContent:
    """What a config drive tells the guest."""

    instance_id: str
    hostname: str
    public_keys: list[str] = field(default_factory=list)
    user_data: bytes | None = None
    name: str = ""
    meta: dict[str, str] = field(default_factory=dict)


def decode_user_data(value: str | None) -> bytes | None:
    """The API's base64 ``user_data`` as bytes (None when there is none); a clear error when it is not base64."""
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"user_data is not valid base64: {exc}") from exc


def hostname_for(name: str, fallback: str) -> str:
    """A DNS label from a server name (letters, digits, '-'; at most 63), else ``fallback``."""
    label = "".join(c if c.isascii() and (c.isalnum() or c == "-") else "-" for c in name.lower()).strip("-")[:63]
    return label.strip("-") or fallback


def files(content: DriveContent, kind: str = "nocloud") -> dict[str, bytes]:
    """The drive's files (path -> bytes) in the ``kind`` layout."""
    if kind == "nocloud":
        meta = {"instance-id": content.instance_id, "local-hostname": content.hostname}
        if content.public_keys:
            meta["public-keys"] = list(content.public_keys)
        out = {"meta-data": yaml.safe_dump(meta, default_flow_style=False, sort_keys=True).encode()}
        out["user-data"] = content.user_data if content.user_data is not None else b""
        return out
    if kind == "configdrive":
        meta_json = {
            "uuid": content.instance_id,
            "hostname": content.hostname,
            "name": content.name or content.hostname,
            "public_keys": {f"key-{i}": key for i, key in enumerate(content.public_keys)},
            "meta": dict(content.meta),
        }
        out = {"openstack/latest/meta_data.json": json.dumps(meta_json, sort_keys=True).encode()}
        if content.user_data is not None:
            out["openstack/latest/user_data"] = content.user_data
        return out
    raise InvalidInput(f"unknown config drive kind {kind!r} (one of {', '.join(KINDS)})")


def _d(text: str) -> str:
    return "".join(c if c.isascii() and c.isalnum() else "_" for c in text.upper())


def _iso_name(part: str, used: set[str], *, is_file: bool) -> str:
    """An ISO 9660 level-1 name (8.3, d-characters) for one path component, unique in its directory."""
    base, dot, suffix = part.rpartition(".") if is_file and "." in part else (part, "", "")
    stem, ext = (_d(base)[:8] or "F"), _d(suffix)[:3]
    candidate, n = stem, 0
    while candidate + (f".{ext}" if is_file else "") in used:
        n += 1
        candidate = f"{stem[: 8 - len(str(n)) - 1]}_{n}"
    name = candidate + (f".{ext}" if is_file else "")
    used.add(name)
    return f"{name};1" if is_file else name


def build_iso(content: DriveContent, kind: str = "nocloud") -> bytes:
    """The config drive as ISO 9660 bytes (a few tens of KiB)."""
    tree = files(content, kind)
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=1, joliet=3, rock_ridge="1.09", vol_ident=LABELS[kind])
    try:
        dirs: dict[str, str] = {"": ""}  # real path -> ISO path
        used: dict[str, set[str]] = {"": set()}
        for path in sorted(tree):
            parts = path.split("/")
            for depth in range(1, len(parts)):
                real = "/".join(parts[:depth])
                if real in dirs:
                    continue
                parent = "/".join(parts[: depth - 1])
                iso_path = f"{dirs[parent]}/{_iso_name(parts[depth - 1], used[parent], is_file=False)}"
                iso.add_directory(iso_path, rr_name=parts[depth - 1], joliet_path=f"/{real}")
                dirs[real], used[real] = iso_path, set()
            parent = "/".join(parts[:-1])
            data = tree[path]
            iso_path = f"{dirs[parent]}/{_iso_name(parts[-1], used[parent], is_file=True)}"
            iso.add_fp(io.BytesIO(data), len(data), iso_path, rr_name=parts[-1], joliet_path=f"/{path}")
        out = io.BytesIO()
        iso.write_fp(out)
        return out.getvalue()
    finally:
        iso.close()


def read_iso(data: bytes) -> tuple[str, dict[str, bytes]]:
    """The volume label and the files (Rock Ridge paths) of a config drive ISO (tests, operators' checks)."""
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(data))
    try:
        label = iso.pvd.volume_identifier.decode().strip()
        found: dict[str, bytes] = {}
        for dirname, _dirs, filelist in iso.walk(rr_path="/"):
            for name in filelist:
                path = f"{dirname.rstrip('/')}/{name}"
                out = io.BytesIO()
                iso.get_file_from_iso_fp(out, rr_path=path)
                found[path.lstrip("/")] = out.getvalue()
        return label, found
    finally:
        iso.close()
