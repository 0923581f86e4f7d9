"""A simulated Ganeti listing for reconciliation tests and the benchmark, shaped like the real one
(``samples/instances-bulk.json``, ``GET /2/instances?bulk=1``; jobs like ``samples/job-create-full.json``)."""

from __future__ import annotations

import copy
import json
import os

from logic.rapi import RapiNotFound
from tests.pipeline.jobevents import SAMPLES

with open(os.path.join(SAMPLES, "instances-bulk.json")) as _f:
    TEMPLATE = json.load(_f)[0]
with open(os.path.join(SAMPLES, "job-create-full.json")) as _f:
    JOB_TEMPLATE = json.load(_f)


def instance(
    name: str,
    *,
    running: bool = True,
    vcpus: int = 1,
    maxmem: int = 256,
    nics: list[tuple[str, str | None]] = (),
    tags: list[str] = (),
    ctime: float | None = None,
    link: str = "br-gnt",
) -> dict:
    """One bulk-listing entry like Ganeti's, for ``name``."""
    inst = copy.deepcopy(TEMPLATE)
    inst.update(
        name=name, oper_state=running, status="running" if running else "ADMIN_down", admin_state="up" if running else "down"
    )
    inst["tags"] = list(tags)
    if ctime is not None:
        inst["ctime"] = ctime
    inst["beparams"].update(vcpus=vcpus, maxmem=maxmem, minmem=maxmem, memory=maxmem)
    inst["nic.macs"] = [mac for mac, _ in nics]
    inst["nic.ips"] = [ip for _, ip in nics]
    inst["nic.networks.names"] = [None for _ in nics]
    inst["nic.networks"] = [None for _ in nics]
    inst["nic.links"] = [link for _ in nics]
    inst["nic.modes"] = ["bridged" for _ in nics]
    return inst


def job(job_id: int, opcode: str, name: str, status: str, end: list[int], result=None) -> dict:
    j = copy.deepcopy(JOB_TEMPLATE)
    j.update(id=job_id, status=status, opstatus=[status], opresult=[result], end_ts=end, summary=[f"{opcode}({name})"])
    j["ops"] = [{"OP_ID": opcode, "instance_name": name}]
    j["oplog"] = [[]]
    return j


class FakeCluster:
    """list_instances / get_job / remove_instance over in-memory data; counts the calls (one listing per run)."""

    def __init__(self, instances: list[dict] = (), jobs: dict[int, dict] | None = None):
        self.instances = list(instances)
        self.jobs = dict(jobs or {})
        self.listings = 0
        self.removed: list[str] = []

    def remove_instance(self, name: str, *, reason: str | None = None) -> int:
        self.removed.append(name)
        self.instances = [i for i in self.instances if i["name"] != name]
        return 1000 + len(self.removed)

    def list_instances(self) -> list[dict]:
        self.listings += 1
        return copy.deepcopy(self.instances)

    def get_job(self, job_id: int) -> dict:
        if job_id not in self.jobs:
            raise RapiNotFound(f"job {job_id} not found", 404)
        return self.jobs[job_id]
