"""The dispatcher on real RabbitMQ: applied after commit, malformed messages dead-lettered with
a reason, visible in queue-inspect without being consumed, re-published by queue-retry."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from bus import topology
from dispatcher import queue_admin
from dispatcher.handler import handle
from logic.enums import OperState, ServerTask
from logic.models import ClusterHeartbeat, Server
from tests.pipeline.jobevents import CLUSTER, job_messages

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.django_db]

MALFORMED = [
    (b"{not json", "unparseable"),
    (json.dumps(["a", "list"]).encode(), "JSON object"),
    (json.dumps({"type": "ganeti-op-stat", "id": "x", "cluster": CLUSTER}).encode(), "unknown message type"),
    (json.dumps({"type": "ganeti-op-status", "id": "y", "cluster": CLUSTER, "event_time": [1, 0]}).encode(), "job_id"),
]


def publish(bus, messages: list[dict]) -> None:
    for m in messages:
        bus.publish(
            topology.routing_key(m["cluster"], "op" if m["type"] == "ganeti-op-status" else m["type"]), m, message_id=m["id"]
        )


def eventually(read, *, want: int = len(MALFORMED), seconds: float = 5.0) -> int:
    """``read()`` once it answers ``want``, or its last answer after ``seconds``."""
    deadline = time.monotonic() + seconds
    while (value := read()) != want and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def drain(bus, expected: int) -> list:
    """Consume with the real handler until ``expected`` messages were settled."""
    seen = []

    def counting(message):
        seen.append(message.message_id)
        return handle(message)

    bus.consume(topology.EVENTS_QUEUE, counting, prefetch=10, stop=lambda: len(seen) >= expected)
    return seen


@pytest.fixture
def bus_settings(settings, amqp_url):
    settings.CYCLADES = {**settings.CYCLADES, "BUS_URL": amqp_url}
    return settings


def test_valid_events_are_applied_and_malformed_ones_dead_lettered(amqp_bus, make_server, bus_settings, capsys):
    server = make_server(task=ServerTask.BUILD, task_job=2)
    events = job_messages(2, instance=server.ganeti_name) + job_messages(3, instance=server.ganeti_name)
    beat = {
        "type": "heartbeat",
        "id": f"{CLUSTER}:heartbeat:node1:1",
        "cluster": CLUSTER,
        "host": "node1.ganeti.test",
        "is_master": True,
        "event_time": [1795211600, 0],
        "spool_depth": 0,
        "published": 9,
    }
    publish(amqp_bus, events[:3])
    for i, (body, _) in enumerate(MALFORMED):
        amqp_bus.publish(topology.routing_key(CLUSTER, "op"), body, message_id=f"bad-{i}")
    publish(amqp_bus, events[3:] + [beat])

    drain(amqp_bus, len(events) + len(MALFORMED) + 1)

    s = Server.objects.get(pk=server.pk)
    assert (s.operstate, s.task) == (OperState.STOPPED, None)
    assert ClusterHeartbeat.objects.get(cluster=CLUSTER).host == "node1.ganeti.test"
    assert amqp_bus.queue_depth(topology.EVENTS_QUEUE) == 0

    # inspecting shows every dead letter with its reason and leaves them in place
    for _ in range(2):
        letters = queue_admin.peek_dead_letters(amqp_bus, limit=100)
        assert [d.message_id for d in letters] == [f"bad-{i}" for i in range(len(MALFORMED))]
        for letter, (_, reason) in zip(letters, MALFORMED, strict=True):
            assert reason in letter.reason
            assert letter.routing_key == topology.routing_key(CLUSTER, "op")
    # put back with basic.nack(requeue): RabbitMQ requeues through another process than the one
    # answering queue.declare, so the count catches up a moment later
    assert eventually(lambda: amqp_bus.queue_depth(topology.DEAD_QUEUE)) == len(MALFORMED)

    call_command("queue-inspect", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["queues"] == {topology.EVENTS_QUEUE: 0, topology.DEAD_QUEUE: len(MALFORMED)}
    assert [d["reason"] for d in report["dead_letters"]][0].startswith("unparseable message")
    assert (report["heartbeats"][0]["cluster"], report["heartbeats"][0]["alive"]) == (CLUSTER, True)
    ClusterHeartbeat.objects.update(received_at=timezone.now() - timedelta(hours=1))
    call_command("queue-inspect", "--json")
    assert json.loads(capsys.readouterr().out)["heartbeats"][0]["alive"] is False
    call_command("queue-inspect")
    table = capsys.readouterr().out
    assert "unknown message type" in table and "cyclades.dead" in table

    # retry one by id, then the rest: back on the events queue, dead again when consumed, counted
    call_command("queue-retry", "--id", "bad-2")
    assert "1 dead letter(s) re-published" in capsys.readouterr().out
    assert amqp_bus.queue_depth(topology.EVENTS_QUEUE) == 1
    assert amqp_bus.queue_depth(topology.DEAD_QUEUE) == len(MALFORMED) - 1
    call_command("queue-retry")
    assert amqp_bus.queue_depth(topology.EVENTS_QUEUE) == len(MALFORMED)
    assert amqp_bus.queue_depth(topology.DEAD_QUEUE) == 0
    drain(amqp_bus, len(MALFORMED))
    letters = queue_admin.peek_dead_letters(amqp_bus)
    assert sorted((d.message_id, d.retries) for d in letters) == [(f"bad-{i}", 1) for i in range(len(MALFORMED))]


def test_a_database_failure_requeues_instead_of_acking(amqp_bus, make_server, monkeypatch):
    server = make_server(task=ServerTask.BUILD, task_job=2)
    success = job_messages(2, instance=server.ganeti_name)[-1]
    publish(amqp_bus, [success])
    from django.db import OperationalError

    import dispatcher.handler as handler_mod

    calls = []

    def flaky(body, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(body, **kw)

    real = handler_mod.apply_event
    monkeypatch.setattr(handler_mod, "apply_event", flaky)
    drain(amqp_bus, 2)  # the failed delivery and its redelivery
    assert len(calls) == 2
    assert Server.objects.get(pk=server.pk).operstate == OperState.STARTED
    assert amqp_bus.queue_depth(topology.DEAD_QUEUE) == 0
    assert amqp_bus.queue_depth(topology.EVENTS_QUEUE) == 0
