"""``GET /limits``: the project's absolute limits and usage (no rate limits: ``rate`` is empty).

Microversion 2.36 drops the network fields (floating IPs, security groups), 2.39
``maxImageMeta`` (the image-metadata proxy is gone), 2.57 the personality ones. An admin may ask for another project's with ``tenant_id``.
"""

from __future__ import annotations

from rest_framework.response import Response

from api.compute.base import ComputeView
from api.faults import BadRequest
from logic import limits
from logic.models import Project


class LimitsView(ComputeView):
    def get(self, request):
        ctx = request.auth
        project = ctx.project
        tenant = request.query_params.get("tenant_id")
        if tenant and tenant != getattr(project, "pk", None) and ctx.is_admin:
            project = Project.objects.filter(pk=tenant).first()
            if project is None:
                raise BadRequest(f"Project {tenant} does not exist.")
        absolute = limits.absolute(
            project,
            ctx.user,
            network_fields=not self.mv("2.36"),
            image_meta=not self.mv("2.39"),
            personality=not self.mv("2.57"),
        )
        return Response({"limits": {"rate": [], "absolute": absolute}})
