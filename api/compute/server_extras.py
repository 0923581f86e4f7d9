"""Server sub-resources: remote consoles (2.6) and server tags (2.26)."""

from __future__ import annotations

from rest_framework.response import Response

from api.compute.server_base import ServerView, rule_errors
from api.faults import BadRequest, NotFound
from logic import consoles, server_tags


# ----------------------------------------------------------------------------- remote consoles
class RemoteConsoles(ServerView):
    """``POST /servers/{id}/remote-consoles`` (2.6 on): the console URL API that replaced the console actions."""

    PROTOCOLS = {"vnc": {"novnc", "xvpvnc"}, "spice": {"spice-html5"}, "rdp": {"rdp-html5"}, "serial": {"serial"}}

    def post(self, request, server_id):
        if not self.mv("2.6"):
            raise NotFound("The resource could not be found.")
        body = self.body()
        spec = body.get("remote_console")
        if len(body) != 1 or not isinstance(spec, dict) or set(spec) != {"protocol", "type"}:
            raise BadRequest('The request body must be {"remote_console": {"protocol": ..., "type": ...}}.')
        protocols = dict(self.PROTOCOLS)
        if self.mv("2.8"):
            protocols["mks"] = {"webmks"}
        protocol, kind = spec["protocol"], spec["type"]
        if not isinstance(protocol, str) or not isinstance(kind, str) or kind not in protocols.get(protocol, ()):
            raise BadRequest(f"Invalid remote console: protocol {protocol!r} with type {kind!r}.")
        self.server(server_id)  # 404 for a missing server before saying what is missing here
        if protocol != "vnc":
            raise BadRequest(f"Unsupported remote console protocol {protocol!r}: this cloud offers vnc/novnc.")
        with rule_errors():
            body = consoles.nova_console(self.request.auth, server_id, protocol, kind)
        return Response({"remote_console": body})


# ----------------------------------------------------------------------------- tags (2.26)
class TagView(ServerView):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not self.mv("2.26"):
            raise NotFound("The resource could not be found.")


class ServerTagList(TagView):
    """``/servers/{id}/tags``: GET, PUT (replace all), DELETE (all)."""

    def get(self, request, server_id):
        with rule_errors():
            return Response({"tags": server_tags.tags_of(self.server(server_id))})

    def put(self, request, server_id):
        ctx = self.writable()
        with rule_errors():
            return Response({"tags": server_tags.replace_all(ctx, server_id, self.body())})

    def delete(self, request, server_id):
        ctx = self.writable()
        with rule_errors():
            server_tags.delete_all(ctx, server_id)
        return Response(status=204)


class ServerTagItem(TagView):
    """``/servers/{id}/tags/{tag}``: GET (204 when present), PUT (201 added, 204 already there), DELETE."""

    def get(self, request, server_id, tag):
        with rule_errors():
            if not server_tags.has(request.auth, server_id, tag):
                raise NotFound(f"Tag {tag} could not be found on instance {server_id}.")
        return Response(status=204)

    def put(self, request, server_id, tag):
        ctx = self.writable()
        with rule_errors():
            added = server_tags.add(ctx, server_id, tag)
        location = self.link("servers", server_id, "tags", tag)
        return Response(status=201 if added else 204, headers={"Location": location})

    def delete(self, request, server_id, tag):
        ctx = self.writable()
        with rule_errors():
            server_tags.remove(ctx, server_id, tag)
        return Response(status=204)
