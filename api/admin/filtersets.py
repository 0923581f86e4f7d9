"""Query filters of the admin lists (django-filter), e.g. ``/admin/v1/servers?backend=c1&state=STARTED&user=bob``."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from logic.admin import nodes
from logic.enums import OperState
from logic.event_messages import server_id_for
from logic.models import Backend, Flavor, Project, Server, User


def _backend_q(value: str) -> Q:
    return Q(backend__pk=int(value)) if value.isdigit() else Q(backend__name=value)


class ServerFilterSet(django_filters.FilterSet):
    """``backend`` (name or id), ``node`` (Ganeti primary node, read from the RAPI), ``state`` (operstate or
    OpenStack status), ``user`` / ``project`` (id or name), ``suspended``, ``deleted`` (default: not deleted), ``name``."""

    backend = django_filters.CharFilter(method="filter_backend")
    node = django_filters.CharFilter(method="filter_node")
    state = django_filters.CharFilter(method="filter_state")
    user = django_filters.CharFilter(method="filter_user")
    project = django_filters.CharFilter(method="filter_project")
    suspended = django_filters.BooleanFilter(field_name="suspension", lookup_expr="isnull", exclude=True)
    deleted = django_filters.BooleanFilter(field_name="deleted")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Server
        fields: list[str] = []

    @property
    def qs(self):
        qs = super().qs
        if "deleted" not in self.data:
            qs = qs.filter(deleted=False)
        return qs

    def filter_backend(self, qs, name, value):
        return qs.filter(_backend_q(value))

    def filter_node(self, qs, name, value):
        """Servers whose Ganeti instance has ``value`` as primary node (one RAPI query per online backend)."""
        backends = Backend.objects.filter(offline=False)
        if backend := self.data.get("backend"):
            backends = backends.filter(pk=int(backend)) if backend.isdigit() else backends.filter(name=backend)
        inventory, _ = nodes.all_inventory(backends)
        instances = {i for n in inventory if n.name == value for i in n.primary_instances}
        ids = [sid for sid in (server_id_for(i) for i in instances) if sid is not None]
        return qs.filter(pk__in=ids)

    def filter_state(self, qs, name, value):
        upper = value.upper()
        if upper in OperState.values:
            return qs.filter(operstate=upper)
        from logic.servers import status_q

        q = status_q(upper)
        return qs.filter(q) if q is not None else qs.none()

    def filter_user(self, qs, name, value):
        return qs.filter(Q(user__pk=value) | Q(user__name=value))

    def filter_project(self, qs, name, value):
        return qs.filter(Q(project__pk=value) | Q(project__name=value))


class BackendFilterSet(django_filters.FilterSet):
    class Meta:
        model = Backend
        fields = ["drained", "offline", "name"]


class FlavorFilterSet(django_filters.FilterSet):
    class Meta:
        model = Flavor
        fields = ["disabled", "is_public", "disk_template", "vcpus"]


class UserFilterSet(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="memberships__project__pk")

    class Meta:
        model = User
        fields = ["enabled", "is_admin", "name", "domain"]


class ProjectFilterSet(django_filters.FilterSet):
    user = django_filters.CharFilter(field_name="memberships__user__pk")

    class Meta:
        model = Project
        fields = ["enabled", "name", "domain"]
