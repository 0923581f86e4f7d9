"""What reconciliation needs from a libvirt host (:class:`logic.reconcile.InstanceSource`).

:func:`logic.reconcile.reconcile_backend` compares the DB with one bulk listing and repairs
through the same events whatever the backend; this class gives it the host's domains in the
shape of Ganeti's bulk ``GET /2/instances`` (the fields it reads):

* ``oper_state``/``status``: whether the domain runs;
* ``nic.*``: MACs and links from the persistent domain XML (what the driver reports after a NIC
  change; on a host without hotplug the running domain gets it at its next start). A libvirt
  host has no address pools: a NIC whose MAC the DB knows keeps the DB's IP and API network
  (``nic.network_ids``: there is nothing else to compare them with); NICs added or removed on
  the host show as drift;
* ``beparams``: vCPUs and memory of the persistent definition (what a resize rewrote);
* ``tags``: ``<prefix>:server:<id>`` when the domain carries our ``<metadata>`` ownership
  element with that id. libvirt keeps no creation time, so orphans are reported but
  ``--remove-orphans`` never removes them (the grace period cannot be checked).

libvirt operations end inside the API request, so a task still waiting for its job means the
job's message was lost: :meth:`get_job` says the job is unknown, and reconciliation ends the
task by what the host shows (the same rule as for a job Ganeti archived).
"""

from __future__ import annotations

import libvirt
from django.conf import settings
from lxml import etree

from logic.drivers.libvirt.connections import LibvirtUnavailable, connection
from logic.drivers.libvirt.templates import METADATA_NS
from logic.event_messages import server_id_for
from logic.models import Backend, ServerNIC
from logic.models.networks import Network
from logic.rapi.errors import RapiNotFound, RapiUnavailable


def _as_uuid(value: str | None):
    import uuid

    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return value


class LibvirtInstances:
    def __init__(self, backend: Backend):
        self.backend = backend

    def _conn(self) -> libvirt.virConnect:
        try:
            return connection(self.backend.libvirt_uri)
        except LibvirtUnavailable as exc:
            raise RapiUnavailable(str(exc)) from exc

    def list_instances(self) -> list[dict]:
        conn = self._conn()
        try:
            domains = conn.listAllDomains()
            listed = [(dom.name(), dom.isActive(), dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)) for dom in domains]
        except libvirt.libvirtError as exc:
            raise RapiUnavailable(f"libvirt host {self.backend.libvirt_uri}: {exc.get_error_message()}") from exc
        ours = [item for item in listed if server_id_for(item[0]) is not None]
        nics = list(ServerNIC.objects.filter(server_id__in=[server_id_for(name) for name, *_ in ours]))
        known = {(nic.server_id, nic.mac.lower()): nic for nic in nics}
        ganeti_networks = dict(
            Network.objects.filter(pk__in={n.network_id for n in nics if n.network_id}).values_list("pk", "ganeti_network")
        )
        return [self._instance(name, bool(active), persistent, known, ganeti_networks) for name, active, persistent in ours]

    def _instance(self, name: str, active: bool, persistent: str, known: dict, ganeti_networks: dict) -> dict:
        sid = server_id_for(name)
        defined = etree.fromstring(persistent)
        memory = defined.find("memory")
        kib = int(memory.text) * {"KiB": 1, "MiB": 1024, "GiB": 1 << 20}.get(memory.get("unit", "KiB"), 1)
        macs, ips, networks, network_ids, links, modes = [], [], [], [], [], []
        for el in defined.findall("devices/interface"):  # the definition, as the driver reports NIC changes
            mac_el, source = el.find("mac"), el.find("source")
            mac = (mac_el.get("address") if mac_el is not None else "").lower()
            db = known.get((sid, mac))
            macs.append(mac)
            if db is not None:  # what the driver reported at create (no IPAM on the host to ask)
                ips.append(db.ipv4 or db.ipv6 or None)
                networks.append(ganeti_networks.get(_as_uuid(db.network_id)) or None)
                network_ids.append(str(db.network_id) if db.network_id else None)
                links.append(db.link)
                modes.append(db.mode or "bridged")
            else:
                ips.append(None)
                networks.append(None)
                network_ids.append(None)
                links.append((source.get("bridge") or source.get("network")) if source is not None else None)
                modes.append("bridged")
        owner = defined.find(f"metadata/{{{METADATA_NS}}}server")
        tags = []
        if owner is not None and owner.get("id") == str(sid):
            tags.append(f"{settings.CYCLADES['GANETI_PREFIX']}:server:{sid}")
        return {
            "name": name,
            "oper_state": active,
            "status": "running" if active else "ADMIN_down",
            "nic.macs": macs,
            "nic.ips": ips,
            "nic.networks": networks,
            "nic.network_ids": network_ids,
            "nic.links": links,
            "nic.modes": modes,
            "beparams": {"vcpus": int(defined.findtext("vcpu")), "maxmem": kib // 1024},
            "tags": tags,
            "ctime": None,
        }

    def get_job(self, job_id: int) -> dict:
        raise RapiNotFound(f"libvirt backend {self.backend.name}: job {job_id} ended inside its request; its message was lost")

    def remove_instance(self, name: str, *, reason: str | None = None) -> int:
        raise RapiUnavailable(f"libvirt backend {self.backend.name}: orphans are not removed (no creation time to check)")
