"""The simulator's job files against the real Ganeti 3.0 samples (every version of each job)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from tests.contract.shapes import signature_sequence
from tests.simganeti.conftest import create_body

SAMPLES = Path(os.environ.get("CYCLADES_GANETI_SAMPLES", "/work/shared/ganeti-sandbox/samples")) / "job-queue"


def sample_versions(job: int) -> list[str]:
    if not SAMPLES.is_dir():
        pytest.skip(f"real job samples not found at {SAMPLES}")
    files = sorted(SAMPLES.glob(f"job-{job}.*"), key=lambda p: int(p.suffix[1:]))
    return [p.read_text().strip() for p in files]


@pytest.fixture
def recorded(sim):
    """Every version the simulator writes, per job id (as eventd would read them)."""
    versions: dict[int, list[str]] = {}
    original = sim.queue._write
    lock = threading.Lock()

    def record(job):
        original(job)
        with open(os.path.join(sim.queue_dir, f"job-{job.id}")) as f:
            text = f.read()
        with lock:
            versions.setdefault(job.id, []).append(text)

    sim.queue._write = record
    return versions


def _assert_same_format(real: list[str], simulated: list[str]) -> None:
    expected, got = signature_sequence(real), signature_sequence(simulated)
    assert [s[2][0][1] for s in got] == [s[2][0][1] for s in expected], "status progression differs"
    for i, (e, g) in enumerate(zip(expected, got, strict=True)):
        assert g == e, f"version {i} differs:\nreal {e}\nsim  {g}"


def test_create_versions_match_the_real_job(rapi, recorded):
    job = rapi.ok("POST", "/2/instances", create_body("smoke-1"))
    assert rapi.wait(job)["status"] == "success"
    _assert_same_format(sample_versions(2), recorded[job])


@pytest.mark.parametrize(
    ("sample", "method", "path", "body"),
    [
        (3, "PUT", "/2/instances/smoke-1/shutdown", None),
        (4, "PUT", "/2/instances/smoke-1/startup", None),
        (5, "POST", "/2/instances/smoke-1/reboot?type=hard", None),
        (6, "DELETE", "/2/instances/smoke-1", None),
    ],
)
def test_instance_operations_match_the_real_jobs(rapi, recorded, sample, method, path, body):
    rapi.wait(rapi.ok("POST", "/2/instances", create_body("smoke-1")))
    if sample == 4:
        rapi.wait(rapi.ok("PUT", "/2/instances/smoke-1/shutdown"))
    job = rapi.ok(method, path, body)
    assert rapi.wait(job)["status"] == "success"
    _assert_same_format(sample_versions(sample), recorded[job])


def test_network_jobs_and_pool_create_match(rapi, recorded):
    add = rapi.ok(
        "POST",
        "/2/networks",
        {
            "network_name": "snf-net-1",
            "network": "10.0.1.0/24",
            "gateway": "10.0.1.1",
            "mac_prefix": "aa:00:01",
            "conflicts_check": True,
            "tags": ["synnefo", "synnefo:network:public"],
        },
    )
    rapi.wait(add)
    connect = rapi.ok(
        "PUT",
        "/2/networks/snf-net-1/connect",
        {
            "group_name": "default",
            "network_mode": "bridged",
            "network_link": "br-gnt",
            "network_vlan": "",
            "conflicts_check": True,
        },
    )
    rapi.wait(connect)
    body = create_body(
        "snf-1",
        nics=[{"ip": "pool", "name": "nic-0", "network": "snf-net-1"}],
        beparams={"auto_balance": False, "maxmem": 512, "minmem": 512, "vcpus": 1},
        tags=["synnefo:user:demo"],
        wait_for_sync=False,
        iallocator="hail",
    )
    create = rapi.ok("POST", "/2/instances", body)
    done = rapi.wait(create)
    shutdown = rapi.ok("PUT", "/2/instances/snf-1/shutdown", {"timeout": 0})
    rapi.wait(shutdown)
    _assert_same_format(sample_versions(7), recorded[add])
    _assert_same_format(sample_versions(8), recorded[connect])
    _assert_same_format(sample_versions(9), recorded[create])
    _assert_same_format(sample_versions(10), recorded[shutdown])
    log = [entry[3] for entry in done["oplog"][0]]
    assert " - INFO: Chose IP 10.0.1.2 from network snf-net-1" in log
    assert rapi.ok("GET", "/2/instances/snf-1")["nic.ips"] == ["10.0.1.2"]


def test_failed_job_matches_the_real_failed_job(sim, rapi, recorded):
    rapi.wait(rapi.ok("POST", "/2/instances", create_body("snf-1")))
    sim.faults.fail_next("OP_INSTANCE_REBOOT", "snf-1", "simulated hypervisor failure")
    job = rapi.ok("POST", "/2/instances/snf-1/reboot?type=hard")
    result = rapi.wait(job)
    assert result["status"] == "error"
    assert result["opresult"] == [["OpExecError", ["simulated hypervisor failure"]]]
    _assert_same_format(sample_versions(19), recorded[job])


def test_every_version_is_complete_json_renamed_into_place(sim, rapi):
    """What eventd sees: IN_MOVED_TO of job-N, each time a whole, parseable file."""
    import inotify_simple

    inotify = inotify_simple.INotify()
    inotify.add_watch(sim.queue_dir, inotify_simple.flags.MOVED_TO | inotify_simple.flags.CLOSE_WRITE)
    job = rapi.ok("POST", "/2/instances", create_body("watch-1"))
    rapi.wait(job)
    events = inotify.read(timeout=500)
    inotify.close()
    moved = [e.name for e in events if e.mask & inotify_simple.flags.MOVED_TO]
    written_in_place = [e.name for e in events if e.mask & inotify_simple.flags.CLOSE_WRITE and e.name.startswith("job-")]
    assert moved.count(f"job-{job}") >= 6
    assert written_in_place == []  # never written in place: only temporary files are
    final = json.loads(Path(sim.queue_dir, f"job-{job}").read_text())
    assert [op["status"] for op in final["ops"]] == ["success"]
    assert [n for n in os.listdir(sim.queue_dir) if not n.startswith("job-")] == []
