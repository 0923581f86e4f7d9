"""Network service URLs (mounted at ``/network``): the Neutron v2.0 subset."""

from django.urls import re_path

from api.network import crud, quotas, tags, views

_COLLECTIONS = r"(?P<collection>networks|subnets|ports|security-groups|security-group-rules|floatingips)"
_TAGGED = r"(?P<collection>" + "|".join(tags.TAGGED) + ")"

urlpatterns = [
    re_path(r"^/?$", views.VersionList.as_view()),
    re_path(r"^/v2\.0/?$", views.ResourceList.as_view()),
    re_path(r"^/v2\.0/extensions/?$", views.ExtensionList.as_view()),
    re_path(r"^/v2\.0/extensions/(?P<alias>[^/]+)/?$", views.ExtensionItem.as_view()),
    # Synnefo's kamaki lists networks at networks/detail
    re_path(r"^/v2\.0/(?P<collection>networks)/detail/?$", crud.CollectionView.as_view()),
    re_path(r"^/v2\.0/quotas/?$", quotas.QuotaList.as_view()),
    re_path(r"^/v2\.0/quotas/(?P<project_id>[^/]+)/details/?$", quotas.QuotaDetails.as_view()),
    re_path(r"^/v2\.0/quotas/(?P<project_id>[^/]+)/default/?$", quotas.QuotaDefaults.as_view()),
    re_path(r"^/v2\.0/quotas/(?P<project_id>[^/]+)/?$", quotas.QuotaItem.as_view()),
    re_path(rf"^/v2\.0/{_COLLECTIONS}/?$", crud.CollectionView.as_view()),
    re_path(rf"^/v2\.0/{_TAGGED}/(?P<item_id>[^/]+)/tags/?$", tags.TagList.as_view()),
    re_path(rf"^/v2\.0/{_TAGGED}/(?P<item_id>[^/]+)/tags/(?P<tag>[^/]+)/?$", tags.TagItem.as_view()),
    re_path(rf"^/v2\.0/{_COLLECTIONS}/(?P<item_id>[^/]+)/?$", crud.ItemView.as_view()),
]
