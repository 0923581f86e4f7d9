"""Server actions charge on intent; the end of their Ganeti job (applied by the one
state-transition function, logic.events) accepts or releases; jobs run outside the
API are counted too; redelivered events count nothing twice."""

from __future__ import annotations

import pytest
from django.db import transaction

from logic import quotas, server_quotas
from logic.enums import CommissionState, OpCode, OperState, QuotaResource, ServerTask
from logic.events import apply_event
from logic.models import Commission, Server
from tests.factories import FlavorFactory, ServerFactory
from tests.quotas.flow import JOBS, act, built, figures, finish, op_event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

R = QuotaResource


RUNNING_SMALL = {
    R.SERVERS: (1, 0, 0),
    R.TOTAL_CPU: (1, 0, 0),
    R.CPU: (1, 0, 0),
    R.TOTAL_RAM: (512, 0, 0),
    R.RAM: (512, 0, 0),
    R.DISK: (5, 0, 0),
}


def test_create_is_pending_until_the_job_succeeds(server, member):
    job = act(server, server_quotas.charge_create, ServerTask.BUILD)
    assert figures(member.project)[R.SERVERS] == (0, 1, 0)
    assert quotas.usage(member.project)[R.SERVERS].in_use == 1
    finish(server, OpCode.INSTANCE_CREATE, "success", job)
    assert figures(member.project) == RUNNING_SMALL
    assert figures(member.project, member.user) == RUNNING_SMALL


@pytest.mark.parametrize("status", ["error", "canceled"])
def test_a_failed_or_canceled_create_releases_its_charge(server, member, status):
    job = act(server, server_quotas.charge_create, ServerTask.BUILD)
    finish(server, OpCode.INSTANCE_CREATE, status, job)
    assert server.operstate == OperState.ERROR
    assert figures(member.project) == {}
    assert Commission.objects.get(server=server).state == CommissionState.RELEASED
    # deleting the failed server frees nothing more
    job = act(server, server_quotas.charge_delete, ServerTask.DESTROY)
    finish(server, OpCode.INSTANCE_REMOVE, "success", job)
    assert figures(member.project) == {}


def test_redelivered_events_count_nothing_twice(server, member):
    job = next(JOBS)
    with transaction.atomic():
        server_quotas.charge_create(server)
    server_quotas.bind_job(server, ServerTask.BUILD, job)
    event = op_event(server, OpCode.INSTANCE_CREATE, "success", job)
    for _ in range(3):
        apply_event(event)
    assert figures(member.project) == RUNNING_SMALL
    assert Commission.objects.filter(server=server).count() == 1


def test_job_id_not_recorded_yet_still_settles_by_action(server, member):
    """The job can end before the API wrote its id: the pending commission of that action is settled."""
    with transaction.atomic():
        server_quotas.charge_create(server)
    apply_event(op_event(server, OpCode.INSTANCE_CREATE, "success", next(JOBS)))
    assert figures(member.project) == RUNNING_SMALL


def test_stop_and_start_move_only_the_running_counters(server, member):
    built(server)
    job = act(server, server_quotas.charge_stop, ServerTask.STOP)
    assert figures(member.project)[R.CPU] == (1, 0, 1)
    finish(server, OpCode.INSTANCE_SHUTDOWN, "success", job)
    stopped = {r: f for r, f in RUNNING_SMALL.items() if r not in (R.CPU, R.RAM)}
    assert figures(member.project) == stopped
    job = act(server, server_quotas.charge_start, ServerTask.START)
    assert figures(member.project)[R.RAM] == (0, 512, 0)
    finish(server, OpCode.INSTANCE_STARTUP, "success", job)
    assert figures(member.project) == RUNNING_SMALL


def test_a_failed_stop_changes_nothing(server, member):
    built(server)
    job = act(server, server_quotas.charge_stop, ServerTask.STOP)
    finish(server, OpCode.INSTANCE_SHUTDOWN, "error", job)
    assert figures(member.project) == RUNNING_SMALL


def test_start_over_the_running_limit_is_refused(server, member):
    built(server)
    job = act(server, server_quotas.charge_stop, ServerTask.STOP)
    finish(server, OpCode.INSTANCE_SHUTDOWN, "success", job)
    quotas.set_limits(member.project, {R.CPU: 0})
    refused = "cores of running servers: Requested 1, but already used 0 of 0"
    with pytest.raises(quotas.QuotaExceeded, match=refused), transaction.atomic():
        server_quotas.charge_start(server)


def test_resize_moves_the_differences(server, member, small_flavor, big_flavor):
    built(server)
    job = next(JOBS)
    with transaction.atomic():  # as logic.servers.resize: the flavor is written with the intent
        Server.objects.filter(pk=server.pk).update(task=ServerTask.RESIZE, flavor=big_flavor, old_flavor=small_flavor)
        server.refresh_from_db()
        server_quotas.charge_resize(server, small_flavor, big_flavor)
    server_quotas.bind_job(server, ServerTask.RESIZE, job)
    assert figures(member.project)[R.TOTAL_CPU] == (1, 3, 0)
    assert figures(member.project)[R.DISK] == (5, 15, 0)
    finish(server, OpCode.INSTANCE_SET_PARAMS, "success", job, beparams={"vcpus": 4, "maxmem": 2048, "minmem": 2048})
    assert figures(member.project) == {
        R.SERVERS: (1, 0, 0),
        R.TOTAL_CPU: (4, 0, 0),
        R.CPU: (4, 0, 0),
        R.TOTAL_RAM: (2048, 0, 0),
        R.RAM: (2048, 0, 0),
        R.DISK: (20, 0, 0),
    }


def test_delete_releases_everything(server, member):
    built(server)
    job = act(server, server_quotas.charge_delete, ServerTask.DESTROY)
    assert figures(member.project)[R.SERVERS] == (1, 0, 1)
    finish(server, OpCode.INSTANCE_REMOVE, "success", job)
    assert server.deleted
    assert figures(member.project) == {}


def test_delete_while_building_ends_at_zero(server, member):
    create_job = act(server, server_quotas.charge_create, ServerTask.BUILD)
    delete_job = act(server, server_quotas.charge_delete, ServerTask.DESTROY)
    finish(server, OpCode.INSTANCE_CREATE, "success", create_job)
    finish(server, OpCode.INSTANCE_REMOVE, "success", delete_job)
    assert figures(member.project) == {}


def test_jobs_run_with_the_ganeti_cli_are_charged_forced(server, member):
    bigger = FlavorFactory(vcpus=4, ram=2048, disk=server.flavor.disk)  # what Ganeti will report, same disk
    built(server)
    finish(server, OpCode.INSTANCE_SHUTDOWN, "success", next(JOBS))  # gnt-instance shutdown
    assert R.CPU not in figures(member.project)
    quotas.set_limits(member.project, {R.TOTAL_CPU: 1})
    # gnt-instance modify -B vcpus=4,maxmem=2048: over the limit, but it exists, so it is counted
    finish(server, OpCode.INSTANCE_SET_PARAMS, "success", next(JOBS), beparams={"vcpus": 4, "maxmem": 2048, "minmem": 2048})
    assert server.flavor == bigger
    assert figures(member.project)[R.TOTAL_CPU] == (4, 0, 0)
    finish(server, OpCode.INSTANCE_STARTUP, "success", next(JOBS))  # gnt-instance startup
    assert figures(member.project)[R.CPU] == (4, 0, 0)
    forced = Commission.objects.filter(server=server, forced=True, state=CommissionState.ACCEPTED)
    assert forced.count() == 3
    finish(server, OpCode.INSTANCE_REMOVE, "success", next(JOBS))  # gnt-instance remove
    assert figures(member.project) == {}


def test_two_users_are_counted_apart(member, backend, small_flavor):
    other = ServerFactory(project=member.project, backend=backend, flavor=small_flavor)
    mine = ServerFactory(project=member.project, user=member.user, backend=backend, flavor=small_flavor)
    built(other)
    built(mine)
    assert figures(member.project)[R.SERVERS] == (2, 0, 0)
    assert figures(member.project, member.user)[R.SERVERS] == (1, 0, 0)
    assert figures(member.project, other.user)[R.SERVERS] == (1, 0, 0)
