"""The HTTP transport of the RAPI client: sessions, time bounds, retries of reads, logging, job submission."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Self
from urllib.parse import quote

import requests

from cyclades.logs import request_id_var
from logic.rapi.errors import (
    RapiCertificateError,
    RapiError,
    RapiUnavailable,
    error_for_response,
)
from logic.rapi.tls import PinnedAdapter

log = logging.getLogger(__name__)


# False while submitting intermediate jobs of a multi-job action: the event pipeline
# matches a job to the API's pending task by the bare request id in Ganeti's reason
# trail, so only the job whose end ends the action may carry it. Logs keep the id.
reason_carries_request_id: ContextVar[bool] = ContextVar("reason_carries_request_id", default=True)

API = "/2"
FINISHED_JOB_STATUSES = frozenset({"success", "error", "canceled"})
# Seconds Ganeti's /2/jobs/N/wait blocks before answering "no change" (rlib2 _WFJC_TIMEOUT).
GANETI_WAIT_SECONDS = 10


def api_path(*parts: str | int) -> str:
    return API + "".join("/" + quote(str(p), safe="") for p in parts)


class Transport:
    """A client for one Ganeti cluster's RAPI (see the module docstring for its guarantees).

    Calls that submit work return the Ganeti job id (``int``); follow it with
    :meth:`get_job` or :meth:`wait_for_job`. Reads return Ganeti's JSON.
    """

    def __init__(
        self,
        host: str,
        port: int = 5080,
        username: str | None = None,
        password: str | None = None,
        certificate_pem: str | None = None,
        *,
        timeout: float = 10,
        read_retries: int = 3,
        backoff: float = 0.2,
    ) -> None:
        self.host = host
        self.port = int(port)
        self.timeout = float(timeout)
        self.read_retries = max(0, int(read_retries))
        self.backoff = backoff
        host_part = f"[{host}]" if ":" in host and not host.startswith("[") else host
        self.base_url = f"https://{host_part}:{self.port}"
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies or CA bundles from the environment
        if username is not None:
            self.session.auth = (username, password or "")
        self.session.headers.update({"Accept": "application/json", "User-Agent": "cyclades-rapi/1"})
        if certificate_pem:
            self.session.mount("https://", PinnedAdapter(certificate_pem, pool_connections=1, pool_maxsize=8))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, Any]] | Mapping[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """One RAPI call: returns the decoded JSON or raises a :class:`RapiError`.

        ``timeout`` bounds the whole call, retries included (default: the client's).
        Reads (GET, or ``idempotent=True``) are retried with backoff on
        :class:`RapiUnavailable` while time remains; nothing else is retried.
        """
        method = method.upper()
        retry = method == "GET" if idempotent is None else idempotent
        budget = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + budget
        attempts = 1 + (self.read_retries if retry else 0)
        rid = request_id_var.get()
        for attempt in range(1, attempts + 1):
            remaining = deadline - time.monotonic()
            started = time.monotonic()
            try:
                result = self._send(method, path, query, body, max(remaining, 0.05))
            except RapiUnavailable as exc:
                pause = self.backoff * (2 ** (attempt - 1))
                can_retry = (
                    attempt < attempts
                    and not isinstance(exc, RapiCertificateError)
                    and deadline - time.monotonic() > pause + 0.05
                )
                log.warning(
                    "RAPI %s %s failed: %s%s",
                    method,
                    path,
                    exc,
                    f" (retry {attempt}/{attempts - 1} in {pause:.1f}s)" if can_retry else "",
                    extra={"request_id": rid, "rapi_host": self.host, "attempt": attempt},
                )
                if not can_retry:
                    raise
                time.sleep(pause)
                continue
            except RapiError as exc:
                log.info(
                    "RAPI %s %s -> %s %s",
                    method,
                    path,
                    exc.status,
                    exc.message,
                    extra={"request_id": rid, "rapi_host": self.host, "duration_ms": _ms(started)},
                )
                raise
            log.info(
                "RAPI %s %s ok",
                method,
                path,
                extra={"request_id": rid, "rapi_host": self.host, "duration_ms": _ms(started)},
            )
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, path: str, query: Any, body: Any, timeout: float) -> Any:
        url = self.base_url + path
        try:
            response = self.session.request(method, url, params=query, json=body, timeout=(timeout, timeout))
        except requests.exceptions.SSLError as exc:
            raise RapiCertificateError(
                f"TLS failure talking to {self.base_url} (certificate not the pinned one?): {exc}"
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise RapiUnavailable(f"no answer from {self.base_url} within {timeout:.1f}s") from exc
        except requests.exceptions.ConnectionError as exc:
            raise RapiUnavailable(f"cannot connect to {self.base_url}: {_root_cause(exc)}") from exc
        if response.status_code >= 400:
            raise error_for_response(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise RapiError(f"answer is not JSON: {response.text[:200]!r}", response.status_code) from exc

    def _reason_query(self, reason: str | None, extra: Iterable[tuple[str, Any]] = ()) -> list[tuple[str, Any]]:
        """Query parameters of a job-submitting call: ``reason`` carries the request id."""
        query = list(extra)
        rid = request_id_var.get() if reason_carries_request_id.get() else None
        text = " ".join(part for part in (reason, rid) if part)
        if text:
            query.append(("reason", text))
        return query

    def _submit(
        self, method: str, path: str, *, body: Any = None, reason: str | None = None, query=(), depends: Sequence[int] = ()
    ) -> int:
        """Submit a job and return its id.

        ``depends``: job ids this job waits for; it runs only if they all succeed
        (Ganeti's job dependencies), else it fails without running.
        """
        if depends:
            body = dict(body or {})
            body["depends"] = [[int(j), ["success"]] for j in depends]
        return int(self.request(method, path, query=self._reason_query(reason, query), body=body))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _root_cause(exc: BaseException) -> str:
    """The innermost reason of a connection error (e.g. 'Connection refused')."""
    for _ in range(10):
        inner = exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    reason = getattr(exc, "reason", None)
    return str(reason or exc)
