"""Floating IPs: an address of an external network a project holds, associated with one of its ports or not.

Allocation takes the address through a holder port (no project, device owner
``network:floatingip``) so that fixed and floating addresses of the external
network share one uniqueness rule. A floating IP counts against the project's
``cyclades.floating_ip`` quota, charged and settled in the same transaction.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from logic import quotas
from logic.enums import QuotaResource
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import FloatingIP, Network, Port, Subnet
from logic.neutron import ipam, nets, ports
from logic.neutron.errors import NeutronBadRequest, NeutronConflict, NeutronForbidden, NeutronNotFound, invalid
from logic.neutron.values import ip_of_version, name_or_description, owner_for, reject_unknown

_CREATE = {
    "floating_network_id", "floating_ip_address", "port_id", "fixed_ip_address", "description", "project_id",
    "tenant_id", "subnet_id", "dns_name", "dns_domain", "qos_policy_id",
}  # fmt: skip
_UPDATE = {"port_id", "fixed_ip_address", "description", "qos_policy_id"}


def visible(ctx: AuthContext) -> QuerySet[FloatingIP]:
    fips = FloatingIP.objects.select_related("port")
    return fips if ctx.is_admin else fips.filter(project=ctx.project)


def get(ctx: AuthContext, fip_id: object) -> FloatingIP:
    pk = parse_uuid(fip_id)
    fip = visible(ctx).filter(pk=pk).first() if pk is not None else None
    if fip is None:
        raise NeutronNotFound("FloatingIP", fip_id)
    return fip


def _external(ctx: AuthContext, network_id: object) -> Network:
    if network_id is None:
        raise invalid("floating_network_id", "'None' is not a valid UUID")
    network = nets.get(ctx, network_id)
    if not network.public:
        raise NeutronBadRequest(f"Bad floatingip request: Network {network.pk} is not a valid external network.", "BadRequest")
    return network


def _v4_subnets(network: Network, subnet_id: object = None) -> list[Subnet]:
    subnets = Subnet.objects.filter(network=network, ip_version=4)
    if subnet_id is not None:
        subnets = subnets.filter(pk=parse_uuid(subnet_id))
    found = list(subnets)
    if not found:
        raise NeutronBadRequest(
            f"Bad floatingip request: Network {network.pk} has no IPv4 subnet to allocate from.", "BadRequest"
        )
    return found


def _target(ctx: AuthContext, fip: FloatingIP, port_id: object, fixed: object) -> tuple[Port, str]:
    """The port (of the floating IP's project) and which of its IPv4 addresses to associate."""
    port = ports.get(ctx, port_id)
    if port.project_id != fip.project_id or port.device_owner == ports.FLOATING_OWNER:
        raise NeutronNotFound("Port", port_id)
    if port.network_id == fip.floating_network_id:
        raise NeutronBadRequest(
            f"Bad floatingip request: Port {port.pk} is on the floating IP's own external network.", "BadRequest"
        )
    v4 = [a.ip_address for a in port.fixed_ips.all() if ipaddress.ip_address(a.ip_address).version == 4]
    if fixed is not None:
        address = ip_of_version(fixed, 4, "fixed_ip_address")
        if address not in v4:
            raise NeutronBadRequest(f"Bad floatingip request: Port {port.pk} does not have fixed ip {address}.", "BadRequest")
    elif v4:
        address = v4[0]
    else:
        raise NeutronBadRequest(f"Bad floatingip request: Port {port.pk} does not have any IPv4 address.", "BadRequest")
    taken = FloatingIP.objects.filter(port=port, fixed_ip_address=address).exclude(pk=fip.pk).first()
    if taken is not None:
        raise NeutronConflict(
            "FloatingIPPortAlreadyAssociated",
            f"Cannot associate floating IP {fip.floating_ip_address} ({fip.pk}) with port {port.pk} using fixed IP {address}, "
            f"as that fixed IP already has a floating IP on external network {taken.floating_network_id}.",
        )
    return port, address


def create(ctx: AuthContext, body: Mapping[str, Any]) -> FloatingIP:
    reject_unknown("floatingip", body, _CREATE)
    network = _external(ctx, body.get("floating_network_id"))
    project = owner_for(ctx, body)
    if project is None:
        raise NeutronBadRequest("A floating IP needs a project: use a project-scoped token.")
    if body.get("floating_ip_address") is not None and not ctx.is_admin:
        raise NeutronForbidden("(rule:create_floatingip and rule:create_floatingip:floating_ip_address) is disallowed by policy")
    with transaction.atomic():
        Network.objects.select_for_update().get(pk=network.pk)
        subnets = _v4_subnets(network, body.get("subnet_id"))
        fip = FloatingIP(project=project, floating_network=network, description=name_or_description(body, "description"))
        holder = ports.create_holder(network, device_id=str(fip.pk))
        if body.get("floating_ip_address") is not None:
            address = ip_of_version(body["floating_ip_address"], 4, "floating_ip_address")
            subnet = next((s for s in subnets if ipaddress.ip_address(address) in ipam.network_of(s)), None)
            if subnet is None:
                raise NeutronBadRequest(
                    f"IP address {address} is not a valid IP for the external network.", "InvalidIpForNetwork"
                )
            allocation = ipam.take(holder, subnet, address)
        else:
            allocation = _first_free(holder, subnets)
        fip.floating_port, fip.floating_ip_address = holder, allocation.ip_address
        if body.get("port_id") is not None:
            fip.port, fip.fixed_ip_address = _target(ctx, fip, body["port_id"], body.get("fixed_ip_address"))
        fip.save()
        commission = quotas.charge(project, None, {QuotaResource.FLOATING_IPS: 1}, reason=f"allocate floating IP {fip.pk}")
        quotas.accept(commission)
    return fip


def _first_free(holder: Port, subnets: list[Subnet]):
    for index, subnet in enumerate(subnets):
        try:
            return ipam.allocate(holder, subnet)
        except NeutronConflict:
            if index == len(subnets) - 1:
                raise
    raise AssertionError("unreachable: subnets is never empty")


def update(ctx: AuthContext, fip_id: object, body: Mapping[str, Any]) -> FloatingIP:
    """Associate (``port_id``), re-associate or disassociate (``port_id: null``); change the description."""
    fip = get(ctx, fip_id)
    reject_unknown(
        "floatingip", body, _UPDATE, read_only={"floating_network_id", "floating_ip_address", "project_id", "tenant_id"}
    )
    with transaction.atomic():
        fip = FloatingIP.objects.select_for_update().get(pk=fip.pk)
        if "description" in body:
            fip.description = name_or_description(body, "description")
        if "port_id" in body:
            if body["port_id"] is None:
                fip.port, fip.fixed_ip_address = None, None
            else:
                fip.port, fip.fixed_ip_address = _target(ctx, fip, body["port_id"], body.get("fixed_ip_address"))
        elif body.get("fixed_ip_address") is not None:
            if fip.port is None:
                raise NeutronBadRequest("Bad floatingip request: fixed_ip_address needs a port_id.", "BadRequest")
            fip.port, fip.fixed_ip_address = _target(ctx, fip, fip.port_id, body["fixed_ip_address"])
        fip.revision_number += 1
        fip.save()
    return fip


def delete(ctx: AuthContext, fip_id: object) -> None:
    """Release the address (and the quota)."""
    fip = get(ctx, fip_id)
    with transaction.atomic():
        fip = FloatingIP.objects.select_for_update().get(pk=fip.pk)
        holder = fip.floating_port
        fip.delete()
        holder.delete()
        commission = quotas.charge(fip.project_id, None, {QuotaResource.FLOATING_IPS: -1}, reason=f"release floating IP {fip.pk}")
        quotas.accept(commission)


def status(fip: FloatingIP) -> str:
    return "ACTIVE" if fip.port_id is not None else "DOWN"
