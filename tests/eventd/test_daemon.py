"""eventd against the real RabbitMQ: catch-up, no republish across restarts, live inotify,
spooling while RabbitMQ is unreachable and in-order replay, mastership, heartbeats."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from bus import topology
from eventd.daemon import EventDaemon
from eventd.mastership import Mastership
from eventd.publisher import Publisher
from eventd.spool import Spool
from eventd.state import PublishedState
from tests.eventd.conftest import CLUSTER, collect, fresh_sample, sample_versions, write_job

pytestmark = pytest.mark.rabbitmq

SAMPLE_JOBS = (2, 3, 4, 5, 6, 7, 8, 9, 10, 19)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"amqp://guest:guest@127.0.0.1:{port}/"


def make_daemon(tmp_path: Path, queue_dir: Path, bus_url: str, **kwargs) -> EventDaemon:
    publisher = Publisher(bus_url, Spool(str(tmp_path / "spool")), retry_interval=kwargs.pop("retry_interval", 0.2))
    return EventDaemon(
        queue_dir=str(queue_dir),
        cluster=CLUSTER,
        publisher=publisher,
        state=PublishedState(str(tmp_path / "state.sqlite3")),
        host="node1.ganeti.test",
        heartbeat_interval=kwargs.pop("heartbeat_interval", 0),
        **kwargs,
    )


class Running:
    """eventd's loop in a thread."""

    def __init__(self, daemon: EventDaemon):
        self.daemon = daemon
        self.ready = threading.Event()
        self.thread = threading.Thread(target=daemon.run, kwargs={"ready": self.ready}, daemon=True)

    def __enter__(self):
        self.thread.start()
        assert self.ready.wait(10)
        return self.daemon

    def __exit__(self, *exc):
        self.daemon.stop()
        self.thread.join(10)
        assert not self.thread.is_alive()
        self.daemon.publisher.close()
        self.daemon.state.close()


def ids(messages) -> list[str]:
    return [m.message_id for m in messages]


def test_catch_up_publishes_once_and_a_restart_does_not_republish(tmp_path, queue_dir, amqp_url, amqp_bus):
    for job_id in SAMPLE_JOBS:
        write_job(queue_dir, job_id, fresh_sample(sample_versions(job_id)[-1]))
    write_job(queue_dir, 30, fresh_sample(sample_versions(2)[5]).replace(b'"id": 2', b'"id": 30'))  # a running job

    daemon = make_daemon(tmp_path, queue_dir, amqp_url)
    daemon.run(once=True)
    daemon.state.close()
    got = collect(amqp_bus, topology.EVENTS_QUEUE, expect=len(SAMPLE_JOBS) + 1)
    assert sorted(ids(got)) == sorted(
        [f"{CLUSTER}:{j}:0:{'error' if j == 19 else 'success'}" for j in SAMPLE_JOBS] + [f"{CLUSTER}:30:0:running"]
    )
    body = got[0].json()
    assert got[0].routing_key == f"ganeti.{CLUSTER}.op" and body["id"] == got[0].message_id

    # Restart with the same state file: nothing again...
    daemon = make_daemon(tmp_path, queue_dir, amqp_url)
    daemon.run(once=True)
    assert collect(amqp_bus, topology.EVENTS_QUEUE, expect=1, timeout=1.0) == []
    # ...until a job changes while eventd is down: the catch-up publishes exactly that.
    write_job(queue_dir, 30, fresh_sample(sample_versions(2)[-1]).replace(b'"id": 2', b'"id": 30'))
    daemon.state.close()
    daemon = make_daemon(tmp_path, queue_dir, amqp_url)
    daemon.run(once=True)
    daemon.state.close()
    assert ids(collect(amqp_bus, topology.EVENTS_QUEUE, expect=2, timeout=2.0)) == [f"{CLUSTER}:30:0:success"]


def test_live_watch_publishes_each_status_change_in_order(tmp_path, queue_dir, amqp_url, amqp_bus):
    with Running(make_daemon(tmp_path, queue_dir, amqp_url)):
        for job_id in (2, 3):
            for path in sample_versions(job_id):
                write_job(queue_dir, job_id, fresh_sample(path))
                time.sleep(0.03)
        got = collect(amqp_bus, topology.EVENTS_QUEUE, expect=8)
    statuses = ["queued", "waiting", "running", "success"]
    assert ids(got) == [f"{CLUSTER}:2:0:{s}" for s in statuses] + [f"{CLUSTER}:3:0:{s}" for s in statuses]


def test_unreachable_rabbitmq_spools_and_replays_in_order(tmp_path, queue_dir, amqp_url, amqp_bus):
    daemon = make_daemon(tmp_path, queue_dir, closed_port_url())
    expected = []
    with Running(daemon):
        for job_id in (3, 4, 5):
            for path in sample_versions(job_id):
                write_job(queue_dir, job_id, fresh_sample(path))
                time.sleep(0.03)
            expected += [f"{CLUSTER}:{job_id}:0:{s}" for s in ("queued", "waiting", "running", "success")]
        deadline = time.monotonic() + 5
        while daemon.publisher.spool.depth() < len(expected) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert daemon.publisher.spool.depth() == len(expected)
        assert daemon.publisher.published == 0
        assert amqp_bus.queue_depth(topology.EVENTS_QUEUE) == 0

        daemon.publisher.bus_url = amqp_url  # RabbitMQ "comes back"
        got = collect(amqp_bus, topology.EVENTS_QUEUE, expect=len(expected))
        # a job changing after the broker came back queues up behind the replay
        for path in sample_versions(6):
            write_job(queue_dir, 6, fresh_sample(path))
            time.sleep(0.03)
        got += collect(amqp_bus, topology.EVENTS_QUEUE, expect=4)
    expected += [f"{CLUSTER}:6:0:{s}" for s in ("queued", "waiting", "running", "success")]
    assert ids(got) == expected
    assert daemon.publisher.spool.depth() == 0


def test_broker_lost_mid_stream_keeps_order(tmp_path, queue_dir, amqp_url, amqp_bus):
    """The connection breaks between two messages: later ones queue behind the spooled one."""
    daemon = make_daemon(tmp_path, queue_dir, amqp_url)
    with Running(daemon):
        for path in sample_versions(4)[:4]:  # queued, waiting
            write_job(queue_dir, 4, fresh_sample(path))
            time.sleep(0.03)
        first = collect(amqp_bus, topology.EVENTS_QUEUE, expect=2)
        daemon.publisher.bus_url = closed_port_url()
        daemon.publisher._bus._conn.close()  # the broker connection drops under eventd
        for path in sample_versions(4)[4:]:  # running, success
            write_job(queue_dir, 4, fresh_sample(path))
            time.sleep(0.03)
        deadline = time.monotonic() + 5
        while daemon.publisher.spool.depth() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert daemon.publisher.spool.depth() == 2
        daemon.publisher.bus_url = amqp_url
        rest = collect(amqp_bus, topology.EVENTS_QUEUE, expect=2)
    assert ids(first + rest) == [f"{CLUSTER}:4:0:{s}" for s in ("queued", "waiting", "running", "success")]


def test_publishes_only_while_master(tmp_path, queue_dir, amqp_url, amqp_bus):
    ssconf = tmp_path / "ssconf"
    ssconf.mkdir()
    (ssconf / "ssconf_master_node").write_text("node2.ganeti.test\n")
    mastership = Mastership(str(ssconf), "node1.ganeti.test", interval=0.1)
    daemon = make_daemon(tmp_path, queue_dir, amqp_url, mastership=mastership)
    with Running(daemon):
        write_job(queue_dir, 2, fresh_sample(sample_versions(2)[0]))
        time.sleep(0.5)
        assert amqp_bus.queue_depth(topology.EVENTS_QUEUE) == 0
        (ssconf / "ssconf_master_node").write_text("node1.ganeti.test\n")  # failover to us
        got = collect(amqp_bus, topology.EVENTS_QUEUE, expect=1)
        assert ids(got) == [f"{CLUSTER}:2:0:queued"]
        (ssconf / "ssconf_master_node").write_text("node2.ganeti.test\n")  # and away again
        time.sleep(0.4)
        write_job(queue_dir, 2, fresh_sample(sample_versions(2)[-1]))
        time.sleep(0.5)
        assert amqp_bus.queue_depth(topology.EVENTS_QUEUE) == 0


def test_heartbeats(tmp_path, queue_dir, amqp_url, amqp_bus):
    amqp_bus._chan.queue_declare("eventd-test-heartbeats", exclusive=True)
    amqp_bus._chan.queue_bind("eventd-test-heartbeats", topology.EXCHANGE, routing_key=f"ganeti.{CLUSTER}.heartbeat")
    with Running(make_daemon(tmp_path, queue_dir, amqp_url, heartbeat_interval=0.2)):
        got = collect(amqp_bus, "eventd-test-heartbeats", expect=3, timeout=5)
    bodies = [m.json() for m in got]
    assert len(bodies) == 3 and len({b["id"] for b in bodies}) == 3
    assert all(b["type"] == "heartbeat" and b["is_master"] and b["host"] == "node1.ganeti.test" for b in bodies)


def test_hook_reports_in_the_spool_are_drained(tmp_path, queue_dir, amqp_url, amqp_bus):
    daemon = make_daemon(tmp_path, queue_dir, amqp_url)
    with Running(daemon):
        Spool(daemon.publisher.spool.directory, source="hook").put(f"ganeti.{CLUSTER}.hook", {"id": "h1", "type": "ganeti-hook"})
        got = collect(amqp_bus, topology.EVENTS_QUEUE, expect=1)
    assert ids(got) == ["h1"] and got[0].routing_key == f"ganeti.{CLUSTER}.hook"


def test_garbage_job_file_is_skipped_and_the_next_rewrite_published(tmp_path, queue_dir, amqp_url, amqp_bus):
    daemon = make_daemon(tmp_path, queue_dir, amqp_url)
    with Running(daemon):
        (queue_dir / "job-2").write_bytes(b'{"id": 2, "ops": [{"inp')  # written in place, truncated
        time.sleep(0.3)
        write_job(queue_dir, 2, fresh_sample(sample_versions(2)[0]))
        got = collect(amqp_bus, topology.EVENTS_QUEUE, expect=1)
    assert ids(got) == [f"{CLUSTER}:2:0:queued"] and daemon.bad_files == 1
