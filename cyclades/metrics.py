"""The product's Prometheus metrics (prometheus_client), defined once for every process.

* API processes observe request latency (:mod:`api.metrics` middleware);
* dispatchers observe batch sizes, errors, dead letters and the event lag
  (job status time in Ganeti → the batch's commit) (:func:`observe_batch`);
* ``/metrics`` adds, at scrape time, what lives in the database and the broker:
  queue depths, per-backend capacity and server counts, each cluster's eventd liveness.

Under gunicorn (several worker processes) and with dispatchers on the same host, set
``PROMETHEUS_MULTIPROC_DIR`` to a directory shared by them (emptied at boot): each
process writes its samples there and ``/metrics`` adds them up (prometheus_client's
multiprocess mode). Without it, ``/metrics`` shows the serving process's samples.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from prometheus_client import Counter, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)

API_LATENCY = Histogram(
    "cyclades_api_request_duration_seconds",
    "Time to answer an API request, per endpoint (URL pattern), method and status class.",
    ["endpoint", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
EVENT_LAG = Histogram(
    "cyclades_event_lag_seconds",
    "From an event's time in Ganeti (job status change) to the commit of the batch that applied it.",
    ["type"],
    buckets=LAG_BUCKETS,
)
BATCH_SIZE = Histogram(
    "cyclades_dispatcher_batch_size", "Messages in a batch the dispatcher applied in one transaction.", buckets=BATCH_BUCKETS
)
BATCH_ERRORS = Counter(
    "cyclades_dispatcher_batch_errors_total",
    "Messages of batches that could not be committed as a whole, by what became of them (requeued, dead-lettered).",
    ["outcome"],
)
DEAD_LETTERS = Counter(
    "cyclades_dispatcher_dead_letters_total", "Messages the dispatcher sent to the dead-letter queue (malformed or refused)."
)
EVENTS = Counter("cyclades_dispatcher_events_total", "Events the dispatcher committed, by type.", ["type"])


def observe_batch(parsed: Sequence[tuple[int, object]], settlements: Sequence, *, now: float | None = None) -> None:
    """After a batch's transaction: its size, each committed event's lag, what failed.

    ``parsed``: (message index, event) of the messages that parsed; ``settlements``: one per
    message (None: committed; a Reject: dead-lettered; another exception: requeued).
    """
    from bus import Reject

    BATCH_SIZE.observe(len(settlements))
    dead = sum(1 for s in settlements if isinstance(s, Reject))
    requeued = sum(1 for s in settlements if s is not None and not isinstance(s, Reject))
    if dead:
        DEAD_LETTERS.inc(dead)
        BATCH_ERRORS.labels("dead-lettered").inc(dead)
    if requeued:
        BATCH_ERRORS.labels("requeued").inc(requeued)
    moment = time.time() if now is None else now
    for i, event in parsed:
        if settlements[i] is not None:
            continue
        EVENTS.labels(event.type).inc()
        if event.event_time is not None:
            EVENT_LAG.labels(event.type).observe(max(0.0, moment - event.event_time.timestamp()))
