"""Ganeti nodes as an inventory: what the RAPI says (roles, group, capacity, instances) plus our own tags.

One ``PUT /2/query/node`` per backend reads every node with exactly the fields
``gnt-node list`` shows. Ganeti's role letters become words; this cloud's tags
(:class:`logic.models.NodeTag`: ``hypervisor``, ``storage``, ``maintenance``, ...)
say what an operator uses the node for, and feed the Puppet ENC and Salt pillar.
Changing a node's Ganeti role (drain, offline, back to regular) is a Ganeti job.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

from django.db import transaction

from logic import backends
from logic.errors import InvalidInput, NotFoundError
from logic.models import Backend, NodeTag
from logic.rapi import RapiClient, RapiNotFound

log = logging.getLogger(__name__)

# Ganeti's one-letter node roles (``gnt-node list -o role``) and what they mean.
ROLES = {"M": "master", "C": "candidate", "R": "regular", "D": "drained", "O": "offline"}
# Roles an operator may give a node through the admin API, as Ganeti's RAPI spells them.
SETTABLE_ROLES = {"regular": "regular", "candidate": "master-candidate", "drained": "drained", "offline": "offline"}
# The tags this cloud knows; others are accepted too (lowercase words) so sites can add their own.
KNOWN_TAGS = ("hypervisor", "storage", "maintenance", "network", "compute")
TAG_PATTERN_HELP = "a tag is 1-64 lowercase letters, digits, '-' or '_'"

QUERY_FIELDS = [
    "name",
    "role",
    "group",
    "ctotal",
    "mtotal",
    "mnode",
    "mfree",
    "dtotal",
    "dfree",
    "pinst_list",
    "sinst_list",
    "master_candidate",
    "drained",
    "offline",
    "vm_capable",
    "tags",
]


class NodeNotFound(NotFoundError):
    """The backend's cluster has no such node."""


@dataclass
class Node:
    """One Ganeti node as the inventory shows it. Memory and disk in MiB."""

    backend: str
    name: str
    role: str
    group: str
    cpu_total: int
    mem_total: int
    mem_node: int
    mem_free: int
    disk_total: int
    disk_free: int
    primary_instances: list[str]
    secondary_instances: list[str]
    vm_capable: bool
    ganeti_tags: list[str]
    tags: list[str] = field(default_factory=list)

    @property
    def instance_count(self) -> int:
        return len(self.primary_instances)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["instance_count"] = self.instance_count
        return data


def _value(cell: object) -> object:
    """A ``/2/query`` cell is ``[status, value]``; status 0 is "normal" (anything else: no data)."""
    if isinstance(cell, list) and len(cell) == 2 and cell[0] == 0:
        return cell[1]
    return None


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0


def parse_nodes(backend_name: str, answer: dict) -> list[Node]:
    """Nodes from a ``/2/query/node`` answer over :data:`QUERY_FIELDS`."""
    nodes = []
    for row in answer.get("data") or []:
        cells = dict(zip(QUERY_FIELDS, (_value(c) for c in row), strict=False))
        nodes.append(
            Node(
                backend=backend_name,
                name=str(cells["name"]),
                role=ROLES.get(str(cells["role"]), str(cells["role"])),
                group=str(cells["group"] or ""),
                cpu_total=_int(cells["ctotal"]),
                mem_total=_int(cells["mtotal"]),
                mem_node=_int(cells["mnode"]),
                mem_free=_int(cells["mfree"]),
                disk_total=_int(cells["dtotal"]),
                disk_free=_int(cells["dfree"]),
                primary_instances=sorted(cells["pinst_list"] or []),
                secondary_instances=sorted(cells["sinst_list"] or []),
                vm_capable=bool(cells["vm_capable"]),
                ganeti_tags=sorted(cells["tags"] or []),
            )
        )
    return sorted(nodes, key=lambda n: n.name)


def read_nodes(client: RapiClient, backend_name: str) -> list[Node]:
    return parse_nodes(backend_name, client.query("node", QUERY_FIELDS))


def _with_tags(backend: Backend, nodes: list[Node]) -> list[Node]:
    tags: dict[str, list[str]] = {}
    for node, tag in NodeTag.objects.filter(backend=backend).values_list("node", "tag"):
        tags.setdefault(node, []).append(tag)
    for node in nodes:
        node.tags = sorted(tags.get(node.name, []))
    return nodes


def inventory(backend: Backend) -> list[Node]:
    """Every node of ``backend`` (one RAPI query), with this cloud's tags."""
    with backends.client_for(backend) as client:
        return _with_tags(backend, read_nodes(client, backend.name))


def all_inventory(queryset=None) -> tuple[list[Node], dict[str, str]]:
    """Nodes of every online backend, and ``{backend: error}`` for those that could not be read."""
    from logic.errors import LogicError
    from logic.rapi import RapiError

    nodes: list[Node] = []
    errors: dict[str, str] = {}
    for backend in (queryset if queryset is not None else Backend.objects.filter(offline=False)).order_by("name"):
        try:
            nodes.extend(inventory(backend))
        except (RapiError, LogicError) as exc:
            log.warning("node inventory of %s failed: %s", backend.name, exc)
            errors[backend.name] = str(exc)
    return nodes, errors


def get_node(backend: Backend, name: str) -> Node:
    for node in inventory(backend):
        if node.name == name:
            return node
    raise NodeNotFound(f"Backend {backend.name} has no node {name!r}.")


def set_role(backend: Backend, name: str, role: object, *, reason: str | None = None) -> int:
    """Give a node a Ganeti role (``drained``, ``offline``, ``regular``, ``candidate``): returns the job id."""
    if role not in SETTABLE_ROLES:
        raise InvalidInput(f"Invalid role {role!r}: it must be one of {', '.join(SETTABLE_ROLES)}.")
    with backends.client_for(backend) as client:
        try:
            return client.set_node_role(name, SETTABLE_ROLES[role], reason=reason)
        except RapiNotFound as exc:
            raise NodeNotFound(f"Backend {backend.name} has no node {name!r}.") from exc


def _valid_tag(tag: object) -> str:
    import re

    if not isinstance(tag, str) or not re.fullmatch(r"[a-z0-9_-]{1,64}", tag):
        raise InvalidInput(f"Invalid tag {tag!r}: {TAG_PATTERN_HELP}.")
    return tag


def set_tags(backend: Backend, name: str, tags: object) -> list[str]:
    """Replace this cloud's tags of a node (the node must exist in the cluster)."""
    if not isinstance(tags, list):
        raise InvalidInput("tags must be a list of strings.")
    wanted = sorted({_valid_tag(t) for t in tags})
    get_node(backend, name)
    with transaction.atomic():
        NodeTag.objects.filter(backend=backend, node=name).exclude(tag__in=wanted).delete()
        have = set(NodeTag.objects.filter(backend=backend, node=name).values_list("tag", flat=True))
        NodeTag.objects.bulk_create([NodeTag(backend=backend, node=name, tag=t) for t in wanted if t not in have])
    return wanted
