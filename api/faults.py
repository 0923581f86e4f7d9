"""OpenStack fault envelopes and the DRF exception handler that renders them.

Compute, image and network APIs answer ``{"<faultName>": {"code", "message"}}``;
identity answers Keystone's ``{"error": {"code", "title", "message"}}``. Views
raise :class:`Fault` subclasses; anything unexpected becomes a logged 500
``computeFault`` without internals in the message.
"""

from __future__ import annotations

import logging

from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

log = logging.getLogger(__name__)


class Fault(Exception):
    """An error with an HTTP status and an OpenStack fault name."""

    status = 500
    name = "computeFault"
    title = "Internal Server Error"

    def __init__(self, message: str, *, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(Fault):
    status, name, title = 400, "badRequest", "Bad Request"


class Unauthorized(Fault):
    status, name, title = 401, "unauthorized", "Unauthorized"


class Forbidden(Fault):
    status, name, title = 403, "forbidden", "Forbidden"


class NotFound(Fault):
    status, name, title = 404, "itemNotFound", "Not Found"


class MethodNotAllowed(Fault):
    status, name, title = 405, "badMethod", "Method Not Allowed"


class NotAcceptable(Fault):
    status, name, title = 406, "notAcceptable", "Not Acceptable"


class Conflict(Fault):
    status, name, title = 409, "conflictingRequest", "Conflict"


class OverLimit(Fault):
    status, name, title = 413, "overLimit", "Request Entity Too Large"


class RangeNotSatisfiable(Fault):
    status, name, title = 416, "rangeNotSatisfiable", "Requested Range Not Satisfiable"


class UnsupportedMediaType(Fault):
    status, name, title = 415, "badMediaType", "Unsupported Media Type"


class NotImplementedFault(Fault):
    status, name, title = 501, "notImplemented", "Not Implemented"


class ServiceUnavailable(Fault):
    status, name, title = 503, "serviceUnavailable", "Service Unavailable"


def fault_body(fault: Fault, keystone: bool = False) -> dict:
    if keystone:
        return {"error": {"code": fault.status, "title": fault.title, "message": fault.message}}
    return {fault.name: {"code": fault.status, "message": fault.message}}


_DRF_MAP: list[tuple[type[Exception], type[Fault]]] = [
    (drf.ParseError, BadRequest),
    (drf.ValidationError, BadRequest),
    (drf.NotAuthenticated, Unauthorized),
    (drf.AuthenticationFailed, Unauthorized),
    (drf.PermissionDenied, Forbidden),
    (drf.NotFound, NotFound),
    (Http404, NotFound),
    (drf.MethodNotAllowed, MethodNotAllowed),
    (drf.NotAcceptable, NotAcceptable),
    (drf.UnsupportedMediaType, UnsupportedMediaType),
]


def _flatten(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in detail.items())
    if isinstance(detail, list):
        return "; ".join(_flatten(v) for v in detail)
    return str(detail)


def _logic_map() -> list[tuple[type[Exception], type[Fault]]]:
    """``logic.errors`` → faults (imported lazily: this module loads before Django apps)."""
    from logic import errors

    return [
        (errors.NotFoundError, NotFound),
        (errors.TooLarge, OverLimit),
        (errors.RangeNotSatisfiable, RangeNotSatisfiable),
        (errors.InvalidInput, BadRequest),
        (errors.ConflictError, Conflict),
        (errors.PolicyError, Forbidden),
        (errors.OverQuotaError, Forbidden),
    ]


def as_fault(exc: Exception) -> Fault:
    if isinstance(exc, Fault):
        return exc
    for logic_type, fault_type in _logic_map():
        if isinstance(exc, logic_type):
            return fault_type(str(exc) or fault_type.title)
    for drf_type, fault_type in _DRF_MAP:
        if isinstance(exc, drf_type):
            detail = getattr(exc, "detail", None) or str(exc) or fault_type.title
            return fault_type(_flatten(detail))
    return Fault("The server has either erred or is incapable of performing the requested operation.")


def is_keystone(request) -> bool:
    return bool(request) and request.path.startswith("/identity")


def exception_handler(exc: Exception, context: dict) -> Response:
    """DRF exception handler: every error becomes an OpenStack envelope, never a trace."""
    request = context.get("request")
    fault = as_fault(exc)
    if fault.status >= 500 and not isinstance(exc, Fault):
        log.error("unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
    response = Response(fault_body(fault, keystone=is_keystone(request)), status=fault.status, headers=fault.headers)
    if fault.status == 401 and is_keystone(request):
        response["WWW-Authenticate"] = f'Keystone uri="{request.build_absolute_uri("/identity")}"'
    return response
