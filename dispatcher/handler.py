"""Apply one bus message to the database.

The bus acks a message only after :func:`handle` returned, and
:func:`logic.events.apply_event` commits before it returns: nothing is acked that
was not committed. A message that breaks the contract can never be applied, so
it is rejected (dead-lettered with the reason); a database failure raises, so
the bus requeues the message and it is applied once the database is back.
"""

from __future__ import annotations

import json
import logging

from django.db import DatabaseError, DataError, IntegrityError, connection

from bus import Message, Reject
from logic.event_messages import BUS_TYPES, InvalidEvent
from logic.events import Outcome, apply_event

log = logging.getLogger(__name__)


def decode(message: Message) -> dict:
    """The message's JSON object, or Reject with why it cannot be read."""
    try:
        body = json.loads(message.body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Reject(f"unparseable message (not JSON): {exc}") from exc
    if not isinstance(body, dict):
        raise Reject(f"message body must be a JSON object, got {type(body).__name__}")
    return body


def drop_broken_connection() -> None:
    """After a database error: close the connection if it is broken, so the next message opens a new one."""
    if connection.connection is not None and not connection.in_atomic_block and not connection.is_usable():
        connection.close()


def handle(message: Message) -> Outcome:
    """Decode ``message`` and apply it; Reject what can never be applied."""
    body = decode(message)
    try:
        outcome = apply_event(body, allowed_types=BUS_TYPES)
    except InvalidEvent as exc:
        raise Reject(f"invalid {body.get('type') or 'message'} {body.get('id') or ''}: {exc}".replace("  ", " ")) from exc
    except (DataError, IntegrityError) as exc:
        # A first failure may be a race between dispatchers: retry once; a second one is the message's fault.
        if message.redelivered:
            raise Reject(f"database refused message {body.get('id')}: {str(exc).strip().splitlines()[0]}") from exc
        raise
    except DatabaseError:
        drop_broken_connection()
        raise
    log.debug("message %s: %s %s", body.get("id"), outcome.status, outcome.reason or ", ".join(outcome.changes))
    return outcome
