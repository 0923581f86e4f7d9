"""RabbitMQ stops while eventd runs and jobs keep changing; it starts again: no event is lost.

A real ``cyclades-eventd`` watches a temporary directory (not the sandbox's job
queue) into which the test writes job files in Ganeti's format, by rename as
Ganeti does. While the broker is stopped (``rabbitmqctl stop_app``: every
connection dropped, the port closed; durable queues kept) jobs keep changing and
new jobs appear; eventd spools. After ``start_app`` every event written is in the
events queue: each expected message id is seen (duplicates allowed: consumers
deduplicate by id), none is missing.

The stopped window is kept to a few seconds, and the broker is always started
again (``finally``), because other test sessions share this RabbitMQ.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import bus as busmod
from bus import topology
from tests import services
from tests.jobfiles import STEPS, create_job_version, load_template, write_job

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

EVENTD = Path(sys.executable).parent / "cyclades-eventd"
CLUSTER = "outage.ganeti.test"
NODE = "node1.outage.test"
FIRST_JOBS = range(1, 31)  # exist before the outage
NEW_JOBS = range(31, 46)  # appear while the broker is down


class JobWriter:
    """Writes job versions by rename, as Ganeti does; remembers the events they mean."""

    def __init__(self, queue_dir: Path):
        self.template = load_template()
        self.queue_dir = queue_dir
        self.times: dict[int, dict] = {}
        self.expected: set[str] = set()

    def write(self, jobs, step: int) -> None:
        for job_id in jobs:
            data = create_job_version(self.template, job_id, f"outage-{job_id}", step, self.times.setdefault(job_id, {}))
            write_job(self.queue_dir, job_id, data)
            self.expected.add(f"{CLUSTER}:{job_id}:0:{STEPS[step]}")
            time.sleep(0.005)


def op_ids_in_queue(amqp_url: str, timeout: float, want: set[str]) -> tuple[set[str], int]:
    """Consume the events queue until every id of ``want`` was seen (or timeout); (ids seen, deliveries)."""
    seen: set[str] = set()
    deliveries = 0
    deadline = time.monotonic() + timeout
    b = busmod.connect(amqp_url)
    try:
        while time.monotonic() < deadline and not want <= seen:
            message = b.get(topology.EVENTS_QUEUE)
            if message is None:
                time.sleep(0.1)
                continue
            b.ack(message)
            if json.loads(message.body).get("type") == "ganeti-op-status":
                seen.add(message.message_id)
                deliveries += 1
    finally:
        b.close()
    return seen, deliveries


def spooled(spool_dir: Path) -> int:
    return sum(1 for p in spool_dir.iterdir() if p.name.endswith(".msg") and not p.name.startswith("."))


def test_stopping_rabbitmq_while_jobs_keep_changing_loses_no_event(amqp_url, tmp_path):
    b = busmod.connect(amqp_url)
    b.declare()
    b.purge(topology.EVENTS_QUEUE)
    b.close()

    queue_dir, ssconf, spool_dir = tmp_path / "queue", tmp_path / "ssconf", tmp_path / "spool"
    for d in (queue_dir, ssconf, spool_dir):
        d.mkdir()
    (ssconf / "ssconf_master_node").write_text(NODE + "\n")
    (ssconf / "ssconf_cluster_name").write_text(CLUSTER + "\n")
    env = {
        "PATH": os.environ["PATH"],
        "CYCLADES_SECRET_KEY": "x" * 40,
        "CYCLADES_DATA_DIR": str(tmp_path),
        "CYCLADES_BUS_URL": amqp_url,
        "CYCLADES_LOG_FORMAT": "text",
        "CYCLADES_LOG_LEVEL": "INFO",
        "CYCLADES_EVENTD_QUEUE_DIR": str(queue_dir),
        "CYCLADES_EVENTD_SSCONF_DIR": str(ssconf),
        "CYCLADES_EVENTD_SPOOL_DIR": str(spool_dir),
        "CYCLADES_EVENTD_CLUSTER_NAME": CLUSTER,
        "CYCLADES_EVENTD_NODE_NAME": NODE,
        "CYCLADES_EVENTD_RETRY_INTERVAL": "0.5",
        "CYCLADES_EVENTD_HEARTBEAT_INTERVAL": "1",
    }
    log_path = tmp_path / "eventd.log"
    writer = JobWriter(queue_dir)
    with open(log_path, "a") as log:
        eventd = subprocess.Popen([str(EVENTD)], env=env, stdout=log, stderr=log)
    try:
        time.sleep(2)
        assert eventd.poll() is None, log_path.read_text()[-3000:]
        writer.write(FIRST_JOBS, 0)
        before, _ = op_ids_in_queue(amqp_url, 30, set(writer.expected))  # flowing before the outage
        assert before == writer.expected, log_path.read_text()[-3000:]

        most_spooled = 0
        stopped_at = time.monotonic()
        services.rabbitmqctl("stop_app")
        try:
            for step in (1, 2):  # the jobs keep changing, new jobs appear, all while the broker is down
                writer.write(FIRST_JOBS, step)
                time.sleep(0.3)
            writer.write(NEW_JOBS, 0)
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline and spooled(spool_dir) == 0:
                time.sleep(0.1)
            most_spooled = spooled(spool_dir)
        finally:
            services.rabbitmqctl("start_app")
            services.rabbitmqctl("await_startup")
        down_for = time.monotonic() - stopped_at
        assert most_spooled > 0, "eventd did not spool while the broker was down: " + log_path.read_text()[-3000:]

        writer.write(NEW_JOBS, 1)
        writer.write(FIRST_JOBS, 3)  # and after it is back
        seen, deliveries = op_ids_in_queue(amqp_url, 60, writer.expected - before)
        missing = writer.expected - before - seen
        assert not missing, f"{len(missing)} event(s) lost, e.g. {sorted(missing)[:5]}; " + log_path.read_text()[-3000:]
        assert seen == writer.expected - before  # nothing that was not written
        assert deliveries >= len(seen)
        assert eventd.poll() is None, log_path.read_text()[-3000:]
        deadline = time.monotonic() + 10
        while spooled(spool_dir) and time.monotonic() < deadline:  # a file goes once its messages are safe
            time.sleep(0.1)
        assert spooled(spool_dir) == 0  # the spool was drained
        assert down_for < 30
    finally:
        if eventd.poll() is None:
            eventd.send_signal(signal.SIGTERM)
            eventd.wait(timeout=30)
