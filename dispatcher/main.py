"""``cyclades-dispatcher``: consume the events queue until told to stop.

Reconnects with backoff when the broker goes away; messages are applied in
batches, one transaction each, and acked only after it committed (see
:mod:`dispatcher.batch`). Any number of dispatchers can consume the same queue.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time

from cyclades.cli import django_setup, run

log = logging.getLogger("dispatcher")


def serve(bus_url: str, *, prefetch: int, stop: threading.Event, batch_size: int = 1, batch_wait: float = 0.0) -> None:
    """Consume until ``stop`` is set; reconnect on broker loss."""
    import bus as busmod
    from bus import topology
    from dispatcher.batch import handle_batch

    delay = 1.0
    first = True
    while not stop.is_set():
        try:
            bus = busmod.connect(bus_url)
        except busmod.BusUnavailable:
            if first:
                raise  # at start-up: one clear line and a non-zero exit
            log.warning("broker unreachable; retrying in %.0f s", delay)
            stop.wait(delay)
            delay = min(delay * 2, 30)
            continue
        first, delay = False, 1.0
        try:
            bus.declare()
            log.info("consuming %s (prefetch %d, batches of up to %d)", topology.EVENTS_QUEUE, prefetch, batch_size)
            bus.consume_batches(
                topology.EVENTS_QUEUE,
                handle_batch,
                max_batch=batch_size,
                max_wait=batch_wait,
                prefetch=prefetch,
                stop=stop.is_set,
            )
        except busmod.BusUnavailable as exc:
            log.warning("%s; reconnecting", exc)
            time.sleep(0.5)
        finally:
            bus.close()


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cyclades-dispatcher", description=__doc__)
    parser.add_argument("--prefetch", type=int, help="unacknowledged messages held at once (default: DISPATCHER_PREFETCH)")
    parser.add_argument("--batch-size", type=int, help="most messages per database transaction (default: DISPATCHER_BATCH_SIZE)")
    args = parser.parse_args(argv)
    django_setup()
    from django.conf import settings

    if args.prefetch is None:
        args.prefetch = settings.CYCLADES["DISPATCHER_PREFETCH"]
    if args.batch_size is None:
        args.batch_size = settings.CYCLADES["DISPATCHER_BATCH_SIZE"]
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    serve(
        settings.CYCLADES["BUS_URL"],
        prefetch=args.prefetch,
        stop=stop,
        batch_size=args.batch_size,
        batch_wait=settings.CYCLADES["DISPATCHER_BATCH_WAIT"],
    )
    log.info("dispatcher stopped")
    return 0


def main() -> None:
    run(_main)
