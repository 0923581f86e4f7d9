"""cyclades-manage reconcile-quotas: finds counters that do not match what exists, and repairs them."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from logic import quotas, server_quotas
from logic.enums import CommissionState, OperState, QuotaResource, ServerTask
from logic.models import Commission, QuotaHolding, Server
from tests.factories import ServerFactory
from tests.quotas.flow import built, figures

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

R = QuotaResource


def run(*args) -> tuple[int, list[dict]]:
    out, err = StringIO(), StringIO()
    try:
        call_command("reconcile-quotas", *args, "--json", stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, json.loads(out.getvalue())


@pytest.fixture
def two_servers(member, backend, small_flavor):
    servers = [
        ServerFactory(user=member.user, project=member.project, backend=backend, flavor=small_flavor, task=ServerTask.BUILD)
        for _ in range(2)
    ]
    for s in servers:
        built(s)
    return servers


def test_a_counter_corrupted_on_purpose_is_found_and_fixed(member, two_servers):
    good = figures(member.project)
    QuotaHolding.objects.filter(project=member.project, user__isnull=True, resource=R.SERVERS).update(committed=7)
    QuotaHolding.objects.filter(project=member.project, user=member.user, resource=R.RAM).update(pending_up=3)

    status, rows = run("--project", member.project.name)
    assert status == 1
    assert {(r["user"], r["resource"], r["what"], r["recorded"], r["expected"]) for r in rows} == {
        ("(project)", R.SERVERS, "committed", 7, 2),
        (member.user_id, R.RAM, "pending_up", 3, 0),
    }
    assert figures(member.project)[R.SERVERS] == (7, 0, 0)  # a report changes nothing

    status, rows = run("--project", member.project.name, "--fix")
    assert status == 0 and len(rows) == 2
    assert figures(member.project) == good
    assert run("--project", member.project.name) == (0, [])


def test_a_server_changed_behind_the_pipelines_back_is_charged_as_it_is(member, two_servers):
    stopped = two_servers[0]
    Server.objects.filter(pk=stopped.pk).update(operstate=OperState.STOPPED)  # not through an event
    status, rows = run()
    assert status == 1
    assert {(r["what"], r["resource"], r["recorded"], r["expected"]) for r in rows} == {
        (f"server {stopped.pk}", R.CPU, 1, 0),
        (f"server {stopped.pk}", R.RAM, 512, 0),
    }
    run("--fix")
    assert figures(member.project)[R.CPU] == (1, 0, 0)
    assert figures(member.project)[R.SERVERS] == (2, 0, 0)
    assert Commission.objects.filter(server=stopped, forced=True, reason__contains="reconcile").count() == 1
    assert run() == (0, [])


def test_a_pending_charge_whose_event_was_lost_is_released(member, two_servers):
    server = two_servers[0]
    with transaction.atomic():
        lost = server_quotas.charge_stop(server)  # the job ran, its event never came, the task was cleared
    Commission.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(hours=2))
    Server.objects.filter(pk=server.pk).update(operstate=OperState.STOPPED, task=None)

    status, rows = run()
    assert status == 1
    assert any(r["what"].startswith(f"commission {lost.pk}") for r in rows)
    run("--fix")
    assert Commission.objects.get(pk=lost.pk).state == CommissionState.RELEASED
    assert figures(member.project)[R.CPU] == (1, 0, 0)  # only the running server
    assert run() == (0, [])


def test_a_recent_pending_charge_is_left_alone(member, two_servers):
    with transaction.atomic():
        server_quotas.charge_stop(two_servers[0])
    assert run() == (0, [])
    assert quotas.usage(member.project)[R.CPU].pending_down == 1
