"""The bus interface shared by the RabbitMQ and the in-process implementations."""

from __future__ import annotations

import abc
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bus import topology

log = logging.getLogger(__name__)


class BusError(Exception):
    """Publishing or consuming failed."""


class BusUnavailable(BusError):
    """The broker cannot be reached."""


class Reject(Exception):
    """Raised by a handler: the message can never be processed; dead-letter it with ``reason``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Message:
    """A delivered message. ``body`` is the raw bytes; ``json()`` decodes it."""

    body: bytes
    routing_key: str
    queue: str
    delivery_tag: Any
    redelivered: bool = False
    message_id: str | None = None
    headers: dict = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[Message], None]
#: Takes a batch, returns one settlement per message in order: None (ack), a
#: :class:`Reject` (dead-letter with its reason) or any other exception (requeue).
BatchHandler = Callable[[list[Message]], Sequence[BaseException | None]]


class Bus(abc.ABC):
    """Publish JSON messages durably; consume them with manual acknowledgement."""

    @abc.abstractmethod
    def declare(self) -> None:
        """Create the exchanges and queues of :mod:`bus.topology` (idempotent)."""

    @abc.abstractmethod
    def publish(
        self,
        routing_key: str,
        body: dict | bytes,
        *,
        message_id: str | None = None,
        headers: dict | None = None,
        exchange: str = topology.EXCHANGE,
    ) -> None:
        """Publish a persistent message; returns only once the broker has confirmed it."""

    def publish_many(self, items: list[tuple[str, dict | bytes, str | None]], *, exchange: str = topology.EXCHANGE) -> None:
        """Publish ``(routing_key, body, message_id)`` items in order; returns once all are safe.

        If it raises, any prefix of the items may have been delivered: callers
        resend the whole batch, and consumers deduplicate by message id.
        """
        for routing_key, body, message_id in items:
            self.publish(routing_key, body, message_id=message_id, exchange=exchange)

    @abc.abstractmethod
    def get(self, queue: str) -> Message | None:
        """Fetch one message (it stays unacknowledged until ack/nack), or None."""

    @abc.abstractmethod
    def ack(self, message: Message) -> None: ...

    @abc.abstractmethod
    def nack(self, message: Message, requeue: bool = True) -> None: ...

    @abc.abstractmethod
    def consume(self, queue: str, handler: Handler, *, prefetch: int = 10, stop: Callable[[], bool] | None = None) -> None:
        """Deliver messages to ``handler`` until ``stop()`` is true or the bus closes.

        The handler returning normally acks the message; raising :class:`Reject`
        dead-letters it with the reason; any other exception requeues it.
        """

    @abc.abstractmethod
    def consume_batches(
        self,
        queue: str,
        handler: BatchHandler,
        *,
        max_batch: int = 100,
        max_wait: float = 0.0,
        prefetch: int | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> None:
        """Deliver messages to ``handler`` in batches until ``stop()`` is true or the bus closes.

        A batch is what is waiting (at most ``max_batch``), after waiting up to
        ``max_wait`` seconds from its first message for more. ``handler`` returns
        one settlement per message (see :data:`BatchHandler`); nothing is acked
        before it returned, so a handler that commits before returning never has
        an uncommitted message acked. A handler that raises has the whole batch
        requeued. ``prefetch`` is raised to ``max_batch`` if lower.
        """

    @abc.abstractmethod
    def queue_depth(self, queue: str) -> int: ...

    @abc.abstractmethod
    def purge(self, queue: str) -> None: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def dead_letter(self, message: Message, reason: str) -> None:
        """Move ``message`` to the dead-letter queue with ``reason``, then ack it.

        Published before the ack: a crash in between leaves a duplicate in the
        dead-letter queue, never a lost message.
        """
        headers = dict(message.headers or {})
        headers[topology.REASON_HEADER] = reason[:1000]
        headers["x-original-routing-key"] = message.routing_key
        self.publish(
            message.routing_key,
            message.body,
            message_id=message.message_id,
            headers=headers,
            exchange=topology.DEAD_EXCHANGE,
        )
        self.ack(message)

    def _handle(self, message: Message, handler: Handler) -> bool:
        """Run ``handler`` on ``message`` and settle it; False when it was requeued."""
        try:
            handler(message)
        except Reject as exc:
            log.warning("dead-lettering message %s: %s", message.message_id, exc.reason)
            self.dead_letter(message, exc.reason)
        except Exception:
            log.exception("handler failed on message %s; requeued", message.message_id)
            self.nack(message, requeue=True)
            return False
        else:
            self.ack(message)
        return True

    def ack_many(self, messages: list[Message], *, nothing_unsettled_before: bool = False) -> None:
        """Ack ``messages``. ``nothing_unsettled_before``: every delivery before them was settled
        (lets the RabbitMQ bus ack a whole run in one frame)."""
        for message in messages:
            self.ack(message)

    def _settle_batch(self, batch: list[Message], handler: BatchHandler) -> bool:
        """Run ``handler`` on ``batch`` and settle every message; False when any was requeued."""
        try:
            results = list(handler(batch))
            if len(results) != len(batch):
                raise BusError(f"batch handler settled {len(results)} of {len(batch)} messages")
        except Exception:
            log.exception("batch handler failed on %d message(s); all requeued", len(batch))
            for message in reversed(batch):
                self.nack(message, requeue=True)
            return False
        acked = [m for m, r in zip(batch, results, strict=True) if r is None]
        # Batches are settled in delivery order, each completely before the next is taken.
        self.ack_many(acked, nothing_unsettled_before=len(acked) == len(batch))
        requeued = False
        for message, result in reversed(list(zip(batch, results, strict=True))):  # requeued in their order
            if result is None:
                continue
            if isinstance(result, Reject):
                log.warning("dead-lettering message %s: %s", message.message_id, result.reason)
                self.dead_letter(message, result.reason)
            else:
                log.warning("message %s requeued: %s", message.message_id, result)
                self.nack(message, requeue=True)
                requeued = True
        return not requeued


def encode(body: dict | bytes) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
