"""Version discovery: ``GET /identity`` lists v3 and v2.0; ``GET /identity/v3`` and ``/v2.0`` describe one."""

from __future__ import annotations

from rest_framework.response import Response

from api.identity.base import PublicView
from logic import catalog

MEDIA_TYPES = {
    "v3": "application/vnd.openstack.identity-v3+json",
    "v2.0": "application/vnd.openstack.identity-v2.0+json",
}


def version(name: str) -> dict:
    """One version object as keystoneauth's discovery reads it."""
    ids = {"v3": ("v3.14", "stable", "2020-04-07T00:00:00Z"), "v2.0": ("v2.0", "deprecated", "2016-08-04T00:00:00Z")}
    version_id, status, updated = ids[name]
    return {
        "id": version_id,
        "status": status,
        "updated": updated,
        "links": [{"rel": "self", "href": catalog.url_for(f"/identity/{name}/")}],
        "media-types": [{"base": "application/json", "type": MEDIA_TYPES[name]}],
    }


class Versions(PublicView):
    """``GET /identity``: 300 Multiple Choices, as Keystone answers."""

    def get(self, request):
        return Response({"versions": {"values": [version("v3"), version("v2.0")]}}, status=300)


class V3Version(PublicView):
    def get(self, request):
        return Response({"version": version("v3")})


class V2Version(PublicView):
    def get(self, request):
        return Response({"version": version("v2.0")})
