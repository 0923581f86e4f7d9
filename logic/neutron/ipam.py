"""IP address management: our database decides which address a port gets.

Pools are inclusive ranges inside a subnet's CIDR. An address is taken by
inserting an :class:`~logic.models.IPAllocation` row; the unique constraint on
(subnet, address) makes concurrent takers of the same address fail, and the
loser tries the next free one inside a savepoint. SLAAC subnets don't allocate
from pools: the address is the EUI-64 of the port's MAC, computed here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from django.db import IntegrityError, transaction

from logic.models import IPAllocation, Port, Subnet
from logic.neutron.errors import NeutronConflict

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: How many candidate addresses are checked against the database per query.
_BATCH = 256


def network_of(subnet: Subnet) -> IPNetwork:
    return ipaddress.ip_network(subnet.cidr)


def default_gateway(net: IPNetwork) -> IPAddress | None:
    """The first host address (Neutron's default gateway), None for /31, /32, /127, /128."""
    if net.num_addresses < 4:
        return None
    return net.network_address + 1


def default_pools(net: IPNetwork, gateway: IPAddress | None) -> list[dict[str, str]]:
    """Every host address except the gateway, as Neutron computes it (IPv6 keeps the last address)."""
    if net.num_addresses < 4:
        return [{"start": str(net[0]), "end": str(net[-1])}]
    first, last = net.network_address + 1, net[-2] if net.version == 4 else net[-1]
    if gateway is None or not first <= gateway <= last:
        return [{"start": str(first), "end": str(last)}]
    pools = []
    if gateway > first:
        pools.append({"start": str(first), "end": str(gateway - 1)})
    if gateway < last:
        pools.append({"start": str(gateway + 1), "end": str(last)})
    return pools


def in_pools(subnet: Subnet, address: IPAddress) -> bool:
    return any(ipaddress.ip_address(p["start"]) <= address <= ipaddress.ip_address(p["end"]) for p in subnet.allocation_pools)


def eui64(cidr: str, mac: str) -> str:
    """The SLAAC address of ``mac`` in the /64 ``cidr`` (RFC 4291 modified EUI-64)."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    interface_id = bytes(octets[:3] + [0xFF, 0xFE] + octets[3:])
    prefix = ipaddress.ip_network(cidr).network_address
    return str(ipaddress.IPv6Address(int(prefix) | int.from_bytes(interface_id, "big")))


def _candidates(subnet: Subnet) -> Iterator[IPAddress]:
    gateway = ipaddress.ip_address(subnet.gateway_ip) if subnet.gateway_ip else None
    for pool in subnet.allocation_pools:
        current, end = ipaddress.ip_address(pool["start"]), ipaddress.ip_address(pool["end"])
        while current <= end:
            if current != gateway:
                yield current
            current += 1


def _free(subnet: Subnet) -> Iterator[str]:
    """Free addresses of the subnet's pools, lowest first, checked against the database in batches."""
    batch: list[str] = []
    for address in _candidates(subnet):
        batch.append(str(address))
        if len(batch) == _BATCH:
            yield from _unused(subnet, batch)
            batch = []
    if batch:
        yield from _unused(subnet, batch)


def _unused(subnet: Subnet, batch: list[str]) -> list[str]:
    used = set(IPAllocation.objects.filter(subnet=subnet, ip_address__in=batch).values_list("ip_address", flat=True))
    return [a for a in batch if a not in used]


def take(port: Port, subnet: Subnet, address: str) -> IPAllocation:
    """Give ``port`` the requested ``address``; 409 ``IpAddressAlreadyAllocated`` when it is taken."""
    try:
        with transaction.atomic():
            return IPAllocation.objects.create(port=port, subnet=subnet, ip_address=address)
    except IntegrityError:
        raise NeutronConflict(
            "IpAddressAlreadyAllocated", f"IP address {address} already allocated in subnet {subnet.pk}"
        ) from None


def allocate(port: Port, subnet: Subnet) -> IPAllocation:
    """Give ``port`` the lowest free address of ``subnet`` (its EUI-64 one on SLAAC subnets).

    Raises 409 ``IpAddressGenerationFailure`` when the pools are exhausted.
    """
    if subnet.is_slaac:
        return take(port, subnet, eui64(subnet.cidr, port.mac))
    for address in _free(subnet):
        try:
            with transaction.atomic():
                return IPAllocation.objects.create(port=port, subnet=subnet, ip_address=address)
        except IntegrityError:
            continue  # taken meanwhile by a concurrent request: try the next one
    raise NeutronConflict("IpAddressGenerationFailure", f"No more IP addresses available on network {subnet.network_id}.")
