"""Security groups and their rules; every project gets a ``default`` group with Neutron's default rules.

The default group is created on first use (listing groups, creating a port), as
Neutron does; a unique constraint makes two concurrent first uses create one.
Default rules: ingress from members of the group itself and egress anywhere,
for IPv4 and IPv6. A new group gets the two egress rules.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from logic.enums import QuotaResource
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import Project, SecurityGroup, SecurityGroupRule
from logic.neutron import quota
from logic.neutron.errors import NeutronBadRequest, NeutronConflict, NeutronNotFound, invalid
from logic.neutron.values import cidr, name_or_description, owner_for, reject_unknown

DEFAULT = "default"
PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "ipv6-icmp": 58, "sctp": 132, "gre": 47, "esp": 50, "ah": 51,
             "dccp": 33, "igmp": 2, "ospf": 89, "vrrp": 112, "udplite": 136, "any": None}  # fmt: skip
PORTED = {"tcp", "udp", "sctp", "dccp", "udplite", "6", "17", "132", "33", "136"}
ICMP = {"icmp", "icmpv6", "ipv6-icmp", "1", "58"}
_GROUP_CREATE = {"name", "description", "project_id", "tenant_id", "stateful"}
_GROUP_UPDATE = {"name", "description", "stateful"}
_RULE_CREATE = {
    "security_group_id", "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
    "remote_ip_prefix", "remote_group_id", "description", "project_id", "tenant_id", "remote_address_group_id",
}  # fmt: skip


def default_group(project: Project | str) -> SecurityGroup:
    """The project's ``default`` group, created with its default rules on first use."""
    project_id = project if isinstance(project, str) else project.pk
    found = SecurityGroup.objects.filter(project_id=project_id, is_default=True).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            group = SecurityGroup.objects.create(
                project_id=project_id, name=DEFAULT, description="Default security group", is_default=True
            )
            # counted, but never refused: every port needs it
            quota.charge(project_id, QuotaResource.SECURITY_GROUPS, 1, "create the default security group", force=True)
            SecurityGroupRule.objects.bulk_create(
                [
                    SecurityGroupRule(
                        group=group,
                        project_id=project_id,
                        direction=direction,
                        ethertype=ethertype,
                        remote_group=group if direction == "ingress" else None,
                    )  # fmt: skip
                    for direction in ("ingress", "egress")
                    for ethertype in ("IPv4", "IPv6")
                ]
            )
            return group
    except IntegrityError:  # created meanwhile by a concurrent first use
        return SecurityGroup.objects.get(project_id=project_id, is_default=True)


def visible(ctx: AuthContext) -> QuerySet[SecurityGroup]:
    groups = SecurityGroup.objects.all()
    return groups if ctx.is_admin else groups.filter(project=ctx.project)


def get(ctx: AuthContext, group_id: object) -> SecurityGroup:
    pk = parse_uuid(group_id)
    group = visible(ctx).filter(pk=pk).first() if pk is not None else None
    if group is None:
        raise NeutronNotFound("SecurityGroup", group_id)
    return group


def for_port(ctx: AuthContext, project: Project, ids: object) -> list[SecurityGroup]:
    """The groups a port of ``project`` asks for (its project's groups only)."""
    if not isinstance(ids, list):
        raise invalid("security_groups", f"'{ids}' is not a list")
    groups = []
    for ident in dict.fromkeys(ids):
        pk = parse_uuid(ident)
        group = SecurityGroup.objects.filter(pk=pk, project=project).first() if pk is not None else None
        if group is None:  # Neutron also accepts a group's name
            named = list(SecurityGroup.objects.filter(name=str(ident), project=project)[:2])
            group = named[0] if len(named) == 1 else None
        if group is None:
            raise NeutronNotFound("SecurityGroup", ident)
        groups.append(group)
    return groups


def create(ctx: AuthContext, body: Mapping[str, Any]) -> SecurityGroup:
    reject_unknown("security_group", body, _GROUP_CREATE)
    name = name_or_description(body, "name")
    project = owner_for(ctx, body)
    if project is None:
        raise NeutronBadRequest("A security group needs a project: use a project-scoped token.")
    if name == DEFAULT:
        default_group(project)
        raise NeutronConflict("SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
    with transaction.atomic():
        group = SecurityGroup.objects.create(project=project, name=name, description=name_or_description(body, "description"))
        quota.charge(project.pk, QuotaResource.SECURITY_GROUPS, 1, f"create security group {group.pk}")
        SecurityGroupRule.objects.bulk_create(
            [SecurityGroupRule(group=group, project=project, direction="egress", ethertype=e) for e in ("IPv4", "IPv6")]
        )
    return group


def update(ctx: AuthContext, group_id: object, body: Mapping[str, Any]) -> SecurityGroup:
    group = get(ctx, group_id)
    reject_unknown("security_group", body, _GROUP_UPDATE, read_only={"id", "project_id", "tenant_id"})
    if "name" in body:
        name = name_or_description(body, "name")
        if group.is_default and name != DEFAULT:
            raise NeutronConflict("SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.")
        if not group.is_default and name == DEFAULT:
            raise NeutronConflict("SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
        group.name = name
    if "description" in body:
        group.description = name_or_description(body, "description")
    group.revision_number += 1
    group.save()
    return group


def delete(ctx: AuthContext, group_id: object) -> None:
    group = get(ctx, group_id)
    if group.is_default and not ctx.is_admin:
        raise NeutronConflict("SecurityGroupCannotRemoveDefault", "Removing default security group not allowed.")
    with transaction.atomic():
        group = SecurityGroup.objects.select_for_update().get(pk=group.pk)
        if group.ports.exists():
            raise NeutronConflict("SecurityGroupInUse", f"Security Group {group.pk} in use.")
        quota.charge(group.project_id, QuotaResource.SECURITY_GROUPS, -1, f"delete security group {group.pk}")
        group.delete()


# ------------------------------------------------------------------------- rules
def visible_rules(ctx: AuthContext) -> QuerySet[SecurityGroupRule]:
    rules = SecurityGroupRule.objects.select_related("group")
    return rules if ctx.is_admin else rules.filter(group__project=ctx.project)


def get_rule(ctx: AuthContext, rule_id: object) -> SecurityGroupRule:
    pk = parse_uuid(rule_id)
    rule = visible_rules(ctx).filter(pk=pk).first() if pk is not None else None
    if rule is None:
        raise NeutronNotFound("SecurityGroupRule", rule_id)
    return rule


def _protocol(value: object) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).lower()
    if text in PROTOCOLS:
        return None if text == "any" else text
    if text.isdigit() and 0 <= int(text) <= 255:
        return text
    raise NeutronBadRequest(
        f"Security group rule protocol {value} not supported. Only protocol values {sorted(PROTOCOLS)} "
        "and integer representations [0 to 255] are supported.",
        "SecurityGroupRuleInvalidProtocol",
    )


def _ports(protocol: str | None, low: object, high: object) -> tuple[int | None, int | None]:
    if low is None and high is None:
        return None, None
    if protocol in ICMP:
        kind, code = _icmp_value(low, "type", "port-range-min"), _icmp_value(high, "code", "port-range-max")
        if code is not None and kind is None:
            raise NeutronBadRequest(f"ICMP code (port-range-max) {code} is provided but ICMP type (port-range-min) is missing.",
                                    "SecurityGroupMissingIcmpType")  # fmt: skip
        return kind, code
    if protocol not in PORTED:
        raise NeutronBadRequest(
            "Invalid protocol for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP.",
            "SecurityGroupInvalidProtocolForPortRange",
        )
    low_port, high_port = _port_value(low), _port_value(high)
    if low_port is None or high_port is None or low_port > high_port:
        raise NeutronBadRequest(
            "For TCP/UDP protocols, port_range_min must be <= port_range_max", "SecurityGroupInvalidPortRange"
        )
    return low_port, high_port


def _icmp_value(value: object, field: str, attribute: str) -> int | None:
    if value is None:
        return None
    try:
        number = int(str(value))
    except ValueError:
        number = None
    if isinstance(value, bool) or number is None or not 0 <= number <= 255:
        raise NeutronBadRequest(f"Invalid value for ICMP {field} ({attribute}) {value}. It must be 0 to 255.",
                                "SecurityGroupInvalidIcmpValue")  # fmt: skip
    return number


def _port_value(value: object) -> int | None:
    """A port number 1-65535 (Neutron's "Invalid value for port X" otherwise); None stays None."""
    if value is None:
        return None
    try:
        port = int(str(value))
    except ValueError:
        port = None
    if isinstance(value, bool) or port is None or not 1 <= port <= 65535:
        raise NeutronBadRequest(f"Invalid value for port {value}", "SecurityGroupInvalidPortValue")
    return port


def create_rule(ctx: AuthContext, body: Mapping[str, Any]) -> SecurityGroupRule:
    reject_unknown("security_group_rule", body, _RULE_CREATE)
    group = get(ctx, body.get("security_group_id"))
    direction = body.get("direction")
    if direction not in ("ingress", "egress"):
        raise invalid("direction", f"'{direction}' is not in ['ingress', 'egress']")
    ethertype = body.get("ethertype") or "IPv4"
    if ethertype not in ("IPv4", "IPv6"):
        raise invalid("ethertype", f"'{ethertype}' is not in ['IPv4', 'IPv6']")
    protocol = _protocol(body.get("protocol"))
    if protocol in ("icmpv6", "ipv6-icmp", "58") and ethertype == "IPv4":
        raise NeutronBadRequest(
            f"Protocol {protocol} is not supported for ethertype IPv4", "SecurityGroupEthertypeConflictWithProtocol"
        )
    low, high = _ports(protocol, body.get("port_range_min"), body.get("port_range_max"))
    prefix = body.get("remote_ip_prefix")
    remote_group = None
    if body.get("remote_group_id") is not None:
        if prefix is not None:
            raise NeutronBadRequest(
                "Only remote_ip_prefix or remote_group_id may be provided.", "SecurityGroupRemoteGroupAndRemoteIpPrefix"
            )
        remote_group = get(ctx, body["remote_group_id"])
    if prefix is not None:
        net = cidr(prefix, "remote_ip_prefix")
        if f"IPv{net.version}" != ethertype:
            raise NeutronBadRequest(
                f"Conflicting value ethertype {ethertype} for CIDR {prefix}", "SecurityGroupRuleParameterConflict"
            )
        prefix = str(ipaddress.ip_network(str(prefix), strict=False))
    with transaction.atomic():
        SecurityGroup.objects.select_for_update().get(pk=group.pk)
        duplicate = SecurityGroupRule.objects.filter(
            group=group, direction=direction, ethertype=ethertype, protocol=protocol, port_range_min=low,
            port_range_max=high, remote_group=remote_group,
        ).filter(**_prefix_filter(prefix)).first()  # fmt: skip
        if duplicate is not None:
            raise NeutronConflict("SecurityGroupRuleExists", f"Security group rule already exists. Rule id is {duplicate.pk}.")
        rule = SecurityGroupRule.objects.create(
            group=group, project=group.project, direction=direction, ethertype=ethertype, protocol=protocol,
            port_range_min=low, port_range_max=high, remote_ip_prefix=prefix, remote_group=remote_group,
            description=name_or_description(body, "description"),
        )  # fmt: skip
        SecurityGroup.objects.filter(pk=group.pk).update(revision_number=group.revision_number + 1)
    return rule


def _prefix_filter(prefix: str | None) -> dict[str, Any]:
    return {"remote_ip_prefix__isnull": True} if prefix is None else {"remote_ip_prefix": prefix}


def delete_rule(ctx: AuthContext, rule_id: object) -> None:
    rule = get_rule(ctx, rule_id)
    rule.delete()
