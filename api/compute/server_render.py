"""Server JSON for the two personalities (plain dicts: rendering 1,000 servers must be cheap).

* v2.1 (strict Nova): exactly the keys tempest's schemas allow at the negotiated
  microversion (``additionalProperties: false``): :func:`nova_detail` for
  show/detail, :func:`nova_common` for update/rebuild, :func:`nova_summary` for the
  list, :func:`nova_created` for the create answer. :class:`NovaShape` says what a
  body holds at a microversion and for whom (the admin-only attributes).
* v2.0 (Synnefo): :func:`synnefo_detail`, a full server with ``STOPPED``,
  ``DELETED``, ``SNF:*`` fields, as kamaki reads it (also the create answer).

Renderers read :class:`logic.server_rows.ServerRow` objects (``logic.server_rows.load``):
plain columns with the NICs and metadata attached, so rendering makes no query and
builds no model instance. Links are joined from prefixes computed once per request.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from logic import server_status
from logic.enums import OperState
from logic.models import Flavor
from logic.server_rows import AdminFacts, ServerRow, instance_name

_PROGRESS_STATUSES = {"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE"}
_VM_STATE = {
    OperState.BUILD: "building",
    OperState.STARTED: "active",
    OperState.STOPPED: "stopped",
    OperState.ERROR: "error",
    OperState.DESTROYED: "deleted",
}


@dataclass(frozen=True, slots=True)
class NovaShape:
    """What a strict-Nova server body holds, from the negotiated microversion and the caller.

    The admin-only parts follow Nova's default policy (extended server attributes,
    host status): other callers never see them.
    """

    locked: bool = False  # 2.9: ``locked`` (show, detail, update, rebuild)
    description: bool = False  # 2.19: ``description`` (show, detail, update, rebuild)
    tags: bool = False  # 2.26: ``tags`` (show, detail, update, rebuild)
    extended_attributes: bool = False  # admins: OS-EXT-SRV-ATTR:host/instance_name/hypervisor_hostname
    extended_attributes_v23: bool = False  # 2.3, admins: reservation_id ... user_data
    host_status: bool = False  # 2.16, admins: UP/DOWN/MAINTENANCE/UNKNOWN/""
    embedded_flavor: bool = False  # 2.47: the flavor's details instead of its id and links
    trusted_certificates: bool = False  # 2.63: ``trusted_image_certificates`` (always null here)
    server_groups: bool = False  # 2.71: ``server_groups`` (show, update, rebuild; never in lists)
    locked_reason: bool = False  # 2.73: ``locked_reason``
    full_answers: bool = False  # 2.75: update and rebuild answer the whole server, as show does
    hostname: bool = False  # 2.90: ``OS-EXT-SRV-ATTR:hostname`` for everyone
    pinned_availability_zone: bool = False  # 2.96
    image_properties: bool = False  # 2.98: the image's properties inside ``image``
    scheduler_hints: bool = False  # 2.100

    @classmethod
    def of(cls, version, *, admin: bool) -> NovaShape:
        """The shape at ``version`` (a :class:`api.compute.base.Microversion`) for an admin or not."""
        at = (version.major, version.minor)
        return cls(
            locked=at >= (2, 9),
            description=at >= (2, 19),
            tags=at >= (2, 26),
            extended_attributes=admin,
            extended_attributes_v23=admin and at >= (2, 3),
            host_status=admin and at >= (2, 16),
            embedded_flavor=at >= (2, 47),
            trusted_certificates=at >= (2, 63),
            server_groups=at >= (2, 71),
            locked_reason=at >= (2, 73),
            full_answers=at >= (2, 75),
            hostname=at >= (2, 90),
            pinned_availability_zone=at >= (2, 96),
            image_properties=at >= (2, 98),
            scheduler_hints=at >= (2, 100),
        )

    @property
    def needs_admin_facts(self) -> bool:
        return self.extended_attributes or self.host_status


BASE_SHAPE = NovaShape()  # microversion 2.1, not an admin


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """``2024-05-01T12:00:00Z`` (``isoformat`` is several times faster than ``strftime``)."""
    return _utc(value).isoformat(timespec="seconds")[:19] + "Z" if value else None


def iso_usec(value: datetime | None) -> str | None:
    """``2024-05-01T12:00:00.000000`` (Nova's launched_at/terminated_at)."""
    return _utc(value).isoformat(timespec="microseconds")[:26] if value else None


class Links:
    """Link builder bound to one request (``http://H/compute`` and the personality's version)."""

    def __init__(self, base: str, version: str):
        self.base = base
        self.version = version
        self._versioned = f"{base}/{version}/"
        self._bookmark = f"{base}/"

    def self_and_bookmark(self, kind: str, ident: object) -> list[dict]:
        return [
            {"rel": "self", "href": f"{self._versioned}{kind}/{ident}"},
            {"rel": "bookmark", "href": f"{self._bookmark}{kind}/{ident}"},
        ]

    def bookmark(self, kind: str, ident: object) -> list[dict]:
        return [{"rel": "bookmark", "href": f"{self._bookmark}{kind}/{ident}"}]


@lru_cache(maxsize=4096)
def _host_id(project_id: str, backend_id: int) -> str:
    return hashlib.sha224(f"{project_id}{backend_id}".encode()).hexdigest()


def hashed_host_id(project_id: str, backend_id: int) -> str:
    """Nova's hostId of a placement: an opaque per-project hash of the backend."""
    return _host_id(project_id, backend_id)


def host_id(server: ServerRow) -> str:
    """Nova's hostId: an opaque per-project hash of where the server runs ('' when not placed)."""
    if not server.backend_id:
        return ""
    return _host_id(server.project_id, server.backend_id)


def addresses(server: ServerRow, *, extended: bool) -> dict[str, list[dict]]:
    """``{network name: [{version, addr, ...}]}`` from the server's NICs."""
    result: dict[str, list[dict]] = {}
    for nic in server.nics:
        entries = result.setdefault(nic.network_name, [])
        ipv6 = [nic.ipv6] if nic.ipv6 else []
        ipv6 += [a for a in nic.port_ipv6 or () if a not in ipv6]  # SLAAC addresses we computed
        fixed = [(4, nic.ipv4)] if nic.ipv4 else []
        for version, addr, kind in [*((v, a, "fixed") for v, a in fixed), *((6, a, "fixed") for a in ipv6),
                                    *((4, a, "floating") for a in nic.floating or ())]:  # fmt: skip
            entry = {"version": version, "addr": addr}
            if extended:
                entry["OS-EXT-IPS:type"] = kind
                if nic.mac:
                    entry["OS-EXT-IPS-MAC:mac_addr"] = nic.mac.lower()
            entries.append(entry)
    return result


def security_groups(server: ServerRow) -> list[dict] | None:
    """Nova's ``security_groups``: the groups of the server's ports (None: leave the key out, it has none).

    A server whose NICs predate ports shows the project's ``default`` group, as before.
    """
    if server.security_groups is None:
        return [{"name": "default"}]
    return [{"name": name} for name in server.security_groups] or None


def metadata(server: ServerRow) -> dict[str, str]:
    return dict(server.metadata)


# Status, task state and power state depend on a handful of column combinations
# (the status on the same columns as logic.server_status.server_status reads):
# memoized, as deriving them (enum lookups) for every server of a page adds up.
_status = lru_cache(maxsize=256)(server_status.derive_status)
_task_state = lru_cache(maxsize=64)(server_status.task_state)
_power_state = lru_cache(maxsize=64)(server_status.power_state)


def status_of(server: ServerRow) -> str:
    """Nova's status of a server row (:func:`logic.server_status.derive_status`)."""
    return _status(
        server.operstate,
        server.task,
        deleted=server.deleted,
        awaiting_resize_confirm=server.awaiting_resize_confirm,
        backend_opcode=server.backend_opcode,
        backend_jobstatus=server.backend_jobstatus,
        backend_reboot_type=server.backend_reboot_type,
    )


def nova_summary(server: ServerRow, links: Links) -> dict:
    return {"id": str(server.pk), "name": server.name, "links": links.self_and_bookmark("servers", server.pk)}


def nova_created(server: ServerRow, links: Links, admin_pass: str | None) -> dict:
    body = {
        "id": str(server.pk),
        "links": links.self_and_bookmark("servers", server.pk),
        "OS-DCF:diskConfig": "MANUAL",
        "security_groups": [{"name": "default"}],
    }
    if admin_pass is not None:
        body["adminPass"] = admin_pass
    return body


def embedded_flavor(flavor: Flavor) -> dict:
    """Nova's flavor as embedded in a server from 2.47 (what the server was built with)."""
    return {
        "vcpus": flavor.vcpus,
        "ram": flavor.ram,
        "disk": flavor.disk,
        "ephemeral": flavor.ephemeral,
        "swap": flavor.swap,
        "original_name": flavor.name,
        "extra_specs": {str(k): str(v) for k, v in (flavor.extra_specs or {}).items()},
    }


def image_properties(properties: Mapping | None) -> dict[str, str | None]:
    """An image's properties as a server shows them from 2.98 (strings of at most 255 characters, or null)."""
    result: dict[str, str | None] = {}
    for key, value in (properties or {}).items():
        if not _PROPERTY_KEY.fullmatch(str(key)):
            continue  # Nova's schema admits only these keys
        result[str(key)] = None if value is None else str(value)[:255]
    return result


_PROPERTY_KEY = re.compile(r"[a-zA-Z0-9_:. ]{1,255}")


def nova_common(
    server: ServerRow,
    links: Links,
    shape: NovaShape = BASE_SHAPE,
    *,
    status: str | None = None,
    extended_ips: bool = False,
    flavors: Mapping[int, dict] | None = None,
    images: Mapping[str, dict] | None = None,
    single: bool = False,
) -> dict:
    """The fields every full server view has (tempest's ``common_show_server``), as of ``shape``.

    ``flavors``: the embedded flavors by id (:func:`embedded_flavor`), needed from 2.47;
    ``images``: the image properties by image id (:func:`image_properties`), from 2.98;
    ``single``: one server's answer (show, update, rebuild), not a list's entry.
    """
    status = status or status_of(server)
    body = {
        "id": str(server.pk),
        "name": server.name,
        "status": status,
        "tenant_id": server.project_id,
        "user_id": server.user_id,
        "metadata": metadata(server),
        "hostId": host_id(server),
        "image": {"id": str(server.image_id), "links": links.bookmark("images", server.image_id)} if server.image_id else "",
        "flavor": {"id": str(server.flavor_id), "links": links.bookmark("flavors", server.flavor_id)},
        "created": iso(server.created_at),
        "updated": iso(server.updated_at),
        "addresses": addresses(server, extended=extended_ips),
        "accessIPv4": server.access_ipv4 or "",
        "accessIPv6": server.access_ipv6 or "",
        "links": links.self_and_bookmark("servers", server.pk),
        "OS-DCF:diskConfig": "MANUAL",
    }
    if status in _PROGRESS_STATUSES:
        body["progress"] = server.build_percentage if status == "BUILD" else 100
    if status in ("ERROR", "DELETED") and server.fault:
        body["fault"] = {k: server.fault[k] for k in ("code", "message", "created", "details") if k in server.fault}
    if shape.locked:
        body["locked"] = server.locked
    if shape.description:
        body["description"] = server.description
    if shape.tags:
        body["tags"] = list(server.tags)
    if shape.embedded_flavor and flavors is not None:
        body["flavor"] = flavors[server.flavor_id]
    if shape.image_properties and server.image_id:
        body["image"]["properties"] = (images or {}).get(server.image_id, {})
    if shape.trusted_certificates:
        body["trusted_image_certificates"] = None  # refused on create and rebuild: never any
    if shape.server_groups and single:
        from logic import server_groups  # one query, for a single server's body only

        body["server_groups"] = server_groups.group_ids(server.pk)
    if shape.locked_reason:
        body["locked_reason"] = server.locked_reason
    if shape.pinned_availability_zone:
        body["pinned_availability_zone"] = server.pinned_availability_zone
    if shape.scheduler_hints:
        body["scheduler_hints"] = dict(server.scheduler_hints or {})
    return body


def vm_state(server: ServerRow) -> str:
    if server.deleted:
        return "deleted"
    if server.awaiting_resize_confirm:
        return "resized"
    return _VM_STATE.get(server.operstate, "error")


def nova_detail(
    server: ServerRow,
    links: Links,
    shape: NovaShape = BASE_SHAPE,
    facts: AdminFacts | None = None,
    flavors: Mapping[int, dict] | None = None,
    images: Mapping[str, dict] | None = None,
    *,
    single: bool = False,
) -> dict:
    """A server as ``GET /servers/{id}`` and ``/servers/detail`` show it (``facts``: for the admin parts)."""
    body = nova_common(server, links, shape, extended_ips=True, flavors=flavors, images=images, single=single)
    body.update(
        {
            "key_name": server.key_name,
            "security_groups": security_groups(server),
            "config_drive": "",
            "OS-EXT-AZ:availability_zone": "nova",
            "OS-SRV-USG:launched_at": iso_usec(server.launched_at),
            "OS-SRV-USG:terminated_at": iso_usec(server.terminated_at),
            "OS-EXT-STS:task_state": _task_state(server.task),
            "OS-EXT-STS:vm_state": vm_state(server),
            "OS-EXT-STS:power_state": _power_state(server.operstate),
            "os-extended-volumes:volumes_attached": [],
        }
    )
    if body["security_groups"] is None:
        del body["security_groups"]  # Nova leaves the key out for a server without groups
    if facts is not None:
        if shape.extended_attributes:
            body["OS-EXT-SRV-ATTR:host"] = facts.host
            body["OS-EXT-SRV-ATTR:instance_name"] = facts.instance_name
            # one Ganeti cluster is one compute host and one hypervisor node (as a VMware cluster is in Nova)
            body["OS-EXT-SRV-ATTR:hypervisor_hostname"] = facts.host
        if shape.extended_attributes_v23:
            body.update(
                {
                    "OS-EXT-SRV-ATTR:reservation_id": facts.reservation_id,
                    "OS-EXT-SRV-ATTR:launch_index": facts.launch_index,
                    # Ganeti OS definitions boot their own kernel: no separate kernel or ramdisk image
                    "OS-EXT-SRV-ATTR:kernel_id": "",
                    "OS-EXT-SRV-ATTR:ramdisk_id": "",
                    # the OS scripts name the guest after the Ganeti instance (INSTANCE_NAME)
                    "OS-EXT-SRV-ATTR:hostname": server.hostname or facts.instance_name,
                    "OS-EXT-SRV-ATTR:root_device_name": None,
                    "OS-EXT-SRV-ATTR:user_data": facts.user_data,
                }
            )
        if shape.host_status:
            body["host_status"] = facts.host_status
    if shape.hostname:
        # 2.90: everyone sees the hostname (what the guest is told; the instance name unless one was asked for)
        body["OS-EXT-SRV-ATTR:hostname"] = server.hostname or instance_name(server.pk)
    return body


def synnefo_status(server: ServerRow) -> str:
    status = status_of(server)
    return "STOPPED" if status == "SHUTOFF" else status


def synnefo_detail(server: ServerRow, links: Links) -> dict:
    """A server the way Synnefo's API (and kamaki) shows it."""
    status = synnefo_status(server)
    body = nova_common(server, links, status=status, extended_ips=True)
    body.update(
        {
            "key_name": server.key_name,
            "security_groups": security_groups(server) or [],
            "config_drive": "",
            "progress": server.build_percentage if status == "BUILD" else 100,
            "suspended": False,
            "deleted": bool(server.deleted),
            "diagnostics": [],
            "attachments": [
                {
                    "id": f"nic-{server.pk}-{nic.index}",
                    "network_id": nic.network_id or nic.network_name,
                    "mac_address": nic.mac,
                    "ipv4": nic.ipv4 or "",
                    "ipv6": nic.ipv6 or "",
                    "firewallProfile": "DISABLED",
                    "OS-EXT-IPS:type": "fixed",
                    "port_id": nic.id,
                }
                for nic in server.nics
            ],
            "SNF:task_state": _task_state(server.task) or "",
            "SNF:fqdn": "",
            "SNF:port_forwarding": {},
            "SNF:locked": server.locked,
            "OS-EXT-STS:task_state": _task_state(server.task),
        }
    )
    return body
