"""The pipeline on the REAL Ganeti sandbox: cyclades-eventd (subprocess) on the real job queue →
this session's RabbitMQ vhost → the dispatcher's handler → PostgreSQL.

A server of this test run goes BUILD → STARTED with the NIC Ganeti chose; an operator's
``gnt-instance shutdown``/``startup`` (jobs the API did not submit) are reflected; deleting the fake
hypervisor's marker file is drift that reconcile-servers reports and --fix repairs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from bus import topology
from dispatcher.handler import handle
from logic.enums import OperState, ServerTask
from logic.models import ClusterHeartbeat, Server, ServerAction
from tests.factories import FlavorFactory, ServerFactory
from tests.fixtures_ganeti import create_instance, eventd_environment

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.django_db]

EVENTD = Path(sys.executable).parent / "cyclades-eventd"
MARKERS = Path("/run/ganeti/fake-hypervisor")


@pytest.fixture
def eventd(tmp_path, ganeti_sandbox, amqp_url, amqp_bus):
    """cyclades-eventd on the sandbox's real queue, publishing to this session's vhost."""
    env = ganeti_sandbox
    settings = eventd_environment(env, tmp_path, amqp_url, spool_dir=tmp_path / "spool", heartbeat=1)
    log_file = open(tmp_path / "eventd.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([str(EVENTD)], env={"PATH": os.environ["PATH"], **settings}, stdout=log_file, stderr=log_file)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
            log_file.close()


def dispatch_until(bus, condition, what: str, timeout: float = 60.0) -> None:
    """Run the dispatcher's handler on the events queue until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    bus.consume(topology.EVENTS_QUEUE, handle, prefetch=50, stop=lambda: condition() or time.monotonic() > deadline)
    assert condition(), f"timed out waiting for: {what}"


def gnt(*args: str) -> None:
    subprocess.run(["gnt-ns", *args], check=True, capture_output=True, timeout=120)


def test_real_cluster_lifecycle_operator_actions_and_drift(eventd, amqp_bus, rapi, sandbox_backend, ganeti_sandbox, settings):
    env = ganeti_sandbox
    flavor = FlavorFactory(vcpus=1, ram=128, disk=0)
    server = ServerFactory(backend=sandbox_backend, flavor=flavor, task=ServerTask.BUILD)
    name = server.ganeti_name
    get = lambda: Server.objects.get(pk=server.pk)  # noqa: E731
    # eventd catches up on the whole (shared) queue first; its first heartbeats then come through
    dispatch_until(amqp_bus, lambda: ClusterHeartbeat.objects.filter(cluster=sandbox_backend.name).exists(), "eventd's heartbeat")

    created = False
    try:
        job_id = create_instance(
            rapi, name, nics=[{"mode": "bridged", "link": env["GANETI_NIC_LINK"]}], tag="cyclades:pipeline-test"
        )
        created = True
        Server.objects.filter(pk=server.pk).update(task_job_id=job_id)  # what the API records
        ServerAction.objects.create(server=server, action="create", request_id="req", user_id="u", project_id="p", job_id=job_id)
        dispatch_until(amqp_bus, lambda: get().operstate == OperState.STARTED, "BUILD -> STARTED")
        info = rapi.get_instance(name)
        s = get()
        assert (s.task, s.task_job_id, s.backend_job_id) == (None, None, job_id)
        nic = s.nics.get()
        assert (nic.mac, nic.ipv4) == (info["nic.macs"][0], info["nic.ips"][0])
        assert ServerAction.objects.get(job_id=job_id).result == "Success"

        # an operator's actions, outside the API
        gnt("gnt-instance", "shutdown", "--timeout=0", name)
        dispatch_until(amqp_bus, lambda: get().operstate == OperState.STOPPED, "operator shutdown -> STOPPED")
        assert get().backend_opcode == "OP_INSTANCE_SHUTDOWN"
        gnt("gnt-instance", "startup", name)
        dispatch_until(amqp_bus, lambda: get().operstate == OperState.STARTED, "operator startup -> STARTED")

        # drift: the VM "crashed" (the fake hypervisor's marker is gone) and no event says so
        (MARKERS / name).unlink()
        settings.CYCLADES = {**settings.CYCLADES, "RECONCILE_GRACE": 1.0}
        time.sleep(1.1)
        report = run_reconcile(sandbox_backend.name)
        mine = [f for f in report["findings"] if f["instance"] == name]
        assert [f["kind"] for f in mine] == ["state"] and not mine[0]["fixed"]
        assert get().operstate == OperState.STARTED
        report = run_reconcile(sandbox_backend.name, "--fix")
        assert [(f["kind"], f["fixed"]) for f in report["findings"] if f["instance"] == name] == [("state", True)]
        assert get().operstate == OperState.STOPPED
        report = run_reconcile(sandbox_backend.name)
        assert [f for f in report["findings"] if f["instance"] == name] == []

        job_id = rapi.remove_instance(name, shutdown_timeout=0)
        rapi.wait_for_job(job_id, timeout=120)
        created = False
        dispatch_until(amqp_bus, lambda: get().deleted, "remove -> DESTROYED")
        assert (get().operstate, get().nics.count()) == (OperState.DESTROYED, 0)
    finally:
        if created:
            rapi.wait_for_job(rapi.remove_instance(name, shutdown_timeout=0), timeout=120)


def run_reconcile(backend: str, *extra: str) -> dict:
    from io import StringIO

    out = StringIO()
    call_command("reconcile-servers", "--backend", backend, "--json", *extra, stdout=out)
    reports = json.loads(out.getvalue())
    assert len(reports) == 1 and reports[0]["error"] is None
    return reports[0]


def test_remove_orphans_on_the_real_cluster(rapi, sandbox_backend, ganeti_sandbox, ganeti_prefix, settings):
    """An instance tagged as one of our servers with no server row is removed by --remove-orphans;
    one without our tag (an operator's, say) is reported and left alone."""
    env = ganeti_sandbox
    ours, foreign = f"{ganeti_prefix}-990001", f"{ganeti_prefix}-990002"
    spec = {
        "disk_template": "diskless",
        "nics": [{"mode": "bridged", "link": env["GANETI_NIC_LINK"]}],
        "os": "noop",
        "beparams": {"maxmem": 128, "minmem": 128, "vcpus": 1},
    }
    jobs = [
        rapi.create_instance(ours, tags=[f"{ganeti_prefix}:server:990001"], **spec),
        rapi.create_instance(foreign, tags=["operator:kept"], **spec),
    ]
    try:
        for job_id in jobs:
            rapi.wait_for_job(job_id, timeout=120)
        settings.CYCLADES = {**settings.CYCLADES, "RECONCILE_GRACE": 1.0}
        time.sleep(1.1)
        report = run_reconcile(sandbox_backend.name, "--remove-orphans")
        found = {f["instance"]: f for f in report["findings"] if f["kind"] == "orphan"}
        assert found[ours]["fixed"] and "remove job" in found[ours]["detail"]
        assert not found[foreign]["fixed"] and "tag" in found[foreign]["detail"]
        job_id = int(found[ours]["detail"].rsplit("remove job ", 1)[1].split()[0])
        assert rapi.wait_for_job(job_id, timeout=120)["status"] == "success"
        names = rapi.list_instance_names()
        assert ours not in names and foreign in names
    finally:
        for name in (ours, foreign):
            if name in rapi.list_instance_names():
                rapi.wait_for_job(rapi.remove_instance(name, shutdown_timeout=0), timeout=120)
