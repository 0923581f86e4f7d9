"""The message bus between eventd/hooks and the dispatchers.

Two implementations behind one small interface (:class:`bus.base.Bus`):
RabbitMQ through pika (production; persistent messages, publisher confirms,
manual acks, a dead-letter exchange) and an in-process bus with the same
semantics for the all-in-one mode. Django-free: eventd uses it on Ganeti nodes.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bus.base import Bus, BusError, BusUnavailable, Message, Reject

__all__ = ["Bus", "BusError", "BusUnavailable", "Message", "Reject", "connect"]


def connect(url: str, **kwargs) -> Bus:
    """Open a bus for ``url`` (``memory://[name]`` or ``amqp(s)://...``).

    Raises BusUnavailable (with a one-line reason) when the broker cannot be reached.
    """
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from bus.memory import MemoryBus

        return MemoryBus.shared(url)
    if scheme in {"amqp", "amqps"}:
        from bus.amqp import AmqpBus

        return AmqpBus(url, **kwargs)
    raise BusError(f"unknown bus URL scheme {scheme!r} in {url!r}")
