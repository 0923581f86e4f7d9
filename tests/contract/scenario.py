"""The contract scenario: the same RAPI calls against any Ganeti, recording what came back.

Recorded are shapes (keys and value types, see :mod:`tests.contract.shapes`), the
status codes of error cases, and the signature of each job's final job file.
Everything created is named with the side's prefix and removed at the end.
"""

from __future__ import annotations

import os
import time
from typing import Any

import requests

from logic.rapi import JobFailed, RapiClient, RapiNotFound
from tests.contract.shapes import job_file_signature, shape


class Recording(dict):
    """name -> recorded shape; ``job_status`` keeps each job's final status."""

    def __init__(self) -> None:
        super().__init__()
        self.job_status: dict[str, str] = {}


def _run_job(rec: Recording, side, label: str, job_id: int, *, expect: str = "success") -> dict:
    client: RapiClient = side.client
    try:
        job = client.wait_for_job(job_id, timeout=60)
    except JobFailed as exc:
        job = exc.job or client.get_job(job_id)
    rec.job_status[label] = job["status"]
    assert job["status"] == expect, f"{side.name}: job {label} ({job_id}) ended {job['status']}: {job.get('opresult')}"
    rec[f"job.{label}"] = shape(job)
    path = os.path.join(side.queue_dir, f"job-{job_id}")
    with open(path) as f:
        rec[f"jobfile.{label}"] = job_file_signature(f.read())
    return job


def _raw(side, method: str, path: str, *, auth=None, **kw) -> tuple[int, Any]:
    response = requests.request(method, side.url + path, auth=auth or side.auth, verify=False, timeout=20, **kw)
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return response.status_code, body


def run(side) -> Recording:
    import urllib3

    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    client: RapiClient = side.client
    rec = Recording()
    p = side.prefix
    net, inst = f"{p}-net", f"{p}-1"
    rec["info"] = shape(client.get_info(), depth=1)
    rec["features"] = shape(client.get_features())
    rec["os"] = shape(client.list_operating_systems())
    rec["nodes.bulk"] = shape(client.list_nodes(bulk=True), depth=2)
    rec["groups.bulk"] = shape(client.list_groups(bulk=True), depth=2)
    rec["groups.list"] = shape(client.request("GET", "/2/groups"))
    rec["nodes.list"] = shape(client.request("GET", "/2/nodes"))
    try:
        _run_job(
            rec,
            side,
            "network_add",
            client.create_network(net, side.cidr, gateway=side.cidr.replace(".0/28", ".1"), tags=["contract"]),
        )
        _run_job(rec, side, "network_connect", client.connect_network(net, "default", link=side.link))
        rec["network.get"] = shape(client.get_network(net))
        rec["networks.list"] = shape([n for n in client.request("GET", "/2/networks") if n.get("name") == net])
        job = client.create_instance(
            inst,
            disk_template="diskless",
            disks=[],
            nics=[{"network": net, "ip": "pool", "name": "nic-0"}],
            os="noop",
            beparams={"maxmem": 128, "minmem": 128, "vcpus": 1},
            tags=["contract"],
        )
        _run_job(rec, side, "create", job)
        rec["instances.list"] = shape([i for i in client.request("GET", "/2/instances") if i.get("id") == inst])
        rec["instance.running"] = shape(client.get_instance(inst))
        rec["instances.bulk"] = shape([i for i in client.list_instances() if i["name"] == inst])
        rec["instance.tags"] = shape(client.get_instance_tags(inst))
        rec["instance.console"] = shape(client.get_instance_console(inst))
        _run_job(rec, side, "tags_add", client.add_instance_tags(inst, ["extra"]))
        _run_job(rec, side, "reboot_soft", client.reboot_instance(inst, hard=False))
        _run_job(rec, side, "modify", client.modify_instance(inst, beparams={"maxmem": 256, "minmem": 256}))
        _run_job(rec, side, "shutdown", client.shutdown_instance(inst, timeout=0))
        rec["instance.stopped"] = shape(client.get_instance(inst))
        _run_job(rec, side, "reboot_stopped", client.reboot_instance(inst, hard=True))
        rec["instance.after_reboot_stopped"] = shape(client.get_instance(inst))
        rec["status.after_reboot_stopped"] = client.get_instance(inst)["status"]
        _run_job(rec, side, "startup", client.startup_instance(inst))
        wait = client.wait_for_job_change(client.shutdown_instance(inst, timeout=0), ["status", "opstatus"])
        rec["job.wait"] = shape(wait)
        _run_job(rec, side, "disconnect_in_use", client.disconnect_network(net, "default"), expect="error")
        _run_job(rec, side, "remove", client.remove_instance(inst))
        _run_job(rec, side, "unknown_instance", client.shutdown_instance(f"{p}-ghost", timeout=0), expect="error")
        # error answers of the RAPI itself
        rec["error.404"] = (
            *_raw(side, "GET", f"/2/instances/{p}-ghost")[:1],
            shape(_raw(side, "GET", f"/2/instances/{p}-ghost")[1]),
        )
        status, body = _raw(side, "GET", "/2/info", auth=("nobody", "wrong"))
        rec["error.401"] = (status, shape(body))
        status, body = _raw(side, "POST", f"/2/instances/{p}-ghost/reboot?type=bogus")
        rec["error.400"] = (status, shape(body))
        status, body = _raw(side, "POST", "/2/info")
        rec["error.501"] = (status, shape(body))
        rec["job.unknown"] = shape(client.request("GET", f"/2/jobs/{2**31 - 7}"))
    finally:
        _cleanup(client, inst, net)
    return rec


def _cleanup(client: RapiClient, inst: str, net: str, attempts: int = 5) -> None:
    """Remove what this run created (only that: the names carry the run's prefix).

    Retried: on the shared sandbox, other sessions' jobs can make Ganeti ask for a
    retry ("changed since locks were acquired").
    """
    for attempt in range(attempts):
        try:
            _cleanup_once(client, inst, net)
            return
        except JobFailed:
            if attempt == attempts - 1:
                raise
            time.sleep(1 + attempt)


def _cleanup_once(client: RapiClient, inst: str, net: str) -> None:
    try:
        client.get_instance(inst)
        client.wait_for_job(client.remove_instance(inst), timeout=60)
    except RapiNotFound:
        pass
    try:
        info = client.get_network(net)
    except RapiNotFound:
        return
    for group in info.get("group_list") or []:
        client.wait_for_job(client.disconnect_network(net, group[0]), timeout=60)
    client.wait_for_job(client.remove_network(net), timeout=60)
