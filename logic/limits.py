"""What ``GET /limits`` reports: a project's limits (its quotas) and its usage.

Server, CPU, RAM and floating IP limits are the project's quotas (:mod:`logic.quotas`:
per-project overrides or the ``QUOTA_*`` defaults), and their usage is read from the
same quota counters that enforce them (committed + pending charges, what a new request
is measured against), so ``/limits`` never disagrees with a 403. With quotas off
(``QUOTA_ENABLED = False``) nothing is counted there, and usage is counted from the
servers that exist. Keypairs per user come from
``QUOTA_KEY_PAIRS``, server metadata items from the rule :mod:`logic.servers`
enforces, server groups and their members from :mod:`logic.server_groups` (fixed
limits, settings). Features this cloud does not have (injected files, Nova security
groups) have a limit of 0. -1 is unlimited, as in Nova.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Sum

from logic import quotas
from logic.enums import QuotaResource
from logic.models import Keypair, Project, Server, ServerGroup, User

UNLIMITED = -1
NOT_OFFERED = 0


def keypair_limit() -> int:
    return int(settings.CYCLADES.get("QUOTA_KEY_PAIRS", UNLIMITED))


def project_limits(project: Project | None, own: dict[str, int] | None = None) -> dict[str, int]:
    """Every limit of ``project`` by Nova name (``own``: its quota limits, if already read)."""
    from logic import server_groups
    from logic.servers import METADATA_MAX_ITEMS

    if own is None:
        own = quotas.limits(project) if project is not None else {}
    return {
        "instances": own.get(QuotaResource.SERVERS, UNLIMITED),
        "cores": own.get(QuotaResource.TOTAL_CPU, UNLIMITED),
        "ram": own.get(QuotaResource.TOTAL_RAM, UNLIMITED),
        "floating_ips": own.get(QuotaResource.FLOATING_IPS, UNLIMITED),
        "key_pairs": keypair_limit(),
        "metadata_items": METADATA_MAX_ITEMS,
        "injected_files": NOT_OFFERED,
        "injected_file_content_bytes": NOT_OFFERED,
        "server_groups": server_groups.group_limit(),
        "server_group_members": server_groups.member_limit(),
        "security_groups": NOT_OFFERED,
        "security_group_rules": NOT_OFFERED,
    }


def project_usage(
    project: Project | None, user: User | None = None, quota_usage: dict[str, quotas.Usage] | None = None
) -> dict[str, int]:
    """Usage by Nova name: the quota counters (``quota_usage``, read if not given) when quotas are on."""
    usage = {"instances": 0, "cores": 0, "ram": 0, "key_pairs": 0, "server_groups": 0, "floating_ips": 0, "security_groups": 0}
    if project is not None and quotas.enabled():
        counters = quota_usage if quota_usage is not None else quotas.usage(project)
        usage.update(
            instances=counters[QuotaResource.SERVERS].in_use,
            cores=counters[QuotaResource.TOTAL_CPU].in_use,
            ram=counters[QuotaResource.TOTAL_RAM].in_use,
            floating_ips=counters[QuotaResource.FLOATING_IPS].in_use,
        )
    elif project is not None:
        totals = Server.objects.filter(project=project, deleted=False).aggregate(
            n=Count("id"), cores=Sum("flavor__vcpus"), ram=Sum("flavor__ram")
        )
        usage.update(instances=totals["n"] or 0, cores=totals["cores"] or 0, ram=totals["ram"] or 0)
    if project is not None:
        usage["server_groups"] = ServerGroup.objects.filter(project=project).count()
    if user is not None:
        usage["key_pairs"] = Keypair.objects.filter(user=user).count()
    return usage


def absolute(
    project: Project | None,
    user: User | None,
    *,
    network_fields: bool = True,
    image_meta: bool = True,
    personality: bool = True,
) -> dict:
    """Nova's ``limits.absolute`` object.

    ``network_fields`` (floating IPs, security groups) are gone from microversion
    2.36 on, ``image_meta`` (maxImageMeta) from 2.39 on, ``personality`` (injected
    files) from 2.57 on.
    """
    counters = quotas.usage(project) if project is not None else None
    limit = project_limits(project, {r: u.limit for r, u in counters.items()} if counters else None)
    used = project_usage(project, user, counters)
    body = {
        "maxServerMeta": limit["metadata_items"],
        "maxTotalKeypairs": limit["key_pairs"],
        "maxTotalCores": limit["cores"],
        "maxTotalInstances": limit["instances"],
        "maxTotalRAMSize": limit["ram"],
        "maxServerGroups": limit["server_groups"],
        "maxServerGroupMembers": limit["server_group_members"],
        "totalCoresUsed": used["cores"],
        "totalInstancesUsed": used["instances"],
        "totalRAMUsed": used["ram"],
        "totalServerGroupsUsed": used["server_groups"],
    }
    if image_meta:
        body["maxImageMeta"] = limit["metadata_items"]
    if personality:
        body["maxPersonality"] = limit["injected_files"]
        body["maxPersonalitySize"] = limit["injected_file_content_bytes"]
    if network_fields:
        body.update(
            maxTotalFloatingIps=limit["floating_ips"],
            maxSecurityGroups=limit["security_groups"],
            maxSecurityGroupRules=limit["security_group_rules"],
            totalFloatingIpsUsed=used["floating_ips"],
            totalSecurityGroupsUsed=used["security_groups"],
        )
    return body
