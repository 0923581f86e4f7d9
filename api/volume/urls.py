"""Volume service URLs (mounted at ``/volume``): only ``limits`` until the volume issue."""

from django.urls import re_path

from api.volume.limits import VolumeLimits

urlpatterns = [
    re_path(r"^/v3/(?:[0-9a-f]{32}/)?limits/?$", VolumeLimits.as_view()),
]
