"""Contract messages built from the REAL sample job files of the Ganeti sandbox.

The sandbox's ``samples/job-queue/job-N.MM`` are successive versions of real job
files; this turns them into the messages eventd publishes (one per opcode per
status change), renamed to an instance of the test run, so that the transition
tests replay what Ganeti really wrote.
"""

from __future__ import annotations

import glob
import json
import os

SAMPLES = os.environ.get("CYCLADES_GANETI_SAMPLES", "/work/shared/ganeti-sandbox/samples")
CLUSTER = "cluster.ganeti.test"
INPUT_FIELDS = ("nics", "disks", "beparams", "hvparams", "osparams", "os_type", "new_name", "reboot_type", "disk_template")
# What Ganeti reported for the instance of job 9 (samples/hook-env/instance-add-post.env).
SAMPLE_NIC = {
    "index": 0,
    "name": "nic-0",
    "uuid": "a7944ce8-a17e-479d-9c5f-b8acf1debefe",
    "mac": "aa:00:01:ff:55:a7",
    "ip": "10.0.1.2",
    "network": "snf-net-1",
    "mode": "bridged",
    "link": "br-gnt",
}
LIVE_OPS = {"OP_INSTANCE_CREATE", "OP_INSTANCE_STARTUP", "OP_INSTANCE_SET_PARAMS", "OP_INSTANCE_REBOOT"}


def job_versions(job: int) -> list[dict]:
    """Every stored version of ``job-<job>`` in the order Ganeti wrote them."""
    paths = sorted(glob.glob(os.path.join(SAMPLES, "job-queue", f"job-{job}.*")))
    if not paths:
        raise FileNotFoundError(f"no sample versions of job {job} under {SAMPLES}/job-queue")
    out = []
    for path in paths:
        with open(path) as f:
            out.append(json.load(f))
    return out


def job_status(job: dict) -> str:
    """The whole job's status, computed from its opcodes as Ganeti does."""
    statuses = [op["status"] for op in job["ops"]]
    for st in ("error", "canceled", "canceling"):
        if st in statuses:
            return st
    if all(s == "success" for s in statuses):
        return "success"
    if "running" in statuses:
        return "running"
    if "waiting" in statuses:
        return "waiting"
    return "queued"


def event_time(job: dict, op: dict) -> list[int]:
    for key in ("end_timestamp", "exec_timestamp", "start_timestamp"):
        if op.get(key):
            return list(op[key])
    return list(job["received_timestamp"])


def message(
    job: dict, index: int, *, instance: str, cluster: str = CLUSTER, nics: list[dict] | None = None, job_id: int | None = None
) -> dict:
    """The contract message for opcode ``index`` of this version of ``job``."""
    op = job["ops"][index]
    inp = op["input"]
    jid = job["id"] if job_id is None else job_id
    msg = {
        "type": "ganeti-op-status",
        "id": f"{cluster}:{jid}:{index}:{op['status']}",
        "cluster": cluster,
        "job_id": jid,
        "op_index": index,
        "operation": inp["OP_ID"],
        "instance": instance,
        "network": None,
        "status": op["status"],
        "job_status": job_status(job),
        "event_time": event_time(job, op),
        "logmsg": op["log"][-1][3] if op["log"] else "",
        "result": op["result"],
        "job_fields": {k: inp[k] for k in INPUT_FIELDS if k in inp},
        "reason": inp.get("reason", []),
    }
    if op["status"] == "success" and inp["OP_ID"] in LIVE_OPS:
        be = inp.get("beparams") or {"vcpus": 1, "maxmem": 256, "minmem": 256}
        msg["instance_nics"] = nics if nics is not None else [SAMPLE_NIC]
        msg["instance_disks"] = []
        msg["instance_beparams"] = {"vcpus": be.get("vcpus", 1), "maxmem": be.get("maxmem", 256), "minmem": be.get("minmem", 256)}
    return msg


def job_messages(
    job: int, *, instance: str, cluster: str = CLUSTER, nics: list[dict] | None = None, job_id: int | None = None
) -> list[dict]:
    """One message per opcode status change across the stored versions of ``job``."""
    out: list[dict] = []
    seen: dict[int, str] = {}
    for version in job_versions(job):
        for index, op in enumerate(version["ops"]):
            if seen.get(index) != op["status"]:
                seen[index] = op["status"]
                out.append(message(version, index, instance=instance, cluster=cluster, nics=nics, job_id=job_id))
    return out


# The life of an instance in the samples: create, shutdown, startup, reboot, remove (jobs 2-6);
# create on a network, shutdown, a reboot that failed (jobs 9, 10, 19).
LIFECYCLE_JOBS = (2, 3, 4, 5, 6)
NETWORK_JOBS = (9, 10, 19)


def lifecycle(jobs: tuple[int, ...], *, instance: str, cluster: str = CLUSTER) -> list[dict]:
    out: list[dict] = []
    for job in jobs:
        out.extend(job_messages(job, instance=instance, cluster=cluster))
    return out
