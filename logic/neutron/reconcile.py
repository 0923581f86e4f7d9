"""Drift between the networks our database records and what each Ganeti cluster has.

Findings, per backend:

* ``missing``: a network copy we recorded is not in Ganeti (removed by an operator);
  ``--fix`` makes it again (add + connects) through :func:`ganeti_networks.ensure`.
* ``range``: the Ganeti network's IPv4 range is not the subnet's (reported only).
* ``disconnected``: the Ganeti network is connected to no node group; ``--fix`` connects it.
* ``orphan``: a Ganeti network with this cloud's name prefix that no network copy owns
  (reported; an operator removes it with ``gnt-network remove``).
* ``nic``: a port bound to an idle server whose NIC Ganeti does not report (reported:
  ``reconcile-servers`` brings Ganeti's NICs back; detach/attach repairs the port).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from logic.enums import OperState
from logic.models import Backend, BackendNetwork, Port, ServerNIC, Subnet
from logic.neutron import ganeti_networks
from logic.rapi import RapiClient


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str
    detail: str
    fixed: bool = False


def _groups(info: dict) -> list[str]:
    return [g[0] if isinstance(g, list | tuple) else str(g).split("(")[0].strip() for g in info.get("group_list") or []]


def check(backend: Backend, client: RapiClient, *, fix: bool = False) -> list[Finding]:
    found: list[Finding] = []
    in_ganeti = {n["name"]: n for n in client.list_networks(bulk=True)}
    copies = list(BackendNetwork.objects.filter(backend=backend).select_related("network"))
    for copy in copies:
        info = in_ganeti.get(copy.ganeti_name)
        if info is None:
            repaired = False
            if fix:
                with transaction.atomic():
                    BackendNetwork.objects.filter(pk=copy.pk).update(
                        state=BackendNetwork.State.PENDING, add_job_id=None, connect_jobs={}
                    )
                    ganeti_networks.ensure(copy.network, backend, client)
                repaired = True
            found.append(Finding("missing", copy.ganeti_name, f"network {copy.network_id} has no Ganeti network", repaired))
            continue
        v4 = Subnet.objects.filter(network=copy.network, ip_version=4).order_by("created_at").first()
        if v4 is not None and info.get("network") != v4.cidr:
            found.append(Finding("range", copy.ganeti_name, f"Ganeti has {info.get('network')}, the subnet is {v4.cidr}"))
        if not _groups(info):
            repaired = False
            if fix:
                with transaction.atomic():
                    BackendNetwork.objects.filter(pk=copy.pk).update(state=BackendNetwork.State.PENDING, connect_jobs={})
                    ganeti_networks.ensure(copy.network, backend, client)
                repaired = True
            found.append(Finding("disconnected", copy.ganeti_name, "connected to no node group", repaired))
    owned = {c.ganeti_name for c in copies}
    prefix = f"{settings.CYCLADES['GANETI_PREFIX']}-net-"
    for name in sorted(in_ganeti):
        if name.startswith(prefix) and name not in owned:
            found.append(Finding("orphan", name, "a Ganeti network of this cloud that no network copy owns"))
    idle = Port.objects.filter(server__backend=backend, server__task__isnull=True,
                               server__operstate__in=[OperState.STARTED, OperState.STOPPED])  # fmt: skip
    reported = set(ServerNIC.objects.filter(server__backend=backend).values_list("server_id", "mac"))
    for port in idle.only("pk", "mac", "server_id"):
        if (port.server_id, port.mac) not in reported:
            found.append(Finding("nic", str(port.pk), f"server {port.server_id} has no NIC with MAC {port.mac} in Ganeti"))
    return found
