"""kill -9 of a dispatcher process in the middle of a stream of thousands of events, then a restart:
the final DB equals applying every event once (nothing lost, nothing applied wrongly twice)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from bus import topology
from logic.enums import ServerTask
from logic.events import apply_event
from logic.models import ServerAction
from tests.pipeline.jobevents import job_messages
from tests.pipeline.test_order_independence import snapshot

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DISPATCHER = Path(sys.executable).parent / "cyclades-dispatcher"
SERVERS = 120  # x 20 (or 16) events each: > 2,000 events


def database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgresql://{db['USER'] or 'root'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_dispatcher(amqp_url: str, log_path: Path) -> subprocess.Popen:
    env = {
        "PATH": os.environ["PATH"],
        "CYCLADES_SECRET_KEY": "x" * 40,
        "CYCLADES_DATA_DIR": str(log_path.parent),
        "CYCLADES_DATABASE_URL": database_url(),
        "CYCLADES_BUS_URL": amqp_url,
        "CYCLADES_GANETI_PREFIX": settings.CYCLADES["GANETI_PREFIX"],
        "CYCLADES_LOG_FORMAT": "text",
        "CYCLADES_LOG_LEVEL": "WARNING",
    }
    log = open(log_path, "a")  # noqa: SIM115 - the child holds it
    return subprocess.Popen([str(DISPATCHER), "--prefetch", "50"], env=env, stdout=log, stderr=log)


def stream_for(servers) -> list[list[dict]]:
    """Per server: create, shutdown, startup, reboot (+ remove for every other server), job ids unique."""
    streams = []
    for i, server in enumerate(servers):
        jobs = (2, 3, 4, 5, 6) if i % 2 == 0 else (2, 3, 4, 5)
        msgs = []
        for job in jobs:
            msgs.extend(job_messages(job, instance=server.ganeti_name, job_id=1000 * (i + 1) + job))
        streams.append(msgs)
    return streams


def interleave(streams: list[list[dict]]) -> list[dict]:
    out, longest = [], max(len(s) for s in streams)
    for k in range(longest):
        out.extend(s[k] for s in streams if k < len(s))
    return out


def test_kill_9_mid_stream_then_restart_equals_applying_each_event_once(make_server, amqp_bus, amqp_url, tmp_path):
    crashed = [make_server(task=ServerTask.BUILD, task_job=1000 * (i + 1) + 2) for i in range(SERVERS)]
    reference = [make_server(task=ServerTask.BUILD, task_job=None) for _ in range(SERVERS)]
    for i, server in enumerate(reference):  # the same intent as the API would have written
        server.task_job_id = 1000 * (i + 1) + 2
        server.save(update_fields=["task_job_id"])
        ServerAction.objects.create(
            server=server, action="create", request_id="r", user_id="u", project_id="p", job_id=server.task_job_id
        )

    stream = interleave(stream_for(crashed))
    assert len(stream) >= 2000
    for m in stream:
        amqp_bus.publish(topology.routing_key(m["cluster"], "op"), m, message_id=m["id"])

    log_path = tmp_path / "dispatcher.log"
    proc = start_dispatcher(amqp_url, log_path)
    try:
        deadline = time.monotonic() + 120
        while amqp_bus.queue_depth(topology.EVENTS_QUEUE) > len(stream) * 0.6:
            assert proc.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "the dispatcher made no progress"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # mid-stream, with messages in flight (prefetch 50)
        proc.wait(timeout=10)
        left = amqp_bus.queue_depth(topology.EVENTS_QUEUE)
        assert 0 < left < len(stream), f"killed too late or too early: {left} of {len(stream)} left"

        proc = start_dispatcher(amqp_url, log_path)
        deadline = time.monotonic() + 180
        while amqp_bus.queue_depth(topology.EVENTS_QUEUE) > 0 or not _all_settled(crashed):
            assert proc.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "the restarted dispatcher did not finish"
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    assert proc.returncode == 0, log_path.read_text()[-3000:]
    assert amqp_bus.queue_depth(topology.DEAD_QUEUE) == 0

    for i, server in enumerate(reference):
        for m in stream_for([server] * (i + 1))[i]:  # the same events, renamed, each applied once in order
            apply_event(m)
    for a, b in zip(crashed, reference, strict=True):
        sa, sb = snapshot(a), snapshot(b)
        assert sa == sb, f"server {a.pk} (dispatched, killed, restarted) != reference {b.pk}"


def _all_settled(servers) -> bool:
    """Every server received its last event (the stream ends with a finished job for each)."""
    from logic.models import Server

    return (
        not Server.objects.filter(pk__in=[s.pk for s in servers], backend_jobstatus__in=["queued", "waiting", "running"]).exists()
        and not Server.objects.filter(pk__in=[s.pk for s in servers], backend_jobstatus__isnull=True).exists()
    )
