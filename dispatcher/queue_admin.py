"""Looking into the event queues and re-publishing dead letters (``queue-inspect``, ``queue-retry``).

Django-free. Dead letters are read with basic.get and put back (nack with
requeue) so inspecting never consumes them; a retry re-publishes a dead letter
to the events exchange (confirmed) before it acks it, so a crash in between
leaves a duplicate, which the dispatcher's event-time rules make harmless.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from bus import Bus, Message, topology

RETRIES_HEADER = "x-cyclades-retries"
ORIGINAL_KEY_HEADER = "x-original-routing-key"


@dataclass(frozen=True)
class DeadLetter:
    """A dead-lettered message as an operator sees it."""

    message_id: str | None
    routing_key: str
    reason: str
    retries: int
    body: str

    def as_dict(self) -> dict:
        return {
            "message_id": self.message_id,
            "routing_key": self.routing_key,
            "reason": self.reason,
            "retries": self.retries,
            "body": self.body,
        }


def reason_of(message: Message) -> str:
    """Why the message was dead-lettered: the dispatcher's reason, or the broker's x-death record."""
    headers = message.headers or {}
    if headers.get(topology.REASON_HEADER):
        return _text(headers[topology.REASON_HEADER])
    deaths = headers.get("x-death") or []
    if deaths and isinstance(deaths[0], dict):
        return f"broker: {_text(deaths[0].get('reason', 'dead-lettered'))} in {_text(deaths[0].get('queue', '?'))}"
    return "unknown (no reason header)"


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def original_routing_key(message: Message) -> str:
    return _text((message.headers or {}).get(ORIGINAL_KEY_HEADER) or message.routing_key)


def as_dead_letter(message: Message, body_chars: int = 300) -> DeadLetter:
    body = message.body.decode("utf-8", "replace")
    return DeadLetter(
        message_id=message.message_id,
        routing_key=original_routing_key(message),
        reason=reason_of(message),
        retries=int((message.headers or {}).get(RETRIES_HEADER) or 0),
        body=body if len(body) <= body_chars else body[:body_chars] + "...",
    )


def queue_depths(bus: Bus) -> dict[str, int]:
    return {q: bus.queue_depth(q) for q in (topology.EVENTS_QUEUE, topology.DEAD_QUEUE)}


def _take(bus: Bus, limit: int | None) -> list[Message]:
    taken: list[Message] = []
    while limit is None or len(taken) < limit:
        message = bus.get(topology.DEAD_QUEUE)
        if message is None:
            break
        taken.append(message)
    return taken


def _put_back(bus: Bus, messages: list[Message]) -> None:
    for message in reversed(messages):
        bus.nack(message, requeue=True)


def peek_dead_letters(bus: Bus, limit: int = 50) -> list[DeadLetter]:
    """Up to ``limit`` dead letters, left in their queue."""
    taken = _take(bus, limit)
    try:
        return [as_dead_letter(m) for m in taken]
    finally:
        _put_back(bus, taken)


def retry_dead_letters(
    bus: Bus, *, limit: int | None = None, select: Callable[[DeadLetter], bool] | None = None
) -> list[DeadLetter]:
    """Re-publish dead letters (all, or those ``select`` accepts) to the events exchange; returns them.

    The reason header is dropped and a retry counter added; messages not selected stay dead.
    """
    taken = _take(bus, None)
    retried: list[DeadLetter] = []
    keep: list[Message] = []
    try:
        for message in taken:
            letter = as_dead_letter(message)
            if (limit is not None and len(retried) >= limit) or (select is not None and not select(letter)):
                keep.append(message)
                continue
            headers = {
                k: v
                for k, v in (message.headers or {}).items()
                if k
                not in (
                    topology.REASON_HEADER,
                    ORIGINAL_KEY_HEADER,
                    "x-death",
                    "x-first-death-exchange",
                    "x-first-death-queue",
                    "x-first-death-reason",
                )
            }
            headers[RETRIES_HEADER] = letter.retries + 1
            bus.publish(letter.routing_key, message.body, message_id=message.message_id, headers=headers)
            bus.ack(message)
            retried.append(letter)
    finally:
        _put_back(bus, keep)
    return retried


def describe_body(body: str) -> str:
    """A one-line summary of a message body for tables (type, instance, status) when it is JSON."""
    try:
        data = json.loads(body)
    except ValueError:
        return body[:80]
    if not isinstance(data, dict):
        return body[:80]
    parts = [str(data.get(k)) for k in ("type", "instance", "operation", "status") if data.get(k)]
    return " ".join(parts) or body[:80]
