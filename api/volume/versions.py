"""Version discovery: ``GET /volume/`` (every version) and ``GET /volume/v3/`` (this one).

keystoneauth reads ``version``/``min_version`` from here to pick the microversion an
openstacksdk request sends, so they are exactly what :mod:`api.volume.base` serves.
"""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from api.volume.base import MAX_VERSION, MIN_VERSION


def _v3(request) -> dict:
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": str(MAX_VERSION),
        "min_version": str(MIN_VERSION),
        "updated": "2016-02-08T12:20:21Z",
        "links": [
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
            {"rel": "self", "href": request.build_absolute_uri("/volume/v3/")},
        ],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}],
    }


class Versions(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        return Response({"versions": [_v3(request)]}, status=300 if request.path.rstrip("/") == "/volume" else 200)


class V3Root(Versions):
    def get(self, request, project_id=None):
        return Response({"versions": [_v3(request)]})
