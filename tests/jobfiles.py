"""Job files in Ganeti's format, written into a queue directory the way Ganeti writes them.

Tests and benchmarks that drive a real ``cyclades-eventd`` without a Ganeti master
write create jobs built from the sandbox's real ``job-2.10`` sample: each version
moves the job one step (queued → waiting → running → success), and each is
written to a temporary name and renamed over ``job-<id>`` (eventd sees
IN_MOVED_TO, as with Ganeti).
"""

from __future__ import annotations

import copy
import json
import os
import time

SAMPLE_JOB = "/work/shared/ganeti-sandbox/samples/job-queue/job-2.10"
STEPS = ("queued", "waiting", "running", "success")
_STEP_TIMESTAMP = ("received", "start", "exec", "end")


def load_template() -> dict:
    """The sample create job (``CYCLADES_SAMPLE_JOB`` overrides its path)."""
    with open(os.environ.get("CYCLADES_SAMPLE_JOB", SAMPLE_JOB)) as f:
        return json.load(f)


def create_job_version(template: dict, job_id: int, instance: str, step: int, times: dict) -> bytes:
    """Version ``step`` of a create job for ``instance``.

    ``times`` belongs to one job and keeps the timestamps of its earlier versions,
    so that each version carries the ones Ganeti would have kept.
    """
    job = copy.deepcopy(template)
    now = time.time()
    times[_STEP_TIMESTAMP[step]] = [int(now), int(now * 1e6) % 1_000_000]
    status = STEPS[step]
    op = job["ops"][0]
    op["input"]["instance_name"] = instance
    op["status"] = status
    op["result"] = ["node1.ganeti.test"] if status == "success" else None
    op["log"] = op["log"] if step >= 2 else []
    op["start_timestamp"] = times.get("start") if step >= 1 else None
    op["exec_timestamp"] = times.get("exec") if step >= 2 else None
    op["end_timestamp"] = times.get("end") if step >= 3 else None
    job.update(
        id=job_id,
        received_timestamp=times["received"],
        start_timestamp=op["start_timestamp"],
        end_timestamp=op["end_timestamp"],
    )
    return json.dumps(job).encode()


def write_job(queue_dir: str | os.PathLike, job_id: int, data: bytes) -> float:
    """Write ``job-<job_id>`` by rename, as Ganeti does; returns the time of the rename."""
    tmp = os.path.join(queue_dir, f".tmp-job-{job_id}")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(queue_dir, f"job-{job_id}"))
    return time.time()
