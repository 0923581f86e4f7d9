"""Nova's security group proxy: ``/os-security-groups``, ``/os-security-group-rules``, ``/servers/{id}/os-security-groups``.

Gone from microversion 2.36 (404), as in Nova; the rules live in :mod:`logic.neutron.nova_groups`.
"""

from __future__ import annotations

from rest_framework.response import Response

from api.compute.servers import ServerView
from api.faults import NotFound
from logic.neutron import nova_groups


class ProxyView(ServerView):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.mv("2.36"):
            raise NotFound("The security group proxy APIs are gone from microversion 2.36: use the network API.")


class GroupList(ProxyView):
    def get(self, request):
        flag = request.query_params.get("all_tenants")
        everyone = flag is not None and flag.lower() not in ("0", "false", "no", "off")
        return Response({"security_groups": nova_groups.listing(self.ctx(), all_tenants=everyone)})

    def post(self, request):
        return Response({"security_group": nova_groups.create(self.writable(), request.data)})

    def delete(self, request):  # DELETE /os-security-groups/ without an id: Nova's 404
        raise NotFound("Security group not found: no id given.")


class GroupItem(ProxyView):
    def get(self, request, group_id):
        return Response({"security_group": nova_groups.show(self.ctx(), group_id)})

    def put(self, request, group_id):
        return Response({"security_group": nova_groups.update(self.writable(), group_id, request.data)})

    def delete(self, request, group_id):
        nova_groups.delete(self.writable(), group_id)
        return Response(status=202)


class RuleList(ProxyView):
    def post(self, request):
        return Response({"security_group_rule": nova_groups.create_rule(self.writable(), request.data)})


class RuleItem(ProxyView):
    def delete(self, request, rule_id):
        nova_groups.delete_rule(self.writable(), rule_id)
        return Response(status=202)


class ServerGroups(ProxyView):
    def get(self, request, server_id):
        return Response({"security_groups": nova_groups.of_server(self.server(server_id))})
