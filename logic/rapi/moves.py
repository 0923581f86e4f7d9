"""Moving instances between nodes: migrate, failover (each a Ganeti job)."""

from __future__ import annotations

from typing import Any

from logic.rapi.transport import Transport, api_path


class MoveCalls(Transport):
    """Instance moves of :class:`logic.rapi.RapiClient`."""

    def migrate_instance(
        self, name: str, *, live: bool = True, target_node: str | None = None, cleanup: bool = False, reason: str | None = None
    ) -> int:
        """``PUT /2/instances/N/migrate`` (live unless told otherwise; Ganeti picks the node for shared storage)."""
        body: dict[str, Any] = {"mode": "live" if live else "non-live", "cleanup": cleanup}
        if target_node:
            body["target_node"] = target_node
        return self._submit("PUT", api_path("instances", name, "migrate"), body=body, reason=reason)

    def failover_instance(self, name: str, *, target_node: str | None = None, reason: str | None = None) -> int:
        """``PUT /2/instances/N/failover``: restart the instance on its secondary (or ``target_node``)."""
        body: dict[str, Any] = {"ignore_consistency": False}
        if target_node:
            body["target_node"] = target_node
        return self._submit("PUT", api_path("instances", name, "failover"), body=body, reason=reason)
