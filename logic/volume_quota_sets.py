"""Cinder's ``os-quota-sets`` over the project quotas (:mod:`logic.quotas`).

``volumes``, ``gigabytes`` and ``snapshots`` are this cloud's quota resources and can be
set by admins; ``per_volume_gigabytes`` is the VOLUME_MAX_SIZE setting; backups and
groups are not offered (0). Per-type quotas are not offered either.
"""

from __future__ import annotations

from logic import quotas, volumes
from logic.enums import QuotaResource
from logic.errors import InvalidInput, NotFoundError, PolicyError
from logic.identity import AuthContext
from logic.models import Project
from logic.quota_sets import _limit

#: Cinder key -> quota resource.
RESOURCES: dict[str, str] = {
    "volumes": QuotaResource.VOLUMES,
    "gigabytes": QuotaResource.VOLUME_GB,
    "snapshots": QuotaResource.VOLUME_SNAPSHOTS,
}
NOT_OFFERED = ("backups", "backup_gigabytes", "groups")


def target_project(ctx: AuthContext, project_id: str, *, write: bool) -> Project:
    """The project of the URL: one's own to read, any project for an admin."""
    if not ctx.is_admin:
        if write:
            raise PolicyError("Policy doesn't allow volume_extension:quotas:update to be performed.")
        if ctx.project is None or ctx.project.pk != project_id:
            raise PolicyError("Policy doesn't allow volume_extension:quotas:show to be performed.")
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise NotFoundError(f"Project {project_id} could not be found.")
    return project


def quota_set(project: Project | None, *, usage: bool = False) -> dict:
    """Every key's limit, or ``{limit, in_use, reserved, allocated}`` with ``usage``."""
    figures = quotas.usage(project) if project is not None else None
    body: dict = {}
    for key, resource in RESOURCES.items():
        limit = figures[resource].limit if figures else quotas.default_limit(resource)
        if usage:
            u = figures[resource] if figures else None
            body[key] = {"limit": limit, "in_use": u.committed if u else 0, "reserved": u.pending_up if u else 0,
                         "allocated": 0}  # fmt: skip
        else:
            body[key] = limit
    for key, value in (*((k, 0) for k in NOT_OFFERED), ("per_volume_gigabytes", volumes.max_size())):
        body[key] = {"limit": value, "in_use": 0, "reserved": 0, "allocated": 0} if usage else value
    return body


def update(project: Project, body: object) -> None:
    """Apply ``{"quota_set": {key: limit}}`` (admin); nothing changes on a 400."""
    if not isinstance(body, dict) or not isinstance(body.get("quota_set"), dict):
        raise InvalidInput('The request body must be {"quota_set": {...}}.')
    changes: dict[str, int | None] = {}
    for key, value in body["quota_set"].items():
        if key in RESOURCES:
            changes[RESOURCES[key]] = _limit(key, value)
        elif key in (*NOT_OFFERED, "per_volume_gigabytes"):
            raise InvalidInput(f"Quota {key!r} is a fixed limit in this cloud and cannot be changed.")
        else:
            raise InvalidInput(f"Bad key(s) in quota set: {key}")
    quotas.set_limits(project, changes)


def reset(project: Project) -> None:
    """Back to the defaults."""
    quotas.set_limits(project, dict.fromkeys(RESOURCES.values()), force=True)
