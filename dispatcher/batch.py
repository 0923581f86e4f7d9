"""Apply a batch of bus messages in one database transaction.

The bus acks a batch's messages only after :func:`handle_batch` returned, and
it returns only after the batch's transaction committed: "commit, then ack"
holds for every message, one commit serving many. When the batch cannot be
committed:

* a deadlock or serialization failure (another dispatcher, or the API, locked
  the same rows in another order): the batch is retried as a whole, a few times;
* any other failure: the transaction rolled back, so each message is applied
  again alone (:func:`dispatcher.handler.handle`'s rules: the broken one alone is
  dead-lettered or requeued, the others commit);
* the database is unreachable: every message is requeued (nothing committed).

Messages that break the contract never enter the transaction: they are
dead-lettered with the reason.
"""

from __future__ import annotations

import logging
import random
import time

from django.db import DatabaseError, DataError, IntegrityError, OperationalError, connection, transaction

from bus import Message, Reject
from cyclades import metrics
from dispatcher.handler import decode, drop_broken_connection
from logic import event_messages, events
from logic.event_messages import BUS_TYPES, Event, InvalidEvent

log = logging.getLogger(__name__)

#: PostgreSQL's SQLSTATEs of a transaction that lost a lock race: deadlock_detected, serialization_failure.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 4

Settlement = BaseException | None


def is_lock_conflict(exc: BaseException) -> bool:
    """A deadlock or serialization failure: retrying the same transaction is the cure."""
    cause = exc.__cause__ or exc
    return getattr(cause, "pgcode", None) in RETRYABLE_SQLSTATES


def parse(message: Message) -> Event:
    """The message's event, or Reject with why it can never be applied."""
    body = decode(message)
    try:
        return event_messages.parse_event(body, allowed_types=BUS_TYPES)
    except InvalidEvent as exc:
        raise Reject(f"invalid {body.get('type') or 'message'} {body.get('id') or ''}: {exc}".replace("  ", " ")) from exc


def handle_batch(messages: list[Message]) -> list[Settlement]:
    """Apply ``messages`` in one transaction; one settlement per message (None: committed, ack it)."""
    results, parsed = _apply_batch(messages)
    metrics.observe_batch(parsed, results)
    return results


def _apply_batch(messages: list[Message]) -> tuple[list[Settlement], list[tuple[int, Event]]]:
    results: list[Settlement] = [None] * len(messages)
    parsed: list[tuple[int, Event]] = []
    for i, message in enumerate(messages):
        try:
            parsed.append((i, parse(message)))
        except Reject as exc:
            results[i] = exc
    if not parsed:
        return results, parsed
    batch = [event for _, event in parsed]
    for attempt in range(1, ATTEMPTS + 1):
        try:
            events.apply_events(batch)
            return results, parsed
        except DatabaseError as exc:
            if is_lock_conflict(exc) and attempt < ATTEMPTS:
                log.info("batch of %d lost a lock race (%s); retry %d", len(batch), exc.__cause__ or exc, attempt)
                time.sleep(random.uniform(0, 0.02 * attempt))  # let the other transaction finish
                continue
            drop_broken_connection()
            if isinstance(exc, OperationalError) and not _database_usable():
                log.warning("database unavailable (%s); batch of %d requeued", exc, len(batch))
                for i, _ in parsed:
                    results[i] = exc
                return results, parsed
            log.warning("batch of %d failed (%s); applying its messages one by one", len(batch), exc)
            break
        except Exception as exc:  # a message the rules choke on: find it by applying one by one
            log.warning("batch of %d failed (%r); applying its messages one by one", len(batch), exc)
            break
    for i, event in parsed:
        results[i] = apply_alone(messages[i], event)
    return results, parsed


def apply_alone(message: Message, event: Event) -> Settlement:
    """One message in its own transaction, with :func:`dispatcher.handler.handle`'s rules."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic():  # its own transaction (a savepoint if a caller holds one)
                events.apply_event(event)
            return None
        except InvalidEvent as exc:
            return Reject(f"invalid {event.type} {event.id}: {exc}")
        except (DataError, IntegrityError) as exc:
            # A first failure may be a race between dispatchers: requeue once; a second one is the message's fault.
            if message.redelivered:
                return Reject(f"database refused message {event.id}: {str(exc).strip().splitlines()[0]}")
            return exc
        except DatabaseError as exc:
            if is_lock_conflict(exc) and attempt < ATTEMPTS:
                continue
            drop_broken_connection()
            return exc
        except Exception as exc:
            log.exception("message %s could not be applied; requeued", event.id)
            return exc
    raise AssertionError("unreachable")


def _database_usable() -> bool:
    try:
        connection.ensure_connection()
        return connection.is_usable()
    except DatabaseError:
        return False
