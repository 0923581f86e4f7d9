"""Nova's floating IP and tenant network proxies (``os-floating-ips``, ``os-floating-ip-pools``, ``addFloatingIp``/
``removeFloatingIp``, ``os-tenant-networks``).

Up to microversion 2.35 (the actions to 2.43), as in Nova: a pool is an external
network (by name), ``instance_id`` the server whose port holds the address.
Errors in Nova's words and statuses over :mod:`logic.neutron.floating_ips`.
"""

from __future__ import annotations

from typing import Any

from logic import networks as network_reads
from logic.errors import ConflictError, InvalidInput, NotFoundError
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import FloatingIP, Network, Server
from logic.neutron import floating_ips, server_ports
from logic.neutron.errors import NeutronBadRequest, NeutronConflict, NeutronNotFound


def _render(fip: FloatingIP) -> dict[str, Any]:
    server = fip.port.server_id if fip.port is not None else None
    return {
        "id": str(fip.pk),
        "ip": fip.floating_ip_address,
        "fixed_ip": fip.fixed_ip_address,
        "instance_id": str(server) if server is not None else None,
        "pool": fip.floating_network.name,
    }


def _get(ctx: AuthContext, fip_id: str) -> FloatingIP:
    try:
        return floating_ips.get(ctx, fip_id)
    except NeutronNotFound:
        raise NotFoundError(f"Floating IP {fip_id} could not be found.") from None


def _by_address(ctx: AuthContext, address: object) -> FloatingIP:
    if not isinstance(address, str) or not address:
        raise InvalidInput("The action requires {'address': <floating IP address>}.")
    fip = floating_ips.visible(ctx).filter(project=ctx.project, floating_ip_address=address).first()
    if fip is None:
        raise NotFoundError(f"Floating IP not found for address {address}.")
    return fip


def pools() -> list[dict[str, str]]:
    return [{"name": n.name} for n in Network.objects.filter(public=True, deleted=False).order_by("name")]


def listing(ctx: AuthContext) -> list[dict[str, Any]]:
    fips = floating_ips.visible(ctx).filter(project=ctx.project).select_related("floating_network", "port")
    return [_render(f) for f in fips.order_by("created_at")]


def show(ctx: AuthContext, fip_id: str) -> dict[str, Any]:
    return _render(_get(ctx, fip_id))


def allocate(ctx: AuthContext, body: object) -> dict[str, Any]:
    pool = body.get("pool") if isinstance(body, dict) else None
    networks = Network.objects.filter(public=True, deleted=False).order_by("created_at")
    network = (networks.filter(name=pool).first() or _by_id(networks, pool)) if pool else networks.first()
    if network is None:
        raise NotFoundError(f"Floating IP pool not found: {pool}." if pool else "No floating IP pool is configured.")
    try:
        return _render(floating_ips.create(ctx, {"floating_network_id": str(network.pk)}))
    except NeutronBadRequest as exc:  # the pool has no IPv4 subnet or no free address
        raise NotFoundError(f"No more floating IPs in pool {network.name}: {exc}") from None


def _by_id(networks, pool: object):
    pk = parse_uuid(pool)
    return networks.filter(pk=pk).first() if pk is not None else None


def release(ctx: AuthContext, fip_id: str) -> None:
    floating_ips.delete(ctx, _get(ctx, fip_id).pk)


def associate(ctx: AuthContext, server: Server, args: object) -> None:
    fip = _by_address(ctx, args.get("address") if isinstance(args, dict) else None)
    fixed = args.get("fixed_address")
    ports = list(server_ports.of_server(server).prefetch_related("fixed_ips"))
    if fixed is not None:
        ports = [p for p in ports if fixed in {a.ip_address for a in p.fixed_ips.all()}]
        if not ports:
            raise InvalidInput(f"Fixed address {fixed} is not one of server {server.pk}'s.")
    ports = [p for p in ports if any("." in a.ip_address for a in p.fixed_ips.all())]
    if not ports:
        raise InvalidInput(f"Server {server.pk} has no port with an IPv4 address to associate a floating IP with.")
    try:
        floating_ips.update(ctx, fip.pk, {"port_id": str(ports[0].pk), "fixed_ip_address": fixed})
    except (NeutronBadRequest, NeutronConflict) as exc:
        raise InvalidInput(str(exc)) from None


def disassociate(ctx: AuthContext, server: Server, args: object) -> None:
    fip = _by_address(ctx, args.get("address") if isinstance(args, dict) else None)
    if fip.port is None or fip.port.server_id != server.pk:
        raise ConflictError(f"Floating IP {fip.floating_ip_address} is not associated with instance {server.pk}.")
    floating_ips.update(ctx, fip.pk, {"port_id": None})


# ------------------------------------------------------------------ os-tenant-networks (read-only)
def _tenant_network(network: Network) -> dict[str, Any]:
    v4 = network.subnets.filter(ip_version=4).order_by("created_at").values_list("cidr", flat=True).first()
    return {"id": str(network.pk), "label": network.name, "cidr": v4 or network.cidr or None}


def tenant_networks(ctx: AuthContext) -> list[dict[str, Any]]:
    """Nova's ``os-tenant-networks``: the networks the project sees (its own, shared and external ones)."""
    return [_tenant_network(n) for n in network_reads.visible(ctx).filter(deleted=False).order_by("created_at")]


def tenant_network(ctx: AuthContext, network_id: str) -> dict[str, Any]:
    try:
        return _tenant_network(network_reads.get(ctx, network_id))
    except NotFoundError:
        raise NotFoundError(f"Network {network_id} could not be found.") from None
