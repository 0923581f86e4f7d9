"""Nova's security group proxy (``os-security-groups``, ``os-security-group-rules``, up to microversion 2.35).

Nova shows Neutron's groups in its own shape (only ingress rules, ``ip_protocol``,
``from_port``/``to_port`` with -1 for "any ICMP", ``ip_range``, ``group``) and
answers 400 where Neutron says 409 (a group in use, a duplicate rule): this
module translates both ways over :mod:`logic.neutron.security_groups`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from logic.errors import InvalidInput
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import SecurityGroup, SecurityGroupRule, Server
from logic.neutron import security_groups
from logic.neutron.errors import NeutronConflict, NeutronNotFound

_ICMP = ("icmp", "1")


def _rule(rule: SecurityGroupRule, groups: Mapping[Any, SecurityGroup]) -> dict[str, Any]:
    icmp = rule.protocol in _ICMP
    low = rule.port_range_min if rule.port_range_min is not None else (-1 if icmp else None)
    high = rule.port_range_max if rule.port_range_max is not None else (-1 if icmp else None)
    if not icmp and rule.protocol and low is None:
        low, high = 1, 65535
    remote = groups.get(rule.remote_group_id)
    return {
        "id": str(rule.pk),
        "parent_group_id": str(rule.group_id),
        "ip_protocol": rule.protocol,
        "from_port": low,
        "to_port": high,
        "ip_range": {"cidr": rule.remote_ip_prefix} if rule.remote_ip_prefix else ({} if remote else {"cidr": "0.0.0.0/0"}),
        "group": {"name": remote.name, "tenant_id": remote.project_id} if remote else {},
    }


def render(groups: Iterable[SecurityGroup]) -> list[dict[str, Any]]:
    groups = list(groups)
    rules = list(SecurityGroupRule.objects.filter(group__in=groups, direction="ingress", ethertype="IPv4").order_by("created_at"))
    remote_ids = {r.remote_group_id for r in rules if r.remote_group_id}
    remotes = {g.pk: g for g in SecurityGroup.objects.filter(pk__in=remote_ids)}
    by_group: dict[Any, list] = {}
    for r in rules:
        by_group.setdefault(r.group_id, []).append(_rule(r, remotes))
    return [
        {
            "id": str(g.pk),
            "name": g.name,
            "description": g.description,
            "tenant_id": g.project_id,
            "rules": by_group.get(g.pk, []),
        }
        for g in groups
    ]


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise InvalidInput(f"Security group {key} must be a non-empty string of at most 255 characters.")
    return value


def _body(body: object, key: str) -> Mapping[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise InvalidInput(f"The request body needs a {key!r} object.")
    return body[key]


def listing(ctx: AuthContext, *, all_tenants: bool = False) -> list[dict[str, Any]]:
    """The project's groups; every project's for an admin asking ``all_tenants`` (a member's is ignored)."""
    security_groups.default_group(ctx.project)  # Nova shows the default group from the first list on
    groups = security_groups.visible(ctx)
    if not (all_tenants and ctx.is_admin):
        groups = groups.filter(project=ctx.project)
    return render(groups.order_by("created_at"))


def show(ctx: AuthContext, group_id: str) -> dict[str, Any]:
    return render([security_groups.get(ctx, group_id)])[0]


def create(ctx: AuthContext, body: object) -> dict[str, Any]:
    wanted = _body(body, "security_group")
    name, description = _text(wanted, "name"), _text(wanted, "description")
    return render([security_groups.create(ctx, {"name": name, "description": description})])[0]


def update(ctx: AuthContext, group_id: str, body: object) -> dict[str, Any]:
    wanted = _body(body, "security_group")
    group = security_groups.get(ctx, group_id)
    changes = {"name": _text(wanted, "name"), "description": _text(wanted, "description")}
    try:
        return render([security_groups.update(ctx, group.pk, changes)])[0]
    except NeutronConflict as exc:
        raise InvalidInput(str(exc)) from None


def delete(ctx: AuthContext, group_id: str) -> None:
    group = security_groups.get(ctx, group_id)
    if group.is_default:
        raise InvalidInput("Removing the default security group is not allowed.")
    try:
        security_groups.delete(ctx, group.pk)
    except NeutronConflict as exc:  # in use: Nova says 400
        raise InvalidInput(str(exc)) from None


def _port(value: object, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError:
        raise InvalidInput(f"Invalid {field} {value!r}: it must be an integer.") from None


def create_rule(ctx: AuthContext, body: object) -> dict[str, Any]:
    wanted = _body(body, "security_group_rule")
    parent = wanted.get("parent_group_id")
    if parent is None:
        raise InvalidInput("parent_group_id is required.")
    _uuid(parent, "parent_group_id")
    try:
        group = security_groups.get(ctx, parent)
    except NeutronNotFound:
        raise NeutronNotFound("SecurityGroup", parent) from None
    protocol = wanted.get("ip_protocol")
    if protocol is not None and str(protocol).lower() not in ("tcp", "udp", "icmp"):
        raise InvalidInput(f"Invalid IP protocol {protocol}.")
    protocol = str(protocol).lower() if protocol is not None else None
    low, high = _port(wanted.get("from_port"), "from_port"), _port(wanted.get("to_port"), "to_port")
    if protocol is None and (low is not None or high is not None):
        raise InvalidInput("A port range needs an ip_protocol.")
    if protocol == "icmp":
        low, high = (None if low == -1 else low), (None if high == -1 else high)
        if low is not None and not 0 <= low <= 255 or high is not None and not 0 <= high <= 255:
            raise InvalidInput("ICMP type and code must be -1 or 0 to 255.")
    elif protocol is not None and (low is None or high is None or not 1 <= low <= high <= 65535):
        raise InvalidInput("Invalid port range: from_port and to_port must be 1-65535 with from_port <= to_port.")
    neutron: dict[str, Any] = {"security_group_id": str(group.pk), "direction": "ingress", "ethertype": "IPv4"}
    if protocol is not None:
        neutron.update(protocol=protocol, port_range_min=low, port_range_max=high)
    if wanted.get("group_id") is not None:
        _uuid(wanted["group_id"], "group_id")
        try:
            neutron["remote_group_id"] = str(security_groups.get(ctx, wanted["group_id"]).pk)
        except NeutronNotFound:
            raise NeutronNotFound("SecurityGroup", wanted["group_id"]) from None
    elif wanted.get("cidr"):
        neutron["remote_ip_prefix"] = wanted["cidr"]
    try:
        rule = security_groups.create_rule(ctx, neutron)
    except NeutronConflict as exc:  # a duplicate: Nova says 400
        raise InvalidInput(str(exc)) from None
    remote = SecurityGroup.objects.filter(pk=rule.remote_group_id).first() if rule.remote_group_id else None
    shown = _rule(rule, {remote.pk: remote} if remote else {})
    if wanted.get("cidr") and "cidr" in shown["ip_range"]:
        shown["ip_range"] = {"cidr": wanted["cidr"]}  # Nova echoes the CIDR as given (it stores it normalised)
    return shown


def _uuid(value: object, field: str) -> None:
    if parse_uuid(value) is None:
        raise InvalidInput(f"Invalid {field} {value!r}: security group ids are UUIDs.")


def delete_rule(ctx: AuthContext, rule_id: str) -> None:
    security_groups.delete_rule(ctx, rule_id)


def of_server(server: Server) -> list[dict[str, Any]]:
    return render(SecurityGroup.objects.filter(ports__server=server).distinct().order_by("created_at"))
