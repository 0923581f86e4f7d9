"""Behaviour of the simulated master: RAPI errors, job progressions, pools, faults, persistence."""

from __future__ import annotations

import time

import pytest
import requests

from simganeti import SimGaneti
from tests.simganeti.conftest import Rapi, create_body


def test_error_shapes_and_status_codes(sim, rapi):
    bad = requests.get(sim.url + "/2/info", auth=("ganeti-rapi", "wrong"), verify=False, timeout=5)
    assert bad.status_code == 401
    assert bad.json() == {"code": 401, "message": "Unauthorized", "explain": "No permission -- see authorization schemes"}
    assert bad.headers["WWW-Authenticate"] == 'Basic realm="Ganeti Remote API"'
    missing = rapi.call("GET", "/2/instances/nope")
    assert (missing.status_code, missing.json()["explain"]) == (404, "Nothing matches the given URI")
    assert rapi.call("POST", "/2/info").status_code == 501
    plain = rapi.session.post(sim.url + "/2/instances", data="{}", headers={"Content-Type": "text/plain"}, timeout=5)
    assert plain.status_code == 415
    reboot = rapi.call("POST", "/2/instances/x/reboot?type=bogus")
    assert reboot.status_code == 400
    assert "OP_INSTANCE_REBOOT.reboot_type" in reboot.json()["message"]
    unknown = rapi.call("POST", "/2/instances", create_body("x", bogus_key=1))
    assert unknown.status_code == 400 and "bogus_key" in unknown.json()["message"]
    assert (
        rapi.call("POST", "/2/instances", {"instance_name": "x"})
        .json()["message"]
        .startswith("Instance creation request version 0")
    )
    assert rapi.ok("GET", "/2/jobs/4242")["status"] is None  # Ganeti: unknown job = 200 with nulls
    assert rapi.ok("GET", "/2/instances") == []


def test_job_goes_through_queued_waiting_running_success(sim, rapi):
    sim.faults.slowdown = 4
    sim.faults.hold_jobs()
    job = rapi.ok("POST", "/2/instances", create_body("vm-1"))
    seen = []
    previous = None
    while not seen or seen[-1] not in ("success", "error"):
        change = rapi.ok("GET", f"/2/jobs/{job}/wait", {"fields": ["status"], "previous_job_info": previous})
        previous = change["job_info"]
        seen.append(previous[0])
        sim.faults.release_jobs()
    assert seen[0] == "queued" and seen[-1] == "success"
    assert "running" in seen
    info = rapi.ok("GET", f"/2/jobs/{job}")
    assert info["summary"] == ["INSTANCE_CREATE(vm-1)"]
    assert info["received_ts"] <= info["start_ts"] <= info["end_ts"]
    inst = rapi.ok("GET", "/2/instances/vm-1")
    assert (inst["status"], inst["admin_state"], inst["oper_state"]) == ("running", "up", True)


def test_unknown_instance_fails_in_the_job_like_ganeti(rapi):
    job = rapi.ok("PUT", "/2/instances/ghost/shutdown", {"timeout": 0})
    result = rapi.wait(job)
    assert result["opresult"] == [["OpPrereqError", ["Instance 'ghost' not known", "unknown_entity"]]]


def test_ip_pool_allocation_release_and_exhaustion(rapi):
    rapi.wait(rapi.ok("POST", "/2/networks", {"network_name": "tiny", "network": "10.9.0.0/30", "gateway": "10.9.0.1"}))
    rapi.wait(
        rapi.ok("PUT", "/2/networks/tiny/connect", {"group_name": "default", "network_mode": "bridged", "network_link": "br0"})
    )
    nic = [{"ip": "pool", "network": "tiny"}]
    first = rapi.wait(rapi.ok("POST", "/2/instances", create_body("a", nics=nic)))
    assert first["status"] == "success"
    assert rapi.ok("GET", "/2/instances/a")["nic.ips"] == ["10.9.0.2"]
    net = rapi.ok("GET", "/2/networks/tiny")
    assert (net["free_count"], net["map"], net["inst_list"]) == (0, "XXXX", ["a"])
    second = rapi.wait(rapi.ok("POST", "/2/instances", create_body("b", nics=nic)))
    assert second["status"] == "error" and second["opresult"][0][1][1] == "wrong_state"
    assert rapi.call("GET", "/2/instances/b").status_code == 404
    blocked = rapi.wait(rapi.ok("PUT", "/2/networks/tiny/disconnect", {"group_name": "default"}))
    assert blocked["status"] == "error"
    rapi.wait(rapi.ok("DELETE", "/2/instances/a"))
    assert rapi.ok("GET", "/2/networks/tiny")["free_count"] == 1


def test_fault_fail_next_only_hits_the_matching_opcode_once(sim, rapi):
    rapi.wait(rapi.ok("POST", "/2/instances", create_body("vm-1")))
    sim.faults.fail_next("OP_INSTANCE_SHUTDOWN", "vm-1", "boom")
    failed = rapi.wait(rapi.ok("PUT", "/2/instances/vm-1/shutdown"))
    assert (failed["status"], failed["opresult"]) == ("error", [["OpExecError", ["boom"]]])
    assert rapi.ok("GET", "/2/instances/vm-1")["status"] == "running"  # nothing changed
    assert rapi.wait(rapi.ok("PUT", "/2/instances/vm-1/shutdown"))["status"] == "success"


def test_fault_rapi_unavailable_drops_connections_admin_still_answers(sim, rapi):
    rapi.ok("POST", "/simganeti/faults", {"action": "rapi_unavailable", "value": True})
    with pytest.raises(requests.ConnectionError):
        rapi.call("GET", "/2/info")
    rapi.ok("POST", "/simganeti/faults", {"action": "rapi_unavailable", "value": False})
    assert rapi.ok("GET", "/2/info")["name"] == sim.cluster.name


def test_fault_hold_jobs_then_cancel(sim, rapi):
    sim.faults.hold_jobs()
    job = rapi.ok("POST", "/2/instances", create_body("held"))
    time.sleep(0.3)
    assert rapi.ok("GET", f"/2/jobs/{job}")["status"] == "queued"
    assert rapi.ok("DELETE", f"/2/jobs/{job}") == [True, f"Job {job} canceled"]
    result = rapi.wait(job)
    assert (result["status"], result["opresult"]) == ("canceled", ["Job canceled by request"])
    assert rapi.call("GET", "/2/instances/held").status_code == 404
    sim.faults.release_jobs()
    assert rapi.ok("DELETE", f"/2/jobs/{job}")[0] is False


def test_fault_slow_jobs_take_longer(sim, rapi):
    rapi.wait(rapi.ok("POST", "/2/instances", create_body("vm-1")))
    started = time.monotonic()
    rapi.wait(rapi.ok("POST", "/2/instances/vm-1/reboot?type=soft"))
    fast = time.monotonic() - started
    sim.faults.slowdown = 20
    started = time.monotonic()
    rapi.wait(rapi.ok("POST", "/2/instances/vm-1/reboot?type=soft"))
    assert time.monotonic() - started > fast + 0.3


def test_fault_instance_dies(sim, rapi):
    rapi.wait(rapi.ok("POST", "/2/instances", create_body("vm-1")))
    rapi.ok("POST", "/simganeti/instances/vm-1/kill")
    inst = rapi.ok("GET", "/2/instances/vm-1")
    assert (inst["status"], inst["admin_state"], inst["oper_state"]) == ("ERROR_down", "up", False)
    assert rapi.call("POST", "/simganeti/instances/ghost/kill").status_code == 404


def test_state_and_job_ids_survive_a_restart(tmp_path):
    first = SimGaneti(str(tmp_path / "s"), time_scale=0.05).start()
    rapi = Rapi(first)
    job = rapi.ok("POST", "/2/instances", create_body("keep"))
    rapi.wait(job)
    password = first.credentials[1]
    first.stop()
    second = SimGaneti(str(tmp_path / "s"), time_scale=0.05).start()
    try:
        assert second.credentials[1] == password
        rapi = Rapi(second)
        assert rapi.ok("GET", "/2/instances/keep")["status"] == "running"
        assert rapi.ok("GET", f"/2/jobs/{job}")["status"] == "success"
        assert rapi.ok("PUT", "/2/instances/keep/shutdown") == job + 1
    finally:
        second.stop()


@pytest.mark.realclock  # TLS: OpenSSL checks the certificate against the real clock
def test_the_product_client_talks_to_the_simulator(sim):
    """logic.rapi.RapiClient with the simulator's pinned certificate: create, then wait."""
    from logic.rapi import RapiClient

    user, password = sim.credentials
    with RapiClient(sim.host, sim.port, user, password, sim.certificate, timeout=10) as client:
        assert client.get_info()["software_version"] == "3.0.2"
        job = client.create_instance("pc-1", disk_template="diskless", disks=[], nics=[{}], os="noop", beparams={"maxmem": 128})
        assert client.wait_for_job(job, timeout=30)["status"] == "success"
        assert client.get_instance("pc-1")["status"] == "running"
