"""``/os-availability-zone`` (and ``/detail`` for admins): one zone, ``nova``.

The detail view lists the Ganeti clusters (backends) as the zone's hosts, each
available unless it is offline, active unless it is drained.
"""

from __future__ import annotations

from rest_framework.response import Response

from api.auth import require_admin
from api.compute.base import ComputeView
from logic.models import Backend

ZONE = "nova"


class AvailabilityZoneList(ComputeView):
    def get(self, request):
        return Response({"availabilityZoneInfo": [{"zoneName": ZONE, "zoneState": {"available": True}, "hosts": None}]})


class AvailabilityZoneDetail(ComputeView):
    def get(self, request):
        require_admin(request.auth)
        hosts = {
            backend.name: {
                "nova-compute": {
                    "available": not backend.offline,
                    "active": not backend.drained,
                    "updated_at": backend.stats_updated_at.isoformat() if backend.stats_updated_at else None,
                }
            }
            for backend in Backend.objects.order_by("name")
        }
        return Response({"availabilityZoneInfo": [{"zoneName": ZONE, "zoneState": {"available": True}, "hosts": hosts or None}]})
