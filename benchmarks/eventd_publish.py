"""eventd alone: how fast job-file updates become confirmed RabbitMQ messages.

Three figures from the same run, on a throw-away RabbitMQ vhost:

* **baseline**: raw pika, one persistent confirmed publish per message (the same
  JSON bodies eventd produces) — the ceiling for a confirm-per-message publisher;
* **catch-up**: N job files already in the queue directory, ``eventd --once``
  style: list, parse, build messages, publish confirmed, record state;
* **own cost**: the same catch-up with the in-process bus (no broker);
* **live**: a writer renames N job-file updates (jobs going queued → waiting →
  running → success, like Ganeti rewrites them) into a directory eventd watches
  with inotify; from the first write to the last message confirmed.

Also eventd's resident memory before and after (it must stay flat).

Usage: ``.venv/bin/python benchmarks/eventd_publish.py [--updates 20000]``. Needs
RabbitMQ on 127.0.0.1:5672 (guest) and rabbitmqctl. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

import pika  # noqa: E402

from bus import topology  # noqa: E402
from eventd import jobfile, messages  # noqa: E402
from eventd.daemon import EventDaemon  # noqa: E402
from eventd.publisher import Publisher  # noqa: E402
from eventd.spool import Spool  # noqa: E402
from eventd.state import PublishedState  # noqa: E402
from tests.jobfiles import write_job  # noqa: E402

CLUSTER = "bench.ganeti.test"
STATUSES = ("queued", "waiting", "running", "success")


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def job_version(job_id: int, step: int) -> bytes:
    """Job ``job_id`` at ``STATUSES[step]``, shaped like a real Ganeti create job file."""
    base = 1_700_000_000 + job_id
    status = STATUSES[step]
    op = {
        "input": {
            "OP_ID": "OP_INSTANCE_CREATE",
            "instance_name": f"snf-{job_id}",
            "beparams": {"maxmem": 256, "minmem": 256, "vcpus": 1},
            "nics": [{"mode": "bridged", "link": "br-gnt"}],
            "disks": [],
            "disk_template": "diskless",
            "os_type": "noop",
            "reason": [["gnt:library:rlib2:instances", "", base * 10**9]],
        },
        "status": status,
        "result": ["node1.ganeti.test"] if status == "success" else None,
        "log": [[1, [base, 2], "message", "* starting instance..."]] if step >= 2 else [],
        "start_timestamp": [base, 1] if step >= 1 else None,
        "exec_timestamp": [base, 2] if step >= 2 else None,
        "end_timestamp": [base, 3] if step >= 3 else None,
        "priority": 0,
    }
    return json.dumps(
        {
            "id": job_id,
            "ops": [op],
            "received_timestamp": [base, 0],
            "start_timestamp": op["start_timestamp"],
            "end_timestamp": op["end_timestamp"],
        }
    ).encode()


def vhost_url(vhost: str) -> str:
    return f"amqp://guest:guest@127.0.0.1:5672/{vhost}"


def purge(url: str) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.queue_purge(topology.EVENTS_QUEUE)
    conn.close()


def baseline(url: str, bodies: list[dict]) -> float:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.confirm_delivery()
    props = pika.BasicProperties(content_type="application/json", delivery_mode=2)
    key = topology.routing_key(CLUSTER, "op")
    started = time.perf_counter()
    for body in bodies:
        ch.basic_publish(topology.EXCHANGE, key, json.dumps(body, separators=(",", ":")).encode(), props, mandatory=True)
    elapsed = time.perf_counter() - started
    conn.close()
    return len(bodies) / elapsed


def make_daemon(work: str, queue_dir: str, url: str) -> EventDaemon:
    return EventDaemon(
        queue_dir=queue_dir,
        cluster=CLUSTER,
        publisher=Publisher(url, Spool(os.path.join(work, "spool"))),
        state=PublishedState(os.path.join(work, f"state-{uuid.uuid4().hex[:6]}.sqlite3"), retention=10 * 365 * 86400),
        host="node1",
        heartbeat_interval=0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=20_000, help="job-file updates (default %(default)s)")
    args = parser.parse_args()
    n = args.updates
    vhost = f"bench-eventd-{os.getpid()}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True)
    url = vhost_url(vhost)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-eventd-") as work:
            rss_start = rss_mib()
            # -------------------------------------------------------------- baseline
            bodies = []
            for job_id in range(1, n + 1):
                job = jobfile.parse(job_version(job_id, 3))
                bodies.extend(b for _, _, b in messages.op_envelopes(CLUSTER, job, job.ops))
            probe = make_daemon(work, work, url)
            probe.publisher.send_transient(topology.routing_key(CLUSTER, "heartbeat"), {"id": "probe"})  # connect + declare
            probe.publisher.close()
            purge(url)
            base_rate = baseline(url, bodies)
            purge(url)

            # -------------------------------------------------------------- catch-up
            queue = os.path.join(work, "queue-catchup")
            os.mkdir(queue)
            for job_id in range(1, n + 1):
                write_job(queue, job_id, job_version(job_id, 3))
            daemon = make_daemon(work, queue, url)
            started = time.perf_counter()
            daemon.run(once=True)
            catchup_s = time.perf_counter() - started
            catchup_msgs = daemon.publisher.published
            daemon.publisher.close()
            daemon.state.close()
            purge(url)
            # the same catch-up on the in-process bus: eventd's own cost without the broker
            daemon = make_daemon(work, queue, f"memory://bench-{os.getpid()}")
            started = time.perf_counter()
            daemon.run(once=True)
            own_rate = daemon.publisher.published / (time.perf_counter() - started)
            daemon.state.close()

            # -------------------------------------------------------------- live
            queue = os.path.join(work, "queue-live")
            os.mkdir(queue)
            daemon = make_daemon(work, queue, url)
            ready = threading.Event()
            thread = threading.Thread(target=daemon.run, kwargs={"ready": ready}, daemon=True)
            thread.start()
            ready.wait(10)
            rss_live_start = rss_mib()
            jobs = n // len(STATUSES)
            started = time.perf_counter()
            for step in range(len(STATUSES)):  # every job advances one status per round
                for job_id in range(1, jobs + 1):
                    write_job(queue, job_id, job_version(job_id, step))
            written_s = time.perf_counter() - started
            # done when eventd recorded every job's success (its in-memory view of the state file)
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                if all(daemon.state._cache.get(j) == ["success"] for j in range(1, jobs + 1)):
                    break
                time.sleep(0.01)
            live_s = time.perf_counter() - started
            daemon.stop()
            thread.join(10)
            live_msgs = daemon.publisher.published
            rss_live_end = rss_mib()
            daemon.publisher.close()
            daemon.state.close()
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)

    print(f"eventd publish benchmark, {n} job-file updates, RabbitMQ confirms per message")
    print(f"  baseline raw pika publish+confirm      : {base_rate:8.0f} msg/s ({len(bodies)} messages)")
    print(
        f"  eventd catch-up (list+parse+publish)   : {catchup_msgs / catchup_s:8.0f} msg/s "
        f"({catchup_msgs} messages from {n} files in {catchup_s:.2f} s) = {catchup_msgs / catchup_s / base_rate:.0%} of baseline"
    )
    print(f"  eventd catch-up, in-process bus        : {own_rate:8.0f} msg/s (eventd's own cost: read, parse, build, state)")
    print(
        f"  eventd live (inotify, {jobs} jobs x {len(STATUSES)} statuses): {n / live_s:8.0f} updates/s, "
        f"{live_msgs / live_s:8.0f} msg/s ({live_msgs} messages; updates of one job read together are coalesced; "
        f"writer alone took {written_s:.2f} s, all done after {live_s:.2f} s)"
    )
    print(f"  RSS MiB: start {rss_start:.0f}, live start {rss_live_start:.0f}, live end {rss_live_end:.0f}")


if __name__ == "__main__":
    main()
