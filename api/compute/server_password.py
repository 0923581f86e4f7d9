"""``/servers/{id}/os-server-password``: the encrypted password a guest posted (Nova's API).

In Nova a guest's agent posts its administrator password, encrypted with the server's
public key, to the metadata service; this API reads or clears it. Ganeti guests here
post none (the metadata service is not there yet), so every server's is the empty
string, as in Nova for a guest that never posted one; clearing it is a no-op (204).
"""

from __future__ import annotations

from rest_framework.response import Response

from api.auth import require_write
from api.compute.servers import ServerView


class ServerPassword(ServerView):
    def get(self, request, server_id):
        self.server(server_id)  # 404 for a server the caller cannot see
        return Response({"password": ""})

    def delete(self, request, server_id):
        require_write(request.auth)
        self.server(server_id)
        return Response(status=204)
