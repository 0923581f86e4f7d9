"""Rules of Nova's ``os-hypervisors`` over the compute nodes (:mod:`logic.compute_nodes`).

Admin only (Nova's default policy). Before microversion 2.53 a hypervisor's id is the
node row's integer id; from 2.53 the Ganeti node's uuid (a malformed uuid is a 400, as in
Nova). Paging (``limit``, ``marker``: an id of the same kind) from 2.33.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from logic.compute_nodes import NodeFacts, read_nodes
from logic.errors import InvalidInput, NotFoundError, PolicyError
from logic.identity import AuthContext
from logic.ids import parse_uuid

MIB_PER_GIB = 1024


def require_admin(ctx: AuthContext, rule: str) -> None:
    if not ctx.is_admin:
        raise PolicyError(f"Policy doesn't allow os_compute_api:os-hypervisors:{rule} to be performed.")


def node_id(facts: NodeFacts, *, uuids: bool) -> int | str:
    return str(facts.node.uuid) if uuids else facts.node.pk


def _matches(facts: NodeFacts, wanted: str, *, uuids: bool) -> bool:
    if uuids:
        return parse_uuid(wanted) == facts.node.uuid
    return wanted.isdigit() and int(wanted) == facts.node.pk


def check_id(wanted: str, *, uuids: bool) -> None:
    """From 2.53 an id that is not a uuid is a 400 (Nova's ``Invalid uuid``)."""
    if uuids and parse_uuid(wanted) is None:
        raise InvalidInput(f"Invalid uuid {wanted}")


def find(wanted: str, *, uuids: bool) -> NodeFacts:
    check_id(wanted, uuids=uuids)
    for facts in read_nodes():
        if _matches(facts, wanted, uuids=uuids):
            return facts
    raise NotFoundError(f"Hypervisor with ID '{wanted}' could not be found.")


def search(pattern: str) -> list[NodeFacts]:
    """Nodes whose name contains ``pattern`` (Nova matches ``LIKE %pattern%``); 404 when none."""
    glob = f"*{pattern}*"
    found = [f for f in read_nodes() if fnmatch.fnmatchcase(f.node.name.lower(), glob.lower())]
    if not found:
        raise NotFoundError(f"No hypervisor matching '{pattern}' could be found.")
    return found


@dataclass
class Page:
    items: list[NodeFacts]
    more: bool


def _limit(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit():
        raise InvalidInput(f"Invalid input for query parameters limit. Value: {text}. '{text}' is not a valid limit")
    return int(text)


def listing(*, limit: str | None, marker: str | None, pattern: str | None, uuids: bool) -> Page:
    """The nodes for a list call: by hostname pattern (2.53, not with paging) or one page."""
    if pattern is not None:
        if limit is not None or marker is not None:
            raise InvalidInput("Paging over hypervisors with a hostname pattern is not supported.")
        return Page(search(pattern), more=False)
    size = _limit(limit)
    nodes = read_nodes()
    if marker is not None:
        check_id(marker, uuids=uuids)
        index = next((i for i, f in enumerate(nodes) if _matches(f, marker, uuids=uuids)), None)
        if index is None:
            raise InvalidInput(f"marker [{marker}] not found")
        nodes = nodes[index + 1 :]
    if size is not None and len(nodes) > size:
        return Page(nodes[:size], more=True)
    return Page(nodes, more=size is not None and size > 0 and len(nodes) == size)


def workload(facts: NodeFacts) -> int:
    """Nova's ``current_workload``: servers on the node with an action in progress."""
    return sum(1 for s in facts.servers if s.task)


def statistics(nodes: list[NodeFacts]) -> dict[str, int]:
    """Sums over every node, in Nova's ``hypervisor_statistics`` keys."""
    local_gb = sum(f.disk_mb for f in nodes) // MIB_PER_GIB
    free_gb = sum(f.disk_free_mb for f in nodes) // MIB_PER_GIB
    memory = sum(f.memory_mb for f in nodes)
    used = sum(f.memory_mb_used for f in nodes)
    return {
        "count": len(nodes),
        "current_workload": sum(workload(f) for f in nodes),
        "disk_available_least": free_gb,
        "free_disk_gb": free_gb,
        "free_ram_mb": memory - used,
        "local_gb": local_gb,
        "local_gb_used": local_gb - free_gb,
        "memory_mb": memory,
        "memory_mb_used": used,
        "running_vms": sum(f.running_vms for f in nodes),
        "vcpus": sum(f.vcpus for f in nodes),
        "vcpus_used": sum(f.vcpus_used for f in nodes),
    }
