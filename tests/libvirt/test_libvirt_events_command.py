"""``cyclades-manage libvirt-events``: the lifecycle publisher as operators run it, on the real bus."""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command

from bus import topology
from dispatcher.handler import handle
from logic.enums import OperState
from logic.models import Server
from tests.factories import FlavorFactory, ServerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.django_db]


def test_an_operator_destroy_is_published_by_the_command_and_applied(lv_backend, test_host, amqp_bus, capsys):
    from logic.drivers.libvirt import jobs

    flavor = FlavorFactory(name="lv.cmd", vcpus=1, ram=128, disk=0, disk_template="diskless")
    server = ServerFactory(backend=lv_backend, flavor=flavor, operstate=OperState.STARTED, task=None)
    jobs.create_server(server, nics=[])
    while (m := amqp_bus.get(topology.EVENTS_QUEUE)) is not None:
        handle(m)
        amqp_bus.ack(m)
    assert Server.objects.get(pk=server.pk).operstate == OperState.STARTED
    # `virsh destroy` while the command listens (libvirt only; the database stays in this thread)
    timer = threading.Timer(0.3, lambda: test_host.lookupByName(server.ganeti_name).destroy())
    timer.start()
    call_command("libvirt-events", "--backend", lv_backend.name, "--once", "1.5")
    timer.join()
    assert "published 1 lifecycle event(s)" in capsys.readouterr().err
    message = amqp_bus.get(topology.EVENTS_QUEUE)
    assert message is not None and message.json()["operation"] == "OP_INSTANCE_SHUTDOWN"
    outcome = handle(message)
    amqp_bus.ack(message)
    assert outcome.applied
    assert Server.objects.get(pk=server.pk).operstate == OperState.STOPPED
