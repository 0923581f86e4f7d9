"""Batched dispatching: several messages per transaction, acked only after its commit.

The bus side (``Bus.consume_batches``) on the in-process bus and on real
RabbitMQ; the dispatcher side (``dispatcher.batch.handle_batch``) on real
PostgreSQL: a message that breaks the batch is isolated and alone rejected or
requeued, a real deadlock between two transactions is retried, two dispatchers
consuming one queue at once give the state of applying each event once, and any
split of any delivery order into batches gives the in-order state.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import psycopg2
import pytest
from django.conf import settings as django_settings
from django.db import connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

import bus as busmod
from bus import Message, Reject, topology
from dispatcher import batch as batch_mod
from dispatcher.batch import handle_batch
from logic.enums import OperState, ServerTask
from logic.event_messages import parse_event
from logic.events import apply_event, apply_events
from logic.models import Server, ServerAction
from tests.pipeline.jobevents import CLUSTER, SAMPLE_NIC, job_messages, lifecycle
from tests.pipeline.test_dispatcher_crash import interleave, stream_for
from tests.pipeline.test_order_independence import rename, snapshot, stream


# ----------------------------------------------------------------------------- the bus
@pytest.fixture(params=["memory", pytest.param("amqp", marks=pytest.mark.rabbitmq)])
def any_bus(request):
    if request.param == "memory":
        b = busmod.connect(f"memory://batches-{uuid.uuid4().hex}")
        yield b
        b.close()
    else:
        yield request.getfixturevalue("amqp_bus")


def publish_ids(b, ids: list[str]) -> None:
    for mid in ids:
        b.publish(topology.routing_key(CLUSTER, "op"), {"id": mid}, message_id=mid)


def dead_letters(b) -> dict[str, str]:
    out = {}
    while (m := b.get(topology.DEAD_QUEUE)) is not None:
        out[m.message_id] = m.headers[topology.REASON_HEADER]
        b.ack(m)
    return out


def test_consume_batches_settles_each_message_of_a_batch_as_the_handler_says(any_bus):
    ids = [f"m{i}" for i in range(23)]
    publish_ids(any_bus, ids)
    batches: list[list[tuple[str, bool]]] = []
    acked: list[str] = []

    def handler(messages: list[Message]):
        batches.append([(m.message_id, m.redelivered) for m in messages])
        results = []
        for m in messages:
            if m.message_id == "m5":
                results.append(Reject("m5 is broken"))
            elif m.message_id == "m9" and not m.redelivered:
                results.append(RuntimeError("database hiccup"))  # requeued, comes back redelivered
            else:
                results.append(None)
                acked.append(m.message_id)
        return results

    any_bus.consume_batches(
        topology.EVENTS_QUEUE, handler, max_batch=4, max_wait=0.05, prefetch=2, stop=lambda: len(acked) >= len(ids) - 1
    )
    assert all(1 <= len(b) <= 4 for b in batches)
    assert max(len(b) for b in batches) == 4  # the prefetch was raised to the batch size
    delivered = [mid for b in batches for mid, _ in b]
    assert sorted(set(delivered)) == sorted(ids) and delivered.count("m9") == 2
    assert [r for b in batches for mid, r in b if mid == "m9"] == [False, True]
    assert sorted(acked) == sorted(i for i in ids if i != "m5")
    assert any_bus.queue_depth(topology.EVENTS_QUEUE) == 0
    assert dead_letters(any_bus) == {"m5": "m5 is broken"}


def test_a_handler_that_raises_has_its_whole_batch_requeued_and_nothing_acked(any_bus):
    publish_ids(any_bus, ["a", "b", "c"])
    seen: list[list[str]] = []

    def handler(messages):
        seen.append([m.message_id for m in messages])
        raise RuntimeError("the transaction did not commit")

    any_bus.consume_batches(topology.EVENTS_QUEUE, handler, max_batch=10, max_wait=0.2, stop=lambda: bool(seen))
    assert seen == [["a", "b", "c"]]
    got = []
    while (m := any_bus.get(topology.EVENTS_QUEUE)) is not None:
        got.append((m.message_id, m.redelivered))
        any_bus.ack(m)
    assert got == [("a", True), ("b", True), ("c", True)]  # all back, in their order
    assert dead_letters(any_bus) == {}


# ----------------------------------------------------------------------------- the dispatcher
def as_message(body: dict | bytes, tag: int, *, redelivered: bool = False) -> Message:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    mid = body.get("id") if isinstance(body, dict) else f"raw-{tag}"
    return Message(data, topology.routing_key(CLUSTER, "op"), topology.EVENTS_QUEUE, tag, redelivered, mid)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_message_the_database_refuses_is_isolated_and_alone_requeued_then_rejected(make_server, monkeypatch):
    servers = [make_server(task=ServerTask.BUILD, task_job=2) for _ in range(3)]
    good = [m for s in servers for m in job_messages(2, instance=s.ganeti_name)]
    # valid by the contract, refused by the database (backend_opcode is 64 characters at most); about a
    # server of its own, so that no newer event of the batch supersedes it before the batch writes its rows
    other = make_server(task=None)
    refused = dict(job_messages(3, instance=other.ganeti_name)[0], operation="OP_INSTANCE_" + "X" * 80, id="too-long")
    batch = [as_message(m, i) for i, m in enumerate(good)]
    batch.insert(3, as_message(b"{not json", 100))
    batch.insert(5, as_message(refused, 101))
    calls = []
    real = batch_mod.events.apply_events
    monkeypatch.setattr(batch_mod.events, "apply_events", lambda evs: calls.append(len(evs)) or real(evs))

    results = handle_batch(batch)

    assert calls == [len(good) + 1] + [1] * (len(good) + 1)  # tried as one transaction first, then one by one
    by_id = {m.message_id: r for m, r in zip(batch, results, strict=True)}
    assert isinstance(by_id["raw-100"], Reject) and "unparseable" in by_id["raw-100"].reason
    assert type(by_id["too-long"]).__name__ == "DataError"  # first delivery: requeued (not a Reject)
    assert all(by_id[m["id"]] is None for m in good)
    for s in servers:  # the rest committed
        row = Server.objects.get(pk=s.pk)
        assert (row.operstate, row.task, row.backend_opcode) == (OperState.STARTED, None, "OP_INSTANCE_CREATE")

    again = handle_batch([as_message(refused, 102, redelivered=True)])
    assert isinstance(again[0], Reject) and "database refused message too-long" in again[0].reason


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_deadlock_with_another_transaction_is_retried(make_server, caplog):
    """The batch locks servers 1 and 2 in id order; another transaction holds 2, then asks for 1:
    PostgreSQL aborts the batch (it waited first); the retry commits once the other one is done."""
    first, second = make_server(task=None), make_server(task=None)
    msgs = [
        as_message(m, i)
        for i, m in enumerate(
            job_messages(2, instance=first.ganeti_name)[-1:] + job_messages(2, instance=second.ganeti_name)[-1:]
        )
    ]
    db = django_settings.DATABASES["default"]
    other = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"] or "root", host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432
    )
    cur = other.cursor()
    cur.execute("SET deadlock_timeout = '5s'")  # the batch, not this one, must be the victim
    cur.execute(f"SELECT id FROM {Server._meta.db_table} WHERE id = %s FOR UPDATE", [second.pk])
    outcome: dict = {}

    def other_side() -> None:
        time.sleep(0.3)  # the batch is now waiting for row 2
        cur.execute(f"SELECT id FROM {Server._meta.db_table} WHERE id = %s FOR UPDATE", [first.pk])
        outcome["other got row 1"] = True
        time.sleep(0.2)
        other.commit()

    thread = threading.Thread(target=other_side)
    thread.start()
    with connections["default"].cursor() as c:
        c.execute("SET deadlock_timeout = '1s'")
    caplog.set_level("INFO", logger="dispatcher.batch")
    try:
        results = handle_batch(msgs)
    finally:
        thread.join()
        other.close()
    assert results == [None, None]
    assert outcome == {"other got row 1": True}
    assert any("lost a lock race" in r.getMessage() for r in caplog.records)
    assert not any("one by one" in r.getMessage() for r in caplog.records)
    assert {s.operstate for s in Server.objects.filter(pk__in=[first.pk, second.pk])} == {OperState.STARTED}


@pytest.mark.postgres
@pytest.mark.rabbitmq
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_give_the_state_of_applying_each_event_once(make_server, amqp_bus, amqp_url):
    count = 40
    dispatched = [make_server(task=ServerTask.BUILD, task_job=1000 * (i + 1) + 2) for i in range(count)]
    reference = [make_server(task=ServerTask.BUILD, task_job=None) for _ in range(count)]
    for i, server in enumerate(reference):
        server.task_job_id = 1000 * (i + 1) + 2
        server.save(update_fields=["task_job_id"])
        ServerAction.objects.create(
            server=server, action="create", request_id="r", user_id="u", project_id="p", job_id=server.task_job_id
        )
    events = interleave(stream_for(dispatched))
    for m in events:  # every message twice: duplicates across dispatchers too
        for _ in range(2):
            amqp_bus.publish(topology.routing_key(CLUSTER, "op"), m, message_id=m["id"])
    settled = [0, 0]
    lock = threading.Lock()
    errors: list[BaseException] = []

    def dispatcher(k: int) -> None:
        b = busmod.connect(amqp_url)
        try:

            def counting(messages):
                results = handle_batch(messages)
                with lock:
                    settled[k] += sum(r is None for r in results)
                return results

            b.consume_batches(
                topology.EVENTS_QUEUE, counting, max_batch=25, max_wait=0.01, stop=lambda: sum(settled) >= 2 * len(events)
            )
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            b.close()
            connections.close_all()

    threads = [threading.Thread(target=dispatcher, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not errors and not any(t.is_alive() for t in threads)
    assert sum(settled) == 2 * len(events) and min(settled) > 0  # both took part
    assert amqp_bus.queue_depth(topology.EVENTS_QUEUE) == 0
    assert amqp_bus.queue_depth(topology.DEAD_QUEUE) == 0

    for i, server in enumerate(reference):
        for m in stream_for([server] * (i + 1))[i]:
            apply_event(m)
    for a, b in zip(dispatched, reference, strict=True):
        assert snapshot(a) == snapshot(b), f"server {a.pk} (two dispatchers) != reference {b.pk}"


@pytest.mark.postgres
@pytest.mark.django_db
@hsettings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), jobs=st.sampled_from([(2, 3, 4, 5, 6), (9, 10, 19), (2, 3, 4, 5)]))
def test_any_delivery_order_split_into_any_batches_gives_the_in_order_state(make_server, data, jobs):
    in_order = make_server(task=ServerTask.BUILD, task_job=jobs[0])
    batched = [make_server(task=ServerTask.BUILD, task_job=jobs[0]) for _ in range(2)]
    messages = stream(jobs, in_order.ganeti_name)
    for m in messages:
        apply_event(m)
    deliveries = data.draw(st.permutations([m for s in batched for m in rename(messages, s.ganeti_name) * 2]), label="deliveries")
    size = data.draw(st.integers(min_value=1, max_value=len(deliveries)), label="batch size")
    for i in range(0, len(deliveries), size):
        apply_events([parse_event(m) for m in deliveries[i : i + size]])
    expected = snapshot(in_order)
    for s in batched:
        assert snapshot(s) == expected


@pytest.mark.django_db
def test_batches_apply_a_lifecycle_on_either_database(make_server):
    """PostgreSQL (plain-SQL batch path) or SQLite (the all-in-one mode): the same outcome."""
    server = make_server(task=ServerTask.BUILD, task_job=2)
    messages = [as_message(m, i) for i, m in enumerate(lifecycle((2, 3, 4), instance=server.ganeti_name))]
    for start in range(0, len(messages), 5):
        chunk = messages[start : start + 5]
        assert handle_batch(chunk) == [None] * len(chunk)
    row = Server.objects.get(pk=server.pk)
    assert (row.operstate, row.task, row.backend_job_id, row.backend_jobstatus) == (OperState.STARTED, None, 4, "success")
    assert ServerAction.objects.get(server=server, job_id=2).result == "Success"


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_batch_costs_the_same_statements_whatever_its_size(make_server):
    """The rows of a batch are locked and read in one statement and written back in one per set of
    changed fields, their NICs likewise: 2 servers or 20, a batch of their create jobs (reporting
    each one's NIC) costs the same number of statements."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    owner = make_server(task=None)  # one project and user: the quota work is per (project, user)

    def statements(count: int) -> tuple[int, int]:
        servers = [make_server(task=None, user=owner.user, project=owner.project) for _ in range(count)]
        messages = [
            job_messages(2, instance=s.ganeti_name, nics=[dict(SAMPLE_NIC, mac=f"aa:00:00:00:00:{i:02x}")])
            for i, s in enumerate(servers)
        ]
        progress = [parse_event(m) for ms in messages for m in ms[:-1]]
        finished = [parse_event(ms[-1]) for ms in messages]
        with CaptureQueriesContext(connection) as running:
            assert all(o.applied for o in apply_events(progress))
        with CaptureQueriesContext(connection) as ending:
            assert all(o.applied for o in apply_events(finished))
        for i, s in enumerate(servers):
            assert Server.objects.get(pk=s.pk).operstate == OperState.STARTED
            assert [(n.mac, n.ipv4) for n in s.nics.all()] == [(f"aa:00:00:00:00:{i:02x}", SAMPLE_NIC["ip"])]
        return len(running), len(ending)

    few, many = statements(2), statements(20)
    assert few == many
    assert few[0] <= 4  # (savepoint,) lock and read, write, (release)


@pytest.mark.postgres
@pytest.mark.django_db
def test_settling_api_charges_costs_the_same_statements_whatever_the_batch_size(make_server):
    """Creates the API charged (a pending commission bound to each job) end in one batch: the quota
    counters written once, the commissions marked once and the action-log rows finished once, whether
    2 jobs end or 20; the counters then hold exactly what the servers use."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from logic import quotas, server_quotas
    from logic.enums import CommissionState, QuotaResource
    from logic.models import Commission

    owner = make_server(task=None)
    unlimited = dict.fromkeys(server_quotas.SERVER_RESOURCES, -1)
    quotas.set_limits(owner.project, unlimited)
    quotas.set_limits(owner.project, unlimited, user=owner.user)

    def settle(count: int) -> int:
        servers = [make_server(task=ServerTask.BUILD, task_job=2, user=owner.user, project=owner.project) for _ in range(count)]
        with transaction.atomic():
            for s in servers:
                server_quotas.charge_create(s, request_id="req-2")
                server_quotas.bind_job(s, ServerTask.BUILD, 2)
        finished = [parse_event(job_messages(2, instance=s.ganeti_name)[-1]) for s in servers]
        with CaptureQueriesContext(connection) as ending:
            assert all(o.applied for o in apply_events(finished))
        states = set(Commission.objects.filter(server__in=servers).values_list("state", "forced"))
        assert states == {(CommissionState.ACCEPTED, False)}  # accepted, and no true-up was needed
        actions = ServerAction.objects.filter(server__in=servers).values_list("job_id", "result", "message")
        assert sorted(actions) == [(2, "Success", None)] * count and not ServerAction.objects.filter(
            server__in=servers, finish_time=None
        )
        return len(ending)

    few, many = settle(2), settle(20)
    assert few == many
    usage = quotas.usage(owner.project, owner.user)
    assert (usage[QuotaResource.SERVERS].pending_up, usage[QuotaResource.SERVERS].committed) == (0, 22)
    ram = owner.flavor.ram * 22
    assert (usage[QuotaResource.RAM].pending_up, usage[QuotaResource.RAM].committed) == (0, ram)
