"""``/servers/{id}/os-instance-actions[/{request_id}]``: a server's action log (Nova's instance actions).

From 2.21 a deleted server's log still answers; from 2.51 everyone sees an action's
events (admins only before, tracebacks stay the admins'); from 2.58 the list is paged
(``limit``, ``marker``), filtered by ``changes-since`` and every action has ``updated_at``;
2.62 says where the events ran (``hostId``, and ``host`` for admins), 2.66 adds the
``changes-before`` filter and 2.84 a failed event's ``details``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from rest_framework.response import Response

from api.compute import server_render as render
from api.compute.servers import MAX_LIMIT, ServerView, rule_errors
from api.faults import NotFound
from logic import servers as rules
from logic.models import ServerAction
from logic.servers import action_log


@dataclass(frozen=True)
class EventHost:
    """Where an action's events ran, from 2.62: ``hostId`` for everyone, ``host`` (the Ganeti cluster) for admins."""

    host_id: str
    host: str | None = None  # None: leave the key out (not an admin)


def action_body(
    action: ServerAction,
    *,
    with_events: bool,
    traceback: bool = True,
    updated_at: bool = False,
    event_host: EventHost | None = None,
    details: bool = False,
) -> dict:
    """One action of the log; ``with_events`` adds its events, ``traceback`` their (admin-only) traceback,
    ``updated_at`` (2.58) when its record last changed, ``event_host`` (2.62) where the events ran,
    ``details`` (2.84) a failed event's message."""
    body = {
        "action": action.action,
        "request_id": action.request_id,
        "user_id": action.user_id,
        "project_id": action.project_id,
        "start_time": render.iso_usec(action.start_time),
        "message": action.message,
        "instance_uuid": str(action.server_id),
    }
    if updated_at:
        body["updated_at"] = render.iso_usec(action_log.updated_at(action))
    if with_events:
        body["events"] = (
            [
                {
                    "event": f"compute_{action.action}",
                    "start_time": render.iso_usec(action.start_time),
                    "finish_time": render.iso_usec(action.finish_time),
                    "result": action.result or "Success",
                    **({"traceback": None} if traceback else {}),
                    **_event_extras(action, event_host, details),
                }
            ]
            if action.finish_time
            else []
        )
    return body


def _event_extras(action: ServerAction, event_host: EventHost | None, details: bool) -> dict:
    extras: dict = {}
    if event_host is not None:
        extras["hostId"] = event_host.host_id
        if event_host.host is not None:
            extras["host"] = event_host.host
    if details:
        extras["details"] = action.message if action.result == "Error" else None
    return extras


class InstanceActionView(ServerView):
    def logged_server(self, server_id: str):
        """The server whose log is read: from 2.21 a deleted server's log is still there."""
        with rule_errors():
            return rules.get_server(self.request.auth, server_id, include_deleted=self.is_synnefo, any_deleted=self.mv("2.21"))


class InstanceActionList(InstanceActionView):
    """``GET /servers/{id}/os-instance-actions``: the action log, newest first."""

    def get(self, request, server_id):
        server = self.logged_server(server_id)
        if self.is_synnefo or not self.mv("2.58"):
            return Response({"instanceActions": [action_body(a, with_events=False) for a in server.actions.all()]})
        # 2.58: paged (limit, marker = a request id), changes-since, updated_at
        with rule_errors():
            params = request.query_params
            if "changes-before" in params and not self.mv("2.66"):
                params = params.copy()
                params.pop("changes-before")  # Nova ignores it before 2.66
            actions, more = action_log.page(server, params, MAX_LIMIT)
        body: dict = {"instanceActions": [action_body(a, with_events=False, updated_at=True) for a in actions]}
        if more and actions:
            params = request.query_params.copy()
            params["marker"] = actions[-1].request_id
            params.setdefault("limit", str(len(actions)))
            href = f"{self.link('servers', server.pk, 'os-instance-actions')}?{urlencode(params, doseq=True)}"
            body["links"] = [{"rel": "next", "href": href}]
        return Response(body)


class InstanceActionItem(InstanceActionView):
    """``GET /servers/{id}/os-instance-actions/{request_id}``."""

    def get(self, request, server_id, request_id):
        server = self.logged_server(server_id)
        action = server.actions.filter(request_id=request_id).first()
        if action is None:
            raise NotFound(f"Action {request_id} not found.")
        # Nova's default policy shows the events to admins only, and to everyone from 2.51 (tracebacks stay the admins')
        admin = request.auth.is_admin
        with_events = self.is_synnefo or admin or self.mv("2.51")
        updated = not self.is_synnefo and self.mv("2.58")
        event_host = None
        if not self.is_synnefo and self.mv("2.62"):
            backend = server.backend.name if server.backend_id else ""
            hashed = render.hashed_host_id(server.project_id, server.backend_id) if server.backend_id else ""
            event_host = EventHost(host_id=hashed, host=backend if admin else None)
        body = action_body(
            action,
            with_events=with_events,
            traceback=admin or self.is_synnefo,
            updated_at=updated,
            event_host=event_host,
            details=not self.is_synnefo and self.mv("2.84"),
        )
        return Response({"instanceAction": body})
