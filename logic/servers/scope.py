"""Which servers a caller reaches: its project's, or, for cloud administrators, every project's.

Nova's default policy lets an administrator show and act on any server by id, while
lists stay the caller's project unless ``all_tenants`` asks for every project
(``tenant_id``/``project_id`` then narrow it to one). ``all_tenants`` from anyone
else is a 403, as in Nova.
"""

from __future__ import annotations

from django.db.models import QuerySet

from logic.errors import PolicyError
from logic.identity import AuthContext
from logic.models import Server

_FALSE = frozenset({"0", "f", "false", "off", "n", "no"})


def reachable_servers(ctx: AuthContext) -> QuerySet[Server]:
    """The servers the caller may address by id (deleted ones included)."""
    return Server.objects.all() if ctx.is_admin else Server.objects.filter(project=ctx.project)


def _flag(value: str | None) -> bool:
    """Nova reads ``all_tenants`` with oslo's bool_from_string, and an empty value as true."""
    return value is not None and value.strip().lower() not in _FALSE


def listed_servers(ctx: AuthContext, params) -> QuerySet[Server]:
    """The servers a list request ranges over (deleted ones included; the other filters come after).

    ``tenant_id``/``project_id`` narrow only together with ``all_tenants`` (Nova ignores them
    otherwise); an admin's ``host`` keeps the servers of that Ganeti cluster.
    """
    everyone = "all_tenants" in params and _flag(params.get("all_tenants"))
    if everyone and not ctx.is_admin:
        raise PolicyError("Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.")
    qs = Server.objects.all() if everyone else Server.objects.filter(project=ctx.project)
    if everyone and (project := params.get("project_id") or params.get("tenant_id")):
        qs = qs.filter(project_id=project)
    if ctx.is_admin and (host := params.get("host")):
        qs = qs.filter(backend__name=host)
    return qs
