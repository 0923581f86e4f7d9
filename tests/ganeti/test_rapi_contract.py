"""Contract tests of logic.rapi against the REAL Ganeti sandbox (Ganeti 3.0.2, fake hypervisor).

Every instance/network created here is named ``<GANETI_PREFIX>-...`` and removed
by the ``ganeti_reset`` fixture; nobody else's objects are touched.
"""

from __future__ import annotations

import datetime
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cyclades.logs import request_context
from logic.rapi import (
    JobFailed,
    RapiAuthFailed,
    RapiCertificateError,
    RapiClient,
    RapiNotFound,
    RapiUnavailable,
    extract_certificate,
)
from tests.fixtures_ganeti import create_instance as create
from tests.fixtures_ganeti import sandbox_client

pytestmark = [pytest.mark.ganeti, pytest.mark.usefixtures("ganeti_reset")]


def test_diskless_instance_lifecycle(rapi, wait_job, ganeti_prefix):
    name = f"{ganeti_prefix}-life"
    with request_context() as rid:
        job = wait_job(create(rapi, name))
    assert job["status"] == "success"
    # the request id reached Ganeti's reason trail
    assert any(entry[0] == "gnt:user" and rid in entry[1] for entry in job["ops"][0]["reason"])

    info = rapi.get_instance(name)
    assert info["status"] == "running" and info["disk_template"] == "diskless"
    assert info["beparams"]["maxmem"] == 128 and info["beparams"]["vcpus"] == 1
    assert "cyclades:test" in rapi.get_instance_tags(name)

    bulk = {i["name"]: i for i in rapi.list_instances()}
    assert name in bulk and bulk[name]["nic.links"] == ["br-gnt"]
    assert name in rapi.list_instance_names()

    wait_job(rapi.shutdown_instance(name, timeout=0))
    assert rapi.get_instance(name)["status"] == "ADMIN_down"

    wait_job(rapi.startup_instance(name))
    assert rapi.get_instance(name)["status"] == "running"

    soft = wait_job(rapi.reboot_instance(name, hard=False))
    assert soft["ops"][0]["OP_ID"] == "OP_INSTANCE_REBOOT" and soft["ops"][0]["reboot_type"] == "soft"
    hard = wait_job(rapi.reboot_instance(name, hard=True))
    assert hard["ops"][0]["reboot_type"] == "hard"
    assert rapi.get_instance(name)["status"] == "running"

    wait_job(rapi.modify_instance(name, beparams={"maxmem": 256, "minmem": 256, "vcpus": 2}))
    be = rapi.get_instance(name)["beparams"]
    assert (be["maxmem"], be["minmem"], be["vcpus"]) == (256, 256, 2)

    wait_job(rapi.modify_instance(name, nics=[["add", -1, {"link": "br-gnt", "mode": "bridged"}]]))
    assert len(rapi.get_instance(name)["nic.macs"]) == 2
    wait_job(rapi.modify_instance(name, nics=[["remove", 1, {}]]))
    assert len(rapi.get_instance(name)["nic.macs"]) == 1

    wait_job(rapi.add_instance_tags(name, ["cyclades:extra"]))
    assert "cyclades:extra" in rapi.get_instance_tags(name)
    wait_job(rapi.delete_instance_tags(name, ["cyclades:extra"]))
    assert "cyclades:extra" not in rapi.get_instance_tags(name)

    new_name = f"{ganeti_prefix}-renamed"
    with pytest.raises(JobFailed, match="cannot rename"):  # Ganeti renames stopped instances only
        wait_job(rapi.rename_instance(name, new_name))
    wait_job(rapi.shutdown_instance(name, timeout=0))
    wait_job(rapi.rename_instance(name, new_name))
    with pytest.raises(RapiNotFound):
        rapi.get_instance(name)
    assert rapi.get_instance(new_name)["name"] == new_name

    wait_job(rapi.remove_instance(new_name, shutdown_timeout=0))
    with pytest.raises(RapiNotFound):
        rapi.get_instance(new_name)
    assert new_name not in rapi.list_instance_names()


def test_file_instance_create_info_remove(rapi, wait_job, ganeti_prefix):
    name = f"{ganeti_prefix}-file"
    wait_job(create(rapi, name, disk_template="file", disks=[{"size": 64}]))
    info = rapi.get_instance(name)
    assert info["disk_template"] == "file" and info["disk.sizes"] == [64]
    assert info["status"] == "running"
    # reinstall (rebuild) needs a disk: Ganeti refuses it for diskless instances
    job = wait_job(rapi.reinstall_instance(name, os="noop", osparams={}, start=True))
    assert [op["OP_ID"] for op in job["ops"]] == ["OP_INSTANCE_SHUTDOWN", "OP_INSTANCE_REINSTALL", "OP_INSTANCE_STARTUP"]
    assert rapi.get_instance(name)["status"] == "running"
    wait_job(rapi.remove_instance(name, shutdown_timeout=0))
    assert name not in rapi.list_instance_names()


def test_failing_job_surfaces_ganetis_error_text(rapi, wait_job, ganeti_prefix):
    name = f"{ganeti_prefix}-gone"
    wait_job(create(rapi, name, nics=()))
    wait_job(rapi.remove_instance(name, shutdown_timeout=0))
    job_id = rapi.startup_instance(name)  # accepted: the failure is the job's
    with pytest.raises(JobFailed) as failed:
        rapi.wait_for_job(job_id)
    err = failed.value
    assert err.job_id == job_id and err.job_status == "error"
    assert err.error_type == "OpPrereqError"
    assert err.message == f"Instance '{name}' not known"
    assert name in str(err)
    assert rapi.get_job(job_id)["status"] == "error"


def test_job_status_wait_and_cancel(rapi, wait_job, ganeti_prefix):
    name = f"{ganeti_prefix}-job"
    create_job = create(rapi, name, nics=())
    # waits for the create (a job dependency): cancellable meanwhile
    remove_job = rapi.remove_instance(name, shutdown_timeout=0, depends=[create_job])
    assert isinstance(create_job, int) and remove_job > create_job
    assert rapi.get_job(remove_job)["status"] in {"queued", "waiting"}
    ok, message = rapi.cancel_job(remove_job)
    assert ok is True, message
    with pytest.raises(JobFailed) as canceled:
        rapi.wait_for_job(remove_job)
    assert canceled.value.job_status == "canceled"
    assert wait_job(create_job)["status"] == "success"
    assert rapi.get_instance(name)["status"] == "running"  # the remove never ran
    change = rapi.wait_for_job_change(create_job, ["status"], None)
    assert change["job_info"] == ["success"]
    with pytest.raises(RapiNotFound):
        rapi.get_job(2**40)
    with pytest.raises(RapiNotFound):
        rapi.wait_for_job(2**40)


def test_network_add_connect_use_disconnect_remove(rapi, wait_job, ganeti_prefix, ganeti_sandbox):
    net = f"{ganeti_prefix}-net-1"
    wait_job(rapi.create_network(net, "10.77.0.0/24", gateway="10.77.0.1"))
    assert rapi.get_network(net)["network"] == "10.77.0.0/24"
    assert net in rapi.list_networks()
    wait_job(rapi.connect_network(net, "default", mode="bridged", link=ganeti_sandbox["GANETI_NIC_LINK"]))
    assert rapi.get_network(net)["group_list"] == [["default", "bridged", "br-gnt", ""]]

    name = f"{ganeti_prefix}-onnet"
    wait_job(create(rapi, name, nics=[{"network": net, "ip": "pool"}]))
    ip = rapi.get_instance(name)["nic.ips"][0]
    assert ip.startswith("10.77.0.")
    assert name in rapi.get_network(net)["inst_list"]
    wait_job(rapi.remove_instance(name, shutdown_timeout=0))

    wait_job(rapi.disconnect_network(net, "default"))
    assert rapi.get_network(net)["group_list"] == []
    wait_job(rapi.remove_network(net))
    with pytest.raises(RapiNotFound):
        rapi.get_network(net)


def test_cluster_nodes_groups(rapi, ganeti_sandbox):
    info = rapi.get_info()
    assert info["name"] == ganeti_sandbox["GANETI_RAPI_NAME"]
    assert ganeti_sandbox["GANETI_NODE"] in rapi.list_nodes()
    node = rapi.get_node(ganeti_sandbox["GANETI_NODE"])
    assert node["mtotal"] > 0 and node["vm_capable"] is True
    assert "default" in rapi.list_groups()
    assert rapi.get_group("default")["node_cnt"] >= 1
    assert {n["name"] for n in rapi.list_nodes(bulk=True)} >= {ganeti_sandbox["GANETI_NODE"]}


# ----------------------------------------------------------------------------- refusals
def _other_certificate() -> str:
    """A self-signed certificate with Ganeti's CN, but not the cluster's."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ganeti.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_certificate_pinning_rejects_a_different_certificate(ganeti_sandbox):
    env = ganeti_sandbox
    client = RapiClient(
        env["GANETI_RAPI_HOST"],
        int(env["GANETI_RAPI_PORT"]),
        env["GANETI_RAPI_USER"],
        env["GANETI_RAPI_PASSWORD"],
        _other_certificate(),
    )
    with pytest.raises(RapiCertificateError):
        client.get_info()
    # the real certificate passes, and without any pin the self-signed cluster is not trusted either
    assert sandbox_client(env).get_info()["name"] == env["GANETI_RAPI_NAME"]
    unpinned = RapiClient(
        env["GANETI_RAPI_HOST"], int(env["GANETI_RAPI_PORT"]), env["GANETI_RAPI_USER"], env["GANETI_RAPI_PASSWORD"], None
    )
    with pytest.raises(RapiCertificateError):
        unpinned.get_info()


def test_certificate_pin_ignores_the_private_key_in_rapi_pem(ganeti_sandbox):
    with open(ganeti_sandbox["GANETI_RAPI_CERT"]) as f:
        pem = f.read()
    cert = extract_certificate(pem)
    assert "PRIVATE KEY" not in cert and cert.startswith("-----BEGIN CERTIFICATE-----")


def test_wrong_password_is_auth_failed(ganeti_sandbox):
    env = ganeti_sandbox
    with open(env["GANETI_RAPI_CERT"]) as f:
        pem = f.read()
    client = RapiClient(env["GANETI_RAPI_HOST"], int(env["GANETI_RAPI_PORT"]), env["GANETI_RAPI_USER"], "not-the-password", pem)
    with pytest.raises(RapiAuthFailed) as failed:
        client.get_info()
    assert failed.value.status == 401 and "Unauthorized" in failed.value.message


@pytest.mark.parametrize(
    ("host", "port", "timeout"),
    [
        ("127.0.0.1", 1, 2.0),  # nobody listens: refused at once, retried within the budget
        ("198.51.100.99", 5080, 1.0),  # in the sandbox /24 but nobody there: no answer at all
    ],
    ids=["closed-port", "blackhole"],
)
def test_unreachable_rapi_is_unavailable_within_the_timeout(ganeti_sandbox, host, port, timeout):
    env = ganeti_sandbox
    with open(env["GANETI_RAPI_CERT"]) as f:
        pem = f.read()
    client = RapiClient(host, port, env["GANETI_RAPI_USER"], env["GANETI_RAPI_PASSWORD"], pem, timeout=timeout)
    started = time.monotonic()
    with pytest.raises(RapiUnavailable):
        client.get_info()
    elapsed = time.monotonic() - started
    assert elapsed <= timeout + 0.5, f"took {elapsed:.2f}s for a {timeout}s timeout"
    # a job submission is not retried, and is bounded the same way
    started = time.monotonic()
    with pytest.raises(RapiUnavailable):
        client.startup_instance("whatever")
    assert time.monotonic() - started <= timeout + 0.5
