"""``/metrics`` scraped and parsed with prometheus_client's own parser (real PostgreSQL and RabbitMQ)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from bus import Message, topology
from dispatcher.batch import handle_batch
from logic.enums import OpCode, ServerTask
from logic.models import ClusterHeartbeat
from tests.admin.events import CLUSTER, dispatch, op_event
from tests.factories import BackendFactory, ServerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def scrape(client) -> dict[str, list]:
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/plain")
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(resp.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def value(samples: dict, name: str, **labels) -> float:
    found = [s.value for s in samples.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items())]
    return sum(found)


def test_event_lag_and_batches_move_when_events_flow(client):
    backend = BackendFactory(name=CLUSTER)
    servers = [ServerFactory(backend=backend, task=ServerTask.BUILD, task_job_id=10 + i) for i in range(3)]
    before = scrape(client)
    now = timezone.now()
    dispatch(
        *(op_event(s.ganeti_name, OpCode.INSTANCE_CREATE, 10 + i, now - timedelta(seconds=2)) for i, s in enumerate(servers))
    )
    after = scrape(client)
    count = "cyclades_event_lag_seconds_count"
    assert value(after, count, type="ganeti-op-status") - value(before, count, type="ganeti-op-status") == 3
    lag = value(after, "cyclades_event_lag_seconds_sum") - value(before, "cyclades_event_lag_seconds_sum")
    assert 3 * 2 <= lag < 3 * 60  # about two seconds each
    # the lag is in the buckets from 2.5 s up, not below 1 s
    le1 = value(after, "cyclades_event_lag_seconds_bucket", le="1.0") - value(
        before, "cyclades_event_lag_seconds_bucket", le="1.0"
    )
    le5 = value(after, "cyclades_event_lag_seconds_bucket", le="5.0") - value(
        before, "cyclades_event_lag_seconds_bucket", le="5.0"
    )
    assert (le1, le5) == (0, 3)
    assert value(after, "cyclades_dispatcher_batch_size_count") - value(before, "cyclades_dispatcher_batch_size_count") == 1
    assert value(after, "cyclades_dispatcher_batch_size_sum") - value(before, "cyclades_dispatcher_batch_size_sum") == 3


def test_dead_letters_are_counted(client):
    before = scrape(client)
    broken = Message(json.dumps({"type": "nonsense"}).encode(), "ganeti.c.op", topology.EVENTS_QUEUE, 1, False, "x")
    [settlement] = handle_batch([broken])
    assert settlement is not None
    after = scrape(client)
    assert value(after, "cyclades_dispatcher_dead_letters_total") - value(before, "cyclades_dispatcher_dead_letters_total") == 1
    errors = "cyclades_dispatcher_batch_errors_total"
    assert value(after, errors, outcome="dead-lettered") - value(before, errors, outcome="dead-lettered") == 1


def test_api_latency_per_endpoint(client, member):
    member.get("/compute/v2.1/flavors", HTTP_X_OPENSTACK_NOVA_API_VERSION="2.1")
    member.get("/admin/v1/servers")
    samples = scrape(client)
    endpoints = {s.labels["endpoint"] for s in samples["cyclades_api_request_duration_seconds_count"]}
    assert any("flavors" in e for e in endpoints), endpoints
    assert value(samples, "cyclades_api_request_duration_seconds_count", method="GET", status="4xx") >= 1  # the member's 403
    assert all(e != "/admin/v1/servers" for e in endpoints)  # URL patterns, never raw paths


def test_backend_capacity_server_counts_and_eventd_liveness(client):
    backend = BackendFactory(name="c1.example.org", mem_total=4096, mem_free=1024, cpu_total=8, cpu_free=6, drained=True)
    ServerFactory(backend=backend, operstate="STARTED")
    ServerFactory(backend=backend, operstate="STARTED")
    ServerFactory(backend=backend, operstate="STOPPED")
    now = timezone.now()
    ClusterHeartbeat.objects.create(cluster="c1.example.org", host="n1", event_time=now, received_at=now, spool_depth=4)
    ClusterHeartbeat.objects.create(cluster="c2.example.org", host="n2", event_time=now, received_at=now - timedelta(hours=1))
    samples = scrape(client)
    assert value(samples, "cyclades_backend_mem_free_mib", backend="c1.example.org") == 1024
    assert value(samples, "cyclades_backend_cpu_total", backend="c1.example.org") == 8
    assert value(samples, "cyclades_backend_usable", backend="c1.example.org") == 0
    assert value(samples, "cyclades_backend_servers", backend="c1.example.org", state="STARTED") == 2
    assert value(samples, "cyclades_backend_servers", backend="c1.example.org", state="STOPPED") == 1
    assert value(samples, "cyclades_eventd_alive", cluster="c1.example.org") == 1
    assert value(samples, "cyclades_eventd_alive", cluster="c2.example.org") == 0
    assert value(samples, "cyclades_eventd_spool_depth", cluster="c1.example.org") == 4
    assert value(samples, "cyclades_eventd_heartbeat_age_seconds", cluster="c2.example.org") >= 3600


@pytest.mark.rabbitmq
def test_queue_depths_from_the_broker(client, amqp_bus, amqp_url, settings):
    settings.CYCLADES = {**settings.CYCLADES, "BUS_URL": amqp_url}
    for i in range(3):
        amqp_bus.publish(f"ganeti.c{i}.op", {"type": "heartbeat", "n": i})
    samples = scrape(client)
    assert value(samples, "cyclades_bus_up") == 1
    assert value(samples, "cyclades_queue_depth", queue=topology.EVENTS_QUEUE) == 3
    settings.CYCLADES = {**settings.CYCLADES, "BUS_URL": "amqp://nobody:wrong@127.0.0.1:1/none"}
    down = scrape(client)
    assert value(down, "cyclades_bus_up") == 0


def test_grafana_dashboard_uses_only_metrics_that_exist(client):
    import re
    from pathlib import Path

    dashboard = json.loads((Path(__file__).parents[2] / "conf/grafana/cyclades-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\bcyclades_[a-z_]+", e)}
    ServerFactory(backend=BackendFactory())
    ClusterHeartbeat.objects.create(cluster="c", host="h", event_time=timezone.now(), received_at=timezone.now())
    from prometheus_client.metrics import MetricWrapperBase

    from cyclades import metrics

    defined = {m._name for m in vars(metrics).values() if isinstance(m, MetricWrapperBase)}
    scraped = set(scrape(client))  # the gauges the collector adds at scrape time
    missing = {m for m in used if m not in scraped and re.sub(r"_(bucket|sum|count|total)$", "", m) not in defined}
    assert not missing, missing
