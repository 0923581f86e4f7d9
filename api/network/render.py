"""Neutron v2.0 bodies of networks, subnets, ports, security groups (and rules) and floating IPs."""

from __future__ import annotations

from logic.models import FloatingIP, Network, Port, SecurityGroup, SecurityGroupRule, ServerNIC, Subnet
from logic.neutron import floating_ips


def utc(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _owner(project_id: str | None) -> dict:
    owner = project_id or ""
    return {"tenant_id": owner, "project_id": owner}


def _stamps(obj) -> dict:
    return {
        "tags": list(obj.tags),
        "revision_number": obj.revision_number,
        "created_at": utc(obj.created_at),
        "updated_at": utc(obj.updated_at),
    }


def network_body(network: Network, subnet_ids: list[str] | None = None) -> dict:
    if subnet_ids is None:
        subnet_ids = [str(pk) for pk in network.subnets.values_list("pk", flat=True)]
    return {
        "id": str(network.pk),
        "name": network.name,
        "description": network.description,
        **_owner(network.project_id),
        "status": network.status,
        "admin_state_up": network.admin_state_up,
        "shared": network.shared,
        "router:external": network.public,
        "subnets": subnet_ids,
        "mtu": network.mtu,
        "port_security_enabled": True,
        "availability_zones": ["nova"],
        "availability_zone_hints": [],
        "ipv4_address_scope": None,
        "ipv6_address_scope": None,
        "is_default": False,
        **_stamps(network),
    }


def subnet_body(subnet: Subnet) -> dict:
    return {
        "id": str(subnet.pk),
        "name": subnet.name,
        "description": subnet.description,
        **_owner(subnet.project_id),
        "network_id": str(subnet.network_id),
        "ip_version": subnet.ip_version,
        "cidr": subnet.cidr,
        "gateway_ip": subnet.gateway_ip,
        "allocation_pools": list(subnet.allocation_pools),
        "dns_nameservers": list(subnet.dns_nameservers),
        "host_routes": list(subnet.host_routes),
        "enable_dhcp": subnet.enable_dhcp,
        "ipv6_address_mode": subnet.ipv6_address_mode,
        "ipv6_ra_mode": subnet.ipv6_ra_mode,
        "subnetpool_id": None,
        "service_types": [],
        "segment_id": None,
        "dns_publish_fixed_ip": False,
        **_stamps(subnet),
    }


def port_body(port: Port, status: str | None = None) -> dict:
    """``status``: as derived from what Ganeti reports (:func:`logic.neutron.interfaces.port_state`)."""
    device_id = str(port.server_id) if port.server_id is not None else port.device_id
    return {
        "id": str(port.pk),
        "name": port.name,
        "description": port.description,
        "network_id": str(port.network_id),
        **_owner(port.project_id),
        "mac_address": port.mac,
        "admin_state_up": port.admin_state_up,
        "status": status or port.status,
        "device_id": device_id,
        "device_owner": port.device_owner,
        "fixed_ips": _port_fixed_ips(port),
        "security_groups": [str(g.pk) for g in port.security_groups.all()],
        "allowed_address_pairs": [],
        "extra_dhcp_opts": [],
        "binding:vnic_type": "normal",
        "port_security_enabled": port.port_security_enabled,
        **_stamps(port),
    }


def _port_fixed_ips(port: Port) -> list[dict]:
    """The port's allocations; on a network without subnets (an operator's network whose
    addresses Ganeti picks from its own pool), the address Ganeti reported for the NIC."""
    fixed = [{"subnet_id": str(a.subnet_id), "ip_address": a.ip_address} for a in port.fixed_ips.all()]
    if fixed or port.server_id is None:
        return fixed
    nic = ServerNIC.objects.filter(server_id=port.server_id, mac=port.mac).only("ipv4", "ipv6").first()
    return [{"subnet_id": None, "ip_address": ip} for ip in ((nic.ipv4, nic.ipv6) if nic else ()) if ip]


def nic_port_body(nic: ServerNIC) -> dict:
    """A server NIC Ganeti reported that no port stands for (servers made before ports existed)."""
    owner = nic.server.project_id
    fixed = [{"subnet_id": None, "ip_address": ip} for ip in (nic.ipv4, nic.ipv6) if ip]
    return {
        "id": str(nic.pk),
        "name": "",
        "description": "",
        "network_id": nic.network_id or "",
        **_owner(owner),
        "mac_address": nic.mac,
        "admin_state_up": True,
        "status": "ACTIVE",
        "device_id": str(nic.server_id),
        "device_owner": "compute:nova",
        "fixed_ips": fixed,
        "security_groups": [],
        "allowed_address_pairs": [],
        "extra_dhcp_opts": [],
        "binding:vnic_type": "normal",
        "port_security_enabled": True,
        "tags": [],
        "revision_number": 0,
        "created_at": utc(nic.created_at),
        "updated_at": utc(nic.created_at),
    }


def rule_body(rule: SecurityGroupRule) -> dict:
    return {
        "id": str(rule.pk),
        **_owner(rule.project_id),
        "security_group_id": str(rule.group_id),
        "direction": rule.direction,
        "ethertype": rule.ethertype,
        "protocol": rule.protocol,
        "port_range_min": rule.port_range_min,
        "port_range_max": rule.port_range_max,
        "remote_ip_prefix": rule.remote_ip_prefix,
        "remote_group_id": str(rule.remote_group_id) if rule.remote_group_id else None,
        "remote_address_group_id": None,
        "normalized_cidr": rule.remote_ip_prefix,
        "description": rule.description,
        "belongs_to_default_sg": rule.group.is_default,
        "revision_number": rule.revision_number,
        "created_at": utc(rule.created_at),
        "updated_at": utc(rule.updated_at),
    }


def group_body(group: SecurityGroup) -> dict:
    return {
        "id": str(group.pk),
        "name": group.name,
        "description": group.description,
        **_owner(group.project_id),
        "stateful": group.stateful,
        "shared": False,
        "security_group_rules": [rule_body(r) for r in group.rules.all()],
        **_stamps(group),
    }


def floating_ip_body(fip: FloatingIP) -> dict:
    return {
        "id": str(fip.pk),
        **_owner(fip.project_id),
        "floating_network_id": str(fip.floating_network_id),
        "floating_ip_address": fip.floating_ip_address,
        "fixed_ip_address": fip.fixed_ip_address,
        "port_id": str(fip.port_id) if fip.port_id else None,
        "router_id": None,
        "status": floating_ips.status(fip),
        "description": fip.description,
        "port_forwardings": [],
        **_stamps(fip),
    }
