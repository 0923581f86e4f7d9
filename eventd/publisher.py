"""Publishing to RabbitMQ with the on-disk spool as the fallback, keeping the order.

Rules:

* Every message is published persistent and confirmed (:meth:`bus.Bus.publish`).
* When the broker is unreachable (or refuses a message) the message goes to the
  spool and the connection is dropped; a reconnect is tried at most every
  ``retry_interval`` seconds.
* While the spool holds anything, new messages do not overtake it: the spool is
  drained first, and if that fails the new message is spooled behind it. So
  messages reach RabbitMQ in the order eventd produced them.
* Heartbeats are never spooled (a stale heartbeat means nothing): they are sent
  only while connected.

Hooks also write into the spool; the daemon calls :meth:`Publisher.drain` when
the spool directory changes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import bus as busmod
from bus import Bus, BusError
from eventd.spool import Spool

log = logging.getLogger(__name__)


class Publisher:
    """Send messages to the bus, or to the spool while the bus is unreachable."""

    def __init__(
        self,
        bus_url: str,
        spool: Spool,
        *,
        retry_interval: float = 2.0,
        connect: Callable[[str], Bus] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.bus_url = bus_url
        self.spool = spool
        self.retry_interval = retry_interval
        self._connect = connect or (lambda url: busmod.connect(url, connect_timeout=3.0))
        self._clock = clock
        self._bus: Bus | None = None
        self._next_attempt = 0.0
        self._spool_pending = spool.depth() > 0
        self.published = 0
        self.spooled = 0
        self.last_error: str | None = None

    # ------------------------------------------------------------------ connection
    @property
    def connected(self) -> bool:
        return self._bus is not None

    def _ensure_bus(self) -> Bus | None:
        if self._bus is not None:
            return self._bus
        now = self._clock()
        if now < self._next_attempt:
            return None
        self._next_attempt = now + self.retry_interval
        try:
            bus = self._connect(self.bus_url)
            bus.declare()
        except Exception as exc:  # BusError, or pika failing mid-declare: both mean "not now"
            exc = exc if isinstance(exc, BusError) else BusError(f"{type(exc).__name__}: {exc}")
            if self.last_error != str(exc):
                log.warning("RabbitMQ unreachable, spooling to %s: %s", self.spool.directory, exc)
            self.last_error = str(exc)
            return None
        if self.last_error is not None:
            log.info("RabbitMQ reachable again")
        self.last_error = None
        self._bus = bus
        return bus

    def _lost(self, exc: BusError) -> None:
        log.warning("publishing failed, spooling until RabbitMQ is back: %s", exc)
        self.last_error = str(exc)
        if self._bus is not None:
            try:
                self._bus.close()
            except Exception:  # the connection is already broken; closing is best effort
                log.debug("closing a broken bus failed", exc_info=True)
        self._bus = None
        self._next_attempt = self._clock() + self.retry_interval

    # ------------------------------------------------------------------ sending
    def _publish(self, routing_key: str, body: dict[str, Any], message_id: str | None) -> None:
        assert self._bus is not None
        self._bus.publish(routing_key, body, message_id=message_id)
        self.published += 1

    def notice_spool_change(self) -> None:
        """Something (a hook) wrote into the spool: drain it at the next chance."""
        self._spool_pending = True

    @property
    def spool_pending(self) -> bool:
        return self._spool_pending

    def drain(self) -> int:
        """Publish what the spool holds, oldest first; returns how many went out."""
        if not self._spool_pending or self._ensure_bus() is None:
            return 0
        try:
            sent = self.spool.drain(self._publish)
        except BusError as exc:
            self._lost(exc)
            return 0
        self._spool_pending = self.spool.depth() > 0
        if sent:
            log.info("replayed %d spooled message(s)", sent)
        return sent

    def send(self, routing_key: str, body: dict[str, Any], message_id: str | None = None) -> bool:
        """Publish (True) or spool (False) one message, never overtaking the spool."""
        message_id = message_id or body.get("id")
        if self._spool_pending:
            self.drain()
        if not self._spool_pending and self._ensure_bus() is not None:
            try:
                self._publish(routing_key, body, message_id)
                return True
            except BusError as exc:
                self._lost(exc)
        self.spool.put(routing_key, body, message_id)
        self.spooled += 1
        self._spool_pending = True
        return False

    def send_many(self, envelopes: list[tuple[str, str | None, dict[str, Any]]]) -> int:
        """Publish ``(routing_key, message_id, body)`` envelopes as one batch, or spool them.

        One broker round trip and one disk sync for the batch instead of one per
        message. If the batch fails part-way, all of it is spooled and resent:
        consumers deduplicate by message id. Returns how many were published.
        """
        if len(envelopes) <= 1:
            return sum(self.send(rk, body, mid) for rk, mid, body in envelopes)
        if self._spool_pending:
            self.drain()
        if not self._spool_pending and self._ensure_bus() is not None:
            try:
                assert self._bus is not None
                self._bus.publish_many([(rk, body, mid or body.get("id")) for rk, mid, body in envelopes])
                self.published += len(envelopes)
                return len(envelopes)
            except BusError as exc:
                self._lost(exc)
        for rk, mid, body in envelopes:
            self.spool.put(rk, body, mid or body.get("id"))
        self.spooled += len(envelopes)
        self._spool_pending = True
        return 0

    def send_transient(self, routing_key: str, body: dict[str, Any], message_id: str | None = None) -> bool:
        """Publish if connected (reconnecting if due); drop otherwise. For heartbeats."""
        if self._ensure_bus() is None:
            return False
        try:
            self._publish(routing_key, body, message_id or body.get("id"))
            return True
        except BusError as exc:
            self._lost(exc)
            return False

    def close(self) -> None:
        if self._bus is not None:
            self._bus.close()
            self._bus = None
