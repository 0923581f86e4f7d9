"""Each Neutron collection as one :class:`Resource`: how to list, fetch, render, create, update and delete.

Views stay generic (:mod:`api.network.crud`); the rules are in :mod:`logic.neutron`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q

from api.network import render
from logic import networks as network_reads
from logic.errors import NotFoundError
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import Port, SecurityGroupRule, ServerNIC
from logic.neutron import floating_ips, interfaces, nets, ports, security_groups, subnets


@dataclass(frozen=True)
class Resource:
    singular: str
    collection: str
    bodies: Callable[[AuthContext, Any], list[dict]]
    get: Callable[[AuthContext, str], Any]
    render: Callable[[Any], dict]
    create: Callable[[AuthContext, dict], Any] | None = None
    update: Callable[[AuthContext, str, dict], Any] | None = None
    delete: Callable[[AuthContext, str], None] | None = None

    @property
    def plural(self) -> str:
        """The JSON key of a list (``security_groups`` for the URL's ``security-groups``)."""
        return self.collection.replace("-", "_")


def _network_bodies(ctx: AuthContext, params) -> list[dict]:
    found = network_reads.list_networks(ctx, params)
    by_network: dict[str, list[str]] = {str(n.pk): [] for n in found}
    for subnet_id, network_id in subnets.visible(ctx).filter(network__in=found).values_list("pk", "network_id"):
        by_network[str(network_id)].append(str(subnet_id))
    return [render.network_body(n, by_network[str(n.pk)]) for n in found]


def _subnet_bodies(ctx: AuthContext, params) -> list[dict]:
    found = subnets.visible(ctx)
    if network_ids := params.getlist("network_id"):
        found = found.filter(network_id__in=[i for i in network_ids if _uuidish(i)])
    return [render.subnet_body(s) for s in found]


def _uuidish(value: str) -> bool:
    return parse_uuid(value) is not None


def _port_bodies(ctx: AuthContext, params) -> list[dict]:
    found = ports.visible(ctx)
    if device_ids := params.getlist("device_id"):
        numeric = [int(d) for d in device_ids if d.isascii() and d.isdigit() and len(d) < 19]
        found = found.filter(Q(device_id__in=device_ids) | Q(server_id__in=numeric))
    if network_ids := params.getlist("network_id"):
        found = found.filter(network_id__in=[i for i in network_ids if _uuidish(i)])
    found = list(found)
    macs = interfaces.reported_macs(sorted({p.server_id for p in found if p.server_id is not None}))
    bodies = [render.port_body(p, interfaces.port_state(p, macs)) for p in found]
    return bodies + [render.nic_port_body(n) for n in _unported_nics(ctx, params, {b["mac_address"] for b in bodies})]


def _unported_nics(ctx: AuthContext, params, macs: set[str]) -> list[ServerNIC]:
    """Ganeti NICs no port stands for (made before ports existed, or by an operator)."""
    nics = network_reads.list_ports(ctx, params)
    if not nics:
        return []
    known = macs | set(Port.objects.filter(mac__in=[n.mac for n in nics]).values_list("mac", flat=True))
    return [n for n in nics if n.mac not in known]


def _get_port_or_nic(ctx: AuthContext, port_id: str):
    try:
        return ports.get(ctx, port_id)
    except NotFoundError as missing:
        nic = network_reads.visible_ports(ctx).filter(pk=parse_uuid(port_id)).first() if parse_uuid(port_id) else None
        if nic is None or Port.objects.filter(mac=nic.mac).exists():
            raise missing from None
        return nic


def _render_port_or_nic(obj) -> dict:
    if isinstance(obj, ServerNIC):
        return render.nic_port_body(obj)
    macs = interfaces.reported_macs([obj.server_id]) if obj.server_id is not None else set()
    return render.port_body(obj, interfaces.port_state(obj, macs))


def _group_bodies(ctx: AuthContext, params) -> list[dict]:
    if ctx.project is not None:
        security_groups.default_group(ctx.project)
    rules = Prefetch("rules", queryset=SecurityGroupRule.objects.order_by("created_at", "id"))
    return [render.group_body(g) for g in security_groups.visible(ctx).prefetch_related(rules)]


def _get_group(ctx: AuthContext, group_id: str):
    if ctx.project is not None:
        security_groups.default_group(ctx.project)
    return security_groups.get(ctx, group_id)


def _rule_bodies(ctx: AuthContext, params) -> list[dict]:
    if ctx.project is not None:
        security_groups.default_group(ctx.project)
    return [render.rule_body(r) for r in security_groups.visible_rules(ctx)]


def _fip_bodies(ctx: AuthContext, params) -> list[dict]:
    return [render.floating_ip_body(f) for f in floating_ips.visible(ctx)]


NETWORKS = Resource("network", "networks", _network_bodies, nets.get, render.network_body, nets.create, nets.update, nets.delete)
SUBNETS = Resource(
    "subnet", "subnets", _subnet_bodies, subnets.get, render.subnet_body, subnets.create, subnets.update, subnets.delete
)
PORTS = Resource("port", "ports", _port_bodies, _get_port_or_nic, _render_port_or_nic, ports.create, ports.update, ports.delete)
SECURITY_GROUPS = Resource(
    "security_group", "security-groups", _group_bodies, _get_group, render.group_body,
    security_groups.create, security_groups.update, security_groups.delete,
)  # fmt: skip
SECURITY_GROUP_RULES = Resource(
    "security_group_rule", "security-group-rules", _rule_bodies, security_groups.get_rule, render.rule_body,
    security_groups.create_rule, None, security_groups.delete_rule,
)  # fmt: skip
FLOATING_IPS = Resource(
    "floatingip", "floatingips", _fip_bodies, floating_ips.get, render.floating_ip_body,
    floating_ips.create, floating_ips.update, floating_ips.delete,
)  # fmt: skip

ALL = [NETWORKS, SUBNETS, PORTS, SECURITY_GROUPS, SECURITY_GROUP_RULES, FLOATING_IPS]
BY_COLLECTION = {r.collection: r for r in ALL}
