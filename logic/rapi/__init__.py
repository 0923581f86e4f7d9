"""The Ganeti RAPI client: the one package of the product that talks to Ganeti.

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

from logic.rapi.cluster import ClusterCalls
from logic.rapi.errors import (
    JobFailed,
    RapiAuthFailed,
    RapiBadRequest,
    RapiCertificateError,
    RapiConflict,
    RapiError,
    RapiNotFound,
    RapiUnavailable,
    error_for_response,
    job_error,
)
from logic.rapi.instances import InstanceCalls
from logic.rapi.jobs import JobCalls
from logic.rapi.moves import MoveCalls
from logic.rapi.networks import NetworkCalls
from logic.rapi.nodes import NodeCalls
from logic.rapi.tls import certificate_fingerprint, extract_certificate, pinned_ssl_context
from logic.rapi.transport import API, FINISHED_JOB_STATUSES, GANETI_WAIT_SECONDS, Transport, reason_carries_request_id

__all__ = [
    "API",
    "FINISHED_JOB_STATUSES",
    "GANETI_WAIT_SECONDS",
    "JobFailed",
    "RapiAuthFailed",
    "RapiBadRequest",
    "RapiCertificateError",
    "RapiClient",
    "RapiConflict",
    "RapiError",
    "RapiNotFound",
    "RapiUnavailable",
    "certificate_fingerprint",
    "error_for_response",
    "extract_certificate",
    "job_error",
    "pinned_ssl_context",
    "reason_carries_request_id",
]


class RapiClient(ClusterCalls, InstanceCalls, JobCalls, MoveCalls, NetworkCalls, NodeCalls, Transport):
    """A client for one Ganeti cluster's RAPI (see the package docstring for its guarantees).

    Calls that submit work return the Ganeti job id (``int``); follow it with
    :meth:`get_job` or :meth:`wait_for_job`. Reads return Ganeti's JSON. Each group of
    calls lives in its own mixin module; the transport is :class:`Transport`.
    """
