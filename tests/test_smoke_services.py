"""Proof that each real service is really used through the project's own layers."""

from __future__ import annotations

import psycopg2
import pytest
from django.conf import settings
from django.db import connection, transaction

from bus import topology
from logic.models import Domain


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_transaction_is_invisible_to_another_connection_until_commit():
    params = connection.get_connection_params()
    other = psycopg2.connect(**{k: v for k, v in params.items() if k in {"dbname", "user", "host", "port", "password"}})
    other.autocommit = True

    def seen_by_other() -> bool:
        with other.cursor() as cur:
            cur.execute("SELECT count(*) FROM logic_domain WHERE id = %s", ["smoke"])
            return cur.fetchone()[0] == 1

    try:
        with transaction.atomic():
            Domain.objects.create(id="smoke", name="Smoke")
            assert Domain.objects.filter(id="smoke").exists()  # our transaction sees it
            assert not seen_by_other()  # the other connection does not, yet
        assert seen_by_other()
        assert connection.vendor == "postgresql"
    finally:
        other.close()


@pytest.mark.rabbitmq
def test_rabbitmq_publish_and_consume_with_manual_ack(amqp_url):
    import bus

    publisher = bus.connect(amqp_url)
    publisher.declare()
    publisher.purge(topology.EVENTS_QUEUE)
    publisher.publish(topology.routing_key("smoke", "op"), {"hello": "world"}, message_id="m-1")

    consumer = bus.connect(amqp_url)
    first = consumer.get(topology.EVENTS_QUEUE)
    assert first is not None and first.json() == {"hello": "world"} and not first.redelivered
    consumer.close()  # not acked: the broker must deliver it again

    consumer = bus.connect(amqp_url)
    again = consumer.get(topology.EVENTS_QUEUE)
    assert again is not None and again.message_id == "m-1" and again.redelivered
    consumer.ack(again)
    consumer.close()

    check = bus.connect(amqp_url)
    assert check.get(topology.EVENTS_QUEUE) is None
    assert check.queue_depth(topology.EVENTS_QUEUE) == 0
    check.close()
    publisher.close()


@pytest.mark.rabbitmq
def test_rabbitmq_rejected_message_lands_in_dead_letter_queue_with_reason(amqp_bus):
    from bus import Reject

    amqp_bus.publish(topology.routing_key("smoke", "op"), b"not json", message_id="bad-1")

    def handler(message):
        raise Reject("cannot parse")

    seen = []
    amqp_bus.consume(topology.EVENTS_QUEUE, lambda m: (seen.append(m), handler(m)), stop=lambda: bool(seen))
    dead = amqp_bus.get(topology.DEAD_QUEUE)
    assert dead is not None and dead.body == b"not json"
    assert dead.headers[topology.REASON_HEADER] == "cannot parse"
    amqp_bus.ack(dead)
    assert amqp_bus.queue_depth(topology.EVENTS_QUEUE) == 0


@pytest.mark.ganeti
def test_ganeti_rapi_info_through_settings(sandbox_backend, ganeti_sandbox):
    """/2/info read through the project's RapiClient, built from a Backend row and the RAPI_* settings."""
    from logic.backends import client_for

    with client_for(sandbox_backend) as client:
        assert client.timeout == settings.CYCLADES["RAPI_TIMEOUT"]
        info = client.get_info()
    assert info["name"] == ganeti_sandbox["GANETI_RAPI_NAME"]
    assert "fake" in info["enabled_hypervisors"]
