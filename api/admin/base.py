"""The shared base of every admin view: token auth, admin only, JSON / MessagePack / HTML, paging, filters."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.viewsets import GenericViewSet, ViewSet

from api.admin.renderers import MessagePackRenderer
from api.auth import TokenAuthentication
from api.faults import Forbidden, Unauthorized
from api.renderers import FastJSONRenderer


class AdminBrowsableRenderer(BrowsableAPIRenderer):
    """DRF's browsable HTML for answers; errors (401, 403, ...) stay OpenStack JSON envelopes.

    Rendering an error page would authenticate again (the page shows the user),
    which is what failed in the first place.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code >= 400:
            response["Content-Type"] = "application/json"
            return FastJSONRenderer().render(data)
        return super().render(data, accepted_media_type, renderer_context)


RENDERERS = [FastJSONRenderer, MessagePackRenderer, AdminBrowsableRenderer]
COOKIE = "X-Auth-Token"


class AdminTokenAuthentication(TokenAuthentication):
    """``X-Auth-Token``; for reads only, also a cookie of that name (so a browser can use the HTML view).

    Writes need the header: a cookie alone could be sent by another site (CSRF).
    """

    def token_of(self, request) -> str | None:
        token = request.headers.get("X-Auth-Token")
        if not token and request.method in ("GET", "HEAD", "OPTIONS"):
            token = request.COOKIES.get(COOKIE)
        return token


class IsCloudAdmin(BasePermission):
    """The caller is a cloud administrator (``User.is_admin`` or the admin role): 403 otherwise."""

    def has_permission(self, request, view) -> bool:
        ctx = request.auth
        if ctx is None:
            raise Unauthorized("The request you have made requires authentication.")
        if not ctx.is_admin:
            raise Forbidden("Policy doesn't allow this operation: the admin API is for cloud administrators only.")
        return True


class AdminPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = 10000


class AdminMixin:
    authentication_classes = [AdminTokenAuthentication]
    permission_classes = [IsCloudAdmin]
    renderer_classes = RENDERERS

    @property
    def request_id(self) -> str:
        return getattr(self.request._request, "request_id", "") or ""


class AdminViewSet(AdminMixin, GenericViewSet):
    """A model viewset base: subclasses name ``queryset``, ``serializer_class`` and ``filterset_class``."""

    pagination_class = AdminPagination
    filter_backends = [DjangoFilterBackend]


class AdminPlainViewSet(AdminMixin, ViewSet):
    """A viewset over something that is not a model (Ganeti nodes, usage)."""
