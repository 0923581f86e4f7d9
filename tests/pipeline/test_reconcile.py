"""Reconciliation against a simulated bulk listing (the real-cluster case is in test_sandbox.py)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from logic import reconcile
from logic.enums import OperState, ServerTask
from logic.event_messages import timestamp_pair
from logic.models import Server, ServerAction, ServerNIC
from tests.factories import FlavorFactory
from tests.pipeline.fakecluster import FakeCluster, instance, job

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

LONG_AGO = timezone.now() - timedelta(hours=1)


def settled(make_server, *, operstate=OperState.STARTED, nics=(("aa:00:00:00:00:01", "10.0.0.1"),), **fields) -> Server:
    """A server whose last event was an hour ago, with NICs."""
    server = make_server(operstate=operstate, **fields)
    Server.objects.filter(pk=server.pk).update(created_at=LONG_AGO, backendtime=LONG_AGO)
    for i, (mac, ip) in enumerate(nics):
        ServerNIC.objects.create(server=server, index=i, mac=mac, ipv4=ip)
    server.refresh_from_db()
    return server


def kinds(report) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in report.findings:
        out.setdefault(f.kind, []).append(f.instance)
    return out


def test_finds_every_kind_of_drift_and_fix_repairs_through_events(make_server, backend, flavor):
    nic = ("aa:00:00:00:00:01", "10.0.0.1")
    big = FlavorFactory(vcpus=2, ram=512, disk=flavor.disk)
    ok = settled(make_server, task=None)
    stale = settled(make_server, task=None)
    crashed = settled(make_server, task=None)  # Ganeti: not running any more
    renumbered = settled(make_server, task=None)  # Ganeti: another IP
    resized = settled(make_server, task=None)  # Ganeti: 2 vCPU / 512 MiB
    stopped_job_done = settled(make_server, task=ServerTask.STOP, task_job=41)  # job 41 ended, event lost
    lost_job = settled(make_server, task=ServerTask.START, task_job=42, operstate=OperState.STOPPED)  # job unknown
    building = make_server(task=ServerTask.BUILD, task_job=43)  # create job still running: judged later
    end = timestamp_pair(timezone.now() - timedelta(minutes=5))
    cluster = FakeCluster(
        [
            instance(ok.ganeti_name, nics=[nic]),
            instance(crashed.ganeti_name, running=False, nics=[nic]),
            instance(renumbered.ganeti_name, nics=[("aa:00:00:00:00:01", "10.0.0.99")]),
            instance(resized.ganeti_name, vcpus=2, maxmem=512, nics=[nic]),
            instance(stopped_job_done.ganeti_name, running=False, nics=[nic]),
            instance(lost_job.ganeti_name, running=False, nics=[nic]),
            instance(f"{ok.ganeti_name.rsplit('-', 1)[0]}-999999", nics=[nic]),  # ours by name, no server
            instance("someone-elses-vm"),
        ],
        jobs={
            41: job(41, "OP_INSTANCE_SHUTDOWN", stopped_job_done.ganeti_name, "success", end),
            43: dict(job(43, "OP_INSTANCE_CREATE", building.ganeti_name, "running", end), end_ts=None),
        },
    )

    report = reconcile.reconcile_backend(backend, cluster, fix=False)
    found = kinds(report)
    assert found == {
        "stale": [stale.ganeti_name],
        "state": [crashed.ganeti_name],
        "nics": [renumbered.ganeti_name],
        "flavor": [resized.ganeti_name],
        "stuck_task": [stopped_job_done.ganeti_name, lost_job.ganeti_name],
        "orphan": [f"{ok.ganeti_name.rsplit('-', 1)[0]}-999999"],
    }
    assert cluster.listings == 1
    assert Server.objects.get(pk=crashed.pk).operstate == OperState.STARTED  # without --fix nothing changes

    report = reconcile.reconcile_backend(backend, cluster, fix=True)
    assert all(f.fixed for f in report.findings if f.kind != "orphan")
    get = lambda s: Server.objects.get(pk=s.pk)  # noqa: E731
    assert (get(stale).operstate, get(stale).deleted, get(stale).nics.count()) == (OperState.DESTROYED, True, 0)
    assert get(crashed).operstate == OperState.STOPPED
    assert get(renumbered).nics.get().ipv4 == "10.0.0.99"
    assert get(resized).flavor_id == big.pk
    assert (get(stopped_job_done).task, get(stopped_job_done).operstate) == (None, OperState.STOPPED)
    assert ServerAction.objects.get(job_id=41).result == "Success"
    assert (get(lost_job).task, get(lost_job).operstate) == (None, OperState.STOPPED)
    assert ServerAction.objects.get(job_id=42).result == "Error"
    assert "unknown to Ganeti" in ServerAction.objects.get(job_id=42).message
    assert (get(building).task, get(building).operstate) == (ServerTask.BUILD, OperState.BUILD)

    again = reconcile.reconcile_backend(backend, cluster, fix=True)
    assert kinds(again) == {"orphan": [f"{ok.ganeti_name.rsplit('-', 1)[0]}-999999"]}


def test_a_job_that_finished_after_the_listing_is_not_overwritten(make_server, backend):
    server = settled(make_server, task=None)
    cluster = FakeCluster([instance(server.ganeti_name, running=False, nics=[("aa:00:00:00:00:01", "10.0.0.1")])])
    listing_time = timezone.now() - timedelta(seconds=10)
    # a startup finished after the listing (its event already applied): the listing's "down" is older
    Server.objects.filter(pk=server.pk).update(backendtime=timezone.now(), operstate=OperState.STARTED)
    reconcile.reconcile_backend(backend, cluster, fix=True, now=lambda: listing_time)
    assert Server.objects.get(pk=server.pk).operstate == OperState.STARTED


@pytest.mark.slow
def test_reconciles_5000_servers_in_bulk_queries(backend, flavor, user_project):
    """The work scales with the drift, not the fleet: reads are bulk, only the 50 fixes cost queries.

    How fast it is (target < 5 s) is measured by benchmarks/pipeline.py, not asserted here.
    """
    user, project = user_project
    prefix_servers = Server.objects.bulk_create(
        [
            Server(
                name=f"s{i}", user=user, project=project, flavor=flavor, backend=backend, operstate=OperState.STARTED, task=None
            )
            for i in range(5000)
        ]
    )
    Server.objects.filter(backend=backend).update(created_at=LONG_AGO, backendtime=LONG_AGO)
    ServerNIC.objects.bulk_create(
        [
            ServerNIC(
                server=s,
                index=0,
                mac=f"aa:00:00:{s.pk // 65536 % 256:02x}:{s.pk // 256 % 256:02x}:{s.pk % 256:02x}",
                ipv4="10.0.0.1",
            )
            for s in prefix_servers
        ]
    )
    instances = [
        instance(
            s.ganeti_name, nics=[(f"aa:00:00:{s.pk // 65536 % 256:02x}:{s.pk // 256 % 256:02x}:{s.pk % 256:02x}", "10.0.0.1")]
        )
        for s in prefix_servers
    ]
    for inst in instances[:50]:
        inst["oper_state"] = False  # 50 crashed VMs
    cluster = FakeCluster(instances)
    with CaptureQueriesContext(connection) as queries:
        report = reconcile.reconcile_backend(backend, cluster, fix=True)
    assert report.servers == 5000 and report.count("state") == 50 and report.fixed("state") == 50
    assert len(report.findings) == 50
    fixing = len(queries)
    Server.objects.filter(backend=backend).update(backendtime=LONG_AGO)  # as if the fixes were long ago
    with CaptureQueriesContext(connection) as queries:
        clean = reconcile.reconcile_backend(backend, FakeCluster(instances), fix=True)
    print(f"QUERIES {fixing} {len(queries)}")
    assert clean.servers == 5000 and clean.findings == []
    assert len(queries) <= 10, f"a clean pass over 5,000 servers took {len(queries)} queries: per-server reads crept in"
    assert fixing - len(queries) <= 50 * 20, f"{fixing} queries for 50 fixes"


def test_nic_moved_to_another_network_is_drift_and_fix_moves_it(make_server, backend):
    from logic.models import Network

    public = Network.objects.create(name="public", public=True, ganeti_link="br-pub", ganeti_mode="bridged")
    other = Network.objects.create(name="other", public=True, ganeti_link="br-other", ganeti_mode="bridged")
    server = settled(make_server, task=None)
    ServerNIC.objects.filter(server=server).update(network_id=str(public.pk), network_name="public", link="br-pub")
    same_place = FakeCluster([instance(server.ganeti_name, nics=[("aa:00:00:00:00:01", "10.0.0.1")], link="br-pub")])
    assert kinds(reconcile.reconcile_backend(backend, same_place)) == {}

    moved = FakeCluster([instance(server.ganeti_name, nics=[("aa:00:00:00:00:01", "10.0.0.1")], link="br-other")])
    report = reconcile.reconcile_backend(backend, moved, fix=True)
    assert kinds(report) == {"nics": [server.ganeti_name]} and report.findings[0].fixed
    nic = Server.objects.get(pk=server.pk).nics.get()
    assert (nic.network_id, nic.network_name, nic.link) == (str(other.pk), "other", "br-other")
    assert kinds(reconcile.reconcile_backend(backend, moved)) == {}


def test_remove_orphans_removes_only_what_is_provably_ours_and_abandoned(make_server, backend, other_backend, settings):
    prefix = settings.CYCLADES["GANETI_PREFIX"]
    old = (timezone.now() - timedelta(hours=2)).timestamp()
    deleted = settled(make_server, task=None, deleted=True, operstate=OperState.DESTROYED)
    elsewhere = make_server(task=None, operstate=OperState.STARTED)
    Server.objects.filter(pk=elsewhere.pk).update(backend=other_backend)
    gone_name = f"{prefix}-987654"
    tagged = lambda name: [f"{prefix}:server:{name.rsplit('-', 1)[1]}"]  # noqa: E731
    fresh_name = f"{prefix}-987655"
    untagged_name = f"{prefix}-987656"
    cluster = FakeCluster(
        [
            instance(deleted.ganeti_name, tags=tagged(deleted.ganeti_name), ctime=old),  # server deleted: remove
            instance(gone_name, tags=tagged(gone_name), ctime=old),  # no server row at all: remove
            instance(elsewhere.ganeti_name, tags=tagged(elsewhere.ganeti_name), ctime=old),  # live elsewhere: keep
            instance(fresh_name, tags=tagged(fresh_name), ctime=time.time()),  # just created: keep
            instance(untagged_name, tags=["someone:else"], ctime=old),  # not proven ours: keep
        ]
    )
    report = reconcile.reconcile_backend(backend, cluster)  # without the flag: reported only
    assert len(kinds(report)["orphan"]) == 5 and cluster.removed == []

    report = reconcile.reconcile_backend(backend, cluster, fix=True, remove_orphans=True)
    assert sorted(cluster.removed) == sorted([deleted.ganeti_name, gone_name])
    by_name = {f.instance: f for f in report.findings}
    assert by_name[gone_name].fixed and "remove job" in by_name[gone_name].detail
    assert not by_name[elsewhere.ganeti_name].fixed and "another backend" in by_name[elsewhere.ganeti_name].detail
    assert not by_name[fresh_name].fixed and "grace" in by_name[fresh_name].detail
    assert not by_name[untagged_name].fixed and "tag" in by_name[untagged_name].detail
    assert Server.objects.get(pk=elsewhere.pk).deleted is False
