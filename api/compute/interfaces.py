"""``/servers/{id}/os-interface[/{port_id}]``: Nova's interface attach/detach over Neutron ports.

From 2.70 every attachment shows its device ``tag`` (always null: tagged attach, 2.49, is
not offered, and a create's network tags are not kept on the ports).
"""

from __future__ import annotations

from rest_framework.response import Response

from api.compute.servers import ServerView
from logic.neutron import interfaces


class _InterfaceView(ServerView):
    def shaped(self, body: dict) -> dict:
        if not self.is_synnefo and self.mv("2.70"):
            body["tag"] = None
        return body


class InterfaceList(_InterfaceView):
    def get(self, request, server_id):
        return Response({"interfaceAttachments": [self.shaped(b) for b in interfaces.listing(self.server(server_id))]})

    def post(self, request, server_id):
        ctx = self.writable()
        body, _job = interfaces.attach(ctx, self.server(server_id), request.data)
        body.pop("hotplug", None)  # Nova's schema has no such key; the README says NICs apply at the next boot
        return Response({"interfaceAttachment": self.shaped(body)})


class InterfaceItem(_InterfaceView):
    def get(self, request, server_id, port_id):
        return Response({"interfaceAttachment": self.shaped(interfaces.show(self.server(server_id), port_id))})

    def delete(self, request, server_id, port_id):
        ctx = self.writable()
        interfaces.detach(ctx, self.server(server_id), port_id)
        return Response(status=202)
