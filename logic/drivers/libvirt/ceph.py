"""Ceph for the disks of servers on libvirt hosts: the RBD settings, the monitors, the cephx secret.

QEMU opens the RBD images through librbd (no kernel RBD): the domain XML names the
monitors (read from ``ceph.conf`` on the API side, so a remote host needs no Ceph
configuration) and a libvirt secret of usage type ``ceph`` holding the client's key,
which :func:`ensure_secret` defines on the host from the client's keyring.
"""

from __future__ import annotations

import base64
import configparser
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

import libvirt
from django.conf import settings

from logic.image_stores.base import StoreError
from logic.image_stores.rbd import RbdStore

DEFAULT_MON_PORT = 6789


@dataclass(frozen=True)
class RbdConfig:
    conffile: str
    user: str
    pool: str

    @property
    def secret_usage(self) -> str:
        return f"cyclades client.{self.user}"

    @property
    def secret_uuid(self) -> str:
        """A fixed UUID per client and cluster config (the same secret on every host)."""
        return str(uuid.UUID(hashlib.sha256(f"{self.secret_usage} {self.conffile}".encode()).hexdigest()[:32]))


def rbd_config() -> RbdConfig:
    conf = settings.CYCLADES
    return RbdConfig(
        conffile=conf.get("LIBVIRT_RBD_CONF") or conf["IMAGE_RBD_CONF"],
        user=conf.get("LIBVIRT_RBD_USER") or conf["IMAGE_RBD_USER"],
        pool=conf.get("LIBVIRT_RBD_POOL") or conf["IMAGE_RBD_POOL"],
    )


def store(cfg: RbdConfig) -> RbdStore:
    return RbdStore(conffile=cfg.conffile, user=cfg.user, pool=cfg.pool)


def cluster_stats(cfg: RbdConfig) -> dict[str, int]:
    """``kb``, ``kb_used``, ``kb_avail`` of the cluster (needs its mgr: all zero without)."""
    import rados

    cluster = rados.Rados(conffile=cfg.conffile, name=f"client.{cfg.user}")
    try:
        cluster.connect(timeout=10)
        return dict(cluster.get_cluster_stats())
    except rados.Error as exc:
        raise StoreError(f"Ceph is unavailable: {exc}") from exc
    finally:
        cluster.shutdown()


def _read_conf(path: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        with open(path, encoding="utf-8") as handle:
            # ceph.conf allows leading whitespace and "key value" spellings with spaces or underscores
            parser.read_string("\n".join(line.strip() for line in handle))
    except (OSError, configparser.Error) as exc:
        raise StoreError(f"cannot read the Ceph configuration {path}: {exc}") from exc
    return parser


def _option(parser: configparser.RawConfigParser, sections: list[str], name: str) -> str | None:
    for section in sections:
        if not parser.has_section(section):
            continue
        for key in (name, name.replace("_", " ")):
            if parser.has_option(section, key):
                return parser.get(section, key)
    return None


def monitors(cfg: RbdConfig) -> list[tuple[str, int]]:
    """The monitors' (host, port) for librbd's v1 protocol, from ``mon_host`` (``[v2:a:3300,v1:a:6789] b``)."""
    parser = _read_conf(cfg.conffile)
    raw = _option(parser, [f"client.{cfg.user}", "client", "global"], "mon_host")
    if not raw:
        raise StoreError(f"{cfg.conffile} has no mon_host")
    found: list[tuple[str, int]] = []
    for group in raw.replace(" ", ",").split(","):
        entry = group.strip().strip("[]")
        if not entry or entry.startswith("v2:"):
            continue
        entry = entry.removeprefix("v1:").split("/")[0]
        host, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        found.append((host.strip("[]"), int(port) if port else DEFAULT_MON_PORT))
    if not found:
        raise StoreError(f"{cfg.conffile}: no v1 monitor address in mon_host {raw!r}")
    return list(dict.fromkeys(found))


def client_key(cfg: RbdConfig) -> str:
    """The client's cephx key (base64), from the keyring(s) ``ceph.conf`` names or the default ones."""
    parser = _read_conf(cfg.conffile)
    name = f"client.{cfg.user}"
    configured = _option(parser, [name, "client", "global"], "keyring")
    paths = configured.split(",") if configured else []
    paths += [f"/etc/ceph/ceph.{name}.keyring", "/etc/ceph/ceph.keyring", "/etc/ceph/keyring"]
    for raw in paths:
        path = Path(raw.strip().replace("$cluster", "ceph").replace("$name", name))
        if not path.is_file():
            continue
        keyring = _read_conf(str(path))
        if keyring.has_option(name, "key"):
            return keyring.get(name, "key").strip()
    raise StoreError(f"no keyring with a key for {name} (looked in {', '.join(p.strip() for p in paths)})")


def uses_secrets(uri: str) -> bool:
    """libvirt's test driver has no secrets (and never opens disks); every other host gets one."""
    return not uri.startswith("test:")


def ensure_secret(conn: libvirt.virConnect, cfg: RbdConfig) -> str:
    """Define the client's ceph secret on the host (or refresh its key); its UUID."""
    key = base64.b64decode(client_key(cfg))
    try:
        secret = conn.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_CEPH, cfg.secret_usage)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_SECRET:
            raise
        secret = conn.secretDefineXML(
            f"<secret ephemeral='no' private='yes'><uuid>{cfg.secret_uuid}</uuid>"
            f"<usage type='ceph'><name>{cfg.secret_usage}</name></usage></secret>"
        )
        secret.setValue(key)
        return secret.UUIDString()
    secret.setValue(key)  # private secrets cannot be read back: set the key again (a rotated key applies)
    return secret.UUIDString()
