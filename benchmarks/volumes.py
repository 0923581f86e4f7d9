"""Benchmark: attach + detach round trips of volumes on the real Ganeti sandbox, next to the jobs' own time.

For ``--volumes`` volumes (default 20) on one stopped server of the whole stack (gunicorn,
eventd, dispatcher, PostgreSQL, RabbitMQ; :mod:`tests.tempest.stack`): attach through
``os-volume_attachments``, poll ``GET /volumes/{id}`` (every 20 ms) until ``in-use``; detach,
poll until ``available``. Each step's Ganeti job duration comes from the job's own
timestamps (``end_ts - received_ts``, read through the RAPI); the overhead is the round
trip the client saw minus that. Prints p50/p95/max per step.

Usage: ``.venv/bin/python benchmarks/volumes.py [--volumes 20]``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

from tests import services  # noqa: E402
from tests.fixtures_ganeti import sandbox_client  # noqa: E402
from tests.fixtures_loop import LoopClient  # noqa: E402
from tests.tempest import stack as stackmod  # noqa: E402

POLL = 0.02


def wait_volume(client: LoopClient, volume_id: str, status: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/volume/v3/volumes/{volume_id}").json()["volume"]
        if body["status"] == status:
            return body
        if body["status"] == "error" or time.monotonic() > deadline:
            raise SystemExit(f"volume {volume_id}: {body['status']} while waiting for {status}")
        time.sleep(POLL)


def job_seconds(rapi, job_id: int) -> float:
    job = rapi.get_job(job_id)
    received, end = job["received_ts"], job["end_ts"]
    return (end[0] - received[0]) + (end[1] - received[1]) / 1e6


def last_job(db, volume_id: str) -> int:
    with db.cursor() as cur:
        cur.execute("SELECT backend_job_id FROM logic_volume WHERE id = %s", [volume_id])
        return int(cur.fetchone()[0])


def figures(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    return f"{name:<28} p50 {statistics.median(ordered) * 1000:7.0f} ms   p95 {p95 * 1000:7.0f} ms   max {ordered[-1] * 1000:7.0f} ms"


def main() -> None:
    import psycopg2

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", type=int, default=20)
    args = parser.parse_args()
    rapi = sandbox_client(services.ganeti_env())
    with stackmod.running_stack() as stack:
        account = stack.facts["accounts"][0]
        client = LoopClient(stack, account["username"], account["project_name"])
        db = psycopg2.connect(stack.env["CYCLADES_DATABASE_URL"])
        db.autocommit = True
        net = client.get("/network/v2.0/networks", params={"name": "private"}).json()["networks"][0]["id"]
        server = client.post("/compute/v2.1/servers", {"server": {"name": "bench-vol", "imageRef": stack.facts["images"][0],
                             "flavorRef": "1", "networks": [{"uuid": net}]}}).json()["server"]  # fmt: skip
        client.wait_status(server["id"], "ACTIVE", timeout=300)
        client.post(f"/compute/v2.1/servers/{server['id']}/action", {"os-stop": None})
        client.wait_status(server["id"], "SHUTOFF")
        rows: dict[str, list[float]] = {k: [] for k in ("attach", "attach job", "detach", "detach job")}
        url = f"/compute/v2.1/servers/{server['id']}/os-volume_attachments"
        for n in range(args.volumes):
            vol = client.post("/volume/v3/volumes", {"volume": {"size": 1, "name": f"bench-{n}"}}).json()["volume"]["id"]
            started = time.monotonic()
            client.post(url, {"volumeAttachment": {"volumeId": vol}}).raise_for_status()
            wait_volume(client, vol, "in-use")
            rows["attach"].append(time.monotonic() - started)
            rows["attach job"].append(job_seconds(rapi, last_job(db, vol)))
            started = time.monotonic()
            client.delete(f"{url}/{vol}").raise_for_status()
            wait_volume(client, vol, "available")
            rows["detach"].append(time.monotonic() - started)
            rows["detach job"].append(job_seconds(rapi, last_job(db, vol)))
            # the held disk is removed through the stopped server (and the volume quota freed)
            client.delete(f"/volume/v3/volumes/{vol}").raise_for_status()
            deadline = time.monotonic() + 120
            while client.get(f"/volume/v3/volumes/{vol}").status_code == 200:
                if time.monotonic() > deadline:
                    raise SystemExit(f"volume {vol} not deleted after 120 s")
                time.sleep(0.2)
        client.delete(f"/compute/v2.1/servers/{server['id']}")
        client.wait_for(server["id"], lambda r: r.status_code == 404, "deleted")
    total = [a + d for a, d in zip(rows["attach"], rows["detach"], strict=True)]
    jobs = [a + d for a, d in zip(rows["attach job"], rows["detach job"], strict=True)]
    overhead = [t - j for t, j in zip(total, jobs, strict=True)]
    print(f"{args.volumes} volumes, attach + detach on one stopped server (fake hypervisor, file template)")
    for name in ("attach", "attach job", "detach", "detach job"):
        print(figures(name + (" (Ganeti)" if "job" in name else " (client saw)"), rows[name]))
    print(figures("round trip (client saw)", total))
    print(figures("round trip jobs (Ganeti)", jobs))
    print(figures("overhead beyond the jobs", overhead))


if __name__ == "__main__":
    main()
