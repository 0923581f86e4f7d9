"""Node classification for configuration management: the Puppet ENC and the Salt external pillar.

One document per Ganeti node, built from the inventory (:mod:`logic.admin.nodes`):
Puppet classes from the node's Ganeti role and this cloud's tags, and parameters
describing it (backend, group, role, capacity, tags, maintenance). Puppet reads it
as YAML through ``cyclades-enc NODE``; Salt's ``ext_pillar`` (``conf/salt``) as JSON.
"""

from __future__ import annotations

from logic.admin import nodes
from logic.errors import NotFoundError
from logic.models import Backend

CLASS_PREFIX = "cyclades"
#: Ganeti roles whose node runs eventd (it publishes only while its node is the master).
EVENTD_ROLES = {"master", "candidate"}
MAINTENANCE_ROLES = {"drained", "offline"}


def classify(node: nodes.Node) -> dict:
    """The ENC document of one node: ``{"classes": {...}, "parameters": {...}}``."""
    classes: dict[str, dict] = {f"{CLASS_PREFIX}::ganeti::node": {"group": node.group}}
    if node.role in EVENTD_ROLES:
        classes[f"{CLASS_PREFIX}::ganeti::master_candidate"] = {}
        classes[f"{CLASS_PREFIX}::eventd"] = {"cluster": node.backend}
        classes[f"{CLASS_PREFIX}::ganeti_hooks"] = {}
    for tag in node.tags:
        classes[f"{CLASS_PREFIX}::role::{tag}"] = {}
    maintenance = node.role in MAINTENANCE_ROLES or "maintenance" in node.tags
    return {
        "classes": classes,
        "parameters": {
            "cyclades_backend": node.backend,
            "cyclades_tags": node.tags,
            "cyclades_maintenance": maintenance,
            "ganeti_cluster": node.backend,
            "ganeti_role": node.role,
            "ganeti_group": node.group,
            "ganeti_vm_capable": node.vm_capable,
            "ganeti_cpu_total": node.cpu_total,
            "ganeti_mem_total_mib": node.mem_total,
            "ganeti_disk_total_mib": node.disk_total,
            "ganeti_primary_instances": node.instance_count,
        },
    }


def classify_node(name: str) -> dict:
    """The document of the node called ``name`` in any online backend; NotFoundError if none has it."""
    found, errors = nodes.all_inventory(Backend.objects.filter(offline=False))
    for node in found:
        if node.name == name or node.name.split(".")[0] == name:
            return classify(node)
    unreachable = f" (unreachable: {', '.join(sorted(errors))})" if errors else ""
    raise NotFoundError(f"No backend has a node {name!r}{unreachable}.")
