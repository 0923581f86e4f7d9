"""``GET /metrics`` (Prometheus text format) and the middleware that times every API request.

At scrape time a collector adds what lives in the database and the broker (see
:mod:`cyclades.metrics`): queue depths, each backend's capacity and servers by state,
each cluster's eventd heartbeat age and liveness. The endpoint needs no token (a
Prometheus scraper has none): restrict it at the proxy (``conf/nginx-cyclades.conf``).
"""

from __future__ import annotations

import logging
import os
import time

from django.conf import settings
from django.db.models import Count
from django.http import HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from cyclades.metrics import API_LATENCY

log = logging.getLogger(__name__)


class RequestTimingMiddleware:
    """Observes each request's duration under its URL pattern (bounded labels: never the raw path)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        endpoint = (match.route or match.view_name) if match else "unmatched"
        if endpoint != "metrics":
            API_LATENCY.labels(endpoint, request.method, f"{response.status_code // 100}xx").observe(
                time.perf_counter() - started
            )
        return response


class StateCollector:
    """Gauges read from the database and the broker when ``/metrics`` is scraped."""

    def collect(self):
        yield from self._backends()
        yield from self._heartbeats()
        yield from self._queues()

    def _backends(self):
        from logic.models import Backend, Server

        labels = ["backend"]
        capacity = {
            key: GaugeMetricFamily(f"cyclades_backend_{key}", help_text, labels=labels)
            for key, help_text in (
                ("mem_total_mib", "Memory of the backend's usable nodes (MiB, cached by refresh)."),
                ("mem_free_mib", "Memory not committed to instances (MiB)."),
                ("cpu_total", "vCPUs of the usable nodes (vcpu-ratio applied)."),
                ("cpu_free", "vCPUs not allocated."),
                ("disk_total_mib", "Disk of the usable nodes (MiB)."),
                ("disk_free_mib", "Disk free (MiB)."),
                ("usable", "1 when new servers may be placed here (online, not drained)."),
            )
        }
        fields = {
            "mem_total_mib": "mem_total",
            "mem_free_mib": "mem_free",
            "cpu_total": "cpu_total",
            "cpu_free": "cpu_free",
            "disk_total_mib": "disk_total",
            "disk_free_mib": "disk_free",
        }
        for backend in Backend.objects.order_by("name"):
            for key, attr in fields.items():
                capacity[key].add_metric([backend.name], getattr(backend, attr))
            capacity["usable"].add_metric([backend.name], 1 if backend.usable else 0)
        yield from capacity.values()
        servers = GaugeMetricFamily(
            "cyclades_backend_servers", "Servers (not deleted) per backend and state.", labels=["backend", "state"]
        )
        rows = Server.objects.filter(deleted=False).values("backend__name", "operstate").annotate(n=Count("id"))
        for row in rows.order_by("backend__name", "operstate"):
            servers.add_metric([row["backend__name"] or "", row["operstate"]], row["n"])
        yield servers

    def _heartbeats(self):
        from logic.models import ClusterHeartbeat

        stale_after = settings.CYCLADES["HEARTBEAT_STALE_AFTER"]
        now = timezone.now()
        age = GaugeMetricFamily(
            "cyclades_eventd_heartbeat_age_seconds", "Seconds since the cluster's eventd last beat.", labels=["cluster"]
        )
        alive = GaugeMetricFamily(
            "cyclades_eventd_alive", "1 when the cluster's eventd beat within HEARTBEAT_STALE_AFTER.", labels=["cluster"]
        )
        spool = GaugeMetricFamily(
            "cyclades_eventd_spool_depth", "Messages waiting in eventd's spool (broker unreachable).", labels=["cluster"]
        )
        for beat in ClusterHeartbeat.objects.order_by("cluster"):
            seconds = max(0.0, (now - beat.received_at).total_seconds())
            age.add_metric([beat.cluster], seconds)
            alive.add_metric([beat.cluster], 1 if seconds <= stale_after else 0)
            spool.add_metric([beat.cluster], beat.spool_depth)
        yield from (age, alive, spool)

    def _queues(self):
        import bus as busmod
        from dispatcher import queue_admin

        up = GaugeMetricFamily("cyclades_bus_up", "1 when the message broker answered this scrape.")
        depth = GaugeMetricFamily("cyclades_queue_depth", "Messages waiting in each event queue.", labels=["queue"])
        try:
            bus = busmod.connect(settings.CYCLADES["BUS_URL"])
            try:
                for queue, n in queue_admin.queue_depths(bus).items():
                    depth.add_metric([queue], n)
            finally:
                bus.close()
            up.add_metric([], 1)
        except Exception as exc:  # a scrape must answer whatever the broker does
            log.warning("metrics: queue depths unavailable: %s", exc)
            up.add_metric([], 0)
        yield from (up, depth)


_STATE = StateCollector()


def registry() -> CollectorRegistry:
    """The process's registry, or the aggregate of every process's samples in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)
        return combined
    return REGISTRY


def metrics_view(request) -> HttpResponse:
    """Prometheus exposition: the process (or multiprocess) samples plus the state gauges."""
    state = CollectorRegistry()
    state.register(_STATE)
    body = generate_latest(registry()) + generate_latest(state)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
