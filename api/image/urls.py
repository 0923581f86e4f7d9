"""Image service URLs (mounted at ``/image``): Glance v2, read-only for now."""

from django.urls import re_path

from api.image import views

urlpatterns = [
    re_path(r"^/?$", views.VersionList.as_view()),
    re_path(r"^/versions/?$", views.VersionList.as_view()),
    re_path(r"^/v2/?$", views.VersionList.as_view()),
    re_path(r"^/v2/images/?$", views.ImageList.as_view()),
    re_path(r"^/v2/images/(?P<image_id>[^/]+)/?$", views.ImageItem.as_view()),
    re_path(r"^/v2/schemas/(?P<which>[^/]+)/?$", views.ImageSchema.as_view()),
]
