"""Backends (logic.backends) and server jobs (logic.ganeti_jobs) against the real Ganeti sandbox."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from logic import backends, ganeti_jobs
from logic.errors import ConflictError, InvalidInput
from logic.models import Backend
from logic.rapi import RapiClient
from tests.factories import FlavorFactory, ImageFactory, ServerFactory

pytestmark = [pytest.mark.ganeti, pytest.mark.usefixtures("ganeti_reset")]


def _cert(env) -> str:
    with open(env["GANETI_RAPI_CERT"]) as f:
        return f.read()


def test_add_backend_reads_capabilities_and_encrypts_the_password(sandbox_backend, ganeti_sandbox):
    b = Backend.objects.get(pk=sandbox_backend.pk)
    assert b.name == ganeti_sandbox["GANETI_RAPI_NAME"]
    assert b.hypervisor == "fake"
    assert {"diskless", "file"} <= set(b.disk_templates)
    assert b.mem_total > 0 and 0 < b.mem_free <= b.mem_total
    assert b.cpu_total > 0 and b.disk_total > 0 and b.stats_updated_at is not None
    assert "PRIVATE KEY" not in b.rapi_certificate and "BEGIN CERTIFICATE" in b.rapi_certificate
    # encrypted at rest: the column holds no trace of the password, yet it decrypts
    password = ganeti_sandbox["GANETI_RAPI_PASSWORD"]
    with connection.cursor() as cur:
        cur.execute("SELECT rapi_password_encrypted FROM logic_backend WHERE id = %s", [b.pk])
        stored = cur.fetchone()[0]
    assert password not in stored and password.encode().hex() not in stored
    assert b.rapi_password == password


def test_add_backend_refuses_wrong_password_and_saves_nothing(db, ganeti_sandbox):
    env = ganeti_sandbox
    with pytest.raises(backends.BackendCheckFailed, match="refused the credentials"):
        backends.add_backend(
            host=env["GANETI_RAPI_HOST"],
            port=int(env["GANETI_RAPI_PORT"]),
            username=env["GANETI_RAPI_USER"],
            password="wrong",
            certificate_pem=_cert(env),
        )
    assert not Backend.objects.exists()


def test_offline_backend_gets_no_rapi_call(sandbox_backend):
    # pointed at a closed port: had a call been made it would be RapiUnavailable
    Backend.objects.filter(pk=sandbox_backend.pk).update(rapi_port=1)
    backends.set_offline(sandbox_backend, True)
    b = Backend.objects.get(pk=sandbox_backend.pk)
    with pytest.raises(backends.BackendOffline):
        backends.client_for(b)
    with pytest.raises(backends.BackendOffline):
        backends.refresh_stats(b)
    server = ServerFactory(backend=b)
    with pytest.raises(backends.BackendOffline):
        ganeti_jobs.start_server(server)
    assert backends.refresh_all_stats() == {}  # offline backends are skipped


def test_refresh_stats_counts_instances_and_pending_servers(sandbox_backend, rapi, wait_job):
    # The sandbox is shared (others create instances meanwhile): compare figures
    # computed from ONE snapshot of the cluster, with and without our server.
    flavor = FlavorFactory(ram=512, vcpus=2, disk_template="diskless")
    server = ServerFactory(backend=sandbox_backend, flavor=flavor)
    info, nodes = rapi.get_info(), rapi.list_nodes(bulk=True)

    # in the database, not yet in Ganeti: counted as pending
    instances = rapi.list_instances()
    pending = backends._pending_servers(sandbox_backend, {i["name"] for i in instances})
    assert pending == {"mem": 512, "cpu": 2, "disk": 0}
    without = backends.measure_capacity(info, nodes, instances)
    with_pending = backends.measure_capacity(info, nodes, instances, pending)
    assert (without.mem_free - with_pending.mem_free, without.cpu_free - with_pending.cpu_free) == (512, 2)

    # in Ganeti: counted from the instance (maxmem, vcpus), and no longer as pending
    wait_job(ganeti_jobs.create_server(server, nics=[]))
    instances = rapi.list_instances()
    assert backends._pending_servers(sandbox_backend, {i["name"] for i in instances}) == {"mem": 0, "cpu": 0, "disk": 0}
    others = [i for i in instances if i["name"] != server.ganeti_name]
    full = backends.measure_capacity(info, nodes, instances)
    empty = backends.measure_capacity(info, nodes, others)
    assert (empty.mem_free - full.mem_free, empty.cpu_free - full.cpu_free) == (512, 2)
    assert full.cpu_total == sum(n["ctotal"] for n in nodes) * info["ipolicy"]["vcpu-ratio"]

    refreshed = backends.refresh_stats(sandbox_backend)
    assert 0 <= refreshed.mem_free <= refreshed.mem_total - 512
    assert 0 <= refreshed.cpu_free <= refreshed.cpu_total - 2
    assert refreshed.stats_updated_at > sandbox_backend.stats_updated_at


def test_remove_backend_refused_while_it_has_servers(sandbox_backend):
    server = ServerFactory(backend=sandbox_backend)
    with pytest.raises(ConflictError, match="still has 1 server"):
        backends.remove_backend(sandbox_backend)
    server.deleted = True
    server.save()
    backends.remove_backend(sandbox_backend)
    assert not Backend.objects.exists()
    server.refresh_from_db()
    assert server.backend is None


def test_server_lifecycle_through_ganeti_jobs(sandbox_backend, rapi, wait_job):
    flavor = FlavorFactory(ram=128, vcpus=1, disk_template="diskless")
    server = ServerFactory(
        backend=sandbox_backend, flavor=flavor, user_data="#cloud-config SECRET-USERDATA", key_data="ssh-ed25519 SECRET-KEY"
    )
    name = server.ganeti_name
    job = wait_job(ganeti_jobs.create_server(server, nics=[{"link": "br-gnt", "mode": "bridged"}]))
    info = rapi.get_instance(name)
    assert info["status"] == "running"
    assert set(ganeti_jobs.ownership_tags(server)) <= set(info["tags"])
    assert (info["beparams"]["maxmem"], info["beparams"]["vcpus"]) == (128, 1)
    # no secret reached Ganeti: not in the job, not in the instance's OS parameters
    assert "SECRET" not in json.dumps(job) and "SECRET" not in json.dumps(info)

    wait_job(ganeti_jobs.stop_server(server, timeout=0))
    assert rapi.get_instance(name)["status"] == "ADMIN_down"
    wait_job(ganeti_jobs.start_server(server))
    assert rapi.get_instance(name)["status"] == "running"
    soft = wait_job(ganeti_jobs.reboot_server(server, hard=False))
    hard = wait_job(ganeti_jobs.reboot_server(server, hard=True))
    assert (soft["ops"][0]["reboot_type"], hard["ops"][0]["reboot_type"]) == ("soft", "hard")

    bigger = FlavorFactory(ram=256, vcpus=2, disk_template="diskless")
    wait_job(ganeti_jobs.resize_server(server, bigger))
    be = rapi.get_instance(name)["beparams"]
    assert (be["maxmem"], be["minmem"], be["vcpus"]) == (256, 256, 2)

    wait_job(ganeti_jobs.add_nic(server, link="br-gnt", mode="bridged"))
    assert len(rapi.get_instance(name)["nic.macs"]) == 2
    wait_job(ganeti_jobs.remove_nic(server, 1))
    assert len(rapi.get_instance(name)["nic.macs"]) == 1

    console = ganeti_jobs.console_info(server)
    assert console["instance"] == name

    wait_job(ganeti_jobs.destroy_server(server))
    assert name not in rapi.list_instance_names()


def test_file_server_create_and_rebuild(sandbox_backend, rapi, wait_job):
    flavor = FlavorFactory(ram=128, vcpus=1, disk=1, disk_template="file")
    server = ServerFactory(backend=sandbox_backend, flavor=flavor)
    wait_job(ganeti_jobs.create_server(server, nics=[]))
    info = rapi.get_instance(server.ganeti_name)
    assert info["disk_template"] == "file" and info["disk.sizes"] == [1024]
    image = ImageFactory(ganeti_os="noop", ganeti_osparams={})
    job = wait_job(ganeti_jobs.rebuild_server(server, image))
    assert [op["OP_ID"] for op in job["ops"]][1] == "OP_INSTANCE_REINSTALL"
    assert rapi.get_instance(server.ganeti_name)["status"] == "running"
    wait_job(ganeti_jobs.destroy_server(server))


def test_secret_looking_os_parameters_are_refused_before_any_call(db):
    image = ImageFactory(ganeti_osparams={"img_passwd": "hunter2", "img_format": "diskdump"})
    backend = Backend(name="nowhere", rapi_host="127.0.0.1", rapi_port=1, rapi_user="u", disk_templates=["diskless"])
    backend.rapi_password = "x"
    backend.save()
    server = ServerFactory(backend=backend, image=image)
    with pytest.raises(InvalidInput, match="img_passwd"):
        ganeti_jobs.create_server(server, nics=[])


def test_client_for_uses_settings(sandbox_backend, settings):
    settings.CYCLADES = {**settings.CYCLADES, "RAPI_TIMEOUT": 3.5, "RAPI_READ_RETRIES": 1}
    client = backends.client_for(sandbox_backend)
    assert isinstance(client, RapiClient)
    assert (client.timeout, client.read_retries) == (3.5, 1)
    assert client.get_info()["name"] == sandbox_backend.name
