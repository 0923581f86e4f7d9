"""What a libvirt host did, as ``ganeti-op-status`` messages of the event contract.

libvirt has no job queue: the driver numbers each operation per backend
(``Backend.libvirt_last_job_id``) and, once libvirt answered, publishes the one
message of that "job" (success, or error with Ganeti's ``[class, [args]]``
result shape). The API request id travels in the reason trail as with Ganeti,
so the transition function matches the job to the pending task either way.
Lifecycle events observed on the host (an operator's ``virsh destroy``) are
messages of job 0: no job of ours.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

import bus as busmod
from bus import topology
from logic.event_messages import NOT_FOUND_ECODE, OP_STATUS, USER_REASON_SOURCE, timestamp_pair
from logic.models import Backend

log = logging.getLogger(__name__)

LIFECYCLE_REASON_SOURCE = "libvirt:lifecycle"


def next_job_id(backend: Backend) -> int:
    with transaction.atomic():
        Backend.objects.filter(pk=backend.pk).update(libvirt_last_job_id=F("libvirt_last_job_id") + 1)
        return Backend.objects.filter(pk=backend.pk).values_list("libvirt_last_job_id", flat=True).get()


def op_message(
    cluster: str,
    *,
    instance: str,
    operation: str,
    status: str,
    job_id: int,
    reason: list | None = None,
    result: Any = None,
    logmsg: str = "",
    job_fields: dict | None = None,
    beparams: dict | None = None,
    nics: list[dict] | None = None,
) -> dict:
    when = timestamp_pair(timezone.now())
    body: dict[str, Any] = {
        "type": OP_STATUS,
        "id": f"{cluster}:libvirt:{job_id}:{instance}:{operation}:{status}:{when[0]}.{when[1]:06d}",
        "cluster": cluster,
        "event_time": when,
        "instance": instance,
        "operation": operation,
        "status": status,
        "job_status": status,
        "job_id": job_id,
        "op_index": 0,
        "logmsg": logmsg,
        "result": result,
        "job_fields": job_fields or {},
        "reason": reason or [],
    }
    if beparams is not None:
        body["instance_beparams"] = beparams
    if nics is not None:
        body["instance_nics"] = nics
    return body


def user_reason(text: str, request_id: str | None) -> list:
    """The reason trail of an API operation (``gnt:user`` entry with the request id, as the RAPI client writes)."""
    now = timestamp_pair(timezone.now())
    return [[USER_REASON_SOURCE, f"{text} {request_id}" if request_id else text, now[0] * 1_000_000_000 + now[1] * 1000]]


def error_result(message: str, *, not_found_instance: str | None = None) -> list:
    """Ganeti's error shape; a missing domain reads as Ganeti's "instance not known" (the server is gone)."""
    if not_found_instance:
        return ["OpPrereqError", [f"Instance '{not_found_instance}' not known: {message}", NOT_FOUND_ECODE]]
    return ["OpExecError", [message]]


def publish(message: dict, *, bus: busmod.Bus | None = None) -> None:
    """Publish on the events exchange (routing key ``ganeti.<cluster>.op``, as eventd does)."""
    key = topology.routing_key(message["cluster"], "op")
    if bus is not None:
        bus.publish(key, message, message_id=message["id"])
        return
    own = busmod.connect(settings.CYCLADES["BUS_URL"])
    try:
        own.publish(key, message, message_id=message["id"])
    finally:
        own.close()
