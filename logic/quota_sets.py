"""Nova's ``os-quota-sets`` over the project quotas (:mod:`logic.quotas`).

The Nova keys ``instances``, ``cores``, ``ram`` and ``floating_ips`` are this
cloud's quota resources and can be changed; the other keys Nova 2.1 shows are
fixed limits (:mod:`logic.limits`) and are read-only. The cloud's own resources
(running cores and RAM, disk, private networks, volumes, images) can be set
under their full names (``"cyclades.cpu": 8``) and are shown by the Synnefo
personality (``/compute/v2.0``), never by strict Nova.
"""

from __future__ import annotations

from logic import limits, quotas
from logic.enums import QuotaResource
from logic.errors import InvalidInput, NotFoundError, PolicyError
from logic.identity import AuthContext
from logic.models import Project, ServerGroup, User

#: Nova key -> quota resource, for the keys that are real quotas here.
NOVA_RESOURCES: dict[str, str] = {
    "instances": QuotaResource.SERVERS,
    "cores": QuotaResource.TOTAL_CPU,
    "ram": QuotaResource.TOTAL_RAM,
    "floating_ips": QuotaResource.FLOATING_IPS,
}
#: Every key of a microversion 2.1 quota set, in Nova's order.
NOVA_KEYS = (
    "cores",
    "fixed_ips",
    "floating_ips",
    "injected_file_content_bytes",
    "injected_file_path_bytes",
    "injected_files",
    "instances",
    "key_pairs",
    "metadata_items",
    "ram",
    "security_group_rules",
    "security_groups",
    "server_group_members",
    "server_groups",
)
_FIXED_EXTRA = {"fixed_ips": -1, "injected_file_path_bytes": 0}
#: The keys Nova's proxy deprecation (microversion 2.36) removed: networks are Neutron's.
NETWORK_KEYS = frozenset({"fixed_ips", "floating_ips", "security_group_rules", "security_groups"})
#: The keys of personality (injected files), removed with it at microversion 2.57.
FILE_KEYS = frozenset({"injected_file_content_bytes", "injected_file_path_bytes", "injected_files"})


def nova_keys(*, network_keys: bool = True, file_keys: bool = True) -> tuple[str, ...]:
    """The Nova keys of a quota set (without the network ones from microversion 2.36, the file ones from 2.57)."""
    dropped = (frozenset() if network_keys else NETWORK_KEYS) | (frozenset() if file_keys else FILE_KEYS)
    return tuple(k for k in NOVA_KEYS if k not in dropped)


def target_project(ctx: AuthContext, project_id: str, *, write: bool) -> Project:
    """The project of the URL: one's own (to read), any project for an admin."""
    if not ctx.is_admin:
        if write:
            raise PolicyError("Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.")
        if ctx.project is None or ctx.project.pk != project_id:
            raise PolicyError("Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.")
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise NotFoundError(f"Project {project_id} could not be found.")
    return project


def target_user(project: Project, user_id: str | None) -> User | None:
    if not user_id:
        return None
    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.memberships.filter(project=project).exists():
        raise NotFoundError(f"User {user_id} has no role in project {project.pk}.")
    return user


def quota_set(
    project: Project, user: User | None = None, *, extended: bool = False, network_keys: bool = True, file_keys: bool = True
) -> dict:
    """The quota set: every Nova key's limit (and the cloud's own resources when ``extended``)."""
    own = quotas.limits(project, user)
    fixed = limits.project_limits(project)
    body = {}
    for key in nova_keys(network_keys=network_keys, file_keys=file_keys):
        if key in NOVA_RESOURCES:
            body[key] = own[NOVA_RESOURCES[key]]
        else:
            body[key] = fixed.get(key, _FIXED_EXTRA.get(key, 0))
    if extended:
        body.update({r: own[r] for r in quotas.RESOURCES if r not in NOVA_RESOURCES.values()})
    return body


def quota_set_detail(
    project: Project, user: User | None = None, *, extended: bool = False, network_keys: bool = True, file_keys: bool = True
) -> dict:
    """``/detail``: ``{key: {limit, in_use, reserved}}``; ``reserved`` is what pending charges hold."""
    figures = quotas.usage(project, user)
    body = {}
    for key, limit in quota_set(project, user, extended=extended, network_keys=network_keys, file_keys=file_keys).items():
        resource = NOVA_RESOURCES.get(key, key if key in figures else None)
        if key == "server_groups":
            body[key] = {"limit": limit, "in_use": ServerGroup.objects.filter(project=project).count(), "reserved": 0}
        elif resource is None:
            body[key] = {"limit": limit, "in_use": 0, "reserved": 0}
        else:
            u = figures[resource]
            body[key] = {"limit": limit, "in_use": u.committed, "reserved": u.pending_up}
    return body


def defaults(*, extended: bool = False, network_keys: bool = True, file_keys: bool = True) -> dict:
    """The defaults (the QUOTA_* settings) as a quota set."""
    body = {}
    for key in nova_keys(network_keys=network_keys, file_keys=file_keys):
        if key in NOVA_RESOURCES:
            body[key] = quotas.default_limit(NOVA_RESOURCES[key])
        else:
            body[key] = limits.project_limits(None).get(key, _FIXED_EXTRA.get(key, 0))
    if extended:
        body.update({r: quotas.default_limit(r) for r in quotas.RESOURCES if r not in NOVA_RESOURCES.values()})
    return body


def update(
    project: Project, body: object, user: User | None = None, *, network_keys: bool = True, file_keys: bool = True
) -> None:
    """Apply a ``PUT`` body ``{"quota_set": {key: limit, ..., "force": bool}}``; nothing changes on a 400.

    Without ``network_keys`` (Nova from 2.36) the network keys are unknown properties.
    """
    if not isinstance(body, dict) or not isinstance(body.get("quota_set"), dict):
        raise InvalidInput('The request body must be {"quota_set": {...}}.')
    spec = dict(body["quota_set"])
    force = spec.pop("force", False)
    if not isinstance(force, bool):
        if str(force).lower() not in ("true", "false"):
            raise InvalidInput("Invalid input for field/attribute force: it must be a boolean.")
        force = str(force).lower() == "true"
    changes: dict[str, int | None] = {}
    for key, value in spec.items():
        if (not network_keys and key in NETWORK_KEYS) or (not file_keys and key in FILE_KEYS):
            raise InvalidInput(f"Additional properties are not allowed ({key!r} was unexpected).")
        resource = NOVA_RESOURCES.get(key) or (key if key in quotas.RESOURCES else None)
        if resource is None:
            if key in NOVA_KEYS:
                raise InvalidInput(f"Quota {key!r} is a fixed limit in this cloud and cannot be changed.")
            raise InvalidInput(f"Additional properties are not allowed ({key!r} was unexpected).")
        changes[resource] = _limit(key, value)
    quotas.set_limits(project, changes, user=user, force=force)


def _limit(key: str, value: object) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"Invalid input for field/attribute {key}: {value!r} is not an integer.")
    try:
        number = int(value)  # Nova accepts "10" as well as 10
    except (TypeError, ValueError):
        raise InvalidInput(f"Invalid input for field/attribute {key}: {value!r} is not an integer.") from None
    if number < quotas.UNLIMITED:
        raise InvalidInput(f"Invalid input for field/attribute {key}: {number} is less than the minimum of -1.")
    return number


def reset(project: Project, user: User | None = None) -> None:
    """``DELETE``: back to the defaults."""
    quotas.set_limits(project, dict.fromkeys(quotas.RESOURCES), user=user, force=True)
