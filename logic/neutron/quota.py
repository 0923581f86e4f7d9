"""Neutron's resources in the commission ledger: networks, subnets, ports, security groups, floating IPs.

Each create or delete charges its project in its own transaction (a commission
taken and accepted at once: no Ganeti job to wait for), so the counters are
exact under concurrent requests: the holding row is locked (``SELECT ... FOR
UPDATE``) until the transaction ends. Objects of no project (a floating IP's
holder port) are not counted. Over a limit, Neutron answers 409 ``OverQuota``
(:func:`neutron_name` gives the resource's Neutron name for the message).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from logic import quotas
from logic.enums import QuotaResource
from logic.errors import InvalidInput
from logic.identity import AuthContext
from logic.models import Project, QuotaHolding
from logic.neutron.errors import NeutronBadRequest, NeutronConflict, NeutronForbidden, NeutronNotFound, invalid

#: Neutron's name of each resource (``/quotas`` keys, OverQuota messages).
NEUTRON_NAMES: dict[str, str] = {
    QuotaResource.PRIVATE_NETWORKS: "network",
    QuotaResource.SUBNETS: "subnet",
    QuotaResource.PORTS: "port",
    QuotaResource.FLOATING_IPS: "floatingip",
    QuotaResource.SECURITY_GROUPS: "security_group",
}


def neutron_name(resource: str) -> str:
    return NEUTRON_NAMES.get(resource, resource)


def charge(project_id: str | None, resource: str, amount: int, reason: str, *, force: bool = False) -> None:
    """Charge (or, negative, free) ``amount`` of ``resource`` to the project, accepted at once; inside a transaction."""
    if project_id is None or amount == 0:
        return
    quotas.accept(quotas.charge(project_id, None, {resource: amount}, reason=reason, force=force or amount < 0))


def free(project_ids: Iterable[str | None], resource: str, reason: str) -> None:
    """Free one ``resource`` per item of ``project_ids`` (the projects of deleted objects), one charge per project."""
    for project_id, count in sorted(Counter(p for p in project_ids if p is not None).items()):
        charge(project_id, resource, -count, reason)


# ------------------------------------------------------------------ the /quotas API
#: Neutron keys we show but do not count: rules are unlimited, routers do not exist here.
_SHOWN_ONLY = {"security_group_rule": -1, "router": 0}


def _project(ctx: AuthContext, project_id: str) -> Project:
    if not ctx.is_admin and (ctx.project is None or ctx.project.pk != project_id):
        raise NeutronForbidden("Only admins can see or change the quotas of another project.")
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise NeutronNotFound("Project", project_id)
    return project


def defaults() -> dict[str, int]:
    return {**{name: quotas.default_limit(r) for r, name in NEUTRON_NAMES.items()}, **_SHOWN_ONLY}


def show(ctx: AuthContext, project_id: str) -> dict[str, int]:
    limits = quotas.limits(_project(ctx, project_id))
    return {**{name: limits[r] for r, name in NEUTRON_NAMES.items()}, **_SHOWN_ONLY}


def details(ctx: AuthContext, project_id: str) -> dict[str, dict[str, int]]:
    usage = quotas.usage(_project(ctx, project_id))
    out = {name: {"limit": usage[r].limit, "used": usage[r].committed, "reserved": usage[r].pending_up}
           for r, name in NEUTRON_NAMES.items()}  # fmt: skip
    return {**out, **{k: {"limit": v, "used": 0, "reserved": 0} for k, v in _SHOWN_ONLY.items()}}


def listing(ctx: AuthContext) -> list[dict]:
    """The projects with limits of their own (Neutron lists only those), admins only."""
    if not ctx.is_admin:
        raise NeutronForbidden("Only admins can list quotas.")
    resources = list(NEUTRON_NAMES)
    ids = QuotaHolding.objects.filter(user__isnull=True, resource__in=resources, limit__isnull=False)
    out = []
    for project_id in sorted(set(ids.values_list("project_id", flat=True))):
        out.append({"project_id": project_id, "tenant_id": project_id, **show(ctx, project_id)})
    return out


def update(ctx: AuthContext, project_id: str, body: object) -> dict[str, int]:
    """Admins set limits (-1 unlimited); below the current usage is 409 as in Neutron; unknown keys are 400."""
    if not ctx.is_admin:
        raise NeutronForbidden("Only admins can change quotas.")
    project = _project(ctx, project_id)
    if not isinstance(body, dict) or not body:
        raise NeutronBadRequest("A quota object with at least one resource is required.", "HTTPBadRequest")
    by_name = {name: r for r, name in NEUTRON_NAMES.items()}
    wanted: dict[str, int] = {}
    for key, value in body.items():
        if key not in by_name:
            raise invalid(key, "not a quota of this cloud (known: " + ", ".join(sorted(by_name)) + ")")
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            raise invalid(key, f"'{value}' is not an integer of -1 or more")
        wanted[by_name[key]] = value
    try:
        quotas.set_limits(project, wanted)
    except InvalidInput as exc:
        raise NeutronConflict("OverQuota", str(exc)) from None
    return show(ctx, project_id)


def reset(ctx: AuthContext, project_id: str) -> None:
    if not ctx.is_admin:
        raise NeutronForbidden("Only admins can change quotas.")
    quotas.set_limits(_project(ctx, project_id), dict.fromkeys(NEUTRON_NAMES), force=True)
