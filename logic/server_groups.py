"""Nova's server groups (``os-server-groups``) and their quotas.

A group belongs to a project; readers list and show it, members create and delete it,
admins reach every project's (``all_projects``). Policies: ``affinity`` and
``anti-affinity`` (2.1), ``soft-affinity`` and ``soft-anti-affinity`` (from 2.15); from
2.64 one ``policy`` with ``rules`` (``max_server_per_host`` for anti-affinity only).
Servers join a group at creation (the ``group`` scheduler hint); what the placement
enforces is in :mod:`logic.placement`. A deleted server leaves its groups.

Quotas: ``server_groups`` per project and ``server_group_members`` per group are fixed
limits (the ``QUOTA_SERVER_GROUPS`` and ``QUOTA_SERVER_GROUP_MEMBERS`` settings, Nova's
default 10; -1 unlimited), counted from the rows under a lock of the project row.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from logic.errors import InvalidInput, NotFoundError, OverQuotaError, PolicyError
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import Project, Server, ServerGroup, ServerGroupMember

Policy = ServerGroup.Policy
LEGACY_POLICIES = (Policy.AFFINITY, Policy.ANTI_AFFINITY)
DEFAULT_LIMIT = 10


def group_limit() -> int:
    return int(settings.CYCLADES.get("QUOTA_SERVER_GROUPS", DEFAULT_LIMIT))


def member_limit() -> int:
    return int(settings.CYCLADES.get("QUOTA_SERVER_GROUP_MEMBERS", DEFAULT_LIMIT))


class GroupQuotaExceeded(OverQuotaError):
    """Over the server group quotas: a 403, as in Nova."""


@dataclass(frozen=True)
class Spec:
    name: str
    policy: str
    rules: dict


def _policies(spec: dict, *, soft: bool) -> str:
    value = spec.get("policies")
    allowed = [p.value for p in (Policy if soft else LEGACY_POLICIES)]
    if not isinstance(value, list) or len(value) != 1 or value[0] not in allowed:
        raise InvalidInput(f"Invalid input for field/attribute policies: exactly one of {allowed} is required.")
    return value[0]


def _rules(policy: str, value: object) -> dict:
    if value in (None, {}):
        return {}
    if not isinstance(value, dict) or set(value) - {"max_server_per_host"}:
        raise InvalidInput("Invalid input for field/attribute rules: only 'max_server_per_host' is allowed.")
    if policy != Policy.ANTI_AFFINITY:
        raise InvalidInput(f"Only anti-affinity policy supports rules (not {policy}).")
    number = value["max_server_per_host"]
    if isinstance(number, bool):
        raise InvalidInput("Invalid input for field/attribute max_server_per_host: it must be an integer.")
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise InvalidInput("Invalid input for field/attribute max_server_per_host: it must be an integer.") from None
    if number < 1:
        raise InvalidInput("Invalid input for field/attribute max_server_per_host: the minimum is 1.")
    return {"max_server_per_host": number}


def parse(body: object, *, soft: bool, policy_field: bool) -> Spec:
    """A create body: ``policies`` (a one-item list) before 2.64, ``policy`` and ``rules`` from 2.64."""
    if not isinstance(body, dict) or not isinstance(body.get("server_group"), dict):
        raise InvalidInput('The request body must be {"server_group": {...}}.')
    spec = body["server_group"]
    allowed = {"name", "policy", "rules"} if policy_field else {"name", "policies"}
    if unknown := set(spec) - allowed:
        raise InvalidInput(f"Additional properties are not allowed ({', '.join(sorted(unknown))} were unexpected).")
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise InvalidInput("Invalid input for field/attribute name: a string of 1 to 255 characters is required.")
    if policy_field:
        policy = spec.get("policy")
        if policy not in Policy.values:
            raise InvalidInput(f"Invalid input for field/attribute policy: one of {Policy.values} is required.")
        return Spec(name=name, policy=policy, rules=_rules(policy, spec.get("rules")))
    return Spec(name=name, policy=_policies(spec, soft=soft), rules={})


def create(ctx: AuthContext, spec: Spec) -> ServerGroup:
    if not ctx.can_write:
        raise PolicyError("Policy doesn't allow os_compute_api:os-server-groups:create to be performed.")
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=ctx.project.pk).first()  # serialises the count
        limit = group_limit()
        if limit >= 0 and ServerGroup.objects.filter(project=ctx.project).count() >= limit:
            raise GroupQuotaExceeded("Quota exceeded, too many server groups.")
        return ServerGroup.objects.create(
            name=spec.name, project=ctx.project, user=ctx.user, policy=spec.policy, rules=spec.rules
        )


def listing(ctx: AuthContext, *, all_projects: bool, limit: object = None, offset: object = None) -> list[ServerGroup]:
    groups = ServerGroup.objects.all() if all_projects and ctx.is_admin else ServerGroup.objects.filter(project=ctx.project)
    groups = groups.order_by("created_at", "id")
    start = _count("offset", offset) or 0
    size = _count("limit", limit)
    return list(groups[start : start + size] if size is not None else groups[start:])


def _count(name: str, value: object) -> int | None:
    if value is None:
        return None
    text = str(value)
    if not text.isdigit():
        raise InvalidInput(f"Invalid input for query parameters {name}. Value: {text}. It must be a non-negative integer.")
    return int(text)


def get(ctx: AuthContext, raw_id: str) -> ServerGroup:
    """The group with id ``raw_id`` in the caller's project (any project for an admin), else 404."""
    found = None
    if (group_uuid := parse_uuid(raw_id)) is not None:
        found = ServerGroup.objects.filter(uuid=group_uuid).first()
    if found is None or (not ctx.is_admin and found.project_id != getattr(ctx.project, "pk", None)):
        raise NotFoundError(f"Instance group {raw_id} could not be found.")
    return found


def delete(ctx: AuthContext, raw_id: str) -> None:
    group = get(ctx, raw_id)
    if not ctx.can_write:
        raise PolicyError("Policy doesn't allow os_compute_api:os-server-groups:delete to be performed.")
    group.delete()


def member_ids(group: ServerGroup) -> list[str]:
    """Ids of the group's servers that still exist."""
    servers = Server.objects.filter(group_memberships__group=group, deleted=False).order_by("group_memberships__id")
    return [str(pk) for pk in servers.values_list("pk", flat=True)]


def group_ids(server_id: int) -> list[str]:
    """The groups a server is in (Nova's ``server_groups`` of a server, from 2.71)."""
    return [str(u) for u in ServerGroup.objects.filter(memberships__server_id=server_id).values_list("uuid", flat=True)]


def hinted_group(ctx: AuthContext, hints: object) -> ServerGroup | None:
    """The group a create's ``os:scheduler_hints`` names (``group``: a uuid of a group of the project), or None."""
    if hints is None:
        return None
    if not isinstance(hints, dict):
        raise InvalidInput("Invalid input for field/attribute os:scheduler_hints: it must be an object.")
    raw = hints.get("group")
    if raw is None:
        return None
    if not isinstance(raw, str) or parse_uuid(raw) is None:
        raise InvalidInput(f"Invalid input for field/attribute group. Value: {raw!r}. It is not a valid UUID.")
    try:
        return get(ctx, raw)
    except NotFoundError as exc:
        raise InvalidInput(f"Invalid server group {raw}: it does not exist in this project.") from exc


def check_room(group: ServerGroup, count: int) -> None:
    """403 when ``count`` more servers would pass ``server_group_members`` (run under the group's row lock)."""
    limit = member_limit()
    if limit >= 0 and len(member_ids(group)) + count > limit:
        raise GroupQuotaExceeded("Quota exceeded, too many servers in group.")


def join(group: ServerGroup, server: Server, node: str | None) -> ServerGroupMember:
    return ServerGroupMember.objects.create(group=group, server=server, node=node or "")


def lock(group: ServerGroup) -> ServerGroup:
    """Lock the group row for a create (members are counted and placed one request at a time)."""
    return ServerGroup.objects.select_for_update().get(pk=group.pk)
