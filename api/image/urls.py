"""Image service URLs (mounted at ``/image``): Glance v2, and the Plankton view at ``/v1.0`` (kamaki)."""

from django.urls import re_path

from api.image import actions, data, fetch, members, personalise, plankton, schemas, upload, views

_ID = r"(?P<image_id>[^/]+)"

urlpatterns = [
    re_path(r"^/?$", views.VersionList.as_view()),
    re_path(r"^/versions/?$", views.VersionList.as_view()),
    re_path(r"^/v2/?$", views.VersionList.as_view()),
    re_path(r"^/v2/images$", views.ImageList.as_view()),  # Glance: /v2/images/ (an empty id) is 404
    re_path(rf"^/v2/images/{_ID}/?$", views.ImageItem.as_view()),
    re_path(rf"^/v2/images/{_ID}/file/?$", data.ImageFile.as_view()),
    re_path(rf"^/v2/images/{_ID}/actions/deactivate/?$", actions.Deactivate.as_view()),
    re_path(rf"^/v2/images/{_ID}/actions/reactivate/?$", actions.Reactivate.as_view()),
    re_path(rf"^/v2/images/{_ID}/tasks/?$", actions.Tasks.as_view()),
    re_path(rf"^/v2/images/{_ID}/import/?$", views.ImageImport.as_view()),
    re_path(rf"^/v2/images/{_ID}/tags/(?P<tag>[^/]+)/?$", actions.Tag.as_view()),
    re_path(rf"^/v2/images/{_ID}/members/?$", members.MemberList.as_view()),
    re_path(rf"^/v2/images/{_ID}/members/(?P<member_id>[^/]+)/?$", members.MemberItem.as_view()),
    re_path(r"^/v2/info/import/?$", views.ImportInfo.as_view()),
    re_path(r"^/fetch/(?P<grant>[A-Za-z0-9_-]+)/?$", fetch.ImageFetch.as_view()),
    re_path(r"^/personalise/(?P<grant>[A-Za-z0-9_-]+)/?$", personalise.Personalise.as_view()),
    re_path(r"^/upload/(?P<grant>[A-Za-z0-9_-]+)/?$", upload.SnapshotUpload.as_view()),
    # the Synnefo Plankton view (kamaki 0.16)
    re_path(r"^/v1\.0/images/?$", plankton.ImageList.as_view()),
    re_path(r"^/v1\.0/images/detail/?$", plankton.ImageDetailList.as_view()),
    re_path(rf"^/v1\.0/images/{_ID}/?$", plankton.ImageItem.as_view()),
    re_path(rf"^/v1\.0/images/{_ID}/members/?$", plankton.MemberList.as_view()),
    re_path(rf"^/v1\.0/images/{_ID}/members/(?P<member>[^/]+)/?$", plankton.MemberItem.as_view()),
    re_path(r"^/v1\.0/shared-images/(?P<owner>[^/]+)/?$", plankton.SharedImages.as_view()),
    re_path(r"^/v2/schemas/(?P<which>[^/]+)/?$", schemas.ImageSchema.as_view()),
]
