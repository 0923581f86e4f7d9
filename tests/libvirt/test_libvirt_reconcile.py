"""reconcile-servers on a libvirt backend (libvirt's test driver): the host's domains against the DB,
drift repaired through the same events and transition function as for Ganeti. Lifecycle events
are dropped on purpose (``lose_events``): reconciliation is what repairs what they missed."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command
from lxml import etree

from logic import reconcile
from logic.enums import ServerTask
from logic.models import Server
from tests.libvirt.test_libvirt_backend import create, flavor, image, member, status

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.django_db]

__all__ = ["flavor", "image", "member"]  # fixtures shared with test_libvirt_backend


@pytest.fixture(autouse=True)
def no_grace(settings):
    settings.CYCLADES = {**settings.CYCLADES, "RECONCILE_GRACE": 0}


def lose_events(listener) -> int:
    """What the host reported since the last dispatch never reaches the bus (a listener that was down)."""
    time.sleep(0.3)  # libvirt's event loop thread delivers the callbacks
    lost = 0
    while not listener.pending.empty():
        listener.pending.get_nowait()
        lost += 1
    return lost


def run(lv_backend, fix: bool, **kw) -> reconcile.Report:
    (report,) = reconcile.reconcile_all([lv_backend], client_for=None, fix=fix, **kw)
    assert report.error is None, report.error
    return report


def kinds(report: reconcile.Report) -> list[tuple[str, bool]]:
    return sorted((f.kind, f.fixed) for f in report.findings)


def test_in_sync_then_state_drift_repaired(member, flavor, image, lv_backend, test_host, listener, dispatch_all):
    server_id = create(member, flavor, image)
    dispatch_all()
    assert status(member, server_id) == "ACTIVE"
    report = run(lv_backend, fix=True)
    assert (report.servers, report.instances, report.findings) == (1, 1, [])  # NICs, flavor, state agree

    test_host.lookupByName(Server.objects.get(pk=server_id).ganeti_name).destroy()
    assert lose_events(listener) >= 1
    assert status(member, server_id) == "ACTIVE"  # the DB missed it
    assert kinds(run(lv_backend, fix=False)) == [("state", False)]
    assert status(member, server_id) == "ACTIVE"  # a dry run changes nothing
    assert kinds(run(lv_backend, fix=True)) == [("state", True)]
    assert status(member, server_id) == "SHUTOFF"
    assert run(lv_backend, fix=True).findings == []


def test_stale_server_of_an_undefined_domain_is_deleted(member, flavor, image, lv_backend, test_host, listener, dispatch_all):
    server_id = create(member, flavor, image)
    dispatch_all()
    dom = test_host.lookupByName(Server.objects.get(pk=server_id).ganeti_name)
    dom.destroy()
    dom.undefine()
    lose_events(listener)
    assert kinds(run(lv_backend, fix=True)) == [("stale", True)]
    assert member.get(f"/compute/v2.1/servers/{server_id}").status_code == 404


def test_flavor_drift_and_orphans(member, flavor, image, lv_backend, test_host, listener, dispatch_all, settings):
    server_id = create(member, flavor, image)
    dispatch_all()
    name = Server.objects.get(pk=server_id).ganeti_name
    dom = test_host.lookupByName(name)
    root = etree.fromstring(dom.XMLDesc(0))
    root.find("memory").text, root.find("memory").attrib["unit"] = "256", "MiB"
    root.find("currentMemory").text, root.find("currentMemory").attrib["unit"] = "256", "MiB"
    test_host.defineXML(etree.tostring(root, encoding="unicode"))  # an operator's virsh edit
    orphan = f"{settings.CYCLADES['GANETI_PREFIX']}-{server_id + 1000}"
    root.find("name").text = orphan
    root.remove(root.find("uuid"))
    root.find("metadata/{https://cyclades.example/libvirt/1}server").set("id", str(server_id + 1000))  # "ours"
    for iface in root.findall("devices/interface"):
        iface.find("mac").attrib.pop("address")
    test_host.defineXML(etree.tostring(root, encoding="unicode"))
    test_host.defineXML("<domain type='test'><name>someone-else</name><memory>1024</memory><os><type>hvm</type></os></domain>")
    lose_events(listener)

    report = run(lv_backend, fix=False, remove_orphans=True)
    assert kinds(report) == [("flavor", False), ("orphan", False)]
    found = {f.kind: f for f in report.findings}
    assert "256 MiB" in found["flavor"].detail and found["orphan"].instance == orphan
    assert "no server in the DB" in found["orphan"].detail and "keeps no creation time" in found["orphan"].detail
    assert orphan in [d.name() for d in test_host.listAllDomains()]  # reported, never removed


def test_a_task_whose_message_was_lost_ends_by_what_the_host_shows(
    member, flavor, image, lv_backend, test_host, listener, dispatch_all
):
    server_id = create(member, flavor, image)
    dispatch_all()
    server = Server.objects.get(pk=server_id)
    test_host.lookupByName(server.ganeti_name).destroy()
    lose_events(listener)
    Server.objects.filter(pk=server_id).update(task=ServerTask.STOP, task_job_id=99, task_request_id="req-lost")
    report = run(lv_backend, fix=True)
    assert ("stuck_task", True) in kinds(report)
    server.refresh_from_db()
    assert server.task is None and status(member, server_id) == "SHUTOFF"


def test_the_command_reconciles_libvirt_backends(member, flavor, image, lv_backend, test_host, listener, dispatch_all, capsys):
    import json

    server_id = create(member, flavor, image)
    dispatch_all()
    test_host.lookupByName(Server.objects.get(pk=server_id).ganeti_name).destroy()
    lose_events(listener)
    call_command("reconcile-servers", "--fix", "--json", "--backend", lv_backend.name)
    (report,) = json.loads(capsys.readouterr().out)
    assert report["backend"] == lv_backend.name and report["error"] is None
    assert [(f["kind"], f["fixed"]) for f in report["findings"]] == [("state", True)]
    assert status(member, server_id) == "SHUTOFF"
