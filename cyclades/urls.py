"""URL map: one prefix per OpenStack service, matching the service catalog."""

from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView

from api.health import healthz
from api.metrics import metrics_view

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
    path("identity", include("api.identity.urls")),
    path("compute", include("api.compute.urls")),
    path("image", include("api.image.urls")),
    path("network", include("api.network.urls")),
    path("volume", include("api.volume.urls")),
    path("admin/v1/", include("api.admin.urls")),
    path("metrics", metrics_view, name="metrics"),
    path("", include("ui.urls")),
]

handler404 = "api.errors.not_found"
handler500 = "api.errors.server_error"
