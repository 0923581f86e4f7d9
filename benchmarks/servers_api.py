"""Benchmark: the servers API with 1,000 servers in one project, under gunicorn on PostgreSQL.

Prints, for ``GET /servers/detail?limit=1000``, ``GET /servers/{id}`` and a trivial
authenticated endpoint on the same server in the same run (``GET /servers?limit=0``:
token check, no server rows), measured interleaved (the machine is shared): p50/p95
latency and single-client requests/s; the SQL queries per
request with 10 and with 1,000 servers (must be equal: no N+1); and the resident
memory of the gunicorn worker after the run.

Usage: ``.venv/bin/python benchmarks/servers_api.py [--servers 1000] [--requests 200]``
Needs PostgreSQL (``CYCLADES_BENCH_PG``, default postgresql://root@127.0.0.1:5432/postgres);
creates and drops its own database. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import psycopg2
import requests

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADMIN_URL = os.environ.get("CYCLADES_BENCH_PG", "postgresql://root@127.0.0.1:5432/postgres")


def make_database() -> tuple[str, str]:
    name = f"bench_servers_{os.getpid()}"
    conn = psycopg2.connect(ADMIN_URL)
    conn.autocommit = True
    conn.cursor().execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return name, ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(name: str) -> None:
    conn = psycopg2.connect(ADMIN_URL)
    conn.autocommit = True
    conn.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def setup_django(db_url: str, data_dir: str) -> dict:
    env = {
        "CYCLADES_SECRET_KEY": "bench-only-secret-key-0123456789abcdef0123456789",
        "CYCLADES_DATA_DIR": data_dir,
        "CYCLADES_DATABASE_URL": db_url,
        "CYCLADES_LOG_LEVEL": "WARNING",
        "CYCLADES_LOG_FORMAT": "text",
        "DJANGO_SETTINGS_MODULE": "cyclades.settings",
    }
    os.environ.update(env)
    sys.path.insert(0, HERE)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def populate(count: int):
    """A member with ``count`` servers, each with a NIC and two metadata items. Returns (token, project, ids)."""
    from logic import identity
    from logic.enums import OperState, Role
    from logic.models import Flavor, Image, Membership, Project, Server, ServerMetadata, ServerNIC, User

    user = User.objects.create_user(f"bench{uuid.uuid4().hex[:6]}", "secret")
    project = Project.objects.create(name=f"bench{uuid.uuid4().hex[:6]}")
    Membership.objects.create(user=user, project=project, role=Role.MEMBER)
    token, _ = identity.issue_token(user, project)
    flavor = Flavor.objects.create(name=f"b{uuid.uuid4().hex[:6]}", vcpus=1, ram=128, disk=1)
    image = Image.objects.create(name="bench", ganeti_os="noop")
    servers = Server.objects.bulk_create(
        Server(name=f"vm-{i}", user=user, project=project, flavor=flavor, image=image, operstate=OperState.STARTED)
        for i in range(count)
    )
    ServerNIC.objects.bulk_create(
        ServerNIC(
            server=s,
            index=0,
            network_name="public",
            mac=f"aa:00:00:00:{i // 256:02x}:{i % 256:02x}",
            ipv4=f"10.{i // 65536}.{i // 256 % 256}.{i % 256}",
        )
        for i, s in enumerate(servers)
    )
    ServerMetadata.objects.bulk_create(ServerMetadata(server=s, key=k, value="v") for s in servers for k in ("os", "users"))
    return token, project, [s.pk for s in servers]


def queries_per_request(token: str, paths: dict[str, str]) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_X_AUTH_TOKEN=token)
    result = {}
    for label, path in paths.items():
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get(path)
        assert resp.status_code == 200, (path, resp.status_code, resp.content[:200])
        result[label] = len(ctx.captured_queries)
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict, port: int, workers: int) -> subprocess.Popen:
    cmd = [
        os.path.join(HERE, ".venv/bin/gunicorn"),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "cyclades.wsgi:application",
    ]
    proc = subprocess.Popen(cmd, cwd=HERE, env={**os.environ, **env})
    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/compute/", timeout=1)
            return proc
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def measure(session: requests.Session, urls: dict[str, tuple[str, int]]) -> dict[str, dict]:
    """Time ``{label: (url, requests)}`` interleaved, round-robin.

    The machine is shared: measuring one endpoint after the other would let a burst
    of someone else's load land on one of them only. Interleaving spreads it over
    all. requests/s is per single client: requests / total time spent in them.
    """
    for url, _ in urls.values():
        session.get(url).raise_for_status()  # warm up
    times: dict[str, list[float]] = {label: [] for label in urls}
    sizes: dict[str, int] = {}
    rounds = max(n for _, n in urls.values())
    for i in range(rounds):
        for label, (url, n) in urls.items():
            if i * n // rounds == (i + 1) * n // rounds:
                continue  # fewer requests for this one: spread evenly over the rounds
            t0 = time.perf_counter()
            resp = session.get(url)
            times[label].append(time.perf_counter() - t0)
            resp.raise_for_status()
            sizes[label] = len(resp.content)
    results = {}
    for label, samples in times.items():
        samples.sort()
        results[label] = {
            "p50_ms": statistics.median(samples) * 1000,
            "p95_ms": samples[max(0, int(len(samples) * 0.95) - 1)] * 1000,
            "rps": len(samples) / sum(samples),
            "bytes": sizes[label],
        }
    return results


def worker_rss_kib(master_pid: int) -> list[int]:
    out = subprocess.run(["ps", "--ppid", str(master_pid), "-o", "rss="], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args()

    name, db_url = make_database()
    data_dir = tempfile.mkdtemp(prefix="bench-servers-")
    proc = None
    try:
        env = setup_django(db_url, data_dir)
        small_token, _, small_ids = populate(10)
        token, _, ids = populate(args.servers)
        v21 = "/compute/v2.1"
        per = {}
        for label, tok, sid in (("10", small_token, small_ids[0]), (str(args.servers), token, ids[len(ids) // 2])):
            per[label] = queries_per_request(
                tok,
                {
                    "detail": f"{v21}/servers/detail?limit=1000",
                    "show": f"{v21}/servers/{sid}",
                    "trivial": f"{v21}/servers?limit=0",
                },
            )
        port = args.port or free_port()
        proc = start_gunicorn(env, port, workers=1)
        session = requests.Session()
        session.headers.update({"X-Auth-Token": token, "X-OpenStack-Nova-API-Version": "2.1"})
        base = f"http://127.0.0.1:{port}{v21}"
        results = measure(
            session,
            {
                "trivial   GET /servers?limit=0": (f"{base}/servers?limit=0", args.requests),
                "show      GET /servers/{id}": (f"{base}/servers/{ids[len(ids) // 2]}", args.requests),
                f"detail    GET /servers/detail?limit=1000 ({args.servers} servers)": (
                    f"{base}/servers/detail?limit=1000",
                    max(20, args.requests // 10),
                ),
            },
        )
        rss = worker_rss_kib(proc.pid)
        print(f"\nservers API benchmark: gunicorn 1 worker (sync), PostgreSQL, {args.servers} servers in the project")
        print(f"{'endpoint':<62} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} {'bytes':>9}")
        for label, r in results.items():
            print(f"{label:<62} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} {r['rps']:8.1f} {r['bytes']:9d}")
        trivial = results["trivial   GET /servers?limit=0"]["rps"]
        show = results["show      GET /servers/{id}"]["rps"]
        print(f"show / trivial requests/s: {show / trivial:.0%} (target >= 60%)")
        detail_p50 = list(results.values())[2]["p50_ms"]
        print(f"detail of {args.servers} p50: {detail_p50:.1f} ms (target < 150 ms)")
        print(f"SQL queries per request, with 10 servers -> with {args.servers} servers:")
        for kind in ("detail", "show", "trivial"):
            print(f"  {kind:<8} {per['10'][kind]} -> {per[str(args.servers)][kind]}")
        print(f"gunicorn worker RSS after the run: {', '.join(f'{k / 1024:.1f} MiB' for k in rss)}")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        from django.db import connections

        connections.close_all()
        drop_database(name)


if __name__ == "__main__":
    main()
