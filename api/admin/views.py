"""Admin API viewsets: parse, call ``logic``, render (NetBox-style: each one a few lines on the shared base)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from api.admin import filtersets, server_rows
from api.admin import serializers as s
from api.admin.base import AdminViewSet
from api.faults import BadRequest
from logic import backends as backend_rules
from logic import quotas
from logic.admin import moves, suspension
from logic.models import Backend, Flavor, Membership, Project, Server, User


def _reason(request) -> str:
    return f"cyclades admin {request.auth.user.pk}"


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise BadRequest("; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in serializer.errors.items()))
    return serializer.validated_data


class ServerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AdminViewSet):
    """Servers of every project. Filters: backend, node, state, user, project, suspended, deleted, name."""

    queryset = Server.objects.select_related("project", "user", "backend", "flavor", "suspension").order_by("id")
    serializer_class = s.ServerSerializer
    filterset_class = filtersets.ServerFilterSet

    @extend_schema(responses=s.ServerSerializer(many=True))
    def list(self, request, *args, **kwargs):
        """Pages of plain rows (:mod:`api.admin.server_rows`): the serializer's shape without model instances."""
        page = self.paginate_queryset(server_rows.rows(self.filter_queryset(self.get_queryset())))
        return self.get_paginated_response([server_rows.render(values) for values in page])

    @extend_schema(request=s.SuspendSerializer, responses=s.ServerSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """Stop the server (when running) and block every start until unsuspended."""
        _, stopping = suspension.suspend(
            request.auth, self.get_object().pk, request.data.get("reason"), request_id=self.request_id
        )
        return Response(self.get_serializer(self.get_object()).data | {"stop_submitted": stopping}, status=202)

    @extend_schema(request=None, responses=s.ServerSerializer)
    @action(detail=True, methods=["post"])
    def unsuspend(self, request, pk=None):
        suspension.unsuspend(request.auth, self.get_object().pk)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=s.MoveSerializer, responses={202: dict})
    @action(detail=True, methods=["post"])
    def migrate(self, request, pk=None):
        """Live-migrate the instance (a Ganeti job; its events update the server)."""
        body = request.data if isinstance(request.data, dict) else {}
        job = moves.migrate(
            self.get_object(), live=body.get("live", True), target_node=body.get("target_node"), reason=_reason(request)
        )
        return Response({"job_id": job}, status=202)

    @extend_schema(request=s.MoveSerializer, responses={202: dict})
    @action(detail=True, methods=["post"])
    def failover(self, request, pk=None):
        body = request.data if isinstance(request.data, dict) else {}
        job = moves.failover(self.get_object(), target_node=body.get("target_node"), reason=_reason(request))
        return Response({"job_id": job}, status=202)


class BackendViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AdminViewSet):
    """Ganeti clusters with their capacity; drain/undrain, offline/online, refresh (capacity from the RAPI)."""

    queryset = Backend.objects.annotate(server_count=Count("servers", filter=Q(servers__deleted=False))).order_by("name")
    serializer_class = s.BackendSerializer
    filterset_class = filtersets.BackendFilterSet

    def _flag(self, setter, value: bool) -> Response:
        setter(self.get_object(), value)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def drain(self, request, pk=None):
        return self._flag(backend_rules.set_drained, True)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def undrain(self, request, pk=None):
        return self._flag(backend_rules.set_drained, False)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def offline(self, request, pk=None):
        return self._flag(backend_rules.set_offline, True)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def online(self, request, pk=None):
        return self._flag(backend_rules.set_offline, False)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        backend_rules.refresh_stats(self.get_object())
        return Response(self.get_serializer(self.get_object()).data)


class FlavorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AdminViewSet):
    """Every flavor, disabled and private ones too (create and delete them through the compute API)."""

    queryset = Flavor.objects.order_by("id")
    serializer_class = s.FlavorSerializer
    filterset_class = filtersets.FlavorFilterSet


_MEMBERSHIPS = Prefetch("memberships", queryset=Membership.objects.select_related("user", "project"))


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AdminViewSet):
    queryset = User.objects.prefetch_related(_MEMBERSHIPS).order_by("name", "id")
    serializer_class = s.UserSerializer
    filterset_class = filtersets.UserFilterSet


class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AdminViewSet):
    queryset = (
        Project.objects.prefetch_related(_MEMBERSHIPS)
        .annotate(server_count=Count("servers", filter=Q(servers__deleted=False)))
        .order_by("name", "id")
    )
    serializer_class = s.ProjectSerializer
    filterset_class = filtersets.ProjectFilterSet

    @extend_schema(request=s.QuotaLimitsSerializer)
    @action(detail=True, methods=["get", "put"])
    def quotas(self, request, pk=None):
        """A project's (or, with ``?user=``, a member's) limits and usage; PUT sets limits."""
        project = self.get_object()
        user = request.query_params.get("user")
        if request.method == "PUT":
            data = _valid(s.QuotaLimitsSerializer, request.data)
            user = data.get("user") or user
            quotas.set_limits(project, dict(data["limits"]), user=user, force=data["force"])
        usage = quotas.usage(project, user)
        return Response(
            {
                "project": project.pk,
                "user": user,
                "quotas": {
                    r: {"limit": u.limit, "in_use": u.in_use, "committed": u.committed, "pending": u.pending_up}
                    for r, u in usage.items()
                },
            }
        )
