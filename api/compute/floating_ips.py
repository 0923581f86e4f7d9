"""Nova's floating IP and network proxies: ``/os-floating-ips``, ``/os-floating-ip-pools``, ``/os-tenant-networks``
(read-only; gone from 2.36, as in Nova)."""

from __future__ import annotations

from rest_framework.response import Response

from api.compute.security_groups import ProxyView
from logic.neutron import nova_floating


class FloatingList(ProxyView):
    def get(self, request):
        return Response({"floating_ips": nova_floating.listing(self.ctx())})

    def post(self, request):
        return Response({"floating_ip": nova_floating.allocate(self.writable(), request.data)})


class FloatingItem(ProxyView):
    def get(self, request, fip_id):
        return Response({"floating_ip": nova_floating.show(self.ctx(), fip_id)})

    def delete(self, request, fip_id):
        nova_floating.release(self.writable(), fip_id)
        return Response(status=202)


class PoolList(ProxyView):
    def get(self, request):
        return Response({"floating_ip_pools": nova_floating.pools()})


class TenantNetworkList(ProxyView):
    def get(self, request):
        return Response({"networks": nova_floating.tenant_networks(self.ctx())})


class TenantNetworkItem(ProxyView):
    def get(self, request, network_id):
        return Response({"network": nova_floating.tenant_network(self.ctx(), network_id)})
