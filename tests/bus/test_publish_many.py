"""Batched publishing: everything arrives, in order; an unroutable message fails the batch."""

from __future__ import annotations

import pytest

import bus
from bus import topology


def _drain(b, queue):
    out = []
    while (m := b.get(queue)) is not None:
        out.append(m)
        b.ack(m)
    return out


def _check_batch(b):
    items = [(topology.routing_key("c1", "op"), {"n": i}, f"id-{i}") for i in range(250)]
    b.publish_many(items)
    got = _drain(b, topology.EVENTS_QUEUE)
    assert [m.json()["n"] for m in got] == list(range(250))
    assert [m.message_id for m in got] == [f"id-{i}" for i in range(250)]


@pytest.mark.rabbitmq
def test_amqp_batch_arrives_complete_and_in_order(amqp_bus):
    _check_batch(amqp_bus)


@pytest.mark.rabbitmq
def test_amqp_batch_with_an_unroutable_message_raises(amqp_bus):
    with pytest.raises(bus.BusError, match="unroutable"):
        amqp_bus.publish_many([("elsewhere.a", {"a": 1}, "u1"), ("elsewhere.b", {"b": 2}, "u2")])
    # the channel stays usable
    _check_batch(amqp_bus)


def test_memory_batch_arrives_complete_and_in_order():
    b = bus.connect("memory://batch-test")
    b.purge(topology.EVENTS_QUEUE)
    _check_batch(b)
    b.close()
