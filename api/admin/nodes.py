"""Ganeti nodes of every backend (inventory read from the RAPI), their Ganeti role and this cloud's tags."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from api.admin import serializers as s
from api.admin.base import AdminPlainViewSet
from api.admin.views import _valid
from logic.admin import nodes
from logic.models import Backend


def _backend(key: str) -> Backend:
    return get_object_or_404(Backend, pk=int(key)) if key.isdigit() else get_object_or_404(Backend, name=key)


class NodeListViewSet(AdminPlainViewSet):
    """``/admin/v1/nodes`` (``?backend=``, ``?role=``, ``?tag=``): every node of every online backend."""

    @extend_schema(
        parameters=[OpenApiParameter("backend", str), OpenApiParameter("role", str), OpenApiParameter("tag", str)],
        responses={200: dict},
    )
    def list(self, request):
        backends = Backend.objects.filter(offline=False)
        if key := request.query_params.get("backend"):
            backends = backends.filter(pk=_backend(key).pk)
        found, errors = nodes.all_inventory(backends)
        role, tag = request.query_params.get("role"), request.query_params.get("tag")
        rows = [n.as_dict() for n in found if (not role or n.role == role) and (not tag or tag in n.tags)]
        return Response({"nodes": rows, "unreachable": errors})


class NodeViewSet(AdminPlainViewSet):
    """``/admin/v1/nodes/<backend>/<node>``: one node; its Ganeti role (a job) and this cloud's tags."""

    @extend_schema(responses={200: dict})
    def retrieve(self, request, backend: str, name: str):
        return Response({"node": nodes.get_node(_backend(backend), name).as_dict()})

    @extend_schema(request=s.NodeRoleSerializer, responses={202: dict})
    def role(self, request, backend: str, name: str):
        """Drain, offline, or bring a node back (``regular``/``candidate``): a Ganeti job."""
        data = _valid(s.NodeRoleSerializer, request.data)
        job_id = nodes.set_role(_backend(backend), name, data["role"], reason=f"cyclades admin {request.auth.user.pk}")
        return Response({"job_id": job_id, "node": name, "role": data["role"]}, status=202)

    @extend_schema(request=s.NodeTagsSerializer, responses={200: dict})
    def tags(self, request, backend: str, name: str):
        """Replace this cloud's tags of the node (hypervisor, storage, maintenance, ...)."""
        data = _valid(s.NodeTagsSerializer, request.data)
        return Response({"node": name, "tags": nodes.set_tags(_backend(backend), name, data["tags"])})
