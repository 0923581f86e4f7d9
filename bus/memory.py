"""An in-process bus with RabbitMQ's semantics, for the all-in-one mode.

All components run as threads of one process and share the bus by URL
(``memory://`` or ``memory://<name>``). Messages are delivered at least once: an
unacknowledged message goes back to its queue when nacked or when the consumer
stops without settling it. Messages live in memory: durability across process
restarts is what RabbitMQ is for.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable

from bus import topology
from bus.base import BatchHandler, Bus, Handler, Message, encode


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: ``*`` is one word, ``#`` is zero or more words."""

    def match(p: list[str], k: list[str]) -> bool:
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        if not k:
            return False
        return (p[0] == "*" or p[0] == k[0]) and match(p[1:], k[1:])

    return match(pattern.split("."), key.split("."))


class _Broker:
    """The shared state behind every MemoryBus of one URL."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.queues: dict[str, deque[Message]] = {}
        # exchange -> list of (binding pattern, queue); fanout exchanges use "#"
        self.bindings: dict[str, list[tuple[str, str]]] = {}
        self.tags = itertools.count(1)


class MemoryBus(Bus):
    _brokers: dict[str, _Broker] = {}
    _brokers_lock = threading.Lock()

    def __init__(self, broker: _Broker):
        self._b = broker
        self._unacked: dict[int, Message] = {}
        self._closed = False

    @classmethod
    def shared(cls, url: str) -> MemoryBus:
        with cls._brokers_lock:
            broker = cls._brokers.setdefault(url, _Broker())
        bus = cls(broker)
        bus.declare()
        return bus

    def declare(self) -> None:
        with self._b.lock:
            for q in (topology.EVENTS_QUEUE, topology.DEAD_QUEUE):
                self._b.queues.setdefault(q, deque())
            self._b.bindings[topology.EXCHANGE] = [(topology.EVENTS_BINDING, topology.EVENTS_QUEUE)]
            self._b.bindings[topology.DEAD_EXCHANGE] = [("#", topology.DEAD_QUEUE)]

    def publish(self, routing_key, body, *, message_id=None, headers=None, exchange=topology.EXCHANGE) -> None:
        data = encode(body)
        with self._b.lock:
            for pattern, queue in self._b.bindings.get(exchange, []):
                if topic_matches(pattern, routing_key):
                    self._b.queues[queue].append(Message(data, routing_key, queue, None, False, message_id, dict(headers or {})))
            self._b.lock.notify_all()

    def _take(self, queue: str) -> Message | None:
        q = self._b.queues.get(queue)
        if not q:
            return None
        msg = q.popleft()
        delivered = Message(msg.body, msg.routing_key, queue, next(self._b.tags), msg.redelivered, msg.message_id, msg.headers)
        self._unacked[delivered.delivery_tag] = delivered
        return delivered

    def get(self, queue: str) -> Message | None:
        with self._b.lock:
            return self._take(queue)

    def ack(self, message: Message) -> None:
        with self._b.lock:
            self._unacked.pop(message.delivery_tag, None)

    def nack(self, message: Message, requeue: bool = True) -> None:
        with self._b.lock:
            msg = self._unacked.pop(message.delivery_tag, None)
            if msg is not None and requeue:
                msg.redelivered = True
                self._b.queues[message.queue].appendleft(msg)
                self._b.lock.notify_all()

    def consume(self, queue: str, handler: Handler, *, prefetch: int = 10, stop: Callable[[], bool] | None = None) -> None:
        stop = stop or (lambda: False)
        while not stop() and not self._closed:
            with self._b.lock:
                msg = self._take(queue)
                if msg is None:
                    self._b.lock.wait(0.2)
                    continue
            self._handle(msg, handler)

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
        while not stop() and not self._closed:
            with self._b.lock:
                first = self._take(queue)
                if first is None:
                    self._b.lock.wait(0.2)
                    continue
                batch = [first]
                deadline = time.monotonic() + max_wait
                while len(batch) < max_batch:
                    message = self._take(queue)
                    if message is not None:
                        batch.append(message)
                        continue
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._b.lock.wait(left)
            if not self._settle_batch(batch, handler):
                time.sleep(0.1)  # back off: the handler's dependency (the DB) may be down

    def queue_depth(self, queue: str) -> int:
        with self._b.lock:
            return len(self._b.queues.get(queue, ()))

    def purge(self, queue: str) -> None:
        with self._b.lock:
            self._b.queues.get(queue, deque()).clear()

    def close(self) -> None:
        """Requeue what this consumer holds unsettled, as a broker does on disconnect."""
        with self._b.lock:
            for msg in sorted(self._unacked.values(), key=lambda m: m.delivery_tag, reverse=True):
                msg.redelivered = True
                self._b.queues[msg.queue].appendleft(msg)
            self._unacked.clear()
            self._closed = True
            self._b.lock.notify_all()
