"""``python -m simganeti``: run a simulated Ganeti master in the foreground."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from simganeti.master import SimGaneti


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simganeti", description=__doc__)
    parser.add_argument("--state-dir", default="./simganeti-state", help="cluster state, certificate, password")
    parser.add_argument("--queue-dir", default=None, help="job queue directory (default <state-dir>/queue)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5080)
    parser.add_argument("--user", default="ganeti-rapi")
    parser.add_argument("--password", default=None, help="default: generated once and kept in <state-dir>/rapi.password")
    parser.add_argument("--cluster-name", default="sim.ganeti.local")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiplies every job duration (0.1 = ten times faster)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sim = SimGaneti(
        args.state_dir,
        queue_dir=args.queue_dir,
        host=args.host,
        port=args.port,
        user=args.user,
        password=args.password,
        cluster_name=args.cluster_name,
        time_scale=args.time_scale,
    )
    try:
        sim.start()
    except OSError as exc:
        parser.exit(2, f"cannot listen on {args.host}:{args.port}: {exc.strerror}\n")
    user, password = sim.credentials
    print(f"RAPI {sim.url}  user {user}  password {password}  certificate {sim.cert_path}  queue {sim.queue_dir}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
