"""The minimal Neutron view: networks and ports, read-only (the network issue brings the rest).

``GET /network`` lists the versions; ``/network/v2.0/networks`` (and Synnefo's
``networks/detail``), ``/network/v2.0/networks/{id}`` (404 for names, so clients
fall back to ``?name=``), ``/network/v2.0/ports`` (``?device_id=<server id>``) and
``/network/v2.0/ports/{id}``. ``fields=`` narrows the keys as in Neutron.
"""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from api.auth import ProjectReader, TokenAuthentication
from logic import networks as rules
from logic.models import ServerNIC
from logic.models.networks import Network


def _utc(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def network_body(network: Network) -> dict:
    owner = network.project_id or ""
    return {
        "id": str(network.pk),
        "name": network.name,
        "description": network.description,
        "tenant_id": owner,
        "project_id": owner,
        "status": network.status,
        "admin_state_up": network.admin_state_up,
        "shared": network.shared,
        "router:external": network.public,
        "subnets": [],
        "mtu": network.mtu,
        "port_security_enabled": True,
        "availability_zones": ["nova"],
        "availability_zone_hints": [],
        "ipv4_address_scope": None,
        "ipv6_address_scope": None,
        "is_default": False,
        "tags": [],
        "revision_number": 0,
        "created_at": _utc(network.created_at),
        "updated_at": _utc(network.updated_at),
    }


def port_body(nic: ServerNIC) -> dict:
    owner = nic.server.project_id
    fixed = [{"subnet_id": None, "ip_address": ip} for ip in (nic.ipv4, nic.ipv6) if ip]
    return {
        "id": str(nic.pk),
        "name": "",
        "description": "",
        "network_id": nic.network_id or "",
        "tenant_id": owner,
        "project_id": owner,
        "mac_address": nic.mac,
        "admin_state_up": True,
        "status": "ACTIVE",
        "device_id": str(nic.server_id),
        "device_owner": "compute:nova",
        "fixed_ips": fixed,
        "security_groups": [],
        "allowed_address_pairs": [],
        "extra_dhcp_opts": [],
        "binding:vnic_type": "normal",
        "port_security_enabled": True,
        "tags": [],
        "revision_number": 0,
        "created_at": _utc(nic.created_at),
        "updated_at": _utc(nic.created_at),
    }


def _fields(request, body: dict) -> dict:
    wanted = request.query_params.getlist("fields")
    return {k: v for k, v in body.items() if k in wanted} if wanted else body


class VersionList(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        href = request.build_absolute_uri("/network/v2.0/")
        return Response({"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": href}]}]})


class NeutronView(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [ProjectReader]


class ResourceList(NeutronView):
    """``GET /network/v2.0``: the resources this view serves."""

    def get(self, request):
        base = request.build_absolute_uri("/network/v2.0")
        return Response(
            {
                "resources": [
                    {"name": name, "collection": collection, "links": [{"rel": "self", "href": f"{base}/{collection}"}]}
                    for name, collection in (("network", "networks"), ("port", "ports"))
                ]
            }
        )


class NetworkList(NeutronView):
    def get(self, request):
        networks = rules.list_networks(request.auth, request.query_params)
        return Response({"networks": [_fields(request, network_body(n)) for n in networks]})


class NetworkItem(NeutronView):
    def get(self, request, network_id):
        return Response({"network": _fields(request, network_body(rules.get(request.auth, network_id)))})


class PortList(NeutronView):
    def get(self, request):
        ports = rules.list_ports(request.auth, request.query_params)
        return Response({"ports": [_fields(request, port_body(p)) for p in ports]})


class PortItem(NeutronView):
    def get(self, request, port_id):
        return Response({"port": _fields(request, port_body(rules.get_port(request.auth, port_id)))})
