"""``GET /os-simple-tenant-usage`` (admin: every project) and ``/os-simple-tenant-usage/{project}``.

From microversion 2.40 ``limit`` and ``marker`` (a server id) page over the servers, with
``tenant_usages_links`` / ``tenant_usage_links`` to the next page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from rest_framework.response import Response

from api.compute.base import ComputeView
from logic.usage import tenant_usage


def _detailed(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


class _UsageView(ComputeView):
    def paging(self) -> tenant_usage.Paging | None:
        if not self.mv("2.40"):
            return None
        params = self.request.query_params
        return tenant_usage.Paging(limit=params.get("limit"), marker=params.get("marker"))

    def links(self, path: str, marker: str | None) -> list[dict]:
        query = {k: v for k, v in self.request.query_params.items() if k != "marker"}
        query["marker"] = marker
        return [{"rel": "next", "href": f"{self.link(path)}?{urlencode(query)}"}]


class TenantUsageList(_UsageView):
    def get(self, request):
        params = request.query_params
        answer = tenant_usage.tenant_usages(
            request.auth, params.get("start"), params.get("end"), detailed=_detailed(params.get("detailed")), paging=self.paging()
        )
        body: dict = {"tenant_usages": answer.usages}
        if answer.next_marker:
            body["tenant_usages_links"] = self.links("os-simple-tenant-usage", answer.next_marker)
        return Response(body)


class TenantUsageItem(_UsageView):
    def get(self, request, project_id: str):
        params = request.query_params
        answer = tenant_usage.tenant_usage(request.auth, project_id, params.get("start"), params.get("end"), paging=self.paging())
        body: dict = {"tenant_usage": answer.usages[0]}
        if answer.next_marker:
            body["tenant_usage_links"] = self.links(f"os-simple-tenant-usage/{project_id}", answer.next_marker)
        return Response(body)
