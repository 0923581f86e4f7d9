"""Fixtures that give tests the real services: PostgreSQL, RabbitMQ, the Ganeti sandbox."""

from __future__ import annotations

import os
import uuid

import pytest

from tests import services

# Shared fixtures of other areas: identity gives live_identity / identity_accounts;
# ganeti gives rapi, sandbox_backend, ganeti_reset, wait_job, ganeti_prefix;
# loop gives core_loop (API + eventd + dispatcher on the sandbox) and loop_client.
pytest_plugins = [
    "tests.fixtures_clients",
    "tests.fixtures_identity",
    "tests.fixtures_ganeti",
    "tests.fixtures_loop",
    "tests.clock_ahead",
]


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres"):
        from django.conf import settings

        if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
            services.missing("PostgreSQL", services.postgres_problem() or "tests are running on SQLite")
    if item.get_closest_marker("rabbitmq") and (problem := services.rabbitmq_problem()):
        services.missing("RabbitMQ", problem)
    if item.get_closest_marker("ganeti") and (problem := services.ganeti_problem()):
        services.missing("Ganeti sandbox", problem)
    if item.get_closest_marker("ceph") and (problem := services.ceph_problem()):
        services.missing("Ceph sandbox", problem)


@pytest.fixture(scope="session")
def amqp_vhost() -> str:
    """A RabbitMQ vhost of this test session: created at first use, deleted at the end."""
    if problem := services.rabbitmq_problem():
        services.missing("RabbitMQ", problem)
    vhost = f"cyclades-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    user = services.AMQP_CREDENTIALS.split(":", 1)[0]
    services.rabbitmqctl("add_vhost", vhost)
    services.rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
    yield vhost
    services.rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(scope="session")
def amqp_url(amqp_vhost: str) -> str:
    """URL of this session's RabbitMQ vhost."""
    return services.amqp_url(amqp_vhost)


@pytest.fixture
def amqp_bus(amqp_url: str):
    """A connected bus on this session's vhost, topology declared, queues empty."""
    import bus
    from bus import topology

    b = bus.connect(amqp_url)
    b.declare()
    for q in (topology.EVENTS_QUEUE, topology.DEAD_QUEUE):
        b.purge(q)
    yield b
    b.close()


@pytest.fixture(scope="session")
def ganeti_sandbox() -> dict[str, str]:
    """The real Ganeti sandbox's settings (``/run/ganeti-sandbox/rapi.env``)."""
    if problem := services.ganeti_problem():
        services.missing("Ganeti sandbox", problem)
    return services.ganeti_env()
