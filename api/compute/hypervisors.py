"""``/os-hypervisors``: the Ganeti nodes of every backend (admin only, rules in :mod:`logic.hypervisors`).

Microversions: 2.28 ``cpu_info`` is an object (a JSON string before); 2.33 ``limit`` /
``marker`` and ``hypervisors_links``; 2.53 uuid ids (hypervisor and service),
``hypervisor_hostname_pattern`` and ``with_servers`` replace ``/search`` and ``/servers``
(404 from 2.53); 2.88 the resource figures leave the bodies, ``uptime`` joins show and
detail, ``/statistics`` and ``/uptime`` are 404. Ganeti's RAPI does not report a node's
uptime: ``/uptime`` answers 501 (as Nova does for drivers without it) and 2.88's ``uptime``
is null.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from rest_framework.response import Response

from api.compute.base import ComputeView
from api.faults import BadRequest, NotFound, NotImplementedFault
from logic import hypervisors as rules
from logic.booleans import nova_boolean
from logic.compute_nodes import NodeFacts


class _HypervisorView(ComputeView):
    rule = "list"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        rules.require_admin(request.auth, self.rule)

    @property
    def uuids(self) -> bool:
        return self.mv("2.53")

    def with_servers(self) -> bool:
        if not self.mv("2.53"):
            return False
        value = self.request.query_params.get("with_servers")
        if value is None:
            return False
        parsed = nova_boolean(value)
        if parsed is None:
            raise BadRequest(f"Invalid input for query parameters with_servers. Value: {value}.")
        return parsed

    def summary(self, facts: NodeFacts, *, servers: bool = False) -> dict:
        body: dict = {
            "id": rules.node_id(facts, uuids=self.uuids),
            "hypervisor_hostname": facts.node.name,
            "state": "up" if facts.up else "down",
            "status": "disabled" if facts.node.disabled else "enabled",
        }
        if servers:
            body.update(self.servers_of(facts))
        return body

    def servers_of(self, facts: NodeFacts) -> dict:
        """``servers`` when asked for: only when there are some, until 2.75 made it always present."""
        if not facts.servers and not self.mv("2.75"):
            return {}
        return {"servers": [{"uuid": str(s.pk), "name": s.name} for s in facts.servers]}

    def detail(self, facts: NodeFacts, *, servers: bool = False) -> dict:
        node = facts.node
        body = self.summary(facts)
        body.update(
            {
                "host_ip": node.host_ip or "0.0.0.0",
                "hypervisor_type": facts.hypervisor_type,
                "hypervisor_version": facts.hypervisor_version,
                "service": {
                    "host": node.name,
                    "id": str(node.service_uuid) if self.uuids else node.pk,
                    "disabled_reason": node.disabled_reason,
                },
            }
        )
        if self.mv("2.88"):
            body["uptime"] = None
        else:
            free_gb = facts.disk_free_mb // rules.MIB_PER_GIB
            local_gb = facts.disk_mb // rules.MIB_PER_GIB
            cpu_info = facts.cpu_info
            body.update(
                {
                    "cpu_info": cpu_info if self.mv("2.28") else json.dumps(cpu_info),
                    "current_workload": rules.workload(facts),
                    "disk_available_least": free_gb,
                    "free_disk_gb": free_gb,
                    "free_ram_mb": facts.memory_mb - facts.memory_mb_used,
                    "local_gb": local_gb,
                    "local_gb_used": local_gb - free_gb,
                    "memory_mb": facts.memory_mb,
                    "memory_mb_used": facts.memory_mb_used,
                    "running_vms": facts.running_vms,
                    "vcpus": facts.vcpus,
                    "vcpus_used": facts.vcpus_used,
                }
            )
        if servers:
            body.update(self.servers_of(facts))
        return body

    def listing(self, path: str, render) -> Response:
        params = self.request.query_params
        paged = self.mv("2.33")
        page = rules.listing(
            limit=params.get("limit") if paged else None,
            marker=params.get("marker") if paged else None,
            pattern=params.get("hypervisor_hostname_pattern") if self.mv("2.53") else None,
            uuids=self.uuids,
        )
        servers = self.with_servers()
        body: dict = {"hypervisors": [render(f, servers=servers) for f in page.items]}
        if page.more and page.items:
            query = {k: v for k, v in params.items() if k != "marker"}
            query["marker"] = str(rules.node_id(page.items[-1], uuids=self.uuids))
            body["hypervisors_links"] = [{"rel": "next", "href": f"{self.link(path)}?{urlencode(query)}"}]
        return Response(body)


class HypervisorList(_HypervisorView):
    def get(self, request):
        return self.listing("os-hypervisors", self.summary)


class HypervisorDetailList(_HypervisorView):
    rule = "list-detail"

    def get(self, request):
        return self.listing("os-hypervisors/detail", self.detail)


class HypervisorItem(_HypervisorView):
    rule = "show"

    def get(self, request, hypervisor_id: str):
        facts = rules.find(hypervisor_id, uuids=self.uuids)
        return Response({"hypervisor": self.detail(facts, servers=self.with_servers())})


class HypervisorUptime(_HypervisorView):
    rule = "uptime"

    def get(self, request, hypervisor_id: str):
        if self.mv("2.88"):
            raise NotFound("The resource could not be found.")
        rules.find(hypervisor_id, uuids=self.uuids)
        raise NotImplementedFault("Virt driver does not implement uptime function.")


class HypervisorStatistics(_HypervisorView):
    rule = "statistics"

    def get(self, request):
        if self.mv("2.88"):
            raise NotFound("The resource could not be found.")
        from logic.compute_nodes import read_nodes

        return Response({"hypervisor_statistics": rules.statistics(read_nodes())})


class HypervisorSearch(_HypervisorView):
    """``/os-hypervisors/{pattern}/search`` and ``/servers`` (gone from 2.53: use the list's query)."""

    rule = "search"
    servers = False

    def get(self, request, pattern: str):
        if self.mv("2.53"):
            raise NotFound("The resource could not be found.")
        found = rules.search(pattern)
        return Response({"hypervisors": [self.summary(f, servers=self.servers) for f in found]})


class HypervisorServers(HypervisorSearch):
    rule = "servers"
    servers = True
