"""Compute nodes: each Ganeti node of each backend, as Nova's hypervisors and ``nova-compute`` services.

:func:`read_nodes` reads every online Ganeti backend's nodes and instances from its RAPI
(two bulk calls per backend) and keeps one :class:`logic.models.ComputeNode` row per node
(created the first time the node is seen, marked not ``present`` once the cluster no longer
lists it). The figures are Ganeti's, per node:

* memory: ``mtotal`` (``memory_mb``), ``mtotal - mfree`` (``memory_mb_used``);
* disk: ``dtotal`` / ``dfree`` (MiB, shown in GiB);
* CPUs: ``ctotal``; used: Σ vCPUs of the instances whose primary node it is;
* ``running_vms``: the instances whose primary node it is (``pinst_cnt``).

A node is *up* when its backend answers and Ganeti does not mark it offline. A libvirt
backend is one node (its host) with the backend's cached figures. An offline backend makes
no RAPI call: its known nodes are shown *down*, with zero figures (nothing is measured).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from logic.backends import client_for
from logic.models import Backend, ComputeNode, Server
from logic.rapi import RapiError

log = logging.getLogger(__name__)

#: namespace of the uuids given to libvirt hosts (Ganeti nodes have their own)
LIBVIRT_NODE_NAMESPACE = uuid.UUID("5f0e4c55-2d0c-4f55-9b5e-1e5b7c0a6d21")


@dataclass
class NodeFacts:
    """One compute node as the cluster reports it now."""

    node: ComputeNode
    backend: Backend
    up: bool
    memory_mb: int = 0
    memory_mb_used: int = 0
    disk_mb: int = 0
    disk_free_mb: int = 0
    vcpus: int = 0
    vcpus_used: int = 0
    running_vms: int = 0
    cpu_info: dict = field(default_factory=dict)
    servers: list[Server] = field(default_factory=list)
    hypervisor_version: int = 0

    @property
    def hypervisor_type(self) -> str:
        return self.backend.hypervisor or ("QEMU" if self.backend.kind == Backend.Kind.LIBVIRT else "ganeti")


def version_number(text: str) -> int:
    """``"3.0.2"`` → 3000002 (Nova's ``major*1000000 + minor*1000 + patch``); 0 when unknown."""
    parts = [int(p) for p in text.split(".")[:3] if p.isdigit()] if text else []
    parts += [0] * (3 - len(parts))
    return parts[0] * 1_000_000 + parts[1] * 1_000 + parts[2] if text else 0


def _n(value: object) -> int:
    return int(value or 0)


def _sync_rows(backend: Backend, listed: list[dict]) -> dict[str, ComputeNode]:
    """Create or refresh the rows of the nodes the cluster lists; the others are no longer present."""
    now = timezone.now()
    rows: dict[str, ComputeNode] = {}
    with transaction.atomic():
        known = {n.name: n for n in ComputeNode.objects.select_for_update().filter(backend=backend)}
        for item in listed:
            name = item["name"]
            node_uuid = uuid.UUID(str(item["uuid"]))
            row = known.pop(name, None)
            if row is None:
                row = ComputeNode.objects.create(
                    backend=backend, name=name, uuid=node_uuid, host_ip=item.get("pip") or "", seen_at=now
                )
                log.info("backend %s: compute node %s recorded", backend.name, name)
            else:
                row.uuid, row.host_ip, row.present, row.seen_at = node_uuid, item.get("pip") or "", True, now
                row.save(update_fields=["uuid", "host_ip", "present", "seen_at", "updated_at"])
            rows[name] = row
        for gone in known.values():
            if gone.present:
                gone.present = False
                gone.save(update_fields=["present", "updated_at"])
    return rows


def _ganeti_nodes(backend: Backend) -> list[NodeFacts]:
    try:
        with client_for(backend) as client:
            info = client.get_info()
            listed = client.list_nodes(bulk=True)
            instances = client.list_instances()
    except RapiError as exc:
        log.warning("backend %s: cannot read its nodes: %s", backend.name, exc)
        return _down_nodes(backend)
    rows = _sync_rows(backend, listed)
    servers = {s.ganeti_name: s for s in Server.objects.filter(backend=backend, deleted=False).order_by("id")}
    version = version_number(info.get("software_version") or "")
    facts = []
    for item in listed:
        mine = [i for i in instances if i.get("pnode") == item["name"]]
        facts.append(
            NodeFacts(
                node=rows[item["name"]],
                backend=backend,
                up=not item.get("offline"),
                memory_mb=_n(item.get("mtotal")),
                memory_mb_used=max(0, _n(item.get("mtotal")) - _n(item.get("mfree"))),
                disk_mb=_n(item.get("dtotal")),
                disk_free_mb=_n(item.get("dfree")),
                vcpus=_n(item.get("ctotal")),
                vcpus_used=sum(_n((i.get("beparams") or {}).get("vcpus")) for i in mine),
                running_vms=_n(item.get("pinst_cnt")),
                cpu_info={
                    "sockets": _n(item.get("csockets")),
                    "cores": _n(item.get("cnos")),
                    "nodes": _n(item.get("cnodes")),
                },
                servers=[servers[i["name"]] for i in mine if i["name"] in servers],
                hypervisor_version=version,
            )
        )
    return facts


def _down_nodes(backend: Backend) -> list[NodeFacts]:
    return [NodeFacts(node=n, backend=backend, up=False) for n in ComputeNode.objects.filter(backend=backend, present=True)]


def _libvirt_node(backend: Backend) -> NodeFacts:
    """A libvirt backend is one host: its node row, with the backend's cached capacity."""
    node_uuid = uuid.uuid5(LIBVIRT_NODE_NAMESPACE, f"{backend.pk}:{backend.libvirt_uri}")
    row, _ = ComputeNode.objects.get_or_create(backend=backend, name=backend.name, defaults={"uuid": node_uuid})
    servers = list(Server.objects.filter(backend=backend, deleted=False).order_by("id"))
    return NodeFacts(
        node=row,
        backend=backend,
        up=not backend.offline,
        memory_mb=backend.mem_total,
        memory_mb_used=backend.mem_total - backend.mem_free,
        vcpus=backend.cpu_total,
        vcpus_used=backend.cpu_total - backend.cpu_free,
        running_vms=len(servers),
        servers=servers,
    )


def read_nodes(backends: list[Backend] | None = None) -> list[NodeFacts]:
    """Every compute node of ``backends`` (default: all), in a stable order (node row id)."""
    facts: list[NodeFacts] = []
    for backend in backends if backends is not None else Backend.objects.order_by("id"):
        if backend.kind == Backend.Kind.LIBVIRT:
            facts.append(_libvirt_node(backend))
        elif backend.offline:
            facts.extend(_down_nodes(backend))
        else:
            facts.extend(_ganeti_nodes(backend))
    return sorted(facts, key=lambda f: f.node.pk)


def known_nodes() -> list[ComputeNode]:
    """The node rows as last synced, without asking any cluster (services, the allocator)."""
    for backend in Backend.objects.filter(offline=False).exclude(compute_nodes__isnull=False):
        read_nodes([backend])  # first sight of a backend: record its nodes once
    return list(ComputeNode.objects.filter(present=True).select_related("backend").order_by("id"))
