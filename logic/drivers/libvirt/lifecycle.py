"""libvirt's domain lifecycle events (``domainEventRegisterAny``) as messages on the bus.

An operator's ``virsh destroy``, a guest that powers itself off or crashes: the
host reports it, :class:`LifecycleListener` turns it into a ``ganeti-op-status``
message of job 0 (no job of ours, as a Ganeti operator's own job would be) and
publishes it like eventd does; the dispatcher applies it with the same
transition function. libvirt calls back in its event-loop thread: the callback
only queues the message, :meth:`LifecycleListener.run` publishes.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable

import libvirt
from django.utils import timezone

from logic.drivers.libvirt import messages
from logic.drivers.libvirt.connections import connection
from logic.enums import JobStatus, OpCode
from logic.event_messages import server_id_for, timestamp_pair

log = logging.getLogger(__name__)

#: libvirt lifecycle event -> the opcode whose success means the same for the server
LIFECYCLE_OPS = {
    libvirt.VIR_DOMAIN_EVENT_STARTED: OpCode.INSTANCE_STARTUP,
    libvirt.VIR_DOMAIN_EVENT_RESUMED: OpCode.INSTANCE_STARTUP,
    libvirt.VIR_DOMAIN_EVENT_STOPPED: OpCode.INSTANCE_SHUTDOWN,
    libvirt.VIR_DOMAIN_EVENT_CRASHED: OpCode.INSTANCE_SHUTDOWN,
    libvirt.VIR_DOMAIN_EVENT_UNDEFINED: OpCode.INSTANCE_REMOVE,
}
EVENT_NAMES = {
    libvirt.VIR_DOMAIN_EVENT_STARTED: "started",
    libvirt.VIR_DOMAIN_EVENT_RESUMED: "resumed",
    libvirt.VIR_DOMAIN_EVENT_STOPPED: "stopped",
    libvirt.VIR_DOMAIN_EVENT_CRASHED: "crashed",
    libvirt.VIR_DOMAIN_EVENT_UNDEFINED: "undefined",
}


def lifecycle_message(cluster: str, domain: str, event: int, detail: int) -> dict | None:
    """The contract message of one lifecycle event; None when it means nothing for a server."""
    operation = LIFECYCLE_OPS.get(event)
    if operation is None or server_id_for(domain) is None:
        return None
    now = timestamp_pair(timezone.now())
    text = f"domain {EVENT_NAMES[event]} (detail {detail})"
    reason = [[messages.LIFECYCLE_REASON_SOURCE, text, now[0] * 1_000_000_000 + now[1] * 1000]]
    return messages.op_message(
        cluster, instance=domain, operation=operation, status=JobStatus.SUCCESS, job_id=0, reason=reason, logmsg=text
    )


class LifecycleListener:
    """Listen to one libvirt host's lifecycle events and publish them for backend ``cluster``."""

    def __init__(self, cluster: str, uri: str, publish: Callable[[dict], None] = messages.publish):
        self.cluster = cluster
        self.uri = uri
        self.publish = publish
        self.pending: queue.Queue[dict] = queue.Queue()
        self._callback_id: int | None = None
        self._conn: libvirt.virConnect | None = None

    def start(self) -> None:
        self._conn = connection(self.uri)
        self._callback_id = self._conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_event, None)

    def stop(self) -> None:
        if self._conn is not None and self._callback_id is not None:
            try:
                self._conn.domainEventDeregisterAny(self._callback_id)
            except libvirt.libvirtError as exc:
                log.info("deregistering lifecycle callback of %s: %s", self.uri, exc)
        self._callback_id = None

    def _on_event(self, _conn, dom: libvirt.virDomain, event: int, detail: int, _opaque) -> None:
        message = lifecycle_message(self.cluster, dom.name(), event, detail)
        if message is not None:
            self.pending.put(message)

    def publish_pending(self, timeout: float = 0.0) -> int:
        """Publish the queued messages (waiting up to ``timeout`` s for the first); how many."""
        sent = 0
        try:
            message = self.pending.get(timeout=timeout) if timeout else self.pending.get_nowait()
        except queue.Empty:
            return 0
        while True:
            self.publish(message)
            sent += 1
            try:
                message = self.pending.get_nowait()
            except queue.Empty:
                return sent

    def run(self, stop: Callable[[], bool] = lambda: False) -> None:
        """Publish events until ``stop()`` (the daemon's loop)."""
        self.start()
        try:
            while not stop():
                self.publish_pending(timeout=0.5)
        finally:
            self.stop()
