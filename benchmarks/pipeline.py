"""The whole event pipeline: job-file write → eventd → RabbitMQ → dispatcher → PostgreSQL commit.

Figures from one run, on a throw-away RabbitMQ vhost and a throw-away PostgreSQL database:

* **pipeline throughput**: N job-file updates (Ganeti's format: create jobs going
  queued → waiting → running → success, written by rename as Ganeti does) into a
  directory that a real ``cyclades-eventd`` watches; a real ``cyclades-dispatcher``
  applies them. Events/s from the first write until the last commit.
* **baseline**: the same message bodies published by raw pika (confirmed,
  persistent) and consumed by raw pika doing one UPDATE per message (autocommit),
  acking each: the floor cost of "a message becomes a row change".
* **latency at 500 events/s offered**: p50/p99 from the write of a job's final
  (success) version to the commit of that event (the row's ``updated_at``, set in
  the committing transaction), in several runs one after the other (the spread on
  a shared machine), each split into eventd's part (write -> in RabbitMQ) and the
  dispatcher's (in RabbitMQ -> committed).
* eventd's and the dispatcher's resident memory at the start, after the throughput phase
  and at the end (flat means no growth with the number of events).
* **reconcile**: ``reconcile_backend`` over the servers of the run against a
  simulated bulk listing of the same size (50 drifted), with --fix.

Usage: ``.venv/bin/python benchmarks/pipeline.py [--updates 20000] [--rate 500] [--latency-runs 3] [--no-quotas]
[--batch-size N] [--batch-wait S]``.
Needs PostgreSQL (127.0.0.1:5432, user root) and RabbitMQ (guest) with rabbitmqctl. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

from tests.jobfiles import create_job_version as job_file  # noqa: E402
from tests.jobfiles import load_template  # noqa: E402
from tests.jobfiles import write_job as write  # noqa: E402

BIN = os.path.dirname(sys.executable)
CLUSTER = "bench.ganeti.test"
PREFIX = "bench"
NODE = "node1.bench.test"
PG = "postgresql://root@127.0.0.1:5432"


# ----------------------------------------------------------------------------- processes
def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start(program: str, env: dict, log_path: str, *args: str) -> subprocess.Popen:
    log = open(log_path, "a")  # noqa: SIM115 - the child holds it
    return subprocess.Popen([os.path.join(BIN, program), *args], env=env, stdout=log, stderr=log)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


# ----------------------------------------------------------------------------- database
def setup_database(db_name: str, servers: int) -> list[int]:
    """A fresh database with the schema and ``servers`` servers on the bench backend; their ids."""
    from django.db import connection

    connection.settings_dict["TEST"].update(NAME=db_name, MIGRATE=False)
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    from logic.models import Backend, Flavor, Project, Server, User

    backend = Backend.objects.create(name=CLUSTER, rapi_host="127.0.0.1", rapi_user="x", rapi_password_encrypted="x")
    flavor = Flavor.objects.create(name="bench.1", vcpus=1, ram=256, disk=1, disk_template="diskless")
    user = User.objects.create(name="bench", email="bench@example.org")
    project = Project.objects.create(name="bench")
    rows = Server.objects.bulk_create(
        [Server(name=f"b{i}", user=user, project=project, flavor=flavor, backend=backend) for i in range(servers)],
        batch_size=2000,
    )
    return [s.pk for s in rows]


def count_success(ids: list[int]) -> int:
    from logic.models import Server

    return Server.objects.filter(pk__gte=min(ids), pk__lte=max(ids), backend_jobstatus="success").count()


def wait_all_success(ids: list[int], timeout: float) -> float:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if count_success(ids) == len(ids):
            return time.time()
        time.sleep(0.2)
    raise SystemExit(f"timed out: {count_success(ids)} of {len(ids)} jobs reached the DB")


# ----------------------------------------------------------------------------- the phases
def pipeline_throughput(queue_dir: str, template: dict, ids: list[int]) -> tuple[float, float]:
    """Round-robin over the jobs (all queued, then all waiting, ...): every version is seen by eventd.

    The versions are built before the clock starts, so that the writer (this process, on the same
    cores) is not what limits the rate: it only writes and renames files."""
    times: dict[int, dict] = {i: {} for i in ids}
    versions = [(sid, job_file(template, sid, f"{PREFIX}-{sid}", step, times[sid])) for step in range(4) for sid in ids]
    first = time.time()
    for sid, data in versions:
        write(queue_dir, sid, data)
    written = time.time()
    done = wait_all_success(ids, timeout=900)
    return 4 * len(ids) / (done - first), 4 * len(ids) / (written - first)


class Tap(threading.Thread):
    """Notes when each success event reaches RabbitMQ (a non-durable queue bound next to the events queue):
    splits the latency into eventd's part (write -> broker) and the dispatcher's (broker -> commit)."""

    def __init__(self, amqp_url: str, expected: int):
        super().__init__(daemon=True)
        import pika

        self.arrived: dict[int, float] = {}
        self.expected = expected
        self.conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.ch = self.conn.channel()
        self.queue = self.ch.queue_declare("", exclusive=True, auto_delete=True).method.queue
        self.ch.queue_bind(self.queue, "ganeti", routing_key="ganeti.#")

    def run(self) -> None:
        for method, _props, body in self.ch.consume(self.queue, auto_ack=True, inactivity_timeout=30):
            if method is None:
                break
            msg = json.loads(body)
            if msg.get("status") == "success" and msg.get("instance"):
                self.arrived[int(msg["instance"].rsplit("-", 1)[1])] = time.time()
                if len(self.arrived) >= self.expected:
                    break
        self.ch.cancel()
        self.conn.close()


def paced_latency(
    queue_dir: str, template: dict, ids: list[int], rate: float, amqp_url: str | None = None
) -> tuple[list[float], list[float], list[float]]:
    """Offer ``rate`` updates/s in batches of 50 jobs; latency of each job's success event, in ms:
    write -> commit, and when ``amqp_url`` is given write -> in RabbitMQ and in RabbitMQ -> commit."""
    from logic.models import Server

    tap = Tap(amqp_url, len(ids)) if amqp_url else None
    if tap:
        tap.start()
    interval = 1.0 / rate
    written_at: dict[int, float] = {}
    times: dict[int, dict] = {i: {} for i in ids}
    tick = time.perf_counter()
    for b in range(0, len(ids), 50):
        batch = ids[b : b + 50]
        for step in range(4):
            for sid in batch:
                tick += interval
                delay = tick - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                t = write(queue_dir, sid, job_file(template, sid, f"{PREFIX}-{sid}", step, times[sid]))
                if step == 3:
                    written_at[sid] = t
    wait_all_success(ids, timeout=300)
    committed = dict(Server.objects.filter(pk__in=ids).values_list("id", "updated_at"))
    total = [max(0.0, (committed[sid].timestamp() - written_at[sid]) * 1000) for sid in ids]
    if tap is None:
        return total, [], []
    tap.join(timeout=30)
    arrived = [sid for sid in ids if sid in tap.arrived]
    return (
        total,
        [(tap.arrived[sid] - written_at[sid]) * 1000 for sid in arrived],
        [max(0.0, (committed[sid].timestamp() - tap.arrived[sid]) * 1000) for sid in arrived],
    )


def raw_baseline(amqp_url: str, dsn: str, bodies: list[tuple[int, bytes]], prefetch: int) -> float:
    """raw pika publish (confirmed) ‖ raw pika consume + one UPDATE per message + ack."""
    import pika
    import psycopg2

    from bus import topology

    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    ch = conn.channel()
    ch.queue_declare("bench.baseline", durable=True)
    ch.queue_purge("bench.baseline")

    def publisher() -> None:
        pconn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        pch = pconn.channel()
        pch.confirm_delivery()
        props = pika.BasicProperties(content_type="application/json", delivery_mode=2)
        for _, body in bodies:
            pch.basic_publish("", "bench.baseline", body, props)
        pconn.close()

    db = psycopg2.connect(dsn)
    db.autocommit = True
    cur = db.cursor()
    done = 0
    started = time.perf_counter()
    thread = threading.Thread(target=publisher)
    thread.start()
    ch.basic_qos(prefetch_count=prefetch)
    for method, _props, body in ch.consume("bench.baseline", inactivity_timeout=5):
        if method is None:
            break
        msg = json.loads(body)
        sid = int(msg["instance"].rsplit("-", 1)[1])
        cur.execute(
            "UPDATE logic_server SET backend_jobstatus = %s, backend_job_id = %s, backend_opcode = %s WHERE id = %s",
            (msg["status"], msg["job_id"], msg["operation"], sid),
        )
        ch.basic_ack(method.delivery_tag)
        done += 1
        if done == len(bodies):
            break
    elapsed = time.perf_counter() - started
    thread.join()
    ch.cancel()
    conn.close()
    db.close()
    del topology
    return done / elapsed


def baseline_bodies(template: dict, ids: list[int]) -> list[tuple[int, bytes]]:
    """The messages eventd builds for the same job versions (its own builders)."""
    from eventd import jobfile, messages

    out = []
    for sid in ids:
        times: dict = {}
        for step in range(4):
            job = jobfile.parse(job_file(template, sid, f"{PREFIX}-{sid}", step, times))
            for _, _, body in messages.op_envelopes(CLUSTER, job, job.ops):
                out.append((sid, json.dumps(body, separators=(",", ":")).encode()))
    return out


def reconcile_timing(count: int = 5000) -> tuple[float, object]:
    """``count`` servers on a backend of their own vs a simulated bulk listing (50 VMs crashed), with --fix."""
    from logic import reconcile
    from logic.models import Backend, Flavor, Project, Server, ServerNIC, User
    from tests.pipeline.fakecluster import FakeCluster, instance

    backend = Backend.objects.create(
        name="reconcile.bench.test", rapi_host="127.0.0.1", rapi_user="x", rapi_password_encrypted="x"
    )
    rows = Server.objects.bulk_create(
        [
            Server(
                name=f"r{i}",
                user=User.objects.first(),
                project=Project.objects.first(),
                flavor=Flavor.objects.first(),
                backend=backend,
                operstate="STARTED",
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    ids = [s.pk for s in rows]
    Server.objects.filter(pk__in=ids).update(created_at=timezone_now() - timedelta(hours=1))

    def mac(sid: int) -> str:
        return f"aa:00:{sid >> 16 & 255:02x}:{sid >> 8 & 255:02x}:{sid & 255:02x}:00"

    ServerNIC.objects.bulk_create(
        [ServerNIC(server_id=sid, index=0, mac=mac(sid), ipv4="10.0.0.1") for sid in ids], batch_size=2000
    )
    listing = [instance(f"{PREFIX}-{sid}", nics=[(mac(sid), "10.0.0.1")]) for sid in ids]
    for inst in listing[:50]:
        inst["oper_state"] = False
    started = time.perf_counter()
    report = reconcile.reconcile_backend(backend, FakeCluster(listing), fix=True)
    return time.perf_counter() - started, report


def timezone_now():
    from django.utils import timezone

    return timezone.now()


# ----------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--updates", type=int, default=20_000, help="job-file updates in the throughput run (default %(default)s)"
    )
    parser.add_argument("--rate", type=float, default=500.0, help="offered events/s in the latency run (default %(default)s)")
    parser.add_argument("--latency-updates", type=int, default=5_000, help="updates in each latency run (default %(default)s)")
    parser.add_argument(
        "--latency-runs", type=int, default=3, help="latency runs, one after the other (default %(default)s): the spread"
    )
    parser.add_argument("--prefetch", type=int, default=50)
    parser.add_argument("--no-quotas", action="store_true", help="QUOTA_ENABLED=0 (isolate the quota settlement's cost)")
    parser.add_argument("--batch-size", type=int, help="the dispatcher's DISPATCHER_BATCH_SIZE (default: the setting's)")
    parser.add_argument("--batch-wait", type=float, help="the dispatcher's DISPATCHER_BATCH_WAIT (default: the setting's)")
    args = parser.parse_args()

    pid = os.getpid()
    vhost, db_name = f"bench-pipeline-{pid}", f"bench_pipeline_{pid}"
    amqp_url = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    work = tempfile.mkdtemp(prefix="bench-pipeline-")
    env = {
        "PATH": os.environ["PATH"],
        "CYCLADES_SECRET_KEY": "bench-" + "x" * 40,
        "CYCLADES_DATA_DIR": work,
        "CYCLADES_DATABASE_URL": f"{PG}/{db_name}",
        "CYCLADES_DATABASE_CONN_MAX_AGE": "600",
        "CYCLADES_BUS_URL": amqp_url,
        "CYCLADES_GANETI_PREFIX": PREFIX,
        "CYCLADES_LOG_FORMAT": "text",
        "CYCLADES_LOG_LEVEL": "WARNING",
        "CYCLADES_QUOTA_ENABLED": "0" if args.no_quotas else "1",
    }
    if args.batch_size is not None:
        env["CYCLADES_DISPATCHER_BATCH_SIZE"] = str(args.batch_size)
    if args.batch_wait is not None:
        env["CYCLADES_DISPATCHER_BATCH_WAIT"] = str(args.batch_wait)
    os.environ.update({k: v for k, v in env.items() if k != "PATH"})
    os.environ["CYCLADES_DATABASE_URL"] = f"{PG}/postgres"
    os.environ["DJANGO_SETTINGS_MODULE"] = "cyclades.settings"
    import django

    django.setup()
    import bus as busmod
    from bus import topology

    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True)
    b = busmod.connect(amqp_url)
    b.declare()
    b.close()

    jobs = args.updates // 4
    lat_jobs = args.latency_updates // 4
    procs: list[subprocess.Popen] = []
    try:
        runs = args.latency_runs
        ids = setup_database(db_name, jobs + runs * lat_jobs + jobs)
        run_ids, base_ids = ids[:jobs], ids[jobs + runs * lat_jobs :]
        lat_runs = [ids[jobs + r * lat_jobs : jobs + (r + 1) * lat_jobs] for r in range(runs)]
        queue_dir = os.path.join(work, "queue")
        ssconf = os.path.join(work, "ssconf")
        os.makedirs(queue_dir)
        os.makedirs(ssconf)
        for key, value in (("master_node", NODE), ("cluster_name", CLUSTER)):
            with open(os.path.join(ssconf, f"ssconf_{key}"), "w") as f:
                f.write(value + "\n")
        eventd_env = dict(
            env,
            CYCLADES_EVENTD_QUEUE_DIR=queue_dir,
            CYCLADES_EVENTD_SSCONF_DIR=ssconf,
            CYCLADES_EVENTD_CLUSTER_NAME=CLUSTER,
            CYCLADES_EVENTD_NODE_NAME=NODE,
            CYCLADES_EVENTD_HEARTBEAT_INTERVAL="2",
        )
        eventd = start("cyclades-eventd", eventd_env, os.path.join(work, "eventd.log"))
        dispatcher = start("cyclades-dispatcher", env, os.path.join(work, "dispatcher.log"), "--prefetch", str(args.prefetch))
        procs = [eventd, dispatcher]
        time.sleep(3)  # both up, first heartbeat through
        for p in procs:
            if p.poll() is not None:
                raise SystemExit(f"{p.args[0]} exited: see {work}")
        template = load_template()
        rss0 = {"eventd": rss_mib(eventd.pid), "dispatcher": rss_mib(dispatcher.pid)}

        print(
            f"pipeline: {4 * jobs} job-file updates ({jobs} create jobs x 4 statuses), eventd -> RabbitMQ -> dispatcher -> PostgreSQL"
        )
        rate, write_rate = pipeline_throughput(queue_dir, template, run_ids)
        print(f"  throughput            {rate:8.0f} events/s   (writer offered {write_rate:.0f} updates/s)")
        print(f"  load average          {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        rss_mid = {"eventd": rss_mib(eventd.pid), "dispatcher": rss_mib(dispatcher.pid)}

        worst = 0.0
        for run, lat_ids in enumerate(lat_runs, 1):
            latencies, to_broker, to_commit = paced_latency(queue_dir, template, lat_ids, args.rate, amqp_url)
            q = statistics.quantiles(latencies, n=100)
            worst = max(worst, q[98])
            print(
                f"  latency @ {args.rate:.0f}/s offered, run {run}  p50 {q[49]:6.1f} ms   p99 {q[98]:6.1f} ms   "
                f"max {max(latencies):6.1f} ms   ({len(latencies)} success events)"
            )
            if len(to_broker) > 1:
                b, c = statistics.quantiles(to_broker, n=100), statistics.quantiles(to_commit, n=100)
                print(f"    of which write -> RabbitMQ (eventd)  p50 {b[49]:6.1f} ms   p99 {b[98]:6.1f} ms")
                print(f"    RabbitMQ -> commit (dispatcher)      p50 {c[49]:6.1f} ms   p99 {c[98]:6.1f} ms")
        print(f"  latency p99, worst of {len(lat_runs)} runs {worst:6.1f} ms   (target < 50 ms)")
        time.sleep(2.5)
        rss1 = {"eventd": rss_mib(eventd.pid), "dispatcher": rss_mib(dispatcher.pid)}
        from logic.models import ClusterHeartbeat

        beat = ClusterHeartbeat.objects.filter(cluster=CLUSTER).first()
        published = beat.published if beat else None
        for name in ("eventd", "dispatcher"):
            print(
                f"  RSS {name:<10}        start {rss0[name]:6.1f} MiB   after throughput {rss_mid[name]:6.1f} MiB   "
                f"end {rss1[name]:6.1f} MiB"
            )
        print(f"  eventd published      {published} messages (heartbeat)   updates written {4 * (jobs + runs * lat_jobs)}")
        for p in procs:
            stop(p)
        conn = busmod.connect(amqp_url)
        dead = conn.queue_depth(topology.DEAD_QUEUE)
        conn.close()
        print(f"  dead letters          {dead}")

        bodies = baseline_bodies(template, base_ids)
        base = raw_baseline(amqp_url, f"{PG}/{db_name}", bodies, args.prefetch)
        print(f"baseline: raw pika publish+consume, one UPDATE per message: {base:8.0f} msg/s ({len(bodies)} messages)")
        print(f"  pipeline / baseline   {rate / base:.2f}   (target >= 0.50)")
        print(f"  load average          {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

        seconds, report = reconcile_timing()
        print(
            f"reconcile: {report.servers} servers vs a simulated bulk listing of {report.instances}: "
            f"{seconds:.2f} s with --fix ({report.count('state')} drifted, {report.fixed('state')} fixed)   (target < 5 s)"
        )
    finally:
        for p in procs:
            stop(p)
        from django.db import connection

        if connection.settings_dict["NAME"] == db_name:  # only the database this run created
            connection.creation.destroy_test_db("postgres", verbosity=0)
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)


if __name__ == "__main__":
    main()
