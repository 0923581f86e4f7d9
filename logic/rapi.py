"""The Ganeti RAPI client: the one module of the product that talks to Ganeti.

Django-free on purpose (stdlib + ``requests``): eventd runs on Ganeti nodes and
imports it without the rest of the product.

What it guarantees:

* **Certificate pinning.** Given the cluster's PEM certificate, the TLS handshake
  trusts that certificate only (no system CAs) and additionally checks that the
  peer presents exactly it (SHA-256 fingerprint). The host name is not checked:
  Ganeti's certificate is self-signed with a fixed CN. Any other certificate is
  refused with :class:`RapiCertificateError`. Without a pinned certificate the
  normal public-CA + host name verification applies.
* **Typed errors carrying Ganeti's message**: :class:`RapiNotFound` (404),
  :class:`RapiConflict` (409), :class:`RapiBadRequest` (400/411/415),
  :class:`RapiAuthFailed` (401/403), :class:`RapiUnavailable` (refused, timed out,
  502/503/504), :class:`JobFailed` (a job ended in error or was canceled).
* **Time bound.** Every call, retries included, ends within ``timeout`` seconds
  (the long-poll job wait has its own bound).
* **Retries only for idempotent reads** (GET, and the read-only PUT /2/query),
  with exponential backoff, and only on "unavailable" failures.
* **Traceability.** Each call is logged with the current request id
  (:data:`cyclades.logs.request_id_var`), and every call that submits a job
  passes that id to Ganeti as the ``reason``, so it shows in the job's reason trail.

Ganeti 3.0's RAPI answers every request with ``Connection: close``, so the
TCP connection cannot be kept; the session still reuses the TLS context, the
pinned trust store and the authentication between calls.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import ssl
import time
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter

from cyclades.logs import request_id_var

log = logging.getLogger(__name__)

# False while submitting intermediate jobs of a multi-job action: the event pipeline
# matches a job to the API's pending task by the bare request id in Ganeti's reason
# trail, so only the job whose end ends the action may carry it. Logs keep the id.
reason_carries_request_id: ContextVar[bool] = ContextVar("reason_carries_request_id", default=True)

API = "/2"
FINISHED_JOB_STATUSES = frozenset({"success", "error", "canceled"})
# Seconds Ganeti's /2/jobs/N/wait blocks before answering "no change" (rlib2 _WFJC_TIMEOUT).
GANETI_WAIT_SECONDS = 10


# ----------------------------------------------------------------------------- errors
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


# ----------------------------------------------------------------------------- TLS pinning
_CERT_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")


def extract_certificate(pem: str) -> str:
    """The first certificate block of ``pem``, alone.

    Ganeti's ``rapi.pem`` holds the private key AND the certificate: only the
    certificate may be pinned or stored. Raises ValueError if there is none.
    """
    match = _CERT_BLOCK.search(pem or "")
    if not match:
        raise ValueError("no PEM certificate (-----BEGIN CERTIFICATE-----) found")
    return match.group(0) + "\n"


def certificate_fingerprint(pem: str) -> str:
    """SHA-256 fingerprint (hex) of a PEM certificate's DER form."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(extract_certificate(pem))).hexdigest()


def pinned_ssl_context(pem: str) -> ssl.SSLContext:
    """A client context that trusts exactly ``pem`` and does not check host names."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cadata=extract_certificate(pem))
    return ctx


class _PinnedAdapter(HTTPAdapter):
    """Hands urllib3 our pinned context and fingerprint, and stops requests loading public CAs."""

    def __init__(self, pem: str, **kwargs: Any) -> None:
        self._context = pinned_ssl_context(pem)
        self._fingerprint = certificate_fingerprint(pem)
        super().__init__(**kwargs)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, _ = super().build_connection_pool_key_attributes(request, verify, cert)
        return host_params, {
            "ssl_context": self._context,
            "cert_reqs": "CERT_REQUIRED",
            "assert_fingerprint": self._fingerprint,
        }

    def cert_verify(self, conn, url, verify, cert) -> None:
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = None
        conn.ca_cert_dir = None


# ----------------------------------------------------------------------------- the client
def _path(*parts: str | int) -> str:
    return API + "".join("/" + quote(str(p), safe="") for p in parts)


class RapiClient:
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
            self.session.mount("https://", _PinnedAdapter(certificate_pem, pool_connections=1, pool_maxsize=8))

    def __repr__(self) -> str:
        return f"RapiClient({self.base_url})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> RapiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transport
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

    # ------------------------------------------------------------------ cluster
    def get_version(self) -> int:
        return self.request("GET", "/version")

    def get_info(self) -> dict:
        """Cluster information (``GET /2/info``): name, hypervisors, ipolicy, ..."""
        return self.request("GET", _path("info"))

    def get_features(self) -> list[str]:
        return self.request("GET", _path("features"))

    def list_operating_systems(self) -> list[str]:
        return self.request("GET", _path("os"))

    def query(self, resource: str, fields: Sequence[str], qfilter: list | None = None) -> dict:
        """Ganeti's query interface (``PUT /2/query/<resource>``; read-only, so retried)."""
        body: dict[str, Any] = {"fields": list(fields)}
        if qfilter is not None:
            body["qfilter"] = qfilter
        return self.request("PUT", _path("query", resource), body=body, idempotent=True)

    # ------------------------------------------------------------------ instances
    def list_instance_names(self) -> list[str]:
        return [item["id"] for item in self.request("GET", _path("instances"))]

    def list_instances(self) -> list[dict]:
        """Every instance with its details (``GET /2/instances?bulk=1``), one call."""
        return self.request("GET", _path("instances"), query={"bulk": 1})

    def get_instance(self, name: str) -> dict:
        """An instance's configuration and state (``GET /2/instances/<name>``)."""
        return self.request("GET", _path("instances", name))

    def create_instance(
        self,
        name: str,
        *,
        disk_template: str,
        disks: Sequence[Mapping[str, Any]] = (),
        nics: Sequence[Mapping[str, Any]] = (),
        os: str | None = None,
        osparams: Mapping[str, Any] | None = None,
        beparams: Mapping[str, Any] | None = None,
        hvparams: Mapping[str, Any] | None = None,
        hypervisor: str | None = None,
        tags: Sequence[str] = (),
        start: bool = True,
        pnode: str | None = None,
        iallocator: str | None = None,
        ip_check: bool = False,
        name_check: bool = False,
        wait_for_sync: bool = False,
        dry_run: bool = False,
        reason: str | None = None,
        **extra: Any,
    ) -> int:
        """Create an instance (``POST /2/instances``, request format version 1)."""
        body: dict[str, Any] = {
            "__version__": 1,
            "mode": "create",
            "name": name,
            "disk_template": disk_template,
            "disks": [dict(d) for d in disks],
            "nics": [dict(n) for n in nics],
            "start": start,
            "ip_check": ip_check,
            "name_check": name_check,
            "wait_for_sync": wait_for_sync,
            "tags": list(tags),
        }
        optional = {
            "os_type": os,
            "osparams": dict(osparams) if osparams else None,
            "beparams": dict(beparams) if beparams else None,
            "hvparams": dict(hvparams) if hvparams else None,
            "hypervisor": hypervisor,
            "pnode": pnode,
            "iallocator": iallocator,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        body.update(extra)
        return self._submit("POST", _path("instances"), body=body, reason=reason, query=[("dry-run", 1)] if dry_run else [])

    def startup_instance(
        self, name: str, *, no_remember: bool = False, reason: str | None = None, depends: Sequence[int] = ()
    ) -> int:
        query = [("no_remember", 1)] if no_remember else []
        return self._submit("PUT", _path("instances", name, "startup"), reason=reason, query=query, depends=depends)

    def shutdown_instance(
        self,
        name: str,
        *,
        timeout: int | None = None,
        no_remember: bool = False,
        reason: str | None = None,
        depends: Sequence[int] = (),
    ) -> int:
        """Shut an instance down; ``timeout`` (seconds before forcing) goes in the BODY (Ganeti ignores ?timeout=)."""
        body = {"timeout": int(timeout)} if timeout is not None else {}
        query = [("no_remember", 1)] if no_remember else []
        return self._submit("PUT", _path("instances", name, "shutdown"), body=body, reason=reason, query=query, depends=depends)

    def reboot_instance(
        self, name: str, *, hard: bool = False, shutdown_timeout: int | None = None, reason: str | None = None
    ) -> int:
        """Reboot: soft (the guest reboots itself) or hard (stop + start by Ganeti)."""
        body = {"shutdown_timeout": int(shutdown_timeout)} if shutdown_timeout is not None else {}
        query = [("type", "hard" if hard else "soft")]
        return self._submit("POST", _path("instances", name, "reboot"), body=body, reason=reason, query=query)

    def modify_instance(
        self,
        name: str,
        *,
        beparams: Mapping[str, Any] | None = None,
        nics: Sequence[Sequence[Any]] | None = None,
        disks: Sequence[Sequence[Any]] | None = None,
        hvparams: Mapping[str, Any] | None = None,
        osparams: Mapping[str, Any] | None = None,
        os_name: str | None = None,
        hotplug: bool = False,
        reason: str | None = None,
        **extra: Any,
    ) -> int:
        """Change an instance (``PUT /2/instances/<name>/modify``).

        ``nics``/``disks`` are Ganeti's modification lists: ``[["add", -1, {...}]]``,
        ``[["remove", 1, {}]]``, ``[["modify", 0, {...}]]``. ``hotplug`` defaults to
        False: hypervisors without hotplug (fake, and kvm when not enabled) refuse it.
        """
        body: dict[str, Any] = {"hotplug": hotplug}
        optional = {
            "beparams": dict(beparams) if beparams else None,
            "nics": [list(m) for m in nics] if nics else None,
            "disks": [list(m) for m in disks] if disks else None,
            "hvparams": dict(hvparams) if hvparams else None,
            "osparams": dict(osparams) if osparams else None,
            "os_name": os_name,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        body.update(extra)
        return self._submit("PUT", _path("instances", name, "modify"), body=body, reason=reason)

    def reinstall_instance(
        self,
        name: str,
        *,
        os: str | None = None,
        osparams: Mapping[str, Any] | None = None,
        start: bool = True,
        reason: str | None = None,
    ) -> int:
        """Reinstall the instance's OS (body: os, osparams, start).

        Ganeti submits one job: shutdown, reinstall, then startup when ``start``.
        It refuses query parameters next to a body, so no ``reason`` reaches
        Ganeti for this call (it is still logged here).
        """
        body: dict[str, Any] = {"start": start}
        if os is not None:
            body["os"] = os
        if osparams is not None:
            body["osparams"] = dict(osparams)
        if reason:
            log.info("reinstall of %s: %s", name, reason)
        return int(self.request("POST", _path("instances", name, "reinstall"), body=body))

    def rename_instance(
        self, name: str, new_name: str, *, ip_check: bool = False, name_check: bool = False, reason: str | None = None
    ) -> int:
        body = {"new_name": new_name, "ip_check": ip_check, "name_check": name_check}
        return self._submit("PUT", _path("instances", name, "rename"), body=body, reason=reason)

    def remove_instance(
        self, name: str, *, shutdown_timeout: int | None = None, reason: str | None = None, depends: Sequence[int] = ()
    ) -> int:
        body = {"shutdown_timeout": int(shutdown_timeout)} if shutdown_timeout is not None else None
        return self._submit("DELETE", _path("instances", name), body=body, reason=reason, depends=depends)

    def get_instance_console(self, name: str) -> dict:
        """Console connection info (``GET /2/instances/<name>/console``).

        Ganeti 3.0.2 answers 500 here for kvm with VNC; callers wanting VNC can
        read ``network_port`` and ``pnode`` from :meth:`get_instance` instead.
        """
        return self.request("GET", _path("instances", name, "console"))

    def get_instance_tags(self, name: str) -> list[str]:
        return self.request("GET", _path("instances", name, "tags"))

    def add_instance_tags(self, name: str, tags: Sequence[str], *, reason: str | None = None) -> int:
        return self._submit("PUT", _path("instances", name, "tags"), reason=reason, query=[("tag", t) for t in tags])

    def delete_instance_tags(self, name: str, tags: Sequence[str], *, reason: str | None = None) -> int:
        return self._submit("DELETE", _path("instances", name, "tags"), reason=reason, query=[("tag", t) for t in tags])

    # ------------------------------------------------------------------ jobs
    def list_job_ids(self) -> list[int]:
        return [int(item["id"]) for item in self.request("GET", _path("jobs"))]

    def get_job(self, job_id: int) -> dict:
        """A job's status, opcodes, results and log (``GET /2/jobs/<id>``).

        Ganeti answers an unknown (or archived) job id with every field null:
        that is reported as :class:`RapiNotFound`.
        """
        job = self.request("GET", _path("jobs", job_id))
        if not isinstance(job, dict) or job.get("status") is None:
            raise RapiNotFound(f"job {job_id} not found", 404)
        return job

    def wait_for_job_change(
        self,
        job_id: int,
        fields: Sequence[str] = ("status",),
        previous_job_info: list | None = None,
        previous_log_serial: int | None = None,
    ) -> dict | None:
        """Ganeti's long poll (``GET /2/jobs/<id>/wait``): blocks up to ~10 s until the job changes.

        Returns ``{"job_info": [...], "log_entries": [...]}``, or None when nothing changed.
        """
        body = {
            "fields": list(fields),
            "previous_job_info": previous_job_info,
            "previous_log_serial": previous_log_serial,
        }
        return self.request(
            "GET", _path("jobs", job_id, "wait"), body=body, timeout=GANETI_WAIT_SECONDS + self.timeout, idempotent=False
        )

    def wait_for_job(self, job_id: int, *, timeout: float = 300) -> dict:
        """Wait until the job finishes; return the job (``GET /2/jobs/<id>``) when it succeeded.

        Raises :class:`JobFailed` with Ganeti's error text if it ended in error or
        was canceled, :class:`RapiUnavailable` if it is still running after ``timeout``.
        """
        deadline = time.monotonic() + timeout
        previous: list | None = None
        while True:
            try:
                change = self.wait_for_job_change(job_id, ["status"], previous)
            except RapiUnavailable:
                raise
            except RapiError:
                self.get_job(job_id)  # Ganeti answers 500 for an unknown job: make that a RapiNotFound
                raise
            if change is not None:
                previous = change["job_info"]
                if previous[0] in FINISHED_JOB_STATUSES:
                    break
            if time.monotonic() >= deadline:
                raise RapiUnavailable(f"job {job_id} not finished after {timeout:.0f}s")
        job = self.get_job(job_id)
        if job["status"] != "success":
            kind, text = job_error(job)
            raise JobFailed(int(job_id), job["status"], text, error_type=kind, job=job)
        return job

    def cancel_job(self, job_id: int) -> list:
        """Ask Ganeti to cancel a queued/waiting job: returns ``[success, message]``."""
        return self.request("DELETE", _path("jobs", job_id))

    # ------------------------------------------------------------------ networks
    def list_networks(self, *, bulk: bool = False) -> list:
        if bulk:
            return self.request("GET", _path("networks"), query={"bulk": 1})
        return [item["name"] for item in self.request("GET", _path("networks"))]

    def get_network(self, name: str) -> dict:
        return self.request("GET", _path("networks", name))

    def create_network(
        self,
        name: str,
        network: str,
        *,
        gateway: str | None = None,
        network6: str | None = None,
        gateway6: str | None = None,
        mac_prefix: str | None = None,
        add_reserved_ips: Sequence[str] = (),
        tags: Sequence[str] = (),
        reason: str | None = None,
    ) -> int:
        body: dict[str, Any] = {"network_name": name, "network": network}
        optional = {
            "gateway": gateway,
            "network6": network6,
            "gateway6": gateway6,
            "mac_prefix": mac_prefix,
            "add_reserved_ips": list(add_reserved_ips) or None,
            "tags": list(tags) or None,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return self._submit("POST", _path("networks"), body=body, reason=reason)

    def connect_network(
        self, name: str, group: str, *, mode: str = "bridged", link: str, vlan: str = "", reason: str | None = None
    ) -> int:
        body = {"group_name": group, "network_mode": mode, "network_link": link, "network_vlan": vlan}
        return self._submit("PUT", _path("networks", name, "connect"), body=body, reason=reason)

    def disconnect_network(self, name: str, group: str, *, reason: str | None = None) -> int:
        return self._submit("PUT", _path("networks", name, "disconnect"), body={"group_name": group}, reason=reason)

    def remove_network(self, name: str, *, reason: str | None = None) -> int:
        return self._submit("DELETE", _path("networks", name), reason=reason)

    # ------------------------------------------------------------------ nodes and groups
    def list_nodes(self, *, bulk: bool = False) -> list:
        if bulk:
            return self.request("GET", _path("nodes"), query={"bulk": 1})
        return [item["id"] for item in self.request("GET", _path("nodes"))]

    def get_node(self, name: str) -> dict:
        return self.request("GET", _path("nodes", name))

    def list_groups(self, *, bulk: bool = False) -> list:
        if bulk:
            return self.request("GET", _path("groups"), query={"bulk": 1})
        return [item["name"] for item in self.request("GET", _path("groups"))]

    def get_group(self, name: str) -> dict:
        return self.request("GET", _path("groups", name))


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
