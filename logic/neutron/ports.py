"""Ports: a MAC from the network's prefix, fixed IPs requested or allocated by us, security groups.

Without ``fixed_ips`` a port gets one IPv4 address (from the first IPv4 subnet
with a free one), one address from the first stateful IPv6 subnet, and its
EUI-64 address on every SLAAC subnet. With ``fixed_ips`` it gets exactly those
(plus the SLAAC ones). Everything happens in one transaction: a port that
can't get its addresses is not created and holds none.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from logic.enums import QuotaResource
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import IPAllocation, Network, Port, Project, Subnet
from logic.neutron import ipam, nets, quota, security_groups
from logic.neutron.errors import NeutronBadRequest, NeutronConflict, NeutronForbidden, NeutronNotFound, invalid, invalid_operation
from logic.neutron.values import boolean, name_or_description, owner_for, reject_unknown

FLOATING_OWNER = "network:floatingip"
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_CREATE = {
    "name", "description", "network_id", "admin_state_up", "mac_address", "fixed_ips", "device_id", "device_owner",
    "project_id", "tenant_id", "security_groups", "port_security_enabled", "binding:vnic_type", "binding:host_id",
    "binding:profile", "allowed_address_pairs", "extra_dhcp_opts", "dns_name", "qos_policy_id", "propagate_uplink_status",
}  # fmt: skip
_UPDATE = {
    "name", "description", "admin_state_up", "fixed_ips", "device_id", "device_owner", "security_groups",
    "port_security_enabled", "binding:vnic_type", "binding:host_id", "binding:profile", "allowed_address_pairs",
    "extra_dhcp_opts", "dns_name", "mac_address",
}  # fmt: skip
_MAC_TRIES = 16


def visible(ctx: AuthContext) -> QuerySet[Port]:
    ports = Port.objects.select_related("network").prefetch_related("fixed_ips", "security_groups")
    return ports if ctx.is_admin else ports.filter(project=ctx.project)


def get(ctx: AuthContext, port_id: object) -> Port:
    pk = parse_uuid(port_id)
    port = visible(ctx).filter(pk=pk).first() if pk is not None else None
    if port is None:
        raise NeutronNotFound("Port", port_id)
    return port


def _mac(value: object) -> str:
    text = str(value).strip().lower().replace("-", ":")
    if not _MAC.match(text) or int(text[:2], 16) & 1 or text == "00:00:00:00:00:00":
        raise invalid("mac_address", f"'{value}' is not a valid MAC address")
    return text


def _random_mac(network: Network) -> str:
    return nets.mac_prefix(network) + "".join(f":{b:02x}" for b in secrets.token_bytes(3))


def _ignored_extras(body: Mapping[str, Any]) -> None:
    """Attributes we accept only with their default value."""
    if body.get("allowed_address_pairs"):
        raise invalid_operation("allowed_address_pairs are not supported: anti-spoofing pins each port's own addresses")
    if body.get("binding:vnic_type") not in (None, "normal"):
        raise invalid("binding:vnic_type", f"'{body['binding:vnic_type']}' is not supported: only 'normal'")


def _requested(network: Network, items: object) -> list[tuple[Subnet, str | None]]:
    """(subnet, address or None) for each entry of ``fixed_ips``, checked against the network's subnets."""
    if not isinstance(items, list):
        raise invalid("fixed_ips", f"'{items}' is not a list")
    subnets = list(Subnet.objects.filter(network=network))
    wanted: list[tuple[Subnet, str | None]] = []
    for item in items:
        if not isinstance(item, dict) or not item or set(item) - {"subnet_id", "ip_address"}:
            raise invalid("fixed_ips", f"'{item}' must have subnet_id and/or ip_address")
        subnet = None
        if item.get("subnet_id") is not None:
            subnet = next((s for s in subnets if str(s.pk) == str(item["subnet_id"])), None)
            if subnet is None:
                raise invalid_operation(
                    f"Failed to create port on network {network.pk}, because fixed_ips included invalid subnet {item['subnet_id']}"
                )
        address = None
        if item.get("ip_address") is not None:
            try:
                parsed = ipaddress.ip_address(str(item["ip_address"]))
            except ValueError:
                raise invalid("fixed_ips", f"'{item['ip_address']}' is not a valid IP address") from None
            address = str(parsed)
            if subnet is None:
                subnet = next((s for s in subnets if parsed in ipam.network_of(s)), None)
                if subnet is None:
                    raise NeutronBadRequest(
                        f"IP address {address} is not a valid IP for any of the subnets on the specified network.",
                        "InvalidIpForNetwork",
                    )
            elif parsed not in ipam.network_of(subnet):
                raise NeutronBadRequest(f"IP address {address} is not a valid IP for the specified subnet.", "InvalidIpForSubnet")
            if subnet.is_slaac:
                raise NeutronBadRequest(
                    f"IPv6 address {address} cannot be directly assigned to a port on subnet {subnet.pk} as the subnet "
                    "is configured for automatic addresses",
                    "InvalidInput",
                )
            if subnet.gateway_ip and address == str(ipaddress.ip_address(subnet.gateway_ip)):
                raise NeutronConflict("IpAddressInUse", f"IP address {address} is the gateway of subnet {subnet.pk}")
        wanted.append((subnet, address))
    return wanted


def _allocate_default(port: Port) -> None:
    """Neutron's default: one IPv4, one stateful IPv6, every SLAAC subnet."""
    subnets = list(Subnet.objects.filter(network=port.network))
    for version in (4, 6):
        candidates = [s for s in subnets if s.ip_version == version and not s.is_slaac]
        for index, subnet in enumerate(candidates):
            try:
                ipam.allocate(port, subnet)
                break
            except NeutronConflict:
                if index == len(candidates) - 1:
                    raise
    for subnet in subnets:
        if subnet.is_slaac:
            ipam.allocate(port, subnet)


def _allocate_requested(port: Port, wanted: list[tuple[Subnet, str | None]]) -> None:
    for subnet, address in wanted:
        if subnet.is_slaac:
            continue
        if address is None:
            ipam.allocate(port, subnet)
        else:
            ipam.take(port, subnet, address)
    for subnet in Subnet.objects.filter(network=port.network):
        if subnet.is_slaac:
            ipam.allocate(port, subnet)


def _insert(network: Network, project: Project | None, mac: str | None, **fields: Any) -> Port:
    for _ in range(_MAC_TRIES):
        try:
            with transaction.atomic():
                port = Port.objects.create(network=network, project=project, mac=mac or _random_mac(network), **fields)
                quota.charge(port.project_id, QuotaResource.PORTS, 1, f"create port {port.pk}")
                return port
        except IntegrityError:
            if mac is not None:
                raise NeutronConflict("MacAddressInUse", f"Unable to complete operation for network {network.pk}. "
                                      f"The mac address {mac} is in use.") from None  # fmt: skip
    raise NeutronConflict("MacAddressGenerationFailure", f"Unable to generate unique mac on network {network.pk}.")


def create(ctx: AuthContext, body: Mapping[str, Any], *, server=None) -> Port:
    """A port of the caller's project on a network it may use (own, shared or external)."""
    reject_unknown("port", body, _CREATE)
    _ignored_extras(body)
    network = nets.get(ctx, body.get("network_id")) if body.get("network_id") else None
    if network is None:
        raise invalid("network_id", "a network_id is required")
    owner = nets.owns(ctx, network)
    project = owner_for(ctx, body)
    if project is None:
        raise NeutronBadRequest("A port needs a project: use a project-scoped token.")
    device_owner = name_or_description(body, "device_owner")
    if "mac_address" in body and not owner:
        raise NeutronForbidden("(rule:create_port and rule:create_port:mac_address) is disallowed by policy")
    if device_owner.startswith("network:") and not owner:
        raise NeutronForbidden("(rule:create_port and rule:create_port:device_owner) is disallowed by policy")
    mac = _mac(body["mac_address"]) if body.get("mac_address") else None
    security = boolean(body.get("port_security_enabled", True), "port_security_enabled")
    with transaction.atomic():
        if Network.objects.select_for_update().get(pk=network.pk).deleted:  # serialised with the network's delete
            raise NeutronNotFound("Network", network.pk)
        wanted = _requested(network, body["fixed_ips"]) if "fixed_ips" in body else None
        groups = _groups(ctx, project, body, security)
        port = _insert(
            network,
            project,
            mac,
            name=name_or_description(body, "name"),
            description=name_or_description(body, "description"),
            admin_state_up=boolean(body.get("admin_state_up", True), "admin_state_up"),
            device_id=name_or_description(body, "device_id"),
            device_owner=device_owner,
            port_security_enabled=security,
            server=server,
        )
        if wanted is None:
            _allocate_default(port)
        else:
            _allocate_requested(port, wanted)
        port.security_groups.set(groups)
    return port


def _groups(ctx: AuthContext, project: Project, body: Mapping[str, Any], security: bool) -> list:
    if "security_groups" in body and body["security_groups"] is not None:
        groups = security_groups.for_port(ctx, project, body["security_groups"])
        if groups and not security:
            raise NeutronConflict("PortSecurityAndIPRequiredForSecurityGroups",
                                  "Port security must be enabled and port must have an IP address in order to use security groups.")  # fmt: skip
        return groups
    return [security_groups.default_group(project)] if security else []


def create_holder(network: Network, device_id: str) -> Port:
    """The cloud's port that holds a floating IP's address on the external network (no project)."""
    port = _insert(network, None, None, device_owner=FLOATING_OWNER, device_id=device_id, status="N/A",
                   port_security_enabled=False)  # fmt: skip
    return port


def update(ctx: AuthContext, port_id: object, body: Mapping[str, Any]) -> Port:
    port = get(ctx, port_id)
    reject_unknown("port", body, _UPDATE, read_only={"id", "network_id", "project_id", "tenant_id", "status"})
    _ignored_extras(body)
    with transaction.atomic():
        port = Port.objects.select_for_update().get(pk=port.pk)
        for key in ("name", "description", "device_id", "device_owner"):
            if key in body:
                setattr(port, key, name_or_description(body, key))
        if "admin_state_up" in body:
            port.admin_state_up = boolean(body["admin_state_up"], "admin_state_up")
        if "mac_address" in body:
            if not ctx.is_admin:
                raise NeutronForbidden("(rule:update_port and rule:update_port:mac_address) is disallowed by policy")
            if port.server_id is not None:
                raise NeutronConflict("PortBound", f"Unable to complete operation on port {port.pk}: it is bound to a server.")
            port.mac = _mac(body["mac_address"])
        if "port_security_enabled" in body:
            port.port_security_enabled = boolean(body["port_security_enabled"], "port_security_enabled")
        if "fixed_ips" in body:
            if port.server_id is not None:
                raise NeutronConflict("PortBound", f"Port {port.pk} is attached to server {port.server_id}: detach it "
                                      "to change its fixed IPs.")  # fmt: skip
            _reallocate(port, _requested(port.network, body["fixed_ips"] or []))
        if "security_groups" in body:
            groups = security_groups.for_port(ctx, port.project, body["security_groups"] or []) if port.project else []
            if groups and not port.port_security_enabled:
                raise NeutronConflict("PortSecurityAndIPRequiredForSecurityGroups",
                                      "Port security must be enabled in order to use security groups.")  # fmt: skip
            port.security_groups.set(groups)
        elif "port_security_enabled" in body and not port.port_security_enabled and port.security_groups.exists():
            raise NeutronConflict("PortSecurityPortHasSecurityGroup", "Port has security group associated. Cannot disable "
                                  "port security or ip address until security group is removed")  # fmt: skip
        port.revision_number += 1
        try:
            with transaction.atomic():
                port.save()
        except IntegrityError:
            raise NeutronConflict("MacAddressInUse", f"The mac address {port.mac} is in use.") from None
    return port


def _reallocate(port: Port, wanted: list[tuple[Subnet, str | None]]) -> None:
    """Keep the addresses still asked for, free the others, take the new ones."""
    current = list(port.fixed_ips.select_related("subnet"))
    keep: set[int] = set()
    todo: list[tuple[Subnet, str | None]] = []
    for subnet, address in wanted:
        match = next(
            (
                a
                for a in current
                if a.pk not in keep and a.subnet_id == subnet.pk and (address is None or a.ip_address == address)
            ),
            None,
        )
        if match is not None:
            keep.add(match.pk)
        else:
            todo.append((subnet, address))
    IPAllocation.objects.filter(port=port).exclude(pk__in=keep).exclude(
        subnet__ipv6_address_mode__in=["slaac", "dhcpv6-stateless"]
    ).delete()
    for subnet, address in todo:
        if subnet.is_slaac:
            continue
        if address is None:
            ipam.allocate(port, subnet)
        else:
            ipam.take(port, subnet, address)


def delete(ctx: AuthContext, port_id: object) -> None:
    port = get(ctx, port_id)
    if port.device_owner == FLOATING_OWNER:
        raise NeutronConflict("PortInUse", f"Port {port.pk} holds a floating IP: release the floating IP instead.")
    if port.server_id is not None:
        raise NeutronConflict("PortInUse", f"Port {port.pk} is attached to server {port.server_id}: detach it first "
                              "(openstack server remove port).")  # fmt: skip
    with transaction.atomic():
        port = Port.objects.select_for_update().get(pk=port.pk)
        port.floating_ips.update(port=None, fixed_ip_address=None)
        quota.charge(port.project_id, QuotaResource.PORTS, -1, f"delete port {port.pk}")
        port.delete()
