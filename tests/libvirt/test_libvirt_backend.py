"""A libvirt host as a backend, end to end: the compute API creates, stops, starts, reboots and
deletes servers on libvirt's real test driver (test:///default); the driver's job messages and
the host's lifecycle events go over the real RabbitMQ and are applied by the dispatcher's handler
with the one transition function; an operator's ``virsh destroy`` shows as SHUTOFF."""

from __future__ import annotations

import time

import libvirt
import pytest

from logic.drivers import driver_for
from logic.enums import OpCode, Role
from logic.models import Backend, Server, ServerAction
from tests.factories import FlavorFactory, ImageFactory, token_client

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.django_db]

MV21 = {"HTTP_X_OPENSTACK_NOVA_API_VERSION": "2.1"}


@pytest.fixture
def member(db):
    return token_client(Role.MEMBER, headers=MV21)


@pytest.fixture
def flavor(db):
    return FlavorFactory(name="lv.tiny", vcpus=1, ram=128, disk=0, disk_template="diskless")


@pytest.fixture
def image(db):
    return ImageFactory(name="debian")


def status(client, server_id: int) -> str:
    resp = client.get(f"/compute/v2.1/servers/{server_id}")
    assert resp.status_code == 200, resp.content
    return resp.json()["server"]["status"]


def action(client, server_id: int, body: dict) -> None:
    resp = client.post(f"/compute/v2.1/servers/{server_id}/action", body, format="json")
    assert resp.status_code == 202, resp.content


def create(client, flavor, image) -> int:
    body = {"server": {"name": "lv1", "flavorRef": str(flavor.pk), "imageRef": str(image.id)}}
    resp = client.post("/compute/v2.1/servers", body, format="json")
    assert resp.status_code == 202, resp.content
    return int(resp.json()["server"]["id"])


def domain_state(conn, name: str) -> int:
    return conn.lookupByName(name).state()[0]


def test_create_stop_start_reboot_delete_through_the_api_and_the_dispatcher(
    member, flavor, image, lv_backend, test_host, dispatch_all
):
    server_id = create(member, flavor, image)
    server = Server.objects.get(pk=server_id)
    assert server.backend == lv_backend and driver_for(server).__name__ == "logic.drivers.libvirt.jobs"
    name = server.ganeti_name
    assert domain_state(test_host, name) == libvirt.VIR_DOMAIN_RUNNING
    assert status(member, server_id) == "BUILD"  # nothing applied yet: the state comes from the events
    outcomes = dispatch_all()
    assert any(o.applied for o in outcomes)
    assert status(member, server_id) == "ACTIVE"
    server.refresh_from_db()
    assert server.task is None and server.launched_at is not None

    action(member, server_id, {"os-stop": None})
    assert domain_state(test_host, name) == libvirt.VIR_DOMAIN_SHUTOFF
    dispatch_all()
    assert status(member, server_id) == "SHUTOFF"

    action(member, server_id, {"os-start": None})
    dispatch_all()
    assert status(member, server_id) == "ACTIVE"
    assert domain_state(test_host, name) == libvirt.VIR_DOMAIN_RUNNING

    for kind in ("HARD", "SOFT"):
        action(member, server_id, {"reboot": {"type": kind}})
        dispatch_all()
        assert status(member, server_id) == "ACTIVE"
        assert Server.objects.get(pk=server_id).task is None

    resp = member.delete(f"/compute/v2.1/servers/{server_id}")
    assert resp.status_code == 204, resp.content
    dispatch_all()
    with pytest.raises(libvirt.libvirtError):
        test_host.lookupByName(name)
    assert member.get(f"/compute/v2.1/servers/{server_id}").status_code == 404
    server.refresh_from_db()
    assert server.deleted
    actions = list(ServerAction.objects.filter(server=server).order_by("start_time").values_list("action", "result"))
    assert [a for a, _ in actions] == ["create", "stop", "start", "reboot", "reboot", "delete"]
    assert {r for _, r in actions} == {"Success"}


def test_operator_virsh_destroy_shows_as_shutoff(member, flavor, image, lv_backend, test_host, dispatch_all):
    server_id = create(member, flavor, image)
    dispatch_all()
    assert status(member, server_id) == "ACTIVE"
    name = Server.objects.get(pk=server_id).ganeti_name
    started = time.monotonic()
    test_host.lookupByName(name).destroy()  # what `virsh destroy` does
    dispatch_all(wait=1.0)
    assert status(member, server_id) == "SHUTOFF"
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"SHUTOFF after {elapsed:.3f}s"
    server = Server.objects.get(pk=server_id)
    assert server.backend_job_id == 0 and server.backend_opcode == OpCode.INSTANCE_SHUTDOWN  # observed, not our job


def test_a_libvirt_error_is_a_failed_job_and_the_state_stays(member, flavor, image, lv_backend, test_host, dispatch_all):
    from logic.drivers.libvirt import jobs

    server_id = create(member, flavor, image)
    dispatch_all()
    server = Server.objects.get(pk=server_id)
    failed = jobs.start_server(server)  # libvirt refuses: the domain is already running
    assert failed > server.backend_job_id
    dispatch_all()
    server.refresh_from_db()
    assert status(member, server_id) == "ACTIVE"
    assert (server.backend_job_id, server.backend_jobstatus) == (failed, "error")
    assert "already running" in server.backend_logmsg


def test_a_domain_gone_behind_our_back_is_deleted_by_the_next_operation(
    member, flavor, image, lv_backend, test_host, dispatch_all
):
    server_id = create(member, flavor, image)
    dispatch_all()
    dom = test_host.lookupByName(Server.objects.get(pk=server_id).ganeti_name)
    dom.destroy()
    dom.undefine()  # an operator's `virsh undefine`: the lifecycle events say STOPPED, then UNDEFINED
    dispatch_all(wait=1.0)
    assert member.get(f"/compute/v2.1/servers/{server_id}").status_code == 404


def test_backend_add_command_and_listing(db, test_host, capsys):
    from django.core.management import call_command

    call_command("backend-add", "--kind", "libvirt", "--uri", "test:///default", "--name", "lv-cli.test", "--json")
    backend = Backend.objects.get(name="lv-cli.test")
    assert (backend.kind, backend.libvirt_uri, backend.disk_templates) == (
        "libvirt",
        "test:///default",
        ["diskless", "rbd", "file"],
    )
    assert backend.mem_total == 3072 and backend.cpu_total == 16  # what the test driver's host reports
    assert '"kind": "libvirt"' in capsys.readouterr().out


def test_ganeti_servers_still_use_the_ganeti_job_module(db):
    from logic import drivers, ganeti_jobs
    from tests.factories import BackendFactory, ServerFactory

    server = ServerFactory(backend=BackendFactory())
    assert driver_for(server) is ganeti_jobs
    assert driver_for(ServerFactory(backend=None)) is ganeti_jobs
    with pytest.raises(AttributeError):
        drivers.dispatch.no_such_operation  # noqa: B018


def test_refresh_stats_counts_running_domains(member, flavor, image, lv_backend, test_host, dispatch_all):
    from logic import backends

    create(member, flavor, image)
    dispatch_all()
    refreshed = backends.refresh_stats(Backend.objects.get(pk=lv_backend.pk))
    assert (refreshed.mem_free, refreshed.cpu_free) == (3072 - 128, 16 - 1)


def test_resize_rewrites_the_domain_and_waits_for_confirmation(member, flavor, image, lv_backend, test_host, dispatch_all):
    bigger = FlavorFactory(name="lv.small", vcpus=2, ram=256, disk=0, disk_template="diskless")
    server_id = create(member, flavor, image)
    dispatch_all()
    name = Server.objects.get(pk=server_id).ganeti_name
    action(member, server_id, {"resize": {"flavorRef": str(bigger.pk)}})
    dispatch_all()
    assert status(member, server_id) == "VERIFY_RESIZE"
    inactive = test_host.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert "<memory unit='KiB'>262144</memory>" in inactive and ">2</vcpu>" in inactive
    resp = member.post(f"/compute/v2.1/servers/{server_id}/action", {"confirmResize": None}, format="json")
    assert resp.status_code == 204, resp.content
    assert status(member, server_id) == "ACTIVE"
    assert member.get(f"/compute/v2.1/servers/{server_id}").json()["server"]["flavor"]["id"] == str(bigger.pk)


def test_nics_of_the_default_network_are_reported_with_libvirt_macs(member, flavor, image, lv_backend, test_host, dispatch_all):
    server_id = create(member, flavor, image)
    dispatch_all()
    dumpxml = test_host.lookupByName(Server.objects.get(pk=server_id).ganeti_name).XMLDesc(0)
    macs = [n.mac for n in Server.objects.get(pk=server_id).nics.all()]
    assert len(macs) == dumpxml.count("<interface ") == 1  # "auto": one NIC
    assert f"<mac address='{macs[0]}'/>" in dumpxml


def test_a_console_request_reaches_the_libvirt_driver(member, flavor, image, lv_backend, test_host, dispatch_all, settings):
    """The test driver never assigns VNC ports: the API says so with a 409 (as for a hypervisor without VNC), no 500."""
    settings.CYCLADES = {**settings.CYCLADES, "VNCAUTHPROXY_SECRET": "s" * 32}
    server_id = create(member, flavor, image)
    dispatch_all()
    from logic.drivers.libvirt import jobs

    info = jobs.console_info(Server.objects.get(pk=server_id))
    assert (info["kind"], info["port"]) == ("vnc", None)
    resp = member.post(f"/compute/v2.1/servers/{server_id}/action", {"os-getVNCConsole": {"type": "novnc"}}, format="json")
    assert resp.status_code == 409, resp.content
    assert "no VNC console" in resp.content.decode()
