"""Which Ganeti node a new server goes to, when it matters: disabled services and server groups.

The allocator (:mod:`logic.allocator`) picks the backend; this module narrows the choice
to nodes and names the node (Ganeti's ``pnode``) when it has to:

* nodes whose ``nova-compute`` service is disabled or forced down (``os-services``) take
  no new server: on a backend where only some are, the server is given one of the others;
* ``affinity``: every member on the same node (hence the same backend) as the first; when
  that node cannot take it the server is not placed ("No valid host", as Nova);
* ``anti-affinity``: no two members on the same node (``max_server_per_host`` of them
  from 2.64), over all backends; when no node is left, "No valid host";
* ``soft-affinity`` / ``soft-anti-affinity``: the same as preferences, never refusals.

Members of a group always get an explicit node (the first open node with the fewest
members, by name), which is recorded with the membership and is what later members are
checked against. Without a group and with every node open, Ganeti's own allocator
chooses the node as before. Nodes are the rows :mod:`logic.compute_nodes` keeps (no RAPI
call here: this runs inside the allocation transaction).
"""

from __future__ import annotations

from collections import Counter

from logic.models import Backend, ComputeNode, ServerGroup

Policy = ServerGroup.Policy


class Placement:
    """Node constraints for one server (``group``: the server group it joins, or None)."""

    def __init__(self, group: ServerGroup | None = None) -> None:
        self.group = group
        self.known: dict[int, list[ComputeNode]] = {}
        for node in ComputeNode.objects.filter(present=True).order_by("name"):
            self.known.setdefault(node.backend_id, []).append(node)
        self.members: Counter[tuple[int, str]] = Counter()
        if group is not None:
            rows = group.memberships.filter(server__deleted=False).select_related("server")
            self.members = Counter((m.server.backend_id, m.node) for m in rows if m.server.backend_id)

    # ---- per backend -----------------------------------------------------------------
    def open_nodes(self, backend: Backend) -> list[str]:
        return [n.name for n in self.known.get(backend.id, []) if n.takes_servers]

    def _strict(self, backend: Backend) -> list[str] | None:
        """The nodes a hard rule allows here (None: no rule applies)."""
        policy = self.group.policy if self.group else None
        open_nodes = self.open_nodes(backend)
        if policy == Policy.AFFINITY and self.members:
            return [n for n in open_nodes if (backend.id, n) in self.members]
        if policy == Policy.ANTI_AFFINITY:
            most = int((self.group.rules or {}).get("max_server_per_host", 1))
            return [n for n in open_nodes if self.members[(backend.id, n)] < most]
        return None

    def _preferred(self, backend: Backend, nodes: list[str]) -> list[str]:
        policy = self.group.policy if self.group else None
        if policy == Policy.SOFT_AFFINITY and self.members:
            return [n for n in nodes if (backend.id, n) in self.members]
        if policy == Policy.SOFT_ANTI_AFFINITY:
            return [n for n in nodes if (backend.id, n) not in self.members]
        return nodes

    def nodes(self, backend: Backend) -> list[str] | None:
        """Nodes of ``backend`` the server may go to ([]: none), or None: any (Ganeti decides)."""
        if not self.known.get(backend.id):
            return [] if self.group is not None and self.group.policy in (Policy.AFFINITY, Policy.ANTI_AFFINITY) else None
        strict = self._strict(backend)
        if strict is not None:
            return strict
        open_nodes = self.open_nodes(backend)
        if self.group is None and len(open_nodes) == len(self.known[backend.id]):
            return None
        return open_nodes

    # ---- over the candidates -----------------------------------------------------------
    def filter(self, candidates: list[Backend]) -> list[Backend]:
        """The candidates that can take the server; soft policies keep the preferred ones if any."""
        able = [b for b in candidates if self.nodes(b) != []]
        if self.group is None or self.group.policy not in (Policy.SOFT_AFFINITY, Policy.SOFT_ANTI_AFFINITY):
            return able
        preferred = [b for b in able if self._preferred(b, self.nodes(b) or self.open_nodes(b))]
        return preferred or able

    def node(self, backend: Backend) -> str | None:
        """The primary node for the server on ``backend`` (None: let Ganeti choose)."""
        nodes = self.nodes(backend)
        if nodes is None:
            if self.group is None:
                return None
            nodes = self.open_nodes(backend)
            if not nodes:
                return None
        nodes = self._preferred(backend, nodes) or nodes
        return min(nodes, key=lambda n: (self.members[(backend.id, n)], n))

    def describe(self) -> str:
        """Why nothing fits, in an operator's words."""
        if self.group is None:
            return "no node with an enabled compute service is left"
        return f"no node satisfies the {self.group.policy} policy of server group {self.group.uuid}"
