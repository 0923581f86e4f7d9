"""What a server's ports add to its NICs in responses: the port id, floating IPs, IPv6 addresses, groups.

A NIC is Ganeti's report; the port standing for it has the same MAC and is
bound to the same server. PostgreSQL gets these facts inside the one query
that loads the servers (the SQL fragments below); other databases get them in
one more query (:func:`attach`).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from typing import Any

from logic.models import FloatingIP, IPAllocation, Port, SecurityGroup

_PORT = Port._meta.db_table
_FIP = FloatingIP._meta.db_table
_IP = IPAllocation._meta.db_table
_GROUP = SecurityGroup._meta.db_table
_PORT_GROUPS = Port.security_groups.through._meta.db_table

#: Joins the NIC's port (alias ``p``) to the NIC (alias ``n``).
NIC_JOIN_SQL = f'LEFT JOIN "{_PORT}" p ON p."mac" = n."mac" AND p."server_id" = n."server_id"'

#: The NIC row's last three elements: its id (the port's when there is one), floating IPs, port IPv6 addresses.
NIC_PORT_SQL = (
    'COALESCE(p."id"::text, n."id"::text), '
    f'(SELECT json_agg(host(f."floating_ip_address") ORDER BY f."created_at") FROM "{_FIP}" f WHERE f."port_id" = p."id"), '
    f'(SELECT json_agg(host(a."ip_address") ORDER BY a."id") FROM "{_IP}" a '
    'WHERE a."port_id" = p."id" AND family(a."ip_address") = 6)'
)


def groups_sql(server: str) -> str:
    """The JSON list of the names of the groups of the server's ports (NULL when it has no ports)."""
    return (
        f'(SELECT CASE WHEN EXISTS (SELECT 1 FROM "{_PORT}" p WHERE p."server_id" = {server}) THEN COALESCE(('
        f'SELECT json_agg(DISTINCT g."name" ORDER BY g."name")::text FROM "{_GROUP}" g JOIN "{_PORT_GROUPS}" pg ON pg."securitygroup_id" = g."id" '
        f'JOIN "{_PORT}" p ON p."id" = pg."port_id" WHERE p."server_id" = {server}), \'[]\') END)'
    )


def attach(rows_by_id: dict[int, Any]) -> None:
    """Fill ``id``/``floating``/``port_ipv6`` of the rows' NICs and the rows' ``security_groups`` (non-PostgreSQL path)."""
    found = list(Port.objects.filter(server_id__in=list(rows_by_id)).prefetch_related("fixed_ips", "security_groups"))
    if not found:
        return
    floating: dict[Any, list[str]] = defaultdict(list)
    for port_id, address in (
        FloatingIP.objects.filter(port__in=found).order_by("created_at").values_list("port_id", "floating_ip_address")
    ):
        floating[port_id].append(address)
    by_mac = {(p.server_id, p.mac): p for p in found}
    groups: dict[int, set[str]] = defaultdict(set)
    for port in found:
        groups[port.server_id].update(g.name for g in port.security_groups.all())
    for server_id, row in rows_by_id.items():
        if server_id in groups or any(p.server_id == server_id for p in found):
            row.security_groups = sorted(groups[server_id])
        for nic in row.nics:
            port = by_mac.get((server_id, nic.mac))
            if port is None:
                continue
            nic.id = str(port.pk)
            nic.floating = floating.get(port.pk) or None
            nic.port_ipv6 = [
                a.ip_address for a in port.fixed_ips.all() if ipaddress.ip_address(a.ip_address).version == 6
            ] or None
