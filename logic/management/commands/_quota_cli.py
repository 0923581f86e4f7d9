"""Helpers of the quota admin commands: resource names on the command line, the usage table."""

from __future__ import annotations

from django.core.management.base import CommandError

from logic import quotas

# Short names accepted on the command line, besides the full resource names.
ALIASES: dict[str, str] = {
    "servers": "cyclades.vm",
    "instances": "cyclades.vm",
    "cores": "cyclades.total_cpu",
    "total_cpu": "cyclades.total_cpu",
    "running_cores": "cyclades.cpu",
    "cpu": "cyclades.cpu",
    "ram": "cyclades.total_ram",
    "total_ram": "cyclades.total_ram",
    "running_ram": "cyclades.ram",
    "disk": "cyclades.disk",
    "private_networks": "cyclades.network.private",
    "floating_ips": "cyclades.floating_ip",
    "subnets": "cyclades.subnet",
    "ports": "cyclades.port",
    "security_groups": "cyclades.security_group",
    "volumes": "cyclades.volume",
    "volume_gb": "cyclades.volume_gb",
    "images": "cyclades.image",
}


def resource_name(text: str) -> str:
    if text in quotas.RESOURCES:
        return text
    if text in ALIASES:
        return ALIASES[text]
    known = ", ".join(sorted(ALIASES) + quotas.RESOURCES)
    raise CommandError(f"unknown quota resource {text!r}; one of: {known}")


def usage_rows(project, user=None) -> list[dict]:
    overridden = quotas.overrides(project, user)
    rows = []
    for resource, u in quotas.usage(project, user).items():
        rows.append(
            {
                "resource": resource,
                "limit": "unlimited" if u.limit == quotas.UNLIMITED else u.limit,
                "source": "set" if resource in overridden else "default",
                "in_use": u.in_use,
                "committed": u.committed,
                "pending_up": u.pending_up,
                "pending_down": u.pending_down,
            }
        )
    return rows


USAGE_COLUMNS = ["resource", "limit", "source", "in_use", "committed", "pending_up", "pending_down"]
