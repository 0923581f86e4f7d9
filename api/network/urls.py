"""Network service URLs (mounted at ``/network``): a read-only Neutron v2.0 subset for now."""

from django.urls import re_path

from api.network import views

urlpatterns = [
    re_path(r"^/?$", views.VersionList.as_view()),
    re_path(r"^/v2\.0/?$", views.ResourceList.as_view()),
    re_path(r"^/v2\.0/networks(?:/detail)?/?$", views.NetworkList.as_view()),
    re_path(r"^/v2\.0/networks/(?P<network_id>[^/]+)/?$", views.NetworkItem.as_view()),
    re_path(r"^/v2\.0/ports/?$", views.PortList.as_view()),
    re_path(r"^/v2\.0/ports/(?P<port_id>[^/]+)/?$", views.PortItem.as_view()),
]
