"""Neutron's ``/quotas``: a project's limits (and usage with ``/details``) for networks, subnets, ports, floating IPs, groups."""

from __future__ import annotations

from rest_framework import status
from rest_framework.response import Response

from api.auth import require_write
from api.network.base import NeutronView, unwrap
from logic.neutron import quota


class QuotaList(NeutronView):
    def get(self, request):
        return Response({"quotas": quota.listing(request.auth)})


class QuotaItem(NeutronView):
    def get(self, request, project_id: str):
        return Response({"quota": quota.show(request.auth, project_id)})

    def put(self, request, project_id: str):
        require_write(request.auth)
        return Response({"quota": quota.update(request.auth, project_id, unwrap(request, "quota"))})

    def delete(self, request, project_id: str):
        require_write(request.auth)
        quota.reset(request.auth, project_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class QuotaDetails(NeutronView):
    def get(self, request, project_id: str):
        return Response({"quota": quota.details(request.auth, project_id)})


class QuotaDefaults(NeutronView):
    def get(self, request, project_id: str):
        return Response({"quota": quota.defaults()})
