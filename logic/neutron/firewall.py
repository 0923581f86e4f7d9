"""What the database says each NIC may do, as the node agent's :class:`netagent.rules.NicPolicy`.

A port's policy pins its MAC and fixed IPs and carries the rules of its
security groups; a rule naming a remote group refers to that group's addresses
(:func:`remote_groups`, resolved here so the node needs no database), which the
rule set holds once as a named set.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Iterable

from logic.models import IPAllocation, Port, SecurityGroupRule
from netagent.rules import NicPolicy, Rule


def remote_groups(ports: Iterable[Port]) -> dict[str, tuple[str, ...]]:
    """The addresses of every group a rule of the ports' groups names as its remote (for ``render(groups=)``)."""
    groups = {g.pk for p in ports for g in p.security_groups.all()}
    remote = set(
        SecurityGroupRule.objects.filter(group__in=groups, remote_group__isnull=False).values_list("remote_group", flat=True)
    )
    found: dict[str, list[str]] = defaultdict(list)
    rows = IPAllocation.objects.filter(port__security_groups__in=remote).values_list("port__security_groups", "ip_address")
    for group_id, address in rows:
        found[str(group_id)].append(address)
    return {group: tuple(addresses) for group, addresses in found.items()}


def policies(ports: Iterable[Port], iface_of: Callable[[Port], str]) -> list[NicPolicy]:
    """The policies of ``ports`` (fixed IPs and groups prefetched or not), on the interfaces ``iface_of`` names."""
    ports = list(ports)
    rules_by_group: dict = defaultdict(list)
    groups = {g.pk for p in ports for g in p.security_groups.all()}
    for r in SecurityGroupRule.objects.filter(group__in=groups):
        remote_group = str(r.remote_group_id) if r.remote_group_id else None
        remotes = (r.remote_ip_prefix,) if r.remote_ip_prefix else ()
        rules_by_group[r.group_id].append(
            Rule(r.direction, r.ethertype, r.protocol, r.port_range_min, r.port_range_max, remotes, remote_group)
        )
    out = []
    for port in ports:
        addresses = [ipaddress.ip_address(a.ip_address) for a in port.fixed_ips.all()]
        rules = tuple(rule for group in port.security_groups.all() for rule in rules_by_group[group.pk])
        out.append(
            NicPolicy(
                iface=iface_of(port),
                mac=port.mac,
                ipv4=tuple(str(a) for a in addresses if a.version == 4),
                ipv6=tuple(str(a) for a in addresses if a.version == 6),
                port_security=port.port_security_enabled,
                rules=rules,
            )
        )
    return out
