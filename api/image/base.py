"""What every Glance view shares: token authentication, any project role to read, JSON-patch bodies."""

from __future__ import annotations

from rest_framework.parsers import JSONParser
from rest_framework.views import APIView

from api.auth import ProjectReader, TokenAuthentication


class JsonPatchParser(JSONParser):
    """``application/openstack-images-v2.1-json-patch`` (what glanceclient and the SDK send on PATCH)."""

    media_type = "application/openstack-images-v2.1-json-patch"


class JsonPatchV20Parser(JSONParser):
    media_type = "application/openstack-images-v2.0-json-patch"


class GlanceView(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [ProjectReader]
