"""Benchmark: the admin server list over 10,000 servers, in JSON and in MessagePack, under gunicorn on PostgreSQL.

Prints, for ``GET /admin/v1/servers?limit=10000`` in each format and a baseline on the
same server in the same run (``GET /admin/v1/backends``: admin token check, one tiny
row), measured interleaved: p50/p95 latency and the body size; and the SQL queries per
request with 10 and with N servers (must be equal: no N+1).

Usage: ``.venv/bin/python benchmarks/admin_api.py [--servers 10000] [--requests 10]``
Needs PostgreSQL (``CYCLADES_BENCH_PG``); creates and drops its own database.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers_api as common  # the database, gunicorn and timing helpers


def populate_admin(count: int) -> str:
    """``count`` servers spread over 3 projects and 2 backends (some suspended); returns an admin token."""
    from logic import identity
    from logic.enums import OperState
    from logic.models import Backend, Flavor, Project, Server, ServerSuspension, User

    tag = uuid.uuid4().hex[:6]
    admin = User.objects.create_user(f"admin{tag}", "secret", is_admin=True)
    projects = [Project.objects.create(name=f"p{i}{tag}") for i in range(3)]
    owner = User.objects.create_user(f"owner{tag}", "secret")
    backends = [
        Backend.objects.create(name=f"c{i}{tag}", rapi_host="x", rapi_user="u", rapi_password_encrypted="x") for i in range(2)
    ]
    flavor = Flavor.objects.create(name=f"f{tag}", vcpus=1, ram=128, disk=1)
    servers = Server.objects.bulk_create(
        Server(
            name=f"vm-{i}",
            user=owner,
            project=projects[i % 3],
            backend=backends[i % 2],
            flavor=flavor,
            operstate=OperState.STARTED,
        )
        for i in range(count)
    )
    ServerSuspension.objects.bulk_create(ServerSuspension(server=s, reason="bench", suspended_by=admin.pk) for s in servers[::50])
    token, _ = identity.issue_token(admin, projects[0])
    return token


def start_gunicorn(env: dict, port: int) -> subprocess.Popen:
    """One sync worker, with a timeout long enough for a 10,000-row page on a loaded machine."""
    cmd = [os.path.join(common.HERE, ".venv/bin/gunicorn"), "-w", "1", "-t", "120", "-b", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(
        [*cmd, "--log-level", "warning", "cyclades.wsgi:application"], cwd=common.HERE, env={**os.environ, **env}
    )
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=10)
    args = parser.parse_args()

    name, db_url = common.make_database()
    data_dir = tempfile.mkdtemp(prefix="bench-admin-")
    proc = None
    try:
        env = common.setup_django(db_url, data_dir)
        small = populate_admin(10)
        per = {"10": common.queries_per_request(small, {"json": "/admin/v1/servers?limit=10000"})}
        from logic.models import Server

        Server.objects.all().delete()
        token = populate_admin(args.servers)
        per[str(args.servers)] = common.queries_per_request(token, {"json": "/admin/v1/servers?limit=10000"})
        port = common.free_port()
        proc = start_gunicorn(env, port)
        base = f"http://127.0.0.1:{port}/admin/v1"
        json_session, msgpack_session = requests.Session(), requests.Session()
        json_session.headers.update({"X-Auth-Token": token, "Accept": "application/json"})
        msgpack_session.headers.update({"X-Auth-Token": token, "Accept": "application/msgpack"})
        url = f"{base}/servers?limit=10000"
        results = {}
        for label, session, target, n in (
            ("baseline  GET /admin/v1/backends", json_session, f"{base}/backends", args.requests * 5),
            (f"json      GET /servers?limit=10000 ({args.servers})", json_session, url, args.requests),
            (f"msgpack   GET /servers?limit=10000 ({args.servers})", msgpack_session, url, args.requests),
        ):
            results[label] = common.measure(session, {label: (target, n)})[label]
        print(f"\nadmin API benchmark: gunicorn 1 worker (sync), PostgreSQL, {args.servers} servers in 3 projects")
        print(f"{'endpoint':<52} {'p50 ms':>9} {'p95 ms':>9} {'bytes':>10}")
        for label, r in results.items():
            print(f"{label:<52} {r['p50_ms']:9.1f} {r['p95_ms']:9.1f} {r['bytes']:10d}")
        print(
            f"SQL queries per request, 10 servers -> {args.servers} servers: {per['10']['json']} -> {per[str(args.servers)]['json']}"
        )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        from django.db import connections

        connections.close_all()
        common.drop_database(name)


if __name__ == "__main__":
    main()
