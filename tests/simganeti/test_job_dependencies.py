"""Ganeti's job dependencies (``depends`` in a RAPI body), as the real sandbox behaves.

Observed on the sandbox (Ganeti 3.0.2): a job depending on a job that failed ends in
error without running, its opcode's result ``["OpExecError", ["Dependency job N finished
with status 'error', not one of 'success' as required"]]``; the job file keeps
``depends`` in the opcode's input. The compute API relies on this for resize + restart
(modify → shutdown → startup, each depending on the previous one's success).
"""

from __future__ import annotations

import json
import os

from tests.simganeti.conftest import create_body


def test_a_job_whose_dependency_failed_errors_without_running(sim, rapi):
    failing = rapi.ok("PUT", "/2/instances/ghost/shutdown", {"timeout": 0})
    dependent = rapi.ok("PUT", "/2/instances/ghost/startup", {"depends": [[failing, ["success"]]]})
    result = rapi.wait(dependent)
    assert result["status"] == "error"
    assert result["opresult"] == [
        ["OpExecError", [f"Dependency job {failing} finished with status 'error', not one of 'success' as required"]]
    ]
    with open(os.path.join(sim.queue_dir, f"job-{dependent}")) as f:
        written = json.load(f)
    assert written["ops"][0]["input"]["depends"] == [[failing, ["success"]]]
    assert written["ops"][0]["start_timestamp"] and written["ops"][0]["end_timestamp"]


def test_a_chain_of_dependent_jobs_runs_in_order(sim, rapi):
    rapi.wait(rapi.ok("POST", "/2/instances", create_body("vm-dep")))
    modify = rapi.ok("PUT", "/2/instances/vm-dep/modify", {"beparams": {"maxmem": 512, "minmem": 512}, "hotplug": False})
    shutdown = rapi.ok("PUT", "/2/instances/vm-dep/shutdown", {"timeout": 0, "depends": [[modify, ["success"]]]})
    startup = rapi.ok("PUT", "/2/instances/vm-dep/startup", {"depends": [[shutdown, ["success"]]]})
    jobs = [rapi.wait(j) for j in (modify, shutdown, startup)]
    assert [j["status"] for j in jobs] == ["success"] * 3
    assert jobs[0]["end_ts"] <= jobs[1]["start_ts"] and jobs[1]["end_ts"] <= jobs[2]["start_ts"]
    inst = rapi.ok("GET", "/2/instances/vm-dep")
    assert inst["oper_state"] is True and inst["beparams"]["maxmem"] == 512


def test_malformed_dependencies_are_refused_at_submission(rapi):
    for depends in ("7", [[-1, ["success"]]], [[1, ["done"]]], [[1]]):
        resp = rapi.call("PUT", "/2/instances/ghost/startup", {"depends": depends})
        assert resp.status_code == 400, (depends, resp.text)
