"""Neutron v2.0 discovery: the version list, the resource list and the extensions we implement.

The collections themselves are served by :mod:`api.network.crud` and :mod:`api.network.tags`.
"""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from api.network.base import NeutronView
from api.network.resources import ALL
from logic.neutron.errors import NeutronNotFound

#: (alias, name, description) of the Neutron API extensions this API implements.
EXTENSIONS = [
    ("external-net", "Neutron external network", "Adds external network attribute to network resource."),
    ("security-group", "security-group", "The security groups extension."),
    ("tag", "Tag support", "Enables to set tag on resources."),
    ("standard-attr-tag", "Tag support for resources with standard attribute", "Enables tags on networks, subnets, ports, security groups and floating IPs."),
    ("standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard attributes."),
    ("standard-attr-revisions", "Resource revision numbers", "This extension will display the revision number of neutron resources."),
    ("standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at fields to all Neutron resources."),
    ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
    ("net-mtu-writable", "Network MTU (writable)", "Provides a writable MTU attribute for a network resource."),
    ("port-security", "Port Security", "Provides port security."),
    ("project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled."),
    ("sorting", "Sorting support", "Enables sorting support."),
    ("pagination", "Pagination support", "Enables pagination support."),
    ("quotas", "Quota management support", "Expose functions for quotas management per project."),
    ("quota_details", "Quota details management support", "Expose functions for quotas usage statistics per project."),
]  # fmt: skip


def _extension(alias: str, name: str, description: str) -> dict:
    return {"alias": alias, "name": name, "description": description, "updated": "2026-01-01T00:00:00-00:00", "links": []}


class VersionList(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        href = request.build_absolute_uri("/network/v2.0/")
        return Response({"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": href}]}]})


class ResourceList(NeutronView):
    """``GET /network/v2.0``: the resources this view serves."""

    def get(self, request):
        base = request.build_absolute_uri("/network/v2.0")
        return Response(
            {
                "resources": [
                    {"name": r.singular, "collection": r.collection, "links": [{"rel": "self", "href": f"{base}/{r.collection}"}]}
                    for r in ALL
                ]
            }
        )


class ExtensionList(NeutronView):
    def get(self, request):
        return Response({"extensions": [_extension(*e) for e in EXTENSIONS]})


class ExtensionItem(NeutronView):
    def get(self, request, alias: str):
        found = next((e for e in EXTENSIONS if e[0] == alias), None)
        if found is None:
            raise NeutronNotFound("Extension", alias)
        return Response({"extension": _extension(*found)})
