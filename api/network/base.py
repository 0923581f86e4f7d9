"""The shared Neutron view: token auth, project roles, Neutron's error body, body unwrapping."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import APIView

from api.auth import ProjectReader, TokenAuthentication
from api.faults import as_fault
from api.faults import exception_handler as openstack_handler
from logic.neutron.errors import NeutronBadRequest
from logic.neutron.quota import neutron_name
from logic.quotas import QuotaExceeded

#: Neutron's type when an error carries none of its own, by HTTP status.
_TYPES = {400: "HTTPBadRequest", 401: "HTTPUnauthorized", 403: "PolicyNotAuthorized", 404: "HTTPNotFound",
          405: "HTTPMethodNotAllowed", 409: "HTTPConflict", 413: "OverQuota", 415: "HTTPUnsupportedMediaType"}  # fmt: skip


def neutron_exception_handler(exc: Exception, context: dict) -> Response:
    """``{"NeutronError": {"type", "message", "detail"}}`` with the status of the matching OpenStack fault."""
    if isinstance(exc, QuotaExceeded):  # Neutron: 409 OverQuota (Nova says 403)
        message = f"Quota exceeded for resources: ['{neutron_name(exc.resource)}']."
        return Response({"NeutronError": {"type": "OverQuota", "message": message, "detail": ""}}, status=409)
    fault = as_fault(exc)
    if fault.status >= 500:
        return openstack_handler(exc, context)
    kind = getattr(exc, "neutron_type", None) or _TYPES.get(fault.status, "HTTPError")
    body = {"NeutronError": {"type": kind, "message": fault.message, "detail": ""}}
    return Response(body, status=fault.status, headers=fault.headers)


class NeutronView(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [ProjectReader]

    def get_exception_handler(self):
        return neutron_exception_handler


def unwrap(request, singular: str) -> dict[str, Any]:
    """The ``{"<singular>": {...}}`` object of a request body (400 when missing)."""
    data = request.data
    if not isinstance(data, dict) or not isinstance(data.get(singular), dict):
        raise NeutronBadRequest(f"Resource body required: expected a JSON object with a '{singular}' object.", "HTTPBadRequest")
    return data[singular]


def unwrap_many(request, singular: str, collection: str) -> list[dict[str, Any]] | None:
    """The objects of a bulk create (``{"<collection>": [...]}``), None for a single create."""
    data = request.data
    if isinstance(data, dict) and collection in data:
        items = data[collection]
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) and singular not in i for i in items):
            raise NeutronBadRequest(f"Bulk create needs a non-empty list of {singular} objects.", "HTTPBadRequest")
        return items
    return None
