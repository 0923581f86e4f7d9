"""``/os-services``: a ``nova-compute`` per Ganeti node (admin only; rules in :mod:`logic.compute_services`).

Microversions: 2.11 ``forced_down`` (and ``PUT /os-services/force-down``); 2.53 uuid ids and
``PUT /os-services/{id}`` with ``status`` / ``disabled_reason`` / ``forced_down`` (the
``enable``, ``disable``, ``disable-log-reason`` and ``force-down`` calls are gone: their
names are not uuids, so a 400); 2.75 unknown query parameters are a 400.
"""

from __future__ import annotations

from rest_framework.response import Response

from api.compute.base import ComputeView
from api.faults import BadRequest, NotFound
from logic import compute_services as rules

LIST_PARAMS = {"host", "binary"}
OLD_ACTIONS = {"enable", "disable", "disable-log-reason", "force-down"}


def _time(value) -> str | None:
    return value.replace(tzinfo=None).isoformat() if value else None


class _ServiceView(ComputeView):
    def render(self, service: rules.Service) -> dict:
        node = service.node
        body = {
            "id": str(node.service_uuid) if self.mv("2.53") else node.pk,
            "binary": rules.BINARY,
            "host": node.name,
            "zone": rules.ZONE,
            "status": service.status,
            "state": service.state,
            "updated_at": _time(node.updated_at),
            "disabled_reason": node.disabled_reason,
        }
        if self.mv("2.11"):
            body["forced_down"] = node.forced_down
        return body

    def body(self) -> dict:
        if not isinstance(self.request.data, dict):
            raise BadRequest("The request body must be a JSON object.")
        return self.request.data


class ServiceList(_ServiceView):
    def get(self, request):
        rules.require_admin(request.auth, "list")
        params = request.query_params
        if self.mv("2.75") and (unknown := set(params) - LIST_PARAMS):
            raise BadRequest(
                f"Invalid input for query parameters: additional properties are not allowed ({', '.join(sorted(unknown))})."
            )
        services = rules.listing(host=params.get("host"), binary=params.get("binary"))
        return Response({"services": [self.render(s) for s in services]})


class ServiceItem(_ServiceView):
    """``PUT /os-services/{action}`` before 2.53, ``PUT`` / ``DELETE /os-services/{id}``."""

    def put(self, request, service_id: str):
        rules.require_admin(request.auth, "update")
        body = self.body()
        if self.mv("2.53"):
            return self._update(rules.find(service_id, uuids=True), body)
        if service_id not in OLD_ACTIONS or (service_id == "force-down" and not self.mv("2.11")):
            raise NotFound(f"Unknown action {service_id}.")
        service = rules.find_by_host(body.get("host"), body.get("binary"))
        answer = {"host": service.node.name, "binary": rules.BINARY}
        if service_id == "force-down":
            if "forced_down" not in body:
                raise BadRequest("'forced_down' is a required property.")
            rules.update(service, forced_down=body["forced_down"])
            return Response({"service": {**answer, "forced_down": service.node.forced_down}})
        if service_id == "disable-log-reason":
            if "disabled_reason" not in body:
                raise BadRequest("'disabled_reason' is a required property.")
            rules.update(service, status="disabled", reason=body["disabled_reason"])
            return Response({"service": {**answer, "status": "disabled", "disabled_reason": service.node.disabled_reason}})
        rules.update(service, status="enabled" if service_id == "enable" else "disabled")
        return Response({"service": {**answer, "status": service.status}})

    def _update(self, service: rules.Service, body: dict) -> Response:
        unknown = set(body) - {"status", "disabled_reason", "forced_down"}
        if unknown:
            raise BadRequest(f"Additional properties are not allowed ({', '.join(sorted(unknown))} were unexpected).")
        status = body.get("status")
        if status is not None and not isinstance(status, str):
            raise BadRequest("'status' must be 'enabled' or 'disabled'.")
        rules.update(service, status=status, reason=body.get("disabled_reason"), forced_down=body.get("forced_down"))
        return Response({"service": self.render(service)})

    def delete(self, request, service_id: str):
        rules.require_admin(request.auth, "delete")
        rules.delete(rules.find(service_id, uuids=self.mv("2.53")))
        return Response(status=204)
