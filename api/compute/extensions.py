"""``/extensions`` and ``/extensions/{alias}``: the Nova extensions whose behaviour this API has.

Only what is really served is listed; clients (and tempest's ``api_extensions``)
use the list to decide what to try.
"""

from __future__ import annotations

from rest_framework.response import Response

from api.compute.base import ComputeView
from api.faults import NotFound

_UPDATED = "2014-12-03T00:00:00Z"

# alias -> (name, description)
EXTENSIONS: dict[str, tuple[str, str]] = {
    "os-access-ips": ("AccessIPs", "Access IPs support."),
    "os-availability-zone": (
        "AvailabilityZone",
        "1. Add availability_zone to the Create Server API. 2. Add availability zones describing.",
    ),
    "os-disk-config": ("DiskConfig", "Disk Management Extension."),
    "os-extended-availability-zone": ("ExtendedAvailabilityZone", "Extended Availability Zone support."),
    "os-extended-server-attributes": ("ExtendedServerAttributes", "Extended Server Attributes support (admins)."),
    "os-extended-status": ("ExtendedStatus", "Extended Status support."),
    "os-extended-volumes": ("ExtendedVolumes", "Extended Volumes support."),
    "os-flavor-access": ("FlavorAccess", "Flavor access support."),
    "os-flavor-extra-data": ("FlavorExtraData", "Provide additional data for flavors."),
    "os-flavor-manage": ("FlavorManage", "Flavor create/delete API support."),
    "os-flavor-rxtx": ("FlavorRxtx", "Support to show the rxtx status of a flavor."),
    "os-flavor-extra-specs": ("FlavorExtraSpecs", "Flavors extra specs support (read-only)."),
    "flavors": ("Flavors", "Flavors Extension."),
    "images": ("Images", "Proxying API for Images."),
    "os-instance-actions": ("InstanceActions", "View a log of actions and events taken on an instance."),
    "ips": ("Ips", "Server addresses."),
    "os-keypairs": ("Keypairs", "Keypair Support."),
    "limits": ("Limits", "Limits support."),
    "os-lock-server": ("LockServer", "Enable lock/unlock server actions."),
    "server-metadata": ("ServerMetadata", "Server metadata Support."),
    "os-server-usage": ("ServerUsage", "Adds launched_at and terminated_at on Servers."),
    "servers": ("Servers", "Servers."),
    "os-server-start-stop": ("ServerStartStop", "Start/Stop instance compute API support."),
    "versions": ("Versions", "API Version information."),
    "extensions": ("Extensions", "Extension information."),
}


def _extension(alias: str) -> dict:
    name, description = EXTENSIONS[alias]
    return {
        "alias": alias,
        "name": name,
        "namespace": f"http://docs.openstack.org/compute/ext/{alias}/api/v2.1",
        "description": description,
        "updated": _UPDATED,
        "links": [],
    }


class ExtensionList(ComputeView):
    def get(self, request):
        return Response({"extensions": [_extension(a) for a in sorted(EXTENSIONS)]})


class ExtensionItem(ComputeView):
    def get(self, request, alias):
        if alias not in EXTENSIONS:
            raise NotFound(f"Extension {alias} could not be found.")
        return Response({"extension": _extension(alias)})
