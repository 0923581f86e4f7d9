"""A server's NICs on a libvirt host: ``<interface>`` elements from the API's NIC specs, and back.

A spec with a ``link`` is a bridge on the host (``mode`` bridged, Ganeti's default);
one without becomes a NIC on the host's libvirt network ``CYCLADES["LIBVIRT_NETWORK"]``
(``default``). Ganeti networks and their address pools do not exist on a libvirt
host: an address is reported only when the request fixed it.
"""

from __future__ import annotations

from django.conf import settings
from lxml import etree

from logic.drivers.libvirt.jobs_errors import NotSupported


def interface_for(spec: dict) -> etree._Element:
    mode = spec.get("mode") or "bridged"
    if mode != "bridged":
        raise NotSupported(f"NIC mode {mode!r} is not supported on libvirt backends (only bridged)")
    if spec.get("link"):
        el = etree.Element("interface", type="bridge")
        etree.SubElement(el, "source", bridge=spec["link"])
    else:
        el = etree.Element("interface", type="network")
        etree.SubElement(el, "source", network=settings.CYCLADES.get("LIBVIRT_NETWORK") or "default")
    if spec.get("mac"):
        etree.SubElement(el, "mac", address=spec["mac"])
    etree.SubElement(el, "model", type="virtio")
    return el


def add_interfaces(xml: str, specs: list[dict]) -> etree._Element:
    """The domain document with one ``<interface>`` per spec appended to ``<devices>``."""
    root = etree.fromstring(xml)
    devices = root.find("devices")
    if devices is None:
        devices = etree.SubElement(root, "devices")
    for spec in specs:
        devices.append(interface_for(spec))
    return root


def reported(domain_xml: str, specs: list[dict]) -> list[dict]:
    """The NICs as the event contract reports them (``instance_nics``), MACs as libvirt assigned them."""
    root = etree.fromstring(domain_xml)
    out = []
    for index, (el, spec) in enumerate(zip(root.findall("devices/interface"), specs, strict=False)):
        mac = el.find("mac")
        ip = spec.get("ip")
        out.append(
            {
                "index": index,
                "mac": mac.get("address") if mac is not None else "",
                "ip": ip if ip and ip != "pool" else None,
                "network": spec.get("network"),
                "network_id": spec.get("network_id"),
                "mode": spec.get("mode") or "bridged",
                "link": spec.get("link") or (el.find("source").get("network") if el.find("source") is not None else ""),
            }
        )
    return out
