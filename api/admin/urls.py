"""Admin URL map (mounted at ``/admin/v1/`` by ``cyclades/urls.py``)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import APIRootView, DefaultRouter

from api.admin import enc, nodes, usage, views
from api.admin.base import AdminMixin


class AdminRootView(AdminMixin, APIRootView):
    """The admin API's index: a link to every collection."""


router = DefaultRouter()
router.APIRootView = AdminRootView
router.trailing_slash = "/?"  # both /servers and /servers/ (clients differ)
router.register("servers", views.ServerViewSet, basename="admin-server")
router.register("backends", views.BackendViewSet, basename="admin-backend")
router.register("flavors", views.FlavorViewSet, basename="admin-flavor")
router.register("users", views.UserViewSet, basename="admin-user")
router.register("projects", views.ProjectViewSet, basename="admin-project")
router.register("nodes", nodes.NodeListViewSet, basename="admin-node")
router.register("usage", usage.UsageViewSet, basename="admin-usage")

NODE = "nodes/<str:backend>/<str:name>"
urlpatterns = [
    path(NODE, nodes.NodeViewSet.as_view({"get": "retrieve"}), name="admin-node-item"),
    path(f"{NODE}/role", nodes.NodeViewSet.as_view({"post": "role"}), name="admin-node-role"),
    path(f"{NODE}/tags", nodes.NodeViewSet.as_view({"put": "tags"}), name="admin-node-tags"),
    path("enc/<str:node>", enc.ENCViewSet.as_view({"get": "retrieve"}), name="admin-enc"),
    *router.urls,
]
