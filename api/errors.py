"""Django-level error views (outside DRF): OpenStack envelopes for unknown URLs and crashes."""

from __future__ import annotations

from django.http import JsonResponse

from api.faults import Fault, NotFound, fault_body, is_keystone


def not_found(request, exception=None):
    fault = NotFound(f"The resource could not be found: {request.path}")
    return JsonResponse(fault_body(fault, keystone=is_keystone(request)), status=404)


def server_error(request):
    fault = Fault("The server has either erred or is incapable of performing the requested operation.")
    return JsonResponse(fault_body(fault, keystone=is_keystone(request)), status=500)
