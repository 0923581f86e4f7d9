"""``GET /os-simple-tenant-usage`` (admin: every project) and ``/os-simple-tenant-usage/{project}``."""

from __future__ import annotations

from rest_framework.response import Response

from api.compute.base import ComputeView
from logic.usage import tenant_usage


def _detailed(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


class TenantUsageList(ComputeView):
    def get(self, request):
        params = request.query_params
        usages = tenant_usage.tenant_usages(
            request.auth, params.get("start"), params.get("end"), detailed=_detailed(params.get("detailed"))
        )
        return Response({"tenant_usages": usages})


class TenantUsageItem(ComputeView):
    def get(self, request, project_id: str):
        params = request.query_params
        return Response(
            {"tenant_usage": tenant_usage.tenant_usage(request.auth, project_id, params.get("start"), params.get("end"))}
        )
