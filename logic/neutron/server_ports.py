"""Ports of servers: the compute side of Neutron (``--nic net-id=,v4-fixed-ip=,port-id=``, os-interface).

A server's NIC is a port bound to it (``Port.server``). Ports the compute API
makes for a server (``net-id``) are ``auto_delete``-like: ``device_owner``
``compute:nova`` and they go with the server; ports the user made
(``port-id``) are only unbound when the server goes. The Ganeti NIC carries the
port's MAC and IPv4 address, so what Ganeti reports maps back to the port by MAC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet

from logic.enums import QuotaResource
from logic.errors import InvalidInput
from logic.identity import AuthContext
from logic.models import Backend, FloatingIP, Network, Port, SecurityGroup, Server
from logic.neutron import ganeti_networks, ports, quota, security_groups
from logic.neutron.errors import NeutronConflict
from logic.rapi import RapiClient

COMPUTE_OWNER = "compute:nova"


@dataclass(frozen=True)
class NicRequest:
    """One entry of a server create's ``networks``: a network (with maybe a fixed IP) or a port."""

    network: Network | None = None
    fixed_ip: str | None = None
    port_id: str | None = None


def bind(ctx: AuthContext, server: Server, request: NicRequest, *, groups: Iterable[str] | None = None) -> Port:
    """The port for one NIC of ``server``: a new one on the network, or the caller's unbound port.

    Runs in the caller's transaction; a failure (exhausted pool, taken address,
    port in use) raises before anything is kept.
    """
    if request.port_id is not None:
        port = Port.objects.select_for_update().filter(pk=ports.get(ctx, request.port_id).pk).first()
        if (
            port.server_id is not None
            or port.device_owner.startswith("network:")
            or (port.device_id and port.device_id != str(server.pk))
        ):
            raise NeutronConflict("PortInUse", f"Port {port.pk} is still in use.")
        port.server, port.device_id, port.device_owner = server, str(server.pk), port.device_owner or COMPUTE_OWNER
        port.status = "BUILD"
        port.save(update_fields=["server", "device_id", "device_owner", "status", "updated_at"])
        return port
    body: dict = {"network_id": str(request.network.pk), "device_id": str(server.pk), "device_owner": COMPUTE_OWNER}
    if request.fixed_ip is not None:
        body["fixed_ips"] = [{"ip_address": request.fixed_ip}]
    if groups is not None:
        body["security_groups"] = list(groups)
    port = ports.create(ctx, body, server=server)
    Port.objects.filter(pk=port.pk).update(status="BUILD", made_for_server=True)
    port.status, port.made_for_server = "BUILD", True
    return port


def nics_for_create(
    ctx: AuthContext, server: Server, requests: list[NicRequest], client: RapiClient, backend: Backend
) -> tuple[list[dict], list[int]]:
    """Ports for every requested NIC, the Ganeti NIC specs, and the network jobs the create must depend on."""
    specs, depends = [], []
    for request in requests:
        port = bind(ctx, server, request)
        depends += ganeti_networks.ensure(port.network, backend, client)
        specs.append(ganeti_networks.nic_spec(Port.objects.select_related("network").get(pk=port.pk)))
    return specs, list(dict.fromkeys(depends))


def of_server(server: Server | int) -> QuerySet[Port]:
    return Port.objects.filter(server=server).select_related("network").prefetch_related("fixed_ips", "security_groups")


def activate(server: Server | int) -> None:
    """The server's ports are up (its instance runs with them)."""
    Port.objects.filter(server=server).exclude(status="ACTIVE").update(status="ACTIVE")


def release(server_ids: list[int]) -> None:
    """The servers are gone: their compute-made ports are deleted (addresses freed), the user's unbound.

    A constant number of statements for any number of servers (the dispatcher applies batches).
    """
    with transaction.atomic():
        owned = Port.objects.filter(server_id__in=server_ids, made_for_server=True)
        FloatingIP.objects.filter(port__in=owned).update(port=None, fixed_ip_address=None)
        quota.free(owned.values_list("project_id", flat=True), QuotaResource.PORTS, "servers deleted: their ports go")
        owned.delete()
        Port.objects.filter(server_id__in=server_ids).update(server=None, device_id="", device_owner="", status="DOWN")


def security_group_names(server: Server | int) -> list[str]:
    """The names of the groups of the server's ports (Nova's ``security_groups``), each once."""
    names = SecurityGroup.objects.filter(ports__server=server).order_by("name").values_list("name", flat=True).distinct()
    return list(names)


def add_security_group(ctx: AuthContext, server: Server, name: str) -> None:
    """Put the group (by name or id) on every port of the server (Nova's addSecurityGroup)."""
    (group,) = security_groups.for_port(ctx, server.project, [name])
    server_ports = list(of_server(server))
    if not server_ports:
        raise NeutronConflict("NoPorts", f"Server {server.pk} has no ports to put security group {name} on.")
    for port in server_ports:
        port.security_groups.add(group)


def remove_security_group(ctx: AuthContext, server: Server, name: str) -> None:
    """Take the group off every port of the server; removing the last one leaves the ports without groups."""
    (group,) = security_groups.for_port(ctx, server.project, [name])
    server_ports = [p for p in of_server(server) if group in p.security_groups.all()]
    if not server_ports:
        raise InvalidInput(f"Security group {name} not associated with the instance {server.pk}.")
    for port in server_ports:
        port.security_groups.remove(group)
