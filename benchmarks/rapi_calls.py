"""RAPI calls per second: ``GET /2/instances/<name>`` through one RapiClient vs a fresh client per call.

Two figures from the same run against the real Ganeti sandbox, interleaved in
rounds so that load from other users of the shared sandbox hits both alike:

* **reused**: one :class:`logic.rapi.RapiClient` (one requests.Session: pinned
  TLS context, connection pool and auth built once) for every call;
* **fresh**: a new client per call (new session, new TLS context with the pinned
  certificate, new TCP + TLS connection) — what code that builds a client per
  request would pay.

Note: Ganeti 3.0's RAPI answers every request with ``Connection: close``, so even
the reused client opens a new TCP + TLS connection per call; what it saves is
the per-client setup. The figure shows how much that is worth.

Usage: ``.venv/bin/python benchmarks/rapi_calls.py [--calls 50] [--rounds 3]``.
Creates one diskless instance ``<prefix>-bench`` (removed at the end).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from logic.rapi import RapiClient, RapiNotFound, extract_certificate

ENV_FILE = os.environ.get("CYCLADES_TEST_GANETI_ENV", "/run/ganeti-sandbox/rapi.env")


def sandbox_env() -> dict[str, str]:
    with open(ENV_FILE) as f:
        return dict(line.strip().split("=", 1) for line in f if "=" in line and not line.startswith("#"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50, help="instance GETs per round and per mode (4x for /2/info)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    env = sandbox_env()
    with open(env["GANETI_RAPI_CERT"]) as f:
        pem = extract_certificate(f.read())
    conn = (env["GANETI_RAPI_HOST"], int(env["GANETI_RAPI_PORT"]), env["GANETI_RAPI_USER"], env["GANETI_RAPI_PASSWORD"], pem)

    def new_client() -> RapiClient:
        return RapiClient(*conn)

    name = f"bench{os.getpid()}-bench"
    client = new_client()
    client.wait_for_job(
        client.create_instance(name, disk_template="diskless", os="noop", beparams={"maxmem": 128, "minmem": 128, "vcpus": 1})
    )
    try:
        client.get_instance(name)  # warm up
        results = [
            (f"GET /2/instances/{name}", measure(client, new_client, lambda c: c.get_instance(name), args.calls, args.rounds)),
            (
                "GET /2/info (cheap for Ganeti: shows the client's own cost)",
                measure(client, new_client, lambda c: c.get_info(), args.calls * 4, args.rounds),
            ),
        ]
    finally:
        try:
            client.wait_for_job(client.remove_instance(name, shutdown_timeout=0))
        except RapiNotFound:
            pass
        client.close()

    print(f"RAPI {env['GANETI_RAPI_HOST']}:{env['GANETI_RAPI_PORT']}, {args.rounds} interleaved rounds, median calls/s")
    for label, (reused_rates, fresh_rates) in results:
        reused, fresh = statistics.median(reused_rates), statistics.median(fresh_rates)
        print(label)
        print(f"  reused client (one session):   {reused:8.1f} calls/s   rounds: {', '.join(f'{r:.0f}' for r in reused_rates)}")
        print(f"  fresh client per call:         {fresh:8.1f} calls/s   rounds: {', '.join(f'{r:.0f}' for r in fresh_rates)}")
        print(f"  ratio reused/fresh:            {reused / fresh:8.2f}x")


def measure(client, new_client, call, calls: int, rounds: int) -> tuple[list[float], list[float]]:
    """Calls/s of ``call`` through ``client`` and through a new client per call, interleaved by round."""
    reused_rates, fresh_rates = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            call(client)
        reused_rates.append(calls / (time.perf_counter() - started))

        started = time.perf_counter()
        for _ in range(calls):
            with new_client() as one_off:
                call(one_off)
        fresh_rates.append(calls / (time.perf_counter() - started))
    return reused_rates, fresh_rates


if __name__ == "__main__":
    main()
