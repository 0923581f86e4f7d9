"""Subnets: validation of CIDR, gateway, pools, DNS servers, host routes and IPv6 modes; create, update, delete."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from logic.enums import QuotaResource
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import IPAllocation, Network, Subnet
from logic.neutron import ipam, nets, quota
from logic.neutron.errors import NeutronConflict, NeutronNotFound, invalid, invalid_operation
from logic.neutron.values import boolean, ip_of_version, name_or_description, owner_for, reject_unknown

IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")
MAX_DNS = 5
MAX_ROUTES = 20
_CREATE = {
    "name", "description", "network_id", "ip_version", "cidr", "gateway_ip", "enable_dhcp", "dns_nameservers",
    "host_routes", "allocation_pools", "ipv6_address_mode", "ipv6_ra_mode", "project_id", "tenant_id",
    "subnetpool_id", "prefixlen", "use_default_subnetpool", "service_types", "segment_id",
}  # fmt: skip
_UPDATE = {"name", "description", "gateway_ip", "enable_dhcp", "dns_nameservers", "host_routes", "allocation_pools"}


def visible(ctx: AuthContext) -> QuerySet[Subnet]:
    """Subnets of the networks the caller sees."""
    subnets = Subnet.objects.filter(network__deleted=False).select_related("network")
    if ctx.is_admin:
        return subnets
    # as in Neutron, an external network that is not shared shows its subnets to its owner only
    return subnets.filter(Q(network__shared=True) | Q(network__project=ctx.project))


def get(ctx: AuthContext, subnet_id: object) -> Subnet:
    pk = parse_uuid(subnet_id)
    subnet = visible(ctx).filter(pk=pk).first() if pk is not None else None
    if subnet is None:
        raise NeutronNotFound("Subnet", subnet_id)
    return subnet


def _cidr(value: object, ip_version: int) -> ipam.IPNetwork:
    try:
        net = ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        raise invalid("cidr", f"'{value}' is not a valid IP subnet") from None
    if net.network_address != ipaddress.ip_interface(str(value)).ip or "/" not in str(value):
        raise invalid_operation(f"'{value}' isn't a recognized IP subnet cidr, '{net}' is recommended")
    if net.version != ip_version:
        raise invalid_operation("cidr and ip_version must match")
    return net


def _gateway(value: object, net: ipam.IPNetwork) -> ipam.IPAddress | None:
    if value is None:
        return None
    address = ipaddress.ip_address(ip_of_version(value, net.version, "gateway_ip"))
    if address == net.network_address or (net.version == 4 and address == net.broadcast_address):
        raise invalid_operation("Gateway is not valid on subnet")
    return address


def _pools(value: object, net: ipam.IPNetwork, gateway: ipam.IPAddress | None) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise invalid("allocation_pools", f"'{value}' is not a list")
    ranges: list[tuple[ipam.IPAddress, ipam.IPAddress]] = []
    for pool in value:
        if not isinstance(pool, dict) or set(pool) != {"start", "end"}:
            raise invalid("allocation_pools", f"'{pool}' must have exactly the keys start and end")
        start = ipaddress.ip_address(ip_of_version(pool["start"], net.version, "allocation_pools"))
        end = ipaddress.ip_address(ip_of_version(pool["end"], net.version, "allocation_pools"))
        if start > end or start not in net or end not in net:
            raise invalid_operation(f"The allocation pool {start}-{end} spans beyond the subnet cidr {net}")
        if gateway is not None and start <= gateway <= end:
            raise NeutronConflict(
                "GatewayConflictWithAllocationPools", f"Gateway ip {gateway} conflicts with allocation pool {start}-{end}"
            )
        for other_start, other_end in ranges:
            if start <= other_end and other_start <= end:
                raise invalid_operation(f"Found overlapping allocation pools: {start}-{end} and {other_start}-{other_end}")
        ranges.append((start, end))
    return [{"start": str(s), "end": str(e)} for s, e in sorted(ranges)]


def _dns(value: object, version: int) -> list[str]:
    if not isinstance(value, list):
        raise invalid("dns_nameservers", f"'{value}' is not a list")
    if len(value) > MAX_DNS:
        raise invalid_operation(f"Exceeded maximum amount of DNS nameservers ({MAX_DNS})")
    servers = [str(ipaddress.ip_address(ip_of_version(v, None, "dns_nameservers"))) for v in value]
    if len(set(servers)) != len(servers):
        raise invalid("dns_nameservers", f"Duplicate nameserver in '{value}'")
    return servers


def _routes(value: object, version: int) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise invalid("host_routes", f"'{value}' is not a list")
    if len(value) > MAX_ROUTES:
        raise invalid_operation(f"Exceeded maximum amount of host routes ({MAX_ROUTES})")
    routes = []
    for route in value:
        if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
            raise invalid("host_routes", f"'{route}' must have exactly the keys destination and nexthop")
        try:
            destination = ipaddress.ip_network(str(route["destination"]))
        except ValueError:
            raise invalid("host_routes", f"'{route['destination']}' is not a valid IP subnet") from None
        nexthop = ip_of_version(route["nexthop"], version, "host_routes")
        if destination.version != version:
            raise invalid("host_routes", f"'{destination}' is not an IPv{version} subnet")
        routes.append({"destination": str(destination), "nexthop": str(ipaddress.ip_address(nexthop))})
    if len({r["destination"] for r in routes}) != len(routes):
        raise invalid("host_routes", "Duplicate hostroute destination")
    return routes


def _ipv6_modes(body: Mapping[str, Any], net: ipam.IPNetwork) -> tuple[str | None, str | None]:
    address_mode, ra_mode = body.get("ipv6_address_mode"), body.get("ipv6_ra_mode")
    for key, mode in (("ipv6_address_mode", address_mode), ("ipv6_ra_mode", ra_mode)):
        if mode is not None and mode not in IPV6_MODES:
            raise invalid(key, f"'{mode}' is not in {list(IPV6_MODES)}")
    if net.version == 4 and (address_mode or ra_mode):
        raise invalid_operation("ipv6_ra_mode and ipv6_address_mode are only valid for IPv6 subnets")
    if address_mode and ra_mode and address_mode != ra_mode:
        raise invalid_operation(f"ipv6_ra_mode set to '{ra_mode}' with ipv6_address_mode set to '{address_mode}' is not valid. "
                                "If both attributes are set, they must be the same value")  # fmt: skip
    if address_mode in ("slaac", "dhcpv6-stateless") and net.prefixlen != 64:
        raise invalid_operation(f"Invalid CIDR {net} for IPv6 address mode. OpenStack uses the EUI-64 address format, "
                                "which requires the prefix to be /64")  # fmt: skip
    return address_mode, ra_mode


def _check_overlap(network: Network, net: ipam.IPNetwork, exclude: Subnet | None = None) -> None:
    others = Subnet.objects.filter(network=network, ip_version=net.version)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    for other in others:
        if ipaddress.ip_network(other.cidr).overlaps(net):
            raise invalid_operation(f"Requested subnet with cidr: {net} for network: {network.pk} overlaps with another subnet")


def create(ctx: AuthContext, body: Mapping[str, Any]) -> Subnet:
    """A subnet on a network the caller owns (or any, for admins)."""
    reject_unknown("subnet", body, _CREATE)
    if body.get("subnetpool_id") or body.get("use_default_subnetpool"):
        raise invalid_operation("subnet pools are not supported; give a cidr")
    network = nets.get_for_change(ctx, body.get("network_id"), action="create subnets on")
    try:
        version = int(body.get("ip_version", 4))
    except (TypeError, ValueError):
        raise invalid("ip_version", f"'{body.get('ip_version')}' is not a valid integer") from None
    if version not in (4, 6):
        raise invalid("ip_version", f"'{version}' is not in [4, 6]")
    if "cidr" not in body:
        raise invalid_operation("A cidr must be specified in the absence of a subnet pool")
    net = _cidr(body["cidr"], version)
    address_mode, ra_mode = _ipv6_modes(body, net)
    gateway = _gateway(body["gateway_ip"], net) if "gateway_ip" in body else ipam.default_gateway(net)
    pools = _pools(body["allocation_pools"], net, gateway) if body.get("allocation_pools") else ipam.default_pools(net, gateway)
    project = owner_for(ctx, body, default=network.project)
    with transaction.atomic():
        Network.objects.select_for_update().get(pk=network.pk)  # one subnet create per network at a time
        _check_overlap(network, net)
        subnet = Subnet.objects.create(
            network=network,
            project=project,
            name=name_or_description(body, "name"),
            description=name_or_description(body, "description"),
            ip_version=version,
            cidr=str(net),
            gateway_ip=str(gateway) if gateway else None,
            enable_dhcp=boolean(body.get("enable_dhcp", True), "enable_dhcp"),
            dns_nameservers=_dns(body.get("dns_nameservers", []), version),
            host_routes=_routes(body.get("host_routes", []), version),
            allocation_pools=pools,
            ipv6_address_mode=address_mode,
            ipv6_ra_mode=ra_mode,
        )
        nets.touch(network)
        quota.charge(subnet.project_id, QuotaResource.SUBNETS, 1, f"create subnet {subnet.pk}")
    return subnet


def update(ctx: AuthContext, subnet_id: object, body: Mapping[str, Any]) -> Subnet:
    subnet = get(ctx, subnet_id)
    nets.get_for_change(ctx, subnet.network_id, action="update subnets of")
    reject_unknown("subnet", body, _UPDATE, read_only={"cidr", "ip_version", "network_id", "ipv6_address_mode", "ipv6_ra_mode"})
    net = ipam.network_of(subnet)
    with transaction.atomic():
        subnet = Subnet.objects.select_for_update().get(pk=subnet.pk)
        for key in ("name", "description"):
            if key in body:
                setattr(subnet, key, name_or_description(body, key))
        gateway = ipaddress.ip_address(subnet.gateway_ip) if subnet.gateway_ip else None
        if "gateway_ip" in body:
            gateway = _gateway(body["gateway_ip"], net)
            if gateway is not None and IPAllocation.objects.filter(subnet=subnet, ip_address=str(gateway)).exists():
                raise NeutronConflict("GatewayIpInUse", f"Gateway ip {gateway} is in use by a port")
            subnet.gateway_ip = str(gateway) if gateway else None
        if "allocation_pools" in body:
            subnet.allocation_pools = _pools(body["allocation_pools"], net, gateway)
        elif gateway is not None and ipam.in_pools(subnet, gateway):
            raise NeutronConflict("GatewayConflictWithAllocationPools", f"Gateway ip {gateway} conflicts with allocation pools")
        if "enable_dhcp" in body:
            subnet.enable_dhcp = boolean(body["enable_dhcp"], "enable_dhcp")
        if "dns_nameservers" in body:
            subnet.dns_nameservers = _dns(body["dns_nameservers"] or [], subnet.ip_version)
        if "host_routes" in body:
            subnet.host_routes = _routes(body["host_routes"] or [], subnet.ip_version)
        subnet.revision_number += 1
        subnet.save()
    return subnet


def delete(ctx: AuthContext, subnet_id: object) -> None:
    """Delete a subnet none of whose addresses is in use (409 ``SubnetInUse`` otherwise)."""
    subnet = get(ctx, subnet_id)
    nets.get_for_change(ctx, subnet.network_id, action="delete subnets of")
    with transaction.atomic():
        subnet = Subnet.objects.select_for_update().get(pk=subnet.pk)
        if subnet.is_slaac:  # addresses we derived from MACs: the ports simply lose them, as in Neutron
            IPAllocation.objects.filter(subnet=subnet).delete()
        if IPAllocation.objects.filter(subnet=subnet).exists():
            raise NeutronConflict(
                "SubnetInUse",
                f"Unable to complete operation on subnet {subnet.pk}: One or more ports have an IP allocation from this subnet.",
            )
        quota.charge(subnet.project_id, QuotaResource.SUBNETS, -1, f"delete subnet {subnet.pk}")
        subnet.delete()
        nets.touch(subnet.network)
