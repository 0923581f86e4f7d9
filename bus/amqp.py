"""RabbitMQ through pika: persistent messages, publisher confirms, manual acks."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

import pika
import pika.exceptions

from bus import topology
from bus.base import BatchHandler, Bus, BusError, BusUnavailable, Handler, Message, encode

log = logging.getLogger(__name__)

CONNECT_ERRORS = (pika.exceptions.AMQPConnectionError, OSError)
RUNTIME_ERRORS = (pika.exceptions.AMQPError, OSError)


def describe(exc: BaseException) -> str:
    """The most specific reason inside pika's nested connection errors."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    best = exc
    while stack:
        cur = stack.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, OSError):
            return cur.strerror or str(cur) or type(cur).__name__
        best = cur
        stack.extend(a for a in getattr(cur, "args", ()) if isinstance(a, BaseException))
        stack.extend(getattr(cur, "exceptions", None) or [])
        if isinstance(getattr(cur, "exception", None), BaseException):
            stack.append(cur.exception)
    return str(best) or type(best).__name__


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    params = pika.URLParameters(url)
    return f"{url.split('://', 1)[0]}://{params.credentials.username}@{params.host}:{params.port}{params.virtual_host and '/' + params.virtual_host.lstrip('/')}"


class AmqpBus(Bus):
    """One blocking connection and one confirming channel."""

    def __init__(self, url: str, *, connect_timeout: float = 5.0, heartbeat: int = 30):
        self.url = url
        params = pika.URLParameters(url)
        params.socket_timeout = connect_timeout
        params.blocked_connection_timeout = 30
        params.heartbeat = heartbeat
        params.connection_attempts = 1
        self._batch_chan = None
        self._returned: list[str | None] = []
        try:
            self._conn = pika.BlockingConnection(params)
            self._chan = self._conn.channel()
            self._chan.confirm_delivery()
        except CONNECT_ERRORS as exc:
            raise BusUnavailable(f"cannot reach RabbitMQ at {redact(url)}: {describe(exc)}") from exc

    # ----------------------------------------------------------------- topology
    def declare(self) -> None:
        ch = self._chan
        ch.exchange_declare(topology.EXCHANGE, exchange_type="topic", durable=True)
        ch.exchange_declare(topology.DEAD_EXCHANGE, exchange_type="fanout", durable=True)
        ch.queue_declare(topology.DEAD_QUEUE, durable=True)
        ch.queue_bind(topology.DEAD_QUEUE, topology.DEAD_EXCHANGE)
        ch.queue_declare(
            topology.EVENTS_QUEUE,
            durable=True,
            arguments={"x-dead-letter-exchange": topology.DEAD_EXCHANGE},
        )
        ch.queue_bind(topology.EVENTS_QUEUE, topology.EXCHANGE, routing_key=topology.EVENTS_BINDING)

    # ----------------------------------------------------------------- publish
    def publish(self, routing_key, body, *, message_id=None, headers=None, exchange=topology.EXCHANGE) -> None:
        props = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=message_id,
            headers=headers or None,
            timestamp=int(time.time()),
        )
        try:
            self._chan.basic_publish(exchange, routing_key, encode(body), props, mandatory=True)
        except pika.exceptions.UnroutableError as exc:
            raise BusError(f"message {message_id} to {exchange}/{routing_key} was unroutable") from exc
        except pika.exceptions.NackError as exc:
            raise BusError(f"broker refused message {message_id}") from exc
        except RUNTIME_ERRORS as exc:
            raise BusUnavailable(f"lost RabbitMQ connection while publishing: {exc or type(exc).__name__}") from exc

    def publish_many(self, items, *, exchange=topology.EXCHANGE) -> None:
        """Publish a batch in one AMQP transaction: one disk sync for the whole batch.

        A publisher confirm per message costs RabbitMQ a sync each; ``tx.commit-ok``
        comes once every persistent message of the batch is on disk, which gives the
        same guarantee at a fraction of the cost. Unroutable messages are returned
        before the commit completes and make the batch fail.
        """
        if len(items) <= 1:
            super().publish_many(items, exchange=exchange)
            return
        try:
            if self._batch_chan is None or not self._batch_chan.is_open:
                self._batch_chan = self._conn.channel()
                self._batch_chan.tx_select()
                self._batch_chan.add_on_return_callback(lambda ch, method, props, body: self._returned.append(props.message_id))
            self._returned.clear()
            now = int(time.time())
            for routing_key, body, message_id in items:
                props = pika.BasicProperties(
                    content_type="application/json",
                    delivery_mode=pika.DeliveryMode.Persistent,
                    message_id=message_id,
                    timestamp=now,
                )
                self._batch_chan.basic_publish(exchange, routing_key, encode(body), props, mandatory=True)
            self._batch_chan.tx_commit()
            self._conn.process_data_events(time_limit=0)  # runs the return callbacks, if any
        except RUNTIME_ERRORS as exc:
            raise BusUnavailable(f"lost RabbitMQ connection while publishing a batch: {exc or type(exc).__name__}") from exc
        if self._returned:
            raise BusError(f"{len(self._returned)} message(s) to {exchange} were unroutable, e.g. {self._returned[0]}")

    # ----------------------------------------------------------------- consume
    def _message(self, queue: str, method, props, body: bytes) -> Message:
        return Message(
            body=body,
            routing_key=method.routing_key,
            queue=queue,
            delivery_tag=method.delivery_tag,
            redelivered=bool(method.redelivered),
            message_id=props.message_id,
            headers=dict(props.headers or {}),
        )

    def get(self, queue: str) -> Message | None:
        try:
            method, props, body = self._chan.basic_get(queue, auto_ack=False)
        except RUNTIME_ERRORS as exc:
            raise BusUnavailable(f"lost RabbitMQ connection: {exc or type(exc).__name__}") from exc
        if method is None:
            return None
        return self._message(queue, method, props, body)

    def ack(self, message: Message) -> None:
        try:
            self._chan.basic_ack(message.delivery_tag)
        except RUNTIME_ERRORS as exc:
            raise BusUnavailable(f"lost RabbitMQ connection before ack: {exc or type(exc).__name__}") from exc

    def nack(self, message: Message, requeue: bool = True) -> None:
        try:
            self._chan.basic_nack(message.delivery_tag, requeue=requeue)
        except RUNTIME_ERRORS as exc:
            raise BusUnavailable(f"lost RabbitMQ connection before nack: {exc or type(exc).__name__}") from exc

    def consume(self, queue: str, handler: Handler, *, prefetch: int = 10, stop: Callable[[], bool] | None = None) -> None:
        stop = stop or (lambda: False)
        try:
            self._chan.basic_qos(prefetch_count=prefetch)
            for method, props, body in self._chan.consume(queue, auto_ack=False, inactivity_timeout=0.5):
                if method is not None and not self._handle(self._message(queue, method, props, body), handler):
                    time.sleep(0.5)  # back off: the handler's dependency (the DB) may be down
                if stop():
                    break
            self._chan.cancel()
        except RUNTIME_ERRORS as exc:
            raise BusUnavailable(f"lost RabbitMQ connection while consuming: {exc or type(exc).__name__}") from exc

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
        stop = stop or (lambda: False)
        buffer: deque[Message] = deque()

        def delivered(_ch, method, props, body) -> None:
            buffer.append(self._message(queue, method, props, body))

        try:
            self._chan.basic_qos(prefetch_count=max(prefetch or 0, max_batch))
            tag = self._chan.basic_consume(queue, delivered, auto_ack=False)
            while not stop():
                if not buffer:
                    self._conn.process_data_events(time_limit=0.5)
                    continue
                self._conn.process_data_events(time_limit=0)  # whatever already arrived
                deadline = time.monotonic() + max_wait
                while len(buffer) < max_batch and (left := deadline - time.monotonic()) > 0:
                    self._conn.process_data_events(time_limit=left)
                batch = [buffer.popleft() for _ in range(min(max_batch, len(buffer)))]
                if not self._settle_batch(batch, handler):
                    time.sleep(0.5)  # back off: the handler's dependency (the DB) may be down
            for message in reversed(buffer):  # received, never handled: back to the queue
                self.nack(message, requeue=True)
            self._chan.basic_cancel(tag)
        except RUNTIME_ERRORS as exc:
            raise BusUnavailable(f"lost RabbitMQ connection while consuming: {exc or type(exc).__name__}") from exc

    def ack_many(self, messages: list[Message], *, nothing_unsettled_before: bool = False) -> None:
        """Ack ``messages``: one ``basic.ack`` with ``multiple`` when they are consecutive deliveries
        and the caller knows every earlier delivery of this channel is settled, else one per message."""
        if not messages:
            return
        tags = [m.delivery_tag for m in messages]
        try:
            if nothing_unsettled_before and tags == list(range(tags[0], tags[0] + len(tags))):
                self._chan.basic_ack(tags[-1], multiple=True)
            else:
                for tag in tags:
                    self._chan.basic_ack(tag)
        except RUNTIME_ERRORS as exc:
            raise BusUnavailable(f"lost RabbitMQ connection before ack: {exc or type(exc).__name__}") from exc

    def queue_depth(self, queue: str) -> int:
        return self._chan.queue_declare(queue, passive=True).method.message_count

    def purge(self, queue: str) -> None:
        self._chan.queue_purge(queue)

    def close(self) -> None:
        try:
            if self._conn.is_open:
                self._conn.close()
        except RUNTIME_ERRORS:
            log.debug("error while closing the RabbitMQ connection", exc_info=True)
