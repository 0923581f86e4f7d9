"""Server endpoints: thin views that parse, authorize, call :mod:`logic.servers`, render.

Both personalities use these views; :class:`api.compute.base.ComputeView` says
which one a request is for, and :mod:`api.compute.server_render` shapes bodies
(:mod:`api.compute.server_base` holds the views' shared base).
"""

from __future__ import annotations

from urllib.parse import urlencode

from rest_framework.response import Response

from api.compute import server_images
from api.compute import server_render as render
from api.compute.server_base import (
    LATER_CREATE_FIELDS,
    LATER_REBUILD_FIELDS,
    MAX_LIMIT,
    TAG_FILTERS,
    ServerView,
    rule_errors,
)
from api.faults import BadRequest, Conflict, NotFound, NotImplementedFault
from logic import consoles, server_tags
from logic import servers as rules
from logic.servers import scope

__all__ = ["MAX_LIMIT", "ServerView", "rule_errors"]


# ----------------------------------------------------------------------------- collection
class ServerList(ServerView):
    """``GET /servers`` (id, name, links) and ``POST /servers`` (create)."""

    detail = False

    def get(self, request, **kwargs):
        ctx = request.auth
        with rule_errors():
            params = self.list_params()
            qs = rules.filter_servers(scope.listed_servers(ctx, params), params)
            if qs is not None and not self.is_synnefo and TAG_FILTERS & set(params):
                qs = server_tags.filter_by_tags(qs, params)
            with_tags = self.detail and self.with_tags()
            page, more = ([], False) if qs is None else rules.paginate(qs, params, MAX_LIMIT, with_tags=with_tags)
        links = self.link_builder()
        if self.detail:
            facts = self.admin_facts(page)
            flavors = self.embedded_flavors(page)
            images = self.image_properties(page)
            items = [self.full(s, facts, flavors, images, single=False) for s in page]
        else:
            items = [render.nova_summary(s, links) for s in page]
        body: dict = {"servers": items}
        if more and page:
            params = request.query_params.copy()
            params["marker"] = str(page[-1].pk)
            params.setdefault("limit", str(len(page)))
            path = "servers/detail" if self.detail else "servers"
            body["servers_links"] = [{"rel": "next", "href": f"{self.link(path)}?{urlencode(params, doseq=True)}"}]
        return Response(body)

    def post(self, request, **kwargs):
        ctx = self.writable()
        body = self.body()
        spec = body.get("server")
        self.versioned_fields(spec, {"description": "2.19", "tags": "2.52", **LATER_CREATE_FIELDS})
        self.removed_fields(spec, {"personality": "2.57"})
        self.check_create_networks(spec)
        self.check_later_fields(spec)
        with rule_errors():
            spec = rules.parse_create(ctx, body)
            created = rules.create(ctx, spec, request_id=self.request_id())
        if spec.return_reservation_id and not self.is_synnefo:
            return Response({"reservation_id": created[0].reservation_id}, status=202)
        server = self.row(str(created[0].pk))
        if self.is_synnefo:
            body = {**render.synnefo_detail(server, self.link_builder()), "adminPass": spec.admin_pass}
        else:
            body = render.nova_created(server, self.link_builder(), spec.admin_pass)
        return Response({"server": body}, status=202, headers={"Location": self.link("servers", server.pk)})


class ServerDetailList(ServerList):
    """``GET /servers/detail``: full servers."""

    detail = True

    def post(self, request, **kwargs):
        raise NotFound("The resource could not be found.")


# ----------------------------------------------------------------------------- one server
class ServerItem(ServerView):
    """``GET/PUT/DELETE /servers/{id}``."""

    def get(self, request, server_id):
        return Response({"server": self.full(self.row(server_id))})

    def put(self, request, server_id):
        ctx = self.writable()
        server = self.server(server_id)
        body = self.body()
        self.versioned_fields(body.get("server"), {"description": "2.19", "hostname": "2.90"})
        self.check_later_fields(body.get("server"))
        with rule_errors():
            rules.update(ctx, server, body)
        return Response({"server": self.common(self.row(server_id))})

    def delete(self, request, server_id):
        ctx = self.writable()
        with rule_errors():
            rules.delete(ctx, server_id, request_id=self.request_id())
        return Response(status=204)


class ServerActionView(ServerView):
    """``POST /servers/{id}/action``: one action per request, ``{"<action>": {...}}``."""

    def post(self, request, server_id):
        ctx = self.writable()
        body = self.body()
        if len(body) != 1:
            raise BadRequest("The action body must name exactly one action.")
        ((name, args),) = body.items()
        handler = self.handlers().get(name)
        if handler is None:
            if not self.is_synnefo and name in self.CONSOLE_ACTIONS and self.mv("2.6"):
                raise NotFound(f"The {name} action is gone from microversion 2.6: use POST /servers/{{id}}/remote-consoles.")
            if not self.is_synnefo and name in self.NETWORK_PROXY_ACTIONS and self.mv("2.44"):
                raise NotFound(f"The {name} action is gone from microversion 2.44: use the network API.")
            if name in self.SOFT_DELETE_ACTIONS:
                # Nova without soft delete (reclaim_instance_interval = 0): no server is ever SOFT_DELETED
                server = self.server(server_id)
                raise Conflict(f"Cannot '{name}' instance {server.pk}: it is not soft-deleted (soft delete is not enabled).")
            if name in self.NOT_SUPPORTED:
                self.server(server_id)  # 404 first for a missing server
                raise NotImplementedFault(self.NOT_SUPPORTED[name])
            raise BadRequest(f"Unsupported action: {name!r}.")
        rid = self.request_id()
        with rule_errors():
            return handler(ctx, server_id, args, rid)

    # replaced by /servers/{id}/remote-consoles from microversion 2.6
    CONSOLE_ACTIONS = frozenset({"os-getVNCConsole", "os-getSPICEConsole", "os-getRDPConsole", "os-getSerialConsole"})

    # the actions on SOFT_DELETED servers: a 409 here, as in Nova with soft delete off
    SOFT_DELETE_ACTIONS = frozenset({"restore", "forceDelete"})

    # Nova's proxies of the network API, removed (404) from microversion 2.44
    NETWORK_PROXY_ACTIONS = frozenset({"addFixedIp", "removeFixedIp", "addFloatingIp", "removeFloatingIp"})

    NOT_SUPPORTED = {
        "addFixedIp": "Fixed IPs are the network API's: create a port and attach it.",
        "removeFixedIp": "Fixed IPs are the network API's: detach the port.",
        "changePassword": "Changing the administrator password of a running server is not supported.",
        "pause": "Pausing servers is not supported on Ganeti.",
        "unpause": "Pausing servers is not supported on Ganeti.",
        "suspend": "Suspending servers is not supported on Ganeti.",
        "resume": "Suspending servers is not supported on Ganeti.",
        "shelve": "Shelving servers is not supported.",
        "shelveOffload": "Shelving servers is not supported.",
        "unshelve": "Shelving servers is not supported.",
        "rescue": "Rescue mode is not supported yet.",
        "unrescue": "Rescue mode is not supported yet.",
        "os-getConsoleOutput": "Console output is not available from Ganeti.",
        "migrate": "Migration is an operator action (gnt-instance migrate).",
        "os-migrateLive": "Migration is an operator action (gnt-instance migrate).",
    }

    def handlers(self) -> dict:
        handlers = {
            "reboot": self.reboot,
            "os-start": self.start,
            "os-stop": self.stop,
            "resize": self.resize,
            "confirmResize": self.confirm_resize,
            "revertResize": self.revert_resize,
            "rebuild": self.rebuild,
            "lock": self.lock,
            "unlock": self.unlock,
            "createImage": lambda *a: server_images.create_image(self, *a),
            "createBackup": lambda *a: server_images.create_backup(self, *a),
            "addSecurityGroup": self.security_group_action(add=True),
            "removeSecurityGroup": self.security_group_action(add=False),
        }
        if not self.is_synnefo and not self.mv("2.44"):
            handlers["addFloatingIp"] = self.floating_ip_action(add=True)
            handlers["removeFloatingIp"] = self.floating_ip_action(add=False)
        if self.is_synnefo:
            handlers.update({"start": self.start, "shutdown": self.stop, "console": self.console})
        else:
            if not self.mv("2.6"):
                handlers["os-getVNCConsole"] = self.vnc_console
            if self.mv("2.17"):
                handlers["trigger_crash_dump"] = self.trigger_crash_dump
        return handlers

    @staticmethod
    def accepted() -> Response:
        return Response(status=202)

    def security_group_action(self, *, add: bool):
        """``addSecurityGroup`` / ``removeSecurityGroup`` ``{"name": ...}``: on every port of the server."""

        def handle(ctx, server_id, args, rid):
            from logic.neutron import server_ports

            if not isinstance(args, dict) or not isinstance(args.get("name"), str) or not args["name"]:
                raise BadRequest('The action requires {"name": <security group name or id>}.')
            change = server_ports.add_security_group if add else server_ports.remove_security_group
            change(ctx, self.server(server_id), args["name"])
            return self.accepted()

        return handle

    def floating_ip_action(self, *, add: bool):
        """``addFloatingIp`` / ``removeFloatingIp`` ``{"address": ...}`` (Nova's proxy, to microversion 2.43)."""

        def handle(ctx, server_id, args, rid):
            from logic.neutron import nova_floating

            change = nova_floating.associate if add else nova_floating.disassociate
            change(ctx, self.server(server_id), args)
            return self.accepted()

        return handle

    def reboot(self, ctx, server_id, args, rid):
        if not isinstance(args, dict):
            raise BadRequest('reboot requires {"type": "SOFT"|"HARD"}.')
        rules.reboot(ctx, server_id, args.get("type"), request_id=rid)
        return self.accepted()

    def start(self, ctx, server_id, args, rid):
        rules.start(ctx, server_id, request_id=rid)
        return self.accepted()

    def stop(self, ctx, server_id, args, rid):
        rules.stop(ctx, server_id, request_id=rid)
        return self.accepted()

    def resize(self, ctx, server_id, args, rid):
        if not isinstance(args, dict):
            raise BadRequest('resize requires {"flavorRef": ...}.')
        rules.resize(ctx, server_id, args.get("flavorRef"), request_id=rid)
        return self.accepted()

    def confirm_resize(self, ctx, server_id, args, rid):
        rules.confirm_resize(ctx, server_id, request_id=rid)
        return Response(status=204)

    def revert_resize(self, ctx, server_id, args, rid):
        rules.revert_resize(ctx, server_id, request_id=rid)
        return self.accepted()

    def rebuild(self, ctx, server_id, args, rid):
        self.versioned_fields(args, {"description": "2.19", "key_name": "2.54", "user_data": "2.57", **LATER_REBUILD_FIELDS})
        self.removed_fields(args, {"personality": "2.57"})
        self.check_later_fields(args)
        rebuilt, admin_pass = rules.rebuild(ctx, server_id, args, request_id=rid)
        server = self.row(server_id)
        body = self.common(server)
        if not self.is_synnefo and self.mv("2.54"):
            body["key_name"] = server.key_name
        if not self.is_synnefo and self.mv("2.57"):
            body.pop("OS-EXT-SRV-ATTR:user_data", None)  # 2.75's whole server says user_data instead
            body["user_data"] = rebuilt.user_data
        body["adminPass"] = admin_pass
        return Response({"server": body}, status=202)

    def lock(self, ctx, server_id, args, rid):
        # a lock reason is part of the request from 2.73 (Nova reads no lock body before)
        with_reason = self.is_synnefo or self.mv("2.73")
        reason = args.get("locked_reason") if with_reason and isinstance(args, dict) else None
        rules.set_lock(ctx, server_id, True, reason=reason, request_id=rid)
        return self.accepted()

    def unlock(self, ctx, server_id, args, rid):
        rules.set_lock(ctx, server_id, False, request_id=rid)
        return self.accepted()

    def trigger_crash_dump(self, ctx, server_id, args, rid):
        """2.17: Nova answers 400 when the hypervisor cannot inject an NMI; Ganeti's cannot."""
        if args is not None:
            raise BadRequest('trigger_crash_dump takes no arguments: {"trigger_crash_dump": null}.')
        self.server(server_id)  # 404 first for a missing server
        raise BadRequest("Triggering a crash dump (NMI) is not supported by this cloud's hypervisors.")

    def console(self, ctx, server_id, args, rid):
        kind = args.get("type") if isinstance(args, dict) else None
        return Response({"console": consoles.synnefo_console(ctx, server_id, kind)})

    def vnc_console(self, ctx, server_id, args, rid):
        """``os-getVNCConsole`` (before 2.6): ``{"console": {"type": "novnc", "url": ...}}``."""
        kind = args.get("type") if isinstance(args, dict) else None
        return Response({"console": consoles.legacy_vnc_console(ctx, server_id, kind)})


# ----------------------------------------------------------------------------- metadata
class ServerMetadataList(ServerView):
    """``/servers/{id}/metadata``: GET, PUT (replace), POST (merge)."""

    def get(self, request, server_id):
        return Response({"metadata": rules.metadata_of(self.server(server_id))})

    def _set(self, server_id, *, replace: bool):
        ctx = self.writable()
        server = self.server(server_id)
        body = self.body()
        if not isinstance(body.get("metadata"), dict):
            raise BadRequest('The request body must be {"metadata": {...}}.')
        with rule_errors():
            result = rules.set_metadata(ctx, server, body["metadata"], replace=replace)
        return Response({"metadata": result})

    def put(self, request, server_id):
        return self._set(server_id, replace=True)

    def post(self, request, server_id):
        return self._set(server_id, replace=False)


class ServerMetadataItem(ServerView):
    """``/servers/{id}/metadata/{key}``: GET, PUT, DELETE."""

    def get(self, request, server_id, key):
        meta = rules.metadata_of(self.server(server_id))
        if key not in meta:
            raise NotFound(f"Metadata item was not found: {key}.")
        return Response({"meta": {key: meta[key]}})

    def put(self, request, server_id, key):
        ctx = self.writable()
        server = self.server(server_id)
        with rule_errors():
            meta = rules.set_metadata_item(ctx, server, key, self.body())
        return Response({"meta": meta})

    def delete(self, request, server_id, key):
        ctx = self.writable()
        server = self.server(server_id)
        with rule_errors():
            rules.delete_metadata_item(ctx, server, key)
        return Response(status=204)


# ----------------------------------------------------------------------------- addresses
class ServerIPs(ServerView):
    """``GET /servers/{id}/ips``."""

    def get(self, request, server_id):
        return Response({"addresses": render.addresses(self.row(server_id), extended=False)})


class ServerIPsByNetwork(ServerView):
    """``GET /servers/{id}/ips/{network}``."""

    def get(self, request, server_id, network):
        addresses = render.addresses(self.row(server_id), extended=False)
        if network not in addresses:
            raise NotFound(f"There are no addresses of network {network} on this server.")
        return Response({network: addresses[network]})
