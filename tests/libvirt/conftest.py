"""Fixtures of the libvirt backend tests: libvirt's real test driver (``test:///default``, no daemon),
this session's RabbitMQ vhost, and the real dispatcher handler applying what is published."""

from __future__ import annotations

import os

import pytest

from bus import topology
from dispatcher.handler import handle
from logic.drivers.libvirt import connections, messages
from logic.drivers.libvirt.lifecycle import LifecycleListener

URI = "test:///default"


@pytest.fixture
def bus_settings(settings, amqp_url):
    settings.CYCLADES = {**settings.CYCLADES, "BUS_URL": amqp_url}
    return settings


@pytest.fixture
def test_host():
    """A fresh, empty test:///default host (its state lives in the process's connection; the
    driver's sample domain "test", which claims more memory than the host has, is removed)."""
    connections.forget(URI)
    conn = connections.connection(URI)
    for dom in conn.listAllDomains():
        if dom.isActive():
            dom.destroy()
        dom.undefine()
    yield conn
    connections.forget(URI)


@pytest.fixture
def lv_backend(db, test_host, bus_settings):
    from logic.drivers.libvirt.backends import add_libvirt_backend

    return add_libvirt_backend(uri=URI, name=f"libvirt-{os.getpid()}.test")


@pytest.fixture
def listener(lv_backend, amqp_bus):
    """The lifecycle listener of the backend, publishing on this session's bus."""
    lst = LifecycleListener(lv_backend.name, URI, publish=lambda m: messages.publish(m, bus=amqp_bus))
    lst.start()
    yield lst
    lst.stop()


@pytest.fixture
def dispatch_all(amqp_bus, listener):
    """Publish what the host reported, then apply every queued message with the dispatcher's handler."""

    def run(wait: float = 0.3) -> list:
        listener.publish_pending(timeout=wait)
        outcomes = []
        while (message := amqp_bus.get(topology.EVENTS_QUEUE)) is not None:
            outcomes.append(handle(message))
            amqp_bus.ack(message)
        assert amqp_bus.queue_depth(topology.DEAD_QUEUE) == 0, "a message was dead-lettered"
        return outcomes

    return run
