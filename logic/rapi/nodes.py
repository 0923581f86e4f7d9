"""Node and node group calls."""

from __future__ import annotations

from logic.rapi.transport import (
    Transport,
    api_path,
)


class NodeCalls(Transport):
    """Node and node group calls. of :class:`logic.rapi.RapiClient`."""

    def list_nodes(self, *, bulk: bool = False) -> list:
        if bulk:
            return self.request("GET", api_path("nodes"), query={"bulk": 1})
        return [item["id"] for item in self.request("GET", api_path("nodes"))]

    def get_node(self, name: str) -> dict:
        return self.request("GET", api_path("nodes", name))

    def list_groups(self, *, bulk: bool = False) -> list:
        if bulk:
            return self.request("GET", api_path("groups"), query={"bulk": 1})
        return [item["name"] for item in self.request("GET", api_path("groups"))]

    def get_group(self, name: str) -> dict:
        return self.request("GET", api_path("groups", name))

    def set_node_role(self, name: str, role: str, *, force: bool = True, reason: str | None = None) -> int:
        """Change a node's role (``PUT /2/nodes/N/role``: regular, master-candidate, drained, offline); a job id."""
        return self._submit("PUT", api_path("nodes", name, "role"), body=role, query=[("force", int(force))], reason=reason)
