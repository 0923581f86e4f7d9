"""The real dispatcher handler on real RabbitMQ: a dispatcher killed after its commit and
before its ack gets the message redelivered, and the redelivery counts nothing twice."""

from __future__ import annotations

import pytest

import bus
from bus import topology
from dispatcher.handler import handle
from logic import server_quotas
from logic.enums import CommissionState, OpCode, QuotaResource, ServerTask
from logic.models import Commission
from tests.quotas.flow import CLUSTER, act, figures, op_event

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.django_db(transaction=True)]

R = QuotaResource


def publish(amqp_url: str, event: dict) -> None:
    publisher = bus.connect(amqp_url)
    publisher.declare()
    publisher.purge(topology.EVENTS_QUEUE)
    publisher.publish(topology.routing_key(CLUSTER, "op"), event, message_id=event["id"])
    publisher.close()


def crash_after_commit(amqp_url: str) -> None:
    """A dispatcher that takes the message, applies and commits it, and dies before acking."""
    dispatcher = bus.connect(amqp_url)
    message = dispatcher.get(topology.EVENTS_QUEUE)
    assert message is not None and not message.redelivered
    handle(message)  # commits
    dispatcher.close()  # killed: no ack


def next_dispatcher(amqp_url: str) -> None:
    """The next dispatcher gets the redelivered message and runs the normal consume path."""
    dispatcher = bus.connect(amqp_url)
    seen = []

    def handler(message):
        seen.append(message)
        handle(message)

    dispatcher.consume(topology.EVENTS_QUEUE, handler, prefetch=1, stop=lambda: bool(seen))
    assert len(seen) == 1 and seen[0].redelivered
    assert dispatcher.queue_depth(topology.EVENTS_QUEUE) == 0
    dispatcher.close()


@pytest.mark.parametrize("status", ["success", "error"])
def test_redelivery_after_a_crash_between_commit_and_ack_counts_once(amqp_url, server, member, status):
    job = act(server, server_quotas.charge_create, ServerTask.BUILD)
    publish(amqp_url, op_event(server, OpCode.INSTANCE_CREATE, status, job))

    crash_after_commit(amqp_url)
    after_first = figures(member.project)
    if status == "success":
        assert after_first[R.SERVERS] == (1, 0, 0) and after_first[R.CPU] == (1, 0, 0)
    else:
        assert after_first == {}  # the failed job released its charge

    next_dispatcher(amqp_url)
    assert figures(member.project) == after_first
    assert figures(member.project, member.user) == after_first
    expected = CommissionState.ACCEPTED if status == "success" else CommissionState.RELEASED
    assert list(Commission.objects.filter(server=server).values_list("state", flat=True)) == [expected]
