"""``/os-aggregates``: host aggregates (admin only; rules in :mod:`logic.aggregates`).

Microversions: 2.41 ``uuid``. 2.81's image pre-caching (``/os-aggregates/{id}/images``)
is not offered: Ganeti nodes have no image cache to fill.
"""

from __future__ import annotations

from rest_framework.response import Response

from api.compute.base import ComputeView
from api.faults import BadRequest
from logic import aggregates as rules
from logic.models import Aggregate


def _time(value) -> str | None:
    return value.replace(tzinfo=None).isoformat() if value else None


class _AggregateView(ComputeView):
    def render(self, aggregate: Aggregate, *, created: bool = False) -> dict:
        body: dict = {
            "id": aggregate.pk,
            "name": aggregate.name,
            "availability_zone": aggregate.availability_zone,
            "created_at": _time(aggregate.created_at),
            "updated_at": _time(aggregate.updated_at),
            "deleted": False,
            "deleted_at": None,
        }
        if not created:
            body["hosts"] = list(aggregate.hosts.order_by("name").values_list("name", flat=True))
            body["metadata"] = dict(aggregate.metadata)
        if self.mv("2.41"):
            body["uuid"] = str(aggregate.uuid)
        return body


class AggregateList(_AggregateView):
    def get(self, request):
        rules.require_admin(request.auth, "index")
        return Response({"aggregates": [self.render(a) for a in Aggregate.objects.order_by("id")]})

    def post(self, request):
        return Response({"aggregate": self.render(rules.create(request.auth, request.data), created=True)})


class AggregateItem(_AggregateView):
    def get(self, request, aggregate_id: str):
        rules.require_admin(request.auth, "show")
        return Response({"aggregate": self.render(rules.get(aggregate_id))})

    def put(self, request, aggregate_id: str):
        return Response({"aggregate": self.render(rules.update(request.auth, aggregate_id, request.data))})

    def delete(self, request, aggregate_id: str):
        rules.delete(request.auth, aggregate_id)
        return Response(status=200)


class AggregateAction(_AggregateView):
    def post(self, request, aggregate_id: str):
        rules.require_admin(request.auth, "action")
        body = request.data
        if not isinstance(body, dict) or len(body) != 1:
            raise BadRequest("The body must name one action: add_host, remove_host or set_metadata.")
        ((action, spec),) = body.items()
        if not isinstance(spec, dict):
            raise BadRequest(f"Invalid input for {action}: it must be an object.")
        if action == "add_host":
            aggregate = rules.add_host(request.auth, aggregate_id, spec.get("host"))
        elif action == "remove_host":
            aggregate = rules.remove_host(request.auth, aggregate_id, spec.get("host"))
        elif action == "set_metadata":
            aggregate = rules.set_metadata(request.auth, aggregate_id, spec.get("metadata"))
        else:
            raise BadRequest(f"Invalid action {action!r}: add_host, remove_host or set_metadata.")
        return Response({"aggregate": self.render(aggregate)})
