"""Typed RAPI errors carrying Ganeti's message, and how responses and failed jobs map to them."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import requests


class RapiError(Exception):
    """A RAPI call failed. ``status`` is the HTTP status (None when no answer), ``message`` Ganeti's text."""

    def __init__(self, message: str, status: int | None = None, *, explain: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.explain = explain

    def __str__(self) -> str:
        prefix = f"RAPI {self.status}: " if self.status else ""
        return prefix + self.message


class RapiNotFound(RapiError):
    """The instance, job, network, node or group does not exist (404)."""


class RapiConflict(RapiError):
    """The request conflicts with the cluster's state (409)."""


class RapiBadRequest(RapiError):
    """Ganeti refused the request's parameters (400)."""


class RapiAuthFailed(RapiError):
    """Wrong RAPI user or password, or the user lacks the right (401/403)."""


class RapiUnavailable(RapiError):
    """The RAPI did not answer in time, refused the connection, or is temporarily unavailable (5xx)."""


class RapiCertificateError(RapiUnavailable):
    """The server did not present the pinned certificate: nothing was sent to it."""


class JobFailed(RapiError):
    """A Ganeti job ended in ``error`` (or ``canceled``); ``message`` is Ganeti's error text."""

    def __init__(self, job_id: int, job_status: str, message: str, *, error_type: str | None = None, job: dict | None = None):
        super().__init__(message, None)
        self.job_id = job_id
        self.job_status = job_status
        self.error_type = error_type
        self.job = job or {}

    def __str__(self) -> str:
        kind = f"{self.error_type}: " if self.error_type else ""
        return f"Ganeti job {self.job_id} {self.job_status}: {kind}{self.message}"


_STATUS_ERRORS: dict[int, type[RapiError]] = {
    400: RapiBadRequest,
    401: RapiAuthFailed,
    403: RapiAuthFailed,
    404: RapiNotFound,
    409: RapiConflict,
    411: RapiBadRequest,
    415: RapiBadRequest,
    502: RapiUnavailable,
    503: RapiUnavailable,
    504: RapiUnavailable,
}


def error_for_response(response: requests.Response) -> RapiError:
    """The typed error for a non-2xx answer, with Ganeti's ``message``/``explain``."""
    message, explain = response.reason or "error", None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = html.unescape(str(body.get("message") or message))
        explain = html.unescape(str(body["explain"])) if body.get("explain") else None
        if explain and explain != message:
            message = f"{message}: {explain}"
    elif response.text:
        message = f"{message}: {response.text.strip()[:500]}"
    cls = _STATUS_ERRORS.get(response.status_code, RapiError)
    return cls(message, response.status_code, explain=explain)


def job_error(job: Mapping[str, Any]) -> tuple[str | None, str]:
    """Ganeti's error (type, text) from a finished job's ``opresult``.

    A failed opcode's result is ``[ErrorClass, args]`` where args is usually
    ``[text, error_code]`` (e.g. ``["OpPrereqError", ["Instance 'x' not known", "unknown_entity"]]``).
    Opcodes after the failing one are canceled with a plain text result.
    """
    statuses = job.get("opstatus") or []
    results = job.get("opresult") or []
    for status, result in zip(statuses, results, strict=False):
        if status not in {"error", "canceled"}:
            continue
        if isinstance(result, list) and len(result) == 2 and isinstance(result[0], str):
            kind, args = result
            if isinstance(args, list) and args:
                first = args[0]
                text = first if isinstance(first, str) else repr(args)
            else:
                text = str(args)
            return kind, text
        return None, str(result)
    return None, f"job {job.get('status', 'failed')}"
