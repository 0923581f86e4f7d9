"""Ganeti network calls: list, show, create, connect to and disconnect from node groups, remove."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from logic.rapi.transport import (
    Transport,
    api_path,
)


class NetworkCalls(Transport):
    """Ganeti network calls of :class:`logic.rapi.RapiClient`."""

    def list_networks(self, *, bulk: bool = False) -> list:
        if bulk:
            return self.request("GET", api_path("networks"), query={"bulk": 1})
        return [item["name"] for item in self.request("GET", api_path("networks"))]

    def get_network(self, name: str) -> dict:
        return self.request("GET", api_path("networks", name))

    def create_network(
        self,
        name: str,
        network: str,
        *,
        gateway: str | None = None,
        network6: str | None = None,
        gateway6: str | None = None,
        mac_prefix: str | None = None,
        add_reserved_ips: Sequence[str] = (),
        tags: Sequence[str] = (),
        reason: str | None = None,
    ) -> int:
        body: dict[str, Any] = {"network_name": name, "network": network}
        optional = {
            "gateway": gateway,
            "network6": network6,
            "gateway6": gateway6,
            "mac_prefix": mac_prefix,
            "add_reserved_ips": list(add_reserved_ips) or None,
            "tags": list(tags) or None,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return self._submit("POST", api_path("networks"), body=body, reason=reason)

    def connect_network(
        self,
        name: str,
        group: str,
        *,
        mode: str = "bridged",
        link: str,
        vlan: str = "",
        reason: str | None = None,
        depends: Sequence[int] = (),
    ) -> int:
        """Connect to a node group; ``depends``: jobs (the network's add) that must succeed first."""
        body = {"group_name": group, "network_mode": mode, "network_link": link, "network_vlan": vlan}
        return self._submit("PUT", api_path("networks", name, "connect"), body=body, reason=reason, depends=depends)

    def disconnect_network(self, name: str, group: str, *, reason: str | None = None, depends: Sequence[int] = ()) -> int:
        body = {"group_name": group}
        return self._submit("PUT", api_path("networks", name, "disconnect"), body=body, reason=reason, depends=depends)

    def remove_network(self, name: str, *, reason: str | None = None, depends: Sequence[int] = ()) -> int:
        return self._submit("DELETE", api_path("networks", name), reason=reason, depends=depends)
