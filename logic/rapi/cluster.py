"""Cluster-wide calls: version, info, features, operating systems, the query interface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from logic.rapi.transport import (
    Transport,
    api_path,
)


class ClusterCalls(Transport):
    """Cluster-wide calls of :class:`logic.rapi.RapiClient`."""

    def get_version(self) -> int:
        return self.request("GET", "/version")

    def get_info(self) -> dict:
        """Cluster information (``GET /2/info``): name, hypervisors, ipolicy, ..."""
        return self.request("GET", api_path("info"))

    def get_features(self) -> list[str]:
        return self.request("GET", api_path("features"))

    def list_operating_systems(self) -> list[str]:
        return self.request("GET", api_path("os"))

    def query(self, resource: str, fields: Sequence[str], qfilter: list | None = None) -> dict:
        """Ganeti's query interface (``PUT /2/query/<resource>``; read-only, so retried)."""
        body: dict[str, Any] = {"fields": list(fields)}
        if qfilter is not None:
            body["qfilter"] = qfilter
        return self.request("PUT", api_path("query", resource), body=body, idempotent=True)
