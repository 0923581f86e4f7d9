"""NICs and volumes added to and taken off a server's domain on a libvirt host.

Each change is ``attachDeviceFlags``/``detachDeviceFlags`` with ``VIR_DOMAIN_AFFECT_CONFIG``
(the persistent definition) plus ``VIR_DOMAIN_AFFECT_LIVE`` while the domain runs (the guest
sees the device at once: PCI hotplug). A host whose driver has no device hotplug (libvirt's
test driver) gets the persistent definition rewritten instead: the device appears at the next
start, as on Ganeti without hotplug. The outcome is one ``OP_INSTANCE_SET_PARAMS`` message, as
Ganeti's ModifyInstance job sends: after a NIC change it carries every NIC of the domain
(``instance_nics``), so the dispatcher's transition rewrites the server's NICs; a volume's
change is matched to the volume's task by :mod:`logic.volume_events` (job id or request id).

* A NIC: ``<interface>`` with the port's MAC on the network's bridge (its link) or, without
  one, on the host's libvirt network ``LIBVIRT_NETWORK`` (:mod:`.nics`).
* A volume: an ``ext`` volume is the RBD image ``<prefix>-vol-<id>`` in ``VOLUME_RBD_POOL``
  (:mod:`logic.volume_rbd`): a network disk (protocol rbd) that QEMU opens through librbd with
  the cephx secret of ``VOLUME_RBD_USER`` (:func:`.ceph.ensure_secret`); its target is the
  volume's device (``/dev/vdb`` -> ``vdb``, virtio).
"""

from __future__ import annotations

import logging
from typing import Any

import libvirt
from django.conf import settings
from lxml import etree

from logic import volume_rbd
from logic.drivers.libvirt import ceph, disks
from logic.drivers.libvirt import nics as nic_xml
from logic.drivers.libvirt.jobs_errors import NotSupported
from logic.enums import OpCode
from logic.models import Server, ServerNIC, Volume

log = logging.getLogger(__name__)


def _jobs():
    from logic.drivers.libvirt import jobs

    return jobs


def _flags(dom: libvirt.virDomain) -> int:
    return libvirt.VIR_DOMAIN_AFFECT_CONFIG | (libvirt.VIR_DOMAIN_AFFECT_LIVE if dom.isActive() else 0)


def _persistent(dom: libvirt.virDomain) -> etree._Element:
    return etree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))


def _redefine(conn: libvirt.virConnect, root: etree._Element) -> None:
    conn.defineXML(etree.tostring(root, encoding="unicode"))


def attach(conn: libvirt.virConnect, dom: libvirt.virDomain, device: etree._Element) -> str:
    """Add ``device`` to the domain (live too while it runs); ``"hotplug"`` or ``"next start"``."""
    xml = etree.tostring(device, encoding="unicode")
    try:
        dom.attachDeviceFlags(xml, _flags(dom))
        return "hotplug" if dom.isActive() else "next start"
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
            raise
    root = _persistent(dom)
    root.find("devices").append(device)
    _redefine(conn, root)
    return "next start"


def detach(conn: libvirt.virConnect, dom: libvirt.virDomain, found: etree._Element) -> str:
    """Take ``found`` (an element of the persistent definition) off the domain; how (see :func:`attach`)."""
    xml = etree.tostring(found, encoding="unicode")
    try:
        dom.detachDeviceFlags(xml, _flags(dom))
        return "hotplug" if dom.isActive() else "next start"
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
            raise
    root = _persistent(dom)
    for el in root.findall(f"devices/{found.tag}"):
        if _same(el, found):
            el.getparent().remove(el)
    _redefine(conn, root)
    return "next start"


def _same(a: etree._Element, b: etree._Element) -> bool:
    return etree.tostring(a) == etree.tostring(b)


def _missing(what: str) -> libvirt.libvirtError:
    """A libvirt-shaped error for a device the domain does not have (the job fails, nothing changes)."""
    err = libvirt.libvirtError(what)
    err.err = (libvirt.VIR_ERR_OPERATION_INVALID, 0, what, 2, "", None, None, 0, 0)
    return err


# ----------------------------------------------------------------------------- NICs
def _mac(el: etree._Element) -> str:
    mac = el.find("mac")
    return (mac.get("address") if mac is not None else "").lower()


def _reported(root: etree._Element, server: Server, added: dict | None = None) -> list[dict]:
    """Every NIC of the domain in the event contract's shape: the new one from its spec, the others as the DB
    knows them by MAC (a libvirt host keeps no addresses), unknown ones with their host link only."""
    known = {n.mac.lower(): n for n in ServerNIC.objects.filter(server=server)}
    out = []
    for index, el in enumerate(root.findall("devices/interface")):
        mac, source = _mac(el), el.find("source")
        host_link = (source.get("bridge") or source.get("network") or "") if source is not None else ""
        nic: dict[str, Any] = {"index": index, "mac": mac, "ip": None, "network": None, "mode": "bridged", "link": host_link}
        if added is not None and mac == (added.get("mac") or "").lower():
            ip = added.get("ip")
            nic |= {"ip": ip if ip and ip != "pool" else None, "network_id": added.get("network_id")}
        elif (row := known.get(mac)) is not None:
            nic |= {
                "ip": row.ipv4 or row.ipv6,
                "network_id": row.network_id and str(row.network_id),
                "mode": row.mode or "bridged",
            }
        out.append(nic)
    return out


def add_nic(server: Server, *, extra: dict | None = None, depends: Any = (), **params: Any) -> int:
    """Add a NIC at the end (a spec as :func:`logic.ganeti_jobs.add_nic` takes it: ``mac``, ``ip``, ``link``,
    ``mode``, ``network_id``); ``depends`` (Ganeti network jobs) has no meaning on a libvirt host."""
    del depends
    spec = {k: v for k, v in params.items() if v is not None} | dict(extra or {})
    if not spec.get("mac"):
        raise NotSupported("a NIC on a libvirt backend needs its port's MAC")
    device = nic_xml.interface_for(spec)
    jobs = _jobs()

    def work(conn):
        dom = jobs._domain(conn, server)
        how = attach(conn, dom, device)
        log.info("NIC %s added to %s (%s)", spec["mac"], server.ganeti_name, how)
        return {"nics": _reported(_persistent(dom), server, added=spec)}

    return jobs._run(server, OpCode.INSTANCE_SET_PARAMS, "add NIC", work)


def remove_nic(server: Server, index: int) -> int:
    """Remove the NIC reported at ``index``: the domain's interface with that NIC's MAC."""
    row = ServerNIC.objects.filter(server=server, index=int(index)).first()
    if row is None:
        raise NotSupported(f"server {server.id} has no NIC {index}")
    mac = row.mac.lower()
    jobs = _jobs()

    def work(conn):
        dom = jobs._domain(conn, server)
        found = next((el for el in _persistent(dom).findall("devices/interface") if _mac(el) == mac), None)
        if found is None:
            raise _missing(f"domain {server.ganeti_name} has no interface with MAC {mac}")
        how = detach(conn, dom, found)
        log.info("NIC %s removed from %s (%s)", mac, server.ganeti_name, how)
        return {"nics": _reported(_persistent(dom), server)}

    return jobs._run(server, OpCode.INSTANCE_SET_PARAMS, f"remove NIC {index}", work)


# ----------------------------------------------------------------------------- volumes
def volume_config() -> ceph.RbdConfig:
    conf = settings.CYCLADES
    return ceph.RbdConfig(conffile=conf["VOLUME_RBD_CONF"], user=conf["VOLUME_RBD_USER"], pool=conf["VOLUME_RBD_POOL"])


def check_volume(volume: Volume) -> None:
    """NotSupported (a 400) for a volume a libvirt host cannot attach: only ``ext`` (RBD) volumes."""
    template = volume.volume_type.disk_template
    if not volume_rbd.is_rbd(template):
        raise NotSupported(
            f"Volume {volume.id} is of type {volume.volume_type.name} (disk template {template}): a libvirt "
            f"backend attaches volumes of the {volume_rbd.TEMPLATE} (RBD) template only."
        )


def volume_disk(volume: Volume, uri: str) -> etree._Element:
    """The ``<disk>`` of an RBD volume: a network disk on its image, target its device (``vdb``...)."""
    cfg = volume_config()
    disk = etree.Element("disk", type="network", device="disk")
    etree.SubElement(disk, "driver", name="qemu", type="raw", cache="none")
    disks._rbd_source(disk, cfg, volume.ganeti_name, uri)
    target = (volume.device or "").removeprefix("/dev/") or "vdb"
    etree.SubElement(disk, "target", dev=target, bus="virtio")
    etree.SubElement(disk, "serial").text = str(volume.id).replace("-", "")[:20]
    return disk


def _volume_element(root: etree._Element, volume: Volume) -> etree._Element | None:
    name = f"{volume_config().pool}/{volume.ganeti_name}"
    return next((el for el in root.findall("devices/disk") if el.find(f"source[@name='{name}']") is not None), None)


def attach_volume(volume: Volume, server: Server) -> int:
    """Give the domain the volume's RBD image as a disk (live while it runs)."""
    check_volume(volume)
    jobs = _jobs()
    uri = jobs._backend(server).libvirt_uri
    device = volume_disk(volume, uri)

    def work(conn):
        if ceph.uses_secrets(uri):
            ceph.ensure_secret(conn, volume_config())
        dom = jobs._domain(conn, server)
        how = attach(conn, dom, device)
        log.info("volume %s attached to %s as %s (%s)", volume.ganeti_name, server.ganeti_name, volume.device, how)

    return jobs._run(server, OpCode.INSTANCE_SET_PARAMS, f"attach volume {volume.id}", work)


def detach_volume(volume: Volume, server: Server) -> int:
    """Take the volume's disk off the domain (live while it runs); the RBD image lives on."""
    check_volume(volume)
    jobs = _jobs()

    def work(conn):
        dom = jobs._domain(conn, server)
        found = _volume_element(_persistent(dom), volume)
        if found is None:
            raise _missing(f"domain {server.ganeti_name} has no disk of volume {volume.id}")
        how = detach(conn, dom, found)
        log.info("volume %s detached from %s (%s)", volume.ganeti_name, server.ganeti_name, how)

    return jobs._run(server, OpCode.INSTANCE_SET_PARAMS, f"detach volume {volume.id}", work)
