"""End to end on the real Ganeti sandbox: ``cyclades-eventd`` (a subprocess, as deployed) watches
/var/lib/ganeti/queue; an instance of this test run is created and removed through RAPI; its
opcode messages (with the live NIC Ganeti chose) and the real post hook's report arrive on this
session's RabbitMQ vhost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bus import topology
from ganeti_hooks import install
from tests.eventd.conftest import collect
from tests.fixtures_ganeti import create_instance, eventd_environment

pytestmark = [pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow]

HOOKS_DIR = "/etc/ganeti/hooks"
EVENTD = Path(sys.executable).parent / "cyclades-eventd"


def wait_for(bus, queue, *predicates, timeout=60.0) -> list:
    """Messages from ``queue`` until each predicate was satisfied by one of them; all of them."""
    seen = []
    pending = list(predicates)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in collect(bus, queue, expect=1, timeout=0.5):
            seen.append(message)
            pending = [p for p in pending if not p(message.json())]
            if not pending:
                return seen
    raise AssertionError(f"no matching message within {timeout}s; saw {[m.message_id for m in seen][-20:]}")


@pytest.fixture
def hooks_installed(tmp_path, ganeti_prefix):
    """This run's post hooks for instance add/remove in the live sandbox, reporting only this run's names.

    Removes exactly what it installed (the scripts, and the directories it had to create) afterwards.
    """
    spool = tmp_path / "spool"
    name = f"90-cyclades-{ganeti_prefix}".replace(".", "-")
    paths = ["instance-add", "instance-remove"]
    created_dirs = [d for d in (HOOKS_DIR, *(f"{HOOKS_DIR}/{p}-post.d" for p in paths)) if not os.path.isdir(d)]
    written = install.install(HOOKS_DIR, str(spool), name=name, hook_paths=paths, prefixes=[f"{ganeti_prefix}-"])
    try:
        yield spool
    finally:
        removed = install.uninstall(HOOKS_DIR, name=name, hook_paths=paths)
        assert sorted(removed) == sorted(written)
        for directory in reversed(created_dirs):
            if os.path.isdir(directory) and not os.listdir(directory):
                os.rmdir(directory)


def test_eventd_publishes_a_real_instance_lifecycle(
    tmp_path, ganeti_sandbox, ganeti_prefix, rapi, amqp_url, amqp_bus, hooks_installed
):
    env = ganeti_sandbox
    heartbeats = "eventd-e2e-heartbeats"
    amqp_bus._chan.queue_declare(heartbeats, exclusive=True)
    amqp_bus._chan.queue_bind(heartbeats, topology.EXCHANGE, routing_key="ganeti.*.*.*.heartbeat")
    settings = eventd_environment(env, tmp_path, amqp_url, spool_dir=hooks_installed, heartbeat=0.5)
    log_file = open(tmp_path / "eventd.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([str(EVENTD)], env={"PATH": os.environ["PATH"], **settings}, stdout=log_file, stderr=log_file)
    name = f"{ganeti_prefix}-ev{os.getpid()}"
    created = False
    try:
        # the first heartbeat comes after the catch-up of the existing queue
        wait_for(amqp_bus, heartbeats, lambda b: b["type"] == "heartbeat" and b["is_master"], timeout=30)
        amqp_bus.purge(topology.EVENTS_QUEUE)

        job_id = create_instance(
            rapi, name, nics=[{"mode": "bridged", "link": env["GANETI_NIC_LINK"]}], tag="cyclades:eventd-test"
        )
        created = True
        rapi.wait_for_job(job_id, timeout=120)
        info = rapi.get_instance(name)

        def ours(body):
            return body.get("instance") == name

        # the post hook runs before Ganeti marks the opcode successful: its report may come first
        seen = wait_for(
            amqp_bus,
            topology.EVENTS_QUEUE,
            lambda b: ours(b) and b.get("status") == "success" and b["type"] == "ganeti-op-status",
            lambda b: ours(b) and b["type"] == "ganeti-hook",
        )
        op_msgs = [m.json() for m in seen if m.json()["type"] == "ganeti-op-status" and ours(m.json())]
        statuses = [b["status"] for b in op_msgs]
        assert statuses[-1] == "success" and "running" in statuses
        assert statuses == [s for s in ("queued", "waiting", "running", "success") if s in statuses]  # in order, once each
        assert all(b["job_id"] == job_id and b["operation"] == "OP_INSTANCE_CREATE" for b in op_msgs)
        times = [b["event_time"] for b in op_msgs]
        assert times == sorted(times)
        success = op_msgs[-1]
        assert success["instance_nics"][0]["mac"] == info["nic.macs"][0]
        assert success["instance_nics"][0]["link"] == env["GANETI_NIC_LINK"]
        assert success["instance_beparams"]["maxmem"] == 128
        assert success["job_fields"]["beparams"]["maxmem"] == 128
        hook_msg = next(m.json() for m in seen if m.json()["type"] == "ganeti-hook")
        assert hook_msg["hook"] == "instance-add" and hook_msg["nics"][0]["mac"] == info["nic.macs"][0]

        job_id = rapi.remove_instance(name, shutdown_timeout=0)
        rapi.wait_for_job(job_id, timeout=120)
        created = False
        seen = wait_for(
            amqp_bus,
            topology.EVENTS_QUEUE,
            lambda b: ours(b) and b.get("status") == "success" and b["type"] == "ganeti-op-status",
            lambda b: ours(b) and b.get("hook") == "instance-remove",
        )
        removal = [m.json() for m in seen if ours(m.json()) and m.json()["type"] == "ganeti-op-status"][-1]
        assert (removal["operation"], removal["job_id"], removal["status"]) == ("OP_INSTANCE_REMOVE", job_id, "success")
        assert "instance_nics" not in removal
    finally:
        if created:
            rapi.wait_for_job(rapi.remove_instance(name, shutdown_timeout=0), timeout=120)
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
            log_file.close()
    assert code == 0, (tmp_path / "eventd.log").read_text()[-3000:]
