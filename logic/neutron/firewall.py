"""What the database says each NIC may do, as the node agent's :class:`netagent.rules.NicPolicy`.

A port's policy pins its MAC and fixed IPs and carries the rules of its
security groups; a rule naming a remote group becomes the addresses of that
group's ports (resolved here, so the node needs no database).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Iterable

from logic.models import IPAllocation, Port, SecurityGroupRule
from netagent.rules import NicPolicy, Rule


def _members(group_ids: set) -> dict:
    """Group id -> the fixed IPs of its ports."""
    found: dict = defaultdict(list)
    rows = IPAllocation.objects.filter(port__security_groups__in=group_ids).values_list("port__security_groups", "ip_address")
    for group_id, address in rows:
        found[group_id].append(address)
    return found


def policies(ports: Iterable[Port], iface_of: Callable[[Port], str]) -> list[NicPolicy]:
    """The policies of ``ports`` (fixed IPs and groups prefetched or not), on the interfaces ``iface_of`` names."""
    ports = list(ports)
    rules_by_group: dict = defaultdict(list)
    groups = {g.pk for p in ports for g in p.security_groups.all()}
    for rule in SecurityGroupRule.objects.filter(group__in=groups):
        rules_by_group[rule.group_id].append(rule)
    members = _members({r.remote_group_id for rs in rules_by_group.values() for r in rs if r.remote_group_id})
    out = []
    for port in ports:
        addresses = [ipaddress.ip_address(a.ip_address) for a in port.fixed_ips.all()]
        rules = []
        for group in port.security_groups.all():
            for r in rules_by_group[group.pk]:
                if r.remote_group_id:
                    version = 4 if r.ethertype == "IPv4" else 6
                    remotes = tuple(a for a in members[r.remote_group_id] if ipaddress.ip_address(a).version == version)
                    if not remotes:
                        continue  # a group without members admits nobody
                else:
                    remotes = (r.remote_ip_prefix,) if r.remote_ip_prefix else ()
                rules.append(Rule(r.direction, r.ethertype, r.protocol, r.port_range_min, r.port_range_max, remotes))
        out.append(
            NicPolicy(
                iface=iface_of(port),
                mac=port.mac,
                ipv4=tuple(str(a) for a in addresses if a.version == 4),
                ipv6=tuple(str(a) for a in addresses if a.version == 6),
                port_security=port.port_security_enabled,
                rules=tuple(rules),
            )
        )
    return out
