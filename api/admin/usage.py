"""Usage records for billing over a period: ``/admin/v1/usage?start=&end=&project=`` (JSON, MessagePack, CSV)."""

from __future__ import annotations

import json

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response

from api.admin.base import RENDERERS, AdminPlainViewSet
from logic.usage import records


class UsageCSVRenderer(BaseRenderer):
    """The usage records as CSV, one line per server (``Accept: text/csv`` or ``?format=csv``)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if not isinstance(data, dict) or "projects" not in data:  # an error envelope
            return json.dumps(data).encode()
        return records.rows_as_csv(s for p in data["projects"] for s in p["servers"]).encode()


class UsageViewSet(AdminPlainViewSet):
    """vCPU/RAM/disk-hours per project and server from the state history; ``?format=csv`` for a spreadsheet."""

    renderer_classes = [*RENDERERS, UsageCSVRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("start", str, description="ISO 8601; default: the start of this month"),
            OpenApiParameter("end", str, description="ISO 8601; default: now"),
            OpenApiParameter("project", str, description="a project id (repeatable)", many=True),
        ],
        responses={200: dict},
    )
    def list(self, request):
        start, end = records.parse_period(request.query_params.get("start"), request.query_params.get("end"))
        projects = request.query_params.getlist("project") or None
        usages = records.compute(start, end, projects=projects)
        return Response(records.as_json(usages, start, end))
