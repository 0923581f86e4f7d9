"""Exchanges and queues of the event pipeline (one place, used by every side).

eventd / hooks --(routing key ganeti.<cluster>.<kind>)--> exchange "ganeti" (topic)
    -> queue "cyclades.events" (durable; dead letters to "ganeti.dead")
exchange "ganeti.dead" (fanout) -> queue "cyclades.dead" (messages with a reason header)
"""

EXCHANGE = "ganeti"
DEAD_EXCHANGE = "ganeti.dead"
EVENTS_QUEUE = "cyclades.events"
DEAD_QUEUE = "cyclades.dead"
EVENTS_BINDING = "ganeti.#"
REASON_HEADER = "x-cyclades-reason"


def routing_key(cluster: str, kind: str) -> str:
    """Routing key of a message about ``cluster``: kind is op, network, hook, heartbeat..."""
    return f"ganeti.{cluster}.{kind}"
