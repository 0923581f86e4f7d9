"""A server's disks on a libvirt host, by its flavor's disk template, and its config drive.

* ``rbd``: the root disk is a copy-on-write clone of the image's protected snapshot
  (``rbd://<pool>/image-<id>@snap``, :mod:`logic.image_stores.rbd`), ``<server>-disk0``
  in ``LIBVIRT_RBD_POOL``, grown to the flavor's disk size; the config drive is the RBD
  image ``<server>-config``. Both are libvirt network disks (protocol rbd, the monitors,
  cephx through a libvirt secret: :mod:`.ceph`); QEMU opens them with librbd.
* ``file``: the root disk is a qcow2 volume ``<server>-disk0.qcow2`` of the host's directory
  pool ``LIBVIRT_STORAGE_POOL``, backed by the image's file (:mod:`logic.image_stores.file`:
  the host must see ``IMAGE_FILE_DIR`` at the same path); the config drive is the volume
  ``<server>-config.iso``, uploaded through libvirt.
* ``diskless``: neither.

Names derive from the server alone, so :func:`remove` finds what :func:`create` made
(also after a failed create, or a domain gone behind our back).
"""

from __future__ import annotations

import logging
import time

import libvirt
from django.conf import settings
from lxml import etree

from logic import config_drive
from logic.drivers.libvirt import ceph
from logic.drivers.libvirt.jobs_errors import NotSupported
from logic.image_stores.base import StoreError
from logic.image_stores.rbd import parse_location
from logic.models import Flavor, Server

log = logging.getLogger(__name__)

GIB = 1 << 30
TEMPLATES = ("diskless", "rbd", "file")
ROOT_TARGET = ("vda", "virtio")
CDROM_TARGET = ("sda", "sata")
BUSY_RETRY_SECONDS = 10.0


def root_name(server: Server | str) -> str:
    return f"{server if isinstance(server, str) else server.ganeti_name}-disk0"


def config_name(server: Server | str) -> str:
    return f"{server if isinstance(server, str) else server.ganeti_name}-config"


def drive_kind() -> str | None:
    kind = settings.CYCLADES.get("LIBVIRT_CONFIG_DRIVE") or "nocloud"
    return None if kind == "none" else kind


def _template(flavor: Flavor) -> str:
    if flavor.disk_template not in TEMPLATES:
        raise NotSupported(
            f"disk template {flavor.disk_template!r} is not supported on libvirt backends (one of {', '.join(TEMPLATES)})"
        )
    return flavor.disk_template


def _check_image(server: Server, template: str) -> None:
    image = server.image
    if image is None or not image.location:
        raise NotSupported(f"a {template} disk needs an image with data (server {server.id} has none)")
    if image.store != template:
        raise NotSupported(
            f"a {template} disk on a libvirt backend is made from an image in the {template} store; "
            f"image {image.id} is in the {image.store or 'no'} store"
        )


# ----------------------------------------------------------------------------- XML
def _rbd_source(disk: etree._Element, cfg: ceph.RbdConfig, name: str, uri: str) -> None:
    source = etree.SubElement(disk, "source", protocol="rbd", name=f"{cfg.pool}/{name}")
    for host, port in ceph.monitors(cfg):
        etree.SubElement(source, "host", name=host, port=str(port))
    if ceph.uses_secrets(uri):
        auth = etree.SubElement(source, "auth", username=cfg.user)
        etree.SubElement(auth, "secret", type="ceph", usage=cfg.secret_usage)


def _volume_source(disk: etree._Element, volume: str) -> None:
    etree.SubElement(disk, "source", pool=settings.CYCLADES["LIBVIRT_STORAGE_POOL"], volume=volume)


def elements(server: Server, flavor: Flavor, uri: str) -> list[etree._Element]:
    """The ``<disk>`` elements of the server (root disk, then config drive); none when diskless."""
    template = _template(flavor)
    if template == "diskless":
        return []
    _check_image(server, template)
    cfg = ceph.rbd_config() if template == "rbd" else None
    out = []
    root = etree.Element("disk", type="network" if cfg else "volume", device="disk")
    etree.SubElement(root, "driver", name="qemu", type="raw" if cfg else "qcow2", cache="none" if cfg else "default")
    if cfg:
        _rbd_source(root, cfg, root_name(server), uri)
    else:
        _volume_source(root, f"{root_name(server)}.qcow2")
    etree.SubElement(root, "target", dev=ROOT_TARGET[0], bus=ROOT_TARGET[1])
    out.append(root)
    if drive_kind():
        cdrom = etree.Element("disk", type="network" if cfg else "volume", device="cdrom")
        etree.SubElement(cdrom, "driver", name="qemu", type="raw")
        if cfg:
            _rbd_source(cdrom, cfg, config_name(server), uri)
        else:
            _volume_source(cdrom, f"{config_name(server)}.iso")
        etree.SubElement(cdrom, "target", dev=CDROM_TARGET[0], bus=CDROM_TARGET[1])
        etree.SubElement(cdrom, "readonly")
        out.append(cdrom)
    return out


# ----------------------------------------------------------------------------- config drive
def drive_content(server: Server) -> config_drive.DriveContent:
    keys = [line.strip() for line in (server.key_data or "").splitlines() if line.strip()]
    return config_drive.DriveContent(
        instance_id=server.ganeti_name,
        hostname=config_drive.hostname_for(server.name, server.ganeti_name),
        name=server.name,
        public_keys=keys,
        user_data=config_drive.decode_user_data(server.user_data),
        meta={m.key: m.value for m in server.metadata.all()},
    )


# ----------------------------------------------------------------------------- create / remove
def create(conn: libvirt.virConnect, server: Server, flavor: Flavor, uri: str) -> list[str]:
    """Make the server's disks on the host (and the ceph secret); what was made (for the log)."""
    template = _template(flavor)
    if template == "diskless":
        return []
    _check_image(server, template)
    iso = config_drive.build_iso(drive_content(server), kind) if (kind := drive_kind()) else None
    if template == "rbd":
        return _create_rbd(conn, server, flavor, uri, iso)
    return _create_file(conn, server, flavor, iso)


def _create_rbd(conn: libvirt.virConnect, server: Server, flavor: Flavor, uri: str, iso: bytes | None) -> list[str]:
    import rbd

    cfg = ceph.rbd_config()
    if ceph.uses_secrets(uri):
        ceph.ensure_secret(conn, cfg)
    rbd_store = ceph.store(cfg)
    made = []
    parse_location(server.image.location)  # a clear error for a malformed location
    rbd_store.clone(server.image.location, root_name(server), cfg.pool)
    made.append(f"rbd:{cfg.pool}/{root_name(server)}")
    try:
        with rbd_store.ioctx(cfg.pool) as ioctx:
            with rbd.Image(ioctx, root_name(server)) as disk:
                if flavor.disk * GIB > disk.size():
                    disk.resize(flavor.disk * GIB)
            if iso is not None:
                rbd.RBD().create(ioctx, config_name(server), len(iso), old_format=False, features=rbd.RBD_FEATURE_LAYERING)
                made.append(f"rbd:{cfg.pool}/{config_name(server)}")
                with rbd.Image(ioctx, config_name(server)) as image:
                    image.write(iso, 0)
                    image.flush()
    except (rbd.Error, StoreError):
        _remove_rbd(server.ganeti_name)
        raise
    return made


def storage_pool(conn: libvirt.virConnect) -> libvirt.virStoragePool:
    """The host's directory pool of qcow2 disks and config drives (defined, built and started at first use)."""
    name = settings.CYCLADES["LIBVIRT_STORAGE_POOL"]
    try:
        pool = conn.storagePoolLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_POOL:
            raise
        path = settings.CYCLADES["LIBVIRT_DISK_DIR"]
        pool = conn.storagePoolDefineXML(f"<pool type='dir'><name>{name}</name><target><path>{path}</path></target></pool>")
        pool.build(0)
        pool.setAutostart(1)
    if not pool.isActive():
        pool.create(0)
    return pool


def _create_file(conn: libvirt.virConnect, server: Server, flavor: Flavor, iso: bytes | None) -> list[str]:
    from logic.image_stores.file import FileStore

    backing = FileStore.from_settings().path(server.image.location)
    size = max(flavor.disk * GIB, server.image.size or 0)
    pool = storage_pool(conn)
    volume = pool.createXML(
        f"<volume><name>{root_name(server)}.qcow2</name><capacity unit='bytes'>{size}</capacity>"
        "<target><format type='qcow2'/></target>"
        f"<backingStore><path>{backing}</path><format type='raw'/></backingStore></volume>",
        0,
    )
    made = [volume.path()]
    if iso is not None:
        try:
            drive = pool.createXML(
                f"<volume><name>{config_name(server)}.iso</name><capacity unit='bytes'>{len(iso)}</capacity>"
                "<target><format type='raw'/></target></volume>",
                0,
            )
            made.append(drive.path())
            stream = conn.newStream(0)
            drive.upload(stream, 0, len(iso), 0)
            stream.send(iso)
            stream.finish()
        except libvirt.libvirtError:
            _remove_file(conn, server.ganeti_name)
            raise
    return made


def remove(conn: libvirt.virConnect, server: Server) -> list[str]:
    """Remove the server's disks (those that exist); what was removed."""
    return remove_named(conn, server.ganeti_name, server.flavor.disk_template)


def template_of(domain_xml: str) -> str:
    """Which disk template a domain's XML shows (``rbd``, ``file``, ``diskless``): for domains without a server row."""
    root = etree.fromstring(domain_xml)
    if root.find("devices/disk/source[@protocol='rbd']") is not None:
        return "rbd"
    if root.find("devices/disk[@type='volume']") is not None:
        return "file"
    return "diskless"


def remove_named(conn: libvirt.virConnect, name: str, template: str) -> list[str]:
    """Remove the disks of domain ``name`` made for ``template`` (those that exist)."""
    if template == "rbd":
        return _remove_rbd(name)
    if template == "file":
        return _remove_file(conn, name)
    return []


def _remove_rbd(name: str) -> list[str]:
    import rbd

    cfg = ceph.rbd_config()
    removed = []
    with ceph.store(cfg).ioctx(cfg.pool) as ioctx:
        existing = set(rbd.RBD().list(ioctx))
        for image in (root_name(name), config_name(name)):
            if image not in existing:
                continue
            deadline = time.monotonic() + BUSY_RETRY_SECONDS
            while True:
                try:
                    rbd.RBD().remove(ioctx, image)
                    break
                except rbd.ImageBusy:  # QEMU's watch outlives the process for a moment
                    if time.monotonic() >= deadline:
                        raise StoreError(f"RBD image {cfg.pool}/{image} is still in use") from None
                    time.sleep(0.2)
            removed.append(f"rbd:{cfg.pool}/{image}")
    return removed


def _remove_file(conn: libvirt.virConnect, name: str) -> list[str]:
    try:
        pool = conn.storagePoolLookupByName(settings.CYCLADES["LIBVIRT_STORAGE_POOL"])
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL:
            return []
        raise
    pool.refresh(0)
    removed = []
    for volume_name in (f"{root_name(name)}.qcow2", f"{config_name(name)}.iso"):
        try:
            volume = pool.storageVolLookupByName(volume_name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
                continue
            raise
        path = volume.path()
        volume.delete(0)
        removed.append(path)
    return removed
