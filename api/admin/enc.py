"""``GET /admin/v1/enc/<node>``: the Puppet ENC / Salt pillar document of a Ganeti node (YAML or JSON)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api.admin.base import RENDERERS, AdminPlainViewSet
from api.admin.renderers import YAMLRenderer
from logic.admin import enc


class ENCViewSet(AdminPlainViewSet):
    """Classes and parameters of a node, from the inventory and its tags (``Accept: application/yaml`` for Puppet)."""

    renderer_classes = [*RENDERERS, YAMLRenderer]

    @extend_schema(responses={200: dict})
    def retrieve(self, request, node: str):
        return Response(enc.classify_node(node))
