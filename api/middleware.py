"""Request id on every request, log line and response."""

from __future__ import annotations

import re

from cyclades.logs import request_context

# A caller may pass its own id (a proxy, another service); keep it if well formed.
_VALID = re.compile(r"^req-[0-9a-f-]{36}$")


class RequestIdMiddleware:
    """Sets ``request.request_id`` and the ``X-Openstack-Request-Id`` response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Openstack-Request-Id", "")
        with request_context(given if _VALID.match(given) else None) as rid:
            request.request_id = rid
            response = self.get_response(request)
        response["X-Openstack-Request-Id"] = rid
        if request.path.startswith("/compute"):
            response["X-Compute-Request-Id"] = rid
        return response
