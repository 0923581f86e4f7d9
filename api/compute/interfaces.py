"""``/servers/{id}/os-interface[/{port_id}]``: Nova's interface attach/detach over Neutron ports."""

from __future__ import annotations

from rest_framework.response import Response

from api.compute.servers import ServerView
from logic.neutron import interfaces


class InterfaceList(ServerView):
    def get(self, request, server_id):
        return Response({"interfaceAttachments": interfaces.listing(self.server(server_id))})

    def post(self, request, server_id):
        ctx = self.writable()
        body, _job = interfaces.attach(ctx, self.server(server_id), request.data)
        body.pop("hotplug", None)  # Nova's schema has no such key; the README says NICs apply at the next boot
        return Response({"interfaceAttachment": body})


class InterfaceItem(ServerView):
    def get(self, request, server_id, port_id):
        return Response({"interfaceAttachment": interfaces.show(self.server(server_id), port_id)})

    def delete(self, request, server_id, port_id):
        ctx = self.writable()
        interfaces.detach(ctx, self.server(server_id), port_id)
        return Response(status=202)
